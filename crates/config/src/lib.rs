//! Aerie's configuration: a parser for Aerospike's `aerospike.conf` format and the typed
//! [`Config`] the rest of the server reads.
//!
//! **Owns:** reading the file ([`load`], [`parse_str`]), the format (comments, `name [ARG] { }`
//! stanzas, `key value...` lines, `4G` sizes, `30D` durations), every default, and the checks that
//! make a config safe to start with (name lengths, ranges, `default-ttl` vs `nsup-period`, storage
//! files not shared between namespaces, at most [`MAX_NAMESPACES`] namespaces). Errors read
//! `FILE:LINE: message` and say what was expected.
//!
//! **Does not own:** acting on the values (the server, namespace, storage and fabric crates do),
//! changing them at runtime (the info crate's `set-config`, which can reuse [`parse_size_bytes`],
//! [`parse_duration_secs`] and [`parse_bool`]), or logging the [`Config::warnings`] (the server
//! does, once logging is up).
//!
//! **Mirrors:** `as/src/base/cfg.c` in aerospike-server: same stanza and parameter names, same
//! value syntax, same defaults and ranges except where a doc comment says why Aerie differs.
//!
//! # Parameters Aerie accepts but ignores
//!
//! So that real Aerospike files load, a fixed list of Aerospike parameters and stanzas (thread
//! counts, TLS listeners, histograms, `pidfile`, `user`, ...) is accepted and
//! recorded in [`Config::warnings`] instead of failing. The lists and the rule for what may go on
//! them are in `src/unused.rs`. Anything else unknown is an error.
//!
//! # Departures from Aerospike worth knowing
//!
//! - [`Config::default()`] (no file) binds 127.0.0.1 and gives namespace `test` `nsup-period 120`
//!   so client TTLs work; a parsed file binds `any` when `address` is omitted, as Aerospike does.
//! - `network { http { } }` is an Aerie extension.
//! - One `address` per listener; a second `address` line is an error rather than ignored.
//! - `memory-size` (6.x) is read as the memory engine's `data-size`.
//! - `write-block-size` (obsolete in Aerospike 8) is supported; `flush-size` is accepted and ignored.
//! - `filesize` may be as small as one write block (Aerospike wants 128 MiB) so tests can use small
//!   files.

// The input is a file written by a person: bad text must become a message, never a panic.
#![cfg_attr(
    not(test),
    deny(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)
)]

mod error;
mod lexer;
mod mod_lua;
mod namespace;
mod parse;
mod security;
mod types;
mod unused;
mod value;

use std::io::Read;
use std::path::Path;

pub use error::{ConfigError, ParseErrorKind, Section};
pub use mod_lua::ModLuaConfig;
pub use security::{SecurityConfig, SecurityLogConfig};
pub use types::{
    Config, DeviceStorageConfig, Endpoint, HeartbeatConfig, HeartbeatMode, HttpConfig, LogSink,
    LogTarget, LoggingConfig, MemoryStorageConfig, NamespaceConfig, NetworkConfig, RackConfig,
    ServiceConfig, SetConfig, StorageEngineConfig, MAX_ALLOWED_TTL_SECS, MAX_RACK_ID,
};
pub use value::{parse_bool, parse_duration_secs, parse_size_bytes};

/// Most namespaces one node serves (Aerospike Enterprise's limit).
pub const MAX_NAMESPACES: usize = 32;
/// Longest namespace name, in bytes (Aerospike's `AS_ID_NAMESPACE_SZ` minus the NUL).
pub const MAX_NAMESPACE_NAME_BYTES: usize = 31;
/// Longest set name, in bytes (Aerospike's `AS_SET_NAME_MAX_SIZE` minus the NUL).
pub const MAX_SET_NAME_BYTES: usize = 63;
/// Most `set` stanzas in one namespace (Aerospike's `AS_SET_MAX_COUNT`).
pub const MAX_SETS_PER_NAMESPACE: usize = 4095;
/// Longest `cluster-name`, in bytes (Aerospike's `AS_CLUSTER_NAME_SZ` minus the NUL).
pub const MAX_CLUSTER_NAME_BYTES: usize = 63;
/// Most `mesh-seed-address-port` lines.
pub const MAX_MESH_SEEDS: usize = 128;
/// Largest config file read. Real files are a few KiB; the cap keeps a wrong path (a data file,
/// `/dev/zero`) from being read into memory.
pub const MAX_CONFIG_FILE_BYTES: u64 = 1 << 20;

/// Parses config text. `file_name` is used only in messages (`FILE:LINE: ...`).
///
/// Parameters missing from the text take Aerospike's defaults; at least one namespace is required.
pub fn parse_str(text: &str, file_name: &str) -> Result<Config, ConfigError> {
    if u64::try_from(text.len()).map_or(true, |len| len > MAX_CONFIG_FILE_BYTES) {
        return Err(ConfigError::TooLarge {
            file: file_name.to_owned(),
            max_bytes: MAX_CONFIG_FILE_BYTES,
        });
    }
    let items = lexer::parse_tree(text, file_name)?;
    parse::build(&items, file_name, lexer::last_line(text))
}

/// Reads and parses the file at `path`; messages name the path as given.
pub fn load(path: &Path) -> Result<Config, ConfigError> {
    let read_error = |source| ConfigError::Read {
        path: path.to_owned(),
        source,
    };
    let file = std::fs::File::open(path).map_err(read_error)?;
    // Read one byte past the cap so an oversized file is detected without reading all of it.
    let mut bytes = Vec::new();
    file.take(MAX_CONFIG_FILE_BYTES.saturating_add(1))
        .read_to_end(&mut bytes)
        .map_err(read_error)?;
    let file_name = path.display().to_string();
    if u64::try_from(bytes.len()).map_or(true, |len| len > MAX_CONFIG_FILE_BYTES) {
        return Err(ConfigError::TooLarge {
            file: file_name,
            max_bytes: MAX_CONFIG_FILE_BYTES,
        });
    }
    let text = String::from_utf8(bytes)
        .map_err(|e| read_error(std::io::Error::new(std::io::ErrorKind::InvalidData, e)))?;
    parse_str(&text, &file_name)
}

#[cfg(test)]
mod aerospike81_test;
#[cfg(test)]
mod lib_test;
