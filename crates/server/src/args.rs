//! Command-line parsing for the `aerie` binary.

use std::path::PathBuf;

pub const USAGE: &str = "usage:
  aerie server [--config FILE] [--address ADDR] [--port PORT] [--http-port PORT]
      Run the server. Without --config: namespace `test` in memory, service on
      127.0.0.1:3000, console on 8080. --port 0 picks a free port; the server prints
      `aerie ready: service HOST:PORT` once it accepts connections.
  aerie version
  aerie help";

#[derive(Debug)]
pub enum Command {
    Server(ServerOpts),
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
                let mut value = |name: &str| it.next().cloned().ok_or_else(|| format!("{name} needs a value"));
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
        "version" | "--version" | "-V" => Ok(Command::Version),
        "help" | "--help" | "-h" => Ok(Command::Help),
        other => Err(format!("unknown command '{other}'")),
    }
}

fn port(s: &str) -> Result<u16, String> {
    s.parse().map_err(|_| format!("invalid port '{s}': expected 0..65535"))
}
