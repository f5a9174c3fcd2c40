//! Record UDFs (`apply`): the request names a module, a function and a msgpack argument list;
//! the function runs next to the record, under the partition lock, and what it commits goes
//! through the same store path as any write (generation, TTL, size limit, stop-writes,
//! secondary indexes, persistence). Mirrors aerospike-server `as/src/transaction/udf.c`.
//!
//! Reply: the record's generation and void time, and one op: bin `SUCCESS` holding the
//! return value (a nil particle when the function returns nothing), or, with result code
//! UDF_EXECUTION (100), bin `FAILURE` holding the Lua error text. Failures of the write
//! itself (record too big, out of space…) answer their own code with no bin.

use std::borrow::Cow;

use aerie_cdt::Value;
use aerie_namespace::{
    bump, Namespace, ReadBuf, Record, RecordData, RecordMeta, UdfCounters, NO_SET,
};
use aerie_proto::msg::{field, op};
use aerie_proto::{Msg, MsgWriter, ResultCode};
use aerie_record::bins::{FlatBins, MAX_BIN_NAME_BYTES};
use aerie_record::{particle, time};
use aerie_udf::{Change, RecordInput};

use crate::reply;
use crate::request::Request;
use crate::write_master as write;

/// Bin names of a UDF reply.
const SUCCESS_BIN: &[u8] = b"SUCCESS";
const FAILURE_BIN: &[u8] = b"FAILURE";

/// The UDF a request names.
#[derive(Debug)]
pub(crate) struct Call {
    pub(crate) package: String,
    pub(crate) function: String,
    pub(crate) args: Vec<Value>,
}

/// Longest package or function name, in bytes (Aerospike's `UDF_MAX_STRING_SZ` minus the NUL).
const MAX_UDF_NAME_BYTES: usize = 127;

/// Reads package (30), function (31) and argument list (32) from a request, as Aerospike's
/// `udf_def_init_from_msg` does: all three fields must be present (PARAMETER otherwise) and the
/// names must fit; an empty name is accepted here and fails when the UDF is looked up. An empty
/// argument list field (what the C client sends for `apply(module, function)` with no
/// arguments), or one that is not a msgpack list, means no arguments.
pub(crate) fn parse_call(msg: &Msg<'_>) -> Result<Call, ResultCode> {
    let f = &msg.fields;
    let text = |id| -> Result<String, ResultCode> {
        let b = f.get(id).ok_or(ResultCode::Parameter)?;
        if b.len() > MAX_UDF_NAME_BYTES {
            return Err(ResultCode::Parameter);
        }
        Ok(String::from_utf8_lossy(b).into_owned())
    };
    let package = text(field::UDF_PACKAGE)?;
    let function = text(field::UDF_FUNCTION)?;
    let arglist = f.get(field::UDF_ARGLIST).ok_or(ResultCode::Parameter)?;
    let args = match aerie_cdt::msgpack::decode(arglist) {
        Ok(Value::List(l)) => l.items,
        _ => Vec::new(),
    };
    Ok(Call {
        package,
        function,
        args,
    })
}

/// A stored record as a UDF sees it.
pub(crate) fn record_input<'r>(
    r: RecordData<'r>,
    digest: &aerie_record::Digest,
    set: &'r [u8],
    now_secs: u32,
) -> RecordInput<'r> {
    RecordInput {
        exists: true,
        bins: r
            .iter_bins()
            .filter_map(|b| Some((b.name, aerie_udf::bin_value(b.particle_type, b.value)?)))
            .collect(),
        generation: r.meta.generation,
        ttl_secs: match r.meta.void_time {
            0 => 0,
            v => v.saturating_sub(now_secs),
        },
        last_update_ms: r.meta.last_update_ms,
        key: r.key().and_then(|(t, k)| aerie_udf::bin_value(t, k)),
        digest: *digest,
        set,
    }
}

/// Where a record UDF call comes from: each has its own counters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Origin {
    /// A single-record `apply` (`client_udf_*`).
    Client,
    /// A batch UDF row (`batch_sub_udf_*`).
    Batch,
    /// A record of a background UDF job (`udf_sub_udf_*`): a record gone since it matched
    /// is left alone (NOT_FOUND, not counted) instead of being created.
    Background,
}

impl Origin {
    fn counters(self, ns: &Namespace) -> &UdfCounters {
        match self {
            Origin::Client => &ns.stats.udf.client,
            Origin::Batch => &ns.stats.udf.batch_sub,
            Origin::Background => &ns.stats.udf.udf_sub,
        }
    }
}

/// Executes a record UDF and writes its reply message. With `images`, what the call commits
/// is appended as a replica image while the partition lock is held.
pub(crate) fn execute(
    req: &Request<'_>,
    w: &mut MsgWriter<'_>,
    batch_index: u32,
    origin: Origin,
    images: Option<&mut Vec<u8>>,
) -> ResultCode {
    match parse_call(req.msg) {
        Ok(call) => execute_call(req, &call, w, batch_index, origin, images),
        Err(rc) => fail(req, w, batch_index, rc, origin),
    }
}

/// Executes `call` on the request's record and writes the reply message.
pub(crate) fn execute_call(
    req: &Request<'_>,
    call: &Call,
    w: &mut MsgWriter<'_>,
    batch_index: u32,
    origin: Origin,
    images: Option<&mut Vec<u8>>,
) -> ResultCode {
    let ns = req.ns;
    let stats = origin.counters(ns);
    let Some(udf) = aerie_udf::installed() else {
        bump(&stats.udf_error);
        return failure(w, batch_index, 0, 0, "UDF runtime not started");
    };
    let Ok(set_id) = ns.sets.get_or_create(req.set) else {
        return fail(req, w, batch_index, ResultCode::Parameter, origin);
    };
    let now_secs = time::now_secs();
    let now_ms = time::now_ms();

    let partition = ns.partition(&req.digest);
    let mut idx = partition.lock();
    let stored = idx.get(&req.digest);
    let in_index = stored.is_some();
    let existing = stored.filter(|r| ns.is_live(r, now_secs));
    // The record's data: from memory, or read back from the device (`storage-engine device`).
    let mut buf = ReadBuf::new();
    let existing = match existing {
        Some(r) => match ns.data(r, &mut buf) {
            Ok(d) => Some(d),
            Err(_) => {
                drop(idx);
                return fail(req, w, batch_index, ResultCode::ServerError, origin);
            }
        },
        None => None,
    };
    if existing.is_none() && origin == Origin::Background {
        drop(idx);
        reply::header_only(w, ResultCode::NotFound, 0, 0, batch_index);
        return ResultCode::NotFound;
    }
    if let Some(r) = existing {
        if let (Some(sent), Some(kept)) = (req.key, r.key()) {
            if sent != kept {
                return fail(req, w, batch_index, ResultCode::KeyMismatch, origin);
            }
        }
        if let Err(rc) = crate::exp_ops::check_filter(req, &r) {
            return fail(req, w, batch_index, rc, origin);
        }
    }
    let input = match existing {
        Some(r) => record_input(r, &req.digest, req.set, now_secs),
        None => RecordInput {
            digest: req.digest,
            set: req.set,
            ..RecordInput::default()
        },
    };
    let outcome = aerie_udf::apply_record(udf, &call.package, &call.function, &call.args, &input);
    drop(input);
    let (old_gen, old_void) = existing.map_or((0, 0), |r| (r.meta.generation, r.meta.void_time));
    let value = match outcome.result {
        Ok(v) => v,
        Err(message) => {
            drop(idx);
            bump(&stats.lang_error);
            bump(&stats.udf_error);
            tracing::debug!(package = %call.package, function = %call.function, %message, "UDF failed");
            return failure(w, batch_index, old_gen, old_void, &message);
        }
    };

    let lang_counter = match &outcome.change {
        Change::None => &stats.lang_read_success,
        Change::Delete => &stats.lang_delete_success,
        Change::Write { .. } => &stats.lang_write_success,
    };
    let (generation, void_time) = match outcome.change {
        Change::None => (old_gen, old_void),
        Change::Delete => {
            if in_index {
                if let Err(rc) = write::remove(ns, &mut idx, &req.digest) {
                    return fail(req, w, batch_index, rc, origin);
                }
                if let Some(out) = images {
                    crate::image::encode_tombstone(out, ns, &req.digest, now_ms);
                }
            }
            (0, 0)
        }
        Change::Write {
            bins,
            ttl,
            drop_key,
        } => {
            let mut flat = FlatBins::default();
            for (name, mut v) in bins {
                if name.len() > MAX_BIN_NAME_BYTES {
                    return fail(req, w, batch_index, ResultCode::BinName, origin);
                }
                if matches!(v, Value::List(_) | Value::Map(_)) {
                    if let Err(e) = aerie_cdt::normalize_storage(&mut v) {
                        return fail(req, w, batch_index, e.result_code(), origin);
                    }
                }
                if let Some((t, bytes)) = aerie_cdt::value_to_particle(&v) {
                    flat.set(Cow::Owned(name), t, Cow::Owned(bytes));
                }
            }
            if flat.len() > write::MAX_BINS {
                return fail(req, w, batch_index, ResultCode::Parameter, origin);
            }
            let ttl = ttl.unwrap_or(req.msg.header.record_ttl);
            let void_time = match write::void_time(
                ns,
                ttl,
                existing.map(|r| r.meta.void_time),
                set_id,
                now_secs,
            ) {
                Ok(v) => v,
                Err(rc) => return fail(req, w, batch_index, rc, origin),
            };
            let generation = match existing {
                Some(r) => write::next_generation(r.meta.generation),
                None => 1,
            };
            let key = if drop_key {
                None
            } else {
                existing.and_then(|r| r.key()).or(req.key)
            };
            let mut data =
                Vec::with_capacity(1 + key.map_or(0, |(_, k)| 4 + k.len()) + flat.encoded_len());
            Record::encode_key(&mut data, key);
            flat.encode_into(&mut data);
            let max = ns.config.max_record_size_bytes;
            if max != 0 && data.len() as u64 > max {
                return fail(req, w, batch_index, ResultCode::RecordTooBig, origin);
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
            drop(flat);
            // The image is taken before the data moves into the store; kept only if the
            // store succeeds.
            let mut image = Vec::new();
            if images.is_some() {
                crate::image::encode_stored(&mut image, ns, &req.digest, &meta, req.set, &data);
            }
            match ns.store(&mut idx, req.digest, meta, data, req.set) {
                Ok(created) => {
                    if created && set_id != NO_SET {
                        ns.sets.add_objects(set_id, 1);
                    }
                    if let Some(out) = images {
                        out.extend_from_slice(&image);
                    }
                }
                Err(e) => return fail(req, w, batch_index, write::store_error(e), origin),
            }
            (generation, void_time)
        }
    };
    drop(idx);
    bump(lang_counter);
    bump(&stats.udf_complete);
    reply::header(w, ResultCode::Ok, generation, void_time, batch_index);
    match aerie_cdt::value_to_particle(&value) {
        Some((t, bytes)) => w.op(op::READ, t, SUCCESS_BIN, &bytes),
        None => w.op(op::READ, particle::NULL, SUCCESS_BIN, &[]),
    }
    ResultCode::Ok
}

/// A reply with a result code and no bin.
fn fail(
    req: &Request<'_>,
    w: &mut MsgWriter<'_>,
    batch_index: u32,
    rc: ResultCode,
    origin: Origin,
) -> ResultCode {
    let stats = origin.counters(req.ns);
    bump(if rc == ResultCode::FilteredOut {
        &stats.udf_filtered_out
    } else {
        &stats.udf_error
    });
    reply::header_only(w, rc, 0, 0, batch_index);
    rc
}

/// A UDF_EXECUTION reply carrying the error text in bin `FAILURE`.
fn failure(
    w: &mut MsgWriter<'_>,
    batch_index: u32,
    generation: u16,
    void_time: u32,
    message: &str,
) -> ResultCode {
    let rc = ResultCode::UdfExecution;
    reply::header(w, rc, generation, void_time, batch_index);
    w.op(op::READ, particle::STRING, FAILURE_BIN, message.as_bytes());
    rc
}
