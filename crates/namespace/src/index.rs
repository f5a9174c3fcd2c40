//! The primary index of one partition: records ordered by digest, so scans and partition
//! pagination can resume after a digest.
//!
//! Layout: a sorted list of leaves, each holding up to `LEAF_MAX` entries as two parallel
//! vectors (digests, records). Keeping digests apart from records avoids padding (a digest
//! is 20 bytes, a record 32), and growing leaves by `GROW_STEP` entries rather than doubling
//! keeps spare capacity small. The result is about 56 bytes of index per record, under the
//! 64 bytes the reference server's `as_index` needs; `examples/index_memory.rs` measures it.
//!
//! Invariants: every leaf is non-empty; digests are strictly increasing within a leaf and
//! across consecutive leaves.

use aerie_record::Digest;

use crate::record::Record;

/// Entries a leaf holds before it splits in two.
const LEAF_MAX: usize = 128;
/// Entries by which a full leaf's capacity grows.
const GROW_STEP: usize = 16;
/// A leaf this small is merged into its neighbour when that fits.
const LEAF_MERGE_BELOW: usize = LEAF_MAX / 4;

#[derive(Debug, Default)]
struct Leaf {
    keys: Vec<Digest>,
    vals: Vec<Record>,
}

impl Leaf {
    fn first(&self) -> Option<&Digest> {
        self.keys.first()
    }

    fn memory_bytes(&self) -> usize {
        self.keys.capacity() * std::mem::size_of::<Digest>()
            + self.vals.capacity() * std::mem::size_of::<Record>()
    }
}

/// Records of one partition, keyed by digest.
#[derive(Debug, Default)]
pub struct PartitionIndex {
    leaves: Vec<Leaf>,
    len: usize,
    /// Sum of the records' data sizes (key sections and bins), for usage accounting.
    data_bytes: usize,
    /// Durable deletes still needed: digest → packed location of its tombstone image
    /// (persisted namespaces; an empty map allocates nothing).
    tombstones: std::collections::HashMap<Digest, u64>,
}

impl PartitionIndex {
    /// Builds an index from entries sorted by digest with no duplicates (cold start). Leaves
    /// are filled to three quarters so later inserts rarely split them at once.
    pub fn from_sorted(entries: Vec<(Digest, Record)>) -> Self {
        debug_assert!(entries.windows(2).all(|w| matches!(w, [a, b] if a.0 < b.0)));
        const FILL: usize = LEAF_MAX * 3 / 4;
        let len = entries.len();
        let mut data_bytes = 0usize;
        let mut leaves = Vec::with_capacity(len.div_ceil(FILL));
        let mut leaf = Leaf::default();
        for (d, r) in entries {
            if leaf.keys.len() == FILL {
                leaves.push(std::mem::take(&mut leaf));
            }
            if leaf.keys.is_empty() {
                leaf.keys.reserve_exact(FILL);
                leaf.vals.reserve_exact(FILL);
            }
            data_bytes += r.data_size();
            leaf.keys.push(d);
            leaf.vals.push(r);
        }
        if !leaf.keys.is_empty() {
            leaf.keys.shrink_to_fit();
            leaf.vals.shrink_to_fit();
            leaves.push(leaf);
        }
        Self {
            leaves,
            len,
            data_bytes,
            tombstones: Default::default(),
        }
    }

    /// Tracks the tombstone of a deleted digest.
    pub fn add_tombstone(&mut self, digest: Digest, location: u64) -> Option<u64> {
        self.tombstones.insert(digest, location)
    }

    /// The location of `digest`'s tombstone, if one is tracked.
    pub fn tombstone(&self, digest: &Digest) -> Option<u64> {
        self.tombstones.get(digest).copied()
    }

    /// Stops tracking `digest`'s tombstone; returns its location.
    pub fn take_tombstone(&mut self, digest: &Digest) -> Option<u64> {
        let l = self.tombstones.remove(digest)?;
        if self.tombstones.is_empty() {
            self.tombstones = Default::default(); // give the table's memory back
        }
        Some(l)
    }

    /// Tombstones tracked.
    pub fn n_tombstones(&self) -> usize {
        self.tombstones.len()
    }

    /// Every tracked tombstone: digest and location.
    pub fn tombstones(&self) -> impl Iterator<Item = (&Digest, u64)> {
        self.tombstones.iter().map(|(d, &l)| (d, l))
    }

    /// The record with `digest`, live or not.
    #[inline]
    pub fn get(&self, digest: &Digest) -> Option<&Record> {
        let leaf = self.leaves.get(self.leaf_for(digest))?;
        let i = leaf.keys.binary_search(digest).ok()?;
        leaf.vals.get(i)
    }

    /// Mutable access to the record with `digest`.
    #[inline]
    pub fn get_mut(&mut self, digest: &Digest) -> Option<&mut Record> {
        let li = self.leaf_for(digest);
        let leaf = self.leaves.get_mut(li)?;
        let i = leaf.keys.binary_search(digest).ok()?;
        leaf.vals.get_mut(i)
    }

    /// Inserts or replaces; returns the previous record.
    pub fn insert(&mut self, digest: Digest, record: Record) -> Option<Record> {
        if self.leaves.is_empty() {
            self.leaves.push(Leaf::default());
        }
        let li = self.leaf_for(&digest);
        let leaf = self.leaves.get_mut(li)?;
        self.data_bytes += record.data_size();
        match leaf.keys.binary_search(&digest) {
            Ok(i) => {
                let old = leaf
                    .vals
                    .get_mut(i)
                    .map(|slot| std::mem::replace(slot, record));
                self.data_bytes -= old.as_ref().map_or(0, Record::data_size);
                old
            }
            Err(i) => {
                if leaf.keys.len() == leaf.keys.capacity() {
                    leaf.keys.reserve_exact(GROW_STEP);
                    leaf.vals.reserve_exact(GROW_STEP);
                }
                leaf.keys.insert(i, digest);
                leaf.vals.insert(i, record);
                self.len += 1;
                if leaf.keys.len() > LEAF_MAX {
                    let half = leaf.keys.len() / 2;
                    let mut right = Leaf {
                        keys: leaf.keys.split_off(half),
                        vals: leaf.vals.split_off(half),
                    };
                    leaf.keys.shrink_to_fit();
                    leaf.vals.shrink_to_fit();
                    right.keys.shrink_to_fit();
                    right.vals.shrink_to_fit();
                    self.leaves.insert(li + 1, right);
                }
                None
            }
        }
    }

    /// Removes and returns the record.
    pub fn remove(&mut self, digest: &Digest) -> Option<Record> {
        let li = self.leaf_for(digest);
        let leaf = self.leaves.get_mut(li)?;
        let i = leaf.keys.binary_search(digest).ok()?;
        leaf.keys.remove(i);
        let removed = leaf.vals.remove(i);
        self.len -= 1;
        self.data_bytes -= removed.data_size();
        self.after_shrink(li);
        Some(removed)
    }

    /// Number of entries (expired ones not yet reclaimed included).
    pub fn len(&self) -> usize {
        self.len
    }

    /// Bytes of record data (key sections and bins) held by the partition's records.
    pub fn data_bytes(&self) -> usize {
        self.data_bytes
    }

    /// Whether the partition holds no entries.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Bytes the index structure holds (entries, spare capacity, leaf headers; record data
    /// excluded).
    pub fn memory_bytes(&self) -> usize {
        self.leaves.iter().map(Leaf::memory_bytes).sum::<usize>()
            + self.leaves.capacity() * std::mem::size_of::<Leaf>()
    }

    /// Entries in digest order, starting after `after` when given.
    pub fn iter_from(&self, after: Option<&Digest>) -> impl Iterator<Item = (&Digest, &Record)> {
        let (li, start) = match after {
            None => (0, 0),
            Some(d) => {
                let li = self.leaf_for(d);
                let start = self
                    .leaves
                    .get(li)
                    .map_or(0, |l| l.keys.partition_point(|k| k <= d));
                (li, start)
            }
        };
        self.leaves
            .iter()
            .skip(li)
            .enumerate()
            .flat_map(move |(n, leaf)| {
                let skip = if n == 0 { start } else { 0 };
                leaf.keys.iter().zip(leaf.vals.iter()).skip(skip)
            })
    }

    /// Keeps only the entries for which `keep` is true, calling `on_remove` for each one
    /// removed.
    pub fn retain(
        &mut self,
        mut keep: impl FnMut(&Digest, &Record) -> bool,
        mut on_remove: impl FnMut(&Record),
    ) {
        let mut removed = 0usize;
        for leaf in &mut self.leaves {
            let n = leaf.keys.len();
            let mut w = 0usize;
            for r in 0..n {
                // Elements at r >= w are still in their original places.
                let (Some(k), Some(v)) = (leaf.keys.get(r), leaf.vals.get(r)) else {
                    break;
                };
                if keep(k, v) {
                    leaf.keys.swap(w, r);
                    leaf.vals.swap(w, r);
                    w += 1;
                } else {
                    self.data_bytes -= v.data_size();
                    on_remove(v);
                }
            }
            removed += n - w;
            leaf.keys.truncate(w);
            leaf.vals.truncate(w);
            if leaf.keys.capacity() > w + 2 * GROW_STEP {
                leaf.keys.shrink_to_fit();
                leaf.vals.shrink_to_fit();
            }
        }
        self.len -= removed;
        self.leaves.retain(|l| !l.keys.is_empty());
    }

    /// The leaf whose range holds `digest`: the last leaf whose first digest is ≤ it.
    #[inline]
    fn leaf_for(&self, digest: &Digest) -> usize {
        self.leaves
            .partition_point(|l| l.first().is_some_and(|f| f <= digest))
            .saturating_sub(1)
    }

    /// Restores the invariants after leaf `li` lost entries: drop it when empty, merge it
    /// into a neighbour when small, and release spare capacity.
    fn after_shrink(&mut self, li: usize) {
        let Some(leaf) = self.leaves.get_mut(li) else {
            return;
        };
        let n = leaf.keys.len();
        if n == 0 {
            self.leaves.remove(li);
            return;
        }
        if leaf.keys.capacity() > n + 2 * GROW_STEP {
            leaf.keys.shrink_to(n + GROW_STEP);
            leaf.vals.shrink_to(n + GROW_STEP);
        }
        if n < LEAF_MERGE_BELOW && li > 0 {
            let prev_len = self.leaves.get(li - 1).map_or(usize::MAX, |l| l.keys.len());
            if prev_len + n <= LEAF_MAX {
                let small = self.leaves.remove(li);
                if let Some(prev) = self.leaves.get_mut(li - 1) {
                    prev.keys.extend(small.keys);
                    prev.vals.extend(small.vals);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use proptest::prelude::*;

    use super::*;
    use crate::record::RecordMeta;

    fn rec(tag: u64) -> Record {
        Record::new(
            RecordMeta {
                last_update_ms: tag,
                ..Default::default()
            },
            None,
            &[],
        )
    }

    fn digest(i: u32) -> Digest {
        aerie_record::compute_digest(b"", 1, &i.to_be_bytes())
    }

    fn check_against(
        model: &BTreeMap<Digest, u64>,
        idx: &PartitionIndex,
    ) -> Result<(), TestCaseError> {
        prop_assert_eq!(idx.len(), model.len());
        let got: Vec<(Digest, u64)> = idx
            .iter_from(None)
            .map(|(d, r)| (*d, r.meta.last_update_ms))
            .collect();
        let want: Vec<(Digest, u64)> = model.iter().map(|(d, t)| (*d, *t)).collect();
        prop_assert_eq!(got, want);
        let data: usize = idx.iter_from(None).map(|(_, r)| r.data_size()).sum();
        prop_assert_eq!(idx.data_bytes(), data);
        for leaf in &idx.leaves {
            prop_assert!(!leaf.keys.is_empty() && leaf.keys.len() <= LEAF_MAX);
        }
        Ok(())
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

        /// Random inserts, removals, retains and resumed iteration agree with a BTreeMap.
        #[test]
        fn matches_btreemap(ops in proptest::collection::vec((0u8..10, 0u32..600), 1..2000)) {
            let mut model = BTreeMap::new();
            let mut idx = PartitionIndex::default();
            for (n, (kind, key)) in ops.into_iter().enumerate() {
                let d = digest(key);
                match kind {
                    0..=5 => {
                        let old = idx.insert(d, rec(n as u64)).map(|r| r.meta.last_update_ms);
                        prop_assert_eq!(old, model.insert(d, n as u64));
                    }
                    6..=7 => {
                        let old = idx.remove(&d).map(|r| r.meta.last_update_ms);
                        prop_assert_eq!(old, model.remove(&d));
                    }
                    8 => {
                        let mut removed = 0;
                        idx.retain(|k, _| k[0] % 7 != (key % 7) as u8, |_| removed += 1);
                        let before = model.len();
                        model.retain(|k, _| k[0] % 7 != (key % 7) as u8);
                        prop_assert_eq!(removed, before - model.len());
                    }
                    _ => {
                        let got: Vec<Digest> = idx.iter_from(Some(&d)).map(|(k, _)| *k).collect();
                        let want: Vec<Digest> = model.range((std::ops::Bound::Excluded(d), std::ops::Bound::Unbounded)).map(|(k, _)| *k).collect();
                        prop_assert_eq!(got, want);
                    }
                }
                prop_assert_eq!(idx.get(&d).map(|r| r.meta.last_update_ms), model.get(&d).copied());
            }
            check_against(&model, &idx)?;
            let rebuilt = PartitionIndex::from_sorted(model.iter().map(|(d, t)| (*d, rec(*t))).collect());
            check_against(&model, &rebuilt)?;
        }
    }
}
