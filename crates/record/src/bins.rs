//! The flat bin encoding a record's bins are stored in.
//!
//! Each bin is `u8 name length · name · u8 particle type · u32 value length (BE) · value`,
//! back to back. The layout is close to a wire read op, so a read reply is a copy per bin, and a
//! record is a single allocation. Values are stored canonical (integers as 8 bytes).

use std::borrow::Cow;

/// Longest bin name the protocol allows.
pub const MAX_BIN_NAME_BYTES: usize = 15;
/// Bytes of fixed overhead per stored bin: name length, particle type, value length.
pub const BIN_OVERHEAD_BYTES: usize = 1 + 1 + 4;

/// A bin inside a flat buffer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BinRef<'a> {
    pub name: &'a [u8],
    pub particle_type: u8,
    pub value: &'a [u8],
}

/// Iterates the bins of a flat buffer. A buffer written by [`push_bin`] always decodes; a
/// damaged one ends the iteration early.
#[derive(Debug, Clone)]
pub struct BinsIter<'a> {
    b: &'a [u8],
}

/// Iterates the bins of `flat`.
pub fn iter(flat: &[u8]) -> BinsIter<'_> {
    BinsIter { b: flat }
}

impl<'a> Iterator for BinsIter<'a> {
    type Item = BinRef<'a>;

    fn next(&mut self) -> Option<BinRef<'a>> {
        let (&name_len, rest) = self.b.split_first()?;
        let (name, rest) = rest.split_at_checked(name_len as usize)?;
        let (&particle_type, rest) = rest.split_first()?;
        let (len_b, rest) = rest.split_first_chunk::<4>()?;
        let (value, rest) = rest.split_at_checked(u32::from_be_bytes(*len_b) as usize)?;
        self.b = rest;
        Some(BinRef {
            name,
            particle_type,
            value,
        })
    }
}

/// Appends one bin. The caller guarantees `name.len() <= MAX_BIN_NAME_BYTES`.
pub fn push_bin(out: &mut Vec<u8>, name: &[u8], particle_type: u8, value: &[u8]) {
    debug_assert!(name.len() <= MAX_BIN_NAME_BYTES);
    out.push(name.len() as u8);
    out.extend_from_slice(name);
    out.push(particle_type);
    out.extend_from_slice(&(value.len() as u32).to_be_bytes());
    out.extend_from_slice(value);
}

/// Finds a bin by name.
pub fn find<'a>(flat: &'a [u8], name: &[u8]) -> Option<BinRef<'a>> {
    iter(flat).find(|b| b.name == name)
}

/// One bin of a working copy: name, particle type, value.
pub type WorkingBin<'a> = (Cow<'a, [u8]>, u8, Cow<'a, [u8]>);

/// A mutable working copy of a record's bins, used while applying write ops. Names and values
/// borrow from the stored record or the request until they are changed.
#[derive(Debug, Default, Clone)]
pub struct FlatBins<'a> {
    pub bins: Vec<WorkingBin<'a>>,
}

impl<'a> FlatBins<'a> {
    /// Loads the bins of a stored buffer.
    pub fn load(flat: &'a [u8]) -> Self {
        Self {
            bins: iter(flat)
                .map(|b| {
                    (
                        Cow::Borrowed(b.name),
                        b.particle_type,
                        Cow::Borrowed(b.value),
                    )
                })
                .collect(),
        }
    }

    /// Index of bin `name`.
    pub fn position(&self, name: &[u8]) -> Option<usize> {
        self.bins.iter().position(|(n, _, _)| n.as_ref() == name)
    }

    /// The particle type and value of bin `name`.
    pub fn get(&self, name: &[u8]) -> Option<(u8, &[u8])> {
        self.bins
            .iter()
            .find(|(n, _, _)| n.as_ref() == name)
            .map(|(_, t, v)| (*t, v.as_ref()))
    }

    /// Sets bin `name`, adding it if absent.
    pub fn set(&mut self, name: Cow<'a, [u8]>, particle_type: u8, value: Cow<'a, [u8]>) {
        match self.position(&name) {
            Some(i) => {
                if let Some(slot) = self.bins.get_mut(i) {
                    slot.1 = particle_type;
                    slot.2 = value;
                }
            }
            None => self.bins.push((name, particle_type, value)),
        }
    }

    /// Removes bin `name` if present.
    pub fn remove(&mut self, name: &[u8]) {
        if let Some(i) = self.position(name) {
            self.bins.remove(i);
        }
    }

    /// Number of bins.
    pub fn len(&self) -> usize {
        self.bins.len()
    }

    /// Whether there are no bins.
    pub fn is_empty(&self) -> bool {
        self.bins.is_empty()
    }

    /// Size of the flat encoding.
    pub fn encoded_len(&self) -> usize {
        self.bins
            .iter()
            .map(|(n, _, v)| BIN_OVERHEAD_BYTES + n.len() + v.len())
            .sum()
    }

    /// Appends the flat encoding to `out`.
    pub fn encode_into(&self, out: &mut Vec<u8>) {
        out.reserve(self.encoded_len());
        for (n, t, v) in &self.bins {
            push_bin(out, n, *t, v);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_edit() {
        let mut flat = Vec::new();
        push_bin(&mut flat, b"a", 1, &7i64.to_be_bytes());
        push_bin(&mut flat, b"name", 3, b"bob");
        let bins: Vec<_> = iter(&flat).collect();
        assert_eq!(bins.len(), 2);
        assert_eq!(find(&flat, b"name").map(|b| b.value), Some(&b"bob"[..]));

        let mut w = FlatBins::load(&flat);
        w.set(Cow::Borrowed(b"name"), 3, Cow::Borrowed(b"alice"));
        w.set(Cow::Borrowed(b"z"), 17, Cow::Borrowed(&[1]));
        w.remove(b"a");
        let mut out = Vec::new();
        w.encode_into(&mut out);
        assert_eq!(out.len(), w.encoded_len());
        let names: Vec<_> = iter(&out).map(|b| b.name.to_vec()).collect();
        assert_eq!(names, vec![b"name".to_vec(), b"z".to_vec()]);
    }

    proptest::proptest! {
        #[test]
        fn damaged_buffers_never_panic(b in proptest::collection::vec(proptest::num::u8::ANY, 0..100)) {
            let _ = iter(&b).count();
        }
    }
}
