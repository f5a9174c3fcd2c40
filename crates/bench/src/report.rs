//! What the bench prints: a per-period line in asbench's shape, `hdr:` latency lines, and a
//! final summary as text or JSON.
//!
//! Period line (asbench's layout, so existing log scrapers work):
//! `2026-01-02 03:04:05.678 INFO write(tps=.. timeouts=.. errors=..) read(tps=.. ..) total(tps=.. ..)`.
//! Latency line per kind: `hdr: read  <UTC time> <secs running>, <count>, <min>, <max>, <p50>,
//! <p90>, <p99>, <p99.9>` in microseconds (asbench's `hdr:` columns with our percentiles).

use std::fmt::Write as _;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::args::BenchArgs;
use crate::stats::{Latency, OpKind, OpStats, StageStats};

/// Header printed once before the first `hdr:` line.
pub const HDR_FORMAT: &str =
    "hdr histogram format: UTC-time, seconds-running, total, min-latency, max-latency, 50%,90%,99%,99.9% (microseconds)";

/// Summary of one kind of transaction over a stage.
#[derive(Debug, Clone, PartialEq)]
pub struct OpSummary {
    pub name: &'static str,
    pub count: u64,
    pub keys: u64,
    pub not_found: u64,
    pub errors: u64,
    pub timeouts: u64,
    pub tps: f64,
    pub latency_us: Latency,
}

impl OpSummary {
    pub fn of(name: &'static str, s: &OpStats, elapsed: Duration) -> OpSummary {
        let secs = elapsed.as_secs_f64().max(1e-9);
        OpSummary {
            name,
            count: s.ok,
            keys: s.keys,
            not_found: s.not_found,
            errors: s.errors,
            timeouts: s.timeouts,
            tps: s.ok as f64 / secs,
            latency_us: Latency::of(&s.hist),
        }
    }
}

/// Summary of one stage.
#[derive(Debug, Clone, PartialEq)]
pub struct StageSummary {
    pub workload: String,
    pub elapsed: Duration,
    /// Kinds that ran, in the order write, read, batch.
    pub ops: Vec<OpSummary>,
    pub total: OpSummary,
    /// Server result codes other than OK/NOT_FOUND, with counts.
    pub codes: Vec<(u8, u64)>,
    pub conn_errors: u64,
    /// CPU time (user + system) the bench process itself spent during the stage, when the
    /// platform tells (Linux `/proc/self/stat`): how far the bench is from being the bottleneck.
    pub client_cpu: Option<Duration>,
}

impl StageSummary {
    pub fn of(workload: String, s: &StageStats, elapsed: Duration) -> Result<StageSummary, String> {
        let ops = OpKind::ALL
            .iter()
            .filter(|k| s.op(**k).attempts() > 0)
            .map(|k| OpSummary::of(k.name(), s.op(*k), elapsed))
            .collect();
        let total = OpSummary::of("total", &s.total()?, elapsed);
        let codes = (0u8..=255)
            .zip(s.codes.iter())
            .filter(|(_, n)| **n > 0)
            .map(|(c, n)| (c, *n))
            .collect();
        Ok(StageSummary {
            workload,
            elapsed,
            ops,
            total,
            codes,
            conn_errors: s.conn_errors,
            client_cpu: None,
        })
    }
}

/// The per-period lines for one period of `period` length, `running` into the stage.
pub fn period_lines(
    s: &StageStats,
    period: Duration,
    running: Duration,
    insert: bool,
    inserted_total: u64,
) -> String {
    let secs = period.as_secs_f64().max(1e-9);
    let tps = |o: &OpStats| (o.ok as f64 / secs).round() as u64;
    let mut out = format!("{} INFO", local_stamp(SystemTime::now()));
    if insert {
        let w = &s.write;
        let _ = write!(
            out,
            " write(tps={} timeouts={} errors={} total={})",
            tps(w),
            w.timeouts,
            w.errors,
            inserted_total
        );
    } else {
        let (mut t_tps, mut t_to, mut t_err) = (0, 0, 0);
        for k in OpKind::ALL {
            let o = s.op(k);
            if k == OpKind::Batch && o.attempts() == 0 {
                continue;
            }
            let _ = write!(
                out,
                " {}(tps={} timeouts={} errors={})",
                k.name(),
                tps(o),
                o.timeouts,
                o.errors
            );
            t_tps += tps(o);
            t_to += o.timeouts;
            t_err += o.errors;
        }
        let _ = write!(out, " total(tps={t_tps} timeouts={t_to} errors={t_err})");
    }
    out.push('\n');
    let stamp = utc_iso(SystemTime::now());
    for k in OpKind::ALL {
        let o = s.op(k);
        if o.ok == 0 {
            continue;
        }
        let l = Latency::of(&o.hist);
        let _ = writeln!(
            out,
            "hdr: {:<5} {stamp} {}, {}, {}, {}, {}, {}, {}, {}",
            k.name(),
            running.as_secs(),
            o.ok,
            l.min,
            l.max,
            l.p50,
            l.p90,
            l.p99,
            l.p99_9
        );
    }
    out
}

/// Human-readable final summary.
pub fn summary_text(stages: &[StageSummary]) -> String {
    let mut out = String::new();
    for (i, st) in stages.iter().enumerate() {
        let _ = writeln!(
            out,
            "stage {}: {} over {:.1} s",
            i + 1,
            st.workload,
            st.elapsed.as_secs_f64()
        );
        for o in st.ops.iter().chain(std::iter::once(&st.total)) {
            let l = &o.latency_us;
            // Batch transactions cover several keys each; say how many.
            let keys = if o.keys != o.count {
                format!(
                    " ({} keys, {:.0} keys/s)",
                    o.keys,
                    o.keys as f64 / st.elapsed.as_secs_f64().max(1e-9)
                )
            } else {
                String::new()
            };
            let _ = writeln!(
                out,
                "  {:<6} {:>10} tx {:>10.0} tps{keys}  errors {} timeouts {} not-found {}  latency us: p50 {} p90 {} p99 {} p99.9 {} max {}",
                o.name, o.count, o.tps, o.errors, o.timeouts, o.not_found, l.p50, l.p90, l.p99, l.p99_9, l.max
            );
        }
        if !st.codes.is_empty() {
            let codes: Vec<String> = st
                .codes
                .iter()
                .map(|(c, n)| format!("rc {c}: {n}"))
                .collect();
            let _ = writeln!(out, "  server result codes: {}", codes.join(", "));
        }
        if st.conn_errors > 0 {
            let _ = writeln!(out, "  connection errors: {}", st.conn_errors);
        }
        if let Some(cpu) = st.client_cpu {
            let attempts = (st.total.count + st.total.errors + st.total.timeouts).max(1);
            let _ = writeln!(
                out,
                "  bench CPU: {:.2} s ({:.1} us per transaction, {:.0}% of one core)",
                cpu.as_secs_f64(),
                cpu.as_secs_f64() * 1e6 / attempts as f64,
                100.0 * cpu.as_secs_f64() / st.elapsed.as_secs_f64().max(1e-9)
            );
        }
    }
    out
}

/// The final summary as one JSON object:
/// `{"stages":[{"workload":"RU,50","duration_secs":..,"total":{op},"ops":[{op}..],"result_codes":{"9":1},"connection_errors":0,"client_cpu_secs":..}],"config":{..}}`
/// where `{op}` = `{"name","count","keys","not_found","errors","timeouts","tps","latency_us":{"min","p50","p90","p99","p99_9","max","mean"}}`.
pub fn summary_json(args: &BenchArgs, stages: &[StageSummary]) -> String {
    let mut out = String::from("{\"stages\":[");
    for (i, st) in stages.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        let _ = write!(
            out,
            "{{\"workload\":{},\"duration_secs\":{:.3},\"total\":",
            json_str(&st.workload),
            st.elapsed.as_secs_f64()
        );
        op_json(&mut out, &st.total);
        out.push_str(",\"ops\":[");
        for (j, o) in st.ops.iter().enumerate() {
            if j > 0 {
                out.push(',');
            }
            op_json(&mut out, o);
        }
        out.push_str("],\"result_codes\":{");
        for (j, (c, n)) in st.codes.iter().enumerate() {
            let _ = write!(out, "{}\"{c}\":{n}", if j > 0 { "," } else { "" });
        }
        let _ = write!(out, "}},\"connection_errors\":{}", st.conn_errors);
        if let Some(cpu) = st.client_cpu {
            let _ = write!(out, ",\"client_cpu_secs\":{:.3}", cpu.as_secs_f64());
        }
        out.push('}');
    }
    out.push_str("],\"config\":");
    config_json(&mut out, args);
    out.push('}');
    out
}

/// The run's settings, so a JSON summary says what was measured.
fn config_json(out: &mut String, a: &BenchArgs) {
    let stages: Vec<String> = a.stages().iter().map(ToString::to_string).collect();
    let _ = write!(
        out,
        "{{\"node\":{},\"namespace\":{},\"set\":{},\"start_key\":{},\"keys\":{},\"object_spec\":{},\
         \"random_values\":{},\"workloads\":{},\"connections\":{},\"throughput_tps\":{},\"batch_size\":{},\
         \"duration_secs\":{},\"count\":{},\"read_filter\":{}}}",
        json_str(&a.addr()),
        json_str(&a.namespace),
        json_str(&a.set),
        a.start_key,
        a.keys,
        json_str(&crate::spec::describe(&a.bins)),
        a.random_values,
        json_str(&stages.join(" ")),
        a.connections,
        a.throughput_tps,
        a.batch_size,
        a.duration.map_or("null".to_owned(), |d| d.as_secs().to_string()),
        a.count.map_or("null".to_owned(), |c| c.to_string()),
        a.read_filter,
    );
}

fn op_json(out: &mut String, o: &OpSummary) {
    let l = &o.latency_us;
    let _ = write!(
        out,
        "{{\"name\":\"{}\",\"count\":{},\"keys\":{},\"not_found\":{},\"errors\":{},\"timeouts\":{},\"tps\":{:.1},\
         \"latency_us\":{{\"min\":{},\"p50\":{},\"p90\":{},\"p99\":{},\"p99_9\":{},\"max\":{},\"mean\":{:.1}}}}}",
        o.name, o.count, o.keys, o.not_found, o.errors, o.timeouts, o.tps, l.min, l.p50, l.p90, l.p99, l.p99_9, l.max, l.mean
    );
}

fn json_str(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// CPU time (user + system) this process has used so far, from `/proc/self/stat` (Linux);
/// `None` elsewhere.
pub fn process_cpu() -> Option<Duration> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // Fields after the parenthesized command name; utime and stime are fields 14 and 15.
    let after = stat.get(stat.rfind(')')? + 1..)?;
    let mut f = after.split_whitespace().skip(11);
    let utime: u64 = f.next()?.parse().ok()?;
    let stime: u64 = f.next()?.parse().ok()?;
    // USER_HZ is 100 on every Linux configuration that matters here.
    Some(Duration::from_millis((utime + stime) * 10))
}

/// `YYYY-MM-DD HH:MM:SS.mmm` in UTC (asbench prints local time; the machines here run UTC).
fn local_stamp(t: SystemTime) -> String {
    let d = t.duration_since(UNIX_EPOCH).unwrap_or_default();
    let (y, mo, da, h, mi, s) = civil(d.as_secs());
    format!(
        "{y:04}-{mo:02}-{da:02} {h:02}:{mi:02}:{s:02}.{:03}",
        d.subsec_millis()
    )
}

/// `YYYY-MM-DDTHH:MM:SSZ`.
fn utc_iso(t: SystemTime) -> String {
    let d = t.duration_since(UNIX_EPOCH).unwrap_or_default();
    let (y, mo, da, h, mi, s) = civil(d.as_secs());
    format!("{y:04}-{mo:02}-{da:02}T{h:02}:{mi:02}:{s:02}Z")
}

/// Unix seconds to (year, month, day, hour, minute, second), by Howard Hinnant's
/// days-from-civil inverse.
fn civil(unix_secs: u64) -> (i64, u32, u32, u32, u32, u32) {
    let days = (unix_secs / 86_400) as i64;
    let rem = unix_secs % 86_400;
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (
        year,
        month,
        day,
        (rem / 3600) as u32,
        (rem % 3600 / 60) as u32,
        (rem % 60) as u32,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn process_cpu_reads_proc_on_linux() {
        if cfg!(target_os = "linux") {
            assert!(process_cpu().is_some());
        }
    }

    #[test]
    fn civil_dates() {
        assert_eq!(civil(0), (1970, 1, 1, 0, 0, 0));
        assert_eq!(
            civil(1_262_304_000),
            (2010, 1, 1, 0, 0, 0),
            "the Aerospike epoch"
        );
        assert_eq!(civil(951_825_599), (2000, 2, 29, 11, 59, 59));
    }

    #[test]
    fn json_shape() -> Result<(), String> {
        let mut s = StageStats::new()?;
        s.record_answer(OpKind::Read, 0, 100, 1);
        s.record_answer(OpKind::Write, 9, 100, 1);
        let st = StageSummary::of("RU,\"50\"".to_owned(), &s, Duration::from_secs(2))?;
        let j = summary_json(&BenchArgs::default(), &[st]);
        assert!(j.starts_with("{\"stages\":[{\"workload\":\"RU,\\\"50\\\"\",\"duration_secs\":2.000,\"total\":{\"name\":\"total\",\"count\":1,"), "{j}");
        assert!(j.contains("\"result_codes\":{\"9\":1}"), "{j}");
        assert!(j.contains("{\"name\":\"read\",\"count\":1,\"keys\":1,\"not_found\":0,\"errors\":0,\"timeouts\":0,\"tps\":0.5,"), "{j}");
        assert_eq!(j.matches('{').count(), j.matches('}').count());
        assert!(j.ends_with(",\"config\":{\"node\":\"127.0.0.1:3000\",\"namespace\":\"test\",\"set\":\"testset\",\"start_key\":0,\"keys\":1000000,\"object_spec\":\"I4\",\"random_values\":false,\"workloads\":\"RU,50\",\"connections\":16,\"throughput_tps\":0,\"batch_size\":1,\"duration_secs\":null,\"count\":null,\"read_filter\":false}}"), "{j}");
        Ok(())
    }

    #[test]
    fn period_line_shape() -> Result<(), String> {
        let mut s = StageStats::new()?;
        s.record_answer(OpKind::Read, 0, 250, 1);
        let text = period_lines(&s, Duration::from_secs(1), Duration::from_secs(3), false, 0);
        let first = text.lines().next().unwrap_or_default();
        assert!(first.ends_with(" INFO write(tps=0 timeouts=0 errors=0) read(tps=1 timeouts=0 errors=0) total(tps=1 timeouts=0 errors=0)"), "{first}");
        assert!(text.contains("hdr: read  "), "{text}");
        assert!(
            text.contains(" 3, 1, 250, 250, 250, 250, 250, 250"),
            "{text}"
        );
        Ok(())
    }
}
