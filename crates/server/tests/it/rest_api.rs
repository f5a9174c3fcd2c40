//! The REST API with a real HTTP client (reqwest) against the real binary: every `/v1` route,
//! the HTTP status of each result code family, JSON and MessagePack bodies, and agreement with
//! the official Rust client on the same records. Also: the OpenAPI document lists every route
//! the server serves, and every route it lists is served.

use std::time::Duration;

use aerie_testkit::ServerProcess;
use aerospike::{as_key, Bins, Client, ClientPolicy, ReadPolicy, Value};
use reqwest::blocking::{Client as Http, Response};
use reqwest::StatusCode;
use serde_json::{json, Value as Json};

const TIMEOUT: Duration = Duration::from_secs(10);

fn start() -> (ServerProcess, String, Http) {
    let server = ServerProcess::builder()
        .bin(env!("CARGO_BIN_EXE_aerie"))
        .start();
    let base = format!("http://{}", server.http_addr().expect("http port"));
    let http = Http::builder().timeout(TIMEOUT).build().expect("client");
    (server, base, http)
}

fn body(r: Response) -> Json {
    let text = r.text().expect("body");
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("not JSON ({e}): {text}"))
}

/// Asserts the status and, for errors, the gateway error body with `code`.
fn expect_error(r: Response, status: StatusCode, code: i64) {
    assert_eq!(r.status(), status);
    let b = body(r);
    assert_eq!(b["internalErrorCode"], code, "{b}");
    assert_eq!(b["inDoubt"], false, "{b}");
    assert!(b["message"].as_str().is_some_and(|m| !m.is_empty()), "{b}");
}

#[test]
fn kvs_crud_policies_and_error_statuses() {
    let (server, base, http) = start();
    let url = format!("{base}/v1/kvs/test/people/alice");

    let r = http.post(&url).json(&json!({"name": "Alice", "age": 30, "tags": ["a", "b"], "addr": {"zip": 12345}, "score": 1.5})).send().expect("create");
    assert_eq!(r.status(), StatusCode::CREATED);
    // Create again: the record exists.
    let r = http
        .post(&url)
        .json(&json!({"age": 1}))
        .send()
        .expect("create again");
    expect_error(r, StatusCode::CONFLICT, 5);

    let rec = body(http.get(&url).send().expect("get"));
    assert_eq!(
        rec["bins"],
        json!({"name": "Alice", "age": 30, "tags": ["a", "b"], "addr": {"zip": 12345}, "score": 1.5})
    );
    assert_eq!(rec["generation"], 1);
    assert_eq!(rec["ttl"], -1);
    let only = body(
        http.get(format!("{url}?bins=age&bins=name"))
            .send()
            .expect("get bins"),
    );
    assert_eq!(only["bins"], json!({"name": "Alice", "age": 30}));

    // The official client reads the same record under the same digest.
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let client = rt
        .block_on(Client::new(&ClientPolicy::default(), &server.hosts()))
        .expect("official client");
    let got = rt
        .block_on(client.get(
            &ReadPolicy::default(),
            &as_key!("test", "people", "alice"),
            Bins::All,
        ))
        .expect("official get");
    assert_eq!(got.bins.get("age"), Some(&Value::Int(30)));
    assert_eq!(got.bins.get("name"), Some(&Value::from("Alice")));

    // HEAD: exists or not.
    assert_eq!(
        http.head(&url).send().expect("head").status(),
        StatusCode::OK
    );
    assert_eq!(
        http.head(format!("{base}/v1/kvs/test/people/nobody"))
            .send()
            .expect("head")
            .status(),
        StatusCode::NOT_FOUND
    );

    // PATCH updates, PUT replaces.
    let r = http
        .patch(&url)
        .json(&json!({"age": 31}))
        .send()
        .expect("patch");
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    let rec = body(http.get(&url).send().expect("get"));
    assert_eq!(rec["bins"]["age"], 31);
    assert_eq!(rec["bins"]["name"], "Alice");
    assert_eq!(rec["generation"], 2);
    // Generation check: expected 1, the record is at 2.
    let r = http
        .patch(format!(
            "{url}?generationPolicy=EXPECT_GEN_EQUAL&generation=1"
        ))
        .json(&json!({"age": 0}))
        .send()
        .expect("patch gen");
    expect_error(r, StatusCode::CONFLICT, 3);
    let r = http
        .patch(format!(
            "{url}?generationPolicy=EXPECT_GEN_EQUAL&generation=2"
        ))
        .json(&json!({"age": 32}))
        .send()
        .expect("patch gen ok");
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    let r = http
        .put(&url)
        .json(&json!({"only": true}))
        .send()
        .expect("put");
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    assert_eq!(
        body(http.get(&url).send().expect("get"))["bins"],
        json!({"only": true})
    );
    // Update and replace of a missing record: not found.
    let r = http
        .patch(format!("{base}/v1/kvs/test/people/ghost"))
        .json(&json!({"a": 1}))
        .send()
        .expect("patch missing");
    expect_error(r, StatusCode::NOT_FOUND, 2);
    let r = http
        .put(format!("{base}/v1/kvs/test/people/ghost"))
        .json(&json!({"a": 1}))
        .send()
        .expect("put missing");
    expect_error(r, StatusCode::NOT_FOUND, 2);

    // Expiration sets a TTL.
    let r = http
        .post(format!("{base}/v1/kvs/test/people/ttl?expiration=1000"))
        .json(&json!({"a": 1}))
        .send()
        .expect("ttl");
    assert_eq!(r.status(), StatusCode::CREATED);
    let ttl = body(
        http.get(format!("{base}/v1/kvs/test/people/ttl"))
            .send()
            .expect("get"),
    )["ttl"]
        .as_i64()
        .unwrap_or(0);
    assert!((990..=1000).contains(&ttl), "{ttl}");

    // Integer keys and the null set.
    let r = http
        .post(format!("{base}/v1/kvs/test/7?keytype=INTEGER"))
        .json(&json!({"n": 7}))
        .send()
        .expect("int key");
    assert_eq!(r.status(), StatusCode::CREATED);
    let got = rt
        .block_on(client.get(&ReadPolicy::default(), &as_key!("test", "", 7), Bins::All))
        .expect("official get int key");
    assert_eq!(got.bins.get("n"), Some(&Value::Int(7)));
    let r = http
        .get(format!("{base}/v1/kvs/test/7?keytype=INTEGER"))
        .send()
        .expect("get int key");
    assert_eq!(body(r)["bins"]["n"], 7);

    // DELETE, then it is gone.
    assert_eq!(
        http.delete(&url).send().expect("delete").status(),
        StatusCode::NO_CONTENT
    );
    expect_error(
        http.get(&url).send().expect("get deleted"),
        StatusCode::NOT_FOUND,
        2,
    );
    expect_error(
        http.delete(&url).send().expect("delete again"),
        StatusCode::NOT_FOUND,
        2,
    );

    // Bad requests: malformed JSON, a body that is not bins, bad keytype, bad policy.
    let r = http
        .post(format!("{base}/v1/kvs/test/people/bad"))
        .header("content-type", "application/json")
        .body("{nope")
        .send()
        .expect("bad json");
    expect_error(r, StatusCode::BAD_REQUEST, 4);
    let r = http
        .post(format!("{base}/v1/kvs/test/people/bad"))
        .json(&json!([1, 2]))
        .send()
        .expect("not bins");
    expect_error(r, StatusCode::BAD_REQUEST, 4);
    let r = http
        .get(format!("{base}/v1/kvs/test/people/x?keytype=INTEGER"))
        .send()
        .expect("bad key");
    expect_error(r, StatusCode::BAD_REQUEST, 4);
    let r = http
        .patch(format!(
            "{base}/v1/kvs/test/people/x?recordExistsAction=SOMETIMES"
        ))
        .json(&json!({"a": 1}))
        .send()
        .expect("bad policy");
    expect_error(r, StatusCode::BAD_REQUEST, 4);
    // Unknown namespace.
    let r = http
        .get(format!("{base}/v1/kvs/nosuch/s/k"))
        .send()
        .expect("no ns");
    expect_error(r, StatusCode::NOT_FOUND, 20);

    // MessagePack in and out.
    let packed = rmp_serde::to_vec_named(&json!({"m": [1, "two"], "f": 2.5})).expect("pack");
    let r = http
        .post(format!("{base}/v1/kvs/test/people/mp"))
        .header("content-type", "application/msgpack")
        .body(packed)
        .send()
        .expect("msgpack create");
    assert_eq!(r.status(), StatusCode::CREATED);
    let r = http
        .get(format!("{base}/v1/kvs/test/people/mp"))
        .header("accept", "application/msgpack")
        .send()
        .expect("msgpack get");
    assert_eq!(
        r.headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok()),
        Some("application/msgpack")
    );
    let rec: Json = rmp_serde::from_slice(&r.bytes().expect("bytes")).expect("unpack");
    assert_eq!(rec["bins"], json!({"m": [1, "two"], "f": 2.5}));
}

#[test]
fn operate_batch_scan_query_index_truncate_info_udf() {
    let (_server, base, http) = start();
    for i in 0..20 {
        let r = http
            .post(format!("{base}/v1/kvs/test/items/k{i}"))
            .json(&json!({"n": i, "cat": if i % 2 == 0 { "even" } else { "odd" }, "l": [i]}))
            .send()
            .expect("create");
        assert_eq!(r.status(), StatusCode::CREATED);
    }

    // Operate: several ops, one atomic command, results per bin.
    let ops = json!([
        {"operation": "ADD", "opValues": {"bin": "n", "incr": 100}},
        {"operation": "LIST_APPEND", "opValues": {"bin": "l", "value": 9}},
        {"operation": "MAP_PUT", "opValues": {"bin": "m", "key": "a", "value": 1}},
        {"operation": "READ", "opValues": {"bin": "n"}},
        {"operation": "LIST_GET_BY_INDEX", "opValues": {"bin": "l", "index": -1, "listReturnType": "VALUE"}}
    ]);
    let rec = body(
        http.post(format!("{base}/v1/operate/test/items/k3"))
            .json(&ops)
            .send()
            .expect("operate"),
    );
    assert_eq!(rec["bins"]["n"], 103, "{rec}");
    assert_eq!(rec["bins"]["l"], json!([2, 9]), "{rec}");
    assert_eq!(rec["generation"], 2);
    let r = http
        .post(format!("{base}/v1/operate/test/items/k3"))
        .json(&json!([{"operation": "FROB"}]))
        .send()
        .expect("bad op");
    expect_error(r, StatusCode::BAD_REQUEST, 4);
    // An op the record's bin type refuses: incompatible type (400).
    let r = http
        .post(format!("{base}/v1/operate/test/items/k3"))
        .json(&json!([{"operation": "LIST_APPEND", "opValues": {"bin": "cat", "value": 1}}]))
        .send()
        .expect("type");
    expect_error(r, StatusCode::BAD_REQUEST, 12);

    // Batch: found and missing rows.
    let rows = body(
        http.post(format!("{base}/v1/batch"))
            .json(&json!([
                {"key": {"namespace": "test", "setName": "items", "userKey": "k1"}, "readAllBins": true},
                {"key": {"namespace": "test", "setName": "items", "userKey": "zz"}, "readAllBins": true},
                {"key": {"namespace": "test", "setName": "items", "userKey": "k2"}, "binNames": ["cat"]}
            ]))
            .send()
            .expect("batch"),
    );
    assert_eq!(rows[0]["record"]["bins"]["n"], 1, "{rows}");
    assert!(rows[1]["record"].is_null(), "{rows}");
    assert_eq!(rows[2]["record"]["bins"], json!({"cat": "even"}), "{rows}");

    // Scan the set, whole and capped.
    let all = body(
        http.get(format!("{base}/v1/scan/test/items"))
            .send()
            .expect("scan"),
    );
    assert_eq!(all["records"].as_array().map(Vec::len), Some(20), "{all}");
    assert_eq!(all["pagination"]["totalRecords"], 20);
    let few = body(
        http.get(format!("{base}/v1/scan/test/items?maxRecords=5&bins=n"))
            .send()
            .expect("scan few"),
    );
    let few = few["records"].as_array().cloned().unwrap_or_default();
    assert_eq!(few.len(), 5);
    assert!(few.iter().all(|r| r["bins"]
        .as_object()
        .is_some_and(|b| b.len() == 1 && b.contains_key("n"))));

    // Query without an index: index not found (404).
    let r = http
        .post(format!("{base}/v1/query/test/items"))
        .json(&json!({"filter": {"type": "EQUAL", "binName": "cat", "value": "odd"}}))
        .send()
        .expect("query no index");
    expect_error(r, StatusCode::NOT_FOUND, 201);
    // Create indexes, list them, query through them.
    for (name, bin, t) in [("cat_idx", "cat", "STRING"), ("n_idx", "n", "NUMERIC")] {
        let r = http
            .post(format!("{base}/v1/index"))
            .json(
                &json!({"namespace": "test", "set": "items", "name": name, "bin": bin, "type": t}),
            )
            .send()
            .expect("index");
        assert_eq!(r.status(), StatusCode::ACCEPTED);
    }
    // The same name for another definition: a conflict.
    let r = http.post(format!("{base}/v1/index")).json(&json!({"namespace": "test", "set": "items", "name": "cat_idx", "bin": "n", "type": "NUMERIC"})).send().expect("index again");
    expect_error(r, StatusCode::CONFLICT, 200);
    let list = body(
        http.get(format!("{base}/v1/index/test"))
            .send()
            .expect("index list"),
    );
    assert_eq!(list.as_array().map(Vec::len), Some(2), "{list}");
    let stats = http
        .get(format!("{base}/v1/index/test/n_idx"))
        .send()
        .expect("index stat");
    assert_eq!(stats.status(), StatusCode::OK);
    wait_query(
        &http,
        &base,
        json!({"filter": {"type": "EQUAL", "binName": "cat", "value": "odd"}}),
        10,
    );
    let q = body(
        http.post(format!("{base}/v1/query/test/items"))
            .json(&json!({"filter": {"type": "RANGE", "binName": "n", "begin": 0, "end": 4}}))
            .send()
            .expect("range"),
    );
    let mut ns: Vec<i64> = q["records"]
        .as_array()
        .cloned()
        .unwrap_or_default()
        .iter()
        .filter_map(|r| r["bins"]["n"].as_i64())
        .collect();
    ns.sort_unstable();
    assert_eq!(ns, [0, 1, 2, 4], "{q}");
    assert_eq!(
        http.delete(format!("{base}/v1/index/test/n_idx"))
            .send()
            .expect("drop")
            .status(),
        StatusCode::ACCEPTED
    );
    let gone = http
        .get(format!("{base}/v1/index/test"))
        .send()
        .expect("index list");
    assert_eq!(body(gone).as_array().map(Vec::len), Some(1));
    expect_error(
        http.get(format!("{base}/v1/index/nosuch"))
            .send()
            .expect("list no ns"),
        StatusCode::NOT_FOUND,
        20,
    );

    // Info.
    let info = body(
        http.post(format!("{base}/v1/info"))
            .json(&json!(["namespaces", "build"]))
            .send()
            .expect("info"),
    );
    assert_eq!(info["namespaces"], "test");
    assert!(info["build"].as_str().is_some_and(|b| !b.is_empty()));

    // A record UDF, registered through the info command.
    let lua = "function add(rec, bin, x)\n  rec[bin] = rec[bin] + x\n  aerospike:update(rec)\n  return rec[bin]\nend\n";
    use base64::Engine as _;
    let content = base64::engine::general_purpose::STANDARD.encode(lua);
    let cmd = format!(
        "udf-put:filename=rest.lua;content={content};content-len={};udf-type=LUA",
        content.len()
    );
    let put = body(
        http.post(format!("{base}/v1/info"))
            .json(&json!([cmd]))
            .send()
            .expect("udf-put"),
    );
    assert!(
        put[&cmd].as_str().is_some_and(|a| !a.starts_with("ERROR")),
        "{put}"
    );
    let rec = body(
        http.post(format!(
            "{base}/v1/execute/udf/test/items/k5?packageName=rest&functionName=add"
        ))
        .json(&json!(["n", 10]))
        .send()
        .expect("udf"),
    );
    assert_eq!(rec["bins"]["SUCCESS"], 15, "{rec}");
    let r = http
        .post(format!(
            "{base}/v1/execute/udf/test/items/k5?packageName=rest"
        ))
        .json(&json!([]))
        .send()
        .expect("udf no fn");
    expect_error(r, StatusCode::BAD_REQUEST, 4);

    // Truncate the set: everything goes.
    assert_eq!(
        http.delete(format!("{base}/v1/truncate/test/items"))
            .send()
            .expect("truncate")
            .status(),
        StatusCode::ACCEPTED
    );
    let after = body(
        http.get(format!("{base}/v1/scan/test/items"))
            .send()
            .expect("scan after"),
    );
    assert_eq!(
        after["records"].as_array().map(Vec::len),
        Some(0),
        "{after}"
    );
    expect_error(
        http.delete(format!("{base}/v1/truncate/nosuch"))
            .send()
            .expect("truncate none"),
        StatusCode::NOT_FOUND,
        20,
    );
}

/// Queries until the index (populated in the background) returns `want` records.
fn wait_query(http: &Http, base: &str, q: Json, want: usize) {
    let deadline = std::time::Instant::now() + TIMEOUT;
    loop {
        let b = body(
            http.post(format!("{base}/v1/query/test/items"))
                .json(&q)
                .send()
                .expect("query"),
        );
        let got = b["records"].as_array().map_or(0, Vec::len);
        if got == want {
            return;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "query returned {got}, want {want}: {b}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn openapi_lists_every_served_route() {
    let (_server, base, http) = start();
    let doc = body(
        http.get(format!("{base}/v1/openapi.json"))
            .send()
            .expect("openapi"),
    );
    assert_eq!(doc["openapi"], "3.0.3");
    let paths = doc["paths"].as_object().cloned().unwrap_or_default();
    // Every route these tests drive is documented.
    for (path, method) in [
        ("/v1/kvs/{ns}/{set}/{key}", "get"),
        ("/v1/kvs/{ns}/{set}/{key}", "head"),
        ("/v1/kvs/{ns}/{set}/{key}", "post"),
        ("/v1/kvs/{ns}/{set}/{key}", "put"),
        ("/v1/kvs/{ns}/{set}/{key}", "patch"),
        ("/v1/kvs/{ns}/{set}/{key}", "delete"),
        ("/v1/kvs/{ns}/{key}", "get"),
        ("/v1/kvs/{ns}/{key}", "post"),
        ("/v1/operate/{ns}/{set}/{key}", "post"),
        ("/v1/batch", "post"),
        ("/v1/scan/{ns}/{set}", "get"),
        ("/v1/query/{ns}/{set}", "post"),
        ("/v1/index", "post"),
        ("/v1/index/{ns}", "get"),
        ("/v1/index/{ns}/{name}", "get"),
        ("/v1/index/{ns}/{name}", "delete"),
        ("/v1/truncate/{ns}", "delete"),
        ("/v1/truncate/{ns}/{set}", "delete"),
        ("/v1/info", "post"),
        ("/v1/execute/udf/{ns}/{set}/{key}", "post"),
        ("/v1/document/{ns}/{set}/{key}", "get"),
        ("/v1/document/{ns}/{set}/{key}", "put"),
        ("/v1/document/{ns}/{set}/{key}", "post"),
        ("/v1/document/{ns}/{set}/{key}", "delete"),
        ("/v1/namespace", "get"),
        ("/v1/namespace", "post"),
        ("/v1/namespace/{ns}", "delete"),
        ("/v1/openapi.json", "get"),
    ] {
        assert!(
            paths.get(path).and_then(|p| p.get(method)).is_some(),
            "{method} {path} not in the OpenAPI document"
        );
    }
    // Every documented route is served: never the router's own 404 (text/plain) or a 405.
    let mut n = 0;
    for (path, item) in &paths {
        let concrete = path
            .replace("{ns}", "test")
            .replace("{set}", "s")
            .replace("{key}", "k")
            .replace("{name}", "i");
        for method in item
            .as_object()
            .map(|m| m.keys().cloned().collect::<Vec<_>>())
            .unwrap_or_default()
        {
            let m = reqwest::Method::from_bytes(method.to_uppercase().as_bytes()).expect("method");
            let r = http
                .request(m, format!("{base}{concrete}"))
                .header("content-type", "application/json")
                .body("{}")
                .send()
                .expect("probe");
            let status = r.status();
            let ct = r
                .headers()
                .get("content-type")
                .and_then(|v| v.to_str().ok())
                .unwrap_or("")
                .to_owned();
            assert_ne!(status, StatusCode::METHOD_NOT_ALLOWED, "{method} {path}");
            assert!(
                !(status == StatusCode::NOT_FOUND && ct.starts_with("text/plain")),
                "{method} {path} is not served"
            );
            n += 1;
        }
    }
    assert!(n >= 30, "only {n} operations documented");
    // And an undocumented path is the router's 404.
    let r = http
        .get(format!("{base}/v1/nothing/here"))
        .send()
        .expect("404");
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
}
