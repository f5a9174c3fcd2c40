//! Evaluation of a compiled tree against one record.
//!
//! Semantics follow the reference server's runtime: "unknown" (`Val::Unk`) comes from a missing
//! bin or a bin of another type, a failed CDT/bit/HLL op, division or modulo by zero; it
//! propagates through comparisons and arithmetic, `and`/`or` treat it as "not decided".

// hot path: every filtered record is evaluated here.

use std::borrow::Cow;
use std::cmp::Ordering;

use aerie_cdt::{msgpack, order};
use aerie_record::{particle, time};

use crate::compile::{Arith, Binary, Cmp, Meta, Node, Unary};
use crate::value::{compare, Ty, Val};
use crate::RecordView;

/// Nanoseconds per millisecond and second.
const NS_PER_MS: i64 = 1_000_000;
const NS_PER_SEC: i64 = 1_000_000_000;
const EPOCH_UNIX_SECS: i64 = time::CITRUSLEAF_EPOCH_UNIX_SECS as i64;

/// Evaluates `root` for `rec`.
pub fn run<'a>(root: &'a Node, n_vars: usize, rec: &RecordView<'a>) -> Val<'a> {
    run_with(root, n_vars, rec, Builtins::default())
}

/// The loop variables of a path expression: map key, value, list index.
pub type Builtins<'a> = [Option<Val<'a>>; 3];

/// Evaluates `root` for `rec` with path-expression loop variables set.
pub fn run_with<'a>(
    root: &'a Node,
    n_vars: usize,
    rec: &RecordView<'a>,
    builtins: Builtins<'a>,
) -> Val<'a> {
    let mut env = Env {
        rec,
        vars: vec![Val::Unk; n_vars],
        now_ms: None,
        builtins,
    };
    env.eval(root)
}

pub struct Env<'r, 'a> {
    rec: &'r RecordView<'a>,
    vars: Vec<Val<'a>>,
    now_ms: Option<u64>,
    builtins: Builtins<'a>,
}

impl<'r, 'a> Env<'r, 'a> {
    /// The record being evaluated.
    pub fn record(&self) -> &'r RecordView<'a> {
        self.rec
    }

    fn now_ms(&mut self) -> u64 {
        *self.now_ms.get_or_insert_with(time::now_ms)
    }

    pub fn eval(&mut self, n: &'a Node) -> Val<'a> {
        match n {
            Node::Unknown => Val::Unk,
            Node::Const(v) => Val::from_value(v),
            Node::Bin { name, ty } => match self.rec.bins.get(name) {
                Some((t, v)) if t == ty.particle() => Val::from_bin(t, v),
                _ => Val::Unk,
            },
            Node::BinType(name) => {
                Val::Int(self.rec.bins.get(name).map_or(0, |(t, _)| i64::from(t)))
            }
            Node::Key(ty) => self.key(*ty),
            Node::Meta(m) => self.meta(*m),
            Node::DigestModulo(m) => {
                let [.., a, b, c, d] = *self.rec.digest;
                Val::Int(i64::from(u32::from_le_bytes([a, b, c, d])) % m)
            }
            Node::Cmp(c, a, b) => {
                let a = self.eval(a);
                if a.is_unk() {
                    return Val::Unk;
                }
                let b = self.eval(b);
                match compare(&a, &b) {
                    Some(o) => Val::Bool(cmp_holds(*c, o)),
                    None => Val::Unk,
                }
            }
            Node::Regex(re, s) => match self.eval(s) {
                Val::Str(s) => Val::Bool(re.is_match(&s)),
                _ => Val::Unk,
            },
            Node::Geo(a, b) => {
                let (a, b) = (self.eval(a), self.eval(b));
                match (&a, &b) {
                    (Val::Geo(x), Val::Geo(y)) => {
                        crate::geo::matches(x, y).map_or(Val::Unk, Val::Bool)
                    }
                    _ => Val::Unk,
                }
            }
            Node::InList(a, b) => self.in_list(a, b),
            Node::VarBuiltIn(part, ty) => match self.builtins.get(*part) {
                Some(Some(v)) if crate::value::is_type(v, *ty) => v.clone(),
                _ => Val::Unk,
            },
            Node::MapKeys(m) | Node::MapValues(m) => {
                let keys = matches!(n, Node::MapKeys(_));
                let m = self.eval(m);
                let Val::Map(c) = &m else {
                    return Val::Unk;
                };
                let Some(v) = c.value() else {
                    return Val::Unk;
                };
                let aerie_cdt::Value::Map(map) = v.as_ref() else {
                    return Val::Unk;
                };
                let items = map
                    .entries
                    .iter()
                    .map(|(k, v)| if keys { k.clone() } else { v.clone() })
                    .collect();
                let list = aerie_cdt::Value::List(aerie_cdt::List::new(0, items));
                Val::List(crate::value::Cdt::Value(Cow::Owned(list)))
            }
            Node::ResultRemove => Val::Unk,
            Node::Path(p) => crate::path::eval_call(p, self),
            Node::And(args) => {
                let mut ret = Val::Bool(true);
                for a in args {
                    match self.eval(a) {
                        Val::Bool(false) => return Val::Bool(false),
                        Val::Bool(true) => {}
                        _ => ret = Val::Unk,
                    }
                }
                ret
            }
            Node::Or(args) => {
                let mut ret = Val::Bool(false);
                for a in args {
                    match self.eval(a) {
                        Val::Bool(true) => return Val::Bool(true),
                        Val::Bool(false) => {}
                        _ => ret = Val::Unk,
                    }
                }
                ret
            }
            Node::Not(a) => match self.eval(a) {
                Val::Bool(b) => Val::Bool(!b),
                _ => Val::Unk,
            },
            Node::Exclusive(args) => {
                let mut seen = false;
                for a in args {
                    match self.eval(a) {
                        Val::Bool(true) if seen => return Val::Bool(false),
                        Val::Bool(true) => seen = true,
                        Val::Bool(false) => {}
                        _ => return Val::Unk,
                    }
                }
                Val::Bool(seen)
            }
            Node::Arith(op, args) => self.arith(*op, args),
            Node::Unary(op, a) => unary(*op, self.eval(a)),
            Node::Binary(op, a, b) => {
                let a = self.eval(a);
                if a.is_unk() {
                    return Val::Unk;
                }
                binary(*op, a, self.eval(b))
            }
            Node::Cond(items) => {
                let mut it = items.chunks(2);
                for pair in it.by_ref() {
                    match pair {
                        [c, v] => match self.eval(c) {
                            Val::Bool(true) => return self.eval(v),
                            Val::Bool(false) => {}
                            _ => return Val::Unk,
                        },
                        [default] => return self.eval(default),
                        _ => return Val::Unk,
                    }
                }
                Val::Unk
            }
            Node::Let(defs, body) => {
                for (slot, d) in defs {
                    let v = self.eval(d);
                    if let Some(s) = self.vars.get_mut(*slot) {
                        *s = v;
                    }
                }
                self.eval(body)
            }
            Node::Var(slot) => self.vars.get(*slot).cloned().unwrap_or(Val::Unk),
            Node::Call(c) => crate::call::eval(c, self),
        }
    }

    fn key(&self, ty: Ty) -> Val<'a> {
        let v = match self.rec.key {
            Some((particle::INTEGER, k)) if k.len() == 8 => {
                particle::read_int(k).map_or(Val::Unk, Val::Int)
            }
            Some((particle::STRING, k)) => Val::Str(Cow::Borrowed(k)),
            Some((particle::BLOB, k)) => Val::Blob(Cow::Borrowed(k)),
            _ => return Val::Unk,
        };
        let matches = matches!(
            (&v, ty),
            (Val::Int(_), Ty::Int) | (Val::Str(_), Ty::Str) | (Val::Blob(_), Ty::Blob)
        );
        if matches {
            v
        } else {
            Val::Unk
        }
    }

    fn meta(&mut self, m: Meta) -> Val<'a> {
        let r = self.rec;
        match m {
            // Aerie keeps every record image in memory (and on device when persisted); both
            // sizes report the stored size.
            Meta::DeviceSize | Meta::MemorySize | Meta::RecordSize => {
                Val::Int(i64::try_from(r.record_size_bytes).unwrap_or(i64::MAX))
            }
            Meta::LastUpdate => {
                let ms = i64::try_from(r.last_update_ms).unwrap_or(i64::MAX);
                Val::Int(
                    ms.saturating_add(EPOCH_UNIX_SECS * 1000)
                        .saturating_mul(NS_PER_MS),
                )
            }
            Meta::SinceUpdate => {
                let now = self.now_ms();
                Val::Int(i64::try_from(now.saturating_sub(r.last_update_ms)).unwrap_or(i64::MAX))
            }
            Meta::VoidTime => match r.void_time {
                0 => Val::Int(-1),
                v => Val::Int((i64::from(v) + EPOCH_UNIX_SECS) * NS_PER_SEC),
            },
            Meta::Ttl => match r.void_time {
                0 => Val::Int(-1),
                v => {
                    let now_secs = self.now_ms() / 1000;
                    Val::Int(
                        i64::from(v)
                            .saturating_sub(i64::try_from(now_secs).unwrap_or(0))
                            .max(0),
                    )
                }
            },
            Meta::SetName => Val::Str(Cow::Borrowed(r.set_name)),
            Meta::KeyExists => Val::Bool(r.key.is_some()),
            Meta::IsTombstone => Val::Bool(r.is_tombstone),
        }
    }

    fn in_list(&mut self, a: &'a Node, b: &'a Node) -> Val<'a> {
        let a = self.eval(a);
        if a.is_unk() {
            return Val::Unk;
        }
        let Val::List(list) = self.eval(b) else {
            return Val::Unk;
        };
        let (Some(needle), Some(list)) = (a.to_value(), list.value()) else {
            return Val::Unk;
        };
        let msgpack::Value::List(l) = list.as_ref() else {
            return Val::Unk;
        };
        Val::Bool(l.items.iter().any(|x| order::equal(&needle, x)))
    }

    fn arith(&mut self, op: Arith, args: &'a [Node]) -> Val<'a> {
        let Some((first, rest)) = args.split_first() else {
            return Val::Unk;
        };
        match self.eval(first) {
            Val::Int(x) => {
                if op == Arith::Sub && rest.is_empty() {
                    return Val::Int(x.wrapping_neg());
                }
                let mut acc = x;
                let mut divisor: i64 = 1;
                for a in rest {
                    let Val::Int(y) = self.eval(a) else {
                        return Val::Unk;
                    };
                    match op {
                        Arith::Add => acc = acc.wrapping_add(y),
                        Arith::Sub => acc = acc.wrapping_sub(y),
                        Arith::Mul => acc = acc.wrapping_mul(y),
                        Arith::Div => divisor = divisor.wrapping_mul(y),
                        Arith::Min => acc = acc.min(y),
                        Arith::Max => acc = acc.max(y),
                        Arith::IntAnd => acc &= y,
                        Arith::IntOr => acc |= y,
                        Arith::IntXor => acc ^= y,
                    }
                }
                if op == Arith::Div {
                    if rest.is_empty() {
                        (acc, divisor) = (1, acc);
                    }
                    return acc.checked_div(divisor).map_or(Val::Unk, Val::Int);
                }
                Val::Int(acc)
            }
            Val::Float(x) => {
                if op == Arith::Sub && rest.is_empty() {
                    return Val::Float(-x);
                }
                let mut acc = x;
                let mut divisor = 1.0;
                for a in rest {
                    let Val::Float(y) = self.eval(a) else {
                        return Val::Unk;
                    };
                    match op {
                        Arith::Add => acc += y,
                        Arith::Sub => acc -= y,
                        Arith::Mul => acc *= y,
                        Arith::Div => divisor *= y,
                        Arith::Min => acc = acc.min(y),
                        Arith::Max => acc = acc.max(y),
                        Arith::IntAnd | Arith::IntOr | Arith::IntXor => return Val::Unk,
                    }
                }
                if op == Arith::Div {
                    if rest.is_empty() {
                        return Val::Float(1.0 / acc);
                    }
                    return Val::Float(acc / divisor);
                }
                Val::Float(acc)
            }
            _ => Val::Unk,
        }
    }
}

fn cmp_holds(c: Cmp, o: Ordering) -> bool {
    match c {
        Cmp::Eq => o == Ordering::Equal,
        Cmp::Ne => o != Ordering::Equal,
        Cmp::Gt => o == Ordering::Greater,
        Cmp::Ge => o != Ordering::Less,
        Cmp::Lt => o == Ordering::Less,
        Cmp::Le => o != Ordering::Greater,
    }
}

fn unary(op: Unary, a: Val<'_>) -> Val<'static> {
    match (op, a) {
        (Unary::Abs, Val::Int(x)) => Val::Int(x.wrapping_abs()),
        (Unary::Abs, Val::Float(x)) => Val::Float(x.abs()),
        (Unary::Floor, Val::Float(x)) => Val::Float(x.floor()),
        (Unary::Ceil, Val::Float(x)) => Val::Float(x.ceil()),
        (Unary::ToInt, Val::Float(x)) => Val::Int(x as i64),
        (Unary::ToFloat, Val::Int(x)) => Val::Float(x as f64),
        (Unary::IntNot, Val::Int(x)) => Val::Int(!x),
        (Unary::IntCount, Val::Int(x)) => Val::Int(i64::from(x.count_ones())),
        _ => Val::Unk,
    }
}

fn binary(op: Binary, a: Val<'_>, b: Val<'_>) -> Val<'static> {
    match (op, a, b) {
        (Binary::Pow, Val::Float(x), Val::Float(y)) => Val::Float(x.powf(y)),
        (Binary::Log, Val::Float(x), Val::Float(y)) => Val::Float(x.ln() / y.ln()),
        (Binary::Mod, Val::Int(x), Val::Int(y)) => x.checked_rem(y).map_or(Val::Unk, Val::Int),
        // Shift counts wrap at 64, as the reference server's x86 shifts do.
        (Binary::LShift, Val::Int(x), Val::Int(y)) => Val::Int(x.wrapping_shl(y as u32)),
        (Binary::RShift, Val::Int(x), Val::Int(y)) => {
            Val::Int((x as u64).wrapping_shr(y as u32) as i64)
        }
        (Binary::ARShift, Val::Int(x), Val::Int(y)) => Val::Int(x.wrapping_shr(y as u32)),
        (Binary::LScan, Val::Int(x), Val::Bool(set)) => {
            let x = if set { x } else { !x };
            match x.leading_zeros() {
                64 => Val::Int(-1),
                n => Val::Int(i64::from(n)),
            }
        }
        (Binary::RScan, Val::Int(x), Val::Bool(set)) => {
            let x = if set { x } else { !x };
            Val::Int(63 - i64::from(x.trailing_zeros()))
        }
        _ => Val::Unk,
    }
}
