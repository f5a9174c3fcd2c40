//! Scans never block writes for long: while a full scan of 1,000,000 records streams to the
//! official client, a writer keeps putting records and every put must complete within
//! `WRITE_BOUND` (a generous bound: a scan holds a partition lock for one chunk of at most
//! 256 records, i.e. microseconds; the bound leaves room for a busy 2-core CI machine).
//!
//! The records are loaded through batch writes of 5,000 rows (the bulk path), so loading
//! takes seconds rather than the minutes single puts would.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use aerie_testkit::ServerProcess;
use aerospike::operations;
use aerospike::query::PartitionFilter;
use aerospike::{
    as_bin, as_key, BatchOperation, BatchPolicy, BatchWritePolicy, Bins, Client, ClientPolicy,
    QueryPolicy, Statement, WritePolicy,
};
use futures::StreamExt;

const NS: &str = "test";
const RECORDS: i64 = 1_000_000;
const BATCH: i64 = 5_000;
/// Longest any single put may take while the scan runs.
const WRITE_BOUND: Duration = Duration::from_millis(500);
/// Most puts the writer issues (the loop stops earlier when the scan ends).
const MAX_WRITES: u64 = 1_000_000;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn writes_complete_within_bound_during_a_million_record_scan() {
    let server = ServerProcess::builder()
        .bin(env!("CARGO_BIN_EXE_aerie"))
        .start();
    let client = Arc::new(
        Client::new(&ClientPolicy::default(), &server.hosts())
            .await
            .unwrap_or_else(|e| panic!("official client cannot connect: {e}")),
    );

    // Bulk load: batch writes, a few in flight.
    let load_started = Instant::now();
    let mut loaders = Vec::new();
    for part in 0..4i64 {
        let client = client.clone();
        loaders.push(tokio::spawn(async move {
            let bwp = BatchWritePolicy::default();
            let bp = BatchPolicy::default();
            let mut first = part * BATCH;
            while first < RECORDS {
                let mut ops: Vec<BatchOperation> = (first..(first + BATCH).min(RECORDS))
                    .map(|i| {
                        BatchOperation::write(
                            &bwp,
                            as_key!(NS, "big", i),
                            vec![operations::put(&as_bin!("v", i))],
                        )
                    })
                    .collect();
                client.batch(&bp, &mut ops).await.expect("batch write");
                for o in &ops {
                    let rc = o.result_code();
                    assert!(
                        rc.is_none_or(|rc| rc == aerospike::ResultCode::Ok),
                        "batch row: {rc:?}"
                    );
                }
                first += 4 * BATCH;
            }
        }));
    }
    for l in loaders {
        l.await.expect("loader");
    }
    println!("loaded {RECORDS} records in {:?}", load_started.elapsed());

    // The scan, consumed as fast as the client can.
    let scanning = Arc::new(AtomicBool::new(true));
    let scan = {
        let client = client.clone();
        let scanning = scanning.clone();
        tokio::spawn(async move {
            let started = Instant::now();
            let rs = client
                .query(
                    &QueryPolicy::default(),
                    PartitionFilter::all(),
                    Statement::new(NS, "big", Bins::All),
                )
                .await
                .expect("scan");
            let mut n = 0u64;
            let mut s = rs.into_stream();
            while let Some(r) = s.next().await {
                r.expect("record");
                n += 1;
            }
            scanning.store(false, Ordering::SeqCst);
            (n, started.elapsed())
        })
    };

    // The writer: puts into another set while the scan runs.
    let wp = WritePolicy::default();
    let mut writes = 0u64;
    let mut worst = Duration::ZERO;
    while scanning.load(Ordering::SeqCst) && writes < MAX_WRITES {
        let t = Instant::now();
        client
            .put(
                &wp,
                &as_key!(NS, "w", writes as i64),
                &[as_bin!("x", writes as i64)],
            )
            .await
            .expect("put during scan");
        worst = worst.max(t.elapsed());
        writes += 1;
    }
    let (scanned, scan_time) = scan.await.expect("scan task");
    println!(
        "scan of {scanned} records took {scan_time:?}; {writes} puts meanwhile, slowest {worst:?}"
    );
    assert_eq!(scanned, RECORDS as u64);
    assert!(
        writes >= 100,
        "only {writes} puts completed during the scan"
    );
    assert!(
        worst <= WRITE_BOUND,
        "a put took {worst:?} during the scan (bound {WRITE_BOUND:?})"
    );
    drop(server);
}
