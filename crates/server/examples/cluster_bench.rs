//! Cluster overhead benchmark: throughput of the official Rust client against 1, 2 and 3
//! local `aerie` nodes (replication factor 2), then the time to migrate a loaded namespace
//! to a joining third node.
//!
//! ```sh
//! cargo build --release -p aerie-server
//! cargo run --release -p aerie-server --example cluster_bench -- [SECS] [TASKS] [RECORDS]
//! ```
//!
//! Defaults: 10 s per run, 32 concurrent client tasks, 1,000,000 records to migrate. All
//! nodes share this machine, so no scaling is expected: the figures show the cost of
//! routing, replication and migration.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use aerie_testkit::cluster::{info, stat_value};
use aerie_testkit::{locate_aerie_bin, TestCluster};
use aerospike::{as_bin, as_key, Bins, Client, ClientPolicy, ReadPolicy, WritePolicy};

const NS: &str = "test";
const SET: &str = "bench";
const NAMESPACE: &str =
    "namespace test {\n    replication-factor 2\n    storage-engine memory\n}\n";
/// Keys the throughput runs read and write.
const KEY_SPACE: u64 = 100_000;

fn arg(i: usize, default: u64) -> u64 {
    std::env::args()
        .nth(i)
        .and_then(|a| a.parse().ok())
        .unwrap_or(default)
}

async fn connect(cluster: &TestCluster, nodes: usize) -> Arc<Client> {
    let seed = cluster.addrs()[0].to_string();
    let client = Client::new(&ClientPolicy::default(), &seed)
        .await
        .unwrap_or_else(|e| panic!("connect {seed}: {e}"));
    let deadline = Instant::now() + Duration::from_secs(20);
    while client.nodes().len() != nodes {
        assert!(
            Instant::now() < deadline,
            "client sees {:?}",
            client.node_names()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    Arc::new(client)
}

/// 50% reads, 50% writes over `KEY_SPACE` keys for `secs`; returns transactions per second.
async fn throughput(client: Arc<Client>, tasks: u64, secs: u64) -> f64 {
    let done = Arc::new(AtomicU64::new(0));
    let errors = Arc::new(AtomicU64::new(0));
    let end = Instant::now() + Duration::from_secs(secs);
    let handles: Vec<_> = (0..tasks)
        .map(|t| {
            let (client, done, errors) = (client.clone(), done.clone(), errors.clone());
            tokio::spawn(async move {
                let (wp, rp) = (WritePolicy::default(), ReadPolicy::default());
                let mut x = 0x9E37_79B9_7F4A_7C15u64 ^ (t + 1);
                while Instant::now() < end {
                    x ^= x << 13;
                    x ^= x >> 7;
                    x ^= x << 17;
                    let key = as_key!(NS, SET, (x % KEY_SPACE) as i64);
                    let ok = if x & (1 << 40) == 0 {
                        client
                            .put(&wp, &key, &[as_bin!("v", x as i64)])
                            .await
                            .is_ok()
                    } else {
                        match client.get(&rp, &key, Bins::All).await {
                            Ok(_) => true,
                            Err(e) => e.server_result_code().is_some(),
                        }
                    };
                    if ok {
                        done.fetch_add(1, Ordering::Relaxed);
                    } else {
                        errors.fetch_add(1, Ordering::Relaxed);
                    }
                }
            })
        })
        .collect();
    for h in handles {
        let _ = h.await;
    }
    let e = errors.load(Ordering::Relaxed);
    if e > 0 {
        eprintln!("  ({e} transactions failed)");
    }
    done.load(Ordering::Relaxed) as f64 / secs as f64
}

/// Writes keys `0..records` with `tasks` concurrent writers.
async fn load(client: Arc<Client>, tasks: u64, records: u64) {
    let next = Arc::new(AtomicU64::new(0));
    let handles: Vec<_> = (0..tasks)
        .map(|_| {
            let (client, next) = (client.clone(), next.clone());
            tokio::spawn(async move {
                let wp = WritePolicy::default();
                loop {
                    let k = next.fetch_add(1, Ordering::Relaxed);
                    if k >= records {
                        return;
                    }
                    let key = as_key!(NS, SET, k as i64);
                    client
                        .put(
                            &wp,
                            &key,
                            &[as_bin!("v", k as i64), as_bin!("s", "payload-0123456789")],
                        )
                        .await
                        .unwrap_or_else(|e| panic!("put {k}: {e}"));
                }
            })
        })
        .collect();
    for h in handles {
        let _ = h.await;
    }
}

fn objects(cluster: &TestCluster) -> Vec<u64> {
    cluster
        .addrs()
        .iter()
        .filter_map(|a| info(*a, &format!("namespace/{NS}")).ok())
        .filter_map(|s| stat_value(&s, "objects"))
        .collect()
}

#[tokio::main]
async fn main() {
    let secs = arg(1, 10);
    let tasks = arg(2, 32);
    let records = arg(3, 1_000_000);
    let bin = locate_aerie_bin(None).unwrap_or_else(|e| panic!("{e}"));
    println!("binary {}", bin.display());
    println!("throughput, official Rust client, {tasks} tasks, 50% reads / 50% writes, {secs} s");
    for n in 1..=3 {
        let cluster = TestCluster::start(&bin, n, NAMESPACE);
        let client = connect(&cluster, n).await;
        let tps = throughput(client.clone(), tasks, secs).await;
        println!("  {n} node(s): {tps:.0} tps");
    }

    println!("migration of {records} records (replication factor 2) to a joining third node");
    let mut cluster = TestCluster::start(&bin, 2, NAMESPACE);
    let client = connect(&cluster, 2).await;
    let t = Instant::now();
    load(client.clone(), tasks, records).await;
    let load_secs = t.elapsed().as_secs_f64();
    println!(
        "  loaded in {load_secs:.1} s ({:.0} writes/s), objects per node {:?}",
        records as f64 / load_secs,
        objects(&cluster)
    );
    let t = Instant::now();
    cluster.add_node();
    cluster.wait_size(3, Duration::from_secs(60));
    let settled = t.elapsed().as_secs_f64();
    cluster.wait_migrations(Duration::from_secs(600));
    let migrated = t.elapsed().as_secs_f64();
    let deadline = Instant::now() + Duration::from_secs(120);
    while objects(&cluster).iter().sum::<u64>() != 2 * records && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let balanced = t.elapsed().as_secs_f64();
    println!(
        "  membership settled after {settled:.2} s, migrations done after {migrated:.2} s, \
         balanced (two copies, extra copies dropped) after {balanced:.2} s; objects per node {:?}",
        objects(&cluster)
    );
    println!(
        "  records received by the new node: {}",
        cluster
            .node(2)
            .and_then(|p| info(p.addr(), "statistics").ok())
            .and_then(|s| stat_value(&s, "migrate_records_received"))
            .unwrap_or(0)
    );
}
