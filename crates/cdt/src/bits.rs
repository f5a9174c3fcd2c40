//! Bitwise operations on blob bins (op types 12/13), after aerospike-server
//! `as/src/base/particle_blob.c`.
//!
//! An op value is `[op_id, arg…]`. Bit offsets count from the most significant bit of byte 0;
//! negative offsets count back from the end. Modify ops (0..=12) rewrite the blob; read ops
//! (50..=54) answer a blob or an integer.

use aerie_record::particle;

use crate::msgpack::{Reader, Value};
use crate::{Error, Particle};

/// Bit op ids.
pub mod op {
    pub const RESIZE: u64 = 0;
    pub const INSERT: u64 = 1;
    pub const REMOVE: u64 = 2;
    pub const SET: u64 = 3;
    pub const OR: u64 = 4;
    pub const XOR: u64 = 5;
    pub const AND: u64 = 6;
    pub const NOT: u64 = 7;
    pub const LSHIFT: u64 = 8;
    pub const RSHIFT: u64 = 9;
    pub const ADD: u64 = 10;
    pub const SUBTRACT: u64 = 11;
    pub const SET_INT: u64 = 12;
    pub const GET: u64 = 50;
    pub const COUNT: u64 = 51;
    pub const LSCAN: u64 = 52;
    pub const RSCAN: u64 = 53;
    pub const GET_INT: u64 = 54;
}

/// Policy flags.
pub mod flag {
    pub const CREATE_ONLY: u64 = 1;
    pub const UPDATE_ONLY: u64 = 2;
    pub const NO_FAIL: u64 = 4;
    pub const PARTIAL: u64 = 8;
}

const INT_SIGNED: u64 = 1;
const INT_SATURATE: u64 = 2;
const INT_WRAP: u64 = 4;
const RESIZE_FROM_FRONT: u64 = 1;
const RESIZE_GROW_ONLY: u64 = 2;
const RESIZE_SHRINK_ONLY: u64 = 4;

/// Largest message the protocol carries; bounds sizes and offsets.
const PROTO_SIZE_MAX: u64 = 128 * 1024 * 1024;

/// Parsed arguments of one bit op.
#[derive(Debug, Default)]
struct BitOp {
    id: u64,
    /// Bit offset as sent (may be negative).
    offset: i64,
    /// Size in bits (0 when the op has none).
    size: u64,
    value: u64,
    buf: Vec<u8>,
    flags: u64,
    subflags: u64,
}

#[derive(Clone, Copy)]
enum Arg {
    ByteOffset,
    Offset,
    ByteSize,
    ByteSizeAllowZero,
    IntSize,
    Size,
    Bool,
    NBits,
    IntValue,
    Buf,
    Flags,
    ResizeSub,
    ArithSub,
    GetIntSub,
}

/// Argument list, minimum count and allowed policy flags of each op.
fn table(id: u64) -> Option<(&'static [Arg], usize, u64)> {
    use Arg::*;
    const CUN: u64 = flag::CREATE_ONLY | flag::UPDATE_ONLY | flag::NO_FAIL;
    const UNP: u64 = flag::UPDATE_ONLY | flag::NO_FAIL | flag::PARTIAL;
    const UN: u64 = flag::UPDATE_ONLY | flag::NO_FAIL;
    Some(match id {
        op::RESIZE => (&[ByteSizeAllowZero, Flags, ResizeSub], 1, CUN),
        op::INSERT => (&[ByteOffset, Buf, Flags], 2, CUN),
        op::REMOVE => (&[ByteOffset, ByteSize, Flags], 2, UNP),
        op::SET | op::OR | op::XOR | op::AND => (&[Offset, Size, Buf, Flags], 3, UNP),
        op::NOT => (&[Offset, Size, Flags], 2, UNP),
        op::LSHIFT | op::RSHIFT => (&[Offset, Size, NBits, Flags], 3, UNP),
        op::ADD | op::SUBTRACT => (&[Offset, IntSize, IntValue, Flags, ArithSub], 3, UN),
        op::SET_INT => (&[Offset, IntSize, IntValue, Flags], 3, UN),
        op::GET | op::COUNT => (&[Offset, Size], 2, 0),
        op::LSCAN | op::RSCAN => (&[Offset, Size, Bool], 3, 0),
        op::GET_INT => (&[Offset, IntSize, GetIntSub], 2, 0),
        _ => return None,
    })
}

fn uint(v: &Value) -> Result<u64, Error> {
    match v {
        Value::Int(i) => Ok(*i as u64),
        Value::Uint(u) => Ok(*u),
        _ => Err(Error::Parameter),
    }
}

fn parse(b: &[u8], read: bool) -> Result<BitOp, Error> {
    let mut r = Reader::new(b);
    let n = r.list_len()?;
    if n == 0 {
        return Err(Error::Parameter);
    }
    let id = uint(&r.value()?)?;
    if read != (id >= op::GET) {
        return Err(Error::Parameter);
    }
    let (args, min, allowed) = table(id).ok_or(Error::Parameter)?;
    let n_args = n - 1;
    if n_args < min || n_args > args.len() {
        return Err(Error::Parameter);
    }
    let mut o = BitOp {
        id,
        ..BitOp::default()
    };
    for &kind in args.iter().take(n_args) {
        let v = r.value()?;
        match kind {
            Arg::ByteOffset => {
                let Value::Int(x) = v else {
                    return Err(Error::Parameter);
                };
                if x.unsigned_abs() > PROTO_SIZE_MAX {
                    return Err(Error::Parameter);
                }
                o.offset = x * 8;
            }
            Arg::Offset => {
                let Value::Int(x) = v else {
                    return Err(Error::Parameter);
                };
                if x.unsigned_abs() > PROTO_SIZE_MAX * 8 {
                    return Err(Error::Parameter);
                }
                o.offset = x;
            }
            Arg::ByteSize | Arg::ByteSizeAllowZero => {
                let x = uint(&v)?;
                if (x == 0 && matches!(kind, Arg::ByteSize)) || x > PROTO_SIZE_MAX {
                    return Err(Error::Parameter);
                }
                o.size = x * 8;
            }
            Arg::IntSize => {
                let x = uint(&v)?;
                if x == 0 || x > 64 {
                    return Err(Error::Parameter);
                }
                o.size = x;
            }
            Arg::Size => {
                let x = uint(&v)?;
                if x == 0 || x > PROTO_SIZE_MAX * 8 {
                    return Err(Error::Parameter);
                }
                o.size = x;
            }
            Arg::Bool => {
                let Value::Bool(x) = v else {
                    return Err(Error::Parameter);
                };
                o.value = u64::from(x);
            }
            Arg::NBits => {
                o.value = uint(&v)?;
                if o.value > PROTO_SIZE_MAX * 8 {
                    return Err(Error::Parameter);
                }
            }
            Arg::IntValue => o.value = uint(&v)?,
            Arg::Buf => {
                let (Value::Str(s) | Value::Bin(s)) = v else {
                    return Err(Error::Parameter);
                };
                // The first byte is the particle type, ignored.
                let data = s
                    .get(1..)
                    .filter(|d| !d.is_empty())
                    .ok_or(Error::Parameter)?;
                let bits = data.len() as u64 * 8;
                if o.size != 0 && bits < o.size {
                    return Err(Error::Parameter);
                }
                if o.size == 0 {
                    o.size = bits;
                }
                o.buf = data.to_vec();
            }
            Arg::Flags => {
                o.flags = uint(&v)?;
                if o.flags & !allowed != 0
                    || (o.flags & flag::CREATE_ONLY != 0 && o.flags & flag::UPDATE_ONLY != 0)
                {
                    return Err(Error::Parameter);
                }
            }
            Arg::ResizeSub => {
                o.subflags = uint(&v)?;
                let ok = RESIZE_FROM_FRONT | RESIZE_GROW_ONLY | RESIZE_SHRINK_ONLY;
                if o.subflags & !ok != 0
                    || (o.subflags & RESIZE_GROW_ONLY != 0 && o.subflags & RESIZE_SHRINK_ONLY != 0)
                {
                    return Err(Error::Parameter);
                }
            }
            Arg::ArithSub => {
                o.subflags = uint(&v)?;
                if o.subflags & !(INT_SIGNED | INT_SATURATE | INT_WRAP) != 0
                    || (o.subflags & INT_SATURATE != 0 && o.subflags & INT_WRAP != 0)
                {
                    return Err(Error::Parameter);
                }
            }
            Arg::GetIntSub => {
                o.subflags = uint(&v)?;
                if o.subflags & !INT_SIGNED != 0 {
                    return Err(Error::Parameter);
                }
            }
        }
    }
    if !r.is_empty() {
        return Err(Error::Parameter);
    }
    Ok(o)
}

// ---------------------------------------------------------------------------
// Bit helpers (bit 0 = most significant bit of byte 0).

fn get_bit(b: &[u8], i: u64) -> bool {
    b.get((i / 8) as usize)
        .is_some_and(|x| x & (0x80 >> (i % 8)) != 0)
}

fn set_bit(b: &mut [u8], i: u64, on: bool) {
    if let Some(x) = b.get_mut((i / 8) as usize) {
        let m = 0x80u8 >> (i % 8);
        if on {
            *x |= m;
        } else {
            *x &= !m;
        }
    }
}

fn load_int(b: &[u8], off: u64, size: u64) -> u64 {
    (0..size).fold(0u64, |acc, k| (acc << 1) | u64::from(get_bit(b, off + k)))
}

fn store_int(b: &mut [u8], off: u64, size: u64, v: u64) {
    for k in 0..size {
        set_bit(b, off + k, (v >> (size - 1 - k)) & 1 == 1);
    }
}

/// Outcome of a range check: go on, quietly do nothing (no-fail), or fail.
enum Range {
    Do { off: u64, size: u64 },
    Skip,
}

fn fail_or_skip(flags: u64, e: Error) -> Result<Range, Error> {
    if flags & flag::NO_FAIL != 0 {
        Ok(Range::Skip)
    } else {
        Err(e)
    }
}

/// Resolves the op's bit offset against a blob of `len` bytes.
fn normalize(o: &BitOp, len: usize) -> Result<u64, Error> {
    let total = len as u64 * 8;
    if o.offset < 0 {
        let back = o.offset.unsigned_abs();
        if back > total {
            return Err(Error::Parameter);
        }
        Ok(total - back)
    } else {
        Ok(o.offset as u64)
    }
}

/// The range an overwrite or read op touches, with the partial and no-fail rules.
fn range(o: &BitOp, len: usize, partial_ok: bool) -> Result<Range, Error> {
    let off = normalize(o, len)?;
    let total = len as u64 * 8;
    if off / 8 >= len as u64 {
        return fail_or_skip(o.flags, Error::OpNotApplicable);
    }
    let end_byte = (off + o.size).div_ceil(8);
    if end_byte > len as u64 {
        if !partial_ok || o.flags & flag::PARTIAL == 0 {
            return fail_or_skip(o.flags, Error::OpNotApplicable);
        }
        return Ok(Range::Do {
            off,
            size: total - off,
        });
    }
    Ok(Range::Do { off, size: o.size })
}

/// A bit read op on an existing bin.
pub fn bits_read(
    particle_type: u8,
    bytes: &[u8],
    op_value: &[u8],
) -> Result<Option<Particle>, Error> {
    if let Some(args) = b64_args(op_value)? {
        if particle_type != particle::BLOB {
            return Err(Error::IncompatibleType);
        }
        return b64_encode(bytes, &args).map(Some);
    }
    let o = parse(op_value, true)?;
    if particle_type != particle::BLOB {
        return Err(Error::IncompatibleType);
    }
    let Range::Do { off, size } = range(&o, bytes.len(), false)? else {
        return Ok(None);
    };
    Ok(Some(match o.id {
        op::GET => {
            let mut out = vec![0u8; size.div_ceil(8) as usize];
            for k in 0..size {
                set_bit(&mut out, k, get_bit(bytes, off + k));
            }
            (particle::BLOB, out)
        }
        op::COUNT => int((0..size).filter(|&k| get_bit(bytes, off + k)).count() as i64),
        op::LSCAN => {
            let want = o.value == 1;
            int((0..size)
                .find(|&k| get_bit(bytes, off + k) == want)
                .map_or(-1, |k| k as i64))
        }
        op::RSCAN => {
            let want = o.value == 1;
            int((0..size)
                .rev()
                .find(|&k| get_bit(bytes, off + k) == want)
                .map_or(-1, |k| k as i64))
        }
        op::GET_INT => {
            let v = load_int(bytes, off, size);
            let v = if o.subflags & INT_SIGNED != 0 {
                sign_extend(v, size)
            } else {
                v as i64
            };
            int(v)
        }
        _ => return Err(Error::Parameter),
    }))
}

fn int(i: i64) -> Particle {
    (particle::INTEGER, i.to_be_bytes().to_vec())
}

fn sign_extend(v: u64, bits: u64) -> i64 {
    let lead = 64 - bits as u32;
    ((v << lead) as i64) >> lead
}

/// A bit modify op. Returns the new bin (`None`: unchanged).
pub fn bits_modify(bin: Option<(u8, &[u8])>, op_value: &[u8]) -> Result<Option<Particle>, Error> {
    let o = parse(op_value, false)?;
    let no_fail = o.flags & flag::NO_FAIL != 0;
    let cur: Vec<u8> = match bin {
        Some((t, b)) => {
            if o.flags & flag::CREATE_ONLY != 0 {
                return if no_fail {
                    Ok(None)
                } else {
                    Err(Error::BinExists)
                };
            }
            if t != particle::BLOB {
                return Err(Error::IncompatibleType);
            }
            b.to_vec()
        }
        None => {
            if !matches!(o.id, op::INSERT | op::RESIZE) || o.flags & flag::UPDATE_ONLY != 0 {
                return if no_fail {
                    Ok(None)
                } else {
                    Err(Error::BinNotFound)
                };
            }
            if o.offset < 0 {
                return Err(Error::Parameter);
            }
            Vec::new()
        }
    };
    let existed = bin.is_some();
    let out = match apply(&o, cur)? {
        Some(v) => v,
        None => return Ok(None),
    };
    if !existed && out.is_empty() && o.id == op::RESIZE {
        return Ok(None);
    }
    if out.len() as u64 >= PROTO_SIZE_MAX {
        return Err(Error::Parameter);
    }
    Ok(Some((particle::BLOB, out)))
}

/// Applies a modify op; `Ok(None)` is a quiet no-op.
fn apply(o: &BitOp, mut b: Vec<u8>) -> Result<Option<Vec<u8>>, Error> {
    let len = b.len();
    match o.id {
        op::RESIZE => {
            let want = (o.size / 8) as usize;
            let front = o.subflags & RESIZE_FROM_FRONT != 0;
            if want < len {
                if o.subflags & RESIZE_GROW_ONLY != 0 {
                    return fail_or_skip(o.flags, Error::Parameter).map(|_| None);
                }
                if front {
                    b.drain(..len - want);
                } else {
                    b.truncate(want);
                }
            } else if want > len {
                if o.subflags & RESIZE_SHRINK_ONLY != 0 {
                    return fail_or_skip(o.flags, Error::Parameter).map(|_| None);
                }
                if front {
                    let mut v = vec![0u8; want - len];
                    v.extend_from_slice(&b);
                    b = v;
                } else {
                    b.resize(want, 0);
                }
            } else {
                return Ok(None);
            }
            Ok(Some(b))
        }
        op::INSERT => {
            let at = (normalize(o, len)? / 8) as usize;
            if at > len {
                b.resize(at, 0);
            }
            let tail = b.split_off(at);
            b.extend_from_slice(&o.buf);
            b.extend_from_slice(&tail);
            Ok(Some(b))
        }
        op::REMOVE => {
            let at = (normalize(o, len)? / 8) as usize;
            if at >= len {
                return fail_or_skip(o.flags, Error::Parameter).map(|_| None);
            }
            let n = (o.size / 8) as usize;
            let end = if at + n > len {
                if o.flags & flag::PARTIAL == 0 {
                    return fail_or_skip(o.flags, Error::Parameter).map(|_| None);
                }
                len
            } else {
                at + n
            };
            b.drain(at..end);
            Ok(Some(b))
        }
        op::SET | op::OR | op::XOR | op::AND | op::NOT | op::LSHIFT | op::RSHIFT => {
            let Range::Do { off, size } = range(o, len, true)? else {
                return Ok(None);
            };
            let src = b.clone();
            for k in 0..size {
                let cur = get_bit(&src, off + k);
                let arg = get_bit(&o.buf, k);
                let bit = match o.id {
                    op::SET => arg,
                    op::OR => cur | arg,
                    op::XOR => cur ^ arg,
                    op::AND => cur & arg,
                    op::NOT => !cur,
                    op::LSHIFT => k
                        .checked_add(o.value)
                        .filter(|&j| j < size)
                        .is_some_and(|j| get_bit(&src, off + j)),
                    _ => k
                        .checked_sub(o.value)
                        .is_some_and(|j| get_bit(&src, off + j)),
                };
                set_bit(&mut b, off + k, bit);
            }
            Ok(Some(b))
        }
        op::ADD | op::SUBTRACT | op::SET_INT => {
            let Range::Do { off, size } = range(o, len, false)? else {
                return Ok(None);
            };
            let mask = u64::MAX >> (64 - size);
            let value = o.value & mask;
            let load = load_int(&b, off, size);
            let result = match o.id {
                op::SET_INT => value,
                _ => match arith(o, load, value, size) {
                    Some(r) => r,
                    None => return fail_or_skip(o.flags, Error::OpNotApplicable).map(|_| None),
                },
            };
            store_int(&mut b, off, size, result);
            Ok(Some(b))
        }
        _ => Err(Error::Parameter),
    }
}

/// add/subtract with the overflow action; `None` on an overflow that must fail.
fn arith(o: &BitOp, load: u64, value: u64, size: u64) -> Option<u64> {
    let mask = u64::MAX >> (64 - size);
    let add = o.id == op::ADD;
    let result = if add {
        load.wrapping_add(value)
    } else {
        load.wrapping_sub(value)
    } & mask;
    if o.subflags & INT_WRAP != 0 {
        return Some(result);
    }
    let saturate = o.subflags & INT_SATURATE != 0;
    if o.subflags & INT_SIGNED != 0 {
        let v = if add {
            value
        } else {
            (value as i64).wrapping_neg() as u64
        };
        let (sr, sl, sv) = (
            sign_extend(result, size),
            sign_extend(load, size),
            sign_extend(v, size),
        );
        if sl < 0 && sv < 0 && sr > 0 {
            return saturate.then(|| (mask >> (size - 1)) << (size - 1));
        }
        if sl > 0 && sv > 0 && sr < 0 {
            return saturate.then_some(mask >> 1);
        }
        return Some(result);
    }
    if add && result < load {
        return saturate.then_some(mask);
    }
    if !add && result > load {
        return saturate.then_some(0);
    }
    Some(result)
}

/// Encodes a bit op for tests: `[id, args…]`.
#[cfg(test)]
fn encode_op(items: Vec<Value>) -> Vec<u8> {
    crate::msgpack::encode(&Value::List(crate::msgpack::List::new(0, items)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn int_v(i: i64) -> Value {
        Value::Int(i)
    }

    #[test]
    fn insert_get_count() -> Result<(), Error> {
        let blob = Value::blob(&[0x01, 0x42, 0x03, 0x04, 0x05]);
        let b = bits_modify(None, &encode_op(vec![int_v(1), int_v(0), blob]))?
            .ok_or(Error::Parameter)?;
        let got = bits_read(b.0, &b.1, &encode_op(vec![int_v(50), int_v(9), int_v(5)]))?;
        assert_eq!(got, Some((particle::BLOB, vec![0b1000_0000])));
        let got = bits_read(b.0, &b.1, &encode_op(vec![int_v(51), int_v(20), int_v(4)]))?;
        assert_eq!(got, Some(int(2)));
        assert_eq!(
            bits_read(b.0, &b.1, &encode_op(vec![int_v(50), int_v(38), int_v(5)])),
            Err(Error::OpNotApplicable)
        );
        Ok(())
    }

    #[test]
    fn add_overflow_fails_saturates_or_wraps() -> Result<(), Error> {
        let b = (particle::BLOB, vec![0xffu8]);
        let add = |sub: i64| {
            encode_op(vec![
                int_v(10),
                int_v(0),
                int_v(8),
                int_v(1),
                int_v(0),
                int_v(sub),
            ])
        };
        assert_eq!(
            bits_modify(Some((b.0, &b.1)), &add(0)),
            Err(Error::OpNotApplicable)
        );
        assert_eq!(
            bits_modify(Some((b.0, &b.1)), &add(2))?,
            Some((particle::BLOB, vec![0xff]))
        );
        assert_eq!(
            bits_modify(Some((b.0, &b.1)), &add(4))?,
            Some((particle::BLOB, vec![0x00]))
        );
        Ok(())
    }

    #[test]
    fn missing_bin_and_wrong_type() {
        let set = encode_op(vec![int_v(3), int_v(0), int_v(8), Value::blob(&[1])]);
        assert_eq!(bits_modify(None, &set), Err(Error::BinNotFound));
        assert_eq!(
            bits_modify(Some((particle::STRING, b"x")), &set),
            Err(Error::IncompatibleType)
        );
        assert_eq!(bits_modify(None, &[0x91]), Err(Error::Parameter));
    }
}

/// Op id of `b64_encode` (server 8.2): the base64 text of a byte range of the blob.
pub const B64_ENCODE: i64 = 55;
/// `b64_encode` flag: the size counts back from the end of the blob.
const B64_INVERT_SIZE: i64 = 1;

/// The arguments of a `b64_encode` op (`[55]`, `[55, offset, size]` or `[55, offset, size,
/// flags]`), or `None` when the op is another one.
fn b64_args(op_value: &[u8]) -> Result<Option<Vec<i64>>, Error> {
    let mut r = crate::msgpack::Reader::new(op_value);
    let n = r.list_len()?;
    if r.value()?.as_int() != Some(B64_ENCODE) {
        return Ok(None);
    }
    if !matches!(n, 1 | 3 | 4) {
        return Err(Error::Parameter);
    }
    let mut args = Vec::with_capacity(3);
    for _ in 1..n {
        args.push(r.value()?.as_int().ok_or(Error::Parameter)?);
    }
    Ok(Some(args))
}

/// Encodes `bytes[offset..]` as base64: `[]` the whole blob, `[offset, size]` with a negative
/// offset counting from the end, `[offset, size, INVERT_SIZE]` ending `size` bytes before the
/// end. A range reaching past the end is OP_NOT_APPLICABLE; an empty range is "".
fn b64_encode(bytes: &[u8], args: &[i64]) -> Result<Particle, Error> {
    let len = bytes.len() as i64;
    let (start, end) = match *args {
        [] => (0, len),
        [off, size] | [off, size, _] => {
            let flags = args.get(2).copied().unwrap_or(0);
            if flags & !B64_INVERT_SIZE != 0 || size < 0 {
                return Err(Error::Parameter);
            }
            let start = if off < 0 { len + off } else { off };
            let end = if flags & B64_INVERT_SIZE != 0 {
                len - size
            } else {
                start.saturating_add(size)
            };
            if start < 0 || start > len || end > len || end < start {
                return Err(Error::OpNotApplicable);
            }
            (start, end)
        }
        _ => return Err(Error::Parameter),
    };
    let range = bytes
        .get(start as usize..end as usize)
        .ok_or(Error::OpNotApplicable)?;
    Ok((particle::STRING, base64(range)))
}

/// Standard base64 (RFC 4648) with padding.
fn base64(data: &[u8]) -> Vec<u8> {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let sym = |i: u32| ALPHABET.get((i & 63) as usize).copied().unwrap_or(b'=');
    let mut out = Vec::with_capacity(data.len().div_ceil(3) * 4);
    for chunk in data.chunks(3) {
        let b = |i: usize| u32::from(chunk.get(i).copied().unwrap_or(0));
        let n = (b(0) << 16) | (b(1) << 8) | b(2);
        out.push(sym(n >> 18));
        out.push(sym(n >> 12));
        out.push(if chunk.len() > 1 { sym(n >> 6) } else { b'=' });
        out.push(if chunk.len() > 2 { sym(n) } else { b'=' });
    }
    out
}

#[cfg(test)]
mod b64_tests {
    use super::*;

    #[test]
    fn ranges_match_the_clients_examples() -> Result<(), Error> {
        let blob = [0x01, 0x42, 0x03, 0x04, 0x05];
        let enc = |args: &[i64]| b64_encode(&blob, args).map(|(_, v)| v);
        assert_eq!(enc(&[])?, b"AUIDBAU=");
        assert_eq!(enc(&[1, 2])?, b"QgM=");
        assert_eq!(enc(&[-2, 2])?, b"BAU=");
        assert_eq!(enc(&[2, 0, 1])?, b"AwQF");
        assert_eq!(enc(&[0, 1, 1])?, b"AUIDBA==");
        assert_eq!(enc(&[0, 0])?, b"");
        assert_eq!(enc(&[6, 1]), Err(Error::OpNotApplicable));
        assert_eq!(enc(&[4, 2]), Err(Error::OpNotApplicable));
        assert_eq!(base64(b"foobar"), b"Zm9vYmFy");
        assert_eq!(base64(b"fo"), b"Zm8=");
        Ok(())
    }
}
