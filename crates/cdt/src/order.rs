//! Aerospike's cross-type value order:
//! nil < false < true < negative int < int < string < list < map < bytes < double < GeoJSON < ext
//! < (wildcard) < infinity.
//!
//! Comparison walks both values depth first, as the server compares two msgpack buffers
//! element by element: strings, bytes and GeoJSON compare by their bytes (particle-type byte
//! included) and then by length; lists element-wise and then by length; maps first by pair count
//! and then pair by pair. Meeting a wildcard on either side ends the whole comparison as "equal".

use std::cmp::Ordering;

use crate::msgpack::{Value, BYTES_GEOJSON, BYTES_STRING};

/// Ranks of the value types, in their order.
fn type_rank(v: &Value) -> u8 {
    match v {
        Value::Nil => 1,
        Value::Bool(false) => 2,
        Value::Bool(true) => 3,
        Value::Int(i) if *i < 0 => 4,
        Value::Int(_) | Value::Uint(_) => 5,
        Value::Str(s) | Value::Bin(s) => match (s.len(), s.first()) {
            (0, _) => 9,
            (_, Some(&BYTES_STRING)) => 6,
            (_, Some(&BYTES_GEOJSON)) => 11,
            _ => 9,
        },
        Value::List(_) => 7,
        Value::Map(_) => 8,
        Value::Float(_) => 10,
        Value::Ext(..) => 12,
        Value::Wildcard => 13,
        Value::Infinity => 14,
    }
}

/// Outcome of comparing: an order, or "a wildcard was met" (counts as equal and stops).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Cmp {
    Ord(Ordering),
    Wild,
}

/// Compares two values in Aerospike's order.
pub fn compare(a: &Value, b: &Value) -> Ordering {
    match cmp(a, b) {
        Cmp::Ord(o) => o,
        Cmp::Wild => Ordering::Equal,
    }
}

/// Whether two values are equal in Aerospike's order (wildcards match anything).
pub fn equal(a: &Value, b: &Value) -> bool {
    compare(a, b) == Ordering::Equal
}

fn int_key(v: &Value) -> u64 {
    // The server compares integers of one sign as u64; two's complement keeps the order.
    match v {
        Value::Int(i) => *i as u64,
        Value::Uint(u) => *u,
        _ => 0,
    }
}

fn cmp(a: &Value, b: &Value) -> Cmp {
    if matches!(a, Value::Wildcard) || matches!(b, Value::Wildcard) {
        return Cmp::Wild;
    }
    let (ta, tb) = (type_rank(a), type_rank(b));
    if ta != tb {
        return Cmp::Ord(ta.cmp(&tb));
    }
    match (a, b) {
        (Value::Int(_) | Value::Uint(_), Value::Int(_) | Value::Uint(_)) => {
            Cmp::Ord(int_key(a).cmp(&int_key(b)))
        }
        (Value::Str(x) | Value::Bin(x), Value::Str(y) | Value::Bin(y))
        | (Value::Ext(_, x), Value::Ext(_, y)) => Cmp::Ord(bytes_cmp(x, y)),
        (Value::Float(x), Value::Float(y)) => Cmp::Ord(x.partial_cmp(y).unwrap_or(Ordering::Equal)),
        (Value::List(x), Value::List(y)) => {
            for (p, q) in x.items.iter().zip(&y.items) {
                match cmp(p, q) {
                    Cmp::Ord(Ordering::Equal) => {}
                    other => return other,
                }
            }
            Cmp::Ord(x.items.len().cmp(&y.items.len()))
        }
        (Value::Map(x), Value::Map(y)) => {
            let by_len = x.entries.len().cmp(&y.entries.len());
            if by_len != Ordering::Equal {
                return Cmp::Ord(by_len);
            }
            for ((k1, v1), (k2, v2)) in x.entries.iter().zip(&y.entries) {
                for (p, q) in [(k1, k2), (v1, v2)] {
                    match cmp(p, q) {
                        Cmp::Ord(Ordering::Equal) => {}
                        other => return other,
                    }
                }
            }
            Cmp::Ord(Ordering::Equal)
        }
        _ => Cmp::Ord(Ordering::Equal),
    }
}

fn bytes_cmp(x: &[u8], y: &[u8]) -> Ordering {
    let n = x.len().min(y.len());
    match x.get(..n).cmp(&y.get(..n)) {
        Ordering::Equal => x.len().cmp(&y.len()),
        o => o,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::msgpack::{List, Map};

    #[test]
    fn cross_type_order() {
        let ladder = [
            Value::Nil,
            Value::Bool(false),
            Value::Bool(true),
            Value::Int(-5),
            Value::Int(-1),
            Value::Int(0),
            Value::Int(7),
            Value::Uint(u64::MAX),
            Value::string("a"),
            Value::string("ab"),
            Value::string("b"),
            Value::List(List::new(0, vec![Value::Int(1)])),
            Value::List(List::new(0, vec![Value::Int(1), Value::Int(0)])),
            Value::Map(Map::new(0, vec![])),
            Value::blob(&[1]),
            Value::Float(-1.0),
            Value::Float(2.1),
            Value::Str(vec![BYTES_GEOJSON, b'{']),
            Value::Infinity,
        ];
        for w in ladder.windows(2) {
            if let [a, b] = w {
                assert_eq!(compare(a, b), Ordering::Less, "{a:?} < {b:?}");
                assert_eq!(compare(b, a), Ordering::Greater);
            }
        }
    }

    #[test]
    fn wildcard_matches_the_rest() {
        let pat = Value::List(List::new(0, vec![Value::string("Jim"), Value::Wildcard]));
        let v = Value::List(List::new(
            0,
            vec![Value::string("Jim"), Value::Int(95), Value::Int(3)],
        ));
        assert!(equal(&pat, &v));
        let other = Value::List(List::new(0, vec![Value::string("Joe"), Value::Int(95)]));
        assert!(!equal(&pat, &other));
    }
}
