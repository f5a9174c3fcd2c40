//! The interactive `aql>` prompt: rustyline line editing, history in `~/.aerie_aql_history`,
//! completion of AQL keywords and of the namespaces, sets and bins the node reports.

use std::borrow::Cow;

use rustyline::completion::{Completer, Pair};
use rustyline::error::ReadlineError;
use rustyline::highlight::Highlighter;
use rustyline::hint::Hinter;
use rustyline::validate::Validator;
use rustyline::{Context, Editor, Helper};

use crate::exec::Session;
use crate::parser::{parse_statements, KEYWORDS};

/// Most history lines kept.
const HISTORY_MAX: usize = 1000;

struct AqlHelper {
    /// Namespaces, sets and bins learned from the node at start.
    names: Vec<String>,
}

impl Completer for AqlHelper {
    type Candidate = Pair;

    fn complete(
        &self,
        line: &str,
        pos: usize,
        _ctx: &Context<'_>,
    ) -> rustyline::Result<(usize, Vec<Pair>)> {
        let head = line.get(..pos).unwrap_or(line);
        let start = head
            .rfind(|c: char| c.is_whitespace() || "(),=".contains(c))
            .map_or(0, |i| i + 1);
        let word = head.get(start..).unwrap_or("");
        if word.is_empty() {
            return Ok((start, Vec::new()));
        }
        let upper = word.to_ascii_uppercase();
        let mut out: Vec<Pair> = KEYWORDS
            .iter()
            .filter(|k| k.starts_with(&upper))
            .map(|k| Pair {
                display: (*k).to_owned(),
                replacement: if word.chars().all(|c| !c.is_ascii_uppercase()) {
                    k.to_ascii_lowercase()
                } else {
                    (*k).to_owned()
                },
            })
            .collect();
        out.extend(
            self.names
                .iter()
                .filter(|n| n.starts_with(word))
                .map(|n| Pair {
                    display: n.clone(),
                    replacement: n.clone(),
                }),
        );
        Ok((start, out))
    }
}

impl Hinter for AqlHelper {
    type Hint = String;
}

impl Highlighter for AqlHelper {
    fn highlight<'l>(&self, line: &'l str, _pos: usize) -> Cow<'l, str> {
        Cow::Borrowed(line)
    }
}

impl Validator for AqlHelper {}
impl Helper for AqlHelper {}

/// Namespaces, `ns.set` names and bin names the node knows.
async fn names(session: &Session) -> Vec<String> {
    let mut out = Vec::new();
    let policy = aerospike::AdminPolicy::default();
    let Ok(info) = session
        .client
        .info(&policy, &["namespaces", "sets", "bins"])
        .await
    else {
        return out;
    };
    if let Some(ns) = info.get("namespaces") {
        out.extend(ns.split(';').filter(|s| !s.is_empty()).map(str::to_owned));
    }
    if let Some(sets) = info.get("sets") {
        for entry in sets.split(';') {
            let mut ns = None;
            let mut set = None;
            for kv in entry.split(':') {
                match kv.split_once('=') {
                    Some(("ns", v)) => ns = Some(v),
                    Some(("set", v)) => set = Some(v),
                    _ => {}
                }
            }
            if let (Some(n), Some(s)) = (ns, set) {
                out.push(format!("{n}.{s}"));
            }
        }
    }
    if let Some(bins) = info.get("bins") {
        for entry in bins.split(';') {
            if let Some((_, list)) = entry.split_once(':') {
                out.extend(
                    list.split(',')
                        .filter(|b| !b.contains('=') && !b.is_empty())
                        .map(str::to_owned),
                );
            }
        }
    }
    out.sort();
    out.dedup();
    out
}

/// Runs the prompt until `exit`, `quit` or end of input. Returns 0.
pub async fn run(session: &mut Session) -> u8 {
    let helper = AqlHelper {
        names: names(session).await,
    };
    let config = rustyline::Config::builder()
        .max_history_size(HISTORY_MAX)
        .map(|b| b.auto_add_history(true).build());
    let mut editor: Editor<AqlHelper, rustyline::history::FileHistory> =
        match config.and_then(Editor::with_config) {
            Ok(e) => e,
            Err(e) => {
                eprintln!("aerie aql: cannot start the line editor: {e}");
                return 1;
            }
        };
    editor.set_helper(Some(helper));
    let history =
        std::env::var_os("HOME").map(|h| std::path::PathBuf::from(h).join(".aerie_aql_history"));
    if let Some(h) = &history {
        let _ = editor.load_history(h);
    }
    loop {
        // The editor blocks on the terminal: keep it off the runtime's worker threads.
        let line = tokio::task::block_in_place(|| editor.readline("aql> "));
        match line {
            Ok(line) => {
                let t = line.trim();
                if t.eq_ignore_ascii_case("exit") || t.eq_ignore_ascii_case("quit") {
                    break;
                }
                match parse_statements(t) {
                    Ok(stmts) => {
                        for s in &stmts {
                            if let Err(e) = session.execute(s, 0, &mut crate::print_reply).await {
                                eprintln!("{e}");
                                break;
                            }
                        }
                    }
                    Err(e) => eprintln!("Error: parse error at {}", e.render(t)),
                }
            }
            Err(ReadlineError::Interrupted) => continue,
            Err(ReadlineError::Eof) => break,
            Err(e) => {
                eprintln!("aerie aql: {e}");
                break;
            }
        }
    }
    if let Some(h) = &history {
        let _ = editor.save_history(h);
    }
    0
}
