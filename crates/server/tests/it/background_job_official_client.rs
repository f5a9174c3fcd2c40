//! Background jobs through the official Rust client: `query_operate` over an index range and
//! over a whole set (scan) with a filter expression, polled to completion through the
//! client's task (`query-show`), with the records and the job's counters checked; abort and
//! unknown job ids through the info commands.

use std::time::Duration;

use aerie_testkit::ServerProcess;
use aerospike::expressions::{eq, int_bin, int_val};
use aerospike::operations;
use aerospike::query::{CollectionIndexType, Filter};
use aerospike::{
    as_bin, as_key, AdminPolicy, Bins, Client, ClientPolicy, IndexType, ReadPolicy, Statement,
    Task, Value, WritePolicy,
};

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
        let bins = [as_bin!("bin", i), as_bin!("parity", i % 2)];
        client
            .put(&wp, &as_key!(NS, set, i), &bins)
            .await
            .expect("put");
    }
}

async fn bin(client: &Client, set: &str, i: i64, name: &str) -> Option<Value> {
    let rec = client
        .get(&ReadPolicy::default(), &as_key!(NS, set, i), Bins::All)
        .await
        .expect("get");
    rec.bins.get(name).cloned()
}

#[tokio::test]
async fn query_operate_over_an_index_range() {
    let (_server, client) = server_and_client().await;
    fill(&client, "bgq", 300).await;
    client
        .create_index_on_bin(
            &AdminPolicy::default(),
            NS,
            "bgq",
            "bin",
            "bgq_bin",
            IndexType::Numeric,
            CollectionIndexType::Default,
            None,
        )
        .await
        .expect("index")
        .wait_till_complete(None)
        .await
        .expect("populate");

    let mut stmt = Statement::new(NS, "bgq", Bins::All);
    stmt.set_filter(Filter::range("bin", 0, 99));
    stmt.set_operations([operations::add(&as_bin!("bin", 1000))]);
    let task = client
        .query_operate(&WritePolicy::default(), stmt)
        .await
        .expect("query_operate");
    task.wait_till_complete(Some(Duration::from_secs(30)))
        .await
        .expect("job completes");
    let progress = task.progress().await.expect("progress");
    assert!(progress.complete);
    assert_eq!(progress.succeeded, 100);
    assert_eq!(progress.failed, 0);
    for i in 0..300i64 {
        let want = if i < 100 { i + 1000 } else { i };
        assert_eq!(
            bin(&client, "bgq", i, "bin").await,
            Some(Value::Int(want)),
            "record {i}"
        );
    }

    // The job is listed with its index, and an unknown id reads as finished.
    let show = format!("query-show:id={}", task.task_id());
    let info = client
        .info(
            &AdminPolicy::default(),
            &[&show, "query-show:id=12345", "query-abort:id=12345"],
        )
        .await
        .expect("info");
    let line = info.get(&show).cloned().unwrap_or_default();
    assert!(line.contains("status=done(ok)"), "{line}");
    assert!(line.contains(":sindex-name=bgq_bin"), "{line}");
    assert!(line.contains(":recs-succeeded=100:"), "{line}");
    assert!(info
        .get("query-show:id=12345")
        .is_some_and(|v| v.starts_with("ERROR:2")));
    assert!(info
        .get("query-abort:id=12345")
        .is_some_and(|v| v.starts_with("ERROR:2")));
}

#[tokio::test]
async fn scan_operate_with_a_filter_expression() {
    let (_server, client) = server_and_client().await;
    fill(&client, "bgs", 200).await;
    fill(&client, "bgs_other", 20).await;

    let mut wp = WritePolicy::default();
    wp.base_policy.filter_expression = Some(eq(int_bin("parity"), int_val(1)));
    let mut stmt = Statement::new(NS, "bgs", Bins::All);
    stmt.set_operations([operations::put(&as_bin!("marked", "yes"))]);
    let task = client
        .query_operate(&wp, stmt)
        .await
        .expect("query_operate");
    task.wait_till_complete(Some(Duration::from_secs(30)))
        .await
        .expect("job completes");
    let progress = task.progress().await.expect("progress");
    assert_eq!(progress.succeeded, 100);
    assert_eq!(progress.filtered_bins, 100);
    for i in 0..200i64 {
        let want = (i % 2 == 1).then(|| Value::from("yes"));
        assert_eq!(bin(&client, "bgs", i, "marked").await, want, "record {i}");
    }
    // Other sets are untouched.
    for i in 0..20i64 {
        assert_eq!(bin(&client, "bgs_other", i, "marked").await, None);
    }

    // A namespace-wide job (no set) writes every record and leaves each in its own set.
    let stmt = {
        let mut s = Statement::new(NS, "", Bins::All);
        s.set_operations([operations::put(&as_bin!("all", 1))]);
        s
    };
    let task = client
        .query_operate(&WritePolicy::default(), stmt)
        .await
        .expect("query_operate");
    task.wait_till_complete(Some(Duration::from_secs(30)))
        .await
        .expect("job completes");
    assert_eq!(task.progress().await.expect("progress").succeeded, 220);
    for (set, n) in [("bgs", 200usize), ("bgs_other", 20)] {
        let rs = client
            .query(
                &aerospike::QueryPolicy::default(),
                aerospike::query::PartitionFilter::all(),
                Statement::new(NS, set, Bins::All),
            )
            .await
            .expect("scan");
        let mut s = rs.into_stream();
        let mut count = 0;
        while let Some(r) = futures::StreamExt::next(&mut s).await {
            let r = r.expect("record");
            assert_eq!(r.bins.get("all"), Some(&Value::Int(1)));
            count += 1;
        }
        assert_eq!(count, n, "set {set} after a namespace-wide job");
    }
}
