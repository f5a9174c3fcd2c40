//! UDF counters of a namespace, named as aerospike-server names them in `namespace/<ns>`:
//! `client_udf_*`/`client_lang_*` (single-record `apply`), `batch_sub_udf_*`/`batch_sub_lang_*`
//! (batch UDF rows), `udf_sub_udf_*`/`udf_sub_lang_*` (the records of background UDF jobs),
//! and the job counters `{pi,si}_query_udf_bg_*` and `{pi,si}_query_aggr_*`.

use std::sync::atomic::{AtomicU64, Ordering};

/// The outcome counters of one origin of record UDF calls.
#[derive(Debug, Default)]
pub struct UdfCounters {
    /// Calls that ran to their end (any of the `lang_*_success` below).
    pub udf_complete: AtomicU64,
    /// Calls answered with an error (a Lua error, or the write refused).
    pub udf_error: AtomicU64,
    /// Calls whose record did not pass the filter expression.
    pub udf_filtered_out: AtomicU64,
    /// Completed calls that left the record as it was.
    pub lang_read_success: AtomicU64,
    /// Completed calls that created or updated the record.
    pub lang_write_success: AtomicU64,
    /// Completed calls that removed the record.
    pub lang_delete_success: AtomicU64,
    /// Calls the Lua function failed (error raised, time or memory limit).
    pub lang_error: AtomicU64,
}

impl UdfCounters {
    fn visit(&self, prefix: &str, f: &mut impl FnMut(&str, &str, u64)) {
        let get = |a: &AtomicU64| a.load(Ordering::Relaxed);
        f(prefix, "udf_complete", get(&self.udf_complete));
        f(prefix, "udf_error", get(&self.udf_error));
        f(prefix, "udf_filtered_out", get(&self.udf_filtered_out));
        f(prefix, "lang_read_success", get(&self.lang_read_success));
        f(prefix, "lang_write_success", get(&self.lang_write_success));
        f(
            prefix,
            "lang_delete_success",
            get(&self.lang_delete_success),
        );
        f(prefix, "lang_error", get(&self.lang_error));
    }
}

/// How jobs of one kind ended.
#[derive(Debug, Default)]
pub struct JobCounters {
    pub complete: AtomicU64,
    pub error: AtomicU64,
    pub abort: AtomicU64,
}

impl JobCounters {
    fn visit(&self, prefix: &str, f: &mut impl FnMut(&str, &str, u64)) {
        let get = |a: &AtomicU64| a.load(Ordering::Relaxed);
        f(prefix, "complete", get(&self.complete));
        f(prefix, "error", get(&self.error));
        f(prefix, "abort", get(&self.abort));
    }
}

/// Every UDF counter of a namespace.
#[derive(Debug, Default)]
pub struct UdfStats {
    pub client: UdfCounters,
    pub batch_sub: UdfCounters,
    pub udf_sub: UdfCounters,
    /// Background UDF jobs over a scan (primary index) or a secondary-index query.
    pub pi_query_udf_bg: JobCounters,
    pub si_query_udf_bg: JobCounters,
    /// Stream UDF (aggregation) scans and queries.
    pub pi_query_aggr: JobCounters,
    pub si_query_aggr: JobCounters,
}

impl UdfStats {
    /// Calls `f(prefix, name, value)` for every counter, in the reference server's order;
    /// the statistic's name is `prefix` followed by `name`.
    pub fn visit(&self, mut f: impl FnMut(&str, &str, u64)) {
        self.client.visit("client_", &mut f);
        self.batch_sub.visit("batch_sub_", &mut f);
        self.udf_sub.visit("udf_sub_", &mut f);
        self.pi_query_aggr.visit("pi_query_aggr_", &mut f);
        self.pi_query_udf_bg.visit("pi_query_udf_bg_", &mut f);
        self.si_query_aggr.visit("si_query_aggr_", &mut f);
        self.si_query_udf_bg.visit("si_query_udf_bg_", &mut f);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_counter_is_visited_under_its_reference_name() {
        let s = UdfStats::default();
        s.client.lang_write_success.store(3, Ordering::Relaxed);
        s.si_query_udf_bg.abort.store(2, Ordering::Relaxed);
        let mut seen = Vec::new();
        s.visit(|p, n, v| seen.push((format!("{p}{n}"), v)));
        assert_eq!(seen.len(), 3 * 7 + 4 * 3);
        assert!(seen.contains(&("client_lang_write_success".to_owned(), 3)));
        assert!(seen.contains(&("si_query_udf_bg_abort".to_owned(), 2)));
        assert!(seen.contains(&("udf_sub_udf_complete".to_owned(), 0)));
        assert!(seen.contains(&("batch_sub_udf_filtered_out".to_owned(), 0)));
    }
}
