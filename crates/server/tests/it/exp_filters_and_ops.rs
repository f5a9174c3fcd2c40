//! Filter expressions (field 43) on single-record commands and batches, and expression
//! read/write ops, through the official Rust client against the real `aerie` binary.

use aerie_testkit::ServerProcess;
use aerospike::expressions::{
    self as exp, and, eq, ge, gt, int_bin, int_val, lists, num_add, string_bin, string_val,
};
use aerospike::operations;
use aerospike::operations::exp::{read_exp, write_exp, ExpReadFlags, ExpWriteFlags};
use aerospike::operations::lists::ListReturnType;
use aerospike::{
    as_bin, as_key, as_list, as_val, BatchOperation, BatchPolicy, BatchReadPolicy, Bins, Client,
    ClientPolicy, Error, ReadPolicy, ResultCode, Value, WritePolicy,
};

const NS: &str = "test";
const SET: &str = "exp";

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
async fn filters_gate_every_single_record_command() {
    let (_server, client) = server_and_client().await;
    let wp = WritePolicy::default();
    let key = as_key!(NS, SET, 1);
    client
        .put(&wp, &key, &[as_bin!("a", 10), as_bin!("s", "x")])
        .await
        .unwrap_or_else(|e| panic!("put: {e}"));

    let pass = and(vec![
        eq(int_bin("a"), int_val(10)),
        eq(string_bin("s"), string_val("x")),
    ]);
    let fail = gt(int_bin("a"), int_val(10));

    let mut rp = ReadPolicy::default();
    rp.base_policy.filter_expression = Some(fail.clone());
    assert_eq!(
        code(client.get(&rp, &key, Bins::All).await),
        Some(ResultCode::FilteredOut)
    );
    assert_eq!(
        code(client.exists(&rp, &key).await),
        Some(ResultCode::FilteredOut)
    );
    rp.base_policy.filter_expression = Some(pass.clone());
    let rec = client
        .get(&rp, &key, Bins::All)
        .await
        .unwrap_or_else(|e| panic!("get: {e}"));
    assert_eq!(rec.bins.get("a"), Some(&Value::Int(10)));

    // A missing record stays NOT_FOUND whatever the filter.
    let missing = as_key!(NS, SET, 999);
    assert_eq!(
        code(client.get(&rp, &missing, Bins::All).await),
        Some(ResultCode::KeyNotFoundError)
    );

    let mut wf = WritePolicy::default();
    wf.base_policy.filter_expression = Some(fail.clone());
    assert_eq!(
        code(client.put(&wf, &key, &[as_bin!("a", 11)]).await),
        Some(ResultCode::FilteredOut)
    );
    assert_eq!(
        code(client.touch(&wf, &key).await),
        Some(ResultCode::FilteredOut)
    );
    assert_eq!(
        code(client.delete(&wf, &key).await),
        Some(ResultCode::FilteredOut)
    );
    let ops = [operations::get_bin("a")];
    assert_eq!(
        code(client.operate(&wf, &key, &ops).await),
        Some(ResultCode::FilteredOut)
    );
    // Nothing changed.
    let rec = client
        .get(&ReadPolicy::default(), &key, Bins::All)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(rec.bins.get("a"), Some(&Value::Int(10)));
    assert_eq!(rec.generation, 1);

    wf.base_policy.filter_expression = Some(pass);
    client
        .put(&wf, &key, &[as_bin!("a", 11)])
        .await
        .unwrap_or_else(|e| panic!("put: {e}"));
    wf.base_policy.filter_expression = Some(eq(int_bin("a"), int_val(11)));
    client
        .delete(&wf, &key)
        .await
        .unwrap_or_else(|e| panic!("delete: {e}"));
}

#[tokio::test]
async fn malformed_filter_is_a_parameter_error() {
    let (_server, client) = server_and_client().await;
    let key = as_key!(NS, SET, 2);
    client
        .put(&WritePolicy::default(), &key, &[as_bin!("a", 1)])
        .await
        .unwrap_or_else(|e| panic!("put: {e}"));
    let mut rp = ReadPolicy::default();
    // Comparing an int bin with a string is refused when compiled.
    rp.base_policy.filter_expression = Some(eq(int_bin("a"), string_val("x")));
    assert_eq!(
        code(client.get(&rp, &key, Bins::All).await),
        Some(ResultCode::ParameterError)
    );
}

#[tokio::test]
async fn batch_rows_use_the_parent_filter() {
    let (_server, client) = server_and_client().await;
    let wp = WritePolicy::default();
    for i in 0..5 {
        client
            .put(&wp, &as_key!(NS, SET, 100 + i), &[as_bin!("n", i)])
            .await
            .unwrap_or_else(|e| panic!("put: {e}"));
    }
    let mut bp = BatchPolicy::default();
    bp.base_policy.filter_expression = Some(ge(int_bin("n"), int_val(3)));
    let brp = BatchReadPolicy::default();
    let mut ops: Vec<_> = (0..5)
        .map(|i| BatchOperation::read(&brp, as_key!(NS, SET, 100 + i), Bins::All))
        .collect();
    client
        .batch(&bp, &mut ops)
        .await
        .unwrap_or_else(|e| panic!("batch: {e}"));
    let found: Vec<bool> = ops.iter().map(|o| o.record().is_some()).collect();
    assert_eq!(found, vec![false, false, false, true, true]);
}

#[tokio::test]
async fn expression_read_and_write_ops() {
    let (_server, client) = server_and_client().await;
    let wp = WritePolicy::default();
    let key = as_key!(NS, SET, 3);
    client
        .put(
            &wp,
            &key,
            &[as_bin!("a", 25), as_bin!("l", as_list!(1, 2, 3))],
        )
        .await
        .unwrap_or_else(|e| panic!("put: {e}"));

    let plus4 = num_add(vec![int_bin("a"), int_val(4)]);
    let ops = [
        write_exp("b", plus4.clone(), ExpWriteFlags::DEFAULT),
        read_exp("r", int_bin("b"), ExpReadFlags::DEFAULT),
        read_exp(
            "size",
            lists::size(exp::list_bin("l"), &[]),
            ExpReadFlags::DEFAULT,
        ),
        read_exp(
            "last",
            lists::get_by_index(
                ListReturnType::VALUES,
                exp::ExpType::Int,
                int_val(-1),
                exp::list_bin("l"),
                &[],
            ),
            ExpReadFlags::DEFAULT,
        ),
    ];
    let rec = client
        .operate(&wp, &key, &ops)
        .await
        .unwrap_or_else(|e| panic!("operate: {e}"));
    assert_eq!(rec.bins.get("r"), Some(&as_val!(29)));
    assert_eq!(rec.bins.get("size"), Some(&as_val!(3)));
    assert_eq!(rec.bins.get("last"), Some(&as_val!(3)));

    // create-only on an existing bin fails; with policy no-fail it is skipped.
    let ops = [write_exp("b", int_val(1), ExpWriteFlags::CREATE_ONLY)];
    assert_eq!(
        code(client.operate(&wp, &key, &ops).await),
        Some(ResultCode::BinExistsError)
    );
    let ops = [write_exp(
        "b",
        int_val(1),
        ExpWriteFlags::CREATE_ONLY | ExpWriteFlags::POLICY_NO_FAIL,
    )];
    client
        .operate(&wp, &key, &ops)
        .await
        .unwrap_or_else(|e| panic!("operate: {e}"));
    // update-only on a missing bin fails.
    let ops = [write_exp("zz", int_val(1), ExpWriteFlags::UPDATE_ONLY)];
    assert_eq!(
        code(client.operate(&wp, &key, &ops).await),
        Some(ResultCode::BinNotFound)
    );
    // An expression that cannot be evaluated: OP_NOT_APPLICABLE, unless eval no-fail.
    let ops = [read_exp("x", int_bin("missing"), ExpReadFlags::DEFAULT)];
    assert_eq!(
        code(client.operate(&wp, &key, &ops).await),
        Some(ResultCode::OpNotApplicable)
    );
    let ops = [read_exp(
        "x",
        int_bin("missing"),
        ExpReadFlags::EVAL_NO_FAIL,
    )];
    client
        .operate(&wp, &key, &ops)
        .await
        .unwrap_or_else(|e| panic!("operate: {e}"));
    // allow-delete removes the bin on a nil result.
    let ops = [write_exp("b", exp::nil(), ExpWriteFlags::ALLOW_DELETE)];
    client
        .operate(&wp, &key, &ops)
        .await
        .unwrap_or_else(|e| panic!("operate: {e}"));
    let rec = client
        .get(&ReadPolicy::default(), &key, Bins::All)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(rec.bins.get("b"), None);
    assert_eq!(rec.bins.get("a"), Some(&as_val!(25)));
}
