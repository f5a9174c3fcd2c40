//! `aerie`: the single binary. `aerie server` runs the database server; `aerie bench` and
//! `aerie info` (from `aerie-bench`) drive and inspect a node; later subcommands (shell,
//! backup) share the same executable.

mod args;
mod http;
mod service;
mod ticker;
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
    }
    init_logging(&config);
    for w in &config.warnings {
        tracing::warn!("{w}");
    }
    let threads = config
        .service
        .service_threads
        .map(|t| t as usize)
        .unwrap_or_else(|| {
            std::thread::available_parallelism()
                .map(|n| n.get())
                .unwrap_or(2)
        });
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(threads.max(1))
        .thread_name("aerie-svc")
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start the runtime: {e}"))?;
    rt.block_on(service::run(Arc::new(config)))
}

fn init_logging(config: &aerie_config::Config) {
    use tracing_subscriber::EnvFilter;
    let level = config
        .logging
        .sinks
        .iter()
        .flat_map(|s| s.contexts.iter())
        .find(|(ctx, _)| ctx == "any")
        .map(|(_, level)| match level.as_str() {
            "critical" | "warning" => "warn".to_owned(),
            "detail" => "trace".to_owned(),
            other => other.to_owned(),
        })
        .unwrap_or_else(|| "info".to_owned());
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(level));
    use std::io::IsTerminal as _;
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(std::io::stderr().is_terminal())
        .with_writer(std::io::stderr)
        .try_init();
}
