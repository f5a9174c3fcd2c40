//! Truncate through the official Rust client: what was written before the truncate
//! returned is gone, what is written after it is kept, and other sets are untouched.

use aerie_testkit::ServerProcess;
use aerospike::{
    as_bin, as_key, AdminPolicy, Bins, Client, ClientPolicy, ReadPolicy, ResultCode, Value,
    WritePolicy,
};

const NS: &str = "test";

#[tokio::test]
async fn truncate_set_and_namespace() {
    let server = ServerProcess::builder()
        .bin(env!("CARGO_BIN_EXE_aerie"))
        .start();
    let client = Client::new(&ClientPolicy::default(), &server.hosts())
        .await
        .unwrap_or_else(|e| panic!("official client cannot connect to {}: {e}", server.hosts()));
    let wp = WritePolicy::default();
    let rp = ReadPolicy::default();
    let admin = AdminPolicy::default();

    let doomed: Vec<_> = (0..20).map(|i| as_key!(NS, "truncme", i)).collect();
    for k in &doomed {
        client
            .put(&wp, k, &[as_bin!("v", 1)])
            .await
            .expect("put doomed");
    }
    let survivor = as_key!(NS, "keepme", "s");
    client
        .put(&wp, &survivor, &[as_bin!("v", 2)])
        .await
        .expect("put survivor");

    client
        .truncate(&admin, NS, "truncme", 0)
        .await
        .expect("truncate set");
    for k in &doomed {
        let err = client
            .get(&rp, k, Bins::All)
            .await
            .expect_err("truncated record is gone");
        assert_eq!(
            err.server_result_code(),
            Some(ResultCode::KeyNotFoundError),
            "{err:?}"
        );
    }
    let rec = client
        .get(&rp, &survivor, Bins::All)
        .await
        .expect("other set untouched");
    assert_eq!(rec.bins.get("v"), Some(&Value::from(2)));

    // A write made after the truncate returned must survive it, including one in
    // the same millisecond as the cut-off (Aerospike truncates last-update times
    // strictly before it). Repeated because a same-millisecond write happens only
    // on some rounds.
    let k = &doomed[0];
    for round in 0..20_i64 {
        client
            .truncate(&admin, NS, "truncme", 0)
            .await
            .expect("truncate set");
        client
            .put(&wp, k, &[as_bin!("v", round)])
            .await
            .expect("put after truncate");
        let rec = client
            .get(&rp, k, Bins::All)
            .await
            .unwrap_or_else(|e| panic!("round {round}: write after truncate lost: {e}"));
        assert_eq!(rec.bins.get("v"), Some(&Value::from(round)));
        assert_eq!(
            rec.generation, 1,
            "round {round}: the truncated record was recreated"
        );
    }

    // An empty set name truncates the whole namespace.
    client
        .truncate(&admin, NS, "", 0)
        .await
        .expect("truncate namespace");
    for key in [k, &survivor] {
        let err = client
            .get(&rp, key, Bins::All)
            .await
            .expect_err("namespace truncate removes every set");
        assert_eq!(
            err.server_result_code(),
            Some(ResultCode::KeyNotFoundError),
            "{err:?}"
        );
    }

    client.close().await.expect("close");
}
