//! The `as_msg` message: a 22-byte header, then fields, then ops.
//!
//! Header layout (offsets inside the message, after the proto header):
//!
//! | off | size | field |
//! |-----|------|-------|
//! | 0   | 1    | header size (22) |
//! | 1-4 | 1 ea | info1, info2, info3, info4 |
//! | 5   | 1    | result code |
//! | 6   | 4    | generation |
//! | 10  | 4    | record ttl (request) / void time (reply) |
//! | 14  | 4    | transaction ttl in ms (request) / batch index (batch reply) |
//! | 18  | 2    | field count |
//! | 20  | 2    | op count |
//!
//! Field: u32 size (type byte + data) · u8 type · data.
//! Op: u32 size (everything after itself) · u8 op · u8 particle type · u8 flags · u8 name length ·
//! name · value.

use thiserror::Error;

const OFF_HEADER_SZ: usize = 0;
const OFF_INFO1: usize = OFF_HEADER_SZ + 1;
const OFF_INFO2: usize = OFF_INFO1 + 1;
const OFF_INFO3: usize = OFF_INFO2 + 1;
const OFF_INFO4: usize = OFF_INFO3 + 1;
const OFF_RESULT_CODE: usize = OFF_INFO4 + 1;
const OFF_GENERATION: usize = OFF_RESULT_CODE + 1;
const OFF_RECORD_TTL: usize = OFF_GENERATION + 4;
const OFF_TRANSACTION_TTL: usize = OFF_RECORD_TTL + 4;
const OFF_N_FIELDS: usize = OFF_TRANSACTION_TTL + 4;
const OFF_N_OPS: usize = OFF_N_FIELDS + 2;
/// Size of the `as_msg` header.
pub const MSG_HEADER_SIZE: usize = OFF_N_OPS + 2;
const _: () = assert!(MSG_HEADER_SIZE == 22);

/// Size of an op's fixed part after its size word: op, particle type, flags, name length.
pub const OP_FIXED_SIZE: usize = 4;

/// Bits of `info1`.
pub mod info1 {
    pub const READ: u8 = 0x01;
    pub const GET_ALL: u8 = 0x02;
    pub const SHORT_QUERY: u8 = 0x04;
    pub const BATCH: u8 = 0x08;
    pub const XDR: u8 = 0x10;
    pub const GET_NO_BINS: u8 = 0x20;
    pub const CONSISTENCY_ALL: u8 = 0x40;
    pub const COMPRESS_RESPONSE: u8 = 0x80;
}

/// Bits of `info2`.
pub mod info2 {
    pub const WRITE: u8 = 0x01;
    pub const DELETE: u8 = 0x02;
    pub const GENERATION: u8 = 0x04;
    pub const GENERATION_GT: u8 = 0x08;
    pub const DURABLE_DELETE: u8 = 0x10;
    pub const CREATE_ONLY: u8 = 0x20;
    pub const RELAX_AP_LONG_QUERY: u8 = 0x40;
    pub const RESPOND_ALL_OPS: u8 = 0x80;
}

/// Bits of `info3`.
pub mod info3 {
    pub const LAST: u8 = 0x01;
    pub const COMMIT_MASTER: u8 = 0x02;
    pub const PARTITION_DONE: u8 = 0x04;
    pub const UPDATE_ONLY: u8 = 0x08;
    pub const CREATE_OR_REPLACE: u8 = 0x10;
    pub const REPLACE_ONLY: u8 = 0x20;
    pub const SC_READ_TYPE: u8 = 0x40;
    pub const SC_READ_RELAX: u8 = 0x80;
}

/// Field type ids.
pub mod field {
    pub const NAMESPACE: u8 = 0;
    pub const SET: u8 = 1;
    pub const KEY: u8 = 2;
    pub const RECORD_VERSION: u8 = 3;
    pub const DIGEST: u8 = 4;
    pub const TXN_ID: u8 = 5;
    pub const TXN_DEADLINE: u8 = 6;
    pub const TASK_ID: u8 = 7;
    pub const SOCKET_TIMEOUT: u8 = 9;
    pub const RPS: u8 = 10;
    pub const PID_ARRAY: u8 = 11;
    pub const DIGEST_ARRAY: u8 = 12;
    pub const MAX_RECORDS: u8 = 13;
    pub const LUT: u8 = 14;
    pub const BVAL_ARRAY: u8 = 15;
    pub const INDEX_NAME: u8 = 21;
    pub const INDEX_RANGE: u8 = 22;
    pub const INDEX_CONTEXT: u8 = 23;
    pub const INDEX_EXPRESSION: u8 = 24;
    pub const INDEX_TYPE: u8 = 26;
    pub const UDF_PACKAGE: u8 = 30;
    pub const UDF_FUNCTION: u8 = 31;
    pub const UDF_ARGLIST: u8 = 32;
    pub const UDF_OP: u8 = 33;
    pub const QUERY_BINLIST: u8 = 40;
    pub const BATCH_INDEX: u8 = 41;
    pub const BATCH_INDEX_WITH_SET: u8 = 42;
    pub const FILTER_EXP: u8 = 43;
    /// One past the largest field id the server knows; larger ids are skipped.
    pub const SLOTS: usize = 44;
}

/// Op type ids.
pub mod op {
    pub const READ: u8 = 1;
    pub const WRITE: u8 = 2;
    pub const CDT_READ: u8 = 3;
    pub const CDT_MODIFY: u8 = 4;
    pub const INCR: u8 = 5;
    pub const EXP_READ: u8 = 7;
    pub const EXP_MODIFY: u8 = 8;
    pub const APPEND: u8 = 9;
    pub const PREPEND: u8 = 10;
    pub const TOUCH: u8 = 11;
    pub const BIT_READ: u8 = 12;
    pub const BIT_MODIFY: u8 = 13;
    pub const DELETE: u8 = 14;
    pub const HLL_READ: u8 = 15;
    pub const HLL_MODIFY: u8 = 16;
}

/// A message that cannot be decoded. The server answers PARAMETER where it can.
#[derive(Debug, Error, PartialEq, Eq)]
#[non_exhaustive]
pub enum ParseError {
    #[error("message shorter than its 22-byte header")]
    ShortHeader,
    #[error("header size {0}, expected 22")]
    HeaderSize(u8),
    #[error("field {index} runs past the end of the message")]
    FieldTruncated { index: u16 },
    #[error("field {index} has size 0")]
    FieldEmpty { index: u16 },
    #[error("op {index} runs past the end of the message")]
    OpTruncated { index: u16 },
    #[error("op {index} is malformed")]
    OpMalformed { index: u16 },
}

/// The decoded 22-byte header.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct MsgHeader {
    pub info1: u8,
    pub info2: u8,
    pub info3: u8,
    pub info4: u8,
    pub result_code: u8,
    pub generation: u32,
    pub record_ttl: u32,
    pub transaction_ttl: u32,
    pub n_fields: u16,
    pub n_ops: u16,
}

impl MsgHeader {
    /// Decodes the header at the start of `b`.
    pub fn parse(b: &[u8]) -> Result<Self, ParseError> {
        let h: &[u8; MSG_HEADER_SIZE] = b
            .get(..MSG_HEADER_SIZE)
            .and_then(|s| s.try_into().ok())
            .ok_or(ParseError::ShortHeader)?;
        let [sz, info1, info2, info3, info4, result_code, g0, g1, g2, g3, r0, r1, r2, r3, t0, t1, t2, t3, f0, f1, o0, o1] =
            *h;
        if sz as usize != MSG_HEADER_SIZE {
            return Err(ParseError::HeaderSize(sz));
        }
        Ok(Self {
            info1,
            info2,
            info3,
            info4,
            result_code,
            generation: u32::from_be_bytes([g0, g1, g2, g3]),
            record_ttl: u32::from_be_bytes([r0, r1, r2, r3]),
            transaction_ttl: u32::from_be_bytes([t0, t1, t2, t3]),
            n_fields: u16::from_be_bytes([f0, f1]),
            n_ops: u16::from_be_bytes([o0, o1]),
        })
    }

    /// Encodes the header.
    pub fn encode(&self) -> [u8; MSG_HEADER_SIZE] {
        let g = self.generation.to_be_bytes();
        let r = self.record_ttl.to_be_bytes();
        let t = self.transaction_ttl.to_be_bytes();
        let f = self.n_fields.to_be_bytes();
        let o = self.n_ops.to_be_bytes();
        [
            MSG_HEADER_SIZE as u8,
            self.info1,
            self.info2,
            self.info3,
            self.info4,
            self.result_code,
            g[0],
            g[1],
            g[2],
            g[3],
            r[0],
            r[1],
            r[2],
            r[3],
            t[0],
            t[1],
            t[2],
            t[3],
            f[0],
            f[1],
            o[0],
            o[1],
        ]
    }
}

/// A field borrowed from the request buffer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Field<'a> {
    pub field_type: u8,
    pub data: &'a [u8],
}

/// An op borrowed from the request buffer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Op<'a> {
    pub op_type: u8,
    pub particle_type: u8,
    pub flags: u8,
    pub name: &'a [u8],
    pub value: &'a [u8],
}

/// Known fields by id, plus the validated op region.
#[derive(Debug, Clone)]
pub struct Fields<'a> {
    slots: [Option<&'a [u8]>; field::SLOTS],
}

impl<'a> Fields<'a> {
    /// The data of field `id`, if the message carried it.
    #[inline]
    pub fn get(&self, id: u8) -> Option<&'a [u8]> {
        self.slots.get(id as usize).copied().flatten()
    }

    /// Whether the message carried field `id`.
    #[inline]
    pub fn has(&self, id: u8) -> bool {
        self.get(id).is_some()
    }
}

/// A decoded `as_msg`, borrowing its fields and ops from the request buffer.
#[derive(Debug, Clone)]
pub struct Msg<'a> {
    pub header: MsgHeader,
    pub fields: Fields<'a>,
    ops: &'a [u8],
    n_ops: u16,
}

impl<'a> Msg<'a> {
    /// Decodes a whole message; `body` is the proto body (header, fields, ops).
    pub fn parse(body: &'a [u8]) -> Result<Self, ParseError> {
        let header = MsgHeader::parse(body)?;
        let rest = body.get(MSG_HEADER_SIZE..).unwrap_or_default();
        let (msg, _) = Self::parse_parts(header, rest)?;
        Ok(msg)
    }

    /// Decodes `header.n_fields` fields and `header.n_ops` ops at the start of `b` (used for
    /// batch rows, whose header is packed differently). Returns the message and the bytes used.
    pub fn parse_parts(header: MsgHeader, b: &'a [u8]) -> Result<(Self, usize), ParseError> {
        let mut slots = [None; field::SLOTS];
        let mut pos = 0usize;
        for index in 0..header.n_fields {
            let size = read_u32(b, pos).ok_or(ParseError::FieldTruncated { index })? as usize;
            if size == 0 {
                return Err(ParseError::FieldEmpty { index });
            }
            let start = pos + 4;
            let end = start
                .checked_add(size)
                .ok_or(ParseError::FieldTruncated { index })?;
            let f = b
                .get(start..end)
                .ok_or(ParseError::FieldTruncated { index })?;
            if let Some((&ty, data)) = f.split_first() {
                if let Some(slot) = slots.get_mut(ty as usize) {
                    *slot = Some(data);
                }
            }
            pos = end;
        }
        let ops_start = pos;
        for index in 0..header.n_ops {
            let size = read_u32(b, pos).ok_or(ParseError::OpTruncated { index })? as usize;
            let start = pos + 4;
            let end = start
                .checked_add(size)
                .ok_or(ParseError::OpTruncated { index })?;
            let o = b.get(start..end).ok_or(ParseError::OpTruncated { index })?;
            let name_len = *o.get(3).ok_or(ParseError::OpMalformed { index })? as usize;
            if OP_FIXED_SIZE + name_len > o.len() {
                return Err(ParseError::OpMalformed { index });
            }
            pos = end;
        }
        let ops = b.get(ops_start..pos).unwrap_or_default();
        Ok((
            Self {
                header,
                fields: Fields { slots },
                ops,
                n_ops: header.n_ops,
            },
            pos,
        ))
    }

    /// The ops, in request order.
    pub fn ops(&self) -> OpIter<'a> {
        OpIter {
            b: self.ops,
            remaining: self.n_ops,
        }
    }

    /// Number of ops.
    pub fn n_ops(&self) -> u16 {
        self.n_ops
    }
}

/// Iterator over ops already validated by [`Msg::parse_parts`].
#[derive(Debug, Clone)]
pub struct OpIter<'a> {
    b: &'a [u8],
    remaining: u16,
}

impl<'a> Iterator for OpIter<'a> {
    type Item = Op<'a>;

    fn next(&mut self) -> Option<Op<'a>> {
        if self.remaining == 0 {
            return None;
        }
        self.remaining -= 1;
        let size = read_u32(self.b, 0)? as usize;
        let o = self.b.get(4..4 + size)?;
        self.b = self.b.get(4 + size..)?;
        let (&[op_type, particle_type, flags, name_len], tail) = o.split_first_chunk::<4>()?;
        let (name, value) = tail.split_at_checked(name_len as usize)?;
        Some(Op {
            op_type,
            particle_type,
            flags,
            name,
            value,
        })
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.remaining as usize, Some(self.remaining as usize))
    }
}

#[inline]
pub(crate) fn read_u32(b: &[u8], pos: usize) -> Option<u32> {
    let s: [u8; 4] = b.get(pos..pos.checked_add(4)?)?.try_into().ok()?;
    Some(u32::from_be_bytes(s))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::builder::MsgWriter;

    fn sample() -> Vec<u8> {
        let mut buf = Vec::new();
        let mut w = MsgWriter::begin(&mut buf, crate::ProtoType::Msg);
        w.header(&MsgHeader {
            info1: info1::READ,
            generation: 7,
            ..Default::default()
        });
        w.field(field::NAMESPACE, b"test");
        w.field(field::DIGEST, &[9u8; 20]);
        w.op(op::READ, 0, b"bin1", &[]);
        w.op(op::WRITE, 3, b"b", b"hello");
        w.finish();
        buf
    }

    #[test]
    fn parse_round_trip() -> Result<(), ParseError> {
        let buf = sample();
        let m = Msg::parse(buf.get(8..).unwrap_or_default())?;
        assert_eq!(m.header.info1, info1::READ);
        assert_eq!(m.header.generation, 7);
        assert_eq!(m.header.n_fields, 2);
        assert_eq!(m.fields.get(field::NAMESPACE), Some(&b"test"[..]));
        assert_eq!(m.fields.get(field::DIGEST), Some(&[9u8; 20][..]));
        let ops: Vec<_> = m.ops().collect();
        assert_eq!(ops.len(), 2);
        assert_eq!(ops.first().map(|o| o.name), Some(&b"bin1"[..]));
        assert_eq!(
            ops.get(1).map(|o| (o.particle_type, o.value)),
            Some((3, &b"hello"[..]))
        );
        Ok(())
    }

    #[test]
    fn every_truncation_is_an_error() {
        let buf = sample();
        let body = buf.get(8..).unwrap_or_default();
        for cut in 0..body.len() {
            assert!(
                Msg::parse(body.get(..cut).unwrap_or_default()).is_err(),
                "cut at {cut}"
            );
        }
    }

    proptest::proptest! {
        #[test]
        fn random_bytes_never_panic(b in proptest::collection::vec(proptest::num::u8::ANY, 0..200)) {
            if let Ok(m) = Msg::parse(&b) {
                let n = m.ops().count();
                proptest::prop_assert_eq!(n, m.n_ops() as usize);
            }
        }
    }
}
