//! On-disk layouts. All integers are big-endian. See `docs/storage-format.md`.
//!
//! File: write block 0 holds the file header; blocks 1.. hold records.
//!
//! File header (`FILE_HEADER_BYTES`):
//! | off | size | field |
//! |-----|------|-------|
//! | 0   | 8    | magic `AERIEDV1` |
//! | 8   | 4    | format version |
//! | 12  | 4    | write-block size |
//! | 16  | 1    | namespace name length |
//! | 17  | 31   | namespace name (zero padded) |
//! | 48  | 4    | crc32 of bytes 0..48 |
//!
//! Write block: a 16-byte header (`u32 magic AEWB`, `u32 crc32 of the sequence`,
//! `u64 sequence`), then record images aligned to 16 bytes, then zeros.
//!
//! Record image:
//! | off | size | field |
//! |-----|------|-------|
//! | 0   | 4    | magic `AERM` |
//! | 4   | 4    | image size (header + set + data), unpadded |
//! | 8   | 4    | crc32 of the block's sequence number then bytes 12..size |
//! | 12  | 20   | digest |
//! | 32  | 8    | last-update time, ms since 2010 |
//! | 40  | 4    | void time, s since 2010 (0 = never) |
//! | 44  | 2    | generation |
//! | 46  | 1    | flags (0x01 tombstone; bits 1..=2 codec: 0 none, 1 lz4, 2 snappy, 3 zstd) |
//! | 47  | 1    | set name length |
//! | 48  | n    | set name, then the record data (key section and flat bins) |

use aerie_record::{Digest, DIGEST_SIZE};

use crate::compress::Codec;

/// File magic.
pub const FILE_MAGIC: [u8; 8] = *b"AERIEDV1";
/// Current format version.
pub const FORMAT_VERSION: u32 = 1;
const FH_VERSION: usize = 8;
const FH_WBLOCK: usize = FH_VERSION + 4;
const FH_NS_LEN: usize = FH_WBLOCK + 4;
const FH_NS: usize = FH_NS_LEN + 1;
const FH_NS_MAX: usize = 31;
const FH_CRC: usize = FH_NS + FH_NS_MAX;
/// Bytes of the file header.
pub const FILE_HEADER_BYTES: usize = FH_CRC + 4;
const _: () = assert!(FILE_HEADER_BYTES == 52);

/// Write-block magic.
pub const WBLOCK_MAGIC: u32 = u32::from_be_bytes(*b"AEWB");
/// Bytes of the write-block header.
pub const WBLOCK_HEADER_BYTES: usize = 16;

/// Record magic.
pub const RECORD_MAGIC: u32 = u32::from_be_bytes(*b"AERM");
const R_SIZE: usize = 4;
const R_CRC: usize = R_SIZE + 4;
const R_DIGEST: usize = R_CRC + 4;
const R_LUT: usize = R_DIGEST + DIGEST_SIZE;
const R_VOID: usize = R_LUT + 8;
const R_GEN: usize = R_VOID + 4;
const R_FLAGS: usize = R_GEN + 2;
const R_SET_LEN: usize = R_FLAGS + 1;
/// Fixed bytes of a record image before the set name.
pub const RECORD_HEADER_BYTES: usize = R_SET_LEN + 1;
const _: () = assert!(RECORD_HEADER_BYTES == 48);
/// Record images start on this alignment.
pub const RECORD_ALIGN: usize = 16;
/// Flag: the image is a tombstone (a delete).
pub const FLAG_TOMBSTONE: u8 = 0x01;
/// Flags bits 1..=2: the data's compression codec (`crate::compress::Codec`).
const FLAG_CODEC_SHIFT: u8 = 1;

/// Where a record image lives.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Location {
    pub device: u16,
    pub wblock: u32,
    pub offset: u32,
    pub size: u32,
}

/// A record image, borrowed from a buffer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RecordImage<'a> {
    pub digest: Digest,
    pub last_update_ms: u64,
    pub void_time: u32,
    pub generation: u16,
    pub tombstone: bool,
    /// How `data` is compressed (flags bits 1..=2).
    pub codec: Codec,
    pub set: &'a [u8],
    /// Key section and flat bins, as the namespace layer stores them (compressed with `codec`).
    pub data: &'a [u8],
}

impl RecordImage<'_> {
    /// Encoded size, unpadded.
    pub fn encoded_len(&self) -> usize {
        RECORD_HEADER_BYTES + self.set.len() + self.data.len()
    }

    /// Appends the encoding to `out` for a write block with sequence `seq`. The checksum
    /// covers the sequence, so an image left over from a block's earlier use never passes as
    /// part of its new contents. The set name must be at most 255 bytes.
    pub fn encode_into(&self, seq: u64, out: &mut Vec<u8>) {
        let start = out.len();
        let size = self.encoded_len() as u32;
        out.extend_from_slice(&RECORD_MAGIC.to_be_bytes());
        out.extend_from_slice(&size.to_be_bytes());
        out.extend_from_slice(&[0; 4]);
        out.extend_from_slice(&self.digest);
        out.extend_from_slice(&self.last_update_ms.to_be_bytes());
        out.extend_from_slice(&self.void_time.to_be_bytes());
        out.extend_from_slice(&self.generation.to_be_bytes());
        let tomb = if self.tombstone { FLAG_TOMBSTONE } else { 0 };
        out.push(tomb | (self.codec.to_bits() << FLAG_CODEC_SHIFT));
        out.push(self.set.len().min(255) as u8);
        out.extend_from_slice(self.set.get(..self.set.len().min(255)).unwrap_or_default());
        out.extend_from_slice(self.data);
        let crc = record_crc(seq, out.get(start + R_DIGEST..).unwrap_or_default());
        if let Some(dst) = out.get_mut(start + R_CRC..start + R_CRC + 4) {
            dst.copy_from_slice(&crc.to_be_bytes());
        }
    }
}

/// What decoding at an offset found.
#[derive(Debug, PartialEq, Eq)]
pub enum Decoded<'a> {
    /// A valid image and its unpadded size.
    Image(RecordImage<'a>, usize),
    /// Zeros: the end of the block's used part.
    End,
    /// Bytes that are neither an image nor the end: a torn or corrupt write.
    Corrupt(&'static str),
}

fn record_crc(seq: u64, body: &[u8]) -> u32 {
    let mut h = crc32fast::Hasher::new();
    h.update(&seq.to_be_bytes());
    h.update(body);
    h.finalize()
}

/// Decodes the record image at the start of `b`, in a write block with sequence `seq`.
pub fn decode_record(seq: u64, b: &[u8]) -> Decoded<'_> {
    decode(Some(seq), b)
}

/// Decodes a record image read back through its location (`BlockWriter::read`): the index
/// vouches for it, so the checksum (which needs the block's sequence) is not checked; magic
/// and sizes are.
pub fn decode_located(b: &[u8]) -> Decoded<'_> {
    decode(None, b)
}

fn decode(seq: Option<u64>, b: &[u8]) -> Decoded<'_> {
    let Some(head) = b.get(..RECORD_HEADER_BYTES) else {
        return if b.iter().all(|&x| x == 0) {
            Decoded::End
        } else {
            Decoded::Corrupt("truncated header")
        };
    };
    let be32 = |o: usize| {
        head.get(o..o + 4)
            .and_then(|s| s.try_into().ok())
            .map_or(0, u32::from_be_bytes)
    };
    let magic = be32(0);
    if magic == 0 {
        return Decoded::End;
    }
    if magic != RECORD_MAGIC {
        return Decoded::Corrupt("bad record magic");
    }
    let size = be32(R_SIZE) as usize;
    if size < RECORD_HEADER_BYTES {
        return Decoded::Corrupt("bad record size");
    }
    let Some(image) = b.get(..size) else {
        return Decoded::Corrupt("record runs past its block");
    };
    let body = image.get(R_DIGEST..).unwrap_or_default();
    if seq.is_some_and(|seq| record_crc(seq, body) != be32(R_CRC)) {
        return Decoded::Corrupt("checksum mismatch");
    }
    let mut digest = [0u8; DIGEST_SIZE];
    digest.copy_from_slice(
        image
            .get(R_DIGEST..R_DIGEST + DIGEST_SIZE)
            .unwrap_or(&[0; DIGEST_SIZE]),
    );
    let lut = image
        .get(R_LUT..R_LUT + 8)
        .and_then(|s| s.try_into().ok())
        .map_or(0, u64::from_be_bytes);
    let void_time = be32(R_VOID);
    let generation = image
        .get(R_GEN..R_GEN + 2)
        .and_then(|s| s.try_into().ok())
        .map_or(0, u16::from_be_bytes);
    let flags = image.get(R_FLAGS).copied().unwrap_or(0);
    let set_len = image.get(R_SET_LEN).copied().unwrap_or(0) as usize;
    let Some(set) = image.get(RECORD_HEADER_BYTES..RECORD_HEADER_BYTES + set_len) else {
        return Decoded::Corrupt("set name runs past the record");
    };
    let data = image
        .get(RECORD_HEADER_BYTES + set_len..)
        .unwrap_or_default();
    Decoded::Image(
        RecordImage {
            digest,
            last_update_ms: lut,
            void_time,
            generation,
            tombstone: flags & FLAG_TOMBSTONE != 0,
            codec: Codec::from_bits(flags >> FLAG_CODEC_SHIFT),
            set,
            data,
        },
        size,
    )
}

/// Rounds `n` up to the record alignment.
pub fn align_up(n: usize) -> usize {
    n.div_ceil(RECORD_ALIGN) * RECORD_ALIGN
}

/// Encodes a file header.
pub fn encode_file_header(namespace: &str, wblock_bytes: u32) -> [u8; FILE_HEADER_BYTES] {
    let mut h = [0u8; FILE_HEADER_BYTES];
    let ns = namespace.as_bytes();
    let ns = ns.get(..ns.len().min(FH_NS_MAX)).unwrap_or_default();
    let mut put = |off: usize, b: &[u8]| {
        if let Some(dst) = h.get_mut(off..off + b.len()) {
            dst.copy_from_slice(b);
        }
    };
    put(0, &FILE_MAGIC);
    put(FH_VERSION, &FORMAT_VERSION.to_be_bytes());
    put(FH_WBLOCK, &wblock_bytes.to_be_bytes());
    put(FH_NS_LEN, &[ns.len() as u8]);
    put(FH_NS, ns);
    let crc = crc32fast::hash(h.get(..FH_CRC).unwrap_or_default());
    if let Some(dst) = h.get_mut(FH_CRC..FH_CRC + 4) {
        dst.copy_from_slice(&crc.to_be_bytes());
    }
    h
}

/// A decoded file header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileHeader {
    pub version: u32,
    pub wblock_bytes: u32,
    pub namespace: String,
}

/// Decodes a file header; `None` for a fresh (all-zero) file, `Err` for a foreign or corrupt one.
pub fn decode_file_header(b: &[u8]) -> Result<Option<FileHeader>, &'static str> {
    let h = b
        .get(..FILE_HEADER_BYTES)
        .ok_or("file shorter than its header")?;
    if h.iter().all(|&x| x == 0) {
        return Ok(None);
    }
    if h.get(..8) != Some(&FILE_MAGIC[..]) {
        return Err("not an Aerie storage file (bad magic)");
    }
    let be32 = |o: usize| {
        h.get(o..o + 4)
            .and_then(|s| s.try_into().ok())
            .map_or(0, u32::from_be_bytes)
    };
    if crc32fast::hash(h.get(..FH_CRC).unwrap_or_default()) != be32(FH_CRC) {
        return Err("file header checksum mismatch");
    }
    let version = be32(FH_VERSION);
    if version != FORMAT_VERSION {
        return Err("unsupported storage format version");
    }
    let ns_len = h.get(FH_NS_LEN).copied().unwrap_or(0) as usize;
    let ns = h
        .get(FH_NS..FH_NS + ns_len.min(FH_NS_MAX))
        .unwrap_or_default();
    Ok(Some(FileHeader {
        version,
        wblock_bytes: be32(FH_WBLOCK),
        namespace: String::from_utf8_lossy(ns).into_owned(),
    }))
}

/// Encodes a write-block header.
pub fn encode_wblock_header(seq: u64) -> [u8; WBLOCK_HEADER_BYTES] {
    let s = seq.to_be_bytes();
    let crc = crc32fast::hash(&s).to_be_bytes();
    let m = WBLOCK_MAGIC.to_be_bytes();
    [
        m[0], m[1], m[2], m[3], crc[0], crc[1], crc[2], crc[3], s[0], s[1], s[2], s[3], s[4], s[5],
        s[6], s[7],
    ]
}

/// The sequence number of a write block, or `None` when it was never written or is damaged.
pub fn decode_wblock_header(b: &[u8]) -> Option<u64> {
    let h: [u8; WBLOCK_HEADER_BYTES] = b.get(..WBLOCK_HEADER_BYTES)?.try_into().ok()?;
    let [m0, m1, m2, m3, c0, c1, c2, c3, s0, s1, s2, s3, s4, s5, s6, s7] = h;
    if u32::from_be_bytes([m0, m1, m2, m3]) != WBLOCK_MAGIC {
        return None;
    }
    let seq = [s0, s1, s2, s3, s4, s5, s6, s7];
    if crc32fast::hash(&seq) != u32::from_be_bytes([c0, c1, c2, c3]) {
        return None;
    }
    Some(u64::from_be_bytes(seq))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn image<'a>(set: &'a [u8], data: &'a [u8]) -> RecordImage<'a> {
        RecordImage {
            digest: [3; 20],
            last_update_ms: 99,
            void_time: 7,
            generation: 2,
            tombstone: false,
            codec: Codec::Zstd,
            set,
            data,
        }
    }

    #[test]
    fn record_round_trip() {
        let mut b = Vec::new();
        let img = image(b"demo", b"payload");
        img.encode_into(5, &mut b);
        assert_eq!(b.len(), img.encoded_len());
        assert_eq!(decode_record(5, &b), Decoded::Image(img, b.len()));
        assert!(
            matches!(decode_record(6, &b), Decoded::Corrupt(_)),
            "another block's image must not pass"
        );
        b.extend_from_slice(&[0; 64]);
        let rest = b.get(img.encoded_len()..).unwrap_or_default();
        assert_eq!(decode_record(5, rest), Decoded::End);
    }

    #[test]
    fn every_flipped_byte_is_caught() {
        let mut b = Vec::new();
        image(b"s", b"some data").encode_into(1, &mut b);
        for i in 0..b.len() {
            let mut c = b.clone();
            if let Some(x) = c.get_mut(i) {
                *x ^= 0x40;
            }
            assert!(
                !matches!(decode_record(1, &c), Decoded::Image(..)),
                "flip at {i} accepted"
            );
        }
    }

    #[test]
    fn headers_round_trip() {
        let h = encode_file_header("test", 1 << 20);
        let d = decode_file_header(&h);
        assert_eq!(
            d,
            Ok(Some(FileHeader {
                version: 1,
                wblock_bytes: 1 << 20,
                namespace: "test".into()
            }))
        );
        assert_eq!(decode_file_header(&[0; FILE_HEADER_BYTES]), Ok(None));
        assert_eq!(decode_wblock_header(&encode_wblock_header(42)), Some(42));
        assert_eq!(decode_wblock_header(&[0; 16]), None);
    }
}
