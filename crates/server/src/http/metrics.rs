//! `/metrics`: the node's statistics in Prometheus' text exposition format (0.0.4).
//!
//! Built from the info answers operators already know, so every statistic a later change
//! adds to `statistics` or `namespace/<ns>` appears here too. Names follow the Aerospike
//! Prometheus exporter: `aerospike_node_stats_<stat>`, `aerospike_namespace_<stat>{ns}`,
//! `aerospike_sets_<stat>{ns,set}` and `aerospike_latencies_<hist>_ms_bucket{ns,le}`.
//! Non-numeric values are left out; `true`/`false` become 1/0.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use std::sync::Arc;

use aerie_info::{process, Histogram, NodeContext, N_LATENCY_COLS};
use axum::extract::State;
use axum::http::header;
use axum::response::IntoResponse;
use axum::routing::get;
use axum::Router;

pub fn routes() -> Router<Arc<NodeContext>> {
    Router::new().route("/metrics", get(serve))
}

async fn serve(State(ctx): State<Arc<NodeContext>>) -> impl IntoResponse {
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        render(&ctx),
    )
}

/// One metric family: samples as `(name suffix, labels, value)`; the suffix is `_bucket`,
/// `_sum` or `_count` for a histogram, empty otherwise.
#[derive(Default)]
struct Family {
    help: String,
    kind: &'static str,
    samples: Vec<(&'static str, String, String)>,
}

/// Families in name order, so that each name appears once, with its `# TYPE` line first.
#[derive(Default)]
struct Exposition {
    families: BTreeMap<String, Family>,
}

impl Exposition {
    fn add(&mut self, name: &str, kind: &'static str, help: &str, labels: String, value: String) {
        self.add_sample(name, kind, help, "", labels, value);
    }

    fn add_sample(
        &mut self,
        name: &str,
        kind: &'static str,
        help: &str,
        suffix: &'static str,
        labels: String,
        value: String,
    ) {
        let f = self
            .families
            .entry(name.to_owned())
            .or_insert_with(|| Family {
                help: help.to_owned(),
                kind,
                samples: Vec::new(),
            });
        f.samples.push((suffix, labels, value));
    }

    /// Adds every numeric `key=value` of an info answer as a gauge `<prefix><key>`.
    fn add_info(&mut self, prefix: &str, what: &str, labels: &str, pairs: &[(String, String)]) {
        for (k, v) in pairs {
            let Some(value) = numeric(v) else { continue };
            let name = format!("{prefix}{}", sanitize(k));
            self.add(
                &name,
                "gauge",
                &format!("Aerospike {what} statistic {k}"),
                labels.to_owned(),
                value,
            );
        }
    }

    fn render(&self) -> String {
        let mut out = String::new();
        for (name, f) in &self.families {
            let _ = writeln!(out, "# HELP {name} {}", f.help);
            let _ = writeln!(out, "# TYPE {name} {}", f.kind);
            for (suffix, labels, value) in &f.samples {
                if labels.is_empty() {
                    let _ = writeln!(out, "{name}{suffix} {value}");
                } else {
                    let _ = writeln!(out, "{name}{suffix}{{{labels}}} {value}");
                }
            }
        }
        out
    }
}

/// The `/metrics` body.
pub fn render(ctx: &NodeContext) -> String {
    let mut e = Exposition::default();
    let node = label_pairs(&[("node", &ctx.node_name())]);
    e.add(
        "aerospike_node_up",
        "gauge",
        "1 while the node answers",
        node.clone(),
        "1".into(),
    );
    let stats = parse_pairs(&aerie_info::answer(ctx, "statistics"));
    e.add_info("aerospike_node_stats_", "node", &node, &stats);
    for ns in ctx.registry.iter() {
        let labels = label_pairs(&[("ns", &ns.name)]);
        let pairs = parse_pairs(&aerie_info::answer(ctx, &format!("namespace/{}", ns.name)));
        e.add_info("aerospike_namespace_", "namespace", &labels, &pairs);
    }
    for set in parse_list(&aerie_info::answer(ctx, "sets")) {
        let get = |k: &str| set.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str());
        let (Some(ns), Some(name)) = (get("ns"), get("set")) else {
            continue;
        };
        let labels = label_pairs(&[("ns", ns), ("set", name)]);
        let rest: Vec<(String, String)> = set
            .iter()
            .filter(|(k, _)| k != "ns" && k != "set")
            .cloned()
            .collect();
        e.add_info("aerospike_sets_", "set", &labels, &rest);
    }
    histogram(&mut e, &ctx.latencies.batch_index, "batch_index", None);
    for ns in &ctx.latencies.namespaces {
        for (h, kind) in [
            (&ns.read, "read"),
            (&ns.write, "write"),
            (&ns.udf, "udf"),
            (&ns.batch_sub_read, "batch_sub_read"),
            (&ns.batch_sub_write, "batch_sub_write"),
            (&ns.batch_sub_udf, "batch_sub_udf"),
            (&ns.pi_query, "pi_query"),
            (&ns.si_query, "si_query"),
        ] {
            histogram(&mut e, h, kind, Some(&ns.name));
        }
    }
    if let Some(rss) = process::rss_bytes() {
        e.add(
            "process_resident_memory_bytes",
            "gauge",
            "Resident memory size in bytes",
            String::new(),
            rss.to_string(),
        );
    }
    if let Some(ms) = process::cpu_ms() {
        e.add(
            "process_cpu_seconds_total",
            "counter",
            "User and system CPU time spent in seconds",
            String::new(),
            format!("{:.2}", ms as f64 / 1000.0),
        );
    }
    e.render()
}

/// `aerospike_latencies_<kind>_ms` as a cumulative Prometheus histogram (1 ms … 65536 ms).
fn histogram(e: &mut Exposition, h: &Histogram, kind: &str, ns: Option<&str>) {
    let name = format!("aerospike_latencies_{kind}_ms");
    let help = format!("Latency of {kind} transactions in milliseconds");
    let ns_label = ns.map(|n| label_pairs(&[("ns", n)]));
    let with = |extra: Option<String>| match (&ns_label, extra) {
        (Some(a), Some(b)) => format!("{a},{b}"),
        (Some(a), None) => a.clone(),
        (None, Some(b)) => b,
        (None, None) => String::new(),
    };
    let counts = h.ms_buckets();
    let total: u64 = counts.iter().sum();
    let mut cumulative = 0u64;
    let hist = "histogram";
    for (b, c) in counts.iter().take(N_LATENCY_COLS).enumerate() {
        cumulative += c;
        // Bucket b holds [2^(b-1), 2^b) ms, so everything counted so far is under 2^b.
        let le = with(Some(format!("le=\"{}\"", 1u64 << b)));
        e.add_sample(&name, hist, &help, "_bucket", le, cumulative.to_string());
    }
    let inf = with(Some("le=\"+Inf\"".to_owned()));
    e.add_sample(&name, hist, &help, "_bucket", inf, total.to_string());
    let sum_ms = format!("{:.3}", h.sum_us() as f64 / 1000.0);
    e.add_sample(&name, hist, &help, "_sum", with(None), sum_ms);
    e.add_sample(&name, hist, &help, "_count", with(None), total.to_string());
}

/// `k1="v1",k2="v2"` with values escaped.
fn label_pairs(pairs: &[(&str, &str)]) -> String {
    pairs
        .iter()
        .map(|(k, v)| {
            let v = v
                .replace('\\', "\\\\")
                .replace('"', "\\\"")
                .replace('\n', "\\n");
            format!("{k}=\"{v}\"")
        })
        .collect::<Vec<_>>()
        .join(",")
}

/// A metric name from a statistic name: `[a-zA-Z0-9_]`, everything else becomes `_`.
fn sanitize(name: &str) -> String {
    name.chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect()
}

/// A sample value: finite numbers as they are, booleans as 1/0, anything else `None`.
fn numeric(v: &str) -> Option<String> {
    match v {
        "true" => Some("1".into()),
        "false" => Some("0".into()),
        _ => v
            .parse::<f64>()
            .ok()
            .filter(|f| f.is_finite() && !v.is_empty() && !v.contains(['i', 'I', 'n', 'N']))
            .map(|_| v.to_owned()),
    }
}

/// `k=v;k=v` → pairs (the shape of `statistics` and `namespace/<ns>`).
pub fn parse_pairs(text: &str) -> Vec<(String, String)> {
    text.split(';')
        .filter_map(|p| p.split_once('='))
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect()
}

/// `k=v:k=v;k=v:k=v` (sets, sindexes) or `k=v,k=v;` (udf-list) → one list of pairs per
/// entry. An `ERROR:` answer or an empty one is an empty list.
pub fn parse_list(text: &str) -> Vec<Vec<(String, String)>> {
    if text.starts_with("ERROR") {
        return Vec::new();
    }
    text.split(';')
        .filter(|entry| !entry.is_empty())
        .map(|entry| {
            let sep = if entry.contains(':') { ':' } else { ',' };
            entry
                .split(sep)
                .filter_map(|p| p.split_once('='))
                .map(|(k, v)| (k.to_owned(), v.to_owned()))
                .collect()
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_are_numbers_or_booleans_only() {
        assert_eq!(numeric("12"), Some("12".into()));
        assert_eq!(numeric("1.5"), Some("1.5".into()));
        assert_eq!(numeric("true"), Some("1".into()));
        assert_eq!(numeric("memory"), None);
        assert_eq!(numeric("inf"), None);
        assert_eq!(numeric("NaN"), None);
        assert_eq!(numeric(""), None);
        assert_eq!(numeric("BB9"), None);
    }

    #[test]
    fn names_and_labels_are_escaped() {
        assert_eq!(sanitize("replication-factor"), "replication_factor");
        assert_eq!(sanitize("service.port"), "service_port");
        assert_eq!(label_pairs(&[("ns", "a\"b\\")]), "ns=\"a\\\"b\\\\\"");
    }

    #[test]
    fn info_lists_parse() {
        let sets = parse_list("ns=test:set=demo:objects=3;ns=test:set=b:objects=1;");
        assert_eq!(sets.len(), 2);
        assert_eq!(sets[0][2], ("objects".into(), "3".into()));
        let udfs = parse_list("filename=a.lua,hash=abc,type=LUA;");
        assert_eq!(udfs[0][0], ("filename".into(), "a.lua".into()));
        assert!(parse_list("").is_empty());
        assert!(parse_list("ERROR:4:x").is_empty());
    }
}
