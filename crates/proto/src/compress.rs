//! Compressed messages (proto type 4): a u64 big-endian size of the inner frame, then a zlib
//! stream holding a complete inner frame (its own 8-byte header included).

use std::io::{Read, Write};

use thiserror::Error;

use crate::header::{ProtoHeader, ProtoType, PROTO_HEADER_SIZE, PROTO_SIZE_MAX};

/// A compressed body that cannot be inflated into a valid inner frame.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum CompressError {
    #[error("compressed body shorter than its 8-byte size prefix")]
    Short,
    #[error("declared inflated size {0} exceeds the limit")]
    TooLarge(u64),
    #[error("zlib stream is corrupt: {0}")]
    Zlib(#[from] std::io::Error),
    #[error("inflated size does not match the declared size")]
    SizeMismatch,
    #[error("inner frame is not a message: {0}")]
    Inner(#[from] crate::header::FrameError),
}

/// Inflates a type-4 body into `out` and returns the inner frame's header. `out` then holds the
/// inner body (after its proto header).
pub fn inflate(body: &[u8], out: &mut Vec<u8>) -> Result<ProtoHeader, CompressError> {
    let (size_b, stream) = body.split_first_chunk::<8>().ok_or(CompressError::Short)?;
    let declared = u64::from_be_bytes(*size_b);
    if declared > PROTO_SIZE_MAX + PROTO_HEADER_SIZE as u64 || declared < PROTO_HEADER_SIZE as u64 {
        return Err(CompressError::TooLarge(declared));
    }
    out.clear();
    let mut dec = flate2::read::ZlibDecoder::new(stream).take(declared + 1);
    dec.read_to_end(out)?;
    if out.len() as u64 != declared {
        return Err(CompressError::SizeMismatch);
    }
    let hb: [u8; PROTO_HEADER_SIZE] = out
        .get(..PROTO_HEADER_SIZE)
        .and_then(|s| s.try_into().ok())
        .ok_or(CompressError::Short)?;
    let header = ProtoHeader::parse(&hb)?;
    if header.size_bytes + PROTO_HEADER_SIZE as u64 != declared {
        return Err(CompressError::SizeMismatch);
    }
    out.drain(..PROTO_HEADER_SIZE);
    Ok(header)
}

/// Compresses the complete frame `frame` into a type-4 frame appended to `out`.
pub fn deflate_frame(frame: &[u8], out: &mut Vec<u8>) -> std::io::Result<()> {
    let start = out.len();
    out.extend_from_slice(&ProtoHeader::encode(ProtoType::Compressed, 0));
    out.extend_from_slice(&(frame.len() as u64).to_be_bytes());
    let mut enc = flate2::write::ZlibEncoder::new(&mut *out, flate2::Compression::fast());
    enc.write_all(frame)?;
    enc.finish()?;
    let size = (out.len() - start - PROTO_HEADER_SIZE) as u64;
    if let Some(dst) = out.get_mut(start..start + PROTO_HEADER_SIZE) {
        dst.copy_from_slice(&ProtoHeader::encode(ProtoType::Compressed, size));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip() -> Result<(), CompressError> {
        let mut frame = ProtoHeader::encode(ProtoType::Msg, 5).to_vec();
        frame.extend_from_slice(b"hello");
        let mut packed = Vec::new();
        deflate_frame(&frame, &mut packed)?;
        let mut out = Vec::new();
        let h = inflate(packed.get(8..).unwrap_or_default(), &mut out)?;
        assert_eq!(h.proto_type, ProtoType::Msg);
        assert_eq!(out, b"hello");
        Ok(())
    }
}
