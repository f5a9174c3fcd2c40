//! Property test: random sequences of list and map operations, applied through the public
//! `cdt_modify`/`cdt_read` entry points, agree with a plain `Vec` / `BTreeMap` reference model,
//! op by op (results and error codes) and in the final bin.

use std::collections::BTreeMap;

use aerie_cdt::msgpack::{encode, List};
use aerie_cdt::{bin_to_value, cdt_modify, cdt_read, Error, Map, Value};
use aerie_record::particle;
use proptest::prelude::*;

const RT_INDEX: i64 = 1;
const RT_COUNT: i64 = 5;
const RT_KEY: i64 = 6;
const RT_VALUE: i64 = 7;

fn op(items: Vec<Value>) -> Vec<u8> {
    encode(&Value::List(List::new(0, items)))
}

fn i(v: i64) -> Value {
    Value::Int(v)
}

fn int_particle(v: i64) -> Option<(u8, Vec<u8>)> {
    Some((particle::INTEGER, v.to_be_bytes().to_vec()))
}

fn list_particle(vs: &[i64]) -> Option<(u8, Vec<u8>)> {
    Some((
        particle::LIST,
        encode(&Value::List(List::new(
            0,
            vs.iter().map(|&x| i(x)).collect(),
        ))),
    ))
}

/// The bin after a step, as (particle type, bytes).
type Bin = Option<(u8, Vec<u8>)>;

/// What the model expects of an op: whether it modifies, and its result or error.
type Expect = (bool, Result<Bin, Error>);

/// Runs one op on the bin: modify ops replace the bin; returns the result or the error.
fn run(bin: &mut Bin, modify: bool, bytes: &[u8]) -> Result<Option<(u8, Vec<u8>)>, Error> {
    if modify {
        let (new, res) = cdt_modify(bin.as_ref().map(|(t, b)| (*t, b.as_slice())), bytes)?;
        if let Some(n) = new {
            *bin = Some(n);
        }
        Ok(res)
    } else {
        match bin {
            Some((t, b)) => cdt_read(*t, b, bytes),
            None => Ok(None),
        }
    }
}

// ---------------------------------------------------------------------------
// Lists

#[derive(Debug, Clone)]
enum ListOp {
    Append(i64),
    Insert(i64, i64),
    Pop(i64),
    RemoveRange(i64, u8),
    Set(i64, i64),
    Increment(i64, i64),
    Get(i64),
    GetRange(i64, u8),
    Size,
    Sort,
    Clear,
    CountByValue(i64),
    RemoveAllByValue(i64),
    ValuesInRange(i64, i64),
    IndexesOfValue(i64),
    CountRankRange(i64, u8),
    RemoveValueRange(i64, i64),
}

fn list_op() -> impl Strategy<Value = ListOp> {
    let v = -5i64..5;
    let idx = -6i64..8;
    prop_oneof![
        v.clone().prop_map(ListOp::Append),
        (idx.clone(), v.clone()).prop_map(|(a, b)| ListOp::Insert(a, b)),
        idx.clone().prop_map(ListOp::Pop),
        (idx.clone(), 0u8..4).prop_map(|(a, b)| ListOp::RemoveRange(a, b)),
        (idx.clone(), v.clone()).prop_map(|(a, b)| ListOp::Set(a, b)),
        (idx.clone(), v.clone()).prop_map(|(a, b)| ListOp::Increment(a, b)),
        idx.clone().prop_map(ListOp::Get),
        (idx, 0u8..4).prop_map(|(a, b)| ListOp::GetRange(a, b)),
        Just(ListOp::Size),
        Just(ListOp::Sort),
        Just(ListOp::Clear),
        v.clone().prop_map(ListOp::CountByValue),
        v.clone().prop_map(ListOp::RemoveAllByValue),
        (v.clone(), v.clone()).prop_map(|(a, b)| ListOp::ValuesInRange(a, b)),
        v.clone().prop_map(ListOp::IndexesOfValue),
        (-6i64..8, 0u8..4).prop_map(|(a, b)| ListOp::CountRankRange(a, b)),
        (v.clone(), v).prop_map(|(a, b)| ListOp::RemoveValueRange(a, b)),
    ]
}

/// Absolute index of a single element, or `None` when out of range.
fn single(index: i64, n: usize) -> Option<usize> {
    let n = n as i64;
    let a = if index < 0 { n + index } else { index };
    (0..n).contains(&a).then_some(a as usize)
}

/// Clipped range for multi-element ops.
fn clip(index: i64, count: u64, n: usize) -> (usize, usize) {
    let n64 = n as i64;
    if index >= n64 {
        return (n, 0);
    }
    let a = if index < 0 { n64 + index } else { index };
    if a < 0 {
        let neg = a.unsigned_abs();
        return (
            0,
            if neg < count {
                (count - neg).min(n as u64) as usize
            } else {
                0
            },
        );
    }
    (a as usize, count.min((n as i64 - a) as u64) as usize)
}

/// The model's answer to an op: expected result (or error) and whether the op modifies.
fn list_model(m: &mut Option<Vec<i64>>, o: &ListOp) -> Expect {
    use ListOp::*;
    let exists = m.is_some();
    let is_read = matches!(
        o,
        Get(_)
            | GetRange(..)
            | Size
            | CountByValue(_)
            | ValuesInRange(..)
            | IndexesOfValue(_)
            | CountRankRange(..)
    );
    if !exists && is_read {
        // A read of a missing bin answers nothing.
        return (false, Ok(None));
    }
    if !exists && matches!(o, Sort) {
        return (true, Err(Error::IncompatibleType));
    }
    let l = m.get_or_insert_with(Vec::new);
    let n = l.len();
    let out = match *o {
        Append(v) => {
            l.push(v);
            (true, Ok(int_particle(l.len() as i64)))
        }
        Insert(index, v) => {
            let at = if index < 0 { n as i64 + index } else { index };
            if at < 0 {
                (true, Err(Error::OpNotApplicable))
            } else {
                let at = at as usize;
                if at > n {
                    l.resize(at, 0);
                    // Padding is nil in the real list; the model keeps a marker below.
                }
                l.insert(at, v);
                (true, Ok(int_particle(l.len() as i64)))
            }
        }
        Pop(index) => match single(index, n) {
            None if !exists => (true, Ok(None)),
            None => (true, Err(Error::OpNotApplicable)),
            Some(a) => (true, Ok(int_particle(l.remove(a)))),
        },
        RemoveRange(index, count) => {
            if !exists {
                (true, Ok(None))
            } else {
                let (a, c) = clip(index, u64::from(count), n);
                l.drain(a..a + c);
                (true, Ok(int_particle(c as i64)))
            }
        }
        Set(index, v) => {
            if index >= n as i64 {
                l.resize(index as usize, 0);
                l.push(v);
                (true, Ok(None))
            } else {
                match single(index, n) {
                    None => (true, Err(Error::OpNotApplicable)),
                    Some(a) => {
                        if let Some(x) = l.get_mut(a) {
                            *x = v;
                        }
                        (true, Ok(None))
                    }
                }
            }
        }
        Increment(index, d) => {
            let at = if index < 0 { n as i64 + index } else { index };
            if at < 0 {
                (true, Err(Error::OpNotApplicable))
            } else {
                let at = at as usize;
                if at >= n {
                    l.resize(at, 0);
                    l.push(d);
                    (true, Ok(int_particle(d)))
                } else {
                    let x = l.get_mut(at).map(|x| {
                        *x += d;
                        *x
                    });
                    (true, Ok(int_particle(x.unwrap_or(0))))
                }
            }
        }
        Get(index) => match single(index, n) {
            None => (false, Err(Error::OpNotApplicable)),
            Some(a) => (false, Ok(int_particle(l.get(a).copied().unwrap_or(0)))),
        },
        GetRange(index, count) => {
            let (a, c) = clip(index, u64::from(count), n);
            (false, Ok(list_particle(l.get(a..a + c).unwrap_or(&[]))))
        }
        Size => (false, Ok(int_particle(n as i64))),
        Sort => {
            l.sort_unstable();
            (true, Ok(None))
        }
        Clear => {
            l.clear();
            (true, Ok(None))
        }
        CountByValue(v) => (
            false,
            Ok(int_particle(l.iter().filter(|&&x| x == v).count() as i64)),
        ),
        RemoveAllByValue(v) => {
            if !exists {
                (true, Ok(None))
            } else {
                let before = l.len();
                l.retain(|&x| x != v);
                (true, Ok(int_particle((before - l.len()) as i64)))
            }
        }
        ValuesInRange(a, b) => {
            let vs: Vec<i64> = l.iter().copied().filter(|&x| x >= a && x < b).collect();
            (false, Ok(list_particle(&vs)))
        }
        IndexesOfValue(v) => {
            let is: Vec<i64> = l
                .iter()
                .enumerate()
                .filter(|(_, &x)| x == v)
                .map(|(k, _)| k as i64)
                .collect();
            (false, Ok(list_particle(&is)))
        }
        CountRankRange(r, c) => (false, Ok(int_particle(clip(r, u64::from(c), n).1 as i64))),
        RemoveValueRange(a, b) => {
            if !exists {
                (true, Ok(None))
            } else {
                let before = l.len();
                l.retain(|&x| !(x >= a && x < b));
                (true, Ok(int_particle((before - l.len()) as i64)))
            }
        }
    };
    // Ops that fail, and reads/no-ops on a missing bin, create nothing.
    if !exists
        && (out.1.is_err()
            || !out.0
            || matches!(
                o,
                Pop(_) | RemoveRange(..) | RemoveAllByValue(_) | RemoveValueRange(..) | Clear
            ))
    {
        *m = None;
    }
    out
}

fn list_bytes(o: &ListOp) -> Vec<u8> {
    use ListOp::*;
    match *o {
        Append(v) => op(vec![i(1), i(v)]),
        Insert(a, v) => op(vec![i(3), i(a), i(v)]),
        Pop(a) => op(vec![i(5), i(a)]),
        RemoveRange(a, c) => op(vec![i(8), i(a), i(i64::from(c))]),
        Set(a, v) => op(vec![i(9), i(a), i(v)]),
        Increment(a, d) => op(vec![i(12), i(a), i(d)]),
        Get(a) => op(vec![i(17), i(a)]),
        GetRange(a, c) => op(vec![i(18), i(a), i(i64::from(c))]),
        Size => op(vec![i(16)]),
        Sort => op(vec![i(13), i(0)]),
        Clear => op(vec![i(11)]),
        CountByValue(v) => op(vec![i(22), i(RT_COUNT), i(v)]),
        RemoveAllByValue(v) => op(vec![i(35), i(RT_COUNT), i(v)]),
        ValuesInRange(a, b) => op(vec![i(25), i(RT_VALUE), i(a), i(b)]),
        IndexesOfValue(v) => op(vec![i(22), i(RT_INDEX), i(v)]),
        CountRankRange(r, c) => op(vec![i(26), i(RT_COUNT), i(r), i(i64::from(c))]),
        RemoveValueRange(a, b) => op(vec![i(38), i(RT_COUNT), i(a), i(b)]),
    }
}

/// Padding makes nils in the real list but zeros in the model; keep pads out of the model by
/// only generating list states without them (nil compares below every integer).
fn nil_free(l: &Value) -> Option<Vec<i64>> {
    match l {
        Value::List(l) => l.items.iter().map(|x| x.as_int()).collect(),
        _ => None,
    }
}

// ---------------------------------------------------------------------------
// Maps

#[derive(Debug, Clone)]
enum MapOp {
    Put(i64, i64),
    Increment(i64, i64),
    RemoveByKey(i64),
    GetByKey(i64),
    Size,
    KeyAtIndex(i64),
    KeysInRange(i64, i64),
    RemoveAllByValue(i64),
    Clear,
    CountValueRange(i64, i64),
    CountRankRange(i64, u8),
    RemoveKeyRange(i64, i64),
}

fn map_op() -> impl Strategy<Value = MapOp> {
    let k = -4i64..6;
    let v = -3i64..3;
    prop_oneof![
        (k.clone(), v.clone()).prop_map(|(a, b)| MapOp::Put(a, b)),
        (k.clone(), v.clone()).prop_map(|(a, b)| MapOp::Increment(a, b)),
        k.clone().prop_map(MapOp::RemoveByKey),
        k.clone().prop_map(MapOp::GetByKey),
        Just(MapOp::Size),
        (-7i64..7).prop_map(MapOp::KeyAtIndex),
        (k.clone(), k).prop_map(|(a, b)| MapOp::KeysInRange(a, b)),
        v.clone().prop_map(MapOp::RemoveAllByValue),
        Just(MapOp::Clear),
        (v.clone(), v).prop_map(|(a, b)| MapOp::CountValueRange(a, b)),
        (-7i64..7, 0u8..4).prop_map(|(a, b)| MapOp::CountRankRange(a, b)),
        (-4i64..6, -4i64..6).prop_map(|(a, b)| MapOp::RemoveKeyRange(a, b)),
    ]
}

fn map_model(m: &mut Option<BTreeMap<i64, i64>>, o: &MapOp) -> Expect {
    use MapOp::*;
    let exists = m.is_some();
    if !exists
        && matches!(
            o,
            GetByKey(_)
                | Size
                | KeyAtIndex(_)
                | KeysInRange(..)
                | CountValueRange(..)
                | CountRankRange(..)
        )
    {
        return (false, Ok(None));
    }
    let map = m.get_or_insert_with(BTreeMap::new);
    let out = match *o {
        Put(k, v) => {
            map.insert(k, v);
            (true, Ok(int_particle(map.len() as i64)))
        }
        Increment(k, d) => {
            let x = map.entry(k).or_insert(0);
            *x += d;
            (true, Ok(int_particle(*x)))
        }
        RemoveByKey(k) => (true, Ok(map.remove(&k).and_then(int_particle))),
        GetByKey(k) => (false, Ok(map.get(&k).copied().and_then(int_particle))),
        Size => (false, Ok(int_particle(map.len() as i64))),
        KeyAtIndex(index) => match single(index, map.len()) {
            None => (false, Err(Error::OpNotApplicable)),
            Some(a) => (false, Ok(map.keys().nth(a).copied().and_then(int_particle))),
        },
        KeysInRange(a, b) => {
            let ks: Vec<i64> = map.keys().copied().filter(|&x| x >= a && x < b).collect();
            (false, Ok(list_particle(&ks)))
        }
        RemoveAllByValue(v) => {
            let before = map.len();
            map.retain(|_, x| *x != v);
            (
                true,
                Ok(if exists {
                    int_particle((before - map.len()) as i64)
                } else {
                    None
                }),
            )
        }
        Clear => {
            map.clear();
            (true, Ok(None))
        }
        CountValueRange(a, b) => (
            false,
            Ok(int_particle(
                map.values().filter(|&&x| x >= a && x < b).count() as i64,
            )),
        ),
        CountRankRange(r, c) => (
            false,
            Ok(int_particle(clip(r, u64::from(c), map.len()).1 as i64)),
        ),
        RemoveKeyRange(a, b) => {
            let before = map.len();
            map.retain(|&k, _| !(k >= a && k < b));
            (
                true,
                Ok(if exists {
                    int_particle((before - map.len()) as i64)
                } else {
                    None
                }),
            )
        }
    };
    if !exists
        && (out.1.is_err()
            || !out.0
            || matches!(
                o,
                RemoveByKey(_) | RemoveAllByValue(_) | RemoveKeyRange(..) | Clear
            ))
    {
        *m = None;
    }
    out
}

fn map_bytes(o: &MapOp) -> Vec<u8> {
    use MapOp::*;
    match *o {
        Put(k, v) => op(vec![i(67), i(k), i(v)]),
        Increment(k, d) => op(vec![i(73), i(k), i(d)]),
        RemoveByKey(k) => op(vec![i(76), i(RT_VALUE), i(k)]),
        GetByKey(k) => op(vec![i(97), i(RT_VALUE), i(k)]),
        Size => op(vec![i(96)]),
        KeyAtIndex(a) => op(vec![i(98), i(RT_KEY), i(a)]),
        KeysInRange(a, b) => op(vec![i(103), i(RT_KEY), i(a), i(b)]),
        RemoveAllByValue(v) => op(vec![i(82), i(RT_COUNT), i(v)]),
        Clear => op(vec![i(75)]),
        CountValueRange(a, b) => op(vec![i(105), i(RT_COUNT), i(a), i(b)]),
        CountRankRange(r, c) => op(vec![i(106), i(RT_COUNT), i(r), i(i64::from(c))]),
        RemoveKeyRange(a, b) => op(vec![i(84), i(RT_COUNT), i(a), i(b)]),
    }
}

fn map_state(v: &Value) -> Option<BTreeMap<i64, i64>> {
    match v {
        Value::Map(Map { entries, .. }) => entries
            .iter()
            .map(|(k, x)| Some((k.as_int()?, x.as_int()?)))
            .collect(),
        _ => None,
    }
}

proptest! {
    #[test]
    fn lists_match_the_model(ops in proptest::collection::vec(list_op(), 1..40)) {
        let mut bin: Bin = None;
        let mut model: Option<Vec<i64>> = None;
        for o in &ops {
            // Keep padding out of play: inserts/sets/increments past the end pad with nil.
            let n = model.as_ref().map_or(0, Vec::len) as i64;
            if matches!(*o, ListOp::Insert(a, _) | ListOp::Set(a, _) | ListOp::Increment(a, _) if a > n) {
                continue;
            }
            let (modify, want) = list_model(&mut model, o);
            let got = run(&mut bin, modify, &list_bytes(o));
            prop_assert_eq!(&got, &want, "op {:?}", o);
            let state = bin.as_ref().map(|(t, b)| bin_to_value(*t, b)).transpose();
            let state = state.map_err(|e| TestCaseError::fail(format!("{e}")))?;
            prop_assert_eq!(state.as_ref().and_then(nil_free), model.clone(), "after {:?}", o);
        }
    }

    #[test]
    fn maps_match_the_model(ops in proptest::collection::vec(map_op(), 1..40)) {
        let mut bin: Bin = None;
        let mut model: Option<BTreeMap<i64, i64>> = None;
        for o in &ops {
            let (modify, want) = map_model(&mut model, o);
            let got = run(&mut bin, modify, &map_bytes(o));
            prop_assert_eq!(&got, &want, "op {:?}", o);
            let state = bin.as_ref().map(|(t, b)| bin_to_value(*t, b)).transpose();
            let state = state.map_err(|e| TestCaseError::fail(format!("{e}")))?;
            prop_assert_eq!(state.as_ref().and_then(map_state), model.clone(), "after {:?}", o);
        }
    }
}
