//! Object spec (`-o`): what bins each write carries, and how their values are made.
//!
//! asbench's scalar spellings are accepted: `I` (= `I4`), `I1`..`I8`, `S<len>`, `B<len>`, `D`,
//! `b`, with an optional count `N*`. The older `S:100` / `B:100` / `I:4` spellings work too.

use crate::rng::Rng;

/// Most bins one object spec may describe.
pub const MAX_BINS: usize = 1000;
/// Largest string or blob bin value.
pub const MAX_VALUE_BYTES: usize = 1024 * 1024;

/// Particle types written by the bench (as in `as_particle_type`).
pub mod particle {
    pub const INTEGER: u8 = 1;
    pub const FLOAT: u8 = 2;
    pub const STRING: u8 = 3;
    pub const BLOB: u8 = 4;
    pub const BOOL: u8 = 17;
}

/// One bin of the object spec.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BinSpec {
    /// Integer in asbench's byte range: `I1` 0..=255, `I2` 256..=65535, ... `I8` 2^56..2^64-1.
    Int {
        bytes: u8,
    },
    /// String of `len` lowercase letters and digits.
    Str {
        len: usize,
    },
    /// Blob of `len` random bytes.
    Bytes {
        len: usize,
    },
    Double,
    Bool,
}

impl BinSpec {
    /// Particle type of values of this spec.
    pub fn particle_type(self) -> u8 {
        match self {
            BinSpec::Int { .. } => particle::INTEGER,
            BinSpec::Str { .. } => particle::STRING,
            BinSpec::Bytes { .. } => particle::BLOB,
            BinSpec::Double => particle::FLOAT,
            BinSpec::Bool => particle::BOOL,
        }
    }

    /// Size of the encoded value in bytes.
    pub fn value_len(self) -> usize {
        match self {
            BinSpec::Int { .. } | BinSpec::Double => 8,
            BinSpec::Str { len } | BinSpec::Bytes { len } => len,
            BinSpec::Bool => 1,
        }
    }

    /// Overwrites `out` (already `value_len()` long) with a fresh value. Allocation-free.
    pub fn fill(self, rng: &mut Rng, out: &mut [u8]) {
        match self {
            BinSpec::Int { bytes } => {
                // I1 covers 0..2^8; In (n > 1) covers 2^(8(n-1))..2^(8n).
                let bits = u32::from(bytes) * 8;
                let hi = if bits >= 64 {
                    u64::MAX
                } else {
                    (1u64 << bits) - 1
                };
                let lo = if bytes <= 1 { 0 } else { 1u64 << (bits - 8) };
                let v = lo + rng.next_u64() % (hi - lo).saturating_add(1).max(1);
                out.copy_from_slice(&v.to_be_bytes());
            }
            BinSpec::Str { .. } => {
                const ALPHABET: &[u8; 36] = b"abcdefghijklmnopqrstuvwxyz0123456789";
                for b in out.iter_mut() {
                    *b = ALPHABET
                        .get((rng.next_u64() % 36) as usize)
                        .copied()
                        .unwrap_or(b'a');
                }
            }
            BinSpec::Bytes { .. } => {
                for chunk in out.chunks_mut(8) {
                    let r = rng.next_u64().to_le_bytes();
                    let n = chunk.len();
                    chunk.copy_from_slice(r.get(..n).unwrap_or_default());
                }
            }
            BinSpec::Double => out.copy_from_slice(&(rng.next_f64() * 1e6).to_be_bytes()),
            BinSpec::Bool => out.copy_from_slice(&[(rng.next_u64() & 1) as u8]),
        }
    }
}

impl std::fmt::Display for BinSpec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            BinSpec::Int { bytes } => write!(f, "I{bytes}"),
            BinSpec::Str { len } => write!(f, "S{len}"),
            BinSpec::Bytes { len } => write!(f, "B{len}"),
            BinSpec::Double => write!(f, "D"),
            BinSpec::Bool => write!(f, "b"),
        }
    }
}

/// Formats a spec list back as `-o` text.
pub fn describe(bins: &[BinSpec]) -> String {
    bins.iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(",")
}

/// Parses an object spec such as `S:100`, `I,S16,B:32` or `4*I2`.
pub fn parse(text: &str) -> Result<Vec<BinSpec>, String> {
    let mut bins = Vec::new();
    for item in text.split(',').map(str::trim) {
        if item.is_empty() {
            return Err(format!("empty bin in object spec '{text}'"));
        }
        let (count, one) = match item.split_once('*') {
            Some((n, rest)) => {
                let n: usize = n
                    .trim()
                    .parse()
                    .map_err(|_| format!("bad bin count in '{item}'"))?;
                (n, rest.trim())
            }
            None => (1, item),
        };
        let spec = parse_one(one).map_err(|e| format!("{e} (object spec '{text}')"))?;
        if count == 0 || bins.len() + count > MAX_BINS {
            return Err(format!(
                "object spec '{text}' must describe 1..={MAX_BINS} bins"
            ));
        }
        bins.extend(std::iter::repeat_n(spec, count));
    }
    Ok(bins)
}

fn parse_one(s: &str) -> Result<BinSpec, String> {
    let mut chars = s.chars();
    let kind = chars.next().ok_or("empty bin spec")?;
    let rest = chars.as_str();
    let arg = rest.strip_prefix(':').unwrap_or(rest);
    let len = || -> Result<usize, String> {
        match arg.parse::<usize>() {
            Ok(n) if (1..=MAX_VALUE_BYTES).contains(&n) => Ok(n),
            _ => Err(format!(
                "bad length in bin spec '{s}': expected 1..={MAX_VALUE_BYTES}"
            )),
        }
    };
    match kind {
        'I' | 'i' if arg.is_empty() => Ok(BinSpec::Int { bytes: 4 }),
        'I' | 'i' => match arg.parse::<u8>() {
            Ok(n @ 1..=8) => Ok(BinSpec::Int { bytes: n }),
            _ => Err(format!(
                "bad integer size in bin spec '{s}': expected I1..I8"
            )),
        },
        'S' | 's' => Ok(BinSpec::Str { len: len()? }),
        'B' => Ok(BinSpec::Bytes { len: len()? }),
        'D' | 'd' if arg.is_empty() => Ok(BinSpec::Double),
        'b' if arg.is_empty() => Ok(BinSpec::Bool),
        _ => Err(format!(
            "unsupported bin spec '{s}': expected I[1-8], S:LEN, B:LEN, D or b"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spellings() -> Result<(), String> {
        assert_eq!(parse("S:100")?, vec![BinSpec::Str { len: 100 }]);
        assert_eq!(parse("S100")?, vec![BinSpec::Str { len: 100 }]);
        assert_eq!(parse("I")?, vec![BinSpec::Int { bytes: 4 }]);
        assert_eq!(parse("I:8")?, vec![BinSpec::Int { bytes: 8 }]);
        assert_eq!(
            parse("B:12, D ,b")?,
            vec![BinSpec::Bytes { len: 12 }, BinSpec::Double, BinSpec::Bool]
        );
        assert_eq!(
            parse("2*I1,S4")?,
            vec![
                BinSpec::Int { bytes: 1 },
                BinSpec::Int { bytes: 1 },
                BinSpec::Str { len: 4 }
            ]
        );
        assert_eq!(describe(&parse("2*I1,S:4")?), "I1,I1,S4");
        for bad in [
            "", "S:", "S:0", "I9", "X", "0*I", "1001*I", "I,,S1", "[3*I]",
        ] {
            assert!(parse(bad).is_err(), "'{bad}' should be refused");
        }
        Ok(())
    }

    #[test]
    fn values_fit_their_spec() {
        let mut rng = Rng::new(7);
        for spec in [
            BinSpec::Int { bytes: 1 },
            BinSpec::Int { bytes: 2 },
            BinSpec::Int { bytes: 8 },
        ] {
            let mut b = [0u8; 8];
            for _ in 0..100 {
                spec.fill(&mut rng, &mut b);
                let v = u64::from_be_bytes(b);
                match spec {
                    BinSpec::Int { bytes: 1 } => assert!(v <= 255),
                    BinSpec::Int { bytes: 2 } => assert!((256..=65535).contains(&v)),
                    _ => assert!(v >= 1 << 56),
                }
            }
        }
        let mut s = vec![0u8; 100];
        BinSpec::Str { len: 100 }.fill(&mut rng, &mut s);
        assert!(s.iter().all(u8::is_ascii_alphanumeric));
        let mut b = vec![0u8; 13];
        BinSpec::Bytes { len: 13 }.fill(&mut rng, &mut b);
        assert!(b.iter().any(|&x| x != 0));
    }
}
