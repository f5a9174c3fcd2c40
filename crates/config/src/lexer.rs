//! Text → tree of stanzas and parameter lines. Knows the shape of the format (comments, braces,
//! one parameter per line) but not which names are valid; `parse.rs` decides that.
//!
//! Like Aerospike's `cfg.c`, the format is line based: a parameter is `key value...` up to the end of
//! the line, and a stanza opens with `name [arg...] {` on one line. Braces are also split off words
//! they touch, so `console { context any info }` on one line reads as open, one parameter, close.

use crate::error::{ConfigError, ParseErrorKind};

/// Deepest nesting accepted. Aerospike's own deepest stanzas (`xdr > dc > namespace`) are 3 levels;
/// the cap only stops pathological input from building an absurd tree.
pub(crate) const MAX_STANZA_DEPTH: usize = 8;

/// One `key value...` line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Param {
    pub key: String,
    pub values: Vec<String>,
    pub line: u32,
}

/// One `name [arg...] { ... }` block.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Stanza {
    pub name: String,
    pub args: Vec<String>,
    /// The line holding the opening `{`.
    pub line: u32,
    pub body: Vec<Item>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Item {
    Param(Param),
    Stanza(Stanza),
}

/// Splits `text` into a tree. Errors are about structure only: braces and nesting.
pub(crate) fn parse_tree(text: &str, file: &str) -> Result<Vec<Item>, ConfigError> {
    let mut root: Vec<Item> = Vec::new();
    // Open stanzas, innermost last. Each is moved into its parent's body when its `}` arrives.
    let mut open: Vec<Stanza> = Vec::new();

    for (index, raw) in text.lines().enumerate() {
        let line = line_number(index);
        let mut words: Vec<String> = Vec::new();
        for token in tokenize(strip_comment(raw)) {
            match token {
                Token::Word(word) => words.push(word.to_owned()),
                Token::Open => {
                    let mut header = std::mem::take(&mut words).into_iter();
                    let Some(name) = header.next() else {
                        return Err(ConfigError::parse(
                            file,
                            line,
                            ParseErrorKind::MissingStanzaName,
                        ));
                    };
                    if open.len() >= MAX_STANZA_DEPTH {
                        let kind = ParseErrorKind::NestedTooDeep {
                            max: MAX_STANZA_DEPTH,
                        };
                        return Err(ConfigError::parse(file, line, kind));
                    }
                    open.push(Stanza {
                        name,
                        args: header.collect(),
                        line,
                        body: Vec::new(),
                    });
                }
                Token::Close => {
                    flush_param(&mut words, line, innermost_body(&mut open, &mut root));
                    let Some(done) = open.pop() else {
                        return Err(ConfigError::parse(
                            file,
                            line,
                            ParseErrorKind::UnexpectedCloseBrace,
                        ));
                    };
                    innermost_body(&mut open, &mut root).push(Item::Stanza(done));
                }
            }
        }
        flush_param(&mut words, line, innermost_body(&mut open, &mut root));
    }

    if let Some(unclosed) = open.last() {
        let kind = ParseErrorKind::UnclosedStanza {
            name: unclosed.name.clone(),
        };
        return Err(ConfigError::parse(file, unclosed.line, kind));
    }
    Ok(root)
}

/// The number of the last line of `text` (1 for empty text): where whole-file errors point.
pub(crate) fn last_line(text: &str) -> u32 {
    line_number(text.lines().count().saturating_sub(1))
}

// ---------------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------------

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Token<'a> {
    Word(&'a str),
    Open,
    Close,
}

/// 0-based line index → 1-based line number. The file is capped far below `u32::MAX` lines.
fn line_number(index: usize) -> u32 {
    u32::try_from(index).unwrap_or(u32::MAX).saturating_add(1)
}

/// `#` starts a comment anywhere on a line, as in Aerospike.
fn strip_comment(raw: &str) -> &str {
    raw.split_once('#').map_or(raw, |(before, _)| before)
}

fn tokenize(content: &str) -> Vec<Token<'_>> {
    let mut tokens = Vec::new();
    for chunk in content.split_whitespace() {
        let mut rest = chunk;
        while let Some(at) = rest.find(['{', '}']) {
            let (word, brace_and_after) = rest.split_at(at);
            if !word.is_empty() {
                tokens.push(Token::Word(word));
            }
            let (brace, after) = brace_and_after.split_at(1);
            tokens.push(if brace == "{" {
                Token::Open
            } else {
                Token::Close
            });
            rest = after;
        }
        if !rest.is_empty() {
            tokens.push(Token::Word(rest));
        }
    }
    tokens
}

fn innermost_body<'a>(open: &'a mut [Stanza], root: &'a mut Vec<Item>) -> &'a mut Vec<Item> {
    match open.last_mut() {
        Some(stanza) => &mut stanza.body,
        None => root,
    }
}

fn flush_param(words: &mut Vec<String>, line: u32, body: &mut Vec<Item>) {
    let mut words = std::mem::take(words).into_iter();
    if let Some(key) = words.next() {
        body.push(Item::Param(Param {
            key,
            values: words.collect(),
            line,
        }));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn param(key: &str, values: &[&str], line: u32) -> Item {
        let values = values.iter().map(|v| (*v).to_owned()).collect();
        Item::Param(Param {
            key: key.to_owned(),
            values,
            line,
        })
    }

    fn stanza(name: &str, args: &[&str], line: u32, body: Vec<Item>) -> Item {
        let args = args.iter().map(|a| (*a).to_owned()).collect();
        Item::Stanza(Stanza {
            name: name.to_owned(),
            args,
            line,
            body,
        })
    }

    #[test]
    fn comments_blank_lines_and_nesting() -> Result<(), ConfigError> {
        let text = "# header\n\nservice {   # trailing\n\tproto-fd-max 15000\n}\n\
                    namespace test {\n  storage-engine memory\n  set demo {\n  }\n}\n";
        let tree = parse_tree(text, "t.conf")?;
        let expected = vec![
            stanza(
                "service",
                &[],
                3,
                vec![param("proto-fd-max", &["15000"], 4)],
            ),
            stanza(
                "namespace",
                &["test"],
                6,
                vec![
                    param("storage-engine", &["memory"], 7),
                    stanza("set", &["demo"], 8, vec![]),
                ],
            ),
        ];
        assert_eq!(tree, expected);
        Ok(())
    }

    #[test]
    fn braces_split_from_words_on_one_line() -> Result<(), ConfigError> {
        let tree = parse_tree("console{ context any info }\n", "t.conf")?;
        let expected = vec![stanza(
            "console",
            &[],
            1,
            vec![param("context", &["any", "info"], 1)],
        )];
        assert_eq!(tree, expected);
        Ok(())
    }

    #[test]
    fn structural_errors_point_at_the_right_line() {
        let cases = [
            (
                "a {\n b {\n }\n",
                "t.conf:1: stanza 'a' is never closed: expected '}' before the end of the file",
            ),
            (
                "a {\n}\n}\n",
                "t.conf:3: unexpected '}': no stanza is open here",
            ),
            (
                "a {\n{\n}\n}\n",
                "t.conf:2: '{' without a stanza name: expected 'NAME {' on one line",
            ),
        ];
        for (text, message) in cases {
            let got = parse_tree(text, "t.conf")
                .map(|_| ())
                .map_err(|e| e.to_string());
            assert_eq!(got, Err(message.to_owned()), "input {text:?}");
        }
    }

    #[test]
    fn nesting_is_capped() {
        let text = "a {\n".repeat(MAX_STANZA_DEPTH + 1);
        let got = parse_tree(&text, "t.conf")
            .map(|_| ())
            .map_err(|e| e.to_string());
        let line = MAX_STANZA_DEPTH + 1;
        assert_eq!(
            got,
            Err(format!(
                "t.conf:{line}: stanzas nested too deeply: expected at most 8 levels"
            ))
        );
    }

    #[test]
    fn last_line_of_text() {
        assert_eq!(last_line(""), 1);
        assert_eq!(last_line("a\nb\n"), 2);
        assert_eq!(last_line("a\nb"), 2);
    }
}
