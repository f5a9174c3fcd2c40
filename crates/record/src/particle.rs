//! Particle types: the type byte of every bin value and key.

pub const NULL: u8 = 0;
pub const INTEGER: u8 = 1;
pub const FLOAT: u8 = 2;
pub const STRING: u8 = 3;
pub const BLOB: u8 = 4;
pub const JAVA_BLOB: u8 = 7;
pub const CSHARP_BLOB: u8 = 8;
pub const PYTHON_BLOB: u8 = 9;
pub const RUBY_BLOB: u8 = 10;
pub const PHP_BLOB: u8 = 11;
pub const ERLANG_BLOB: u8 = 12;
pub const BOOL: u8 = 17;
pub const HLL: u8 = 18;
pub const MAP: u8 = 19;
pub const LIST: u8 = 20;
pub const GEOJSON: u8 = 23;

/// Why a bin value sent by a client cannot be stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ValueError {
    /// Unknown particle type, or a value whose size does not fit its type.
    BadValue,
}

/// Whether `t` is a particle type a bin may hold.
pub fn is_storable(t: u8) -> bool {
    matches!(
        t,
        INTEGER | FLOAT | STRING | BLOB | JAVA_BLOB
            ..=ERLANG_BLOB | BOOL | HLL | MAP | LIST | GEOJSON
    )
}

/// Reads an integer particle sent as 1, 2, 4 or 8 big-endian bytes (sign-extended).
pub fn read_int(v: &[u8]) -> Option<i64> {
    Some(match v.len() {
        8 => i64::from_be_bytes(v.try_into().ok()?),
        4 => i32::from_be_bytes(v.try_into().ok()?) as i64,
        2 => i16::from_be_bytes(v.try_into().ok()?) as i64,
        1 => i8::from_be_bytes(v.try_into().ok()?) as i64,
        0 => 0,
        _ => return None,
    })
}

/// Reads a double particle (8 bytes, big-endian IEEE 754).
pub fn read_float(v: &[u8]) -> Option<f64> {
    Some(f64::from_be_bytes(v.try_into().ok()?))
}

/// Validates a client value of type `t` and returns the canonical stored bytes' form:
/// integers widen to 8 bytes; other fixed-size types must have their exact size.
pub fn canonical_int(t: u8, v: &[u8]) -> Result<Option<[u8; 8]>, ValueError> {
    match t {
        INTEGER => match v.len() {
            8 => Ok(None),
            _ => read_int(v)
                .map(|i| Some(i.to_be_bytes()))
                .ok_or(ValueError::BadValue),
        },
        FLOAT if v.len() != 8 => Err(ValueError::BadValue),
        BOOL if v.len() != 1 => Err(ValueError::BadValue),
        _ if is_storable(t) => Ok(None),
        _ => Err(ValueError::BadValue),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ints_widen() {
        assert_eq!(read_int(&[0xff]), Some(-1));
        assert_eq!(read_int(&[0x01, 0x00]), Some(256));
        assert_eq!(
            canonical_int(INTEGER, &[0xff]),
            Ok(Some((-1i64).to_be_bytes()))
        );
        assert_eq!(canonical_int(INTEGER, &[0; 3]), Err(ValueError::BadValue));
        assert_eq!(canonical_int(FLOAT, &[0; 4]), Err(ValueError::BadValue));
        assert_eq!(canonical_int(99, &[0; 4]), Err(ValueError::BadValue));
    }
}
