//! The nemeses: faults injected into the running cluster, one cycle at a time (fault, hold,
//! undo, let the cluster settle), and the healing that ends every run.

use std::net::Ipv4Addr;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use aerie_testkit::{netns, TestCluster};

use super::workload::Rng;

/// A kind of fault.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Nemesis {
    /// SIGKILL a node, restart it (with its memory namespace empty) after the hold.
    Kill,
    /// SIGKILL a node; after the hold, hold the workload off, restart the node and let it
    /// refill before the workload resumes (a crash with the rejoin kept out of traffic).
    KillRejoinQuiet,
    /// SIGSTOP a node for longer than the failure detector's timeout, then SIGCONT.
    Pause,
    /// Cut one node off from the others (both ways; clients still reach every node).
    Partition,
    /// Jump one node's record clock forwards or backwards by up to a minute.
    ClockJump,
}

/// How long each phase of a cycle lasts.
#[derive(Debug, Clone, Copy)]
pub struct Schedule {
    pub cycles: usize,
    /// How long a fault is held.
    pub hold: Duration,
    /// Quiet time after a fault is undone and the cluster has re-formed.
    pub rest: Duration,
    /// Wait for migrations to finish before the next fault (one fault at a time, the
    /// cluster healed between faults: what replication factor 2 in AP mode claims to
    /// survive).
    pub settle_migrations: bool,
}

/// Where the nodes' clock-offset files live (see `crates/server/src/fault.rs`).
pub struct Clocks {
    dir: PathBuf,
}

impl Clocks {
    pub fn new(dir: &Path) -> Self {
        Clocks {
            dir: dir.to_path_buf(),
        }
    }

    /// The `AERIE_CLOCK_OFFSET_FILE` value for the cluster harness (`{node}` expanded per node).
    pub fn env_value(&self) -> String {
        self.dir.join("clock-{node}").display().to_string()
    }

    fn set(&self, node: usize, offset_ms: i64) {
        let path = self.dir.join(format!("clock-{node}"));
        std::fs::write(&path, offset_ms.to_string())
            .unwrap_or_else(|e| panic!("write {}: {e}", path.display()));
    }
}

/// What a nemesis acts on besides the cluster.
pub struct Stage<'a> {
    /// The nodes' addresses (partitions cut links between them).
    pub ips: &'a [Ipv4Addr],
    /// The nodes' clock files, for clock jumps.
    pub clocks: Option<&'a Clocks>,
    /// Holds the workload off (`true`) or lets it go on.
    pub hold_off: &'a dyn Fn(bool),
    /// The run's start, for the fault log.
    pub started: Instant,
}

/// Runs the cycles; returns one line per fault for the report.
pub fn run(
    cluster: &mut TestCluster,
    stage: &Stage<'_>,
    nemesis: Nemesis,
    schedule: Schedule,
    rng: &mut Rng,
) -> Vec<String> {
    let Stage {
        ips,
        clocks,
        hold_off,
        started,
    } = *stage;
    let n = cluster.len();
    let mut log = Vec::new();
    for cycle in 0..schedule.cycles {
        let victim = rng.below(n as u64) as usize;
        let at = started.elapsed().as_secs_f64();
        let what = match nemesis {
            Nemesis::Kill => {
                cluster.kill(victim);
                std::thread::sleep(schedule.hold);
                cluster.restart(victim);
                format!("kill node {victim}, restart")
            }
            Nemesis::KillRejoinQuiet => {
                cluster.kill(victim);
                std::thread::sleep(schedule.hold);
                hold_off(true);
                // Longer than a client's total timeout: nothing is in flight any more.
                std::thread::sleep(Duration::from_millis(1200));
                cluster.restart(victim);
                let _ = cluster.try_wait_size(n, Duration::from_secs(30));
                wait_migrations(cluster, Duration::from_secs(30));
                hold_off(false);
                format!("kill node {victim}, restart it while no client writes")
            }
            Nemesis::Pause => {
                cluster.pause(victim);
                std::thread::sleep(schedule.hold);
                cluster.resume(victim);
                format!("pause node {victim}")
            }
            Nemesis::Partition => {
                isolate(ips, victim, true);
                std::thread::sleep(schedule.hold);
                isolate(ips, victim, false);
                format!("isolate node {victim}")
            }
            Nemesis::ClockJump => {
                let clocks = clocks.unwrap_or_else(|| panic!("clock jumps need clock files"));
                let jump_ms = (rng.below(120_000) as i64 - 60_000) | 1;
                clocks.set(victim, jump_ms);
                std::thread::sleep(schedule.hold);
                clocks.set(victim, 0);
                format!("clock of node {victim} {jump_ms:+} ms, then back")
            }
        };
        let settled = cluster.try_wait_size(n, Duration::from_secs(30));
        if schedule.settle_migrations && settled.is_ok() {
            wait_migrations(cluster, Duration::from_secs(30));
        }
        log.push(format!(
            "cycle {cycle} at {at:.1} s: {what}; re-formed after {:.1} s{}",
            started.elapsed().as_secs_f64() - at,
            settled
                .err()
                .map_or_else(String::new, |e| format!(" (NOT re-formed: {e})"))
        ));
        std::thread::sleep(schedule.rest);
    }
    log
}

fn isolate(ips: &[Ipv4Addr], victim: usize, cut: bool) {
    let Some(&v) = ips.get(victim) else { return };
    for (i, &other) in ips.iter().enumerate() {
        if i != victim {
            let r = if cut {
                netns::cut(v, other)
            } else {
                netns::heal(v, other)
            };
            r.unwrap_or_else(|e| panic!("{e}"));
        }
    }
}

fn wait_migrations(cluster: &TestCluster, timeout: Duration) {
    let deadline = Instant::now() + timeout;
    while cluster.sum_stat("migrate_partitions_remaining") != 0 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Ends every fault: each node running and not paused, links whole, clocks true; then
/// waits for the cluster to re-form and migrations to finish.
///
/// # Panics
///
/// The cluster does not re-form.
pub fn heal_all(cluster: &mut TestCluster, clocks: Option<&Clocks>) {
    for i in 0..cluster.len() {
        match cluster.node(i) {
            Some(_) => cluster.resume(i),
            None => cluster.restart(i),
        }
        if let Some(c) = clocks {
            c.set(i, 0);
        }
    }
    cluster.wait_size(cluster.len(), Duration::from_secs(60));
    wait_migrations(cluster, Duration::from_secs(60));
}
