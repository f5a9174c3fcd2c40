//! Replica writes (aerospike-server `as/src/transaction/replica_write.c`), both sides: the
//! [`Replicator`] seam through which a master ships record images to the other owners of a
//! partition, and [`apply`], which a replica runs on what it receives. When to send, to whom,
//! and what an unanswered send means for the client is [`crate::rw_request`]'s decision.
//!
//! A replica-write payload is a concatenation of record images ([`crate::image`]); a replica
//! acknowledges it only once every image in it is applied (or found older than its own copy).

use std::future::Future;
use std::time::{Duration, Instant};

use aerie_namespace::{NodeId, Registry};

use crate::image;

/// Ships replica writes to other nodes.
///
/// Requirements: `replicate` sends each `(node, payload)` at once (concurrently) and returns,
/// in the same order, whether that node acknowledged applying all of it; a node that has
/// not answered by `deadline` counts as not acknowledged, and the call returns by then. It
/// never resends on its own. `pause` waits `d` (this crate keeps no timer of its own).
pub trait Replicator: Sync {
    fn replicate(
        &self,
        sends: Vec<(NodeId, Vec<u8>)>,
        deadline: Instant,
    ) -> impl Future<Output = Vec<bool>> + Send;

    fn pause(&self, d: Duration) -> impl Future<Output = ()> + Send;
}

/// Why a replica write was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReplicaError {
    /// The payload is not a sequence of whole images.
    Malformed,
    /// An image could not be applied.
    Apply(image::ApplyError),
}

impl std::fmt::Display for ReplicaError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Malformed => f.write_str("malformed replica write"),
            Self::Apply(e) => write!(f, "{e}"),
        }
    }
}

/// Applies every image of a replica-write payload, newest wins; returns how many images it
/// held. Stops at the first image that cannot be applied (the master then does not count
/// this node as acknowledging).
pub fn apply(registry: &Registry, mut payload: &[u8]) -> Result<u64, ReplicaError> {
    let mut n = 0;
    while !payload.is_empty() {
        let (img, rest) = image::decode(payload).ok_or(ReplicaError::Malformed)?;
        image::apply(registry, &img).map_err(ReplicaError::Apply)?;
        payload = rest;
        n += 1;
    }
    Ok(n)
}
