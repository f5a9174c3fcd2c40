//! Which rows of a batch-index request (field 41) write, so the master can replicate them.
//! Only the layout is read here; the transaction crate executes the batch.

use aerie_proto::msg::{field, info2};
use aerie_proto::{Msg, MsgHeader};
use aerie_record::{Digest, DIGEST_SIZE};

const ROW_REPEAT: u8 = 0x01;
const ROW_INFO: u8 = 0x02;
const ROW_GEN: u8 = 0x04;
const ROW_TTL: u8 = 0x08;
const ROW_INFO4: u8 = 0x10;

/// The (namespace, digest) of every writing row; `None` when the batch cannot be read
/// (the transaction crate then answers it with an error and nothing changes).
pub fn written_rows<'a>(parent: &Msg<'a>) -> Option<Vec<(&'a [u8], Digest)>> {
    let data = parent.fields.get(field::BATCH_INDEX)?;
    let (count, rest) = data.split_first_chunk::<4>()?;
    let n_rows = u32::from_be_bytes(*count);
    let (_, mut rows) = rest.split_first()?;
    let mut prev: Option<(bool, Option<&'a [u8]>)> = None;
    let mut out = Vec::new();
    for _ in 0..n_rows {
        let (_, r) = rows.split_first_chunk::<4>()?;
        let (digest, r) = r.split_first_chunk::<DIGEST_SIZE>()?;
        let (&flags, r) = r.split_first()?;
        rows = r;
        if flags & ROW_REPEAT == 0 {
            let (msg, used) = parse_row(flags, rows)?;
            rows = rows.get(used..)?;
            prev = Some((
                msg.header.info2 & info2::WRITE != 0,
                msg.fields.get(field::NAMESPACE),
            ));
        }
        let (write, ns) = prev?;
        if write {
            out.push((ns?, *digest));
        }
    }
    Some(out)
}

fn parse_row(flags: u8, b: &[u8]) -> Option<(Msg<'_>, usize)> {
    let mut pos = 0usize;
    let mut take = |n: usize| -> Option<&[u8]> {
        let s = b.get(pos..pos + n)?;
        pos += n;
        Some(s)
    };
    let mut h = MsgHeader {
        info1: *take(1)?.first()?,
        ..Default::default()
    };
    if flags & ROW_INFO != 0 {
        let i = take(2)?;
        h.info2 = *i.first()?;
        h.info3 = *i.get(1)?;
    }
    if flags & ROW_INFO4 != 0 {
        h.info4 = *take(1)?.first()?;
    }
    if flags & ROW_GEN != 0 {
        take(2)?;
    }
    if flags & ROW_TTL != 0 {
        take(4)?;
    }
    let c = take(4)?;
    h.n_fields = u16::from_be_bytes([*c.first()?, *c.get(1)?]);
    h.n_ops = u16::from_be_bytes([*c.get(2)?, *c.get(3)?]);
    let rest = b.get(pos..)?;
    let (msg, used) = Msg::parse_parts(h, rest).ok()?;
    Some((msg, pos + used))
}
