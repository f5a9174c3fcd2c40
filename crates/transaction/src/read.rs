//! Reads: get (all bins, chosen bins, header only) and exists.

use aerie_namespace::bump;
use aerie_proto::msg::{info1, op};
use aerie_proto::{MsgWriter, ResultCode};
use aerie_record::time;

use crate::reply;
use crate::request::Request;

/// Executes a read and writes its reply message.
pub fn execute(req: &Request<'_>, w: &mut MsgWriter<'_>, batch_index: u32) -> ResultCode {
    let ns = req.ns;
    let h = &req.msg.header;
    // Validate ops before taking the lock: a read accepts only read ops.
    let mut all_bins = h.info1 & info1::GET_ALL != 0 || req.msg.n_ops() == 0;
    for o in req.msg.ops() {
        if o.op_type != op::READ {
            return fail(req, w, batch_index, unsupported_or_bad(o.op_type));
        }
        if o.name.is_empty() {
            all_bins = true;
        }
    }
    let no_bins = h.info1 & info1::GET_NO_BINS != 0;

    let now = time::now_secs();
    let idx = ns.partition(&req.digest).lock();
    let Some(r) = idx.get(&req.digest).filter(|r| ns.is_live(r, now)) else {
        drop(idx);
        bump(&ns.stats.client_read_not_found);
        reply::header_only(w, ResultCode::NotFound, 0, 0, batch_index);
        return ResultCode::NotFound;
    };
    reply::header(w, ResultCode::Ok, r.meta.generation, r.meta.void_time, batch_index);
    if !no_bins {
        if all_bins {
            for b in r.iter_bins() {
                w.op(op::READ, b.particle_type, b.name, b.value);
            }
        } else {
            // Repeated names come back repeated, as clients expect.
            for o in req.msg.ops() {
                if let Some(b) = aerie_record::bins::find(r.bins(), o.name) {
                    w.op(op::READ, b.particle_type, b.name, b.value);
                }
            }
        }
    }
    drop(idx);
    bump(&ns.stats.client_read_success);
    ResultCode::Ok
}

fn fail(req: &Request<'_>, w: &mut MsgWriter<'_>, batch_index: u32, rc: ResultCode) -> ResultCode {
    bump(&req.ns.stats.client_read_error);
    reply::header_only(w, rc, 0, 0, batch_index);
    rc
}

/// The code for an op a plain read cannot carry: known-but-unimplemented families get
/// UNSUPPORTED_FEATURE, anything else PARAMETER.
pub fn unsupported_or_bad(op_type: u8) -> ResultCode {
    match op_type {
        op::CDT_READ | op::CDT_MODIFY | op::BIT_READ | op::BIT_MODIFY | op::HLL_READ | op::HLL_MODIFY | op::EXP_READ
        | op::EXP_MODIFY => ResultCode::UnsupportedFeature,
        _ => ResultCode::Parameter,
    }
}
