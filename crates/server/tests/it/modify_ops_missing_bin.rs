//! Scalar modify ops (add, append, prepend) follow aerospike-server's particle.c: on a missing
//! bin they create it from the op's value whatever its type; on a live bin the bin's type
//! decides and a value of another type is INCOMPATIBLE_TYPE (12), leaving the bin unchanged.

use aerie_testkit::ServerProcess;
use aerospike::{
    as_bin, as_key, Bins, Client, ClientPolicy, ReadPolicy, RecordExistsAction, ResultCode, Value,
    WritePolicy,
};

#[tokio::test]
async fn modify_ops_create_missing_bins_and_reject_other_types() {
    let server = ServerProcess::builder()
        .bin(env!("CARGO_BIN_EXE_aerie"))
        .start();
    let client = Client::new(&ClientPolicy::default(), &server.hosts())
        .await
        .unwrap_or_else(|e| panic!("official client cannot connect to {}: {e}", server.hosts()));
    let wp = WritePolicy::default();
    let rp = ReadPolicy::default();
    let key = as_key!("test", "modify", 1);
    client
        .put(&wp, &key, &[as_bin!("i", 5)])
        .await
        .unwrap_or_else(|e| panic!("put: {e}"));

    // add of a string, append of an integer: both create the missing bin.
    client
        .add(&wp, &key, &[as_bin!("s", "ab")])
        .await
        .unwrap_or_else(|e| panic!("add of a string to a missing bin: {e}"));
    client
        .append(&wp, &key, &[as_bin!("n", 7)])
        .await
        .unwrap_or_else(|e| panic!("append of an integer to a missing bin: {e}"));
    client
        .prepend(&wp, &key, &[as_bin!("s", "x")])
        .await
        .unwrap_or_else(|e| panic!("prepend to the created string bin: {e}"));

    // On live bins the existing type decides.
    let cases = [
        client.add(&wp, &key, &[as_bin!("s", 1)]).await,
        client.add(&wp, &key, &[as_bin!("s", "more")]).await,
        client.append(&wp, &key, &[as_bin!("i", "z")]).await,
        client.add(&wp, &key, &[as_bin!("i", 1.5)]).await,
    ];
    for (n, r) in cases.into_iter().enumerate() {
        match r {
            Err(e) => assert_eq!(
                e.server_result_code(),
                Some(ResultCode::BinTypeError),
                "case {n}: {e}"
            ),
            Ok(()) => panic!("case {n}: expected INCOMPATIBLE_TYPE, got Ok"),
        }
    }

    // A record-level replace cannot carry a modify op.
    let replace = WritePolicy {
        record_exists_action: RecordExistsAction::Replace,
        ..WritePolicy::default()
    };
    match client.add(&replace, &key, &[as_bin!("i", 1)]).await {
        Err(e) => assert_eq!(e.server_result_code(), Some(ResultCode::ParameterError)),
        Ok(()) => panic!("add under REPLACE must be a parameter error"),
    }

    let rec = client
        .get(&rp, &key, Bins::All)
        .await
        .unwrap_or_else(|e| panic!("get: {e}"));
    assert_eq!(rec.bins.get("i"), Some(&Value::Int(5)));
    assert_eq!(rec.bins.get("s"), Some(&Value::from("xab")));
    assert_eq!(rec.bins.get("n"), Some(&Value::Int(7)));
}
