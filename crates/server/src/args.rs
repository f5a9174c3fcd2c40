//! Command line of the `aerie` binary (clap derive): one subcommand per tool. The client tools'
//! own flags live with the tools (`aerie_bench::BenchCli`, `aerie_bench::info::InfoCli`); this
//! module only assembles them, and owns `aerie server`'s flags.

use std::path::PathBuf;

use clap::{CommandFactory, FromArgMatches, Parser, Subcommand};

/// `aerie`: a database server speaking Aerospike's wire protocol, and its operator tools.
#[derive(Parser, Debug)]
#[command(name = "aerie", disable_version_flag = true)]
pub struct Cli {
    /// Print the version.
    #[arg(short = 'V', long, action = clap::ArgAction::Version)]
    version: Option<bool>,
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Run the server (the default without a subcommand).
    Server(ServerOpts),
    /// Load generator after asbench (-h HOST -n NS -k KEYS -o S:100 -w RU,50 ...).
    Bench(Box<aerie_bench::BenchCli>),
    /// Info requests after asinfo, e.g. `aerie info -h 127.0.0.1:3000 namespaces`.
    Info(aerie_bench::info::InfoCli),
    /// Print a shell completion script, e.g. `aerie completions bash > /etc/bash_completion.d/aerie`.
    Completions {
        /// bash, zsh, fish, elvish or powershell.
        shell: clap_complete::Shell,
    },
    /// Print the version.
    Version,
}

/// `aerie server` flags; they override the configuration file.
#[derive(clap::Args, Debug, Default)]
#[command(
    about = "Run the server",
    long_about = "Run the server. Without --config: namespace `test` in memory, service on \
127.0.0.1:3000, console on 8080. The server prints `aerie ready: service HOST:PORT` once it \
accepts connections; SIGTERM or SIGINT stops it."
)]
pub struct ServerOpts {
    /// Aerospike-format configuration file.
    #[arg(short = 'c', long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Service address.
    #[arg(long, value_name = "ADDR")]
    pub address: Option<String>,
    /// Service port (0 picks a free port).
    #[arg(long)]
    pub port: Option<u16>,
    /// HTTP console port (0 picks a free port).
    #[arg(long, value_name = "PORT")]
    pub http_port: Option<u16>,
}

/// The version line of `aerie version` and `aerie --version`.
pub fn version_line() -> String {
    format!("aerie {}", version())
}

fn version() -> String {
    format!(
        "{} (Aerospike protocol {})",
        aerie_info::AERIE_VERSION,
        aerie_info::COMPAT_BUILD
    )
}

/// The clap command, with the run-time version string.
pub fn command() -> clap::Command {
    Cli::command().version(version())
}

/// Parses the process arguments; on an error or `--help`, prints and exits as clap does
/// (status 2 for a bad flag, naming it; 0 for help; a closed stdout is not an error).
pub fn parse() -> Cli {
    let matches = command().get_matches();
    Cli::from_arg_matches(&matches).unwrap_or_else(|e| e.exit())
}

/// Parses a given argument list (tests).
#[cfg(test)]
pub fn try_parse_from<I, T>(argv: I) -> Result<Cli, clap::Error>
where
    I: IntoIterator<Item = T>,
    T: Into<std::ffi::OsString> + Clone,
{
    let matches = command().try_get_matches_from(argv)?;
    Cli::from_arg_matches(&matches)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(s: &str) -> Result<Cli, clap::Error> {
        try_parse_from(std::iter::once("aerie").chain(s.split_whitespace()))
    }

    #[test]
    fn every_subcommand_parses() -> Result<(), clap::Error> {
        command().debug_assert();
        assert!(
            parse("")?.command.is_none(),
            "no subcommand runs the server"
        );
        match parse("server -c a.conf --port 0 --http-port 0")?.command {
            Some(Command::Server(o)) => {
                assert_eq!(o.config, Some(PathBuf::from("a.conf")));
                assert_eq!((o.port, o.http_port), (Some(0), Some(0)));
            }
            other => panic!("expected server, got {other:?}"),
        }
        match parse("bench -h 127.0.0.1:3100 -w RU,80 --json")?.command {
            Some(Command::Bench(b)) => assert_eq!(
                b.connect.first_addr().ok().as_deref(),
                Some("127.0.0.1:3100")
            ),
            other => panic!("expected bench, got {other:?}"),
        }
        match parse("bench sindex -h 127.0.0.1:3100 -k 10")?.command {
            Some(Command::Bench(b)) => assert!(b.sub.is_some()),
            other => panic!("expected bench sindex, got {other:?}"),
        }
        match parse("info -h 127.0.0.1:3100 namespaces")?.command {
            Some(Command::Info(i)) => assert_eq!(i.commands, vec!["namespaces"]),
            other => panic!("expected info, got {other:?}"),
        }
        assert!(matches!(
            parse("completions bash")?.command,
            Some(Command::Completions { .. })
        ));
        Ok(())
    }

    #[test]
    fn errors_name_the_bad_flag() {
        for (argv, needle) in [
            ("server --bogus", "--bogus"),
            ("server --port 70000", "--port"),
            ("bench -z 0", "--threads"),
            ("info --frob", "--frob"),
            ("frobnicate", "frobnicate"),
        ] {
            let err = parse(argv).err().map(|e| e.to_string()).unwrap_or_default();
            assert!(err.contains(needle), "{argv}: {err}");
        }
    }
}
