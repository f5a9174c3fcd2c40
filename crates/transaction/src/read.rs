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
    let mut has_cdt = false;
    let mut has_exp = req.filter().is_some();
    for o in req.msg.ops() {
        if o.op_type == op::EXP_READ {
            has_exp = true;
        } else if o.op_type != op::READ {
            if !crate::cdt_ops::is_read(o.op_type) {
                return fail(req, w, batch_index, unsupported_or_bad(o.op_type));
            }
            has_cdt = true;
        }
    }
    if has_exp || has_cdt {
        // The general path: results are computed op by op before the reply is written.
        return crate::exp_ops::execute_read(req, w, batch_index);
    }
    // Without ops: all bins, or none for a header read. With ops: each named bin, and for a
    // nameless op all bins when GET_ALL is set (a nameless op without it is a header read).
    let get_all = h.info1 & info1::GET_ALL != 0;
    let no_ops = req.msg.n_ops() == 0;
    let all_bins = if no_ops {
        h.info1 & info1::GET_NO_BINS == 0
    } else {
        false
    };

    let now = time::now_secs();
    let mut idx = ns.partition(&req.digest).lock();
    let Some(r) = idx.get_mut(&req.digest).filter(|r| ns.is_live(r, now)) else {
        drop(idx);
        bump(&ns.stats.client_read_not_found);
        reply::header_only(w, ResultCode::NotFound, 0, 0, batch_index);
        return ResultCode::NotFound;
    };
    read_touch(&mut r.meta, h.record_ttl, now);
    let r: &aerie_namespace::Record = r;
    let mut buf = aerie_namespace::ReadBuf::new();
    let Ok(r) = ns.data(r, &mut buf) else {
        drop(idx);
        return fail(req, w, batch_index, ResultCode::ServerError);
    };
    reply::header(
        w,
        ResultCode::Ok,
        r.meta.generation,
        r.meta.void_time,
        batch_index,
    );
    if all_bins {
        for b in r.iter_bins() {
            w.op(op::READ, b.particle_type, b.name, b.value);
        }
    } else {
        // Repeated names come back repeated, as clients expect.
        for o in req.msg.ops() {
            if o.name.is_empty() {
                if get_all {
                    for b in r.iter_bins() {
                        w.op(op::READ, b.particle_type, b.name, b.value);
                    }
                }
            } else if let Some(b) = aerie_record::bins::find(r.bins(), o.name) {
                w.op(op::READ, b.particle_type, b.name, b.value);
            }
        }
    }
    drop(idx);
    bump(&ns.stats.client_read_success);
    ResultCode::Ok
}

/// Read-touch: a read's `record_ttl` of 1..=100 asks to restore the record's original TTL
/// once at least (100 - pct)% of it has elapsed (0 = namespace default, none here; -1 = never).
pub(crate) fn read_touch(meta: &mut aerie_namespace::RecordMeta, pct: u32, now_secs: u32) {
    if !(1..=100).contains(&pct) || meta.void_time == 0 {
        return;
    }
    let lut_secs = (meta.last_update_ms / 1000) as u32;
    let ttl = meta.void_time.saturating_sub(lut_secs);
    let elapsed = now_secs.saturating_sub(lut_secs);
    if ttl > 0 && u64::from(elapsed) * 100 >= u64::from(ttl) * u64::from(100 - pct) {
        meta.void_time = now_secs.saturating_add(ttl);
        meta.last_update_ms = time::now_ms().max(meta.last_update_ms + 1);
    }
}

fn fail(req: &Request<'_>, w: &mut MsgWriter<'_>, batch_index: u32, rc: ResultCode) -> ResultCode {
    bump(&req.ns.stats.client_read_error);
    reply::header_only(w, rc, 0, 0, batch_index);
    rc
}

/// The code for an op a plain read cannot carry (modify ops included): PARAMETER.
pub fn unsupported_or_bad(_op_type: u8) -> ResultCode {
    ResultCode::Parameter
}
