//! Placement properties: balance, distinct racks, minimal movement, active rack.

use std::collections::BTreeMap;

use super::*;

const IDS: [NodeId; 6] = [
    0xA1,
    0xB2_0000_0001,
    0xC3_1234,
    0x0D_4000_0000_0007,
    0xE5_5555,
    0xF6_0000_0000_0042,
];

fn flat(n: usize) -> Vec<Node> {
    IDS[..n].iter().map(|&id| Node { id, rack: 0 }).collect()
}

/// Node `i` on rack `1 + i % racks`.
fn racked(n: usize, racks: u32) -> Vec<Node> {
    IDS[..n]
        .iter()
        .zip(0u32..)
        .map(|(&id, i)| Node {
            id,
            rack: 1 + i % racks,
        })
        .collect()
}

fn rack_of(nodes: &[Node], id: NodeId) -> u32 {
    nodes
        .iter()
        .find(|n| n.id == id)
        .map_or(u32::MAX, |n| n.rack)
}

/// Partitions held by each node at replica position `pos`.
fn per_node(t: &OwnershipTable, pos: usize) -> BTreeMap<NodeId, usize> {
    let mut m = BTreeMap::new();
    for o in &t.owners {
        if let Some(&id) = o.get(pos) {
            *m.entry(id).or_insert(0) += 1;
        }
    }
    m
}

/// Partitions whose owner list differs, ignoring order.
fn changed(a: &OwnershipTable, b: &OwnershipTable) -> Vec<usize> {
    (0..N_PARTITIONS)
        .filter(|&p| {
            let mut x = a.owners[p].clone();
            let mut y = b.owners[p].clone();
            x.sort_unstable();
            y.sort_unstable();
            x != y
        })
        .collect()
}

#[test]
fn balanced_within_a_few_percent() {
    for n in 2..=IDS.len() {
        let t = table(&flat(n), &Policy::rf(2), 1);
        let ideal = N_PARTITIONS / n;
        for (node, masters) in per_node(&t, 0) {
            assert!(
                masters.abs_diff(ideal) < ideal / 8,
                "{n} nodes: {node:X} masters {masters}, ideal {ideal}"
            );
        }
        assert!(t.owners.iter().all(|o| o.len() == 2 && o[0] != o[1]));
    }
}

#[test]
fn leaving_node_promotes_its_replica_and_moves_nothing_else() {
    let before = table(&flat(3), &Policy::rf(2), 1);
    let gone = IDS[2];
    let after = table(&flat(2), &Policy::rf(2), 2);
    for pid in 0..N_PARTITIONS {
        let old: Vec<_> = before.owners[pid].iter().filter(|&&n| n != gone).collect();
        // Survivors keep their relative order: the old replica becomes master.
        assert_eq!(after.owners[pid].first(), old.first().copied());
    }
}

#[test]
fn joining_node_takes_about_its_share() {
    let before = table(&flat(3), &Policy::rf(1), 1);
    let after = table(&flat(4), &Policy::rf(1), 2);
    let moved = changed(&before, &after);
    // Every moved partition moved to the new node, about a quarter of them.
    assert!(moved.iter().all(|&p| after.owners[p][0] == IDS[3]));
    assert!(
        moved.len().abs_diff(N_PARTITIONS / 4) < N_PARTITIONS / 32,
        "{}",
        moved.len()
    );
}

#[test]
fn one_node_owns_everything() {
    let t = table(&flat(1), &Policy::rf(3), 1);
    assert_eq!(t.n_replicas, 1);
    assert!(t.owners.iter().all(|o| o == &[IDS[0]]));
}

#[test]
fn copies_land_on_distinct_racks_whenever_racks_allow() {
    for (n, racks, rf) in [
        (4, 2, 2),
        (6, 3, 3),
        (6, 3, 2),
        (6, 2, 3),
        (5, 2, 2),
        (3, 3, 3),
    ] {
        let nodes = racked(n, racks);
        let t = table(&nodes, &Policy::rf(rf), 1);
        let want = rf.min(racks as usize);
        for (pid, o) in t.owners.iter().enumerate() {
            assert_eq!(o.len(), rf, "{n}/{racks}/{rf} pid {pid}");
            let mut r: Vec<u32> = o.iter().map(|&id| rack_of(&nodes, id)).collect();
            r.sort_unstable();
            r.dedup();
            assert_eq!(
                r.len(),
                want,
                "{n} nodes, {racks} racks, rf {rf}: pid {pid} {o:X?}"
            );
        }
    }
}

#[test]
fn a_lone_node_on_its_own_rack_holds_a_copy_of_everything() {
    let mut nodes = flat(5);
    nodes[4].rack = 9;
    let t = table(&nodes, &Policy::rf(2), 1);
    assert!(t.owners.iter().all(|o| o.contains(&IDS[4])));
}

#[test]
fn losing_a_whole_rack_leaves_a_copy_of_every_partition() {
    let nodes = racked(4, 2);
    let t = table(&nodes, &Policy::rf(2), 1);
    for rack in [1, 2] {
        assert!(t
            .owners
            .iter()
            .all(|o| o.iter().any(|&id| rack_of(&nodes, id) != rack)));
    }
}

#[test]
fn with_racks_a_leaving_node_moves_only_its_own_partitions() {
    let nodes = racked(6, 3);
    let before = table(&nodes, &Policy::rf(2), 1);
    let gone = IDS[4];
    let rest: Vec<Node> = nodes.iter().copied().filter(|n| n.id != gone).collect();
    let after = table(&rest, &Policy::rf(2), 2);
    for p in changed(&before, &after) {
        assert!(
            before.owners[p].contains(&gone),
            "pid {p} moved without cause"
        );
    }
}

#[test]
fn with_racks_a_joining_node_takes_about_its_share() {
    let nodes = racked(6, 3);
    let before = table(&nodes[..5], &Policy::rf(2), 1);
    let after = table(&nodes, &Policy::rf(2), 2);
    let moved = changed(&before, &after);
    assert!(moved.iter().all(|&p| after.owners[p].contains(&IDS[5])));
    // The new node is one of two on its rack, so it takes about half that rack's copies:
    // 4096 · 2 copies / 3 racks / 2 nodes ≈ 1365 partitions.
    assert!(moved.len().abs_diff(1365) < 160, "{}", moved.len());
}

#[test]
fn uniform_balance_is_within_one_of_ideal() {
    for (n, racks) in [(3, 1), (4, 2), (5, 1), (6, 3), (6, 2)] {
        let nodes = racked(n, racks);
        let policy = Policy {
            prefer_uniform_balance: true,
            ..Policy::rf(2)
        };
        let t = table(&nodes, &policy, 1);
        let ceil = N_PARTITIONS.div_ceil(n);
        for pos in 0..2 {
            for (id, held) in per_node(&t, pos) {
                assert!(
                    held <= ceil && held + 1 >= N_PARTITIONS / n,
                    "{n} nodes, {racks} racks: {id:X} holds {held} at position {pos}"
                );
            }
        }
        let mut r_ok = true;
        for o in &t.owners {
            r_ok &= racks == 1 || rack_of(&nodes, o[0]) != rack_of(&nodes, o[1]);
        }
        assert!(r_ok, "uniform balance broke rack distinctness");
    }
}

#[test]
fn active_rack_holds_every_master() {
    let nodes = racked(6, 3);
    let policy = Policy {
        active_rack: 2,
        ..Policy::rf(2)
    };
    let t = table(&nodes, &policy, 1);
    for o in &t.owners {
        assert_eq!(rack_of(&nodes, o[0]), 2);
        assert_ne!(rack_of(&nodes, o[1]), 2);
    }
    // Spread over the active rack's two nodes.
    let masters = per_node(&t, 0);
    assert_eq!(masters.len(), 2);
    assert!(masters
        .values()
        .all(|&m| m.abs_diff(N_PARTITIONS / 2) < 200));
    // An active rack with no node is ignored.
    let absent = Policy {
        active_rack: 77,
        ..Policy::rf(2)
    };
    assert_eq!(
        table(&nodes, &absent, 1).owners,
        table(&nodes, &Policy::rf(2), 1).owners
    );
}
