//! What the transaction layer asks the cluster about partitions: who this node is, whether it
//! is alone, and which node still holds a partition that is filling here. Which nodes own a
//! partition is the namespace's ownership table (`Namespace::ownership`), which the cluster
//! replaces as a whole on every map change and bumps its `regime`.
//!
//! The seam points this way (the transaction crate defines the traits, the cluster crate
//! implements them, the server wires the two) so that every decision — serve here, proxy,
//! replicate to whom, when to give up — is made here, next to the record it concerns, while
//! the cluster crate keeps only the I/O. See [`crate::tsvc`] for the pipeline.

use aerie_namespace::{Namespace, NodeId};

/// Answers about partition ownership, asked once per request.
///
/// Requirements: every method is cheap and non-blocking (it runs on the request path, and
/// `is_alone` on every request of a one-node server); answers may change between two calls
/// (a map change), and callers re-ask rather than cache.
pub trait PartitionOwner: Sync {
    /// This node's id.
    fn node_id(&self) -> NodeId;

    /// Whether the node has no peers: every partition is served here and has no replica,
    /// and the pipeline skips every cluster step.
    fn is_alone(&self) -> bool;

    /// While partition `pid` of `ns` is filling here from its previous owner, that owner
    /// (it still holds every record and serves the partition until the fill ends).
    fn filling_from(&self, ns: &Namespace, pid: usize) -> Option<NodeId>;
}
