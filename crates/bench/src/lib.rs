//! Aerie's client-side tools that speak the Aerospike protocol themselves:
//!
//! - `aerie bench` ([`bench_main`]): a load generator after Aerospike's asbench (same core flags,
//!   same per-second line), driving one node, Aerie or Aerospike, over plain TCP: an insert
//!   stage over a key range, random read/update stages, batch reads, a throughput cap, and a
//!   text or JSON summary with HdrHistogram latency percentiles.
//! - `aerie bench sindex` ([`sindex::main`]): secondary-index benchmark (index build,
//!   equality-query latency, range-query and full-scan throughput).
//! - `aerie info` ([`info_main`]): asinfo-style info requests.
//!
//! Owns: request encoding for the bench's transactions, reply checking, pacing, statistics and
//! reporting. Does not own: the wire format itself (`aerie-proto` encodes frames; `aerie-record`
//! computes digests), and no cluster awareness yet (one node; no partition map, no login).
//! Mirrors, for flags and output only: aerospike-benchmark `src/main/benchmark_init.c`,
//! `coordinator.c`; asinfo.

pub mod args;
pub mod conn;
pub mod info;
pub mod report;
pub mod request;
pub mod rng;
pub mod run;
pub mod sindex;
pub mod spec;
pub mod stats;
pub mod udf;

pub use args::{BenchArgs, BenchCli, Workload};
pub use report::StageSummary;

/// `aerie bench`: runs and prints. Returns the process exit status: 0 success, 1 a failed run
/// or transactions that failed, 2 bad arguments.
pub fn bench_main(cli: &BenchCli) -> u8 {
    if let Some(args::BenchSub::Sindex(s)) = &cli.sub {
        return sindex::main(s);
    }
    let a = match cli.to_args() {
        Ok(a) => a,
        Err(msg) => {
            eprintln!("aerie bench: {msg}");
            return 2;
        }
    };
    match run::run(&a) {
        Ok(stages) => {
            if a.json {
                aerie_cli::print_stdout(&format!("{}\n", report::summary_json(&a, &stages)));
            } else {
                aerie_cli::print_stdout(&report::summary_text(&stages));
            }
            let failed = stages
                .iter()
                .any(|s| s.total.errors > 0 || s.total.timeouts > 0);
            u8::from(failed)
        }
        Err(msg) => {
            eprintln!("aerie bench: {msg}");
            1
        }
    }
}

/// `aerie info`: exit status 0 on success, 1 on a failed request or an `ERROR:` answer, 2 on
/// bad arguments.
pub fn info_main(cli: &info::InfoCli) -> u8 {
    let a = match cli.to_args() {
        Ok(a) => a,
        Err(msg) => {
            eprintln!("aerie info: {msg}");
            return 2;
        }
    };
    match info::run(&a) {
        Ok(text) => {
            aerie_cli::print_stdout(&text);
            0
        }
        Err(msg) => {
            eprintln!("aerie info: {msg}");
            1
        }
    }
}
