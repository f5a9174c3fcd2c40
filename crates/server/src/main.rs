//! `aerie`: the single binary. `aerie server` runs the database server; `aerie bench` and
//! `aerie info` (from `aerie-bench`) drive and inspect a node; later subcommands (shell,
//! backup) share the same executable.

mod args;
mod http;
mod logging;
mod service;
mod ticker;
mod udf_pool;
mod udf_setup;

use std::process::ExitCode;
use std::sync::Arc;

fn main() -> ExitCode {
    let argv: Vec<String> = std::env::args().skip(1).collect();
    let cmd = match args::parse(&argv) {
        Ok(c) => c,
        Err(msg) => {
            eprintln!("aerie: {msg}\n\n{}", args::USAGE);
            return ExitCode::from(2);
        }
    };
    match cmd {
        args::Command::Help => {
            println!("{}", args::USAGE);
            ExitCode::SUCCESS
        }
        args::Command::Version => {
            println!(
                "aerie {} (Aerospike protocol {})",
                aerie_info::AERIE_VERSION,
                aerie_info::COMPAT_BUILD
            );
            ExitCode::SUCCESS
        }
        args::Command::Bench(rest) => ExitCode::from(aerie_bench::bench_main(&rest)),
        args::Command::Info(rest) => ExitCode::from(aerie_bench::info_main(&rest)),
        args::Command::Server(opts) => match run_server(opts) {
            Ok(()) => ExitCode::SUCCESS,
            Err(msg) => {
                eprintln!("aerie: {msg}");
                ExitCode::FAILURE
            }
        },
    }
}

fn run_server(opts: args::ServerOpts) -> Result<(), String> {
    let mut config = match &opts.config {
        Some(path) => aerie_config::load(path).map_err(|e| e.to_string())?,
        None => aerie_config::Config::default(),
    };
    if let Some(a) = &opts.address {
        config.network.service.address = a.clone();
    }
    if let Some(p) = opts.port {
        config.network.service.port = p;
    }
    if let Some(p) = opts.http_port {
        config.network.http.port = p;
        config.network.http.requested = true;
    }
    logging::init(&config.logging)?;
    for w in &config.warnings {
        tracing::warn!(target: "aerie::config", "{w}");
    }
    let threads = config
        .service
        .service_threads
        .map(|t| t as usize)
        .unwrap_or_else(|| {
            let cpus = std::thread::available_parallelism()
                .map(|n| n.get())
                .unwrap_or(2);
            // As the reference server: 5 per CPU when a namespace reads from or commits to
            // its device (threads then wait on I/O, and group commit needs writers in flight).
            let waits_on_device = config
                .namespaces
                .iter()
                .any(|n| matches!(n.storage, aerie_config::StorageEngineConfig::Device(_)));
            if waits_on_device {
                cpus * 5
            } else {
                cpus
            }
        });
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(threads.max(1))
        .thread_name("aerie-svc")
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start the runtime: {e}"))?;
    rt.block_on(service::run(Arc::new(config)))
}
