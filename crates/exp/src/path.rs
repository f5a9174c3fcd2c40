//! CDT path expressions (aerospike-server 8.1.1+, `cdt.c` "cdt select"): select or modify
//! the elements of a nested list/map picked by a path of contexts, some of which are filter
//! expressions evaluated per element with loop variables (map key, value, list index).
//!
//! Wire form, as a CDT read/modify op or as the op of an expression `call`:
//! `[0xfe, [ctx_type, ctx_value, …], flags]` to select, and
//! `[0xfe, [ctx_type, ctx_value, …], flags | APPLY, modify_exp]` to modify. Context types are
//! the usual ones (`0x10` list index … `0x23` map value) plus `0x04` (an expression, or `true`
//! for every child), `0x2a` (map keys in a list) and `0x204` (an extra expression filter ANDed
//! onto the previous level). `flags & 0x0f` picks the result: 0 the matching tree, 1 the leaf
//! values, 2 the leaf map keys, 3 (1 | 2) leaf key/value pairs, 4 apply `modify_exp` to every leaf
//! (its "remove" result drops the leaf); `0x10` (NO_FAIL) turns "unknown" and type
//! mismatches into "not selected".
//!
//! Works on decoded values: each level walks one list or map, so the cost is the size of the
//! visited part of the bin.

use std::borrow::Cow;

use aerie_cdt::msgpack::{self, BYTES_BLOB, BYTES_GEOJSON, BYTES_STRING};
use aerie_cdt::{order, List, Map, Value};
use aerie_proto::ResultCode;

use crate::compile::{self, Node};
use crate::eval::{self, Builtins, Env};
use crate::value::{Cdt, Ty, Val, BYTES_HLL};
use crate::{ExpError, Program, RecordView};

/// The CDT op id of a path select/modify.
pub const SELECT_OP: i64 = 0xfe;
/// Most levels in a path (aerospike-server's limit).
pub const MAX_LEVELS: usize = 64;

const SELECT_TREE: u8 = 0;
const SELECT_LEAF_LIST: u8 = 1;
const SELECT_LEAF_MAP_KEY: u8 = 2;
const SELECT_APPLY: u8 = 4;
const SELECT_NO_FAIL: i64 = 0x10;

const CTX_INDEX: i64 = 0;
const CTX_RANK: i64 = 1;
const CTX_KEY: i64 = 2;
const CTX_VALUE: i64 = 3;
const CTX_EXP: i64 = 4;
const CTX_KEY_LIST: i64 = 10;
const CTX_AND: i64 = 0x200;
const CTX_LIST: i64 = 0x10;
const CTX_MAP: i64 = 0x20;

/// Why a path op failed; each is one result code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PathError {
    /// Malformed path or an undecidable filter (PARAMETER, 4).
    Parameter,
    /// A level is not a list/map, or map keys asked of a list (INCOMPATIBLE_TYPE, 12).
    IncompatibleType,
    /// The modify expression could not be evaluated (aerospike-server answers 1).
    Unknown,
}

impl PathError {
    pub fn result_code(self) -> ResultCode {
        match self {
            PathError::Parameter => ResultCode::Parameter,
            PathError::IncompatibleType => ResultCode::IncompatibleType,
            PathError::Unknown => ResultCode::ServerError,
        }
    }
}

enum By {
    Index(i64),
    Rank(i64),
    Key(Value),
    Value(Value),
    /// `None`: every child.
    Exp(Option<Program>),
    KeyList(Vec<Value>),
}

struct Level {
    /// `0`, [`CTX_LIST`] or [`CTX_MAP`]: which container this level may walk.
    cdt_type: i64,
    by: By,
    and: Option<Program>,
}

/// A parsed path op.
pub struct PathSpec {
    levels: Vec<Level>,
    kind: u8,
    no_fail: bool,
    apply: Option<Program>,
}

impl std::fmt::Debug for PathSpec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PathSpec")
            .field("levels", &self.levels.len())
            .field("kind", &self.kind)
            .field("no_fail", &self.no_fail)
            .finish()
    }
}

/// A path select/modify inside an expression.
#[derive(Debug)]
pub struct PathCall {
    pub spec: PathSpec,
    pub bin: Box<Node>,
    pub ret: Ty,
}

fn bad(msg: &'static str) -> ExpError {
    ExpError::Invalid(msg)
}

fn program(v: Value) -> Result<Program, ExpError> {
    let (root, n_vars) = compile::compile_value(v)?;
    Ok(Program { root, n_vars })
}

/// Whether a CDT op's bytes are a path op (`[0xfe, …]`).
pub fn is_path_op(bytes: &[u8]) -> bool {
    let mut r = msgpack::Reader::new(bytes);
    matches!(r.list_len(), Ok(3 | 4)) && matches!(r.value(), Ok(v) if v.as_int() == Some(SELECT_OP))
}

impl PathSpec {
    /// Parses a path op's bytes. `read_only`: an APPLY is refused (a read op cannot modify).
    pub fn parse(bytes: &[u8], read_only: bool) -> Result<Self, ExpError> {
        let Ok(Value::List(l)) = msgpack::decode(bytes) else {
            return Err(bad("path op is not a list"));
        };
        Self::from_items(l.items, read_only)
    }

    /// Parses `[0xfe, ctx, flags(, exp)]`.
    pub fn from_items(items: Vec<Value>, read_only: bool) -> Result<Self, ExpError> {
        let n = items.len();
        let mut it = items.into_iter();
        if it.next().and_then(|v| v.as_int()) != Some(SELECT_OP) {
            return Err(bad("path op id expected"));
        }
        let Some(Value::List(ctx)) = it.next() else {
            return Err(bad("path context must be a list"));
        };
        let flags = it
            .next()
            .and_then(|v| v.as_int())
            .ok_or(bad("path flags expected"))?;
        let kind = (flags & 0x0f) as u8;
        if kind > SELECT_APPLY {
            return Err(bad("bad path select type"));
        }
        let expected = if kind == SELECT_APPLY { 4 } else { 3 };
        if n != expected {
            return Err(bad("wrong path op argument count"));
        }
        let apply = match it.next() {
            Some(exp) if kind == SELECT_APPLY => {
                if read_only {
                    return Err(bad("path apply in a read op"));
                }
                Some(program(exp)?)
            }
            _ => None,
        };
        let levels = parse_levels(ctx.items)?;
        Ok(Self {
            levels,
            kind,
            no_fail: flags & SELECT_NO_FAIL != 0,
            apply,
        })
    }

    /// Whether this is a modify (apply) rather than a select.
    pub fn is_apply(&self) -> bool {
        self.kind == SELECT_APPLY
    }

    /// Runs a select on a list/map bin value; the result is a list, or for the matching
    /// tree a container of the bin's type.
    pub fn select(&self, bin: &Value, rec: &RecordView<'_>) -> Result<Value, PathError> {
        let mut w = Walk {
            spec: self,
            rec,
            leaves: Vec::new(),
        };
        let tree = w.level(bin, 0)?;
        if self.kind == SELECT_TREE {
            return tree.ok_or(PathError::IncompatibleType);
        }
        Ok(Value::List(List::new(0, w.leaves)))
    }

    /// Runs an apply on a list/map bin value and returns the new value.
    pub fn apply(&self, bin: &Value, rec: &RecordView<'_>) -> Result<Value, PathError> {
        let mut w = Walk {
            spec: self,
            rec,
            leaves: Vec::new(),
        };
        w.apply_level(bin, 0)
    }
}

fn parse_levels(items: Vec<Value>) -> Result<Vec<Level>, ExpError> {
    if items.is_empty() || items.len() % 2 == 1 {
        return Err(bad("path context needs type/value pairs"));
    }
    if items.len() / 2 > MAX_LEVELS {
        return Err(bad("path too deep"));
    }
    let mut levels: Vec<Level> = Vec::with_capacity(items.len() / 2);
    let mut it = items.into_iter();
    while let (Some(t), Some(v)) = (it.next(), it.next()) {
        let t = t.as_int().ok_or(bad("context type must be an integer"))?;
        if t & CTX_AND != 0 {
            if t != CTX_AND | CTX_EXP {
                return Err(bad("bad AND context type"));
            }
            let prev = levels
                .last_mut()
                .ok_or(bad("AND context without a level"))?;
            if prev.and.is_some() || matches!(prev.by, By::Exp(_)) {
                return Err(bad("AND context not allowed here"));
            }
            prev.and = Some(match v {
                Value::List(_) => program(v)?,
                _ => return Err(bad("AND context needs an expression")),
            });
            continue;
        }
        let cdt_type = t & 0x30;
        let by = match t & 0x0f {
            CTX_INDEX => By::Index(v.as_int().ok_or(bad("bad context index"))?),
            CTX_RANK => By::Rank(v.as_int().ok_or(bad("bad context rank"))?),
            CTX_KEY => By::Key(v),
            CTX_VALUE => By::Value(v),
            CTX_KEY_LIST => match v {
                Value::List(l) => By::KeyList(l.items),
                _ => return Err(bad("key-list context needs a list")),
            },
            CTX_EXP => match v {
                Value::Bool(true) => By::Exp(None),
                Value::List(_) => By::Exp(Some(program(v)?)),
                _ => return Err(bad("bad context expression")),
            },
            _ => return Err(bad("bad context type")),
        };
        if t & !0x3f != 0 {
            return Err(bad("bad context type flags"));
        }
        levels.push(Level {
            cdt_type,
            by,
            and: None,
        });
    }
    Ok(levels)
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Tri {
    True,
    False,
    Unk,
}

struct Walk<'s, 'r, 'a> {
    spec: &'s PathSpec,
    rec: &'r RecordView<'a>,
    /// Leaf results of the non-tree select kinds.
    leaves: Vec<Value>,
}

/// Resolves a possibly negative index against `len`.
fn resolve(i: i64, len: usize) -> Option<usize> {
    let len = i64::try_from(len).ok()?;
    let i = if i < 0 { i + len } else { i };
    (0..len).contains(&i).then_some(i as usize)
}

impl Walk<'_, '_, '_> {
    fn test(&self, p: &Program, key: Option<&Value>, value: &Value, index: Option<usize>) -> Tri {
        let builtins: Builtins<'_> = [
            key.map(Val::from_value),
            Some(Val::from_value(value)),
            index.map(|i| Val::Int(i as i64)),
        ];
        match eval::run_with(&p.root, p.n_vars, self.rec, builtins) {
            Val::Bool(true) => Tri::True,
            Val::Bool(false) => Tri::False,
            _ => Tri::Unk,
        }
    }

    fn level_spec(&self, level: usize) -> Result<&Level, PathError> {
        self.spec.levels.get(level).ok_or(PathError::Parameter)
    }

    /// Which elements of a list this level selects, in order.
    fn pick_list(&self, l: &List, level: usize) -> Result<Vec<usize>, PathError> {
        let lv = self.level_spec(level)?;
        if lv.cdt_type != 0 && lv.cdt_type != CTX_LIST {
            return Err(PathError::Parameter);
        }
        let n = l.items.len();
        let mut out = Vec::new();
        let candidates: Vec<(usize, Tri)> = match &lv.by {
            By::Index(i) => resolve(*i, n).map(|i| (i, Tri::True)).into_iter().collect(),
            By::Rank(r) => match resolve(*r, n) {
                None => Vec::new(),
                Some(r) if l.is_ordered() => vec![(r, Tri::True)],
                Some(r) => {
                    let mut idx: Vec<usize> = (0..n).collect();
                    idx.sort_by(|a, b| match (l.items.get(*a), l.items.get(*b)) {
                        (Some(x), Some(y)) => order::compare(x, y),
                        _ => std::cmp::Ordering::Equal,
                    });
                    idx.get(r).map(|i| (*i, Tri::True)).into_iter().collect()
                }
            },
            By::Value(v) => (0..n)
                .map(|i| {
                    let hit = l.items.get(i).is_some_and(|x| order::equal(x, v));
                    (i, if hit { Tri::True } else { Tri::False })
                })
                .collect(),
            By::Exp(None) => (0..n).map(|i| (i, Tri::True)).collect(),
            By::Exp(Some(p)) => l
                .items
                .iter()
                .enumerate()
                .map(|(i, x)| (i, self.test(p, None, x, Some(i))))
                .collect(),
            By::Key(_) | By::KeyList(_) => (0..n).map(|i| (i, Tri::Unk)).collect(),
        };
        for (i, mut tri) in candidates {
            if let (Tri::True, Some(and), Some(x)) = (tri, &lv.and, l.items.get(i)) {
                tri = self.test(and, None, x, Some(i));
            }
            match tri {
                Tri::True => out.push(i),
                Tri::False => {}
                Tri::Unk if self.spec.no_fail => {}
                Tri::Unk => return Err(PathError::Parameter),
            }
        }
        Ok(out)
    }

    /// Which entries of a map this level selects, in key order.
    fn pick_map(&self, m: &Map, level: usize) -> Result<Vec<usize>, PathError> {
        let lv = self.level_spec(level)?;
        if lv.cdt_type != 0 && lv.cdt_type != CTX_MAP {
            return Err(PathError::Parameter);
        }
        let n = m.entries.len();
        let candidates: Vec<(usize, Tri)> = match &lv.by {
            By::Index(i) => resolve(*i, n).map(|i| (i, Tri::True)).into_iter().collect(),
            By::Rank(r) => match resolve(*r, n) {
                None => Vec::new(),
                Some(r) => {
                    let mut idx: Vec<usize> = (0..n).collect();
                    idx.sort_by(|a, b| match (m.entries.get(*a), m.entries.get(*b)) {
                        (Some(x), Some(y)) => order::compare(&x.1, &y.1),
                        _ => std::cmp::Ordering::Equal,
                    });
                    idx.get(r).map(|i| (*i, Tri::True)).into_iter().collect()
                }
            },
            By::Key(k) => m
                .entries
                .iter()
                .position(|(x, _)| order::equal(x, k))
                .map(|i| (i, Tri::True))
                .into_iter()
                .collect(),
            By::Value(v) => (0..n)
                .map(|i| {
                    let hit = m.entries.get(i).is_some_and(|(_, x)| order::equal(x, v));
                    (i, if hit { Tri::True } else { Tri::False })
                })
                .collect(),
            By::KeyList(keys) => (0..n)
                .map(|i| {
                    let hit = m
                        .entries
                        .get(i)
                        .is_some_and(|(k, _)| keys.iter().any(|x| order::equal(x, k)));
                    (i, if hit { Tri::True } else { Tri::False })
                })
                .collect(),
            By::Exp(None) => (0..n).map(|i| (i, Tri::True)).collect(),
            By::Exp(Some(p)) => m
                .entries
                .iter()
                .enumerate()
                .map(|(i, (k, v))| (i, self.test(p, Some(k), v, None)))
                .collect(),
        };
        let mut out = Vec::new();
        for (i, mut tri) in candidates {
            if let (Tri::True, Some(and), Some((k, v))) = (tri, &lv.and, m.entries.get(i)) {
                tri = self.test(and, Some(k), v, None);
            }
            match tri {
                Tri::True => out.push(i),
                Tri::False => {}
                Tri::Unk if self.spec.no_fail => {}
                Tri::Unk => return Err(PathError::Parameter),
            }
        }
        Ok(out)
    }

    fn is_leaf(&self, level: usize) -> bool {
        level + 1 == self.spec.levels.len()
    }

    /// Selects at `level` of container `v`; returns the matching subtree (tree kind only).
    fn level(&mut self, v: &Value, level: usize) -> Result<Option<Value>, PathError> {
        let tree = self.spec.kind == SELECT_TREE;
        let leaf = self.is_leaf(level);
        match v {
            Value::List(l) => {
                if l.items.is_empty() {
                    return Ok(tree.then(|| Value::List(List::new(l.flags, Vec::new()))));
                }
                if leaf && self.spec.kind & SELECT_LEAF_MAP_KEY != 0 {
                    return if self.spec.no_fail {
                        Ok(None)
                    } else {
                        Err(PathError::IncompatibleType)
                    };
                }
                let mut out = Vec::new();
                for i in self.pick_list(l, level)? {
                    let Some(x) = l.items.get(i) else { continue };
                    if !leaf && is_cdt(x) {
                        if let Some(sub) = self.level(x, level + 1)? {
                            out.push(sub);
                        }
                    } else if tree {
                        out.push(x.clone());
                    } else if leaf {
                        self.leaves.push(x.clone());
                    }
                }
                Ok(tree.then(|| Value::List(List::new(0, out))))
            }
            Value::Map(m) => {
                if m.entries.is_empty() {
                    return Ok(tree.then(|| Value::Map(Map::new(m.flags, Vec::new()))));
                }
                let mut out = Vec::new();
                for i in self.pick_map(m, level)? {
                    let Some((k, x)) = m.entries.get(i) else {
                        continue;
                    };
                    if !leaf && is_cdt(x) {
                        if let Some(sub) = self.level(x, level + 1)? {
                            out.push((k.clone(), sub));
                        }
                    } else if tree {
                        out.push((k.clone(), x.clone()));
                    } else if leaf {
                        if self.spec.kind & SELECT_LEAF_MAP_KEY != 0 {
                            self.leaves.push(k.clone());
                        }
                        if self.spec.kind & SELECT_LEAF_LIST != 0 {
                            self.leaves.push(x.clone());
                        }
                    }
                }
                Ok(tree.then(|| Value::Map(Map::new(0, out))))
            }
            _ => Err(PathError::IncompatibleType),
        }
    }

    /// Applies the modify expression below `level` of container `v`; returns the new value.
    fn apply_level(&mut self, v: &Value, level: usize) -> Result<Value, PathError> {
        let leaf = self.is_leaf(level);
        let modify = self.spec.apply.as_ref().ok_or(PathError::Parameter)?;
        match v {
            Value::List(l) => {
                if l.items.is_empty() {
                    return Ok(v.clone());
                }
                let picked = self.pick_list(l, level)?;
                let mut items: Vec<Option<Value>> = l.items.iter().cloned().map(Some).collect();
                for i in picked {
                    let Some(slot) = items.get_mut(i) else {
                        continue;
                    };
                    let Some(x) = slot.as_ref() else { continue };
                    if !leaf {
                        if is_cdt(x) {
                            let new = self.apply_level(x, level + 1)?;
                            *slot = Some(new);
                        }
                        continue;
                    }
                    match self.modified(modify, None, x, Some(i))? {
                        Change::Keep => {}
                        Change::Remove => *slot = None,
                        Change::Set(new) => *slot = Some(new),
                    }
                }
                let mut items: Vec<Value> = items.into_iter().flatten().collect();
                if l.is_ordered() {
                    items.sort_by(order::compare);
                }
                Ok(Value::List(List::new(l.flags, items)))
            }
            Value::Map(m) => {
                if m.entries.is_empty() {
                    return Ok(v.clone());
                }
                let picked = self.pick_map(m, level)?;
                let mut entries: Vec<Option<(Value, Value)>> =
                    m.entries.iter().cloned().map(Some).collect();
                for i in picked {
                    let Some(slot) = entries.get_mut(i) else {
                        continue;
                    };
                    let Some((k, x)) = slot.as_ref() else {
                        continue;
                    };
                    if !leaf {
                        if is_cdt(x) {
                            let new = self.apply_level(x, level + 1)?;
                            *slot = Some((k.clone(), new));
                        }
                        continue;
                    }
                    match self.modified(modify, Some(k), x, None)? {
                        Change::Keep => {}
                        Change::Remove => *slot = None,
                        Change::Set(new) => *slot = Some((k.clone(), new)),
                    }
                }
                let entries = entries.into_iter().flatten().collect();
                Ok(Value::Map(Map::new(m.flags, entries)))
            }
            _ => Err(PathError::IncompatibleType),
        }
    }

    fn modified(
        &self,
        p: &Program,
        key: Option<&Value>,
        value: &Value,
        index: Option<usize>,
    ) -> Result<Change, PathError> {
        if matches!(p.root, Node::ResultRemove) {
            return Ok(Change::Remove);
        }
        let builtins: Builtins<'_> = [
            key.map(Val::from_value),
            Some(Val::from_value(value)),
            index.map(|i| Val::Int(i as i64)),
        ];
        let out = eval::run_with(&p.root, p.n_vars, self.rec, builtins);
        match out {
            Val::Unk if self.spec.no_fail => Ok(Change::Keep),
            Val::Unk => Err(PathError::Unknown),
            Val::Msgpack(_) => Err(PathError::IncompatibleType),
            other => match to_value(&other) {
                Some(v) if !v.has_nonstorage() => Ok(Change::Set(v)),
                Some(_) => Err(PathError::IncompatibleType),
                None if self.spec.no_fail => Ok(Change::Keep),
                None => Err(PathError::Unknown),
            },
        }
    }
}

enum Change {
    Keep,
    Remove,
    Set(Value),
}

fn is_cdt(v: &Value) -> bool {
    matches!(v, Value::List(_) | Value::Map(_))
}

fn prefixed(prefix: u8, b: &[u8]) -> Vec<u8> {
    let mut v = Vec::with_capacity(b.len() + 1);
    v.push(prefix);
    v.extend_from_slice(b);
    v
}

/// An expression value as a msgpack value to store in a list or map.
pub fn to_value(v: &Val<'_>) -> Option<Value> {
    Some(match v {
        Val::Unk | Val::Msgpack(_) => return None,
        Val::Nil => Value::Nil,
        Val::Bool(b) => Value::Bool(*b),
        Val::Int(i) => Value::Int(*i),
        Val::Float(f) => Value::Float(*f),
        Val::Str(s) => Value::Str(prefixed(BYTES_STRING, s)),
        Val::Blob(b) => Value::Str(prefixed(BYTES_BLOB, b)),
        Val::Geo(g) => Value::Str(prefixed(BYTES_GEOJSON, g)),
        Val::Hll(h) => Value::Str(prefixed(BYTES_HLL, h)),
        Val::List(c) | Val::Map(c) => c.value()?.into_owned(),
    })
}

/// The bin value an expression path call works on.
fn container(v: &Val<'_>) -> Option<Value> {
    match v {
        Val::List(c) | Val::Map(c) => c.value().map(Cow::into_owned),
        _ => None,
    }
}

/// Evaluates a path select/modify `call` inside an expression.
pub fn eval_call<'a>(c: &'a PathCall, env: &mut Env<'_, 'a>) -> Val<'a> {
    let bin = env.eval(&c.bin);
    let Some(value) = container(&bin) else {
        return Val::Unk;
    };
    let rec = env.record();
    let out = if c.spec.is_apply() {
        c.spec.apply(&value, rec)
    } else {
        c.spec.select(&value, rec)
    };
    match out {
        Ok(v @ Value::List(_)) => Val::List(Cdt::Value(Cow::Owned(v))),
        Ok(v @ Value::Map(_)) => Val::Map(Cdt::Value(Cow::Owned(v))),
        _ => Val::Unk,
    }
}

/// Runs a path op given as CDT op bytes on a bin (`t`, `bytes`): the op's result (a select)
/// and the bin's new value (an apply). `read_only` refuses an apply.
pub fn run_op(
    bin: Option<(u8, &[u8])>,
    op: &[u8],
    read_only: bool,
    rec: &RecordView<'_>,
) -> Result<(Option<Value>, Option<Value>), PathError> {
    let spec = PathSpec::parse(op, read_only).map_err(|_| PathError::Parameter)?;
    let Some((t, bytes)) = bin else {
        return Err(PathError::IncompatibleType);
    };
    let value = aerie_cdt::bin_to_value(t, bytes).map_err(|e| match e {
        aerie_cdt::Error::IncompatibleType => PathError::IncompatibleType,
        _ => PathError::Parameter,
    })?;
    if spec.is_apply() {
        Ok((None, Some(spec.apply(&value, rec)?)))
    } else {
        Ok((Some(spec.select(&value, rec)?), None))
    }
}
