//! Warm restart: the index snapshot a clean shutdown leaves beside the storage files, so the
//! next start rebuilds the primary index without reading every write block (Aerospike's
//! fast restart keeps the index in shared memory; this keeps it in a file).
//!
//! Owns the snapshot's byte layout and its validation. The snapshot is taken with every
//! partition locked, after the write buffer is synced, and is consumed (deleted) before the
//! node serves a command, so it can only ever describe the devices exactly as the clean
//! shutdown left them. A start validates it — checksum, namespace, write-block size, device
//! sizes, and the highest write-block sequence found on the devices — and falls back to a
//! cold start on any mismatch (a crash leaves no snapshot, since it was deleted at start).
//!
//! Layout (big-endian), `<first file>.index`:
//!
//! | size | field |
//! |---:|---|
//! | 8 | magic `AERIEIX1` |
//! | 4 | write-block size |
//! | 8 | next write-block sequence (one past the highest on the devices) |
//! | 1 + n | namespace name |
//! | 4 | devices, then 8 per device: its size |
//! | 4 | sets, then per set: 2 id, 1 + n name |
//! | per partition (4096) | 4 records, 4 tombstones, records (20 digest, 8 last-update ms, 4 void time, 2 generation, 2 set id, 8 packed location), tombstones (20 digest, 8 packed location) |
//! | 4 | CRC-32 of everything before |

use std::io::Write as _;
use std::path::Path;
use std::sync::Arc;

use aerie_record::{time, Digest, DIGEST_SIZE, N_PARTITIONS};
use aerie_storage::Device;

use crate::index::PartitionIndex;
use crate::namespace::{Namespace, StoreError};
use crate::persist::StorageSettings;
use crate::record::{Record, RecordMeta};

/// Snapshot magic.
const MAGIC: [u8; 8] = *b"AERIEIX1";
/// Bytes of one record entry.
pub(crate) const ENTRY_BYTES: usize = DIGEST_SIZE + 8 + 4 + 2 + 2 + 8;
/// Bytes of one tombstone entry.
const TOMB_BYTES: usize = DIGEST_SIZE + 8;

/// One partition's part of a snapshot: records in digest order, and tracked tombstones.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub(crate) struct PartSnap {
    pub records: Vec<(Digest, RecordMeta, u64)>,
    pub tombstones: Vec<(Digest, u64)>,
}

/// A decoded index snapshot.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Snapshot {
    pub namespace: String,
    pub wblock_bytes: u32,
    pub next_seq: u64,
    pub device_lens: Vec<u64>,
    /// Set ids as the records use them, with their names.
    pub sets: Vec<(u16, Vec<u8>)>,
    /// One per partition, in partition order.
    pub partitions: Vec<PartSnap>,
}

/// Encodes a snapshot's header; partitions follow through [`encode_partition`], then
/// [`finish`] appends the checksum.
pub(crate) fn encode_header(
    out: &mut Vec<u8>,
    namespace: &str,
    wblock_bytes: u32,
    next_seq: u64,
    device_lens: &[u64],
    sets: &[(u16, Vec<u8>)],
) {
    out.extend_from_slice(&MAGIC);
    out.extend_from_slice(&wblock_bytes.to_be_bytes());
    out.extend_from_slice(&next_seq.to_be_bytes());
    let ns = namespace.as_bytes();
    let ns = ns.get(..ns.len().min(255)).unwrap_or_default();
    out.push(ns.len() as u8);
    out.extend_from_slice(ns);
    out.extend_from_slice(&(device_lens.len() as u32).to_be_bytes());
    for l in device_lens {
        out.extend_from_slice(&l.to_be_bytes());
    }
    out.extend_from_slice(&(sets.len() as u32).to_be_bytes());
    for (id, name) in sets {
        let name = name.get(..name.len().min(255)).unwrap_or_default();
        out.extend_from_slice(&id.to_be_bytes());
        out.push(name.len() as u8);
        out.extend_from_slice(name);
    }
}

/// Appends one partition: `records` in digest order.
pub(crate) fn encode_partition<'a>(
    out: &mut Vec<u8>,
    n_records: usize,
    records: impl Iterator<Item = (&'a Digest, RecordMeta, u64)>,
    tombstones: &[(Digest, u64)],
) {
    out.extend_from_slice(&(n_records as u32).to_be_bytes());
    out.extend_from_slice(&(tombstones.len() as u32).to_be_bytes());
    for (d, m, loc) in records {
        out.extend_from_slice(d);
        out.extend_from_slice(&m.last_update_ms.to_be_bytes());
        out.extend_from_slice(&m.void_time.to_be_bytes());
        out.extend_from_slice(&m.generation.to_be_bytes());
        out.extend_from_slice(&m.set_id.to_be_bytes());
        out.extend_from_slice(&loc.to_be_bytes());
    }
    for (d, loc) in tombstones {
        out.extend_from_slice(d);
        out.extend_from_slice(&loc.to_be_bytes());
    }
}

/// Appends the checksum.
#[cfg(test)]
pub(crate) fn finish(out: &mut Vec<u8>) {
    let crc = crc32fast::hash(out);
    out.extend_from_slice(&crc.to_be_bytes());
}

/// Reads fixed-size fields off the front of a byte slice; every read is bounds-checked.
struct Cursor<'a>(&'a [u8]);

impl<'a> Cursor<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], &'static str> {
        if self.0.len() < n {
            return Err("index snapshot is truncated");
        }
        let (head, rest) = self.0.split_at(n);
        self.0 = rest;
        Ok(head)
    }
    fn array<const N: usize>(&mut self) -> Result<[u8; N], &'static str> {
        self.take(N)?
            .try_into()
            .map_err(|_| "index snapshot is truncated")
    }
    fn u8(&mut self) -> Result<u8, &'static str> {
        Ok(u8::from_be_bytes(self.array()?))
    }
    fn u16(&mut self) -> Result<u16, &'static str> {
        Ok(u16::from_be_bytes(self.array()?))
    }
    fn u32(&mut self) -> Result<u32, &'static str> {
        Ok(u32::from_be_bytes(self.array()?))
    }
    fn u64(&mut self) -> Result<u64, &'static str> {
        Ok(u64::from_be_bytes(self.array()?))
    }
    /// A count of items of `item_bytes` each, refused when the bytes left cannot hold them
    /// (so a corrupt count never drives a huge allocation).
    fn count(&mut self, item_bytes: usize) -> Result<usize, &'static str> {
        let n = self.u32()? as usize;
        if n.saturating_mul(item_bytes) > self.0.len() {
            return Err("index snapshot count runs past its end");
        }
        Ok(n)
    }
}

/// Decodes and checks a snapshot (magic, checksum, layout). Validation against the devices is
/// the caller's.
pub(crate) fn decode(b: &[u8]) -> Result<Snapshot, &'static str> {
    let body_len = b
        .len()
        .checked_sub(4)
        .ok_or("index snapshot is truncated")?;
    let (body, crc) = b.split_at(body_len);
    let crc: [u8; 4] = crc.try_into().map_err(|_| "index snapshot is truncated")?;
    if crc32fast::hash(body) != u32::from_be_bytes(crc) {
        return Err("index snapshot checksum mismatch");
    }
    let mut c = Cursor(body);
    if c.array::<8>()? != MAGIC {
        return Err("not an index snapshot (bad magic)");
    }
    let wblock_bytes = c.u32()?;
    let next_seq = c.u64()?;
    let ns_len = c.u8()? as usize;
    let namespace = String::from_utf8_lossy(c.take(ns_len)?).into_owned();
    let n_devices = c.count(8)?;
    let device_lens = (0..n_devices)
        .map(|_| c.u64())
        .collect::<Result<Vec<_>, _>>()?;
    let n_sets = c.count(3)?;
    let mut sets = Vec::with_capacity(n_sets);
    for _ in 0..n_sets {
        let id = c.u16()?;
        let len = c.u8()? as usize;
        sets.push((id, c.take(len)?.to_vec()));
    }
    let mut partitions = Vec::with_capacity(N_PARTITIONS);
    for _ in 0..N_PARTITIONS {
        let n_records = c.count(ENTRY_BYTES)?;
        let n_tombs = c.count(TOMB_BYTES)?;
        let mut p = PartSnap {
            records: Vec::with_capacity(n_records),
            tombstones: Vec::with_capacity(n_tombs),
        };
        let mut prev: Option<Digest> = None;
        for _ in 0..n_records {
            let d: Digest = c.array()?;
            if prev.is_some_and(|p| p >= d) {
                return Err("index snapshot records out of digest order");
            }
            prev = Some(d);
            let meta = RecordMeta {
                last_update_ms: c.u64()?,
                void_time: c.u32()?,
                generation: c.u16()?,
                set_id: c.u16()?,
            };
            p.records.push((d, meta, c.u64()?));
        }
        for _ in 0..n_tombs {
            let d: Digest = c.array()?;
            p.tombstones.push((d, c.u64()?));
        }
        partitions.push(p);
    }
    if !c.0.is_empty() {
        return Err("index snapshot has trailing bytes");
    }
    Ok(Snapshot {
        namespace,
        wblock_bytes,
        next_seq,
        device_lens,
        sets,
        partitions,
    })
}

impl Namespace {
    /// Rebuilds the index from the snapshot a clean shutdown left, when there is one and it
    /// matches the devices; returns the writer's next sequence. The snapshot is deleted
    /// before it is used, so a crash after this start can never bring it back. `Err` says
    /// why a snapshot found was not usable (the caller cold-starts).
    pub(crate) fn warm_start(
        &self,
        s: &StorageSettings,
        devices: &[Arc<dyn Device>],
    ) -> Result<Option<u64>, String> {
        let path = s.snapshot_path();
        let bytes = match std::fs::read(&path) {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(format!("{}: {e}", path.display())),
        };
        remove_durably(&path).map_err(|e| format!("cannot remove {}: {e}", path.display()))?;
        let snap = decode(&bytes).map_err(|e| format!("{}: {e}", path.display()))?;
        drop(bytes);
        if snap.namespace != self.name || u64::from(snap.wblock_bytes) != s.wblock_bytes {
            return Err("the snapshot was written for another namespace or block size".into());
        }
        let lens: Vec<u64> = devices.iter().map(|d| d.len()).collect();
        if snap.device_lens != lens {
            return Err("the storage files changed since the snapshot".into());
        }
        // The devices must be exactly as the clean shutdown left them: a block written since
        // would carry a sequence at or above the snapshot's next one.
        let blocks =
            aerie_storage::scan::written_blocks(devices, &self.name, s.wblock_bytes as u32)
                .map_err(|e| e.to_string())?;
        let on_device_next = blocks.last().map_or(1, |b| b.0 + 1);
        if on_device_next != snap.next_seq {
            return Err(format!(
                "the devices were written after the snapshot (next sequence {on_device_next}, snapshot {})",
                snap.next_seq
            ));
        }
        let mut set_ids = std::collections::HashMap::new();
        set_ids.insert(crate::sets::NO_SET, crate::sets::NO_SET);
        for (old, name) in &snap.sets {
            let new = self
                .sets
                .get_or_create(name)
                .map_err(|e| format!("set {}: {e:?}", String::from_utf8_lossy(name)))?;
            set_ids.insert(*old, new);
        }
        let now = time::now_secs();
        for (part, p) in self.partitions().iter().zip(snap.partitions) {
            let mut entries = Vec::with_capacity(p.records.len());
            for (d, mut meta, loc) in p.records {
                meta.set_id = *set_ids
                    .get(&meta.set_id)
                    .ok_or("a record names a set the snapshot lacks")?;
                let r = Record::on_device(meta, loc);
                if self.is_live(&r, now) {
                    entries.push((d, r));
                }
            }
            let mut idx = PartitionIndex::from_sorted(entries);
            for (d, l) in p.tombstones {
                idx.add_tombstone(d, l);
            }
            *part.lock() = idx;
        }
        Ok(Some(snap.next_seq))
    }

    /// Closes the namespace for shutdown: with every partition locked, refuses all further
    /// writes, writes out and syncs the write buffer, and (for `storage-engine device`) saves
    /// the index snapshot the next start uses for a warm restart.
    pub fn close(&self) -> Result<(), StoreError> {
        let Some(p) = self.persistence() else {
            return Ok(());
        };
        let started = std::time::Instant::now();
        let guards: Vec<_> = self.partitions().iter().map(|p| p.lock()).collect();
        self.set_closed();
        p.writer.close()?;
        if p.data_in_memory {
            return Ok(());
        }
        let tmp = p.snapshot_path.with_extension("index.tmp");
        let mut sets: Vec<(u16, Vec<u8>)> = self
            .sets
            .iter()
            .map(|(id, s)| (id, s.name.as_bytes().to_vec()))
            .collect();
        sets.sort();
        let mut buf = Vec::with_capacity(1 << 20);
        let lens: Vec<u64> = p.devices.iter().map(|d| d.len()).collect();
        encode_header(
            &mut buf,
            &self.name,
            p.wblock_bytes,
            p.writer.next_seq(),
            &lens,
            &sets,
        );
        let io = |e: std::io::Error| StoreError::Io(format!("{}: {e}", tmp.display()));
        let file = std::fs::File::create(&tmp).map_err(io)?;
        let mut w = std::io::BufWriter::with_capacity(1 << 20, file);
        let mut crc = crc32fast::Hasher::new();
        let mut records = 0usize;
        for idx in &guards {
            let n = idx
                .iter_from(None)
                .filter(|(_, r)| r.location().is_some())
                .count();
            records += n;
            let tombs: Vec<(Digest, u64)> = idx.tombstones().map(|(d, l)| (*d, l)).collect();
            encode_partition(
                &mut buf,
                n,
                idx.iter_from(None)
                    .filter_map(|(d, r)| r.location().map(|l| (d, r.meta, l))),
                &tombs,
            );
            if buf.len() >= 1 << 20 {
                crc.update(&buf);
                w.write_all(&buf).map_err(io)?;
                buf.clear();
            }
        }
        crc.update(&buf);
        buf.extend_from_slice(&crc.finalize().to_be_bytes());
        w.write_all(&buf).map_err(io)?;
        let file = w.into_inner().map_err(|e| io(e.into_error()))?;
        file.sync_all().map_err(io)?;
        std::fs::rename(&tmp, &p.snapshot_path).map_err(io)?;
        sync_dir(&p.snapshot_path).map_err(io)?;
        tracing::info!(
            namespace = %self.name,
            records,
            ms = started.elapsed().as_millis() as u64,
            "index snapshot saved for a warm restart"
        );
        Ok(())
    }
}

/// Removes a file and syncs its directory, so the removal survives a crash.
fn remove_durably(path: &Path) -> std::io::Result<()> {
    std::fs::remove_file(path)?;
    sync_dir(path)
}

/// Syncs the directory holding `path`.
fn sync_dir(path: &Path) -> std::io::Result<()> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    std::fs::File::open(dir)?.sync_all()
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn encode(s: &Snapshot) -> Vec<u8> {
        let mut out = Vec::new();
        encode_header(
            &mut out,
            &s.namespace,
            s.wblock_bytes,
            s.next_seq,
            &s.device_lens,
            &s.sets,
        );
        for p in &s.partitions {
            encode_partition(
                &mut out,
                p.records.len(),
                p.records.iter().map(|(d, m, l)| (d, *m, *l)),
                &p.tombstones,
            );
        }
        finish(&mut out);
        out
    }

    fn snapshot(records: Vec<(Digest, u64)>) -> Snapshot {
        let mut partitions = vec![PartSnap::default(); N_PARTITIONS];
        let mut records = records;
        records.sort();
        records.dedup_by(|a, b| a.0 == b.0);
        for (d, v) in records {
            let pid = aerie_record::partition_id(&d) as usize;
            if let Some(p) = partitions.get_mut(pid) {
                let meta = RecordMeta {
                    last_update_ms: v,
                    void_time: v as u32,
                    generation: v as u16,
                    set_id: 1,
                };
                p.records.push((d, meta, v.rotate_left(7)));
                p.tombstones.push((d, v));
            }
        }
        Snapshot {
            namespace: "test".into(),
            wblock_bytes: 1 << 20,
            next_seq: 42,
            device_lens: vec![64 << 20, 32 << 20],
            sets: vec![(1, b"demo".to_vec())],
            partitions,
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 32, ..ProptestConfig::default() })]

        /// Snapshots round-trip; any flipped byte or cut is refused, never a panic.
        #[test]
        fn round_trip_and_damage(
            records in proptest::collection::vec((any::<[u8; 20]>(), any::<u64>()), 0..200),
            flip in any::<prop::sample::Index>(),
            cut in any::<prop::sample::Index>(),
        ) {
            let s = snapshot(records);
            let b = encode(&s);
            prop_assert_eq!(decode(&b), Ok(s));
            let mut damaged = b.clone();
            let i = flip.index(damaged.len());
            if let Some(x) = damaged.get_mut(i) {
                *x ^= 0x20;
            }
            prop_assert!(decode(&damaged).is_err());
            let c = cut.index(b.len());
            prop_assert!(decode(b.get(..c).unwrap_or_default()).is_err());
        }

        /// Arbitrary bytes never panic the decoder.
        #[test]
        fn garbage_is_refused(b in proptest::collection::vec(any::<u8>(), 0..512)) {
            let _ = decode(&b);
        }
    }
}
