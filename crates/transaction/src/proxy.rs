//! Proxying (aerospike-server `as/src/transaction/proxy.c`): a single-record request that
//! reached a node which must not serve it is forwarded, body unchanged, to the node that
//! must, and that node's reply frames are returned to the client as they are. The decision
//! to proxy is [`crate::tsvc`]'s; the transport is the cluster's ([`Proxy`]).

use std::future::Future;
use std::time::Instant;

use aerie_namespace::NodeId;
use aerie_proto::ResultCode;

use crate::reply;

/// Forwards request bodies to other nodes.
///
/// Requirements: `proxy` answers the peer's complete reply frames, or `None` when the peer
/// could not be reached or had not answered by `deadline` (it returns by then); it never
/// retries on another node itself.
pub trait Proxy: Sync {
    fn proxy(
        &self,
        node: NodeId,
        body: &[u8],
        deadline: Instant,
    ) -> impl Future<Output = Option<Vec<u8>>> + Send;
}

/// Forwards `body` to `node` and appends its reply, or a TIMEOUT reply when the node could
/// not answer by `deadline` (the client retries, by then on a newer partition map).
pub(crate) async fn forward<P: Proxy>(
    p: &P,
    node: NodeId,
    body: &[u8],
    deadline: Instant,
    out: &mut Vec<u8>,
) {
    match p.proxy(node, body, deadline).await {
        Some(reply) => out.extend_from_slice(&reply),
        None => reply::single_error(out, ResultCode::Timeout),
    }
}
