//! Index value sources through the official Rust client: a CDT context inside list and map
//! bins, an expression index, list indexes returning each record once for a range that
//! covers several of its elements, and set indexes created, listed and dropped.

use std::collections::HashSet;

use aerie_testkit::ServerProcess;
use aerospike::expressions::{int_bin, int_val, num_mul};
use aerospike::operations::cdt_context::{ctx_list_index, ctx_map_key};
use aerospike::query::{CollectionIndexType, Filter, PartitionFilter};
use aerospike::{
    as_bin, as_key, as_list, as_map, as_val, AdminPolicy, Bins, Client, ClientPolicy, IndexType,
    QueryPolicy, Statement, Task, Value, WritePolicy,
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

/// The `id` bins of the records a query returns; a record returned twice fails the test.
async fn ids(client: &Client, set: &str, filter: Filter) -> HashSet<i64> {
    let mut stmt = Statement::new(NS, set, Bins::All);
    stmt.set_filter(filter);
    let rs = client
        .query(&QueryPolicy::default(), PartitionFilter::all(), stmt)
        .await
        .expect("query");
    let mut out = HashSet::new();
    let mut s = rs.into_stream();
    while let Some(r) = s.next().await {
        let r = r.expect("record");
        let Some(Value::Int(i)) = r.bins.get("id") else {
            panic!("record without id: {:?}", r.bins);
        };
        assert!(out.insert(*i), "record {i} returned twice");
    }
    out
}

async fn wait(task: aerospike::IndexTask) {
    task.wait_till_complete(None).await.expect("index build");
}

#[tokio::test]
async fn context_expression_and_list_indexes() {
    let (_server, client) = server_and_client().await;
    let ap = AdminPolicy::default();
    let wp = WritePolicy::default();
    // id i: nested = [i, i * 10], attrs = {"age": 20 + i}, tags = [i, i + 1, i + 2]
    for i in 0..30i64 {
        let bins = [
            as_bin!("id", i),
            as_bin!("nested", as_list!(i, i * 10)),
            as_bin!("attrs", as_map!("age" => 20 + i)),
            as_bin!("tags", as_list!(i, i + 1, i + 2)),
        ];
        client
            .put(&wp, &as_key!(NS, "src", i), &bins)
            .await
            .expect("put");
    }
    let second = vec![ctx_list_index(1)];
    wait(
        client
            .create_index_on_bin(
                &ap,
                NS,
                "src",
                "nested",
                "src_nested1",
                IndexType::Numeric,
                CollectionIndexType::Default,
                Some(&second),
            )
            .await
            .expect("context index"),
    )
    .await;
    let age = vec![ctx_map_key(Value::from("age"))];
    wait(
        client
            .create_index_on_bin(
                &ap,
                NS,
                "src",
                "attrs",
                "src_age",
                IndexType::Numeric,
                CollectionIndexType::Default,
                Some(&age),
            )
            .await
            .expect("map-key context index"),
    )
    .await;
    let triple = num_mul(vec![int_bin("id"), int_val(3)]);
    wait(
        client
            .create_index_using_expression(
                &ap,
                NS,
                "src",
                "src_triple",
                IndexType::Numeric,
                CollectionIndexType::Default,
                &triple,
            )
            .await
            .expect("expression index"),
    )
    .await;
    wait(
        client
            .create_index_on_bin(
                &ap,
                NS,
                "src",
                "tags",
                "src_tags",
                IndexType::Numeric,
                CollectionIndexType::List,
                None,
            )
            .await
            .expect("list index"),
    )
    .await;

    // nested[1] = i * 10 in [50, 120] -> i in 5..=12.
    let got = ids(
        &client,
        "src",
        Filter::range("nested", 50, 120).context(second.clone()),
    )
    .await;
    assert_eq!(got, (5..=12).collect());
    // attrs["age"] = 20 + i == 33 -> i = 13.
    let got = ids(
        &client,
        "src",
        Filter::equal("attrs", 33).context(age.clone()),
    )
    .await;
    assert_eq!(got, HashSet::from([13]));
    // 3 * i in [30, 45] -> i in 10..=15.
    let got = ids(
        &client,
        "src",
        Filter::range("id", 30, 45).expression(triple.clone()),
    )
    .await;
    assert_eq!(got, (10..=15).collect());
    // tags contain a value in [4, 6]: i in 2..=6, each once though up to three tags match.
    let got = ids(
        &client,
        "src",
        Filter::contains_range("tags", 4, 6, CollectionIndexType::List),
    )
    .await;
    assert_eq!(got, (2..=6).collect());

    // Updates move records in and out of the context index.
    client
        .put(
            &wp,
            &as_key!(NS, "src", 0),
            &[as_bin!("nested", as_list!(0, 100))],
        )
        .await
        .expect("put");
    let got = ids(
        &client,
        "src",
        Filter::range("nested", 50, 120).context(second),
    )
    .await;
    assert_eq!(got, (5..=12).chain([0]).collect());

    // The listing shows each source.
    let list = client
        .info(&ap, &["sindex-list:namespace=test"])
        .await
        .expect("info");
    let list = list
        .get("sindex-list:namespace=test")
        .cloned()
        .unwrap_or_default();
    for name in ["src_nested1", "src_age", "src_triple", "src_tags"] {
        assert!(list.contains(&format!("indexname={name}:")), "{list}");
    }
    assert!(
        list.contains("indexname=src_triple:set=src:bin=NULL:"),
        "{list}"
    );
    assert!(
        !list.contains("context=NULL:exp=NULL:state=RW;ns=test:indexname=src_age"),
        "{list}"
    );

    // A query on a context no index has finds no index.
    let mut stmt = Statement::new(NS, "src", Bins::All);
    stmt.set_filter(Filter::range("nested", 0, 5).context(vec![ctx_list_index(0)]));
    let failed = match client
        .query(&QueryPolicy::default(), PartitionFilter::all(), stmt)
        .await
    {
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
    assert!(failed, "a query on an unindexed context must fail");
}

#[tokio::test]
async fn set_index_lifecycle() {
    let (_server, client) = server_and_client().await;
    let ap = AdminPolicy::default();
    for i in 0..10i64 {
        client
            .put(
                &WritePolicy::default(),
                &as_key!(NS, "sset", i),
                &[as_bin!("id", i)],
            )
            .await
            .expect("put");
    }
    for _ in 0..2 {
        wait(
            client
                .create_set_index(&ap, NS, "sset", "sset_idx")
                .await
                .expect("create"),
        )
        .await;
        let stat = "sindex-stat:namespace=test;indexname=sset_idx";
        let info = client
            .info(&ap, &[stat, "sindex-list:namespace=test"])
            .await
            .expect("info");
        let s = info.get(stat).cloned().unwrap_or_default();
        assert!(s.starts_with("entries=10;"), "{s}");
        let l = info
            .get("sindex-list:namespace=test")
            .cloned()
            .unwrap_or_default();
        assert!(l.contains("indexname=sset_idx:set=sset:bin=NULL:"), "{l}");
        assert!(l.contains(":indextype=set:"), "{l}");
        client
            .drop_index(&ap, NS, "sset", "sset_idx")
            .await
            .expect("drop")
            .wait_till_complete(None)
            .await
            .expect("dropped");
    }
    // A set index without a set is refused by the server too.
    let info = client
        .info(
            &ap,
            &["sindex-create:namespace=test;indexname=noset;indextype=set"],
        )
        .await
        .expect("info");
    assert!(info.values().all(|v| v.starts_with("ERROR:4")), "{info:?}");
}
