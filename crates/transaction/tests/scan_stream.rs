//! Scans through `dispatch_streaming`: record messages, bin selection, partition resume,
//! max-records, set filtering and frame sizes, decoded from the raw reply bytes.

use std::collections::BTreeSet;

use aerie_namespace::Registry;
use aerie_proto::msg::{field, info1, info2, info3, op};
use aerie_proto::{Msg, MsgHeader, MsgWriter, ProtoHeader, ProtoType, PROTO_HEADER_SIZE};
use aerie_record::{compute_digest, partition_id, Digest};
use aerie_transaction::{dispatch, dispatch_streaming, Dispatched, Step};

fn registry() -> Registry {
    Registry::new(&aerie_config::Config::default().namespaces, 1)
}

fn put(reg: &Registry, set: &[u8], key: i64, send_key: bool) -> Digest {
    let kb = key.to_be_bytes();
    let d = compute_digest(set, 1, &kb);
    let mut buf = Vec::new();
    let mut w = MsgWriter::begin(&mut buf, ProtoType::Msg);
    w.header(&MsgHeader {
        info2: info2::WRITE,
        ..Default::default()
    });
    w.field(field::NAMESPACE, b"test");
    w.field(field::SET, set);
    w.field(field::DIGEST, &d);
    if send_key {
        let mut k = vec![1u8];
        k.extend_from_slice(&kb);
        w.field(field::KEY, &k);
    }
    w.op(op::WRITE, 1, b"a", &kb);
    w.op(op::WRITE, 3, b"b", b"hello");
    w.finish();
    let mut out = Vec::new();
    dispatch(
        reg,
        buf.get(PROTO_HEADER_SIZE..).unwrap_or_default(),
        &mut out,
    );
    assert_eq!(out.get(PROTO_HEADER_SIZE + 5), Some(&0), "write failed");
    d
}

struct ScanReq<'a> {
    set: &'a [u8],
    info1: u8,
    pids: Vec<u16>,
    digests: Vec<Digest>,
    max_records: u64,
    bins: Vec<&'a [u8]>,
}

impl Default for ScanReq<'_> {
    fn default() -> Self {
        Self {
            set: b"",
            info1: info1::READ,
            pids: Vec::new(),
            digests: Vec::new(),
            max_records: 0,
            bins: Vec::new(),
        }
    }
}

impl ScanReq<'_> {
    fn body(&self) -> Vec<u8> {
        let mut buf = Vec::new();
        let mut w = MsgWriter::begin(&mut buf, ProtoType::Msg);
        w.header(&MsgHeader {
            info1: self.info1,
            info3: info3::PARTITION_DONE,
            ..Default::default()
        });
        w.field(field::NAMESPACE, b"test");
        if !self.set.is_empty() {
            w.field(field::SET, self.set);
        }
        if !self.pids.is_empty() {
            let b: Vec<u8> = self.pids.iter().flat_map(|p| p.to_le_bytes()).collect();
            w.field(field::PID_ARRAY, &b);
        }
        if !self.digests.is_empty() {
            let b: Vec<u8> = self.digests.iter().flatten().copied().collect();
            w.field(field::DIGEST_ARRAY, &b);
        }
        if self.max_records > 0 {
            w.field(field::MAX_RECORDS, &self.max_records.to_be_bytes());
        }
        for b in &self.bins {
            w.op(op::READ, 0, b, &[]);
        }
        w.finish();
        buf.split_off(PROTO_HEADER_SIZE)
    }
}

#[derive(Debug, Default)]
struct Streamed {
    records: Vec<(Digest, Vec<String>, bool)>,
    last_rc: Option<u8>,
    frames: usize,
    /// Partitions reported done (info3 PARTITION_DONE markers).
    done_pids: Vec<u16>,
}

fn decode(out: &[u8], s: &mut Streamed) {
    let mut rest = out;
    while let Some((h, body)) = rest.split_first_chunk::<PROTO_HEADER_SIZE>() {
        let h = ProtoHeader::parse(h).unwrap_or_else(|e| panic!("bad frame: {e}"));
        let size = h.size_bytes as usize;
        let mut frame = body.get(..size).unwrap_or_else(|| panic!("short frame"));
        rest = body.get(size..).unwrap_or_default();
        s.frames += 1;
        while !frame.is_empty() {
            let hdr = MsgHeader::parse(frame).unwrap_or_else(|e| panic!("bad msg: {e}"));
            let (m, used) = Msg::parse_parts(hdr, frame.get(22..).unwrap_or_default())
                .unwrap_or_else(|e| panic!("bad msg: {e}"));
            frame = frame.get(22 + used..).unwrap_or_default();
            if hdr.info3 & info3::LAST != 0 {
                assert!(s.last_rc.is_none(), "two LAST messages");
                s.last_rc = Some(hdr.result_code);
                continue;
            }
            if hdr.info3 & info3::PARTITION_DONE != 0 {
                // Asked for by the request: the partition id rides in the generation field.
                assert_eq!(hdr.result_code, 0);
                assert!(
                    hdr.generation < 4096,
                    "partition-done for pid {}",
                    hdr.generation
                );
                s.done_pids.push(hdr.generation as u16);
                continue;
            }
            let d: Digest = m
                .fields
                .get(field::DIGEST)
                .and_then(|d| d.try_into().ok())
                .unwrap_or_else(|| panic!("record without digest"));
            assert_eq!(m.fields.get(field::NAMESPACE), Some(&b"test"[..]));
            let names = m
                .ops()
                .map(|o| String::from_utf8_lossy(o.name).into_owned())
                .collect();
            s.records.push((d, names, m.fields.has(field::KEY)));
        }
    }
}

fn scan(reg: &Registry, req: &ScanReq<'_>) -> Streamed {
    let mut s = Streamed::default();
    let mut out = Vec::new();
    match dispatch_streaming(reg, &req.body(), &mut out) {
        Dispatched::Complete => decode(&out, &mut s),
        Dispatched::Stream(mut job) => {
            for _ in 0..100_000 {
                out.clear();
                let step = job.next_frame(&mut out);
                decode(&out, &mut s);
                if step == Step::Finished {
                    break;
                }
            }
        }
    }
    s
}

#[test]
fn whole_set_all_bins_then_selected_then_none() {
    let reg = registry();
    let mut want = BTreeSet::new();
    for i in 0..500 {
        want.insert(put(&reg, b"s1", i, i % 2 == 0));
    }
    for i in 0..100 {
        put(&reg, b"other", i, false);
    }
    let s = scan(
        &reg,
        &ScanReq {
            set: b"s1",
            ..Default::default()
        },
    );
    assert_eq!(s.last_rc, Some(0));
    let got: BTreeSet<Digest> = s.records.iter().map(|r| r.0).collect();
    assert_eq!(got, want);
    assert_eq!(s.records.len(), 500);
    assert!(s.records.iter().all(|r| r.1 == ["a", "b"]));
    assert_eq!(s.records.iter().filter(|r| r.2).count(), 250);
    // A whole scan reports every partition done, once.
    let done: BTreeSet<u16> = s.done_pids.iter().copied().collect();
    assert_eq!(done.len(), 4096);
    assert_eq!(s.done_pids.len(), 4096);

    let s = scan(
        &reg,
        &ScanReq {
            set: b"s1",
            bins: vec![b"b"],
            ..Default::default()
        },
    );
    assert!(s.records.iter().all(|r| r.1 == ["b"]));
    assert_eq!(s.records.len(), 500);

    let s = scan(
        &reg,
        &ScanReq {
            set: b"s1",
            info1: info1::READ | info1::GET_NO_BINS,
            ..Default::default()
        },
    );
    assert!(s.records.iter().all(|r| r.1.is_empty()));
    assert_eq!(s.records.len(), 500);

    let s = scan(&reg, &ScanReq::default());
    assert_eq!(s.records.len(), 600);
    let s = scan(
        &reg,
        &ScanReq {
            set: b"nope",
            ..Default::default()
        },
    );
    assert_eq!((s.records.len(), s.last_rc), (0, Some(0)));
}

#[test]
fn max_records_and_digest_resume_visit_every_record_once() {
    let reg = registry();
    let mut want = BTreeSet::new();
    for i in 0..1000 {
        want.insert(put(&reg, b"p", i, false));
    }
    // Paginate as clients do: whole partitions until one has a cursor, then resume after it.
    let mut cursor: Vec<Option<Digest>> = vec![None; 4096];
    let mut seen = BTreeSet::new();
    for _round in 0..100 {
        let mut req = ScanReq {
            set: b"p",
            max_records: 77,
            ..Default::default()
        };
        for pid in 0..4096u16 {
            match cursor.get(pid as usize).copied().flatten() {
                Some(d) => req.digests.push(d),
                None => req.pids.push(pid),
            }
        }
        let s = scan(&reg, &req);
        assert_eq!(s.last_rc, Some(0));
        // Regression: max-records bounds the whole reply, not each partition chunk.
        assert!(
            s.records.len() <= 77,
            "{} records for max-records 77",
            s.records.len()
        );
        for (d, _, _) in &s.records {
            assert!(seen.insert(*d), "record sent twice");
            if let Some(c) = cursor.get_mut(partition_id(d) as usize) {
                *c = Some(*d);
            }
        }
        if s.records.len() < 77 {
            break;
        }
    }
    assert_eq!(seen, want);
}

#[test]
fn large_scan_is_cut_into_bounded_frames() {
    let reg = registry();
    for i in 0..3000 {
        let big = vec![b'x'; 1000];
        let kb = i64::to_be_bytes(i);
        let d = compute_digest(b"big", 1, &kb);
        let mut buf = Vec::new();
        let mut w = MsgWriter::begin(&mut buf, ProtoType::Msg);
        w.header(&MsgHeader {
            info2: info2::WRITE,
            ..Default::default()
        });
        w.field(field::NAMESPACE, b"test");
        w.field(field::SET, b"big");
        w.field(field::DIGEST, &d);
        w.op(op::WRITE, 4, b"blob", &big);
        w.finish();
        let mut out = Vec::new();
        dispatch(
            &reg,
            buf.get(PROTO_HEADER_SIZE..).unwrap_or_default(),
            &mut out,
        );
    }
    let mut out = Vec::new();
    let Dispatched::Stream(mut job) = dispatch_streaming(
        &reg,
        &ScanReq {
            set: b"big",
            ..Default::default()
        }
        .body(),
        &mut out,
    ) else {
        panic!("expected a stream");
    };
    let mut s = Streamed::default();
    for _ in 0..1000 {
        out.clear();
        let step = job.next_frame(&mut out);
        assert!(out.len() < 2 * 1024 * 1024, "frame of {} bytes", out.len());
        decode(&out, &mut s);
        if step == Step::Finished {
            break;
        }
    }
    assert_eq!(s.records.len(), 3000);
    assert!(s.frames >= 3, "{} frames", s.frames);
}

#[test]
fn bad_partition_lists_and_queries_are_refused() {
    let reg = registry();
    let dup = ScanReq {
        pids: vec![5, 5],
        ..Default::default()
    };
    assert_eq!(scan(&reg, &dup).last_rc, Some(4));
    let mut body = ScanReq::default().body();
    // A query (index range field) on a namespace without indexes: INDEX_NOT_FOUND.
    let mut buf = Vec::new();
    let mut w = MsgWriter::begin(&mut buf, ProtoType::Msg);
    w.header(&MsgHeader {
        info1: info1::READ,
        ..Default::default()
    });
    w.field(field::NAMESPACE, b"test");
    w.field(
        field::INDEX_RANGE,
        &[
            1, 1, b'a', 1, 0, 0, 0, 8, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 8, 0, 0, 0, 0, 0, 0, 0, 1,
        ],
    );
    w.finish();
    body.clear();
    body.extend_from_slice(buf.get(PROTO_HEADER_SIZE..).unwrap_or_default());
    let mut out = Vec::new();
    dispatch(&reg, &body, &mut out);
    let mut s = Streamed::default();
    decode(&out, &mut s);
    assert_eq!(s.last_rc, Some(201));
}
