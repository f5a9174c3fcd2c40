//! JSON ⇄ Aerospike values, for bins, keys and CDT operands (see `docs/rest.md` for the table).
//!
//! JSON integers become INTEGER particles (above `i64::MAX`, unsigned 64-bit), other numbers
//! FLOAT, strings STRING, booleans BOOL, arrays LIST and objects MAP (string keys); `null` as a
//! bin value removes the bin. Going back, BLOB and HLL particles are base64 text, GeoJSON its
//! parsed object, and map keys that are not strings are printed as JSON text.

use aerie_cdt::msgpack::{self, BYTES_BLOB, BYTES_GEOJSON, BYTES_STRING};
use aerie_cdt::{List, Map, Value};
use aerie_record::particle;
use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine as _;
use serde_json::{Number, Value as Json};

/// Deepest nesting accepted from a client; deeper documents are refused (PARAMETER).
pub const MAX_DEPTH: usize = 64;

/// A JSON value as a CDT value (lists and maps unordered).
pub fn json_to_cdt(j: &Json, depth: usize) -> Result<Value, String> {
    if depth > MAX_DEPTH {
        return Err(format!("value nested deeper than {MAX_DEPTH}"));
    }
    Ok(match j {
        Json::Null => Value::Nil,
        Json::Bool(b) => Value::Bool(*b),
        Json::Number(n) => number_to_cdt(n)?,
        Json::String(s) => Value::string(s),
        Json::Array(a) => Value::List(List::new(
            0,
            a.iter()
                .map(|x| json_to_cdt(x, depth + 1))
                .collect::<Result<_, _>>()?,
        )),
        Json::Object(o) => Value::Map(Map::new(
            0,
            o.iter()
                .map(|(k, v)| Ok((Value::string(k), json_to_cdt(v, depth + 1)?)))
                .collect::<Result<_, String>>()?,
        )),
    })
}

fn number_to_cdt(n: &Number) -> Result<Value, String> {
    if let Some(i) = n.as_i64() {
        Ok(Value::Int(i))
    } else if let Some(u) = n.as_u64() {
        Ok(Value::Uint(u))
    } else {
        n.as_f64()
            .map(Value::Float)
            .ok_or_else(|| format!("number {n} is out of range"))
    }
}

/// A JSON value as a bin particle: `(particle type, bytes)`. `null` is the NULL particle (a
/// write of it deletes the bin).
pub fn json_to_particle(j: &Json) -> Result<(u8, Vec<u8>), String> {
    Ok(match j {
        Json::Null => (particle::NULL, Vec::new()),
        Json::Bool(b) => (particle::BOOL, vec![u8::from(*b)]),
        Json::Number(n) => match number_to_cdt(n)? {
            Value::Int(i) => (particle::INTEGER, i.to_be_bytes().to_vec()),
            Value::Uint(u) => (particle::INTEGER, u.to_be_bytes().to_vec()),
            Value::Float(f) => (particle::FLOAT, f.to_bits().to_be_bytes().to_vec()),
            _ => return Err(format!("number {n} is out of range")),
        },
        Json::String(s) => (particle::STRING, s.as_bytes().to_vec()),
        Json::Array(_) => (particle::LIST, msgpack::encode(&json_to_cdt(j, 0)?)),
        Json::Object(_) => (particle::MAP, msgpack::encode(&json_to_cdt(j, 0)?)),
    })
}

/// A bin particle as JSON.
pub fn particle_to_json(particle_type: u8, bytes: &[u8]) -> Json {
    match particle_type {
        particle::INTEGER => aerie_record::particle::read_int(bytes)
            .map(Json::from)
            .unwrap_or(Json::Null),
        particle::FLOAT => aerie_record::particle::read_float(bytes)
            .and_then(Number::from_f64)
            .map(Json::Number)
            .unwrap_or(Json::Null),
        particle::STRING => Json::String(String::from_utf8_lossy(bytes).into_owned()),
        particle::BOOL => Json::Bool(bytes.first().is_some_and(|b| *b != 0)),
        particle::LIST | particle::MAP => match msgpack::decode(bytes) {
            Ok(v) => cdt_to_json(&v),
            Err(_) => Json::String(B64.encode(bytes)),
        },
        // flags (1), cell count (2, big-endian) and cells (8 each), then the text.
        particle::GEOJSON => {
            let cells = bytes
                .get(1..3)
                .map(|c| u16::from_be_bytes([c[0], c[1]]) as usize)
                .unwrap_or(0);
            geo_text_to_json(bytes.get(3 + cells * 8..).unwrap_or_default())
        }
        particle::NULL => Json::Null,
        _ => Json::String(B64.encode(bytes)),
    }
}

fn geo_text_to_json(text: &[u8]) -> Json {
    serde_json::from_slice(text)
        .unwrap_or_else(|_| Json::String(String::from_utf8_lossy(text).into_owned()))
}

/// A CDT value as JSON.
pub fn cdt_to_json(v: &Value) -> Json {
    match v {
        Value::Nil | Value::Wildcard | Value::Infinity | Value::Ext(..) => Json::Null,
        Value::Bool(b) => Json::Bool(*b),
        Value::Int(i) => Json::from(*i),
        Value::Uint(u) => Json::from(*u),
        Value::Float(f) => Number::from_f64(*f).map_or(Json::Null, Json::Number),
        Value::Str(s) | Value::Bin(s) => match s.split_first() {
            Some((&BYTES_STRING, rest)) => Json::String(String::from_utf8_lossy(rest).into_owned()),
            Some((&BYTES_GEOJSON, rest)) => geo_text_to_json(rest),
            Some((&BYTES_BLOB, rest)) => Json::String(B64.encode(rest)),
            Some((_, rest)) => Json::String(B64.encode(rest)),
            None => Json::String(String::new()),
        },
        Value::List(l) => Json::Array(l.items.iter().map(cdt_to_json).collect()),
        Value::Map(m) => Json::Object(
            m.entries
                .iter()
                .map(|(k, v)| (map_key(k), cdt_to_json(v)))
                .collect(),
        ),
    }
}

fn map_key(k: &Value) -> String {
    match cdt_to_json(k) {
        Json::String(s) => s,
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn arb_json() -> impl Strategy<Value = Json> {
        let leaf = prop_oneof![
            Just(Json::Null),
            any::<bool>().prop_map(Json::Bool),
            any::<i64>().prop_map(Json::from),
            (-1e12f64..1e12).prop_map(|f| Json::from(f + 0.5)),
            "[a-z0-9 ]{0,12}".prop_map(Json::String),
        ];
        leaf.prop_recursive(4, 48, 6, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..6).prop_map(Json::Array),
                prop::collection::btree_map("[a-z]{1,6}", inner, 0..6)
                    .prop_map(|m| Json::Object(m.into_iter().collect())),
            ]
        })
    }

    proptest! {
        #[test]
        fn json_round_trips_through_particles(j in arb_json()) {
            let (t, bytes) = json_to_particle(&j).map_err(TestCaseError::fail)?;
            prop_assert_eq!(particle_to_json(t, &bytes), j);
        }

        #[test]
        fn any_particle_bytes_convert_without_panic(t in any::<u8>(), b in prop::collection::vec(any::<u8>(), 0..64)) {
            let _ = particle_to_json(t, &b);
        }
    }

    #[test]
    fn too_deep_is_refused() {
        let mut j = Json::from(1);
        for _ in 0..=MAX_DEPTH + 1 {
            j = Json::Array(vec![j]);
        }
        assert!(json_to_particle(&j).is_err());
    }
}
