//! The `logging` stanza (per-sink Aerospike contexts and levels, console and file sinks),
//! `ticker-interval`, `microsecond-histograms` and the `{ns}-batch-sub-*` histograms, against
//! the real binary with a configuration file.

use std::time::{Duration, Instant};

use aerie_testkit::{wire, ServerProcess};
use aerospike::{
    as_bin, as_key, BatchOperation, BatchPolicy, BatchReadPolicy, Bins, Client, ClientPolicy,
    WritePolicy,
};

const TIMEOUT: Duration = Duration::from_secs(5);

const CONFIG: &str = "\
service {
    ticker-interval 1
    microsecond-histograms true
}
logging {
    file {work_dir}/ticker-only.log {
        context any critical
        context info info
    }
    file {work_dir}/no-ticker.log {
        context any info
        context info warning
    }
    console {
        context any warning
    }
}
namespace test {
    storage-engine memory
}
";

/// Waits until `cond` holds for the file at `path`, up to `limit`.
fn wait_for_file(path: &std::path::Path, limit: Duration, cond: impl Fn(&str) -> bool) -> String {
    let started = Instant::now();
    loop {
        let text = std::fs::read_to_string(path).unwrap_or_default();
        if cond(&text) || started.elapsed() > limit {
            return text;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sinks_contexts_ticker_interval_and_usec_histograms() {
    let server = ServerProcess::builder()
        .bin(env!("CARGO_BIN_EXE_aerie"))
        .config(CONFIG)
        .start();
    let client = Client::new(&ClientPolicy::default(), &server.hosts())
        .await
        .unwrap_or_else(|e| panic!("official client cannot connect: {e}"));
    let wp = WritePolicy::default();
    for i in 0..20 {
        client
            .put(&wp, &as_key!("test", "log", i), &[as_bin!("a", i)])
            .await
            .unwrap_or_else(|e| panic!("put {i}: {e}"));
    }
    let brp = BatchReadPolicy::default();
    let mut ops: Vec<BatchOperation> = (0..20)
        .map(|i| BatchOperation::read(&brp, as_key!("test", "log", i), Bins::All))
        .collect();
    client
        .batch(&BatchPolicy::default(), &mut ops)
        .await
        .unwrap_or_else(|e| panic!("batch: {e}"));

    // ticker-interval 1: ticker blocks come every second into the sink whose `info` context
    // is at info, and never into the one that lowered `info` to warning.
    let ticker_only = server.work_dir().join("ticker-only.log");
    let text = wait_for_file(&ticker_only, Duration::from_secs(10), |t| {
        t.matches("NODE-ID").count() >= 3
    });
    assert!(text.matches("NODE-ID").count() >= 3, "{text}");
    assert!(
        text.contains("histogram dump: {test}-write (20 total) usec"),
        "the ticker dumps histograms in the configured scale: {text}"
    );
    assert!(
        !text.contains("aerie ready") && !text.contains("aerie::service"),
        "other contexts stay at critical in this sink: {text}"
    );
    let no_ticker = std::fs::read_to_string(server.work_dir().join("no-ticker.log"))
        .unwrap_or_else(|e| panic!("no-ticker.log: {e}"));
    assert!(!no_ticker.contains("NODE-ID"), "{no_ticker}");
    assert!(
        no_ticker.contains("aerie::service"),
        "the service's startup line is at info: {no_ticker}"
    );
    // The console sink is at warning: no ticker there either.
    let stderr = std::fs::read_to_string(server.stderr_path()).unwrap_or_default();
    assert!(!stderr.contains("NODE-ID"), "{stderr}");

    // microsecond-histograms: `latencies:` slices are in usec; the batch rows were timed
    // into {test}-batch-sub-read. Slices close on ticks, so wait for one with the batch in it.
    let started = Instant::now();
    let lat = loop {
        let lat = wire::info(server.addr(), &["latencies:"], TIMEOUT)
            .unwrap_or_else(|e| panic!("latencies: {e}"));
        if lat.contains("{test}-batch-sub-read:usec") || started.elapsed() > TIMEOUT {
            break lat;
        }
        // Keep some rows flowing so that the next slice has them.
        let mut ops: Vec<BatchOperation> = (0..5)
            .map(|i| BatchOperation::read(&brp, as_key!("test", "log", i), Bins::All))
            .collect();
        let _ = client.batch(&BatchPolicy::default(), &mut ops).await;
        tokio::time::sleep(Duration::from_millis(300)).await;
    };
    assert!(lat.contains("{test}-batch-sub-read:usec,"), "{lat}");
    assert!(lat.contains("{test}-batch-sub-write:"), "{lat}");
    assert!(lat.contains("{test}-batch-sub-udf:"), "{lat}");
    assert!(!lat.contains("msec"), "{lat}");
    let one = wire::info(
        server.addr(),
        &["latencies:hist={test}-batch-sub-read"],
        TIMEOUT,
    )
    .unwrap_or_else(|e| panic!("latencies one: {e}"));
    assert!(one.contains("{test}-batch-sub-read:usec,"), "{one}");
    let _ = client.close().await;
}

#[test]
fn an_unknown_log_context_stops_startup() {
    let r = ServerProcess::builder()
        .bin(env!("CARGO_BIN_EXE_aerie"))
        .config("logging {\n    console {\n        context frobnicate info\n    }\n}\nnamespace test {\n    storage-engine memory\n}\n")
        .ready_timeout(Duration::from_secs(5))
        .try_start();
    match r {
        Ok(_) => panic!("a server with an unknown log context started"),
        Err(e) => assert!(e.contains("unknown log context 'frobnicate'"), "{e}"),
    }
}
