use std::time::{Duration, Instant};

use aerie_proto::msg::{field, info1, info2, MSG_HEADER_SIZE};

use super::*;

/// An `as_msg` body with the given info bits and fields (no ops).
fn body(i1: u8, i2: u8, fields: &[(u8, &[u8])]) -> Vec<u8> {
    let mut b = vec![0u8; MSG_HEADER_SIZE];
    b[0] = MSG_HEADER_SIZE as u8;
    b[1] = i1;
    b[2] = i2;
    b[18..20].copy_from_slice(&(fields.len() as u16).to_be_bytes());
    for (t, data) in fields {
        b.extend_from_slice(&(data.len() as u32 + 1).to_be_bytes());
        b.push(*t);
        b.extend_from_slice(data);
    }
    b
}

#[test]
fn buckets_are_log2_like_aerospike() {
    assert_eq!(bucket(0), 0);
    assert_eq!(bucket(1), 1);
    assert_eq!(bucket(2), 2);
    assert_eq!(bucket(3), 2);
    assert_eq!(bucket(4), 3);
    assert_eq!(bucket(u64::MAX), 64);
}

#[test]
fn classify_by_info_bits_and_fields() {
    let d = [7u8; 20];
    let read = body(
        info1::READ,
        0,
        &[(field::NAMESPACE, b"test"), (field::DIGEST, &d)],
    );
    assert_eq!(classify(&read), Some((Kind::Read, &b"test"[..])));
    let write = body(
        0,
        info2::WRITE,
        &[(field::NAMESPACE, b"ns"), (field::KEY, b"\x03k")],
    );
    assert_eq!(classify(&write), Some((Kind::Write, &b"ns"[..])));
    let batch = body(
        info1::READ | info1::BATCH,
        0,
        &[(field::BATCH_INDEX, b"\0\0\0\0\0")],
    );
    assert_eq!(classify(&batch).map(|c| c.0), Some(Kind::Batch));
    let scan = body(info1::READ, 0, &[(field::NAMESPACE, b"test")]);
    assert_eq!(classify(&scan).map(|c| c.0), Some(Kind::PiQuery));
    let query = body(
        info1::READ,
        0,
        &[(field::NAMESPACE, b"test"), (field::INDEX_RANGE, b"x")],
    );
    assert_eq!(classify(&query).map(|c| c.0), Some(Kind::SiQuery));
    let udf = body(
        0,
        info2::WRITE,
        &[(field::DIGEST, &d), (field::UDF_FUNCTION, b"f")],
    );
    assert_eq!(classify(&udf).map(|c| c.0), Some(Kind::Udf));
}

#[test]
fn classify_rejects_truncated_bodies() {
    let d = [7u8; 20];
    let good = body(
        info1::READ,
        0,
        &[(field::NAMESPACE, b"test"), (field::DIGEST, &d)],
    );
    for cut in 0..good.len() {
        assert_eq!(classify(&good[..cut]), None, "cut at {cut}");
    }
    let mut huge = good.clone();
    huge[MSG_HEADER_SIZE..MSG_HEADER_SIZE + 4].copy_from_slice(&u32::MAX.to_be_bytes());
    assert_eq!(classify(&huge), None);
}

#[test]
fn latencies_answer_follows_aerospike_format() {
    let l = Latencies::with_names(["test"].into_iter());
    assert!(l
        .answer("")
        .starts_with("batch-index:;{test}-read:;{test}-write:;"));
    assert_eq!(l.answer("hist={test}-read"), "{test}-read:");
    assert_eq!(l.answer("hist={nope}-read"), "ERROR:4:bad hist name");

    let t0 = Instant::now();
    l.batch_index.tick_slice(t0);
    for ms in [0u64, 0, 1, 3, 3, 5, 9, 100, 2000, 70_000] {
        l.batch_index.insert(Duration::from_millis(ms));
    }
    let (n, _) = l.batch_index.tick_slice(t0 + Duration::from_secs(10));
    assert_eq!(n, 10);
    let a = l.answer("hist=batch-index");
    let cols: Vec<&str> = a.trim_start_matches("batch-index:").split(',').collect();
    assert_eq!(cols.len(), 2 + N_LATENCY_COLS, "{a}");
    assert_eq!(cols[0], "msec");
    assert_eq!(cols[1], "1.0");
    // Over 1 ms: 8 of 10; over 2 ms: 7; over 4 ms: 5; over 8 ms: 4; over 65536 ms: 1.
    assert_eq!(&cols[2..7], ["80.00", "70.00", "50.00", "40.00", "30.00"]);
    assert_eq!(cols[2 + 16], "10.00");

    // The next slice reports only what came after.
    l.batch_index.tick_slice(t0 + Duration::from_secs(20));
    let a = l.answer("hist=batch-index");
    assert!(a.starts_with("batch-index:msec,0.0,0.00,"), "{a}");
}

#[test]
fn record_lands_in_the_namespace_histogram() {
    let l = Latencies::with_names(["a", "b"].into_iter());
    let d = [1u8; 20];
    let w = body(
        0,
        info2::WRITE,
        &[(field::NAMESPACE, b"b"), (field::DIGEST, &d)],
    );
    l.record(&w, Instant::now());
    l.record(&w, Instant::now());
    l.record(b"garbage", Instant::now());
    assert_eq!(l.namespaces[1].write.total(), 2);
    assert_eq!(l.namespaces[0].write.total(), 0);
    assert_eq!(l.find("{b}-write").map(Histogram::total), Some(2));
}

#[test]
fn samples_hold_per_second_counts_and_percentiles() {
    let l = Latencies::with_names(["test"].into_iter());
    l.sample();
    for _ in 0..99 {
        l.namespaces[0].read.insert(Duration::from_micros(10));
    }
    l.namespaces[0].read.insert(Duration::from_micros(3000));
    std::thread::sleep(Duration::from_millis(5));
    l.sample();
    let s = l.last_sample().unwrap_or_default();
    assert_eq!(s.counts[Kind::Read.index()], 100);
    assert_eq!(s.p50(Kind::Read), 16);
    assert_eq!(s.p99(Kind::Read), 16);
    assert!(s.ops_per_sec(Kind::Read) > 0.0);
    let mut stats = String::new();
    l.push_statistics(&mut stats);
    assert!(stats.contains("read_ops_per_sec="), "{stats}");
    assert!(stats.contains("batch_index_initiate=0;"), "{stats}");
}

#[test]
fn percentiles_take_the_bucket_upper_bound() {
    let mut b = [0u64; N_BUCKETS];
    b[1] = 50;
    b[11] = 50;
    assert_eq!(percentile_us(&b, 100, 50), 2);
    assert_eq!(percentile_us(&b, 100, 51), 2048);
    assert_eq!(percentile_us(&b, 0, 50), 0);
}
