//! The tomb raider: drops tombstones that no longer hide anything.
//!
//! A durable delete writes a tombstone so that older images of the digest, still in write
//! blocks on the device, do not come back at cold start. Once no such image is left (its
//! blocks were freed and their headers cleared, or reused), the tombstone is obsolete: the
//! raider releases it, and defragmentation then lets its bytes go with its block. A tombstone
//! is also obsolete as soon as its digest is written again (`Namespace::store`).
//!
//! A raid syncs the devices (so cleared headers are durable), notes the tracked tombstones,
//! reads every write block still holding a header, marks the tombstones whose digest has an
//! image there, and drops the rest if they did not move meanwhile. It runs from the defrag
//! pass, at most every `MIN_PERIOD` and never more than a tenth of the time, so its device
//! reads stay a bounded background load.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use aerie_record::Digest;
use aerie_storage::format::{decode_record, Decoded};
use aerie_storage::WBLOCK_HEADER_BYTES;
use parking_lot::Mutex;

use crate::namespace::Namespace;

/// Shortest time between two raids.
const MIN_PERIOD: Duration = Duration::from_secs(2);
/// A raid waits at least this many times its last duration before the next.
const DUTY_FACTOR: u32 = 10;

/// When the next raid may run, and what raids did.
#[derive(Debug)]
pub struct Raider {
    next: Mutex<Option<Instant>>,
    pub raids: AtomicU64,
    pub dropped: AtomicU64,
}

impl Default for Raider {
    fn default() -> Self {
        Self {
            next: Mutex::new(None),
            raids: AtomicU64::new(0),
            dropped: AtomicU64::new(0),
        }
    }
}

impl Namespace {
    /// Tombstones tracked (durable deletes still hiding older images).
    pub fn n_tombstones(&self) -> u64 {
        self.partitions()
            .iter()
            .map(|p| p.lock().n_tombstones() as u64)
            .sum()
    }

    /// Runs a raid when tombstones exist and the period allows; returns the tombstones dropped.
    pub fn maybe_raid_tombstones(&self) -> u64 {
        let now = Instant::now();
        {
            let next = self.raider().next.lock();
            if next.is_some_and(|t| now < t) {
                return 0;
            }
        }
        if self.n_tombstones() == 0 {
            return 0;
        }
        let dropped = match self.raid_tombstones() {
            Ok(n) => n,
            Err(e) => {
                tracing::error!(namespace = %self.name, "tomb raid failed: {e}");
                0
            }
        };
        let took = now.elapsed();
        *self.raider().next.lock() = Some(Instant::now() + (took * DUTY_FACTOR).max(MIN_PERIOD));
        dropped
    }

    /// One raid; returns the tombstones dropped.
    pub fn raid_tombstones(&self) -> Result<u64, aerie_storage::StorageError> {
        let Some(p) = self.persistence() else {
            return Ok(0);
        };
        p.writer.sync_all()?;
        // Tombstones to judge: digest → (location, still needed).
        let mut tombs: HashMap<Digest, (u64, bool)> = HashMap::new();
        for part in self.partitions() {
            let idx = part.lock();
            tombs.extend(idx.tombstones().map(|(d, l)| (*d, (l, false))));
        }
        if tombs.is_empty() {
            return Ok(0);
        }
        let mut buf = Vec::new();
        for dev in 0..p.writer.n_devices() as u16 {
            for block in 1..p.writer.blocks_of(dev) {
                if p.writer.block_seq(dev, block)?.is_none() {
                    continue;
                }
                let Some(seq) = p.writer.read_block(dev, block, &mut buf)? else {
                    continue;
                };
                let mut off = WBLOCK_HEADER_BYTES;
                while off < buf.len() {
                    let Decoded::Image(img, size) =
                        decode_record(seq, buf.get(off..).unwrap_or_default())
                    else {
                        break;
                    };
                    off += aerie_storage::format::align_up(size);
                    if !img.tombstone {
                        if let Some(t) = tombs.get_mut(&img.digest) {
                            t.1 = true;
                        }
                    }
                }
            }
        }
        let mut dropped = 0u64;
        for (digest, (loc, needed)) in tombs {
            if needed {
                continue;
            }
            let mut idx = self.partition(&digest).lock();
            if idx.tombstone(&digest) == Some(loc) {
                idx.take_tombstone(&digest);
                p.release(loc);
                dropped += 1;
            }
        }
        self.raider().raids.fetch_add(1, Ordering::Relaxed);
        self.raider().dropped.fetch_add(dropped, Ordering::Relaxed);
        if dropped > 0 {
            tracing::info!(namespace = %self.name, dropped, "tomb raid: obsolete tombstones dropped");
        }
        Ok(dropped)
    }
}
