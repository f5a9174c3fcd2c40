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

use crate::args::{parse_host, DEFAULT_PORT};
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

pub const USAGE: &str = "usage: aerie bench sindex [options]
Secondary-index benchmark: load KEYS records (bin v = key), index v, then time equality
queries, range queries and full scans. Every answer is checked.
  -h, --hosts HOST[:PORT]  node (default 127.0.0.1:3000)
  -n, --namespace NS       namespace (default test)
  -s, --set SET            set (default sbench)
  -k, --keys N             records (default 1000000)
  -z, --threads N          connections used to load (default 32)
      --skip-load          the records are already there (from an earlier run)
      --equality N         equality queries (default 2000)
      --ranges N           range queries (default 50)
      --range-width N      values per range query (default 10000)
      --scans N            full scans (default 3)
      --socket-timeout MS  per call (default 60000)";

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

/// Parses `aerie bench sindex` arguments; `Ok(None)` = help.
pub fn parse(argv: &[String]) -> Result<Option<SindexArgs>, String> {
    let mut a = SindexArgs {
        addr: format!("127.0.0.1:{DEFAULT_PORT}"),
        namespace: "test".to_owned(),
        set: "sbench".to_owned(),
        keys: 1_000_000,
        threads: 32,
        skip_load: false,
        equality: 2000,
        ranges: 50,
        range_width: 10_000,
        scans: 3,
        socket_timeout: Duration::from_secs(60),
    };
    let mut it = argv.iter();
    while let Some(flag) = it.next() {
        let mut value = || {
            it.next()
                .cloned()
                .ok_or_else(|| format!("{flag} needs a value"))
        };
        let number = |v: String| -> Result<u64, String> {
            v.parse()
                .map_err(|_| format!("{flag}: '{v}' is not a number"))
        };
        match flag.as_str() {
            "--help" => return Ok(None),
            "-h" | "--hosts" => {
                let v = value()?;
                let (host, port) = parse_host(&v)?;
                a.addr = format!("{host}:{}", port.unwrap_or(DEFAULT_PORT));
            }
            "-n" | "--namespace" => a.namespace = value()?,
            "-s" | "--set" => a.set = value()?,
            "-k" | "--keys" => a.keys = number(value()?)?,
            "-z" | "--threads" => a.threads = number(value()?)?.clamp(1, 1024) as usize,
            "--skip-load" => a.skip_load = true,
            "--equality" => a.equality = number(value()?)?,
            "--ranges" => a.ranges = number(value()?)?,
            "--range-width" => a.range_width = number(value()?)?.max(1),
            "--scans" => a.scans = number(value()?)?,
            "--socket-timeout" => a.socket_timeout = Duration::from_millis(number(value()?)?),
            other => return Err(format!("unknown option '{other}'")),
        }
    }
    if a.keys == 0 || a.keys > i64::MAX as u64 {
        return Err("--keys must be at least 1".to_owned());
    }
    Ok(Some(a))
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

/// `aerie bench sindex ARGS`: exit status 0, 1 on a failed run, 2 on bad arguments.
pub fn main(argv: &[String]) -> u8 {
    let a = match parse(argv) {
        Ok(Some(a)) => a,
        Ok(None) => {
            println!("{USAGE}");
            return 0;
        }
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
            print!("{fig}");
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
