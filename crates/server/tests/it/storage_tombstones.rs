//! Durable deletes do not pile up: a tombstone is dropped once no older image of its record is
//! left on the device (its blocks freed by deletes or defragmentation), and at once when the
//! record is written again; a tombstone whose older image still sits in a block in use stays.
//! After a SIGKILL and restart no deleted record comes back. Through the official client and
//! the `tombstones` statistic of `namespace/<ns>`.

use std::time::{Duration, Instant};

use aerie_testkit::ServerProcess;
use aerospike::{
    as_bin, as_key, AdminPolicy, Bins, Client, ClientPolicy, ReadPolicy, Value, WritePolicy,
};

const NS: &str = "test";

fn start(dir: &std::path::Path) -> ServerProcess {
    let config = format!(
        "namespace test {{\n  nsup-period 60\n  storage-engine device {{\n    file {}/tomb.dat\n    filesize 8M\n    write-block-size 128K\n    flush-max-ms 100\n    defrag-lwm-pct 50\n  }}\n}}\n",
        dir.display()
    );
    ServerProcess::builder()
        .bin(env!("CARGO_BIN_EXE_aerie"))
        .config(config)
        .start()
}

async fn connect(server: &ServerProcess) -> Client {
    Client::new(&ClientPolicy::default(), &server.hosts())
        .await
        .unwrap_or_else(|e| panic!("connect: {e}"))
}

async fn stat(client: &Client, name: &str) -> u64 {
    let info = client
        .info(&AdminPolicy::default(), &["namespace/test"])
        .await
        .unwrap_or_else(|e| panic!("info: {e}"));
    let text = info.get("namespace/test").cloned().unwrap_or_default();
    text.split(';')
        .filter_map(|kv| kv.split_once('='))
        .find(|(k, _)| *k == name)
        .and_then(|(_, v)| v.parse().ok())
        .unwrap_or_else(|| panic!("stat {name} missing in {text}"))
}

async fn put(client: &Client, set: &str, k: i64, v: Value) {
    client
        .put(
            &WritePolicy::default(),
            &as_key!(NS, set, k),
            &[as_bin!("v", v)],
        )
        .await
        .unwrap_or_else(|e| panic!("put {set}/{k}: {e}"));
}

async fn delete(client: &Client, set: &str, k: i64) {
    let existed = client
        .delete(&WritePolicy::default(), &as_key!(NS, set, k))
        .await
        .unwrap_or_else(|e| panic!("delete {set}/{k}: {e}"));
    assert!(existed, "{set}/{k} existed");
}

async fn exists(client: &Client, set: &str, k: i64) -> bool {
    client
        .exists(&ReadPolicy::default(), &as_key!(NS, set, k))
        .await
        .unwrap_or_else(|e| panic!("exists {set}/{k}: {e}"))
}

/// Polls `name` until `done` holds (bounded).
async fn wait_stat(client: &Client, name: &str, done: impl Fn(u64) -> bool) -> u64 {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let v = stat(client, name).await;
        if done(v) || Instant::now() > deadline {
            return v;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn obsolete_tombstones_are_dropped_and_deletes_stay_deleted() {
    let dir = std::env::temp_dir().join(format!("aerie-tomb-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("temp dir: {e}"));
    let server = start(&dir);
    let client = connect(&server).await;
    let big = || Value::from("x".repeat(2000));

    // A block kept full by live "anchor" records, with five small "pinned" records inside.
    for i in 0..60 {
        put(&client, "anchor", i, big()).await;
        if i % 12 == 0 {
            put(&client, "pinned", i / 12, Value::from(i)).await;
        }
    }
    // Records that will all be deleted: their blocks empty out.
    for i in 0..150 {
        put(&client, "gone", i, big()).await;
    }
    for k in 0..5 {
        delete(&client, "pinned", k).await;
    }
    for i in 0..150 {
        delete(&client, "gone", i).await;
    }
    assert_eq!(stat(&client, "tombstones").await, 155);
    // Live records too big to share the block holding the tombstones move writing past it,
    // so defragmentation can compact it.
    for i in 0..3 {
        put(&client, "fill", i, Value::from("f".repeat(100_000))).await;
    }

    // The "gone" tombstones become obsolete as their blocks are freed. The pinned ones still
    // hide images in the anchors' block, as do the few "gone" ones whose images share a block
    // with anchors; the restart below shows that none was dropped too early.
    let left = wait_stat(&client, "tombstones", |v| v <= 15).await;
    assert!(
        (5..=15).contains(&left),
        "{left} tombstones left after raids"
    );
    let raids = stat(&client, "tomb_raider_passes").await;
    wait_stat(&client, "tomb_raider_passes", |v| v >= raids + 2).await;
    assert_eq!(
        stat(&client, "tombstones").await,
        left,
        "needed tombstones kept"
    );
    assert_eq!(stat(&client, "tombstones_dropped").await, 155 - left);

    // Writing a deleted record again makes its tombstone obsolete at once.
    put(&client, "pinned", 0, Value::from(-1)).await;
    assert_eq!(stat(&client, "tombstones").await, left - 1);
    tokio::time::sleep(Duration::from_millis(500)).await; // a flush interval and then some

    // SIGKILL and restart: nothing deleted comes back, the rest is intact.
    if let Some(pid) = server.pid() {
        let _ = std::process::Command::new("kill")
            .args(["-9", &pid.to_string()])
            .status();
    }
    drop(client);
    drop(server);
    let server = start(&dir);
    let client = connect(&server).await;
    for i in 0..150 {
        assert!(!exists(&client, "gone", i).await, "gone/{i} came back");
    }
    for k in 1..5 {
        assert!(!exists(&client, "pinned", k).await, "pinned/{k} came back");
    }
    let r = client
        .get(&ReadPolicy::default(), &as_key!(NS, "pinned", 0), Bins::All)
        .await
        .unwrap_or_else(|e| panic!("pinned/0: {e}"));
    assert_eq!(r.bins.get("v"), Some(&Value::from(-1)));
    for i in 0..60 {
        assert!(exists(&client, "anchor", i).await, "anchor/{i} lost");
    }
    for i in 0..3 {
        assert!(exists(&client, "fill", i).await, "fill/{i} lost");
    }
    // Dropped tombstones still on the device replay at start and are dropped again.
    let after = wait_stat(&client, "tombstones", |v| v == left - 1).await;
    assert_eq!(after, left - 1);
    drop(client);
    drop(server);
    let _ = std::fs::remove_dir_all(&dir);
}
