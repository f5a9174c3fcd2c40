//! The one entry to the transaction layer for a decoded `as_msg` request, shared by the
//! service port and the REST API: in a cluster the request may be proxied to its partition's
//! master or replicated; otherwise it runs here. Mirrors aerospike-server
//! `as/src/base/thr_tsvc.c` (`as_tsvc_process_transaction`).

use aerie_info::NodeContext;
use aerie_transaction::Dispatched;

/// Runs one request body (`as_msg`, without the proto header). Single-record commands and
/// batches leave their whole reply in `out`; scans and queries return a job that streams theirs.
pub async fn execute(ctx: &NodeContext, body: &[u8], out: &mut Vec<u8>) -> Dispatched {
    // Clustering: proxy to the partition's master, or replicate a write.
    if !ctx.cluster.is_alone() && ctx.cluster.handle_msg(body, out).await {
        return Dispatched::Complete;
    }
    aerie_transaction::dispatch_streaming(&ctx.registry, body, out)
}
