//! AQL statements: a hand-written recursive-descent parser over [`crate::lexer`] tokens.
//! Keywords are case-insensitive. Every error carries the byte offset it points at, shown as
//! `line L, column C` by [`ParseError::render`].

use crate::lexer::{lex, Spanned, Tok};

/// A parse error at a byte offset of the statement text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseError {
    pub pos: usize,
    pub msg: String,
}

impl ParseError {
    pub fn new(pos: usize, msg: impl Into<String>) -> Self {
        ParseError {
            pos,
            msg: msg.into(),
        }
    }

    /// `line L, column C: message` for `src`, the text the offset points into.
    pub fn render(&self, src: &str) -> String {
        let before = src.get(..self.pos).unwrap_or(src);
        let line = before.matches('\n').count() + 1;
        let col = before.rsplit('\n').next().unwrap_or("").chars().count() + 1;
        format!("line {line}, column {col}: {}", self.msg)
    }
}

/// A literal value as written.
#[derive(Debug, Clone, PartialEq)]
pub enum Literal {
    Int(i64),
    Float(f64),
    Str(String),
    Bool(bool),
    Null,
    /// `JSON('...')`: any JSON value.
    Json(String),
    /// `LIST('[...]')`.
    List(String),
    /// `MAP('{...}')`.
    Map(String),
    /// `GEOJSON('{...}')`.
    GeoJson(String),
}

/// `ns` or `ns.set`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    pub namespace: String,
    pub set: Option<String>,
}

/// How one record is addressed.
#[derive(Debug, Clone, PartialEq)]
pub enum KeyRef {
    Pk(Literal),
    /// 20-byte digest in hex (`DIGEST = '...'`).
    Digest(String),
}

/// A secondary-index predicate.
#[derive(Debug, Clone, PartialEq)]
pub enum IndexPred {
    Equal(String, Literal),
    Between(String, Literal, Literal),
    /// `bin CONTAINS GEOJSON(point)`: regions containing the point.
    GeoContains(String, String),
    /// `bin WITHIN GEOJSON(region)`: points within the region.
    GeoWithin(String, String),
}

/// What `IN LIST|MAPKEYS|MAPVALUES` picks (collection index type).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Collection {
    Default,
    List,
    MapKeys,
    MapValues,
}

/// Index data types.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IndexKind {
    Numeric,
    String,
    Blob,
    Geo2dSphere,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Show {
    Namespaces,
    Sets,
    Bins,
    Indexes,
    Udfs,
    Queries,
    Scans,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OutputMode {
    Table,
    Json,
    Raw,
}

/// A `SET` of a session setting.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Setting {
    Output(OutputMode),
    TimeoutMs(u32),
    /// -2 keep, -1 never, 0 namespace default, else seconds.
    RecordTtl(i64),
    KeySend(bool),
    DurableDelete(bool),
}

/// `module.function(args)`.
#[derive(Debug, Clone, PartialEq)]
pub struct UdfCall {
    pub module: String,
    pub function: String,
    pub args: Vec<Literal>,
}

/// One AQL statement.
#[derive(Debug, Clone, PartialEq)]
pub enum Statement {
    Insert {
        target: Target,
        key: KeyRef,
        bins: Vec<(String, Literal)>,
    },
    Update {
        target: Target,
        key: KeyRef,
        bins: Vec<(String, Literal)>,
    },
    Delete {
        target: Target,
        key: KeyRef,
    },
    SelectKey {
        bins: Option<Vec<String>>,
        target: Target,
        key: KeyRef,
    },
    Query {
        bins: Option<Vec<String>>,
        target: Target,
        collection: Collection,
        pred: Option<IndexPred>,
        limit: Option<u64>,
    },
    CreateIndex {
        name: String,
        collection: Collection,
        target: Target,
        bin: String,
        kind: IndexKind,
    },
    DropIndex {
        target: Target,
        name: String,
    },
    Show(Show),
    StatNamespace(String),
    StatIndex {
        namespace: String,
        name: String,
    },
    StatSystem,
    RegisterModule(String),
    RemoveModule(String),
    /// Record UDF on one key.
    ExecuteKey {
        call: UdfCall,
        target: Target,
        key: KeyRef,
    },
    /// Background UDF over a scan or query.
    ExecuteBackground {
        call: UdfCall,
        target: Target,
        pred: Option<IndexPred>,
    },
    Aggregate {
        call: UdfCall,
        target: Target,
        pred: Option<IndexPred>,
    },
    Truncate {
        target: Target,
        /// Last-update-time cut-off, nanoseconds since the Unix epoch.
        upto_nanos: Option<i64>,
    },
    Set(Setting),
    Run(String),
}

/// Parses every `;`-separated statement of `src` (a trailing `;` is fine).
pub fn parse_statements(src: &str) -> Result<Vec<Statement>, ParseError> {
    let toks = lex(src)?;
    let mut p = Parser {
        toks,
        i: 0,
        end: src.len(),
    };
    let mut out = Vec::new();
    loop {
        while p.eat_punct(';') {}
        if p.peek().is_none() {
            break;
        }
        out.push(p.statement()?);
        if p.peek().is_some() && !p.eat_punct(';') {
            return Err(p.unexpected("';' or the end of the statement"));
        }
    }
    Ok(out)
}

/// Parses a script file: one or more `;`-separated statements per line, as aql's files are
/// written. Error offsets are offsets into the whole text.
pub fn parse_script(text: &str) -> Result<Vec<Statement>, ParseError> {
    let mut out = Vec::new();
    let mut offset = 0;
    for line in text.split_inclusive('\n') {
        match parse_statements(line) {
            Ok(s) => out.extend(s),
            Err(e) => return Err(ParseError::new(offset + e.pos.min(line.len()), e.msg)),
        }
        offset += line.len();
    }
    Ok(out)
}

/// Parses exactly one statement.
pub fn parse(src: &str) -> Result<Statement, ParseError> {
    let mut all = parse_statements(src)?;
    match all.len() {
        1 => all
            .pop()
            .ok_or_else(|| ParseError::new(0, "empty statement")),
        0 => Err(ParseError::new(0, "empty statement")),
        _ => Err(ParseError::new(0, "one statement expected")),
    }
}

/// Keywords the shell completes.
pub const KEYWORDS: &[&str] = &[
    "INSERT",
    "INTO",
    "VALUES",
    "UPDATE",
    "SET",
    "DELETE",
    "FROM",
    "SELECT",
    "WHERE",
    "PK",
    "DIGEST",
    "BETWEEN",
    "AND",
    "CONTAINS",
    "WITHIN",
    "LIMIT",
    "IN",
    "LIST",
    "MAPKEYS",
    "MAPVALUES",
    "CREATE",
    "DROP",
    "INDEX",
    "ON",
    "NUMERIC",
    "STRING",
    "BLOB",
    "GEO2DSPHERE",
    "SHOW",
    "NAMESPACES",
    "SETS",
    "BINS",
    "INDEXES",
    "UDFS",
    "QUERIES",
    "SCANS",
    "STAT",
    "NAMESPACE",
    "SYSTEM",
    "REGISTER",
    "REMOVE",
    "MODULE",
    "EXECUTE",
    "AGGREGATE",
    "TRUNCATE",
    "UPTO",
    "OUTPUT",
    "TABLE",
    "JSON",
    "RAW",
    "TIMEOUT",
    "RECORD_TTL",
    "KEY_SEND",
    "DURABLE_DELETE",
    "RUN",
    "MAP",
    "GEOJSON",
    "TRUE",
    "FALSE",
    "NULL",
];

struct Parser {
    toks: Vec<Spanned>,
    i: usize,
    end: usize,
}

impl Parser {
    fn peek(&self) -> Option<&Tok> {
        self.toks.get(self.i).map(|s| &s.tok)
    }

    fn pos(&self) -> usize {
        self.toks.get(self.i).map_or(self.end, |s| s.pos)
    }

    fn bump(&mut self) -> Option<Tok> {
        let t = self.toks.get(self.i).map(|s| s.tok.clone());
        self.i += 1;
        t
    }

    fn unexpected(&self, want: &str) -> ParseError {
        match self.peek() {
            Some(t) => ParseError::new(self.pos(), format!("expected {want}, found {t}")),
            None => ParseError::new(self.end, format!("expected {want}, found the end")),
        }
    }

    fn is_kw(&self, kw: &str) -> bool {
        matches!(self.peek(), Some(Tok::Word(w)) if w.eq_ignore_ascii_case(kw))
    }

    fn eat_kw(&mut self, kw: &str) -> bool {
        let yes = self.is_kw(kw);
        if yes {
            self.i += 1;
        }
        yes
    }

    fn kw(&mut self, kw: &str) -> Result<(), ParseError> {
        if self.eat_kw(kw) {
            Ok(())
        } else {
            Err(self.unexpected(kw))
        }
    }

    fn eat_punct(&mut self, c: char) -> bool {
        let yes = self.peek() == Some(&Tok::Punct(c));
        if yes {
            self.i += 1;
        }
        yes
    }

    fn punct(&mut self, c: char) -> Result<(), ParseError> {
        if self.eat_punct(c) {
            Ok(())
        } else {
            Err(self.unexpected(&format!("'{c}'")))
        }
    }

    fn name(&mut self, what: &str) -> Result<String, ParseError> {
        match self.peek() {
            Some(Tok::Word(w)) => {
                let w = w.clone();
                self.i += 1;
                Ok(w)
            }
            _ => Err(self.unexpected(what)),
        }
    }

    fn string(&mut self, what: &str) -> Result<String, ParseError> {
        match self.peek() {
            Some(Tok::Str(s)) => {
                let s = s.clone();
                self.i += 1;
                Ok(s)
            }
            _ => Err(self.unexpected(what)),
        }
    }

    /// A name, or a quoted string standing for one (module names, file paths).
    fn name_or_string(&mut self, what: &str) -> Result<String, ParseError> {
        match self.peek() {
            Some(Tok::Str(_)) => self.string(what),
            _ => self.name(what),
        }
    }

    fn unsigned(&mut self, what: &str) -> Result<u64, ParseError> {
        match self.peek() {
            Some(Tok::Int(n)) if *n >= 0 => {
                let n = *n as u64;
                self.i += 1;
                Ok(n)
            }
            _ => Err(self.unexpected(what)),
        }
    }

    fn signed(&mut self, what: &str) -> Result<i64, ParseError> {
        let neg = self.eat_punct('-');
        match self.peek() {
            Some(Tok::Int(n)) => {
                let n = *n;
                if n == i64::MIN && !neg {
                    return Err(ParseError::new(self.pos(), "integer out of range"));
                }
                self.i += 1;
                Ok(if neg { n.wrapping_neg() } else { n })
            }
            _ => Err(self.unexpected(what)),
        }
    }

    fn boolean(&mut self) -> Result<bool, ParseError> {
        if self.eat_kw("true") {
            Ok(true)
        } else if self.eat_kw("false") {
            Ok(false)
        } else {
            Err(self.unexpected("true or false"))
        }
    }

    // ---- statements ----------------------------------------------------------------------

    fn statement(&mut self) -> Result<Statement, ParseError> {
        let start = self.pos();
        let Some(Tok::Word(w)) = self.peek() else {
            return Err(self.unexpected("a statement"));
        };
        let w = w.to_ascii_uppercase();
        self.i += 1;
        match w.as_str() {
            "INSERT" => self.insert(),
            "UPDATE" => self.update(),
            "DELETE" => {
                self.kw("FROM")?;
                let target = self.target()?;
                self.kw("WHERE")?;
                let key = self.key_ref()?;
                Ok(Statement::Delete { target, key })
            }
            "SELECT" => self.select(),
            "CREATE" => self.create_index(),
            "DROP" => {
                self.kw("INDEX")?;
                let target = self.target()?;
                let name = self.name("an index name")?;
                Ok(Statement::DropIndex { target, name })
            }
            "SHOW" => self.show(),
            "STAT" => {
                if self.eat_kw("NAMESPACE") {
                    Ok(Statement::StatNamespace(self.name("a namespace")?))
                } else if self.eat_kw("INDEX") {
                    let namespace = self.name("a namespace")?;
                    let name = self.name("an index name")?;
                    Ok(Statement::StatIndex { namespace, name })
                } else if self.eat_kw("SYSTEM") {
                    Ok(Statement::StatSystem)
                } else {
                    Err(self.unexpected("NAMESPACE, INDEX or SYSTEM"))
                }
            }
            "REGISTER" => {
                self.kw("MODULE")?;
                Ok(Statement::RegisterModule(
                    self.string("a quoted file path")?,
                ))
            }
            "REMOVE" => {
                self.kw("MODULE")?;
                Ok(Statement::RemoveModule(self.module_file()?))
            }
            "EXECUTE" => self.execute(),
            "AGGREGATE" => {
                let call = self.udf_call()?;
                self.kw("ON")?;
                let target = self.target()?;
                let pred = if self.eat_kw("WHERE") {
                    Some(self.index_pred()?)
                } else {
                    None
                };
                Ok(Statement::Aggregate { call, target, pred })
            }
            "TRUNCATE" => {
                let target = self.target()?;
                let upto_nanos = if self.eat_kw("UPTO") {
                    Some(self.signed("a last-update time in nanoseconds")?)
                } else {
                    None
                };
                Ok(Statement::Truncate { target, upto_nanos })
            }
            "SET" => self.setting(),
            "RUN" => Ok(Statement::Run(self.string("a quoted file path")?)),
            _ => Err(ParseError::new(start, format!("unknown statement '{w}'"))),
        }
    }

    /// `ns` or `ns.set`.
    fn target(&mut self) -> Result<Target, ParseError> {
        let namespace = self.name("a namespace")?;
        let set = if self.eat_punct('.') {
            Some(self.name("a set")?)
        } else {
            None
        };
        Ok(Target { namespace, set })
    }

    /// `PK = value` or `DIGEST = 'hex'`.
    fn key_ref(&mut self) -> Result<KeyRef, ParseError> {
        if self.eat_kw("PK") {
            self.punct('=')?;
            Ok(KeyRef::Pk(self.literal()?))
        } else if self.is_kw("DIGEST") {
            self.i += 1;
            self.punct('=')?;
            let pos = self.pos();
            let hex = self.string("a quoted hex digest")?;
            if hex.len() != 40 || !hex.chars().all(|c| c.is_ascii_hexdigit()) {
                return Err(ParseError::new(pos, "a digest is 40 hex digits"));
            }
            Ok(KeyRef::Digest(hex))
        } else {
            Err(self.unexpected("PK or DIGEST"))
        }
    }

    fn insert(&mut self) -> Result<Statement, ParseError> {
        self.kw("INTO")?;
        let target = self.target()?;
        self.punct('(')?;
        let mut cols = Vec::new();
        loop {
            let pos = self.pos();
            cols.push((pos, self.name("a bin name or PK")?));
            if !self.eat_punct(',') {
                break;
            }
        }
        self.punct(')')?;
        self.kw("VALUES")?;
        self.punct('(')?;
        let vals_pos = self.pos();
        let mut vals = Vec::new();
        loop {
            vals.push(self.literal()?);
            if !self.eat_punct(',') {
                break;
            }
        }
        self.punct(')')?;
        if vals.len() != cols.len() {
            return Err(ParseError::new(
                vals_pos,
                format!("{} names but {} values", cols.len(), vals.len()),
            ));
        }
        let mut key = None;
        let mut bins = Vec::new();
        for ((pos, c), v) in cols.into_iter().zip(vals) {
            if c.eq_ignore_ascii_case("PK") {
                if key.is_some() {
                    return Err(ParseError::new(pos, "PK given twice"));
                }
                key = Some(KeyRef::Pk(v));
            } else if c.eq_ignore_ascii_case("DIGEST") {
                return Err(ParseError::new(pos, "INSERT needs PK, not DIGEST"));
            } else {
                bins.push((c, v));
            }
        }
        let key = key.ok_or_else(|| ParseError::new(vals_pos, "INSERT needs a PK column"))?;
        Ok(Statement::Insert { target, key, bins })
    }

    fn update(&mut self) -> Result<Statement, ParseError> {
        let target = self.target()?;
        self.kw("SET")?;
        let mut bins = Vec::new();
        loop {
            let bin = self.name("a bin name")?;
            self.punct('=')?;
            bins.push((bin, self.literal()?));
            if !self.eat_punct(',') {
                break;
            }
        }
        self.kw("WHERE")?;
        let key = self.key_ref()?;
        Ok(Statement::Update { target, key, bins })
    }

    fn select(&mut self) -> Result<Statement, ParseError> {
        let bins = if self.eat_punct('*') {
            None
        } else {
            let mut b = Vec::new();
            loop {
                b.push(self.name("a bin name or '*'")?);
                if !self.eat_punct(',') {
                    break;
                }
            }
            Some(b)
        };
        self.kw("FROM")?;
        let target = self.target()?;
        let collection = if self.eat_kw("IN") {
            self.collection()?
                .ok_or_else(|| self.unexpected("LIST, MAPKEYS or MAPVALUES"))?
        } else {
            Collection::Default
        };
        let mut pred = None;
        if self.eat_kw("WHERE") {
            if collection == Collection::Default && (self.is_kw("PK") || self.is_kw("DIGEST")) {
                let key = self.key_ref()?;
                return Ok(Statement::SelectKey { bins, target, key });
            }
            pred = Some(self.index_pred()?);
        }
        let limit = if self.eat_kw("LIMIT") {
            Some(self.unsigned("a record count")?)
        } else {
            None
        };
        Ok(Statement::Query {
            bins,
            target,
            collection,
            pred,
            limit,
        })
    }

    fn collection(&mut self) -> Result<Option<Collection>, ParseError> {
        Ok(if self.eat_kw("LIST") {
            Some(Collection::List)
        } else if self.eat_kw("MAPKEYS") {
            Some(Collection::MapKeys)
        } else if self.eat_kw("MAPVALUES") {
            Some(Collection::MapValues)
        } else {
            None
        })
    }

    fn index_pred(&mut self) -> Result<IndexPred, ParseError> {
        let bin = self.name("a bin name")?;
        if self.eat_punct('=') {
            return Ok(IndexPred::Equal(bin, self.literal()?));
        }
        if self.eat_kw("BETWEEN") {
            let lo = self.literal()?;
            self.kw("AND")?;
            let hi = self.literal()?;
            return Ok(IndexPred::Between(bin, lo, hi));
        }
        let contains = self.eat_kw("CONTAINS");
        if contains || self.eat_kw("WITHIN") {
            let pos = self.pos();
            let geo = match self.literal()? {
                Literal::GeoJson(s) | Literal::Str(s) => s,
                _ => return Err(ParseError::new(pos, "expected GEOJSON('...')")),
            };
            return Ok(if contains {
                IndexPred::GeoContains(bin, geo)
            } else {
                IndexPred::GeoWithin(bin, geo)
            });
        }
        Err(self.unexpected("'=', BETWEEN, CONTAINS or WITHIN"))
    }

    fn create_index(&mut self) -> Result<Statement, ParseError> {
        let collection = self.collection()?.unwrap_or(Collection::Default);
        self.kw("INDEX")?;
        let name = self.name("an index name")?;
        self.kw("ON")?;
        let target = self.target()?;
        self.punct('(')?;
        let bin = self.name("a bin name")?;
        self.punct(')')?;
        let kind = if self.eat_kw("NUMERIC") {
            IndexKind::Numeric
        } else if self.eat_kw("STRING") {
            IndexKind::String
        } else if self.eat_kw("BLOB") {
            IndexKind::Blob
        } else if self.eat_kw("GEO2DSPHERE") {
            IndexKind::Geo2dSphere
        } else {
            return Err(self.unexpected("NUMERIC, STRING, BLOB or GEO2DSPHERE"));
        };
        Ok(Statement::CreateIndex {
            name,
            collection,
            target,
            bin,
            kind,
        })
    }

    fn show(&mut self) -> Result<Statement, ParseError> {
        let what = [
            ("NAMESPACES", Show::Namespaces),
            ("SETS", Show::Sets),
            ("BINS", Show::Bins),
            ("INDEXES", Show::Indexes),
            ("UDFS", Show::Udfs),
            ("MODULES", Show::Udfs),
            ("QUERIES", Show::Queries),
            ("SCANS", Show::Scans),
        ];
        for (kw, s) in what {
            if self.eat_kw(kw) {
                return Ok(Statement::Show(s));
            }
        }
        Err(self.unexpected("NAMESPACES, SETS, BINS, INDEXES, UDFS, QUERIES or SCANS"))
    }

    /// A module's file name: `name` or `name.lua` or a quoted string.
    fn module_file(&mut self) -> Result<String, ParseError> {
        let mut m = self.name_or_string("a module name")?;
        if self.eat_punct('.') {
            m.push('.');
            m.push_str(&self.name("a file extension")?);
        }
        Ok(m)
    }

    fn udf_call(&mut self) -> Result<UdfCall, ParseError> {
        let module = self.name("a module name")?;
        self.punct('.')?;
        let function = self.name("a function name")?;
        self.punct('(')?;
        let mut args = Vec::new();
        if !self.eat_punct(')') {
            loop {
                args.push(self.literal()?);
                if !self.eat_punct(',') {
                    break;
                }
            }
            self.punct(')')?;
        }
        Ok(UdfCall {
            module,
            function,
            args,
        })
    }

    fn execute(&mut self) -> Result<Statement, ParseError> {
        let call = self.udf_call()?;
        self.kw("ON")?;
        let target = self.target()?;
        if !self.eat_kw("WHERE") {
            return Ok(Statement::ExecuteBackground {
                call,
                target,
                pred: None,
            });
        }
        if self.is_kw("PK") || self.is_kw("DIGEST") {
            let key = self.key_ref()?;
            return Ok(Statement::ExecuteKey { call, target, key });
        }
        let pred = Some(self.index_pred()?);
        Ok(Statement::ExecuteBackground { call, target, pred })
    }

    fn setting(&mut self) -> Result<Statement, ParseError> {
        let s = if self.eat_kw("OUTPUT") {
            if self.eat_kw("TABLE") {
                Setting::Output(OutputMode::Table)
            } else if self.eat_kw("JSON") {
                Setting::Output(OutputMode::Json)
            } else if self.eat_kw("RAW") {
                Setting::Output(OutputMode::Raw)
            } else {
                return Err(self.unexpected("TABLE, JSON or RAW"));
            }
        } else if self.eat_kw("TIMEOUT") {
            let pos = self.pos();
            let ms = self.unsigned("a timeout in ms")?;
            Setting::TimeoutMs(
                u32::try_from(ms).map_err(|_| ParseError::new(pos, "timeout too large"))?,
            )
        } else if self.eat_kw("RECORD_TTL") {
            let pos = self.pos();
            let ttl = self.signed("a TTL in seconds")?;
            if ttl < -2 || ttl > i64::from(u32::MAX - 2) {
                return Err(ParseError::new(pos, "RECORD_TTL is -2, -1, 0 or seconds"));
            }
            Setting::RecordTtl(ttl)
        } else if self.eat_kw("KEY_SEND") {
            Setting::KeySend(self.boolean()?)
        } else if self.eat_kw("DURABLE_DELETE") {
            Setting::DurableDelete(self.boolean()?)
        } else {
            return Err(self.unexpected("OUTPUT, TIMEOUT, RECORD_TTL, KEY_SEND or DURABLE_DELETE"));
        };
        Ok(Statement::Set(s))
    }

    // ---- values --------------------------------------------------------------------------

    fn literal(&mut self) -> Result<Literal, ParseError> {
        let pos = self.pos();
        match self.peek().cloned() {
            Some(Tok::Int(_)) | Some(Tok::Punct('-')) => {
                if self.eat_punct('-') {
                    match self.bump() {
                        Some(Tok::Int(n)) => Ok(Literal::Int(n.wrapping_neg())),
                        Some(Tok::Float(x)) => Ok(Literal::Float(-x)),
                        _ => Err(ParseError::new(pos, "expected a number after '-'")),
                    }
                } else {
                    match self.bump() {
                        Some(Tok::Int(i64::MIN)) => {
                            Err(ParseError::new(pos, "integer out of range"))
                        }
                        Some(Tok::Int(n)) => Ok(Literal::Int(n)),
                        _ => Err(ParseError::new(pos, "expected a number")),
                    }
                }
            }
            Some(Tok::Float(x)) => {
                self.i += 1;
                Ok(Literal::Float(x))
            }
            Some(Tok::Str(s)) => {
                self.i += 1;
                Ok(Literal::Str(s))
            }
            Some(Tok::Word(w)) => {
                let up = w.to_ascii_uppercase();
                match up.as_str() {
                    "TRUE" => {
                        self.i += 1;
                        Ok(Literal::Bool(true))
                    }
                    "FALSE" => {
                        self.i += 1;
                        Ok(Literal::Bool(false))
                    }
                    "NULL" => {
                        self.i += 1;
                        Ok(Literal::Null)
                    }
                    "JSON" | "LIST" | "MAP" | "GEOJSON" => {
                        self.i += 1;
                        self.punct('(')?;
                        let text = self.string("a quoted value")?;
                        self.punct(')')?;
                        Ok(match up.as_str() {
                            "JSON" => Literal::Json(text),
                            "LIST" => Literal::List(text),
                            "MAP" => Literal::Map(text),
                            _ => Literal::GeoJson(text),
                        })
                    }
                    _ => Err(self.unexpected("a value")),
                }
            }
            _ => Err(self.unexpected("a value")),
        }
    }
}

#[cfg(test)]
#[path = "parser_test.rs"]
mod tests;
