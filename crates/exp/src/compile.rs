//! Compiling: msgpack expression → [`Node`] tree, with Aerospike's static type checks.
//!
//! The wire form (see `docs` / WIRE-FACTS §9): a bare msgpack value is a constant (strings carry
//! their particle-type prefix; a list constant is quoted `[126, [..]]`); an array `[op, arg…]` is
//! an operation. Bin names, regex patterns and variable names are raw strings.

use aerie_cdt::msgpack::{self, Value};

use crate::value::Ty;
use crate::ExpError;

/// Deepest expression nesting accepted (each operation level counts one).
pub const MAX_DEPTH: usize = 64;
/// Most variables one expression may define.
const MAX_VARS: usize = 256;
/// Largest compiled regex program (bytes), against pathological patterns.
const REGEX_SIZE_LIMIT_BYTES: usize = 1 << 20;

/// Wire op codes.
pub mod code {
    pub const UNKNOWN: i64 = 0;
    pub const EQ: i64 = 1;
    pub const NE: i64 = 2;
    pub const GT: i64 = 3;
    pub const GE: i64 = 4;
    pub const LT: i64 = 5;
    pub const LE: i64 = 6;
    pub const REGEX: i64 = 7;
    pub const GEO: i64 = 8;
    pub const IN_LIST: i64 = 9;
    pub const AND: i64 = 16;
    pub const OR: i64 = 17;
    pub const NOT: i64 = 18;
    pub const EXCLUSIVE: i64 = 19;
    pub const ADD: i64 = 20;
    pub const SUB: i64 = 21;
    pub const MUL: i64 = 22;
    pub const DIV: i64 = 23;
    pub const POW: i64 = 24;
    pub const LOG: i64 = 25;
    pub const MOD: i64 = 26;
    pub const ABS: i64 = 27;
    pub const FLOOR: i64 = 28;
    pub const CEIL: i64 = 29;
    pub const TO_INT: i64 = 30;
    pub const TO_FLOAT: i64 = 31;
    pub const INT_AND: i64 = 32;
    pub const INT_OR: i64 = 33;
    pub const INT_XOR: i64 = 34;
    pub const INT_NOT: i64 = 35;
    pub const INT_LSHIFT: i64 = 36;
    pub const INT_RSHIFT: i64 = 37;
    pub const INT_ARSHIFT: i64 = 38;
    pub const INT_COUNT: i64 = 39;
    pub const INT_LSCAN: i64 = 40;
    pub const INT_RSCAN: i64 = 41;
    pub const MIN: i64 = 50;
    pub const MAX: i64 = 51;
    pub const DIGEST_MODULO: i64 = 64;
    pub const DEVICE_SIZE: i64 = 65;
    pub const LAST_UPDATE: i64 = 66;
    pub const SINCE_UPDATE: i64 = 67;
    pub const VOID_TIME: i64 = 68;
    pub const TTL: i64 = 69;
    pub const SET_NAME: i64 = 70;
    pub const KEY_EXISTS: i64 = 71;
    pub const IS_TOMBSTONE: i64 = 72;
    pub const MEMORY_SIZE: i64 = 73;
    pub const RECORD_SIZE: i64 = 74;
    pub const KEY: i64 = 80;
    pub const BIN: i64 = 81;
    pub const BIN_TYPE: i64 = 82;
    pub const RESULT_REMOVE: i64 = 100;
    pub const MAP_KEYS: i64 = 101;
    pub const MAP_VALUES: i64 = 102;
    pub const VAR_BUILTIN: i64 = 122;
    pub const COND: i64 = 123;
    pub const VAR: i64 = 124;
    pub const LET: i64 = 125;
    pub const QUOTE: i64 = 126;
    pub const CALL: i64 = 127;
}

/// Comparison operators.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cmp {
    Eq,
    Ne,
    Gt,
    Ge,
    Lt,
    Le,
}

/// Numeric operators over one or more arguments of one numeric type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Arith {
    Add,
    Sub,
    Mul,
    Div,
    Min,
    Max,
    IntAnd,
    IntOr,
    IntXor,
}

/// Operators over one argument (or one plus a shift/scan argument).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unary {
    Abs,
    Floor,
    Ceil,
    ToInt,
    ToFloat,
    IntNot,
    IntCount,
}

/// Two-argument numeric operators.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Binary {
    Pow,
    Log,
    Mod,
    LShift,
    RShift,
    ARShift,
    LScan,
    RScan,
}

/// Record metadata readers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Meta {
    DeviceSize,
    MemorySize,
    RecordSize,
    LastUpdate,
    SinceUpdate,
    VoidTime,
    Ttl,
    SetName,
    KeyExists,
    IsTombstone,
}

/// CDT, bit or HLL call.
#[derive(Debug)]
pub struct Call {
    pub system: System,
    pub modify_local: bool,
    /// Encoded context array (`[type, value, …]`), when the op is applied deep inside the bin.
    pub ctx: Option<Vec<u8>>,
    pub op: i64,
    pub args: Vec<Node>,
    pub bin: Box<Node>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum System {
    Cdt,
    Bits,
    Hll,
}

/// A compiled expression node.
#[derive(Debug)]
pub enum Node {
    Unknown,
    Const(Value),
    Bin {
        name: Vec<u8>,
        ty: Ty,
    },
    BinType(Vec<u8>),
    Key(Ty),
    Meta(Meta),
    DigestModulo(i64),
    Cmp(Cmp, Box<Node>, Box<Node>),
    Regex(Box<regex::bytes::Regex>, Box<Node>),
    Geo(Box<Node>, Box<Node>),
    InList(Box<Node>, Box<Node>),
    And(Vec<Node>),
    Or(Vec<Node>),
    Not(Box<Node>),
    Exclusive(Vec<Node>),
    Arith(Arith, Vec<Node>),
    Unary(Unary, Box<Node>),
    Binary(Binary, Box<Node>, Box<Node>),
    /// `[cond1, value1, cond2, value2, …, default]`.
    Cond(Vec<Node>),
    /// Variable slots assigned in order, then the scope expression.
    Let(Vec<(usize, Node)>, Box<Node>),
    Var(usize),
    Call(Box<Call>),
    /// A path-expression loop variable: part (0 map key, 1 value, 2 list index) and type.
    VarBuiltIn(usize, Ty),
    /// The keys / values of a map, as a list.
    MapKeys(Box<Node>),
    MapValues(Box<Node>),
    /// "Remove this element" (path modify only); anywhere else it is unknown.
    ResultRemove,
    /// A path select/modify inside an expression (`call` with op 0xfe).
    Path(Box<crate::path::PathCall>),
}

/// A node's static type: known, or only known at run time (variables, cond).
type STy = Option<Ty>;

/// Compiles an expression op's value `[exp]` / `[exp, flags]`: root, variable slots, flags.
pub fn compile_op(b: &[u8]) -> Result<(Node, usize, u64), ExpError> {
    let v = msgpack::decode(b).map_err(|_| bad("malformed expression op"))?;
    let Value::List(l) = v else {
        return Err(bad("expression op is not a list"));
    };
    let mut it = l.items.into_iter();
    let (Some(exp), flags, None) = (it.next(), it.next(), it.next()) else {
        return Err(bad("expression op needs 1 or 2 elements"));
    };
    let flags = match flags {
        None => 0,
        Some(Value::Int(i)) if i >= 0 => i as u64,
        Some(Value::Uint(u)) => u,
        Some(_) => return Err(bad("bad expression op flags")),
    };
    let (node, n_vars) = compile_value(exp)?;
    Ok((node, n_vars, flags))
}

/// Compiles expression bytes; returns the root and the number of variable slots.
pub fn compile(bytes: &[u8]) -> Result<(Node, usize), ExpError> {
    let v = msgpack::decode(bytes).map_err(|_| bad("malformed msgpack"))?;
    compile_value(v)
}

pub(crate) fn compile_value(v: Value) -> Result<(Node, usize), ExpError> {
    let mut c = Compiler {
        scope: Vec::new(),
        n_vars: 0,
    };
    let (node, _) = c.node(v, 0)?;
    Ok((node, c.n_vars))
}

struct Compiler {
    /// Visible variables, innermost last: name and slot.
    scope: Vec<(Vec<u8>, usize, STy)>,
    n_vars: usize,
}

fn bad(msg: &'static str) -> ExpError {
    ExpError::Invalid(msg)
}

/// Checks an argument's static type.
fn want(t: STy, expected: Ty, msg: &'static str) -> Result<(), ExpError> {
    match t {
        Some(x) if x != expected => Err(bad(msg)),
        _ => Ok(()),
    }
}

/// The common numeric type of arguments (int or float), if known.
fn numeric(types: &[STy]) -> Result<STy, ExpError> {
    let mut found = None;
    for t in types.iter().flatten() {
        if !matches!(t, Ty::Int | Ty::Float) {
            return Err(bad("numeric operator on a non-numeric argument"));
        }
        match found {
            None => found = Some(*t),
            Some(f) if f != *t => return Err(bad("numeric operator mixes int and float")),
            Some(_) => {}
        }
    }
    Ok(found)
}

fn raw_str(v: Value) -> Result<Vec<u8>, ExpError> {
    match v {
        Value::Str(s) | Value::Bin(s) => Ok(s),
        _ => Err(bad("expected a raw string")),
    }
}

fn int(v: &Value) -> Result<i64, ExpError> {
    match v {
        Value::Int(i) => Ok(*i),
        _ => Err(bad("expected an integer")),
    }
}

impl Compiler {
    fn node(&mut self, v: Value, depth: usize) -> Result<(Node, STy), ExpError> {
        if depth > MAX_DEPTH {
            return Err(ExpError::TooDeep);
        }
        let items = match v {
            Value::List(l) => l.items,
            other => return constant(other),
        };
        let mut it = items.into_iter();
        let op = match it.next() {
            Some(Value::Int(i)) => i,
            _ => return Err(bad("operation code expected")),
        };
        let args: Vec<Value> = it.collect();
        let d = depth + 1;
        use code::*;
        Ok(match op {
            UNKNOWN if args.is_empty() => (Node::Unknown, None),
            EQ | NE | GT | GE | LT | LE => {
                let [a, b] = two(args)?;
                let (a, ta) = self.node(a, d)?;
                let (b, tb) = self.node(b, d)?;
                if let (Some(x), Some(y)) = (ta, tb) {
                    if x != y {
                        return Err(bad("comparison of different types"));
                    }
                }
                let c = match op {
                    EQ => Cmp::Eq,
                    NE => Cmp::Ne,
                    GT => Cmp::Gt,
                    GE => Cmp::Ge,
                    LT => Cmp::Lt,
                    _ => Cmp::Le,
                };
                (Node::Cmp(c, Box::new(a), Box::new(b)), Some(Ty::Bool))
            }
            REGEX => {
                let [flags, pattern, subject] = <[Value; 3]>::try_from(args)
                    .map_err(|_| bad("regex needs flags, pattern and subject"))?;
                let flags = int(&flags)?;
                let pattern = raw_str(pattern)?;
                let (s, ts) = self.node(subject, d)?;
                want(ts, Ty::Str, "regex subject must be a string")?;
                let re = build_regex(&pattern, flags)?;
                (Node::Regex(Box::new(re), Box::new(s)), Some(Ty::Bool))
            }
            GEO => {
                let [a, b] = two(args)?;
                let (a, ta) = self.node(a, d)?;
                let (b, tb) = self.node(b, d)?;
                want(ta, Ty::Geo, "geo compare needs GeoJSON")?;
                want(tb, Ty::Geo, "geo compare needs GeoJSON")?;
                (Node::Geo(Box::new(a), Box::new(b)), Some(Ty::Bool))
            }
            IN_LIST => {
                let [a, b] = two(args)?;
                let (a, _) = self.node(a, d)?;
                let (b, tb) = self.node(b, d)?;
                want(tb, Ty::List, "in_list needs a list")?;
                (Node::InList(Box::new(a), Box::new(b)), Some(Ty::Bool))
            }
            AND | OR | EXCLUSIVE => {
                if args.len() < 2 && op != EXCLUSIVE || args.is_empty() {
                    return Err(bad("logical operator needs arguments"));
                }
                let mut nodes = Vec::with_capacity(args.len());
                for a in args {
                    let (n, t) = self.node(a, d)?;
                    want(t, Ty::Bool, "logical operator needs booleans")?;
                    nodes.push(n);
                }
                let n = match op {
                    AND => Node::And(nodes),
                    OR => Node::Or(nodes),
                    _ => Node::Exclusive(nodes),
                };
                (n, Some(Ty::Bool))
            }
            NOT => {
                let [a] = one(args)?;
                let (a, t) = self.node(a, d)?;
                want(t, Ty::Bool, "not needs a boolean")?;
                (Node::Not(Box::new(a)), Some(Ty::Bool))
            }
            ADD | SUB | MUL | DIV | MIN | MAX | INT_AND | INT_OR | INT_XOR => {
                if args.is_empty() {
                    return Err(bad("arithmetic needs arguments"));
                }
                let mut nodes = Vec::with_capacity(args.len());
                let mut types = Vec::with_capacity(args.len());
                for a in args {
                    let (n, t) = self.node(a, d)?;
                    nodes.push(n);
                    types.push(t);
                }
                let t = numeric(&types)?;
                let a = match op {
                    ADD => Arith::Add,
                    SUB => Arith::Sub,
                    MUL => Arith::Mul,
                    DIV => Arith::Div,
                    MIN => Arith::Min,
                    MAX => Arith::Max,
                    INT_AND => Arith::IntAnd,
                    INT_OR => Arith::IntOr,
                    _ => Arith::IntXor,
                };
                let t = if matches!(a, Arith::IntAnd | Arith::IntOr | Arith::IntXor) {
                    want(t, Ty::Int, "integer operator needs integers")?;
                    Some(Ty::Int)
                } else {
                    t
                };
                (Node::Arith(a, nodes), t)
            }
            ABS | FLOOR | CEIL | TO_INT | TO_FLOAT | INT_NOT | INT_COUNT => {
                let [a] = one(args)?;
                let (a, t) = self.node(a, d)?;
                let (u, out) = match op {
                    ABS => {
                        numeric(&[t])?;
                        (Unary::Abs, t)
                    }
                    FLOOR | CEIL | TO_INT => {
                        want(t, Ty::Float, "operator needs a float")?;
                        match op {
                            FLOOR => (Unary::Floor, Some(Ty::Float)),
                            CEIL => (Unary::Ceil, Some(Ty::Float)),
                            _ => (Unary::ToInt, Some(Ty::Int)),
                        }
                    }
                    TO_FLOAT => {
                        want(t, Ty::Int, "to_float needs an integer")?;
                        (Unary::ToFloat, Some(Ty::Float))
                    }
                    INT_NOT => {
                        want(t, Ty::Int, "int_not needs an integer")?;
                        (Unary::IntNot, Some(Ty::Int))
                    }
                    _ => {
                        want(t, Ty::Int, "int_count needs an integer")?;
                        (Unary::IntCount, Some(Ty::Int))
                    }
                };
                (Node::Unary(u, Box::new(a)), out)
            }
            POW | LOG | MOD | INT_LSHIFT | INT_RSHIFT | INT_ARSHIFT | INT_LSCAN | INT_RSCAN => {
                let [a, b] = two(args)?;
                let (a, ta) = self.node(a, d)?;
                let (b, tb) = self.node(b, d)?;
                let (bin, out) = match op {
                    POW | LOG => {
                        want(ta, Ty::Float, "pow/log need floats")?;
                        want(tb, Ty::Float, "pow/log need floats")?;
                        let k = if op == POW { Binary::Pow } else { Binary::Log };
                        (k, Ty::Float)
                    }
                    INT_LSCAN | INT_RSCAN => {
                        want(ta, Ty::Int, "scan needs an integer")?;
                        want(tb, Ty::Bool, "scan needs a boolean")?;
                        let k = if op == INT_LSCAN {
                            Binary::LScan
                        } else {
                            Binary::RScan
                        };
                        (k, Ty::Int)
                    }
                    _ => {
                        want(ta, Ty::Int, "integer operator needs integers")?;
                        want(tb, Ty::Int, "integer operator needs integers")?;
                        let k = match op {
                            MOD => Binary::Mod,
                            INT_LSHIFT => Binary::LShift,
                            INT_RSHIFT => Binary::RShift,
                            _ => Binary::ARShift,
                        };
                        (k, Ty::Int)
                    }
                };
                (Node::Binary(bin, Box::new(a), Box::new(b)), Some(out))
            }
            DIGEST_MODULO => {
                let [m] = one(args)?;
                let m = int(&m)?;
                if m <= 0 {
                    return Err(bad("digest modulo must be positive"));
                }
                (Node::DigestModulo(m), Some(Ty::Int))
            }
            DEVICE_SIZE | LAST_UPDATE | SINCE_UPDATE | VOID_TIME | TTL | SET_NAME | KEY_EXISTS
            | IS_TOMBSTONE | MEMORY_SIZE | RECORD_SIZE => {
                if !args.is_empty() {
                    return Err(bad("metadata expressions take no arguments"));
                }
                let (m, t) = match op {
                    DEVICE_SIZE => (Meta::DeviceSize, Ty::Int),
                    MEMORY_SIZE => (Meta::MemorySize, Ty::Int),
                    RECORD_SIZE => (Meta::RecordSize, Ty::Int),
                    LAST_UPDATE => (Meta::LastUpdate, Ty::Int),
                    SINCE_UPDATE => (Meta::SinceUpdate, Ty::Int),
                    VOID_TIME => (Meta::VoidTime, Ty::Int),
                    TTL => (Meta::Ttl, Ty::Int),
                    SET_NAME => (Meta::SetName, Ty::Str),
                    KEY_EXISTS => (Meta::KeyExists, Ty::Bool),
                    _ => (Meta::IsTombstone, Ty::Bool),
                };
                (Node::Meta(m), Some(t))
            }
            KEY => {
                let [t] = one(args)?;
                let t = Ty::from_wire(int(&t)?).ok_or(bad("bad key type"))?;
                if !matches!(t, Ty::Int | Ty::Str | Ty::Blob) {
                    return Err(bad("key type must be int, string or blob"));
                }
                (Node::Key(t), Some(t))
            }
            BIN => {
                let [t, name] = two(args)?;
                let t = Ty::from_wire(int(&t)?).ok_or(bad("bad bin type"))?;
                let name = raw_str(name)?;
                if name.len() > aerie_record::MAX_BIN_NAME_BYTES {
                    return Err(bad("bin name too long"));
                }
                (Node::Bin { name, ty: t }, Some(t))
            }
            BIN_TYPE => {
                let [name] = one(args)?;
                (Node::BinType(raw_str(name)?), Some(Ty::Int))
            }
            COND => self.cond(args, d)?,
            VAR_BUILTIN => {
                let [t, part] = two(args)?;
                let t = Ty::from_wire(int(&t)?).ok_or(bad("bad loop variable type"))?;
                let part = match int(&part)? {
                    p @ 0..=1 => p as usize,
                    2 if t == Ty::Int => 2,
                    _ => return Err(bad("bad loop variable")),
                };
                (Node::VarBuiltIn(part, t), Some(t))
            }
            MAP_KEYS | MAP_VALUES => {
                let [m] = one(args)?;
                let (m, tm) = self.node(m, d)?;
                want(tm, Ty::Map, "map_keys/map_values need a map")?;
                let n = if op == MAP_KEYS {
                    Node::MapKeys(Box::new(m))
                } else {
                    Node::MapValues(Box::new(m))
                };
                (n, Some(Ty::List))
            }
            RESULT_REMOVE if args.is_empty() => (Node::ResultRemove, None),
            LET => self.let_(args, d)?,
            VAR => {
                let [name] = one(args)?;
                let name = raw_str(name)?;
                let (slot, t) = self
                    .scope
                    .iter()
                    .rev()
                    .find(|(n, _, _)| *n == name)
                    .map(|(_, s, t)| (*s, *t))
                    .ok_or(bad("unknown variable"))?;
                (Node::Var(slot), t)
            }
            QUOTE => {
                let [v] = one(args)?;
                if !matches!(v, Value::List(_)) {
                    return Err(bad("quote needs a list"));
                }
                (Node::Const(v), Some(Ty::List))
            }
            CALL => self.call(args, d)?,
            _ => return Err(bad("unknown or unsupported operation")),
        })
    }

    fn cond(&mut self, args: Vec<Value>, d: usize) -> Result<(Node, STy), ExpError> {
        if args.len() < 3 || args.len().is_multiple_of(2) {
            return Err(bad("cond needs condition/value pairs and a default"));
        }
        let n = args.len();
        let mut nodes = Vec::with_capacity(n);
        let mut out: STy = None;
        for (i, a) in args.into_iter().enumerate() {
            let (node, t) = self.node(a, d)?;
            let is_value = i % 2 == 1 || i == n - 1;
            if is_value {
                // Branches may be unknown; otherwise they share one type.
                if let (Some(o), Some(t)) = (out, t) {
                    if o != t && !matches!(node, Node::Unknown) {
                        return Err(bad("cond branches differ in type"));
                    }
                } else if out.is_none() && !matches!(node, Node::Unknown) {
                    out = t;
                }
            } else {
                want(t, Ty::Bool, "cond condition must be boolean")?;
            }
            nodes.push(node);
        }
        Ok((Node::Cond(nodes), out))
    }

    fn let_(&mut self, args: Vec<Value>, d: usize) -> Result<(Node, STy), ExpError> {
        if args.len() < 3 || args.len().is_multiple_of(2) {
            return Err(bad("let needs name/value pairs and a scope expression"));
        }
        let scope_len = self.scope.len();
        let mut defs = Vec::with_capacity(args.len() / 2);
        let mut it = args.into_iter();
        let mut body = None;
        while let Some(first) = it.next() {
            let Some(value) = it.next() else {
                body = Some(first);
                break;
            };
            let name = raw_str(first)?;
            let (node, t) = self.node(value, d)?;
            if self.n_vars >= MAX_VARS {
                return Err(bad("too many variables"));
            }
            let slot = self.n_vars;
            self.n_vars += 1;
            self.scope.push((name, slot, t));
            defs.push((slot, node));
        }
        let body = body.ok_or(bad("let without a scope expression"))?;
        let (b, t) = self.node(body, d)?;
        self.scope.truncate(scope_len);
        Ok((Node::Let(defs, Box::new(b)), t))
    }

    fn call(&mut self, args: Vec<Value>, d: usize) -> Result<(Node, STy), ExpError> {
        let [ret, system, payload, bin] = <[Value; 4]>::try_from(args)
            .map_err(|_| bad("call needs return type, system, op and bin"))?;
        let ret = Ty::from_wire(int(&ret)?).ok_or(bad("bad call return type"))?;
        let system = int(&system)?;
        let modify_local = system & 0x40 != 0;
        let system = match system & !0x40 {
            0 => System::Cdt,
            1 => System::Bits,
            2 => System::Hll,
            _ => return Err(bad("unknown call system")),
        };
        let Value::List(payload) = payload else {
            return Err(bad("call op must be a list"));
        };
        if system == System::Cdt
            && matches!(
                payload.items.first(),
                Some(Value::Int(crate::path::SELECT_OP))
            )
        {
            let (bin, tb) = self.node(bin, d)?;
            if !tb.is_none_or(|t| matches!(t, Ty::List | Ty::Map)) {
                return Err(bad("path call on a bin that is not a list or map"));
            }
            let spec = crate::path::PathSpec::from_items(payload.items, !modify_local)?;
            let call = crate::path::PathCall {
                spec,
                bin: Box::new(bin),
                ret,
            };
            return Ok((Node::Path(Box::new(call)), Some(ret)));
        }
        let mut items = payload.items.into_iter();
        let first = items.next().ok_or(bad("empty call op"))?;
        let (ctx, op_items) = if matches!(first, Value::Int(0xff)) && system == System::Cdt {
            let (Some(ctx @ Value::List(_)), Some(Value::List(inner)), None) =
                (items.next(), items.next(), items.next())
            else {
                return Err(bad("malformed call context"));
            };
            (Some(msgpack::encode(&ctx)), inner.items)
        } else {
            let mut v = vec![first];
            v.extend(items);
            (None, v)
        };
        let mut op_items = op_items.into_iter();
        let op = match op_items.next() {
            Some(Value::Int(i)) if i >= 0 => i,
            _ => return Err(bad("call op code expected")),
        };
        let mut arg_nodes = Vec::new();
        for a in op_items {
            arg_nodes.push(self.node(a, d)?.0);
        }
        let (bin, tb) = self.node(bin, d)?;
        // A nil "bin" lets a modify call build a value from nothing (e.g. HLL init).
        let bin_ok = match system {
            System::Cdt => tb.is_none_or(|t| matches!(t, Ty::List | Ty::Map | Ty::Nil)),
            System::Bits => tb.is_none_or(|t| matches!(t, Ty::Blob | Ty::Nil)),
            System::Hll => tb.is_none_or(|t| matches!(t, Ty::Hll | Ty::Blob | Ty::Nil)),
        };
        if !bin_ok {
            return Err(bad("call on a bin of the wrong type"));
        }
        let call = Call {
            system,
            modify_local,
            ctx,
            op,
            args: arg_nodes,
            bin: Box::new(bin),
        };
        Ok((Node::Call(Box::new(call)), Some(ret)))
    }
}

fn one(args: Vec<Value>) -> Result<[Value; 1], ExpError> {
    <[Value; 1]>::try_from(args).map_err(|_| bad("operator takes one argument"))
}

fn two(args: Vec<Value>) -> Result<[Value; 2], ExpError> {
    <[Value; 2]>::try_from(args).map_err(|_| bad("operator takes two arguments"))
}

/// A bare msgpack constant.
fn constant(v: Value) -> Result<(Node, STy), ExpError> {
    use aerie_cdt::msgpack::{BYTES_BLOB, BYTES_GEOJSON, BYTES_STRING};
    let t = match &v {
        Value::Nil => Ty::Nil,
        Value::Bool(_) => Ty::Bool,
        Value::Int(_) | Value::Uint(_) => Ty::Int,
        Value::Float(_) => Ty::Float,
        Value::Map(_) => Ty::Map,
        Value::Str(s) | Value::Bin(s) => match s.first() {
            Some(&BYTES_STRING) => Ty::Str,
            Some(&BYTES_BLOB) => Ty::Blob,
            Some(&BYTES_GEOJSON) => {
                let text = s.get(1..).unwrap_or_default();
                aerie_cdt::geojson::validate_text(text).map_err(|_| bad("invalid GeoJSON"))?;
                Ty::Geo
            }
            Some(&crate::value::BYTES_HLL) => Ty::Hll,
            _ => return Err(bad("string constant without a known type prefix")),
        },
        // Wildcard and infinity: only meaningful as CDT arguments.
        Value::Wildcard | Value::Infinity => return Ok((Node::Const(v), None)),
        Value::Ext(..) | Value::List(_) => return Err(bad("unexpected constant")),
    };
    Ok((Node::Const(v), Some(t)))
}

/// POSIX regex flags as the clients send them.
const REG_ICASE: i64 = 2;
const REG_NEWLINE: i64 = 8;

fn build_regex(pattern: &[u8], flags: i64) -> Result<regex::bytes::Regex, ExpError> {
    let pattern = std::str::from_utf8(pattern).map_err(|_| ExpError::Regex)?;
    regex::bytes::RegexBuilder::new(pattern)
        .case_insensitive(flags & REG_ICASE != 0)
        // Without REG_NEWLINE, POSIX '.' matches a newline and anchors match only at the ends.
        .dot_matches_new_line(flags & REG_NEWLINE == 0)
        .multi_line(flags & REG_NEWLINE != 0)
        .unicode(false)
        .size_limit(REGEX_SIZE_LIMIT_BYTES)
        .build()
        .map_err(|_| ExpError::Regex)
}
