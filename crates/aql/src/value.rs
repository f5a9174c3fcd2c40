//! AQL literals to Aerospike values, and values back to text (table cells) and JSON.

use aerospike::Value;

use crate::parser::Literal;

/// Converts a literal (with its JSON/LIST/MAP/GEOJSON cast) to a value.
pub fn to_value(lit: &Literal) -> Result<Value, String> {
    Ok(match lit {
        Literal::Int(i) => Value::Int(*i),
        Literal::Float(x) => Value::from(*x),
        Literal::Str(s) => Value::String(s.clone()),
        Literal::Bool(b) => Value::Bool(*b),
        Literal::Null => Value::Nil,
        Literal::Json(text) => from_json(&parse_json(text)?),
        Literal::List(text) => match parse_json(text)? {
            j @ serde_json::Value::Array(_) => from_json(&j),
            _ => return Err(format!("LIST('{text}') is not a JSON array")),
        },
        Literal::Map(text) => match parse_json(text)? {
            j @ serde_json::Value::Object(_) => from_json(&j),
            _ => return Err(format!("MAP('{text}') is not a JSON object")),
        },
        Literal::GeoJson(text) => match parse_json(text)? {
            serde_json::Value::Object(_) => Value::GeoJson(text.clone()),
            _ => return Err(format!("GEOJSON('{text}') is not a JSON object")),
        },
    })
}

fn parse_json(text: &str) -> Result<serde_json::Value, String> {
    serde_json::from_str(text).map_err(|e| format!("bad JSON '{text}': {e}"))
}

fn from_json(j: &serde_json::Value) -> Value {
    match j {
        serde_json::Value::Null => Value::Nil,
        serde_json::Value::Bool(b) => Value::Bool(*b),
        serde_json::Value::Number(n) => match n.as_i64() {
            Some(i) => Value::Int(i),
            None => Value::from(n.as_f64().unwrap_or(f64::NAN)),
        },
        serde_json::Value::String(s) => Value::String(s.clone()),
        serde_json::Value::Array(a) => Value::List(a.iter().map(from_json).collect()),
        serde_json::Value::Object(o) => Value::HashMap(
            o.iter()
                .map(|(k, v)| (Value::String(k.clone()), from_json(v)))
                .collect(),
        ),
    }
}

/// A value as JSON (maps with non-string keys use the key's text).
pub fn to_json(v: &Value) -> serde_json::Value {
    use serde_json::Value as J;
    match v {
        Value::Nil => J::Null,
        Value::Bool(b) => J::Bool(*b),
        Value::Int(i) => J::from(*i),
        Value::Float(f) => J::from(f64::from(f)),
        Value::String(s) => J::String(s.clone()),
        Value::List(l) | Value::MultiResult(l) => J::Array(l.iter().map(to_json).collect()),
        Value::HashMap(m) => J::Object(m.iter().map(|(k, v)| (key_text(k), to_json(v))).collect()),
        Value::OrderedMap(m) => {
            J::Object(m.iter().map(|(k, v)| (key_text(k), to_json(v))).collect())
        }
        Value::KeyValueList(kv) => {
            J::Object(kv.iter().map(|(k, v)| (key_text(k), to_json(v))).collect())
        }
        Value::GeoJson(s) => serde_json::from_str(s).unwrap_or_else(|_| J::String(s.clone())),
        Value::Blob(b) | Value::Hll(b) => J::String(hex(b)),
        other => J::String(other.to_string()),
    }
}

fn key_text(k: &Value) -> String {
    match k {
        Value::String(s) => s.clone(),
        other => to_json(other).to_string(),
    }
}

/// A value as a table cell, as aql shows it: strings quoted, collections as their casts.
pub fn cell(v: &Value) -> String {
    match v {
        Value::Nil => String::new(),
        Value::String(s) => format!("\"{s}\""),
        Value::Int(i) => i.to_string(),
        Value::Float(f) => f64::from(f).to_string(),
        Value::Bool(b) => b.to_string(),
        Value::List(_) | Value::MultiResult(_) => format!("LIST('{}')", to_json(v)),
        Value::HashMap(_) | Value::OrderedMap(_) | Value::KeyValueList(_) => {
            format!("MAP('{}')", to_json(v))
        }
        Value::GeoJson(s) => format!("GeoJSON('{s}')"),
        Value::Blob(b) => format!("BLOB('{}')", hex(b)),
        Value::Hll(b) => format!("HLL('{}')", hex(b)),
        other => other.to_string(),
    }
}

/// Lower-case hex.
pub fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// Parses 40 hex digits into a digest.
pub fn digest(hex: &str) -> Result<[u8; 20], String> {
    let mut d = [0u8; 20];
    if hex.len() != 40 {
        return Err("a digest is 40 hex digits".to_owned());
    }
    for (i, slot) in d.iter_mut().enumerate() {
        let pair = hex.get(i * 2..i * 2 + 2).ok_or("bad digest")?;
        *slot = u8::from_str_radix(pair, 16).map_err(|_| format!("bad digest '{hex}'"))?;
    }
    Ok(d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn casts_and_cells() -> Result<(), String> {
        let v = to_value(&Literal::Json(r#"{"a":[1,2.5,"x",null,true]}"#.into()))?;
        assert_eq!(cell(&v), r#"MAP('{"a":[1,2.5,"x",null,true]}')"#);
        assert_eq!(
            cell(&to_value(&Literal::List("[1,2]".into()))?),
            "LIST('[1,2]')"
        );
        assert!(to_value(&Literal::List("{}".into())).is_err());
        assert!(to_value(&Literal::Map("[1]".into())).is_err());
        assert!(to_value(&Literal::GeoJson("nope".into())).is_err());
        assert_eq!(cell(&Value::String("Ada".into())), "\"Ada\"");
        assert_eq!(cell(&Value::Blob(vec![1, 255])), "BLOB('01ff')");
        assert_eq!(digest(&"ab".repeat(20))?, [0xab; 20]);
        assert!(digest("zz").is_err());
        Ok(())
    }
}
