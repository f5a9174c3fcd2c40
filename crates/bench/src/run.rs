//! Running a bench: connect, check the namespace, run each stage with one worker task per
//! connection, report every second, summarize.
//!
//! Bounds: a read/update stage stops after `--duration` (default 10 s) or `--count`
//! transactions; an insert stage stops at the end of its key range (or earlier on either
//! bound); every request gives up after `--socket-timeout`; Ctrl-C stops the run and still
//! prints the summary.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use tokio::task::JoinSet;

use crate::args::{BenchArgs, Workload, DEFAULT_DURATION_SECS};
use crate::conn::{CallError, Conn};
use crate::report::{self, StageSummary};
use crate::request::{Encoder, RequestTemplate};
use crate::rng::Rng;
use crate::stats::{OpKind, StageStats};

/// Time between two reports.
const REPORT_PERIOD: Duration = Duration::from_secs(1);
/// Shortest final partial period that still gets its own per-second line.
const MIN_LAST_PERIOD: Duration = Duration::from_millis(250);
/// Pause before a worker tries to reconnect after a failure, so a dead server is not spun on.
const RECONNECT_PAUSE: Duration = Duration::from_millis(100);
/// A worker gives up after this many failures in a row (connects refused, no replies), so
/// a dead or hung node ends the run instead of stretching it without bound.
const MAX_FAILURES_IN_A_ROW: u32 = 20;
/// A paced worker that falls this far behind its schedule forgets the backlog rather than
/// bursting to catch up.
const PACE_MAX_LAG: Duration = Duration::from_secs(1);

/// Runs the whole bench on a fresh runtime and returns the stage summaries.
pub fn run(args: &BenchArgs) -> Result<Vec<StageSummary>, String> {
    let cores = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(2);
    let threads = args
        .io_threads
        .unwrap_or(cores.min(args.connections))
        .max(1);
    // One thread: a current-thread runtime, so the reporter and the workers never wake each
    // other across threads.
    let rt = if threads == 1 {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
    } else {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(threads)
            .thread_name("aerie-bench")
            .enable_all()
            .build()
    }
    .map_err(|e| format!("cannot start the runtime: {e}"))?;
    rt.block_on(run_async(args))
}

async fn run_async(args: &BenchArgs) -> Result<Vec<StageSummary>, String> {
    let addr = args.addr();
    check_namespace(&addr, args).await?;
    if args.stages().contains(&Workload::UdfIncrement) {
        let mut conn = Conn::open(&addr, args.socket_timeout, args.login.as_deref())
            .await
            .map_err(|e| format!("cannot connect to {addr}: {e}"))?;
        crate::udf::register(&mut conn).await?;
    }

    let interrupted = Arc::new(AtomicBool::new(false));
    {
        let interrupted = interrupted.clone();
        tokio::spawn(async move {
            if tokio::signal::ctrl_c().await.is_ok() {
                interrupted.store(true, Ordering::Relaxed);
            }
        });
    }

    let mut workers = connect_workers(&addr, args).await?;
    let mut out = Msg::new(args.json);
    out.line(&format!(
        "aerie bench: {addr} namespace {} set {:?} keys {}..{} object spec {} connections {} stages {}",
        args.namespace,
        args.set,
        args.start_key,
        args.start_key + args.keys,
        crate::spec::describe(&args.bins),
        args.connections,
        args.stages().iter().map(ToString::to_string).collect::<Vec<_>>().join(" then ")
    ));
    out.line(report::HDR_FORMAT);

    let mut summaries = Vec::new();
    for (i, stage) in args.stages().into_iter().enumerate() {
        if interrupted.load(Ordering::Relaxed) {
            break;
        }
        out.line(&format!("stage {}: {stage}", i + 1));
        let (summary, back) = run_stage(args, stage, workers, &interrupted, &mut out).await?;
        workers = back;
        summaries.push(summary);
    }
    Ok(summaries)
}

/// Asks the node for its namespaces and refuses to run against one it does not have.
async fn check_namespace(addr: &str, args: &BenchArgs) -> Result<(), String> {
    let mut conn = Conn::open(addr, args.socket_timeout, args.login.as_deref())
        .await
        .map_err(|e| format!("cannot connect to {addr}: {e}"))?;
    let reply = conn
        .info(&["namespaces"])
        .await
        .map_err(|e| format!("info request to {addr} failed: {e}"))?;
    let value = crate::info::parse_reply(&reply)
        .into_iter()
        .next()
        .map(|(_, v)| v)
        .unwrap_or_default();
    if value.split(';').any(|ns| ns == args.namespace) {
        Ok(())
    } else {
        Err(format!(
            "node {addr} has no namespace '{}' (it has: {value})",
            args.namespace
        ))
    }
}

/// Where the per-period lines go: stdout, or stderr when stdout carries the JSON summary.
struct Msg {
    to_stderr: bool,
}

impl Msg {
    fn new(json: bool) -> Self {
        Msg { to_stderr: json }
    }

    fn line(&mut self, text: &str) {
        self.raw(&format!("{text}\n"));
    }

    fn raw(&mut self, text: &str) {
        use std::io::Write as _;
        // A closed pipe must not kill a run; the summary is returned to the caller anyway.
        if self.to_stderr {
            let _ = std::io::stderr().write_all(text.as_bytes());
        } else {
            let mut o = std::io::stdout().lock();
            let _ = o.write_all(text.as_bytes());
            let _ = o.flush();
        }
    }
}

/// One load-generating worker: its connection, encoder and reusable buffers.
struct Worker {
    id: usize,
    addr: Arc<str>,
    /// User and client-side password hash each new connection logs in with.
    login: Option<Arc<(String, String)>>,
    conn: Option<Conn>,
    encoder: Encoder,
    rng: Rng,
    request: Vec<u8>,
    batch_keys: Vec<u64>,
    logged_error: bool,
    /// Failed connects or transactions without an answer since the last answer.
    failures_in_a_row: u32,
}

async fn connect_workers(addr: &str, args: &BenchArgs) -> Result<Vec<Worker>, String> {
    let template = RequestTemplate {
        namespace: args.namespace.as_bytes().to_vec(),
        set: args.set.as_bytes().to_vec(),
        bin_names: args
            .bin_names()
            .into_iter()
            .map(String::into_bytes)
            .collect(),
        bins: args.bins.clone(),
        record_ttl: args.record_ttl,
        timeout_ms: args.timeout_ms,
        read_filter: match (args.read_filter, args.bins.first()) {
            (true, Some(first)) => Some(crate::request::bin_type_filter(
                args.bin_base.as_bytes(),
                first.particle_type(),
            )),
            _ => None,
        },
    };
    let addr: Arc<str> = Arc::from(addr);
    let mut set = JoinSet::new();
    for id in 0..args.connections {
        let addr = addr.clone();
        let timeout = args.socket_timeout;
        let login = args.login.clone();
        set.spawn(async move { (id, Conn::open(&addr, timeout, login.as_deref()).await) });
    }
    let mut workers = Vec::with_capacity(args.connections);
    let mut first_error = None;
    while let Some(res) = set.join_next().await {
        let (id, conn) = res.map_err(|e| format!("connect task failed: {e}"))?;
        let conn = match conn {
            Ok(c) => Some(c),
            Err(e) => {
                first_error.get_or_insert_with(|| e.to_string());
                None
            }
        };
        let mut rng = Rng::seeded(id as u64);
        let encoder = Encoder::new(template.clone(), &mut rng);
        workers.push(Worker {
            id,
            addr: addr.clone(),
            login: args.login.clone(),
            conn,
            encoder,
            rng,
            request: Vec::with_capacity(256),
            batch_keys: Vec::with_capacity(args.batch_size),
            logged_error: false,
            failures_in_a_row: 0,
        });
    }
    if let Some(e) = first_error {
        if workers.iter().all(|w| w.conn.is_none()) {
            return Err(format!("cannot connect to {addr}: {e}"));
        }
        eprintln!("aerie bench: some connections failed ({e}); they will be retried");
    }
    workers.sort_by_key(|w| w.id);
    Ok(workers)
}

/// State shared by the workers of one stage.
struct StageShared {
    stop: AtomicBool,
    /// Insert: next key to write.
    next_key: AtomicU64,
    /// Transactions started, for `--count`.
    started: AtomicU64,
    inserted: AtomicU64,
}

/// Everything a worker needs to know about its stage.
#[derive(Clone, Copy)]
struct StagePlan {
    workload: Workload,
    key_start: u64,
    key_end: u64,
    count: Option<u64>,
    batch_size: usize,
    random_values: bool,
    /// Per-worker pause between request starts, when `--throughput` is set.
    pace: Option<Duration>,
}

async fn run_stage(
    args: &BenchArgs,
    workload: Workload,
    workers: Vec<Worker>,
    interrupted: &Arc<AtomicBool>,
    out: &mut Msg,
) -> Result<(StageSummary, Vec<Worker>), String> {
    let key_end = match workload {
        Workload::Insert { percent } => {
            // u128: keys * 100 may not fit in u64; the result is at most `keys`, which does.
            let n = u128::from(args.keys) * u128::from(percent) / 100;
            args.start_key + u64::try_from(n).unwrap_or(args.keys)
        }
        Workload::ReadUpdate { .. }
        | Workload::MapIncrement
        | Workload::ListAppend
        | Workload::UdfIncrement
        | Workload::OperateIncrement => args.start_key + args.keys,
    };
    let pace = (args.throughput_tps > 0).then(|| {
        let per_worker = args.throughput_tps as f64 / workers.len().max(1) as f64;
        Duration::from_secs_f64(1.0 / per_worker)
    });
    let plan = StagePlan {
        workload,
        key_start: args.start_key,
        key_end,
        count: args.count,
        batch_size: args.batch_size,
        random_values: args.random_values,
        pace,
    };
    let duration = match (workload, args.duration, args.count) {
        (_, Some(d), _) => Some(d),
        (
            Workload::ReadUpdate { .. }
            | Workload::MapIncrement
            | Workload::ListAppend
            | Workload::UdfIncrement
            | Workload::OperateIncrement,
            None,
            None,
        ) => Some(Duration::from_secs(DEFAULT_DURATION_SECS)),
        _ => None,
    };
    let shared = Arc::new(StageShared {
        stop: AtomicBool::new(false),
        next_key: AtomicU64::new(args.start_key),
        started: AtomicU64::new(0),
        inserted: AtomicU64::new(0),
    });

    let cpu_at_start = report::process_cpu();
    let mut per_worker = Vec::with_capacity(workers.len());
    let mut set = JoinSet::new();
    let started_at = Instant::now();
    for w in workers {
        let stats = Arc::new(Mutex::new(StageStats::new()?));
        per_worker.push(stats.clone());
        set.spawn(worker_loop(w, plan, shared.clone(), stats));
    }

    let mut interval = StageStats::new()?;
    let mut cumulative = StageStats::new()?;
    let insert = matches!(workload, Workload::Insert { .. });
    let mut ticker =
        tokio::time::interval_at(tokio::time::Instant::now() + REPORT_PERIOD, REPORT_PERIOD);
    let mut last_tick = Instant::now();
    let mut printed_before = false;
    let mut back = Vec::with_capacity(per_worker.len());
    loop {
        tokio::select! {
            _ = ticker.tick() => {
                if interrupted.load(Ordering::Relaxed)
                    || duration.is_some_and(|d| started_at.elapsed() >= d)
                {
                    shared.stop.store(true, Ordering::Relaxed);
                }
                let now = Instant::now();
                drain(&per_worker, &mut interval);
                out.raw(&report::period_lines(&interval, now - last_tick, now - started_at, insert,
                    shared.inserted.load(Ordering::Relaxed)));
                cumulative.add(&interval);
                interval.reset();
                last_tick = now;
                printed_before = true;
            }
            joined = set.join_next() => match joined {
                Some(Ok(w)) => back.push(w),
                Some(Err(e)) => return Err(format!("bench worker failed: {e}")),
                None => break,
            },
        }
    }
    let elapsed = started_at.elapsed();
    drain(&per_worker, &mut interval);
    // The last, partial period gets a line if it is long enough for its rate to mean
    // something, or if the stage was too short to print any line at all.
    let now = Instant::now();
    if interval.total()?.attempts() > 0 && (!printed_before || now - last_tick >= MIN_LAST_PERIOD) {
        out.raw(&report::period_lines(
            &interval,
            now - last_tick,
            now - started_at,
            insert,
            shared.inserted.load(Ordering::Relaxed),
        ));
    }
    cumulative.add(&interval);
    back.sort_by_key(|w| w.id);
    let mut summary = StageSummary::of(workload.to_string(), &cumulative, elapsed)?;
    summary.client_cpu = match (cpu_at_start, report::process_cpu()) {
        (Some(a), Some(b)) => Some(b.saturating_sub(a)),
        _ => None,
    };
    Ok((summary, back))
}

fn drain(per_worker: &[Arc<Mutex<StageStats>>], into: &mut StageStats) {
    for s in per_worker {
        let mut g = lock(s);
        into.add(&g);
        g.reset();
    }
}

fn lock(m: &Mutex<StageStats>) -> MutexGuard<'_, StageStats> {
    // A worker that panicked mid-record leaves counters that are still worth reporting.
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

// hot path: the worker loop below runs once per transaction.

/// What one iteration sends.
enum Planned {
    Single(OpKind),
    Batch,
    Done,
}

async fn worker_loop(
    mut w: Worker,
    plan: StagePlan,
    shared: Arc<StageShared>,
    stats: Arc<Mutex<StageStats>>,
) -> Worker {
    let mut next_start = tokio::time::Instant::now();
    loop {
        if shared.stop.load(Ordering::Relaxed) {
            break;
        }
        if w.failures_in_a_row >= MAX_FAILURES_IN_A_ROW {
            eprintln!(
                "aerie bench: connection {}: {MAX_FAILURES_IN_A_ROW} failures in a row; this worker stops",
                w.id
            );
            break;
        }
        if let Some(limit) = plan.count {
            if shared.started.fetch_add(1, Ordering::Relaxed) >= limit {
                break;
            }
        }
        let planned = plan_next(&mut w, &plan, &shared);
        if matches!(planned, Planned::Done) {
            break;
        }
        if let Some(gap) = plan.pace {
            let now = tokio::time::Instant::now();
            if next_start > now {
                tokio::time::sleep_until(next_start).await;
            } else if now - next_start > PACE_MAX_LAG {
                next_start = now;
            }
            next_start += gap;
        }
        if w.conn.is_none() {
            match Conn::open(&w.addr, Duration::from_secs(5), w.login.as_deref()).await {
                Ok(c) => w.conn = Some(c),
                Err(e) => {
                    lock(&stats).record_failure(kind_of(&planned), false);
                    w.failures_in_a_row += 1;
                    log_once(&mut w, &e);
                    tokio::time::sleep(RECONNECT_PAUSE).await;
                    continue;
                }
            }
        }
        let Some(conn) = w.conn.as_mut() else {
            continue;
        };
        let t0 = Instant::now();
        match planned {
            Planned::Single(kind) => {
                let res = conn.call_single(&w.request).await;
                let us = t0.elapsed().as_micros() as u64;
                match res {
                    Ok(rc) => {
                        w.failures_in_a_row = 0;
                        lock(&stats).record_answer(kind, rc, us, 1);
                        if kind == OpKind::Write
                            && rc == 0
                            && matches!(plan.workload, Workload::Insert { .. })
                        {
                            shared.inserted.fetch_add(1, Ordering::Relaxed);
                        }
                    }
                    Err(e) => fail(&mut w, &stats, kind, e),
                }
            }
            Planned::Batch => {
                let res = conn.call_batch(&w.request).await;
                let us = t0.elapsed().as_micros() as u64;
                match res {
                    Ok(t) => {
                        w.failures_in_a_row = 0;
                        let mut s = lock(&stats);
                        s.record_answer(
                            OpKind::Batch,
                            t.last_rc.unwrap_or(0),
                            us,
                            u64::from(t.found + t.not_found),
                        );
                        s.batch.not_found += u64::from(t.not_found);
                        // Rows answered with an error code count as errors too.
                        s.batch.errors += u64::from(t.errors);
                    }
                    Err(e) => fail(&mut w, &stats, OpKind::Batch, e),
                }
            }
            Planned::Done => break,
        }
    }
    w
}

/// Chooses the next transaction and encodes it into `w.request`.
#[inline]
fn plan_next(w: &mut Worker, plan: &StagePlan, shared: &StageShared) -> Planned {
    let span = plan.key_end.saturating_sub(plan.key_start).max(1);
    match plan.workload {
        Workload::Insert { .. } => {
            let key = shared.next_key.fetch_add(1, Ordering::Relaxed);
            if key >= plan.key_end {
                return Planned::Done;
            }
            if plan.random_values {
                w.encoder.refresh_values(&mut w.rng);
            }
            w.encoder.write(&mut w.request, key);
            Planned::Single(OpKind::Write)
        }
        Workload::ReadUpdate { read_percent } => {
            if w.rng.below(100) < u64::from(read_percent) {
                if plan.batch_size > 1 {
                    w.batch_keys.clear();
                    for _ in 0..plan.batch_size {
                        w.batch_keys.push(plan.key_start + w.rng.below(span));
                    }
                    w.encoder.batch_read(&mut w.request, &w.batch_keys);
                    Planned::Batch
                } else {
                    let key = plan.key_start + w.rng.below(span);
                    w.encoder.read(&mut w.request, key);
                    Planned::Single(OpKind::Read)
                }
            } else {
                let key = plan.key_start + w.rng.below(span);
                if plan.random_values {
                    w.encoder.refresh_values(&mut w.rng);
                }
                w.encoder.write(&mut w.request, key);
                Planned::Single(OpKind::Write)
            }
        }
        Workload::MapIncrement => {
            let key = plan.key_start + w.rng.below(span);
            // [map increment (73), map key 0..15, +1]
            let payload = [0x93, 73, w.rng.below(16) as u8, 0x01];
            w.encoder.cdt_modify(&mut w.request, key, MAP_BIN, &payload);
            Planned::Single(OpKind::Write)
        }
        Workload::ListAppend => {
            let key = plan.key_start + w.rng.below(span);
            // [list append (1), value 0..127]
            let payload = [0x92, 1, w.rng.below(128) as u8];
            w.encoder
                .cdt_modify(&mut w.request, key, LIST_BIN, &payload);
            Planned::Single(OpKind::Write)
        }
        Workload::UdfIncrement => {
            let key = plan.key_start + w.rng.below(span);
            w.encoder.udf_apply(
                &mut w.request,
                key,
                crate::udf::PACKAGE,
                crate::udf::FUNCTION,
                crate::udf::ARGS_MSGPACK,
            );
            Planned::Single(OpKind::Write)
        }
        Workload::OperateIncrement => {
            let key = plan.key_start + w.rng.below(span);
            w.encoder.incr_read(&mut w.request, key, crate::udf::BIN, 1);
            Planned::Single(OpKind::Write)
        }
    }
}

/// Bins of the collection workloads (apart, so the two can run against one key range).
const MAP_BIN: &[u8] = b"cdtmap";
const LIST_BIN: &[u8] = b"cdtlist";

fn kind_of(p: &Planned) -> OpKind {
    match p {
        Planned::Single(k) => *k,
        Planned::Batch => OpKind::Batch,
        Planned::Done => OpKind::Write,
    }
}

/// A transaction without a usable answer: count it and drop the connection, whose stream
/// position is now unknown.
fn fail(w: &mut Worker, stats: &Mutex<StageStats>, kind: OpKind, e: CallError) {
    lock(stats).record_failure(kind, matches!(e, CallError::Timeout));
    w.failures_in_a_row += 1;
    log_once(w, &e);
    w.conn = None;
}

fn log_once(w: &mut Worker, e: &CallError) {
    if !w.logged_error {
        w.logged_error = true;
        eprintln!("aerie bench: connection {}: {e} (reconnecting; further errors of this connection are only counted)", w.id);
    }
}
