//! Secondary-index queries: the parts of a stream job that differ from a scan. Candidates
//! come from the index's per-partition tree (in bval, digest order, so a client resumes after
//! the bval and digest it last saw); each is verified against the record itself, so hash
//! collisions and stale entries never produce false positives. Mirrors aerospike-server
//! `as/src/query/query.c` (`get_range_field`, `range_from_msg_*`, `record_matches_query`).

use std::collections::VecDeque;
use std::sync::Arc;

use aerie_namespace::{Namespace, Partition, SetId};
use aerie_proto::msg::field;
use aerie_proto::{Msg, ResultCode};
use aerie_record::{particle, time};
use aerie_sindex::{CollectionType, IndexCtx, KeyType, QueryRange, Sindex, Sindexes};

use crate::scan::{Collected, PartCursor};

/// What a query looks up.
#[derive(Debug)]
pub(crate) struct QuerySpec {
    si: Arc<Sindex>,
    range: QueryRange,
    /// Sorted, disjoint bval intervals to visit.
    ranges: Vec<(i64, i64)>,
    /// Partitions holding a candidate when the query started; the others are not visited.
    present: Vec<bool>,
}

impl QuerySpec {
    /// The name of the index the query uses.
    pub(crate) fn index_name(&self) -> &str {
        &self.si.def.name
    }
}

/// Decodes the query filter (field 22, with 21 and 26 alongside) and finds its index.
/// A filter no index serves is INDEX_NOT_FOUND.
pub(crate) fn spec(
    ns: &Namespace,
    set: Option<SetId>,
    msg: &Msg<'_>,
) -> Result<QuerySpec, ResultCode> {
    let f = &msg.fields;
    let context = match f.get(field::INDEX_CONTEXT) {
        Some(b) => Some(IndexCtx::from_wire(b).ok_or(ResultCode::Parameter)?),
        None => None,
    };
    let exp = f.get(field::INDEX_EXPRESSION);
    let raw = f.get(field::INDEX_RANGE).ok_or(ResultCode::Parameter)?;
    let (bin, ptype, begin, end) = parse_range(raw).ok_or(ResultCode::Parameter)?;
    let ktype = KeyType::from_particle(ptype).ok_or(ResultCode::Parameter)?;
    let ctype = match f.get(field::INDEX_TYPE) {
        None => CollectionType::Default,
        Some(b) => b
            .first()
            .copied()
            .and_then(CollectionType::from_wire)
            .ok_or(ResultCode::Parameter)?,
    };
    let range = match ktype {
        KeyType::Numeric => {
            let b = i64::from_be_bytes(begin.try_into().map_err(|_| ResultCode::Parameter)?);
            let e = i64::from_be_bytes(end.try_into().map_err(|_| ResultCode::Parameter)?);
            QueryRange::Int(b, e)
        }
        KeyType::String | KeyType::Blob => QueryRange::Eq(ktype, begin.to_vec()),
        KeyType::Geo2dsphere => QueryRange::geo(begin).ok_or(ResultCode::GeoInvalidGeoJson)?,
    };
    let sis = Sindexes::existing(ns).ok_or(ResultCode::IndexNotFound)?;
    let si = match f.get(field::INDEX_NAME) {
        Some(name) => {
            let name = std::str::from_utf8(name).map_err(|_| ResultCode::Parameter)?;
            sis.get(name)
                .filter(|s| s.def.ktype == ktype && s.def.ctype == ctype)
        }
        None => sis.find(set, bin, ktype, ctype, context.as_ref(), exp),
    }
    .ok_or(ResultCode::IndexNotFound)?;
    let ranges = range.bvals();
    let present = si.partitions_with(&ranges);
    Ok(QuerySpec {
        si,
        range,
        ranges,
        present,
    })
}

/// Attaches the bval array (field 15, LE i64 each, one per digest-array entry) to the
/// partitions resumed after a digest.
pub(crate) fn apply_bvals(
    parts: &mut VecDeque<PartCursor>,
    bvals: Option<&[u8]>,
) -> Result<(), ResultCode> {
    let mut resumed = parts.iter_mut().filter(|p| p.after.is_some()).peekable();
    if resumed.peek().is_none() {
        return Ok(());
    }
    let b = bvals.ok_or(ResultCode::Parameter)?;
    let mut chunks = b.chunks_exact(8);
    for p in resumed {
        let c = chunks.next().ok_or(ResultCode::Parameter)?;
        p.bval = i64::from_le_bytes(c.try_into().map_err(|_| ResultCode::Parameter)?);
    }
    if chunks.next().is_some() || !chunks.remainder().is_empty() {
        return Err(ResultCode::Parameter);
    }
    Ok(())
}

/// Copies up to `limit` matching live records of partition `p` into `chunk`, resuming
/// after the cursor. Index candidates are copied under the index's lock; records are then
/// verified under the partition lock. Returns whether the partition has no candidates left.
pub(crate) fn collect(
    ns: &Namespace,
    set: Option<SetId>,
    q: &QuerySpec,
    p: &Partition,
    cursor: &mut PartCursor,
    limit: usize,
    chunk: &mut Vec<Collected>,
) -> bool {
    if !q.present.get(cursor.pid as usize).copied().unwrap_or(true) {
        return true;
    }
    let mut cands = Vec::with_capacity(limit.min(1024));
    let after = cursor.after.map(|d| (cursor.bval, d));
    let exhausted =
        q.si.candidates(cursor.pid, &q.ranges, after, limit, &mut cands);
    let Some(&(last_bval, last_digest)) = cands.last() else {
        return true;
    };
    cursor.after = Some(last_digest);
    cursor.bval = last_bval;
    let now = time::now_secs();
    let idx = p.lock();
    for (bval, d) in cands {
        let Some(r) = idx.get(&d) else {
            continue;
        };
        if set.is_some_and(|s| s != r.meta.set_id)
            || !ns.is_live(r, now)
            || !q.si.def.matches(&d, r, &q.range)
        {
            continue;
        }
        if q.si.def.multi_valued() && q.si.def.first_key_in(&d, r, &q.ranges) != Some(bval) {
            // Met again under another of its keys: returned once, at the first.
            continue;
        }
        chunk.push(Collected {
            digest: d,
            record: r.clone(),
            bval: Some(bval),
        });
    }
    exhausted
}

/// A decoded field 22: bin name, particle type, begin, end.
type RangeField<'a> = (&'a [u8], u8, &'a [u8], &'a [u8]);

/// Splits field 22: u8 range count (1) · u8 bin-name length · name · u8 particle type ·
/// u32 length + begin · u32 length + end.
fn parse_range(b: &[u8]) -> Option<RangeField<'_>> {
    let (&count, rest) = b.split_first()?;
    if count != 1 {
        return None;
    }
    let (&name_len, rest) = rest.split_first()?;
    let (bin, rest) = rest.split_at_checked(name_len as usize)?;
    let (&ptype, rest) = rest.split_first()?;
    let (len, rest) = rest.split_first_chunk::<4>()?;
    let (begin, rest) = rest.split_at_checked(u32::from_be_bytes(*len) as usize)?;
    let (len, rest) = rest.split_first_chunk::<4>()?;
    let (end, _) = rest.split_at_checked(u32::from_be_bytes(*len) as usize)?;
    if ptype == particle::INTEGER && (begin.len() != 8 || end.len() != 8) {
        return None;
    }
    Some((bin, ptype, begin, end))
}
