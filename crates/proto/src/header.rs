//! The 8-byte proto header that frames every message on a client socket.
//!
//! | byte | meaning |
//! |------|---------|
//! | 0    | version (2) |
//! | 1    | type (1 info, 2 admin, 3 message, 4 compressed message, 5 XDR) |
//! | 2..8 | body size, 48-bit big-endian, header excluded |

use thiserror::Error;

/// Size of the proto header in bytes.
pub const PROTO_HEADER_SIZE: usize = 8;
/// The only protocol version clients speak.
pub const PROTO_VERSION: u8 = 2;
/// Largest body the server accepts (Aerospike's `PROTO_SIZE_MAX`, 128 MiB).
pub const PROTO_SIZE_MAX: u64 = 128 * 1024 * 1024;

/// Message types carried in byte 1 of the proto header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum ProtoType {
    Info = 1,
    Admin = 2,
    Msg = 3,
    Compressed = 4,
    Xdr = 5,
}

impl ProtoType {
    fn from_u8(v: u8) -> Option<Self> {
        Some(match v {
            1 => Self::Info,
            2 => Self::Admin,
            3 => Self::Msg,
            4 => Self::Compressed,
            5 => Self::Xdr,
            _ => return None,
        })
    }
}

/// Framing errors: the connection cannot be trusted any more and is closed without a reply.
#[derive(Debug, Error, PartialEq, Eq)]
#[non_exhaustive]
pub enum FrameError {
    #[error("unsupported proto version {0}")]
    Version(u8),
    #[error("unknown proto type {0}")]
    Type(u8),
    #[error("proto body of {0} bytes exceeds the {PROTO_SIZE_MAX}-byte limit")]
    TooLarge(u64),
    #[error("TLS handshake on a plain-text port")]
    Tls,
}

/// A decoded proto header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ProtoHeader {
    pub version: u8,
    pub proto_type: ProtoType,
    pub size_bytes: u64,
}

impl ProtoHeader {
    /// Decodes and validates a header. Only framing is checked here; the body is not yet read.
    pub fn parse(b: &[u8; PROTO_HEADER_SIZE]) -> Result<Self, FrameError> {
        let [version, ty, s0, s1, s2, s3, s4, s5] = *b;
        // A TLS ClientHello starts 0x16 0x03 .. and has 0x01 at byte 5.
        if version == 22 && ty == 3 && s3 == 1 {
            return Err(FrameError::Tls);
        }
        let proto_type = ProtoType::from_u8(ty).ok_or(FrameError::Type(ty))?;
        // Version 0 is tolerated for security (admin) messages only, as the reference server does.
        if version != PROTO_VERSION && !(version == 0 && proto_type == ProtoType::Admin) {
            return Err(FrameError::Version(version));
        }
        let size_bytes = u64::from_be_bytes([0, 0, s0, s1, s2, s3, s4, s5]);
        if size_bytes > PROTO_SIZE_MAX {
            return Err(FrameError::TooLarge(size_bytes));
        }
        Ok(Self {
            version,
            proto_type,
            size_bytes,
        })
    }

    /// Encodes a header for a body of `size_bytes`.
    pub fn encode(proto_type: ProtoType, size_bytes: u64) -> [u8; PROTO_HEADER_SIZE] {
        let s = size_bytes.to_be_bytes();
        [
            PROTO_VERSION,
            proto_type as u8,
            s[2],
            s[3],
            s[4],
            s[5],
            s[6],
            s[7],
        ]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip() -> Result<(), FrameError> {
        let h = ProtoHeader::encode(ProtoType::Msg, 0x0102_0304);
        let p = ProtoHeader::parse(&h)?;
        assert_eq!(p.proto_type, ProtoType::Msg);
        assert_eq!(p.size_bytes, 0x0102_0304);
        Ok(())
    }

    #[test]
    fn rejects_bad_framing() {
        assert_eq!(
            ProtoHeader::parse(&[3, 3, 0, 0, 0, 0, 0, 1]),
            Err(FrameError::Version(3))
        );
        assert_eq!(
            ProtoHeader::parse(&[2, 9, 0, 0, 0, 0, 0, 1]),
            Err(FrameError::Type(9))
        );
        let big = ProtoHeader::encode(ProtoType::Msg, PROTO_SIZE_MAX + 1);
        assert_eq!(
            ProtoHeader::parse(&big),
            Err(FrameError::TooLarge(PROTO_SIZE_MAX + 1))
        );
        assert_eq!(
            ProtoHeader::parse(&[22, 3, 1, 0, 0, 1, 0, 0]),
            Err(FrameError::Tls)
        );
    }
}
