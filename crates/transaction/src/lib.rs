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

mod batch;
mod cdt_ops;
mod read;
mod reply;
mod request;
mod write;

use aerie_namespace::Registry;
use aerie_proto::msg::{field, info1};
use aerie_proto::{Msg, MsgWriter, ProtoType, ResultCode};

pub use request::Request;

/// Executes one `as_msg` request body and appends the whole reply to `out`.
pub fn dispatch(registry: &Registry, body: &[u8], out: &mut Vec<u8>) {
    let msg = match Msg::parse(body) {
        Ok(m) => m,
        Err(e) => {
            tracing::debug!(error = %e, "malformed message");
            return reply::single_error(out, ResultCode::Parameter);
        }
    };
    if msg.header.info1 & info1::BATCH != 0 || msg.fields.has(field::BATCH_INDEX) {
        return batch::execute(registry, &msg, out);
    }
    if !msg.fields.has(field::DIGEST) && !msg.fields.has(field::KEY) {
        // Scans and queries arrive without a digest.
        tracing::debug!("scan/query requested; not supported yet");
        return reply::stream_end(out, ResultCode::UnsupportedFeature);
    }
    let mut w = MsgWriter::begin(out, ProtoType::Msg);
    execute_record(registry, &msg, None, &mut w, 0);
    w.finish();
}

/// Runs one single-record command (a plain request or a batch row) and writes exactly one
/// reply message into `w`. `digest` overrides the digest field (batch rows carry it apart).
/// Returns the result code sent.
pub(crate) fn execute_record(
    registry: &Registry,
    msg: &Msg<'_>,
    digest: Option<&aerie_record::Digest>,
    w: &mut MsgWriter<'_>,
    batch_index: u32,
) -> ResultCode {
    let req = match Request::new(registry, msg, digest) {
        Ok(r) => r,
        Err(rc) => {
            reply::header_only(w, rc, 0, 0, batch_index);
            return rc;
        }
    };
    if req.is_write() {
        write::execute(&req, w, batch_index)
    } else {
        read::execute(&req, w, batch_index)
    }
}
