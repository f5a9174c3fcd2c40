//! `aerie bench sindex`: a secondary-index benchmark. Loads `-k` records whose integer bin `v`
//! equals their key, builds a numeric index on `v` (timing the background build), then
//! measures:
//!
//! - equality queries on a random value (one matching record each): latency percentiles;
//! - range queries of `--range-width` values: queries/s and records/s;
//! - full scans of the set: records/s.
//!
//! Every query's record count is checked against what the loaded data implies, so a wrong
//! answer fails the run instead of producing a flattering figure.

use std::time::{Duration, Instant};

use aerie_proto::msg::{field, info1, info2, info3, op};
use aerie_proto::{MsgHeader, MsgWriter, ProtoType, MSG_HEADER_SIZE};
use aerie_record::{compute_digest, particle};

use crate::conn::{CallError, Conn};
use crate::request::ReplyError;
use crate::rng::Rng;

/// Counts the records in one frame of a scan/query reply; returns `Some(rc)` once the LAST
/// message was seen. Partition-done markers are not records.
pub(crate) fn count_stream_frame(body: &[u8], records: &mut u64) -> Result<Option<u8>, ReplyError> {
    let mut rest = body;
    while !rest.is_empty() {
        let h = MsgHeader::parse(rest).map_err(|_| ReplyError::Malformed)?;
        let after = rest.get(MSG_HEADER_SIZE..).ok_or(ReplyError::Malformed)?;
        let (_, used) =
            aerie_proto::Msg::parse_parts(h, after).map_err(|_| ReplyError::Malformed)?;
        rest = after.get(used..).ok_or(ReplyError::Malformed)?;
        if h.info3 & info3::LAST != 0 {
            return Ok(Some(h.result_code));
        }
        if h.info3 & info3::PARTITION_DONE == 0 && h.result_code == 0 {
            *records += 1;
        }
    }
    Ok(None)
}

/// `aerie bench sindex` flags.
#[derive(clap::Args, Debug, Clone)]
#[command(disable_help_flag = true)]
pub struct SindexCli {
    #[command(flatten)]
    pub connect: aerie_cli::ConnectArgs,
    /// Namespace.
    #[arg(short = 'n', long, default_value = "test")]
    pub namespace: String,
    /// Set.
    #[arg(short = 's', long, default_value = "sbench")]
    pub set: String,
    /// Records.
    #[arg(short = 'k', long, default_value_t = 1_000_000, value_parser = clap::value_parser!(u64).range(1..=i64::MAX as u64))]
    pub keys: u64,
    /// Connections used to load.
    #[arg(short = 'z', long, default_value_t = 32, value_parser = clap::value_parser!(u64).range(1..=1024))]
    pub threads: u64,
    /// The records are already there (from an earlier run).
    #[arg(long)]
    pub skip_load: bool,
    /// Equality queries.
    #[arg(long, value_name = "N", default_value_t = 2000)]
    pub equality: u64,
    /// Range queries.
    #[arg(long, value_name = "N", default_value_t = 50)]
    pub ranges: u64,
    /// Values per range query.
    #[arg(long, value_name = "N", default_value_t = 10_000, value_parser = clap::value_parser!(u64).range(1..))]
    pub range_width: u64,
    /// Full scans.
    #[arg(long, value_name = "N", default_value_t = 3)]
    pub scans: u64,
    /// Per call, in ms.
    #[arg(long = "socket-timeout", value_name = "MS", default_value_t = 60_000)]
    pub socket_timeout_ms: u64,
    /// Print help.
    #[arg(long, action = clap::ArgAction::Help)]
    pub help: Option<bool>,
}

/// Parsed options.
#[derive(Debug, Clone)]
pub struct SindexArgs {
    pub addr: String,
    pub namespace: String,
    pub set: String,
    pub keys: u64,
    pub threads: usize,
    pub skip_load: bool,
    pub equality: u64,
    pub ranges: u64,
    pub range_width: u64,
    pub scans: u64,
    pub socket_timeout: Duration,
}

impl SindexCli {
    /// The run these flags describe.
    pub fn to_args(&self) -> Result<SindexArgs, String> {
        Ok(SindexArgs {
            addr: self.connect.first_addr()?,
            namespace: self.namespace.clone(),
            set: self.set.clone(),
            keys: self.keys,
            threads: usize::try_from(self.threads).map_err(|e| e.to_string())?,
            skip_load: self.skip_load,
            equality: self.equality,
            ranges: self.ranges,
            range_width: self.range_width,
            scans: self.scans,
            socket_timeout: Duration::from_millis(self.socket_timeout_ms),
        })
    }
}

/// The figures of one run.
#[derive(Debug, Clone, Default)]
pub struct Figures {
    pub load_secs: f64,
    pub index_build_secs: f64,
    pub eq_p50_us: u64,
    pub eq_p99_us: u64,
    pub eq_mean_us: f64,
    pub range_queries_per_sec: f64,
    pub range_records_per_sec: f64,
    pub scan_records_per_sec: f64,
}

impl std::fmt::Display for Figures {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        writeln!(f, "load:            {:.2} s", self.load_secs)?;
        writeln!(f, "index build:     {:.2} s", self.index_build_secs)?;
        writeln!(
            f,
            "equality query:  p50 {} us, p99 {} us, mean {:.0} us",
            self.eq_p50_us, self.eq_p99_us, self.eq_mean_us
        )?;
        writeln!(
            f,
            "range queries:   {:.1} queries/s, {:.0} records/s",
            self.range_queries_per_sec, self.range_records_per_sec
        )?;
        writeln!(
            f,
            "full scan:       {:.0} records/s",
            self.scan_records_per_sec
        )
    }
}

/// `aerie bench sindex`: exit status 0, 1 on a failed run, 2 on bad arguments.
pub fn main(cli: &SindexCli) -> u8 {
    let a = match cli.to_args() {
        Ok(a) => a,
        Err(msg) => {
            eprintln!("aerie bench sindex: {msg}");
            return 2;
        }
    };
    let rt = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("aerie bench sindex: cannot start the runtime: {e}");
            return 1;
        }
    };
    match rt.block_on(run(&a)) {
        Ok(fig) => {
            aerie_cli::print_stdout(&fig.to_string());
            0
        }
        Err(msg) => {
            eprintln!("aerie bench sindex: {msg}");
            1
        }
    }
}

fn err(e: CallError) -> String {
    e.to_string()
}

/// Runs the whole benchmark.
pub async fn run(a: &SindexArgs) -> Result<Figures, String> {
    let mut fig = Figures::default();
    if !a.skip_load {
        let t = Instant::now();
        load(a).await?;
        fig.load_secs = t.elapsed().as_secs_f64();
        eprintln!("loaded {} records in {:.2} s", a.keys, fig.load_secs);
    }
    let mut conn = Conn::connect(&a.addr, a.socket_timeout)
        .await
        .map_err(err)?;
    let index = format!("{}_v", a.set);
    let t = Instant::now();
    let created = conn
        .info(&[&format!(
            "sindex-create:namespace={};set={};indexname={index};bin=v;type=numeric",
            a.namespace, a.set
        )])
        .await
        .map_err(err)?;
    if created.contains("ERROR") {
        return Err(format!("sindex-create: {}", created.trim()));
    }
    let stat = format!("sindex-stat:namespace={};indexname={index}", a.namespace);
    loop {
        let s = conn.info(&[&stat]).await.map_err(err)?;
        if s.contains("load_pct=100") {
            break;
        }
        if t.elapsed() > a.socket_timeout * 10 {
            return Err(format!("index build did not finish: {}", s.trim()));
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    fig.index_build_secs = t.elapsed().as_secs_f64();
    eprintln!("index built in {:.2} s", fig.index_build_secs);

    let keys = a.keys as i64;
    let mut rng = Rng::new(0x5EED_1DE8);
    let mut buf = Vec::new();

    // Equality: one record per value.
    let mut lat_us = Vec::with_capacity(a.equality as usize);
    for _ in 0..a.equality {
        let v = (rng.next_u64() % a.keys) as i64;
        query_frame(&mut buf, a, Some((&index, v, v)), rng.next_u64());
        let t = Instant::now();
        let n = conn.call_stream(&buf).await.map_err(err)?;
        lat_us.push(t.elapsed().as_micros() as u64);
        if n != 1 {
            return Err(format!(
                "equality query on {v} returned {n} records, expected 1"
            ));
        }
    }
    if !lat_us.is_empty() {
        lat_us.sort_unstable();
        let at = |q: f64| {
            let i = ((lat_us.len() as f64 - 1.0) * q).round() as usize;
            lat_us.get(i).copied().unwrap_or(0)
        };
        fig.eq_p50_us = at(0.50);
        fig.eq_p99_us = at(0.99);
        fig.eq_mean_us = lat_us.iter().sum::<u64>() as f64 / lat_us.len() as f64;
    }

    // Ranges of `range_width` values.
    let width = a.range_width.min(a.keys) as i64;
    let t = Instant::now();
    let mut records = 0u64;
    for _ in 0..a.ranges {
        let lo = (rng.next_u64() % (a.keys - width as u64 + 1)) as i64;
        let hi = lo + width - 1;
        query_frame(&mut buf, a, Some((&index, lo, hi)), rng.next_u64());
        let n = conn.call_stream(&buf).await.map_err(err)?;
        if n != width as u64 {
            return Err(format!(
                "range [{lo}, {hi}] returned {n} records, expected {width}"
            ));
        }
        records += n;
    }
    let secs = t.elapsed().as_secs_f64().max(1e-9);
    if a.ranges > 0 {
        fig.range_queries_per_sec = a.ranges as f64 / secs;
        fig.range_records_per_sec = records as f64 / secs;
    }

    // Full scans.
    let t = Instant::now();
    let mut records = 0u64;
    for _ in 0..a.scans {
        query_frame(&mut buf, a, None, rng.next_u64());
        let n = conn.call_stream(&buf).await.map_err(err)?;
        if n != keys as u64 {
            return Err(format!("scan returned {n} records, expected {keys}"));
        }
        records += n;
    }
    let secs = t.elapsed().as_secs_f64().max(1e-9);
    if a.scans > 0 {
        fig.scan_records_per_sec = records as f64 / secs;
    }
    Ok(fig)
}

/// Loads keys `0..keys` with `v = key`, `threads` connections each taking every n-th key.
async fn load(a: &SindexArgs) -> Result<(), String> {
    let mut tasks = Vec::with_capacity(a.threads);
    for t in 0..a.threads as u64 {
        let a = a.clone();
        tasks.push(tokio::spawn(async move {
            let mut conn = Conn::connect(&a.addr, a.socket_timeout)
                .await
                .map_err(err)?;
            let mut buf = Vec::new();
            let mut key = t;
            while key < a.keys {
                write_frame(&mut buf, &a, key as i64);
                let rc = conn.call_single(&buf).await.map_err(err)?;
                if rc != 0 {
                    return Err(format!("write of key {key} answered {rc}"));
                }
                key += a.threads as u64;
            }
            Ok::<(), String>(())
        }));
    }
    for t in tasks {
        t.await.map_err(|e| format!("loader: {e}"))??;
    }
    Ok(())
}

fn write_frame(buf: &mut Vec<u8>, a: &SindexArgs, key: i64) {
    buf.clear();
    let kb = key.to_be_bytes();
    let digest = compute_digest(a.set.as_bytes(), particle::INTEGER, &kb);
    let mut w = MsgWriter::begin(buf, ProtoType::Msg);
    w.header(&MsgHeader {
        info2: info2::WRITE,
        ..Default::default()
    });
    w.field(field::NAMESPACE, a.namespace.as_bytes());
    w.field(field::SET, a.set.as_bytes());
    w.field(field::DIGEST, &digest);
    w.op(op::WRITE, particle::INTEGER, b"v", &kb);
    w.finish();
}

/// A query (with an integer range on `index`) or, without a range, a scan of the set.
fn query_frame(buf: &mut Vec<u8>, a: &SindexArgs, range: Option<(&str, i64, i64)>, task: u64) {
    buf.clear();
    let mut w = MsgWriter::begin(buf, ProtoType::Msg);
    w.header(&MsgHeader {
        info1: info1::READ,
        ..Default::default()
    });
    w.field(field::NAMESPACE, a.namespace.as_bytes());
    w.field(field::SET, a.set.as_bytes());
    w.field(field::TASK_ID, &task.to_be_bytes());
    if let Some((index, lo, hi)) = range {
        w.field(field::INDEX_NAME, index.as_bytes());
        let mut r = Vec::with_capacity(32);
        r.push(1); // one range
        r.push(1); // bin-name length
        r.push(b'v');
        r.push(particle::INTEGER);
        for bound in [lo, hi] {
            r.extend_from_slice(&8u32.to_be_bytes());
            r.extend_from_slice(&bound.to_be_bytes());
        }
        w.field(field::INDEX_RANGE, &r);
    }
    w.finish();
}
