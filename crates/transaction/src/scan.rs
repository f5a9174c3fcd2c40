//! Scans: every live record of a namespace or a set, streamed in Aerospike's multi-message
//! form. Mirrors aerospike-server `as/src/query/query.c` (`get_query_pids`, the basic query
//! job's slice and `as_msg_make_response_bufbuilder` in `as/src/base/proto.c`).
//!
//! A scan is a [`StreamJob`]: `start` validates the request and copies what it needs out of
//! the request buffer; the connection then calls [`StreamJob::next_frame`] until it reports
//! [`Step::Finished`], writing each frame before asking for the next, so a scan of any size
//! holds about one frame (`FRAME_TARGET_BYTES`) of reply in memory.
//!
//! Locking: a partition's lock is held only while up to `CHUNK_MAX_RECORDS` records (or
//! `CHUNK_MAX_VISITS` index entries) are cloned out of it; encoding happens after release and
//! the next chunk resumes after the last digest visited. A write to the partition waits at
//! most for one chunk.
//!
//! Reply shape: each record is a bare `as_msg` with fields namespace, digest, set (if any)
//! and key (if stored), and one READ op per returned bin; the stream ends with an `as_msg`
//! carrying info3 LAST and the result code. When the request sets info3 PARTITION_DONE (the
//! clients' partition tracking), each partition walked to its end is reported by a bare
//! `as_msg` with info3 PARTITION_DONE and the partition id in the generation field, after
//! its records: a client paginating with max-records then knows which partitions are
//! finished and resumes the others after their last digest (the C client relies on it).

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::{Duration, Instant};

use aerie_namespace::{bump, Namespace, ReadBuf, Record, Registry, SetId};
use aerie_proto::msg::{field, info1, info2, info3, op};
use aerie_proto::{Msg, MsgHeader, MsgWriter, ProtoType, ResultCode};
use aerie_record::{partition_id, time, Digest, DIGEST_SIZE, N_PARTITIONS};

use crate::query::{self, QuerySpec};
use crate::reply;

/// A frame is sent once it holds at least this much (Aerospike flushes about every MiB).
const FRAME_TARGET_BYTES: usize = 1024 * 1024;
/// Most records cloned out of a partition per lock.
const CHUNK_MAX_RECORDS: usize = 256;
/// Most index entries visited per lock (bounds the hold time of set-filtered scans).
const CHUNK_MAX_VISITS: usize = 4096;

/// What the connection does after [`StreamJob::next_frame`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    /// A frame was appended; write it and ask again.
    More,
    /// Nothing was appended: the records-per-second throttle asks to wait this long.
    Wait(Duration),
    /// The final frame (ending with the LAST message) was appended.
    Finished,
}

/// Which bins each record message carries.
#[derive(Debug)]
enum BinSelect {
    All,
    /// Metadata only (info1 GET_NO_BINS).
    None,
    /// These bins, in request order; records holding none of them are skipped.
    Names(Vec<Vec<u8>>),
    /// Query ops projection: read ops (bin, CDT, bit, HLL and expression reads) run on each
    /// record, their results sent in request order as a read would answer them.
    Ops(Vec<ProjOp>),
}

/// One read op of a query ops projection, copied out of the request (the job outlives it),
/// with an expression read compiled once for the whole query.
#[derive(Debug)]
struct ProjOp {
    op_type: u8,
    particle_type: u8,
    flags: u8,
    name: Vec<u8>,
    value: Vec<u8>,
    exp: Option<(aerie_exp::Program, u64)>,
}

/// One partition still to be scanned, and where to resume in it.
#[derive(Debug, Clone, Copy)]
pub(crate) struct PartCursor {
    pub(crate) pid: u16,
    pub(crate) after: Option<Digest>,
    /// Queries: the index key (bval) of `after`.
    pub(crate) bval: i64,
}

/// A record copied out of its partition with its data in memory (`Namespace::detach`), to
/// be encoded after the lock is released.
#[derive(Debug)]
pub(crate) struct Collected {
    pub(crate) digest: Digest,
    pub(crate) record: Record,
    /// Queries: the index key that matched, sent back as field 15 for resumes.
    pub(crate) bval: Option<i64>,
}

/// A running scan (and, later, secondary-index query): everything needed to produce the
/// remaining frames, owned, so the request buffer can be reused.
#[derive(Debug)]
pub struct StreamJob {
    ns: Arc<Namespace>,
    /// `None` = whole namespace.
    set: Option<SetId>,
    parts: VecDeque<PartCursor>,
    select: BinSelect,
    /// 0 = no limit.
    max_records: u64,
    /// 0 = no throttle.
    rps: u32,
    sent: u64,
    started: Instant,
    /// Set once the final frame was produced.
    finished: bool,
    /// A secondary-index query; `None` = scan.
    query: Option<QuerySpec>,
    /// The request's filter expression, compiled once.
    filter: Option<aerie_exp::Filter>,
    /// A stream UDF the records go through instead of being sent.
    aggr: Option<crate::aggr::Aggr>,
    /// The request names a set that does not exist.
    set_missing: bool,
    /// The client asked for partition-done markers (info3 PARTITION_DONE).
    report_done: bool,
    /// Partitions finished since the last markers were written.
    done_pids: Vec<u16>,
}

/// Starts a scan, or answers at once (a LAST message with the error) when the request cannot
/// run. Returns the job when records are to be streamed.
pub fn start(registry: &Registry, msg: &Msg<'_>, out: &mut Vec<u8>) -> Option<StreamJob> {
    if msg.header.info2 & info2::WRITE != 0 {
        // A background job: answered at once, run on its own thread.
        let rc = start_background(registry, msg)
            .err()
            .unwrap_or(ResultCode::Ok);
        reply::stream_end(out, rc);
        return None;
    }
    match StreamJob::new(registry, msg) {
        Ok(job) => Some(job),
        Err(rc) => {
            tracing::debug!(rc = %rc, "scan refused");
            reply::stream_end(out, rc);
            None
        }
    }
}

/// Starts a background scan or query applying the request's write ops, or its record UDF,
/// to every match.
fn start_background(registry: &Registry, msg: &Msg<'_>) -> Result<(), ResultCode> {
    let f = &msg.fields;
    let action: Arc<dyn crate::jobs::RecordAction> =
        if f.has(field::UDF_OP) || f.has(field::UDF_PACKAGE) || f.has(field::UDF_FUNCTION) {
            Arc::new(crate::udf_job::UdfAction::new(msg)?)
        } else {
            Arc::new(crate::jobs::OpsAction::new(msg)?)
        };
    let id = match f.get(field::TASK_ID) {
        Some(b) => u64::from_be_bytes(b.try_into().map_err(|_| ResultCode::Parameter)?),
        None => return Err(ResultCode::Parameter),
    };
    let walk = StreamJob::for_background(registry, msg)?;
    crate::jobs::start(id, walk, action)?;
    Ok(())
}

impl StreamJob {
    fn new(registry: &Registry, msg: &Msg<'_>) -> Result<Self, ResultCode> {
        Self::build(registry, msg, false)
    }

    /// The walk of a background job: the same matches, the ops are the job's action.
    fn for_background(registry: &Registry, msg: &Msg<'_>) -> Result<Self, ResultCode> {
        Self::build(registry, msg, true)
    }

    fn build(registry: &Registry, msg: &Msg<'_>, background: bool) -> Result<Self, ResultCode> {
        let f = &msg.fields;
        let h = &msg.header;
        let ns_name = f.get(field::NAMESPACE).ok_or(ResultCode::Parameter)?;
        let ns = registry.get(ns_name).ok_or(ResultCode::Namespace)?;
        if f.has(field::TXN_ID) {
            return Err(ResultCode::UnsupportedFeature);
        }
        // Aggregations run here; a background job's action (ops or UDF) is the caller's.
        let aggr = if background {
            None
        } else {
            crate::aggr::Aggr::from_msg(msg)?
        };
        if h.info2 & info2::WRITE != 0 && !background {
            return Err(ResultCode::Parameter);
        }
        // The filter expression is compiled once for the whole scan.
        let filter = match f.get(field::FILTER_EXP) {
            Some(b) => Some(aerie_exp::Filter::compile(b).map_err(|e| e.result_code())?),
            None => None,
        };
        // An unknown set yields no records (the reference server continues likewise).
        let set = f
            .get(field::SET)
            .filter(|s| !s.is_empty())
            .map(|name| ns.sets.id(name));
        let query = if f.has(field::INDEX_RANGE) || f.has(field::INDEX_EXPRESSION) {
            Some(query::spec(ns, set.flatten(), msg)?)
        } else {
            None
        };
        let mut parts = requested_partitions(f.get(field::PID_ARRAY), f.get(field::DIGEST_ARRAY))?;
        if !f.has(field::PID_ARRAY) && !f.has(field::DIGEST_ARRAY) {
            // A request that names no partitions (the older whole-node form, which clients
            // still use for aggregations) is sent to every node: each answers for the
            // partitions it masters, never for its replicas.
            let ownership = ns.ownership();
            parts.retain(|p| ownership.holds(usize::from(p.pid), 0, ns.node()));
        }
        if query.is_some() {
            query::apply_bvals(&mut parts, f.get(field::BVAL_ARRAY))?;
        }
        // An unknown set has no records: its partitions are reported done without a walk.
        let set_missing = matches!(set, Some(None));
        let report_done = h.info3 & info3::PARTITION_DONE != 0;
        let max_records = match f.get(field::MAX_RECORDS) {
            Some(b) => u64::from_be_bytes(b.try_into().map_err(|_| ResultCode::Parameter)?),
            None => 0,
        };
        let rps = match f.get(field::RPS) {
            Some(b) => u32::from_be_bytes(b.try_into().map_err(|_| ResultCode::Parameter)?),
            None => 0,
        };
        let select = if background {
            BinSelect::None
        } else {
            bin_select(msg)?
        };
        Ok(Self {
            ns: ns.clone(),
            set: set.flatten(),
            parts,
            select,
            max_records,
            rps,
            sent: 0,
            started: Instant::now(),
            finished: false,
            query,
            filter,
            aggr,
            set_missing,
            report_done,
            done_pids: Vec::new(),
        })
    }

    /// Appends the next frame to `out` (see [`Step`]). After `Finished`, further calls append
    /// nothing and return `Finished` again.
    pub fn next_frame(&mut self, out: &mut Vec<u8>) -> Step {
        if self.finished {
            return Step::Finished;
        }
        let budget = match self.throttle_budget() {
            Ok(b) => b,
            Err(wait) => return Step::Wait(wait),
        };
        let mut w = MsgWriter::begin(out, ProtoType::Msg);
        let empty_frame_len = w.frame_len();
        let mut frame_records = 0u64;
        let mut chunk = Vec::with_capacity(CHUNK_MAX_RECORDS);
        while w.frame_len() < FRAME_TARGET_BYTES && frame_records < budget {
            // `sent` counts earlier frames only: this frame's records count against both limits.
            let want = self
                .remaining()
                .saturating_sub(frame_records)
                .min(budget - frame_records);
            if want == 0 {
                break;
            }
            let limit = (want.min(CHUNK_MAX_RECORDS as u64)) as usize;
            if !self.collect_next(limit, &mut chunk) {
                break;
            }
            if self.aggr.is_some() {
                chunk.retain(|c| self.passes_filter(c));
                frame_records += chunk.len() as u64;
                let go_on = self
                    .aggr
                    .as_mut()
                    .is_some_and(|a| a.process(&self.ns, &chunk, &mut w));
                chunk.clear();
                if !go_on {
                    self.parts.clear();
                }
            } else {
                for c in chunk.drain(..) {
                    if !self.passes_filter(&c) {
                        continue;
                    }
                    if encode_record(&mut w, &self.ns, &self.select, &c) {
                        frame_records += 1;
                    }
                }
            }
            // Aggregation replies carry only stream values: the clients read every message of
            // one as a SUCCESS/FAILURE bin, so partition-done markers are left out.
            let markers = self.report_done && self.aggr.is_none();
            for pid in self.done_pids.drain(..) {
                if markers {
                    w.header(&MsgHeader {
                        info3: info3::PARTITION_DONE,
                        result_code: ResultCode::Ok.code(),
                        generation: u32::from(pid),
                        ..Default::default()
                    });
                }
            }
            // Aggregation output is small, so bound the records run per frame instead.
            if self.aggr.is_some()
                && frame_records >= crate::aggr::RECORDS_PER_FRAME
                && w.frame_len() > empty_frame_len
            {
                break;
            }
        }
        self.sent += frame_records;
        let done = self.parts.is_empty() || self.remaining() == 0;
        if done {
            let rc = self
                .aggr
                .as_ref()
                .map_or(ResultCode::Ok, crate::aggr::Aggr::final_rc);
            if let Some(c) = self.aggr_counters() {
                bump(if rc == ResultCode::Ok {
                    &c.complete
                } else {
                    &c.error
                });
            }
            w.header(&MsgHeader {
                info3: info3::LAST,
                result_code: rc.code(),
                ..Default::default()
            });
            self.finished = true;
        }
        w.finish();
        if done {
            Step::Finished
        } else {
            Step::More
        }
    }

    /// Runs the job to its end into `out`, sleeping for the throttle (tests, fuzzing: callers
    /// without a socket).
    pub fn run_to_end(&mut self, out: &mut Vec<u8>) {
        // Each `More` either consumes a partition or sends records, so this ends.
        loop {
            match self.next_frame(out) {
                Step::More => {}
                Step::Wait(d) => std::thread::sleep(d),
                Step::Finished => return,
            }
        }
    }

    /// Clones up to `limit` live records of the front partition (index candidates, for a
    /// query) into `chunk`, popping the partition once exhausted. Returns false when no
    /// partition is left.
    fn collect_next(&mut self, limit: usize, chunk: &mut Vec<Collected>) -> bool {
        let Some(cursor) = self.parts.front_mut() else {
            return false;
        };
        let pid = cursor.pid;
        let Some(p) = self.ns.partitions().get(pid as usize) else {
            self.parts.pop_front();
            return true;
        };
        if self.set_missing {
            self.parts.pop_front();
            self.done_pids.push(pid);
            return true;
        }
        let exhausted = match &self.query {
            None => collect(&self.ns, self.set, p, cursor, limit, chunk),
            Some(q) => query::collect(&self.ns, self.set, q, p, cursor, limit, chunk),
        };
        if exhausted {
            self.parts.pop_front();
            self.done_pids.push(pid);
        }
        true
    }

    /// The `{pi,si}_query_aggr_*` counters of an aggregation job.
    fn aggr_counters(&self) -> Option<&aerie_namespace::JobCounters> {
        self.aggr.as_ref()?;
        let u = &self.ns.stats.udf;
        Some(match self.query {
            None => &u.pi_query_aggr,
            Some(_) => &u.si_query_aggr,
        })
    }

    /// Background jobs: the next chunk of matches (before the filter expression), within
    /// max-records. Returns false once the walk is over.
    pub(crate) fn next_matches(&mut self, chunk: &mut Vec<Collected>) -> bool {
        let want = self.remaining();
        if want == 0 {
            return false;
        }
        let more = self.collect_next(want.min(CHUNK_MAX_RECORDS as u64) as usize, chunk);
        // Background jobs send no partition-done markers.
        self.done_pids.clear();
        more
    }

    /// Background jobs: counts records handed to the action (max-records, throttle).
    pub(crate) fn count_sent(&mut self, n: u64) {
        self.sent += n;
    }

    /// Background jobs: `Err(wait)` while the records-per-second throttle holds.
    pub(crate) fn throttle(&self) -> Result<(), Duration> {
        self.throttle_budget().map(|_| ())
    }

    pub(crate) fn namespace(&self) -> &Arc<Namespace> {
        &self.ns
    }

    /// The set's name, empty for a whole-namespace walk.
    pub(crate) fn set_name(&self) -> String {
        self.set
            .and_then(|s| self.ns.sets.get(s))
            .map(|s| s.name.clone())
            .unwrap_or_default()
    }

    pub(crate) fn rps(&self) -> u32 {
        self.rps
    }

    pub(crate) fn partitions_left(&self) -> usize {
        self.parts.len()
    }

    /// The index a query uses; `None` for a scan.
    pub(crate) fn index_name(&self) -> Option<&str> {
        self.query.as_ref().map(|q| q.index_name())
    }

    /// Records the job may still send (u64::MAX without max-records).
    fn remaining(&self) -> u64 {
        if self.max_records == 0 {
            u64::MAX
        } else {
            self.max_records.saturating_sub(self.sent)
        }
    }

    /// Records the throttle allows now, or how long to wait for the next one. With `rps`
    /// records per second, record n (1-based) may leave at n / rps seconds.
    fn throttle_budget(&self) -> Result<u64, Duration> {
        if self.rps == 0 {
            return Ok(u64::MAX);
        }
        let elapsed = self.started.elapsed();
        let allowed = (elapsed.as_secs_f64() * f64::from(self.rps)) as u64;
        if allowed > self.sent {
            return Ok(allowed - self.sent);
        }
        let next_at = Duration::from_secs_f64((self.sent + 1) as f64 / f64::from(self.rps));
        Err(next_at
            .saturating_sub(elapsed)
            .max(Duration::from_millis(1)))
    }

    /// Whether a record passes the request's filter expression. The record is a clone, so
    /// evaluation holds no partition lock; a filter that cannot be evaluated (unknown) skips
    /// the record, as the reference server does.
    pub(crate) fn passes_filter(&self, c: &Collected) -> bool {
        let Some(filter) = &self.filter else {
            return true;
        };
        let mut buf = ReadBuf::new();
        let Ok(r) = self.ns.data(&c.record, &mut buf) else {
            return false;
        };
        let mut view = aerie_exp::RecordView::new(&c.digest, aerie_exp::BinSource::Flat(r.bins()));
        view.set_name = self
            .ns
            .sets
            .get(r.meta.set_id)
            .map(|s| s.name.as_bytes())
            .unwrap_or_default();
        view.key = r.key();
        view.last_update_ms = r.meta.last_update_ms;
        view.void_time = r.meta.void_time;
        view.record_size_bytes = r.data_size() as u64;
        matches!(filter.matches(&view), Ok(true))
    }
}

// ---------------------------------------------------------------------------------------------
// Request parsing

/// The partitions a request names, in request order: whole partitions from the pid array
/// (11, LE u16 each), then partitions resumed after a digest (12). Neither field = every
/// partition. An empty, oversized or repeating list is a PARAMETER error.
fn requested_partitions(
    pids: Option<&[u8]>,
    digests: Option<&[u8]>,
) -> Result<VecDeque<PartCursor>, ResultCode> {
    if pids.is_none() && digests.is_none() {
        return Ok((0..N_PARTITIONS as u16)
            .map(|pid| PartCursor {
                pid,
                after: None,
                bval: 0,
            })
            .collect());
    }
    let mut seen = vec![false; N_PARTITIONS];
    let mut parts = VecDeque::new();
    let mut mark = |pid: u16| -> Result<(), ResultCode> {
        match seen.get_mut(pid as usize) {
            Some(s) if !*s => {
                *s = true;
                Ok(())
            }
            _ => Err(ResultCode::Parameter),
        }
    };
    if let Some(b) = pids {
        if b.is_empty() || b.len() % 2 != 0 || b.len() / 2 > N_PARTITIONS {
            return Err(ResultCode::Parameter);
        }
        for c in b.chunks_exact(2) {
            let pid = u16::from_le_bytes([
                c.first().copied().unwrap_or(0),
                c.get(1).copied().unwrap_or(0),
            ]);
            mark(pid)?;
            parts.push_back(PartCursor {
                pid,
                after: None,
                bval: 0,
            });
        }
    }
    if let Some(b) = digests {
        if b.is_empty() || b.len() % DIGEST_SIZE != 0 || b.len() / DIGEST_SIZE > N_PARTITIONS {
            return Err(ResultCode::Parameter);
        }
        for c in b.chunks_exact(DIGEST_SIZE) {
            let d: Digest = c.try_into().map_err(|_| ResultCode::Parameter)?;
            let pid = partition_id(&d);
            mark(pid)?;
            parts.push_back(PartCursor {
                pid,
                after: Some(d),
                bval: 0,
            });
        }
    }
    Ok(parts)
}

/// Bin selection from the header and ops: GET_NO_BINS = none; no ops = all; READ ops with
/// names = those bins. Other ops (query ops projection) are not supported yet.
fn bin_select(msg: &Msg<'_>) -> Result<BinSelect, ResultCode> {
    if msg.header.info1 & info1::GET_NO_BINS != 0 {
        return Ok(BinSelect::None);
    }
    if msg.n_ops() == 0 {
        return Ok(BinSelect::All);
    }
    if msg.ops().any(|o| o.op_type != op::READ) {
        return projection(msg);
    }
    let mut names = Vec::with_capacity(msg.n_ops() as usize);
    for o in msg.ops() {
        if o.name.is_empty() {
            return Ok(BinSelect::All);
        }
        names.push(o.name.to_vec());
    }
    Ok(BinSelect::Names(names))
}

/// A foreground query or scan carrying read ops beyond plain bin reads. Write ops belong to
/// background jobs only: here they are a parameter error.
fn projection(msg: &Msg<'_>) -> Result<BinSelect, ResultCode> {
    let mut ops = Vec::with_capacity(msg.n_ops() as usize);
    for o in msg.ops() {
        let exp = match o.op_type {
            op::READ | op::CDT_READ | op::BIT_READ | op::HLL_READ => None,
            op::EXP_READ => Some(aerie_exp::parse_op(o.value, false).map_err(|e| e.result_code())?),
            _ => return Err(ResultCode::Parameter),
        };
        ops.push(ProjOp {
            op_type: o.op_type,
            particle_type: o.particle_type,
            flags: o.flags,
            name: o.name.to_vec(),
            value: o.value.to_vec(),
            exp,
        });
    }
    Ok(BinSelect::Ops(ops))
}

/// One reply op of a projected record: op type, bin name, particle type, value.
type ProjResult<'a> = (u8, &'a [u8], u8, std::borrow::Cow<'a, [u8]>);

/// Runs the projection's ops on one record. `None`: an op failed on this record (wrong bin
/// type, say), and the record is left out of the results.
fn project<'a>(
    ns: &Namespace,
    digest: &Digest,
    r: &aerie_namespace::RecordData<'a>,
    ops: &'a [ProjOp],
) -> Option<Vec<ProjResult<'a>>> {
    use std::borrow::Cow;
    let set_name = ns
        .sets
        .get(r.meta.set_id)
        .map(|s| s.name.as_bytes())
        .unwrap_or_default();
    let mut out = Vec::with_capacity(ops.len());
    for o in ops {
        let result = match (&o.exp, o.op_type) {
            (_, op::READ) => {
                if o.name.is_empty() {
                    for b in r.iter_bins() {
                        out.push((op::READ, b.name, b.particle_type, Cow::Borrowed(b.value)));
                    }
                } else if let Some(b) = aerie_record::bins::find(r.bins(), &o.name) {
                    out.push((op::READ, b.name, b.particle_type, Cow::Borrowed(b.value)));
                }
                continue;
            }
            (Some((prog, flags)), _) => {
                let view = aerie_exp::RecordView {
                    digest,
                    set_name,
                    key: r.key(),
                    bins: aerie_exp::BinSource::Flat(r.bins()),
                    last_update_ms: r.meta.last_update_ms,
                    void_time: r.meta.void_time,
                    record_size_bytes: r.data_size() as u64,
                    is_tombstone: false,
                };
                crate::exp_ops::read_result(prog.eval(&view), *flags).ok()?
            }
            (None, _) => {
                let op = aerie_proto::Op {
                    op_type: o.op_type,
                    particle_type: o.particle_type,
                    flags: o.flags,
                    name: &o.name,
                    value: &o.value,
                };
                let bin =
                    aerie_record::bins::find(r.bins(), &o.name).map(|b| (b.particle_type, b.value));
                crate::cdt_ops::read(bin, &op).ok()?
            }
        };
        if let Some((t, v)) = result {
            out.push((o.op_type, o.name.as_slice(), t, Cow::Owned(v)));
        }
    }
    Some(out)
}

// ---------------------------------------------------------------------------------------------
// Collect (under the partition lock)

/// Clones up to `limit` live records of `set` out of partition `p`, resuming after
/// `cursor.after` and advancing it past every entry visited. Returns whether the partition
/// has no entries left after the cursor.
fn collect(
    ns: &Namespace,
    set: Option<SetId>,
    p: &aerie_namespace::Partition,
    cursor: &mut PartCursor,
    limit: usize,
    chunk: &mut Vec<Collected>,
) -> bool {
    let now = time::now_secs();
    let idx = p.lock();
    for (visits, (d, r)) in idx.iter_from(cursor.after.as_ref()).enumerate() {
        if chunk.len() >= limit || visits >= CHUNK_MAX_VISITS {
            return false;
        }
        cursor.after = Some(*d);
        if set.is_some_and(|s| s != r.meta.set_id) || !ns.is_live(r, now) {
            continue;
        }
        // A record whose data cannot be read back is skipped (`data` logged it).
        let Ok(record) = ns.detach(r) else {
            continue;
        };
        chunk.push(Collected {
            digest: *d,
            record,
            bval: None,
        });
    }
    true
}

// ---------------------------------------------------------------------------------------------
// Encode (after release)

/// Appends one record message; returns false when the record was skipped (a bin selection
/// none of whose bins it holds: the reference server sends no empty records then).
fn encode_record(w: &mut MsgWriter<'_>, ns: &Namespace, select: &BinSelect, c: &Collected) -> bool {
    let mut buf = ReadBuf::new();
    let Ok(r) = ns.data(&c.record, &mut buf) else {
        return false;
    };
    let projected = match select {
        BinSelect::Ops(ops) => match project(ns, &c.digest, &r, ops) {
            Some(p) => Some(p),
            None => return false,
        },
        _ => None,
    };
    if let BinSelect::Names(names) = select {
        let bins = r.bins();
        if !names
            .iter()
            .any(|n| aerie_record::bins::find(bins, n).is_some())
        {
            return false;
        }
    }
    w.header(&MsgHeader {
        info1: if matches!(select, BinSelect::None) {
            info1::GET_NO_BINS
        } else {
            0
        },
        result_code: ResultCode::Ok.code(),
        generation: u32::from(r.meta.generation),
        record_ttl: r.meta.void_time,
        ..Default::default()
    });
    w.field(field::NAMESPACE, ns.name.as_bytes());
    w.field(field::DIGEST, &c.digest);
    if let Some(s) = ns.sets.get(r.meta.set_id) {
        w.field(field::SET, s.name.as_bytes());
    }
    if let Some((t, k)) = r.key() {
        let mut key = Vec::with_capacity(1 + k.len());
        key.push(t);
        key.extend_from_slice(k);
        w.field(field::KEY, &key);
    }
    if let Some(bval) = c.bval {
        w.field(field::BVAL_ARRAY, &bval.to_le_bytes());
    }
    match select {
        BinSelect::None => {}
        BinSelect::All => {
            for b in r.iter_bins() {
                w.op(op::READ, b.particle_type, b.name, b.value);
            }
        }
        BinSelect::Names(names) => {
            let bins = r.bins();
            for n in names {
                if let Some(b) = aerie_record::bins::find(bins, n) {
                    w.op(op::READ, b.particle_type, b.name, b.value);
                }
            }
        }
        BinSelect::Ops(_) => {
            for (op_type, name, t, v) in projected.iter().flatten() {
                w.op(*op_type, *t, name, v);
            }
        }
    }
    true
}

/// An aggregation dropped before its last frame (the client went away) counts as aborted.
impl Drop for StreamJob {
    fn drop(&mut self) {
        if !self.finished {
            if let Some(c) = self.aggr_counters() {
                bump(&c.abort);
            }
        }
    }
}
