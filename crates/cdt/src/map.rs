//! Map operations (op ids 64..=110), after aerospike-server `as/src/base/particle_map.c`.
//!
//! Every stored map keeps its entries sorted by key, as the server does since it started
//! normalizing maps on write; the map's flags (unordered, key-ordered, key-value-ordered) only
//! change the header written back and how rank ties are broken.

use std::cmp::Ordering;

use crate::args::Args;
use crate::msgpack::{Map, Value, BYTES_BLOB, BYTES_STRING, MAP_KV_ORDERED, PERSIST_INDEX};
use crate::order::{compare, equal};
use crate::select::{self, heap_rank_range, rank_order, Ret, Sel};
use crate::{delta, Error};

/// Map op ids.
pub mod op {
    pub const SET_TYPE: u64 = 64;
    pub const ADD: u64 = 65;
    pub const ADD_ITEMS: u64 = 66;
    pub const PUT: u64 = 67;
    pub const PUT_ITEMS: u64 = 68;
    pub const REPLACE: u64 = 69;
    pub const REPLACE_ITEMS: u64 = 70;
    pub const INCREMENT: u64 = 73;
    pub const DECREMENT: u64 = 74;
    pub const CLEAR: u64 = 75;
    pub const REMOVE_BY_KEY: u64 = 76;
    pub const REMOVE_BY_INDEX: u64 = 77;
    pub const REMOVE_BY_VALUE: u64 = 78;
    pub const REMOVE_BY_RANK: u64 = 79;
    pub const REMOVE_BY_KEY_LIST: u64 = 81;
    pub const REMOVE_ALL_BY_VALUE: u64 = 82;
    pub const REMOVE_BY_VALUE_LIST: u64 = 83;
    pub const REMOVE_BY_KEY_INTERVAL: u64 = 84;
    pub const REMOVE_BY_INDEX_RANGE: u64 = 85;
    pub const REMOVE_BY_VALUE_INTERVAL: u64 = 86;
    pub const REMOVE_BY_RANK_RANGE: u64 = 87;
    pub const REMOVE_BY_KEY_REL_INDEX_RANGE: u64 = 88;
    pub const REMOVE_BY_VALUE_REL_RANK_RANGE: u64 = 89;
    pub const SIZE: u64 = 96;
    pub const GET_BY_KEY: u64 = 97;
    pub const GET_BY_INDEX: u64 = 98;
    pub const GET_BY_VALUE: u64 = 99;
    pub const GET_BY_RANK: u64 = 100;
    pub const GET_ALL_BY_VALUE: u64 = 102;
    pub const GET_BY_KEY_INTERVAL: u64 = 103;
    pub const GET_BY_INDEX_RANGE: u64 = 104;
    pub const GET_BY_VALUE_INTERVAL: u64 = 105;
    pub const GET_BY_RANK_RANGE: u64 = 106;
    pub const GET_BY_KEY_LIST: u64 = 107;
    pub const GET_BY_VALUE_LIST: u64 = 108;
    pub const GET_BY_KEY_REL_INDEX_RANGE: u64 = 109;
    pub const GET_BY_VALUE_REL_RANK_RANGE: u64 = 110;
}

/// Map write flags.
pub mod flag {
    pub const NO_OVERWRITE: u64 = 0x01;
    pub const NO_CREATE: u64 = 0x02;
    pub const NO_FAIL: u64 = 0x04;
    pub const DO_PARTIAL: u64 = 0x08;
}

/// Whether `op` only reads.
pub fn is_read_op(op: u64) -> bool {
    (op::SIZE..=op::GET_BY_VALUE_REL_RANK_RANGE).contains(&op)
}

/// Whether `k` may be a map key: an integer, a string, or a non-empty blob.
pub fn is_key(k: &Value) -> bool {
    match k {
        Value::Int(_) | Value::Uint(_) => true,
        Value::Str(s) | Value::Bin(s) => {
            matches!(s.first(), Some(&BYTES_STRING) | Some(&BYTES_BLOB))
        }
        _ => false,
    }
}

/// Valid order flags for a map (0, 1, 3; the persist bit is accepted and dropped).
fn order_flags(flags: u64) -> Option<u8> {
    match flags as u8 & !PERSIST_INDEX {
        0 => Some(0),
        1 => Some(1),
        3 => Some(MAP_KV_ORDERED),
        _ => None,
    }
}

/// Applies a modify op to `slot` (`None`: no map there yet). Returns the op's result.
pub fn modify(slot: &mut Option<Value>, op: u64, a: &Args) -> Result<Option<Value>, Error> {
    if let Some(v) = slot {
        if !matches!(v, Value::Map(_)) {
            return Err(Error::IncompatibleType);
        }
    }
    let exists = slot.is_some();
    match op {
        op::SET_TYPE => {
            a.count(1, 1)?;
            let flags = order_flags(a.uint(0)?).ok_or(Error::OpNotApplicable)?;
            let m = map_or_create(slot, 0);
            m.flags = flags;
            Ok(None)
        }
        op::ADD | op::PUT | op::REPLACE => {
            let (attr, mods) = match op {
                op::ADD => {
                    a.count(2, 3)?;
                    (a.uint_or(2, 0)?, flag::NO_OVERWRITE)
                }
                op::PUT => {
                    a.count(2, 4)?;
                    (a.uint_or(2, 0)?, a.uint_or(3, 0)?)
                }
                _ => {
                    a.count(2, 2)?;
                    (0, flag::NO_CREATE)
                }
            };
            let k = a.storage(0)?.clone();
            let v = a.storage(1)?.clone();
            let m = map_or_create(slot, attr);
            put_items(m, vec![(k, v)], mods)
        }
        op::ADD_ITEMS | op::PUT_ITEMS | op::REPLACE_ITEMS => {
            let (attr, mods) = match op {
                op::ADD_ITEMS => {
                    a.count(1, 2)?;
                    (a.uint_or(1, 0)?, flag::NO_OVERWRITE)
                }
                op::PUT_ITEMS => {
                    a.count(1, 3)?;
                    (a.uint_or(1, 0)?, a.uint_or(2, 0)?)
                }
                _ => {
                    if !exists {
                        return Err(Error::ElementNotFound);
                    }
                    a.count(1, 1)?;
                    (0, flag::NO_CREATE)
                }
            };
            let Value::Map(items) = a.storage(0)? else {
                return Err(Error::Parameter);
            };
            let items = items.entries.clone();
            let m = map_or_create(slot, attr);
            put_items(m, items, mods)
        }
        op::INCREMENT | op::DECREMENT => {
            a.count(1, 3)?;
            let k = a.storage(0)?.clone();
            if !is_key(&k) {
                return Err(Error::Parameter);
            }
            let d = a.opt(1);
            let attr = a.uint_or(2, 0)?;
            let m = map_or_create(slot, attr);
            let pos = find(m, &k);
            let cur = pos.ok().and_then(|i| m.entries.get(i)).map(|(_, v)| v);
            let new = delta::add(cur, d, op == op::DECREMENT)?;
            match pos {
                Ok(i) => {
                    if let Some(e) = m.entries.get_mut(i) {
                        e.1 = new.clone();
                    }
                }
                Err(i) => m.entries.insert(i, (k, new.clone())),
            }
            Ok(Some(new))
        }
        op::CLEAR => {
            if let Some(Value::Map(m)) = slot {
                m.entries.clear();
            }
            Ok(None)
        }
        op::REMOVE_BY_KEY..=op::REMOVE_BY_VALUE_REL_RANK_RANGE => {
            let Some(Value::Map(m)) = slot else {
                return Ok(None);
            };
            let get = match op {
                op::REMOVE_BY_KEY => op::GET_BY_KEY,
                op::REMOVE_BY_INDEX => op::GET_BY_INDEX,
                op::REMOVE_BY_VALUE => op::GET_BY_VALUE,
                op::REMOVE_BY_RANK => op::GET_BY_RANK,
                op::REMOVE_BY_KEY_LIST => op::GET_BY_KEY_LIST,
                op::REMOVE_ALL_BY_VALUE => op::GET_ALL_BY_VALUE,
                op::REMOVE_BY_VALUE_LIST => op::GET_BY_VALUE_LIST,
                op::REMOVE_BY_KEY_INTERVAL => op::GET_BY_KEY_INTERVAL,
                op::REMOVE_BY_INDEX_RANGE => op::GET_BY_INDEX_RANGE,
                op::REMOVE_BY_VALUE_INTERVAL => op::GET_BY_VALUE_INTERVAL,
                op::REMOVE_BY_RANK_RANGE => op::GET_BY_RANK_RANGE,
                op::REMOVE_BY_KEY_REL_INDEX_RANGE => op::GET_BY_KEY_REL_INDEX_RANGE,
                op::REMOVE_BY_VALUE_REL_RANK_RANGE => op::GET_BY_VALUE_REL_RANK_RANGE,
                _ => return Err(Error::Parameter),
            };
            get_remove(m, get, a, true)
        }
        _ => Err(Error::Parameter),
    }
}

/// Applies a read op to a map.
pub fn read(m: &mut Map, op: u64, a: &Args) -> Result<Option<Value>, Error> {
    match op {
        op::SIZE => Ok(Some(Value::Int(m.entries.len() as i64))),
        op::GET_BY_KEY..=op::GET_BY_VALUE_REL_RANK_RANGE => get_remove(m, op, a, false),
        _ => Err(Error::Parameter),
    }
}

fn map_or_create(slot: &mut Option<Value>, attr: u64) -> &mut Map {
    if !matches!(slot, Some(Value::Map(_))) {
        *slot = Some(Value::Map(Map::new(
            order_flags(attr).unwrap_or(0),
            Vec::new(),
        )));
    }
    match slot {
        Some(Value::Map(m)) => m,
        // Just set above.
        _ => unreachable!("map slot"),
    }
}

/// Position of key `k` (`Ok`) or where it would go (`Err`).
pub fn find(m: &Map, k: &Value) -> Result<usize, usize> {
    m.entries.binary_search_by(|(x, _)| compare(x, k))
}

/// Puts pairs under the write flags; returns the new size.
fn put_items(
    m: &mut Map,
    mut items: Vec<(Value, Value)>,
    mods: u64,
) -> Result<Option<Value>, Error> {
    let no_fail = mods & flag::NO_FAIL != 0;
    let partial = mods & flag::DO_PARTIAL != 0;
    let size = Value::Int(m.entries.len() as i64);
    if items.iter().any(|(k, _)| !is_key(k)) {
        return Err(Error::Parameter);
    }
    items.sort_by(|a, b| compare(&a.0, &b.0));
    if items
        .windows(2)
        .any(|w| matches!(w, [a, b] if equal(&a.0, &b.0)))
    {
        return Err(Error::Parameter);
    }
    // Decide every pair first (binary searches), so that a refusal changes nothing.
    let mut accepted = Vec::with_capacity(items.len());
    for (k, v) in items {
        let exists = find(m, &k).is_ok();
        let refused = if exists {
            mods & flag::NO_OVERWRITE != 0
        } else {
            mods & flag::NO_CREATE != 0
        };
        if refused {
            if !no_fail {
                return Err(if exists {
                    Error::ElementExists
                } else {
                    Error::ElementNotFound
                });
            }
            if !partial {
                return Ok(Some(size));
            }
            continue;
        }
        accepted.push((k, v));
    }
    // Then merge the sorted pairs into the sorted entries in one pass.
    let old = std::mem::take(&mut m.entries);
    let mut merged = Vec::with_capacity(old.len() + accepted.len());
    let mut old_it = old.into_iter().peekable();
    for (k, v) in accepted {
        while let Some(e) = old_it.next_if(|(x, _)| compare(x, &k) == Ordering::Less) {
            merged.push(e);
        }
        if old_it
            .peek()
            .is_some_and(|(x, _)| compare(x, &k) == Ordering::Equal)
        {
            old_it.next();
        }
        merged.push((k, v));
    }
    merged.extend(old_it);
    m.entries = merged;
    Ok(Some(Value::Int(m.entries.len() as i64)))
}

fn remove_indices(m: &mut Map, idx: &[usize]) {
    let mut hit = vec![false; m.entries.len()];
    for &i in idx {
        if let Some(h) = hit.get_mut(i) {
            *h = true;
        }
    }
    let mut k = 0;
    m.entries.retain(|_| {
        let keep = !hit.get(k).copied().unwrap_or(false);
        k += 1;
        keep
    });
}

fn finish(m: &mut Map, ret: Ret, sel: &Sel, remove: bool) -> Result<Option<Value>, Error> {
    let out = select::build(ret, sel, m)?;
    if remove {
        let eff = sel.effective(ret.inverted);
        remove_indices(m, &eff);
    }
    Ok(out)
}

fn by_index_range(
    m: &mut Map,
    ret: Ret,
    index: i64,
    count: u64,
    remove: bool,
) -> Result<Option<Value>, Error> {
    if ret.inverted && !ret.multi {
        return Err(Error::OpNotApplicable);
    }
    let n = m.entries.len();
    let (start, cnt) = select::index_count(index, count, n, ret.multi)?;
    let sel = Sel {
        n,
        picked: (start..start + cnt).collect(),
        index_range: Some((start, cnt)),
        rank_range: None,
        index_sorted: true,
    };
    finish(m, ret, &sel, remove)
}

fn by_rank_range(
    m: &mut Map,
    ret: Ret,
    rank: i64,
    count: u64,
    remove: bool,
) -> Result<Option<Value>, Error> {
    if ret.inverted && !ret.multi {
        return Err(Error::OpNotApplicable);
    }
    let n = m.entries.len();
    let (start, cnt) = select::index_count(rank, count, n, ret.multi)?;
    let picked = if cnt == 0 {
        Vec::new()
    } else if m.is_kv_ordered() {
        rank_order(m)
            .get(start..start + cnt)
            .map(<[usize]>::to_vec)
            .unwrap_or_default()
    } else {
        let (mut region, min_heap) = heap_rank_range(m, start, cnt);
        if min_heap {
            region.reverse();
        }
        region
    };
    let sel = Sel {
        n,
        picked,
        index_range: None,
        rank_range: Some((start, cnt)),
        index_sorted: false,
    };
    finish(m, ret, &sel, remove)
}

/// Key interval `[start, end)` (`end` `None` = infinity), or key equality when `single`.
fn by_key(
    m: &mut Map,
    ret: Ret,
    start: &Value,
    end: Option<&Value>,
    single: bool,
    remove: bool,
) -> Result<Option<Value>, Error> {
    if ret.inverted && !ret.multi {
        return Err(Error::OpNotApplicable);
    }
    let n = m.entries.len();
    let lo = m
        .entries
        .partition_point(|(k, _)| compare(k, start) == Ordering::Less);
    let hi = if single {
        m.entries
            .partition_point(|(k, _)| compare(k, start) != Ordering::Greater)
    } else {
        match end {
            None => n,
            Some(e) => m
                .entries
                .partition_point(|(k, _)| compare(k, e) == Ordering::Less)
                .max(lo),
        }
    };
    let sel = Sel {
        n,
        picked: (lo..hi).collect(),
        index_range: Some((lo, hi - lo)),
        rank_range: None,
        index_sorted: true,
    };
    finish(m, ret, &sel, remove)
}

fn by_value(
    m: &mut Map,
    ret: Ret,
    start: &Value,
    end: Option<&Value>,
    single: bool,
    remove: bool,
) -> Result<Option<Value>, Error> {
    if ret.inverted && !ret.multi {
        return Err(Error::OpNotApplicable);
    }
    let n = m.entries.len();
    let mut rank = 0;
    let mut picked = Vec::new();
    for (i, (_, x)) in m.entries.iter().enumerate() {
        let c = compare(x, start);
        if c == Ordering::Less {
            rank += 1;
            continue;
        }
        let hit = if single {
            c == Ordering::Equal
        } else {
            end.is_none_or(|e| compare(x, e) == Ordering::Less)
        };
        if hit && (ret.multi || picked.is_empty()) {
            picked.push(i);
        }
    }
    let cnt = picked.len();
    let sel = Sel {
        n,
        picked,
        index_range: None,
        rank_range: Some((rank, cnt)),
        index_sorted: true,
    };
    finish(m, ret, &sel, remove)
}

fn by_list(
    m: &mut Map,
    ret: Ret,
    list: &Value,
    keys: bool,
    remove: bool,
) -> Result<Option<Value>, Error> {
    let Value::List(l) = list else {
        return Err(Error::Parameter);
    };
    let n = m.entries.len();
    let wanted = select::sorted_values(&l.items);
    let picked = (0..n)
        .filter(|&i| {
            m.entries
                .get(i)
                .is_some_and(|(k, v)| select::contains_sorted(&wanted, if keys { k } else { v }))
        })
        .collect();
    let sel = Sel {
        n,
        picked,
        index_range: None,
        rank_range: None,
        index_sorted: true,
    };
    finish(m, ret, &sel, remove)
}

fn get_remove(m: &mut Map, op: u64, a: &Args, remove: bool) -> Result<Option<Value>, Error> {
    let max = u64::from(u32::MAX);
    match op {
        op::GET_BY_KEY => {
            a.count(2, 2)?;
            by_key(
                m,
                Ret::new(a.uint(0)?, false),
                a.payload(1)?,
                None,
                true,
                remove,
            )
        }
        op::GET_BY_INDEX => {
            a.count(2, 2)?;
            by_index_range(m, Ret::new(a.uint(0)?, false), a.int(1)?, 1, remove)
        }
        op::GET_BY_VALUE | op::GET_ALL_BY_VALUE => {
            a.count(2, 2)?;
            by_value(
                m,
                Ret::new(a.uint(0)?, op == op::GET_ALL_BY_VALUE),
                a.payload(1)?,
                None,
                true,
                remove,
            )
        }
        op::GET_BY_RANK => {
            a.count(2, 2)?;
            by_rank_range(m, Ret::new(a.uint(0)?, false), a.int(1)?, 1, remove)
        }
        op::GET_BY_KEY_INTERVAL => {
            a.count(2, 3)?;
            by_key(
                m,
                Ret::new(a.uint(0)?, true),
                a.payload(1)?,
                a.opt(2),
                false,
                remove,
            )
        }
        op::GET_BY_INDEX_RANGE => {
            a.count(2, 3)?;
            by_index_range(
                m,
                Ret::new(a.uint(0)?, true),
                a.int(1)?,
                a.uint_or(2, max)?,
                remove,
            )
        }
        op::GET_BY_VALUE_INTERVAL => {
            a.count(2, 3)?;
            by_value(
                m,
                Ret::new(a.uint(0)?, true),
                a.payload(1)?,
                a.opt(2),
                false,
                remove,
            )
        }
        op::GET_BY_RANK_RANGE => {
            a.count(2, 3)?;
            by_rank_range(
                m,
                Ret::new(a.uint(0)?, true),
                a.int(1)?,
                a.uint_or(2, max)?,
                remove,
            )
        }
        op::GET_BY_KEY_LIST | op::GET_BY_VALUE_LIST => {
            a.count(2, 2)?;
            by_list(
                m,
                Ret::new(a.uint(0)?, true),
                a.payload(1)?,
                op == op::GET_BY_KEY_LIST,
                remove,
            )
        }
        op::GET_BY_KEY_REL_INDEX_RANGE => {
            a.count(3, 4)?;
            let ret = Ret::new(a.uint(0)?, true);
            let k = a.payload(1)?;
            let base = m
                .entries
                .partition_point(|(x, _)| compare(x, k) == Ordering::Less);
            let (idx, cnt) = select::rel_index_count(a.int(2)?, a.uint_or(3, max)?, base);
            by_index_range(m, ret, idx, cnt, remove)
        }
        op::GET_BY_VALUE_REL_RANK_RANGE => {
            a.count(3, 4)?;
            let ret = Ret::new(a.uint(0)?, true);
            let v = a.payload(1)?;
            let base = m
                .entries
                .iter()
                .filter(|(_, x)| compare(x, v) == Ordering::Less)
                .count();
            let (idx, cnt) = select::rel_index_count(a.int(2)?, a.uint_or(3, max)?, base);
            by_rank_range(m, ret, idx, cnt, remove)
        }
        _ => Err(Error::Parameter),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::msgpack::{List, MAP_K_ORDERED, MAP_PRESERVE_ORDER};
    use crate::select::rt;

    fn s(x: &str) -> Value {
        Value::string(x)
    }

    fn abc() -> Option<Value> {
        Some(Value::Map(Map::new(
            0,
            vec![
                (s("a"), Value::Int(3)),
                (s("b"), Value::Int(1)),
                (s("c"), Value::Int(2)),
            ],
        )))
    }

    fn get(slot: &mut Option<Value>, op: u64, a: Vec<Value>) -> Result<Option<Value>, Error> {
        match slot {
            Some(Value::Map(m)) => read(m, op, &Args(a)),
            _ => Err(Error::IncompatibleType),
        }
    }

    #[test]
    fn result_types() -> Result<(), Error> {
        let mut m = abc();
        let kv = get(
            &mut m,
            op::GET_BY_KEY,
            vec![Value::Int(rt::KEY_VALUE as i64), s("b")],
        )?;
        assert_eq!(
            kv,
            Some(Value::Map(Map::new(
                MAP_PRESERVE_ORDER,
                vec![(s("b"), Value::Int(1))]
            )))
        );
        let ord = get(
            &mut m,
            op::GET_BY_RANK_RANGE,
            vec![
                Value::Int(rt::ORDERED_MAP as i64),
                Value::Int(0),
                Value::Int(2),
            ],
        )?;
        assert_eq!(
            ord,
            Some(Value::Map(Map::new(
                MAP_K_ORDERED,
                vec![(s("b"), Value::Int(1)), (s("c"), Value::Int(2))]
            )))
        );
        // Rank ranges list keys in rank order.
        let keys = get(
            &mut m,
            op::GET_BY_RANK_RANGE,
            vec![Value::Int(rt::KEY as i64), Value::Int(0)],
        )?;
        assert_eq!(
            keys,
            Some(Value::List(List::new(0, vec![s("b"), s("c"), s("a")])))
        );
        let rank = get(
            &mut m,
            op::GET_BY_KEY,
            vec![Value::Int(rt::RANK as i64), s("a")],
        )?;
        assert_eq!(rank, Some(Value::Int(2)));
        let missing = get(
            &mut m,
            op::GET_BY_KEY,
            vec![Value::Int(rt::INDEX as i64), s("zz")],
        )?;
        assert_eq!(missing, Some(Value::Int(-1)));
        let inv = get(
            &mut m,
            op::GET_BY_KEY_INTERVAL,
            vec![Value::Int((rt::COUNT | rt::INVERTED) as i64), s("b")],
        )?;
        assert_eq!(inv, Some(Value::Int(1)));
        Ok(())
    }

    #[test]
    fn put_flags_and_keys() -> Result<(), Error> {
        let mut m = abc();
        let put = |m: &mut Option<Value>, k: Value, mods: u64| {
            modify(
                m,
                op::PUT,
                &Args(vec![
                    k,
                    Value::Int(9),
                    Value::Int(0),
                    Value::Int(mods as i64),
                ]),
            )
        };
        assert_eq!(
            put(&mut m, s("a"), flag::NO_OVERWRITE),
            Err(Error::ElementExists)
        );
        assert_eq!(
            put(&mut m, s("z"), flag::NO_CREATE),
            Err(Error::ElementNotFound)
        );
        assert_eq!(
            put(&mut m, s("z"), flag::NO_CREATE | flag::NO_FAIL)?,
            Some(Value::Int(3))
        );
        assert_eq!(put(&mut m, Value::Float(1.0), 0), Err(Error::Parameter));
        assert_eq!(put(&mut m, s("0"), 0)?, Some(Value::Int(4)));
        let first = get(
            &mut m,
            op::GET_BY_INDEX,
            vec![Value::Int(rt::KEY as i64), Value::Int(0)],
        )?;
        assert_eq!(first, Some(s("0")), "entries stay sorted by key");
        let items = Value::Map(Map::new(
            0,
            vec![(s("a"), Value::Int(0)), (s("new"), Value::Int(0))],
        ));
        assert_eq!(
            modify(
                &mut m,
                op::PUT_ITEMS,
                &Args(vec![
                    items,
                    Value::Int(0),
                    Value::Int((flag::NO_OVERWRITE | flag::NO_FAIL | flag::DO_PARTIAL) as i64)
                ])
            )?,
            Some(Value::Int(5))
        );
        // An integer stays an integer: the double delta is truncated.
        assert_eq!(
            modify(
                &mut m,
                op::INCREMENT,
                &Args(vec![s("new"), Value::Float(1.5)])
            )?,
            Some(Value::Int(1))
        );
        put(&mut m, s("str"), 0)?;
        modify(&mut m, op::PUT, &Args(vec![s("str"), s("x")]))?;
        assert_eq!(
            modify(&mut m, op::INCREMENT, &Args(vec![s("str"), Value::Int(1)])),
            Err(Error::Parameter)
        );
        Ok(())
    }

    #[test]
    fn set_type_and_missing_bin() -> Result<(), Error> {
        let mut m = None;
        assert_eq!(
            modify(
                &mut m,
                op::REMOVE_BY_KEY,
                &Args(vec![Value::Int(rt::VALUE as i64), s("a")])
            )?,
            None
        );
        assert_eq!(m, None, "a remove on a missing bin creates nothing");
        modify(&mut m, op::SET_TYPE, &Args(vec![Value::Int(3)]))?;
        assert_eq!(m, Some(Value::Map(Map::new(MAP_KV_ORDERED, vec![]))));
        assert_eq!(
            modify(&mut m, op::SET_TYPE, &Args(vec![Value::Int(2)])),
            Err(Error::OpNotApplicable)
        );
        Ok(())
    }
}
