// hot path: every transaction records its latency here.
//! Counters and latency histograms (HdrHistogram, microseconds) per kind of transaction.
//!
//! Each worker records into its own [`StageStats`] behind its own mutex, so the lock is
//! uncontended except once per reporting period, when the reporter drains it.

use hdrhistogram::Histogram;

/// Highest latency a histogram tracks exactly; slower transactions count as this value.
pub const HIST_MAX_US: u64 = 60_000_000;
/// Significant decimal digits of every histogram (0.1% value resolution).
const HIST_SIGFIG: u8 = 3;

/// Result codes the bench files under "timeouts" rather than "errors" (TIMEOUT).
pub const RC_TIMEOUT: u8 = 9;
/// NOT_FOUND: a normal answer to a read of a key that was never inserted.
pub const RC_NOT_FOUND: u8 = 2;

/// Kinds of transaction, each with its own counters and histogram.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OpKind {
    Read,
    Write,
    Batch,
}

impl OpKind {
    pub const ALL: [OpKind; 3] = [OpKind::Write, OpKind::Read, OpKind::Batch];

    pub fn name(self) -> &'static str {
        match self {
            OpKind::Read => "read",
            OpKind::Write => "write",
            OpKind::Batch => "batch",
        }
    }
}

/// Counters and latencies of one kind of transaction.
#[derive(Debug, Clone)]
pub struct OpStats {
    /// Transactions that got an answer (success or not found).
    pub ok: u64,
    /// Keys those transactions covered (batch: rows; otherwise = ok).
    pub keys: u64,
    pub not_found: u64,
    pub errors: u64,
    pub timeouts: u64,
    /// Latency of answered transactions, in microseconds.
    pub hist: Histogram<u64>,
}

impl OpStats {
    pub fn new() -> Result<Self, String> {
        let hist = Histogram::new_with_bounds(1, HIST_MAX_US, HIST_SIGFIG)
            .map_err(|e| format!("histogram: {e}"))?;
        Ok(OpStats {
            ok: 0,
            keys: 0,
            not_found: 0,
            errors: 0,
            timeouts: 0,
            hist,
        })
    }

    /// Transactions attempted: answered, failed or timed out.
    pub fn attempts(&self) -> u64 {
        self.ok + self.errors + self.timeouts
    }

    #[inline]
    pub fn record_ok(&mut self, latency_us: u64, keys: u64) {
        self.ok += 1;
        self.keys += keys;
        self.hist.saturating_record(latency_us.max(1));
    }

    pub fn add(&mut self, other: &OpStats) {
        self.ok += other.ok;
        self.keys += other.keys;
        self.not_found += other.not_found;
        self.errors += other.errors;
        self.timeouts += other.timeouts;
        // Same bounds on both sides, so this cannot fail; a failure would only lose latencies.
        let _ = self.hist.add(&other.hist);
    }

    pub fn reset(&mut self) {
        self.ok = 0;
        self.keys = 0;
        self.not_found = 0;
        self.errors = 0;
        self.timeouts = 0;
        self.hist.reset();
    }
}

/// Everything one worker (or the whole stage) measured.
#[derive(Debug, Clone)]
pub struct StageStats {
    pub read: OpStats,
    pub write: OpStats,
    pub batch: OpStats,
    /// How often each server result code other than OK / NOT_FOUND was answered.
    pub codes: [u64; 256],
    /// Connection-level failures (I/O, malformed replies, refused connects).
    pub conn_errors: u64,
}

impl StageStats {
    pub fn new() -> Result<Self, String> {
        Ok(StageStats {
            read: OpStats::new()?,
            write: OpStats::new()?,
            batch: OpStats::new()?,
            codes: [0; 256],
            conn_errors: 0,
        })
    }

    #[inline]
    pub fn op_mut(&mut self, kind: OpKind) -> &mut OpStats {
        match kind {
            OpKind::Read => &mut self.read,
            OpKind::Write => &mut self.write,
            OpKind::Batch => &mut self.batch,
        }
    }

    pub fn op(&self, kind: OpKind) -> &OpStats {
        match kind {
            OpKind::Read => &self.read,
            OpKind::Write => &self.write,
            OpKind::Batch => &self.batch,
        }
    }

    /// Files a server answer: OK, NOT_FOUND (reads only), TIMEOUT, or an error code.
    #[inline]
    pub fn record_answer(&mut self, kind: OpKind, rc: u8, latency_us: u64, keys: u64) {
        match rc {
            0 => self.op_mut(kind).record_ok(latency_us, keys),
            RC_NOT_FOUND if kind != OpKind::Write => {
                let op = self.op_mut(kind);
                op.not_found += 1;
                op.record_ok(latency_us, keys);
            }
            RC_TIMEOUT => {
                self.op_mut(kind).timeouts += 1;
                self.bump_code(rc);
            }
            _ => {
                self.op_mut(kind).errors += 1;
                self.bump_code(rc);
            }
        }
    }

    /// Files a transaction that got no usable answer.
    pub fn record_failure(&mut self, kind: OpKind, timed_out: bool) {
        if timed_out {
            self.op_mut(kind).timeouts += 1;
        } else {
            self.op_mut(kind).errors += 1;
            self.conn_errors += 1;
        }
    }

    fn bump_code(&mut self, rc: u8) {
        if let Some(c) = self.codes.get_mut(rc as usize) {
            *c += 1;
        }
    }

    pub fn add(&mut self, other: &StageStats) {
        self.read.add(&other.read);
        self.write.add(&other.write);
        self.batch.add(&other.batch);
        for (a, b) in self.codes.iter_mut().zip(other.codes.iter()) {
            *a += b;
        }
        self.conn_errors += other.conn_errors;
    }

    pub fn reset(&mut self) {
        self.read.reset();
        self.write.reset();
        self.batch.reset();
        self.codes = [0; 256];
        self.conn_errors = 0;
    }

    /// All kinds merged, for the "total" line.
    pub fn total(&self) -> Result<OpStats, String> {
        let mut t = OpStats::new()?;
        for k in OpKind::ALL {
            t.add(self.op(k));
        }
        Ok(t)
    }
}

/// Latency percentiles of one histogram, in microseconds.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Latency {
    pub min: u64,
    pub p50: u64,
    pub p90: u64,
    pub p99: u64,
    pub p99_9: u64,
    pub max: u64,
    pub mean: f64,
}

impl Latency {
    pub fn of(h: &Histogram<u64>) -> Latency {
        if h.is_empty() {
            return Latency::default();
        }
        Latency {
            min: h.min(),
            p50: h.value_at_quantile(0.50),
            p90: h.value_at_quantile(0.90),
            p99: h.value_at_quantile(0.99),
            p99_9: h.value_at_quantile(0.999),
            max: h.max(),
            mean: h.mean(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_are_filed_by_code() -> Result<(), String> {
        let mut s = StageStats::new()?;
        s.record_answer(OpKind::Read, 0, 100, 1);
        s.record_answer(OpKind::Read, RC_NOT_FOUND, 200, 1);
        s.record_answer(OpKind::Write, RC_NOT_FOUND, 200, 1);
        s.record_answer(OpKind::Write, RC_TIMEOUT, 200, 1);
        s.record_failure(OpKind::Batch, false);
        assert_eq!((s.read.ok, s.read.not_found, s.read.errors), (2, 1, 0));
        assert_eq!((s.write.ok, s.write.errors, s.write.timeouts), (0, 1, 1));
        assert_eq!((s.batch.errors, s.conn_errors), (1, 1));
        assert_eq!((s.codes[2], s.codes[9]), (1, 1));

        let mut agg = StageStats::new()?;
        agg.add(&s);
        agg.add(&s);
        assert_eq!(agg.read.ok, 4);
        let t = agg.total()?;
        assert_eq!((t.ok, t.errors, t.timeouts), (4, 4, 2));
        let l = Latency::of(&t.hist);
        assert_eq!((l.min, l.max), (100, 200));
        assert!((99..=101).contains(&l.p50), "{l:?}");
        s.reset();
        assert_eq!(
            s.read.attempts() + s.write.attempts() + s.batch.attempts(),
            0
        );
        Ok(())
    }
}
