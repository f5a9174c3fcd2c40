//! Filter expressions (field 43) and expression ops (op types 7 EXP_READ, 8 EXP_MODIFY), on top
//! of `aerie-exp`.
//!
//! A filter is compiled once per request (`Request::new`), or once per batch for the parent's
//! filter. It is checked against the record as stored, before anything changes: false →
//! FILTERED_OUT (27); a missing record stays NOT_FOUND. Reads carrying a filter or an
//! expression op take `execute_read` here; plain reads never come here. Writes check the filter
//! with `check_filter` and run expression ops with `read_op`/`modify_op` on the working bins,
//! after the ops before them (flags as in aerospike-server `as/src/base/expop.c`).

use std::borrow::Cow;

use aerie_exp::{op_flags, BinSource, Outcome, RecordView};
use aerie_namespace::{bump, ReadBuf, Record, RecordData};
use aerie_proto::msg::{info1, info2, op};
use aerie_proto::{MsgWriter, Op, ResultCode};
use aerie_record::bins::FlatBins;
use aerie_record::{particle, time};

use crate::reply;
use crate::request::Request;

/// The metadata an expression sees, taken from the stored record (or empty for a new one).
#[derive(Debug, Clone, Copy, Default)]
pub struct ViewMeta<'a> {
    key: Option<(u8, &'a [u8])>,
    last_update_ms: u64,
    void_time: u32,
    record_size_bytes: u64,
}

impl<'a> ViewMeta<'a> {
    /// The metadata of `r`, if it exists.
    pub fn of(r: Option<&RecordData<'a>>) -> Self {
        match r {
            Some(r) => Self {
                key: r.key(),
                last_update_ms: r.meta.last_update_ms,
                void_time: r.meta.void_time,
                record_size_bytes: r.data_size() as u64,
            },
            None => Self::default(),
        }
    }

    fn view<'v>(&self, req: &'v Request<'_>, bins: BinSource<'v>) -> RecordView<'v>
    where
        'a: 'v,
    {
        RecordView {
            digest: &req.digest,
            set_name: req.set,
            key: self.key,
            bins,
            last_update_ms: self.last_update_ms,
            void_time: self.void_time,
            record_size_bytes: self.record_size_bytes,
            is_tombstone: false,
        }
    }
}

/// Checks the request's filter against an existing record: `Err(FILTERED_OUT)` when it fails.
pub fn check_filter(req: &Request<'_>, r: &RecordData<'_>) -> Result<(), ResultCode> {
    let Some(f) = req.filter() else {
        return Ok(());
    };
    let view = ViewMeta::of(Some(r)).view(req, BinSource::Flat(r.bins()));
    match f.matches(&view) {
        Ok(true) => Ok(()),
        Ok(false) => Err(ResultCode::FilteredOut),
        Err(e) => Err(e.result_code()),
    }
}

/// An EXP_READ op inside a write: the value, or `None` (no value) under eval-no-fail.
pub fn read_op(
    req: &Request<'_>,
    meta: &ViewMeta<'_>,
    bins: &FlatBins<'_>,
    o: &Op<'_>,
) -> Result<Option<(u8, Vec<u8>)>, ResultCode> {
    let (prog, flags) = aerie_exp::parse_op(o.value, false).map_err(|e| e.result_code())?;
    let view = meta.view(req, BinSource::Working(bins));
    read_result(prog.eval(&view), flags)
}

/// What an EXP_READ answers for an evaluation `outcome` under its op `flags`: the value, no
/// value (nil, or unknown under eval-no-fail), or OP_NOT_APPLICABLE.
pub(crate) fn read_result(
    outcome: Outcome,
    flags: u64,
) -> Result<Option<(u8, Vec<u8>)>, ResultCode> {
    match outcome {
        Outcome::Particle(t, v) => Ok(Some((t, v))),
        Outcome::Nil => Ok(None),
        Outcome::Unknown if flags & op_flags::EVAL_NO_FAIL != 0 => Ok(None),
        Outcome::Unknown => Err(ResultCode::OpNotApplicable),
    }
}

/// An EXP_MODIFY op: evaluates and stores the result into the op's bin, honouring the op flags.
pub fn modify_op<'b>(
    req: &Request<'_>,
    meta: &ViewMeta<'_>,
    bins: &mut FlatBins<'b>,
    o: &Op<'b>,
) -> Result<(), ResultCode> {
    let (prog, flags) = aerie_exp::parse_op(o.value, true).map_err(|e| e.result_code())?;
    let no_fail = flags & op_flags::POLICY_NO_FAIL != 0;
    let live = bins.get(o.name).is_some();
    if live && flags & op_flags::CREATE_ONLY != 0 {
        return if no_fail {
            Ok(())
        } else {
            Err(ResultCode::BinExists)
        };
    }
    if !live && flags & op_flags::UPDATE_ONLY != 0 {
        return if no_fail {
            Ok(())
        } else {
            Err(ResultCode::BinNotFound)
        };
    }
    let outcome = prog.eval(&meta.view(req, BinSource::Working(bins)));
    match outcome {
        Outcome::Unknown if flags & op_flags::EVAL_NO_FAIL != 0 => Ok(()),
        Outcome::Unknown => Err(ResultCode::OpNotApplicable),
        Outcome::Nil if !live => Ok(()),
        Outcome::Nil if flags & op_flags::ALLOW_DELETE != 0 => {
            bins.remove(o.name);
            Ok(())
        }
        // The reference server keeps the bin and succeeds whenever any flag is set here.
        Outcome::Nil if flags != 0 => Ok(()),
        Outcome::Nil => Err(ResultCode::OpNotApplicable),
        Outcome::Particle(t, v) => {
            let v = match t {
                particle::LIST | particle::MAP => {
                    aerie_cdt::normalize_bin(t, &v).map_err(|_| ResultCode::OpNotApplicable)?
                }
                _ => v,
            };
            bins.set(Cow::Borrowed(o.name), t, Cow::Owned(v));
            Ok(())
        }
    }
}

/// One reply op of a read: op type, bin name, particle type, value.
type ReplyOp<'a> = (u8, &'a [u8], u8, Cow<'a, [u8]>);

/// The general read path: a read with a filter, or with any expression or CDT/bit/HLL read op
/// (all read ops run in request order). Every result is computed before the reply header is
/// written. Plain bin reads take the allocation-free path in `read.rs`.
pub fn execute_read(req: &Request<'_>, w: &mut MsgWriter<'_>, batch_index: u32) -> ResultCode {
    let ns = req.ns;
    let h = &req.msg.header;
    let get_all = h.info1 & info1::GET_ALL != 0;
    let respond_all = h.info2 & info2::RESPOND_ALL_OPS != 0;
    let all_bins = req.msg.n_ops() == 0 && h.info1 & info1::GET_NO_BINS == 0;
    let now = time::now_secs();
    let mut idx = ns.partition(&req.digest).lock();
    let Some(r) = idx.get_mut(&req.digest).filter(|r| ns.is_live(r, now)) else {
        drop(idx);
        bump(&ns.stats.client_read_not_found);
        reply::header_only(w, ResultCode::NotFound, 0, 0, batch_index);
        return ResultCode::NotFound;
    };
    if req.filter().is_some() {
        let mut buf = ReadBuf::new();
        let checked = match ns.data(r, &mut buf) {
            Ok(d) => check_filter(req, &d),
            Err(_) => Err(ResultCode::ServerError),
        };
        if let Err(rc) = checked {
            drop(idx);
            if rc != ResultCode::FilteredOut {
                bump(&ns.stats.client_read_error);
            }
            reply::header_only(w, rc, 0, 0, batch_index);
            return rc;
        }
    }
    crate::read::read_touch(&mut r.meta, h.record_ttl, now);
    let r: &Record = r;
    let mut buf = ReadBuf::new();
    let Ok(r) = ns.data(r, &mut buf) else {
        drop(idx);
        return read_error(req, w, batch_index, ResultCode::ServerError);
    };
    let meta = ViewMeta::of(Some(&r));
    let mut out: Vec<ReplyOp<'_>> = Vec::new();
    if all_bins {
        for b in r.iter_bins() {
            out.push((op::READ, b.name, b.particle_type, Cow::Borrowed(b.value)));
        }
    }
    for o in req.msg.ops() {
        let result = match o.op_type {
            op::READ => {
                if o.name.is_empty() {
                    if get_all {
                        for b in r.iter_bins() {
                            out.push((op::READ, b.name, b.particle_type, Cow::Borrowed(b.value)));
                        }
                    }
                } else if let Some(b) = aerie_record::bins::find(r.bins(), o.name) {
                    out.push((op::READ, b.name, b.particle_type, Cow::Borrowed(b.value)));
                }
                continue;
            }
            op::EXP_READ => {
                let (prog, flags) = match aerie_exp::parse_op(o.value, false) {
                    Ok(p) => p,
                    Err(e) => return read_error(req, w, batch_index, e.result_code()),
                };
                let view = meta.view(req, BinSource::Flat(r.bins()));
                read_result(prog.eval(&view), flags)
            }
            _ => {
                let bin =
                    aerie_record::bins::find(r.bins(), o.name).map(|b| (b.particle_type, b.value));
                crate::cdt_ops::read(bin, &o)
            }
        };
        match result {
            Ok(Some((t, v))) => out.push((o.op_type, o.name, t, Cow::Owned(v))),
            Ok(None) if respond_all => out.push((o.op_type, o.name, 0, Cow::Borrowed(&[]))),
            Ok(None) => {}
            Err(rc) => {
                drop(out);
                drop(idx);
                return read_error(req, w, batch_index, rc);
            }
        }
    }
    reply::header(
        w,
        ResultCode::Ok,
        r.meta.generation,
        r.meta.void_time,
        batch_index,
    );
    for (op_type, name, t, v) in &out {
        w.op(*op_type, *t, name, v);
    }
    drop(out);
    drop(idx);
    bump(&ns.stats.client_read_success);
    ResultCode::Ok
}

fn read_error(
    req: &Request<'_>,
    w: &mut MsgWriter<'_>,
    batch_index: u32,
    rc: ResultCode,
) -> ResultCode {
    bump(&req.ns.stats.client_read_error);
    reply::header_only(w, rc, 0, 0, batch_index);
    rc
}
