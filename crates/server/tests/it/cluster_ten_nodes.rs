//! Ten `aerie` processes on loopback form one cluster (no node cap) and serve the official
//! Rust client: it discovers every node from one seed, the partition map gives each node a
//! share of masters and replicas, and records written through it read back.

use std::time::{Duration, Instant};

use aerie_testkit::cluster::info;
use aerie_testkit::TestCluster;
use aerospike::{as_bin, as_key, Bins, Client, ClientPolicy, ReadPolicy, Value, WritePolicy};
use base64::Engine as _;

const NODES: usize = 10;
const NS: &str = "test";
const KEYS: i64 = 1000;
const NAMESPACE: &str =
    "namespace test {\n    replication-factor 2\n    storage-engine memory\n}\n";

/// Partitions set in one base64 `replicas` bitmap.
fn owned(b64: &str) -> u32 {
    base64::engine::general_purpose::STANDARD
        .decode(b64)
        .expect("base64 bitmap")
        .iter()
        .map(|b| b.count_ones())
        .sum()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ten_nodes_form_and_serve() {
    let started = Instant::now();
    let cluster = TestCluster::start(env!("CARGO_BIN_EXE_aerie"), NODES, NAMESPACE);
    println!("{NODES} nodes formed in {:?}", started.elapsed());
    cluster.wait_migrations(Duration::from_secs(60));

    // Each node masters and replicates a share of the 4096 partitions; together, once each.
    let (mut masters, mut replicas) = (0u32, 0u32);
    for addr in cluster.addrs() {
        let answer = info(addr, "replicas-all").expect("replicas-all");
        let columns: Vec<&str> = answer
            .strip_prefix(&format!("{NS}:2,"))
            .unwrap_or_else(|| panic!("two columns expected: {answer}"))
            .split(',')
            .collect();
        let (m, r) = (owned(columns[0]), owned(columns[1]));
        // An equal share is ~410; rendezvous hashing keeps each node near it.
        assert!((250..=600).contains(&m), "{addr}: {m} masters");
        assert!((250..=600).contains(&r), "{addr}: {r} replicas");
        masters += m;
        replicas += r;
    }
    assert_eq!((masters, replicas), (4096, 4096));

    let seed = cluster.addrs()[0].to_string();
    let client = Client::new(&ClientPolicy::default(), &seed)
        .await
        .expect("client connects");
    let deadline = Instant::now() + Duration::from_secs(20);
    while client.nodes().len() != NODES {
        assert!(
            Instant::now() < deadline,
            "client sees {:?}",
            client.node_names()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let mut wp = WritePolicy::default();
    wp.base_policy.total_timeout = 5000;
    wp.base_policy.max_retries = 8;
    wp.base_policy.sleep_between_retries = 200;
    for k in 0..KEYS {
        client
            .put(&wp, &as_key!(NS, "ten", k), &[as_bin!("v", k)])
            .await
            .unwrap_or_else(|e| panic!("put {k}: {e}"));
    }
    let rp = ReadPolicy::default();
    for k in 0..KEYS {
        let rec = client
            .get(&rp, &as_key!(NS, "ten", k), Bins::All)
            .await
            .unwrap_or_else(|e| panic!("get {k}: {e}"));
        assert_eq!(rec.bins.get("v"), Some(&Value::from(k)));
    }
    // Every node took part: each masters some of the records.
    let per_node: Vec<u64> = cluster
        .addrs()
        .iter()
        .map(|a| {
            let ns = info(*a, &format!("namespace/{NS}")).expect("namespace info");
            aerie_testkit::cluster::stat_value(&ns, "master_objects").unwrap_or(0)
        })
        .collect();
    assert_eq!(per_node.iter().sum::<u64>(), KEYS as u64, "{per_node:?}");
    assert!(per_node.iter().all(|&m| m > 0), "{per_node:?}");
    println!("formed, loaded and read back in {:?}", started.elapsed());
}
