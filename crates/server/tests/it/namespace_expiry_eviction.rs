//! Expiry, eviction and stop-writes through the official client: the namespace supervisor
//! removes expired records, evicts the soonest-expiring ones above `evict-used-pct`, and
//! refuses writes (OUT_OF_SPACE, 8) above `stop-writes-used-pct` while reads continue.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use aerie_testkit::ServerProcess;
use aerospike::{
    as_bin, as_key, AdminPolicy, Bins, Client, ClientPolicy, Expiration, ReadPolicy, ResultCode,
    WritePolicy,
};

async fn start(ns_body: &str) -> (ServerProcess, Client) {
    let config = format!("namespace test {{\n{ns_body}\n}}\n");
    let server = ServerProcess::builder()
        .bin(env!("CARGO_BIN_EXE_aerie"))
        .config(config)
        .start();
    let client = Client::new(&ClientPolicy::default(), &server.hosts())
        .await
        .expect("connect");
    (server, client)
}

async fn ns_stats(client: &Client) -> HashMap<String, String> {
    let info = client
        .info(&AdminPolicy::default(), &["namespace/test"])
        .await
        .expect("info");
    let text = info.get("namespace/test").cloned().unwrap_or_default();
    text.split(';')
        .filter_map(|kv| kv.split_once('='))
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect()
}

async fn stat(client: &Client, name: &str) -> u64 {
    ns_stats(client)
        .await
        .get(name)
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("stat {name} missing"))
}

async fn exists(client: &Client, k: i64) -> bool {
    client
        .exists(&ReadPolicy::default(), &as_key!("test", "e", k))
        .await
        .expect("exists")
}

#[tokio::test]
async fn expired_records_are_removed_by_nsup() {
    let (_server, client) = start("  nsup-period 1\n  storage-engine memory").await;
    let short = WritePolicy::new(0, Expiration::Seconds(1));
    for k in 0..50 {
        client
            .put(&short, &as_key!("test", "e", k), &[as_bin!("v", k)])
            .await
            .expect("put");
    }
    for k in 50..60 {
        client
            .put(
                &WritePolicy::default(),
                &as_key!("test", "e", k),
                &[as_bin!("v", k)],
            )
            .await
            .expect("put");
    }
    let deadline = Instant::now() + Duration::from_secs(10);
    while stat(&client, "expired_objects").await < 50 {
        assert!(
            Instant::now() < deadline,
            "nsup did not remove the expired records: {:?}",
            ns_stats(&client).await
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    for k in 0..50 {
        assert!(!exists(&client, k).await, "key {k} expired");
    }
    for k in 50..60 {
        assert!(exists(&client, k).await, "key {k} never expires");
    }
    assert_eq!(stat(&client, "objects").await, 10);
}

#[tokio::test]
async fn soonest_expiring_records_are_evicted_above_evict_used_pct() {
    let (_server, client) = start(
        "  nsup-period 1\n  evict-used-pct 30\n  evict-tenths-pct 100\n  stop-writes-used-pct 95\n  storage-engine memory {\n    data-size 1M\n  }",
    )
    .await;
    let payload = "x".repeat(200);
    // ~3000 x 220 B = ~65% of 1 MiB; record k expires after 1000 + k seconds.
    for k in 0..3000i64 {
        let wp = WritePolicy::new(0, Expiration::Seconds(1000 + k as u32));
        client
            .put(
                &wp,
                &as_key!("test", "e", k),
                &[as_bin!("p", payload.clone())],
            )
            .await
            .expect("put");
    }
    let deadline = Instant::now() + Duration::from_secs(20);
    // Use is measured every second: wait for evictions to have brought it under the mark.
    while stat(&client, "evicted_objects").await == 0 || stat(&client, "data_used_pct").await >= 30
    {
        assert!(
            Instant::now() < deadline,
            "eviction did not bring use under 30%: {:?}",
            ns_stats(&client).await
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    assert!(stat(&client, "evicted_objects").await > 0);
    assert!(
        !exists(&client, 0).await,
        "the soonest-expiring record goes first"
    );
    assert!(
        exists(&client, 2999).await,
        "the latest-expiring record stays"
    );
}

#[tokio::test]
async fn writes_stop_above_stop_writes_used_pct_and_resume() {
    let (_server, client) = start(
        "  nsup-period 1\n  stop-writes-used-pct 20\n  storage-engine memory {\n    data-size 1M\n  }",
    )
    .await;
    let payload = "y".repeat(1000);
    let wp = WritePolicy::default();
    // ~300 KB: above 20% of 1 MiB.
    for k in 0..300i64 {
        client
            .put(
                &wp,
                &as_key!("test", "e", k),
                &[as_bin!("p", payload.clone())],
            )
            .await
            .expect("put below the limit");
    }
    // The usage tracker runs every second.
    let deadline = Instant::now() + Duration::from_secs(10);
    let refused = loop {
        match client
            .put(
                &wp,
                &as_key!("test", "e", 10_000),
                &[as_bin!("p", payload.clone())],
            )
            .await
        {
            Err(e) if e.server_result_code() == Some(ResultCode::ServerMemError) => break true,
            Err(e) => panic!("unexpected error: {e}"),
            Ok(()) => {
                let _ = client.delete(&wp, &as_key!("test", "e", 10_000)).await;
                assert!(Instant::now() < deadline, "writes were never refused");
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
        }
    };
    assert!(refused);
    assert_eq!(
        ns_stats(&client)
            .await
            .get("stop_writes")
            .map(String::as_str),
        Some("true")
    );
    // Reads and deletes continue.
    let rec = client
        .get(&ReadPolicy::default(), &as_key!("test", "e", 5), Bins::All)
        .await
        .expect("read during stop-writes");
    assert!(rec.bins.contains_key("p"));
    for k in 0..250i64 {
        client
            .delete(&wp, &as_key!("test", "e", k))
            .await
            .expect("delete during stop-writes");
    }
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        match client
            .put(&wp, &as_key!("test", "e", 20_000), &[as_bin!("p", "small")])
            .await
        {
            Ok(()) => break,
            Err(e) if e.server_result_code() == Some(ResultCode::ServerMemError) => {
                assert!(Instant::now() < deadline, "writes never resumed");
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
            Err(e) => panic!("unexpected error: {e}"),
        }
    }
}
