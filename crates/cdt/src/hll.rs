//! HyperLogLog bins (op types 15/16), after aerospike-server `as/src/base/particle_hll.c`.
//!
//! An HLL bin is `u8 flags (0) · u8 index bits · u8 minhash bits · u64 cached count (native
//! little-endian) · registers`, the registers packed most-significant-bit first, each
//! `6 + minhash bits` wide: the HyperLogLog value in the high 6 bits, the HyperMinHash bits
//! below. Elements are hashed with MurmurHash3 x64/128 over their compact msgpack encoding.
//! Counts use Ertl's improved estimator; intersections and similarity use HyperMinHash when
//! every sketch has minhash bits, else inclusion-exclusion over HLL estimates.

use aerie_record::particle;

use crate::msgpack::{self, Reader, Value};
use crate::{Error, Particle};

/// HLL op ids.
pub mod op {
    pub const INIT: u64 = 0;
    pub const ADD: u64 = 1;
    pub const UNION: u64 = 2;
    pub const REFRESH_COUNT: u64 = 3;
    pub const FOLD: u64 = 4;
    pub const COUNT: u64 = 50;
    pub const GET_UNION: u64 = 51;
    pub const UNION_COUNT: u64 = 52;
    pub const INTERSECT_COUNT: u64 = 53;
    pub const SIMILARITY: u64 = 54;
    pub const DESCRIBE: u64 = 55;
    pub const MAY_CONTAIN: u64 = 56;
}

/// Policy flags.
pub mod flag {
    pub const CREATE_ONLY: u64 = 1;
    pub const UPDATE_ONLY: u64 = 2;
    pub const NO_FAIL: u64 = 4;
    pub const ALLOW_FOLD: u64 = 8;
}

const HEADER_SIZE: usize = 3 + 8;
const HLL_BITS: u32 = 6;
const HLL_MAX_VALUE: usize = 1 << HLL_BITS;
const MIN_INDEX_BITS: u8 = 4;
const MAX_INDEX_BITS: u8 = 16;
const MIN_MINHASH_BITS: u8 = 4;
const MAX_MINHASH_BITS: u8 = 64 - HLL_BITS as u8 - 7;
const MAX_COMBINED_BITS: u32 = 64;
/// "Not given" for index and minhash bits.
const UNSET: u8 = 0xff;

/// One sketch, owned.
#[derive(Debug, Clone, PartialEq)]
pub struct Hll {
    pub index_bits: u8,
    pub minhash_bits: u8,
    pub cache: u64,
    pub registers: Vec<u8>,
}

fn valid_index_bits(b: u64) -> bool {
    (u64::from(MIN_INDEX_BITS)..=u64::from(MAX_INDEX_BITS)).contains(&b)
}

fn valid_minhash_bits(b: u64) -> bool {
    b == 0 || (u64::from(MIN_MINHASH_BITS)..=u64::from(MAX_MINHASH_BITS)).contains(&b)
}

fn valid_combined(i: u8, m: u8) -> bool {
    valid_index_bits(u64::from(i))
        && valid_minhash_bits(u64::from(m))
        && u32::from(i) + u32::from(m) <= MAX_COMBINED_BITS
}

fn registers_size(index_bits: u8, minhash_bits: u8) -> usize {
    ((HLL_BITS as usize + minhash_bits as usize) * (1usize << index_bits)).div_ceil(8)
}

impl Hll {
    pub fn new(index_bits: u8, minhash_bits: u8) -> Self {
        Self {
            index_bits,
            minhash_bits,
            cache: 0,
            registers: vec![0; registers_size(index_bits, minhash_bits)],
        }
    }

    /// Parses a stored or client-sent sketch; `None` when it is not a valid one.
    pub fn parse(b: &[u8]) -> Option<Self> {
        let (&[flags, index_bits, minhash_bits], rest) = b.split_first_chunk::<3>()?;
        let (cache, registers) = rest.split_first_chunk::<8>()?;
        if flags != 0 || !valid_combined(index_bits, minhash_bits) {
            return None;
        }
        if registers.len() != registers_size(index_bits, minhash_bits) {
            return None;
        }
        Some(Self {
            index_bits,
            minhash_bits,
            cache: u64::from_le_bytes(*cache),
            registers: registers.to_vec(),
        })
    }

    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(HEADER_SIZE + self.registers.len());
        out.extend_from_slice(&[0, self.index_bits, self.minhash_bits]);
        out.extend_from_slice(&self.cache.to_le_bytes());
        out.extend_from_slice(&self.registers);
        out
    }

    fn n_registers(&self) -> usize {
        1 << self.index_bits
    }

    fn reg_bits(&self) -> usize {
        HLL_BITS as usize + self.minhash_bits as usize
    }

    fn get(&self, r: usize) -> u64 {
        let n = self.reg_bits();
        let start = n * r;
        (start..start + n).fold(0u64, |acc, bit| {
            let on = self
                .registers
                .get(bit / 8)
                .is_some_and(|x| x & (0x80 >> (bit % 8)) != 0);
            (acc << 1) | u64::from(on)
        })
    }

    fn set(&mut self, r: usize, v: u64) {
        let n = self.reg_bits();
        let start = n * r;
        for k in 0..n {
            let bit = start + k;
            if let Some(x) = self.registers.get_mut(bit / 8) {
                let m = 0x80u8 >> (bit % 8);
                if (v >> (n - 1 - k)) & 1 == 1 {
                    *x |= m;
                } else {
                    *x &= !m;
                }
            }
        }
    }

    fn hll_val(&self, v: u64) -> usize {
        (v >> self.minhash_bits) as usize
    }

    /// Register index and value an element hashes to.
    fn hash(&self, element: &[u8]) -> (usize, u64) {
        let (h1, h2) = murmur3_x64_128(element);
        let r = (h1 as u16 & ((1u16 << self.index_bits).wrapping_sub(1))) as usize;
        let minhash_mask = (1u64 << self.minhash_bits) - 1;
        let minhash = (h1 >> self.index_bits) & minhash_mask;
        let hll_val = u64::from(h2.trailing_zeros()) + 1;
        (r, (hll_val << self.minhash_bits) | minhash)
    }

    /// Adds an element; whether a register changed.
    pub fn add(&mut self, element: &[u8]) -> bool {
        let (r, v) = self.hash(element);
        if self.get(r) < v {
            self.set(r, v);
            self.cache = 0;
            return true;
        }
        false
    }

    fn may_contain(&self, element: &[u8]) -> bool {
        let (r, v) = self.hash(element);
        v <= self.get(r)
    }

    /// Cardinality estimate (Ertl 2017, algorithm 6), or the cached one.
    pub fn estimate(&self) -> u64 {
        if self.cache != 0 {
            return self.cache;
        }
        let m = self.n_registers();
        let mut c = [0u32; HLL_MAX_VALUE + 2];
        for r in 0..m {
            let k = self.hll_val(self.get(r)).min(HLL_MAX_VALUE + 1);
            if let Some(slot) = c.get_mut(k) {
                *slot += 1;
            }
        }
        let mf = m as f64;
        let at = |k: usize| f64::from(c.get(k).copied().unwrap_or(0));
        let mut z = mf * tau(at(HLL_MAX_VALUE) / mf);
        for k in (1..=HLL_MAX_VALUE).rev() {
            z = 0.5 * (z + at(k));
        }
        z += mf * sigma(at(0) / mf);
        (self.alpha() * mf * mf / z).round() as u64
    }

    fn alpha(&self) -> f64 {
        match self.index_bits {
            4 => 0.673,
            5 => 0.697,
            6 => 0.709,
            b => 0.7213 / (1.0 + 1.079 / f64::from(1u32 << b)),
        }
    }

    /// Folds `other` in (this sketch must not have more index bits than `other`).
    fn union_in(&mut self, other: &Hll) {
        let mask = self.n_registers() - 1;
        for r in 0..other.n_registers() {
            let ur = r & mask;
            if self.minhash_bits == 0 {
                let v0 = self.hll_val(self.get(ur)) as u64;
                let v1 = other.hll_val(other.get(r)) as u64;
                if v0 < v1 {
                    self.set(ur, v1);
                }
            } else {
                let v1 = other.get(r);
                if self.get(ur) < v1 {
                    self.set(ur, v1);
                }
            }
        }
        self.cache = 0;
    }

    fn intersect_one(&mut self, other: &Hll) {
        let mask = self.n_registers() - 1;
        for r in 0..other.n_registers() {
            let sr = r & mask;
            let (v0, v1) = (self.get(sr), other.get(r));
            self.set(sr, if v0 == v1 { v0 } else { 0 });
        }
    }

    fn used_registers(&self) -> u32 {
        (0..self.n_registers())
            .filter(|&r| self.get(r) != 0)
            .count() as u32
    }

    /// Whether any of the first `n_registers` register bytes is set (the server's check).
    fn has_data(&self) -> bool {
        self.registers
            .iter()
            .take(self.n_registers())
            .any(|&b| b != 0)
    }
}

fn tau(mut x: f64) -> f64 {
    if x == 0.0 || x == 1.0 {
        return 0.0;
    }
    let mut y = 1.0;
    let mut z = 1.0 - x;
    loop {
        x = x.sqrt();
        let prev = z;
        y *= 0.5;
        z -= (1.0 - x).powi(2) * y;
        if prev == z {
            return z / 3.0;
        }
    }
}

fn sigma(mut x: f64) -> f64 {
    if x == 1.0 {
        return f64::INFINITY;
    }
    let mut y = 1.0;
    let mut z = x;
    loop {
        x *= x;
        let prev = z;
        z += x * y;
        y += y;
        if prev == z {
            return z;
        }
    }
}

/// Smallest index bits; minhash bits kept only when all sketches agree.
fn template(hs: &[&Hll]) -> (u8, u8) {
    let mut it = hs.iter();
    let Some(first) = it.next() else {
        return (MIN_INDEX_BITS, 0);
    };
    let (mut ib, mut mb) = (first.index_bits, first.minhash_bits);
    for h in it {
        ib = ib.min(h.index_bits);
        if mb != 0 && mb != h.minhash_bits {
            mb = 0;
        }
    }
    (ib, mb)
}

fn union_of(hs: &[&Hll]) -> Hll {
    let (ib, mb) = template(hs);
    let mut u = Hll::new(ib, mb);
    for h in hs {
        u.union_in(h);
    }
    u
}

fn union_count(hs: &[&Hll]) -> u64 {
    union_of(hs).estimate()
}

fn intersect_count(hs: &[&Hll]) -> u64 {
    let (_, mb) = template(hs);
    if mb == 0 {
        return hll_intersect_count(hs);
    }
    let j = similarity(hs);
    if j.is_nan() {
        return 0;
    }
    (union_count(hs) as f64 * j).round() as u64
}

fn hll_intersect_count(hs: &[&Hll]) -> u64 {
    let cu = union_count(hs);
    let sum = hs
        .iter()
        .fold(0u64, |acc, h| acc.saturating_add(h.estimate()));
    match hs {
        [_, _] => sum.saturating_sub(cu),
        [a, b, c] => {
            let pairs =
                intersect_count(&[a, b]) + intersect_count(&[b, c]) + intersect_count(&[a, c]);
            let r = cu as i64 - (sum as i64 - pairs as i64);
            r.max(0) as u64
        }
        _ => 0,
    }
}

fn similarity(hs: &[&Hll]) -> f64 {
    let (ib, mb) = template(hs);
    if mb == 0 {
        return hll_intersect_count(hs) as f64 / union_count(hs) as f64;
    }
    let any_data = hs.iter().any(|h| h.has_data());
    let any_empty = hs.iter().any(|h| !h.has_data());
    if any_empty {
        return if any_data { 0.0 } else { f64::NAN };
    }
    let n_union = union_of(hs).used_registers();
    let mut agg = Hll::new(ib, mb);
    let mut it = hs.iter();
    if let Some(first) = it.next() {
        agg.union_in(first);
    }
    for h in it {
        agg.intersect_one(h);
    }
    let n_intersect = agg.used_registers();
    let ec = match hs {
        [a, b] => collisions(ib, mb, a.estimate(), b.estimate()),
        _ => 0.0,
    };
    ((f64::from(n_intersect) - ec) / f64::from(n_union)).max(0.0)
}

fn collisions(index_bits: u8, minhash_bits: u8, card0: u64, card1: u64) -> f64 {
    let n = f64::from(1u32 << index_bits);
    let buckets = 1i32 << HLL_BITS;
    let mut cp = 0.0;
    for i in 1..=buckets {
        let (b1, b2) = if i != buckets {
            (2f64.powi(-i), 2f64.powi(-i + 1))
        } else {
            (0.0, 2f64.powi(-i + 1))
        };
        let (b1, b2) = (b1 / n, b2 / n);
        let px = (1.0 - b1).powf(card0 as f64) - (1.0 - b2).powf(card0 as f64);
        let py = (1.0 - b1).powf(card1 as f64) - (1.0 - b2).powf(card1 as f64);
        cp += px * py;
    }
    cp * n / 2f64.powi(i32::from(minhash_bits))
}

/// MurmurHash3 x64 128-bit, seed 0: the two 64-bit halves.
pub fn murmur3_x64_128(data: &[u8]) -> (u64, u64) {
    const C1: u64 = 0x87c3_7b91_1142_53d5;
    const C2: u64 = 0x4cf5_ad43_2745_937f;
    let (mut h1, mut h2) = (0u64, 0u64);
    let mut chunks = data.chunks_exact(16);
    for block in &mut chunks {
        let (a, b) = block.split_at(8);
        let mut k1 = u64::from_le_bytes(a.try_into().unwrap_or([0; 8]));
        let mut k2 = u64::from_le_bytes(b.try_into().unwrap_or([0; 8]));
        k1 = k1.wrapping_mul(C1).rotate_left(31).wrapping_mul(C2);
        h1 ^= k1;
        h1 = h1
            .rotate_left(27)
            .wrapping_add(h2)
            .wrapping_mul(5)
            .wrapping_add(0x52dc_e729);
        k2 = k2.wrapping_mul(C2).rotate_left(33).wrapping_mul(C1);
        h2 ^= k2;
        h2 = h2
            .rotate_left(31)
            .wrapping_add(h1)
            .wrapping_mul(5)
            .wrapping_add(0x3849_5ab5);
    }
    let tail = chunks.remainder();
    let mut k1 = 0u64;
    let mut k2 = 0u64;
    for (i, &b) in tail.iter().enumerate() {
        if i < 8 {
            k1 ^= u64::from(b) << (8 * i);
        } else {
            k2 ^= u64::from(b) << (8 * (i - 8));
        }
    }
    if tail.len() > 8 {
        k2 = k2.wrapping_mul(C2).rotate_left(33).wrapping_mul(C1);
        h2 ^= k2;
    }
    if !tail.is_empty() {
        k1 = k1.wrapping_mul(C1).rotate_left(31).wrapping_mul(C2);
        h1 ^= k1;
    }
    let len = data.len() as u64;
    h1 ^= len;
    h2 ^= len;
    h1 = h1.wrapping_add(h2);
    h2 = h2.wrapping_add(h1);
    h1 = fmix(h1);
    h2 = fmix(h2);
    h1 = h1.wrapping_add(h2);
    h2 = h2.wrapping_add(h1);
    (h1, h2)
}

fn fmix(mut k: u64) -> u64 {
    k ^= k >> 33;
    k = k.wrapping_mul(0xff51_afd7_ed55_8ccd);
    k ^= k >> 33;
    k = k.wrapping_mul(0xc4ce_b9fe_1a85_ec53);
    k ^= k >> 33;
    k
}

// ---------------------------------------------------------------------------
// Op parsing.

#[derive(Debug)]
struct HllOp {
    id: u64,
    index_bits: u8,
    minhash_bits: u8,
    flags: u64,
    /// Elements, as the compact msgpack bytes that get hashed.
    elements: Vec<Vec<u8>>,
    hlls: Vec<Hll>,
}

#[derive(Clone, Copy)]
enum Arg {
    IndexBits,
    MinhashBits,
    Flags,
    Elements,
    Hlls,
    HllsIntersect,
}

fn table(id: u64) -> Option<(&'static [Arg], usize, u64)> {
    use Arg::*;
    Some(match id {
        op::INIT => (
            &[IndexBits, MinhashBits, Flags],
            0,
            flag::CREATE_ONLY | flag::UPDATE_ONLY | flag::NO_FAIL,
        ),
        op::ADD => (
            &[Elements, IndexBits, MinhashBits, Flags],
            1,
            flag::CREATE_ONLY | flag::NO_FAIL,
        ),
        op::UNION => (
            &[Hlls, Flags],
            1,
            flag::CREATE_ONLY | flag::UPDATE_ONLY | flag::ALLOW_FOLD | flag::NO_FAIL,
        ),
        op::REFRESH_COUNT | op::COUNT | op::DESCRIBE => (&[], 0, 0),
        op::FOLD => (&[IndexBits], 1, 0),
        op::GET_UNION | op::UNION_COUNT => (&[Hlls], 1, 0),
        op::INTERSECT_COUNT | op::SIMILARITY => (&[HllsIntersect], 1, 0),
        op::MAY_CONTAIN => (&[Elements], 1, 0),
        _ => return None,
    })
}

/// The bytes an element is hashed over: its compact msgpack form.
fn element_bytes(v: &Value) -> Vec<u8> {
    match v {
        Value::Bin(b) if b.len() <= 31 => msgpack::encode(&Value::Str(b.clone())),
        _ => msgpack::encode(v),
    }
}

fn parse(b: &[u8], read: bool) -> Result<HllOp, Error> {
    let mut r = Reader::new(b);
    let n = r.list_len()?;
    if n == 0 {
        return Err(Error::Parameter);
    }
    let id = match r.value()? {
        Value::Int(i) if i >= 0 => i as u64,
        _ => return Err(Error::Parameter),
    };
    if read != (id >= op::COUNT) {
        return Err(Error::Parameter);
    }
    let (args, min, allowed) = table(id).ok_or(Error::Parameter)?;
    let n_args = n - 1;
    if n_args < min || n_args > args.len() {
        return Err(Error::Parameter);
    }
    let mut o = HllOp {
        id,
        index_bits: UNSET,
        minhash_bits: UNSET,
        flags: 0,
        elements: Vec::new(),
        hlls: Vec::new(),
    };
    for &kind in args.iter().take(n_args) {
        let v = r.value()?;
        match kind {
            Arg::IndexBits => {
                let Value::Int(x) = v else {
                    return Err(Error::Parameter);
                };
                if x != -1 {
                    if !valid_index_bits(x as u64) {
                        return Err(Error::Parameter);
                    }
                    o.index_bits = x as u8;
                }
            }
            Arg::MinhashBits => {
                let Value::Int(x) = v else {
                    return Err(Error::Parameter);
                };
                if x != -1 {
                    if !valid_minhash_bits(x as u64) {
                        return Err(Error::Parameter);
                    }
                    if o.index_bits != UNSET && !valid_combined(o.index_bits, x as u8) {
                        return Err(Error::Parameter);
                    }
                    o.minhash_bits = x as u8;
                }
            }
            Arg::Flags => {
                o.flags = match v {
                    Value::Int(x) => x as u64,
                    _ => return Err(Error::Parameter),
                };
                if o.flags & !allowed != 0
                    || (o.flags & flag::CREATE_ONLY != 0 && o.flags & flag::UPDATE_ONLY != 0)
                {
                    return Err(Error::Parameter);
                }
            }
            Arg::Elements => {
                let Value::List(l) = v else {
                    return Err(Error::Parameter);
                };
                if l.items.is_empty() {
                    return Err(Error::Parameter);
                }
                for e in &l.items {
                    if matches!(e, Value::List(_) | Value::Map(_)) || e.has_nonstorage() {
                        return Err(Error::Parameter);
                    }
                    o.elements.push(element_bytes(e));
                }
            }
            Arg::Hlls | Arg::HllsIntersect => {
                let items = match v {
                    Value::List(l) if !l.items.is_empty() => l.items,
                    Value::List(_) => return Err(Error::Parameter),
                    other => vec![other],
                };
                for h in items {
                    let (Value::Str(s) | Value::Bin(s)) = h else {
                        return Err(Error::Parameter);
                    };
                    let hll = s.get(1..).and_then(Hll::parse).ok_or(Error::Parameter)?;
                    o.hlls.push(hll);
                }
                if matches!(kind, Arg::HllsIntersect) && o.hlls.len() > 2 {
                    let mb = o.hlls.first().map_or(0, |h| h.minhash_bits);
                    if mb == 0 || o.hlls.iter().any(|h| h.minhash_bits != mb) {
                        return Err(Error::Parameter);
                    }
                }
            }
        }
    }
    if !r.is_empty() {
        return Err(Error::Parameter);
    }
    Ok(o)
}

fn load(particle_type: u8, bytes: &[u8]) -> Result<Hll, Error> {
    if particle_type != particle::HLL {
        return Err(Error::IncompatibleType);
    }
    Hll::parse(bytes).ok_or(Error::Parameter)
}

fn int(i: u64) -> Particle {
    (particle::INTEGER, i.to_be_bytes().to_vec())
}

/// An HLL read op on an existing bin.
pub fn hll_read(
    particle_type: u8,
    bytes: &[u8],
    op_value: &[u8],
) -> Result<Option<Particle>, Error> {
    let h = load(particle_type, bytes)?;
    let o = parse(op_value, true)?;
    let all = || {
        o.hlls
            .iter()
            .chain(std::iter::once(&h))
            .collect::<Vec<&Hll>>()
    };
    Ok(Some(match o.id {
        op::COUNT => int(h.estimate()),
        op::GET_UNION => (particle::HLL, union_of(&all()).to_bytes()),
        op::UNION_COUNT => int(union_count(&all())),
        op::INTERSECT_COUNT | op::SIMILARITY => {
            if o.hlls.len() > 2 {
                let mb = o.hlls.first().map_or(0, |x| x.minhash_bits);
                if h.minhash_bits == 0 || h.minhash_bits != mb {
                    return Err(Error::OpNotApplicable);
                }
            }
            let hs = all();
            if o.id == op::INTERSECT_COUNT {
                int(intersect_count(&hs))
            } else {
                (
                    particle::FLOAT,
                    similarity(&hs).to_bits().to_be_bytes().to_vec(),
                )
            }
        }
        op::DESCRIBE => {
            let l = Value::List(msgpack::List::new(
                0,
                vec![
                    Value::Int(i64::from(h.index_bits)),
                    Value::Int(i64::from(h.minhash_bits)),
                ],
            ));
            (particle::LIST, msgpack::encode(&l))
        }
        op::MAY_CONTAIN => int(u64::from(o.elements.iter().all(|e| h.may_contain(e)))),
        _ => return Err(Error::Parameter),
    }))
}

/// An HLL modify op. Returns the new bin (`None`: unchanged) and the op's result.
pub fn hll_modify(
    bin: Option<(u8, &[u8])>,
    op_value: &[u8],
) -> Result<(Option<Particle>, Option<Particle>), Error> {
    let old = match bin {
        Some((t, b)) => Some(load(t, b)?),
        None => None,
    };
    let mut o = parse(op_value, false)?;
    let no_fail = o.flags & flag::NO_FAIL != 0;
    match &old {
        Some(_) if o.flags & flag::CREATE_ONLY != 0 => {
            return if no_fail {
                Ok((None, None))
            } else {
                Err(Error::BinExists)
            };
        }
        None if o.flags & flag::UPDATE_ONLY != 0 => {
            return if no_fail {
                Ok((None, None))
            } else {
                Err(Error::BinNotFound)
            };
        }
        _ => {}
    }
    let mut result = None;
    let new = match o.id {
        op::INIT => {
            match &old {
                None => {
                    if o.index_bits == UNSET {
                        return Err(Error::OpNotApplicable);
                    }
                    if o.minhash_bits == UNSET {
                        o.minhash_bits = 0;
                    }
                }
                Some(h) => {
                    if o.index_bits == UNSET {
                        o.index_bits = h.index_bits;
                    }
                    if o.minhash_bits == UNSET {
                        o.minhash_bits = h.minhash_bits;
                    }
                    if !valid_combined(o.index_bits, o.minhash_bits) {
                        return Err(Error::OpNotApplicable);
                    }
                }
            }
            Hll::new(o.index_bits, o.minhash_bits)
        }
        op::ADD => {
            let mut h = match old {
                Some(h) => h,
                None => {
                    if o.index_bits == UNSET {
                        return Err(Error::OpNotApplicable);
                    }
                    Hll::new(
                        o.index_bits,
                        if o.minhash_bits == UNSET {
                            0
                        } else {
                            o.minhash_bits
                        },
                    )
                }
            };
            let added = o.elements.iter().filter(|e| h.add(e)).count();
            result = Some(int(added as u64));
            h
        }
        op::UNION => {
            let refs: Vec<&Hll> = o.hlls.iter().collect();
            let min_ib = refs
                .iter()
                .map(|h| h.index_bits)
                .min()
                .unwrap_or(MIN_INDEX_BITS);
            let mut min_mb = UNSET;
            for h in &refs {
                if h.minhash_bits != min_mb {
                    min_mb = if min_mb == UNSET { h.minhash_bits } else { 0 };
                }
            }
            // Without ALLOW_FOLD the bin must already be the smallest sketch.
            if let Some(h) = &old {
                if o.flags & flag::ALLOW_FOLD == 0
                    && (h.index_bits > min_ib || (h.minhash_bits != 0 && h.minhash_bits != min_mb))
                {
                    return Err(Error::OpNotApplicable);
                }
            }
            let mut all = refs;
            if let Some(h) = &old {
                all.push(h);
            }
            let (tib, tmb) = template(&all);
            let mut u = Hll::new(tib, tmb);
            for h in &all {
                u.union_in(h);
            }
            u
        }
        op::REFRESH_COUNT => {
            let mut h = old.ok_or(Error::BinNotFound)?;
            h.cache = h.estimate();
            result = Some(int(h.cache));
            h
        }
        op::FOLD => {
            let h = old.ok_or(Error::BinNotFound)?;
            if h.minhash_bits > 0 || h.index_bits < o.index_bits {
                return Err(Error::OpNotApplicable);
            }
            if h.index_bits == o.index_bits {
                h
            } else {
                let mut f = Hll::new(o.index_bits, 0);
                f.union_in(&h);
                f
            }
        }
        _ => return Err(Error::Parameter),
    };
    Ok((Some((particle::HLL, new.to_bytes())), result))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn murmur_known_vectors() {
        // Reference values of MurmurHash3_x64_128 with seed 0.
        assert_eq!(murmur3_x64_128(b""), (0, 0));
        let (h1, _) = murmur3_x64_128(b"hello");
        assert_eq!(h1, 0xcbd8_a7b3_41bd_9b02);
    }

    #[test]
    fn estimates_within_error() {
        for (ib, n) in [(12u8, 10_000u64), (14, 100_000)] {
            let mut h = Hll::new(ib, 0);
            for i in 0..n {
                h.add(&msgpack::encode(&Value::Int(i as i64)));
            }
            let est = h.estimate() as f64;
            let err = (est - n as f64).abs() / n as f64;
            // Standard error is 1.04/sqrt(m); allow four of them.
            let bound = 4.0 * 1.04 / f64::from(1u32 << ib).sqrt();
            assert!(err < bound, "ib {ib} n {n} est {est} err {err}");
        }
    }

    #[test]
    fn round_trip_and_registers() {
        let mut h = Hll::new(4, 0);
        h.set(3, 2);
        h.set(15, 63);
        assert_eq!(h.get(3), 2);
        assert_eq!(h.get(15), 63);
        let b = h.to_bytes();
        assert_eq!(b.len(), HEADER_SIZE + 12);
        assert_eq!(Hll::parse(&b), Some(h));
    }
}
