//! The ticker: every `ticker-interval` seconds a block of log lines with the node's main figures, in
//! the shape of aerospike-server's `as/src/base/ticker.c` (`NODE-ID … CLUSTER-SIZE …`,
//! `{ns} objects: …`, `{ns} client: …`, histogram dumps), plus one Aerie summary line of
//! ops/s and latency. It also closes the latency slices `latencies:` reports and takes the
//! per-second activity samples the console draws.

use std::fmt::Write as _;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

use aerie_info::{percentile_us, process, BatchSubKind, Histogram, Kind, NodeContext, N_BUCKETS};

/// The ticker period from the service's `ticker-interval` (Aerospike's default 10 s; 0 ticks
/// every second, like Aerospike's once-a-second ticker loop).
pub fn ticker_period(ctx: &NodeContext) -> Duration {
    Duration::from_secs(u64::from(ctx.config.service.ticker_interval_secs.max(1)))
}

/// Times every batch row into its namespace's `{ns}-batch-sub-*` histogram.
pub fn observe_batch_rows(ctx: Arc<NodeContext>) {
    aerie_transaction::set_row_observer(Box::new(move |ns, kind, elapsed| {
        let kind = match kind {
            aerie_transaction::RowKind::Read => BatchSubKind::Read,
            aerie_transaction::RowKind::Write => BatchSubKind::Write,
            aerie_transaction::RowKind::Udf => BatchSubKind::Udf,
        };
        ctx.latencies.record_batch_sub(ns, kind, elapsed);
    }));
}
/// How often the console's activity samples are taken.
const SAMPLE_PERIOD: Duration = Duration::from_secs(1);

/// Starts the sampler and the ticker in the background.
pub fn spawn(ctx: Arc<NodeContext>) {
    let sampler = ctx.clone();
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(SAMPLE_PERIOD);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            sampler.latencies.sample();
        }
    });
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(ticker_period(&ctx));
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut last_cpu: Option<(Instant, u64)> = None;
        let mut last_us: Option<(Instant, Vec<[u64; N_BUCKETS]>)> = None;
        loop {
            tick.tick().await;
            ctx.latencies.tick_slice();
            let now = Instant::now();
            let us = ctx.latencies.us_by_kind();
            let period = last_us.as_ref().map(|(at, prev)| {
                (
                    now.saturating_duration_since(*at).as_secs_f64(),
                    delta(prev, &us),
                )
            });
            last_us = Some((now, us));
            let cpu = process::cpu_ms();
            let cpu_pct = match (last_cpu, cpu) {
                (Some((at, before)), Some(ms)) => {
                    let wall_ms = now.saturating_duration_since(at).as_millis().max(1) as u64;
                    ms.saturating_sub(before) * 100 / wall_ms
                }
                _ => 0,
            };
            last_cpu = cpu.map(|ms| (now, ms));
            for line in lines(&ctx, cpu_pct, period.as_ref()) {
                tracing::info!(target: "aerie::ticker", "{line}");
            }
        }
    });
}

/// The ticker's lines, in the order Aerospike logs them.
/// `period`: the ticker period's length and its microsecond buckets per kind.
pub fn lines(
    ctx: &NodeContext,
    cpu_pct: u64,
    period: Option<&(f64, Vec<[u64; N_BUCKETS]>)>,
) -> Vec<String> {
    let mut out = Vec::new();
    let cluster_name = ctx.config.service.cluster_name.as_deref().unwrap_or("null");
    out.push(format!(
        "NODE-ID {:x} CLUSTER-SIZE 1 CLUSTER-NAME {cluster_name}",
        ctx.node_id
    ));
    out.push(format!(
        "   process: cpu-pct {cpu_pct} threads {} rss-kbytes {}",
        process::threads().unwrap_or(0),
        process::rss_bytes().unwrap_or(0) / 1024
    ));
    let s = &ctx.service_stats;
    out.push(format!(
        "   fds: proto ({},{},{})",
        s.client_connections.load(Ordering::Relaxed),
        s.client_connections_opened.load(Ordering::Relaxed),
        s.client_connections_closed.load(Ordering::Relaxed)
    ));
    out.push(format!(
        "   batch-index: batches ({},0,0)",
        ctx.latencies.batch_index.total()
    ));
    out.push(summary(period));
    for ns in ctx.registry.iter() {
        let n = &ns.name;
        let objects = ns.n_objects();
        out.push(format!(
            "{{{n}}} objects: all {objects} master {objects} prole 0 non-replica 0"
        ));
        let u = &ns.usage;
        out.push(format!(
            "{{{n}}} data-usage: used-bytes {} avail-pct {}",
            u.data_bytes.load(Ordering::Relaxed),
            100u64.saturating_sub(u.used_pct.load(Ordering::Relaxed))
        ));
        let c = &ns.stats;
        let get = |a: &std::sync::atomic::AtomicU64| a.load(Ordering::Relaxed);
        out.push(format!(
            "{{{n}}} client: read ({},{},0,{},0) write ({},{},0,0) delete ({},0,0,{},0) udf ({},{},0,{}) lang ({},{},{},{})",
            get(&c.client_read_success),
            get(&c.client_read_error),
            get(&c.client_read_not_found),
            get(&c.client_write_success),
            get(&c.client_write_error),
            get(&c.client_delete_success),
            get(&c.client_delete_not_found),
            get(&c.udf.client.udf_complete),
            get(&c.udf.client.udf_error),
            get(&c.udf.client.udf_filtered_out),
            get(&c.udf.client.lang_read_success),
            get(&c.udf.client.lang_write_success),
            get(&c.udf.client.lang_delete_success),
            get(&c.udf.client.lang_error),
        ));
        let sub = &c.udf.udf_sub;
        if get(&sub.udf_complete) + get(&sub.udf_error) + get(&sub.udf_filtered_out) != 0 {
            out.push(format!(
                "{{{n}}} udf-sub: udf ({},{},0,{}) lang ({},{},{},{})",
                get(&sub.udf_complete),
                get(&sub.udf_error),
                get(&sub.udf_filtered_out),
                get(&sub.lang_read_success),
                get(&sub.lang_write_success),
                get(&sub.lang_delete_success),
                get(&sub.lang_error),
            ));
        }
    }
    for h in ctx.latencies.all() {
        dump(h, &mut out);
    }
    out
}

/// `   ops-per-sec: read 120.0 write 3.0 … latency-us (p50,p99): read (16,64) …` over the
/// last ticker period (bucket upper bounds, so `16` means "under 16 µs").
fn summary(period: Option<&(f64, Vec<[u64; N_BUCKETS]>)>) -> String {
    let mut ops = String::from("   ops-per-sec:");
    let mut lat = String::from(" latency-us (p50,p99):");
    for (i, kind) in Kind::ALL.iter().enumerate() {
        const EMPTY: [u64; N_BUCKETS] = [0; N_BUCKETS];
        let (secs, buckets) = period
            .and_then(|(secs, b)| b.get(i).map(|b| (*secs, b)))
            .unwrap_or((0.0, &EMPTY));
        let n: u64 = buckets.iter().sum();
        let tps = if secs > 0.0 { n as f64 / secs } else { 0.0 };
        let _ = write!(ops, " {} {tps:.1}", kind.name());
        let _ = write!(
            lat,
            " {} ({},{})",
            kind.name(),
            percentile_us(buckets, n, 50),
            percentile_us(buckets, n, 99)
        );
    }
    ops + &lat
}

/// Per-kind bucket counts added between two snapshots.
fn delta(prev: &[[u64; N_BUCKETS]], cur: &[[u64; N_BUCKETS]]) -> Vec<[u64; N_BUCKETS]> {
    cur.iter()
        .zip(prev)
        .map(|(c, p)| {
            std::array::from_fn(|b| {
                let now = c.get(b).copied().unwrap_or(0);
                now.saturating_sub(p.get(b).copied().unwrap_or(0))
            })
        })
        .collect()
}

/// Aerospike's histogram dump: `{test}-read (12 total) msec` then `(00: 0000000010) …`
/// lines, four buckets a line, for histograms that have counted something.
fn dump(h: &Histogram, out: &mut Vec<String>) {
    let counts = h.scaled_buckets();
    let total: u64 = counts.iter().sum();
    if total == 0 {
        return;
    }
    let unit = if h.is_micros() { "usec" } else { "msec" };
    out.push(format!(
        "histogram dump: {} ({total} total) {unit}",
        h.name()
    ));
    let mut line = String::new();
    let mut in_line = 0;
    for (b, c) in counts.iter().enumerate().filter(|(_, c)| **c > 0) {
        let _ = write!(line, " ({b:02}: {c:010})");
        in_line += 1;
        if in_line == 4 {
            out.push(std::mem::take(&mut line));
            in_line = 0;
        }
    }
    if !line.is_empty() {
        out.push(line);
    }
}
