//! Selecting elements of a list or map (by index, rank, value, key) and turning a selection into
//! the result the client asked for with its return type.

use std::cmp::Ordering;

use crate::msgpack::{List, Map, Value, MAP_K_ORDERED, MAP_PRESERVE_ORDER};
use crate::order::compare;
use crate::Error;

/// Return types: the first argument of every get_by_*/remove_by_* op.
pub mod rt {
    pub const NONE: u64 = 0;
    pub const INDEX: u64 = 1;
    pub const REVERSE_INDEX: u64 = 2;
    pub const RANK: u64 = 3;
    pub const REVERSE_RANK: u64 = 4;
    pub const COUNT: u64 = 5;
    pub const KEY: u64 = 6;
    pub const VALUE: u64 = 7;
    pub const KEY_VALUE: u64 = 8;
    pub const INDEX_RANGE: u64 = 9;
    pub const REVERSE_INDEX_RANGE: u64 = 10;
    pub const RANK_RANGE: u64 = 11;
    pub const REVERSE_RANK_RANGE: u64 = 12;
    pub const EXISTS: u64 = 13;
    pub const UNORDERED_MAP: u64 = 16;
    pub const ORDERED_MAP: u64 = 17;
    /// Flag: select everything except the matched elements.
    pub const INVERTED: u64 = 0x10000;
    pub const MASK: u64 = 0xffff;
}

/// A parsed return type.
#[derive(Debug, Clone, Copy)]
pub struct Ret {
    pub ty: u64,
    pub inverted: bool,
    /// Whether the op can match several elements (lists of results) or at most one.
    pub multi: bool,
}

impl Ret {
    pub fn new(raw: u64, multi: bool) -> Self {
        Self {
            ty: raw & rt::MASK,
            inverted: raw & rt::INVERTED != 0,
            multi,
        }
    }
}

/// The elements an op matched, before the inverted flag is applied.
#[derive(Debug, Default)]
pub struct Sel {
    /// Element count of the container.
    pub n: usize,
    /// Matched element indices, in the order results list them.
    pub picked: Vec<usize>,
    /// The matched elements as one index range, when they are one.
    pub index_range: Option<(usize, usize)>,
    /// The matched elements as one rank range, when they are one.
    pub rank_range: Option<(usize, usize)>,
    /// Whether INDEX results list indices ascending (lists) or in `picked` order (maps by rank).
    pub index_sorted: bool,
}

impl Sel {
    /// Indices the op acts on: the matched ones, or all others when inverted (ascending).
    pub fn effective(&self, inverted: bool) -> Vec<usize> {
        if !inverted {
            return self.picked.clone();
        }
        let mut hit = vec![false; self.n];
        for &i in &self.picked {
            if let Some(h) = hit.get_mut(i) {
                *h = true;
            }
        }
        (0..self.n)
            .filter(|&i| !hit.get(i).copied().unwrap_or(false))
            .collect()
    }
}

/// How a container's elements look to the result builder.
pub trait Elements {
    fn len(&self) -> usize;
    fn is_empty(&self) -> bool {
        self.len() == 0
    }
    /// The value ordered by rank (a list item, a map value).
    fn value(&self, i: usize) -> Option<&Value>;
    /// The map key, for maps.
    fn key(&self, i: usize) -> Option<&Value>;
    fn is_map(&self) -> bool;
}

impl Elements for List {
    fn len(&self) -> usize {
        self.items.len()
    }
    fn value(&self, i: usize) -> Option<&Value> {
        self.items.get(i)
    }
    fn key(&self, _i: usize) -> Option<&Value> {
        None
    }
    fn is_map(&self) -> bool {
        false
    }
}

impl Elements for Map {
    fn len(&self) -> usize {
        self.entries.len()
    }
    fn value(&self, i: usize) -> Option<&Value> {
        self.entries.get(i).map(|(_, v)| v)
    }
    fn key(&self, i: usize) -> Option<&Value> {
        self.entries.get(i).map(|(k, _)| k)
    }
    fn is_map(&self) -> bool {
        true
    }
}

/// Whether `x` equals one of `sorted` (sorted by [`compare`]): a binary search, so that
/// matching a list of values stays O(n log m).
pub fn contains_sorted(sorted: &[Value], x: &Value) -> bool {
    sorted.binary_search_by(|y| compare(y, x)).is_ok()
}

/// A copy of `values` sorted by [`compare`].
pub fn sorted_values(values: &[Value]) -> Vec<Value> {
    let mut v = values.to_vec();
    v.sort_by(compare);
    v
}

/// Element indices sorted by value, ties by index.
pub fn rank_order<E: Elements>(e: &E) -> Vec<usize> {
    let mut order: Vec<usize> = (0..e.len()).collect();
    order.sort_by(|&a, &b| cmp_values(e, a, b).then(a.cmp(&b)));
    order
}

fn cmp_values<E: Elements>(e: &E, a: usize, b: usize) -> Ordering {
    match (e.value(a), e.value(b)) {
        (Some(x), Some(y)) => compare(x, y),
        _ => Ordering::Equal,
    }
}

/// Selects ranks `[start, start + count)` the way the server's partial heap sort does, and
/// returns the element indices in the order that sort leaves them, with whether it ran as a
/// min-heap (then the order is descending by rank, else ascending).
pub fn heap_rank_range<E: Elements>(e: &E, start: usize, count: usize) -> (Vec<usize>, bool) {
    let n = e.len();
    let tail = n.saturating_sub(start + count);
    let (target, discard) = if start <= tail {
        (Ordering::Less, start)
    } else {
        (Ordering::Greater, tail)
    };
    let mut heap: Vec<usize> = (0..n).collect();
    let mut filled = n;
    let cmp = |h: &[usize], x: usize, y: usize| match (h.get(x), h.get(y)) {
        (Some(&a), Some(&b)) => cmp_values(e, a, b),
        _ => Ordering::Equal,
    };
    let heapify = |h: &mut Vec<usize>, filled: usize, mut i: usize| loop {
        let c1 = 2 * i + 1;
        let c2 = 2 * i + 2;
        if c1 >= filled {
            break;
        }
        let child = if c2 >= filled {
            c1
        } else {
            let c = cmp(h, c1, c2);
            if c == target || c == Ordering::Equal {
                c1
            } else {
                c2
            }
        };
        if cmp(h, child, i) == target {
            h.swap(i, child);
            i = child;
        } else {
            break;
        }
    };
    for i in (0..n / 2).rev() {
        heapify(&mut heap, filled, i);
    }
    let mut end = n;
    for _ in 0..(count + discard).min(n) {
        let top = heap.first().copied().unwrap_or(0);
        filled -= 1;
        let last = heap.get(filled).copied().unwrap_or(0);
        if let Some(h0) = heap.get_mut(0) {
            *h0 = last;
        }
        heapify(&mut heap, filled, 0);
        end -= 1;
        if let Some(slot) = heap.get_mut(end) {
            *slot = top;
        }
    }
    let region = heap
        .get(filled..(filled + count).min(n))
        .map(<[usize]>::to_vec)
        .unwrap_or_default();
    (region, target == Ordering::Less)
}

/// Absolute index and count for a single-element access; `None` when out of range.
pub fn single_index(index: i64, n: usize) -> Option<usize> {
    let n64 = n as i64;
    let i = if index < 0 { n64 + index } else { index };
    if i < 0 || i >= n64 {
        None
    } else {
        Some(i as usize)
    }
}

/// Absolute start and count of a range, clipped to `[0, n)` (the multi-element rules).
pub fn range(index: i64, count: u64, n: usize) -> (usize, usize) {
    let n64 = n as i64;
    if index >= n64 {
        return (n, 0);
    }
    let i = if index < 0 { n64 + index } else { index };
    if i < 0 {
        let neg = i.unsigned_abs();
        let c = if neg < count {
            (count - neg).min(n as u64) as usize
        } else {
            0
        };
        return (0, c);
    }
    let i = i as usize;
    let c = count.min((n - i) as u64) as usize;
    (i, c)
}

/// Index/rank and count for an op that reads one element or a range.
pub fn index_count(index: i64, count: u64, n: usize, multi: bool) -> Result<(usize, usize), Error> {
    if multi {
        return Ok(range(index, count, n));
    }
    let i = single_index(index, n).ok_or(Error::OpNotApplicable)?;
    Ok((i, count.min((n - i) as u64) as usize))
}

/// Applies a relative offset to a rank/index found by value, as the rel-rank/rel-index ops do.
pub fn rel_index_count(offset: i64, count: u64, base: usize) -> (i64, u64) {
    let idx = offset.saturating_add(base as i64);
    if idx < 0 {
        let neg = idx.unsigned_abs();
        (0, count.saturating_sub(neg))
    } else {
        (idx, count)
    }
}

fn int_list(v: impl IntoIterator<Item = usize>) -> Value {
    Value::List(List::new(
        0,
        v.into_iter().map(|x| Value::Int(x as i64)).collect(),
    ))
}

/// Builds the result value of an op from its selection. `Ok(None)` means "no result bin".
pub fn build<E: Elements>(ret: Ret, sel: &Sel, e: &E) -> Result<Option<Value>, Error> {
    let n = sel.n;
    let m = sel.picked.len();
    let inv = ret.inverted;
    if inv && !ret.multi {
        return Err(Error::OpNotApplicable);
    }
    let rev = |i: usize| n.saturating_sub(i + 1);
    Ok(match ret.ty {
        rt::NONE => None,
        rt::COUNT => Some(Value::Int(if inv { n.saturating_sub(m) } else { m } as i64)),
        rt::EXISTS => Some(Value::Bool(if inv { m == 0 } else { m != 0 })),
        rt::INDEX | rt::REVERSE_INDEX => {
            let is_rev = ret.ty == rt::REVERSE_INDEX;
            if !ret.multi {
                Some(Value::Int(match sel.picked.first() {
                    Some(&i) => (if is_rev { rev(i) } else { i }) as i64,
                    None => -1,
                }))
            } else {
                let mut idx = sel.effective(inv);
                if sel.index_sorted || inv {
                    idx.sort_unstable();
                }
                Some(int_list(idx.into_iter().map(|i| {
                    if is_rev {
                        rev(i)
                    } else {
                        i
                    }
                })))
            }
        }
        rt::RANK | rt::REVERSE_RANK => {
            let is_rev = ret.ty == rt::REVERSE_RANK;
            let map_rank = |r: usize| if is_rev { rev(r) } else { r };
            if let Some((start, count)) = sel.rank_range {
                if !ret.multi {
                    Some(Value::Int(if count == 0 {
                        -1
                    } else {
                        map_rank(start) as i64
                    }))
                } else if inv {
                    Some(int_list((0..start).chain(start + count..n).map(map_rank)))
                } else {
                    Some(int_list((start..start + count).map(map_rank)))
                }
            } else {
                // An element's rank is the number of elements below it (ties share a rank).
                let order = rank_order(e);
                let of = |i: usize| {
                    let below = match e.value(i) {
                        Some(v) => order.partition_point(|&j| {
                            e.value(j).is_some_and(|x| compare(x, v) == Ordering::Less)
                        }),
                        None => 0,
                    };
                    map_rank(below)
                };
                if !ret.multi {
                    Some(Value::Int(match sel.picked.first() {
                        Some(&i) => of(i) as i64,
                        None => -1,
                    }))
                } else {
                    Some(int_list(sel.effective(inv).into_iter().map(of)))
                }
            }
        }
        rt::KEY | rt::VALUE => {
            if ret.ty == rt::KEY && !e.is_map() {
                return Err(Error::OpNotApplicable);
            }
            let get = |i: usize| {
                if ret.ty == rt::KEY {
                    e.key(i).cloned()
                } else {
                    e.value(i).cloned()
                }
            };
            if !ret.multi {
                sel.picked.first().and_then(|&i| get(i))
            } else {
                Some(Value::List(List::new(
                    0,
                    sel.effective(inv).into_iter().filter_map(get).collect(),
                )))
            }
        }
        rt::KEY_VALUE | rt::UNORDERED_MAP | rt::ORDERED_MAP => {
            if !e.is_map() {
                return Err(Error::OpNotApplicable);
            }
            let mut idx = sel.effective(inv);
            let flags = match ret.ty {
                rt::KEY_VALUE => MAP_PRESERVE_ORDER,
                rt::ORDERED_MAP => {
                    idx.sort_unstable();
                    MAP_K_ORDERED
                }
                _ => 0,
            };
            let entries = idx
                .into_iter()
                .filter_map(|i| Some((e.key(i)?.clone(), e.value(i)?.clone())))
                .collect();
            Some(Value::Map(Map::new(flags, entries)))
        }
        rt::INDEX_RANGE | rt::REVERSE_INDEX_RANGE | rt::RANK_RANGE | rt::REVERSE_RANK_RANGE => {
            if inv {
                return Err(Error::OpNotApplicable);
            }
            let by_index = matches!(ret.ty, rt::INDEX_RANGE | rt::REVERSE_INDEX_RANGE);
            let (start, count) = if by_index {
                sel.index_range
            } else {
                sel.rank_range
            }
            .ok_or(Error::OpNotApplicable)?;
            let start = if matches!(ret.ty, rt::REVERSE_INDEX_RANGE | rt::REVERSE_RANK_RANGE) {
                n.saturating_sub(start + count)
            } else {
                start
            };
            Some(int_list([start, count]))
        }
        _ => return Err(Error::OpNotApplicable),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn list(v: &[i64]) -> List {
        List::new(0, v.iter().map(|&i| Value::Int(i)).collect())
    }

    #[test]
    fn heap_orders_like_the_server() {
        // ["0", 9, 8, 7, 1, 2.1, -1]
        let l = List::new(
            0,
            vec![
                Value::string("0"),
                Value::Int(9),
                Value::Int(8),
                Value::Int(7),
                Value::Int(1),
                Value::Float(2.1),
                Value::Int(-1),
            ],
        );
        // ranks 2..4 come out descending (min-heap), ranks 4.. ascending (max-heap).
        assert_eq!(heap_rank_range(&l, 2, 2).0, vec![2, 3]);
        assert_eq!(heap_rank_range(&l, 4, 3).0, vec![1, 0, 5]);
        assert_eq!(heap_rank_range(&list(&[5, 1, 3]), 0, 3).0.len(), 3);
    }

    #[test]
    fn ranges_clip() {
        assert_eq!(range(-1, u64::from(u32::MAX), 3), (2, 1));
        assert_eq!(range(-5, 3, 3), (0, 1));
        assert_eq!(range(7, 3, 3), (3, 0));
        assert_eq!(index_count(3, 1, 3, false), Err(Error::OpNotApplicable));
        assert_eq!(rel_index_count(-3, 5, 1), (0, 3));
    }
}
