//! Loss bound without `commit-to-device`: acknowledged writes sit in the in-memory write buffer
//! until it fills or the `flush-max-ms` timer writes it out. Writers load the server; it is
//! killed with SIGKILL (the process dies, the kernel keeps what was written to the file) and
//! restarted, three times. Checked bound: every write acknowledged more than
//! `FLUSH_MAX_MS + MARGIN_MS` (100 + 400 = 500 ms) before the kill is present after the restart,
//! with its value or a later one. The margin covers the timer's scheduling and the flush itself
//! on a loaded machine; writes acknowledged within the bound may be lost.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use aerie_testkit::ServerProcess;
use aerospike::{as_bin, as_key, Bins, Client, ClientPolicy, ReadPolicy, Value, WritePolicy};

const NS: &str = "test";
const SET: &str = "loss";
const FLUSH_MAX_MS: u64 = 100;
const MARGIN_MS: u64 = 400;
const WRITERS: i64 = 4;
const KEYS_PER_WRITER: i64 = 250;
const CYCLES: i64 = 3;

fn start(dir: &std::path::Path) -> ServerProcess {
    let config = format!(
        "namespace test {{\n  nsup-period 60\n  storage-engine device {{\n    file {}/loss.dat\n    filesize 64M\n    write-block-size 1M\n    flush-max-ms {FLUSH_MAX_MS}\n  }}\n}}\n",
        dir.display()
    );
    ServerProcess::builder()
        .bin(env!("CARGO_BIN_EXE_aerie"))
        .config(config)
        .start()
}

fn sigkill(server: &ServerProcess) {
    if let Some(pid) = server.pid() {
        let _ = std::process::Command::new("kill")
            .args(["-9", &pid.to_string()])
            .status();
    }
}

async fn connect(server: &ServerProcess) -> Client {
    let policy = ClientPolicy {
        timeout: 5_000,
        ..ClientPolicy::default()
    };
    Client::new(&policy, &server.hosts())
        .await
        .unwrap_or_else(|e| panic!("connect: {e}"))
}

/// (key, value, when acknowledged).
type Ack = (i64, i64, Instant);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn acknowledged_writes_older_than_the_flush_bound_survive_sigkill() {
    let dir = std::env::temp_dir().join(format!("aerie-loss-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("temp dir: {e}"));
    let bound = Duration::from_millis(FLUSH_MAX_MS + MARGIN_MS);
    println!("checked bound: writes acknowledged more than {bound:?} before the kill");
    // Per key, the value every later read must reach (values per key only grow).
    let mut must_have: HashMap<i64, i64> = HashMap::new();
    for cycle in 0..CYCLES {
        let server = start(&dir);
        let client = Arc::new(connect(&server).await);
        let rp = ReadPolicy::default();
        for (&k, &v) in &must_have {
            let got = client
                .get(&rp, &as_key!(NS, SET, k), Bins::All)
                .await
                .unwrap_or_else(|e| panic!("cycle {cycle}: key {k} lost (acked {v}): {e}"));
            match got.bins.get("v") {
                Some(Value::Int(g)) => assert!(
                    *g >= v,
                    "cycle {cycle}: key {k} holds {g}, older than {v} acknowledged before the bound"
                ),
                other => panic!("cycle {cycle}: key {k}: {other:?}"),
            }
        }
        // Load, then kill at a moment within the run.
        let acks: Arc<Mutex<Vec<Ack>>> = Arc::new(Mutex::new(Vec::new()));
        let stop_at = Instant::now() + Duration::from_millis(1500 + (cycle as u64 * 337) % 700);
        let mut tasks = Vec::new();
        for w in 0..WRITERS {
            let client = client.clone();
            let acks = acks.clone();
            tasks.push(tokio::spawn(async move {
                let wp = WritePolicy::default();
                // Bounded: at most this many writes per writer per cycle.
                for n in 0..200_000i64 {
                    if Instant::now() >= stop_at + Duration::from_secs(5) {
                        break;
                    }
                    let k = w * KEYS_PER_WRITER + n % KEYS_PER_WRITER;
                    let v = cycle * 1_000_000_000 + n;
                    match client
                        .put(&wp, &as_key!(NS, SET, k), &[as_bin!("v", v)])
                        .await
                    {
                        Ok(()) => {
                            let now = Instant::now();
                            if let Ok(mut a) = acks.lock() {
                                a.push((k, v, now));
                            }
                        }
                        Err(_) => break, // the server is gone
                    }
                }
            }));
        }
        tokio::time::sleep_until(stop_at.into()).await;
        let killed_at = Instant::now();
        sigkill(&server);
        for t in tasks {
            let _ = t.await;
        }
        drop(client);
        drop(server);
        let acks = acks.lock().map(|a| a.clone()).unwrap_or_default();
        let cutoff = killed_at - bound;
        let mut checked = 0usize;
        for &(k, v, at) in &acks {
            if at < cutoff {
                checked += 1;
                let e = must_have.entry(k).or_insert(v);
                *e = (*e).max(v);
            }
        }
        println!(
            "cycle {cycle}: {} writes acknowledged, {checked} of them before the bound",
            acks.len()
        );
        assert!(checked > 0, "cycle {cycle}: no write fell before the bound");
    }
    // Final check after the last kill.
    let server = start(&dir);
    let client = connect(&server).await;
    let rp = ReadPolicy::default();
    for (&k, &v) in &must_have {
        let got = client
            .get(&rp, &as_key!(NS, SET, k), Bins::All)
            .await
            .unwrap_or_else(|e| panic!("final: key {k} lost (acked {v}): {e}"));
        match got.bins.get("v") {
            Some(Value::Int(g)) => assert!(*g >= v, "final: key {k} holds {g}, acked {v}"),
            other => panic!("final: key {k}: {other:?}"),
        }
    }
    drop(client);
    drop(server);
    let _ = std::fs::remove_dir_all(&dir);
}
