//! Record images ("pickles" in aerospike-server `as/src/base/record.c`): a record's whole
//! state (or its absence) as shipped to replicas and during migrations, and the newest-wins
//! rule a receiving node applies them by. The master encodes a write's image while it still
//! holds the partition lock ([`encode_stored`], [`encode_tombstone`]), from the very bytes it
//! stores, so a replica write never reads the record back.
//!
//! Layout: `u8 ns length ‖ ns ‖ digest[20] ‖ u8 flags ‖ u16 generation ‖ u64 last-update ms ‖
//! u32 void time ‖ u8 set length ‖ set ‖ u32 data length ‖ data` (integers big-endian), where
//! data is the stored key and bins exactly as the namespace keeps them.

use aerie_namespace::{Namespace, ReadBuf, Record, RecordMeta, Registry, NO_SET};
use aerie_record::{Digest, DIGEST_SIZE};

/// The image says the record is gone.
const FLAG_TOMBSTONE: u8 = 0x01;

/// A decoded image borrowing from its buffer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Image<'a> {
    pub ns: &'a [u8],
    pub digest: Digest,
    pub tombstone: bool,
    pub generation: u16,
    pub last_update_ms: u64,
    pub void_time: u32,
    pub set: &'a [u8],
    pub data: &'a [u8],
}

/// Why an image was not applied.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ApplyError {
    Malformed,
    Namespace,
    Store(String),
}

impl std::fmt::Display for ApplyError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Malformed => f.write_str("malformed record image"),
            Self::Namespace => f.write_str("unknown namespace"),
            Self::Store(m) => write!(f, "store failed: {m}"),
        }
    }
}

/// Appends the image of a record being stored: `data` is the key section and bins exactly
/// as handed to `Namespace::store`.
pub fn encode_stored(
    out: &mut Vec<u8>,
    ns: &Namespace,
    digest: &Digest,
    meta: &RecordMeta,
    set: &[u8],
    data: &[u8],
) {
    push_head(out, ns, digest);
    out.push(0);
    out.extend_from_slice(&meta.generation.to_be_bytes());
    out.extend_from_slice(&meta.last_update_ms.to_be_bytes());
    out.extend_from_slice(&meta.void_time.to_be_bytes());
    out.push(set.len().min(255) as u8);
    out.extend_from_slice(set.get(..255.min(set.len())).unwrap_or_default());
    out.extend_from_slice(&(data.len() as u32).to_be_bytes());
    out.extend_from_slice(data);
}

/// Appends the image of a record removed at `lut_ms`.
pub fn encode_tombstone(out: &mut Vec<u8>, ns: &Namespace, digest: &Digest, lut_ms: u64) {
    push_head(out, ns, digest);
    out.push(FLAG_TOMBSTONE);
    out.extend_from_slice(&0u16.to_be_bytes());
    out.extend_from_slice(&lut_ms.to_be_bytes());
    out.extend_from_slice(&0u32.to_be_bytes());
    out.push(0);
    out.extend_from_slice(&0u32.to_be_bytes());
}

fn push_head(out: &mut Vec<u8>, ns: &Namespace, digest: &Digest) {
    let name = ns.name.as_bytes();
    out.push(name.len().min(255) as u8);
    out.extend_from_slice(name.get(..255.min(name.len())).unwrap_or_default());
    out.extend_from_slice(digest);
}

/// Appends the image of `record` (None = tombstone at `tomb_lut_ms`). Record data comes through
/// `Namespace::data`, so a device namespace reads it back from its file; a record that cannot be
/// read (already logged there) appends nothing and answers false.
pub fn encode(
    out: &mut Vec<u8>,
    ns: &Namespace,
    digest: &Digest,
    record: Option<&Record>,
    tomb_lut_ms: u64,
) -> bool {
    let Some(r) = record else {
        encode_tombstone(out, ns, digest, tomb_lut_ms);
        return true;
    };
    let mut buf = ReadBuf::new();
    let Ok(data) = ns.data(r, &mut buf) else {
        return false;
    };
    let set = ns
        .sets
        .get(r.meta.set_id)
        .map(|s| s.name.as_bytes())
        .unwrap_or_default();
    push_head(out, ns, digest);
    out.push(0);
    out.extend_from_slice(&r.meta.generation.to_be_bytes());
    out.extend_from_slice(&r.meta.last_update_ms.to_be_bytes());
    out.extend_from_slice(&r.meta.void_time.to_be_bytes());
    out.push(set.len().min(255) as u8);
    out.extend_from_slice(set.get(..255.min(set.len())).unwrap_or_default());
    out.extend_from_slice(&(data.data_size() as u32).to_be_bytes());
    data.append_image_data(out);
    true
}

/// A cursor over a byte slice.
struct Cur<'a>(&'a [u8]);

impl<'a> Cur<'a> {
    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        if self.0.len() < n {
            return None;
        }
        let (a, b) = self.0.split_at(n);
        self.0 = b;
        Some(a)
    }
    fn u8(&mut self) -> Option<u8> {
        self.take(1).and_then(|b| b.first().copied())
    }
    fn array<const N: usize>(&mut self) -> Option<[u8; N]> {
        self.take(N).and_then(|b| b.try_into().ok())
    }
}

/// Decodes one image from the front of `buf`; returns it and the rest.
pub fn decode(buf: &[u8]) -> Option<(Image<'_>, &[u8])> {
    let mut c = Cur(buf);
    let ns_len = c.u8()? as usize;
    let ns = c.take(ns_len)?;
    let digest: [u8; DIGEST_SIZE] = c.array()?;
    let flags = c.u8()?;
    let generation = u16::from_be_bytes(c.array()?);
    let last_update_ms = u64::from_be_bytes(c.array()?);
    let void_time = u32::from_be_bytes(c.array()?);
    let set_len = c.u8()? as usize;
    let set = c.take(set_len)?;
    let data_len = u32::from_be_bytes(c.array()?) as usize;
    let data = c.take(data_len)?;
    let img = Image {
        ns,
        digest,
        tombstone: flags & FLAG_TOMBSTONE != 0,
        generation,
        last_update_ms,
        void_time,
        set,
        data,
    };
    Some((img, c.0))
}

/// Whether an incoming version beats the stored one: higher generation first, then the
/// later last-update time. A tombstone carries no generation and wins by time alone.
fn newer(img: &Image<'_>, stored: &RecordMeta) -> bool {
    if img.tombstone {
        return img.last_update_ms >= stored.last_update_ms;
    }
    (img.generation, img.last_update_ms) > (stored.generation, stored.last_update_ms)
}

/// Applies an image if it is newer than what the node holds; returns whether it changed
/// anything.
pub fn apply(registry: &Registry, img: &Image<'_>) -> Result<bool, ApplyError> {
    let ns = registry.get(img.ns).ok_or(ApplyError::Namespace)?;
    let partition = ns.partition(&img.digest);
    let mut idx = partition.lock();
    if let Some(r) = idx.get(&img.digest) {
        if !newer(img, &r.meta) {
            return Ok(false);
        }
    } else if img.tombstone {
        return Ok(false);
    }
    if img.tombstone {
        ns.delete_record(&mut idx, &img.digest)
            .map_err(|e| ApplyError::Store(e.to_string()))?;
        return Ok(true);
    }
    let set_id = ns
        .sets
        .get_or_create(img.set)
        .map_err(|_| ApplyError::Malformed)?;
    let meta = RecordMeta {
        last_update_ms: img.last_update_ms,
        void_time: img.void_time,
        generation: img.generation,
        set_id,
    };
    let created = ns
        .store(&mut idx, img.digest, meta, img.data.to_vec(), img.set)
        .map_err(|e| ApplyError::Store(e.to_string()))?;
    if created && set_id != NO_SET {
        ns.sets.add_objects(set_id, 1);
    }
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::*;

    type TestResult = Result<(), String>;

    fn registry() -> Registry {
        let cfg = aerie_config::Config::default();
        Registry::new(&cfg.namespaces, 1)
    }

    fn first_ns(reg: &Registry) -> Result<std::sync::Arc<Namespace>, String> {
        reg.iter().next().cloned().ok_or("no namespace".to_owned())
    }

    #[test]
    fn round_trip_and_newest_wins() -> TestResult {
        let reg = registry();
        let ns = first_ns(&reg)?;
        let digest = [7u8; DIGEST_SIZE];
        let set_id = ns
            .sets
            .get_or_create(b"demo")
            .map_err(|e| format!("{e:?}"))?;
        let rec = |generation, lut| {
            Record::new(
                RecordMeta {
                    last_update_ms: lut,
                    void_time: 0,
                    generation,
                    set_id,
                },
                Some((3, b"k".as_slice())),
                &[],
            )
        };
        let mut buf = Vec::new();
        encode(&mut buf, &ns, &digest, Some(&rec(2, 100)), 0);
        let older = rec(1, 500);
        encode(&mut buf, &ns, &digest, Some(&older), 0);
        encode(&mut buf, &ns, &digest, None, 50);
        let (a, rest) = decode(&buf).ok_or("first")?;
        let (b, rest) = decode(rest).ok_or("second")?;
        let (t, rest) = decode(rest).ok_or("third")?;
        assert!(rest.is_empty());
        assert_eq!(
            (a.generation, a.last_update_ms, a.set),
            (2, 100, b"demo".as_slice())
        );
        assert_eq!(apply(&reg, &a), Ok(true));
        // A lower generation loses even with a later time.
        assert_eq!(apply(&reg, &b), Ok(false));
        // An older tombstone loses too.
        assert_eq!(apply(&reg, &t), Ok(false));
        assert_eq!(
            ns.partition(&digest)
                .lock()
                .get(&digest)
                .map(|r| r.meta.generation),
            Some(2)
        );
        let mut late = Vec::new();
        encode(&mut late, &ns, &digest, None, 1000);
        let (t2, _) = decode(&late).ok_or("tombstone")?;
        assert_eq!(apply(&reg, &t2), Ok(true));
        assert!(ns.partition(&digest).lock().get(&digest).is_none());
        assert!(decode(buf.get(..10).unwrap_or_default()).is_none());
        Ok(())
    }

    /// The image a master encodes from the bytes it stores equals the image of the stored
    /// record read back: replicas get exactly what the master holds.
    #[test]
    fn stored_image_equals_image_read_back() -> TestResult {
        let reg = registry();
        let ns = first_ns(&reg)?;
        let digest = [9u8; DIGEST_SIZE];
        let set_id = ns.sets.get_or_create(b"s").map_err(|e| format!("{e:?}"))?;
        let meta = RecordMeta {
            last_update_ms: 1234,
            void_time: 0,
            generation: 3,
            set_id,
        };
        let mut data = Vec::new();
        Record::encode_key(&mut data, Some((3, b"key".as_slice())));
        let mut bins = aerie_record::bins::FlatBins::default();
        bins.set(
            std::borrow::Cow::Borrowed(b"b".as_slice()),
            1,
            std::borrow::Cow::Owned(7i64.to_be_bytes().to_vec()),
        );
        bins.encode_into(&mut data);
        let mut from_write = Vec::new();
        encode_stored(&mut from_write, &ns, &digest, &meta, b"s", &data);
        {
            let mut idx = ns.partition(&digest).lock();
            ns.store(&mut idx, digest, meta, data, b"s")
                .map_err(|e| e.to_string())?;
        }
        let mut read_back = Vec::new();
        let idx = ns.partition(&digest).lock();
        assert!(encode(&mut read_back, &ns, &digest, idx.get(&digest), 0));
        assert_eq!(from_write, read_back);
        Ok(())
    }

    /// Arbitrary bytes never panic the decoder, and each image it accepts consumes bytes
    /// (property test over the replica-write payload decoder, which reads peers' bytes).
    #[test]
    fn decode_is_total() {
        use proptest::prelude::*;
        proptest!(|(bytes in proptest::collection::vec(any::<u8>(), 0..256))| {
            let mut rest = bytes.as_slice();
            let mut steps = 0;
            while let Some((_, r)) = decode(rest) {
                prop_assert!(r.len() < rest.len());
                rest = r;
                steps += 1;
                prop_assert!(steps <= 256);
            }
        });
    }
}
