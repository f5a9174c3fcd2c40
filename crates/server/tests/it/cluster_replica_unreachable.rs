//! Honest acknowledgements: a two-node cluster (replication factor 2) whose replica is
//! paused with SIGSTOP while the official Rust client writes keys the other node masters.
//! The master applies each write but cannot get it acknowledged, so the client must not get
//! OK: it gets TIMEOUT (9) from the server, in doubt, within `transaction-max-ms` — single
//! puts and the rows of a batch write alike. Once the replica runs again, writes succeed
//! again.

use std::net::Ipv4Addr;
use std::process::Command;
use std::time::{Duration, Instant};

use aerie_testkit::cluster::{info, stat_value};
use aerie_testkit::TestCluster;
use aerospike::{
    as_bin, as_key, operations, BatchOperation, BatchPolicy, BatchWritePolicy, Client,
    ClientPolicy, ResultCode, WritePolicy,
};
use base64::Engine as _;

const NS: &str = "test";
const SET: &str = "honest";
const NAMESPACE: &str =
    "namespace test {\n    replication-factor 2\n    storage-engine memory\n}\n";
/// Heartbeat interval of the test's nodes.
const HEARTBEAT_INTERVAL_MS: u32 = 500;
/// Keys written while the replica is paused.
const KEYS: usize = 6;

/// Sends `signal` (STOP or CONT) to a process.
fn signal(pid: u32, signal: &str) {
    let ok = Command::new("kill")
        .arg(format!("-{signal}"))
        .arg(pid.to_string())
        .status()
        .map(|s| s.success())
        .unwrap_or(false);
    assert!(ok, "kill -{signal} {pid} failed");
}

/// The partitions node `addr` masters in namespace `NS`, from its `replicas-master` answer.
fn mastered(addr: std::net::SocketAddr) -> Vec<bool> {
    let answer = info(addr, "replicas-master").expect("replicas-master");
    let b64 = answer
        .split(';')
        .find_map(|e| e.strip_prefix(&format!("{NS}:")))
        .unwrap_or_else(|| panic!("no {NS} in {answer}"));
    let bits = base64::engine::general_purpose::STANDARD
        .decode(b64)
        .expect("base64 bitmap");
    (0..4096)
        .map(|p| bits.get(p >> 3).is_some_and(|b| b & (0x80 >> (p & 7)) != 0))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn paused_replica_fails_the_write_with_timeout_in_doubt() {
    // Heartbeats every 500 ms: the paused node is declared dead only seconds later, so the
    // writes below meet an unchanged partition map until their 1 s bound.
    let cluster = TestCluster::start_with(
        env!("CARGO_BIN_EXE_aerie"),
        &[Ipv4Addr::LOCALHOST; 2],
        NAMESPACE,
        HEARTBEAT_INTERVAL_MS,
    );
    let master = cluster.addrs()[0];
    let hosts: Vec<String> = cluster.addrs().iter().map(ToString::to_string).collect();
    let client = Client::new(&ClientPolicy::default(), &hosts.join(","))
        .await
        .expect("client connects");
    let deadline = Instant::now() + Duration::from_secs(20);
    while client.nodes().len() != 2 {
        assert!(
            Instant::now() < deadline,
            "client sees {:?}",
            client.node_names()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    // Partitions fill from the other node once the cluster forms; until then requests are
    // proxied. Wait, so that node 0 serves its partitions itself.
    cluster.wait_migrations(Duration::from_secs(30));
    // Keys node 0 masters; node 1 holds their replica (two nodes, two copies).
    let owned = mastered(master);
    let keys: Vec<i64> = (0..10_000)
        .filter(|&k| owned[as_key!(NS, SET, k).partition_id()])
        .take(2 * KEYS)
        .collect();
    assert_eq!(keys.len(), 2 * KEYS, "node 0 masters too few partitions");
    // Single puts on the first half, one batch of writes on the second.
    let (keys, batch_keys) = keys.split_at(KEYS);

    // No client-side limit (the test bounds each call itself): the server's own bound
    // (transaction-max-ms, 1 s by default) decides.
    let mut wp = WritePolicy::default();
    wp.base_policy.total_timeout = 0;
    wp.base_policy.socket_timeout = 0;
    wp.base_policy.max_retries = 0;
    for &k in keys.iter().chain(batch_keys) {
        client
            .put(&wp, &as_key!(NS, SET, k), &[as_bin!("v", 1)])
            .await
            .unwrap_or_else(|e| panic!("put {k} with both nodes up: {e}"));
    }
    let errors_before = stat_value(
        &info(master, "statistics").expect("statistics"),
        "replica_write_errors",
    )
    .expect("replica_write_errors");

    let replica_pid = cluster.node(1).and_then(|n| n.pid()).expect("replica pid");
    signal(replica_pid, "STOP");
    let started = Instant::now();
    let puts = keys.iter().map(|&k| {
        let client = &client;
        let wp = &wp;
        async move {
            let key = as_key!(NS, SET, k);
            let bins = [as_bin!("v", 2)];
            let put = client.put(wp, &key, &bins);
            (k, tokio::time::timeout(Duration::from_secs(15), put).await)
        }
    });
    let mut bp = BatchPolicy::default();
    bp.base_policy.total_timeout = 0;
    bp.base_policy.socket_timeout = 0;
    bp.base_policy.max_retries = 0;
    let bwp = BatchWritePolicy::default();
    let mut batch: Vec<BatchOperation> = batch_keys
        .iter()
        .map(|&k| {
            BatchOperation::write(
                &bwp,
                as_key!(NS, SET, k),
                vec![operations::put(&as_bin!("v", 2))],
            )
        })
        .collect();
    let batch_call = tokio::time::timeout(Duration::from_secs(15), client.batch(&bp, &mut batch));
    let (results, batch_answer) = tokio::join!(futures::future::join_all(puts), batch_call);
    let elapsed = started.elapsed();
    signal(replica_pid, "CONT");

    for (k, r) in &results {
        match r {
            Err(_) => panic!("put {k} got no answer in 15 s"),
            Ok(Ok(())) => panic!("put {k} acknowledged OK with its replica paused"),
            Ok(Err(e)) => {
                // The client reports the server's TIMEOUT as the cause of giving up.
                assert_eq!(
                    e.server_result_code(),
                    Some(ResultCode::Timeout),
                    "put {k}: want a server TIMEOUT, got {e:?}"
                );
                assert!(
                    e.in_doubt(),
                    "put {k}: a timed-out write must be in doubt: {e}"
                );
            }
        }
    }
    // Rows carry the server's code; the client marks a row in doubt only after a resend.
    let batch_answer = batch_answer.expect("the batch got an answer within 15 s");
    assert!(batch_answer.is_ok(), "batch call: {batch_answer:?}");
    for (op, k) in batch.iter().zip(batch_keys) {
        assert_eq!(
            op.result_code(),
            Some(ResultCode::Timeout),
            "batch row {k}: want TIMEOUT with its replica paused"
        );
    }
    assert!(
        elapsed < Duration::from_secs(5),
        "the server took {elapsed:?} to give up (transaction-max-ms is 1 s)"
    );
    let errors_after = stat_value(
        &info(master, "statistics").expect("statistics"),
        "replica_write_errors",
    )
    .expect("replica_write_errors");
    assert!(
        errors_after > errors_before,
        "replica_write_errors did not count the failed replica writes ({errors_before} → {errors_after})"
    );

    // The replica runs again: writes are acknowledged again.
    let mut retrying = wp.clone();
    retrying.base_policy.total_timeout = 10_000;
    retrying.base_policy.max_retries = 20;
    retrying.base_policy.sleep_between_retries = 200;
    for &k in keys.iter().chain(batch_keys) {
        client
            .put(&retrying, &as_key!(NS, SET, k), &[as_bin!("v", 3)])
            .await
            .unwrap_or_else(|e| panic!("put {k} after the replica resumed: {e}"));
    }
}
