//! A three-node cluster (replication factor 2) of real `aerie` processes under load from the
//! official Rust client: one node is SIGKILLed mid-load, restarted, and a fourth node joins.
//! No acknowledged write may be lost, the client must keep writing after each change, and
//! after migrations every record has exactly one master copy, spread over all nodes.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use aerie_testkit::cluster::{info, stat_value};
use aerie_testkit::TestCluster;
use aerospike::{as_bin, as_key, Bins, Client, ClientPolicy, ReadPolicy, Value, WritePolicy};

const NS: &str = "test";
const SET: &str = "load";
const NAMESPACE: &str =
    "namespace test {\n    replication-factor 2\n    storage-engine memory\n}\n";
/// Keys each writer task attempts.
const KEYS_PER_WRITER: i64 = 1500;
const WRITERS: i64 = 2;

fn write_policy() -> WritePolicy {
    let mut wp = WritePolicy::default();
    wp.base_policy.total_timeout = 5000;
    wp.base_policy.max_retries = 8;
    wp.base_policy.sleep_between_retries = 200;
    wp
}

fn read_policy() -> ReadPolicy {
    let mut rp = ReadPolicy::default();
    rp.base_policy.total_timeout = 5000;
    rp.base_policy.max_retries = 8;
    rp.base_policy.sleep_between_retries = 200;
    rp
}

async fn wait_client_nodes(client: &Client, n: usize) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while client.nodes().len() != n {
        assert!(
            Instant::now() < deadline,
            "client sees {:?}, want {n} nodes",
            client.node_names()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Writes keys `w, w+WRITERS, …` once each; returns the acknowledged ones with the value.
async fn writer(client: Arc<Client>, w: i64, acked: Arc<AtomicUsize>) -> BTreeMap<i64, i64> {
    let wp = write_policy();
    let mut ok = BTreeMap::new();
    let deadline = Instant::now() + Duration::from_secs(60);
    for n in 0..KEYS_PER_WRITER {
        if Instant::now() > deadline {
            break;
        }
        let k = n * WRITERS + w;
        let key = as_key!(NS, SET, k);
        if client.put(&wp, &key, &[as_bin!("v", k * 7)]).await.is_ok() {
            ok.insert(k, k * 7);
            acked.fetch_add(1, Ordering::Relaxed);
        }
        // Spread the load over the failure: a few ms per write.
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    ok
}

/// Reads every acknowledged key back; returns the ones missing or wrong.
async fn verify(client: &Client, acked: &BTreeMap<i64, i64>) -> Vec<(i64, String)> {
    let rp = read_policy();
    let mut bad = Vec::new();
    for (&k, &v) in acked {
        match client.get(&rp, &as_key!(NS, SET, k), Bins::All).await {
            Ok(rec) if rec.bins.get("v") == Some(&Value::from(v)) => {}
            Ok(rec) => bad.push((k, format!("wrong value {:?}", rec.bins))),
            Err(e) => bad.push((k, e.to_string())),
        }
    }
    bad
}

fn ns_stat(cluster: &TestCluster, stat: &str) -> Vec<u64> {
    cluster
        .addrs()
        .iter()
        .map(|a| {
            let ns = info(*a, &format!("namespace/{NS}")).expect("namespace info");
            stat_value(&ns, stat).unwrap_or_else(|| panic!("no {stat} in {ns}"))
        })
        .collect()
}

fn master_objects(cluster: &TestCluster) -> Vec<u64> {
    ns_stat(cluster, "master_objects")
}

/// Waits until the nodes hold exactly two copies of every record (a master and a
/// replica): partitions a node no longer owns are dropped once their owners are filled.
async fn wait_two_copies(cluster: &TestCluster) {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let masters: u64 = master_objects(cluster).iter().sum();
        let objects = ns_stat(cluster, "objects");
        if objects.iter().sum::<u64>() == 2 * masters {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "objects {objects:?} are not twice the {masters} master copies"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_restart_and_grow_under_load_lose_no_acknowledged_write() {
    let mut cluster = TestCluster::start(env!("CARGO_BIN_EXE_aerie"), 3, NAMESPACE);
    // The client knows one seed only and must discover the other two.
    let seed = cluster.addrs()[0].to_string();
    let client = Arc::new(
        Client::new(&ClientPolicy::default(), &seed)
            .await
            .expect("client connects"),
    );
    wait_client_nodes(&client, 3).await;

    let acked_count = Arc::new(AtomicUsize::new(0));
    let tasks: Vec<_> = (0..WRITERS)
        .map(|w| tokio::spawn(writer(client.clone(), w, acked_count.clone())))
        .collect();
    // SIGKILL a non-seed node once a third of the load is acknowledged.
    let deadline = Instant::now() + Duration::from_secs(30);
    while acked_count.load(Ordering::Relaxed) < (KEYS_PER_WRITER * WRITERS / 3) as usize {
        assert!(Instant::now() < deadline, "load made no progress");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    cluster.kill(2);
    let at_kill = acked_count.load(Ordering::Relaxed);
    let mut acked = BTreeMap::new();
    for t in tasks {
        acked.extend(t.await.expect("writer task"));
    }
    let total = acked.len();
    println!("acknowledged {total} writes, {at_kill} before the kill");
    assert!(
        total > at_kill + 100,
        "the client did not recover after the kill"
    );

    cluster.wait_size(2, Duration::from_secs(20));
    let bad = verify(&client, &acked).await;
    assert!(
        bad.is_empty(),
        "after the kill: {} lost, e.g. {:?}",
        bad.len(),
        &bad[..bad.len().min(5)]
    );

    // Restart the killed node: it rejoins with its node id and fills its partitions.
    cluster.restart(2);
    cluster.wait_size(3, Duration::from_secs(20));
    cluster.wait_migrations(Duration::from_secs(30));
    wait_client_nodes(&client, 3).await;
    let bad = verify(&client, &acked).await;
    assert!(
        bad.is_empty(),
        "after the restart: {} lost, e.g. {:?}",
        bad.len(),
        &bad[..bad.len().min(5)]
    );
    let masters = master_objects(&cluster);
    // One master copy per record: every acknowledged one, plus at most the writes that
    // failed in doubt around the kill.
    let sum: u64 = masters.iter().sum();
    assert!(
        sum >= total as u64 && sum <= (KEYS_PER_WRITER * WRITERS) as u64,
        "master copies {masters:?} for {total} acknowledged writes"
    );
    assert!(
        masters.iter().all(|&m| m > total as u64 / 5),
        "unbalanced masters: {masters:?}"
    );
    wait_two_copies(&cluster).await;

    // An index defined now must reach the node that joins next.
    let created = info(
        cluster.addrs()[0],
        &format!("sindex-create:ns={NS};set={SET};indexname=load_v;indexdata=v,numeric"),
    )
    .expect("sindex-create");
    assert_eq!(created, "ok");

    // A fourth node joins under more load.
    let acked_count = Arc::new(AtomicUsize::new(0));
    let more = tokio::spawn(writer(client.clone(), WRITERS + 7, acked_count));
    let _ = cluster.add_node();
    cluster.wait_size(4, Duration::from_secs(20));
    let more = more.await.expect("writer task");
    let mut all = acked.clone();
    all.extend(more.iter().map(|(k, v)| (*k, *v)));
    cluster.wait_migrations(Duration::from_secs(30));
    wait_client_nodes(&client, 4).await;
    let bad = verify(&client, &all).await;
    assert!(
        bad.is_empty(),
        "after the join: {} lost, e.g. {:?}",
        bad.len(),
        &bad[..bad.len().min(5)]
    );
    let masters = master_objects(&cluster);
    assert_eq!(masters.len(), 4);
    assert!(
        masters.iter().all(|&m| m > 0),
        "the new node masters nothing: {masters:?}"
    );
    wait_two_copies(&cluster).await;
    // Dropping what a node no longer owns lost nothing.
    let bad = verify(&client, &all).await;
    assert!(bad.is_empty(), "after balancing: {} lost", bad.len());
    let joined = cluster.node(3).expect("fourth node").addr();
    let deadline = Instant::now() + Duration::from_secs(10);
    while !info(joined, &format!("sindex-list:ns={NS}"))
        .unwrap_or_default()
        .contains("load_v")
    {
        assert!(
            Instant::now() < deadline,
            "the index did not reach the joined node"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}
