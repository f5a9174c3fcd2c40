//! Where is the `aerie` binary under test?

use std::env;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

/// Environment variable that names the binary explicitly. It wins over everything
/// else, so `scripts/test.sh` can pin the release build it just made.
pub const AERIE_BIN_ENV: &str = "AERIE_BIN";

/// Name of the server executable (`[[bin]]` of package `aerie-server`).
const BIN_NAME: &str = "aerie";

/// Finds the `aerie` binary, in this order:
///
/// 1. `$AERIE_BIN` (must exist, otherwise that is an error, not a fallback);
/// 2. `hint`: integration tests of `aerie-server` pass `env!("CARGO_BIN_EXE_aerie")`,
///    which cargo has just built in the same profile as the test;
/// 3. `$CARGO_TARGET_DIR/{release,ci,debug}/aerie`, then
///    `<workspace>/target/{release,ci,debug}/aerie`; when several profiles exist the newer
///    file wins, so a stale build is not picked over a fresh one.
///
/// # Errors
///
/// A message naming every place that was looked at, for the test's panic message.
pub fn locate_aerie_bin(hint: Option<&Path>) -> Result<PathBuf, String> {
    if let Some(explicit) = env::var_os(AERIE_BIN_ENV) {
        let path = PathBuf::from(explicit);
        return if path.is_file() {
            Ok(path)
        } else {
            Err(format!(
                "${AERIE_BIN_ENV} is set to {} but no such file exists",
                path.display()
            ))
        };
    }
    if let Some(hint) = hint {
        if hint.is_file() {
            return Ok(hint.to_path_buf());
        }
    }

    let mut candidates = Vec::new();
    if let Some(target) = env::var_os("CARGO_TARGET_DIR") {
        let target = PathBuf::from(target);
        candidates.push(target.join("release").join(BIN_NAME));
        candidates.push(target.join("ci").join(BIN_NAME));
        candidates.push(target.join("debug").join(BIN_NAME));
    }
    let workspace_target = workspace_root().join("target");
    candidates.push(workspace_target.join("release").join(BIN_NAME));
    candidates.push(workspace_target.join("ci").join(BIN_NAME));
    candidates.push(workspace_target.join("debug").join(BIN_NAME));

    let newest = candidates
        .iter()
        .filter_map(|path| modified(path).map(|time| (time, path)))
        .max_by_key(|(time, _)| *time)
        .map(|(_, path)| path.clone());

    newest.ok_or_else(|| {
        let looked: Vec<String> = candidates.iter().map(|p| p.display().to_string()).collect();
        format!(
            "no aerie binary found (set ${AERIE_BIN_ENV} or run `cargo build --release -p aerie-server`); looked at: {}",
            looked.join(", ")
        )
    })
}

/// The workspace root: this crate lives at `<root>/crates/testkit`.
pub(crate) fn workspace_root() -> PathBuf {
    let manifest_dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    manifest_dir
        .parent()
        .and_then(Path::parent)
        .map_or_else(|| manifest_dir.to_path_buf(), Path::to_path_buf)
}

fn modified(path: &Path) -> Option<SystemTime> {
    let meta = std::fs::metadata(path).ok()?;
    if !meta.is_file() {
        return None;
    }
    meta.modified().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn workspace_root_holds_the_workspace_manifest() {
        let manifest = workspace_root().join("Cargo.toml");
        let text = std::fs::read_to_string(&manifest).expect("read workspace Cargo.toml");
        assert!(
            text.contains("[workspace]"),
            "{} is not the workspace manifest",
            manifest.display()
        );
    }

    #[test]
    fn a_hint_that_exists_is_used_when_no_env_override() {
        if env::var_os(AERIE_BIN_ENV).is_some() {
            return; // the override is tested by the caller's environment itself
        }
        // Any existing file does as a hint: the function does not execute it.
        let hint = Path::new(env!("CARGO_MANIFEST_DIR")).join("Cargo.toml");
        assert_eq!(locate_aerie_bin(Some(&hint)), Ok(hint));
    }
}
