// hot path: every bench transaction is encoded and its reply checked here.
//! Request encoding and reply checking for the bench, without I/O.
//!
//! Requests are written into a caller-owned buffer that is cleared and reused, with
//! `aerie_proto::MsgWriter`; bin values live in buffers made once per worker. So a
//! steady-state transaction allocates nothing.
//!
//! Keys are integers (as asbench's are): digest = RIPEMD-160(set ‖ 1 ‖ i64 BE), the same
//! digest every official client computes for that key.

use aerie_proto::msg::{field, info1, info2, info3, op};
use aerie_proto::{MsgHeader, MsgWriter, ProtoType, MSG_HEADER_SIZE};
use aerie_record::{compute_digest, Digest};

use crate::rng::Rng;
use crate::spec::{particle, BinSpec};

/// Batch row flag: same namespace, set and ops as the previous row.
const BATCH_ROW_REPEAT: u8 = 0x01;
/// Batch parent flag: answer every key, errors included (the clients' default).
const BATCH_RESPOND_ALL_KEYS: u8 = 0x04;
/// Parent flag "inline when in memory" (the clients' default).
const BATCH_ALLOW_INLINE: u8 = 0x01;

/// Fixed settings of every request one worker sends.
#[derive(Debug, Clone)]
pub struct RequestTemplate {
    pub namespace: Vec<u8>,
    pub set: Vec<u8>,
    pub bin_names: Vec<Vec<u8>>,
    pub bins: Vec<BinSpec>,
    pub record_ttl: u32,
    pub timeout_ms: u32,
    /// A filter expression (field 43, the expression's msgpack) sent with every single read.
    pub read_filter: Option<Vec<u8>>,
}

/// Encodes one worker's requests; owns the current bin values.
#[derive(Debug)]
pub struct Encoder {
    t: RequestTemplate,
    values: Vec<Vec<u8>>,
    batch_rows: Vec<u8>,
}

impl Encoder {
    /// Makes the value buffers once and fills them with a first set of values.
    pub fn new(t: RequestTemplate, rng: &mut Rng) -> Self {
        let values = t.bins.iter().map(|b| vec![0u8; b.value_len()]).collect();
        let mut e = Encoder {
            t,
            values,
            batch_rows: Vec::new(),
        };
        e.refresh_values(rng);
        e
    }

    /// New random values for every bin (asbench `-R`).
    pub fn refresh_values(&mut self, rng: &mut Rng) {
        for (spec, v) in self.t.bins.iter().zip(self.values.iter_mut()) {
            spec.fill(rng, v);
        }
    }

    /// The digest of integer key `key`.
    #[inline]
    pub fn digest(&self, key: u64) -> Digest {
        compute_digest(&self.t.set, particle::INTEGER, &(key as i64).to_be_bytes())
    }

    /// Replaces `buf` with a write of every bin to `key` (update: create or merge).
    pub fn write(&self, buf: &mut Vec<u8>, key: u64) {
        let mut w = self.begin_record(buf, key, 0, info2::WRITE, self.t.record_ttl);
        for ((name, spec), value) in self.t.bin_names.iter().zip(&self.t.bins).zip(&self.values) {
            w.op(op::WRITE, spec.particle_type(), name, value);
        }
        w.finish();
    }

    /// Replaces `buf` with one collection (CDT) modify op on `bin` of `key`; `payload` is the
    /// op's msgpack array.
    pub fn cdt_modify(&self, buf: &mut Vec<u8>, key: u64, bin: &[u8], payload: &[u8]) {
        let mut w = self.begin_record(buf, key, 0, info2::WRITE, self.t.record_ttl);
        w.op(op::CDT_MODIFY, aerie_record::particle::BLOB, bin, payload);
        w.finish();
    }

    /// Replaces `buf` with a record UDF call on `key`; `args` is the msgpack argument list.
    pub fn udf_apply(
        &self,
        buf: &mut Vec<u8>,
        key: u64,
        package: &str,
        function: &str,
        args: &[u8],
    ) {
        let mut w = self.begin_record(buf, key, 0, info2::WRITE, self.t.record_ttl);
        w.field(field::UDF_PACKAGE, package.as_bytes());
        w.field(field::UDF_FUNCTION, function.as_bytes());
        w.field(field::UDF_ARGLIST, args);
        w.finish();
    }

    /// Replaces `buf` with an operate adding `by` to integer `bin` of `key` and reading it.
    pub fn incr_read(&self, buf: &mut Vec<u8>, key: u64, bin: &[u8], by: i64) {
        let mut w = self.begin_record(buf, key, info1::READ, info2::WRITE, self.t.record_ttl);
        w.op(op::INCR, particle::INTEGER, bin, &by.to_be_bytes());
        w.op(op::READ, 0, bin, &[]);
        w.finish();
    }

    /// Replaces `buf` with a read of all bins of `key`.
    pub fn read(&self, buf: &mut Vec<u8>, key: u64) {
        let mut w = self.begin_record(buf, key, info1::READ | info1::GET_ALL, 0, 0);
        if let Some(exp) = &self.t.read_filter {
            w.field(field::FILTER_EXP, exp);
        }
        w.finish();
    }

    /// Replaces `buf` with one batch read of all bins of `keys` (batch-index protocol, field 41).
    pub fn batch_read(&mut self, buf: &mut Vec<u8>, keys: &[u64]) {
        let rows = &mut self.batch_rows;
        rows.clear();
        rows.extend_from_slice(&(keys.len() as u32).to_be_bytes());
        rows.push(BATCH_ALLOW_INLINE | BATCH_RESPOND_ALL_KEYS);
        for (i, &key) in keys.iter().enumerate() {
            rows.extend_from_slice(&(i as u32).to_be_bytes());
            let digest =
                compute_digest(&self.t.set, particle::INTEGER, &(key as i64).to_be_bytes());
            rows.extend_from_slice(&digest);
            if i > 0 {
                rows.push(BATCH_ROW_REPEAT);
                continue;
            }
            let has_set = !self.t.set.is_empty();
            rows.push(0); // row flags: full row, info1 only
            rows.push(info1::READ | info1::GET_ALL);
            rows.extend_from_slice(&(1 + u16::from(has_set)).to_be_bytes());
            rows.extend_from_slice(&0u16.to_be_bytes());
            push_field(rows, field::NAMESPACE, &self.t.namespace);
            if has_set {
                push_field(rows, field::SET, &self.t.set);
            }
        }
        buf.clear();
        let mut w = MsgWriter::begin(buf, ProtoType::Msg);
        w.header(&MsgHeader {
            info1: info1::READ | info1::BATCH,
            transaction_ttl: self.t.timeout_ms,
            ..MsgHeader::default()
        });
        w.field(field::BATCH_INDEX, rows);
        w.finish();
    }

    /// Clears `buf` and begins a single-record message on `key`: header, then key fields.
    fn begin_record<'b>(
        &self,
        buf: &'b mut Vec<u8>,
        key: u64,
        info1: u8,
        info2: u8,
        record_ttl: u32,
    ) -> MsgWriter<'b> {
        buf.clear();
        let digest = self.digest(key);
        let mut w = MsgWriter::begin(buf, ProtoType::Msg);
        w.header(&MsgHeader {
            info1,
            info2,
            record_ttl,
            transaction_ttl: self.t.timeout_ms,
            ..MsgHeader::default()
        });
        self.key_fields(&mut w, &digest);
        w
    }

    fn key_fields(&self, w: &mut MsgWriter<'_>, digest: &Digest) {
        w.field(field::NAMESPACE, &self.t.namespace);
        if !self.t.set.is_empty() {
            w.field(field::SET, &self.t.set);
        }
        w.field(field::DIGEST, digest);
    }
}

/// The `--read-filter` expression, `bin_type(bin) == particle_type`, as the clients encode it:
/// `[EQ, [BIN_TYPE, "bin"], type]` in msgpack (ops 1 and 82 of aerospike-server's exp.c).
pub fn bin_type_filter(bin: &[u8], particle_type: u8) -> Vec<u8> {
    const EXP_EQ: u8 = 1;
    const EXP_BIN_TYPE: u8 = 82;
    let mut out = Vec::with_capacity(bin.len() + 8);
    out.extend_from_slice(&[0x93, EXP_EQ, 0x92, EXP_BIN_TYPE]);
    // Bin names are at most 15 bytes, but encode any length correctly.
    match bin.len() {
        n @ 0..=31 => out.push(0xa0 | n as u8),
        n @ 32..=255 => out.extend_from_slice(&[0xd9, n as u8]),
        n => {
            out.push(0xda);
            out.extend_from_slice(&(n.min(u16::MAX as usize) as u16).to_be_bytes());
        }
    }
    out.extend_from_slice(
        bin.get(..bin.len().min(u16::MAX as usize))
            .unwrap_or_default(),
    );
    // Particle types are below 0x80: a positive fixint.
    out.push(particle_type & 0x7f);
    out
}

fn push_field(out: &mut Vec<u8>, field_type: u8, data: &[u8]) {
    out.extend_from_slice(&(data.len() as u32 + 1).to_be_bytes());
    out.push(field_type);
    out.extend_from_slice(data);
}

/// A reply the bench cannot make sense of: the connection is then dropped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReplyError {
    /// Not an AS_MSG frame (type 3).
    ProtoType(u8),
    /// The message is cut short or its header is malformed.
    Malformed,
}

impl std::fmt::Display for ReplyError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ReplyError::ProtoType(t) => write!(f, "reply has proto type {t}, expected 3"),
            ReplyError::Malformed => write!(f, "malformed reply message"),
        }
    }
}

/// Result code of a single-record reply (`body` = the proto body).
#[inline]
pub fn single_result_code(body: &[u8]) -> Result<u8, ReplyError> {
    MsgHeader::parse(body)
        .map(|h| h.result_code)
        .map_err(|_| ReplyError::Malformed)
}

/// Tally of a batch reply, built frame by frame.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct BatchTally {
    pub found: u32,
    pub not_found: u32,
    pub errors: u32,
    /// Result code of the closing LAST message, once seen.
    pub last_rc: Option<u8>,
}

/// Walks the bare `as_msg` messages packed in one batch reply frame body.
pub fn scan_batch_frame(body: &[u8], tally: &mut BatchTally) -> Result<(), ReplyError> {
    let mut rest = body;
    while !rest.is_empty() {
        let h = MsgHeader::parse(rest).map_err(|_| ReplyError::Malformed)?;
        let after = rest.get(MSG_HEADER_SIZE..).ok_or(ReplyError::Malformed)?;
        let (_, used) =
            aerie_proto::Msg::parse_parts(h, after).map_err(|_| ReplyError::Malformed)?;
        rest = after.get(used..).ok_or(ReplyError::Malformed)?;
        if h.info3 & info3::LAST != 0 {
            tally.last_rc = Some(h.result_code);
            return Ok(());
        }
        match h.result_code {
            0 => tally.found += 1,
            2 => tally.not_found += 1,
            _ => tally.errors += 1,
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use aerie_proto::{Msg, PROTO_HEADER_SIZE};

    fn template(set: &str) -> RequestTemplate {
        RequestTemplate {
            namespace: b"test".to_vec(),
            set: set.as_bytes().to_vec(),
            bin_names: vec![b"testbin".to_vec(), b"testbin_2".to_vec()],
            bins: vec![BinSpec::Str { len: 100 }, BinSpec::Int { bytes: 4 }],
            record_ttl: 0,
            timeout_ms: 50,
            read_filter: None,
        }
    }

    #[test]
    fn read_filter_rides_on_single_reads() -> Result<(), aerie_proto::ParseError> {
        let mut rng = Rng::new(1);
        let mut t = template("s");
        let exp = bin_type_filter(b"testbin", particle::STRING);
        assert_eq!(exp, b"\x93\x01\x92\x52\xa7testbin\x03".to_vec());
        t.read_filter = Some(exp.clone());
        let e = Encoder::new(t, &mut rng);
        let mut buf = Vec::new();
        e.read(&mut buf, 7);
        let m = Msg::parse(body(&buf))?;
        assert_eq!(m.fields.get(field::FILTER_EXP), Some(&exp[..]));
        Ok(())
    }

    fn body(buf: &[u8]) -> &[u8] {
        buf.get(PROTO_HEADER_SIZE..).unwrap_or_default()
    }

    #[test]
    fn write_carries_fields_and_bins() -> Result<(), aerie_proto::ParseError> {
        let mut rng = Rng::new(1);
        let e = Encoder::new(template("s"), &mut rng);
        let mut buf = Vec::new();
        e.write(&mut buf, 42);
        let m = Msg::parse(body(&buf))?;
        assert_eq!(m.header.info2, info2::WRITE);
        assert_eq!(m.header.transaction_ttl, 50);
        assert_eq!(m.fields.get(field::NAMESPACE), Some(&b"test"[..]));
        assert_eq!(m.fields.get(field::SET), Some(&b"s"[..]));
        let want = compute_digest(b"s", 1, &42i64.to_be_bytes());
        assert_eq!(m.fields.get(field::DIGEST), Some(&want[..]));
        let ops: Vec<_> = m.ops().collect();
        assert_eq!(ops.len(), 2);
        assert_eq!(
            ops.first()
                .map(|o| (o.op_type, o.particle_type, o.name, o.value.len())),
            Some((op::WRITE, 3, &b"testbin"[..], 100))
        );
        assert_eq!(
            ops.get(1).map(|o| (o.particle_type, o.name, o.value.len())),
            Some((1, &b"testbin_2"[..], 8))
        );

        // Reuse: the buffer is replaced, not appended to.
        let len = buf.len();
        e.read(&mut buf, 43);
        assert!(buf.len() < len);
        let m = Msg::parse(body(&buf))?;
        assert_eq!(m.header.info1, info1::READ | info1::GET_ALL);
        assert_eq!(m.n_ops(), 0);
        Ok(())
    }

    #[test]
    fn empty_set_sends_no_set_field() -> Result<(), aerie_proto::ParseError> {
        let mut rng = Rng::new(1);
        let e = Encoder::new(template(""), &mut rng);
        let mut buf = Vec::new();
        e.read(&mut buf, 1);
        let m = Msg::parse(body(&buf))?;
        assert!(!m.fields.has(field::SET));
        assert_eq!(m.header.n_fields, 2);
        Ok(())
    }

    #[test]
    fn batch_rows_repeat_after_the_first() -> Result<(), aerie_proto::ParseError> {
        let mut rng = Rng::new(1);
        let mut e = Encoder::new(template("s"), &mut rng);
        let mut buf = Vec::new();
        e.batch_read(&mut buf, &[5, 6, 7]);
        let m = Msg::parse(body(&buf))?;
        assert_eq!(m.header.info1 & info1::BATCH, info1::BATCH);
        let data = m.fields.get(field::BATCH_INDEX).unwrap_or_default();
        assert_eq!(data.get(..4), Some(&3u32.to_be_bytes()[..]));
        // count, parent flags, row 0: index, digest, flags 0, info1, n_fields 2, n_ops 0, ns, set
        let row0 = 4 + 1 + 4 + 20 + 1 + 1 + 2 + 2 + (5 + 4) + (5 + 1);
        assert_eq!(data.len(), row0 + 2 * (4 + 20 + 1));
        assert_eq!(data.get(row0 + 24), Some(&BATCH_ROW_REPEAT));
        let d7 = compute_digest(b"s", 1, &7i64.to_be_bytes());
        assert_eq!(data.get(row0 + 25 + 4..row0 + 25 + 24), Some(&d7[..]));
        Ok(())
    }

    #[test]
    fn batch_reply_tally() -> Result<(), ReplyError> {
        let mut buf = Vec::new();
        let mut w = MsgWriter::begin(&mut buf, ProtoType::Msg);
        w.header(&MsgHeader {
            result_code: 0,
            ..MsgHeader::default()
        });
        w.op(op::READ, 3, b"testbin", b"abc");
        w.header(&MsgHeader {
            result_code: 2,
            transaction_ttl: 1,
            ..MsgHeader::default()
        });
        w.header(&MsgHeader {
            result_code: 0,
            info3: info3::LAST,
            ..MsgHeader::default()
        });
        w.finish();
        let mut t = BatchTally::default();
        scan_batch_frame(body(&buf), &mut t)?;
        assert_eq!(
            t,
            BatchTally {
                found: 1,
                not_found: 1,
                errors: 0,
                last_rc: Some(0)
            }
        );
        // Every truncation is refused rather than misread.
        let b = body(&buf);
        for cut in 1..b.len() {
            let mut t = BatchTally::default();
            let r = scan_batch_frame(b.get(..cut).unwrap_or_default(), &mut t);
            assert!(r.is_err() || t.last_rc.is_none(), "cut at {cut}");
        }
        Ok(())
    }
}
