//! Every entry point takes client bytes: random and half-structured input must yield a result
//! or an error, never a panic, and an error must leave nothing to store.

use aerie_cdt::bits::{bits_modify, bits_read};
use aerie_cdt::hll::{hll_modify, hll_read};
use aerie_cdt::msgpack::{encode, List};
use aerie_cdt::{cdt_modify, cdt_read, Value};
use aerie_record::particle;
use proptest::prelude::*;

fn arb_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Nil),
        any::<bool>().prop_map(Value::Bool),
        (-300i64..300).prop_map(Value::Int),
        any::<i64>().prop_map(Value::Int),
        "[a-c]{0,3}".prop_map(|s| Value::string(&s)),
        proptest::collection::vec(any::<u8>(), 0..4).prop_map(|b| Value::blob(&b)),
        (-2.0f64..2.0).prop_map(Value::Float),
        Just(Value::Wildcard),
        Just(Value::Infinity),
    ];
    leaf.prop_recursive(3, 24, 4, |inner| {
        prop_oneof![
            (0u8..2, proptest::collection::vec(inner.clone(), 0..4))
                .prop_map(|(f, v)| Value::List(List::new(f, v))),
            proptest::collection::vec((inner.clone(), inner), 0..3)
                .prop_map(|e| Value::Map(aerie_cdt::Map::new(0, e))),
        ]
    })
}

/// `[op, args…]`, sometimes wrapped in a context.
fn arb_op() -> impl Strategy<Value = Vec<u8>> {
    let ids = prop_oneof![0i64..41, 64i64..111, Just(0xff), 50i64..57];
    (
        ids,
        proptest::collection::vec(arb_value(), 0..5),
        proptest::option::of(proptest::collection::vec(arb_value(), 0..4)),
    )
        .prop_map(|(id, args, ctx)| {
            let mut inner = vec![Value::Int(id)];
            inner.extend(args);
            let inner = Value::List(List::new(0, inner));
            let v = match ctx {
                Some(c) => Value::List(List::new(
                    0,
                    vec![Value::Int(0xff), Value::List(List::new(0, c)), inner],
                )),
                None => inner,
            };
            encode(&v)
        })
}

fn bins() -> Vec<(u8, Vec<u8>)> {
    let list = encode(&Value::List(List::new(
        0,
        vec![Value::Int(3), Value::string("x"), Value::Int(-1)],
    )));
    let map = encode(&Value::Map(aerie_cdt::Map::new(
        0,
        vec![
            (
                Value::Int(1),
                Value::List(List::new(0, vec![Value::Int(2)])),
            ),
            (Value::string("k"), Value::Nil),
        ],
    )));
    let hll = aerie_cdt::hll::Hll::new(4, 4).to_bytes();
    vec![
        (particle::LIST, list),
        (particle::MAP, map),
        (particle::BLOB, vec![0xde, 0xad, 0xbe, 0xef]),
        (particle::HLL, hll),
        (particle::STRING, b"s".to_vec()),
    ]
}

fn exercise(op: &[u8]) {
    let _ = cdt_modify(None, op);
    let _ = bits_modify(None, op);
    let _ = hll_modify(None, op);
    for (t, b) in bins() {
        if let Err(_e) = cdt_modify(Some((t, &b)), op) {}
        let _ = cdt_read(t, &b, op);
        let _ = bits_modify(Some((t, &b)), op);
        let _ = bits_read(t, &b, op);
        let _ = hll_modify(Some((t, &b)), op);
        let _ = hll_read(t, &b, op);
    }
}

proptest! {
    #[test]
    fn random_bytes_never_panic(b in proptest::collection::vec(any::<u8>(), 0..48)) {
        exercise(&b);
    }

    #[test]
    fn structured_ops_never_panic(op in arb_op()) {
        exercise(&op);
    }
}
