//! The CDT op envelope and nested contexts.
//!
//! An op value is `[op_id, arg…]`, or `[0xff, [ctx_type, ctx_value, …], [op_id, arg…]]` to apply
//! the op to an element deep inside the bin. Context types: 0x10 list index, 0x11 list rank,
//! 0x13 list value, 0x20 map index, 0x21 map rank, 0x22 map key, 0x23 map value; the 0x1c0 bits
//! ask to create a missing list index / map key (with the container order they encode).

use std::cmp::Ordering;

use crate::args::Args;
use crate::msgpack::{self, List, Map, Reader, Value, LIST_ORDERED, MAP_KV_ORDERED, MAP_K_ORDERED};
use crate::order::compare;
use crate::select::{heap_rank_range, single_index};
use crate::{bin_to_value, list, map, sort_maps, value_to_bin, value_to_particle, Error, Particle};

/// Op id introducing a context.
const CONTEXT_EVAL: u64 = 0xff;
/// Deepest context the server is asked to walk.
const MAX_CTX_DEPTH: usize = 64;

const CTX_LIST: u64 = 0x10;
const CTX_MAP: u64 = 0x20;
const CTX_BASE_MASK: u64 = 0x0f;
const CTX_CREATE_MASK: u64 = 0x1c0;
const CTX_CREATE_PERSIST_INDEX: u64 = 0x100;
const CTX_INDEX: u64 = 0;
const CTX_RANK: u64 = 1;
const CTX_KEY: u64 = 2;
const CTX_VALUE: u64 = 3;
const CREATE_UNORDERED: u64 = 0x40;
const CREATE_UNBOUNDED: u64 = 0x80;
const CREATE_ORDERED: u64 = 0xc0;

/// A decoded op: context steps, op id, arguments.
struct CdtOp {
    ctx: Vec<(u64, Value)>,
    op: u64,
    args: Args,
}

fn parse(b: &[u8]) -> Result<CdtOp, Error> {
    // Deprecated envelope: u16 op id, then an optional list of arguments.
    if b.first() == Some(&0) {
        let (id, rest) = b.split_first_chunk::<2>().ok_or(Error::Parameter)?;
        let op = u64::from(u16::from_be_bytes(*id));
        let args = if rest.is_empty() {
            Vec::new()
        } else {
            match msgpack::decode(rest)? {
                Value::List(l) => l.items,
                _ => return Err(Error::Parameter),
            }
        };
        return Ok(CdtOp {
            ctx: Vec::new(),
            op,
            args: Args(args),
        });
    }
    let mut r = Reader::new(b);
    let n = r.list_len()?;
    let op = match r.value()? {
        Value::Int(i) if i >= 0 => i as u64,
        _ => return Err(Error::Parameter),
    };
    if n == 0 {
        return Err(Error::Parameter);
    }
    let mut rest = Vec::with_capacity((n - 1).min(b.len()));
    for _ in 1..n {
        rest.push(r.value()?);
    }
    if !r.is_empty() {
        return Err(Error::Parameter);
    }
    if op != CONTEXT_EVAL {
        for a in &mut rest {
            sort_maps(a);
        }
        return Ok(CdtOp {
            ctx: Vec::new(),
            op,
            args: Args(rest),
        });
    }
    let [Value::List(ctx), Value::List(inner)] =
        <[Value; 2]>::try_from(rest).map_err(|_| Error::Parameter)?
    else {
        return Err(Error::Parameter);
    };
    if ctx.items.is_empty() || ctx.items.len() % 2 != 0 || ctx.items.len() / 2 > MAX_CTX_DEPTH {
        return Err(Error::Parameter);
    }
    let mut steps = Vec::with_capacity(ctx.items.len() / 2);
    let mut it = ctx.items.into_iter();
    while let (Some(t), Some(mut v)) = (it.next(), it.next()) {
        let t = match t {
            Value::Int(i) if i >= 0 => i as u64,
            _ => return Err(Error::Parameter),
        };
        sort_maps(&mut v);
        steps.push((t, v));
    }
    let mut inner = inner.items.into_iter();
    let op = match inner.next() {
        Some(Value::Int(i)) if i >= 0 => i as u64,
        _ => return Err(Error::Parameter),
    };
    let mut args: Vec<Value> = inner.collect();
    for a in &mut args {
        sort_maps(a);
    }
    Ok(CdtOp {
        ctx: steps,
        op,
        args: Args(args),
    })
}

/// A CDT read op (op type 3) on an existing bin. Returns the result particle, if any.
pub fn cdt_read(
    particle_type: u8,
    bytes: &[u8],
    op_value: &[u8],
) -> Result<Option<Particle>, Error> {
    let op = parse(op_value)?;
    if is_modify_op(op.op) {
        return Err(Error::Parameter);
    }
    let mut root = match bin_to_value(particle_type, bytes) {
        Ok(v) => v,
        Err(Error::IncompatibleType) if !op.ctx.is_empty() => return Err(Error::Parameter),
        Err(e) => return Err(e),
    };
    let target = walk_read(&mut root, &op.ctx)?;
    let out = if list::is_list_op(op.op) {
        let Value::List(l) = target else {
            return Err(Error::IncompatibleType);
        };
        list::read(l, op.op, &op.args)?
    } else {
        let Value::Map(m) = target else {
            return Err(Error::IncompatibleType);
        };
        map::read(m, op.op, &op.args)?
    };
    Ok(out.as_ref().and_then(value_to_particle))
}

/// A CDT modify op (op type 4). `bin` is the current bin, if any. On success returns the new bin
/// (`None`: leave the bin as it was) and the op's result particle.
pub fn cdt_modify(
    bin: Option<(u8, &[u8])>,
    op_value: &[u8],
) -> Result<(Option<Particle>, Option<Particle>), Error> {
    let op = parse(op_value)?;
    if !is_modify_op(op.op) {
        return Err(Error::Parameter);
    }
    let mut root: Option<Value> = match bin {
        None => None,
        Some((t, b)) => match bin_to_value(t, b) {
            Ok(v) => Some(v),
            Err(Error::IncompatibleType) if !op.ctx.is_empty() => return Err(Error::Parameter),
            Err(e) => return Err(e),
        },
    };
    let mut apply = |slot: &mut Option<Value>| -> Result<Option<Value>, Error> {
        if list::is_list_op(op.op) {
            list::modify(slot, op.op, &op.args)
        } else {
            map::modify(slot, op.op, &op.args)
        }
    };
    let result = if op.ctx.is_empty() {
        apply(&mut root)?
    } else {
        match root.as_mut() {
            Some(r) => walk_modify(r, &op.ctx, &mut apply)?,
            None => {
                let (built, res) = create_chain(&op.ctx, true, &mut apply)?;
                root = built;
                res
            }
        }
    };
    let new_bin = root.as_ref().and_then(value_to_bin);
    Ok((new_bin, result.as_ref().and_then(value_to_particle)))
}

fn is_modify_op(op: u64) -> bool {
    if list::is_list_op(op) {
        !list::is_read_op(op)
    } else {
        !map::is_read_op(op)
    }
}

/// Checks a context type's bits and returns (base type, create bits).
fn ctx_type(t: u64) -> Result<(u64, u64), Error> {
    let base = t & CTX_BASE_MASK;
    let create = t & CTX_CREATE_MASK;
    if base > CTX_VALUE || t & !(CTX_BASE_MASK | CTX_LIST | CTX_MAP | CTX_CREATE_MASK) != 0 {
        return Err(Error::OpNotApplicable);
    }
    if create != 0 && t & (CTX_LIST | CTX_MAP) == 0 {
        return Err(Error::OpNotApplicable);
    }
    Ok((base, create))
}

/// Finds the child of `cur` a context step names: `Ok(Some(i))`, or `Ok(None)` when missing.
fn find_child(cur: &Value, t: u64, v: &Value) -> Result<Option<usize>, Error> {
    let (base, _) = ctx_type(t)?;
    match cur {
        Value::List(l) => {
            if t & CTX_MAP != 0 {
                return Err(Error::OpNotApplicable);
            }
            let n = l.items.len();
            match base {
                CTX_INDEX | CTX_RANK => {
                    let Value::Int(i) = v else {
                        return Err(Error::OpNotApplicable);
                    };
                    let Some(i) = single_index(*i, n) else {
                        return Ok(None);
                    };
                    if base == CTX_RANK && !l.is_ordered() {
                        return Ok(heap_rank_range(l, i, 1).0.first().copied());
                    }
                    Ok(Some(i))
                }
                CTX_VALUE => Ok(l
                    .items
                    .iter()
                    .position(|x| compare(x, v) == Ordering::Equal)),
                _ => Err(Error::OpNotApplicable),
            }
        }
        Value::Map(m) => {
            if t & CTX_LIST != 0 {
                return Err(Error::OpNotApplicable);
            }
            let n = m.entries.len();
            match base {
                CTX_INDEX => {
                    let Value::Int(i) = v else {
                        return Err(Error::OpNotApplicable);
                    };
                    Ok(single_index(*i, n))
                }
                CTX_RANK => {
                    let Value::Int(i) = v else {
                        return Err(Error::OpNotApplicable);
                    };
                    let Some(i) = single_index(*i, n) else {
                        return Ok(None);
                    };
                    Ok(crate::select::rank_order(m).get(i).copied())
                }
                CTX_KEY => Ok(map::find(m, v).ok()),
                _ => Ok(m
                    .entries
                    .iter()
                    .position(|(_, x)| compare(x, v) == Ordering::Equal)),
            }
        }
        _ => Err(Error::OpNotApplicable),
    }
}

fn child_mut(cur: &mut Value, i: usize) -> Option<&mut Value> {
    match cur {
        Value::List(l) => l.items.get_mut(i),
        Value::Map(m) => m.entries.get_mut(i).map(|(_, v)| v),
        _ => None,
    }
}

fn walk_read<'v>(mut cur: &'v mut Value, ctx: &[(u64, Value)]) -> Result<&'v mut Value, Error> {
    for (t, v) in ctx {
        if !matches!(cur, Value::List(_) | Value::Map(_)) {
            return Err(Error::OpNotApplicable);
        }
        let i = find_child(cur, *t, v)?.ok_or(Error::OpNotApplicable)?;
        cur = child_mut(cur, i).ok_or(Error::OpNotApplicable)?;
    }
    Ok(cur)
}

type Apply<'a> = dyn FnMut(&mut Option<Value>) -> Result<Option<Value>, Error> + 'a;

fn walk_modify(
    cur: &mut Value,
    ctx: &[(u64, Value)],
    apply: &mut Apply<'_>,
) -> Result<Option<Value>, Error> {
    let Some(((t, v), rest)) = ctx.split_first() else {
        return Err(Error::Parameter);
    };
    if !matches!(cur, Value::List(_) | Value::Map(_)) {
        return Err(Error::OpNotApplicable);
    }
    let (base, create) = ctx_type(*t)?;
    let result = match find_child(cur, *t, v)? {
        Some(i) => {
            let child = child_mut(cur, i).ok_or(Error::OpNotApplicable)?;
            if rest.is_empty() {
                let mut slot = Some(std::mem::replace(child, Value::Nil));
                let out = apply(&mut slot);
                *child = slot.unwrap_or(Value::Nil);
                out?
            } else {
                walk_modify(child, rest, apply)?
            }
        }
        None => {
            if create & !CTX_CREATE_PERSIST_INDEX == 0 {
                return Err(Error::OpNotApplicable);
            }
            let (built, out) = create_chain(rest, false, apply)?;
            if let Some(new) = built {
                insert_created(cur, base, create, v, new)?;
            }
            out
        }
    };
    if let Value::List(l) = cur {
        if l.is_ordered() {
            l.items.sort_by(compare);
        }
    }
    Ok(result)
}

/// Inserts a created element where a missing list index or map key was named.
fn insert_created(
    cur: &mut Value,
    base: u64,
    create: u64,
    key: &Value,
    new: Value,
) -> Result<(), Error> {
    match (cur, base) {
        (Value::Map(m), CTX_KEY) => {
            if key.has_nonstorage() || !map::is_key(key) {
                return Err(Error::OpNotApplicable);
            }
            match map::find(m, key) {
                Ok(_) => return Err(Error::OpNotApplicable),
                Err(pos) => m.entries.insert(pos, (key.clone(), new)),
            }
            Ok(())
        }
        (Value::List(l), CTX_INDEX) => {
            let Value::Int(index) = key else {
                return Err(Error::OpNotApplicable);
            };
            let n = l.items.len() as i64;
            let at = if (n == 0 && *index == -1) || *index == n || (*index > n && l.is_ordered()) {
                n
            } else if *index > n && create & !CTX_CREATE_PERSIST_INDEX == CREATE_UNBOUNDED {
                crate::pad_list(
                    &mut l.items,
                    usize::try_from(*index).map_err(|_| Error::OpNotApplicable)?,
                )?;
                *index
            } else {
                return Err(Error::OpNotApplicable);
            };
            if l.is_ordered() {
                let pos = l
                    .items
                    .partition_point(|x| compare(x, &new) != Ordering::Greater);
                l.items.insert(pos, new);
            } else {
                l.items.insert(at as usize, new);
            }
            Ok(())
        }
        _ => Err(Error::OpNotApplicable),
    }
}

/// Builds the containers a create-context chain describes, innermost first, and applies the op
/// to the innermost (missing) element. With `top`, `ctx[0]` describes the bin's own container.
/// Returns the built value (`None` when the op created nothing) and the op's result.
fn create_chain(
    ctx: &[(u64, Value)],
    top: bool,
    apply: &mut Apply<'_>,
) -> Result<(Option<Value>, Option<Value>), Error> {
    let Some(((t, key), rest)) = ctx.split_first() else {
        let mut slot = None;
        let out = apply(&mut slot)?;
        return Ok((slot, out));
    };
    let (base, create) = ctx_type(*t)?;
    if top && create & !CTX_CREATE_PERSIST_INDEX == 0 {
        return Err(Error::OpNotApplicable);
    }
    let create = create & !CTX_CREATE_PERSIST_INDEX;
    let (inner, out) = create_chain(rest, false, apply)?;
    let Some(inner) = inner else {
        return Ok((None, out));
    };
    let built = match (*t & (CTX_LIST | CTX_MAP), base) {
        (CTX_MAP, CTX_KEY) => {
            if key.has_nonstorage() || !map::is_key(key) {
                return Err(Error::OpNotApplicable);
            }
            let flags = match create {
                CREATE_UNBOUNDED => MAP_K_ORDERED,
                CREATE_ORDERED => MAP_KV_ORDERED,
                _ => 0,
            };
            Value::Map(Map::new(flags, vec![(key.clone(), inner)]))
        }
        (CTX_LIST, CTX_INDEX) => {
            let Value::Int(index) = key else {
                return Err(Error::OpNotApplicable);
            };
            let index = *index;
            if index < -1 {
                return Err(Error::OpNotApplicable);
            }
            let ordered = create == CREATE_ORDERED;
            let mut items = Vec::new();
            if index > 0 {
                if create == CREATE_UNBOUNDED {
                    crate::pad_list(
                        &mut items,
                        usize::try_from(index).map_err(|_| Error::OpNotApplicable)?,
                    )?;
                } else if !ordered {
                    return Err(Error::OpNotApplicable);
                }
            }
            items.push(inner);
            Value::List(List::new(if ordered { LIST_ORDERED } else { 0 }, items))
        }
        _ => return Err(Error::OpNotApplicable),
    };
    let _ = CREATE_UNORDERED;
    Ok((Some(built), out))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::msgpack::encode;
    use aerie_record::particle;

    fn op(items: Vec<Value>) -> Vec<u8> {
        encode(&Value::List(List::new(0, items)))
    }

    fn int(i: i64) -> Value {
        Value::Int(i)
    }

    #[test]
    fn append_and_read_back() -> Result<(), Error> {
        let (bin, res) = cdt_modify(None, &op(vec![int(1), int(5)]))?;
        assert_eq!(res, Some((particle::INTEGER, 1i64.to_be_bytes().to_vec())));
        let (t, b) = bin.ok_or(Error::Parameter)?;
        let got = cdt_read(t, &b, &op(vec![int(17), int(0)]))?;
        assert_eq!(got, Some((particle::INTEGER, 5i64.to_be_bytes().to_vec())));
        Ok(())
    }

    #[test]
    fn nested_create_map_key() -> Result<(), Error> {
        // put {"a": 10} into bin["sub"] created as a K-ordered map.
        let ctx = Value::List(List::new(0, vec![int(0x22 | 0x80), Value::string("sub")]));
        let inner = Value::List(List::new(0, vec![int(67), Value::string("a"), int(10)]));
        let (bin, _) = cdt_modify(None, &op(vec![int(0xff), ctx, inner]))?;
        let (t, b) = bin.ok_or(Error::Parameter)?;
        let v = bin_to_value(t, &b)?;
        let Value::Map(top) = v else {
            return Err(Error::Parameter);
        };
        assert_eq!(top.flags, MAP_K_ORDERED);
        Ok(())
    }

    #[test]
    fn missing_context_is_not_applicable() -> Result<(), Error> {
        let (bin, _) = cdt_modify(None, &op(vec![int(67), Value::string("a"), int(1)]))?;
        let (t, b) = bin.ok_or(Error::Parameter)?;
        let ctx = Value::List(List::new(0, vec![int(0x22), Value::string("zz")]));
        let inner = Value::List(List::new(0, vec![int(96)]));
        assert_eq!(
            cdt_read(t, &b, &op(vec![int(0xff), ctx, inner])),
            Err(Error::OpNotApplicable)
        );
        Ok(())
    }
}
