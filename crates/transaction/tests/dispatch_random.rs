//! Property tests over the whole request path: random bytes and randomly damaged valid
//! messages go through `dispatch`; nothing panics and every reply is a complete frame.

use aerie_namespace::Registry;
use aerie_proto::msg::{field, info1, info2, op};
use aerie_proto::{MsgHeader, MsgWriter, ProtoHeader, ProtoType, PROTO_HEADER_SIZE};
use proptest::prelude::*;

fn registry() -> Registry {
    Registry::new(&aerie_config::Config::default().namespaces, 1)
}

/// Checks `out` is a sequence of complete frames and returns the first reply's result code.
fn frames_ok(out: &[u8]) -> Option<u8> {
    let mut rest = out;
    let mut first_rc = None;
    while !rest.is_empty() {
        let (h, body) = rest.split_first_chunk::<PROTO_HEADER_SIZE>()?;
        let h = ProtoHeader::parse(h).ok()?;
        let size = h.size_bytes as usize;
        if first_rc.is_none() {
            first_rc = body.get(5).copied();
        }
        rest = body.get(size..)?;
    }
    first_rc
}

fn valid_write(bin: &[u8], value: &[u8]) -> Vec<u8> {
    let mut buf = Vec::new();
    let mut w = MsgWriter::begin(&mut buf, ProtoType::Msg);
    w.header(&MsgHeader {
        info2: info2::WRITE,
        ..Default::default()
    });
    w.field(field::NAMESPACE, b"test");
    w.field(field::SET, b"s");
    w.field(field::DIGEST, &[7u8; 20]);
    w.op(op::WRITE, 3, bin, value);
    w.op(op::READ, 0, bin, &[]);
    w.finish();
    buf.split_off(PROTO_HEADER_SIZE)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

    #[test]
    fn random_bytes(b in proptest::collection::vec(any::<u8>(), 0..300)) {
        let reg = registry();
        let mut out = Vec::new();
        aerie_transaction::dispatch(&reg, &b, &mut out);
        prop_assert!(frames_ok(&out).is_some());
    }

    #[test]
    fn damaged_valid_messages(pos in 0usize..80, byte in any::<u8>(), cut in 0usize..100) {
        let reg = registry();
        let mut m = valid_write(b"bin", b"value");
        if let Some(x) = m.get_mut(pos) { *x = byte; }
        m.truncate(m.len().saturating_sub(cut % 8));
        let mut out = Vec::new();
        aerie_transaction::dispatch(&reg, &m, &mut out);
        prop_assert!(frames_ok(&out).is_some());
    }

    #[test]
    fn random_batches(rows in proptest::collection::vec(any::<u8>(), 0..200), n in 0u32..5) {
        let reg = registry();
        let mut data = n.to_be_bytes().to_vec();
        data.push(0);
        data.extend_from_slice(&rows);
        let mut buf = Vec::new();
        let mut w = MsgWriter::begin(&mut buf, ProtoType::Msg);
        w.header(&MsgHeader { info1: info1::BATCH | info1::READ, ..Default::default() });
        w.field(field::BATCH_INDEX, &data);
        w.finish();
        let mut out = Vec::new();
        aerie_transaction::dispatch(&reg, buf.get(PROTO_HEADER_SIZE..).unwrap_or_default(), &mut out);
        prop_assert!(frames_ok(&out).is_some());
    }
}

#[test]
fn write_then_read_back() {
    let reg = registry();
    let mut out = Vec::new();
    aerie_transaction::dispatch(&reg, &valid_write(b"bin", b"hello"), &mut out);
    assert_eq!(frames_ok(&out), Some(0));
    // The reply carries the read op's value after the write.
    assert!(out.windows(5).any(|w| w == b"hello"));
}

#[test]
fn oversized_bin_name_is_rejected() {
    let reg = registry();
    let mut out = Vec::new();
    aerie_transaction::dispatch(&reg, &valid_write(b"sixteen-bytes-xx", b"v"), &mut out);
    assert_eq!(frames_ok(&out), Some(21));
}
