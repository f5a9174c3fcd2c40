//! Runtime values: what an expression node evaluates to. Bin values borrow from the record and
//! constants from the compiled program, so a typical filter allocates nothing.

use std::borrow::Cow;
use std::cmp::Ordering;

use aerie_cdt::msgpack::{self, Value, BYTES_BLOB, BYTES_GEOJSON, BYTES_STRING};
use aerie_cdt::order;
use aerie_record::particle;

use crate::Outcome;

/// Msgpack bytes-type prefix of HLL values.
pub const BYTES_HLL: u8 = 18;

/// Expression value types (`exp_type` on the wire).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ty {
    Nil,
    Bool,
    Int,
    Str,
    List,
    Map,
    Blob,
    Float,
    Geo,
    Hll,
}

impl Ty {
    pub fn from_wire(t: i64) -> Option<Ty> {
        Some(match t {
            0 => Ty::Nil,
            1 => Ty::Bool,
            2 => Ty::Int,
            3 => Ty::Str,
            4 => Ty::List,
            5 => Ty::Map,
            6 => Ty::Blob,
            7 => Ty::Float,
            8 => Ty::Geo,
            9 => Ty::Hll,
            _ => return None,
        })
    }

    /// The particle type a bin of this expression type holds.
    pub fn particle(self) -> u8 {
        match self {
            Ty::Nil => particle::NULL,
            Ty::Bool => particle::BOOL,
            Ty::Int => particle::INTEGER,
            Ty::Str => particle::STRING,
            Ty::List => particle::LIST,
            Ty::Map => particle::MAP,
            Ty::Blob => particle::BLOB,
            Ty::Float => particle::FLOAT,
            Ty::Geo => particle::GEOJSON,
            Ty::Hll => particle::HLL,
        }
    }
}

/// Whether `v` is a value of expression type `t` (a loop variable's declared type).
pub fn is_type(v: &Val<'_>, t: Ty) -> bool {
    matches!(
        (v, t),
        (Val::Nil, Ty::Nil)
            | (Val::Bool(_), Ty::Bool)
            | (Val::Int(_), Ty::Int)
            | (Val::Float(_), Ty::Float)
            | (Val::Str(_), Ty::Str)
            | (Val::Blob(_), Ty::Blob)
            | (Val::Geo(_), Ty::Geo)
            | (Val::Hll(_), Ty::Hll)
            | (Val::List(_), Ty::List)
            | (Val::Map(_), Ty::Map)
    )
}

/// A list or map: msgpack bytes (from a bin or an op result) or a decoded value (a constant).
#[derive(Debug, Clone)]
pub enum Cdt<'a> {
    Bytes(Cow<'a, [u8]>),
    Value(Cow<'a, Value>),
}

impl Cdt<'_> {
    /// The decoded value (`None`: the bytes are not msgpack).
    pub fn value(&self) -> Option<Cow<'_, Value>> {
        match self {
            Cdt::Bytes(b) => msgpack::decode(b).ok().map(Cow::Owned),
            Cdt::Value(v) => Some(Cow::Borrowed(v.as_ref())),
        }
    }

    /// Appends the msgpack encoding.
    pub fn encode_into(&self, out: &mut Vec<u8>) {
        match self {
            Cdt::Bytes(b) => out.extend_from_slice(b),
            Cdt::Value(v) => msgpack::encode_into(out, v),
        }
    }

    pub fn to_bytes(&self) -> Cow<'_, [u8]> {
        match self {
            Cdt::Bytes(b) => Cow::Borrowed(b.as_ref()),
            Cdt::Value(v) => Cow::Owned(msgpack::encode(v)),
        }
    }
}

/// A runtime value. `Unk` is the "unknown" trilean: it propagates through most operators.
#[derive(Debug, Clone)]
pub enum Val<'a> {
    Unk,
    Nil,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(Cow<'a, [u8]>),
    Blob(Cow<'a, [u8]>),
    /// GeoJSON text.
    Geo(Cow<'a, [u8]>),
    Hll(Cow<'a, [u8]>),
    List(Cdt<'a>),
    Map(Cdt<'a>),
    /// A msgpack-only constant (wildcard, infinity), usable as a CDT argument.
    Msgpack(&'a Value),
}

impl<'a> Val<'a> {
    /// A bin's value if the bin holds `want` (any type with `None`); else unknown.
    pub fn from_bin(t: u8, v: &'a [u8]) -> Val<'a> {
        match t {
            particle::INTEGER => particle::read_int(v).map_or(Val::Unk, Val::Int),
            particle::FLOAT => particle::read_float(v).map_or(Val::Unk, Val::Float),
            particle::BOOL => Val::Bool(v.first().is_some_and(|b| *b != 0)),
            particle::STRING => Val::Str(Cow::Borrowed(v)),
            particle::BLOB => Val::Blob(Cow::Borrowed(v)),
            particle::HLL => Val::Hll(Cow::Borrowed(v)),
            particle::LIST => Val::List(Cdt::Bytes(Cow::Borrowed(v))),
            particle::MAP => Val::Map(Cdt::Bytes(Cow::Borrowed(v))),
            particle::GEOJSON => geo_text(v).map_or(Val::Unk, |j| Val::Geo(Cow::Borrowed(j))),
            _ => Val::Unk,
        }
    }

    /// An owned value from an op result particle.
    pub fn from_particle(t: u8, v: Vec<u8>) -> Val<'static> {
        match t {
            particle::INTEGER => particle::read_int(&v).map_or(Val::Unk, Val::Int),
            particle::FLOAT => particle::read_float(&v).map_or(Val::Unk, Val::Float),
            particle::BOOL => Val::Bool(v.first().is_some_and(|b| *b != 0)),
            particle::STRING => Val::Str(Cow::Owned(v)),
            particle::BLOB => Val::Blob(Cow::Owned(v)),
            particle::HLL => Val::Hll(Cow::Owned(v)),
            particle::LIST => Val::List(Cdt::Bytes(Cow::Owned(v))),
            particle::MAP => Val::Map(Cdt::Bytes(Cow::Owned(v))),
            particle::GEOJSON => {
                geo_text(&v).map_or(Val::Unk, |j| Val::Geo(Cow::Owned(j.to_vec())))
            }
            _ => Val::Unk,
        }
    }

    /// A value from a msgpack constant (strings carry their particle-type prefix).
    pub fn from_value(v: &'a Value) -> Val<'a> {
        match v {
            Value::Nil => Val::Nil,
            Value::Bool(b) => Val::Bool(*b),
            Value::Int(i) => Val::Int(*i),
            Value::Uint(u) => Val::Int(*u as i64),
            Value::Float(f) => Val::Float(*f),
            Value::Str(s) | Value::Bin(s) => match s.split_first() {
                Some((&BYTES_STRING, rest)) => Val::Str(Cow::Borrowed(rest)),
                Some((&BYTES_BLOB, rest)) => Val::Blob(Cow::Borrowed(rest)),
                Some((&BYTES_GEOJSON, rest)) => Val::Geo(Cow::Borrowed(rest)),
                Some((&BYTES_HLL, rest)) => Val::Hll(Cow::Borrowed(rest)),
                _ => Val::Unk,
            },
            Value::List(_) => Val::List(Cdt::Value(Cow::Borrowed(v))),
            Value::Map(_) => Val::Map(Cdt::Value(Cow::Borrowed(v))),
            Value::Ext(..) | Value::Wildcard | Value::Infinity => Val::Msgpack(v),
        }
    }

    pub fn is_unk(&self) -> bool {
        matches!(self, Val::Unk)
    }

    /// Appends the value as a msgpack CDT argument. `false` for unknown.
    pub fn encode_into(&self, out: &mut Vec<u8>) -> bool {
        match self {
            Val::Unk => return false,
            Val::Nil => out.push(0xc0),
            Val::Bool(b) => out.push(if *b { 0xc3 } else { 0xc2 }),
            Val::Int(i) => msgpack::pack_int(out, *i),
            Val::Float(f) => {
                out.push(0xcb);
                out.extend_from_slice(&f.to_bits().to_be_bytes());
            }
            Val::Str(s) => pack_typed(out, BYTES_STRING, s),
            Val::Blob(s) => pack_typed(out, BYTES_BLOB, s),
            Val::Geo(s) => pack_typed(out, BYTES_GEOJSON, s),
            Val::Hll(s) => pack_typed(out, BYTES_HLL, s),
            Val::List(c) | Val::Map(c) => c.encode_into(out),
            Val::Msgpack(v) => msgpack::encode_into(out, v),
        }
        true
    }

    /// The value as a decoded msgpack value (for cross-type CDT comparisons).
    pub fn to_value(&self) -> Option<Cow<'_, Value>> {
        match self {
            Val::List(c) | Val::Map(c) => c.value(),
            Val::Msgpack(v) => Some(Cow::Borrowed(*v)),
            other => {
                let mut b = Vec::new();
                if !other.encode_into(&mut b) {
                    return None;
                }
                msgpack::decode(&b).ok().map(Cow::Owned)
            }
        }
    }

    /// The bin particle this value is written as (`None` for nil/unknown/msgpack-only).
    pub fn to_particle(&self) -> Option<(u8, Vec<u8>)> {
        Some(match self {
            Val::Unk | Val::Nil | Val::Msgpack(_) => return None,
            Val::Bool(b) => (particle::BOOL, vec![u8::from(*b)]),
            Val::Int(i) => (particle::INTEGER, i.to_be_bytes().to_vec()),
            Val::Float(f) => (particle::FLOAT, f.to_bits().to_be_bytes().to_vec()),
            Val::Str(s) => (particle::STRING, s.to_vec()),
            Val::Blob(s) => (particle::BLOB, s.to_vec()),
            Val::Hll(s) => (particle::HLL, s.to_vec()),
            Val::Geo(s) => {
                let mut p = Vec::with_capacity(3 + s.len());
                p.extend_from_slice(&[0, 0, 0]);
                p.extend_from_slice(s);
                (particle::GEOJSON, p)
            }
            Val::List(c) => (particle::LIST, c.to_bytes().into_owned()),
            Val::Map(c) => (particle::MAP, c.to_bytes().into_owned()),
        })
    }

    /// Detaches the value from the record/program it borrows from.
    pub fn into_owned(self) -> Val<'static> {
        match self {
            Val::Unk => Val::Unk,
            Val::Nil => Val::Nil,
            Val::Bool(b) => Val::Bool(b),
            Val::Int(i) => Val::Int(i),
            Val::Float(f) => Val::Float(f),
            Val::Str(s) => Val::Str(Cow::Owned(s.into_owned())),
            Val::Blob(s) => Val::Blob(Cow::Owned(s.into_owned())),
            Val::Geo(s) => Val::Geo(Cow::Owned(s.into_owned())),
            Val::Hll(s) => Val::Hll(Cow::Owned(s.into_owned())),
            Val::List(c) => Val::List(own_cdt(c)),
            Val::Map(c) => Val::Map(own_cdt(c)),
            Val::Msgpack(v) => Val::List(Cdt::Value(Cow::Owned(v.clone()))),
        }
    }
}

fn own_cdt(c: Cdt<'_>) -> Cdt<'static> {
    match c {
        Cdt::Bytes(b) => Cdt::Bytes(Cow::Owned(b.into_owned())),
        Cdt::Value(v) => Cdt::Value(Cow::Owned(v.into_owned())),
    }
}

fn pack_typed(out: &mut Vec<u8>, t: u8, s: &[u8]) {
    msgpack::pack_str_header(out, s.len() + 1);
    out.push(t);
    out.extend_from_slice(s);
}

/// The JSON text of a GeoJSON particle: `u8 flags · u16 ncells · ncells × u64 · text`.
fn geo_text(p: &[u8]) -> Option<&[u8]> {
    let (_, rest) = p.split_first()?;
    let (n, rest) = rest.split_first_chunk::<2>()?;
    rest.get(usize::from(u16::from_be_bytes(*n)) * 8..)
}

/// Compares two values of one type; `None` when they cannot be compared (unknown).
pub fn compare(a: &Val<'_>, b: &Val<'_>) -> Option<Ordering> {
    Some(match (a, b) {
        (Val::Nil, Val::Nil) => Ordering::Equal,
        (Val::Bool(x), Val::Bool(y)) => x.cmp(y),
        (Val::Int(x), Val::Int(y)) => x.cmp(y),
        (Val::Float(x), Val::Float(y)) => x.partial_cmp(y)?,
        (Val::Str(x), Val::Str(y))
        | (Val::Blob(x), Val::Blob(y))
        | (Val::Hll(x), Val::Hll(y))
        | (Val::Geo(x), Val::Geo(y)) => x.as_ref().cmp(y.as_ref()),
        (Val::List(x), Val::List(y)) | (Val::Map(x), Val::Map(y)) => {
            let (x, y) = (x.value()?, y.value()?);
            if has_unordered_map(&x) || has_unordered_map(&y) {
                return None;
            }
            order::compare(&x, &y)
        }
        _ => return None,
    })
}

/// Whether a value holds a map without key order: such maps do not compare (the reference
/// server answers "unknown").
fn has_unordered_map(v: &Value) -> bool {
    match v {
        Value::List(l) => l.items.iter().any(has_unordered_map),
        Value::Map(m) => {
            (m.flags & msgpack::MAP_K_ORDERED == 0 && m.entries.len() > 1)
                || m.entries.iter().any(|(_, x)| has_unordered_map(x))
        }
        _ => false,
    }
}

/// Turns a final value into an op outcome.
pub fn outcome(v: Val<'_>) -> Outcome {
    match v {
        Val::Unk | Val::Msgpack(_) => Outcome::Unknown,
        Val::Nil => Outcome::Nil,
        other => match other.to_particle() {
            Some((t, b)) => Outcome::Particle(t, b),
            None => Outcome::Unknown,
        },
    }
}
