//! What a statement answers, and how it is printed: aql's bordered table with a
//! `N rows in set (S secs)` footer, a JSON array of row objects, or raw tab-separated lines.

use std::fmt::Write as _;

use aerospike::Value;

use crate::parser::OutputMode;
use crate::value::{cell, to_json};

/// One cell of a result row.
#[derive(Debug, Clone)]
pub enum Cell {
    Value(Value),
    /// Info-protocol text (SHOW, STAT), printed without quotes.
    Text(String),
}

/// The answer of one statement.
#[derive(Debug, Clone)]
pub enum Reply {
    Rows {
        columns: Vec<String>,
        rows: Vec<Vec<Option<Cell>>>,
        secs: f64,
    },
    Message(String),
}

impl Reply {
    /// Rows from name/value records, columns in order of first appearance.
    pub fn from_records(records: Vec<Vec<(String, Cell)>>, secs: f64) -> Reply {
        let mut columns: Vec<String> = Vec::new();
        for r in &records {
            for (name, _) in r {
                if !columns.contains(name) {
                    columns.push(name.clone());
                }
            }
        }
        let rows = records
            .into_iter()
            .map(|r| {
                let mut row: Vec<Option<Cell>> = vec![None; columns.len()];
                for (name, c) in r {
                    if let Some(i) = columns.iter().position(|n| *n == name) {
                        if let Some(slot) = row.get_mut(i) {
                            *slot = Some(c);
                        }
                    }
                }
                row
            })
            .collect();
        Reply::Rows {
            columns,
            rows,
            secs,
        }
    }

    /// The text to print in `mode`.
    pub fn render(&self, mode: OutputMode) -> String {
        match self {
            Reply::Message(m) => format!("{m}\n"),
            Reply::Rows {
                columns,
                rows,
                secs,
            } => match mode {
                OutputMode::Table => table(columns, rows, *secs),
                OutputMode::Json => json(columns, rows),
                OutputMode::Raw => raw(columns, rows),
            },
        }
    }
}

fn text(c: &Option<Cell>) -> String {
    match c {
        None => String::new(),
        Some(Cell::Text(t)) => t.clone(),
        Some(Cell::Value(v)) => cell(v),
    }
}

fn footer(n: usize, secs: f64) -> String {
    let noun = if n == 1 { "row" } else { "rows" };
    format!("{n} {noun} in set ({secs:.3} secs)\n")
}

fn table(columns: &[String], rows: &[Vec<Option<Cell>>], secs: f64) -> String {
    if rows.is_empty() {
        return format!("{}\n", footer(0, secs));
    }
    let cells: Vec<Vec<String>> = rows.iter().map(|r| r.iter().map(text).collect()).collect();
    let widths: Vec<usize> = columns
        .iter()
        .enumerate()
        .map(|(i, c)| {
            cells
                .iter()
                .filter_map(|r| r.get(i))
                .map(|s| s.chars().count())
                .chain([c.chars().count()])
                .max()
                .unwrap_or(0)
        })
        .collect();
    let rule = {
        let mut s = String::from("+");
        for w in &widths {
            s.push_str(&"-".repeat(w + 2));
            s.push('+');
        }
        s.push('\n');
        s
    };
    let line = |vals: &mut dyn Iterator<Item = &String>| {
        let mut s = String::from("|");
        for (v, w) in vals.zip(&widths) {
            let pad = w.saturating_sub(v.chars().count());
            let _ = write!(s, " {v}{} |", " ".repeat(pad));
        }
        s.push('\n');
        s
    };
    let mut out = rule.clone();
    out.push_str(&line(&mut columns.iter()));
    out.push_str(&rule);
    for r in &cells {
        out.push_str(&line(&mut r.iter()));
    }
    out.push_str(&rule);
    out.push_str(&footer(rows.len(), secs));
    out.push('\n');
    out
}

fn json(columns: &[String], rows: &[Vec<Option<Cell>>]) -> String {
    let arr: Vec<serde_json::Value> = rows
        .iter()
        .map(|r| {
            let mut obj = serde_json::Map::new();
            for (c, v) in columns.iter().zip(r) {
                match v {
                    None => {}
                    Some(Cell::Text(t)) => {
                        obj.insert(c.clone(), serde_json::Value::String(t.clone()));
                    }
                    Some(Cell::Value(v)) => {
                        obj.insert(c.clone(), to_json(v));
                    }
                }
            }
            serde_json::Value::Object(obj)
        })
        .collect();
    let mut s = serde_json::to_string_pretty(&serde_json::Value::Array(arr)).unwrap_or_default();
    s.push('\n');
    s
}

fn raw(columns: &[String], rows: &[Vec<Option<Cell>>]) -> String {
    let mut out = String::new();
    for r in rows {
        for (c, v) in columns.iter().zip(r) {
            if v.is_some() {
                let _ = writeln!(out, "{c}: {}", text(v));
            }
        }
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_json_raw_shapes() {
        let r = Reply::from_records(
            vec![
                vec![
                    ("name".into(), Cell::Value(Value::String("Ada".into()))),
                    ("age".into(), Cell::Value(Value::Int(36))),
                ],
                vec![("name".into(), Cell::Value(Value::String("Bo".into())))],
            ],
            0.0,
        );
        assert_eq!(
            r.render(OutputMode::Table),
            "+-------+-----+\n| name  | age |\n+-------+-----+\n| \"Ada\" | 36  |\n| \"Bo\"  |     |\n+-------+-----+\n2 rows in set (0.000 secs)\n\n"
        );
        let j: serde_json::Value =
            serde_json::from_str(&r.render(OutputMode::Json)).unwrap_or_default();
        assert_eq!(
            j,
            serde_json::json!([{"name": "Ada", "age": 36}, {"name": "Bo"}])
        );
        assert_eq!(
            r.render(OutputMode::Raw),
            "name: \"Ada\"\nage: 36\n\nname: \"Bo\"\n\n"
        );
        let empty = Reply::from_records(vec![], 0.0);
        assert_eq!(
            empty.render(OutputMode::Table),
            "0 rows in set (0.000 secs)\n\n"
        );
        assert_eq!(empty.render(OutputMode::Json), "[]\n");
    }
}
