//! User-defined function modules: the registry behind `udf-put`, `udf-get`, `udf-list` and
//! `udf-remove`. A module is accepted only if it compiles as Lua 5.4; a syntax error is
//! answered with its line and message, as clients expect.
//!
//! Owns module text and its SHA-1; running UDFs (record, background, stream) builds on it.
//! Mirrors aerospike-server `as/src/base/udf_cask.c`.

use std::collections::BTreeMap;

use base64::Engine as _;
use parking_lot::RwLock;
use sha1::{Digest as _, Sha1};

/// Largest module accepted (base64 text), as a bound on what one info request may store.
pub const MAX_MODULE_BYTES: usize = 1024 * 1024;

/// A stored module.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Module {
    pub source: Vec<u8>,
    /// SHA-1 of the source, lower-case hex.
    pub hash: String,
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
    modules: RwLock<BTreeMap<String, Module>>,
}

impl Registry {
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
        let hash = Sha1::digest(&source)
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        self.modules
            .write()
            .insert(filename.to_owned(), Module { source, hash });
        Ok(())
    }

    /// The module called `filename`.
    pub fn get(&self, filename: &str) -> Option<Module> {
        self.modules.read().get(filename).cloned()
    }

    /// Removes a module; returns whether it existed.
    pub fn remove(&self, filename: &str) -> bool {
        self.modules.write().remove(filename).is_some()
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
            r.get("echo.lua").map(|m| m.source),
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
