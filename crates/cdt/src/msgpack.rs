//! MessagePack as Aerospike uses it: the value model, an untrusted decoder and a canonical encoder.
//!
//! Strings are str-family (or bin-family) payloads whose first byte is a particle type (3 string,
//! 4 blob, 23 GeoJSON); they are kept with that byte. An ordered list carries a leading ext element
//! (`0xc7 0x00 <flags>`), an ordered map a leading pair (ext, nil); both are turned into a flags
//! field on decode and written back on encode. Wildcard and infinity are `fixext1` of type 0xff.

use crate::Error;

/// Deepest nesting the decoder accepts. Bounds recursion on untrusted input.
pub const MAX_DEPTH: usize = 128;

/// Ext type of the comparison-only values (wildcard, infinity).
pub const CMP_EXT_TYPE: u8 = 0xff;
const CMP_WILDCARD: u8 = 0x00;
const CMP_INF: u8 = 0x01;

/// Particle-type prefixes of msgpack strings.
pub const BYTES_STRING: u8 = 3;
pub const BYTES_BLOB: u8 = 4;
pub const BYTES_GEOJSON: u8 = 23;

/// List flag: ordered.
pub const LIST_ORDERED: u8 = 0x01;
/// Map flags: key-ordered, key-value-ordered, and the "preserve order" flag used in results.
pub const MAP_K_ORDERED: u8 = 0x01;
pub const MAP_KV_ORDERED: u8 = 0x03;
pub const MAP_PRESERVE_ORDER: u8 = 0x08;
/// Flag asking for a persisted index; accepted and dropped (Aerie keeps no on-disk CDT index).
pub const PERSIST_INDEX: u8 = 0x10;

/// A decoded msgpack value.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Nil,
    Bool(bool),
    /// Integers that fit `i64`.
    Int(i64),
    /// Unsigned integers above `i64::MAX`.
    Uint(u64),
    Float(f64),
    /// A str-family payload, particle-type byte included.
    Str(Vec<u8>),
    /// A bin-family payload, particle-type byte included (compared like `Str`).
    Bin(Vec<u8>),
    List(List),
    Map(Map),
    /// Any other ext value: type and payload.
    Ext(u8, Vec<u8>),
    Wildcard,
    Infinity,
}

/// A list and its flags (0 unordered, `LIST_ORDERED`).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct List {
    pub flags: u8,
    pub items: Vec<Value>,
}

/// A map and its flags (0 unordered, `MAP_K_ORDERED`, `MAP_KV_ORDERED`, or `MAP_PRESERVE_ORDER`
/// for results). Stored maps keep their entries sorted by key, whatever their flags.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Map {
    pub flags: u8,
    pub entries: Vec<(Value, Value)>,
}

impl List {
    pub fn new(flags: u8, items: Vec<Value>) -> Self {
        Self { flags, items }
    }

    pub fn is_ordered(&self) -> bool {
        self.flags & LIST_ORDERED != 0
    }
}

impl Map {
    pub fn new(flags: u8, entries: Vec<(Value, Value)>) -> Self {
        Self { flags, entries }
    }

    pub fn is_kv_ordered(&self) -> bool {
        self.flags & MAP_KV_ORDERED == MAP_KV_ORDERED
    }
}

impl Value {
    /// A string value (particle prefix added).
    pub fn string(s: &str) -> Self {
        let mut v = Vec::with_capacity(s.len() + 1);
        v.push(BYTES_STRING);
        v.extend_from_slice(s.as_bytes());
        Value::Str(v)
    }

    /// A blob value (particle prefix added).
    pub fn blob(b: &[u8]) -> Self {
        let mut v = Vec::with_capacity(b.len() + 1);
        v.push(BYTES_BLOB);
        v.extend_from_slice(b);
        Value::Str(v)
    }

    /// Whether the value or anything inside it is a comparison-only value.
    pub fn has_nonstorage(&self) -> bool {
        match self {
            Value::Wildcard | Value::Infinity => true,
            Value::List(l) => l.items.iter().any(Value::has_nonstorage),
            Value::Map(m) => m
                .entries
                .iter()
                .any(|(k, v)| k.has_nonstorage() || v.has_nonstorage()),
            _ => false,
        }
    }

    /// The integer, if this is one that fits `i64`.
    pub fn as_int(&self) -> Option<i64> {
        match self {
            Value::Int(i) => Some(*i),
            _ => None,
        }
    }
}

// ---------------------------------------------------------------------------
// Decoding.

/// Decodes exactly one value filling all of `b`.
pub fn decode(b: &[u8]) -> Result<Value, Error> {
    let mut r = Reader::new(b);
    let v = r.value()?;
    if !r.is_empty() {
        return Err(Error::Parameter);
    }
    Ok(v)
}

/// A cursor over untrusted msgpack bytes.
pub struct Reader<'a> {
    b: &'a [u8],
}

impl<'a> Reader<'a> {
    pub fn new(b: &'a [u8]) -> Self {
        Self { b }
    }

    pub fn is_empty(&self) -> bool {
        self.b.is_empty()
    }

    fn byte(&mut self) -> Result<u8, Error> {
        let (&x, rest) = self.b.split_first().ok_or(Error::Parameter)?;
        self.b = rest;
        Ok(x)
    }

    fn take(&mut self, n: usize) -> Result<&'a [u8], Error> {
        let (x, rest) = self.b.split_at_checked(n).ok_or(Error::Parameter)?;
        self.b = rest;
        Ok(x)
    }

    fn be(&mut self, n: usize) -> Result<u64, Error> {
        let mut v = 0u64;
        for &x in self.take(n)? {
            v = (v << 8) | u64::from(x);
        }
        Ok(v)
    }

    /// Reads a list header and returns its element count.
    pub fn list_len(&mut self) -> Result<usize, Error> {
        let t = self.byte()?;
        match t {
            0x90..=0x9f => Ok(usize::from(t & 0x0f)),
            0xdc => Ok(self.be(2)? as usize),
            0xdd => Ok(self.be(4)? as usize),
            _ => Err(Error::Parameter),
        }
    }

    /// Reads one value.
    pub fn value(&mut self) -> Result<Value, Error> {
        self.value_at(0)
    }

    fn value_at(&mut self, depth: usize) -> Result<Value, Error> {
        if depth > MAX_DEPTH {
            return Err(Error::Parameter);
        }
        let t = self.byte()?;
        Ok(match t {
            0x00..=0x7f => Value::Int(i64::from(t)),
            0xe0..=0xff => Value::Int(i64::from(t as i8)),
            0xc0 => Value::Nil,
            0xc2 => Value::Bool(false),
            0xc3 => Value::Bool(true),
            0xcc => Value::Int(self.be(1)? as i64),
            0xcd => Value::Int(self.be(2)? as i64),
            0xce => Value::Int(self.be(4)? as i64),
            0xcf => {
                let u = self.be(8)?;
                match i64::try_from(u) {
                    Ok(i) => Value::Int(i),
                    Err(_) => Value::Uint(u),
                }
            }
            0xd0 => Value::Int(i64::from(self.be(1)? as u8 as i8)),
            0xd1 => Value::Int(i64::from(self.be(2)? as u16 as i16)),
            0xd2 => Value::Int(i64::from(self.be(4)? as u32 as i32)),
            0xd3 => Value::Int(self.be(8)? as i64),
            0xca => Value::Float(f64::from(f32::from_bits(self.be(4)? as u32))),
            0xcb => Value::Float(f64::from_bits(self.be(8)?)),
            0xa0..=0xbf => Value::Str(self.take(usize::from(t & 0x1f))?.to_vec()),
            0xd9 => {
                let n = self.be(1)? as usize;
                Value::Str(self.take(n)?.to_vec())
            }
            0xda => {
                let n = self.be(2)? as usize;
                Value::Str(self.take(n)?.to_vec())
            }
            0xdb => {
                let n = self.be(4)? as usize;
                Value::Str(self.take(n)?.to_vec())
            }
            0xc4 => {
                let n = self.be(1)? as usize;
                Value::Bin(self.take(n)?.to_vec())
            }
            0xc5 => {
                let n = self.be(2)? as usize;
                Value::Bin(self.take(n)?.to_vec())
            }
            0xc6 => {
                let n = self.be(4)? as usize;
                Value::Bin(self.take(n)?.to_vec())
            }
            0x90..=0x9f => self.list_body(usize::from(t & 0x0f), depth)?,
            0xdc => {
                let n = self.be(2)? as usize;
                self.list_body(n, depth)?
            }
            0xdd => {
                let n = self.be(4)? as usize;
                self.list_body(n, depth)?
            }
            0x80..=0x8f => self.map_body(usize::from(t & 0x0f), depth)?,
            0xde => {
                let n = self.be(2)? as usize;
                self.map_body(n, depth)?
            }
            0xdf => {
                let n = self.be(4)? as usize;
                self.map_body(n, depth)?
            }
            0xd4 => self.ext(1)?,
            0xd5 => self.ext(2)?,
            0xd6 => self.ext(4)?,
            0xd7 => self.ext(8)?,
            0xd8 => self.ext(16)?,
            0xc7 => {
                let n = self.be(1)? as usize;
                self.ext(n)?
            }
            0xc8 => {
                let n = self.be(2)? as usize;
                self.ext(n)?
            }
            0xc9 => {
                let n = self.be(4)? as usize;
                self.ext(n)?
            }
            _ => return Err(Error::Parameter),
        })
    }

    fn ext(&mut self, len: usize) -> Result<Value, Error> {
        let ty = self.byte()?;
        let data = self.take(len)?;
        if ty == CMP_EXT_TYPE && len == 1 {
            match data.first() {
                Some(&CMP_WILDCARD) => return Ok(Value::Wildcard),
                Some(&CMP_INF) => return Ok(Value::Infinity),
                _ => {}
            }
        }
        Ok(Value::Ext(ty, data.to_vec()))
    }

    /// Whether the next value is an ext (the ordered-container marker).
    fn peek_is_ext(&self) -> bool {
        matches!(self.b.first(), Some(0xc7..=0xc9 | 0xd4..=0xd8))
    }

    fn list_body(&mut self, mut n: usize, depth: usize) -> Result<Value, Error> {
        let mut flags = 0;
        if n > 0 && self.peek_is_ext() {
            if let Value::Ext(ty, _) = self.value_at(depth + 1)? {
                flags = ty & (LIST_ORDERED | PERSIST_INDEX);
            } else {
                return Err(Error::Parameter);
            }
            n -= 1;
        }
        // Each element takes at least one byte: never reserve more than what is left.
        let mut items = Vec::with_capacity(n.min(self.b.len()));
        for _ in 0..n {
            items.push(self.value_at(depth + 1)?);
        }
        Ok(Value::List(List {
            flags: flags & LIST_ORDERED,
            items,
        }))
    }

    fn map_body(&mut self, mut n: usize, depth: usize) -> Result<Value, Error> {
        let mut flags = 0;
        if n > 0 && self.peek_is_ext() {
            match self.value_at(depth + 1)? {
                Value::Ext(ty, _) => flags = ty,
                _ => return Err(Error::Parameter),
            }
            let _meta_value = self.value_at(depth + 1)?;
            n -= 1;
        }
        let mut entries = Vec::with_capacity(n.min(self.b.len() / 2));
        for _ in 0..n {
            let k = self.value_at(depth + 1)?;
            let v = self.value_at(depth + 1)?;
            entries.push((k, v));
        }
        Ok(Value::Map(Map {
            flags: flags & (MAP_KV_ORDERED | MAP_PRESERVE_ORDER),
            entries,
        }))
    }
}

// ---------------------------------------------------------------------------
// Encoding.

/// Encodes `v` canonically (smallest integer forms, double floats).
pub fn encode(v: &Value) -> Vec<u8> {
    let mut out = Vec::new();
    encode_into(&mut out, v);
    out
}

pub fn encode_into(out: &mut Vec<u8>, v: &Value) {
    match v {
        Value::Nil => out.push(0xc0),
        Value::Bool(false) => out.push(0xc2),
        Value::Bool(true) => out.push(0xc3),
        Value::Int(i) => pack_int(out, *i),
        Value::Uint(u) => {
            out.push(0xcf);
            out.extend_from_slice(&u.to_be_bytes());
        }
        Value::Float(f) => {
            out.push(0xcb);
            out.extend_from_slice(&f.to_bits().to_be_bytes());
        }
        Value::Str(s) => {
            pack_str_header(out, s.len());
            out.extend_from_slice(s);
        }
        Value::Bin(s) => {
            pack_bin_header(out, s.len());
            out.extend_from_slice(s);
        }
        Value::List(l) => {
            if l.flags != 0 {
                pack_list_header(out, l.items.len() + 1);
                pack_ext_header(out, 0, l.flags);
            } else {
                pack_list_header(out, l.items.len());
            }
            for x in &l.items {
                encode_into(out, x);
            }
        }
        Value::Map(m) => {
            if m.flags != 0 {
                pack_map_header(out, m.entries.len() + 1);
                pack_ext_header(out, 0, m.flags);
                out.push(0xc0);
            } else {
                pack_map_header(out, m.entries.len());
            }
            for (k, x) in &m.entries {
                encode_into(out, k);
                encode_into(out, x);
            }
        }
        Value::Ext(ty, data) => {
            pack_ext_header(out, data.len(), *ty);
            out.extend_from_slice(data);
        }
        Value::Wildcard => out.extend_from_slice(&[0xd4, CMP_EXT_TYPE, CMP_WILDCARD]),
        Value::Infinity => out.extend_from_slice(&[0xd4, CMP_EXT_TYPE, CMP_INF]),
    }
}

pub fn pack_int(out: &mut Vec<u8>, i: i64) {
    if i >= 0 {
        let u = i as u64;
        if u < 0x80 {
            out.push(u as u8);
        } else if u <= 0xff {
            out.extend_from_slice(&[0xcc, u as u8]);
        } else if u <= 0xffff {
            out.push(0xcd);
            out.extend_from_slice(&(u as u16).to_be_bytes());
        } else if u <= 0xffff_ffff {
            out.push(0xce);
            out.extend_from_slice(&(u as u32).to_be_bytes());
        } else {
            out.push(0xcf);
            out.extend_from_slice(&u.to_be_bytes());
        }
    } else if i >= -32 {
        out.push(i as i8 as u8);
    } else if i >= i64::from(i8::MIN) {
        out.extend_from_slice(&[0xd0, i as i8 as u8]);
    } else if i >= i64::from(i16::MIN) {
        out.push(0xd1);
        out.extend_from_slice(&(i as i16).to_be_bytes());
    } else if i >= i64::from(i32::MIN) {
        out.push(0xd2);
        out.extend_from_slice(&(i as i32).to_be_bytes());
    } else {
        out.push(0xd3);
        out.extend_from_slice(&i.to_be_bytes());
    }
}

fn pack_sized(
    out: &mut Vec<u8>,
    n: usize,
    small: Option<(u8, usize)>,
    b8: Option<u8>,
    b16: u8,
    b32: u8,
) {
    match small {
        Some((base, max)) if n <= max => out.push(base | n as u8),
        _ => {
            if let (Some(t), true) = (b8, n <= 0xff) {
                out.extend_from_slice(&[t, n as u8]);
            } else if n <= 0xffff {
                out.push(b16);
                out.extend_from_slice(&(n as u16).to_be_bytes());
            } else {
                out.push(b32);
                out.extend_from_slice(&(n as u32).to_be_bytes());
            }
        }
    }
}

pub fn pack_str_header(out: &mut Vec<u8>, n: usize) {
    pack_sized(out, n, Some((0xa0, 31)), Some(0xd9), 0xda, 0xdb);
}

pub fn pack_bin_header(out: &mut Vec<u8>, n: usize) {
    pack_sized(out, n, None, Some(0xc4), 0xc5, 0xc6);
}

pub fn pack_list_header(out: &mut Vec<u8>, n: usize) {
    pack_sized(out, n, Some((0x90, 15)), None, 0xdc, 0xdd);
}

pub fn pack_map_header(out: &mut Vec<u8>, n: usize) {
    pack_sized(out, n, Some((0x80, 15)), None, 0xde, 0xdf);
}

fn pack_ext_header(out: &mut Vec<u8>, len: usize, ty: u8) {
    match len {
        1 => out.extend_from_slice(&[0xd4, ty]),
        2 => out.extend_from_slice(&[0xd5, ty]),
        4 => out.extend_from_slice(&[0xd6, ty]),
        8 => out.extend_from_slice(&[0xd7, ty]),
        16 => out.extend_from_slice(&[0xd8, ty]),
        n if n <= 0xff => out.extend_from_slice(&[0xc7, n as u8, ty]),
        n if n <= 0xffff => {
            out.push(0xc8);
            out.extend_from_slice(&(n as u16).to_be_bytes());
            out.push(ty);
        }
        n => {
            out.push(0xc9);
            out.extend_from_slice(&(n as u32).to_be_bytes());
            out.push(ty);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips() -> Result<(), Error> {
        let v = Value::List(List::new(
            0,
            vec![
                Value::Int(-1),
                Value::Int(300),
                Value::Int(i64::MIN),
                Value::Uint(u64::MAX),
                Value::string("abc"),
                Value::Float(2.5),
                Value::Map(Map::new(MAP_K_ORDERED, vec![(Value::Int(1), Value::Nil)])),
                Value::List(List::new(LIST_ORDERED, vec![Value::Bool(true)])),
                Value::Wildcard,
                Value::Infinity,
            ],
        ));
        assert_eq!(decode(&encode(&v))?, v);
        Ok(())
    }

    #[test]
    fn ordered_markers() -> Result<(), Error> {
        // Map of 1 pair plus the (ext, nil) marker.
        let b = [0x82, 0xc7, 0x00, 0x01, 0xc0, 0xa2, 0x03, b'a', 0x01];
        let v = decode(&b)?;
        assert_eq!(
            v,
            Value::Map(Map::new(1, vec![(Value::string("a"), Value::Int(1))]))
        );
        assert_eq!(encode(&v), b.to_vec());
        Ok(())
    }

    #[test]
    fn malformed_is_parameter() {
        for b in [
            &[0xdd, 0xff, 0xff, 0xff, 0xff][..],
            &[0xa5, 0x03],
            &[0xc1],
            &[0x92, 0x01],
            &[0x01, 0x02],
        ] {
            assert_eq!(decode(b), Err(Error::Parameter));
        }
        let deep = vec![0x91u8; MAX_DEPTH + 5];
        assert_eq!(decode(&deep), Err(Error::Parameter));
    }

    proptest::proptest! {
        #[test]
        fn never_panics(b in proptest::collection::vec(proptest::num::u8::ANY, 0..64)) {
            let _ = decode(&b);
        }
    }
}
