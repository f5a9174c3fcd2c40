//! The primary index of one partition: records ordered by digest, so scans and partition
//! pagination can resume after a digest.
//!
//! TODO(storage issue): replace the B-tree with a denser structure to reach ≤ 64 bytes of
//! index per record; the interface here is what the rest of the server relies on.

use std::collections::BTreeMap;
use std::ops::Bound;

use aerie_record::Digest;

use crate::record::Record;

/// Records of one partition, keyed by digest.
#[derive(Debug, Default)]
pub struct PartitionIndex {
    tree: BTreeMap<Digest, Record>,
}

impl PartitionIndex {
    /// The record with `digest`, live or not.
    #[inline]
    pub fn get(&self, digest: &Digest) -> Option<&Record> {
        self.tree.get(digest)
    }

    /// Mutable access to the record with `digest`.
    #[inline]
    pub fn get_mut(&mut self, digest: &Digest) -> Option<&mut Record> {
        self.tree.get_mut(digest)
    }

    /// Inserts or replaces; returns the previous record.
    #[inline]
    pub fn insert(&mut self, digest: Digest, record: Record) -> Option<Record> {
        self.tree.insert(digest, record)
    }

    /// Removes and returns the record.
    #[inline]
    pub fn remove(&mut self, digest: &Digest) -> Option<Record> {
        self.tree.remove(digest)
    }

    /// Number of entries (expired ones not yet reclaimed included).
    pub fn len(&self) -> usize {
        self.tree.len()
    }

    /// Whether the partition holds no entries.
    pub fn is_empty(&self) -> bool {
        self.tree.is_empty()
    }

    /// Entries in digest order, starting after `after` when given.
    pub fn iter_from(&self, after: Option<&Digest>) -> impl Iterator<Item = (&Digest, &Record)> {
        let lower = match after {
            Some(d) => Bound::Excluded(*d),
            None => Bound::Unbounded,
        };
        self.tree.range((lower, Bound::Unbounded))
    }

    /// Keeps only the entries for which `keep` is true; returns the removed ones' count per
    /// set id through `on_remove`.
    pub fn retain(&mut self, mut keep: impl FnMut(&Digest, &Record) -> bool, mut on_remove: impl FnMut(&Record)) {
        self.tree.retain(|d, r| {
            let k = keep(d, r);
            if !k {
                on_remove(r);
            }
            k
        });
    }
}
