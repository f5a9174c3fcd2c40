//! The in-memory record: metadata plus one allocation holding the stored user key and the
//! flat bins.
//!
//! Data layout: `u8 key particle type` (0 = no key stored); if non-zero, `u32 key length (BE)`
//! and the key bytes; then the flat bins (see `aerie_record::bins`).

use aerie_record::bins;

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
        let mut data = Vec::with_capacity(1 + key.map_or(0, |(_, k)| 4 + k.len()) + flat_bins.len());
        Self::encode_key(&mut data, key);
        data.extend_from_slice(flat_bins);
        Self { meta, data: data.into_boxed_slice() }
    }

    /// Builds a record whose data (key section and bins) was already encoded with
    /// [`Record::encode_key`] followed by flat bins.
    pub fn from_data(meta: RecordMeta, data: Vec<u8>) -> Self {
        Self { meta, data: data.into_boxed_slice() }
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

    /// The stored user key: particle type and bytes.
    pub fn key(&self) -> Option<(u8, &[u8])> {
        let (&t, rest) = self.data.split_first()?;
        if t == 0 {
            return None;
        }
        let (len, rest) = rest.split_first_chunk::<4>()?;
        Some((t, rest.get(..u32::from_be_bytes(*len) as usize)?))
    }

    /// The flat bins.
    pub fn bins(&self) -> &[u8] {
        match self.data.split_first() {
            Some((0, rest)) => rest,
            Some((_, rest)) => {
                let Some((len, rest)) = rest.split_first_chunk::<4>() else { return &[] };
                rest.get(u32::from_be_bytes(*len) as usize..).unwrap_or_default()
            }
            None => &[],
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
    }
}
