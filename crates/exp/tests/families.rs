//! One test per expression family, against a record built in memory.

use aerie_cdt::msgpack::{encode, List, Map, Value, MAP_K_ORDERED};
use aerie_exp::{BinSource, ExpError, Filter, Outcome, Program, RecordView};
use aerie_record::bins::push_bin;
use aerie_record::particle;

fn op(code: i64, args: Vec<Value>) -> Value {
    let mut items = vec![Value::Int(code)];
    items.extend(args);
    Value::List(List::new(0, items))
}
fn raw(s: &str) -> Value {
    Value::Str(s.as_bytes().to_vec())
}
fn bin(ty: i64, name: &str) -> Value {
    op(81, vec![Value::Int(ty), raw(name)])
}
fn int(i: i64) -> Value {
    Value::Int(i)
}
fn list(items: Vec<Value>) -> Value {
    Value::List(List::new(0, items))
}
fn quoted(items: Vec<Value>) -> Value {
    op(126, vec![list(items)])
}

const INT: i64 = 2;
const STR: i64 = 3;
const LIST: i64 = 4;
const MAP: i64 = 5;
const BLOB: i64 = 6;
const FLOAT: i64 = 7;
const HLL: i64 = 9;

struct Rec {
    flat: Vec<u8>,
    digest: [u8; 20],
}

fn record() -> Rec {
    let mut flat = Vec::new();
    push_bin(&mut flat, b"i", particle::INTEGER, &42i64.to_be_bytes());
    push_bin(&mut flat, b"f", particle::FLOAT, &2.5f64.to_be_bytes());
    push_bin(&mut flat, b"s", particle::STRING, b"hello World");
    push_bin(&mut flat, b"b", particle::BLOB, &[0b1010_0000, 0xff]);
    let l = encode(&list(vec![int(1), int(5), int(3)]));
    push_bin(&mut flat, b"l", particle::LIST, &l);
    let m = encode(&Value::Map(Map::new(
        0,
        vec![(Value::string("a"), int(1)), (Value::string("b"), int(2))],
    )));
    push_bin(&mut flat, b"m", particle::MAP, &m);
    let mut digest = [0u8; 20];
    digest[16..20].copy_from_slice(&7u32.to_le_bytes());
    Rec { flat, digest }
}

fn view(r: &Rec) -> RecordView<'_> {
    let mut v = RecordView::new(&r.digest, BinSource::Flat(&r.flat));
    v.set_name = b"demo";
    v.last_update_ms = 1000;
    v.record_size_bytes = 120;
    v
}

fn check(exp: Value) -> Result<bool, ExpError> {
    let r = record();
    Filter::compile(&encode(&exp))?.matches(&view(&r))
}

fn eval(exp: Value) -> Result<Outcome, ExpError> {
    let r = record();
    Ok(Program::compile(&encode(&exp))?.eval(&view(&r)))
}

fn int_out(i: i64) -> Outcome {
    Outcome::Particle(particle::INTEGER, i.to_be_bytes().to_vec())
}

#[test]
fn comparisons_and_logic() -> Result<(), ExpError> {
    assert!(check(op(1, vec![bin(INT, "i"), int(42)]))?);
    assert!(!check(op(2, vec![bin(INT, "i"), int(42)]))?);
    assert!(check(op(3, vec![bin(FLOAT, "f"), Value::Float(2.0)]))?);
    assert!(check(op(5, vec![bin(STR, "s"), Value::string("hi")]))?);
    assert!(check(op(
        1,
        vec![bin(BLOB, "b"), Value::blob(&[0b1010_0000, 0xff])]
    ))?);
    // A missing bin or a bin of another type is unknown: never a match, also under not().
    assert!(!check(op(1, vec![bin(INT, "nope"), int(1)]))?);
    assert!(!check(op(18, vec![op(1, vec![bin(INT, "s"), int(1)])]))?);
    let t = op(1, vec![int(1), int(1)]);
    let f = op(1, vec![int(1), int(2)]);
    assert!(check(op(16, vec![t.clone(), t.clone()]))?);
    assert!(!check(op(16, vec![t.clone(), f.clone()]))?);
    assert!(check(op(17, vec![f.clone(), t.clone()]))?);
    assert!(check(op(19, vec![f.clone(), t.clone()]))?);
    assert!(!check(op(19, vec![t.clone(), t.clone()]))?);
    // Unknown with or(true) is true, with and(false) false.
    let unk = op(1, vec![bin(INT, "nope"), int(1)]);
    assert!(check(op(17, vec![unk.clone(), t]))?);
    assert!(!check(op(16, vec![unk, f]))?);
    assert!(check(op(1, vec![Value::Nil, Value::Nil]))?);
    assert!(check(op(9, vec![int(5), quoted(vec![int(1), int(5)])]))?);
    Ok(())
}

#[test]
fn arithmetic_and_int_bits() -> Result<(), ExpError> {
    assert_eq!(eval(op(20, vec![bin(INT, "i"), int(8)]))?, int_out(50));
    assert_eq!(eval(op(21, vec![int(5)]))?, int_out(-5));
    assert_eq!(eval(op(23, vec![int(100), int(5), int(2)]))?, int_out(10));
    assert_eq!(eval(op(23, vec![int(1), int(0)]))?, Outcome::Unknown);
    assert_eq!(eval(op(26, vec![int(7), int(0)]))?, Outcome::Unknown);
    assert_eq!(eval(op(26, vec![int(7), int(4)]))?, int_out(3));
    assert_eq!(eval(op(27, vec![int(-3)]))?, int_out(3));
    assert_eq!(
        eval(op(30, vec![op(28, vec![bin(FLOAT, "f")])]))?,
        int_out(2)
    );
    assert_eq!(
        eval(op(30, vec![op(29, vec![bin(FLOAT, "f")])]))?,
        int_out(3)
    );
    assert!(check(op(
        1,
        vec![
            op(24, vec![Value::Float(2.0), Value::Float(3.0)]),
            Value::Float(8.0)
        ]
    ))?);
    assert!(check(op(
        1,
        vec![
            op(25, vec![Value::Float(8.0), Value::Float(2.0)]),
            Value::Float(3.0)
        ]
    ))?);
    assert_eq!(
        eval(op(31, vec![int(2)]))?,
        Outcome::Particle(particle::FLOAT, 2f64.to_be_bytes().to_vec())
    );
    assert_eq!(
        eval(op(32, vec![int(0b1100), int(0b1010)]))?,
        int_out(0b1000)
    );
    assert_eq!(
        eval(op(33, vec![int(0b1100), int(0b1010)]))?,
        int_out(0b1110)
    );
    assert_eq!(
        eval(op(34, vec![int(0b1100), int(0b1010)]))?,
        int_out(0b0110)
    );
    assert_eq!(eval(op(35, vec![int(0)]))?, int_out(-1));
    assert_eq!(eval(op(36, vec![int(1), int(4)]))?, int_out(16));
    assert_eq!(eval(op(37, vec![int(-1), int(60)]))?, int_out(15));
    assert_eq!(eval(op(38, vec![int(-16), int(2)]))?, int_out(-4));
    assert_eq!(eval(op(39, vec![int(0b1011)]))?, int_out(3));
    assert_eq!(eval(op(40, vec![int(1), Value::Bool(true)]))?, int_out(63));
    assert_eq!(eval(op(40, vec![int(0), Value::Bool(true)]))?, int_out(-1));
    assert_eq!(eval(op(41, vec![int(8), Value::Bool(true)]))?, int_out(60));
    assert_eq!(eval(op(50, vec![int(3), int(1), int(2)]))?, int_out(1));
    assert_eq!(eval(op(51, vec![int(3), int(1), int(2)]))?, int_out(3));
    Ok(())
}

#[test]
fn metadata() -> Result<(), ExpError> {
    assert_eq!(eval(op(64, vec![int(5)]))?, int_out(2));
    assert_eq!(eval(op(74, vec![]))?, int_out(120));
    assert_eq!(eval(op(68, vec![]))?, int_out(-1));
    assert_eq!(eval(op(69, vec![]))?, int_out(-1));
    assert!(check(op(
        3,
        vec![op(66, vec![]), int(1_262_304_000_000_000_000)]
    ))?);
    assert!(check(op(3, vec![op(67, vec![]), int(0)]))?);
    assert!(check(op(1, vec![op(70, vec![]), Value::string("demo")]))?);
    assert!(!check(op(71, vec![]))?);
    assert!(!check(op(72, vec![]))?);
    assert_eq!(eval(op(82, vec![raw("s")]))?, int_out(3));
    assert_eq!(eval(op(82, vec![raw("zz")]))?, int_out(0));
    // No stored key: key reads are unknown.
    assert_eq!(eval(op(80, vec![int(INT)]))?, Outcome::Unknown);
    Ok(())
}

#[test]
fn regex_cond_and_variables() -> Result<(), ExpError> {
    assert!(check(op(7, vec![int(0), raw("^hello"), bin(STR, "s")]))?);
    assert!(!check(op(7, vec![int(0), raw("world"), bin(STR, "s")]))?);
    assert!(check(op(7, vec![int(2), raw("world"), bin(STR, "s")]))?);
    let c = op(
        123,
        vec![
            op(1, vec![bin(INT, "i"), int(1)]),
            int(10),
            op(1, vec![bin(INT, "i"), int(42)]),
            int(20),
            int(30),
        ],
    );
    assert_eq!(eval(c)?, int_out(20));
    let l = op(
        125,
        vec![
            raw("x"),
            bin(INT, "i"),
            raw("y"),
            op(20, vec![op(124, vec![raw("x")]), int(1)]),
            op(
                16,
                vec![
                    op(3, vec![op(124, vec![raw("y")]), int(42)]),
                    op(5, vec![op(124, vec![raw("x")]), int(43)]),
                ],
            ),
        ],
    );
    assert!(check(l)?);
    Ok(())
}

#[test]
fn list_map_calls() -> Result<(), ExpError> {
    // size(l) == 3
    let size = op(
        127,
        vec![int(INT), int(0), list(vec![int(16)]), bin(LIST, "l")],
    );
    assert!(check(op(1, vec![size, int(3)]))?);
    // get_by_index(VALUE, 1) == 5
    let get = op(
        127,
        vec![
            int(INT),
            int(0),
            list(vec![int(19), int(7), int(1)]),
            bin(LIST, "l"),
        ],
    );
    assert!(check(op(1, vec![get, int(5)]))?);
    // size(append(l, 9)) == 4 (modify on a copy)
    let append = op(
        127,
        vec![
            int(LIST),
            int(0x40),
            list(vec![int(1), int(9)]),
            bin(LIST, "l"),
        ],
    );
    let size2 = op(127, vec![int(INT), int(0), list(vec![int(16)]), append]);
    assert!(check(op(1, vec![size2, int(4)]))?);
    // map get_by_key("b", VALUE) == 2
    let mget = op(
        127,
        vec![
            int(INT),
            int(0),
            list(vec![int(97), int(7), Value::string("b")]),
            bin(MAP, "m"),
        ],
    );
    assert!(check(op(1, vec![mget, int(2)]))?);
    // Wrong bin type for the op: unknown.
    let bad = op(
        127,
        vec![int(INT), int(0), list(vec![int(16)]), bin(LIST, "m")],
    );
    assert!(!check(op(1, vec![bad, int(2)]))?);
    Ok(())
}

#[test]
fn ordered_map_comparisons() -> Result<(), ExpError> {
    let m = |n: i64| {
        Value::Map(Map::new(
            MAP_K_ORDERED,
            (0..n).map(|i| (int(i), int(i))).collect(),
        ))
    };
    assert!(check(op(3, vec![m(3), m(2)]))?);
    assert!(check(op(1, vec![m(2), m(2)]))?);
    // An unordered map does not compare.
    assert!(!check(op(1, vec![bin(MAP, "m"), bin(MAP, "m")]))?);
    Ok(())
}

#[test]
fn bits_and_hll_calls() -> Result<(), ExpError> {
    // count(b, 0, 16) == 10
    let count = op(
        127,
        vec![
            int(INT),
            int(1),
            list(vec![int(51), int(0), int(16)]),
            bin(BLOB, "b"),
        ],
    );
    assert!(check(op(1, vec![count, int(10)]))?);
    // HLL: init on nil, add, count.
    let init = op(
        127,
        vec![
            int(HLL),
            int(0x42),
            list(vec![int(0), int(8), int(0), int(0)]),
            Value::Nil,
        ],
    );
    let add = op(
        127,
        vec![
            int(HLL),
            int(0x42),
            list(vec![
                int(1),
                quoted(vec![Value::string("x"), Value::string("y")]),
                int(-1),
                int(-1),
                int(0),
            ]),
            init,
        ],
    );
    let count = op(127, vec![int(INT), int(2), list(vec![int(50)]), add]);
    assert_eq!(eval(count)?, int_out(2));
    Ok(())
}

#[test]
fn geo_compare() -> Result<(), ExpError> {
    let geo = |s: &str| {
        let mut v = vec![23u8];
        v.extend_from_slice(s.as_bytes());
        Value::Str(v)
    };
    let point = geo(r#"{"type":"Point","coordinates":[-122.0,37.5]}"#);
    let circle = geo(r#"{"type":"AeroCircle","coordinates":[[-122.0,37.5],1000]}"#);
    let far = geo(r#"{"type":"AeroCircle","coordinates":[[0.0,0.0],1000]}"#);
    let square = geo(
        r#"{"type":"Polygon","coordinates":[[[-123,37],[-121,37],[-121,38],[-123,38],[-123,37]]]}"#,
    );
    assert!(check(op(8, vec![point.clone(), circle]))?);
    assert!(!check(op(8, vec![point.clone(), far]))?);
    assert!(check(op(8, vec![square, point]))?);
    Ok(())
}

#[test]
fn bad_expressions_are_parameter_errors() {
    let bad: Vec<Value> = vec![
        op(1, vec![int(1)]),                          // arity
        op(1, vec![int(1), Value::string("x")]),      // type mismatch
        op(16, vec![int(1), int(2)]),                 // and of ints
        op(20, vec![int(1), Value::Float(1.0)]),      // mixed arithmetic
        op(999, vec![]),                              // unknown op
        op(124, vec![raw("undefined")]),              // unbound variable
        op(7, vec![int(0), raw("("), bin(STR, "s")]), // bad regex
        op(
            127,
            vec![int(INT), int(9), list(vec![int(16)]), bin(LIST, "l")],
        ),
        Value::Str(b"no-prefix".to_vec()),
    ];
    for b in bad {
        let bytes = encode(&b);
        assert!(Filter::compile(&bytes).is_err(), "{b:?}");
    }
    // Garbage and truncation.
    for b in [&[0xc1u8][..], &[0x93, 0x01], &[]] {
        assert!(Filter::compile(b).is_err());
    }
    // Deep nesting is bounded.
    let mut deep = op(1, vec![int(1), int(1)]);
    for _ in 0..100 {
        deep = op(18, vec![deep]);
    }
    assert!(Filter::compile(&encode(&deep)).is_err());
}

proptest::proptest! {
    #[test]
    fn random_bytes_never_panic(b in proptest::collection::vec(proptest::num::u8::ANY, 0..64)) {
        let r = record();
        if let Ok(p) = Program::compile(&b) {
            let _ = p.eval(&view(&r));
        }
    }
}

/// `[122, type, part]`: a path loop variable.
fn loop_var(ty: i64, part: i64) -> Value {
    op(122, vec![int(ty), int(part)])
}

#[test]
fn map_keys_values_and_path_calls() -> Result<(), ExpError> {
    // map_keys(m) == ["a", "b"], map_values(m) == [1, 2]
    let keys = op(101, vec![bin(MAP, "m")]);
    assert!(check(op(
        1,
        vec![keys, quoted(vec![Value::string("a"), Value::string("b")])]
    ))?);
    let values = op(102, vec![bin(MAP, "m")]);
    assert!(check(op(1, vec![values, quoted(vec![int(1), int(2)])]))?);
    // map_keys of a list is refused when the type is known.
    assert!(Program::compile(&encode(&op(101, vec![bin(LIST, "l")]))).is_err());
    // A loop variable outside a path is unknown; the index part must be an integer.
    assert!(!check(op(1, vec![loop_var(INT, 1), int(1)]))?);
    assert!(Program::compile(&encode(&loop_var(STR, 2))).is_err());

    // select_by_path(l, VALUE, [exp: value > 2]) == [5, 3]: call with op 0xfe.
    let filter = op(3, vec![loop_var(INT, 1), int(2)]);
    let path = list(vec![
        int(0xfe),
        list(vec![int(0x04), filter.clone()]),
        int(1),
    ]);
    let select = op(127, vec![int(LIST), int(0), path, bin(LIST, "l")]);
    assert!(check(op(1, vec![select, quoted(vec![int(5), int(3)])]))?);
    // modify_by_path(l, [exp: value > 2], value * 10) == [1, 50, 30]
    let times10 = op(22, vec![loop_var(INT, 1), int(10)]);
    let path = list(vec![
        int(0xfe),
        list(vec![int(0x04), filter.clone()]),
        int(4),
        times10,
    ]);
    let modify = op(127, vec![int(LIST), int(0x40), path, bin(LIST, "l")]);
    assert!(check(op(
        1,
        vec![modify, quoted(vec![int(1), int(50), int(30)])]
    ))?);
    // ... and with remove_result, the selected leaves go.
    let path = list(vec![
        int(0xfe),
        list(vec![int(0x04), filter]),
        int(4),
        op(100, vec![]),
    ]);
    let remove = op(127, vec![int(LIST), int(0x40), path, bin(LIST, "l")]);
    assert!(check(op(1, vec![remove, quoted(vec![int(1)])]))?);
    // An apply in a read call is refused.
    let bad = list(vec![
        int(0xfe),
        list(vec![int(0x04), Value::Bool(true)]),
        int(4),
        int(1),
    ]);
    let bad = op(127, vec![int(LIST), int(0), bad, bin(LIST, "l")]);
    assert!(Program::compile(&encode(&bad)).is_err());
    Ok(())
}

#[test]
fn path_ops_on_nested_values() -> Result<(), aerie_exp::path::PathError> {
    use aerie_exp::path::{run_op, PathError};
    let r = record();
    let v = view(&r);
    // {"x": {"a": 1, "b": 20, "c": [7, 8]}}
    let inner = Value::Map(Map::new(
        0,
        vec![
            (Value::string("a"), int(1)),
            (Value::string("b"), int(20)),
            (Value::string("c"), list(vec![int(7), int(8)])),
        ],
    ));
    let doc = encode(&Value::Map(Map::new(0, vec![(Value::string("x"), inner)])));
    let bin = Some((particle::MAP, &doc[..]));
    let path = |ctx: Vec<Value>, flags: i64| encode(&list(vec![int(0xfe), list(ctx), int(flags)]));
    let all = vec![int(0x22), Value::string("x"), int(0x04), Value::Bool(true)];
    // Leaf keys, values, pairs.
    let (keys, _) = run_op(bin, &path(all.clone(), 2), true, &v)?;
    assert_eq!(
        keys,
        Some(list(vec![
            Value::string("a"),
            Value::string("b"),
            Value::string("c")
        ]))
    );
    let (pairs, _) = run_op(bin, &path(all.clone(), 3), true, &v)?;
    assert!(matches!(pairs, Some(Value::List(l)) if l.items.len() == 6));
    // Map keys in a list (0x2a) ANDed with a value filter (0x204).
    let ctx = vec![
        int(0x22),
        Value::string("x"),
        int(0x2a),
        list(vec![Value::string("a"), Value::string("b")]),
        int(0x204),
        op(3, vec![loop_var(INT, 1), int(5)]),
    ];
    let (vals, _) = run_op(bin, &path(ctx, 1), true, &v)?;
    assert_eq!(vals, Some(list(vec![int(20)])));
    // A filter that cannot be decided (an int loop variable on a list value) fails the op,
    // unless NO_FAIL.
    let undecided = vec![
        int(0x22),
        Value::string("x"),
        int(0x04),
        op(3, vec![loop_var(INT, 1), int(5)]),
    ];
    assert_eq!(
        run_op(bin, &path(undecided.clone(), 1), true, &v),
        Err(PathError::Parameter)
    );
    let (vals, _) = run_op(bin, &path(undecided, 0x11), true, &v)?;
    assert_eq!(vals, Some(list(vec![int(20)])));
    // Map keys asked of a list leaf: a type error.
    let list_leaf = vec![
        int(0x22),
        Value::string("x"),
        int(0x22),
        Value::string("c"),
        int(0x04),
        Value::Bool(true),
    ];
    assert_eq!(
        run_op(bin, &path(list_leaf, 2), true, &v),
        Err(PathError::IncompatibleType)
    );
    // Malformed: odd context, bad type, too few arguments.
    for bad in [
        encode(&list(vec![int(0xfe), list(vec![int(0x22)]), int(1)])),
        encode(&list(vec![
            int(0xfe),
            list(vec![int(0x07), int(1)]),
            int(1),
        ])),
        encode(&list(vec![int(0xfe), list(all.clone())])),
        encode(&list(vec![int(0xfe), list(all.clone()), int(9)])),
    ] {
        assert_eq!(run_op(bin, &bad, true, &v), Err(PathError::Parameter));
    }
    Ok(())
}

proptest::proptest! {
    /// Path ops from random bytes behind a valid `[0xfe, …]` prefix, on a nested bin: an
    /// answer or an error, never a panic.
    #[test]
    fn random_path_ops_never_panic(
        tail in proptest::collection::vec(proptest::num::u8::ANY, 0..48),
        flags in 0u8..0x20,
    ) {
        let r = record();
        let v = view(&r);
        let doc = encode(&Value::Map(Map::new(
            0,
            vec![(Value::string("k"), list(vec![int(1), list(vec![int(2)])]))],
        )));
        // [0xfe, [random…], flags] and [0xfe, [random…], flags, 1]
        for apply in [false, true] {
            let mut op_bytes = vec![if apply { 0x94 } else { 0x93 }, 0xcc, 0xfe, 0xdc];
            op_bytes.extend_from_slice(&u16::try_from(tail.len() / 2).unwrap_or(0).to_be_bytes());
            op_bytes.extend_from_slice(&tail);
            op_bytes.push(flags);
            if apply {
                op_bytes.push(0x01);
            }
            let _ = aerie_exp::path::run_op(Some((particle::MAP, &doc)), &op_bytes, !apply, &v);
        }
    }
}
