//! A slow disk does not slow a memory namespace on the same node. The node serves a memory
//! namespace and a `commit-to-device` file namespace whose every device write and sync is
//! delayed by the fault seam (a slow disk). Many writers keep the file namespace busy, each
//! write waiting for a slow sync; meanwhile the official client reads from the memory
//! namespace one record at a time. Device work runs on the storage pool, so the reads keep
//! a latency far below one device sync; were it run on the service's async threads, the
//! writers would park every one of them and each read would wait for a sync.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use aerie_testkit::ServerProcess;
use aerospike::{as_bin, as_key, Bins, Client, ClientPolicy, ReadPolicy, Value, WritePolicy};

/// Added to every device write and sync.
const DEVICE_DELAY: Duration = Duration::from_millis(300);
const WRITERS: usize = 32;
const READS: usize = 200;

fn config(dir: &std::path::Path) -> String {
    format!(
        "namespace mem {{\n  storage-engine memory\n}}\n\
         namespace disk {{\n  nsup-period 60\n  storage-engine device {{\n    file {}/slow.dat\n    filesize 16M\n    write-block-size 128K\n    commit-to-device true\n  }}\n}}\n",
        dir.display()
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn memory_reads_do_not_wait_for_a_slow_device() {
    let dir = std::env::temp_dir().join(format!("aerie-slowdev-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("temp dir");
    let server = ServerProcess::builder()
        .bin(env!("CARGO_BIN_EXE_aerie"))
        .config(config(&dir))
        .slow_device_writes(DEVICE_DELAY)
        .ready_timeout(Duration::from_secs(60))
        .start();
    let policy = ClientPolicy {
        max_conns_per_node: 128,
        ..ClientPolicy::default()
    };
    let client = Arc::new(
        Client::new(&policy, &server.hosts())
            .await
            .unwrap_or_else(|e| panic!("connect: {e}")),
    );
    let wp = WritePolicy::default();
    for i in 0..50i64 {
        client
            .put(&wp, &as_key!("mem", "m", i), &[as_bin!("v", i)])
            .await
            .unwrap_or_else(|e| panic!("put mem {i}: {e}"));
    }

    // Writers keep the slow device busy until the reads are done.
    let stop = Arc::new(AtomicBool::new(false));
    let disk_writes = Arc::new(AtomicU64::new(0));
    let mut writers = Vec::new();
    for w in 0..WRITERS {
        let (client, stop, disk_writes) = (client.clone(), stop.clone(), disk_writes.clone());
        writers.push(tokio::spawn(async move {
            let mut wp = WritePolicy::default();
            wp.base_policy.total_timeout = 30_000;
            // Bounded: a few writes each at the device's pace.
            for n in 0..1_000i64 {
                if stop.load(Ordering::Relaxed) {
                    break;
                }
                let key = as_key!("disk", "d", (w as i64) * 10_000 + n);
                client
                    .put(&wp, &key, &[as_bin!("v", n)])
                    .await
                    .unwrap_or_else(|e| panic!("put disk: {e}"));
                disk_writes.fetch_add(1, Ordering::Relaxed);
            }
        }));
    }
    // Let the writers fill the device queue first.
    tokio::time::sleep(DEVICE_DELAY * 2).await;

    let rp = ReadPolicy::default();
    let mut lat = Vec::with_capacity(READS);
    let window = Instant::now();
    for i in 0..READS {
        let k = (i % 50) as i64;
        let t = Instant::now();
        let rec = client
            .get(&rp, &as_key!("mem", "m", k), Bins::All)
            .await
            .unwrap_or_else(|e| panic!("get mem {k}: {e}"));
        lat.push(t.elapsed());
        assert_eq!(rec.bins.get("v"), Some(&Value::Int(k)));
    }
    let window = window.elapsed();
    let written_during = disk_writes.load(Ordering::Relaxed);
    stop.store(true, Ordering::Relaxed);
    for w in writers {
        w.await.unwrap_or_else(|e| panic!("writer: {e}"));
    }
    lat.sort();
    let median = lat[READS / 2];
    let p90 = lat[READS * 9 / 10];
    println!(
        "memory reads: median {median:?} p90 {p90:?} max {:?} over {window:?}; disk writes done {written_during}",
        lat[READS - 1]
    );
    // The device really was slow: each sync costs DEVICE_DELAY, so the writers managed at
    // most one group per delay (plus block writes).
    let max_groups = window.as_millis() / DEVICE_DELAY.as_millis() + 4;
    assert!(
        written_during <= max_groups as u64 * WRITERS as u64,
        "the device was not slow: {written_during} writes in {window:?}"
    );
    // Generous bounds, each far below one device sync.
    assert!(median < DEVICE_DELAY / 3, "median read {median:?}");
    assert!(p90 < DEVICE_DELAY * 2 / 3, "p90 read {p90:?}");
    let _ = std::fs::remove_dir_all(&dir);
}
