//! Background jobs: a scan or secondary-index query whose matches are not sent back but
//! handed, one by one, to a per-record action (write operations today; background UDFs plug
//! in the same way), with a registry the info commands read (`query-show`, `scan-show`,
//! `jobs:`) and abort (`query-abort`, `scan-abort`, `query-abort-all`, `scan-abort-all`).
//! Mirrors aerospike-server `as/src/query/query.c` (the `ops_bg` and `udf_bg` jobs) and
//! `query_manager.c` (the job list and its info text).
//!
//! # Plugging in an action
//!
//! Implement [`RecordAction`] and start the job with [`start`]. The job walks the matches
//! exactly as a foreground scan or query would (partition by partition, a bounded chunk per
//! partition lock, filter expression checked on a copy) and calls
//! [`RecordAction::apply`] for each match with no lock held; the action takes the record's
//! partition lock itself (through the ordinary single-record path), so a record written or
//! deleted since it was matched is handled as the write path would handle it.
//!
//! The registry is process-wide: jobs are started from the transaction layer and shown by
//! the info layer, which share nothing else; a node has one job list, as in the reference
//! server. Finished jobs stay listed (up to [`KEEP_FINISHED`]) so clients polling a job id
//! see `status=done`.

use std::collections::VecDeque;
use std::fmt::Write as _;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, LazyLock};
use std::time::Instant;

use aerie_namespace::Namespace;
use aerie_proto::msg::{field, info2, info3, op};
use aerie_proto::{Msg, MsgHeader, MsgWriter, ProtoType, ResultCode};
use aerie_record::Digest;
use parking_lot::Mutex;

use crate::request::Request;
use crate::scan::StreamJob;

/// Finished jobs kept for `query-show` (the reference server keeps a similar bounded list).
pub const KEEP_FINISHED: usize = 100;

/// What an action did to one record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Written (counted in `recs-succeeded`).
    Succeeded,
    /// The action failed on this record (`recs-failed`).
    Failed,
    /// The record no longer passed the filter when the action ran (`recs-filtered-bins`).
    Filtered,
    /// The record was gone when the action ran: not counted.
    Gone,
}

/// The per-record work of a background job.
pub trait RecordAction: Send + Sync + std::fmt::Debug {
    /// Applies the action to the record `digest` of `ns`, whose set (name, empty for none)
    /// was `set` when it matched. Runs on the job's thread with no lock held; must take the
    /// record's partition lock itself (the single-record path does).
    fn apply(&self, ns: &Arc<Namespace>, digest: &Digest, set: &[u8]) -> Outcome;

    /// Called once when the job stops (`aborted`: by `query-abort`), for the action's own
    /// statistics.
    fn finished(&self, _ns: &Namespace, _kind: Kind, _aborted: bool) {}
}

/// Scan (no index) or query: only changes how the job is listed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Scan,
    Query,
}

/// One background job, as the registry lists it.
#[derive(Debug)]
pub struct Job {
    pub id: u64,
    pub kind: Kind,
    pub ns: String,
    pub set: String,
    pub sindex: String,
    pub rps: u32,
    /// Partitions the job walks, and how many are done.
    pub n_pids: u32,
    pids_done: AtomicU32,
    started: Instant,
    finished: Mutex<Option<Instant>>,
    aborted: AtomicBool,
    succeeded: AtomicU64,
    failed: AtomicU64,
    filtered_bins: AtomicU64,
    throttled: AtomicU64,
}

impl Job {
    /// Whether the job has stopped (finished or aborted).
    pub fn is_done(&self) -> bool {
        self.finished.lock().is_some()
    }

    /// Percent of partitions done.
    pub fn progress_pct(&self) -> f64 {
        if self.n_pids == 0 {
            return 100.0;
        }
        f64::from(self.pids_done.load(Ordering::Relaxed)) * 100.0 / f64::from(self.n_pids)
    }

    /// Records written so far.
    pub fn succeeded(&self) -> u64 {
        self.succeeded.load(Ordering::Relaxed)
    }

    /// Asks the job to stop; it stops before its next chunk.
    pub fn abort(&self) {
        self.aborted.store(true, Ordering::Relaxed);
    }

    /// The `query-show` entry: `:`-separated `name=value` pairs, as the reference server
    /// prints them (clients read `status`, `job-progress` and the `recs-*` counts).
    pub fn describe(&self) -> String {
        let now = Instant::now();
        let finished = *self.finished.lock();
        let run_ms = finished
            .unwrap_or(now)
            .duration_since(self.started)
            .as_millis();
        let since_done_ms = finished.map_or(0, |f| now.duration_since(f).as_millis());
        let aborted = self.aborted.load(Ordering::Relaxed);
        let status = match (finished.is_some(), aborted) {
            (false, _) => "active(ok)",
            (true, false) => "done(ok)",
            (true, true) => "done(abandoned-user-aborted)",
        };
        let mut s = format!(
            "trid={}:job-type={}:ns={}",
            self.id,
            self.kind_name(),
            self.ns
        );
        if !self.set.is_empty() {
            let _ = write!(s, ":set={}", self.set);
        }
        if !self.sindex.is_empty() {
            let _ = write!(s, ":sindex-name={}", self.sindex);
        }
        let _ = write!(
            s,
            ":n-pids-requested={}:rps={}:active-threads={}:status={status}:job-progress={:.2}\
:run-time={run_ms}:time-since-done={since_done_ms}:recs-throttled={}:recs-filtered-meta=0\
:recs-filtered-bins={}:recs-succeeded={}:recs-failed={}",
            self.n_pids,
            self.rps,
            u32::from(finished.is_none()),
            self.progress_pct(),
            self.throttled.load(Ordering::Relaxed),
            self.filtered_bins.load(Ordering::Relaxed),
            self.succeeded.load(Ordering::Relaxed),
            self.failed.load(Ordering::Relaxed),
        );
        s
    }

    fn kind_name(&self) -> &'static str {
        match self.kind {
            Kind::Scan => "basic-scan-bg",
            Kind::Query => "basic-query-bg",
        }
    }
}

/// The node's job list, newest last.
#[derive(Debug, Default)]
pub struct Jobs {
    list: Mutex<VecDeque<Arc<Job>>>,
}

static JOBS: LazyLock<Jobs> = LazyLock::new(Jobs::default);

/// The node's job registry.
pub fn registry() -> &'static Jobs {
    &JOBS
}

impl Jobs {
    /// The job with this id.
    pub fn get(&self, id: u64) -> Option<Arc<Job>> {
        self.list.lock().iter().find(|j| j.id == id).cloned()
    }

    /// Every listed job, oldest first.
    pub fn list(&self) -> Vec<Arc<Job>> {
        self.list.lock().iter().cloned().collect()
    }

    /// Aborts every running job; returns how many.
    pub fn abort_all(&self) -> usize {
        let list = self.list.lock();
        let mut n = 0;
        for j in list.iter().filter(|j| !j.is_done()) {
            j.abort();
            n += 1;
        }
        n
    }

    fn add(&self, job: Arc<Job>) -> Result<(), ResultCode> {
        let mut list = self.list.lock();
        if list.iter().any(|j| j.id == job.id && !j.is_done()) {
            // The same id running twice: the reference server refuses it likewise.
            return Err(ResultCode::Parameter);
        }
        list.retain(|j| j.id != job.id);
        list.push_back(job);
        while list.iter().filter(|j| j.is_done()).count() > KEEP_FINISHED {
            let Some(pos) = list.iter().position(|j| j.is_done()) else {
                break;
            };
            list.remove(pos);
        }
        Ok(())
    }
}

/// Registers a background job over `walk`'s matches and runs it on its own thread.
pub(crate) fn start(
    id: u64,
    walk: StreamJob,
    action: Arc<dyn RecordAction>,
) -> Result<Arc<Job>, ResultCode> {
    let (kind, sindex) = match walk.index_name() {
        Some(name) => (Kind::Query, name.to_owned()),
        None => (Kind::Scan, String::new()),
    };
    let job = Arc::new(Job {
        id,
        kind,
        ns: walk.namespace().name.clone(),
        set: walk.set_name(),
        sindex,
        rps: walk.rps(),
        n_pids: walk.partitions_left() as u32,
        pids_done: AtomicU32::new(0),
        started: Instant::now(),
        finished: Mutex::new(None),
        aborted: AtomicBool::new(false),
        succeeded: AtomicU64::new(0),
        failed: AtomicU64::new(0),
        filtered_bins: AtomicU64::new(0),
        throttled: AtomicU64::new(0),
    });
    registry().add(job.clone())?;
    let runner = job.clone();
    let spawned = std::thread::Builder::new()
        .name(format!("bg-job-{id}"))
        .spawn(move || run(&runner, walk, action.as_ref()));
    if let Err(e) = spawned {
        tracing::error!("cannot start background job: {e}");
        *job.finished.lock() = Some(Instant::now());
        return Err(ResultCode::ServerError);
    }
    Ok(job)
}

fn run(job: &Job, mut walk: StreamJob, action: &dyn RecordAction) {
    let ns = walk.namespace().clone();
    let total = walk.partitions_left();
    let mut chunk = Vec::new();
    loop {
        if job.aborted.load(Ordering::Relaxed) {
            break;
        }
        if let Err(wait) = walk.throttle() {
            job.throttled.fetch_add(1, Ordering::Relaxed);
            std::thread::sleep(wait);
            continue;
        }
        if !walk.next_matches(&mut chunk) {
            break;
        }
        for c in chunk.drain(..) {
            if !walk.passes_filter(&c) {
                job.filtered_bins.fetch_add(1, Ordering::Relaxed);
                continue;
            }
            walk.count_sent(1);
            let set = ns
                .sets
                .get(c.record.meta.set_id)
                .map(|s| s.name.as_bytes())
                .unwrap_or_default();
            let counter = match action.apply(&ns, &c.digest, set) {
                Outcome::Succeeded => &job.succeeded,
                Outcome::Failed => &job.failed,
                Outcome::Filtered => &job.filtered_bins,
                Outcome::Gone => continue,
            };
            counter.fetch_add(1, Ordering::Relaxed);
        }
        let done = total.saturating_sub(walk.partitions_left());
        job.pids_done.store(done as u32, Ordering::Relaxed);
    }
    *job.finished.lock() = Some(Instant::now());
    action.finished(&ns, job.kind, job.aborted.load(Ordering::Relaxed));
    tracing::debug!(job = job.id, "background job finished");
}

// ---------------------------------------------------------------------------------------------
// The write-operations action

/// Applies a background query's write operations to each record, through the single-record
/// write path (so generation, TTL, indexes and storage are handled as for a client write).
/// The record must still exist (update-only), as in the reference server.
#[derive(Debug)]
pub(crate) struct OpsAction {
    /// A single-record write request body (header, namespace, ops) reused for every record
    /// with its digest and set substituted.
    body: Vec<u8>,
    filter: Option<aerie_exp::Filter>,
}

impl OpsAction {
    /// Builds the per-record write from a background query message. Every op must be a
    /// write; no op at all is a PARAMETER error.
    pub(crate) fn new(msg: &Msg<'_>) -> Result<Self, ResultCode> {
        if msg.n_ops() == 0 {
            return Err(ResultCode::Parameter);
        }
        let h = &msg.header;
        let mut frame = Vec::new();
        let mut w = MsgWriter::begin(&mut frame, ProtoType::Msg);
        w.header(&MsgHeader {
            info1: 0,
            info2: (h.info2 | info2::WRITE) & !info2::CREATE_ONLY,
            info3: (h.info3 & !(info3::CREATE_OR_REPLACE | info3::REPLACE_ONLY))
                | info3::UPDATE_ONLY,
            generation: h.generation,
            record_ttl: h.record_ttl,
            ..Default::default()
        });
        if let Some(v) = msg.fields.get(field::NAMESPACE) {
            w.field(field::NAMESPACE, v);
        }
        for o in msg.ops() {
            if matches!(
                o.op_type,
                op::READ | op::CDT_READ | op::BIT_READ | op::HLL_READ | op::EXP_READ
            ) {
                return Err(ResultCode::Parameter);
            }
            w.op(o.op_type, o.particle_type, o.name, o.value);
        }
        w.finish();
        let body = frame
            .get(aerie_proto::PROTO_HEADER_SIZE..)
            .ok_or(ResultCode::ServerError)?
            .to_vec();
        let filter = match msg.fields.get(field::FILTER_EXP) {
            Some(b) => Some(aerie_exp::Filter::compile(b).map_err(|e| e.result_code())?),
            None => None,
        };
        Ok(Self { body, filter })
    }
}

impl RecordAction for OpsAction {
    fn apply(&self, ns: &Arc<Namespace>, digest: &Digest, set: &[u8]) -> Outcome {
        let Ok(msg) = Msg::parse(&self.body) else {
            return Outcome::Failed;
        };
        let mut req = match Request::for_namespace(ns, &msg, Some(digest), self.filter.as_ref()) {
            Ok(r) => r,
            Err(_) => return Outcome::Failed,
        };
        // The record keeps its own set (a namespace-wide job names none).
        req.set = set;
        let mut out = Vec::new();
        let mut w = MsgWriter::begin(&mut out, ProtoType::Msg);
        let rc = crate::write_master::execute(&req, &mut w, 0, None);
        match rc {
            ResultCode::Ok => Outcome::Succeeded,
            ResultCode::FilteredOut => Outcome::Filtered,
            ResultCode::NotFound => Outcome::Gone,
            _ => Outcome::Failed,
        }
    }
}
