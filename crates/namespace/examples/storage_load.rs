//! Storage benchmark: loads N records of one ~100-byte string bin into a file-backed
//! namespace through the same store path client writes take, then cold-starts it again.
//! Reports write throughput, index bytes per record, RSS per record, data bytes on disk per
//! record, and cold-start time.
//!
//! `cargo run --release -p aerie-namespace --example storage_load -- 1000000 /tmp/aerie-bench`

use std::time::Instant;

use aerie_config::{DeviceStorageConfig, NamespaceConfig, StorageEngineConfig};
use aerie_namespace::{Namespace, Record, RecordMeta};
use aerie_record::{bins, compute_digest, time};

fn rss_bytes() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find(|l| l.starts_with("VmRSS:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|kb| kb.parse::<u64>().ok())
        .map_or(0, |kb| kb * 1024)
}

fn main() -> Result<(), String> {
    let n: u64 = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(1_000_000);
    let dir = std::env::args()
        .nth(2)
        .unwrap_or_else(|| "/tmp/aerie-storage-bench".into());
    let _ = std::fs::remove_dir_all(&dir);
    let file = format!("{dir}/bench.dat");
    let per_record_disk = 176u64; // image + padding for this record shape
    let filesize = (n * per_record_disk * 5 / 4 / (1 << 20) + 8) << 20;
    let mut cfg = NamespaceConfig::new("bench");
    cfg.nsup_period_secs = 0;
    cfg.storage = StorageEngineConfig::Device(DeviceStorageConfig {
        files: vec![file.clone()],
        devices: Vec::new(),
        filesize_bytes: filesize,
        write_block_size_bytes: 1 << 20,
        flush_max_ms: 1000,
        commit_to_device: false,
        defrag_lwm_pct: 50,
        defrag_sleep_us: 1000,
        max_write_cache_bytes: 64 << 20,
        ..Default::default()
    });

    let rss0 = rss_bytes();
    let ns = Namespace::open(cfg.clone(), 1)?;
    let value = vec![b'x'; 100];
    let set_id = ns
        .sets
        .get_or_create(b"demo")
        .map_err(|e| format!("{e:?}"))?;
    let started = Instant::now();
    let mut flat = Vec::new();
    for i in 0..n {
        let key = (i as i64).to_be_bytes();
        let digest = compute_digest(b"demo", 1, &key);
        flat.clear();
        bins::push_bin(&mut flat, b"bin", 3, &value);
        let mut data = Vec::with_capacity(1 + flat.len());
        Record::encode_key(&mut data, None);
        data.extend_from_slice(&flat);
        let meta = RecordMeta {
            last_update_ms: time::now_ms(),
            void_time: 0,
            generation: 1,
            set_id,
        };
        let mut idx = ns.partition(&digest).lock();
        ns.store(&mut idx, digest, meta, data, b"demo")
            .map_err(|e| e.to_string())?;
    }
    ns.flush_storage().map_err(|e| e.to_string())?;
    let load_s = started.elapsed().as_secs_f64();
    let rss1 = rss_bytes();
    let index_bytes: usize = ns
        .partitions()
        .iter()
        .map(|p| p.lock().memory_bytes())
        .sum();
    let (used_blocks, total_blocks) = ns.storage_blocks().unwrap_or((0, 0));
    println!("records: {n}");
    println!("write throughput: {:.0} records/s", n as f64 / load_s);
    println!("index bytes/record: {:.1}", index_bytes as f64 / n as f64);
    println!(
        "rss bytes/record: {:.1}",
        rss1.saturating_sub(rss0) as f64 / n as f64
    );
    println!(
        "data on disk bytes/record: {:.1} ({used_blocks} of {total_blocks} 1-MiB write blocks)",
        (used_blocks as f64 * (1 << 20) as f64) / n as f64
    );
    drop(ns);

    let started = Instant::now();
    let ns = Namespace::open(cfg, 1)?;
    let cold_ms = started.elapsed().as_millis();
    println!("cold start: {cold_ms} ms for {} records", ns.n_objects());
    Ok(())
}
