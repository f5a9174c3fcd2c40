//! Secondary indexes: definitions, per-partition trees of (key, digest), population over
//! existing records, and exact maintenance through the namespace's record-change hook.
//!
//! Mirrors aerospike-server `as/src/sindex/{sindex,sindex_manager,populate}.c`. Does not own
//! query execution (the `transaction` crate's stream job) or the info text (the `info` crate).
//!
//! Keys are i64 "bvals", as in the reference server: an integer is itself, a string or blob
//! is a hash of its bytes. A tree is ordered by (bval, digest) per partition, so a query
//! resumes after the (bval, digest) a client reports for a partition. Hashes can collide,
//! so callers verify every candidate against the record itself ([`SindexDef::matches`]):
//! queries never return false positives.
//!
//! Locking: the hook runs under the record's partition lock and then takes a sindex
//! partition lock; queries take a sindex partition lock to copy candidates, release it,
//! then lock the record partition to verify. A sindex lock is never held while taking a
//! record partition lock.

mod def;
mod geo;
mod persist;
mod source;

use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use aerie_namespace::{Namespace, Record, RecordHook, SetId, NO_SET};
use aerie_record::{Digest, N_PARTITIONS};
use parking_lot::{Mutex, RwLock};

pub use def::{CollectionType, DefError, KeyType, QueryRange, SindexDef};
pub use geo::GeoQuery;
pub use persist::{defs_path, restore};
pub use source::{IndexCtx, IndexExp};

/// Most indexes per namespace (the reference server's limit).
pub const MAX_INDEXES: usize = 256;

/// Why `create` refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CreateError {
    /// Same name with a different definition (rc 200).
    Exists,
    /// Too many indexes (rc 206).
    TooMany,
    /// A hook of another kind is installed on the namespace.
    Unavailable,
    /// The set name cannot be used.
    BadSet,
}

/// One partition's entries: (bval, digest), ordered.
type PartTree = BTreeSet<(i64, Digest)>;

/// Shards of the presence map (partition id modulo this).
const PRESENCE_SHARDS: usize = 64;

/// Which partitions hold a bval: (bval, partition id) -> entries. A query first asks it which
/// partitions have any candidate, so a selective query touches a handful of partition trees
/// instead of all 4096 (each a few cold cache lines). Sharded by partition id, so writes to
/// different partitions rarely share a lock.
type PresenceShard = BTreeMap<(i64, u16), u32>;

/// One index.
#[derive(Debug)]
pub struct Sindex {
    pub def: SindexDef,
    /// The set the index covers; `None` = every record of the namespace.
    pub set_id: Option<SetId>,
    parts: Box<[Mutex<PartTree>]>,
    presence: Box<[Mutex<PresenceShard>]>,
    /// Partitions populated so far (background build progress).
    loaded_parts: AtomicUsize,
}

impl Sindex {
    fn new(def: SindexDef, set_id: Option<SetId>) -> Self {
        Self {
            def,
            set_id,
            parts: (0..N_PARTITIONS)
                .map(|_| Mutex::new(BTreeSet::new()))
                .collect(),
            presence: (0..PRESENCE_SHARDS)
                .map(|_| Mutex::new(BTreeMap::new()))
                .collect(),
            loaded_parts: AtomicUsize::new(0),
        }
    }

    /// Build progress, 0..=100.
    pub fn load_pct(&self) -> usize {
        self.loaded_parts.load(Ordering::Relaxed) * 100 / N_PARTITIONS
    }

    /// Entries (key, record) in the index.
    pub fn entries(&self) -> u64 {
        self.parts.iter().map(|p| p.lock().len() as u64).sum()
    }

    fn covers(&self, r: &Record) -> bool {
        self.set_id.is_none_or(|s| s == r.meta.set_id)
    }

    /// Copies up to `limit` entries of partition `pid` with bval in one of `ranges`
    /// (inclusive, sorted, disjoint), strictly after `after` (bval, digest). Returns whether
    /// the ranges are exhausted in this partition.
    pub fn candidates(
        &self,
        pid: u16,
        ranges: &[(i64, i64)],
        after: Option<(i64, Digest)>,
        limit: usize,
        out: &mut Vec<(i64, Digest)>,
    ) -> bool {
        use std::ops::Bound;
        let Some(part) = self.parts.get(pid as usize) else {
            return true;
        };
        let tree = part.lock();
        for &(lo, hi) in ranges {
            let start = match after {
                Some(a) if a.0 > hi => continue,
                Some(a) if a.0 >= lo => Bound::Excluded(a),
                _ => Bound::Included((lo, [0u8; 20])),
            };
            for e in tree.range((start, Bound::Included((hi, [0xFFu8; 20])))) {
                if out.len() >= limit {
                    return false;
                }
                out.push(*e);
            }
        }
        true
    }

    fn apply(&self, digest: &Digest, old: Option<&Record>, new: Option<&Record>) {
        let old_keys = old
            .filter(|r| self.covers(r))
            .map(|r| self.def.keys(digest, r))
            .unwrap_or_default();
        let new_keys = new
            .filter(|r| self.covers(r))
            .map(|r| self.def.keys(digest, r))
            .unwrap_or_default();
        if old_keys.is_empty() && new_keys.is_empty() {
            return;
        }
        let pid = aerie_record::partition_id(digest) as usize;
        let Some(part) = self.parts.get(pid) else {
            return;
        };
        let mut tree = part.lock();
        for k in old_keys.iter().filter(|k| !new_keys.contains(k)) {
            if tree.remove(&(*k, *digest)) {
                self.present(pid, *k, false);
            }
        }
        for k in new_keys {
            self.insert(&mut tree, pid, k, digest);
        }
    }

    /// Adds an entry to a partition tree (its lock held), keeping the presence map.
    fn insert(&self, tree: &mut PartTree, pid: usize, k: i64, digest: &Digest) {
        if tree.insert((k, *digest)) {
            self.present(pid, k, true);
        }
    }

    fn present(&self, pid: usize, k: i64, added: bool) {
        let Some(shard) = self.presence.get(pid % PRESENCE_SHARDS) else {
            return;
        };
        let mut shard = shard.lock();
        let key = (k, pid as u16);
        if added {
            *shard.entry(key).or_insert(0) += 1;
        } else if let Some(n) = shard.get_mut(&key) {
            *n -= 1;
            if *n == 0 {
                shard.remove(&key);
            }
        }
    }

    /// Which partitions hold an entry with a bval in `ranges` now (a query skips the others).
    pub fn partitions_with(&self, ranges: &[(i64, i64)]) -> Vec<bool> {
        let mut marked = vec![false; N_PARTITIONS];
        let mut n = 0;
        for shard in self.presence.iter() {
            let shard = shard.lock();
            for &(lo, hi) in ranges {
                for &(_, pid) in shard.range((lo, 0)..=(hi, u16::MAX)).map(|(k, _)| k) {
                    if let Some(m) = marked.get_mut(pid as usize) {
                        if !*m {
                            *m = true;
                            n += 1;
                            if n == N_PARTITIONS {
                                return marked;
                            }
                        }
                    }
                }
            }
        }
        marked
    }
}

/// The indexes of one namespace; installed as its record-change hook.
#[derive(Debug, Default)]
pub struct Sindexes {
    list: RwLock<Vec<Arc<Sindex>>>,
}

impl RecordHook for Sindexes {
    fn changed(&self, digest: &Digest, old: Option<&Record>, new: Option<&Record>) {
        for si in self.list.read().iter() {
            si.apply(digest, old, new);
        }
    }

    fn as_any(&self) -> &dyn std::any::Any {
        self
    }
}

impl Sindexes {
    /// The indexes of `ns`, installing the hook on first use. `None` when another kind of
    /// hook is installed.
    pub fn of(ns: &Namespace) -> Option<&Sindexes> {
        ns.hook_or_init(|| Arc::new(Sindexes::default()))
            .as_any()
            .downcast_ref::<Sindexes>()
    }

    /// The indexes of `ns` without installing anything (read paths).
    pub fn existing(ns: &Namespace) -> Option<&Sindexes> {
        ns.hook()?.as_any().downcast_ref::<Sindexes>()
    }

    /// All indexes, in creation order.
    pub fn list(&self) -> Vec<Arc<Sindex>> {
        self.list.read().clone()
    }

    /// The index called `name`.
    pub fn get(&self, name: &str) -> Option<Arc<Sindex>> {
        self.list
            .read()
            .iter()
            .find(|s| s.def.name == name)
            .cloned()
    }

    /// The index a query on `bin` with this key and collection type (and set, CDT context or
    /// expression) would use: one on the same set first, else one covering the namespace. An
    /// expression query selects by its expression alone.
    pub fn find(
        &self,
        set_id: Option<SetId>,
        bin: &[u8],
        ktype: KeyType,
        ctype: CollectionType,
        context: Option<&IndexCtx>,
        exp: Option<&[u8]>,
    ) -> Option<Arc<Sindex>> {
        let list = self.list.read();
        let fits = |s: &&Arc<Sindex>| {
            let source = match (exp, &s.def.exp) {
                (Some(wire), Some(e)) => e.is(wire),
                (None, None) => s.def.bin.as_bytes() == bin,
                _ => false,
            };
            source
                && s.def.ktype == ktype
                && s.def.ctype == ctype
                && s.def.context.as_ref() == context
        };
        list.iter()
            .filter(fits)
            .find(|s| s.set_id == set_id)
            .or_else(|| list.iter().filter(fits).find(|s| s.set_id.is_none()))
            .cloned()
    }

    /// Creates an index and starts populating it in the background. Creating an identical
    /// index again succeeds.
    pub fn create(&self, ns: &Arc<Namespace>, def: SindexDef) -> Result<(), CreateError> {
        let set_id = match def.set.as_deref() {
            None => None,
            Some(s) => Some(
                ns.sets
                    .get_or_create(s.as_bytes())
                    .map_err(|_| CreateError::BadSet)?,
            ),
        };
        let si = {
            let mut list = self.list.write();
            if let Some(existing) = list.iter().find(|s| s.def.name == def.name) {
                return if existing.def == def {
                    Ok(())
                } else {
                    Err(CreateError::Exists)
                };
            }
            if list.len() >= MAX_INDEXES {
                return Err(CreateError::TooMany);
            }
            let si = Arc::new(Sindex::new(def, set_id.filter(|&s| s != NO_SET)));
            list.push(si.clone());
            si
        };
        persist::save(ns, self);
        // Populate: the hook already maintains the new index, so each partition is read
        // under its lock once and is exact from then on.
        let ns = ns.clone();
        let spawned = std::thread::Builder::new()
            .name(format!("sindex-populate-{}", si.def.name))
            .spawn(move || populate(&ns, &si));
        if let Err(e) = spawned {
            tracing::error!("cannot start sindex population: {e}");
        }
        Ok(())
    }

    /// Drops an index of `ns`; returns whether it existed.
    pub fn delete(&self, ns: &Namespace, name: &str) -> bool {
        let existed = {
            let mut list = self.list.write();
            let before = list.len();
            list.retain(|s| s.def.name != name);
            list.len() != before
        };
        if existed {
            persist::save(ns, self);
        }
        existed
    }
}

fn populate(ns: &Namespace, si: &Sindex) {
    let started = std::time::Instant::now();
    for (pid, p) in ns.partitions().iter().enumerate() {
        {
            let idx = p.lock();
            if let Some(part) = si.parts.get(pid) {
                let mut tree = part.lock();
                for (d, r) in idx.iter_from(None) {
                    if si.covers(r) {
                        for k in si.def.keys(d, r) {
                            si.insert(&mut tree, pid, k, d);
                        }
                    }
                }
            }
        }
        si.loaded_parts.fetch_add(1, Ordering::Relaxed);
    }
    tracing::info!(
        namespace = %ns.name,
        index = %si.def.name,
        ms = started.elapsed().as_millis() as u64,
        "sindex populated"
    );
}

#[cfg(test)]
mod tests;
