//! Command-line parsing for the `aerie` binary.

use std::path::PathBuf;

pub const USAGE: &str = "usage:
  aerie server [--config FILE] [--address ADDR] [--port PORT] [--http-port PORT]
      Run the server. Without --config: namespace `test` in memory, service on
      127.0.0.1:3000, console on 8080. --port 0 picks a free port; the server prints
      `aerie ready: service HOST:PORT` once it accepts connections.
  aerie bench [options]
      Load generator after asbench: -h HOST[:PORT] -n NS -k KEYS -o S:100 -w I|RU,50
      -z CONNECTIONS --duration SECS ... (`aerie bench --help` lists them all).
  aerie info [-h HOST[:PORT]] [COMMAND...]
      Info requests after asinfo, e.g. `aerie info -h 127.0.0.1:3000 namespaces`.
  aerie version
  aerie help";

#[derive(Debug)]
pub enum Command {
    Server(ServerOpts),
    /// `aerie bench ARGS`: the arguments are parsed by `aerie_bench`.
    Bench(Vec<String>),
    /// `aerie info ARGS`: the arguments are parsed by `aerie_bench::info`.
    Info(Vec<String>),
    Version,
    Help,
}

#[derive(Debug, Default)]
pub struct ServerOpts {
    pub config: Option<PathBuf>,
    pub address: Option<String>,
    pub port: Option<u16>,
    pub http_port: Option<u16>,
}

pub fn parse(argv: &[String]) -> Result<Command, String> {
    let mut it = argv.iter();
    let sub = it.next().map(String::as_str).unwrap_or("server");
    match sub {
        "server" => {
            let mut o = ServerOpts::default();
            while let Some(a) = it.next() {
                let mut value = |name: &str| {
                    it.next()
                        .cloned()
                        .ok_or_else(|| format!("{name} needs a value"))
                };
                match a.as_str() {
                    "--config" | "-c" => o.config = Some(PathBuf::from(value(a)?)),
                    "--address" => o.address = Some(value(a)?),
                    "--port" => o.port = Some(port(&value(a)?)?),
                    "--http-port" => o.http_port = Some(port(&value(a)?)?),
                    other => return Err(format!("unknown option '{other}'")),
                }
            }
            Ok(Command::Server(o))
        }
        "bench" => Ok(Command::Bench(it.cloned().collect())),
        "info" => Ok(Command::Info(it.cloned().collect())),
        "version" | "--version" | "-V" => Ok(Command::Version),
        "help" | "--help" | "-h" => Ok(Command::Help),
        other => Err(format!("unknown command '{other}'")),
    }
}

fn port(s: &str) -> Result<u16, String> {
    s.parse()
        .map_err(|_| format!("invalid port '{s}': expected 0..65535"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn argv(s: &str) -> Vec<String> {
        s.split_whitespace().map(str::to_owned).collect()
    }

    #[test]
    fn bench_and_info_pass_their_arguments_through() {
        match parse(&argv("bench -h 127.0.0.1:3100 -w RU,80 --json")) {
            Ok(Command::Bench(rest)) => assert_eq!(rest, argv("-h 127.0.0.1:3100 -w RU,80 --json")),
            other => panic!("expected bench, got {other:?}"),
        }
        match parse(&argv("info -h 127.0.0.1:3100 namespaces")) {
            Ok(Command::Info(rest)) => assert_eq!(rest, argv("-h 127.0.0.1:3100 namespaces")),
            other => panic!("expected info, got {other:?}"),
        }
        assert!(matches!(parse(&argv("")), Ok(Command::Server(_))));
    }
}
