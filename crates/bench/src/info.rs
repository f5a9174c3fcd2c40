//! `aerie info`: send info commands to a node and print the answers, after asinfo.
//!
//! `aerie info [-h HOST[:PORT]] [-p PORT] [-v CMD]... [-l] [--timeout MS] [CMD...]`
//! With one command only its value is printed (as asinfo does); with several, each answer is
//! printed as `CMD` `\t` `VALUE`. `-l` prints `;`-separated values one item per line.

use std::time::Duration;

use crate::conn::Conn;

/// `aerie info` flags, after asinfo's.
#[derive(clap::Args, Debug, Clone)]
#[command(
    disable_help_flag = true,
    about = "Send info commands (namespaces, build, statistics, namespace/test, ...) to one node, after asinfo",
    after_help = "Without a command: node, build, edition, namespaces. -v commands go first, then the bare ones."
)]
pub struct InfoCli {
    #[command(flatten)]
    pub connect: aerie_cli::ConnectArgs,
    /// A command to send (may repeat; bare arguments work too).
    #[arg(short = 'v', long = "value", value_name = "COMMAND")]
    pub values: Vec<String>,
    /// Print ';'-separated answers one item per line.
    #[arg(short = 'l', long)]
    pub lines: bool,
    /// Give up after MS.
    #[arg(long, value_name = "MS", default_value_t = 5000)]
    pub timeout: u64,
    /// Commands to send.
    #[arg(value_name = "COMMAND")]
    pub commands: Vec<String>,
    /// Print help (-u as asinfo's usage flag).
    #[arg(short = 'u', long, action = clap::ArgAction::Help)]
    pub help: Option<bool>,
}

const DEFAULT_COMMANDS: [&str; 4] = ["node", "build", "edition", "namespaces"];

/// Parsed `aerie info` options.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InfoArgs {
    pub host: String,
    pub port: u16,
    pub commands: Vec<String>,
    pub lines: bool,
    pub timeout: Duration,
}

impl InfoCli {
    /// The request these flags describe.
    pub fn to_args(&self) -> Result<InfoArgs, String> {
        let seeds = self.connect.seeds()?;
        let (host, port) = seeds.into_iter().next().ok_or("-h needs a host")?;
        let commands: Vec<String> = self.values.iter().chain(&self.commands).cloned().collect();
        if commands.iter().any(|c| c.contains('\n')) {
            return Err("an info command cannot contain a newline".to_owned());
        }
        Ok(InfoArgs {
            host,
            port,
            commands,
            lines: self.lines,
            timeout: Duration::from_millis(self.timeout.max(1)),
        })
    }
}

/// Splits an info reply into (command, value) pairs, one per line `CMD\tVALUE`.
pub fn parse_reply(text: &str) -> Vec<(String, String)> {
    text.lines()
        .filter(|l| !l.is_empty())
        .map(|l| match l.split_once('\t') {
            Some((c, v)) => (c.to_owned(), v.to_owned()),
            None => (l.to_owned(), String::new()),
        })
        .collect()
}

/// Formats the answers for the terminal.
pub fn format_answers(answers: &[(String, String)], lines: bool) -> String {
    let value = |v: &str| {
        if lines {
            v.split(';').collect::<Vec<_>>().join("\n")
        } else {
            v.to_owned()
        }
    };
    match answers {
        [(_, v)] => format!("{}\n", value(v)),
        _ => {
            let mut out = String::new();
            for (c, v) in answers {
                if lines {
                    out.push_str(&format!("{c}:\n{}\n", value(v)));
                } else {
                    out.push_str(&format!("{c}\t{v}\n"));
                }
            }
            out
        }
    }
}

/// Runs `aerie info`: returns the text to print, or an error message. A reply of the form
/// `ERROR:...` is printed as is and makes the command fail, as asinfo's exit code does.
pub fn run(a: &InfoArgs) -> Result<String, String> {
    let addr = if a.host.contains(':') {
        format!("[{}]:{}", a.host, a.port)
    } else {
        format!("{}:{}", a.host, a.port)
    };
    let commands: Vec<&str> = if a.commands.is_empty() {
        DEFAULT_COMMANDS.to_vec()
    } else {
        a.commands.iter().map(String::as_str).collect()
    };
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start the runtime: {e}"))?;
    let reply = rt.block_on(async {
        let mut conn = Conn::connect(&addr, a.timeout)
            .await
            .map_err(|e| format!("cannot connect to {addr}: {e}"))?;
        conn.info(&commands)
            .await
            .map_err(|e| format!("info request to {addr} failed: {e}"))
    })?;
    let answers = parse_reply(&reply);
    let text = format_answers(&answers, a.lines);
    if answers
        .iter()
        .any(|(_, v)| v.starts_with("ERROR:") || v.starts_with("FAIL:"))
    {
        return Err(text.trim_end().to_owned());
    }
    Ok(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(clap::Parser)]
    struct Cmd {
        #[command(flatten)]
        cli: InfoCli,
    }

    fn cli(v: &[&str]) -> Result<InfoCli, clap::Error> {
        use clap::Parser;
        Cmd::try_parse_from(std::iter::once("info").chain(v.iter().copied())).map(|c| c.cli)
    }

    fn args(v: &[&str]) -> Result<InfoArgs, String> {
        cli(v).map_err(|e| e.to_string())?.to_args()
    }

    #[test]
    fn flags_and_bare_commands() -> Result<(), String> {
        let a = args(&[
            "-h",
            "127.0.0.1:3100",
            "namespaces",
            "-v",
            "namespace/test",
            "-l",
        ])?;
        assert_eq!((a.host.as_str(), a.port), ("127.0.0.1", 3100));
        assert_eq!(a.commands, vec!["namespace/test", "namespaces"]);
        assert!(a.lines);
        let a = args(&["-p", "4000"])?;
        assert_eq!((a.port, a.commands.len()), (4000, 0));
        assert!(args(&["--bogus"]).is_err());
        assert!(args(&["-h"]).is_err());
        assert!(matches!(
            cli(&["--help"]).map_err(|e| e.kind()),
            Err(clap::error::ErrorKind::DisplayHelp)
        ));
        Ok(())
    }

    #[test]
    fn reply_parsing_and_formatting() {
        let answers = parse_reply("namespaces\ttest;bar\nbuild\t8.1.2.0\n");
        assert_eq!(answers.len(), 2);
        assert_eq!(
            format_answers(&answers, false),
            "namespaces\ttest;bar\nbuild\t8.1.2.0\n"
        );
        assert_eq!(
            format_answers(&answers, true),
            "namespaces:\ntest\nbar\nbuild:\n8.1.2.0\n"
        );
        let one = parse_reply("namespaces\ttest\n");
        assert_eq!(format_answers(&one, false), "test\n");
    }
}
