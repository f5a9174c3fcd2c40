//! A network split and its heal, with real processes in a network namespace of the test's
//! own: three nodes on 127.0.0.2–4, replication factor 2. Node-to-node traffic between the
//! two sides is cut with `ip rule … blackhole` (the client, on 127.0.0.1, still reaches
//! every node). Both sides must keep serving (AP); after the heal the cluster converges with
//! every acknowledged write, and where both sides wrote the same record the newest wins.
//!
//! The test re-runs itself inside `ip netns exec`; it needs root and iproute2, and is
//! skipped (outside CI) when a namespace cannot be made.

use std::net::{Ipv4Addr, SocketAddr};
use std::process::Command;
use std::time::{Duration, Instant};

use aerie_testkit::cluster::info;
use aerie_testkit::TestCluster;
use aerospike::{as_bin, as_key, Bins, Client, ClientPolicy, ReadPolicy, Value, WritePolicy};

const INNER_ENV: &str = "AERIE_SPLIT_TEST_INNER";
const TEST_NAME: &str = "split_both_sides_serve_and_heal_newest_wins";
const NS: &str = "test";
const SET: &str = "split";
const NAMESPACE: &str =
    "namespace test {\n    replication-factor 2\n    storage-engine memory\n}\n";
const IPS: [Ipv4Addr; 3] = [
    Ipv4Addr::new(127, 0, 0, 2),
    Ipv4Addr::new(127, 0, 0, 3),
    Ipv4Addr::new(127, 0, 0, 4),
];

fn ip(args: &[&str]) -> bool {
    Command::new("ip")
        .args(args)
        .status()
        .map(|s| s.success())
        .unwrap_or(false)
}

#[test]
fn split_both_sides_serve_and_heal_newest_wins() {
    if std::env::var_os(INNER_ENV).is_some() {
        inner();
        return;
    }
    let name = format!("aerie-split-{}", std::process::id());
    if !ip(&["netns", "add", &name]) {
        assert!(
            std::env::var_os("CI").is_none(),
            "CI must be able to create a network namespace (root and iproute2)"
        );
        eprintln!("skipped: cannot create a network namespace (needs root and iproute2)");
        return;
    }
    let exe = std::env::current_exe().expect("test binary path");
    let run = Command::new("ip")
        .args(["netns", "exec", &name])
        .arg(exe)
        .args(["--exact", TEST_NAME, "--nocapture", "--test-threads=1"])
        .env(INNER_ENV, "1")
        .output();
    let _ = ip(&["netns", "del", &name]);
    let run = run.expect("ip netns exec");
    // The inner run's output, indented so its libtest summary is not counted twice.
    for line in String::from_utf8_lossy(&run.stdout)
        .lines()
        .chain(String::from_utf8_lossy(&run.stderr).lines())
    {
        println!("  [netns] {line}");
    }
    assert!(
        run.status.success(),
        "the test inside the namespace failed: {}",
        run.status
    );
}

/// Blocks (or with `heal`, restores) traffic between two node addresses, both ways.
fn link(a: Ipv4Addr, b: Ipv4Addr, heal: bool) {
    let verb = if heal { "del" } else { "add" };
    for (from, to) in [(a, b), (b, a)] {
        let (from, to) = (from.to_string(), to.to_string());
        assert!(
            ip(&[
                "rule",
                verb,
                "pref",
                "10",
                "from",
                &from,
                "to",
                &to,
                "blackhole"
            ]),
            "ip rule {verb} {from} -> {to}"
        );
    }
}

fn size_and_key(addr: SocketAddr) -> Option<(String, String)> {
    Some((
        info(addr, "cluster-size").ok()?,
        info(addr, "cluster-key").ok()?,
    ))
}

/// Waits until the nodes at `addrs` agree on a cluster of `size`.
fn wait_side(addrs: &[SocketAddr], size: usize) {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let seen: Vec<_> = addrs.iter().map(|a| size_and_key(*a)).collect();
        let ok = seen.iter().all(|s| {
            matches!(s, Some((n, k)) if *n == size.to_string() && Some(k) == seen[0].as_ref().map(|x| &x.1))
        });
        if ok {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "side {addrs:?} did not settle at {size}: {seen:?}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn policy() -> (WritePolicy, ReadPolicy) {
    let mut wp = WritePolicy::default();
    wp.base_policy.total_timeout = 5000;
    wp.base_policy.max_retries = 8;
    wp.base_policy.sleep_between_retries = 200;
    let mut rp = ReadPolicy::default();
    rp.base_policy.total_timeout = 5000;
    rp.base_policy.max_retries = 8;
    rp.base_policy.sleep_between_retries = 200;
    (wp, rp)
}

async fn client_for(seeds: &[SocketAddr], nodes: usize) -> Client {
    let hosts: Vec<String> = seeds.iter().map(ToString::to_string).collect();
    let client = Client::new(&ClientPolicy::default(), &hosts.join(","))
        .await
        .expect("client connects");
    let deadline = Instant::now() + Duration::from_secs(20);
    while client.nodes().len() != nodes {
        assert!(
            Instant::now() < deadline,
            "client sees {:?}",
            client.node_names()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    client
}

async fn put_range(c: &Client, keys: std::ops::Range<i64>, v: i64) {
    let (wp, _) = policy();
    for k in keys {
        c.put(&wp, &as_key!(NS, SET, k), &[as_bin!("v", v)])
            .await
            .unwrap_or_else(|e| panic!("put {k}={v}: {e}"));
    }
}

fn inner() {
    assert!(ip(&["link", "set", "lo", "up"]), "lo up");
    // Local delivery is routed by the `local` table at preference 0; move it behind the
    // preference-10 blackhole rules the split adds (this namespace only).
    assert!(ip(&["rule", "add", "pref", "100", "lookup", "local"]));
    assert!(ip(&["rule", "del", "pref", "0"]));

    let cluster = TestCluster::start_at(env!("CARGO_BIN_EXE_aerie"), &IPS, NAMESPACE);
    let addrs = cluster.addrs();
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    rt.block_on(async {
        let all = client_for(&addrs, 3).await;
        put_range(&all, 0..300, 0).await;
        all.close().await.ok();

        // Cut node 2 off from nodes 0 and 1.
        link(IPS[2], IPS[0], false);
        link(IPS[2], IPS[1], false);
        wait_side(&addrs[..2], 2);
        wait_side(&addrs[2..], 1);

        // Both sides keep taking writes: the larger side, then the lone node, each on its
        // own keys and both on key 1000 (the lone node last, so its write is the newest).
        let big = client_for(&addrs[..1], 2).await;
        put_range(&big, 0..100, 1).await;
        put_range(&big, 300..350, 1).await;
        put_range(&big, 1000..1001, 1).await;
        let lone = client_for(&addrs[2..], 1).await;
        put_range(&lone, 100..200, 2).await;
        put_range(&lone, 350..400, 2).await;
        tokio::time::sleep(Duration::from_millis(5)).await;
        put_range(&lone, 1000..1001, 2).await;
        big.close().await.ok();
        lone.close().await.ok();

        link(IPS[2], IPS[0], true);
        link(IPS[2], IPS[1], true);
        cluster.wait_size(3, Duration::from_secs(30));
        cluster.wait_migrations(Duration::from_secs(30));

        let all = client_for(&addrs, 3).await;
        let (_, rp) = policy();
        let expect = |k: i64| match k {
            0..100 | 300..350 => 1,
            100..200 | 350..400 | 1000 => 2,
            _ => 0,
        };
        let mut bad = Vec::new();
        for k in (0..400).chain(1000..1001) {
            match all.get(&rp, &as_key!(NS, SET, k), Bins::All).await {
                Ok(r) if r.bins.get("v") == Some(&Value::from(expect(k))) => {}
                Ok(r) => bad.push(format!("{k}: {:?}, want {}", r.bins.get("v"), expect(k))),
                Err(e) => bad.push(format!("{k}: {e}")),
            }
        }
        assert!(
            bad.is_empty(),
            "{} wrong after the heal, e.g. {:?}",
            bad.len(),
            &bad[..bad.len().min(5)]
        );
    });
}
