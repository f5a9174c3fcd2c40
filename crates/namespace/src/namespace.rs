//! A namespace: configuration, partitions, sets, ownership and statistics.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use aerie_config::NamespaceConfig;
use aerie_record::{partition_id, time, Digest, N_PARTITIONS};
use parking_lot::RwLock;

use crate::access::ReadBuf;
use crate::index::PartitionIndex;
use crate::partition::{NodeId, OwnershipTable, Partition};
use crate::persist::{self, Persistence, StorageSettings};
use crate::record::{Record, RecordData, RecordMeta};
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
    pub batch_sub_read_success: AtomicU64,
    pub batch_sub_write_success: AtomicU64,
    pub expired_objects: AtomicU64,
    pub evicted_objects: AtomicU64,
    pub truncated_records: AtomicU64,
    pub stop_writes_refused: AtomicU64,
    /// Record UDF calls and UDF jobs (`client_udf_*`, `udf_sub_*`, …).
    pub udf: crate::UdfStats,
}

/// Space use of a namespace, refreshed by the supervisor every second.
#[derive(Debug, Default)]
pub struct Usage {
    /// Record data bytes held in memory.
    pub data_bytes: AtomicU64,
    /// Storage bytes in use (whole write blocks), for persisted namespaces.
    pub device_used_bytes: AtomicU64,
    pub device_total_bytes: AtomicU64,
    /// The percentage that `stop-writes-used-pct` and `evict-used-pct` compare against.
    pub used_pct: AtomicU64,
    /// Writes are refused while this is set.
    pub stop_writes: std::sync::atomic::AtomicBool,
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
    /// This node, as the ownership table names it.
    node: NodeId,
    persistence: Option<Persistence>,
    pub usage: Usage,
    /// Told of every record change (secondary indexes); see `crate::hook`.
    hook: std::sync::OnceLock<Arc<dyn crate::hook::RecordHook>>,
    /// Drops obsolete tombstones (`crate::tomb`).
    raider: crate::tomb::Raider,
    /// Set by [`Namespace::close`]: the storage files are final and writes are refused.
    closed: std::sync::atomic::AtomicBool,
    /// How the namespace started: `memory`, `cold`, `cold-empty` or `warm`.
    pub start_type: &'static str,
    /// How long loading the storage files took, in milliseconds.
    pub start_ms: u64,
}

/// The error a write gets once the namespace is closed for shutdown.
const CLOSED: &str = "the namespace is shutting down";

/// One replayed image during cold start; a tombstone's `record` only carries its location.
struct Replayed {
    digest: Digest,
    order: u64,
    record: Record,
    tombstone: bool,
}

/// A stored write's place in the commit order: [`Namespace::wait_commit`] returns once it is
/// durable. 0 = nothing to wait for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[must_use = "a deferred store is acknowledged only after wait_commit"]
pub struct Commit(u64);

impl Commit {
    /// Nothing to wait for.
    pub const NONE: Commit = Commit(0);
}

/// Why a record could not be stored. Exhaustive on purpose: callers map each variant to a
/// result code.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("storage is full")]
    OutOfSpace,
    #[error("record too big for a write block")]
    RecordTooBig,
    #[error("storage I/O failed: {0}")]
    Io(String),
}

impl From<aerie_storage::StorageError> for StoreError {
    fn from(e: aerie_storage::StorageError) -> Self {
        match e {
            aerie_storage::StorageError::OutOfSpace => Self::OutOfSpace,
            aerie_storage::StorageError::RecordTooBig(_) => Self::RecordTooBig,
            other => Self::Io(other.to_string()),
        }
    }
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
            node,
            persistence: None,
            usage: Usage::default(),
            hook: std::sync::OnceLock::new(),
            raider: crate::tomb::Raider::default(),
            closed: std::sync::atomic::AtomicBool::new(false),
            start_type: "memory",
            start_ms: 0,
            config,
        }
    }

    /// Recomputes space use and the stop-writes flag. Memory namespaces measure record data
    /// against `data-size` (no limit without one); persisted namespaces measure write blocks
    /// in use against the storage size.
    pub fn update_usage(&self) {
        let data: u64 = self
            .partitions
            .iter()
            .map(|p| p.lock().data_bytes() as u64)
            .sum();
        self.usage.data_bytes.store(data, Ordering::Relaxed);
        let pct = match (&self.persistence, &self.config.storage) {
            (Some(p), _) => {
                let wb = u64::from(p.wblock_bytes);
                let total = p.writer.total_blocks() as u64;
                let used = total.saturating_sub(p.writer.free_blocks() as u64);
                self.usage
                    .device_used_bytes
                    .store(used * wb, Ordering::Relaxed);
                self.usage
                    .device_total_bytes
                    .store(total * wb, Ordering::Relaxed);
                (used * 100).checked_div(total).unwrap_or(0)
            }
            (None, aerie_config::StorageEngineConfig::Memory(m)) => m
                .data_size_bytes
                .and_then(|size| (data * 100).checked_div(size))
                .unwrap_or(0),
            (None, _) => 0,
        };
        self.usage.used_pct.store(pct, Ordering::Relaxed);
        let limit = u64::from(self.config.stop_writes_used_pct);
        let stop = limit > 0 && pct >= limit;
        let was = self.usage.stop_writes.swap(stop, Ordering::Relaxed);
        if stop != was {
            tracing::warn!(namespace = %self.name, used_pct = pct, stop_writes = stop, "stop-writes changed");
        }
    }

    /// Whether client writes are refused for lack of space.
    #[inline]
    pub fn stop_writes(&self) -> bool {
        self.usage.stop_writes.load(Ordering::Relaxed)
    }

    /// Eviction: when use is above `evict-used-pct`, removes the records that expire soonest
    /// (never-expiring records are never evicted), `evict-tenths-pct` tenths of a percent of
    /// the evictable records per pass. Returns the records evicted.
    pub fn evict_pass(&self) -> u64 {
        let limit = u64::from(self.config.evict_used_pct);
        if limit == 0 || self.usage.used_pct.load(Ordering::Relaxed) < limit {
            return 0;
        }
        // Find the void-time cut-off below which the target share of records lies.
        let mut void_times: Vec<u32> = Vec::new();
        for p in self.partitions.iter() {
            let idx = p.lock();
            void_times.extend(
                idx.iter_from(None)
                    .map(|(_, r)| r.meta.void_time)
                    .filter(|&v| v != 0),
            );
        }
        if void_times.is_empty() {
            tracing::warn!(namespace = %self.name, "above evict-used-pct but no record has a TTL to evict");
            return 0;
        }
        let tenths = u64::from(self.config.evict_tenths_pct.max(1));
        let target = ((void_times.len() as u64 * tenths).div_ceil(1000)).max(1) as usize;
        let nth = target.min(void_times.len()) - 1;
        let (_, &mut cutoff, _) = void_times.select_nth_unstable(nth);
        let evicted = self.sweep(|r| r.meta.void_time == 0 || r.meta.void_time > cutoff);
        self.stats
            .evicted_objects
            .fetch_add(evicted, Ordering::Relaxed);
        tracing::info!(namespace = %self.name, evicted, cutoff_void_time = cutoff, "eviction pass");
        evicted
    }

    /// Opens a namespace: with storage files configured, replays them (cold start) and
    /// continues writing to them; otherwise an empty in-memory namespace.
    pub fn open(config: NamespaceConfig, node: NodeId) -> Result<Self, String> {
        let settings = StorageSettings::from_config(&config);
        let mut ns = Self::new(config, node);
        if let Some(s) = settings {
            ns.cold_start(&s)
                .map_err(|e| format!("namespace {}: {e}", ns.name))?;
        }
        Ok(ns)
    }

    fn cold_start(&mut self, s: &StorageSettings) -> Result<(), aerie_storage::StorageError> {
        let started = std::time::Instant::now();
        let devices = Persistence::open_devices(s)?;
        let meta_path = std::path::PathBuf::from(format!(
            "{}.meta",
            s.files.first().map(String::as_str).unwrap_or("aerie")
        ));
        self.load_truncate_meta(&meta_path);
        if s.data_in_memory {
            // Only `storage-engine device` warm-restarts; a snapshot left by an earlier
            // configuration is stale.
            let _ = std::fs::remove_file(s.snapshot_path());
        } else {
            match self.warm_start(s, &devices) {
                Ok(Some(next_seq)) => {
                    return self.finish_start(s, devices, next_seq, "warm", started)
                }
                Ok(None) => {}
                Err(why) => tracing::warn!(
                    namespace = %self.name,
                    "warm restart not possible ({why}); cold start"
                ),
            }
        }
        if s.cold_start_empty {
            let blocks =
                aerie_storage::scan::written_blocks(&devices, &self.name, s.wblock_bytes as u32)?;
            let next_seq = blocks.last().map_or(1, |b| b.0 + 1);
            tracing::info!(namespace = %self.name, "cold-start-empty: the records on the devices are ignored");
            return self.finish_start(s, devices, next_seq, "cold-empty", started);
        }
        // Replay: every image goes to its partition's run in write order. A tombstone that is
        // its digest's last image stays tracked (and counts as live data) until the tomb raider
        // finds no older image of the digest left on the device.
        let mut runs: Vec<Vec<Replayed>> = (0..N_PARTITIONS).map(|_| Vec::new()).collect();
        let mut order = 0u64;
        let mut last_set: (Vec<u8>, SetId) = (Vec::new(), NO_SET);
        let mut set_error = None;
        let mut plain = Vec::new();
        let summary = aerie_storage::scan::scan_devices(
            &devices,
            &self.name,
            s.wblock_bytes as u32,
            |img, loc| {
                order += 1;
                let record = if img.tombstone {
                    Record::on_device(RecordMeta::default(), persist::pack(loc))
                } else {
                    if img.set != last_set.0.as_slice() {
                        let id = self.sets.get_or_create(img.set).unwrap_or_else(|e| {
                            set_error = Some(e);
                            NO_SET
                        });
                        last_set = (img.set.to_vec(), id);
                    }
                    let meta = RecordMeta {
                        last_update_ms: img.last_update_ms,
                        void_time: img.void_time,
                        generation: img.generation,
                        set_id: last_set.1,
                    };
                    if s.data_in_memory {
                        let data = if img.codec == aerie_storage::Codec::None {
                            img.data
                        } else {
                            match aerie_storage::compress::decompress(
                                img.codec, img.data, &mut plain,
                            ) {
                                Ok(()) => plain.as_slice(),
                                Err(e) => {
                                    tracing::warn!(namespace = %self.name, "cold start: {e}; record skipped");
                                    return;
                                }
                            }
                        };
                        Record::with_location_from(meta, data, persist::pack(loc))
                    } else {
                        Record::on_device(meta, persist::pack(loc))
                    }
                };
                let pid = partition_id(&img.digest) as usize;
                if let Some(run) = runs.get_mut(pid) {
                    run.push(Replayed {
                        digest: img.digest,
                        order,
                        record,
                        tombstone: img.tombstone,
                    });
                }
            },
        )?;
        if let Some(e) = set_error {
            tracing::warn!(namespace = %self.name, "cold start: a set name could not be restored: {e:?}");
        }
        let scan_ms = started.elapsed().as_millis() as u64;
        self.build_indexes(runs);
        tracing::info!(
            namespace = %self.name,
            scan_ms,
            images_scanned = summary.records,
            blocks = summary.blocks,
            corrupt_blocks = summary.corrupt_blocks,
            "cold start: files replayed"
        );
        self.finish_start(s, devices, summary.next_seq, "cold", started)
    }

    /// Counts what the index holds, the live bytes of every write block, and starts the
    /// writer at sequence `next_seq`.
    fn finish_start(
        &mut self,
        s: &StorageSettings,
        devices: Vec<Arc<dyn aerie_storage::Device>>,
        next_seq: u64,
        kind: &'static str,
        started: std::time::Instant,
    ) -> Result<(), aerie_storage::StorageError> {
        let wb = s.wblock_bytes;
        let mut live: Vec<Vec<u32>> = devices
            .iter()
            .map(|d| vec![0; (d.len() / wb) as usize])
            .collect();
        let mut add_live = |l: aerie_storage::Location| {
            if let Some(slot) = live
                .get_mut(l.device as usize)
                .and_then(|t| t.get_mut(l.wblock as usize))
            {
                *slot += aerie_storage::format::align_up(l.size as usize) as u32;
            }
        };
        let mut kept = 0u64;
        let mut tombstones = 0usize;
        for p in self.partitions.iter() {
            let idx = p.lock();
            for (_, r) in idx.iter_from(None) {
                kept += 1;
                self.sets.add_objects(r.meta.set_id, 1);
                if let Some(l) = r.location().map(persist::unpack) {
                    add_live(l);
                }
            }
            for (_, l) in idx.tombstones() {
                tombstones += 1;
                add_live(persist::unpack(l));
            }
        }
        let summary = aerie_storage::scan::ScanSummary {
            next_seq,
            ..Default::default()
        };
        let p = Persistence::start(&self.name, s, devices, &summary, live)?;
        self.start_type = kind;
        self.start_ms = started.elapsed().as_millis() as u64;
        tracing::info!(
            namespace = %self.name,
            start = kind,
            records = kept,
            tombstones,
            free_blocks = p.writer.free_blocks(),
            total_blocks = p.writer.total_blocks(),
            ms = self.start_ms,
            "{kind} start done"
        );
        self.persistence = Some(p);
        Ok(())
    }

    /// Builds every partition's index from its replayed images, in parallel: sort by digest
    /// then write order, keep each digest's last image, and drop tombstones, expired and
    /// truncated records. Bulk building avoids the cost of one sorted insert per image.
    fn build_indexes(&self, mut runs: Vec<Vec<Replayed>>) {
        let now = time::now_secs();
        let threads = std::thread::available_parallelism()
            .map_or(2, |n| n.get())
            .clamp(1, 8);
        let per_thread = runs.len().div_ceil(threads);
        std::thread::scope(|scope| {
            for (chunk_no, chunk) in runs.chunks_mut(per_thread).enumerate() {
                scope.spawn(move || {
                    for (i, run) in chunk.iter_mut().enumerate() {
                        let pid = chunk_no * per_thread + i;
                        let mut run = std::mem::take(run);
                        run.sort_unstable_by(|a, b| {
                            a.digest.cmp(&b.digest).then(a.order.cmp(&b.order))
                        });
                        let mut entries: Vec<(Digest, Record)> = Vec::with_capacity(run.len());
                        let mut tombs: Vec<(Digest, u64)> = Vec::new();
                        let mut it = run.into_iter().peekable();
                        while let Some(r) = it.next() {
                            if it.peek().is_some_and(|next| next.digest == r.digest) {
                                continue; // a later image of the same digest wins
                            }
                            if r.tombstone {
                                if let Some(l) = r.record.location() {
                                    tombs.push((r.digest, l));
                                }
                            } else if self.is_live(&r.record, now) {
                                entries.push((r.digest, r.record));
                            }
                        }
                        if let Some(p) = self.partitions.get(pid) {
                            let mut idx = PartitionIndex::from_sorted(entries);
                            for (d, l) in tombs {
                                idx.add_tombstone(d, l);
                            }
                            *p.lock() = idx;
                        }
                    }
                });
            }
        });
    }

    /// Stores a record under the caller's partition lock: appends its image to storage when
    /// the namespace is persisted (releasing the image it supersedes), then indexes it.
    /// Returns whether the digest is new to the index. With `commit-to-device` it returns
    /// only once the image is durable, still holding the caller's lock: callers that can
    /// release the lock first use [`Namespace::store_deferred`].
    pub fn store(
        &self,
        idx: &mut PartitionIndex,
        digest: Digest,
        meta: RecordMeta,
        data: Vec<u8>,
        set_name: &[u8],
    ) -> Result<bool, StoreError> {
        let (new, commit) = self.store_deferred(idx, digest, meta, data, set_name)?;
        self.wait_commit(commit)?;
        Ok(new)
    }

    /// Waits until a deferred store is durable (`commit-to-device`; at once otherwise). Call
    /// it after releasing the partition lock and before acknowledging the write: writers
    /// waiting together share one device sync (group commit).
    pub fn wait_commit(&self, commit: Commit) -> Result<(), StoreError> {
        match (&self.persistence, commit.0) {
            (Some(p), ticket) if ticket > 0 => {
                p.writer.wait_durable(ticket).map_err(StoreError::from)
            }
            _ => Ok(()),
        }
    }

    /// As [`Namespace::store`], without waiting for durability: returns whether the digest
    /// is new and the write's [`Commit`] ticket, for [`Namespace::wait_commit`].
    pub fn store_deferred(
        &self,
        idx: &mut PartitionIndex,
        digest: Digest,
        meta: RecordMeta,
        data: Vec<u8>,
        set_name: &[u8],
    ) -> Result<(bool, Commit), StoreError> {
        if self.stop_writes() {
            self.stats
                .stop_writes_refused
                .fetch_add(1, Ordering::Relaxed);
            return Err(StoreError::OutOfSpace);
        }
        let Some(p) = &self.persistence else {
            let old = idx.insert(digest, Record::from_data(meta, data));
            if let Some(h) = self.hook.get() {
                let new = idx.get(&digest).and_then(Record::resident);
                h.changed(
                    &digest,
                    old.as_ref().and_then(Record::resident).as_ref(),
                    new.as_ref(),
                );
            }
            return Ok((old.is_none(), Commit::NONE));
        };
        if self.closed.load(Ordering::Acquire) {
            return Err(StoreError::Io(CLOSED.into()));
        }
        let mut scratch = Vec::new();
        let (codec, stored) = p.compress(&data, &mut scratch);
        let img = aerie_storage::RecordImage {
            digest,
            last_update_ms: meta.last_update_ms,
            void_time: meta.void_time,
            generation: meta.generation,
            tombstone: false,
            codec,
            set: set_name,
            data: stored,
        };
        let (loc, ticket) = p.writer.append_deferred(&img)?;
        drop(scratch);
        let loc = persist::pack(loc);
        let commit = Commit(ticket);
        if let Some(t) = idx.take_tombstone(&digest) {
            // The new image hides every older one: the tombstone is obsolete.
            p.release(t);
        }
        let record = if p.data_in_memory {
            Record::with_location(meta, data, loc)
        } else {
            // The hook sees the new bins from the data in hand, before it is dropped.
            if let Some(h) = self.hook.get() {
                let mut buf = ReadBuf::new();
                let old = idx.get(&digest).and_then(|r| self.data_or_log(r, &mut buf));
                h.changed(
                    &digest,
                    old.as_ref(),
                    Some(&RecordData::from_image(meta, &data)),
                );
            }
            Record::on_device(meta, loc)
        };
        let old = idx.insert(digest, record);
        if p.data_in_memory {
            if let Some(h) = self.hook.get() {
                let new = idx.get(&digest).and_then(Record::resident);
                h.changed(
                    &digest,
                    old.as_ref().and_then(Record::resident).as_ref(),
                    new.as_ref(),
                );
            }
        }
        match old {
            Some(old) => {
                if let Some(l) = old.location() {
                    p.release(l);
                }
                Ok((false, commit))
            }
            None => Ok((true, commit)),
        }
    }

    /// Deletes a record under the caller's partition lock; persisted namespaces first write
    /// a tombstone. Returns the removed record.
    pub fn delete_record(
        &self,
        idx: &mut PartitionIndex,
        digest: &Digest,
    ) -> Result<Option<Record>, StoreError> {
        let Some(p) = &self.persistence else {
            return Ok(self.unindex(idx, digest));
        };
        let Some(old) = idx.get(digest) else {
            return Ok(None);
        };
        if self.closed.load(Ordering::Acquire) {
            return Err(StoreError::Io(CLOSED.into()));
        }
        let set = self
            .sets
            .get(old.meta.set_id)
            .map(|s| s.name.as_bytes())
            .unwrap_or_default();
        let img = aerie_storage::RecordImage {
            digest: *digest,
            last_update_ms: time::now_ms().max(old.meta.last_update_ms + 1),
            void_time: 0,
            generation: old.meta.generation.wrapping_add(1),
            tombstone: true,
            codec: aerie_storage::Codec::None,
            set,
            data: &[],
        };
        let tomb = p.append(&img)?;
        if let Some(older) = idx.add_tombstone(*digest, tomb) {
            p.release(older);
        }
        let removed = self.unindex(idx, digest);
        if let Some(l) = removed.as_ref().and_then(Record::location) {
            p.release(l);
        }
        Ok(removed)
    }

    fn unindex(&self, idx: &mut PartitionIndex, digest: &Digest) -> Option<Record> {
        let r = idx.remove(digest)?;
        if let Some(h) = self.hook.get() {
            let mut buf = ReadBuf::new();
            h.changed(digest, self.data_or_log(&r, &mut buf).as_ref(), None);
        }
        if r.meta.set_id != NO_SET {
            self.sets.add_objects(r.meta.set_id, -1);
        }
        Some(r)
    }

    /// Writes out the partly filled write block (the `flush-max-ms` timer).
    pub fn flush_storage(&self) -> Result<(), StoreError> {
        match &self.persistence {
            Some(p) => p.writer.flush().map_err(StoreError::from),
            None => Ok(()),
        }
    }

    /// One defragmentation pass: every block whose live data fell below `defrag-lwm-pct` has
    /// its still-current images rewritten to the write buffer, after which the block is free.
    /// Each image is moved under its partition's lock, one at a time, so foreground writes
    /// wait at most for one move. Returns the blocks freed and the images moved.
    pub fn defrag_pass(&self) -> (usize, u64) {
        let Some(p) = &self.persistence else {
            return (0, 0);
        };
        let mut freed = 0usize;
        let mut moved = 0u64;
        let mut buf = Vec::new();
        for (dev, block) in p.writer.defrag_candidates(p.defrag_lwm_pct) {
            let seq = match p.writer.read_block(dev, block, &mut buf) {
                Ok(Some(seq)) => seq,
                Ok(None) => continue,
                Err(e) => {
                    tracing::error!(namespace = %self.name, "defrag read failed: {e}");
                    continue;
                }
            };
            let mut off = aerie_storage::WBLOCK_HEADER_BYTES;
            while off < buf.len() {
                let aerie_storage::format::Decoded::Image(img, size) =
                    aerie_storage::format::decode_record(seq, buf.get(off..).unwrap_or_default())
                else {
                    break;
                };
                let here = aerie_storage::Location {
                    device: dev,
                    wblock: block,
                    offset: off as u32,
                    size: size as u32,
                };
                off += aerie_storage::format::align_up(size);
                if let Err(e) = self.defrag_move(p, &img, here) {
                    tracing::error!(namespace = %self.name, "defrag stopped: {e}");
                    return (freed, moved);
                }
                moved += 1;
            }
            if p.writer.live_bytes(dev, block) == 0 {
                freed += 1;
            }
        }
        self.maybe_raid_tombstones();
        (freed, moved)
    }

    /// Moves one image found in a block being defragmented, if it is still current.
    fn defrag_move(
        &self,
        p: &Persistence,
        img: &aerie_storage::RecordImage<'_>,
        here: aerie_storage::Location,
    ) -> Result<(), aerie_storage::StorageError> {
        let packed_here = persist::pack(here);
        let mut idx = self.partition(&img.digest).lock();
        if self.closed.load(Ordering::Acquire) {
            return Ok(()); // the devices are final (shutdown)
        }
        if img.tombstone {
            // Moved while still tracked; a dropped or superseded tombstone's bytes were
            // released when it stopped being tracked.
            if idx.tombstone(&img.digest) == Some(packed_here) {
                let moved = p.append_defrag(img)?;
                idx.add_tombstone(img.digest, moved);
                p.release(packed_here);
            }
            return Ok(());
        }
        let Some(r) = idx.get_mut(&img.digest) else {
            return Ok(());
        };
        if r.location() != Some(packed_here) {
            return Ok(());
        }
        let loc = p.append_defrag(img)?;
        r.set_location(loc);
        p.release(packed_here);
        Ok(())
    }

    /// Write blocks in use and in total, when the namespace is persisted.
    pub fn storage_blocks(&self) -> Option<(usize, usize)> {
        let p = self.persistence.as_ref()?;
        let total = p.writer.total_blocks();
        Some((total.saturating_sub(p.writer.free_blocks()), total))
    }

    /// Stored over original bytes of the record data written since start
    /// (`device_compression_ratio`; 1 without compression or storage files).
    pub fn compression_ratio(&self) -> f64 {
        self.persistence
            .as_ref()
            .map_or(1.0, Persistence::compression_ratio)
    }

    /// Syncs issued by group commits (`commit-to-device`), 0 when not persisted.
    pub fn group_commits(&self) -> u64 {
        self.persistence
            .as_ref()
            .map_or(0, |p| p.writer.group_syncs())
    }

    /// The flush interval, when the namespace is persisted.
    pub fn flush_interval_ms(&self) -> Option<u64> {
        self.persistence.as_ref().map(|p| p.flush_max_ms.max(1))
    }

    /// Removes, across every partition, the records for which `keep` is false, with their
    /// bookkeeping (set counts, record hooks, storage images). Each partition is locked only
    /// while it is swept. Returns the records removed.
    fn sweep(&self, mut keep: impl FnMut(&Record) -> bool) -> u64 {
        let mut removed = 0u64;
        for p in self.partitions.iter() {
            let mut idx = p.lock();
            idx.retain(
                |d, r| {
                    let k = keep(r);
                    self.unhook_unless(k, d, r)
                },
                |r| {
                    removed += 1;
                    self.sets.add_objects(r.meta.set_id, -1);
                    self.release_image(r);
                },
            );
        }
        removed
    }

    /// Releases the storage image of a record removed from the index by a sweep.
    fn release_image(&self, r: &Record) {
        if let (Some(p), Some(l)) = (&self.persistence, r.location()) {
            p.release(l);
        }
    }

    fn load_truncate_meta(&self, path: &std::path::Path) {
        let Ok(text) = std::fs::read_to_string(path) else {
            return;
        };
        for line in text.lines() {
            let mut parts = line.split_whitespace();
            let (Some(kind), Some(set), Some(lut)) = (parts.next(), parts.next(), parts.next())
            else {
                continue;
            };
            let Ok(lut) = lut.parse::<u64>() else {
                continue;
            };
            if kind != "truncate" {
                continue;
            }
            if set == "*" {
                self.truncate_lut_ms.fetch_max(lut, Ordering::Relaxed);
            } else if let Ok(id) = self.sets.get_or_create(set.as_bytes()) {
                if let Some(s) = self.sets.get(id) {
                    s.truncate_lut_ms.fetch_max(lut, Ordering::Relaxed);
                }
            }
        }
    }

    /// Persists truncate cut-offs next to the storage files, so a restart honours them.
    fn save_truncate_meta(&self) {
        let Some(p) = &self.persistence else { return };
        let mut text = format!(
            "truncate * {}\n",
            self.truncate_lut_ms.load(Ordering::Relaxed)
        );
        for (_, s) in self.sets.iter() {
            let lut = s.truncate_lut_ms.load(Ordering::Relaxed);
            if lut > 0 {
                text.push_str(&format!("truncate {} {lut}\n", s.name));
            }
        }
        let tmp = p.meta_path.with_extension("meta.tmp");
        let result = std::fs::write(&tmp, text).and_then(|()| std::fs::rename(&tmp, &p.meta_path));
        if let Err(e) = result {
            tracing::error!(namespace = %self.name, "cannot save truncate cut-offs to {}: {e}", p.meta_path.display());
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

    /// This node's id, as the ownership table names it.
    pub fn node(&self) -> NodeId {
        self.node
    }

    /// Replaces the ownership table (clustering).
    pub fn set_ownership(&self, table: OwnershipTable) {
        *self.ownership.write() = Arc::new(table);
    }

    /// Installs the record-change hook, or returns the one already installed.
    pub fn hook_or_init(
        &self,
        init: impl FnOnce() -> Arc<dyn crate::hook::RecordHook>,
    ) -> &Arc<dyn crate::hook::RecordHook> {
        self.hook.get_or_init(init)
    }

    /// The record-change hook, if one is installed.
    pub fn hook(&self) -> Option<&Arc<dyn crate::hook::RecordHook>> {
        self.hook.get()
    }

    /// A record's data for the hook; a failed device read is logged (by `data`) and the hook
    /// then sees no old version.
    fn data_or_log<'a>(&self, r: &'a Record, buf: &'a mut ReadBuf) -> Option<RecordData<'a>> {
        self.data(r, buf).ok()
    }

    /// For sweeps: tells the hook of a record about to be removed; returns `keep`.
    #[inline]
    fn unhook_unless(&self, keep: bool, digest: &Digest, r: &Record) -> bool {
        if !keep {
            if let Some(h) = self.hook.get() {
                let mut buf = ReadBuf::new();
                h.changed(digest, self.data_or_log(r, &mut buf).as_ref(), None);
            }
        }
        keep
    }

    /// The tomb raider's state.
    pub fn raider(&self) -> &crate::tomb::Raider {
        &self.raider
    }

    /// Marks the namespace closed: writes are refused from now on (`crate::warm`).
    pub(crate) fn set_closed(&self) {
        self.closed.store(true, Ordering::Release);
    }

    /// Whether the namespace has storage files (its commands may wait on a device).
    pub fn has_storage(&self) -> bool {
        self.persistence.is_some()
    }

    /// The storage files, when the namespace is persisted.
    pub(crate) fn persistence(&self) -> Option<&Persistence> {
        self.persistence.as_ref()
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
        self.sets
            .get(set_id)
            .and_then(|s| s.default_ttl_secs)
            .unwrap_or(self.config.default_ttl_secs)
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
        if lut_ms.is_none() {
            // Records last updated at or before the cut-off disappear, so a "now" truncate
            // returns only once the clock has passed it: a write acknowledged after the
            // truncate then always carries a later time and stays visible.
            while time::now_ms() <= cutoff {
                std::thread::sleep(std::time::Duration::from_micros(200));
            }
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
        self.save_truncate_meta();
        let removed = self.sweep(|r| {
            !(set_id.is_none_or(|id| id == r.meta.set_id) && r.meta.last_update_ms <= cutoff)
        });
        self.stats
            .truncated_records
            .fetch_add(removed, Ordering::Relaxed);
        Ok(removed)
    }
}

impl Namespace {
    /// One expiry pass (nsup): removes every record whose void time has passed. Each
    /// partition is locked only while it is swept. Returns the records removed.
    pub fn expire_pass(&self) -> u64 {
        let now = time::now_secs();
        let removed = self.sweep(|r| !r.is_expired(now));
        self.stats
            .expired_objects
            .fetch_add(removed, Ordering::Relaxed);
        removed
    }
}

/// Why a truncate was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TruncateError {
    /// The cut-off lies in the future.
    FutureLut,
}

/// Most namespaces a node holds over one run, run-time creations and deletions included
/// (the reference server's `AS_NAMESPACE_SZ` is 32).
pub const MAX_NAMESPACES: usize = 32;

/// Every namespace of the node: those of the configuration, then those created at run time.
///
/// Append-only slots: a namespace, once added, stays at its address for the registry's life,
/// so lookups hand out plain references and need no lock. Deleting a namespace hides it from
/// [`Registry::get`] and [`Registry::iter`]; its memory (and any storage file it opened) is
/// released at the next restart, which is why [`Registry::storage_in_use`] still reports it.
#[derive(Debug)]
pub struct Registry {
    slots: Box<[std::sync::OnceLock<Arc<Namespace>>]>,
    deleted: Box<[std::sync::atomic::AtomicBool]>,
    /// Serializes additions and deletions (lookups never take it).
    change: parking_lot::Mutex<()>,
}

impl Default for Registry {
    fn default() -> Self {
        Self::with_namespaces(Vec::new())
    }
}

/// Why a namespace could not be added or deleted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RegistryError {
    #[error("namespace {0} already exists")]
    Exists(String),
    #[error("namespace {0} not found")]
    NotFound(String),
    #[error("no room for another namespace (at most {MAX_NAMESPACES} per run)")]
    Full,
    #[error("storage file {0} is in use by namespace {1} (a deleted namespace frees its files at restart)")]
    FileInUse(String, String),
}

impl Registry {
    fn with_namespaces(namespaces: Vec<Arc<Namespace>>) -> Self {
        let slots: Box<[std::sync::OnceLock<Arc<Namespace>>]> = (0..MAX_NAMESPACES
            .max(namespaces.len()))
            .map(|_| std::sync::OnceLock::new())
            .collect();
        for (slot, ns) in slots.iter().zip(namespaces) {
            let _ = slot.set(ns);
        }
        let deleted = (0..slots.len())
            .map(|_| std::sync::atomic::AtomicBool::new(false))
            .collect();
        Self {
            slots,
            deleted,
            change: parking_lot::Mutex::new(()),
        }
    }

    /// Builds an in-memory registry from configuration, ignoring storage files (tests,
    /// fuzzing). The server uses [`Registry::open`].
    pub fn new(configs: &[NamespaceConfig], node: NodeId) -> Self {
        Self::with_namespaces(
            configs
                .iter()
                .map(|c| Arc::new(Namespace::new(c.clone(), node)))
                .collect(),
        )
    }

    /// Opens every namespace, replaying storage files where configured.
    pub fn open(configs: &[NamespaceConfig], node: NodeId) -> Result<Self, String> {
        let namespaces = configs
            .iter()
            .map(|c| Namespace::open(c.clone(), node).map(Arc::new))
            .collect::<Result<_, _>>()?;
        Ok(Self::with_namespaces(namespaces))
    }

    /// The namespace called `name`.
    #[inline]
    pub fn get(&self, name: &[u8]) -> Option<&Arc<Namespace>> {
        self.iter().find(|n| n.name.as_bytes() == name)
    }

    /// All namespaces: configuration order, then creation order.
    pub fn iter(&self) -> impl Iterator<Item = &Arc<Namespace>> {
        self.slots
            .iter()
            .zip(self.deleted.iter())
            .map_while(|(slot, deleted)| Some((slot.get()?, deleted)))
            .filter(|(_, deleted)| !deleted.load(Ordering::Acquire))
            .map(|(ns, _)| ns)
    }

    /// The live or deleted namespace that opened storage file `file`, if any.
    pub fn storage_in_use(&self, file: &str) -> Option<&Arc<Namespace>> {
        self.slots.iter().map_while(|s| s.get()).find(|ns| {
            crate::persist::StorageSettings::from_config(&ns.config)
                .is_some_and(|s| s.files.iter().any(|f| f == file))
        })
    }

    /// Adds a namespace opened at run time. `open` runs under the registry's change lock, after
    /// the name and storage files were checked, so two creations cannot race.
    pub fn add(
        &self,
        config: NamespaceConfig,
        open: impl FnOnce(NamespaceConfig) -> Result<Namespace, String>,
    ) -> Result<Result<&Arc<Namespace>, String>, RegistryError> {
        let _guard = self.change.lock();
        if self.get(config.name.as_bytes()).is_some() {
            return Err(RegistryError::Exists(config.name));
        }
        if let Some(settings) = crate::persist::StorageSettings::from_config(&config) {
            for f in &settings.files {
                if let Some(other) = self.storage_in_use(f) {
                    return Err(RegistryError::FileInUse(f.clone(), other.name.clone()));
                }
            }
        }
        let slot = self
            .slots
            .iter()
            .find(|s| s.get().is_none())
            .ok_or(RegistryError::Full)?;
        let ns = match open(config) {
            Ok(ns) => Arc::new(ns),
            Err(e) => return Ok(Err(e)),
        };
        let _ = slot.set(ns);
        Ok(slot
            .get()
            .ok_or_else(|| "namespace slot not set".to_owned()))
    }

    /// Hides namespace `name` from lookups; returns it so the caller can release its records.
    pub fn delete(&self, name: &str) -> Result<Arc<Namespace>, RegistryError> {
        let _guard = self.change.lock();
        for (slot, deleted) in self.slots.iter().zip(self.deleted.iter()) {
            let Some(ns) = slot.get() else { break };
            if ns.name == name && !deleted.load(Ordering::Acquire) {
                deleted.store(true, Ordering::Release);
                return Ok(ns.clone());
            }
        }
        Err(RegistryError::NotFound(name.to_owned()))
    }
}

#[cfg(test)]
mod registry_tests {
    use super::*;

    fn config(name: &str) -> NamespaceConfig {
        let text =
            format!("namespace {name} {{\n replication-factor 1\n storage-engine memory\n}}\n");
        let mut c =
            aerie_config::parse_str(&text, "test").map_or_else(|e| panic!("{e}"), |c| c.namespaces);
        c.pop().unwrap_or_else(|| panic!("no namespace parsed"))
    }

    #[test]
    fn grows_deletes_and_refuses_clashes() {
        let r = Registry::new(&[config("a")], 1);
        assert!(r.get(b"a").is_some());
        let added = r.add(config("b"), |c| Ok(Namespace::new(c, 1)));
        assert!(matches!(added, Ok(Ok(ns)) if ns.name == "b"));
        assert_eq!(
            r.iter().map(|n| n.name.as_str()).collect::<Vec<_>>(),
            ["a", "b"]
        );
        assert!(matches!(
            r.add(config("b"), |c| Ok(Namespace::new(c, 1))),
            Err(RegistryError::Exists(_))
        ));
        assert!(r.delete("b").is_ok());
        assert!(r.get(b"b").is_none());
        assert!(matches!(r.delete("b"), Err(RegistryError::NotFound(_))));
        // A deleted name can be created again, in a new slot.
        assert!(matches!(
            r.add(config("b"), |c| Ok(Namespace::new(c, 1))),
            Ok(Ok(_))
        ));
        assert_eq!(r.iter().count(), 2);
    }
}
