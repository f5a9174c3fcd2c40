//! List operations (op ids 0..=40), after aerospike-server `as/src/base/particle_list.c`.
//!
//! Unordered lists keep insertion order; ordered lists keep their items sorted (duplicates
//! allowed), and for them rank and index are the same thing.

use std::cmp::Ordering;

use crate::args::Args;
use crate::msgpack::{List, Value, LIST_ORDERED};
use crate::order::{compare, equal};
use crate::select::{self, heap_rank_range, rank_order, Ret, Sel};
use crate::{delta, Error};

/// List op ids.
pub mod op {
    pub const SET_TYPE: u64 = 0;
    pub const APPEND: u64 = 1;
    pub const APPEND_ITEMS: u64 = 2;
    pub const INSERT: u64 = 3;
    pub const INSERT_ITEMS: u64 = 4;
    pub const POP: u64 = 5;
    pub const POP_RANGE: u64 = 6;
    pub const REMOVE: u64 = 7;
    pub const REMOVE_RANGE: u64 = 8;
    pub const SET: u64 = 9;
    pub const TRIM: u64 = 10;
    pub const CLEAR: u64 = 11;
    pub const INCREMENT: u64 = 12;
    pub const SORT: u64 = 13;
    pub const SIZE: u64 = 16;
    pub const GET: u64 = 17;
    pub const GET_RANGE: u64 = 18;
    pub const GET_BY_INDEX: u64 = 19;
    pub const GET_BY_VALUE: u64 = 20;
    pub const GET_BY_RANK: u64 = 21;
    pub const GET_ALL_BY_VALUE: u64 = 22;
    pub const GET_ALL_BY_VALUE_LIST: u64 = 23;
    pub const GET_BY_INDEX_RANGE: u64 = 24;
    pub const GET_BY_VALUE_INTERVAL: u64 = 25;
    pub const GET_BY_RANK_RANGE: u64 = 26;
    pub const GET_BY_VALUE_REL_RANK_RANGE: u64 = 27;
    /// Server 8.2: the list's strings concatenated, with an optional separator.
    pub const STRING_JOIN: u64 = 28;
    pub const REMOVE_BY_INDEX: u64 = 32;
    pub const REMOVE_BY_VALUE: u64 = 33;
    pub const REMOVE_BY_RANK: u64 = 34;
    pub const REMOVE_ALL_BY_VALUE: u64 = 35;
    pub const REMOVE_ALL_BY_VALUE_LIST: u64 = 36;
    pub const REMOVE_BY_INDEX_RANGE: u64 = 37;
    pub const REMOVE_BY_VALUE_INTERVAL: u64 = 38;
    pub const REMOVE_BY_RANK_RANGE: u64 = 39;
    pub const REMOVE_BY_VALUE_REL_RANK_RANGE: u64 = 40;
}

/// List write flags.
pub mod flag {
    pub const ADD_UNIQUE: u64 = 0x01;
    pub const INSERT_BOUNDED: u64 = 0x02;
    pub const NO_FAIL: u64 = 0x04;
    pub const DO_PARTIAL: u64 = 0x08;
}

/// Sort flags.
const SORT_DESCENDING: u64 = 1;
const SORT_DROP_DUPLICATES: u64 = 2;

/// Whether `op` is a list op id (the rest of the CDT space belongs to maps).
pub fn is_list_op(op: u64) -> bool {
    op < 64
}

/// Whether `op` only reads.
pub fn is_read_op(op: u64) -> bool {
    (op::SIZE..=op::STRING_JOIN).contains(&op)
}

/// Applies a modify op to `slot` (`None`: no list there yet). Returns the op's result.
pub fn modify(slot: &mut Option<Value>, op: u64, a: &Args) -> Result<Option<Value>, Error> {
    if let Some(v) = slot {
        if !matches!(v, Value::List(_)) {
            return Err(Error::IncompatibleType);
        }
    }
    match op {
        op::SET_TYPE => {
            a.count(1, 1)?;
            let flags = a.uint(0)?;
            if flags & !u64::from(LIST_ORDERED | crate::msgpack::PERSIST_INDEX) != 0 {
                return Err(Error::OpNotApplicable);
            }
            let l = list_or_create(slot, 0);
            set_order(l, flags as u8);
            Ok(None)
        }
        op::APPEND | op::APPEND_ITEMS => {
            a.count(1, 3)?;
            let payload = a.storage(0)?;
            let create = a.uint_or(1, 0)?;
            let mods = a.uint_or(2, 0)?;
            let items = if op == op::APPEND_ITEMS {
                items_of(payload)?
            } else {
                vec![payload.clone()]
            };
            let l = list_or_create(slot, create as u8);
            let at = l.items.len();
            add_items(l, at as i64, items, mods, op == op::APPEND_ITEMS)
        }
        op::INSERT | op::INSERT_ITEMS => {
            a.count(2, 3)?;
            let index = a.int(0)?;
            let payload = a.storage(1)?;
            let mods = a.uint_or(2, 0)?;
            let items = if op == op::INSERT_ITEMS {
                items_of(payload)?
            } else {
                vec![payload.clone()]
            };
            let l = list_or_create(slot, 0);
            if l.is_ordered() {
                return Err(Error::OpNotApplicable);
            }
            add_items(l, index, items, mods, op == op::INSERT_ITEMS)
        }
        op::SET => {
            a.count(2, 3)?;
            let index = a.int(0)?;
            let v = a.storage(1)?.clone();
            let mods = a.uint_or(2, 0)?;
            let l = list_or_create(slot, 0);
            set(l, index, v, mods)?;
            Ok(None)
        }
        op::INCREMENT => {
            a.count(1, 4)?;
            let index = a.int(0)?;
            let d = a.opt(1);
            let create = a.uint_or(2, 0)?;
            let mods = a.uint_or(3, 0)?;
            let l = list_or_create(slot, create as u8);
            increment(l, index, d, mods)
        }
        op::CLEAR => {
            let Some(Value::List(l)) = slot else {
                return Ok(None);
            };
            l.items.clear();
            Ok(None)
        }
        op::SORT => {
            a.count(0, 1)?;
            let flags = a.uint_or(0, 0)?;
            let Some(Value::List(l)) = slot else {
                return Err(Error::IncompatibleType);
            };
            sort(l, flags);
            Ok(None)
        }
        op::POP | op::REMOVE => {
            let Some(Value::List(l)) = slot else {
                return Ok(None);
            };
            a.count(1, 1)?;
            let ret = Ret::new(
                if op == op::POP {
                    select::rt::VALUE
                } else {
                    select::rt::COUNT
                },
                false,
            );
            by_index_range(l, ret, a.int(0)?, 1, true)
        }
        op::POP_RANGE | op::REMOVE_RANGE => {
            let Some(Value::List(l)) = slot else {
                return Ok(None);
            };
            a.count(1, 2)?;
            let ret = Ret::new(
                if op == op::POP_RANGE {
                    select::rt::VALUE
                } else {
                    select::rt::COUNT
                },
                true,
            );
            by_index_range(l, ret, a.int(0)?, a.uint_or(1, u64::from(u32::MAX))?, true)
        }
        op::TRIM => {
            let Some(Value::List(l)) = slot else {
                return Ok(None);
            };
            a.count(2, 2)?;
            let ret = Ret {
                ty: select::rt::COUNT,
                inverted: true,
                multi: true,
            };
            by_index_range(l, ret, a.int(0)?, a.uint(1)?, true)
        }
        op::REMOVE_BY_INDEX..=op::REMOVE_BY_VALUE_REL_RANK_RANGE => {
            let Some(Value::List(l)) = slot else {
                return Ok(None);
            };
            get_remove(l, op - (op::REMOVE_BY_INDEX - op::GET_BY_INDEX), a, true)
        }
        _ => Err(Error::Parameter),
    }
}

/// Applies a read op to a list.
pub fn read(l: &mut List, op: u64, a: &Args) -> Result<Option<Value>, Error> {
    match op {
        op::SIZE => Ok(Some(Value::Int(l.items.len() as i64))),
        op::GET => {
            a.count(1, 1)?;
            by_index_range(l, Ret::new(select::rt::VALUE, false), a.int(0)?, 1, false)
        }
        op::GET_RANGE => {
            a.count(1, 2)?;
            by_index_range(
                l,
                Ret::new(select::rt::VALUE, true),
                a.int(0)?,
                a.uint_or(1, u64::from(u32::MAX))?,
                false,
            )
        }
        op::GET_BY_INDEX..=op::GET_BY_VALUE_REL_RANK_RANGE => get_remove(l, op, a, false),
        op::STRING_JOIN => join(l, a).map(Some),
        _ => Err(Error::Parameter),
    }
}

/// The text of a string value (without its particle-type byte).
fn text(v: &Value) -> Option<&[u8]> {
    match v {
        Value::Str(s) => match s.split_first() {
            Some((&crate::msgpack::BYTES_STRING, rest)) => Some(rest),
            _ => None,
        },
        _ => None,
    }
}

/// `string_join([separator])`: every item must be a string, as must the separator; an empty
/// list joins to the empty string.
fn join(l: &List, a: &Args) -> Result<Value, Error> {
    a.count(0, 1)?;
    let sep = match a.opt(0) {
        None => &[][..],
        Some(v) => text(v).ok_or(Error::Parameter)?,
    };
    let mut out = vec![crate::msgpack::BYTES_STRING];
    for (i, item) in l.items.iter().enumerate() {
        if i > 0 {
            out.extend_from_slice(sep);
        }
        out.extend_from_slice(text(item).ok_or(Error::Parameter)?);
    }
    Ok(Value::Str(out))
}

/// The list in `slot`, creating an empty one with `flags` when there is none.
fn list_or_create(slot: &mut Option<Value>, flags: u8) -> &mut List {
    if !matches!(slot, Some(Value::List(_))) {
        *slot = Some(Value::List(List::new(flags & LIST_ORDERED, Vec::new())));
    }
    match slot {
        Some(Value::List(l)) => l,
        // Just set above.
        _ => unreachable!("list slot"),
    }
}

fn items_of(payload: &Value) -> Result<Vec<Value>, Error> {
    match payload {
        Value::List(l) => Ok(l.items.clone()),
        _ => Err(Error::Parameter),
    }
}

fn set_order(l: &mut List, flags: u8) {
    let ordered = flags & LIST_ORDERED != 0;
    if ordered && !l.is_ordered() {
        l.items.sort_by(compare);
    }
    l.flags = if ordered { LIST_ORDERED } else { 0 };
}

/// Position after the last item `<= v` in a sorted list.
fn upper_bound(items: &[Value], v: &Value) -> usize {
    items.partition_point(|x| compare(x, v) != Ordering::Greater)
}

/// append/insert (single or items), with the write flags. Returns the new size.
fn add_items(
    l: &mut List,
    index: i64,
    items: Vec<Value>,
    mods: u64,
    _is_items: bool,
) -> Result<Option<Value>, Error> {
    let no_fail = mods & flag::NO_FAIL != 0;
    let partial = mods & flag::DO_PARTIAL != 0;
    let size = Value::Int(l.items.len() as i64);
    if items.is_empty() {
        return Ok(Some(size));
    }
    let n = l.items.len() as i64;
    let index = if index < 0 { n + index } else { index };
    if index < 0 || index > i64::from(i32::MAX) {
        return Err(Error::OpNotApplicable);
    }
    let index = index as usize;
    if mods & flag::INSERT_BOUNDED != 0 && index > l.items.len() && !l.is_ordered() {
        return if no_fail {
            Ok(Some(size))
        } else {
            Err(Error::OpNotApplicable)
        };
    }
    let mut keep = Vec::with_capacity(items.len());
    if mods & flag::ADD_UNIQUE != 0 {
        // Sorted views keep the uniqueness checks O((n + m) log(n + m)).
        let existing = select::sorted_values(&l.items);
        let repeats = repeats_of_earlier(&items);
        for (k, it) in items.into_iter().enumerate() {
            let dup =
                select::contains_sorted(&existing, &it) || repeats.get(k).copied().unwrap_or(false);
            if dup {
                if !no_fail {
                    return Err(Error::ElementExists);
                }
                if !partial {
                    return Ok(Some(size));
                }
                continue;
            }
            keep.push(it);
        }
    } else {
        keep = items;
    }
    if l.is_ordered() {
        // A stable sort puts each new item after the stored items equal to it.
        l.items.extend(keep);
        l.items.sort_by(compare);
    } else {
        if index > l.items.len() {
            crate::pad_list(&mut l.items, index)?;
        }
        let tail = l.items.split_off(index);
        l.items.extend(keep);
        l.items.extend(tail);
    }
    Ok(Some(Value::Int(l.items.len() as i64)))
}

/// Marks the items equal to an earlier item of the same list.
fn repeats_of_earlier(items: &[Value]) -> Vec<bool> {
    let mut order: Vec<usize> = (0..items.len()).collect();
    order.sort_by(|&a, &b| match (items.get(a), items.get(b)) {
        (Some(x), Some(y)) => compare(x, y).then(a.cmp(&b)),
        _ => a.cmp(&b),
    });
    let mut repeats = vec![false; items.len()];
    for w in order.windows(2) {
        if let [a, b] = *w {
            if let (Some(x), Some(y)) = (items.get(a), items.get(b)) {
                if equal(x, y) {
                    if let Some(r) = repeats.get_mut(b) {
                        *r = true;
                    }
                }
            }
        }
    }
    repeats
}

fn set(l: &mut List, index: i64, v: Value, mods: u64) -> Result<(), Error> {
    if l.is_ordered() {
        return Err(Error::OpNotApplicable);
    }
    let n = l.items.len() as i64;
    if index >= n {
        add_items(l, index, vec![v], mods, false)?;
        return Ok(());
    }
    let i = select::single_index(index, l.items.len()).ok_or(Error::OpNotApplicable)?;
    if mods & flag::ADD_UNIQUE != 0
        && l.items
            .iter()
            .enumerate()
            .any(|(j, x)| j != i && equal(x, &v))
    {
        return if mods & flag::NO_FAIL != 0 {
            Ok(())
        } else {
            Err(Error::ElementExists)
        };
    }
    if let Some(slot) = l.items.get_mut(i) {
        *slot = v;
    }
    Ok(())
}

fn increment(
    l: &mut List,
    index: i64,
    d: Option<&Value>,
    mods: u64,
) -> Result<Option<Value>, Error> {
    let n = l.items.len() as i64;
    let i = if index < 0 { n + index } else { index };
    if i < 0 || i > i64::from(i32::MAX) {
        return Err(Error::OpNotApplicable);
    }
    let cur = l.items.get(i as usize);
    let new = delta::add(cur, d, false)?;
    if l.is_ordered() {
        if let Some(pos) = cur.map(|_| i as usize) {
            l.items.remove(pos);
        }
        let at = upper_bound(&l.items, &new);
        l.items.insert(at, new.clone());
    } else {
        set(l, i, new.clone(), mods)?;
    }
    Ok(Some(new))
}

fn sort(l: &mut List, flags: u64) {
    if !l.is_ordered() {
        l.items.sort_by(compare);
        if flags & SORT_DESCENDING != 0 {
            l.items.reverse();
        }
    }
    if flags & SORT_DROP_DUPLICATES != 0 {
        l.items.dedup_by(|a, b| equal(a, b));
    }
}

/// Removes the elements at `idx` (any order).
fn remove_indices(l: &mut List, idx: &[usize]) {
    let mut hit = vec![false; l.items.len()];
    for &i in idx {
        if let Some(h) = hit.get_mut(i) {
            *h = true;
        }
    }
    let mut k = 0;
    l.items.retain(|_| {
        let keep = !hit.get(k).copied().unwrap_or(false);
        k += 1;
        keep
    });
}

/// Builds the result and, for remove ops, removes the selected elements.
fn finish(l: &mut List, ret: Ret, sel: &Sel, remove: bool) -> Result<Option<Value>, Error> {
    let out = select::build(ret, sel, l)?;
    if remove {
        let eff = sel.effective(ret.inverted);
        remove_indices(l, &eff);
    }
    Ok(out)
}

fn by_index_range(
    l: &mut List,
    ret: Ret,
    index: i64,
    count: u64,
    remove: bool,
) -> Result<Option<Value>, Error> {
    if ret.inverted && !ret.multi {
        return Err(Error::OpNotApplicable);
    }
    let n = l.items.len();
    let (start, cnt) = select::index_count(index, count, n, ret.multi)?;
    let mut sel = Sel {
        n,
        picked: (start..start + cnt).collect(),
        index_range: Some((start, cnt)),
        rank_range: None,
        index_sorted: true,
    };
    if l.is_ordered() {
        sel.rank_range = sel.index_range;
    }
    finish(l, ret, &sel, remove)
}

fn by_rank_range(
    l: &mut List,
    ret: Ret,
    rank: i64,
    count: u64,
    remove: bool,
) -> Result<Option<Value>, Error> {
    if l.is_ordered() {
        return by_index_range(l, ret, rank, count, remove);
    }
    if ret.inverted && !ret.multi {
        return Err(Error::OpNotApplicable);
    }
    let n = l.items.len();
    let (start, cnt) = select::index_count(rank, count, n, ret.multi)?;
    let picked = if cnt == 0 {
        Vec::new()
    } else {
        heap_rank_range(l, start, cnt).0
    };
    let sel = Sel {
        n,
        picked,
        index_range: None,
        rank_range: Some((start, cnt)),
        index_sorted: true,
    };
    finish(l, ret, &sel, remove)
}

/// Matches `start <= v < end` (`end` `None` = infinity), or `v == start` when `single_value`.
fn by_value(
    l: &mut List,
    ret: Ret,
    start: &Value,
    end: Option<&Value>,
    single_value: bool,
    remove: bool,
) -> Result<Option<Value>, Error> {
    if ret.inverted && !ret.multi {
        return Err(Error::OpNotApplicable);
    }
    let n = l.items.len();
    let mut rank = 0;
    let mut picked = Vec::new();
    for (i, x) in l.items.iter().enumerate() {
        let c = compare(x, start);
        if c == Ordering::Less {
            rank += 1;
            continue;
        }
        let hit = if single_value {
            c == Ordering::Equal
        } else {
            match end {
                None => true,
                Some(e) => compare(x, e) == Ordering::Less,
            }
        };
        if hit && (ret.multi || picked.is_empty()) {
            picked.push(i);
        }
    }
    let cnt = picked.len();
    let mut sel = Sel {
        n,
        picked,
        index_range: None,
        rank_range: Some((rank, cnt)),
        index_sorted: true,
    };
    if l.is_ordered() {
        sel.index_range = sel.rank_range;
    }
    finish(l, ret, &sel, remove)
}

fn by_value_list(
    l: &mut List,
    ret: Ret,
    values: &Value,
    remove: bool,
) -> Result<Option<Value>, Error> {
    let Value::List(vs) = values else {
        return Err(Error::Parameter);
    };
    let n = l.items.len();
    let wanted = select::sorted_values(&vs.items);
    let picked: Vec<usize> = (0..n)
        .filter(|&i| {
            l.items
                .get(i)
                .is_some_and(|x| select::contains_sorted(&wanted, x))
        })
        .collect();
    let sel = Sel {
        n,
        picked,
        index_range: None,
        rank_range: None,
        index_sorted: true,
    };
    if matches!(
        ret.ty,
        select::rt::RANK_RANGE
            | select::rt::REVERSE_RANK_RANGE
            | select::rt::INDEX_RANGE
            | select::rt::REVERSE_INDEX_RANGE
    ) {
        return Err(Error::OpNotApplicable);
    }
    finish(l, ret, &sel, remove)
}

fn by_value_rel_rank(
    l: &mut List,
    ret: Ret,
    v: &Value,
    rank: i64,
    count: u64,
    remove: bool,
) -> Result<Option<Value>, Error> {
    let base = if l.is_ordered() {
        l.items.partition_point(|x| compare(x, v) == Ordering::Less)
    } else {
        l.items
            .iter()
            .filter(|x| compare(x, v) == Ordering::Less)
            .count()
    };
    let (idx, cnt) = select::rel_index_count(rank, count, base);
    by_rank_range(l, ret, idx, cnt, remove)
}

/// The get_by_* ops (19..=27); `remove` turns them into the matching remove_by_* op.
fn get_remove(l: &mut List, op: u64, a: &Args, remove: bool) -> Result<Option<Value>, Error> {
    match op {
        op::GET_BY_INDEX => {
            a.count(2, 2)?;
            by_index_range(l, Ret::new(a.uint(0)?, false), a.int(1)?, 1, remove)
        }
        op::GET_BY_RANK => {
            a.count(2, 2)?;
            by_rank_range(l, Ret::new(a.uint(0)?, false), a.int(1)?, 1, remove)
        }
        op::GET_BY_VALUE | op::GET_ALL_BY_VALUE => {
            a.count(2, 2)?;
            let ret = Ret::new(a.uint(0)?, op == op::GET_ALL_BY_VALUE);
            by_value(l, ret, a.payload(1)?, None, true, remove)
        }
        op::GET_ALL_BY_VALUE_LIST => {
            a.count(2, 2)?;
            by_value_list(l, Ret::new(a.uint(0)?, true), a.payload(1)?, remove)
        }
        op::GET_BY_INDEX_RANGE => {
            a.count(2, 3)?;
            let ret = Ret::new(a.uint(0)?, true);
            by_index_range(
                l,
                ret,
                a.int(1)?,
                a.uint_or(2, u64::from(u32::MAX))?,
                remove,
            )
        }
        op::GET_BY_VALUE_INTERVAL => {
            a.count(2, 3)?;
            let ret = Ret::new(a.uint(0)?, true);
            by_value(l, ret, a.payload(1)?, a.opt(2), false, remove)
        }
        op::GET_BY_RANK_RANGE => {
            a.count(2, 3)?;
            let ret = Ret::new(a.uint(0)?, true);
            by_rank_range(
                l,
                ret,
                a.int(1)?,
                a.uint_or(2, u64::from(u32::MAX))?,
                remove,
            )
        }
        op::GET_BY_VALUE_REL_RANK_RANGE => {
            a.count(3, 4)?;
            let ret = Ret::new(a.uint(0)?, true);
            by_value_rel_rank(
                l,
                ret,
                a.payload(1)?,
                a.int(2)?,
                a.uint_or(3, u64::from(u32::MAX))?,
                remove,
            )
        }
        _ => Err(Error::Parameter),
    }
}

/// Whether rank order by value puts `items` in order (for ordered-list checks).
pub fn is_sorted(items: &[Value]) -> bool {
    items.windows(2).all(|w| match w {
        [a, b] => compare(a, b) != Ordering::Greater,
        _ => true,
    })
}

/// Index order of a list's items by rank (exposed for tests and the reference model).
pub fn ranked(l: &List) -> Vec<usize> {
    rank_order(l)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::select::rt;

    fn ints(v: &[i64]) -> Value {
        Value::List(List::new(0, v.iter().map(|&x| Value::Int(x)).collect()))
    }

    fn args(v: Vec<Value>) -> Args {
        Args(v)
    }

    fn slot(v: &[i64]) -> Option<Value> {
        Some(ints(v))
    }

    #[test]
    fn return_types_and_inverted() -> Result<(), Error> {
        let mut s = slot(&[5, 1, 4, 1, 3]);
        let Some(Value::List(l)) = s.as_mut() else {
            return Err(Error::Parameter);
        };
        let by_value = |l: &mut List, ret: u64| {
            read(
                l,
                op::GET_ALL_BY_VALUE,
                &args(vec![Value::Int(ret as i64), Value::Int(1)]),
            )
        };
        assert_eq!(by_value(l, rt::INDEX)?, Some(ints(&[1, 3])));
        assert_eq!(by_value(l, rt::REVERSE_INDEX)?, Some(ints(&[3, 1])));
        assert_eq!(by_value(l, rt::RANK)?, Some(ints(&[0, 1])));
        assert_eq!(by_value(l, rt::COUNT | rt::INVERTED)?, Some(Value::Int(3)));
        assert_eq!(
            by_value(l, rt::VALUE | rt::INVERTED)?,
            Some(ints(&[5, 4, 3]))
        );
        assert_eq!(by_value(l, rt::EXISTS)?, Some(Value::Bool(true)));
        assert_eq!(by_value(l, rt::RANK_RANGE)?, Some(ints(&[0, 2])));
        assert_eq!(by_value(l, rt::KEY), Err(Error::OpNotApplicable));
        // Single-element ops refuse INVERTED.
        let single = read(
            l,
            op::GET_BY_INDEX,
            &args(vec![
                Value::Int((rt::VALUE | rt::INVERTED) as i64),
                Value::Int(0),
            ]),
        );
        assert_eq!(single, Err(Error::OpNotApplicable));
        let range = read(
            l,
            op::GET_BY_INDEX_RANGE,
            &args(vec![Value::Int(rt::INDEX_RANGE as i64), Value::Int(-2)]),
        )?;
        assert_eq!(range, Some(ints(&[3, 2])));
        Ok(())
    }

    #[test]
    fn ordered_list_keeps_order_and_refuses_positional_writes() -> Result<(), Error> {
        let mut s = None;
        modify(&mut s, op::SET_TYPE, &args(vec![Value::Int(1)]))?;
        for x in [3, 1, 2] {
            modify(&mut s, op::APPEND, &args(vec![Value::Int(x)]))?;
        }
        let Some(Value::List(l)) = &s else {
            return Err(Error::Parameter);
        };
        assert!(l.is_ordered());
        assert_eq!(l.items, vec![Value::Int(1), Value::Int(2), Value::Int(3)]);
        assert_eq!(
            modify(
                &mut s,
                op::INSERT,
                &args(vec![Value::Int(0), Value::Int(9)])
            ),
            Err(Error::OpNotApplicable)
        );
        assert_eq!(
            modify(&mut s, op::SET, &args(vec![Value::Int(0), Value::Int(9)])),
            Err(Error::OpNotApplicable)
        );
        // Increment re-sorts.
        modify(
            &mut s,
            op::INCREMENT,
            &args(vec![Value::Int(0), Value::Int(10)]),
        )?;
        let Some(Value::List(l)) = &s else {
            return Err(Error::Parameter);
        };
        assert_eq!(l.items, vec![Value::Int(2), Value::Int(3), Value::Int(11)]);
        Ok(())
    }

    #[test]
    fn write_flags() -> Result<(), Error> {
        let mut s = slot(&[1, 2]);
        let unique = flag::ADD_UNIQUE as i64;
        let items = ints(&[2, 3, 3]);
        assert_eq!(
            modify(
                &mut s,
                op::APPEND_ITEMS,
                &args(vec![items.clone(), Value::Int(0), Value::Int(unique)])
            ),
            Err(Error::ElementExists)
        );
        let quiet = (flag::ADD_UNIQUE | flag::NO_FAIL) as i64;
        assert_eq!(
            modify(
                &mut s,
                op::APPEND_ITEMS,
                &args(vec![items.clone(), Value::Int(0), Value::Int(quiet)])
            )?,
            Some(Value::Int(2))
        );
        let partial = (flag::ADD_UNIQUE | flag::NO_FAIL | flag::DO_PARTIAL) as i64;
        assert_eq!(
            modify(
                &mut s,
                op::APPEND_ITEMS,
                &args(vec![items, Value::Int(0), Value::Int(partial)])
            )?,
            Some(Value::Int(3))
        );
        let bounded = flag::INSERT_BOUNDED as i64;
        assert_eq!(
            modify(
                &mut s,
                op::INSERT,
                &args(vec![Value::Int(9), Value::Int(0), Value::Int(bounded)])
            ),
            Err(Error::OpNotApplicable)
        );
        assert_eq!(
            modify(
                &mut s,
                op::INSERT,
                &args(vec![Value::Int(5), Value::Int(7)])
            )?,
            Some(Value::Int(6))
        );
        assert_eq!(
            s,
            Some(Value::List(List::new(
                0,
                vec![
                    Value::Int(1),
                    Value::Int(2),
                    Value::Int(3),
                    Value::Nil,
                    Value::Nil,
                    Value::Int(7)
                ]
            )))
        );
        Ok(())
    }

    #[test]
    fn bad_arguments() {
        let mut s = slot(&[1]);
        assert_eq!(
            modify(&mut s, op::APPEND, &args(vec![])),
            Err(Error::Parameter)
        );
        assert_eq!(
            modify(&mut s, op::APPEND, &args(vec![Value::Wildcard])),
            Err(Error::Parameter)
        );
        assert_eq!(
            modify(&mut s, op::POP, &args(vec![Value::string("x")])),
            Err(Error::Parameter)
        );
        assert_eq!(modify(&mut s, 99, &args(vec![])), Err(Error::Parameter));
        let mut m = Some(Value::Map(crate::Map::default()));
        assert_eq!(
            modify(&mut m, op::APPEND, &args(vec![Value::Int(1)])),
            Err(Error::IncompatibleType)
        );
        assert_eq!(
            modify(
                &mut s,
                op::SET,
                &args(vec![Value::Int(100_000_000), Value::Int(1)])
            ),
            Err(Error::RecordTooBig)
        );
        assert_eq!(
            modify(
                &mut s,
                op::SET,
                &args(vec![Value::Int(3_000_000_000), Value::Int(1)])
            ),
            Err(Error::OpNotApplicable)
        );
    }
}
