//! JSONPath for documents, the subset Aerospike's document library supports: the root `$`,
//! dot and bracket member names (`$.a.b`, `$['a']`), list indexes (`$.a[0]`, `$.a[-1]`),
//! wildcards (`$.a.*`, `$.a[*]`) and filters on list items or map values
//! (`$.a[?(@.price < 10)]`, `$.a[?(@.tag)]`, `$.a[?(@ == 'x')]`; `==`, `!=`, `<`, `<=`, `>`,
//! `>=` against a number, a quoted string, `true`, `false` or `null`). Deep scan (`..`) and
//! functions are refused with a clear message.
//!
//! A path made only of names and indexes is *simple*: it maps onto a CDT context directly. The
//! others are resolved against the stored document into the concrete paths they select.

use serde_json::Value as Json;

/// Longest path accepted, in steps.
pub const MAX_STEPS: usize = 64;
/// Longest path text accepted.
pub const MAX_PATH_BYTES: usize = 4096;

/// One step of a path.
#[derive(Debug, Clone, PartialEq)]
pub enum Step {
    Key(String),
    Index(i64),
    Wildcard,
    Filter(Filter),
}

/// `[?(@.a.b <op> literal)]`, or `[?(@.a.b)]` (exists) when `cmp` is `None`.
#[derive(Debug, Clone, PartialEq)]
pub struct Filter {
    pub field: Vec<String>,
    pub cmp: Option<(Cmp, Json)>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cmp {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

/// A step of a concrete path: a map key or a list position.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum Concrete {
    Key(String),
    Index(usize),
}

/// Whether the path is only names and indexes.
pub fn is_simple(steps: &[Step]) -> bool {
    steps
        .iter()
        .all(|s| matches!(s, Step::Key(_) | Step::Index(_)))
}

/// Parses a path.
pub fn parse(text: &str) -> Result<Vec<Step>, String> {
    if text.len() > MAX_PATH_BYTES {
        return Err("JSONPath too long".into());
    }
    let mut p = Parser {
        s: text.as_bytes(),
        pos: 0,
    };
    if !p.eat(b'$') {
        return Err("a JSONPath starts with $".into());
    }
    let mut steps = Vec::new();
    while !p.done() {
        if steps.len() >= MAX_STEPS {
            return Err(format!("JSONPath deeper than {MAX_STEPS} steps"));
        }
        if p.eat(b'.') {
            if p.peek() == Some(b'.') {
                return Err("deep scan (..) is not supported".into());
            }
            if p.eat(b'*') {
                steps.push(Step::Wildcard);
            } else {
                let name = p.name()?;
                if p.peek() == Some(b'(') {
                    return Err(format!("function {name}() is not supported"));
                }
                steps.push(Step::Key(name));
            }
        } else if p.eat(b'[') {
            p.skip_ws();
            let step = match p.peek() {
                Some(b'*') => {
                    p.pos += 1;
                    Step::Wildcard
                }
                Some(b'\'' | b'"') => Step::Key(p.quoted()?),
                Some(b'?') => {
                    p.pos += 1;
                    Step::Filter(p.filter()?)
                }
                _ => Step::Index(p.integer()?),
            };
            p.skip_ws();
            if !p.eat(b']') {
                return Err(format!("expected ] at {}", p.pos));
            }
            steps.push(step);
        } else {
            return Err(format!("unexpected character at {}", p.pos));
        }
    }
    Ok(steps)
}

struct Parser<'a> {
    s: &'a [u8],
    pos: usize,
}

impl Parser<'_> {
    fn done(&self) -> bool {
        self.pos >= self.s.len()
    }

    fn peek(&self) -> Option<u8> {
        self.s.get(self.pos).copied()
    }

    fn eat(&mut self, c: u8) -> bool {
        if self.peek() == Some(c) {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    fn skip_ws(&mut self) {
        while self.peek().is_some_and(|c| c == b' ') {
            self.pos += 1;
        }
    }

    fn text(&self, from: usize) -> Result<String, String> {
        let b = self.s.get(from..self.pos).unwrap_or_default();
        std::str::from_utf8(b)
            .map(str::to_owned)
            .map_err(|_| "JSONPath is not UTF-8".to_owned())
    }

    /// A dot member name: up to the next `.`, `[`, `(` or the end.
    fn name(&mut self) -> Result<String, String> {
        let from = self.pos;
        while self.peek().is_some_and(|c| {
            !matches!(
                c,
                b'.' | b'[' | b'(' | b')' | b']' | b' ' | b'<' | b'>' | b'=' | b'!'
            )
        }) {
            self.pos += 1;
        }
        if from == self.pos {
            return Err(format!("expected a member name at {from}"));
        }
        self.text(from)
    }

    fn quoted(&mut self) -> Result<String, String> {
        let q = self.peek().ok_or("expected a quote")?;
        self.pos += 1;
        let from = self.pos;
        while self.peek().is_some_and(|c| c != q) {
            self.pos += 1;
        }
        let t = self.text(from)?;
        if !self.eat(q) {
            return Err("unterminated quoted name".into());
        }
        Ok(t)
    }

    fn integer(&mut self) -> Result<i64, String> {
        let from = self.pos;
        if self.peek() == Some(b'-') {
            self.pos += 1;
        }
        while self.peek().is_some_and(|c| c.is_ascii_digit()) {
            self.pos += 1;
        }
        let t = self.text(from)?;
        if t.contains(':') || self.peek() == Some(b':') {
            return Err("slices are not supported".into());
        }
        t.parse()
            .map_err(|_| format!("expected an index, a quoted name, * or a filter at {from}"))
    }

    /// After `[?`: `(@.a.b <op> literal)` or `(@.a.b)`.
    fn filter(&mut self) -> Result<Filter, String> {
        if !self.eat(b'(') {
            return Err("a filter is [?( ... )]".into());
        }
        self.skip_ws();
        if !self.eat(b'@') {
            return Err("a filter starts with @".into());
        }
        let mut field = Vec::new();
        while self.eat(b'.') {
            field.push(self.name()?);
            if field.len() > MAX_STEPS {
                return Err("filter path too deep".into());
            }
        }
        self.skip_ws();
        let cmp = if self.peek() == Some(b')') {
            None
        } else {
            let op = self.cmp()?;
            self.skip_ws();
            Some((op, self.literal()?))
        };
        self.skip_ws();
        if !self.eat(b')') {
            return Err("expected ) closing the filter (&& and || are not supported)".into());
        }
        Ok(Filter { field, cmp })
    }

    fn cmp(&mut self) -> Result<Cmp, String> {
        let two = self.s.get(self.pos..self.pos + 2).unwrap_or_default();
        let (op, len) = match two {
            b"==" => (Cmp::Eq, 2),
            b"!=" => (Cmp::Ne, 2),
            b"<=" => (Cmp::Le, 2),
            b">=" => (Cmp::Ge, 2),
            _ => match self.peek() {
                Some(b'<') => (Cmp::Lt, 1),
                Some(b'>') => (Cmp::Gt, 1),
                _ => return Err(format!("expected a comparison at {}", self.pos)),
            },
        };
        self.pos += len;
        Ok(op)
    }

    fn literal(&mut self) -> Result<Json, String> {
        match self.peek() {
            Some(b'\'' | b'"') => Ok(Json::String(self.quoted()?)),
            _ => {
                let from = self.pos;
                while self.peek().is_some_and(|c| !matches!(c, b')' | b' ')) {
                    self.pos += 1;
                }
                let t = self.text(from)?;
                serde_json::from_str::<Json>(&t)
                    .ok()
                    .filter(|j| !j.is_array() && !j.is_object())
                    .ok_or_else(|| format!("bad literal {t:?}"))
            }
        }
    }
}

/// The concrete paths `steps` select in `doc` (existing elements only), in document order.
pub fn select(doc: &Json, steps: &[Step]) -> Vec<Vec<Concrete>> {
    let mut out = Vec::new();
    walk(doc, steps, &mut Vec::new(), &mut out);
    out
}

fn walk(v: &Json, steps: &[Step], at: &mut Vec<Concrete>, out: &mut Vec<Vec<Concrete>>) {
    let Some((step, rest)) = steps.split_first() else {
        out.push(at.clone());
        return;
    };
    let mut go = |c: Concrete, child: &Json, at: &mut Vec<Concrete>| {
        at.push(c);
        walk(child, rest, at, out);
        at.pop();
    };
    match (step, v) {
        (Step::Key(k), Json::Object(m)) => {
            if let Some(child) = m.get(k) {
                go(Concrete::Key(k.clone()), child, at);
            }
        }
        (Step::Index(i), Json::Array(a)) => {
            if let Some(idx) = resolve_index(*i, a.len()) {
                if let Some(child) = a.get(idx) {
                    go(Concrete::Index(idx), child, at);
                }
            }
        }
        (Step::Wildcard, Json::Object(m)) => {
            for (k, child) in m {
                go(Concrete::Key(k.clone()), child, at);
            }
        }
        (Step::Wildcard, Json::Array(a)) => {
            for (idx, child) in a.iter().enumerate() {
                go(Concrete::Index(idx), child, at);
            }
        }
        (Step::Filter(f), Json::Array(a)) => {
            for (idx, child) in a.iter().enumerate() {
                if f.matches(child) {
                    go(Concrete::Index(idx), child, at);
                }
            }
        }
        (Step::Filter(f), Json::Object(m)) => {
            for (k, child) in m {
                if f.matches(child) {
                    go(Concrete::Key(k.clone()), child, at);
                }
            }
        }
        _ => {}
    }
}

/// A list index (negative from the end) as a position, if inside the list.
pub fn resolve_index(i: i64, len: usize) -> Option<usize> {
    if i >= 0 {
        usize::try_from(i).ok().filter(|&u| u < len)
    } else {
        len.checked_sub(usize::try_from(i.unsigned_abs()).ok()?)
    }
}

impl Filter {
    fn matches(&self, item: &Json) -> bool {
        let mut v = item;
        for k in &self.field {
            match v.get(k) {
                Some(x) => v = x,
                None => return false,
            }
        }
        let Some((op, lit)) = &self.cmp else {
            return true;
        };
        let ord = match (v, lit) {
            (Json::Number(a), Json::Number(b)) => a
                .as_f64()
                .zip(b.as_f64())
                .and_then(|(a, b)| a.partial_cmp(&b)),
            (Json::String(a), Json::String(b)) => Some(a.cmp(b)),
            _ => None,
        };
        match op {
            Cmp::Eq => ord.map_or(v == lit, |o| o.is_eq()),
            Cmp::Ne => ord.map_or(v != lit, |o| o.is_ne()),
            Cmp::Lt => ord.is_some_and(|o| o.is_lt()),
            Cmp::Le => ord.is_some_and(|o| o.is_le()),
            Cmp::Gt => ord.is_some_and(|o| o.is_gt()),
            Cmp::Ge => ord.is_some_and(|o| o.is_ge()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use serde_json::json;

    #[test]
    fn parses_the_supported_forms() {
        assert_eq!(parse("$"), Ok(vec![]));
        assert_eq!(
            parse("$.a['b c'][2][-1].*[*]"),
            Ok(vec![
                Step::Key("a".into()),
                Step::Key("b c".into()),
                Step::Index(2),
                Step::Index(-1),
                Step::Wildcard,
                Step::Wildcard
            ])
        );
        assert!(matches!(
            parse("$.a[?(@.p < 10)]").as_deref(),
            Ok([_, Step::Filter(_)])
        ));
        assert!(parse("a.b").is_err());
        assert!(parse("$..a").is_err());
        assert!(parse("$.a.length()").is_err());
        assert!(parse("$.a[1:2]").is_err());
        assert!(parse("$.a[?(@.x > 1 && @.y)]").is_err());
    }

    #[test]
    fn selects_by_wildcard_and_filter() {
        let doc = json!({"book": [
            {"title": "a", "price": 8}, {"title": "b", "price": 12}, {"title": "c"}
        ]});
        let cheap = parse("$.book[?(@.price < 10)].title").unwrap_or_default();
        assert_eq!(
            select(&doc, &cheap),
            vec![vec![
                Concrete::Key("book".into()),
                Concrete::Index(0),
                Concrete::Key("title".into())
            ]]
        );
        let priced = parse("$.book[?(@.price)]").unwrap_or_default();
        assert_eq!(select(&doc, &priced).len(), 2);
        let all = parse("$.book[*].title").unwrap_or_default();
        assert_eq!(select(&doc, &all).len(), 3);
        let last = parse("$.book[-1]").unwrap_or_default();
        assert_eq!(
            select(&doc, &last),
            vec![vec![Concrete::Key("book".into()), Concrete::Index(2)]]
        );
    }

    proptest! {
        #[test]
        fn any_text_parses_or_fails_cleanly(s in "\\$[\\[\\]\\.\\*\\?\\(\\)@<>=!'a-c0-9 -]{0,40}") {
            if let Ok(steps) = parse(&s) {
                let doc = json!({"a": [1, {"b": 2}], "b": {"c": "x"}});
                let _ = select(&doc, &steps);
            }
        }

        #[test]
        fn arbitrary_bytes_never_panic(b in prop::collection::vec(any::<u8>(), 0..64)) {
            let _ = parse(&String::from_utf8_lossy(&b));
        }
    }
}
