//! AQL tokens, each with the byte offset where it starts, so parse errors can point at it.

use crate::parser::ParseError;

/// One token.
#[derive(Debug, Clone, PartialEq)]
pub enum Tok {
    /// A word: keyword or name (bin, namespace, set, index, module). Keywords are matched
    /// case-insensitively by the parser; names keep their case.
    Word(String),
    /// `'text'` or `"text"`, with `\'`, `\"` and `\\` escapes.
    Str(String),
    Int(i64),
    Float(f64),
    /// One of `( ) , = . * ; < > -`.
    Punct(char),
}

/// A token and its byte offset in the statement text.
#[derive(Debug, Clone, PartialEq)]
pub struct Spanned {
    pub tok: Tok,
    pub pos: usize,
}

impl std::fmt::Display for Tok {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Tok::Word(w) => write!(f, "'{w}'"),
            Tok::Str(s) => write!(f, "string '{s}'"),
            Tok::Int(i) => write!(f, "number {i}"),
            Tok::Float(x) => write!(f, "number {x}"),
            Tok::Punct(c) => write!(f, "'{c}'"),
        }
    }
}

/// Splits `src` into tokens. `--` starts a comment to the end of the line.
pub fn lex(src: &str) -> Result<Vec<Spanned>, ParseError> {
    let mut out = Vec::new();
    let mut chars = src.char_indices().peekable();
    while let Some(&(pos, c)) = chars.peek() {
        if c.is_whitespace() {
            chars.next();
            continue;
        }
        if c == '-' && src.get(pos..).is_some_and(|r| r.starts_with("--")) {
            while chars.next_if(|&(_, c)| c != '\n').is_some() {}
            continue;
        }
        if c.is_ascii_alphabetic() || c == '_' {
            let mut w = String::new();
            while let Some((_, c)) =
                chars.next_if(|&(_, c)| c.is_ascii_alphanumeric() || c == '_' || c == '-')
            {
                w.push(c);
            }
            out.push(Spanned {
                tok: Tok::Word(w),
                pos,
            });
            continue;
        }
        if c.is_ascii_digit() {
            let mut n = String::new();
            let mut float = false;
            while let Some((_, c)) = chars.next_if(|&(_, c)| {
                c.is_ascii_digit()
                    || c == '.'
                    || c == 'e'
                    || c == 'E'
                    || c == 'x'
                    || c == 'X'
                    || c.is_ascii_hexdigit()
            }) {
                float |= c == '.' || ((c == 'e' || c == 'E') && !n.starts_with("0x"));
                n.push(c);
            }
            let bad = || ParseError::new(pos, format!("bad number '{n}'"));
            let tok = if let Some(hex) = n.strip_prefix("0x").or_else(|| n.strip_prefix("0X")) {
                Tok::Int(i64::from_str_radix(hex, 16).map_err(|_| bad())?)
            } else if float {
                Tok::Float(n.parse().map_err(|_| bad())?)
            } else {
                // i64::MIN's magnitude does not fit an i64; the parser negates, so read as u64.
                match n.parse::<i64>() {
                    Ok(i) => Tok::Int(i),
                    Err(_) if n == "9223372036854775808" => Tok::Int(i64::MIN),
                    Err(_) => return Err(bad()),
                }
            };
            out.push(Spanned { tok, pos });
            continue;
        }
        if c == '\'' || c == '"' {
            chars.next();
            let mut s = String::new();
            loop {
                match chars.next() {
                    None => return Err(ParseError::new(pos, "unterminated string")),
                    Some((_, '\\')) => match chars.next() {
                        Some((_, e)) => s.push(e),
                        None => return Err(ParseError::new(pos, "unterminated string")),
                    },
                    Some((_, q)) if q == c => break,
                    Some((_, x)) => s.push(x),
                }
            }
            out.push(Spanned {
                tok: Tok::Str(s),
                pos,
            });
            continue;
        }
        if "(),=.*;<>-".contains(c) {
            chars.next();
            out.push(Spanned {
                tok: Tok::Punct(c),
                pos,
            });
            continue;
        }
        return Err(ParseError::new(pos, format!("unexpected character '{c}'")));
    }
    Ok(out)
}
