//! The REST API's entry to the transaction layer for a decoded `as_msg` request, following
//! the service port's steps ([`aerie_transaction::tsvc::process`]): in a cluster the request may
//! be proxied to its partition's master or replicated; otherwise it runs here, and a command that may wait on a device
//! ([`aerie_transaction::Route::Storage`]) runs with the runtime told it blocks
//! (`block_in_place`), so the worker's other tasks move on. Mirrors aerospike-server
//! `as/src/base/thr_tsvc.c` (`as_tsvc_process_transaction`).

use aerie_info::NodeContext;
use aerie_transaction::tsvc::{self, Origin};
use aerie_transaction::{Dispatched, Route};

/// Runs one request body (`as_msg`, without the proto header). Single-record commands and
/// batches leave their whole reply in `out`; scans and queries return a job that streams theirs
/// (drive it with [`next_frame`]). Returns the route the command took.
pub async fn execute(ctx: &NodeContext, body: &[u8], out: &mut Vec<u8>) -> (Dispatched, Route) {
    let route = aerie_transaction::route(&ctx.registry, body);
    let tsvc = ctx.cluster.tsvc();
    let process = tsvc::process(&tsvc, body, Origin::Client, out);
    let d = match route {
        Route::Inline => process.await,
        _ => tokio::task::block_in_place(|| tokio::runtime::Handle::current().block_on(process)),
    };
    (d, route)
}

/// The next frame of a scan or query started by [`execute`] on `route`.
pub fn next_frame(
    job: &mut aerie_transaction::StreamJob,
    route: Route,
    out: &mut Vec<u8>,
) -> aerie_transaction::Step {
    match route {
        Route::Inline => job.next_frame(out),
        Route::Storage | Route::Udf => tokio::task::block_in_place(|| job.next_frame(out)),
    }
}
