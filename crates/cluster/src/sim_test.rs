//! Bounds the simulation must keep: seeded, so each run sees the same clusters.

use super::*;

const SEED: u64 = 21;

fn report(nodes: usize, racks: u32, uniform_balance: bool) -> Report {
    let scenario = Scenario {
        nodes,
        racks,
        replication_factor: 2,
        uniform_balance,
        seed: SEED ^ nodes as u64,
    };
    run(&scenario, &Workload::default())
}

/// `ceil(4096 / n) / (4096 / n)`: the best any placement can do.
fn best(n: usize) -> f64 {
    N_PARTITIONS.div_ceil(n) as f64 / (N_PARTITIONS as f64 / n as f64) + 1e-9
}

#[test]
fn default_balance_moves_only_what_must_move() {
    for nodes in [3, 16, 64, 256] {
        for racks in [1, 2, 3] {
            let r = report(nodes, racks, false);
            let what = format!("{nodes} nodes, {racks} racks: {r:?}");
            // Rendezvous imbalance grows with the node count (fewer partitions per node).
            let masters_bound = if nodes <= 16 { 1.25 } else { 2.2 };
            assert!(r.masters_max_ratio <= masters_bound, "{what}");
            assert!(r.racks_distinct, "{what}");
            // A join moves copies to the new node only, about its share (which varies as
            // much as any node's load: with 256 nodes a share is only ~32 copies).
            assert_eq!(r.join.shuffled_bytes, 0, "{what}");
            let share = if nodes <= 16 { 0.6..=1.4 } else { 0.4..=1.8 };
            assert!(share.contains(&r.join.moved_ratio()), "{what}");
            // A leave recreates exactly the copies the node held.
            assert_eq!(r.leave.moved_bytes, r.leave.ideal_bytes, "{what}");
            // Pulls run in parallel close to the busiest link's bound.
            assert!(r.join.secs <= r.join.bound_secs * 1.2, "{what}");
            assert!(r.leave.secs <= r.leave.bound_secs * 3.0, "{what}");
            let lost = r.rack_loss_lost;
            assert_eq!(lost, (racks > 1).then_some(0), "{what}");
        }
    }
}

#[test]
fn uniform_balance_is_exact_and_its_movement_bounded() {
    for nodes in [3, 16, 256] {
        for racks in [1, 3] {
            let r = report(nodes, racks, true);
            let what = format!("{nodes} nodes, {racks} racks: {r:?}");
            assert!(r.masters_max_ratio <= best(nodes), "{what}");
            // Replicas can be even only when the racks are.
            if nodes % racks as usize == 0 {
                assert!(r.replicas_max_ratio <= best(nodes), "{what}");
            }
            assert!(r.racks_distinct, "{what}");
            assert!(r.join.moved_ratio() <= 8.0, "{what}");
            assert!(r.leave.moved_ratio() <= 8.0, "{what}");
            assert_eq!(r.rack_loss_lost, (racks > 1).then_some(0), "{what}");
        }
    }
}

#[test]
fn same_seed_same_report() {
    assert_eq!(report(32, 2, false), report(32, 2, false));
    assert_ne!(
        run(
            &Scenario {
                seed: 1,
                ..report(32, 2, false).scenario
            },
            &Workload::default()
        ),
        report(32, 2, false)
    );
}

#[test]
fn schedule_respects_slots_and_the_bound() {
    // One destination pulling 8 equal partitions from 8 sources: 4 at a time, two rounds.
    let fills: Vec<Fill> = (0..8)
        .map(|s| Fill {
            source: 100 + s,
            dest: 1,
            bytes: 1_000_000,
        })
        .collect();
    let w = Workload {
        data_bytes: 0,
        link_bytes_per_sec: 4e6,
    };
    let (secs, bound) = schedule(&fills, &w);
    assert!((secs - 2.0).abs() < 1e-3, "{secs}");
    assert!((bound - 2.0).abs() < 1e-3, "{bound}");
}

#[test]
fn table_has_a_row_per_scenario() {
    let reports = sweep(&[3, 4], &[1, 2], 2, false, SEED, &Workload::default());
    let table = table_markdown(&reports);
    assert_eq!(table.lines().count(), 2 + 4);
    assert!(table
        .lines()
        .nth(2)
        .is_some_and(|l| l.starts_with("| 3 | 1 | 2 | default |")));
}
