//! A namespace: configuration, partitions, sets, ownership and statistics.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use aerie_config::NamespaceConfig;
use aerie_record::{partition_id, time, Digest, N_PARTITIONS};
use parking_lot::RwLock;

use crate::partition::{NodeId, OwnershipTable, Partition};
use crate::record::Record;
use crate::sets::{SetId, SetTable, NO_SET};

/// Counters reported by `namespace/<ns>` and `statistics`.
#[derive(Debug, Default)]
pub struct NamespaceStats {
    pub client_read_success: AtomicU64,
    pub client_read_not_found: AtomicU64,
    pub client_read_error: AtomicU64,
    pub client_write_success: AtomicU64,
    pub client_write_error: AtomicU64,
    pub client_delete_success: AtomicU64,
    pub client_delete_not_found: AtomicU64,
    pub client_udf_error: AtomicU64,
    pub batch_sub_read_success: AtomicU64,
    pub batch_sub_write_success: AtomicU64,
    pub expired_objects: AtomicU64,
    pub truncated_records: AtomicU64,
}

/// Bumps a counter.
#[inline]
pub fn bump(c: &AtomicU64) {
    c.fetch_add(1, Ordering::Relaxed);
}

/// One namespace.
#[derive(Debug)]
pub struct Namespace {
    pub name: String,
    pub config: NamespaceConfig,
    pub sets: SetTable,
    pub stats: NamespaceStats,
    partitions: Box<[Partition]>,
    /// Records last updated at or before this (citrusleaf ms) are truncated.
    truncate_lut_ms: AtomicU64,
    ownership: RwLock<Arc<OwnershipTable>>,
}

impl Namespace {
    /// An empty namespace owned entirely by `node`.
    pub fn new(config: NamespaceConfig, node: NodeId) -> Self {
        let defaults = config
            .sets
            .iter()
            .filter_map(|s| s.default_ttl_secs.map(|t| (s.name.clone(), t)))
            .collect();
        Self {
            name: config.name.clone(),
            sets: SetTable::new(defaults),
            stats: NamespaceStats::default(),
            partitions: (0..N_PARTITIONS as u16).map(Partition::new).collect(),
            truncate_lut_ms: AtomicU64::new(0),
            ownership: RwLock::new(Arc::new(OwnershipTable::single_node(node, N_PARTITIONS))),
            config,
        }
    }

    /// The partition a digest maps to.
    #[inline]
    pub fn partition(&self, digest: &Digest) -> &Partition {
        let pid = partition_id(digest) as usize;
        // partition_id is masked to 0..4096 and the table always has 4096 entries.
        #[allow(clippy::indexing_slicing)]
        &self.partitions[pid]
    }

    /// All partitions.
    pub fn partitions(&self) -> &[Partition] {
        &self.partitions
    }

    /// The current ownership table.
    pub fn ownership(&self) -> Arc<OwnershipTable> {
        self.ownership.read().clone()
    }

    /// Replaces the ownership table (clustering).
    pub fn set_ownership(&self, table: OwnershipTable) {
        *self.ownership.write() = Arc::new(table);
    }

    /// Whether a stored record is visible: not expired and not truncated.
    #[inline]
    pub fn is_live(&self, r: &Record, now_secs: u32) -> bool {
        !r.is_expired(now_secs) && !self.is_truncated(r)
    }

    #[inline]
    fn is_truncated(&self, r: &Record) -> bool {
        let lut = r.meta.last_update_ms;
        if lut <= self.truncate_lut_ms.load(Ordering::Relaxed) {
            return true;
        }
        match self.sets.get(r.meta.set_id) {
            Some(s) => lut <= s.truncate_lut_ms.load(Ordering::Relaxed),
            None => false,
        }
    }

    /// Records in the namespace, expired-but-unreclaimed ones included.
    pub fn n_objects(&self) -> u64 {
        self.partitions.iter().map(|p| p.lock().len() as u64).sum()
    }

    /// Default TTL for a record in `set_id`, in seconds (0 = never expire).
    pub fn default_ttl_secs(&self, set_id: SetId) -> u64 {
        self.sets.get(set_id).and_then(|s| s.default_ttl_secs).unwrap_or(self.config.default_ttl_secs)
    }

    /// Truncates the namespace (`set` = None) or one set: every record last updated at or
    /// before `lut_ms` (citrusleaf ms; `None` = now) disappears at once and is reclaimed
    /// by a sweep over every partition before this returns. Returns the records removed.
    pub fn truncate(&self, set: Option<&[u8]>, lut_ms: Option<u64>) -> Result<u64, TruncateError> {
        let now = time::now_ms();
        let cutoff = lut_ms.unwrap_or(now);
        if cutoff > now {
            return Err(TruncateError::FutureLut);
        }
        let set_id = match set {
            Some(name) if !name.is_empty() => match self.sets.id(name) {
                Some(id) => Some(id),
                None => return Ok(0),
            },
            _ => None,
        };
        match set_id.and_then(|id| self.sets.get(id)) {
            Some(s) => s.truncate_lut_ms.fetch_max(cutoff, Ordering::Relaxed),
            None => self.truncate_lut_ms.fetch_max(cutoff, Ordering::Relaxed),
        };
        let mut removed = 0u64;
        for p in self.partitions.iter() {
            let mut idx = p.lock();
            idx.retain(
                |_, r| !(set_id.is_none_or(|id| id == r.meta.set_id) && r.meta.last_update_ms <= cutoff),
                |r| {
                    removed += 1;
                    if r.meta.set_id != NO_SET {
                        self.sets.add_objects(r.meta.set_id, -1);
                    }
                },
            );
        }
        self.stats.truncated_records.fetch_add(removed, Ordering::Relaxed);
        Ok(removed)
    }
}

impl Namespace {
    /// One expiry pass (nsup): removes every record whose void time has passed. Each
    /// partition is locked only while it is swept. Returns the records removed.
    pub fn expire_pass(&self) -> u64 {
        let now = time::now_secs();
        let mut removed = 0u64;
        for p in self.partitions.iter() {
            let mut idx = p.lock();
            idx.retain(
                |_, r| !r.is_expired(now),
                |r| {
                    removed += 1;
                    if r.meta.set_id != NO_SET {
                        self.sets.add_objects(r.meta.set_id, -1);
                    }
                },
            );
        }
        self.stats.expired_objects.fetch_add(removed, Ordering::Relaxed);
        removed
    }
}

/// Why a truncate was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TruncateError {
    /// The cut-off lies in the future.
    FutureLut,
}

/// Every namespace of the node.
#[derive(Debug, Default)]
pub struct Registry {
    namespaces: Vec<Arc<Namespace>>,
}

impl Registry {
    /// Builds the registry from configuration.
    pub fn new(configs: &[NamespaceConfig], node: NodeId) -> Self {
        Self { namespaces: configs.iter().map(|c| Arc::new(Namespace::new(c.clone(), node))).collect() }
    }

    /// The namespace called `name`.
    #[inline]
    pub fn get(&self, name: &[u8]) -> Option<&Arc<Namespace>> {
        self.namespaces.iter().find(|n| n.name.as_bytes() == name)
    }

    /// All namespaces in configuration order.
    pub fn iter(&self) -> impl Iterator<Item = &Arc<Namespace>> {
        self.namespaces.iter()
    }
}
