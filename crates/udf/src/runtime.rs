//! Running UDFs: a sandboxed Lua 5.4 state per module version and per worker thread, kept
//! between calls so a call costs a function lookup and the value conversions, not a state
//! build. Mirrors aerospike-server's mod-lua use (`as/src/base/udf_record.c`, `aggr.c`).
//!
//! Sandbox: only the base, table, string, math, utf8 and coroutine libraries, and from `os`
//! only the clock and date functions; no `io`, `package`/`require`, `dofile`, `loadfile` or
//! binary chunks. Every call runs under a time limit, checked by an instruction-count hook,
//! and every state under a memory cap; both end the call with a Lua error that `pcall`
//! inside the UDF cannot swallow.

use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::rc::Rc;
use std::sync::Arc;
use std::time::{Duration, Instant};

use aerie_cdt::Value;
use mlua::{Function, HookTriggers, Lua, LuaOptions, MultiValue, StdLib, Table, VmState};

use crate::value::Shapes;
use crate::{Module, Registry};

/// The environment every module runs in.
const PRELUDE: &str = include_str!("lua/prelude.lua");

/// Lua VM instructions between two checks of the time limit.
const HOOK_EVERY_INSTRUCTIONS: u32 = 10_000;
/// Most module states one thread keeps.
const MAX_CACHED_STATES: usize = 64;
/// A record UDF call this short counts as fast.
const FAST_CALL: Duration = Duration::from_micros(500);
/// After this many fast calls in a row, a function runs right on the calling thread instead of
/// through the blocking runner (whose hand-off of the worker costs more than a short UDF). A
/// slow call puts it back on the runner; the time limit bounds what one call can hold up.
const FAST_STREAK: u32 = 16;
/// Functions per state whose streak is tracked.
const MAX_TRACKED_FUNCTIONS: usize = 256;
/// The message of a call stopped by the time limit.
pub const TIME_LIMIT_MESSAGE: &str = "UDF exceeded its time limit";

/// Limits on one UDF call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Wall-clock time one call may run.
    pub time: Duration,
    /// Memory one module state may hold beyond what loading the module took.
    pub memory_bytes: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            time: Duration::from_secs(1),
            memory_bytes: 64 * 1024 * 1024,
        }
    }
}

/// The record a record UDF is applied to, as the UDF sees it.
#[derive(Debug, Default)]
pub struct RecordInput<'a> {
    pub exists: bool,
    /// Bin names and values.
    pub bins: Vec<(&'a [u8], Value)>,
    pub generation: u16,
    /// Seconds left to live (0: never expires).
    pub ttl_secs: u32,
    pub last_update_ms: u64,
    pub key: Option<Value>,
    pub digest: [u8; 20],
    pub set: &'a [u8],
}

/// What a record UDF asks to do to its record.
#[derive(Debug, Clone, PartialEq)]
pub enum Change {
    /// Nothing (a read, or writes never committed with `aerospike:create/update`).
    None,
    /// Store exactly these bins; `ttl` from `record.set_ttl`, in the wire's TTL encoding.
    Write {
        bins: Vec<(Vec<u8>, Value)>,
        ttl: Option<u32>,
        drop_key: bool,
    },
    /// Delete the record.
    Delete,
}

/// The outcome of a record UDF call.
#[derive(Debug, Clone, PartialEq)]
pub struct RecordOutcome {
    /// The function's return value, or the error text clients show.
    pub result: Result<Value, String>,
    pub change: Change,
}

/// One module state and what is looked up in it once.
struct State {
    lua: Lua,
    shapes: Shapes,
    record_ctor: Function,
    outcome: Function,
    stream: Function,
    deadline: Rc<Cell<Option<Instant>>>,
    expired: Rc<Cell<bool>>,
    /// Record functions' runs of fast calls (see [`FAST_STREAK`]).
    streaks: RefCell<HashMap<String, u32>>,
}

struct Cached {
    version: u64,
    state: Rc<State>,
}

thread_local! {
    static STATES: RefCell<HashMap<String, Cached>> = RefCell::new(HashMap::new());
}

/// Applies `function` of module `package` to a record.
pub fn apply_record(
    registry: &Registry,
    package: &str,
    function: &str,
    args: &[Value],
    input: &RecordInput<'_>,
) -> RecordOutcome {
    // A function known to be fast runs here, without handing off the worker.
    if let Some(state) = cached_state(registry, package) {
        if state.is_fast(function) {
            return run_record(registry, &state, function, args, input);
        }
    }
    crate::run_blocking(|| apply_record_here(registry, package, function, args, input))
}

/// Runs the record function on `state`, timing the call for [`State::is_fast`].
fn run_record(
    registry: &Registry,
    state: &State,
    function: &str,
    args: &[Value],
    input: &RecordInput<'_>,
) -> RecordOutcome {
    let started = Instant::now();
    let out = match state.run(registry.limits(), |s| s.apply_record(function, args, input)) {
        Ok(out) => out,
        Err(e) => RecordOutcome {
            result: Err(error_text(&e, state)),
            change: Change::None,
        },
    };
    state.note_call(function, started.elapsed());
    out
}

fn apply_record_here(
    registry: &Registry,
    package: &str,
    function: &str,
    args: &[Value],
    input: &RecordInput<'_>,
) -> RecordOutcome {
    let failed = |message: String| RecordOutcome {
        result: Err(message),
        change: Change::None,
    };
    match state_for(registry, package) {
        Ok(state) => run_record(registry, &state, function, args, input),
        Err(message) => failed(message),
    }
}

/// Runs stream function `function` of `package` over `records` (server side: the ops up to
/// and including the first reduce) and returns the values that come out, or the error text.
pub fn apply_stream<'a>(
    registry: &Registry,
    package: &str,
    function: &str,
    args: &[Value],
    records: impl Iterator<Item = RecordInput<'a>>,
) -> Result<Vec<Value>, String> {
    crate::run_blocking(|| {
        let state = state_for(registry, package)?;
        state
            .run(registry.limits(), |s| {
                s.apply_stream(function, args, records)
            })
            .map_err(|e| error_text(&e, &state))
    })
}

/// The state of the current version of `package` if this thread has it already.
fn cached_state(registry: &Registry, package: &str) -> Option<Rc<State>> {
    let filename: std::borrow::Cow<'_, str> = if package.ends_with(".lua") {
        package.into()
    } else {
        format!("{package}.lua").into()
    };
    let module = registry.module(&filename)?;
    STATES.with(|cell| {
        let states = cell.borrow();
        let c = states.get(filename.as_ref())?;
        (c.version == module.version).then(|| c.state.clone())
    })
}

/// The cached state of the current version of `package`, built if needed.
fn state_for(registry: &Registry, package: &str) -> Result<Rc<State>, String> {
    let filename = if package.ends_with(".lua") {
        package.to_owned()
    } else {
        format!("{package}.lua")
    };
    let module = registry
        .module(&filename)
        .ok_or_else(|| format!("module not found: {package}"))?;
    STATES.with(|cell| {
        let mut states = cell.borrow_mut();
        if let Some(c) = states.get(&filename) {
            if c.version == module.version {
                return Ok(c.state.clone());
            }
        }
        let state = Rc::new(build(&filename, &module, registry.limits()).map_err(|e| {
            let mut m = String::new();
            flatten(&e, &mut m);
            m
        })?);
        if states.len() >= MAX_CACHED_STATES && !states.contains_key(&filename) {
            // Drop one state (any): a thread rarely uses this many modules.
            if let Some(k) = states.keys().next().cloned() {
                states.remove(&k);
            }
        }
        states.insert(
            filename,
            Cached {
                version: module.version,
                state: state.clone(),
            },
        );
        Ok(state)
    })
}

/// Builds a sandboxed state with the prelude and the module loaded.
fn build(filename: &str, module: &Arc<Module>, limits: Limits) -> mlua::Result<State> {
    let libs = StdLib::TABLE
        | StdLib::STRING
        | StdLib::MATH
        | StdLib::UTF8
        | StdLib::COROUTINE
        | StdLib::OS;
    let lua = Lua::new_with(libs, LuaOptions::default())?;
    let deadline: Rc<Cell<Option<Instant>>> = Rc::new(Cell::new(None));
    let expired = Rc::new(Cell::new(false));
    sandbox(&lua, expired.clone())?;
    {
        let deadline = deadline.clone();
        let expired = expired.clone();
        lua.set_global_hook(
            HookTriggers::new().every_nth_instruction(HOOK_EVERY_INSTRUCTIONS),
            move |_, _| {
                if let Some(d) = deadline.get() {
                    if Instant::now() >= d {
                        expired.set(true);
                        return Err(mlua::Error::runtime(TIME_LIMIT_MESSAGE));
                    }
                }
                Ok(VmState::Continue)
            },
        )?;
    }
    lua.load(PRELUDE).set_name("@aerie.lua").exec()?;
    let shapes = Shapes::load(&lua)?;
    let g = lua.globals();
    let record_ctor: Function = g.get("__aerie_record")?;
    let outcome: Function = g.get("__aerie_outcome")?;
    let stream: Function = g.get("__aerie_stream")?;
    // The module's top-level code runs under the limits too.
    deadline.set(Some(Instant::now() + limits.time));
    let loaded = lua
        .load(&module.source[..])
        .set_name(format!("@{filename}"))
        .exec();
    deadline.set(None);
    loaded?;
    lua.gc_collect()?;
    let base = lua.used_memory();
    lua.set_memory_limit(base.saturating_add(limits.memory_bytes))?;
    Ok(State {
        lua,
        shapes,
        record_ctor,
        outcome,
        stream,
        deadline,
        expired,
        streaks: RefCell::new(HashMap::new()),
    })
}

/// Removes what a UDF must not reach, and makes `pcall` unable to swallow a time-limit stop.
fn sandbox(lua: &Lua, expired: Rc<Cell<bool>>) -> mlua::Result<()> {
    let g = lua.globals();
    for name in ["dofile", "loadfile", "require", "module"] {
        g.raw_set(name, mlua::Nil)?;
    }
    if let Ok(string) = g.get::<Table>("string") {
        string.raw_set("dump", mlua::Nil)?;
    }
    // Only the clock and calendar functions of `os`.
    if let Ok(os) = g.get::<Table>("os") {
        let safe = lua.create_table()?;
        for name in ["time", "clock", "date", "difftime"] {
            safe.raw_set(name, os.get::<mlua::Value>(name)?)?;
        }
        g.raw_set("os", safe)?;
    }
    g.raw_set(
        "__aerie_expired",
        lua.create_function(move |_, ()| Ok(expired.get()))?,
    )?;
    g.raw_set(
        "__aerie_log",
        lua.create_function(|_, (level, msg): (i64, mlua::LuaString)| {
            let msg = msg.to_string_lossy();
            match level {
                1 => tracing::warn!(target: "aerie::udf", "{msg}"),
                2 => tracing::info!(target: "aerie::udf", "{msg}"),
                3 => tracing::debug!(target: "aerie::udf", "{msg}"),
                _ => tracing::trace!(target: "aerie::udf", "{msg}"),
            }
            Ok(())
        })?,
    )?;
    lua.load(
        r#"
        local load, pcall, xpcall, error, expired = load, pcall, xpcall, error, __aerie_expired
        -- Text chunks only: precompiled bytecode is not verified by Lua.
        _G.load = function(chunk, name, _, env) return load(chunk, name, "t", env) end
        local function pass(ok, ...)
            if not ok and expired() then error((...), 0) end
            return ok, ...
        end
        _G.pcall = function(...) return pass(pcall(...)) end
        _G.xpcall = function(f, h, ...) return pass(xpcall(f, h, ...)) end
        "#,
    )
    .set_name("@sandbox")
    .exec()
}

impl State {
    /// Runs `f` with the time limit armed.
    fn run<T>(&self, limits: Limits, f: impl FnOnce(&Self) -> mlua::Result<T>) -> mlua::Result<T> {
        self.expired.set(false);
        self.deadline.set(Some(Instant::now() + limits.time));
        let out = f(self);
        self.deadline.set(None);
        if self.expired.get() && out.is_err() {
            return Err(mlua::Error::runtime(TIME_LIMIT_MESSAGE));
        }
        out
    }

    /// Whether `function`'s last [`FAST_STREAK`] calls were all fast.
    fn is_fast(&self, function: &str) -> bool {
        self.streaks
            .borrow()
            .get(function)
            .is_some_and(|&n| n >= FAST_STREAK)
    }

    fn note_call(&self, function: &str, took: Duration) {
        let mut streaks = self.streaks.borrow_mut();
        if took > FAST_CALL {
            if let Some(n) = streaks.get_mut(function) {
                *n = 0;
            }
        } else if let Some(n) = streaks.get_mut(function) {
            *n = n.saturating_add(1);
        } else if streaks.len() < MAX_TRACKED_FUNCTIONS {
            streaks.insert(function.to_owned(), 1);
        }
    }

    fn function(&self, name: &str) -> mlua::Result<Function> {
        match self.lua.globals().get::<mlua::Value>(name)? {
            mlua::Value::Function(f) => Ok(f),
            _ => Err(mlua::Error::runtime("function not found")),
        }
    }

    fn record(&self, input: &RecordInput<'_>, readonly: bool) -> mlua::Result<Table> {
        let lua = &self.lua;
        let bins = lua.create_table_with_capacity(0, input.bins.len())?;
        for (name, v) in &input.bins {
            bins.raw_set(lua.create_string(name)?, self.shapes.make_lua(lua, v)?)?;
        }
        let meta = lua.create_table_with_capacity(0, 8)?;
        meta.raw_set("exists", input.exists)?;
        meta.raw_set("readonly", readonly)?;
        if input.exists {
            meta.raw_set("gen", input.generation)?;
            meta.raw_set("ttl", input.ttl_secs)?;
            meta.raw_set("lut", input.last_update_ms)?;
            if let Some(k) = &input.key {
                meta.raw_set("key", self.shapes.make_lua(lua, k)?)?;
            }
            if !input.set.is_empty() {
                meta.raw_set("setname", lua.create_string(input.set)?)?;
            }
        }
        meta.raw_set("digest", lua.create_string(input.digest)?)?;
        self.record_ctor.call((bins, meta))
    }

    fn apply_record(
        &self,
        function: &str,
        args: &[Value],
        input: &RecordInput<'_>,
    ) -> mlua::Result<RecordOutcome> {
        let f = self.function(function)?;
        let rec = self.record(input, false)?;
        let mut call_args = MultiValue::with_capacity(args.len() + 1);
        call_args.push_back(mlua::Value::Table(rec.clone()));
        for a in args {
            call_args.push_back(self.shapes.make_lua(&self.lua, a)?);
        }
        let ret: MultiValue = f.call(call_args)?;
        let result = match ret.front() {
            Some(v) => self.shapes.read_lua(v)?,
            None => Value::Nil,
        };
        let (committed, removed, new_ttl, drop_key): (Option<Table>, bool, Option<i64>, bool) =
            self.outcome.call(rec)?;
        let change = match committed {
            None => Change::None,
            Some(bins) => {
                let mut out = Vec::new();
                for p in bins.pairs::<mlua::LuaString, mlua::Value>() {
                    let (name, v) = p?;
                    let v = self.shapes.read_lua(&v)?;
                    if v != Value::Nil {
                        out.push((name.as_bytes().to_vec(), v));
                    }
                }
                if out.is_empty() {
                    if removed || input.exists {
                        Change::Delete
                    } else {
                        Change::None
                    }
                } else {
                    Change::Write {
                        bins: out,
                        // TTLs travel as u32; -1 (never expire) and -2 (keep) wrap as on the wire.
                        ttl: new_ttl.map(|t| t as u32),
                        drop_key,
                    }
                }
            }
        };
        Ok(RecordOutcome {
            result: Ok(result),
            change,
        })
    }

    fn apply_stream<'a>(
        &self,
        function: &str,
        args: &[Value],
        mut records: impl Iterator<Item = RecordInput<'a>>,
    ) -> mlua::Result<Vec<Value>> {
        let f = self.function(function)?;
        let out = RefCell::new(Vec::new());
        let mut call_args = MultiValue::with_capacity(args.len() + 3);
        self.lua.scope(|scope| {
            let next = scope.create_function_mut(|_, ()| match records.next() {
                Some(r) => Ok(mlua::Value::Table(self.record(&r, true)?)),
                None => Ok(mlua::Value::Nil),
            })?;
            let emit = scope.create_function(|_, v: mlua::Value| {
                out.borrow_mut().push(self.shapes.read_lua(&v)?);
                Ok(())
            })?;
            call_args.push_back(mlua::Value::Function(f.clone()));
            call_args.push_back(mlua::Value::Function(next));
            call_args.push_back(mlua::Value::Function(emit));
            for a in args {
                call_args.push_back(self.shapes.make_lua(&self.lua, a)?);
            }
            self.stream.call::<()>(call_args)
        })?;
        Ok(out.into_inner())
    }
}

/// The text clients show for a failed call: Lua's message without mlua's traceback.
fn error_text(e: &mlua::Error, state: &State) -> String {
    if state.expired.get() {
        return TIME_LIMIT_MESSAGE.to_owned();
    }
    let mut s = String::new();
    flatten(e, &mut s);
    s
}

fn flatten(e: &mlua::Error, out: &mut String) {
    match e {
        mlua::Error::CallbackError { cause, .. } => flatten(cause, out),
        mlua::Error::WithContext { cause, .. } => flatten(cause, out),
        mlua::Error::RuntimeError(m) | mlua::Error::SyntaxError { message: m, .. } => {
            let m = m.split("\nstack traceback:").next().unwrap_or(m);
            out.push_str(m.trim_end());
        }
        mlua::Error::MemoryError(_) => out.push_str("UDF exceeded its memory limit"),
        other => {
            let m = other.to_string();
            out.push_str(
                m.split("\nstack traceback:")
                    .next()
                    .unwrap_or(&m)
                    .trim_end(),
            );
        }
    }
}
