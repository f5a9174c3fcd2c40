//! The streaming write buffer: record images are appended to the current write block in
//! memory, which is written to its device when full, when `flush` is called (the
//! `flush-max-ms` timer), or before `append` returns with `commit_to_device`. Tracks live
//! bytes per block so emptied blocks are reused and sparse ones can be defragmented.
//!
//! Group commit (`commit_to_device`): each append takes a ticket under the buffer lock and
//! then waits, outside it, until its ticket is durable. One waiter at a time becomes the
//! leader: it writes out everything appended so far and syncs every device written since the
//! last sync, which makes all tickets up to then durable at once. Appenders arriving during a
//! sync queue behind it and share the next one, so concurrent writers pay one write and one
//! fsync per group instead of one each.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use parking_lot::Mutex;

use crate::device::Device;
use crate::format::{
    self, align_up, Location, RecordImage, FILE_HEADER_BYTES, WBLOCK_HEADER_BYTES,
};
use crate::StorageError;

/// Device writes are issued in units of this size.
const IO_ALIGN: usize = 4096;

/// Writer settings, from the namespace's storage configuration.
#[derive(Debug, Clone)]
pub struct WriterConfig {
    pub namespace: String,
    pub wblock_bytes: u32,
    pub commit_to_device: bool,
}

#[derive(Debug)]
struct State {
    buf: Vec<u8>,
    /// Device and block being filled, with its sequence number.
    current: Option<(u16, u32, u64)>,
    used: usize,
    /// Bytes of the current block already written to its device.
    flushed: usize,
    next_seq: u64,
    free: VecDeque<(u16, u32)>,
    live: Vec<Vec<u32>>,
    next_device: usize,
    /// Tickets handed out to appends (group commit).
    appended: u64,
    /// Devices written since their last sync, one bit each.
    unsynced: u64,
    /// Blocks freed since the last flush: their headers are cleared at the flush after next,
    /// once the writes that emptied them are on the device.
    to_clear: Vec<(u16, u32)>,
    /// Blocks whose header the next flush clears.
    to_clear_ready: Vec<(u16, u32)>,
}

impl State {
    /// A block left with no live data: reusable, and its header is to be cleared so its stale
    /// images no longer replay at cold start.
    fn free_block(&mut self, id: (u16, u32)) {
        self.free.push_back(id);
        self.to_clear.push(id);
    }
}

/// Appends record images to write blocks across one or more devices.
#[derive(Debug)]
pub struct BlockWriter {
    devices: Vec<Arc<dyn Device>>,
    cfg: WriterConfig,
    state: Mutex<State>,
    /// Held by the group-commit leader while it writes and syncs.
    sync_lock: Mutex<()>,
    /// Every append with a ticket up to this is durable.
    durable: AtomicU64,
    /// Syncs issued by group commits (statistics).
    group_syncs: AtomicU64,
    /// The block being filled, as `block_key`, so reads of other blocks skip the buffer lock.
    current_key: AtomicU64,
}

/// A block's identity in one word.
fn block_key(device: u16, wblock: u32) -> u64 {
    (u64::from(device) << 32) | u64::from(wblock)
}

impl BlockWriter {
    /// Prepares devices for writing: writes a file header on fresh devices and checks it on
    /// used ones. `next_seq` is one past the highest sequence found by the cold-start scan;
    /// `live` gives live bytes per device and block (from the rebuilt index); blocks with none
    /// are free.
    pub fn open(
        devices: Vec<Arc<dyn Device>>,
        cfg: WriterConfig,
        next_seq: u64,
        live: Vec<Vec<u32>>,
    ) -> Result<Self, StorageError> {
        let wb = cfg.wblock_bytes as usize;
        if wb < WBLOCK_HEADER_BYTES + IO_ALIGN || !wb.is_multiple_of(IO_ALIGN) {
            return Err(StorageError::Format {
                path: cfg.namespace.clone(),
                message: format!("write-block-size {wb} must be a multiple of {IO_ALIGN}"),
            });
        }
        let mut free = VecDeque::new();
        for (di, d) in devices.iter().enumerate() {
            let mut h = [0u8; FILE_HEADER_BYTES];
            d.read_at(&mut h, 0).map_err(|e| io_err(d.as_ref(), e))?;
            match format::decode_file_header(&h) {
                Ok(None) => {
                    let hdr = format::encode_file_header(&cfg.namespace, cfg.wblock_bytes);
                    d.write_at(&hdr, 0).map_err(|e| io_err(d.as_ref(), e))?;
                    d.sync().map_err(|e| io_err(d.as_ref(), e))?;
                }
                Ok(Some(fh)) => check_header(d.as_ref(), &fh, &cfg)?,
                Err(m) => {
                    return Err(StorageError::Format {
                        path: d.name().to_owned(),
                        message: m.to_owned(),
                    })
                }
            }
            let n_blocks = (d.len() / wb as u64) as u32;
            for b in 1..n_blocks {
                let used = live
                    .get(di)
                    .and_then(|l| l.get(b as usize))
                    .copied()
                    .unwrap_or(0);
                if used == 0 {
                    free.push_back((di as u16, b));
                }
            }
        }
        // Free blocks may still hold images from before: clear their headers, so that what
        // cold start replays is exactly what is in use.
        for (di, d) in devices.iter().enumerate() {
            let mut cleared = false;
            for &(_, b) in free.iter().filter(|(fd, _)| *fd as usize == di) {
                let at = u64::from(b) * wb as u64;
                let mut h = [0u8; WBLOCK_HEADER_BYTES];
                d.read_at(&mut h, at).map_err(|e| io_err(d.as_ref(), e))?;
                if format::decode_wblock_header(&h).is_some() {
                    d.write_at(&[0u8; WBLOCK_HEADER_BYTES], at)
                        .map_err(|e| io_err(d.as_ref(), e))?;
                    cleared = true;
                }
            }
            if cleared {
                d.sync().map_err(|e| io_err(d.as_ref(), e))?;
            }
        }
        let mut live_table: Vec<Vec<u32>> = devices
            .iter()
            .map(|d| vec![0; (d.len() / wb as u64) as usize])
            .collect();
        for (di, l) in live.iter().enumerate() {
            for (b, &v) in l.iter().enumerate() {
                if let Some(slot) = live_table.get_mut(di).and_then(|t| t.get_mut(b)) {
                    *slot = v;
                }
            }
        }
        Ok(Self {
            state: Mutex::new(State {
                buf: vec![0; wb],
                current: None,
                used: 0,
                flushed: 0,
                next_seq,
                free,
                live: live_table,
                next_device: 0,
                appended: 0,
                unsynced: 0,
                to_clear: Vec::new(),
                to_clear_ready: Vec::new(),
            }),
            sync_lock: Mutex::new(()),
            durable: AtomicU64::new(0),
            group_syncs: AtomicU64::new(0),
            current_key: AtomicU64::new(u64::MAX),
            devices,
            cfg,
        })
    }

    /// Appends an image and returns where it lives. With `commit_to_device`, returns only
    /// after the image is durable.
    pub fn append(&self, img: &RecordImage<'_>) -> Result<Location, StorageError> {
        let (loc, ticket) = self.append_with(img, false)?;
        self.wait_durable(ticket)?;
        Ok(loc)
    }

    /// Appends an image and returns where it lives with its commit ticket, without waiting:
    /// with `commit_to_device` the caller passes the ticket to [`BlockWriter::wait_durable`]
    /// (after releasing its own locks) before acknowledging the write.
    pub fn append_deferred(&self, img: &RecordImage<'_>) -> Result<(Location, u64), StorageError> {
        self.append_with(img, false)
    }

    /// Appends an image moved by defragmentation, which may use the reserved blocks that
    /// client writes may not (otherwise a full device could never be compacted). Never waits
    /// for durability: the image it replaces stays on the device until its block is reused.
    pub fn append_defrag(&self, img: &RecordImage<'_>) -> Result<Location, StorageError> {
        self.append_with(img, true).map(|(loc, _)| loc)
    }

    fn append_with(
        &self,
        img: &RecordImage<'_>,
        use_reserve: bool,
    ) -> Result<(Location, u64), StorageError> {
        let size = img.encoded_len();
        let padded = align_up(size);
        let wb = self.cfg.wblock_bytes as usize;
        if padded > wb - WBLOCK_HEADER_BYTES {
            return Err(StorageError::RecordTooBig(size));
        }
        let mut st = self.state.lock();
        if st.current.is_none() || st.used + padded > wb {
            if !use_reserve && st.free.len() <= self.reserve_blocks() {
                return Err(StorageError::OutOfSpace);
            }
            self.roll(&mut st)?;
        }
        let Some((device, wblock, seq)) = st.current else {
            return Err(StorageError::OutOfSpace);
        };
        let offset = st.used;
        let mut image = Vec::with_capacity(padded);
        img.encode_into(seq, &mut image);
        if let Some(dst) = st.buf.get_mut(offset..offset + image.len()) {
            dst.copy_from_slice(&image);
        }
        st.used += padded;
        if let Some(l) = st
            .live
            .get_mut(device as usize)
            .and_then(|t| t.get_mut(wblock as usize))
        {
            *l += padded as u32;
        }
        st.appended += 1;
        let ticket = st.appended;
        drop(st);
        let loc = Location {
            device,
            wblock,
            offset: offset as u32,
            size: size as u32,
        };
        Ok((loc, ticket))
    }

    /// With `commit_to_device`, returns once every append up to `ticket` is on stable storage,
    /// leading a group commit when no sync already in progress covers it; otherwise at once
    /// (the `flush-max-ms` timer writes the block out).
    pub fn wait_durable(&self, ticket: u64) -> Result<(), StorageError> {
        if !self.cfg.commit_to_device || self.durable.load(Ordering::Acquire) >= ticket {
            return Ok(());
        }
        let _leader = self.sync_lock.lock();
        if self.durable.load(Ordering::Acquire) >= ticket {
            return Ok(()); // the previous leader's sync covered this append
        }
        let (upto, mask) = {
            let mut st = self.state.lock();
            self.write_dirty(&mut st, false)?;
            let mask = std::mem::take(&mut st.unsynced);
            (st.appended, mask)
        };
        for (i, d) in self.devices.iter().enumerate().take(64) {
            if mask & (1u64 << i) != 0 {
                if let Err(e) = d.sync() {
                    // Those devices still need a sync: the next leader retries.
                    self.state.lock().unsynced |= mask;
                    return Err(io_err(d.as_ref(), e));
                }
            }
        }
        self.group_syncs.fetch_add(1, Ordering::Relaxed);
        self.durable.fetch_max(upto, Ordering::Release);
        Ok(())
    }

    /// Group-commit syncs issued so far.
    pub fn group_syncs(&self) -> u64 {
        self.group_syncs.load(Ordering::Relaxed)
    }

    /// Writes the current block's unwritten bytes (the `flush-max-ms` timer calls this), and
    /// clears the headers of blocks freed before the previous flush.
    pub fn flush(&self) -> Result<(), StorageError> {
        let mut st = self.state.lock();
        self.write_dirty(&mut st, false)?;
        let ready = std::mem::take(&mut st.to_clear_ready);
        for &(d, b) in &ready {
            let Some(dev) = self.devices.get(d as usize) else {
                continue;
            };
            let at = u64::from(b) * u64::from(self.cfg.wblock_bytes);
            dev.write_at(&[0u8; WBLOCK_HEADER_BYTES], at)
                .map_err(|e| io_err(dev.as_ref(), e))?;
            st.unsynced |= 1u64.checked_shl(u32::from(d)).unwrap_or(0);
        }
        st.to_clear_ready = std::mem::take(&mut st.to_clear);
        Ok(())
    }

    /// Flushes, then syncs every device: everything written or cleared so far is durable.
    pub fn sync_all(&self) -> Result<(), StorageError> {
        self.flush()?;
        for d in &self.devices {
            d.sync().map_err(|e| io_err(d.as_ref(), e))?;
        }
        Ok(())
    }

    /// Number of devices.
    pub fn n_devices(&self) -> usize {
        self.devices.len()
    }

    /// Write blocks per device (block 0 holds the file header).
    pub fn blocks_of(&self, device: u16) -> u32 {
        self.devices
            .get(device as usize)
            .map_or(0, |d| (d.len() / u64::from(self.cfg.wblock_bytes)) as u32)
    }

    /// The sequence number of a block's header on the device, `None` for a blank or cleared
    /// block.
    pub fn block_seq(&self, device: u16, wblock: u32) -> Result<Option<u64>, StorageError> {
        let d = self
            .devices
            .get(device as usize)
            .ok_or(StorageError::OutOfSpace)?;
        let mut h = [0u8; WBLOCK_HEADER_BYTES];
        d.read_at(&mut h, u64::from(wblock) * u64::from(self.cfg.wblock_bytes))
            .map_err(|e| io_err(d.as_ref(), e))?;
        Ok(format::decode_wblock_header(&h))
    }

    /// Forgets an image that a newer one superseded or a delete removed.
    pub fn release(&self, loc: Location) {
        let mut st = self.state.lock();
        let padded = align_up(loc.size as usize) as u32;
        let current = st.current.map(|(d, b, _)| (d, b));
        let Some(l) = st
            .live
            .get_mut(loc.device as usize)
            .and_then(|t| t.get_mut(loc.wblock as usize))
        else {
            return;
        };
        *l = l.saturating_sub(padded);
        if *l == 0 && current != Some((loc.device, loc.wblock)) {
            st.free_block((loc.device, loc.wblock));
        }
    }

    /// Blocks worth defragmenting: written, not being filled, not free, and holding live data
    /// below `lwm_pct` percent of a block.
    pub fn defrag_candidates(&self, lwm_pct: u8) -> Vec<(u16, u32)> {
        let st = self.state.lock();
        let current = st.current.map(|(d, b, _)| (d, b));
        let threshold = u64::from(self.cfg.wblock_bytes) * u64::from(lwm_pct) / 100;
        let mut out = Vec::new();
        for (d, blocks) in st.live.iter().enumerate() {
            for (b, &live) in blocks.iter().enumerate().skip(1) {
                let id = (d as u16, b as u32);
                if live > 0
                    && u64::from(live) < threshold
                    && Some(id) != current
                    && !st.free.contains(&id)
                {
                    out.push(id);
                }
            }
        }
        out
    }

    /// Reads a whole write block into `buf`; returns its sequence number, or `None` when the
    /// block holds no valid header.
    pub fn read_block(
        &self,
        device: u16,
        wblock: u32,
        buf: &mut Vec<u8>,
    ) -> Result<Option<u64>, StorageError> {
        let d = self
            .devices
            .get(device as usize)
            .ok_or(StorageError::OutOfSpace)?;
        let wb = self.cfg.wblock_bytes as usize;
        buf.resize(wb, 0);
        d.read_at(buf, wblock as u64 * wb as u64)
            .map_err(|e| io_err(d.as_ref(), e))?;
        Ok(format::decode_wblock_header(buf))
    }

    /// Live bytes of a block.
    pub fn live_bytes(&self, device: u16, wblock: u32) -> u32 {
        let st = self.state.lock();
        st.live
            .get(device as usize)
            .and_then(|t| t.get(wblock as usize))
            .copied()
            .unwrap_or(0)
    }

    /// Blocks kept back from client writes for defragmentation: 2, or 1/64 of the device.
    fn reserve_blocks(&self) -> usize {
        (self.total_blocks() / 64).max(2)
    }

    /// Free write blocks left.
    pub fn free_blocks(&self) -> usize {
        self.state.lock().free.len()
    }

    /// Total write blocks usable for records.
    pub fn total_blocks(&self) -> usize {
        let wb = self.cfg.wblock_bytes as u64;
        self.devices
            .iter()
            .map(|d| (d.len() / wb).saturating_sub(1) as usize)
            .sum()
    }

    /// Reads a record image back.
    pub fn read(&self, loc: Location, buf: &mut Vec<u8>) -> Result<(), StorageError> {
        let d = self
            .devices
            .get(loc.device as usize)
            .ok_or(StorageError::OutOfSpace)?;
        if self.current_key.load(Ordering::Acquire) == block_key(loc.device, loc.wblock) {
            // The current block may not be on the device yet.
            let st = self.state.lock();
            if let Some((cd, cb, _)) = st.current {
                if (cd, cb) == (loc.device, loc.wblock) {
                    let s = loc.offset as usize;
                    buf.clear();
                    buf.extend_from_slice(st.buf.get(s..s + loc.size as usize).unwrap_or_default());
                    return Ok(());
                }
            }
        }
        buf.resize(loc.size as usize, 0);
        let at = loc.wblock as u64 * self.cfg.wblock_bytes as u64 + loc.offset as u64;
        d.read_at(buf, at).map_err(|e| io_err(d.as_ref(), e))
    }

    /// Closes the current block and starts the next free one.
    fn roll(&self, st: &mut State) -> Result<(), StorageError> {
        if st.current.is_some() {
            self.write_dirty(st, false)?;
            if let Some((d, b, _)) = st.current {
                if st.live.get(d as usize).and_then(|t| t.get(b as usize)) == Some(&0) {
                    st.free_block((d, b));
                }
            }
        }
        // Prefer blocks on the next device in turn, to spread writes.
        let n = self.devices.len().max(1);
        let want = (st.next_device % n) as u16;
        let pick = st.free.iter().position(|&(d, _)| d == want).unwrap_or(0);
        let (d, b) = st.free.remove(pick).ok_or(StorageError::OutOfSpace)?;
        // Reused before its header was cleared: the new contents replace it anyway.
        st.to_clear.retain(|&x| x != (d, b));
        st.to_clear_ready.retain(|&x| x != (d, b));
        st.next_device = st.next_device.wrapping_add(1);
        let seq = st.next_seq;
        st.next_seq += 1;
        st.buf.fill(0);
        if let Some(dst) = st.buf.get_mut(..WBLOCK_HEADER_BYTES) {
            dst.copy_from_slice(&format::encode_wblock_header(seq));
        }
        st.current = Some((d, b, seq));
        // Set after the previous block was written out: a reader that sees another block as
        // current finds its data on the device.
        self.current_key.store(block_key(d, b), Ordering::Release);
        st.used = WBLOCK_HEADER_BYTES;
        st.flushed = 0;
        Ok(())
    }

    /// Writes `[flushed, used)` rounded out to I/O units (zeros after `used` end the block's
    /// contents on disk), then syncs if asked.
    fn write_dirty(&self, st: &mut State, sync: bool) -> Result<(), StorageError> {
        let Some((d, b, _)) = st.current else {
            return Ok(());
        };
        if st.flushed >= st.used && !sync {
            return Ok(());
        }
        let wb = self.cfg.wblock_bytes as usize;
        let start = st.flushed / IO_ALIGN * IO_ALIGN;
        let end = (st.used + 4)
            .div_ceil(IO_ALIGN)
            .saturating_mul(IO_ALIGN)
            .min(wb);
        let dev = self
            .devices
            .get(d as usize)
            .ok_or(StorageError::OutOfSpace)?;
        let at = b as u64 * wb as u64 + start as u64;
        dev.write_at(st.buf.get(start..end).unwrap_or_default(), at)
            .map_err(|e| io_err(dev.as_ref(), e))?;
        st.unsynced |= 1u64.checked_shl(u32::from(d)).unwrap_or(0);
        if sync {
            dev.sync().map_err(|e| io_err(dev.as_ref(), e))?;
        }
        st.flushed = st.used;
        Ok(())
    }
}

fn check_header(
    d: &dyn Device,
    fh: &format::FileHeader,
    cfg: &WriterConfig,
) -> Result<(), StorageError> {
    if fh.namespace != cfg.namespace {
        return Err(StorageError::Format {
            path: d.name().to_owned(),
            message: format!(
                "belongs to namespace '{}', not '{}'",
                fh.namespace, cfg.namespace
            ),
        });
    }
    if fh.wblock_bytes != cfg.wblock_bytes {
        return Err(StorageError::Format {
            path: d.name().to_owned(),
            message: format!(
                "was written with write-block-size {}, configured {}",
                fh.wblock_bytes, cfg.wblock_bytes
            ),
        });
    }
    Ok(())
}

fn io_err(d: &dyn Device, e: std::io::Error) -> StorageError {
    StorageError::Io {
        path: d.name().to_owned(),
        source: e,
    }
}
