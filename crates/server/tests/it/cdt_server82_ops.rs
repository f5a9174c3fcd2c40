//! Collection ops of aerospike-server 8.2 that the official tests skip against Aerie (it
//! reports 8.1.2.0): list `string_join` (CDT op 28) and bitwise `b64_encode` (bit op 55), as
//! ops and as expressions; plus CDT path expressions (8.1.1, op 0xfe) with an expression
//! context and loop variables. Driven through the official Rust client; the expected answers
//! are those the client's own tests assert against an 8.2 server.

use aerie_testkit::ServerProcess;
use aerospike::expressions::{
    self as exp, blob_bin, exp_int_loop_var, gt, int_val, list_bin, lists as exp_lists, num_mul,
    string_val, LoopVarPart,
};
use aerospike::operations::bitwise;
use aerospike::operations::cdt_context::{
    ctx_all_children, ctx_all_children_with_filter, ctx_map_key,
};
use aerospike::operations::exp::{read_exp, ExpReadFlags};
use aerospike::operations::lists;
use aerospike::operations::path::{modify_by_path, select_by_path, ModifyFlag, SelectFlag};
use aerospike::{
    as_bin, as_key, as_list, as_map, as_val, Bins, Client, ClientPolicy, Error, ReadPolicy,
    ResultCode, Value, WritePolicy,
};

async fn server_and_client() -> (ServerProcess, Client) {
    let server = ServerProcess::builder()
        .bin(env!("CARGO_BIN_EXE_aerie"))
        .start();
    let client = Client::new(&ClientPolicy::default(), &server.hosts())
        .await
        .unwrap_or_else(|e| panic!("official client cannot connect to {}: {e}", server.hosts()));
    (server, client)
}

fn code<T: std::fmt::Debug>(r: Result<T, Error>) -> Option<ResultCode> {
    match r {
        Ok(v) => panic!("expected a server error, got Ok({v:?})"),
        Err(e) => e.server_result_code(),
    }
}

#[tokio::test]
async fn list_join_as_op_and_expression() {
    let (_server, client) = server_and_client().await;
    let wp = WritePolicy::default();
    let key = as_key!("test", "join", 1);
    client
        .put(
            &wp,
            &key,
            &[
                as_bin!("l", as_list!("one", "two", "three")),
                as_bin!("e", Value::List(vec![])),
                as_bin!("n", as_list!(1, 2, 3)),
                as_bin!("m", as_map!("k" => as_list!("a", "b"))),
            ],
        )
        .await
        .unwrap_or_else(|e| panic!("put: {e}"));
    let one = |op| {
        let client = &client;
        let key = &key;
        let wp = &wp;
        async move { client.operate(wp, key, &[op]).await }
    };
    let rec = one(lists::join_by_separator("l", ","))
        .await
        .unwrap_or_else(|e| panic!("join: {e}"));
    assert_eq!(rec.bins.get("l"), Some(&as_val!("one,two,three")));
    let rec = one(lists::join("l"))
        .await
        .unwrap_or_else(|e| panic!("join: {e}"));
    assert_eq!(rec.bins.get("l"), Some(&as_val!("onetwothree")));
    let rec = one(lists::join_by_separator("e", ","))
        .await
        .unwrap_or_else(|e| panic!("join empty: {e}"));
    assert_eq!(rec.bins.get("e"), Some(&as_val!("")));
    let rec = one(lists::join_by_separator("m", "-").context(vec![ctx_map_key(as_val!("k"))]))
        .await
        .unwrap_or_else(|e| panic!("join nested: {e}"));
    assert_eq!(rec.bins.get("m"), Some(&as_val!("a-b")));
    assert_eq!(
        code(one(lists::join_by_separator("n", ",")).await),
        Some(ResultCode::ParameterError)
    );

    // The expression form, read into a named result.
    let e = exp_lists::join_by_separator(string_val("+"), list_bin("l"), &[]);
    let rec = one(read_exp("r", e, ExpReadFlags::default()))
        .await
        .unwrap_or_else(|e| panic!("join expression: {e}"));
    assert_eq!(rec.bins.get("r"), Some(&as_val!("one+two+three")));

    // The list is left as it was.
    let rec = client
        .get(&ReadPolicy::default(), &key, Bins::from(["l", "n"]))
        .await
        .unwrap_or_else(|e| panic!("get: {e}"));
    assert_eq!(rec.bins.get("l"), Some(&as_list!("one", "two", "three")));
    assert_eq!(rec.bins.get("n"), Some(&as_list!(1, 2, 3)));
}

#[tokio::test]
async fn bit_b64_encode_as_op_and_expression() {
    let (_server, client) = server_and_client().await;
    let wp = WritePolicy::default();
    let key = as_key!("test", "b64", 1);
    let blob = Value::Blob(vec![0x01, 0x42, 0x03, 0x04, 0x05]);
    client
        .put(&wp, &key, &[as_bin!("b", blob), as_bin!("s", "hello")])
        .await
        .unwrap_or_else(|e| panic!("put: {e}"));
    let cases = [
        (bitwise::b64_encode("b"), "AUIDBAU="),
        (bitwise::b64_encode_range("b", 1, 2, false), "QgM="),
        (bitwise::b64_encode_range("b", -2, 2, false), "BAU="),
        (bitwise::b64_encode_range("b", 2, 0, true), "AwQF"),
        (bitwise::b64_encode_range("b", 0, 1, true), "AUIDBA=="),
        (bitwise::b64_encode_range("b", 0, 0, false), ""),
    ];
    for (op, want) in cases {
        let rec = client
            .operate(&wp, &key, &[op])
            .await
            .unwrap_or_else(|e| panic!("b64 {want}: {e}"));
        assert_eq!(rec.bins.get("b"), Some(&as_val!(want)));
    }
    assert_eq!(
        code(
            client
                .operate(&wp, &key, &[bitwise::b64_encode_range("b", 6, 1, false)])
                .await
        ),
        Some(ResultCode::OpNotApplicable)
    );
    assert_eq!(
        code(client.operate(&wp, &key, &[bitwise::b64_encode("s")]).await),
        Some(ResultCode::BinTypeError)
    );
    let e = exp::bitwise::b64_encode(blob_bin("b"));
    let rec = client
        .operate(&wp, &key, &[read_exp("r", e, ExpReadFlags::default())])
        .await
        .unwrap_or_else(|e| panic!("b64 expression: {e}"));
    assert_eq!(rec.bins.get("r"), Some(&as_val!("AUIDBAU=")));
}

#[tokio::test]
async fn path_select_and_modify_with_loop_variables() {
    let (_server, client) = server_and_client().await;
    let wp = WritePolicy::default();
    let key = as_key!("test", "path", 1);
    let data = as_map!("a" => 100, "b" => 5, "c" => 200);
    client
        .put(&wp, &key, &[as_bin!("d", as_map!("data" => data))])
        .await
        .unwrap_or_else(|e| panic!("put: {e}"));
    let path = [
        ctx_map_key(as_val!("data")),
        ctx_all_children_with_filter(gt(exp_int_loop_var(LoopVarPart::VALUE), int_val(50))),
    ];
    let rec = client
        .operate(
            &wp,
            &key,
            &[select_by_path("d", SelectFlag::MAP_KEY, &path)],
        )
        .await
        .unwrap_or_else(|e| panic!("select keys: {e}"));
    assert_eq!(rec.bins.get("d"), Some(&as_list!("a", "c")));
    let rec = client
        .operate(&wp, &key, &[select_by_path("d", SelectFlag::VALUE, &path)])
        .await
        .unwrap_or_else(|e| panic!("select values: {e}"));
    assert_eq!(rec.bins.get("d"), Some(&as_list!(100, 200)));

    // Double every selected value; the rest stays.
    let double = num_mul(vec![exp_int_loop_var(LoopVarPart::VALUE), int_val(2)]);
    client
        .operate(
            &wp,
            &key,
            &[modify_by_path("d", ModifyFlag::DEFAULT, double, &path)],
        )
        .await
        .unwrap_or_else(|e| panic!("modify: {e}"));
    // A one-level path's leaf is the "data" entry itself; its children are one level down.
    let top = [ctx_map_key(as_val!("data"))];
    let rec = client
        .operate(&wp, &key, &[select_by_path("d", SelectFlag::VALUE, &top)])
        .await
        .unwrap_or_else(|e| panic!("select top: {e}"));
    assert!(
        matches!(rec.bins.get("d"), Some(Value::List(l)) if l.len() == 1),
        "{:?}",
        rec.bins
    );
    let all = [ctx_map_key(as_val!("data")), ctx_all_children()];
    let rec = client
        .operate(&wp, &key, &[select_by_path("d", SelectFlag::VALUE, &all)])
        .await
        .unwrap_or_else(|e| panic!("select all: {e}"));
    assert_eq!(rec.bins.get("d"), Some(&as_list!(200, 5, 400)));

    // A select on a scalar bin is a type error; APPLY in a read-only form is refused.
    client
        .put(&wp, &key, &[as_bin!("i", 1)])
        .await
        .unwrap_or_else(|e| panic!("put i: {e}"));
    assert_eq!(
        code(
            client
                .operate(&wp, &key, &[select_by_path("i", SelectFlag::VALUE, &all)])
                .await
        ),
        Some(ResultCode::BinTypeError)
    );
}
