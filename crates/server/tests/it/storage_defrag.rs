//! Defragmentation: keys written once and never again pin their write blocks at one third
//! live while the other keys are overwritten many times the file's size over. Without
//! defragmentation the file fills up (OUT_OF_SPACE); with it, the sparse blocks are rewritten
//! and freed, writes keep fitting, and after a restart every key has its last value.

use std::time::Duration;

use aerie_testkit::ServerProcess;
use aerospike::{
    as_bin, as_key, Bins, Client, ClientPolicy, ReadPolicy, ResultCode, Value, WritePolicy,
};

const KEYS: i64 = 1200;
const ROUNDS: i64 = 10;

fn config(dir: &std::path::Path) -> String {
    format!(
        "namespace test {{\n  nsup-period 60\n  storage-engine device {{\n    file {}/d.dat\n    filesize 4M\n    write-block-size 128K\n    defrag-lwm-pct 50\n  }}\n}}\n",
        dir.display()
    )
}

/// Puts, waiting out OUT_OF_SPACE while defragmentation frees blocks (bounded: 5 s).
async fn put(client: &Client, k: i64, v: i64, payload: &str) {
    let bins = [as_bin!("v", v), as_bin!("p", payload.to_owned())];
    for _ in 0..100 {
        match client
            .put(&WritePolicy::default(), &as_key!("test", "d", k), &bins)
            .await
        {
            Ok(()) => return,
            Err(e) if e.server_result_code() == Some(ResultCode::ServerMemError) => {
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            Err(e) => panic!("key {k}: {e}"),
        }
    }
    panic!("key {k}: storage stayed full for 5 s: defragmentation did not free space");
}

#[tokio::test]
async fn sparse_blocks_are_rewritten_and_freed() {
    let dir = std::env::temp_dir().join(format!("aerie-defrag-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("temp dir");
    let payload = "d".repeat(2000);
    {
        let mut server = ServerProcess::builder()
            .bin(env!("CARGO_BIN_EXE_aerie"))
            .config(config(&dir))
            .start();
        let client = Client::new(&ClientPolicy::default(), &server.hosts())
            .await
            .expect("connect");
        // ~2.4 MB in a file with 3.9 MB of write blocks.
        for k in 0..KEYS {
            put(&client, k, k, &payload).await;
        }
        // Two keys in three are overwritten ten times (~16 MB); the third stays put.
        for round in 1..=ROUNDS {
            for k in (0..KEYS).filter(|k| k % 3 != 0) {
                put(&client, k, round * 10_000 + k, &payload).await;
            }
        }
        // A clean stop writes out the last partly filled block.
        server
            .terminate(Duration::from_secs(10))
            .expect("clean stop");
    }
    let server = ServerProcess::builder()
        .bin(env!("CARGO_BIN_EXE_aerie"))
        .config(config(&dir))
        .start();
    let client = Client::new(&ClientPolicy::default(), &server.hosts())
        .await
        .expect("connect after restart");
    for k in 0..KEYS {
        let rec = client
            .get(&ReadPolicy::default(), &as_key!("test", "d", k), Bins::All)
            .await
            .expect("get");
        let want = if k % 3 == 0 { k } else { ROUNDS * 10_000 + k };
        assert_eq!(rec.bins.get("v"), Some(&Value::Int(want)), "key {k}");
    }
    let _ = std::fs::remove_dir_all(&dir);
}
