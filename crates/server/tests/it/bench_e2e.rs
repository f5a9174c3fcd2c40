//! `aerie bench` end to end: an insert stage, a read/update stage and a batch-read stage
//! against the real server on a free loopback port, each a short bounded run, checked
//! through the bench's JSON summary and, for the inserted keys, through the official client.

use std::io::Read as _;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use aerie_testkit::ServerProcess;
use aerospike::{as_key, Bins, Client, ClientPolicy, ReadPolicy, Value};

const NS: &str = "test";
const SET: &str = "bench";
const KEYS: u64 = 2000;
/// Wall-clock bound on one bench invocation; the runs below take a few seconds.
const RUN_LIMIT: Duration = Duration::from_secs(120);

/// Runs `aerie bench ARGS --json` and returns its stdout (the JSON summary).
fn bench(server: &ServerProcess, args: &[&str]) -> String {
    let (status, out, err) = run_bench(server, args);
    assert!(
        status.success(),
        "aerie bench {args:?} failed ({status}):\nstdout: {out}\nstderr: {err}"
    );
    assert!(
        err.contains(" INFO write(tps="),
        "per-second lines go to stderr with --json: {err}"
    );
    out
}

/// Runs `aerie bench ARGS --json`: its exit status, stdout and stderr.
fn run_bench(server: &ServerProcess, args: &[&str]) -> (std::process::ExitStatus, String, String) {
    let host = server.hosts();
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_aerie"));
    cmd.arg("bench")
        .args(["-h", host.as_str(), "-n", NS, "-s", SET, "--json"])
        .args(args);
    let mut child = cmd
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("spawn aerie bench: {e}"));
    let started = Instant::now();
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break status,
            Ok(None) if started.elapsed() > RUN_LIMIT => {
                let _ = child.kill();
                panic!("aerie bench {args:?} ran past {RUN_LIMIT:?}");
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(50)),
            Err(e) => panic!("wait for aerie bench: {e}"),
        }
    };
    let mut out = String::new();
    let mut err = String::new();
    if let Some(mut s) = child.stdout.take() {
        let _ = s.read_to_string(&mut out);
    }
    if let Some(mut s) = child.stderr.take() {
        let _ = s.read_to_string(&mut err);
    }
    (status, out.trim().to_owned(), err)
}

/// The number after `"key":` in the first object that follows `anchor` in `json`.
fn number(json: &str, anchor: &str, key: &str) -> f64 {
    let at = json
        .find(anchor)
        .unwrap_or_else(|| panic!("no {anchor} in {json}"));
    let rest = &json[at..];
    let pat = format!("\"{key}\":");
    let start = rest
        .find(&pat)
        .unwrap_or_else(|| panic!("no {key} after {anchor} in {json}"))
        + pat.len();
    let digits: String = rest[start..]
        .chars()
        .take_while(|c| c.is_ascii_digit() || *c == '.' || *c == '-')
        .collect();
    digits
        .parse()
        .unwrap_or_else(|_| panic!("bad number for {key}: {digits}"))
}

fn assert_clean(json: &str) {
    assert!(
        json.starts_with("{\"stages\":[") && json.contains("],\"config\":{"),
        "{json}"
    );
    assert_eq!(number(json, "\"total\":", "errors"), 0.0, "{json}");
    assert_eq!(number(json, "\"total\":", "timeouts"), 0.0, "{json}");
    assert_eq!(
        number(json, "\"connection_errors\":", "connection_errors"),
        0.0,
        "{json}"
    );
    assert!(
        json.contains("\"result_codes\":{}"),
        "no server error codes: {json}"
    );
    assert!(number(json, "\"total\":", "tps") > 0.0, "{json}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn insert_then_read_update_then_batch_reads() {
    let server = ServerProcess::builder()
        .bin(env!("CARGO_BIN_EXE_aerie"))
        .start();

    // Insert: every key of the range exactly once, 100-character strings plus an integer bin.
    let keys = KEYS.to_string();
    let json = bench(
        &server,
        &[
            "-k", &keys, "-K", "0", "-o", "S:100,I", "-w", "I", "-z", "4",
        ],
    );
    assert_clean(&json);
    assert!(json.contains("\"workload\":\"I\""), "{json}");
    assert_eq!(number(&json, "\"total\":", "count"), KEYS as f64, "{json}");

    // The inserted records are really there, with the digests the official client computes.
    let client = Client::new(&ClientPolicy::default(), &server.hosts())
        .await
        .unwrap_or_else(|e| panic!("official client cannot connect: {e}"));
    let rp = ReadPolicy::default();
    for k in [0_i64, 1, 999, KEYS as i64 - 1] {
        let rec = client
            .get(&rp, &as_key!(NS, SET, k), Bins::All)
            .await
            .unwrap_or_else(|e| panic!("key {k} inserted by the bench: {e}"));
        match rec.bins.get("testbin") {
            Some(Value::String(s)) => assert_eq!(s.len(), 100, "key {k}: {s:?}"),
            other => panic!("key {k}: testbin is {other:?}"),
        }
        assert!(
            matches!(rec.bins.get("testbin_2"), Some(Value::Int(_))),
            "key {k}: {:?}",
            rec.bins
        );
    }
    assert!(
        !client
            .exists(&rp, &as_key!(NS, SET, KEYS as i64))
            .await
            .unwrap_or(true),
        "the insert stage stops at the end of its range"
    );

    // Read/update over the inserted range for a bounded time: every read finds its record.
    let json = bench(
        &server,
        &[
            "-k",
            &keys,
            "-o",
            "S:100,I",
            "-w",
            "RU,80",
            "--duration",
            "2",
            "-z",
            "4",
        ],
    );
    assert_clean(&json);
    assert!(json.contains("\"workload\":\"RU,80\""), "{json}");
    assert!(number(&json, "{\"name\":\"read\"", "count") > 0.0, "{json}");
    assert!(
        number(&json, "{\"name\":\"write\"", "count") > 0.0,
        "{json}"
    );
    assert_eq!(number(&json, "\"total\":", "not_found"), 0.0, "{json}");
    assert!(
        number(&json, "\"total\":", "p50") > 0.0,
        "latencies are measured: {json}"
    );

    // Batch reads of 10 keys, bounded by a transaction count and a rate cap.
    let json = bench(
        &server,
        &[
            "-k",
            &keys,
            "-w",
            "RU,100",
            "--batch-size",
            "10",
            "--count",
            "200",
            "-g",
            "2000",
            "-z",
            "2",
        ],
    );
    assert_clean(&json);
    assert_eq!(
        number(&json, "{\"name\":\"batch\"", "count"),
        200.0,
        "{json}"
    );
    assert_eq!(
        number(&json, "{\"name\":\"batch\"", "keys"),
        2000.0,
        "{json}"
    );
    assert_eq!(
        number(&json, "{\"name\":\"batch\"", "not_found"),
        0.0,
        "{json}"
    );
    // 200 transactions at most 2000/s: at least ~0.1 s.
    assert!(
        number(&json, "{\"workload\"", "duration_secs") >= 0.09,
        "{json}"
    );

    // Filtered reads (--read-filter): the filter holds for the bench's own records, so every
    // read is answered; declared as integers, the same records are all FILTERED_OUT (27).
    let json = bench(
        &server,
        &[
            "-k",
            &keys,
            "-o",
            "S:100,I",
            "-w",
            "RU,100",
            "--read-filter",
            "--count",
            "500",
            "-z",
            "2",
        ],
    );
    assert_clean(&json);
    assert!(json.contains("\"read_filter\":true"), "{json}");
    assert_eq!(
        number(&json, "{\"name\":\"read\"", "count"),
        500.0,
        "{json}"
    );
    let (status, json, _) = run_bench(
        &server,
        &[
            "-k",
            &keys,
            "-o",
            "I",
            "-w",
            "RU,100",
            "--read-filter",
            "--count",
            "100",
            "-z",
            "1",
        ],
    );
    assert!(
        !status.success(),
        "a run where every transaction failed exits non-zero"
    );
    assert!(json.contains("\"result_codes\":{\"27\":100}"), "{json}");

    client
        .close()
        .await
        .unwrap_or_else(|e| panic!("close: {e}"));
}

#[test]
fn unknown_namespace_is_refused_before_any_load() {
    let server = ServerProcess::builder()
        .bin(env!("CARGO_BIN_EXE_aerie"))
        .start();
    let out = Command::new(env!("CARGO_BIN_EXE_aerie"))
        .args([
            "bench",
            "-h",
            &server.hosts(),
            "-n",
            "nope",
            "-k",
            "10",
            "--count",
            "10",
        ])
        .output()
        .unwrap_or_else(|e| panic!("run aerie bench: {e}"));
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("no namespace 'nope'") && err.contains("test"),
        "{err}"
    );
}
