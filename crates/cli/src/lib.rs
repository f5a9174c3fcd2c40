//! Command-line pieces shared by Aerie's client tools (`aerie bench`, `info`, `aql`, `backup`,
//! `restore`), so that every tool spells a node the way Aerospike's tools do:
//! `-h HOST[:PORT][,HOST[:PORT]...] -p PORT -U USER -P[PASSWORD]`.
//!
//! Owns: [`ConnectArgs`] (the clap flags and their meaning), host-list parsing, and writing to
//! stdout so that a closed pipe (`aerie aql ... | head -1`) ends the output quietly instead of
//! panicking. Does not own: any connection or wire code.

use std::io::{self, IsTerminal, Write};

/// Default service port of an Aerospike node.
pub const DEFAULT_PORT: u16 = 3000;

/// Connection flags after Aerospike's tools (asinfo, aql, asbackup, asbench). Tools that
/// flatten this struct give up clap's `-h` for help (`--help` stays), as Aerospike's tools do.
#[derive(clap::Args, Debug, Clone, PartialEq, Eq)]
pub struct ConnectArgs {
    /// Seed node(s): HOST[:PORT], comma separated. A port inside -h wins over -p.
    #[arg(
        short = 'h',
        long = "host",
        visible_alias = "hosts",
        value_name = "HOST[:PORT]",
        default_value = "127.0.0.1"
    )]
    pub host: String,
    /// Port of every host given without one.
    #[arg(short = 'p', long, default_value_t = DEFAULT_PORT)]
    pub port: u16,
    /// User name (security-enabled clusters).
    #[arg(short = 'U', long)]
    pub user: Option<String>,
    /// Password (-PSECRET, --password SECRET); a bare -P reads it from stdin.
    #[arg(short = 'P', long, num_args = 0..=1, value_name = "PASSWORD")]
    pub password: Option<Option<String>>,
}

impl Default for ConnectArgs {
    fn default() -> Self {
        ConnectArgs {
            host: "127.0.0.1".to_owned(),
            port: DEFAULT_PORT,
            user: None,
            password: None,
        }
    }
}

impl ConnectArgs {
    /// Every seed as `(host, port)`.
    pub fn seeds(&self) -> Result<Vec<(String, u16)>, String> {
        let mut out = Vec::new();
        for part in self
            .host
            .split(',')
            .map(str::trim)
            .filter(|p| !p.is_empty())
        {
            let (h, p) = parse_host(part)?;
            out.push((h, p.unwrap_or(self.port)));
        }
        if out.is_empty() {
            return Err("-h needs a host".to_owned());
        }
        Ok(out)
    }

    /// The first seed as a socket address string (`host:port`, `[v6]:port`).
    pub fn first_addr(&self) -> Result<String, String> {
        let seeds = self.seeds()?;
        let (h, p) = seeds.first().ok_or_else(|| "-h needs a host".to_owned())?;
        Ok(join_host_port(h, *p))
    }

    /// Seeds in the official client's host-list form, `h1:p1,h2:p2`.
    pub fn host_list(&self) -> Result<String, String> {
        Ok(self
            .seeds()?
            .iter()
            .map(|(h, p)| join_host_port(h, *p))
            .collect::<Vec<_>>()
            .join(","))
    }

    /// The user and password, if a user was given. A bare `-P` reads one line from stdin
    /// (without echo control: pipe it in, e.g. from a secrets file).
    pub fn credentials(&self) -> Result<Option<(String, String)>, String> {
        let Some(user) = &self.user else {
            return Ok(None);
        };
        let password = match &self.password {
            Some(Some(p)) => p.clone(),
            Some(None) | None => {
                if io::stdin().is_terminal() {
                    eprint!("Enter password for {user}: ");
                }
                let mut line = String::new();
                io::stdin()
                    .read_line(&mut line)
                    .map_err(|e| format!("cannot read the password: {e}"))?;
                line.trim_end_matches(['\r', '\n']).to_owned()
            }
        };
        Ok(Some((user.clone(), password)))
    }
}

/// `host:port`, with brackets around an IPv6 literal.
pub fn join_host_port(host: &str, port: u16) -> String {
    if host.contains(':') && !host.starts_with('[') {
        format!("[{host}]:{port}")
    } else {
        format!("{host}:{port}")
    }
}

/// `host`, `host:port`, `[v6]:port`, or a comma list of those (the first one is parsed).
pub fn parse_host(v: &str) -> Result<(String, Option<u16>), String> {
    let first = v.split(',').next().unwrap_or_default().trim();
    if first.is_empty() {
        return Err("-h needs a host".to_owned());
    }
    let port = |p: &str| -> Result<u16, String> {
        p.parse()
            .map_err(|_| format!("invalid port '{p}' in -h '{first}': expected 0..65535"))
    };
    if let Some(rest) = first.strip_prefix('[') {
        let (h, tail) = rest
            .split_once(']')
            .ok_or_else(|| format!("bad host '{first}'"))?;
        let p = match tail.strip_prefix(':') {
            Some(p) => Some(port(p)?),
            None if tail.is_empty() => None,
            None => return Err(format!("bad host '{first}'")),
        };
        return Ok((h.to_owned(), p));
    }
    match first.rsplit_once(':') {
        // Aerospike's tools also allow `host:tlsname:port`; TLS is not supported, so a middle
        // part is refused.
        Some((h, p)) if !h.contains(':') => Ok((h.to_owned(), Some(port(p)?))),
        Some(_) => Err(format!(
            "bad host '{first}': expected HOST[:PORT] (TLS names are not supported)"
        )),
        None => Ok((first.to_owned(), None)),
    }
}

/// Writes `text` to stdout. Returns `false` once the reader has gone away (a closed pipe):
/// the caller stops producing output and exits normally, as a C tool killed by SIGPIPE would,
/// but without a panic or an error message.
pub fn print_stdout(text: &str) -> bool {
    let mut out = io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        Ok(()) => true,
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => false,
        // Any other failure (a full disk behind a redirect) is reported once; output stops.
        Err(e) => {
            eprintln!("aerie: cannot write to stdout: {e}");
            false
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Parser, Debug)]
    #[command(disable_help_flag = true)]
    struct T {
        #[command(flatten)]
        c: ConnectArgs,
    }

    fn parse(args: &[&str]) -> Result<ConnectArgs, clap::Error> {
        T::try_parse_from(std::iter::once("t").chain(args.iter().copied())).map(|t| t.c)
    }

    #[test]
    fn aerospike_tool_conventions() -> Result<(), Box<dyn std::error::Error>> {
        let c = parse(&["-h", "10.0.0.1", "-p", "3100", "-U", "admin", "-Psecret"])?;
        assert_eq!(c.first_addr()?, "10.0.0.1:3100");
        assert_eq!(c.credentials()?, Some(("admin".into(), "secret".into())));
        let c = parse(&["-h", "a:4000,b,[::1]:5000", "-p", "3100"])?;
        assert_eq!(c.host_list()?, "a:4000,b:3100,[::1]:5000");
        let c = parse(&["--hosts=127.0.0.1:3001"])?;
        assert_eq!(c.first_addr()?, "127.0.0.1:3001");
        assert_eq!(parse(&[])?.first_addr()?, "127.0.0.1:3000");
        Ok(())
    }

    #[test]
    fn bad_hosts_and_ports_are_refused() {
        assert!(parse(&["-p", "70000"]).is_err());
        assert!(parse(&["-h"]).is_err());
        for bad in ["host:tls:3000", "h:port", "[::1", ""] {
            let c = ConnectArgs {
                host: bad.to_owned(),
                ..ConnectArgs::default()
            };
            assert!(c.seeds().is_err(), "{bad}");
        }
    }
}
