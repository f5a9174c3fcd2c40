//! Partition placement: for each partition, an ordering of the member nodes, the master first.
//!
//! Like aerospike-server's `partition_balance`, each partition orders the nodes by a hash of
//! (node id, partition id) — rendezvous hashing. Every node computes the same order from the
//! same member list, the load spreads evenly, and when one node joins or leaves only the
//! partitions where that node ranks among the first `replication-factor` change owners: the
//! relative order of the other nodes is untouched, so a replica moves up to master when its
//! master leaves.

use aerie_namespace::{NodeId, OwnershipTable};
use aerie_record::N_PARTITIONS;

/// A 64-bit mixer (splitmix64 finaliser): every input bit affects every output bit.
#[inline]
fn mix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// A node's rank score for one partition; higher ranks first.
#[inline]
fn score(node: NodeId, pid: usize) -> u64 {
    mix(mix(node) ^ mix(pid as u64 ^ 0xA5A5_0000_0000_0000))
}

/// The first `n` nodes of partition `pid`'s order over `members`.
pub fn owners(members: &[NodeId], pid: usize, n: usize) -> Vec<NodeId> {
    let mut scored: Vec<(u64, NodeId)> = members.iter().map(|&m| (score(m, pid), m)).collect();
    // Ties are all but impossible; the node id breaks them so the order stays total.
    scored.sort_unstable_by(|a, b| b.cmp(a));
    scored.into_iter().take(n).map(|(_, m)| m).collect()
}

/// The ownership table of a namespace with `replication_factor` over `members`.
pub fn table(members: &[NodeId], replication_factor: usize, regime: u32) -> OwnershipTable {
    let n = replication_factor.clamp(1, members.len().max(1));
    OwnershipTable {
        regime,
        n_replicas: n,
        owners: (0..N_PARTITIONS)
            .map(|pid| owners(members, pid, n))
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NODES: [NodeId; 4] = [0xA1, 0xB2_0000_0001, 0xC3_1234, 0x0D_4000_0000_0007];

    #[test]
    fn balanced_within_a_few_percent() {
        for n in 2..=NODES.len() {
            let t = table(&NODES[..n], 2, 1);
            for &node in &NODES[..n] {
                let masters = t.owners.iter().filter(|o| o.first() == Some(&node)).count();
                let ideal = N_PARTITIONS / n;
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
        let before = table(&NODES[..3], 2, 1);
        let gone = NODES[2];
        let after = table(&NODES[..2], 2, 2);
        for pid in 0..N_PARTITIONS {
            let old: Vec<_> = before.owners[pid].iter().filter(|&&n| n != gone).collect();
            // Survivors keep their relative order: the old replica becomes master.
            assert_eq!(after.owners[pid].first(), old.first().copied());
        }
    }

    #[test]
    fn joining_node_takes_about_its_share() {
        let before = table(&NODES[..3], 1, 1);
        let after = table(&NODES, 1, 2);
        let moved = (0..N_PARTITIONS)
            .filter(|&p| before.owners[p] != after.owners[p])
            .count();
        // Every moved partition moved to the new node, about a quarter of them.
        assert!((0..N_PARTITIONS)
            .filter(|&p| before.owners[p] != after.owners[p])
            .all(|p| after.owners[p][0] == NODES[3]));
        assert!(
            moved.abs_diff(N_PARTITIONS / 4) < N_PARTITIONS / 32,
            "{moved}"
        );
    }

    #[test]
    fn one_node_owns_everything() {
        let t = table(&[7], 3, 1);
        assert_eq!(t.n_replicas, 1);
        assert!(t.owners.iter().all(|o| o == &[7]));
    }
}
