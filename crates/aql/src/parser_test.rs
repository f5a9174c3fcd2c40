use super::*;
use proptest::prelude::*;

fn t(ns: &str, set: Option<&str>) -> Target {
    Target {
        namespace: ns.to_owned(),
        set: set.map(str::to_owned),
    }
}

#[test]
fn insert_select_delete_by_pk() -> Result<(), ParseError> {
    assert_eq!(
        parse("insert into test.demo (PK, name, age, tags) values ('k1', \"Ada\", -36, LIST('[1,2]'))")?,
        Statement::Insert {
            target: t("test", Some("demo")),
            key: KeyRef::Pk(Literal::Str("k1".into())),
            bins: vec![
                ("name".into(), Literal::Str("Ada".into())),
                ("age".into(), Literal::Int(-36)),
                ("tags".into(), Literal::List("[1,2]".into())),
            ],
        }
    );
    assert_eq!(
        parse("SELECT name, age FROM test.demo WHERE PK = 7;")?,
        Statement::SelectKey {
            bins: Some(vec!["name".into(), "age".into()]),
            target: t("test", Some("demo")),
            key: KeyRef::Pk(Literal::Int(7)),
        }
    );
    let d = "0123456789abcdef0123456789abcdef01234567";
    assert_eq!(
        parse(&format!("delete from test where digest = '{d}'"))?,
        Statement::Delete {
            target: t("test", None),
            key: KeyRef::Digest(d.into()),
        }
    );
    assert_eq!(
        parse("UPDATE test.s SET a = 1.5, b = true WHERE PK = 'x'")?,
        Statement::Update {
            target: t("test", Some("s")),
            key: KeyRef::Pk(Literal::Str("x".into())),
            bins: vec![
                ("a".into(), Literal::Float(1.5)),
                ("b".into(), Literal::Bool(true))
            ],
        }
    );
    Ok(())
}

#[test]
fn queries_and_scans() -> Result<(), ParseError> {
    assert_eq!(
        parse("select * from test.s where n between 1 and 10 limit 5")?,
        Statement::Query {
            bins: None,
            target: t("test", Some("s")),
            collection: Collection::Default,
            pred: Some(IndexPred::Between(
                "n".into(),
                Literal::Int(1),
                Literal::Int(10)
            )),
            limit: Some(5),
        }
    );
    assert_eq!(
        parse("select * from test in list where tags = 'a'")?,
        Statement::Query {
            bins: None,
            target: t("test", None),
            collection: Collection::List,
            pred: Some(IndexPred::Equal("tags".into(), Literal::Str("a".into()))),
            limit: None,
        }
    );
    let q = parse("select * from test.g where loc within GEOJSON('{\"type\":\"Polygon\"}')")?;
    assert!(matches!(
        q,
        Statement::Query {
            pred: Some(IndexPred::GeoWithin(..)),
            ..
        }
    ));
    let q = parse("select * from test.g where rgn contains GeoJSON('{}')")?;
    assert!(matches!(
        q,
        Statement::Query {
            pred: Some(IndexPred::GeoContains(..)),
            ..
        }
    ));
    assert!(matches!(
        parse("select * from test")?,
        Statement::Query {
            pred: None,
            limit: None,
            ..
        }
    ));
    Ok(())
}

#[test]
fn admin_statements() -> Result<(), ParseError> {
    assert_eq!(
        parse("CREATE MAPKEYS INDEX ix ON test.s (m) STRING")?,
        Statement::CreateIndex {
            name: "ix".into(),
            collection: Collection::MapKeys,
            target: t("test", Some("s")),
            bin: "m".into(),
            kind: IndexKind::String,
        }
    );
    assert_eq!(
        parse("drop index test.s ix")?,
        Statement::DropIndex {
            target: t("test", Some("s")),
            name: "ix".into()
        }
    );
    assert_eq!(parse("show namespaces")?, Statement::Show(Show::Namespaces));
    assert_eq!(parse("SHOW modules")?, Statement::Show(Show::Udfs));
    assert_eq!(
        parse("stat namespace test")?,
        Statement::StatNamespace("test".into())
    );
    assert_eq!(
        parse("register module 'a/b.lua'")?,
        Statement::RegisterModule("a/b.lua".into())
    );
    assert_eq!(
        parse("remove module b.lua")?,
        Statement::RemoveModule("b.lua".into())
    );
    assert_eq!(
        parse("execute m.f(1, 'x') on test.s where pk = 1")?,
        Statement::ExecuteKey {
            call: UdfCall {
                module: "m".into(),
                function: "f".into(),
                args: vec![Literal::Int(1), Literal::Str("x".into())],
            },
            target: t("test", Some("s")),
            key: KeyRef::Pk(Literal::Int(1)),
        }
    );
    assert!(matches!(
        parse("execute m.f() on test.s")?,
        Statement::ExecuteBackground { pred: None, .. }
    ));
    assert!(matches!(
        parse("aggregate m.f() on test.s where n = 1")?,
        Statement::Aggregate { .. }
    ));
    assert_eq!(
        parse("truncate test.s upto 100")?,
        Statement::Truncate {
            target: t("test", Some("s")),
            upto_nanos: Some(100)
        }
    );
    assert_eq!(
        parse("set output json")?,
        Statement::Set(Setting::Output(OutputMode::Json))
    );
    assert_eq!(
        parse("set record_ttl -1")?,
        Statement::Set(Setting::RecordTtl(-1))
    );
    assert_eq!(
        parse("set key_send true")?,
        Statement::Set(Setting::KeySend(true))
    );
    assert_eq!(parse("run 'x.aql'")?, Statement::Run("x.aql".into()));
    assert_eq!(
        parse_statements("show sets; show bins;\n-- comment\n")?.len(),
        2
    );
    assert_eq!(
        parse_script("show sets\n-- c\nshow bins; show udfs\n\n")?.len(),
        3
    );
    let src = "show sets\nshow nothing";
    let e = parse_script(src)
        .err()
        .map(|e| e.render(src))
        .unwrap_or_default();
    assert_eq!(e, "line 2, column 6: expected NAMESPACES, SETS, BINS, INDEXES, UDFS, QUERIES or SCANS, found 'nothing'");
    Ok(())
}

#[test]
fn errors_point_at_the_token() {
    let src = "select * frm test";
    let e = parse(src).err().unwrap_or_else(|| ParseError::new(0, ""));
    assert_eq!(e.pos, 9);
    assert_eq!(
        e.render(src),
        "line 1, column 10: expected FROM, found 'frm'"
    );
    let src = "insert into test.s (PK, a) values (1)";
    let e = parse(src).err().map(|e| e.render(src)).unwrap_or_default();
    assert!(e.contains("2 names but 1 values"), "{e}");
    let src = "insert into test.s (a) values ('x')";
    assert!(parse(src).is_err());
    let src = "select * from test where pk = 'unterminated";
    let e = parse(src).err().map(|e| e.render(src)).unwrap_or_default();
    assert_eq!(e, "line 1, column 31: unterminated string");
    let src = "set\noutput xml";
    let e = parse(src).err().map(|e| e.render(src)).unwrap_or_default();
    assert_eq!(
        e,
        "line 2, column 8: expected TABLE, JSON or RAW, found 'xml'"
    );
    assert!(parse("select * from test where digest = 'abc'").is_err());
    assert!(parse("select * from test limit -1").is_err());
    assert!(parse("insert into t (PK) values (9223372036854775808)").is_err());
    assert_eq!(
        parse("insert into t (PK) values (-9223372036854775808)").ok(),
        Some(Statement::Insert {
            target: t("t", None),
            key: KeyRef::Pk(Literal::Int(i64::MIN)),
            bins: vec![]
        })
    );
    assert!(parse("frobnicate").is_err());
    assert!(parse("").is_err());
}

proptest! {
    /// Any text parses or fails with an offset inside it, never a panic.
    #[test]
    fn never_panics(src in "\\PC{0,80}") {
        if let Err(e) = parse_statements(&src) {
            prop_assert!(e.pos <= src.len());
            let _ = e.render(&src);
        }
    }

    /// Statement-shaped token soup, to get past the first keyword.
    #[test]
    fn never_panics_on_token_soup(words in proptest::collection::vec(prop_oneof![
        Just("select"), Just("insert"), Just("into"), Just("from"), Just("where"), Just("pk"),
        Just("="), Just("("), Just(")"), Just(","), Just("'s'"), Just("1"), Just("-"),
        Just("test.s"), Just("between"), Just("and"), Just("limit"), Just("set"), Just("values"),
        Just("json"), Just("list"), Just("in"), Just("execute"), Just("m.f"), Just("on"),
        Just(";"), Just("create"), Just("index"), Just("numeric"), Just("digest"),
    ], 0..16)) {
        let src = words.join(" ");
        if let Err(e) = parse_statements(&src) {
            prop_assert!(e.pos <= src.len());
        }
    }
}
