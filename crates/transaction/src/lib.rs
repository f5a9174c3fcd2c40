//! Transactions: what each client command does to records, and the reply it gets.
//!
//! `dispatch` takes one decoded `as_msg` body and appends the complete reply frame(s) to an
//! output buffer. Single-record reads and writes (`read`, `write`), batches (`batch`) and the
//! shared reply helpers (`reply`) each have their own module, after aerospike-server
//! `as/src/base/thr_tsvc.c`, `as/src/transaction/{read,write,delete}.c` and
//! `as/src/base/batch.c`.
//!
//! Every command runs synchronously under its partition's lock; nothing here awaits.

// hot path: every client command passes through this crate.

mod aggr;
mod batch;
pub use batch::{for_each_row as for_each_batch_row, set_row_observer, RowKind, RowObserver};
mod cdt_ops;
mod exp_ops;
pub mod jobs;
mod query;
mod read;
mod reply;
mod request;
mod scan;
mod udf_apply;
mod udf_job;
mod write;

use aerie_namespace::Registry;
use aerie_proto::msg::{field, info1};
use aerie_proto::{Msg, MsgWriter, ProtoType, ResultCode};

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

/// Executes one `as_msg` request body. Single-record commands and batches append their whole
/// reply to `out`; scans and queries return a job that streams theirs.
pub fn dispatch_streaming(registry: &Registry, body: &[u8], out: &mut Vec<u8>) -> Dispatched {
    let msg = match Msg::parse(body) {
        Ok(m) => m,
        Err(e) => {
            tracing::debug!(error = %e, "malformed message");
            reply::single_error(out, ResultCode::Parameter);
            return Dispatched::Complete;
        }
    };
    if msg.header.info1 & info1::BATCH != 0 || msg.fields.has(field::BATCH_INDEX) {
        batch::execute(registry, &msg, out);
        return Dispatched::Complete;
    }
    if !msg.fields.has(field::DIGEST) && !msg.fields.has(field::KEY) {
        // Scans and queries arrive without a digest.
        return match scan::start(registry, &msg, out) {
            Some(job) => Dispatched::Stream(Box::new(job)),
            None => Dispatched::Complete,
        };
    }
    let mut w = MsgWriter::begin(out, ProtoType::Msg);
    execute_record(registry, &msg, None, None, &mut w, 0);
    w.finish();
    Dispatched::Complete
}

/// Runs one single-record command (a plain request or a batch row) and writes exactly one
/// reply message into `w`. `digest` overrides the digest field (batch rows carry it apart).
/// Returns the result code sent.
pub(crate) fn execute_record(
    registry: &Registry,
    msg: &Msg<'_>,
    digest: Option<&aerie_record::Digest>,
    parent_filter: Option<&aerie_exp::Filter>,
    w: &mut MsgWriter<'_>,
    batch_index: u32,
) -> ResultCode {
    let req = match Request::new(registry, msg, digest, parent_filter) {
        Ok(r) => r,
        Err(rc) => {
            reply::header_only(w, rc, 0, 0, batch_index);
            return rc;
        }
    };
    if msg.fields.has(field::UDF_FUNCTION) {
        // Batch rows are the calls with their digest given apart.
        let origin = match digest {
            Some(_) => udf_apply::Origin::Batch,
            None => udf_apply::Origin::Client,
        };
        udf_apply::execute(&req, w, batch_index, origin)
    } else if req.is_write() {
        write::execute(&req, w, batch_index)
    } else {
        read::execute(&req, w, batch_index)
    }
}
