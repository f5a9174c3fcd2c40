//! A deterministic simulation of partition balancing and migrations: no sockets, no threads,
//! a simulated clock and network. It places a namespace over N nodes on R racks with the same
//! [`placement`] code the server runs, then lets one node join and one node leave and
//! migrates the partitions that changed owners the way [`crate::migrate`] does: each new
//! owner pulls a partition from an owner of the previous map that is still present,
//! [`MIGRATE_CONCURRENCY`] partitions at a time per node (and per source), each pull at a
//! fixed share of the node's link. A seed fixes the node ids and the partition sizes.
//!
//! It reports, against the ideal:
//! - imbalance: the most masters (and replica copies) one node holds over an equal share;
//! - data moved per join and per leave over the least that must move (a joining node's equal
//!   share of all copies; a leaving node's copies), and the simulated time migrations take
//!   over the time the busiest link needs for its bytes;
//! - with racks: partitions left without a copy when a whole rack fails (must be 0).
//!
//! `cargo run --release -p aerie-cluster --example placement_sim` prints the table
//! (`docs/cluster.md`).

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap};

use aerie_namespace::{NodeId, OwnershipTable};
use aerie_record::N_PARTITIONS;
use rand::{RngExt, SeedableRng};

use crate::placement::{self, Node, Policy};
use crate::MIGRATE_CONCURRENCY;

/// One simulated cluster.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Scenario {
    pub nodes: usize,
    /// Node `i` sits on rack `1 + i % racks`.
    pub racks: u32,
    pub replication_factor: usize,
    pub uniform_balance: bool,
    pub seed: u64,
}

/// The simulated data set and network.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Workload {
    /// Unique data (one copy), spread over the partitions at 50–150 % of the mean each.
    pub data_bytes: u64,
    /// A node's link, shared by its [`MIGRATE_CONCURRENCY`] pulls.
    pub link_bytes_per_sec: f64,
}

impl Default for Workload {
    /// 1 TiB of unique data on 10 Gb/s links.
    fn default() -> Self {
        Workload {
            data_bytes: 1 << 40,
            link_bytes_per_sec: 1.25e9,
        }
    }
}

/// What one membership change cost.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Change {
    /// Partition copies filled on a new owner.
    pub fills: usize,
    pub moved_bytes: u64,
    /// The least that must move.
    pub ideal_bytes: u64,
    /// Bytes that went to nodes other than a joining one (shuffling among old members).
    pub shuffled_bytes: u64,
    /// Simulated seconds until every fill is done.
    pub secs: f64,
    /// The busiest node's bytes (in or out) over its link: no schedule can beat it.
    pub bound_secs: f64,
}

impl Change {
    /// Data moved over the least that must move.
    pub fn moved_ratio(&self) -> f64 {
        ratio(self.moved_bytes as f64, self.ideal_bytes as f64)
    }
}

/// A scenario's results.
#[derive(Debug, Clone, PartialEq)]
pub struct Report {
    pub scenario: Scenario,
    /// The most masters one node holds over `4096 / nodes`.
    pub masters_max_ratio: f64,
    /// The most replica copies (positions after the master) one node holds over an equal share.
    pub replicas_max_ratio: f64,
    /// Every copy placed on distinct racks whenever the racks allowed it.
    pub racks_distinct: bool,
    pub join: Change,
    pub leave: Change,
    /// Partitions with no copy left after every node of rack 1 fails (`None` with one rack).
    pub rack_loss_lost: Option<usize>,
}

/// Runs `scenario` over `workload`.
pub fn run(scenario: &Scenario, workload: &Workload) -> Report {
    let mut rng = rand::rngs::StdRng::seed_from_u64(scenario.seed);
    let racks = scenario.racks.max(1);
    let ids: Vec<NodeId> = (0..=scenario.nodes).map(|_| rng.random()).collect();
    let all: Vec<Node> = ids
        .iter()
        .zip(0u32..)
        .map(|(&id, i)| Node {
            id,
            rack: 1 + i % racks,
        })
        .collect();
    let mean = workload.data_bytes / N_PARTITIONS as u64;
    let sizes: Vec<u64> = (0..N_PARTITIONS)
        .map(|_| rng.random_range(mean / 2..=mean + mean / 2))
        .collect();
    let policy = Policy {
        replication_factor: scenario.replication_factor,
        prefer_uniform_balance: scenario.uniform_balance,
        active_rack: 0,
    };

    let n = scenario.nodes.max(1);
    let nodes = all.get(..n).unwrap_or(&all);
    let base = placement::table(nodes, &policy, 1);

    let joined = placement::table(&all, &policy, 2);
    let joiner = all.last().map(|n| n.id);
    let join_ideal = sizes.iter().sum::<u64>() * joined.n_replicas as u64 / all.len() as u64;
    let join = migrate(&base, &joined, &sizes, joiner, join_ideal, workload);

    let leaver = nodes.first().map_or(0, |n| n.id);
    let rest: Vec<Node> = nodes.iter().copied().filter(|n| n.id != leaver).collect();
    let left = placement::table(&rest, &policy, 2);
    let leave_ideal = base
        .owners
        .iter()
        .zip(&sizes)
        .filter(|(o, _)| o.contains(&leaver))
        .map(|(_, &s)| s)
        .sum();
    let leave = migrate(&base, &left, &sizes, None, leave_ideal, workload);

    let rack_loss_lost = (racks > 1 && n > 1).then(|| {
        base.owners
            .iter()
            .filter(|o| o.iter().all(|id| rack_of(nodes, *id) == 1))
            .count()
    });
    Report {
        scenario: *scenario,
        masters_max_ratio: max_ratio(&base, nodes, 0..1),
        replicas_max_ratio: max_ratio(&base, nodes, 1..base.n_replicas),
        racks_distinct: racks_distinct(&base, nodes, racks as usize),
        join,
        leave,
        rack_loss_lost,
    }
}

/// The reports of `nodes × racks` for one replication factor and balance mode.
pub fn sweep(
    nodes: &[usize],
    racks: &[u32],
    replication_factor: usize,
    uniform_balance: bool,
    seed: u64,
    workload: &Workload,
) -> Vec<Report> {
    let mut out = Vec::new();
    for &n in nodes {
        for &r in racks {
            let scenario = Scenario {
                nodes: n,
                racks: r,
                replication_factor,
                uniform_balance,
                seed: seed ^ ((n as u64) << 8) ^ u64::from(r),
            };
            out.push(run(&scenario, workload));
        }
    }
    out
}

/// The reports as a Markdown table.
pub fn table_markdown(reports: &[Report]) -> String {
    let mut s = String::from(
        "| nodes | racks | rf | balance | masters max/ideal | replicas max/ideal | join: moved ×ideal (shuffled) | join: time ×bound | leave: moved ×ideal | leave: time ×bound | rack lost: partitions lost |\n\
         |---|---|---|---|---|---|---|---|---|---|---|\n",
    );
    for r in reports {
        let sc = &r.scenario;
        s.push_str(&format!(
            "| {} | {} | {} | {} | {:.2} | {:.2} | {:.2} ({:.1} %) | {:.0} s ×{:.2} | {:.2} | {:.0} s ×{:.2} | {} |\n",
            sc.nodes,
            sc.racks,
            sc.replication_factor,
            if sc.uniform_balance { "uniform" } else { "default" },
            r.masters_max_ratio,
            r.replicas_max_ratio,
            r.join.moved_ratio(),
            100.0 * ratio(r.join.shuffled_bytes as f64, r.join.moved_bytes as f64),
            r.join.secs,
            ratio(r.join.secs, r.join.bound_secs),
            r.leave.moved_ratio(),
            r.leave.secs,
            ratio(r.leave.secs, r.leave.bound_secs),
            r.rack_loss_lost.map_or("–".to_owned(), |l| l.to_string()),
        ));
    }
    s
}

// ---------------------------------------------------------------------------------------------
// Measures
// ---------------------------------------------------------------------------------------------

fn ratio(a: f64, b: f64) -> f64 {
    if b > 0.0 {
        a / b
    } else {
        0.0
    }
}

fn rack_of(nodes: &[Node], id: NodeId) -> u32 {
    nodes.iter().find(|n| n.id == id).map_or(0, |n| n.rack)
}

/// The most copies one node holds at `positions` over an equal share of them.
fn max_ratio(t: &OwnershipTable, nodes: &[Node], positions: std::ops::Range<usize>) -> f64 {
    let mut held: HashMap<NodeId, usize> = HashMap::new();
    let mut total = 0usize;
    for o in &t.owners {
        for id in o.get(positions.clone()).unwrap_or_default() {
            *held.entry(*id).or_insert(0) += 1;
            total += 1;
        }
    }
    let max = held.values().copied().max().unwrap_or(0);
    ratio(max as f64, total as f64 / nodes.len().max(1) as f64)
}

fn racks_distinct(t: &OwnershipTable, nodes: &[Node], racks: usize) -> bool {
    let want = t.n_replicas.min(racks);
    t.owners.iter().all(|o| {
        let mut r: Vec<u32> = o.iter().map(|&id| rack_of(nodes, id)).collect();
        r.sort_unstable();
        r.dedup();
        r.len() == want
    })
}

// ---------------------------------------------------------------------------------------------
// Migrations on a simulated clock
// ---------------------------------------------------------------------------------------------

/// One pull: a new owner fills a partition from a previous owner still present.
#[derive(Debug, Clone, Copy)]
struct Fill {
    source: NodeId,
    dest: NodeId,
    bytes: u64,
}

/// Migrates from `old` to `new`; `joiner` is the node that joined, if any.
fn migrate(
    old: &OwnershipTable,
    new: &OwnershipTable,
    sizes: &[u64],
    joiner: Option<NodeId>,
    ideal_bytes: u64,
    workload: &Workload,
) -> Change {
    let present: Vec<NodeId> = {
        let mut v: Vec<NodeId> = new.owners.iter().flatten().copied().collect();
        v.sort_unstable();
        v.dedup();
        v
    };
    let mut fills = Vec::new();
    for ((was, now), &bytes) in old.owners.iter().zip(&new.owners).zip(sizes) {
        // The previous master if it is still here, else the next previous owner.
        let Some(&source) = was.iter().find(|id| present.binary_search(id).is_ok()) else {
            continue; // every copy lost: nothing to pull from
        };
        for &dest in now.iter().filter(|d| !was.contains(d)) {
            fills.push(Fill {
                source,
                dest,
                bytes,
            });
        }
    }
    let moved_bytes = fills.iter().map(|f| f.bytes).sum();
    let shuffled_bytes = fills
        .iter()
        .filter(|f| joiner.is_some_and(|j| j != f.dest))
        .map(|f| f.bytes)
        .sum();
    let (secs, bound_secs) = schedule(&fills, workload);
    Change {
        fills: fills.len(),
        moved_bytes,
        ideal_bytes,
        shuffled_bytes,
        secs,
        bound_secs,
    }
}

/// Runs `fills` on a simulated clock: a node takes part in at most [`MIGRATE_CONCURRENCY`]
/// pulls as a destination and as many as a source, each pull getting that share of the
/// link. Pulls start in list order as slots free up. Returns (finish time, lower bound).
fn schedule(fills: &[Fill], workload: &Workload) -> (f64, f64) {
    let slot_rate = workload.link_bytes_per_sec / MIGRATE_CONCURRENCY as f64;
    let mut per_node: HashMap<NodeId, (u64, u64)> = HashMap::new();
    for f in fills {
        per_node.entry(f.source).or_default().1 += f.bytes;
        per_node.entry(f.dest).or_default().0 += f.bytes;
    }
    let bound = per_node
        .values()
        .map(|&(i, o)| i.max(o) as f64 / workload.link_bytes_per_sec)
        .fold(0.0, f64::max);

    let mut busy_in: HashMap<NodeId, usize> = HashMap::new();
    let mut busy_out: HashMap<NodeId, usize> = HashMap::new();
    let mut pending: Vec<usize> = (0..fills.len()).collect();
    // Running pulls by finish time (µs, so the heap orders integers).
    let mut running: BinaryHeap<Reverse<(u64, usize)>> = BinaryHeap::new();
    let mut now_us = 0u64;
    loop {
        pending.retain(|&i| {
            let Some(f) = fills.get(i) else {
                return false;
            };
            let din = busy_in.entry(f.dest).or_insert(0);
            if *din >= MIGRATE_CONCURRENCY {
                return true;
            }
            let sout = busy_out.entry(f.source).or_insert(0);
            if *sout >= MIGRATE_CONCURRENCY {
                return true;
            }
            *sout += 1;
            if let Some(d) = busy_in.get_mut(&f.dest) {
                *d += 1;
            }
            let dur_us = (f.bytes as f64 / slot_rate * 1e6).ceil() as u64;
            running.push(Reverse((now_us + dur_us, i)));
            false
        });
        let Some(Reverse((t, i))) = running.pop() else {
            break;
        };
        now_us = t;
        if let Some(f) = fills.get(i) {
            if let Some(d) = busy_in.get_mut(&f.dest) {
                *d = d.saturating_sub(1);
            }
            if let Some(s) = busy_out.get_mut(&f.source) {
                *s = s.saturating_sub(1);
            }
        }
    }
    (now_us as f64 / 1e6, bound)
}

#[cfg(test)]
#[path = "sim_test.rs"]
mod tests;
