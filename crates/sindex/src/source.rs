//! Where an index finds its values besides a plain bin: a CDT context inside a list or map
//! bin, or an expression evaluated on the record (8.1 expression indexes). Both are given
//! to `sindex-create` in base64 (`context=`, `exp=`) and repeated by queries in fields 23
//! and 24, which select the index by them.

use std::cmp::Ordering;
use std::sync::Arc;

use aerie_cdt::msgpack::{self, Value};
use aerie_cdt::order::compare;
use aerie_cdt::select::single_index;
use base64::Engine as _;

const B64: base64::engine::GeneralPurpose = base64::engine::general_purpose::STANDARD;

/// Context step kinds (the low six bits; the create flags 0x1c0 do not matter to reads).
const LIST_INDEX: u64 = 0x10;
const LIST_RANK: u64 = 0x11;
const LIST_VALUE: u64 = 0x13;
const MAP_INDEX: u64 = 0x20;
const MAP_RANK: u64 = 0x21;
const MAP_KEY: u64 = 0x22;
const MAP_VALUE: u64 = 0x23;
const STEP_MASK: u64 = 0x3f;

/// A CDT context: `[type, value, type, value, …]` in msgpack.
#[derive(Debug, Clone)]
pub struct IndexCtx {
    /// As given to `sindex-create` (listed back by `sindex-list`).
    pub base64: String,
    steps: Vec<(u64, Value)>,
}

impl PartialEq for IndexCtx {
    fn eq(&self, o: &Self) -> bool {
        self.steps == o.steps
    }
}

impl Eq for IndexCtx {}

impl IndexCtx {
    /// From the `context=` parameter.
    pub fn from_base64(s: &str) -> Option<Self> {
        let bytes = B64.decode(s).ok()?;
        Self::from_bytes(&bytes, s.to_owned())
    }

    /// From a query's field 23.
    pub fn from_wire(bytes: &[u8]) -> Option<Self> {
        Self::from_bytes(bytes, B64.encode(bytes))
    }

    fn from_bytes(bytes: &[u8], base64: String) -> Option<Self> {
        let Value::List(l) = msgpack::decode(bytes).ok()? else {
            return None;
        };
        if l.items.is_empty() || l.items.len() % 2 != 0 {
            return None;
        }
        let steps = l
            .items
            .chunks_exact(2)
            .map(|c| match c {
                [Value::Int(t), v] if *t >= 0 => Some((*t as u64 & STEP_MASK, v.clone())),
                _ => None,
            })
            .collect::<Option<Vec<_>>>()?;
        if steps.iter().any(|(t, _)| {
            !matches!(
                *t,
                LIST_INDEX | LIST_RANK | LIST_VALUE | MAP_INDEX | MAP_RANK | MAP_KEY | MAP_VALUE
            )
        }) {
            return None;
        }
        Some(Self { base64, steps })
    }

    /// The element the context names inside `root`, if there is one.
    pub fn resolve<'v>(&self, root: &'v Value) -> Option<&'v Value> {
        let mut v = root;
        for (t, arg) in &self.steps {
            v = match (*t, v) {
                (LIST_INDEX, Value::List(l)) => {
                    l.items.get(single_index(int(arg)?, l.items.len())?)?
                }
                (LIST_RANK, Value::List(l)) => {
                    let i = single_index(int(arg)?, l.items.len())?;
                    let mut by_rank: Vec<&Value> = l.items.iter().collect();
                    by_rank.sort_by(|a, b| compare(a, b));
                    by_rank.get(i).copied()?
                }
                (LIST_VALUE, Value::List(l)) => l
                    .items
                    .iter()
                    .find(|x| compare(x, arg) == Ordering::Equal)?,
                // Stored maps keep their entries in key order, so index order is entry order.
                (MAP_INDEX, Value::Map(m)) => {
                    &m.entries.get(single_index(int(arg)?, m.entries.len())?)?.1
                }
                (MAP_RANK, Value::Map(m)) => {
                    let i = single_index(int(arg)?, m.entries.len())?;
                    let mut by_rank: Vec<&Value> = m.entries.iter().map(|(_, x)| x).collect();
                    by_rank.sort_by(|a, b| compare(a, b));
                    by_rank.get(i).copied()?
                }
                (MAP_KEY, Value::Map(m)) => {
                    &m.entries
                        .iter()
                        .find(|(k, _)| compare(k, arg) == Ordering::Equal)?
                        .1
                }
                (MAP_VALUE, Value::Map(m)) => {
                    &m.entries
                        .iter()
                        .find(|(_, x)| compare(x, arg) == Ordering::Equal)?
                        .1
                }
                _ => return None,
            };
        }
        Some(v)
    }
}

fn int(v: &Value) -> Option<i64> {
    match v {
        Value::Int(i) => Some(*i),
        _ => None,
    }
}

/// An index expression, compiled once.
#[derive(Debug, Clone)]
pub struct IndexExp {
    /// As given to `sindex-create`.
    pub base64: String,
    bytes: Vec<u8>,
    pub(crate) program: Arc<aerie_exp::Program>,
}

impl PartialEq for IndexExp {
    fn eq(&self, o: &Self) -> bool {
        self.bytes == o.bytes
    }
}

impl Eq for IndexExp {}

impl IndexExp {
    /// From the `exp=` parameter; `None` when it is not base64 or does not compile.
    pub fn from_base64(s: &str) -> Option<Self> {
        let bytes = B64.decode(s).ok()?;
        let program = aerie_exp::Program::compile(&bytes).ok()?;
        Some(Self {
            base64: s.to_owned(),
            bytes,
            program: Arc::new(program),
        })
    }

    /// Whether a query's field 24 names this expression.
    pub fn is(&self, wire: &[u8]) -> bool {
        self.bytes == wire
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ctx(bytes: &[u8]) -> IndexCtx {
        IndexCtx::from_wire(bytes).unwrap_or_else(|| panic!("context {bytes:?}"))
    }

    #[test]
    fn list_and_map_steps_resolve() {
        // [3, [10, 20, 30], {"k": 7}]
        let root = Value::List(msgpack::List::new(
            0,
            vec![
                Value::Int(3),
                Value::List(msgpack::List::new(
                    0,
                    vec![Value::Int(30), Value::Int(10), Value::Int(20)],
                )),
                Value::Map(msgpack::Map {
                    flags: 0,
                    entries: vec![(Value::Str(b"\x03k".to_vec()), Value::Int(7))],
                }),
            ],
        ));
        // [0x10, 1, 0x11, 0] : second element, lowest rank -> 10
        let c = ctx(&[0x94, 0x10, 0x01, 0x11, 0x00]);
        assert_eq!(c.resolve(&root), Some(&Value::Int(10)));
        // [0x10, -1, 0x22, "k"] : last element, key "k" -> 7
        let c = ctx(&[0x94, 0x10, 0xff, 0x22, 0xa2, 0x03, b'k']);
        assert_eq!(c.resolve(&root), Some(&Value::Int(7)));
        // Out of range and wrong container: nothing.
        assert_eq!(ctx(&[0x92, 0x10, 0x09]).resolve(&root), None);
        assert_eq!(ctx(&[0x92, 0x20, 0x00]).resolve(&root), None);
        // Malformed contexts are refused.
        assert!(IndexCtx::from_wire(&[0x91, 0x10]).is_none());
        assert!(IndexCtx::from_wire(&[0x92, 0x05, 0x00]).is_none());
    }
}
