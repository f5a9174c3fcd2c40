//! Writes: put with every exists action, operate (read, write, incr, append, prepend, touch,
//! delete-record ops), touch and delete, with generation and TTL policies.
//!
//! Phases, in the order a request runs: policy checks on the request alone; then, under the
//! partition lock, existence and generation checks, applying ops to a working copy of the
//! bins, TTL and size checks, storing; then the reply.

use std::borrow::Cow;

use aerie_namespace::{bump, Commit, Namespace, ReadBuf, Record, RecordMeta, StoreError, NO_SET};
use aerie_proto::msg::{info2, info3, op};
use aerie_proto::{MsgWriter, Op, ResultCode};
use aerie_record::bins::{FlatBins, MAX_BIN_NAME_BYTES};
use aerie_record::{particle, time};

use crate::cdt_ops;
use crate::read::unsupported_or_bad;
use crate::reply;
use crate::request::Request;

/// TTL value meaning "never expire".
const TTL_NEVER_EXPIRE: u32 = 0xFFFF_FFFF;
/// TTL value meaning "keep the record's current expiry".
const TTL_DONT_UPDATE: u32 = 0xFFFF_FFFE;
/// Most bins a record may hold.
pub(crate) const MAX_BINS: usize = 32_767;

/// Executes a write-path command and writes its reply message.
pub fn execute(req: &Request<'_>, w: &mut MsgWriter<'_>, batch_index: u32) -> ResultCode {
    let ns = req.ns;
    // The partition lock is released when `apply` returns; a commit-to-device write is
    // acknowledged only once durable.
    let out = match apply(req).and_then(|o| {
        ns.wait_commit(o.commit).map_err(store_error)?;
        Ok(o)
    }) {
        Ok(o) => o,
        Err(rc) => {
            match rc {
                ResultCode::NotFound if req.msg.header.info2 & info2::DELETE != 0 => {
                    bump(&ns.stats.client_delete_not_found)
                }
                _ => bump(&ns.stats.client_write_error),
            }
            reply::header_only(w, rc, 0, 0, batch_index);
            return rc;
        }
    };
    if req.msg.header.info2 & info2::DELETE != 0 {
        bump(&ns.stats.client_delete_success);
    } else {
        bump(&ns.stats.client_write_success);
    }
    reply::header(
        w,
        ResultCode::Ok,
        out.generation,
        out.void_time,
        batch_index,
    );
    for r in &out.results {
        w.op(r.op_type, r.particle_type, &r.name, &r.value);
    }
    ResultCode::Ok
}

/// What a successful write reports back.
struct Outcome<'a> {
    generation: u16,
    void_time: u32,
    results: Vec<OpResult<'a>>,
    /// The stored image's commit ticket, waited for after the partition lock is released.
    commit: Commit,
}

/// One op's reply: a read's value, or (with RESPOND_ALL_OPS) a write's nil.
struct OpResult<'a> {
    op_type: u8,
    name: Cow<'a, [u8]>,
    particle_type: u8,
    value: Vec<u8>,
}

/// Validates, applies and stores; returns the outcome or the result code to send.
fn apply<'a>(req: &Request<'a>) -> Result<Outcome<'a>, ResultCode> {
    let ns = req.ns;
    let h = &req.msg.header;
    let respond_all = h.info2 & info2::RESPOND_ALL_OPS != 0;
    let is_delete = h.info2 & info2::DELETE != 0;
    check_ops(req)?;
    if req.msg.n_ops() == 0 && !is_delete {
        return Err(ResultCode::Parameter);
    }
    let get_all = h.info1 & aerie_proto::msg::info1::GET_ALL != 0;

    let set_id = ns
        .sets
        .get_or_create(req.set)
        .map_err(|_| ResultCode::Parameter)?;
    let now_secs = time::now_secs();
    let now_ms = time::now_ms();

    let partition = ns.partition(&req.digest);
    let mut idx = partition.lock();
    let stored = idx.get(&req.digest);
    let in_index = stored.is_some();
    let mut buf = ReadBuf::new();
    let existing = match stored.filter(|r| ns.is_live(r, now_secs)) {
        Some(r) => Some(ns.data(r, &mut buf).map_err(store_error)?),
        None => None,
    };

    // Existence policy.
    if let Some(r) = existing {
        if h.info2 & info2::CREATE_ONLY != 0 {
            return Err(ResultCode::RecordExists);
        }
        if h.info2 & info2::GENERATION != 0 && h.generation != r.meta.generation as u32 {
            return Err(ResultCode::Generation);
        }
        if h.info2 & info2::GENERATION_GT != 0 && h.generation <= r.meta.generation as u32 {
            return Err(ResultCode::Generation);
        }
        if let (Some(sent), Some(kept)) = (req.key, r.key()) {
            if sent != kept {
                return Err(ResultCode::KeyMismatch);
            }
        }
        crate::exp_ops::check_filter(req, &r)?;
    } else if is_delete || h.info3 & (info3::UPDATE_ONLY | info3::REPLACE_ONLY) != 0 {
        if in_index && is_delete {
            remove(ns, &mut idx, &req.digest)?;
        }
        return Err(ResultCode::NotFound);
    }

    if is_delete {
        remove(ns, &mut idx, &req.digest)?;
        return Ok(Outcome {
            generation: 0,
            void_time: 0,
            results: Vec::new(),
            commit: Commit::NONE,
        });
    }

    let replace = h.info3 & (info3::CREATE_OR_REPLACE | info3::REPLACE_ONLY) != 0;
    let mut bins = match existing {
        Some(r) if !replace => FlatBins::load(r.bins()),
        _ => FlatBins::default(),
    };
    let mut results = Vec::new();
    let exp_meta = crate::exp_ops::ViewMeta::of(existing.as_ref());
    let mut touched = false;
    let mut record_deleted = false;
    for o in req.msg.ops() {
        match o.op_type {
            op::READ => read_into(&bins, &o, get_all, &mut results),
            op::TOUCH => {
                touched = true;
                if existing.is_none() {
                    return Err(ResultCode::NotFound);
                }
                push_nil(respond_all, &o, &mut results);
            }
            op::DELETE => {
                bins.bins.clear();
                record_deleted = true;
                push_nil(respond_all, &o, &mut results);
            }
            op::CDT_READ | op::BIT_READ | op::HLL_READ => {
                let r = cdt_ops::read(bins.get(o.name), &o)?;
                push_value(respond_all, &o, r, &mut results);
            }
            op::CDT_MODIFY | op::BIT_MODIFY | op::HLL_MODIFY => {
                let r = cdt_ops::modify(&mut bins, &o)?;
                push_value(respond_all, &o, r, &mut results);
            }
            op::EXP_READ => {
                let r = crate::exp_ops::read_op(req, &exp_meta, &bins, &o)?;
                push_value(respond_all, &o, r, &mut results);
            }
            op::EXP_MODIFY => {
                crate::exp_ops::modify_op(req, &exp_meta, &mut bins, &o)?;
                push_nil(respond_all, &o, &mut results);
            }
            _ => {
                modify_bin(&mut bins, &o)?;
                push_nil(respond_all, &o, &mut results);
            }
        }
    }
    let _ = touched;

    if bins.is_empty() {
        // A record left with no bins is deleted.
        if existing.is_some() || in_index {
            remove(ns, &mut idx, &req.digest)?;
        } else if !record_deleted {
            return Err(ResultCode::NotFound);
        }
        return Ok(Outcome {
            generation: 0,
            void_time: 0,
            results,
            commit: Commit::NONE,
        });
    }
    if bins.len() > MAX_BINS {
        return Err(ResultCode::Parameter);
    }

    let void_time = void_time(
        ns,
        h.record_ttl,
        existing.map(|r| r.meta.void_time),
        set_id,
        now_secs,
    )?;
    let generation = match existing {
        Some(r) => next_generation(r.meta.generation),
        None => 1,
    };
    let key = match existing.and_then(|r| r.key()) {
        Some(k) => Some(k),
        None => req.key,
    };
    let mut data = Vec::with_capacity(1 + key.map_or(0, |(_, k)| 4 + k.len()) + bins.encoded_len());
    Record::encode_key(&mut data, key);
    bins.encode_into(&mut data);
    let max = ns.config.max_record_size_bytes;
    if max != 0 && data.len() as u64 > max {
        return Err(ResultCode::RecordTooBig);
    }
    let last_update_ms = match existing {
        Some(r) => now_ms.max(r.meta.last_update_ms + 1),
        None => now_ms,
    };
    let meta = RecordMeta {
        last_update_ms,
        void_time,
        generation,
        set_id,
    };
    drop(bins);
    let (new, commit) = ns
        .store_deferred(&mut idx, req.digest, meta, data, req.set)
        .map_err(store_error)?;
    if new && set_id != NO_SET {
        ns.sets.add_objects(set_id, 1);
    }
    Ok(Outcome {
        generation,
        void_time,
        results,
        commit,
    })
}

/// Request-only checks, before any lock is taken.
fn check_ops(req: &Request<'_>) -> Result<(), ResultCode> {
    let replace = req.msg.header.info3 & (info3::CREATE_OR_REPLACE | info3::REPLACE_ONLY) != 0;
    for o in req.msg.ops() {
        match o.op_type {
            op::READ | op::TOUCH | op::DELETE => {}
            // A modify op needs the bin's current value, which a record-level replace drops.
            op::CDT_MODIFY | op::BIT_MODIFY | op::HLL_MODIFY if replace => {
                return Err(ResultCode::Parameter)
            }
            // aerospike-server write.c: "modify op can't have record-level replace flag".
            op::INCR | op::APPEND | op::PREPEND if replace => return Err(ResultCode::Parameter),
            op::WRITE
            | op::INCR
            | op::APPEND
            | op::PREPEND
            | op::CDT_READ
            | op::CDT_MODIFY
            | op::BIT_READ
            | op::BIT_MODIFY
            | op::HLL_READ
            | op::HLL_MODIFY
            | op::EXP_READ
            | op::EXP_MODIFY => {
                if o.name.len() > MAX_BIN_NAME_BYTES {
                    return Err(ResultCode::BinName);
                }
            }
            other => return Err(unsupported_or_bad(other)),
        }
    }
    Ok(())
}

/// Applies one bin-modifying op to the working bins.
fn modify_bin<'b>(bins: &mut FlatBins<'b>, o: &Op<'b>) -> Result<(), ResultCode> {
    let name = Cow::Borrowed(o.name);
    match o.op_type {
        op::WRITE => {
            if o.particle_type == particle::NULL {
                bins.remove(o.name);
                return Ok(());
            }
            write_from_wire(bins, name, o)?;
        }
        // As in aerospike-server (particle.c, as_bin_particle_modify_from_client): a
        // modify op on a missing bin creates the bin from the op's value, whatever the
        // op and the value's type; on a live bin the existing type decides, and a value
        // of another type is INCOMPATIBLE_TYPE (12).
        op::INCR | op::APPEND | op::PREPEND => {
            let Some((cur_type, cur)) = bins.get(o.name) else {
                if o.particle_type == particle::NULL {
                    return Err(ResultCode::Parameter);
                }
                return write_from_wire(bins, name, o);
            };
            if cur_type != o.particle_type {
                return Err(ResultCode::IncompatibleType);
            }
            let new = match (o.op_type, cur_type) {
                (op::INCR, particle::INTEGER) => {
                    let add = particle::read_int(o.value).ok_or(ResultCode::Parameter)?;
                    let cur = particle::read_int(cur).ok_or(ResultCode::ServerError)?;
                    cur.wrapping_add(add).to_be_bytes().to_vec()
                }
                (op::INCR, particle::FLOAT) => {
                    let add = particle::read_float(o.value).ok_or(ResultCode::Parameter)?;
                    let cur = particle::read_float(cur).ok_or(ResultCode::ServerError)?;
                    (cur + add).to_be_bytes().to_vec()
                }
                (op::APPEND | op::PREPEND, particle::STRING | particle::BLOB) => {
                    let mut v = Vec::with_capacity(cur.len() + o.value.len());
                    if o.op_type == op::APPEND {
                        v.extend_from_slice(cur);
                        v.extend_from_slice(o.value);
                    } else {
                        v.extend_from_slice(o.value);
                        v.extend_from_slice(cur);
                    }
                    v
                }
                _ => return Err(ResultCode::IncompatibleType),
            };
            bins.set(name, o.particle_type, Cow::Owned(new));
        }
        other => return Err(unsupported_or_bad(other)),
    }
    Ok(())
}

/// Stores an op's wire value as the bin's new value (a write, or a modify creating the bin).
fn write_from_wire<'b>(
    bins: &mut FlatBins<'b>,
    name: Cow<'b, [u8]>,
    o: &Op<'b>,
) -> Result<(), ResultCode> {
    if let Some(v) = cdt_ops::normalize_write(o.particle_type, o.value)? {
        bins.set(name, o.particle_type, Cow::Owned(v));
        return Ok(());
    }
    match particle::canonical_int(o.particle_type, o.value) {
        Ok(None) => bins.set(name, o.particle_type, Cow::Borrowed(o.value)),
        Ok(Some(wide)) => bins.set(name, o.particle_type, Cow::Owned(wide.to_vec())),
        Err(_) => return Err(ResultCode::Parameter),
    }
    Ok(())
}

/// A read op inside a write: the bin's value as it stands after the ops before it.
/// A nameless read is "all bins" under GET_ALL and a header read (nothing) otherwise.
fn read_into<'a>(bins: &FlatBins<'_>, o: &Op<'a>, get_all: bool, results: &mut Vec<OpResult<'a>>) {
    if o.name.is_empty() {
        if !get_all {
            return;
        }
        for (n, t, v) in &bins.bins {
            let name = Cow::Owned(n.to_vec());
            results.push(OpResult {
                op_type: op::READ,
                name,
                particle_type: *t,
                value: v.to_vec(),
            });
        }
    } else if let Some((t, v)) = bins.get(o.name) {
        results.push(OpResult {
            op_type: op::READ,
            name: Cow::Borrowed(o.name),
            particle_type: t,
            value: v.to_vec(),
        });
    }
}

/// A CDT/bit/HLL op's result slot: its value, or a nil under RESPOND_ALL_OPS.
fn push_value<'a>(
    respond_all: bool,
    o: &Op<'a>,
    r: Option<cdt_ops::OpValue>,
    results: &mut Vec<OpResult<'a>>,
) {
    match r {
        Some((particle_type, value)) => results.push(OpResult {
            op_type: o.op_type,
            name: Cow::Borrowed(o.name),
            particle_type,
            value,
        }),
        None => push_nil(respond_all, o, results),
    }
}

fn push_nil<'a>(respond_all: bool, o: &Op<'a>, results: &mut Vec<OpResult<'a>>) {
    if respond_all {
        results.push(OpResult {
            op_type: o.op_type,
            name: Cow::Borrowed(o.name),
            particle_type: 0,
            value: Vec::new(),
        });
    }
}

pub(crate) fn remove(
    ns: &Namespace,
    idx: &mut aerie_namespace::PartitionIndex,
    digest: &aerie_record::Digest,
) -> Result<(), ResultCode> {
    ns.delete_record(idx, digest)
        .map(|_| ())
        .map_err(store_error)
}

/// The result code for a storage failure.
pub(crate) fn store_error(e: StoreError) -> ResultCode {
    match e {
        StoreError::OutOfSpace => ResultCode::OutOfSpace,
        StoreError::RecordTooBig => ResultCode::RecordTooBig,
        StoreError::Io(ref m) => {
            tracing::error!("storage write failed: {m}");
            ResultCode::ServerError
        }
    }
}

/// Generations wrap past 0xFFFF to 1, never 0.
pub(crate) fn next_generation(g: u16) -> u16 {
    match g.wrapping_add(1) {
        0 => 1,
        n => n,
    }
}

/// Resolves the request's TTL into a void time.
pub(crate) fn void_time(
    ns: &Namespace,
    ttl: u32,
    current: Option<u32>,
    set_id: aerie_namespace::SetId,
    now_secs: u32,
) -> Result<u32, ResultCode> {
    let ttl_secs: u64 = match ttl {
        TTL_NEVER_EXPIRE => return Ok(0),
        TTL_DONT_UPDATE => match current {
            Some(v) => return Ok(v),
            None => ns.default_ttl_secs(set_id),
        },
        0 => ns.default_ttl_secs(set_id),
        t => t as u64,
    };
    if ttl_secs == 0 {
        return Ok(0);
    }
    if ttl_secs > ns.config.max_ttl_secs {
        return Err(ResultCode::Parameter);
    }
    if ns.config.nsup_period_secs == 0 && !ns.config.allow_ttl_without_nsup {
        return Err(ResultCode::Forbidden);
    }
    Ok(now_secs.saturating_add(ttl_secs as u32))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generation_wraps_to_one() {
        assert_eq!(next_generation(1), 2);
        assert_eq!(next_generation(0xFFFF), 1);
    }
}
