//! Batch commands over the batch-index protocol (field 41): reads, writes, deletes and
//! operates per row, answered as bare `as_msg` messages packed into frames, with the row's
//! index in `transaction_ttl`, then a last message with `info3 LAST`.
//!
//! Field 41: `u32 row count · u8 parent flags · rows`. Row: `u32 index · 20-byte digest ·
//! u8 row flags`; with REPEAT nothing more (reuse the previous row's namespace, set, ops and
//! attributes); else `u8 info1`, then `u8 info2 · u8 info3` if INFO, `u8 info4` if INFO4,
//! `u16 generation` if GEN, `u32 ttl` if TTL, then `u16 field count · u16 op count`, fields
//! and ops as in a single command.

use std::sync::OnceLock;
use std::time::{Duration, Instant};

use aerie_namespace::Registry;
use aerie_proto::msg::{field, info2};
use aerie_proto::{Msg, MsgHeader, MsgWriter, ProtoType, ResultCode};
use aerie_record::{Digest, DIGEST_SIZE};

use crate::reply;

const ROW_REPEAT: u8 = 0x01;
const ROW_INFO: u8 = 0x02;
const ROW_GEN: u8 = 0x04;
const ROW_TTL: u8 = 0x08;
const ROW_INFO4: u8 = 0x10;
/// Parent flag: answer every row, errors included, instead of stopping at the first error.
const PARENT_RESPOND_ALL_KEYS: u8 = 0x04;
/// Most rows one batch may carry.
pub const MAX_BATCH_ROWS: u32 = 1_000_000;
/// A reply frame is closed and a new one begun past this size.
const FRAME_TARGET_BYTES: usize = 1024 * 1024;

/// What a batch row does, for the `{ns}-batch-sub-*` latency histograms.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RowKind {
    Read,
    Write,
    Udf,
}

/// Told of every batch row: its namespace, kind and how long it took.
pub type RowObserver = Box<dyn Fn(&[u8], RowKind, Duration) + Send + Sync>;

static ROW_OBSERVER: OnceLock<RowObserver> = OnceLock::new();

/// Installs the process-wide batch-row observer (the server's latency histograms). The
/// first call wins; rows are not timed until one is installed.
pub fn set_row_observer(observer: RowObserver) {
    let _ = ROW_OBSERVER.set(observer);
}

fn row_kind(msg: &Msg<'_>) -> RowKind {
    if msg.fields.get(field::UDF_FUNCTION).is_some() {
        RowKind::Udf
    } else if msg.header.info2 & info2::WRITE != 0 {
        RowKind::Write
    } else {
        RowKind::Read
    }
}

/// Executes a batch request and appends every reply frame to `out`.
pub fn execute(registry: &Registry, parent: &Msg<'_>, out: &mut Vec<u8>) {
    let Some(data) = parent.fields.get(field::BATCH_INDEX) else {
        return reply::stream_end(out, ResultCode::Parameter);
    };
    let final_rc = match run_rows(registry, parent, data, out) {
        Ok(rc) => rc,
        Err(rc) => rc,
    };
    reply::stream_end(out, final_rc);
}

fn run_rows(
    registry: &Registry,
    parent: &Msg<'_>,
    data: &[u8],
    out: &mut Vec<u8>,
) -> Result<ResultCode, ResultCode> {
    let (count_b, rest) = data.split_first_chunk::<4>().ok_or(ResultCode::Parameter)?;
    let n_rows = u32::from_be_bytes(*count_b);
    if n_rows > MAX_BATCH_ROWS {
        return Err(ResultCode::BatchMaxRequests);
    }
    let (&parent_flags, mut rows) = rest.split_first().ok_or(ResultCode::Parameter)?;
    let respond_all = parent_flags & PARENT_RESPOND_ALL_KEYS != 0;
    // A parent-level filter applies to rows without their own; compiled once per batch.
    let parent_filter = match parent.fields.get(field::FILTER_EXP) {
        Some(b) => Some(aerie_exp::Filter::compile(b).map_err(|e| e.result_code())?),
        None => None,
    };

    let mut prev: Option<Msg<'_>> = None;
    let mut w = MsgWriter::begin(out, ProtoType::Msg);
    let mut final_rc = ResultCode::Ok;
    for _ in 0..n_rows {
        let (index_b, r) = rows.split_first_chunk::<4>().ok_or(ResultCode::Parameter)?;
        let (digest, r) = r
            .split_first_chunk::<DIGEST_SIZE>()
            .ok_or(ResultCode::Parameter)?;
        let (&flags, r) = r.split_first().ok_or(ResultCode::Parameter)?;
        let index = u32::from_be_bytes(*index_b);
        let digest: Digest = *digest;
        rows = r;
        if flags & ROW_REPEAT == 0 {
            let (msg, used) = parse_row(flags, rows)?;
            rows = rows.get(used..).ok_or(ResultCode::Parameter)?;
            prev = Some(msg);
        }
        let msg = prev.as_ref().ok_or(ResultCode::Parameter)?;
        let observer = ROW_OBSERVER.get();
        let started = observer.map(|_| Instant::now());
        let rc = crate::execute_record(
            registry,
            msg,
            Some(&digest),
            parent_filter.as_ref(),
            &mut w,
            index,
        );
        if let (Some(observe), Some(started)) = (observer, started) {
            let ns = msg.fields.get(field::NAMESPACE).unwrap_or_default();
            observe(ns, row_kind(msg), started.elapsed());
        }
        if !respond_all
            && !matches!(
                rc,
                ResultCode::Ok | ResultCode::NotFound | ResultCode::FilteredOut
            )
        {
            final_rc = rc;
            break;
        }
        if w.frame_len() > FRAME_TARGET_BYTES {
            w.finish();
            w = MsgWriter::begin(out, ProtoType::Msg);
        }
    }
    w.finish();
    Ok(final_rc)
}

/// Calls `f` with each row's message of a batch request, through the same row decoding the
/// batch runs with (repeat rows reuse the previous message and are not passed again). Stops at
/// the first error, malformed rows included.
pub fn for_each_row(
    parent: &Msg<'_>,
    f: &mut dyn FnMut(&Msg<'_>) -> Result<(), ResultCode>,
) -> Result<(), ResultCode> {
    let data = parent
        .fields
        .get(field::BATCH_INDEX)
        .ok_or(ResultCode::Parameter)?;
    let (count_b, rest) = data.split_first_chunk::<4>().ok_or(ResultCode::Parameter)?;
    let n_rows = u32::from_be_bytes(*count_b);
    if n_rows > MAX_BATCH_ROWS {
        return Err(ResultCode::BatchMaxRequests);
    }
    let (_, mut rows) = rest.split_first().ok_or(ResultCode::Parameter)?;
    for _ in 0..n_rows {
        let r = rows.get(4 + DIGEST_SIZE..).ok_or(ResultCode::Parameter)?;
        let (&flags, r) = r.split_first().ok_or(ResultCode::Parameter)?;
        rows = r;
        if flags & ROW_REPEAT == 0 {
            let (msg, used) = parse_row(flags, rows)?;
            rows = rows.get(used..).ok_or(ResultCode::Parameter)?;
            f(&msg)?;
        }
    }
    Ok(())
}

/// Decodes a full (non-repeat) row's attributes, fields and ops.
fn parse_row(flags: u8, b: &[u8]) -> Result<(Msg<'_>, usize), ResultCode> {
    let mut pos = 0usize;
    let mut take = |n: usize| -> Result<&[u8], ResultCode> {
        let s = b.get(pos..pos + n).ok_or(ResultCode::Parameter)?;
        pos += n;
        Ok(s)
    };
    let mut h = MsgHeader {
        info1: first(take(1)?),
        ..Default::default()
    };
    if flags & ROW_INFO != 0 {
        let i = take(2)?;
        h.info2 = first(i);
        h.info3 = i.get(1).copied().unwrap_or(0);
    }
    if flags & ROW_INFO4 != 0 {
        h.info4 = first(take(1)?);
    }
    if flags & ROW_GEN != 0 {
        h.generation =
            u16::from_be_bytes(take(2)?.try_into().map_err(|_| ResultCode::Parameter)?) as u32;
    }
    if flags & ROW_TTL != 0 {
        h.record_ttl = u32::from_be_bytes(take(4)?.try_into().map_err(|_| ResultCode::Parameter)?);
    }
    let counts = take(4)?;
    h.n_fields = u16::from_be_bytes([first(counts), counts.get(1).copied().unwrap_or(0)]);
    h.n_ops = u16::from_be_bytes([
        counts.get(2).copied().unwrap_or(0),
        counts.get(3).copied().unwrap_or(0),
    ]);
    let rest = b.get(pos..).ok_or(ResultCode::Parameter)?;
    let (msg, used) = Msg::parse_parts(h, rest).map_err(|_| ResultCode::Parameter)?;
    Ok((msg, pos + used))
}

fn first(b: &[u8]) -> u8 {
    b.first().copied().unwrap_or(0)
}
