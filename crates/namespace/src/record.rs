//! The in-memory record: metadata plus one allocation holding the stored user key and the
//! flat bins.
//!
//! Data layout: `u8 head`: the key particle type in the low 7 bits (0 = no key stored) and
//! 0x80 when an 8-byte storage location follows (persisted namespaces keep where the record's
//! latest image lives here rather than in the index, so the index stays small); then, for a
//! stored key, `u32 key length (BE)` and the key bytes; then the flat bins (see
//! `aerie_record::bins`).

use aerie_record::bins;

/// Head-byte flag: a storage location follows.
const HEAD_HAS_LOCATION: u8 = 0x80;

/// Record metadata kept next to the data pointer in the index.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RecordMeta {
    /// Milliseconds since the citrusleaf epoch of the last write.
    pub last_update_ms: u64,
    /// Seconds since the citrusleaf epoch when the record expires; 0 = never.
    pub void_time: u32,
    /// Write count, 16 bits, wrapping past 0xFFFF to 1 as the reference server does.
    pub generation: u16,
    /// Index into the namespace's set table; 0 = no set.
    pub set_id: u16,
}

/// Where a record's data lives.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Body {
    /// In memory: the data layout described at the top of this module.
    Mem(Box<[u8]>),
    /// Only on the storage device (`storage-engine device`): the packed location of the
    /// record's latest image. Read it back with `Namespace::data`.
    Dev(u64),
}

/// A stored record: what the primary index holds per digest.
///
/// Its key and bins are reached through [`crate::Namespace::data`], which returns a
/// [`RecordData`] either borrowed from memory or read back from the storage device.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    pub meta: RecordMeta,
    body: Body,
}

// The index entry stays at 32 bytes: the location variant lives beside the pointer's niche.
const _: () = assert!(std::mem::size_of::<Record>() == 32);

impl Record {
    /// Builds a record from its parts.
    pub fn new(meta: RecordMeta, key: Option<(u8, &[u8])>, flat_bins: &[u8]) -> Self {
        let mut data =
            Vec::with_capacity(1 + key.map_or(0, |(_, k)| 4 + k.len()) + flat_bins.len());
        Self::encode_key(&mut data, key);
        data.extend_from_slice(flat_bins);
        Self::from_data(meta, data)
    }

    /// Builds a record whose data (key section and bins) was already encoded with
    /// [`Record::encode_key`] followed by flat bins.
    pub fn from_data(meta: RecordMeta, data: Vec<u8>) -> Self {
        Self {
            meta,
            body: Body::Mem(data.into_boxed_slice()),
        }
    }

    /// A record whose data lives only on the storage device, at packed location `location`.
    pub fn on_device(meta: RecordMeta, location: u64) -> Self {
        Self {
            meta,
            body: Body::Dev(location),
        }
    }

    /// Writes the key section of the data layout.
    pub fn encode_key(out: &mut Vec<u8>, key: Option<(u8, &[u8])>) {
        match key {
            Some((t, k)) if t != 0 => {
                out.push(t);
                out.extend_from_slice(&(k.len() as u32).to_be_bytes());
                out.extend_from_slice(k);
            }
            _ => out.push(0),
        }
    }

    /// Adds a storage location to data built by [`Record::encode_key`] and flat bins (the
    /// memory engine with persistence files: data in memory and on file).
    pub fn with_location(meta: RecordMeta, data: Vec<u8>, location: u64) -> Self {
        Self::with_location_from(meta, &data, location)
    }

    /// As [`Record::with_location`], copying from a borrowed buffer (cold start) into one
    /// exactly sized allocation.
    pub fn with_location_from(meta: RecordMeta, data: &[u8], location: u64) -> Self {
        let Some((&head, rest)) = data.split_first() else {
            return Self::from_data(meta, Vec::new());
        };
        let mut v = Vec::with_capacity(data.len() + 8);
        v.push(head | HEAD_HAS_LOCATION);
        v.extend_from_slice(&location.to_be_bytes());
        v.extend_from_slice(rest);
        Self::from_data(meta, v)
    }

    /// Points the record at a new storage image (defragmentation moved it). Does nothing for a
    /// record without a location.
    pub fn set_location(&mut self, location: u64) {
        match &mut self.body {
            Body::Dev(l) => *l = location,
            Body::Mem(data) => {
                if data.first().is_some_and(|h| h & HEAD_HAS_LOCATION != 0) {
                    if let Some(dst) = data.get_mut(1..9) {
                        dst.copy_from_slice(&location.to_be_bytes());
                    }
                }
            }
        }
    }

    /// The storage location of the record's latest image, for persisted namespaces.
    pub fn location(&self) -> Option<u64> {
        match &self.body {
            Body::Dev(l) => Some(*l),
            Body::Mem(data) => {
                let (&head, rest) = data.split_first()?;
                if head & HEAD_HAS_LOCATION == 0 {
                    return None;
                }
                rest.first_chunk::<8>().map(|b| u64::from_be_bytes(*b))
            }
        }
    }

    /// The record's data when it is held in memory; `None` when it lives only on the device.
    /// Callers outside this crate use [`crate::Namespace::data`], which handles both.
    pub fn resident(&self) -> Option<RecordData<'_>> {
        let Body::Mem(data) = &self.body else {
            return None;
        };
        let (key_type, rest) = match data.split_first() {
            Some((&head, rest)) if head & HEAD_HAS_LOCATION != 0 => {
                (head & !HEAD_HAS_LOCATION, rest.get(8..).unwrap_or_default())
            }
            Some((&head, rest)) => (head, rest),
            None => (0, &[][..]),
        };
        Some(RecordData {
            meta: self.meta,
            key_type,
            rest,
        })
    }

    /// Whether the record's data lives only on the storage device.
    pub fn on_device_only(&self) -> bool {
        matches!(self.body, Body::Dev(_))
    }

    /// Bytes of record data held in memory (key and bins); 0 for a device-only record.
    pub fn data_size(&self) -> usize {
        match &self.body {
            Body::Mem(d) => d.len(),
            Body::Dev(_) => 0,
        }
    }

    /// Whether the record has expired at `now_secs` (citrusleaf seconds).
    #[inline]
    pub fn is_expired(&self, now_secs: u32) -> bool {
        self.meta.void_time != 0 && self.meta.void_time <= now_secs
    }
}

/// A record's metadata, stored key and bins, borrowed from memory or from a read buffer.
///
/// Obtained from [`crate::Namespace::data`] (any record) or [`RecordData::from_image`]
/// (data in hand, e.g. a record about to be stored). It offers the read methods a stored
/// record used to offer, so code that reads bins takes a `&RecordData` instead of a `&Record`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RecordData<'a> {
    pub meta: RecordMeta,
    /// Key particle type, 0 = no key stored.
    key_type: u8,
    /// After the head byte: `u32 key length` and key (when stored), then the flat bins.
    rest: &'a [u8],
}

impl<'a> RecordData<'a> {
    /// Data in the layout [`Record::encode_key`] and flat bins give (a storage image's data).
    pub fn from_image(meta: RecordMeta, data: &'a [u8]) -> Self {
        match data.split_first() {
            Some((&t, rest)) => Self {
                meta,
                key_type: t & !HEAD_HAS_LOCATION,
                rest,
            },
            None => Self {
                meta,
                key_type: 0,
                rest: &[],
            },
        }
    }

    /// The stored user key: particle type and bytes.
    pub fn key(&self) -> Option<(u8, &'a [u8])> {
        if self.key_type == 0 {
            return None;
        }
        let (len, rest) = self.rest.split_first_chunk::<4>()?;
        Some((
            self.key_type,
            rest.get(..u32::from_be_bytes(*len) as usize)?,
        ))
    }

    /// The flat bins.
    pub fn bins(&self) -> &'a [u8] {
        if self.key_type == 0 {
            return self.rest;
        }
        let Some((len, rest)) = self.rest.split_first_chunk::<4>() else {
            return &[];
        };
        rest.get(u32::from_be_bytes(*len) as usize..)
            .unwrap_or_default()
    }

    /// Iterates the bins.
    pub fn iter_bins(&self) -> bins::BinsIter<'a> {
        bins::iter(self.bins())
    }

    /// Number of bins.
    pub fn n_bins(&self) -> usize {
        self.iter_bins().count()
    }

    /// Bytes of the record's data (key section and bins), wherever it is held.
    pub fn data_size(&self) -> usize {
        1 + self.rest.len()
    }

    /// Key section and bins: what a storage image holds.
    pub fn image_data(&self) -> Vec<u8> {
        let mut v = Vec::with_capacity(1 + self.rest.len());
        self.append_image_data(&mut v);
        v
    }

    /// Appends [`Self::image_data`] to `out` without an intermediate buffer.
    pub fn append_image_data(&self, out: &mut Vec<u8>) {
        out.push(self.key_type);
        out.extend_from_slice(self.rest);
    }

    /// Whether the record has expired at `now_secs` (citrusleaf seconds).
    #[inline]
    pub fn is_expired(&self, now_secs: u32) -> bool {
        self.meta.void_time != 0 && self.meta.void_time <= now_secs
    }

    /// An owned in-memory record holding this data.
    pub fn to_record(&self) -> Record {
        Record::from_data(self.meta, self.image_data())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layout() {
        let mut flat = Vec::new();
        bins::push_bin(&mut flat, b"a", 3, b"x");
        let rec = Record::new(RecordMeta::default(), Some((3, b"k1")), &flat);
        let r = rec.resident().unwrap();
        assert_eq!(r.key(), Some((3, &b"k1"[..])));
        assert_eq!(r.bins(), &flat[..]);
        let rec2 = Record::new(RecordMeta::default(), None, &flat);
        let r2 = rec2.resident().unwrap();
        assert_eq!(r2.key(), None);
        assert_eq!(r2.n_bins(), 1);
        let mut data = Vec::new();
        Record::encode_key(&mut data, Some((3, b"k1")));
        data.extend_from_slice(&flat);
        let rec3 =
            Record::with_location(RecordMeta::default(), data.clone(), 0x0102_0304_0506_0708);
        assert_eq!(rec3.location(), Some(0x0102_0304_0506_0708));
        let r3 = rec3.resident().unwrap();
        assert_eq!(r3.key(), Some((3, &b"k1"[..])));
        assert_eq!(r3.bins(), &flat[..]);
        assert_eq!(r3.image_data(), data);
        assert_eq!(RecordData::from_image(RecordMeta::default(), &data), r3);
        assert_eq!(rec.location(), None);
        let mut dev = Record::on_device(RecordMeta::default(), 7);
        assert!(dev.resident().is_none());
        dev.set_location(9);
        assert_eq!(dev.location(), Some(9));
    }
}
