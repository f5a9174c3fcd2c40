//! Collection data types: list and map operations with nested contexts, bitwise operations on
//! blobs, and HyperLogLog bins.
//!
//! Owns the msgpack value model with Aerospike's cross-type order, every CDT/bit/HLL op, and the
//! conversion between bin particles and values. Does not own records, locking or replies: the
//! transaction layer hands in a bin (particle type + bytes) and an op's value bytes, and gets back
//! the new bin and the op's result particle. Mirrors aerospike-server `as/src/base/cdt.c`,
//! `particle_list.c`, `particle_map.c`, `particle_blob.c` (bit ops) and `particle_hll.c`.
//!
//! Every byte here comes from a client or from storage and is treated as untrusted: malformed
//! input yields an [`Error`] (mapped to Aerospike's result codes), never a panic, and an op that
//! fails leaves the bin as it was.

pub mod args;
pub mod bits;
pub mod delta;
pub mod geojson;
pub mod hll;
pub mod list;
pub mod map;
pub mod msgpack;
pub mod order;
pub mod select;

mod context;

use aerie_proto::ResultCode;
use aerie_record::particle;

pub use context::{cdt_modify, cdt_read};
pub use msgpack::{List, Map, Value};

/// Why a CDT, bit or HLL op failed. Each variant is one Aerospike result code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    #[error("bad parameter or malformed msgpack")]
    Parameter,
    #[error("bin holds an incompatible type")]
    IncompatibleType,
    #[error("op not applicable")]
    OpNotApplicable,
    #[error("element not found")]
    ElementNotFound,
    #[error("element exists")]
    ElementExists,
    #[error("bin not found")]
    BinNotFound,
    #[error("bin exists")]
    BinExists,
    #[error("invalid GeoJSON")]
    GeoInvalid,
    #[error("unsupported feature")]
    Unsupported,
    #[error("record too big")]
    RecordTooBig,
}

impl Error {
    /// The result code sent to the client.
    pub fn result_code(self) -> ResultCode {
        match self {
            Error::Parameter => ResultCode::Parameter,
            Error::IncompatibleType => ResultCode::IncompatibleType,
            Error::OpNotApplicable => ResultCode::OpNotApplicable,
            Error::ElementNotFound => ResultCode::ElementNotFound,
            Error::ElementExists => ResultCode::ElementExists,
            Error::BinNotFound => ResultCode::BinNotFound,
            Error::BinExists => ResultCode::BinExists,
            Error::GeoInvalid => ResultCode::GeoInvalidGeoJson,
            Error::Unsupported => ResultCode::UnsupportedFeature,
            Error::RecordTooBig => ResultCode::RecordTooBig,
        }
    }
}

/// Most nil elements a list may be padded with by one op (set/insert/increment past the end,
/// unbounded create contexts). Each is one msgpack byte, so this stays under the largest record
/// a namespace can hold; beyond it the op answers RECORD_TOO_BIG instead of allocating.
pub const MAX_LIST_PAD: usize = 8 * 1024 * 1024;

/// Pads `items` with nils up to `len`, within [`MAX_LIST_PAD`].
pub(crate) fn pad_list(items: &mut Vec<Value>, len: usize) -> Result<(), Error> {
    if len.saturating_sub(items.len()) > MAX_LIST_PAD {
        return Err(Error::RecordTooBig);
    }
    items.resize(len, Value::Nil);
    Ok(())
}

/// A bin value as particle type and bytes.
pub type Particle = (u8, Vec<u8>);

/// Converts a result value into the particle sent back (`None`: no value, a nil result).
pub fn value_to_particle(v: &Value) -> Option<Particle> {
    Some(match v {
        Value::Nil | Value::Wildcard | Value::Infinity | Value::Ext(..) => return None,
        Value::Bool(b) => (particle::BOOL, vec![u8::from(*b)]),
        Value::Int(i) => (particle::INTEGER, i.to_be_bytes().to_vec()),
        Value::Uint(u) => (particle::INTEGER, u.to_be_bytes().to_vec()),
        Value::Float(f) => (particle::FLOAT, f.to_bits().to_be_bytes().to_vec()),
        Value::Str(s) | Value::Bin(s) => match s.split_first() {
            None => (particle::BLOB, Vec::new()),
            Some((&msgpack::BYTES_GEOJSON, json)) => {
                // GeoJSON particle: flags, cell count (0), then the text.
                let mut p = vec![0u8, 0, 0];
                p.extend_from_slice(json);
                (particle::GEOJSON, p)
            }
            Some((&t, rest)) => (t, rest.to_vec()),
        },
        Value::List(_) => (particle::LIST, msgpack::encode(v)),
        Value::Map(_) => (particle::MAP, msgpack::encode(v)),
    })
}

/// Decodes a stored list or map bin into a value, normalizing maps to key order.
pub fn bin_to_value(particle_type: u8, bytes: &[u8]) -> Result<Value, Error> {
    match particle_type {
        particle::LIST | particle::MAP => {
            let mut v = msgpack::decode(bytes)?;
            sort_maps(&mut v);
            Ok(v)
        }
        _ => Err(Error::IncompatibleType),
    }
}

/// Encodes a list or map value as a bin particle.
pub fn value_to_bin(v: &Value) -> Option<Particle> {
    match v {
        Value::List(_) => Some((particle::LIST, msgpack::encode(v))),
        Value::Map(_) => Some((particle::MAP, msgpack::encode(v))),
        _ => None,
    }
}

/// Validates a list/map value written whole by a client and returns it normalized (maps sorted
/// by key). Rejects wildcard/infinity, invalid or duplicate map keys, and ordered lists out of
/// order, with PARAMETER.
pub fn normalize_bin(particle_type: u8, bytes: &[u8]) -> Result<Vec<u8>, Error> {
    let mut v = msgpack::decode(bytes)?;
    match (particle_type, &v) {
        (particle::LIST, Value::List(_)) | (particle::MAP, Value::Map(_)) => {}
        _ => return Err(Error::Parameter),
    }
    normalize_storage(&mut v)?;
    Ok(msgpack::encode(&v))
}

/// Checks and normalizes a value about to be stored.
pub fn normalize_storage(v: &mut Value) -> Result<(), Error> {
    match v {
        Value::Wildcard | Value::Infinity => Err(Error::Parameter),
        Value::List(l) => {
            for x in &mut l.items {
                normalize_storage(x)?;
            }
            if l.is_ordered() && !list::is_sorted(&l.items) {
                return Err(Error::Parameter);
            }
            Ok(())
        }
        Value::Map(m) => {
            m.flags &= msgpack::MAP_KV_ORDERED;
            for (k, x) in &mut m.entries {
                if !map::is_key(k) {
                    return Err(Error::Parameter);
                }
                normalize_storage(x)?;
            }
            m.entries.sort_by(|a, b| order::compare(&a.0, &b.0));
            if m.entries
                .windows(2)
                .any(|w| matches!(w, [a, b] if order::equal(&a.0, &b.0)))
            {
                return Err(Error::Parameter);
            }
            Ok(())
        }
        _ => Ok(()),
    }
}

/// Sorts every map inside `v` by key (loading data written before normalization).
fn sort_maps(v: &mut Value) {
    match v {
        Value::List(l) => l.items.iter_mut().for_each(sort_maps),
        Value::Map(m) => {
            for (_, x) in &mut m.entries {
                sort_maps(x);
            }
            m.entries.sort_by(|a, b| order::compare(&a.0, &b.0));
        }
        _ => {}
    }
}
