//! Transactions: what each client command does to records, and the reply it gets.
//!
//! Every client `as_msg` enters at [`tsvc::process`], which runs the pipeline named after
//! aerospike-server's phases: `tsvc` (parse once, reserve the partition or proxy), `read` /
//! `write_master` / `udf_apply` (the command under its partition lock, replica images encoded
//! there), `rw_request` (ship the images to the other owners and wait), respond. Batches
//! (`batch`), scans and queries (`scan`, `query`) and background jobs (`jobs`) have their own
//! modules, after `as/src/base/{thr_tsvc,batch}.c` and `as/src/transaction/*`.
//!
//! **Owns:** the decisions — serve here or proxy, replicate to whom, what an unanswered
//! replica means for the client. **Does not own:** the I/O between nodes. The cluster crate
//! implements the seam traits defined here ([`PartitionOwner`], [`Replicator`], [`Proxy`]),
//! so dependencies keep pointing from the cluster crate to this one and every rule of the
//! pipeline reads in one place.
//!
//! Commands run synchronously under their partition's lock; only the replica and proxy
//! phases await, and never with a lock held.

// hot path: every client command passes through this crate.

mod aggr;
mod batch;
pub use batch::{for_each_row as for_each_batch_row, set_row_observer, RowKind, RowObserver};
mod cdt_ops;
mod exp_ops;
pub mod image;
pub mod jobs;
pub mod partition;
pub mod proxy;
mod query;
mod read;
pub mod replica_write;
mod reply;
mod request;
pub mod rw_request;
mod scan;
pub mod tsvc;
mod udf_apply;
mod udf_job;
mod write_master;

pub use partition::PartitionOwner;
pub use proxy::Proxy;
pub use replica_write::Replicator;

use aerie_namespace::Registry;
use aerie_proto::msg::{field, info1};
use aerie_proto::{Msg, MsgWriter, ResultCode};

pub use request::Request;
pub use scan::{Step, StreamJob};

/// What [`dispatch_streaming`] left to do.
#[derive(Debug)]
pub enum Dispatched {
    /// The whole reply is in `out`.
    Complete,
    /// A scan or query: `out` holds nothing yet; the caller drives the job frame by frame
    /// ([`StreamJob::next_frame`]), writing each frame before asking for the next.
    Stream(Box<StreamJob>),
}

/// Where a command runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Route {
    /// On the calling (async service) thread: nothing in it waits on a device.
    Inline,
    /// On a thread of the service's bounded storage pool: the command may read record data
    /// from a device, write a full write block or wait for a `commit-to-device` sync.
    Storage,
    /// On a thread of the service's bounded UDF pool: a Lua record UDF, long CPU work that
    /// must not hold a service thread.
    Udf,
}

/// Where the command in `body` should run: record UDF calls go to the UDF pool; commands on a
/// namespace with storage files go to the storage pool, so commands on memory namespaces never wait behind a slow device.
/// Batches go there whenever the node has a persisted namespace (their rows may name
/// several namespaces); a malformed message runs inline (its reply is an error).
pub fn route(registry: &Registry, body: &[u8]) -> Route {
    let Ok(msg) = Msg::parse(body) else {
        return Route::Inline;
    };
    if msg.fields.has(field::UDF_FUNCTION)
        && (msg.fields.has(field::DIGEST) || msg.fields.has(field::KEY))
    {
        return Route::Udf;
    }
    let persisted = if msg.header.info1 & info1::BATCH != 0 || msg.fields.has(field::BATCH_INDEX) {
        registry.iter().any(|ns| ns.has_storage())
    } else {
        msg.fields
            .get(field::NAMESPACE)
            .and_then(|name| registry.get(name))
            .is_some_and(|ns| ns.has_storage())
    };
    if persisted {
        Route::Storage
    } else {
        Route::Inline
    }
}

/// Executes one `as_msg` request body and appends the whole reply to `out`. Scans and queries
/// are run to their end here; the service uses [`dispatch_streaming`] instead, so that a large
/// scan is never held in memory whole.
pub fn dispatch(registry: &Registry, body: &[u8], out: &mut Vec<u8>) {
    if let Dispatched::Stream(mut job) = dispatch_streaming(registry, body, out) {
        job.run_to_end(out);
    }
}

/// Executes one `as_msg` request body on a node without a cluster ([`tsvc::Standalone`]):
/// the same phases as [`tsvc::process`], none of which awaits there. Single-record commands
/// and batches append their whole reply to `out`; scans and queries return a job that
/// streams theirs.
pub fn dispatch_streaming(registry: &Registry, body: &[u8], out: &mut Vec<u8>) -> Dispatched {
    let msg = match Msg::parse(body) {
        Ok(m) => m,
        Err(e) => {
            tracing::debug!(error = %e, "malformed message");
            reply::single_error(out, ResultCode::Parameter);
            return Dispatched::Complete;
        }
    };
    let deadline = std::time::Instant::now();
    match tsvc::front(
        registry,
        &tsvc::Standalone,
        &msg,
        tsvc::Origin::Client,
        deadline,
        out,
    ) {
        tsvc::Next::Done(d) => d,
        // A lone node neither proxies nor replicates.
        tsvc::Next::Proxy(_) | tsvc::Next::Replicate(_) => {
            debug_assert!(false, "a standalone node proxied or replicated");
            Dispatched::Complete
        }
    }
}

/// Runs one validated single-record command (a plain request or a batch row) and writes
/// exactly one reply message into `w`; returns the result code sent. With `images`, a write
/// appends its replica image there under the partition lock.
pub(crate) fn execute_request(
    req: &Request<'_>,
    w: &mut MsgWriter<'_>,
    batch_index: u32,
    in_batch: bool,
    images: Option<&mut Vec<u8>>,
) -> ResultCode {
    if req.msg.fields.has(field::UDF_FUNCTION) {
        let origin = if in_batch {
            udf_apply::Origin::Batch
        } else {
            udf_apply::Origin::Client
        };
        udf_apply::execute(req, w, batch_index, origin, images)
    } else if req.is_write() {
        write_master::execute(req, w, batch_index, images)
    } else {
        read::execute(req, w, batch_index)
    }
}
