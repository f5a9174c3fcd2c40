//! `aerie info`: send info commands to a node and print the answers, after asinfo.
//!
//! `aerie info [-h HOST[:PORT]] [-p PORT] [-v CMD]... [-l] [--timeout MS] [CMD...]`
//! With one command only its value is printed (as asinfo does); with several, each answer is
//! printed as `CMD` `\t` `VALUE`. `-l` prints `;`-separated values one item per line.

use std::time::Duration;

use crate::args::{parse_host, DEFAULT_PORT};
use crate::conn::Conn;

pub const USAGE: &str =
    "usage: aerie info [-h HOST[:PORT]] [-p PORT] [-v COMMAND]... [-l] [--timeout MS] [COMMAND...]
Sends info commands (e.g. namespaces, build, statistics, namespace/test) to one node.
  -h, --host HOST[:PORT]   node (default 127.0.0.1)
  -p, --port PORT          port when HOST has none (default 3000)
  -v, --value COMMAND      a command to send (may repeat; bare arguments work too)
  -l, --lines              print ';'-separated answers one item per line
      --timeout MS         give up after MS (default 5000)
Without a command: node, build, edition, namespaces.";

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

/// What the command line asks for.
#[derive(Debug)]
pub enum InfoParsed {
    Run(InfoArgs),
    Help,
}

/// Parses the arguments after `aerie info`.
pub fn parse(argv: &[String]) -> Result<InfoParsed, String> {
    let mut a = InfoArgs {
        host: "127.0.0.1".to_owned(),
        port: DEFAULT_PORT,
        commands: Vec::new(),
        lines: false,
        timeout: Duration::from_millis(5000),
    };
    let mut host_port = None;
    let mut it = argv.iter();
    while let Some(arg) = it.next() {
        let mut value = |name: &str| {
            it.next()
                .cloned()
                .ok_or_else(|| format!("{name} needs a value"))
        };
        match arg.as_str() {
            "--help" | "-u" => return Ok(InfoParsed::Help),
            "-h" | "--host" | "--hosts" => {
                let (h, p) = parse_host(&value(arg)?)?;
                a.host = h;
                host_port = p;
            }
            "-p" | "--port" => {
                let v = value(arg)?;
                a.port = v.parse().map_err(|_| format!("invalid port '{v}'"))?;
            }
            "-v" | "--value" => a.commands.push(value(arg)?),
            "-l" | "--lines" => a.lines = true,
            "--timeout" => {
                let v = value(arg)?;
                let ms: u64 = v.parse().map_err(|_| format!("invalid timeout '{v}'"))?;
                a.timeout = Duration::from_millis(ms.max(1));
            }
            other if other.starts_with('-') && other.len() > 1 => {
                return Err(format!("unknown option '{other}' (see aerie info --help)"))
            }
            cmd => a.commands.push(cmd.to_owned()),
        }
    }
    if let Some(p) = host_port {
        a.port = p;
    }
    if a.commands.iter().any(|c| c.contains('\n')) {
        return Err("an info command cannot contain a newline".to_owned());
    }
    Ok(InfoParsed::Run(a))
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

    fn args(v: &[&str]) -> Result<InfoArgs, String> {
        let argv: Vec<String> = v.iter().map(|s| (*s).to_owned()).collect();
        match parse(&argv)? {
            InfoParsed::Run(a) => Ok(a),
            InfoParsed::Help => Err("help".to_owned()),
        }
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
        assert_eq!(a.commands, vec!["namespaces", "namespace/test"]);
        assert!(a.lines);
        let a = args(&["-p", "4000"])?;
        assert_eq!((a.port, a.commands.len()), (4000, 0));
        assert!(args(&["--bogus"]).is_err());
        assert!(args(&["-h"]).is_err());
        assert!(matches!(
            parse(&["--help".to_owned()]),
            Ok(InfoParsed::Help)
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
