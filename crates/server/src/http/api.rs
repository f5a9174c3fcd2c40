//! `/api/status`: everything the console shows, as one JSON document the page polls.
//!
//! Statistics are passed through from the info answers as strings (the page formats
//! them), so new statistics need no change here. Sections with nothing to show (no
//! secondary indexes, no UDF modules yet) are empty lists, which the page renders as "none".

use std::fmt::Write as _;
use std::sync::atomic::Ordering;

use aerie_info::{process, Kind, NodeContext};

use super::metrics::{parse_list, parse_pairs};

/// The `/api/status` body.
pub fn status(ctx: &NodeContext) -> String {
    let mut j = String::with_capacity(16 * 1024);
    j.push('{');
    field_str(&mut j, "node", &ctx.node_name());
    field_str(&mut j, "endpoint", &ctx.service_endpoint);
    field_str(
        &mut j,
        "cluster_name",
        ctx.config.service.cluster_name.as_deref().unwrap_or("null"),
    );
    field_str(&mut j, "build", aerie_info::COMPAT_BUILD);
    field_str(&mut j, "aerie_version", aerie_info::AERIE_VERSION);
    field_num(&mut j, "uptime_secs", ctx.started.elapsed().as_secs());
    field_num(
        &mut j,
        "ticker_interval_secs",
        u64::from(ctx.config.service.ticker_interval_secs.max(1)),
    );
    field_num(&mut j, "rss_bytes", process::rss_bytes().unwrap_or(0));
    field_num(&mut j, "cpu_ms", process::cpu_ms().unwrap_or(0));
    field_num(
        &mut j,
        "client_connections",
        ctx.service_stats.client_connections.load(Ordering::Relaxed),
    );

    key(&mut j, "statistics");
    object(&mut j, &parse_pairs(&aerie_info::answer(ctx, "statistics")));
    j.push(',');

    key(&mut j, "namespaces");
    j.push('[');
    for (i, ns) in ctx.registry.iter().enumerate() {
        if i > 0 {
            j.push(',');
        }
        j.push('{');
        field_str(&mut j, "name", &ns.name);
        key(&mut j, "stats");
        let stats = aerie_info::answer(ctx, &format!("namespace/{}", ns.name));
        object(&mut j, &parse_pairs(&stats));
        j.push('}');
    }
    j.push_str("],");

    for (name, cmd) in [
        ("sets", "sets"),
        ("sindexes", "sindex-list"),
        ("udfs", "udf-list"),
    ] {
        key(&mut j, name);
        list(&mut j, &parse_list(&aerie_info::answer(ctx, cmd)));
        j.push(',');
    }

    key(&mut j, "latencies");
    list(
        &mut j,
        &latency_rows(&aerie_info::answer(ctx, "latencies:")),
    );
    j.push(',');

    series(&mut j, ctx);
    j.push('}');
    j
}

/// The `latencies:` answer as rows: name, units, ops/s and the first thresholds (`gt_1` … in
/// the row's units: `msec`, or `usec` under `microsecond-histograms`).
fn latency_rows(text: &str) -> Vec<Vec<(String, String)>> {
    text.split(';')
        .filter_map(|entry| entry.split_once(':'))
        .map(|(name, data)| {
            let mut row = vec![("name".to_owned(), name.to_owned())];
            let mut cols = data.split(',');
            row.push(("units".into(), cols.next().unwrap_or("").to_owned()));
            row.push(("ops_per_sec".into(), cols.next().unwrap_or("").to_owned()));
            for (label, v) in ["gt_1", "gt_2", "gt_4", "gt_8", "gt_16", "gt_32", "gt_64"]
                .iter()
                .zip(cols)
            {
                row.push(((*label).to_owned(), v.to_owned()));
            }
            row
        })
        .collect()
}

/// `"series": {"t": [...], "secs": [...], "counts": {kind: [...]}, "p50_us": …, "p99_us": …}`
/// over the kept per-second samples.
fn series(j: &mut String, ctx: &NodeContext) {
    let samples = ctx.latencies.samples();
    key(j, "series");
    j.push('{');
    key(j, "t");
    numbers(j, samples.iter().map(|s| s.unix_ms.to_string()));
    j.push(',');
    key(j, "secs");
    numbers(j, samples.iter().map(|s| format!("{:.3}", s.secs)));
    for (section, pick) in [("counts", 0usize), ("p50_us", 1), ("p99_us", 2)] {
        j.push(',');
        key(j, section);
        j.push('{');
        for (i, kind) in Kind::ALL.iter().enumerate() {
            if i > 0 {
                j.push(',');
            }
            key(j, kind.name());
            numbers(
                j,
                samples.iter().map(|s| {
                    let v = match pick {
                        0 => s.counts.get(i).copied(),
                        1 => Some(s.p50(*kind)),
                        _ => Some(s.p99(*kind)),
                    };
                    v.unwrap_or(0).to_string()
                }),
            );
        }
        j.push('}');
    }
    j.push('}');
}

fn numbers(j: &mut String, values: impl Iterator<Item = String>) {
    j.push('[');
    for (i, v) in values.enumerate() {
        if i > 0 {
            j.push(',');
        }
        j.push_str(&v);
    }
    j.push(']');
}

fn key(j: &mut String, k: &str) {
    string(j, k);
    j.push(':');
}

fn field_str(j: &mut String, k: &str, v: &str) {
    key(j, k);
    string(j, v);
    j.push(',');
}

fn field_num(j: &mut String, k: &str, v: u64) {
    key(j, k);
    let _ = write!(j, "{v},");
}

fn object(j: &mut String, pairs: &[(String, String)]) {
    j.push('{');
    for (i, (k, v)) in pairs.iter().enumerate() {
        if i > 0 {
            j.push(',');
        }
        key(j, k);
        string(j, v);
    }
    j.push('}');
}

fn list(j: &mut String, rows: &[Vec<(String, String)>]) {
    j.push('[');
    for (i, row) in rows.iter().enumerate() {
        if i > 0 {
            j.push(',');
        }
        object(j, row);
    }
    j.push(']');
}

/// A JSON string literal, escaped per RFC 8259.
fn string(j: &mut String, s: &str) {
    j.push('"');
    for c in s.chars() {
        match c {
            '"' => j.push_str("\\\""),
            '\\' => j.push_str("\\\\"),
            '\n' => j.push_str("\\n"),
            '\r' => j.push_str("\\r"),
            '\t' => j.push_str("\\t"),
            c if (c as u32) < 0x20 => {
                let _ = write!(j, "\\u{:04x}", c as u32);
            }
            c => j.push(c),
        }
    }
    j.push('"');
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strings_are_escaped() {
        let mut j = String::new();
        string(&mut j, "a\"b\\c\n\u{1}é");
        assert_eq!(j, "\"a\\\"b\\\\c\\n\\u0001é\"");
    }

    #[test]
    fn latency_rows_follow_the_info_answer() {
        let rows = latency_rows("batch-index:;{test}-read:msec,12.5,1.00,0.50,0.00");
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[0][0].1, "batch-index");
        assert_eq!(rows[1][2], ("ops_per_sec".into(), "12.5".into()));
        assert_eq!(rows[1][3], ("gt_1".into(), "1.00".into()));
    }
}
