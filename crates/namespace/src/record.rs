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

/// A stored record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    pub meta: RecordMeta,
    data: Box<[u8]>,
}

impl Record {
    /// Builds a record from its parts.
    pub fn new(meta: RecordMeta, key: Option<(u8, &[u8])>, flat_bins: &[u8]) -> Self {
        let mut data =
            Vec::with_capacity(1 + key.map_or(0, |(_, k)| 4 + k.len()) + flat_bins.len());
        Self::encode_key(&mut data, key);
        data.extend_from_slice(flat_bins);
        Self {
            meta,
            data: data.into_boxed_slice(),
        }
    }

    /// Builds a record whose data (key section and bins) was already encoded with
    /// [`Record::encode_key`] followed by flat bins.
    pub fn from_data(meta: RecordMeta, data: Vec<u8>) -> Self {
        Self {
            meta,
            data: data.into_boxed_slice(),
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

    /// Adds a storage location to data built by [`Record::encode_key`] and flat bins.
    pub fn with_location(meta: RecordMeta, data: Vec<u8>, location: u64) -> Self {
        Self::with_location_from(meta, &data, location)
    }

    /// As [`Record::with_location`], copying from a borrowed buffer (cold start) into one
    /// exactly sized allocation.
    pub fn with_location_from(meta: RecordMeta, data: &[u8], location: u64) -> Self {
        let Some((&head, rest)) = data.split_first() else {
            return Self {
                meta,
                data: Box::default(),
            };
        };
        let mut v = Vec::with_capacity(data.len() + 8);
        v.push(head | HEAD_HAS_LOCATION);
        v.extend_from_slice(&location.to_be_bytes());
        v.extend_from_slice(rest);
        Self {
            meta,
            data: v.into_boxed_slice(),
        }
    }

    /// Points the record at a new storage image (defragmentation moved it). Does nothing for a
    /// record without a location.
    pub fn set_location(&mut self, location: u64) {
        if self
            .data
            .first()
            .is_some_and(|h| h & HEAD_HAS_LOCATION != 0)
        {
            if let Some(dst) = self.data.get_mut(1..9) {
                dst.copy_from_slice(&location.to_be_bytes());
            }
        }
    }

    /// The storage location of the record's latest image, for persisted namespaces.
    pub fn location(&self) -> Option<u64> {
        let (&head, rest) = self.data.split_first()?;
        if head & HEAD_HAS_LOCATION == 0 {
            return None;
        }
        rest.first_chunk::<8>().map(|b| u64::from_be_bytes(*b))
    }

    /// The data after the location: key section and bins, as `encode_key` wrote them minus
    /// the head byte.
    fn after_head(&self) -> (u8, &[u8]) {
        match self.data.split_first() {
            Some((&head, rest)) if head & HEAD_HAS_LOCATION != 0 => {
                (head & !HEAD_HAS_LOCATION, rest.get(8..).unwrap_or_default())
            }
            Some((&head, rest)) => (head, rest),
            None => (0, &[]),
        }
    }

    /// The stored user key: particle type and bytes.
    pub fn key(&self) -> Option<(u8, &[u8])> {
        let (t, rest) = self.after_head();
        if t == 0 {
            return None;
        }
        let (len, rest) = rest.split_first_chunk::<4>()?;
        Some((t, rest.get(..u32::from_be_bytes(*len) as usize)?))
    }

    /// Key section and bins without the location: what a storage image holds.
    pub fn image_data(&self) -> Vec<u8> {
        let (t, rest) = self.after_head();
        let mut v = Vec::with_capacity(1 + rest.len());
        v.push(t);
        v.extend_from_slice(rest);
        v
    }

    /// The flat bins.
    pub fn bins(&self) -> &[u8] {
        match self.after_head() {
            (0, rest) => rest,
            (_, rest) => {
                let Some((len, rest)) = rest.split_first_chunk::<4>() else {
                    return &[];
                };
                rest.get(u32::from_be_bytes(*len) as usize..)
                    .unwrap_or_default()
            }
        }
    }

    /// Iterates the bins.
    pub fn iter_bins(&self) -> bins::BinsIter<'_> {
        bins::iter(self.bins())
    }

    /// Number of bins.
    pub fn n_bins(&self) -> usize {
        self.iter_bins().count()
    }

    /// Bytes of record data held in memory (key and bins).
    pub fn data_size(&self) -> usize {
        self.data.len()
    }

    /// Whether the record has expired at `now_secs` (citrusleaf seconds).
    #[inline]
    pub fn is_expired(&self, now_secs: u32) -> bool {
        self.meta.void_time != 0 && self.meta.void_time <= now_secs
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layout() {
        let mut flat = Vec::new();
        bins::push_bin(&mut flat, b"a", 3, b"x");
        let r = Record::new(RecordMeta::default(), Some((3, b"k1")), &flat);
        assert_eq!(r.key(), Some((3, &b"k1"[..])));
        assert_eq!(r.bins(), &flat[..]);
        let r2 = Record::new(RecordMeta::default(), None, &flat);
        assert_eq!(r2.key(), None);
        assert_eq!(r2.n_bins(), 1);
        let mut data = Vec::new();
        Record::encode_key(&mut data, Some((3, b"k1")));
        data.extend_from_slice(&flat);
        let r3 = Record::with_location(RecordMeta::default(), data.clone(), 0x0102_0304_0506_0708);
        assert_eq!(r3.location(), Some(0x0102_0304_0506_0708));
        assert_eq!(r3.key(), Some((3, &b"k1"[..])));
        assert_eq!(r3.bins(), &flat[..]);
        assert_eq!(r3.image_data(), data);
        assert_eq!(r.location(), None);
    }
}
