//! JSON documents over REST: JSONPath get/put/append/delete (simple paths, wildcards, filters)
//! on a document bin, checked against the record as the official client reads it; and a
//! secondary index on a JSON path with a query through it.

use std::time::{Duration, Instant};

use aerie_testkit::ServerProcess;
use aerospike::{as_key, Bins, Client, ClientPolicy, ReadPolicy, Value};
use reqwest::blocking::{Client as Http, Response};
use reqwest::StatusCode;
use serde_json::{json, Value as Json};

const TIMEOUT: Duration = Duration::from_secs(10);

fn body(r: Response) -> Json {
    let text = r.text().expect("body");
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("not JSON ({e}): {text}"))
}

#[test]
fn jsonpath_get_put_append_delete_and_index_query() {
    let server = ServerProcess::builder()
        .bin(env!("CARGO_BIN_EXE_aerie"))
        .start();
    let base = format!("http://{}", server.http_addr().expect("http port"));
    let http = Http::builder().timeout(TIMEOUT).build().expect("client");
    let doc_url = |key: &str, path: &str| {
        format!(
            "{base}/v1/document/test/docs/{key}?jsonPath={}",
            urlencode(path)
        )
    };

    let store = json!({
        "name": "shop",
        "address": {"city": "Oslo", "zip": 150},
        "books": [
            {"title": "A", "price": 8, "tags": ["x"]},
            {"title": "B", "price": 12, "tags": []},
            {"title": "C", "price": 5, "tags": ["y", "z"]}
        ]
    });
    // The whole document at `$`.
    let r = http
        .put(doc_url("d1", "$"))
        .json(&store)
        .send()
        .expect("put root");
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    let got = body(http.get(doc_url("d1", "$")).send().expect("get root"));
    assert_eq!(got["doc"], store);

    // Simple paths: one CDT read each.
    assert_eq!(
        body(
            http.get(doc_url("d1", "$.address.city"))
                .send()
                .expect("get")
        )["doc"],
        "Oslo"
    );
    assert_eq!(
        body(
            http.get(doc_url("d1", "$.books[1].title"))
                .send()
                .expect("get")
        )["doc"],
        "B"
    );
    assert_eq!(
        body(
            http.get(doc_url("d1", "$['books'][-1]['price']"))
                .send()
                .expect("get")
        )["doc"],
        5
    );
    let missing = http
        .get(doc_url("d1", "$.address.street"))
        .send()
        .expect("missing");
    assert_eq!(missing.status(), StatusCode::NOT_FOUND);

    // Wildcards and filters.
    assert_eq!(
        body(
            http.get(doc_url("d1", "$.books[*].title"))
                .send()
                .expect("wild")
        )["doc"],
        json!(["A", "B", "C"])
    );
    assert_eq!(
        body(
            http.get(doc_url("d1", "$.books[?(@.price < 10)].title"))
                .send()
                .expect("filter")
        )["doc"],
        json!(["A", "C"])
    );
    assert_eq!(
        body(
            http.get(doc_url("d1", "$.address.*"))
                .send()
                .expect("wild map")
        )["doc"],
        json!(["Oslo", 150])
    );

    // Put at a path, append to a list, delete by index and by key.
    let r = http
        .put(doc_url("d1", "$.address.zip"))
        .json(&json!(151))
        .send()
        .expect("put");
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    let r = http
        .put(doc_url("d1", "$.books[0].price"))
        .json(&json!(9.5))
        .send()
        .expect("put float");
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    let r = http
        .post(doc_url("d1", "$.books[1].tags"))
        .json(&json!("new"))
        .send()
        .expect("append");
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    let r = http
        .delete(doc_url("d1", "$.address.city"))
        .send()
        .expect("delete key");
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    // Wildcard put and filter delete: one atomic operate of several CDT ops.
    let r = http
        .put(doc_url("d1", "$.books[*].seen"))
        .json(&json!(true))
        .send()
        .expect("wild put");
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    let r = http
        .delete(doc_url("d1", "$.books[?(@.price > 9)]"))
        .send()
        .expect("filter delete");
    assert_eq!(r.status(), StatusCode::NO_CONTENT);

    // The stored document, as the official client reads it.
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let client = rt
        .block_on(Client::new(&ClientPolicy::default(), &server.hosts()))
        .expect("official client");
    let rec = rt
        .block_on(client.get(
            &ReadPolicy::default(),
            &as_key!("test", "docs", "d1"),
            Bins::All,
        ))
        .expect("official get");
    let books = match rec.bins.get("doc") {
        Some(Value::HashMap(doc)) => doc.get(&Value::from("books")).cloned(),
        Some(Value::OrderedMap(doc)) => doc.get(&Value::from("books")).cloned(),
        other => panic!("doc bin is not a map: {other:?}"),
    };
    let Some(Value::List(books)) = books else {
        panic!("books is not a list: {books:?}");
    };
    // A (9.5) and B (12) were removed by the filter; C (5) stays, marked seen.
    assert_eq!(books.len(), 1, "{books:?}");
    let after = body(http.get(doc_url("d1", "$")).send().expect("get root"));
    assert_eq!(after["doc"]["address"], json!({"zip": 151}));
    assert_eq!(
        after["doc"]["books"],
        json!([{"title": "C", "price": 5, "tags": ["y", "z"], "seen": true}])
    );

    // Errors: bad path (400), a wildcard that selects nothing (404), a path through a scalar.
    let r = http
        .get(doc_url("d1", "$..title"))
        .send()
        .expect("deep scan");
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let r = http
        .get(format!("{base}/v1/document/test/docs/d1"))
        .send()
        .expect("no path");
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let r = http
        .delete(doc_url("d1", "$.books[?(@.price > 100)]"))
        .send()
        .expect("none");
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    let r = http.get(doc_url("nodoc", "$.a")).send().expect("no record");
    assert_eq!(r.status(), StatusCode::NOT_FOUND);

    // An index on a JSON path (a CDT-context index), and a query through it.
    for i in 0..12 {
        let d = json!({"address": {"zip": 100 + i % 3}, "n": i});
        let r = http
            .put(doc_url(&format!("z{i}"), "$"))
            .json(&d)
            .send()
            .expect("put doc");
        assert_eq!(r.status(), StatusCode::NO_CONTENT);
    }
    let r = http
        .post(format!("{base}/v1/index"))
        .json(&json!({"namespace": "test", "set": "docs", "name": "zip_idx", "bin": "doc", "type": "NUMERIC", "jsonPath": "$.address.zip"}))
        .send()
        .expect("index");
    assert_eq!(r.status(), StatusCode::ACCEPTED);
    let q = json!({"filter": {"type": "EQUAL", "binName": "doc", "jsonPath": "$.address.zip", "value": 101}});
    let deadline = Instant::now() + TIMEOUT;
    let ns = loop {
        let b = body(
            http.post(format!("{base}/v1/query/test/docs"))
                .json(&q)
                .send()
                .expect("query"),
        );
        let mut ns: Vec<i64> = b["records"]
            .as_array()
            .cloned()
            .unwrap_or_default()
            .iter()
            .filter_map(|r| r["bins"]["doc"]["n"].as_i64())
            .collect();
        ns.sort_unstable();
        if ns.len() == 4 || Instant::now() > deadline {
            break ns;
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    assert_eq!(ns, [1, 4, 7, 10]);
}

fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}
