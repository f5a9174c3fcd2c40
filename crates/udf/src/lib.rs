//! User-defined function modules: the registry behind `udf-put`, `udf-get`, `udf-list` and
//! `udf-remove`. A module is accepted only if it compiles as Lua 5.4; a syntax error is
//! answered with its line and message, as clients expect.
//!
//! Owns module text and its SHA-1, and keeps each module as a file in the user path
//! (`mod-lua { user-path DIR }`) so modules survive a restart; `runtime` runs them.
//! Mirrors aerospike-server `as/src/base/udf_cask.c`.

mod runtime;
mod value;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};

use base64::Engine as _;
use parking_lot::RwLock;
use sha1::{Digest as _, Sha1};

/// Largest module accepted (base64 text), as a bound on what one info request may store.
pub const MAX_MODULE_BYTES: usize = 1024 * 1024;

pub use runtime::{
    apply_record, apply_stream, Change, Limits, RecordInput, RecordOutcome, TIME_LIMIT_MESSAGE,
};
pub use value::bin_value;

/// A stored module.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Module {
    pub source: Vec<u8>,
    /// SHA-1 of the source, lower-case hex.
    pub hash: String,
    /// Unique per put, so cached Lua states notice a replaced module.
    pub version: u64,
}

/// Source of module versions, shared by every registry of the process.
static NEXT_VERSION: AtomicU64 = AtomicU64::new(1);

/// The node's registry, for code that runs UDFs (installed once at start).
static INSTALLED: OnceLock<Arc<Registry>> = OnceLock::new();

/// Makes `registry` the one [`installed`] returns. Only the first call takes effect.
pub fn install(registry: Arc<Registry>) {
    let _ = INSTALLED.set(registry);
}

/// The registry installed at start, if any.
pub fn installed() -> Option<&'static Arc<Registry>> {
    INSTALLED.get()
}

/// Runs a UDF call where it may block for as long as its time limit: the server installs
/// one that hands the async worker's other tasks to another thread first
/// (`tokio::task::block_in_place`), so a slow UDF never stalls unrelated connections. It must
/// call the closure exactly once. A record function whose recent calls were all short skips
/// it (see `runtime::FAST_STREAK`): the hand-off costs more than such a call.
pub type BlockingRunner = fn(&mut dyn FnMut());

static RUNNER: OnceLock<BlockingRunner> = OnceLock::new();

/// Installs the runner every UDF call goes through. Only the first call takes effect.
pub fn install_blocking_runner(runner: BlockingRunner) {
    let _ = RUNNER.set(runner);
}

/// Runs `f` through the installed runner, or inline without one.
pub(crate) fn run_blocking<T, F: FnOnce() -> T>(f: F) -> T {
    let Some(runner) = RUNNER.get() else {
        return f();
    };
    let mut slot: Result<T, Option<F>> = Err(Some(f));
    runner(&mut || {
        if let Err(Some(g)) = std::mem::replace(&mut slot, Err(None)) {
            slot = Ok(g());
        }
    });
    match slot {
        Ok(v) => v,
        // A runner that did not call the closure: run it here.
        Err(Some(g)) => g(),
        Err(None) => unreachable!("the UDF call was taken but did not finish"),
    }
}

/// Why a module was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PutError {
    /// A request that is not a valid `udf-put`.
    Parameter(String),
    /// Lua does not compile: 1-based line and the compiler's message.
    Compile { line: u32, message: String },
}

/// The module registry of a node.
#[derive(Debug, Default)]
pub struct Registry {
    modules: RwLock<BTreeMap<String, Arc<Module>>>,
    /// Where modules are kept as files; `None` = memory only.
    user_path: Option<PathBuf>,
    limits: Limits,
}

impl Registry {
    /// A registry keeping its modules in `user_path` (created if missing), loaded from the
    /// `.lua` files already there. A file that no longer compiles is skipped with a warning.
    pub fn open(user_path: &Path, limits: Limits) -> std::io::Result<Self> {
        std::fs::create_dir_all(user_path)?;
        let mut modules = BTreeMap::new();
        let mut entries: Vec<_> = std::fs::read_dir(user_path)?
            .filter_map(Result::ok)
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|x| x == "lua"))
            .collect();
        entries.sort();
        for path in entries {
            let Some(name) = path.file_name().and_then(|n| n.to_str()).map(str::to_owned) else {
                continue;
            };
            let source = std::fs::read(&path)?;
            if let Err(e) = compile_check(&name, &source) {
                tracing::warn!(module = %name, error = ?e, "UDF module skipped: it does not compile");
                continue;
            }
            modules.insert(name, Arc::new(Module::new(source)));
        }
        tracing::info!(
            path = %user_path.display(),
            modules = modules.len(),
            "UDF modules loaded"
        );
        Ok(Self {
            modules: RwLock::new(modules),
            user_path: Some(user_path.to_owned()),
            limits,
        })
    }

    /// A registry kept in memory only (tests, tools).
    pub fn in_memory(limits: Limits) -> Self {
        Self {
            limits,
            ..Self::default()
        }
    }

    /// The limits every call runs under.
    pub fn limits(&self) -> Limits {
        self.limits
    }

    /// The module called `filename`, shared.
    pub fn module(&self, filename: &str) -> Option<Arc<Module>> {
        self.modules.read().get(filename).cloned()
    }

    /// Stores `filename` from base64 `content`, after checking `content_len` (the base64
    /// text's length, as clients send it) and that the source compiles.
    pub fn put(
        &self,
        filename: &str,
        content_b64: &str,
        content_len: Option<usize>,
    ) -> Result<(), PutError> {
        if filename.is_empty() || filename.len() > 127 || filename.contains(['/', ';', ':', ',']) {
            return Err(PutError::Parameter(format!("bad module name '{filename}'")));
        }
        if content_b64.len() > MAX_MODULE_BYTES {
            return Err(PutError::Parameter("module too large".into()));
        }
        if let Some(n) = content_len {
            if n != content_b64.len() {
                return Err(PutError::Parameter(format!(
                    "content-len {n} does not match the {} bytes sent",
                    content_b64.len()
                )));
            }
        }
        let source = base64::engine::general_purpose::STANDARD
            .decode(content_b64.trim())
            .map_err(|e| PutError::Parameter(format!("content is not base64: {e}")))?;
        compile_check(filename, &source)?;
        if let Some(dir) = &self.user_path {
            write_file(&dir.join(filename), &source).map_err(|e| {
                tracing::error!(module = filename, error = %e, "UDF module not saved");
                PutError::Parameter(format!("could not save the module: {e}"))
            })?;
        }
        self.modules
            .write()
            .insert(filename.to_owned(), Arc::new(Module::new(source)));
        Ok(())
    }

    /// The module called `filename`.
    pub fn get(&self, filename: &str) -> Option<Arc<Module>> {
        self.module(filename)
    }

    /// Removes a module; returns whether it existed.
    pub fn remove(&self, filename: &str) -> bool {
        let existed = self.modules.write().remove(filename).is_some();
        if existed {
            if let Some(dir) = &self.user_path {
                if let Err(e) = std::fs::remove_file(dir.join(filename)) {
                    tracing::warn!(module = filename, error = %e, "UDF module file not removed");
                }
            }
        }
        existed
    }

    /// Every module name with its hash, in name order.
    pub fn list(&self) -> Vec<(String, String)> {
        self.modules
            .read()
            .iter()
            .map(|(n, m)| (n.clone(), m.hash.clone()))
            .collect()
    }
}

impl Module {
    fn new(source: Vec<u8>) -> Self {
        let hash = Sha1::digest(&source)
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        Self {
            source,
            hash,
            version: NEXT_VERSION.fetch_add(1, Ordering::Relaxed),
        }
    }
}

/// Writes a module file whole or not at all (a temporary file, synced, then renamed).
fn write_file(path: &Path, source: &[u8]) -> std::io::Result<()> {
    use std::io::Write as _;
    let tmp = path.with_extension("lua.tmp");
    let mut f = std::fs::File::create(&tmp)?;
    f.write_all(source)?;
    f.sync_all()?;
    std::fs::rename(&tmp, path)
}

/// Compiles (without running) `source` as a Lua chunk.
fn compile_check(filename: &str, source: &[u8]) -> Result<(), PutError> {
    let lua = mlua::Lua::new();
    match lua.load(source).set_name(filename).into_function() {
        Ok(_) => Ok(()),
        Err(mlua::Error::SyntaxError { message, .. }) => Err(PutError::Compile {
            line: line_of(&message).unwrap_or(0),
            message,
        }),
        Err(e) => Err(PutError::Compile {
            line: 0,
            message: e.to_string(),
        }),
    }
}

/// The line number in a Lua message such as `[string "m.lua"]:3: '=' expected near 'x'`.
fn line_of(message: &str) -> Option<u32> {
    let after = message.split("]:").nth(1)?;
    after.split(':').next()?.trim().parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn b64(s: &str) -> String {
        base64::engine::general_purpose::STANDARD.encode(s)
    }

    #[test]
    fn put_list_get_remove() {
        let r = Registry::default();
        let src = "function echo(rec, val)\n  return val\nend\n";
        let enc = b64(src);
        assert_eq!(r.put("echo.lua", &enc, Some(enc.len())), Ok(()));
        let list = r.list();
        assert_eq!(list.len(), 1);
        assert_eq!(
            list.first().map(|(n, h)| (n.as_str(), h.len())),
            Some(("echo.lua", 40))
        );
        assert_eq!(
            r.get("echo.lua").map(|m| m.source.clone()),
            Some(src.as_bytes().to_vec())
        );
        assert!(r.remove("echo.lua"));
        assert!(r.list().is_empty());
    }

    #[test]
    fn compile_errors_carry_their_line() {
        let r = Registry::default();
        let enc = b64("function f()\n  return 1\n\nlocal = 3\n");
        match r.put("bad.lua", &enc, None) {
            Err(PutError::Compile { line, message }) => {
                assert_eq!(line, 4, "{message}");
            }
            other => panic!("expected a compile error, got {other:?}"),
        }
        assert!(r.list().is_empty());
    }

    #[test]
    fn bad_requests_are_refused() {
        let r = Registry::default();
        assert!(matches!(r.put("", "", None), Err(PutError::Parameter(_))));
        assert!(matches!(
            r.put("x.lua", "%%%", None),
            Err(PutError::Parameter(_))
        ));
        assert!(matches!(
            r.put("x.lua", &b64("return 1"), Some(3)),
            Err(PutError::Parameter(_))
        ));
    }
}

#[cfg(test)]
mod runtime_tests;
