//! Latency histograms and the node's activity samples.
//!
//! Each histogram counts transactions in log2 buckets, as aerospike-server's `cf/src/hist.c`
//! does: bucket 0 holds `[0, 1)` units, bucket `b` holds `[2^(b-1), 2^b)`. Every histogram
//! keeps two bucket arrays, milliseconds (what `latencies:` reports, Aerospike's default
//! scale) and microseconds (what the console and the ticker summary use, since a local
//! transaction takes far less than a millisecond).
//!
//! Names and grouping follow Aerospike (`as/src/base/cfg.c`, `thr_info.c` `cmd_latencies`):
//! a node-wide `batch-index` histogram and, per namespace, `{ns}-read`, `{ns}-write`,
//! `{ns}-udf`, `{ns}-batch-sub-read`, `{ns}-batch-sub-write`, `{ns}-batch-sub-udf` (one
//! count per batch row), `{ns}-pi-query` and `{ns}-si-query`.
//!
//! With the service's `microsecond-histograms true`, `latencies:` reports the microsecond
//! buckets under `usec` instead of `msec`, as Aerospike's `HIST_MICROSECONDS` scale does.
//!
//! `latencies:` reports the last ticker slice, as Aerospike does: [`Latencies::tick_slice`]
//! (called every ticker period) turns the counts added since the previous call into
//! `msec,<ops/s>,<pct over 1ms>,<pct over 2ms>,…` (17 thresholds, 1 ms to 65536 ms). Until two
//! ticks have passed the slice is empty (`name:;`). Separately, [`Latencies::sample`] (called
//! every second) keeps a short history of per-second counts and percentiles for the console.

// hot path: `record` runs once per client request.

use std::collections::VecDeque;
use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use aerie_config::NamespaceConfig;
use aerie_proto::msg::{field, info1, info2, MSG_HEADER_SIZE};

/// Buckets per histogram: one for zero, one per bit of a u64.
pub const N_BUCKETS: usize = 1 + 64;
/// Thresholds `latencies:` reports: over 2^0 … 2^16 units.
pub const N_LATENCY_COLS: usize = 1 + 16;
/// Per-second samples kept for the console (five minutes).
pub const MAX_SAMPLES: usize = 300;

/// What a client request was, for the histogram it lands in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Read,
    Write,
    Udf,
    /// A scan (primary-index query).
    PiQuery,
    /// A secondary-index query.
    SiQuery,
    Batch,
}

impl Kind {
    /// Every kind, in the order of [`Sample`]'s arrays.
    pub const ALL: [Kind; 6] = [
        Kind::Read,
        Kind::Write,
        Kind::Batch,
        Kind::Udf,
        Kind::PiQuery,
        Kind::SiQuery,
    ];

    /// The name used in `statistics` and by the console.
    pub fn name(self) -> &'static str {
        match self {
            Kind::Read => "read",
            Kind::Write => "write",
            Kind::Udf => "udf",
            Kind::PiQuery => "pi_query",
            Kind::SiQuery => "si_query",
            Kind::Batch => "batch_index",
        }
    }

    fn index(self) -> usize {
        match self {
            Kind::Read => 0,
            Kind::Write => 1,
            Kind::Batch => 2,
            Kind::Udf => 3,
            Kind::PiQuery => 4,
            Kind::SiQuery => 5,
        }
    }
}

const N_KINDS: usize = Kind::ALL.len();

/// One log2 latency histogram. Recording is three relaxed atomic adds.
#[derive(Debug)]
pub struct Histogram {
    name: String,
    /// `latencies:` reports microseconds (`usec`) rather than milliseconds (`msec`).
    micros: bool,
    ms: [AtomicU64; N_BUCKETS],
    us: [AtomicU64; N_BUCKETS],
    /// Sum of all recorded latencies, in µs (Prometheus' `_sum`).
    sum_us: AtomicU64,
    /// Ticker-only state; never touched on the request path.
    slice: Mutex<Slice>,
}

#[derive(Debug, Default)]
struct Slice {
    at: Option<Instant>,
    total: u64,
    overs: [u64; N_LATENCY_COLS],
    /// What `latencies:` prints after `name:`, `;` included.
    output: String,
}

impl Histogram {
    /// An empty histogram called `name` (e.g. `{test}-read`).
    pub fn new(name: impl Into<String>) -> Self {
        Self::with_scale(name, false)
    }

    /// An empty histogram whose `latencies:` slices are in microseconds when `micros`.
    pub fn with_scale(name: impl Into<String>, micros: bool) -> Self {
        Self {
            name: name.into(),
            micros,
            ms: std::array::from_fn(|_| AtomicU64::new(0)),
            us: std::array::from_fn(|_| AtomicU64::new(0)),
            sum_us: AtomicU64::new(0),
            slice: Mutex::new(Slice {
                output: ";".to_owned(),
                ..Slice::default()
            }),
        }
    }

    /// Whether `latencies:` and the ticker report this histogram in microseconds.
    pub fn is_micros(&self) -> bool {
        self.micros
    }

    /// The buckets in the reporting scale (µs under `microsecond-histograms`, else ms).
    pub fn scaled_buckets(&self) -> [u64; N_BUCKETS] {
        if self.micros {
            self.us_buckets()
        } else {
            self.ms_buckets()
        }
    }

    /// The histogram's name as `latencies:` prints it.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Counts one transaction that took `elapsed`.
    #[inline]
    pub fn insert(&self, elapsed: Duration) {
        let ns = u64::try_from(elapsed.as_nanos()).unwrap_or(u64::MAX);
        if let Some(c) = self.ms.get(bucket(ns / 1_000_000)) {
            c.fetch_add(1, Ordering::Relaxed);
        }
        if let Some(c) = self.us.get(bucket(ns / 1_000)) {
            c.fetch_add(1, Ordering::Relaxed);
        }
        self.sum_us.fetch_add(ns / 1_000, Ordering::Relaxed);
    }

    /// Sum of all recorded latencies, in µs.
    pub fn sum_us(&self) -> u64 {
        self.sum_us.load(Ordering::Relaxed)
    }

    /// Transactions counted since start.
    pub fn total(&self) -> u64 {
        self.ms.iter().map(|c| c.load(Ordering::Relaxed)).sum()
    }

    /// A copy of the millisecond buckets.
    pub fn ms_buckets(&self) -> [u64; N_BUCKETS] {
        std::array::from_fn(|i| self.ms.get(i).map_or(0, |c| c.load(Ordering::Relaxed)))
    }

    /// A copy of the microsecond buckets.
    pub fn us_buckets(&self) -> [u64; N_BUCKETS] {
        std::array::from_fn(|i| self.us.get(i).map_or(0, |c| c.load(Ordering::Relaxed)))
    }

    /// Closes a ticker slice: computes ops/s and the share of transactions over each
    /// threshold since the previous call. Returns `(transactions, seconds)` of the slice.
    pub fn tick_slice(&self, now: Instant) -> (u64, f64) {
        let counts = if self.micros {
            self.us_buckets()
        } else {
            self.ms_buckets()
        };
        let total: u64 = counts.iter().sum();
        let mut slice = self.slice.lock().unwrap_or_else(|p| p.into_inner());
        let secs = slice
            .at
            .map_or(0.0, |at| now.saturating_duration_since(at).as_secs_f64());
        let diff_total = total.saturating_sub(slice.total);
        let mut output = String::with_capacity(150);
        if slice.at.is_some() {
            let tps = if secs > 0.0 {
                diff_total as f64 / secs
            } else {
                0.0
            };
            let unit = if self.micros { "usec" } else { "msec" };
            let _ = write!(output, "{unit},{tps:.1}");
        }
        let mut subtotal = 0u64;
        for (b, count) in counts.iter().take(N_LATENCY_COLS).enumerate() {
            subtotal += count;
            let over = total.saturating_sub(subtotal);
            let prev = slice.overs.get(b).copied().unwrap_or(0);
            let pct = if diff_total == 0 {
                0.0
            } else {
                over.saturating_sub(prev) as f64 * 100.0 / diff_total as f64
            };
            if slice.at.is_some() {
                let _ = write!(output, ",{pct:.2}");
            }
            if let Some(o) = slice.overs.get_mut(b) {
                *o = over;
            }
        }
        output.push(';');
        slice.output = output;
        slice.at = Some(now);
        slice.total = total;
        (diff_total, secs)
    }

    /// Appends `name:<last slice>;` as `latencies:` prints it.
    pub fn push_latencies(&self, out: &mut String) {
        out.push_str(&self.name);
        out.push(':');
        let slice = self.slice.lock().unwrap_or_else(|p| p.into_inner());
        out.push_str(&slice.output);
    }
}

/// The bucket of a value: 0 for 0, else the position (1…64) of its most significant bit.
#[inline]
fn bucket(v: u64) -> usize {
    (u64::BITS - v.leading_zeros()) as usize
}

/// One namespace's histograms.
#[derive(Debug)]
pub struct NsHistograms {
    pub name: String,
    pub read: Histogram,
    pub write: Histogram,
    pub udf: Histogram,
    /// One count per batch row, by the row's kind (Aerospike's `batch_sub_*_hist`).
    pub batch_sub_read: Histogram,
    pub batch_sub_write: Histogram,
    pub batch_sub_udf: Histogram,
    pub pi_query: Histogram,
    pub si_query: Histogram,
}

impl NsHistograms {
    fn new(name: &str, micros: bool) -> Self {
        let h = |what: &str| Histogram::with_scale(format!("{{{name}}}-{what}"), micros);
        Self {
            name: name.to_owned(),
            read: h("read"),
            write: h("write"),
            udf: h("udf"),
            batch_sub_read: h("batch-sub-read"),
            batch_sub_write: h("batch-sub-write"),
            batch_sub_udf: h("batch-sub-udf"),
            pi_query: h("pi-query"),
            si_query: h("si-query"),
        }
    }

    /// The histograms in the order `latencies:` lists them (aerospike-server's cfg.c order).
    pub fn all(&self) -> [&Histogram; 8] {
        [
            &self.read,
            &self.write,
            &self.udf,
            &self.batch_sub_read,
            &self.batch_sub_write,
            &self.batch_sub_udf,
            &self.pi_query,
            &self.si_query,
        ]
    }

    /// The batch-sub histogram of a row of `kind` (read, write or udf).
    pub fn batch_sub(&self, kind: BatchSubKind) -> &Histogram {
        match kind {
            BatchSubKind::Read => &self.batch_sub_read,
            BatchSubKind::Write => &self.batch_sub_write,
            BatchSubKind::Udf => &self.batch_sub_udf,
        }
    }

    fn of(&self, kind: Kind) -> Option<&Histogram> {
        match kind {
            Kind::Read => Some(&self.read),
            Kind::Write => Some(&self.write),
            Kind::Udf => Some(&self.udf),
            Kind::PiQuery => Some(&self.pi_query),
            Kind::SiQuery => Some(&self.si_query),
            Kind::Batch => None,
        }
    }
}

/// What one batch row does, for its `{ns}-batch-sub-*` histogram.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BatchSubKind {
    Read,
    Write,
    Udf,
}

/// One second of node activity, summed over namespaces, indexed like [`Kind::ALL`].
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Sample {
    pub unix_ms: u64,
    /// Length of the sample.
    pub secs: f64,
    /// Transactions finished during the sample.
    pub counts: [u64; N_KINDS],
    /// Upper bound of the bucket holding the median, in µs (0 without transactions).
    pub p50_us: [u64; N_KINDS],
    /// Upper bound of the bucket holding the 99th percentile, in µs.
    pub p99_us: [u64; N_KINDS],
}

impl Sample {
    /// Transactions per second of `kind` during the sample.
    pub fn ops_per_sec(&self, kind: Kind) -> f64 {
        let n = self.counts.get(kind.index()).copied().unwrap_or(0);
        if self.secs > 0.0 {
            n as f64 / self.secs
        } else {
            0.0
        }
    }

    pub fn p50(&self, kind: Kind) -> u64 {
        self.p50_us.get(kind.index()).copied().unwrap_or(0)
    }

    pub fn p99(&self, kind: Kind) -> u64 {
        self.p99_us.get(kind.index()).copied().unwrap_or(0)
    }
}

#[derive(Debug, Default)]
struct Sampler {
    at: Option<Instant>,
    prev_us: Vec<[u64; N_BUCKETS]>,
    samples: VecDeque<Sample>,
}

/// Every latency histogram of the node, plus the console's per-second history.
#[derive(Debug)]
pub struct Latencies {
    pub batch_index: Histogram,
    pub namespaces: Vec<NsHistograms>,
    sampler: Mutex<Sampler>,
}

impl Latencies {
    /// Histograms for the configured namespaces, in configuration order; `latencies:` in
    /// microseconds when `micros` (the service's `microsecond-histograms`).
    pub fn new(namespaces: &[NamespaceConfig], micros: bool) -> Self {
        Self::with_scale(namespaces.iter().map(|n| n.name.as_str()), micros)
    }

    /// Histograms for the namespaces called `names`, in milliseconds.
    pub fn with_names<'a>(names: impl Iterator<Item = &'a str>) -> Self {
        Self::with_scale(names, false)
    }

    /// Histograms for the namespaces called `names`, `latencies:` in µs when `micros`.
    pub fn with_scale<'a>(names: impl Iterator<Item = &'a str>, micros: bool) -> Self {
        Self {
            batch_index: Histogram::with_scale("batch-index", micros),
            namespaces: names.map(|n| NsHistograms::new(n, micros)).collect(),
            sampler: Mutex::new(Sampler::default()),
        }
    }

    /// Records one batch row of namespace `ns` that took `elapsed`.
    #[inline]
    pub fn record_batch_sub(&self, ns: &[u8], kind: BatchSubKind, elapsed: Duration) {
        if let Some(n) = self.namespaces.iter().find(|n| n.name.as_bytes() == ns) {
            n.batch_sub(kind).insert(elapsed);
        }
    }

    /// Records one client request (an `as_msg` body) that started at `started`.
    /// Requests too malformed to classify are not counted.
    #[inline]
    pub fn record(&self, body: &[u8], started: Instant) {
        let Some((kind, ns)) = classify(body) else {
            return;
        };
        let elapsed = started.elapsed();
        if kind == Kind::Batch {
            self.batch_index.insert(elapsed);
            return;
        }
        if let Some(h) = self
            .namespaces
            .iter()
            .find(|n| n.name.as_bytes() == ns)
            .and_then(|n| n.of(kind))
        {
            h.insert(elapsed);
        }
    }

    /// Every histogram, `batch-index` first, as `latencies:` lists them.
    pub fn all(&self) -> impl Iterator<Item = &Histogram> {
        std::iter::once(&self.batch_index).chain(self.namespaces.iter().flat_map(|n| n.all()))
    }

    /// The histogram called `name` (`batch-index`, `{ns}-read` …).
    pub fn find(&self, name: &str) -> Option<&Histogram> {
        self.all().find(|h| h.name == name)
    }

    /// The `latencies:[hist=<name>]` answer.
    pub fn answer(&self, args: &str) -> String {
        let mut out = String::new();
        match aerie_proto::info::param(args, "hist") {
            None | Some("") => self.all().for_each(|h| h.push_latencies(&mut out)),
            Some(name) => match self.find(name) {
                Some(h) => h.push_latencies(&mut out),
                None => return "ERROR:4:bad hist name".to_owned(),
            },
        }
        // Aerospike chomps the last separator of the answer.
        out.pop();
        out
    }

    /// Closes a ticker slice on every histogram; see [`Histogram::tick_slice`].
    pub fn tick_slice(&self) {
        let now = Instant::now();
        for h in self.all() {
            h.tick_slice(now);
        }
    }

    /// Takes one activity sample (call about once a second) and keeps the last
    /// [`MAX_SAMPLES`].
    pub fn sample(&self) {
        let now = Instant::now();
        let per_kind = self.us_by_kind();
        let mut s = self.sampler.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(at) = s.at {
            let mut sample = Sample {
                unix_ms: unix_ms(),
                secs: now.saturating_duration_since(at).as_secs_f64(),
                ..Sample::default()
            };
            for (k, cur) in per_kind.iter().enumerate() {
                let prev = s.prev_us.get(k).copied().unwrap_or([0; N_BUCKETS]);
                let delta: [u64; N_BUCKETS] = std::array::from_fn(|b| {
                    let c = cur.get(b).copied().unwrap_or(0);
                    c.saturating_sub(prev.get(b).copied().unwrap_or(0))
                });
                let n: u64 = delta.iter().sum();
                if let Some(slot) = sample.counts.get_mut(k) {
                    *slot = n;
                }
                if let Some(slot) = sample.p50_us.get_mut(k) {
                    *slot = percentile_us(&delta, n, 50);
                }
                if let Some(slot) = sample.p99_us.get_mut(k) {
                    *slot = percentile_us(&delta, n, 99);
                }
            }
            if s.samples.len() >= MAX_SAMPLES {
                s.samples.pop_front();
            }
            s.samples.push_back(sample);
        }
        s.at = Some(now);
        s.prev_us = per_kind;
    }

    /// The kept samples, oldest first.
    pub fn samples(&self) -> Vec<Sample> {
        let s = self.sampler.lock().unwrap_or_else(|p| p.into_inner());
        s.samples.iter().cloned().collect()
    }

    /// The newest sample, if one was taken.
    pub fn last_sample(&self) -> Option<Sample> {
        let s = self.sampler.lock().unwrap_or_else(|p| p.into_inner());
        s.samples.back().cloned()
    }

    /// Appends the ops/s figures to a `statistics` answer (`k=v;` pairs).
    pub fn push_statistics(&self, out: &mut String) {
        let last = self.last_sample().unwrap_or_default();
        let _ = write!(out, "batch_index_initiate={};", self.batch_index.total());
        for kind in Kind::ALL {
            let _ = write!(
                out,
                "{}_ops_per_sec={:.1};",
                kind.name(),
                last.ops_per_sec(kind)
            );
        }
    }

    /// Microsecond buckets summed over namespaces, per kind (indexed like [`Kind::ALL`]).
    pub fn us_by_kind(&self) -> Vec<[u64; N_BUCKETS]> {
        let mut per_kind = vec![[0u64; N_BUCKETS]; N_KINDS];
        for kind in Kind::ALL {
            let Some(acc) = per_kind.get_mut(kind.index()) else {
                continue;
            };
            let hists: Vec<&Histogram> = if kind == Kind::Batch {
                vec![&self.batch_index]
            } else {
                self.namespaces.iter().filter_map(|n| n.of(kind)).collect()
            };
            for h in hists {
                for (a, c) in acc.iter_mut().zip(h.us_buckets()) {
                    *a += c;
                }
            }
        }
        per_kind
    }
}

/// The upper bound (µs) of the bucket holding the `pct`th percentile of `n` counts.
pub fn percentile_us(buckets: &[u64; N_BUCKETS], n: u64, pct: u64) -> u64 {
    if n == 0 {
        return 0;
    }
    let rank = (n * pct).div_ceil(100).max(1);
    let mut seen = 0u64;
    for (b, c) in buckets.iter().enumerate() {
        seen += c;
        if seen >= rank {
            return 1u64.checked_shl(b as u32).unwrap_or(u64::MAX);
        }
    }
    u64::MAX
}

fn unix_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

/// Classifies a request from its header bits and field types, without decoding it: batch
/// (info1 BATCH or a batch field), query (no digest and no key; secondary-index when it
/// names an index range), UDF, write (info2 WRITE) or read. Returns the namespace field
/// too (empty for a batch, whose rows carry their own).
#[inline]
pub fn classify(body: &[u8]) -> Option<(Kind, &[u8])> {
    let header = body.get(..MSG_HEADER_SIZE)?;
    let info1_bits = *header.get(1)?;
    let info2_bits = *header.get(2)?;
    let n_fields = u16::from_be_bytes([*header.get(18)?, *header.get(19)?]);
    let header_sz = usize::from(*header.first()?).max(MSG_HEADER_SIZE);
    let mut rest = body.get(header_sz..)?;
    let (mut ns, mut keyed, mut batch, mut udf, mut sindex) = (&[][..], false, false, false, false);
    for _ in 0..n_fields {
        let (size_b, after) = rest.split_first_chunk::<4>()?;
        let size = usize::try_from(u32::from_be_bytes(*size_b)).ok()?;
        let (&ftype, data) = after.get(..size)?.split_first()?;
        match ftype {
            field::NAMESPACE => ns = data,
            field::DIGEST | field::KEY => keyed = true,
            field::BATCH_INDEX | field::BATCH_INDEX_WITH_SET => batch = true,
            field::UDF_FUNCTION => udf = true,
            field::INDEX_RANGE | field::INDEX_NAME | field::INDEX_EXPRESSION => sindex = true,
            _ => {}
        }
        rest = after.get(size..)?;
    }
    let kind = if batch || info1_bits & info1::BATCH != 0 {
        Kind::Batch
    } else if !keyed {
        if sindex {
            Kind::SiQuery
        } else {
            Kind::PiQuery
        }
    } else if udf {
        Kind::Udf
    } else if info2_bits & info2::WRITE != 0 {
        Kind::Write
    } else {
        Kind::Read
    };
    Some((kind, ns))
}

#[cfg(test)]
#[path = "latency_test.rs"]
mod tests;
