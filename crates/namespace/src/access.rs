//! The one way to reach a record's key and bins: [`Namespace::data`].
//!
//! With `storage-engine memory` a record's data is in memory and `data` borrows it. With
//! `storage-engine device` the index keeps only metadata and the location of the record's
//! latest image; `data` reads the image from the device (or from the write buffer when it is
//! not written out yet) into a [`ReadBuf`] and borrows from that. Every reader of record data
//! (gets, read-modify-write, filters, CDT ops, batch, scans, queries, sindex builds, UDFs,
//! info passes) goes through it:
//!
//! ```ignore
//! let mut buf = ReadBuf::new();            // reuses this thread's buffer, no allocation
//! let idx = ns.partition(&digest).lock();
//! let r = idx.get(&digest)?;               // &Record: metadata only
//! let d = ns.data(r, &mut buf)?;           // RecordData: meta, key(), bins(), iter_bins()
//! ```
//!
//! Rules: call it under the partition lock that found the record (the image cannot move or be
//! freed meanwhile), and finish with the borrowed data before releasing that lock, or copy it
//! out ([`Namespace::detach`] gives an owned in-memory `Record`, for scans that encode after
//! the lock is released).

use std::cell::Cell;

use aerie_storage::compress::decompress;
use aerie_storage::format::{decode_located, Decoded};
use aerie_storage::Codec;

use crate::namespace::{Namespace, StoreError};
use crate::persist;
use crate::record::{Record, RecordData};

/// Largest buffer a thread keeps for reuse.
const KEEP_BYTES: usize = 1024 * 1024;

thread_local! {
    static SPARE: Cell<Vec<u8>> = const { Cell::new(Vec::new()) };
    static SPARE_PLAIN: Cell<Vec<u8>> = const { Cell::new(Vec::new()) };
}

/// Buffers for record images read back from a device: the image as stored, and its data
/// decompressed when the image is compressed. [`ReadBuf::new`] takes the thread's spare
/// buffers (so steady-state reads allocate nothing) and dropping it gives them back; nested
/// use on one thread simply starts new buffers.
#[derive(Debug, Default)]
pub struct ReadBuf {
    raw: Vec<u8>,
    plain: Vec<u8>,
}

impl ReadBuf {
    /// This thread's spare buffers, or new empty ones when they are in use.
    pub fn new() -> Self {
        Self {
            raw: SPARE.with(Cell::take),
            plain: SPARE_PLAIN.with(Cell::take),
        }
    }
}

/// Gives `v` back to `spare` unless the spare held is larger.
fn give_back(spare: &'static std::thread::LocalKey<Cell<Vec<u8>>>, v: Vec<u8>) {
    if v.capacity() == 0 || v.capacity() > KEEP_BYTES {
        return;
    }
    // try_with: the thread-local may already be gone while a thread exits.
    let _ = spare.try_with(|s| {
        let cur = s.take();
        s.set(if cur.capacity() >= v.capacity() {
            cur
        } else {
            v
        });
    });
}

impl Drop for ReadBuf {
    fn drop(&mut self) {
        give_back(&SPARE, std::mem::take(&mut self.raw));
        give_back(&SPARE_PLAIN, std::mem::take(&mut self.plain));
    }
}

impl Namespace {
    /// A record's metadata, key and bins: borrowed from memory, or read from the storage
    /// device into `buf` for a device-only record (`storage-engine device`). Call under the
    /// partition lock that found `r`. Errors: the device read failed or the image there does
    /// not belong to the record (`StoreError::Io`).
    pub fn data<'a>(
        &self,
        r: &'a Record,
        buf: &'a mut ReadBuf,
    ) -> Result<RecordData<'a>, StoreError> {
        if let Some(d) = r.resident() {
            return Ok(d);
        }
        let (Some(p), Some(loc)) = (self.persistence(), r.location()) else {
            return Err(StoreError::Io("record data is not reachable".into()));
        };
        let loc = persist::unpack(loc);
        p.writer.read(loc, &mut buf.raw)?;
        match decode_located(&buf.raw) {
            Decoded::Image(img, _) if !img.tombstone => {
                if img.codec == Codec::None {
                    return Ok(RecordData::from_image(r.meta, img.data));
                }
                if let Err(e) = decompress(img.codec, img.data, &mut buf.plain) {
                    tracing::error!(
                        namespace = %self.name,
                        device = loc.device,
                        wblock = loc.wblock,
                        offset = loc.offset,
                        "record image at its indexed location: {e}"
                    );
                    return Err(StoreError::Io(e.to_string()));
                }
                Ok(RecordData::from_image(r.meta, &buf.plain))
            }
            _ => {
                tracing::error!(
                    namespace = %self.name,
                    device = loc.device,
                    wblock = loc.wblock,
                    offset = loc.offset,
                    "record image unreadable at its indexed location"
                );
                Err(StoreError::Io(format!(
                    "no record image at device {} block {} offset {}",
                    loc.device, loc.wblock, loc.offset
                )))
            }
        }
    }

    /// An owned copy of a record with its data in memory (device-only records are read
    /// back), for work done after the partition lock is released (scan and query streaming).
    pub fn detach(&self, r: &Record) -> Result<Record, StoreError> {
        if r.resident().is_some() {
            return Ok(r.clone());
        }
        let mut buf = ReadBuf::new();
        Ok(self.data(r, &mut buf)?.to_record())
    }
}
