//! Scans and secondary-index queries through the official Rust client (`aerospike` 3.x):
//! whole-set scans with all, selected and no bins, partition-filter pagination with
//! max-records, the records-per-second throttle, index creation over existing data, and
//! integer/string queries kept exact across updates and deletes.

use std::collections::HashSet;
use std::time::{Duration, Instant};

use aerie_testkit::ServerProcess;
use aerospike::query::{CollectionIndexType, Filter, PartitionFilter};
use aerospike::{
    as_bin, as_key, AdminPolicy, Bins, Client, ClientPolicy, IndexType, QueryPolicy, Statement,
    Task, WritePolicy,
};
use futures::StreamExt;

const NS: &str = "test";

async fn server_and_client() -> (ServerProcess, Client) {
    let server = ServerProcess::builder()
        .bin(env!("CARGO_BIN_EXE_aerie"))
        .start();
    let client = Client::new(&ClientPolicy::default(), &server.hosts())
        .await
        .unwrap_or_else(|e| panic!("official client cannot connect to {}: {e}", server.hosts()));
    (server, client)
}

async fn fill(client: &Client, set: &str, n: i64) {
    let wp = WritePolicy::default();
    for i in 0..n {
        let key = as_key!(NS, set, i);
        let bins = [
            as_bin!("bin", i),
            as_bin!("bin2", "hello"),
            as_bin!("tag", format!("t{}", i % 7)),
        ];
        client.put(&wp, &key, &bins).await.expect("put");
    }
}

async fn count(
    client: &Client,
    qp: &QueryPolicy,
    pf: PartitionFilter,
    stmt: Statement,
) -> Vec<aerospike::Record> {
    let rs = client.query(qp, pf, stmt).await.expect("query");
    let mut out = Vec::new();
    let mut s = rs.into_stream();
    while let Some(r) = s.next().await {
        out.push(r.expect("record"));
    }
    out
}

#[tokio::test]
async fn scan_all_selected_none_and_paginate() {
    let (_server, client) = server_and_client().await;
    fill(&client, "scan1", 1000).await;
    fill(&client, "other", 10).await;
    let qp = QueryPolicy::default();

    let all = count(
        &client,
        &qp,
        PartitionFilter::all(),
        Statement::new(NS, "scan1", Bins::All),
    )
    .await;
    assert_eq!(all.len(), 1000);
    assert!(all.iter().all(|r| r.bins.len() == 3));

    let sel = Statement::new(NS, "scan1", Bins::Some(vec!["bin".into(), "bin2".into()]));
    let sel = count(&client, &qp, PartitionFilter::all(), sel).await;
    assert_eq!(sel.len(), 1000);
    assert!(sel.iter().all(|r| r.bins.len() == 2));

    let none = count(
        &client,
        &qp,
        PartitionFilter::all(),
        Statement::new(NS, "scan1", Bins::None),
    )
    .await;
    assert_eq!(none.len(), 1000);
    assert!(none.iter().all(|r| r.bins.is_empty()));

    let whole = count(
        &client,
        &qp,
        PartitionFilter::all(),
        Statement::new(NS, "", Bins::None),
    )
    .await;
    assert_eq!(whole.len(), 1010);

    // Pagination: max_records per round, resuming from the client's partition cursor.
    let qp = QueryPolicy {
        max_records: 333,
        ..Default::default()
    };
    let mut pf = PartitionFilter::all();
    let mut seen = HashSet::new();
    let mut rounds = 0;
    while !pf.done() {
        rounds += 1;
        assert!(rounds <= 20, "pagination did not converge");
        let rs = client
            .query(&qp, pf, Statement::new(NS, "scan1", Bins::None))
            .await
            .expect("query");
        let mut s = rs.clone().into_stream();
        while let Some(r) = s.next().await {
            let r = r.expect("record");
            assert!(
                seen.insert(r.key.expect("key").digest()),
                "record seen twice"
            );
        }
        pf = rs.partition_filter().expect("cursor");
    }
    assert_eq!(seen.len(), 1000);
}

#[tokio::test]
async fn scan_rps_throttles() {
    let (_server, client) = server_and_client().await;
    fill(&client, "rps", 300).await;
    let qp = QueryPolicy {
        records_per_second: 200,
        ..Default::default()
    };
    let started = Instant::now();
    let n = count(
        &client,
        &qp,
        PartitionFilter::all(),
        Statement::new(NS, "rps", Bins::All),
    )
    .await;
    assert_eq!(n.len(), 300);
    assert!(
        started.elapsed() >= Duration::from_millis(1400),
        "{:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn sindex_queries_stay_exact() {
    let (_server, client) = server_and_client().await;
    fill(&client, "q", 500).await;
    let ap = AdminPolicy::default();
    let task = client
        .create_index_on_bin(
            &ap,
            NS,
            "q",
            "bin",
            "q_bin",
            IndexType::Numeric,
            CollectionIndexType::Default,
            None,
        )
        .await
        .expect("create numeric index");
    task.wait_till_complete(None).await.expect("populate");
    let task = client
        .create_index_on_bin(
            &ap,
            NS,
            "q",
            "tag",
            "q_tag",
            IndexType::String,
            CollectionIndexType::Default,
            None,
        )
        .await
        .expect("create string index");
    task.wait_till_complete(None).await.expect("populate");
    let qp = QueryPolicy::default();

    let mut stmt = Statement::new(NS, "q", Bins::All);
    stmt.set_filter(Filter::range("bin", 100, 199));
    let got = count(&client, &qp, PartitionFilter::all(), stmt).await;
    assert_eq!(got.len(), 100);

    let mut stmt = Statement::new(NS, "q", Bins::All);
    stmt.set_filter(Filter::equal("tag", "t3"));
    let got = count(&client, &qp, PartitionFilter::all(), stmt).await;
    assert_eq!(got.len(), (0..500).filter(|i| i % 7 == 3).count());

    // Updates and deletes are reflected at once.
    let wp = WritePolicy::default();
    client
        .put(&wp, &as_key!(NS, "q", 150), &[as_bin!("bin", 10_000)])
        .await
        .expect("put");
    client
        .delete(&wp, &as_key!(NS, "q", 151))
        .await
        .expect("delete");
    let mut stmt = Statement::new(NS, "q", Bins::All);
    stmt.set_filter(Filter::range("bin", 100, 199));
    assert_eq!(
        count(&client, &qp, PartitionFilter::all(), stmt)
            .await
            .len(),
        98
    );
    let mut stmt = Statement::new(NS, "q", Bins::All);
    stmt.set_filter(Filter::equal("bin", 10_000));
    assert_eq!(
        count(&client, &qp, PartitionFilter::all(), stmt)
            .await
            .len(),
        1
    );

    // No index on the bin: INDEX_NOT_FOUND.
    let mut stmt = Statement::new(NS, "q", Bins::All);
    stmt.set_filter(Filter::equal("bin2", "hello"));
    let rs = client.query(&qp, PartitionFilter::all(), stmt).await;
    let failed = match rs {
        Err(_) => true,
        Ok(rs) => {
            let mut s = rs.into_stream();
            let mut err = false;
            while let Some(r) = s.next().await {
                err |= r.is_err();
            }
            err
        }
    };
    assert!(failed, "query without an index must fail");

    client
        .drop_index(&ap, NS, "q", "q_bin")
        .await
        .expect("drop")
        .wait_till_complete(None)
        .await
        .expect("dropped");
}
