//! `aerie aql`: Aerospike's AQL for Aerie (or Aerospike) nodes. A hand-written recursive-descent
//! parser ([`parser`], over [`lexer`] tokens with byte positions), an executor ([`exec`]) that
//! maps each statement to one call of the official Aerospike Rust client, and output in aql's
//! shapes ([`output`]: bordered table, JSON, raw). Statements come from `-c`, `-f FILE`, or an
//! interactive shell ([`shell`], rustyline: history and completion).
//!
//! The official client is used at run time rather than the workspace's own wire code: it
//! already tends the partition map, routes by partition, runs partition-tracked scans and
//! queries, and waits on index and UDF tasks, so aql exercises the same path applications do.
//! Owns: AQL syntax and session settings. Does not own: any wire encoding.

pub mod exec;
pub mod lexer;
pub mod output;
pub mod parser;
pub mod shell;
pub mod value;

use aerospike::{AuthMode, Client, ClientPolicy};

use crate::exec::{Session, Settings};
use crate::parser::OutputMode;

/// `aerie aql` flags, after Aerospike's aql.
#[derive(clap::Args, Debug, Clone)]
#[command(
    disable_help_flag = true,
    about = "AQL shell: INSERT/SELECT/DELETE by key, queries, indexes, UDFs, SHOW, STAT ..."
)]
pub struct AqlArgs {
    #[command(flatten)]
    pub connect: aerie_cli::ConnectArgs,
    /// Run these statements (';'-separated) and exit.
    #[arg(short = 'c', long = "command", value_name = "STATEMENT")]
    pub command: Option<String>,
    /// Run the statements of FILE and exit.
    #[arg(
        short = 'f',
        long = "file",
        value_name = "FILE",
        conflicts_with = "command"
    )]
    pub file: Option<std::path::PathBuf>,
    /// Output mode.
    #[arg(short = 'o', long = "outputmode", value_enum, default_value = "table")]
    pub output: OutputArg,
    /// Total timeout of each request, in ms.
    #[arg(short = 'T', long, value_name = "MS", default_value_t = 1000)]
    pub timeout: u32,
    /// Print help.
    #[arg(long, action = clap::ArgAction::Help)]
    pub help: Option<bool>,
}

#[derive(clap::ValueEnum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum OutputArg {
    Table,
    Json,
    Raw,
}

/// `aerie aql`: exit status 0 when every statement succeeded, 1 when one failed (the run stops
/// there, as aql's does), 2 on bad arguments or a parse error.
pub fn main(args: &AqlArgs) -> u8 {
    let rt = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("aerie aql: cannot start the runtime: {e}");
            return 1;
        }
    };
    rt.block_on(run(args))
}

async fn run(args: &AqlArgs) -> u8 {
    let script = match (&args.command, &args.file) {
        (Some(c), _) => Some(c.clone()),
        (None, Some(f)) => match std::fs::read_to_string(f) {
            Ok(t) => Some(t),
            Err(e) => {
                eprintln!("aerie aql: cannot read '{}': {e}", f.display());
                return 2;
            }
        },
        (None, None) => None,
    };
    // Parse the whole script before connecting, so a typo costs no round trip.
    let parse = if args.file.is_some() {
        parser::parse_script
    } else {
        parser::parse_statements
    };
    let statements = match &script {
        Some(text) => match parse(text) {
            Ok(s) => Some(s),
            Err(e) => {
                eprintln!("Error: parse error at {}", e.render(text));
                return 2;
            }
        },
        None => None,
    };
    let mut session = match connect(args).await {
        Ok(s) => s,
        Err(msg) => {
            eprintln!("aerie aql: {msg}");
            return 1;
        }
    };
    let code = match statements {
        Some(stmts) => {
            let mut code = 0;
            for s in &stmts {
                if let Err(e) = session.execute(s, 0, &mut print_reply).await {
                    eprintln!("{e}");
                    code = 1;
                    break;
                }
            }
            code
        }
        None => shell::run(&mut session).await,
    };
    let _ = session.client.close().await;
    code
}

/// Prints a reply; `false` once stdout is gone.
pub fn print_reply(r: &output::Reply, mode: OutputMode) -> bool {
    aerie_cli::print_stdout(&r.render(mode))
}

async fn connect(args: &AqlArgs) -> Result<Session, String> {
    let mut policy = ClientPolicy::default();
    if let Some((user, password)) = args.connect.credentials()? {
        policy.auth_mode = AuthMode::Internal(user, password);
    }
    policy.timeout = 10_000;
    let hosts = args.connect.host_list()?;
    let client = Client::new(&policy, &hosts)
        .await
        .map_err(|e| format!("cannot connect to {hosts}: {e}"))?;
    let output = match args.output {
        OutputArg::Table => OutputMode::Table,
        OutputArg::Json => OutputMode::Json,
        OutputArg::Raw => OutputMode::Raw,
    };
    Ok(Session {
        client,
        settings: Settings {
            output,
            timeout_ms: args.timeout,
            ..Settings::default()
        },
    })
}
