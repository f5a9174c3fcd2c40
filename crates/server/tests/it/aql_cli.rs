//! `aerie aql` end to end against the real server: statements given with `-c` and `-f`, their
//! table and JSON outputs, errors with result codes, and parse errors with positions.

use std::process::{Command, Output};

use aerie_testkit::ServerProcess;

fn aql(server: &ServerProcess, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_aerie"))
        .arg("aql")
        .args(["-h", &server.hosts()])
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("run aerie aql: {e}"))
}

/// Runs statements that must succeed; returns stdout.
fn ok(server: &ServerProcess, args: &[&str]) -> String {
    let o = aql(server, args);
    assert!(o.status.success(), "aql {args:?}: {o:?}");
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// Drops the `(0.001 secs)` timing so tables compare exactly.
fn untimed(s: &str) -> String {
    s.lines()
        .map(|l| match l.find(" in set (") {
            Some(i) => l.get(..i + 7).unwrap_or(l).to_owned(),
            None => l.to_owned(),
        })
        .collect::<Vec<_>>()
        .join("\n")
}

fn json(s: &str) -> serde_json::Value {
    serde_json::from_str(s).unwrap_or_else(|e| panic!("not JSON ({e}): {s}"))
}

#[test]
fn crud_by_key_in_table_and_json() {
    let server = ServerProcess::builder()
        .bin(env!("CARGO_BIN_EXE_aerie"))
        .start();
    let out = ok(
        &server,
        &["-c", "INSERT INTO test.people (PK, name, age, score, tags, attrs) VALUES ('ada', 'Ada', 36, 9.5, LIST('[\"x\",1]'), MAP('{\"k\":\"v\"}'))"],
    );
    assert_eq!(out, "OK, 1 record affected.\n");
    let out = ok(
        &server,
        &[
            "-c",
            "select name, age, score, tags, attrs from test.people where PK = 'ada'",
        ],
    );
    assert_eq!(
        untimed(&out),
        "+-------+-----+-------+-----------------+------------------+\n\
         | name  | age | score | tags            | attrs            |\n\
         +-------+-----+-------+-----------------+------------------+\n\
         | \"Ada\" | 36  | 9.5   | LIST('[\"x\",1]') | MAP('{\"k\":\"v\"}') |\n\
         +-------+-----+-------+-----------------+------------------+\n\
         1 row in set\n"
    );
    let out = ok(
        &server,
        &[
            "-o",
            "json",
            "-c",
            "SELECT * FROM test.people WHERE PK = 'ada'",
        ],
    );
    assert_eq!(
        json(&out),
        serde_json::json!([{"name": "Ada", "age": 36, "score": 9.5, "tags": ["x", 1], "attrs": {"k": "v"}}])
    );
    // UPDATE changes an existing record only.
    ok(
        &server,
        &["-c", "UPDATE test.people SET age = 37 WHERE PK = 'ada'"],
    );
    let o = aql(
        &server,
        &["-c", "UPDATE test.people SET age = 1 WHERE PK = 'nobody'"],
    );
    assert_eq!(o.status.code(), Some(1), "{o:?}");
    assert!(
        String::from_utf8_lossy(&o.stderr).starts_with("Error: (2)"),
        "{o:?}"
    );
    // SET OUTPUT in the same run, and a digest address.
    let out = ok(
        &server,
        &[
            "-c",
            "set output json; select age from test.people where pk = 'ada'",
        ],
    );
    assert!(out.starts_with("OK\n"), "{out}");
    assert_eq!(
        json(out.trim_start_matches("OK\n")),
        serde_json::json!([{"age": 37}])
    );
    let o = aql(&server, &["-c", "delete from test.people where PK = 'ada'"]);
    assert_eq!(
        String::from_utf8_lossy(&o.stdout),
        "OK, 1 record affected.\n"
    );
    let o = aql(
        &server,
        &["-c", "select * from test.people where PK = 'ada'"],
    );
    assert_eq!(o.status.code(), Some(1), "{o:?}");
    assert!(
        String::from_utf8_lossy(&o.stderr).starts_with("Error: (2)"),
        "{o:?}"
    );
    let o = aql(
        &server,
        &[
            "-c",
            "select * from test.people where DIGEST = '00112233445566778899aabbccddeeff00112233'",
        ],
    );
    assert_eq!(o.status.code(), Some(1), "{o:?}");
}

#[test]
fn index_queries_scans_and_info_views() {
    let server = ServerProcess::builder()
        .bin(env!("CARGO_BIN_EXE_aerie"))
        .start();
    let dir = server.work_dir().to_path_buf();
    let script = dir.join("load.aql");
    let mut text = String::from("-- load ten records\nset key_send true\n");
    for i in 0..10 {
        text.push_str(&format!(
            "insert into test.q (PK, n, s, loc) values ({i}, {i}, 's{}', GEOJSON('{{\"type\":\"Point\",\"coordinates\":[{}.0,0.0]}}'));\n",
            i % 3,
            i
        ));
    }
    std::fs::write(&script, text).unwrap_or_else(|e| panic!("write script: {e}"));
    let out = ok(&server, &["-f", &script.to_string_lossy()]);
    assert_eq!(out.matches("OK, 1 record affected.").count(), 10, "{out}");

    assert_eq!(
        ok(&server, &["-c", "CREATE INDEX n_idx ON test.q (n) NUMERIC"]),
        "OK, 1 index added.\n"
    );
    ok(&server, &["-c", "create index s_idx on test.q (s) string; create index g_idx on test.q (loc) geo2dsphere"]);

    let rows = json(&ok(
        &server,
        &[
            "-o",
            "json",
            "-c",
            "select n from test.q where n between 3 and 6",
        ],
    ));
    let mut ns: Vec<i64> = rows
        .as_array()
        .map(|a| a.iter().filter_map(|r| r["n"].as_i64()).collect())
        .unwrap_or_default();
    ns.sort_unstable();
    assert_eq!(ns, vec![3, 4, 5, 6]);
    let rows = json(&ok(
        &server,
        &["-o", "json", "-c", "select n from test.q where s = 's1'"],
    ));
    assert_eq!(rows.as_array().map(Vec::len), Some(3), "{rows}"); // 1, 4, 7
    let region =
        r#"{"type":"Polygon","coordinates":[[[1.5,-1],[4.5,-1],[4.5,1],[1.5,1],[1.5,-1]]]}"#;
    let rows = json(&ok(
        &server,
        &[
            "-o",
            "json",
            "-c",
            &format!("select n from test.q where loc within GEOJSON('{region}')"),
        ],
    ));
    assert_eq!(rows.as_array().map(Vec::len), Some(3), "{rows}"); // 2, 3, 4
    let rows = json(&ok(
        &server,
        &["-o", "json", "-c", "select * from test.q limit 4"],
    ));
    assert_eq!(rows.as_array().map(Vec::len), Some(4), "{rows}");
    let out = ok(&server, &["-c", "select * from test.q"]);
    assert!(
        untimed(&out).trim_end().ends_with("10 rows in set"),
        "{out}"
    );

    let out = ok(&server, &["-c", "show namespaces"]);
    assert!(
        out.contains("| namespaces |") && out.contains("| \"test\"     |"),
        "{out}"
    );
    let out = ok(&server, &["-c", "show indexes"]);
    for ix in ["n_idx", "s_idx", "g_idx"] {
        assert!(out.contains(ix), "{ix}: {out}");
    }
    let out = ok(&server, &["-o", "json", "-c", "show sets"]);
    assert!(
        json(&out)
            .as_array()
            .is_some_and(|a| a.iter().any(|r| r["set"] == "q")),
        "{out}"
    );
    let stat = json(&ok(&server, &["-o", "json", "-c", "stat namespace test"]));
    assert!(
        stat.as_array().is_some_and(|a| a
            .iter()
            .any(|r| r["name"] == "objects" && r["value"] == "10")),
        "{stat}"
    );
    assert_eq!(
        ok(&server, &["-c", "drop index test.q s_idx"]),
        "OK, 1 index removed.\n"
    );
    ok(&server, &["-c", "truncate test.q"]);
}

#[test]
fn udf_modules_register_execute_remove() {
    let server = ServerProcess::builder()
        .bin(env!("CARGO_BIN_EXE_aerie"))
        .start();
    let module = server.work_dir().join("aqlmod.lua");
    std::fs::write(
        &module,
        "function add(rec, bin, n)\n  rec[bin] = (rec[bin] or 0) + n\n  aerospike:update(rec)\n  return rec[bin]\nend\n",
    )
    .unwrap_or_else(|e| panic!("write module: {e}"));
    let out = ok(
        &server,
        &["-c", &format!("register module '{}'", module.display())],
    );
    assert_eq!(out, "OK, 1 module added.\n");
    assert!(ok(&server, &["-c", "show udfs"]).contains("aqlmod.lua"));
    ok(
        &server,
        &["-c", "insert into test.u (PK, c) values (1, 40)"],
    );
    let out = ok(
        &server,
        &[
            "-o",
            "json",
            "-c",
            "execute aqlmod.add('c', 2) on test.u where PK = 1",
        ],
    );
    assert_eq!(json(&out), serde_json::json!([{"add": 42}]));
    assert_eq!(
        ok(&server, &["-c", "remove module aqlmod.lua"]),
        "OK, 1 module removed.\n"
    );
    let o = aql(
        &server,
        &["-c", "execute aqlmod.add('c', 2) on test.u where PK = 1"],
    );
    assert_eq!(o.status.code(), Some(1), "{o:?}");
}

#[test]
fn parse_errors_name_the_position() {
    let server = ServerProcess::builder()
        .bin(env!("CARGO_BIN_EXE_aerie"))
        .start();
    let o = aql(&server, &["-c", "select * frm test.q"]);
    assert_eq!(o.status.code(), Some(2), "{o:?}");
    assert_eq!(
        String::from_utf8_lossy(&o.stderr),
        "Error: parse error at line 1, column 10: expected FROM, found 'frm'\n"
    );
    let o = aql(
        &server,
        &["-c", "insert into test.q (PK, a) values (1, LIST('{'))"],
    );
    assert_eq!(o.status.code(), Some(1), "{o:?}");
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("bad JSON"),
        "{o:?}"
    );
    let o = aql(&server, &["-c", "aggregate m.f() on test.q"]);
    assert_eq!(o.status.code(), Some(1), "{o:?}");
    assert!(
        String::from_utf8_lossy(&o.stderr).starts_with("Error: (16)"),
        "{o:?}"
    );
}
