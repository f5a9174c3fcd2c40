//! Record compression: each image's data (key section and bins) is compressed on its own with
//! the namespace's codec, and kept raw when that does not save bytes (as Aerospike does). The
//! codec is recorded in the image's flags, so images written under another setting still read
//! back, and defragmentation moves compressed images as they are.
//!
//! Compressed data: `u32` uncompressed length (big-endian), then the codec's block format
//! (lz4 block, snappy raw, zstd frame).

use crate::StorageError;

/// A record-data codec, as stored in bits 1..=2 of an image's flags.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Codec {
    #[default]
    None,
    Lz4,
    Snappy,
    Zstd,
}

/// Largest uncompressed data a compressed image may announce (a write block holds less).
const MAX_PLAIN_BYTES: usize = 64 << 20;

impl Codec {
    /// The codec's number in an image's flags.
    pub fn to_bits(self) -> u8 {
        match self {
            Self::None => 0,
            Self::Lz4 => 1,
            Self::Snappy => 2,
            Self::Zstd => 3,
        }
    }

    /// The codec numbered `bits` (two bits).
    pub fn from_bits(bits: u8) -> Self {
        match bits & 3 {
            1 => Self::Lz4,
            2 => Self::Snappy,
            3 => Self::Zstd,
            _ => Self::None,
        }
    }
}

/// Compresses `data` into `out` (cleared first) and returns the codec used: `codec`, or
/// [`Codec::None`] with `out` left empty when compressing would not save bytes (the caller
/// then stores `data` as it is). `level` is zstd's (0 = its default).
pub fn compress(codec: Codec, level: u32, data: &[u8], out: &mut Vec<u8>) -> Codec {
    out.clear();
    if codec == Codec::None || data.len() > MAX_PLAIN_BYTES {
        return Codec::None;
    }
    out.extend_from_slice(&(data.len() as u32).to_be_bytes());
    let ok = match codec {
        Codec::None => false,
        Codec::Lz4 => {
            out.extend_from_slice(&lz4_flex::block::compress(data));
            true
        }
        Codec::Snappy => match snap::raw::Encoder::new().compress_vec(data) {
            Ok(c) => {
                out.extend_from_slice(&c);
                true
            }
            Err(_) => false,
        },
        Codec::Zstd => zstd::stream::copy_encode(data, &mut *out, level as i32).is_ok(),
    };
    if !ok || out.len() >= data.len() {
        out.clear();
        return Codec::None;
    }
    codec
}

/// Decompresses image data written with `codec` into `out` (cleared first).
pub fn decompress(codec: Codec, data: &[u8], out: &mut Vec<u8>) -> Result<(), StorageError> {
    let bad = |m: &str| StorageError::Format {
        path: "record image".into(),
        message: format!("cannot decompress ({codec:?}): {m}"),
    };
    out.clear();
    let (len, body) = data
        .split_first_chunk::<4>()
        .ok_or_else(|| bad("too short"))?;
    let len = u32::from_be_bytes(*len) as usize;
    if len > MAX_PLAIN_BYTES {
        return Err(bad("announced size too large"));
    }
    match codec {
        Codec::None => out.extend_from_slice(data),
        Codec::Lz4 => {
            out.resize(len, 0);
            let n = lz4_flex::block::decompress_into(body, out).map_err(|e| bad(&e.to_string()))?;
            out.truncate(n);
        }
        Codec::Snappy => {
            let n = snap::raw::decompress_len(body).map_err(|e| bad(&e.to_string()))?;
            if n != len {
                return Err(bad("size mismatch"));
            }
            out.resize(n, 0);
            snap::raw::Decoder::new()
                .decompress(body, out)
                .map_err(|e| bad(&e.to_string()))?;
        }
        Codec::Zstd => {
            out.reserve(len);
            let mut limited = std::io::Read::take(body, MAX_PLAIN_BYTES as u64);
            zstd::stream::copy_decode(&mut limited, &mut *out).map_err(|e| bad(&e.to_string()))?;
        }
    }
    if codec != Codec::None && out.len() != len {
        return Err(bad("size mismatch"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    const ALL: [Codec; 3] = [Codec::Lz4, Codec::Snappy, Codec::Zstd];

    #[test]
    fn repetitive_data_shrinks() -> Result<(), StorageError> {
        let data = b"abcdefgh".repeat(1000);
        for c in ALL {
            let mut z = Vec::new();
            assert_eq!(compress(c, 0, &data, &mut z), c);
            assert!(z.len() * 10 < data.len(), "{c:?}: {}", z.len());
            let mut back = Vec::new();
            decompress(c, &z, &mut back)?;
            assert_eq!(back, data);
        }
        Ok(())
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

        /// Every codec round-trips; incompressible data is kept raw.
        #[test]
        fn round_trip(data in proptest::collection::vec(any::<u8>(), 0..2000), level in 0u32..10) {
            for c in ALL {
                let mut z = Vec::new();
                match compress(c, level, &data, &mut z) {
                    Codec::None => prop_assert!(z.is_empty()),
                    used => {
                        prop_assert_eq!(used, c);
                        prop_assert!(z.len() < data.len());
                        let mut back = Vec::new();
                        prop_assert!(decompress(c, &z, &mut back).is_ok());
                        prop_assert_eq!(&back, &data);
                    }
                }
            }
        }

        /// Damaged or arbitrary compressed bytes are refused, never a panic.
        #[test]
        fn garbage_is_refused(data in proptest::collection::vec(any::<u8>(), 0..600)) {
            for c in ALL {
                let mut out = Vec::new();
                let _ = decompress(c, &data, &mut out);
            }
        }
    }
}
