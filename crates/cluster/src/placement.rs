//! Partition placement: for each partition, the nodes that own it, the master first.
//!
//! Like aerospike-server's `partition_balance`, each partition orders the nodes by a hash of
//! (node id, partition id) — rendezvous hashing. Every node computes the same order from the
//! same member list, the load spreads evenly, and when one node joins or leaves only the
//! partitions where that node ranks among the owners change: the relative order of the other
//! nodes is untouched, so a replica moves up to master when its master leaves.
//!
//! Three namespace parameters adjust a partition's row (see `docs/cluster.md`):
//! - `rack-id`: the owners are taken from the row in order, skipping a node whose rack already
//!   holds a copy while some rack holds none, so copies land on distinct racks whenever the
//!   cluster has as many racks as copies;
//! - `active-rack`: the master is the first node of the row on that rack (when it has a
//!   node), so every master is on it;
//! - `prefer-uniform-balance`: partitions are visited in order and a node that already has
//!   its share of a replica position is passed over for the next eligible one, so every node
//!   ends within one partition of the ideal per position (when the racks allow it), at the
//!   cost of more partitions moving on a membership change.
//!
//! This is pure code: the same inputs give the same table on every node, and the simulation
//! ([`crate::sim`]) and the tests measure balance and movement without any I/O.

use aerie_namespace::{NodeId, OwnershipTable};
use aerie_record::N_PARTITIONS;

/// One member as placement sees it: its id and its rack in the namespace being placed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Node {
    pub id: NodeId,
    pub rack: u32,
}

/// A namespace's placement parameters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Policy {
    /// Configured `replication-factor`; clamped to the number of nodes.
    pub replication_factor: usize,
    pub prefer_uniform_balance: bool,
    /// 0 = no active rack.
    pub active_rack: u32,
}

impl Policy {
    /// Plain rendezvous placement with `replication_factor` copies.
    pub fn rf(replication_factor: usize) -> Self {
        Policy {
            replication_factor,
            prefer_uniform_balance: false,
            active_rack: 0,
        }
    }
}

/// The ownership table of a namespace over `nodes` (any order; ids distinct).
pub fn table(nodes: &[Node], policy: &Policy, regime: u32) -> OwnershipTable {
    let n_replicas = policy.replication_factor.clamp(1, nodes.len().max(1));
    let n_racks = rack_count(nodes);
    let active = (policy.active_rack != 0 && nodes.iter().any(|n| n.rack == policy.active_rack))
        .then_some(policy.active_rack);
    let mut claims = Claims::new(nodes, n_replicas, active, policy.prefer_uniform_balance);
    let rows: Vec<Vec<usize>> = (0..N_PARTITIONS).map(|pid| row(nodes, pid)).collect();
    let mut picked: Vec<Vec<usize>> = rows
        .iter()
        .map(|row| pick(nodes, row, n_replicas, n_racks, active, &mut claims))
        .collect();
    if claims.uniform {
        for pos in 0..n_replicas {
            even_out(nodes, &rows, &mut picked, pos, active, &mut claims);
        }
    }
    let owners = picked
        .into_iter()
        .map(|o| {
            o.into_iter()
                .map(|i| nodes.get(i).map_or(0, |n| n.id))
                .collect()
        })
        .collect();
    OwnershipTable {
        regime,
        n_replicas,
        owners,
    }
}

/// Distinct racks among `nodes`.
pub fn rack_count(nodes: &[Node]) -> usize {
    let mut racks: Vec<u32> = nodes.iter().map(|n| n.rack).collect();
    racks.sort_unstable();
    racks.dedup();
    racks.len()
}

// ---------------------------------------------------------------------------------------------
// Rows
// ---------------------------------------------------------------------------------------------

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

/// Indexes into `nodes`, in partition `pid`'s rendezvous order.
fn row(nodes: &[Node], pid: usize) -> Vec<usize> {
    let mut scored: Vec<(u64, NodeId, usize)> = nodes
        .iter()
        .enumerate()
        .map(|(i, n)| (score(n.id, pid), n.id, i))
        .collect();
    // Ties are all but impossible; the node id breaks them so the order stays total.
    scored.sort_unstable_by(|a, b| b.cmp(a));
    scored.into_iter().map(|(_, _, i)| i).collect()
}

// ---------------------------------------------------------------------------------------------
// Picking owners from a row
// ---------------------------------------------------------------------------------------------

/// Partitions each node holds per replica position so far, and the share it may hold when
/// uniform balance is on: `floor` partitions each, and `floor + 1` for `extra` of them (the
/// first to get there), so every node ends within one of the ideal.
struct Claims {
    uniform: bool,
    /// `[position][node index]`.
    held: Vec<Vec<usize>>,
    /// `[position]`: (floor, extra, nodes holding floor + 1).
    share: Vec<(usize, usize, usize)>,
}

impl Claims {
    fn new(nodes: &[Node], n_replicas: usize, active: Option<u32>, uniform: bool) -> Self {
        let n_nodes = nodes.len().max(1);
        let n_active = active.map_or(n_nodes, |r| {
            nodes.iter().filter(|n| n.rack == r).count().max(1)
        });
        let share = (0..n_replicas)
            .map(|pos| {
                let eligible = if pos == 0 { n_active } else { n_nodes };
                (N_PARTITIONS / eligible, N_PARTITIONS % eligible, 0)
            })
            .collect();
        Claims {
            uniform,
            held: vec![vec![0; nodes.len()]; n_replicas],
            share,
        }
    }

    fn held(&self, pos: usize, node: usize) -> usize {
        self.held
            .get(pos)
            .and_then(|held| held.get(node))
            .copied()
            .unwrap_or(0)
    }

    /// Whether `node` may take one more partition at `pos`.
    fn has_room(&self, pos: usize, node: usize) -> bool {
        let Some(&(floor, extra, at_ceil)) = self.share.get(pos) else {
            return true;
        };
        let held = self.held(pos, node);
        held < floor || (held == floor && at_ceil < extra)
    }

    /// Whether `node` holds more than its share at `pos`.
    fn over(&self, pos: usize, node: usize) -> bool {
        let Some(&(floor, extra, at_ceil)) = self.share.get(pos) else {
            return false;
        };
        let held = self.held(pos, node);
        held > floor + 1 || (held == floor + 1 && at_ceil > extra)
    }

    fn claim(&mut self, pos: usize, node: usize) {
        let floor = self.share.get(pos).map_or(0, |s| s.0);
        if let Some(h) = self.held.get_mut(pos).and_then(|held| held.get_mut(node)) {
            *h += 1;
            if *h == floor + 1 {
                if let Some(s) = self.share.get_mut(pos) {
                    s.2 += 1;
                }
            }
        }
    }

    fn release(&mut self, pos: usize, node: usize) {
        let floor = self.share.get(pos).map_or(0, |s| s.0);
        if let Some(h) = self.held.get_mut(pos).and_then(|held| held.get_mut(node)) {
            if *h == floor + 1 {
                if let Some(s) = self.share.get_mut(pos) {
                    s.2 = s.2.saturating_sub(1);
                }
            }
            *h = h.saturating_sub(1);
        }
    }
}

/// The first `n` owners from `row` (indexes into `nodes`), master first.
fn pick(
    nodes: &[Node],
    row: &[usize],
    n: usize,
    n_racks: usize,
    active: Option<u32>,
    claims: &mut Claims,
) -> Vec<usize> {
    let rack = |i: usize| nodes.get(i).map_or(0, |node| node.rack);
    let mut chosen: Vec<usize> = Vec::with_capacity(n);
    let mut used_racks: Vec<u32> = Vec::with_capacity(n);
    for pos in 0..n {
        // While some rack holds no copy yet, the next copy goes to one of those.
        let need_new_rack = used_racks.len() < n_racks;
        let eligible = |i: usize| {
            !chosen.contains(&i)
                && (!need_new_rack || !used_racks.contains(&rack(i)))
                && (pos != 0 || active.is_none_or(|a| a == rack(i)))
        };
        let balanced = claims
            .uniform
            .then(|| {
                row.iter()
                    .copied()
                    .find(|&i| eligible(i) && claims.has_room(pos, i))
            })
            .flatten();
        // Without room anywhere (racks of unequal size), rendezvous order decides.
        let Some(i) = balanced.or_else(|| row.iter().copied().find(|&i| eligible(i))) else {
            break;
        };
        claims.claim(pos, i);
        if !used_racks.contains(&rack(i)) {
            used_racks.push(rack(i));
        }
        chosen.push(i);
    }
    chosen
}

#[cfg(test)]
#[path = "placement_test.rs"]
mod tests;

/// Uniform balance's second pass: the greedy pass can end with a node over its share at
/// `pos` when the nodes with room left are already owners of the last partitions. Each such
/// copy is handed to the first node of the partition's row that has room and may take it
/// without losing a distinct rack (or the active rack for masters).
fn even_out(
    nodes: &[Node],
    rows: &[Vec<usize>],
    picked: &mut [Vec<usize>],
    pos: usize,
    active: Option<u32>,
    claims: &mut Claims,
) {
    let rack = |i: usize| nodes.get(i).map_or(0, |node| node.rack);
    let distinct = |owners: &[usize]| {
        let mut r: Vec<u32> = owners.iter().map(|&i| rack(i)).collect();
        r.sort_unstable();
        r.dedup();
        r.len()
    };
    for (row, owners) in rows.iter().zip(picked.iter_mut()) {
        let Some(&from) = owners.get(pos) else {
            continue;
        };
        if !claims.over(pos, from) {
            continue;
        }
        let before = distinct(owners);
        let to = row.iter().copied().find(|&i| {
            if owners.contains(&i)
                || !claims.has_room(pos, i)
                || (pos == 0 && active.is_some_and(|a| a != rack(i)))
            {
                return false;
            }
            let mut after = owners.clone();
            if let Some(slot) = after.get_mut(pos) {
                *slot = i;
            }
            distinct(&after) >= before
        });
        if let (Some(to), Some(slot)) = (to, owners.get_mut(pos)) {
            *slot = to;
            claims.release(pos, from);
            claims.claim(pos, to);
        }
    }
}
