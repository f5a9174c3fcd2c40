//! A Jepsen-style suite: three real nodes (replication factor 2), register and list-append
//! workloads from the official Rust client, one nemesis (kill, pause, partition or clock
//! jump) for a number of fault cycles, then healing and a final read of every key. The
//! histories are checked for linearizability (`aerie-linearize`) and for acknowledged
//! appends missing from the final reads. See docs/jepsen.md for what each mode claims and
//! the long-form command.
//!
//! CI runs the combinations today's AP mode claims to survive; the others are `#[ignore]`d
//! and run by the documented command (they are expected to find anomalies until
//! strong-consistency namespaces exist). Tests named `nemesis_fault_*` need the server's
//! `fault-injection` feature (clock seam, failpoints) and are compiled only with it.

mod faults;
mod workload;

use std::net::Ipv4Addr;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

use aerie_linearize::models::{ListAppend, ListInput, ListOutput, Register};
use aerie_linearize::{check, Budget, Operation, Report};
use aerie_testkit::{netns, TestCluster};
use aerospike::{Client, ClientPolicy};

use faults::{Clocks, Nemesis, Schedule};
use workload::{Rng, Shared, FINAL_PROCESS, LIST_KEYS, REGISTER_KEYS};

const NAMESPACE: &str =
    "namespace test {\n    replication-factor 2\n    storage-engine memory\n}\n";
const NODES: usize = 3;
const REGISTER_WORKERS: u64 = 3;
const LIST_WORKERS: u64 = 3;
/// Addresses of the nodes inside a private network namespace (partitions cut between them).
const NETNS_IPS: [Ipv4Addr; NODES] = [
    Ipv4Addr::new(127, 0, 0, 2),
    Ipv4Addr::new(127, 0, 0, 3),
    Ipv4Addr::new(127, 0, 0, 4),
];

/// One run's settings.
#[derive(Debug, Clone, Copy)]
struct Run {
    nemesis: Nemesis,
    schedule: Schedule,
    /// `FAILPOINTS` for every node (a deliberately broken mode).
    failpoints: Option<&'static str>,
}

/// What a run found.
struct Findings {
    registers:
        Report<aerie_linearize::models::RegisterInput, aerie_linearize::models::RegisterOutput>,
    lists: Report<ListInput, ListOutput>,
    /// (key, value) of acknowledged appends absent from the final read.
    lost: Vec<(u64, i64)>,
    /// Keys whose final read failed.
    unread: Vec<String>,
}

impl Findings {
    fn violations(&self) -> usize {
        self.registers.illegal().len() + self.lists.illegal().len()
    }

    fn clean(&self) -> bool {
        self.violations() == 0
            && self.lost.is_empty()
            && self.unread.is_empty()
            && self.registers.unknown().is_empty()
            && self.lists.unknown().is_empty()
    }
}

/// Long-form knobs from the environment (docs/jepsen.md): `AERIE_NEMESIS_CYCLES`,
/// `AERIE_NEMESIS_HOLD_MS`, `AERIE_NEMESIS_SEED`.
fn env_u64(name: &str) -> Option<u64> {
    std::env::var(name).ok().and_then(|v| v.parse().ok())
}

fn schedule(hold_ms: u64) -> Schedule {
    Schedule {
        cycles: env_u64("AERIE_NEMESIS_CYCLES").map_or(5, |c| c as usize),
        hold: Duration::from_millis(env_u64("AERIE_NEMESIS_HOLD_MS").unwrap_or(hold_ms)),
        rest: Duration::from_millis(500),
        settle_migrations: true,
    }
}

fn run(r: Run, ips: &[Ipv4Addr]) -> Findings {
    let seed = env_u64("AERIE_NEMESIS_SEED").unwrap_or_else(|| {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(1, |d| d.as_nanos() as u64)
    });
    println!(
        "nemesis {:?}, seed {seed} (AERIE_NEMESIS_SEED), {:?}",
        r.nemesis, r.schedule
    );
    let clock_dir =
        std::env::temp_dir().join(format!("aerie-nemesis-{}-{seed}", std::process::id()));
    std::fs::create_dir_all(&clock_dir).unwrap_or_else(|e| panic!("{e}"));
    let clocks = (r.nemesis == Nemesis::ClockJump).then(|| Clocks::new(&clock_dir));
    let clock_env = clocks.as_ref().map(Clocks::env_value);
    let mut envs: Vec<(&str, &str)> = Vec::new();
    if let Some(c) = &clock_env {
        envs.push(("AERIE_CLOCK_OFFSET_FILE", c));
    }
    if let Some(f) = r.failpoints {
        envs.push(("FAILPOINTS", f));
    }
    let mut cluster =
        TestCluster::start_with_env(env!("CARGO_BIN_EXE_aerie"), ips, NAMESPACE, &envs);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap_or_else(|e| panic!("runtime: {e}"));
    let shared = Arc::new(Shared::new(rt.block_on(connect(&cluster))));
    let started = Instant::now();
    let mut rng = Rng::new(seed);
    let mut tasks = Vec::new();
    for w in 0..REGISTER_WORKERS {
        tasks.push(rt.spawn(workload::register_worker(
            shared.clone(),
            w,
            rng.below(u64::MAX),
        )));
    }
    for w in 0..LIST_WORKERS {
        let w = REGISTER_WORKERS + w;
        tasks.push(rt.spawn(workload::list_worker(
            shared.clone(),
            w,
            rng.below(u64::MAX),
        )));
    }
    // A calm second first, so every key has a history before the faults.
    std::thread::sleep(Duration::from_secs(1));
    let hold_off = |on: bool| shared.hold_off.store(on, Ordering::Relaxed);
    let stage = faults::Stage {
        ips,
        clocks: clocks.as_ref(),
        hold_off: &hold_off,
        started,
    };
    let log = faults::run(&mut cluster, &stage, r.nemesis, r.schedule, &mut rng);
    shared.stop.store(true, Ordering::Relaxed);
    rt.block_on(async {
        for t in tasks {
            let _ = tokio::time::timeout(Duration::from_secs(10), t).await;
        }
    });
    for line in &log {
        println!("  {line}");
    }
    faults::heal_all(&mut cluster, clocks.as_ref());
    println!("  healed at {:.1} s", started.elapsed().as_secs_f64());

    // Final reads, by a client that sees the healed cluster.
    let mut unread = Vec::new();
    let finals: Vec<(u64, Vec<i64>)> = rt.block_on(async {
        let mut finals = Vec::new();
        for key in 0..REGISTER_KEYS {
            if !retry(|| workload::read_register(&shared, FINAL_PROCESS, key)).await {
                unread.push(format!("register {key}"));
            }
        }
        for key in 0..LIST_KEYS {
            let mut got = None;
            for _ in 0..20 {
                got = workload::read_list(&shared, FINAL_PROCESS, key).await;
                if got.is_some() {
                    break;
                }
                tokio::time::sleep(Duration::from_millis(250)).await;
            }
            match got {
                Some(l) => finals.push((key, l)),
                None => unread.push(format!("list {key}")),
            }
        }
        finals
    });
    let _ = std::fs::remove_dir_all(&clock_dir);
    drop(cluster);

    let shared = Arc::into_inner(shared).unwrap_or_else(|| panic!("workers still hold the client"));
    let registers = shared.registers.finish();
    let lists = shared.lists.finish();
    let lost = lost_appends(&lists, &finals);
    let budget = Budget {
        max_steps_per_key: 20_000_000,
        time: Duration::from_secs(30),
    };
    let findings = Findings {
        registers: check(&Register, &registers, budget),
        lists: check(&ListAppend, &lists, budget),
        lost,
        unread,
    };
    report(&findings, &registers, &lists);
    findings
}

async fn retry<F, Fut, T>(mut f: F) -> bool
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    for _ in 0..20 {
        if f().await.is_some() {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    false
}

async fn connect(cluster: &TestCluster) -> Client {
    let hosts: Vec<String> = cluster.addrs().iter().map(ToString::to_string).collect();
    let policy = ClientPolicy {
        tend_interval: 250,
        max_error_rate: 0,
        timeout: 2000,
        ..ClientPolicy::default()
    };
    let client = Client::new(&policy, &hosts.join(","))
        .await
        .unwrap_or_else(|e| panic!("client: {e}"));
    let deadline = Instant::now() + Duration::from_secs(20);
    while client.nodes().len() != cluster.len() {
        assert!(
            Instant::now() < deadline,
            "client sees {:?}",
            client.node_names()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    client
}

/// Acknowledged appends missing from the final read of their key.
fn lost_appends(
    history: &[Operation<ListInput, ListOutput>],
    finals: &[(u64, Vec<i64>)],
) -> Vec<(u64, i64)> {
    history
        .iter()
        .filter_map(|op| match (&op.input, &op.output) {
            (ListInput::Append(x), Some(ListOutput::Appended)) => Some((op.key, *x)),
            _ => None,
        })
        .filter(|(key, x)| {
            finals
                .iter()
                .find(|(k, _)| k == key)
                .is_some_and(|(_, l)| !l.contains(x))
        })
        .collect()
}

fn summary<I, O>(name: &str, history: &[Operation<I, O>], report: &Report<I, O>) {
    let ok = history.iter().filter(|o| o.output.is_some()).count();
    println!(
        "  {name}: {} operations ({ok} ok, {} indeterminate) on {} keys, checked in {:.2} s: {} not linearizable, {} undecided",
        history.len(),
        history.len() - ok,
        report.keys.len(),
        report.elapsed.as_secs_f64(),
        report.illegal().len(),
        report.unknown().len(),
    );
}

fn report(
    f: &Findings,
    registers: &[Operation<
        aerie_linearize::models::RegisterInput,
        aerie_linearize::models::RegisterOutput,
    >],
    lists: &[Operation<ListInput, ListOutput>],
) {
    summary("registers", registers, &f.registers);
    summary("lists", lists, &f.lists);
    println!("  acknowledged appends lost: {}", f.lost.len());
    for (key, x) in f.lost.iter().take(10) {
        println!("    list {key}: {x}");
    }
    if !f.unread.is_empty() {
        println!("  final reads failed: {:?}", f.unread);
    }
    for c in f.registers.illegal().into_iter().take(2) {
        println!("  register {c}");
    }
    for c in f.lists.illegal().into_iter().take(2) {
        println!("  list {c}");
    }
}

fn assert_clean(f: &Findings) {
    assert!(
        f.clean(),
        "{} keys not linearizable, {} acknowledged appends lost, unread {:?} (details above)",
        f.violations(),
        f.lost.len(),
        f.unread
    );
}

/// Runs `r` inside a private network namespace when it needs one (partitions), else on
/// 127.0.0.1.
fn run_placed(test_name: &str, r: Run) -> Option<Findings> {
    if r.nemesis != Nemesis::Partition {
        return Some(run(r, &[Ipv4Addr::LOCALHOST; NODES]));
    }
    match netns::reexec_inside(test_name) {
        netns::Place::Inside => {
            netns::prepare_loopback().unwrap_or_else(|e| panic!("{e}"));
            Some(run(r, &NETNS_IPS))
        }
        netns::Place::Ran(result) => {
            result.unwrap_or_else(|e| panic!("{e}"));
            None
        }
        netns::Place::Unavailable => {
            assert!(
                std::env::var_os("CI").is_none(),
                "CI must be able to create a network namespace (root and iproute2)"
            );
            eprintln!("skipped: cannot create a network namespace (needs root and iproute2)");
            None
        }
    }
}

// --- what today's AP mode survives (CI) ---------------------------------------------------

#[test]
fn nemesis_kill_rejoin_quiet_ap() {
    let r = Run {
        nemesis: Nemesis::KillRejoinQuiet,
        schedule: schedule(1500),
        failpoints: None,
    };
    if let Some(f) = run_placed("nemesis::nemesis_kill_rejoin_quiet_ap", r) {
        assert_clean(&f);
    }
}

// --- faults AP mode does not survive today (run by the documented command) ---------------

#[test]
#[ignore = "AP mode loses acknowledged writes when a node restarts under load (docs/jepsen.md)"]
fn nemesis_kill_ap() {
    let r = Run {
        nemesis: Nemesis::Kill,
        schedule: schedule(1500),
        failpoints: None,
    };
    if let Some(f) = run_placed("nemesis::nemesis_kill_ap", r) {
        assert_clean(&f);
    }
}

#[test]
#[ignore = "AP mode: a paused master keeps serving when it wakes; writes are lost (docs/jepsen.md)"]
fn nemesis_pause_ap() {
    let r = Run {
        nemesis: Nemesis::Pause,
        schedule: schedule(2500),
        failpoints: None,
    };
    if let Some(f) = run_placed("nemesis::nemesis_pause_ap", r) {
        assert_clean(&f);
    }
}

#[test]
#[ignore = "AP mode serves both sides of a partition; the heal drops one side's writes (docs/jepsen.md)"]
fn nemesis_partition_ap() {
    let r = Run {
        nemesis: Nemesis::Partition,
        schedule: schedule(2500),
        failpoints: None,
    };
    if let Some(f) = run_placed("nemesis::nemesis_partition_ap", r) {
        assert_clean(&f);
    }
}

#[cfg(feature = "fault-injection")]
#[test]
fn nemesis_fault_clock_jump_ap() {
    let r = Run {
        nemesis: Nemesis::ClockJump,
        schedule: schedule(2000),
        failpoints: None,
    };
    if let Some(f) = run_placed("nemesis::nemesis_fault_clock_jump_ap", r) {
        assert_clean(&f);
    }
}

// --- the suite catches a deliberately broken mode -----------------------------------------

/// Writes acknowledged without being replicated (failpoint `replica-write-skip`): killing a
/// master must then lose acknowledged appends, and the suite must say so. The same nemesis
/// finds nothing in the healthy mode (`nemesis_kill_rejoin_quiet_ap`).
#[cfg(feature = "fault-injection")]
#[test]
fn nemesis_fault_unreplicated_acks_are_caught() {
    let r = Run {
        nemesis: Nemesis::KillRejoinQuiet,
        schedule: schedule(1500),
        failpoints: Some("replica-write-skip=return"),
    };
    if let Some(f) = run_placed("nemesis::nemesis_fault_unreplicated_acks_are_caught", r) {
        assert!(
            f.violations() > 0 && !f.lost.is_empty(),
            "the broken mode went unnoticed: {} violations, {} lost appends",
            f.violations(),
            f.lost.len()
        );
    }
}
