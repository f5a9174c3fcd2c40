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

pub use args::{BenchArgs, Workload};
pub use report::StageSummary;

/// `aerie bench ARGS...`: parses, runs, prints. Returns the process exit status:
/// 0 success, 1 a failed run or transactions that failed, 2 bad arguments.
pub fn bench_main(argv: &[String]) -> u8 {
    if argv.first().is_some_and(|a| a == "sindex") {
        return sindex::main(argv.get(1..).unwrap_or_default());
    }
    let a = match args::parse(argv) {
        Ok(args::Parsed::Run(a)) => a,
        Ok(args::Parsed::Help) => {
            println!("{}", args::USAGE);
            return 0;
        }
        Err(msg) => {
            eprintln!("aerie bench: {msg}");
            return 2;
        }
    };
    match run::run(&a) {
        Ok(stages) => {
            if a.json {
                println!("{}", report::summary_json(&a, &stages));
            } else {
                print!("{}", report::summary_text(&stages));
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

/// `aerie info ARGS...`: exit status 0 on success, 1 on a failed request or an `ERROR:` answer,
/// 2 on bad arguments.
pub fn info_main(argv: &[String]) -> u8 {
    match info::parse(argv) {
        Ok(info::InfoParsed::Help) => {
            println!("{}", info::USAGE);
            0
        }
        Ok(info::InfoParsed::Run(a)) => match info::run(&a) {
            Ok(text) => {
                print!("{text}");
                0
            }
            Err(msg) => {
                eprintln!("aerie info: {msg}");
                1
            }
        },
        Err(msg) => {
            eprintln!("aerie info: {msg}");
            2
        }
    }
}
