//! Warm restart: after a clean shutdown (SIGTERM) the node rebuilds its index from the snapshot
//! it saved (`start_type=warm`), and serves exactly the records it had; after a crash
//! (SIGKILL) there is no snapshot and it cold-starts (`start_type=cold`) with every flushed
//! write; a stale snapshot put back after the files moved on is refused (cold start, no lost
//! or resurrected record); `cold-start-empty` ignores the files on a cold start but not on a
//! warm restart. Driven by the official Rust client.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

use aerie_testkit::ServerProcess;
use aerospike::{
    as_bin, as_key, AdminPolicy, Bins, Client, ClientPolicy, ReadPolicy, ResultCode, Value,
    WritePolicy,
};

const N: i64 = 3_000;

fn config(dir: &Path, cold_start_empty: bool) -> String {
    format!(
        "namespace test {{\n  nsup-period 60\n  storage-engine device {{\n    file {}/warm.dat\n    filesize 32M\n    write-block-size 128K\n    flush-max-ms 100\n    cold-start-empty {cold_start_empty}\n  }}\n}}\n",
        dir.display()
    )
}

fn start(dir: &Path, cold_start_empty: bool) -> ServerProcess {
    ServerProcess::builder()
        .bin(env!("CARGO_BIN_EXE_aerie"))
        .config(config(dir, cold_start_empty))
        .ready_timeout(Duration::from_secs(60))
        .start()
}

fn sigkill(server: &ServerProcess) {
    if let Some(pid) = server.pid() {
        let _ = std::process::Command::new("kill")
            .args(["-9", &pid.to_string()])
            .status();
    }
}

fn stop(mut server: ServerProcess) {
    server
        .terminate(Duration::from_secs(20))
        .unwrap_or_else(|e| panic!("terminate: {e}"));
}

async fn connect(server: &ServerProcess) -> Client {
    Client::new(&ClientPolicy::default(), &server.hosts())
        .await
        .unwrap_or_else(|e| panic!("connect: {e}"))
}

async fn ns_stat(client: &Client, name: &str) -> String {
    let info = client
        .info(&AdminPolicy::default(), &["namespace/test"])
        .await
        .unwrap_or_else(|e| panic!("info: {e}"));
    let text = info.get("namespace/test").cloned().unwrap_or_default();
    text.split(';')
        .filter_map(|kv| kv.split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.to_owned())
        .unwrap_or_else(|| panic!("stat {name} missing in {text}"))
}

/// Writes `keys` with values derived from `round`; returns the model's new state.
async fn write(
    client: &Client,
    model: &mut BTreeMap<i64, i64>,
    keys: std::ops::Range<i64>,
    round: i64,
) {
    let wp = WritePolicy::default();
    for k in keys {
        let v = k * 1_000 + round;
        client
            .put(
                &wp,
                &as_key!("test", "w", k),
                &[as_bin!("v", v), as_bin!("s", format!("value-{v}"))],
            )
            .await
            .unwrap_or_else(|e| panic!("put {k}: {e}"));
        model.insert(k, v);
    }
}

async fn delete(client: &Client, model: &mut BTreeMap<i64, i64>, keys: impl Iterator<Item = i64>) {
    let wp = WritePolicy::default();
    for k in keys {
        client
            .delete(&wp, &as_key!("test", "w", k))
            .await
            .unwrap_or_else(|e| panic!("delete {k}: {e}"));
        model.remove(&k);
    }
}

/// Every key of the model reads back with its value; every other key up to `upto` is gone.
async fn verify(client: &Client, model: &BTreeMap<i64, i64>, upto: i64) {
    let rp = ReadPolicy::default();
    for k in 0..upto {
        let got = client.get(&rp, &as_key!("test", "w", k), Bins::All).await;
        match (model.get(&k), got) {
            (Some(&v), Ok(rec)) => {
                assert_eq!(rec.bins.get("v"), Some(&Value::Int(v)), "key {k}");
                assert_eq!(
                    rec.bins.get("s"),
                    Some(&Value::String(format!("value-{v}"))),
                    "key {k}"
                );
            }
            (None, Err(e)) if e.server_result_code() == Some(ResultCode::KeyNotFoundError) => {}
            (want, got) => panic!("key {k}: want {want:?}, got {got:?}"),
        }
    }
    assert_eq!(
        ns_stat(client, "objects").await,
        model.len().to_string(),
        "objects"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn warm_after_sigterm_cold_after_sigkill() {
    let dir = std::env::temp_dir().join(format!("aerie-warm-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("temp dir");
    let mut model = BTreeMap::new();

    // Load, overwrite some, delete some; clean shutdown.
    let server = start(&dir, false);
    let client = connect(&server).await;
    assert_eq!(ns_stat(&client, "start_type").await, "cold");
    write(&client, &mut model, 0..N, 1).await;
    write(&client, &mut model, 0..N / 3, 2).await;
    delete(&client, &mut model, (0..N).step_by(7)).await;
    drop(client);
    stop(server);
    assert!(
        dir.join("warm.dat.index").exists(),
        "no snapshot after SIGTERM"
    );

    // Warm restart: the same records, and the snapshot is consumed.
    let server = start(&dir, false);
    let client = connect(&server).await;
    assert_eq!(ns_stat(&client, "start_type").await, "warm");
    assert!(
        !dir.join("warm.dat.index").exists(),
        "snapshot not consumed"
    );
    verify(&client, &model, N).await;
    // Keep a copy of this snapshot's successor for the stale-snapshot case below.
    write(&client, &mut model, N..N + 500, 3).await;
    delete(&client, &mut model, (N..N + 500).step_by(5)).await;
    drop(client);
    stop(server);
    let stale = dir.join("stale.index");
    std::fs::copy(dir.join("warm.dat.index"), &stale).expect("copy snapshot");

    // Warm again, write more, then crash: no snapshot, so a cold start with every flushed
    // write.
    let server = start(&dir, false);
    let client = connect(&server).await;
    assert_eq!(ns_stat(&client, "start_type").await, "warm");
    verify(&client, &model, N + 500).await;
    write(&client, &mut model, 0..200, 4).await;
    delete(&client, &mut model, 200..300).await;
    tokio::time::sleep(Duration::from_millis(600)).await; // several flush-max-ms
    drop(client);
    sigkill(&server);
    drop(server);
    assert!(!dir.join("warm.dat.index").exists());

    let server = start(&dir, false);
    let client = connect(&server).await;
    assert_eq!(ns_stat(&client, "start_type").await, "cold");
    verify(&client, &model, N + 500).await;
    drop(client);
    sigkill(&server);
    drop(server);

    // A stale snapshot (the files moved on since it was taken) is refused.
    std::fs::rename(&stale, dir.join("warm.dat.index")).expect("put stale snapshot back");
    let server = start(&dir, false);
    let client = connect(&server).await;
    assert_eq!(ns_stat(&client, "start_type").await, "cold");
    verify(&client, &model, N + 500).await;
    drop(client);
    stop(server);

    // cold-start-empty: a warm restart still serves the records...
    let server = start(&dir, true);
    let client = connect(&server).await;
    assert_eq!(ns_stat(&client, "start_type").await, "warm");
    verify(&client, &model, N + 500).await;
    drop(client);
    sigkill(&server);
    drop(server);
    // ...but a cold start ignores them, and they do not come back later.
    let server = start(&dir, true);
    let client = connect(&server).await;
    assert_eq!(ns_stat(&client, "start_type").await, "cold-empty");
    model.clear();
    write(&client, &mut model, 0..10, 5).await;
    verify(&client, &model, N + 500).await;
    tokio::time::sleep(Duration::from_millis(600)).await;
    drop(client);
    sigkill(&server);
    drop(server);
    let server = start(&dir, false);
    let client = connect(&server).await;
    assert_eq!(ns_stat(&client, "start_type").await, "cold");
    verify(&client, &model, N + 500).await;
    drop(client);
    drop(server);
    let _ = std::fs::remove_dir_all(&dir);
}
