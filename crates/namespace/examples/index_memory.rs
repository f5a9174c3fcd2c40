//! Measures index and record memory: inserts N records of one 100-byte string bin into a
//! namespace the way a client write would, then prints RSS growth per record and the index's
//! own accounting.
//!
//! `cargo run --release -p aerie-namespace --example index_memory -- 1000000`

use aerie_namespace::{Namespace, Record, RecordMeta};
use aerie_record::{bins, compute_digest};

fn rss_bytes() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find(|l| l.starts_with("VmRSS:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|kb| kb.parse::<u64>().ok())
        .map_or(0, |kb| kb * 1024)
}

fn main() {
    let n: u64 = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(1_000_000);
    let cfg = aerie_config::Config::default();
    let Some(ns_cfg) = cfg.namespaces.first().cloned() else {
        return;
    };
    let ns = Namespace::new(ns_cfg, 1);
    let value = vec![b'x'; 100];
    let before = rss_bytes();
    let started = std::time::Instant::now();
    let mut flat = Vec::new();
    for i in 0..n {
        let digest = compute_digest(b"demo", 1, &(i as i64).to_be_bytes());
        flat.clear();
        bins::push_bin(&mut flat, b"bin", 3, &value);
        let meta = RecordMeta {
            last_update_ms: i,
            void_time: 0,
            generation: 1,
            set_id: 1,
        };
        let mut data = Vec::with_capacity(1 + flat.len());
        Record::encode_key(&mut data, None);
        data.extend_from_slice(&flat);
        ns.partition(&digest)
            .lock()
            .insert(digest, Record::from_data(meta, data));
    }
    let elapsed = started.elapsed();
    let after = rss_bytes();
    let index_bytes: usize = ns
        .partitions()
        .iter()
        .map(|p| p.lock().memory_bytes())
        .sum();
    let data_bytes: usize = ns
        .partitions()
        .iter()
        .map(|p| {
            p.lock()
                .iter_from(None)
                .map(|(_, r)| r.data_size())
                .sum::<usize>()
        })
        .sum();
    println!("records: {n}");
    println!("insert rate: {:.0}/s", n as f64 / elapsed.as_secs_f64());
    println!(
        "index bytes/record (structure): {:.1}",
        index_bytes as f64 / n as f64
    );
    println!(
        "record data bytes/record (payload): {:.1}",
        data_bytes as f64 / n as f64
    );
    println!(
        "rss growth bytes/record: {:.1}",
        (after.saturating_sub(before)) as f64 / n as f64
    );
    println!("rss total MiB: {:.1}", after as f64 / (1024.0 * 1024.0));
}
