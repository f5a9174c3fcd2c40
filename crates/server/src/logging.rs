//! The `logging` stanza: one sink per `console { }` or `file PATH { }`, each with its own
//! `context NAME LEVEL` lines, as aerospike-server's `cf_log` sinks have.
//!
//! Aerospike's log contexts name server subsystems (`rw`, `storage`, `nsup`, `info` …);
//! Aerie logs through `tracing` with module-path targets. [`CONTEXTS`] maps each Aerospike
//! context (the names of aerospike-server's `cf/src/log.c`) to the Aerie targets that do that work. Every context name Aerospike accepts is
//! accepted; those for subsystems Aerie does not have (XDR, fabric, security …) select no
//! target, so they change nothing. An unknown name is a startup error, as it is in Aerospike.
//!
//! Within one sink the lines apply in order: `context any L` sets every context to `L`
//! (dropping earlier per-context lines), `context NAME L` then sets one. A sink without
//! lines logs at `critical` only. `RUST_LOG`, when set, replaces the console sinks' filter.

use std::fs::OpenOptions;
use std::sync::Arc;

use aerie_config::{LogSink, LogTarget, LoggingConfig};
use tracing::level_filters::LevelFilter;
use tracing_subscriber::filter::{EnvFilter, Targets};
use tracing_subscriber::layer::SubscriberExt as _;
use tracing_subscriber::util::SubscriberInitExt as _;
use tracing_subscriber::{Layer, Registry};

/// Aerospike log context → the Aerie `tracing` targets (prefixes) it covers.
pub const CONTEXTS: &[(&str, &[&str])] = &[
    ("misc", &["aerie::config", "aerie::main"]),
    ("alloc", &[]),
    ("arenax", &[]),
    ("hardware", &[]),
    ("msg", &["aerie_proto"]),
    ("os", &[]),
    ("secrets", &[]),
    ("socket", &["aerie::service"]),
    ("tls", &[]),
    ("vault", &[]),
    ("vmapx", &[]),
    ("xmem", &[]),
    ("aggr", &["aerie_udf"]),
    ("appeal", &[]),
    ("as", &["aerie::main"]),
    ("audit", &["audit"]),
    ("batch", &["aerie_transaction::batch"]),
    ("batch-sub", &["aerie_transaction::batch"]),
    ("bin", &["aerie_record"]),
    ("config", &["aerie::config", "aerie_config"]),
    ("deprecation", &[]),
    ("clustering", &[]),
    ("drv-mem", &["aerie_storage"]),
    ("drv_pmem", &[]),
    ("drv_ssd", &["aerie_storage"]),
    ("exchange", &[]),
    ("exp", &["aerie_exp", "aerie_transaction::exp_ops"]),
    ("fabric", &[]),
    ("flat", &["aerie_storage"]),
    ("geo", &["aerie_cdt::geojson", "aerie_exp::geo"]),
    ("hb", &[]),
    ("health", &[]),
    ("hlc", &[]),
    ("index", &["aerie_namespace"]),
    ("info", &["aerie_info", "aerie::ticker", "aerie::http"]),
    ("info-command", &["aerie_info"]),
    ("key-busy", &[]),
    ("migrate", &[]),
    ("mrt-audit", &[]),
    ("mrt-monitor", &[]),
    ("namespace", &["aerie_namespace"]),
    ("nsup", &["aerie_namespace"]),
    ("particle", &["aerie_cdt", "aerie_transaction::cdt_ops"]),
    ("partition", &["aerie_namespace"]),
    ("proto", &["aerie_proto", "aerie::service"]),
    ("proxy", &[]),
    ("proxy-divert", &[]),
    (
        "query",
        &[
            "aerie_transaction::query",
            "aerie_transaction::scan",
            "aerie_sindex",
        ],
    ),
    ("record", &["aerie_record"]),
    ("roster", &[]),
    ("rw", &["aerie_transaction"]),
    ("rw-client", &["aerie_transaction"]),
    ("security", &["aerie_security", "aerie::security_setup"]),
    ("service", &["aerie::service"]),
    ("service-list", &[]),
    ("sindex", &["aerie_sindex", "aerie_info::sindex"]),
    ("skew", &[]),
    ("smd", &[]),
    ("storage", &["aerie_storage"]),
    ("truncate", &["aerie_namespace"]),
    ("tsvc", &["aerie_transaction"]),
    ("udf", &["aerie_udf", "aerie_info::udf"]),
    ("xdr", &[]),
    ("xdr-client", &[]),
    ("masking", &[]),
];

/// An Aerospike log level as a `tracing` level filter.
fn level(name: &str) -> Result<LevelFilter, String> {
    match name {
        "critical" => Ok(LevelFilter::ERROR),
        "warning" => Ok(LevelFilter::WARN),
        "info" => Ok(LevelFilter::INFO),
        "debug" => Ok(LevelFilter::DEBUG),
        "detail" => Ok(LevelFilter::TRACE),
        other => Err(format!("unknown log level '{other}'")),
    }
}

/// The `tracing` filter of one sink's `context` lines.
pub fn sink_filter(contexts: &[(String, String)]) -> Result<Targets, String> {
    let mut default = LevelFilter::ERROR;
    let mut per_target: Vec<(&'static str, LevelFilter)> = Vec::new();
    for (name, lvl) in contexts {
        let lvl = level(lvl)?;
        if name == "any" {
            default = lvl;
            per_target.clear();
            continue;
        }
        let Some((_, targets)) = CONTEXTS.iter().find(|(c, _)| *c == name) else {
            return Err(format!("unknown log context '{name}'"));
        };
        for t in targets.iter() {
            per_target.retain(|(have, _)| have != t);
            per_target.push((t, lvl));
        }
    }
    Ok(Targets::new()
        .with_default(default)
        .with_targets(per_target))
}

type BoxedLayer = Box<dyn Layer<Registry> + Send + Sync>;

/// Builds one layer per sink and installs them as the global subscriber.
pub fn init(config: &LoggingConfig) -> Result<(), String> {
    use std::io::IsTerminal as _;
    let env = std::env::var("RUST_LOG").ok().filter(|v| !v.is_empty());
    let mut layers: Vec<BoxedLayer> = Vec::with_capacity(config.sinks.len());
    for sink in &config.sinks {
        layers.push(sink_layer(
            sink,
            env.as_deref(),
            std::io::stderr().is_terminal(),
        )?);
    }
    // A second init (tests running the server in-process) keeps the first subscriber.
    let _ = tracing_subscriber::registry().with(layers).try_init();
    Ok(())
}

fn sink_layer(sink: &LogSink, env: Option<&str>, ansi: bool) -> Result<BoxedLayer, String> {
    let targets = sink_filter(&sink.contexts)?;
    match &sink.target {
        LogTarget::Console => {
            let fmt = tracing_subscriber::fmt::layer()
                .with_ansi(ansi)
                .with_writer(std::io::stderr);
            Ok(match env {
                Some(directives) => fmt.with_filter(EnvFilter::new(directives)).boxed(),
                None => fmt.with_filter(targets).boxed(),
            })
        }
        LogTarget::File(path) => {
            let file = OpenOptions::new()
                .create(true)
                .append(true)
                .open(path)
                .map_err(|e| format!("cannot open log file {path}: {e}"))?;
            Ok(tracing_subscriber::fmt::layer()
                .with_ansi(false)
                .with_writer(Arc::new(file))
                .with_filter(targets)
                .boxed())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tracing::Level;

    fn pairs(lines: &[(&str, &str)]) -> Vec<(String, String)> {
        lines
            .iter()
            .map(|(a, b)| ((*a).to_owned(), (*b).to_owned()))
            .collect()
    }

    #[test]
    fn any_sets_the_default_and_contexts_override_it() -> Result<(), String> {
        let t = sink_filter(&pairs(&[
            ("any", "info"),
            ("storage", "detail"),
            ("info", "warning"),
        ]))?;
        assert!(t.would_enable("aerie_storage::scan", &Level::TRACE));
        assert!(t.would_enable("aerie_transaction::write", &Level::INFO));
        assert!(!t.would_enable("aerie_transaction::write", &Level::DEBUG));
        assert!(!t.would_enable("aerie::ticker", &Level::INFO));
        assert!(t.would_enable("aerie::ticker", &Level::WARN));
        Ok(())
    }

    #[test]
    fn a_later_any_resets_earlier_contexts() -> Result<(), String> {
        let t = sink_filter(&pairs(&[("rw", "debug"), ("any", "warning")]))?;
        assert!(!t.would_enable("aerie_transaction", &Level::INFO));
        let t = sink_filter(&[])?;
        assert!(t.would_enable("aerie_storage", &Level::ERROR));
        assert!(!t.would_enable("aerie_storage", &Level::WARN));
        Ok(())
    }

    #[test]
    fn unknown_contexts_and_levels_are_refused() {
        assert!(sink_filter(&pairs(&[("nonsense", "info")])).is_err());
        assert!(sink_filter(&pairs(&[("any", "loud")])).is_err());
        // Aerospike contexts for subsystems Aerie lacks are accepted.
        assert!(sink_filter(&pairs(&[("xdr", "debug"), ("fabric", "info")])).is_ok());
    }
}
