//! Four nodes on two racks (replication factor 2), driven by the official Rust client with
//! rack awareness on. Every partition must keep one copy per rack: `racks:` and `rack-ids`
//! describe the racks, reads with `Replica::PreferRack` are served by the preferred rack
//! only, and after both nodes of the other rack are SIGKILLed at once every write
//! acknowledged before the kill is still readable.

use std::net::Ipv4Addr;
use std::time::{Duration, Instant};

use aerie_testkit::cluster::{info, stat_value};
use aerie_testkit::TestCluster;
use aerospike::{
    as_bin, as_key, Bins, Client, ClientPolicy, ReadPolicy, Replica, Value, WritePolicy,
};

const NS: &str = "test";
const SET: &str = "racks";
const KEYS: i64 = 2000;

/// Node `i` is on rack `1 + i % 2`: nodes 0 and 2 on rack 1, nodes 1 and 3 on rack 2.
fn rack_of(i: usize) -> u32 {
    1 + (i % 2) as u32
}

fn namespace(rack: u32) -> String {
    format!(
        "namespace {NS} {{\n    replication-factor 2\n    rack-id {rack}\n    storage-engine memory\n}}\n"
    )
}

fn read_policy(replica: Replica) -> ReadPolicy {
    let mut rp = ReadPolicy::default();
    rp.base_policy.total_timeout = 5000;
    rp.base_policy.max_retries = 8;
    rp.base_policy.sleep_between_retries = 200;
    rp.base_policy.replica = replica;
    rp
}

fn read_successes(cluster: &TestCluster, i: usize) -> u64 {
    let addr = cluster.node(i).expect("node running").addr();
    let ns = info(addr, &format!("namespace/{NS}")).expect("namespace info");
    stat_value(&ns, "client_read_success").unwrap_or_else(|| panic!("no read stat in {ns}"))
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_whole_rack_killed_loses_no_acknowledged_write() {
    let namespaces: Vec<String> = (0..4).map(|i| namespace(rack_of(i))).collect();
    let mut cluster = TestCluster::start_each(
        env!("CARGO_BIN_EXE_aerie"),
        &[Ipv4Addr::LOCALHOST; 4],
        &namespaces,
    );

    // Every node describes the same two racks, and its own.
    for i in 0..4 {
        let addr = cluster.node(i).expect("running").addr();
        assert_eq!(
            info(addr, "rack-ids").expect("rack-ids"),
            format!("{NS}:{}", rack_of(i))
        );
        let config = info(addr, &format!("get-config:context=namespace;id={NS}")).expect("config");
        assert!(
            config
                .split(';')
                .any(|kv| kv == format!("rack-id={}", rack_of(i))),
            "{config}"
        );
        let racks = info(addr, "racks:").expect("racks:");
        let id = |j: usize| format!("{:X}", cluster.spec(j).node_id);
        assert_eq!(
            racks,
            format!(
                "ns={NS}:rack_1={},{}:rack_2={},{}",
                id(0),
                id(2),
                id(1),
                id(3)
            ),
            "node {i}"
        );
    }

    // Seeded with a rack-2 node, preferring rack 2 for reads.
    let policy = ClientPolicy {
        rack_ids: Some(vec![2]),
        ..ClientPolicy::default()
    };
    let seed = cluster.node(1).expect("running").addr().to_string();
    let client = Client::new(&policy, &seed).await.expect("client connects");
    wait_client_nodes(&client, 4).await;

    // Right after formation the nodes still merge each other's (empty) partitions.
    cluster.wait_migrations(Duration::from_secs(30));
    let mut wp = WritePolicy::default();
    wp.base_policy.total_timeout = 5000;
    wp.base_policy.max_retries = 8;
    wp.base_policy.sleep_between_retries = 200;
    for k in 0..KEYS {
        client
            .put(&wp, &as_key!(NS, SET, k), &[as_bin!("v", k * 3)])
            .await
            .unwrap_or_else(|e| panic!("put {k}: {e}"));
    }

    // PREFER_RACK reads go to rack 2 only: every partition has a copy there.
    let before: Vec<u64> = (0..4).map(|i| read_successes(&cluster, i)).collect();
    let rp = read_policy(Replica::PreferRack);
    for k in 0..KEYS {
        let rec = client
            .get(&rp, &as_key!(NS, SET, k), Bins::All)
            .await
            .unwrap_or_else(|e| panic!("get {k}: {e}"));
        assert_eq!(rec.bins.get("v"), Some(&Value::from(k * 3)));
    }
    let served: Vec<u64> = (0..4)
        .map(|i| read_successes(&cluster, i) - before[i])
        .collect();
    assert_eq!(served[0] + served[2], 0, "rack 1 served reads: {served:?}");
    assert_eq!(served[1] + served[3], KEYS as u64, "{served:?}");

    // Both rack-1 nodes die at once.
    cluster.kill(0);
    cluster.kill(2);
    cluster.wait_size(2, Duration::from_secs(30));
    wait_client_nodes(&client, 2).await;
    let rp = read_policy(Replica::Sequence);
    let mut lost = Vec::new();
    for k in 0..KEYS {
        match client.get(&rp, &as_key!(NS, SET, k), Bins::All).await {
            Ok(rec) if rec.bins.get("v") == Some(&Value::from(k * 3)) => {}
            Ok(rec) => lost.push(format!("{k}: {:?}", rec.bins)),
            Err(e) => lost.push(format!("{k}: {e}")),
        }
    }
    assert!(
        lost.is_empty(),
        "{} lost, e.g. {:?}",
        lost.len(),
        &lost[..lost.len().min(5)]
    );

    // The survivors keep serving writes, two copies again on the remaining rack.
    client
        .put(&wp, &as_key!(NS, SET, KEYS), &[as_bin!("v", 1)])
        .await
        .expect("put after the rack loss");
}
