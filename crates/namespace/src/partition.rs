//! Partitions and their ownership.

use parking_lot::{Mutex, MutexGuard};

use crate::index::PartitionIndex;

/// A node's identity in the cluster (printed as upper-case hex).
pub type NodeId = u64;

/// One of a namespace's 4096 partitions.
#[derive(Debug)]
pub struct Partition {
    pub id: u16,
    index: Mutex<PartitionIndex>,
}

impl Partition {
    /// An empty partition.
    pub fn new(id: u16) -> Self {
        Self {
            id,
            index: Mutex::new(PartitionIndex::default()),
        }
    }

    /// Locks the partition's index for the synchronous work of one command.
    #[inline]
    pub fn lock(&self) -> MutexGuard<'_, PartitionIndex> {
        self.index.lock()
    }
}

/// Who holds each partition: per partition, the master first, then replicas.
///
/// A single node owns every partition as master. Clustering replaces the table as a whole
/// and bumps `regime`; the `replicas` info answer is derived from it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OwnershipTable {
    pub regime: u32,
    pub n_replicas: usize,
    pub owners: Vec<Vec<NodeId>>,
}

impl OwnershipTable {
    /// Every partition owned by `node` alone.
    pub fn single_node(node: NodeId, n_partitions: usize) -> Self {
        Self {
            regime: 0,
            n_replicas: 1,
            owners: vec![vec![node]; n_partitions],
        }
    }

    /// Whether `node` holds replica column `replica_index` (0 = master) of partition `pid`.
    pub fn holds(&self, pid: usize, replica_index: usize, node: NodeId) -> bool {
        self.owners.get(pid).and_then(|o| o.get(replica_index)) == Some(&node)
    }

    /// The bitmap of partitions where `node` holds column `replica_index`: bit p is
    /// `byte[p >> 3] & (0x80 >> (p & 7))`.
    pub fn bitmap(&self, replica_index: usize, node: NodeId) -> Vec<u8> {
        let mut bits = vec![0u8; self.owners.len().div_ceil(8)];
        for pid in 0..self.owners.len() {
            if self.holds(pid, replica_index, node) {
                if let Some(b) = bits.get_mut(pid >> 3) {
                    *b |= 0x80 >> (pid & 7);
                }
            }
        }
        bits
    }
}
