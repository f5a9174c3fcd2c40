//! Opens the UDF module registry from `mod-lua { user-path }` and makes it the one the
//! transaction code runs UDFs from.
//!
//! Without `user-path`, modules live in a `udf` directory beside the first namespace's first
//! storage file (so they persist exactly when data does); a configuration that persists no
//! namespace keeps them in memory, like its records.

use std::path::PathBuf;
use std::sync::Arc;

use aerie_config::{Config, StorageEngineConfig};
use aerie_udf::{Limits, Registry};

/// The registry for `config`, loaded from its directory and installed.
pub fn open(config: &Config) -> Result<Arc<Registry>, String> {
    let registry = match user_path(config) {
        Some(dir) => Registry::open(&dir, Limits::default())
            .map_err(|e| format!("cannot open UDF directory {}: {e}", dir.display()))?,
        None => Registry::in_memory(Limits::default()),
    };
    let registry = Arc::new(registry);
    aerie_udf::install(registry.clone());
    // A UDF may run for up to its time limit: let the runtime move this worker's other
    // connections to another thread meanwhile.
    aerie_udf::install_blocking_runner(|f| tokio::task::block_in_place(f));
    Ok(registry)
}

fn user_path(config: &Config) -> Option<PathBuf> {
    if let Some(p) = &config.mod_lua.user_path {
        return Some(PathBuf::from(p));
    }
    config.namespaces.iter().find_map(|ns| {
        let file = match &ns.storage {
            StorageEngineConfig::Memory(m) => m.files.first(),
            StorageEngineConfig::Device(d) => d.files.first(),
        }?;
        let parent = PathBuf::from(file).parent()?.to_owned();
        Some(parent.join("udf"))
    })
}
