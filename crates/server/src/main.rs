//! `aerie`: the single binary. `aerie server` runs the database server; `aerie bench` and
//! `aerie info` (from `aerie-bench`) drive and inspect a node; `aerie completions SHELL`
//! prints a completion script. The command line is parsed by clap in `args`.

mod args;
#[cfg(feature = "fault-injection")]
mod fault;
mod http;
mod logging;
mod security_setup;
mod service;
mod ticker;
mod udf_setup;

use std::process::ExitCode;
use std::sync::Arc;

fn main() -> ExitCode {
    let cli = args::parse();
    match cli.command {
        None => serve(args::ServerOpts::default()),
        Some(args::Command::Server(opts)) => serve(opts),
        Some(args::Command::Version) => {
            aerie_cli::print_stdout(&format!("{}\n", args::version_line()));
            ExitCode::SUCCESS
        }
        Some(args::Command::Completions { shell }) => {
            let mut script = Vec::new();
            clap_complete::generate(shell, &mut args::command(), "aerie", &mut script);
            aerie_cli::print_stdout(&String::from_utf8_lossy(&script));
            ExitCode::SUCCESS
        }
        Some(args::Command::Bench(b)) => ExitCode::from(aerie_bench::bench_main(&b)),
        Some(args::Command::Info(i)) => ExitCode::from(aerie_bench::info_main(&i)),
    }
}

fn serve(opts: args::ServerOpts) -> ExitCode {
    match run_server(opts) {
        Ok(()) => ExitCode::SUCCESS,
        Err(msg) => {
            eprintln!("aerie: {msg}");
            ExitCode::FAILURE
        }
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
    #[cfg(feature = "fault-injection")]
    fault::install()?;
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
