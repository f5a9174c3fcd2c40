//! Single-record CRUD through the official Rust client (`aerospike` 3.x), against
//! the real `aerie` binary on a free loopback port.
//!
//! Each test starts its own server, so tests cannot see each other's records and
//! may run in parallel.

use std::time::Duration;

use aerie_testkit::ServerProcess;
use aerospike::operations;
use aerospike::{
    as_bin, as_blob, as_key, as_list, as_map, as_val, Bins, Client, ClientPolicy, Error,
    Expiration, GenerationPolicy, Key, ReadPolicy, RecordExistsAction, ResultCode, Value,
    WritePolicy,
};

const NS: &str = "test";
const SET: &str = "demo";

/// Starts a server and connects the official client to it. The server is
/// returned too: dropping it kills the process.
async fn server_and_client() -> (ServerProcess, Client) {
    let server = ServerProcess::builder()
        .bin(env!("CARGO_BIN_EXE_aerie"))
        .start();
    let client = Client::new(&ClientPolicy::default(), &server.hosts())
        .await
        .unwrap_or_else(|e| panic!("official client cannot connect to {}: {e}", server.hosts()));
    (server, client)
}

fn server_code(result: Result<impl std::fmt::Debug, Error>) -> Option<ResultCode> {
    match result {
        Ok(v) => panic!("expected a server error, got Ok({v:?})"),
        Err(e) => e
            .server_result_code()
            .or_else(|| panic!("expected a server result code, got {e:?}")),
    }
}

#[tokio::test]
async fn put_get_select_exists_touch_delete() {
    let (_server, client) = server_and_client().await;
    let wp = WritePolicy::default();
    let rp = ReadPolicy::default();
    let key = as_key!(NS, SET, "crud-1");

    let bins = [
        as_bin!("int", 42),
        as_bin!("neg", -7_000_000_000_i64),
        as_bin!("str", "hello aerie"),
        as_bin!("float", 2.5_f64),
        as_bin!("blob", as_blob!(vec![0_u8, 1, 2, 255])),
        as_bin!("bool", true),
        as_bin!("list", as_list!(1, "two", 3.0_f64)),
        as_bin!("map", as_map!("a" => 1, "b" => "x")),
    ];
    client.put(&wp, &key, &bins).await.expect("put");

    let rec = client.get(&rp, &key, Bins::All).await.expect("get all");
    assert_eq!(rec.generation, 1, "a new record starts at generation 1");
    assert_eq!(rec.bins.len(), bins.len(), "bins: {:?}", rec.bins);
    for bin in &bins {
        assert_eq!(
            rec.bins.get(&bin.name),
            Some(&bin.value),
            "bin {}",
            bin.name
        );
    }
    assert_eq!(
        rec.time_to_live(),
        None,
        "namespace default TTL is 0 = never expires"
    );

    let rec = client
        .get(&rp, &key, Bins::from(["str", "int", "absent"]))
        .await
        .expect("get selected bins");
    assert_eq!(
        rec.bins.len(),
        2,
        "only the named bins that exist: {:?}",
        rec.bins
    );
    assert_eq!(rec.bins.get("str"), Some(&Value::from("hello aerie")));
    assert_eq!(rec.bins.get("int"), Some(&Value::from(42)));

    let rec = client.get(&rp, &key, Bins::None).await.expect("get header");
    assert!(
        rec.bins.is_empty(),
        "header read carries no bins: {:?}",
        rec.bins
    );
    assert_eq!(rec.generation, 1);

    assert!(
        client.exists(&rp, &key).await.expect("exists"),
        "record exists after put"
    );

    client.touch(&wp, &key).await.expect("touch");
    let rec = client
        .get(&rp, &key, Bins::None)
        .await
        .expect("get header after touch");
    assert_eq!(rec.generation, 2, "touch bumps the generation");

    // A second put updates bins in place (default action UPDATE) and keeps the others.
    client
        .put(&wp, &key, &[as_bin!("int", 43)])
        .await
        .expect("update put");
    let rec = client
        .get(&rp, &key, Bins::All)
        .await
        .expect("get after update");
    assert_eq!(rec.generation, 3);
    assert_eq!(rec.bins.get("int"), Some(&Value::from(43)));
    assert_eq!(
        rec.bins.get("str"),
        Some(&Value::from("hello aerie")),
        "untouched bin survives"
    );

    // Writing nil removes a bin.
    client
        .put(&wp, &key, &[as_bin!("bool", None)])
        .await
        .expect("put nil");
    let rec = client
        .get(&rp, &key, Bins::All)
        .await
        .expect("get after nil");
    assert!(
        !rec.bins.contains_key("bool"),
        "nil write deletes the bin: {:?}",
        rec.bins
    );

    assert!(
        client.delete(&wp, &key).await.expect("delete"),
        "delete reports the record existed"
    );
    assert!(!client.exists(&rp, &key).await.expect("exists after delete"));
    assert_eq!(
        server_code(client.get(&rp, &key, Bins::All).await),
        Some(ResultCode::KeyNotFoundError)
    );
    assert!(
        !client.delete(&wp, &key).await.expect("second delete"),
        "nothing left to delete"
    );
    assert_eq!(
        server_code(client.touch(&wp, &key).await),
        Some(ResultCode::KeyNotFoundError)
    );

    client.close().await.expect("close");
}

#[tokio::test]
async fn operate_add_append_prepend_get() {
    let (_server, client) = server_and_client().await;
    let wp = WritePolicy::default();
    let key = as_key!(NS, SET, "operate-1");
    client
        .put(&wp, &key, &[as_bin!("n", 10), as_bin!("s", "mid")])
        .await
        .expect("put");

    let ops = [
        operations::add(&as_bin!("n", 5)),
        operations::append(&as_bin!("s", "-end")),
        operations::prepend(&as_bin!("s", "start-")),
        operations::add(&as_bin!("fresh", 7)),
        operations::get(),
    ];
    let rec = client.operate(&wp, &key, &ops).await.expect("operate");
    assert_eq!(rec.generation, 2);
    assert_eq!(rec.bins.get("n"), Some(&Value::from(15)));
    assert_eq!(rec.bins.get("s"), Some(&Value::from("start-mid-end")));
    assert_eq!(
        rec.bins.get("fresh"),
        Some(&Value::from(7)),
        "add on a missing bin creates it"
    );
    assert_eq!(rec.bins.len(), 3, "{:?}", rec.bins);

    // A write and a read of the same bin: one answer per op, in op order.
    let ops = [
        operations::add(&as_bin!("n", -20)),
        operations::get_bin("n"),
    ];
    let rec = client
        .operate(&wp, &key, &ops)
        .await
        .expect("operate add+get_bin");
    assert_eq!(rec.results, Some(vec![Value::Nil, Value::from(-5)]));

    // Float increments stay floats.
    client
        .put(&wp, &key, &[as_bin!("f", 1.5_f64)])
        .await
        .expect("put float");
    let rec = client
        .operate(
            &wp,
            &key,
            &[
                operations::add(&as_bin!("f", 0.25_f64)),
                operations::get_bin("f"),
            ],
        )
        .await
        .expect("operate float add");
    assert_eq!(rec.results, Some(vec![Value::Nil, Value::from(1.75_f64)]));

    // Type errors are the server's to report.
    let bad = client
        .operate(&wp, &key, &[operations::add(&as_bin!("s", 1))])
        .await;
    assert_eq!(
        server_code(bad),
        Some(ResultCode::BinTypeError),
        "incr on a string bin"
    );
    let bad = client
        .operate(&wp, &key, &[operations::append(&as_bin!("n", "x"))])
        .await;
    assert_eq!(
        server_code(bad),
        Some(ResultCode::BinTypeError),
        "append to an integer bin"
    );

    // operate(touch, get_header) on a missing record: not found.
    let missing = as_key!(NS, SET, "operate-missing");
    let res = client
        .operate(
            &wp,
            &missing,
            &[operations::touch(), operations::get_header()],
        )
        .await;
    assert_eq!(server_code(res), Some(ResultCode::KeyNotFoundError));

    // operate(delete) removes the record.
    client
        .operate(&wp, &key, &[operations::delete()])
        .await
        .expect("operate delete");
    assert!(!client
        .exists(&ReadPolicy::default(), &key)
        .await
        .expect("exists"));

    client.close().await.expect("close");
}

#[tokio::test]
async fn generation_and_record_exists_policies() {
    let (_server, client) = server_and_client().await;
    let rp = ReadPolicy::default();
    let key = as_key!(NS, SET, "policies-1");

    // CREATE_ONLY: the first put creates, the second is refused.
    let create_only = WritePolicy {
        record_exists_action: RecordExistsAction::CreateOnly,
        ..WritePolicy::default()
    };
    client
        .put(&create_only, &key, &[as_bin!("v", 1)])
        .await
        .expect("create-only on a new key");
    let again = client.put(&create_only, &key, &[as_bin!("v", 2)]).await;
    assert_eq!(server_code(again), Some(ResultCode::KeyExistsError));
    let rec = client.get(&rp, &key, Bins::All).await.expect("get");
    assert_eq!(
        rec.bins.get("v"),
        Some(&Value::from(1)),
        "the refused write left no trace"
    );
    assert_eq!(rec.generation, 1);

    // EXPECT_GEN_EQUAL: the right generation writes, a wrong one is refused.
    let mut gen_equal = WritePolicy {
        generation_policy: GenerationPolicy::ExpectGenEqual,
        ..WritePolicy::default()
    };
    gen_equal.generation = 1;
    client
        .put(&gen_equal, &key, &[as_bin!("v", 3)])
        .await
        .expect("put with matching generation");
    gen_equal.generation = 1; // now stale: the record is at 2
    let stale = client.put(&gen_equal, &key, &[as_bin!("v", 4)]).await;
    assert_eq!(server_code(stale), Some(ResultCode::GenerationError));
    let rec = client.get(&rp, &key, Bins::All).await.expect("get");
    assert_eq!(rec.bins.get("v"), Some(&Value::from(3)));
    assert_eq!(rec.generation, 2);

    // The generation check guards deletes too.
    gen_equal.generation = 99;
    assert_eq!(
        server_code(client.delete(&gen_equal, &key).await),
        Some(ResultCode::GenerationError)
    );
    assert!(client.exists(&rp, &key).await.expect("exists"));

    // UPDATE_ONLY and REPLACE_ONLY need an existing record.
    let missing = as_key!(NS, SET, "policies-missing");
    let update_only = WritePolicy {
        record_exists_action: RecordExistsAction::UpdateOnly,
        ..WritePolicy::default()
    };
    assert_eq!(
        server_code(client.put(&update_only, &missing, &[as_bin!("v", 1)]).await),
        Some(ResultCode::KeyNotFoundError)
    );
    let replace_only = WritePolicy {
        record_exists_action: RecordExistsAction::ReplaceOnly,
        ..WritePolicy::default()
    };
    assert_eq!(
        server_code(
            client
                .put(&replace_only, &missing, &[as_bin!("v", 1)])
                .await
        ),
        Some(ResultCode::KeyNotFoundError)
    );
    assert!(
        !client.exists(&rp, &missing).await.expect("exists"),
        "refused writes created nothing"
    );

    // UPDATE_ONLY on an existing record merges; REPLACE drops unnamed bins.
    client
        .put(&update_only, &key, &[as_bin!("w", "x")])
        .await
        .expect("update-only on existing");
    let rec = client.get(&rp, &key, Bins::All).await.expect("get");
    assert_eq!(rec.bins.len(), 2, "{:?}", rec.bins);
    let replace = WritePolicy {
        record_exists_action: RecordExistsAction::Replace,
        ..WritePolicy::default()
    };
    client
        .put(&replace, &key, &[as_bin!("only", 1)])
        .await
        .expect("replace");
    let rec = client.get(&rp, &key, Bins::All).await.expect("get");
    assert_eq!(
        rec.bins.len(),
        1,
        "replace keeps only the written bins: {:?}",
        rec.bins
    );
    assert_eq!(rec.bins.get("only"), Some(&Value::from(1)));

    client.close().await.expect("close");
}

#[tokio::test]
async fn send_key_stores_the_user_key() {
    let (_server, client) = server_and_client().await;
    let rp = ReadPolicy::default();
    let send_key = WritePolicy {
        send_key: true,
        ..WritePolicy::default()
    };

    let key = as_key!(NS, SET, "user-key-1");
    client
        .put(&send_key, &key, &[as_bin!("v", 1)])
        .await
        .expect("put with send_key");
    assert!(client.exists(&rp, &key).await.expect("exists"));

    // Same digest, different user key: the server compares the key it stored with
    // the one sent and refuses the write (KEY_MISMATCH, 19). That it can tell at
    // all proves it stored the key.
    let impostor = Key::with_digest(NS, SET, Some(Value::from("someone-else")), key.digest());
    let res = client.put(&send_key, &impostor, &[as_bin!("v", 2)]).await;
    assert_eq!(server_code(res), Some(ResultCode::KeyMismatch));

    // Sending the same key again is fine, and so is not sending it.
    client
        .put(&send_key, &key, &[as_bin!("v", 3)])
        .await
        .expect("same key again");
    client
        .put(&WritePolicy::default(), &key, &[as_bin!("v", 4)])
        .await
        .expect("without the key");
    let rec = client.get(&rp, &key, Bins::All).await.expect("get");
    assert_eq!(rec.bins.get("v"), Some(&Value::from(4)));

    // Integer and blob keys are stored the same way.
    let int_key = as_key!(NS, SET, 123_456_i64);
    client
        .put(&send_key, &int_key, &[as_bin!("v", 1)])
        .await
        .expect("int key");
    let impostor = Key::with_digest(NS, SET, Some(Value::from(654_321_i64)), int_key.digest());
    assert_eq!(
        server_code(client.put(&send_key, &impostor, &[as_bin!("v", 2)]).await),
        Some(ResultCode::KeyMismatch)
    );

    client.close().await.expect("close");
}

#[tokio::test]
async fn ttl_never_default_and_expiry() {
    let (_server, client) = server_and_client().await;
    let rp = ReadPolicy::default();

    // TTL -1: never expires; the reply's void-time is 0.
    let never = as_key!(NS, SET, "ttl-never");
    client
        .put(
            &WritePolicy::new(0, Expiration::Never),
            &never,
            &[as_bin!("v", 1)],
        )
        .await
        .expect("put never");
    let rec = client.get(&rp, &never, Bins::All).await.expect("get never");
    assert_eq!(rec.time_to_live(), None, "Expiration::Never");
    assert_eq!(rec.expiration(), 0);

    // An explicit TTL is reported back as a void-time: within a second or two.
    let long = as_key!(NS, SET, "ttl-100");
    client
        .put(
            &WritePolicy::new(0, Expiration::Seconds(100)),
            &long,
            &[as_bin!("v", 1)],
        )
        .await
        .expect("put 100");
    let rec = client.get(&rp, &long, Bins::All).await.expect("get 100");
    let ttl = rec
        .time_to_live()
        .expect("a record with a TTL has a void-time");
    assert!(
        (97..=101).contains(&ttl.as_secs()),
        "TTL 100 read back as {ttl:?}"
    );

    // DontUpdate keeps the TTL on a later write; Never clears it.
    client
        .put(
            &WritePolicy::new(0, Expiration::DontUpdate),
            &long,
            &[as_bin!("v", 2)],
        )
        .await
        .expect("keep ttl");
    let ttl = client
        .get(&rp, &long, Bins::None)
        .await
        .expect("get")
        .time_to_live()
        .expect("ttl kept");
    assert!(
        (95..=101).contains(&ttl.as_secs()),
        "TTL after DontUpdate: {ttl:?}"
    );
    client
        .put(
            &WritePolicy::new(0, Expiration::Never),
            &long,
            &[as_bin!("v", 3)],
        )
        .await
        .expect("never");
    assert_eq!(
        client
            .get(&rp, &long, Bins::None)
            .await
            .expect("get")
            .time_to_live(),
        None
    );

    // TTL 1: readable at once, gone after ~2.5 s, whether or not nsup has run:
    // an expired record must never be served.
    let short = as_key!(NS, SET, "ttl-1");
    client
        .put(
            &WritePolicy::new(0, Expiration::Seconds(1)),
            &short,
            &[as_bin!("v", 1)],
        )
        .await
        .expect("put ttl 1");
    let rec = client
        .get(&rp, &short, Bins::All)
        .await
        .expect("readable before expiry");
    assert!(
        rec.time_to_live()
            .is_some_and(|d| d <= Duration::from_secs(1)),
        "{:?}",
        rec.time_to_live()
    );
    tokio::time::sleep(Duration::from_millis(2500)).await;
    assert_eq!(
        server_code(client.get(&rp, &short, Bins::All).await),
        Some(ResultCode::KeyNotFoundError)
    );
    assert!(!client
        .exists(&rp, &short)
        .await
        .expect("exists after expiry"));
    // The never-expiring record is still there.
    assert!(client.exists(&rp, &never).await.expect("exists never"));

    client.close().await.expect("close");
}

#[tokio::test]
async fn unknown_namespace_and_long_bin_name_are_refused() {
    let (_server, client) = server_and_client().await;
    let wp = WritePolicy::default();

    // The client routes by the partition map, so an unknown namespace never
    // reaches the wire; it must fail, not hang or retry forever.
    let key = as_key!("no_such_namespace", SET, "k");
    let err = client
        .put(&wp, &key, &[as_bin!("v", 1)])
        .await
        .expect_err("unknown namespace");
    assert!(
        matches!(err.kind(), aerospike::ErrorKind::InvalidNamespace),
        "{err:?}"
    );

    // Bin names are limited to 15 bytes (BIN_NAME, 21), or refused by the client.
    let key = as_key!(NS, SET, "long-bin");
    let err = client
        .put(&wp, &key, &[as_bin!("sixteen_chars_xx", 1)])
        .await
        .expect_err("16-byte bin name");
    if let Some(code) = err.server_result_code() {
        assert_eq!(code, ResultCode::BinNameTooLong, "{err:?}");
    }
    client
        .put(&wp, &key, &[as_bin!("fifteen_chars_x", 1)])
        .await
        .expect("15-byte bin name is fine");

    client.close().await.expect("close");
}
