//! Fault seams for the nemesis suite, compiled in only with the `fault-injection` feature
//! (test builds; see docs/jepsen.md). Owns turning the environment into active faults:
//!
//! - `FAILPOINTS=name=actions;name=actions`: tikv `fail` failpoints, e.g.
//!   `replica-write-skip=return` acknowledges writes without replicating them.
//! - `AERIE_CLOCK_OFFSET_FILE=PATH`: the file holds a signed millisecond offset added to the
//!   wall clock (`aerie_record::time`); it is re-read every 50 ms, so a test jumps a node's
//!   clock by rewriting the file. A missing or unparsable file means offset 0.

use std::time::Duration;

const FAILPOINTS_ENV: &str = "FAILPOINTS";
const CLOCK_FILE_ENV: &str = "AERIE_CLOCK_OFFSET_FILE";
const CLOCK_POLL: Duration = Duration::from_millis(50);

/// Activates the faults the environment asks for.
///
/// # Errors
///
/// A malformed `FAILPOINTS` entry, or the clock thread could not start.
pub fn install() -> Result<(), String> {
    if let Ok(spec) = std::env::var(FAILPOINTS_ENV) {
        for entry in spec.split(';').filter(|e| !e.trim().is_empty()) {
            let (name, actions) = entry
                .split_once('=')
                .ok_or_else(|| format!("{FAILPOINTS_ENV}: `{entry}` is not name=actions"))?;
            fail::cfg(name.trim(), actions.trim())
                .map_err(|e| format!("{FAILPOINTS_ENV}: {name}: {e}"))?;
            tracing::warn!(
                failpoint = name.trim(),
                actions = actions.trim(),
                "failpoint active"
            );
        }
    }
    if let Some(path) = std::env::var_os(CLOCK_FILE_ENV) {
        tracing::warn!(file = %path.to_string_lossy(), "clock offset controlled by a file");
        std::thread::Builder::new()
            .name("clock-offset".into())
            .spawn(move || loop {
                let offset_ms = std::fs::read_to_string(&path)
                    .ok()
                    .and_then(|t| t.trim().parse::<i64>().ok())
                    .unwrap_or(0);
                aerie_record::time::set_clock_offset_ms(offset_ms);
                std::thread::sleep(CLOCK_POLL);
            })
            .map_err(|e| format!("clock-offset thread: {e}"))?;
    }
    Ok(())
}
