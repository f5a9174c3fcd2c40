//! Runs parsed statements through the official Aerospike client: one [`Session`] holds the
//! client and the `SET` settings. Info-backed statements (SHOW, STAT) turn the info text into
//! rows; everything else maps to one client call.

use std::path::Path;
use std::time::{Duration, Instant};

use aerospike::query::{CollectionIndexType, Filter, IndexType, PartitionFilter, UdfLang};
use aerospike::{
    AdminPolicy, Bin, Bins, Client, Expiration, Key, QueryPolicy, ReadPolicy, RecordExistsAction,
    Statement as QStatement, Task, Value, WritePolicy,
};
use futures::StreamExt;

use crate::output::{Cell, Reply};
use crate::parser::{
    Collection, IndexKind, IndexPred, KeyRef, OutputMode, Setting, Show, Statement, Target, UdfCall,
};
use crate::value::{digest, to_value};

/// Deepest nesting of `RUN 'file'` inside run files.
pub const MAX_RUN_DEPTH: usize = 8;

/// A statement's failure: the Aerospike result code when there is one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExecError {
    pub code: Option<i32>,
    pub msg: String,
}

impl std::fmt::Display for ExecError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.code {
            Some(c) => write!(f, "Error: ({c}) {}", self.msg),
            None => write!(f, "Error: {}", self.msg),
        }
    }
}

fn client_err(e: aerospike::Error) -> ExecError {
    let code = e.result_code();
    ExecError {
        code: Some(code),
        msg: e.to_string(),
    }
}

fn usage(msg: impl Into<String>) -> ExecError {
    ExecError {
        code: None,
        msg: msg.into(),
    }
}

/// Session settings (`SET ...`).
#[derive(Debug, Clone)]
pub struct Settings {
    pub output: OutputMode,
    pub timeout_ms: u32,
    pub record_ttl: i64,
    pub key_send: bool,
    pub durable_delete: bool,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            output: OutputMode::Table,
            timeout_ms: 1000,
            record_ttl: 0,
            key_send: false,
            durable_delete: false,
        }
    }
}

/// A connected client and its settings.
pub struct Session {
    pub client: Client,
    pub settings: Settings,
}

impl Session {
    fn write_policy(&self) -> WritePolicy {
        let mut p = WritePolicy::default();
        p.base_policy.total_timeout = self.settings.timeout_ms;
        p.send_key = self.settings.key_send;
        p.durable_delete = self.settings.durable_delete;
        p.expiration = match self.settings.record_ttl {
            0 => Expiration::NamespaceDefault,
            -1 => Expiration::Never,
            -2 => Expiration::DontUpdate,
            n => Expiration::Seconds(u32::try_from(n).unwrap_or(u32::MAX - 2)),
        };
        p
    }

    fn read_policy(&self) -> ReadPolicy {
        let mut p = ReadPolicy::default();
        p.base_policy.total_timeout = self.settings.timeout_ms;
        p
    }

    fn admin_policy(&self) -> AdminPolicy {
        AdminPolicy::default()
    }

    /// Runs one statement. `depth` counts nested `RUN`s.
    pub async fn execute(
        &mut self,
        stmt: &Statement,
        depth: usize,
        out: &mut dyn FnMut(&Reply, OutputMode) -> bool,
    ) -> Result<(), ExecError> {
        let reply = match stmt {
            Statement::Set(s) => self.set(s),
            Statement::Run(path) => return self.run_file(path, depth, out).await,
            other => self.one(other).await?,
        };
        out(&reply, self.settings.output);
        Ok(())
    }

    fn set(&mut self, s: &Setting) -> Reply {
        match s {
            Setting::Output(m) => self.settings.output = *m,
            Setting::TimeoutMs(t) => self.settings.timeout_ms = *t,
            Setting::RecordTtl(t) => self.settings.record_ttl = *t,
            Setting::KeySend(b) => self.settings.key_send = *b,
            Setting::DurableDelete(b) => self.settings.durable_delete = *b,
        }
        Reply::Message("OK".to_owned())
    }

    async fn run_file(
        &mut self,
        path: &str,
        depth: usize,
        out: &mut dyn FnMut(&Reply, OutputMode) -> bool,
    ) -> Result<(), ExecError> {
        if depth >= MAX_RUN_DEPTH {
            return Err(usage(format!("RUN nested deeper than {MAX_RUN_DEPTH}")));
        }
        let text = std::fs::read_to_string(path)
            .map_err(|e| usage(format!("cannot read '{path}': {e}")))?;
        let stmts = crate::parser::parse_script(&text)
            .map_err(|e| usage(format!("{path}: {}", e.render(&text))))?;
        for s in &stmts {
            Box::pin(self.execute(s, depth + 1, out)).await?;
        }
        Ok(())
    }

    fn key(&self, target: &Target, key: &KeyRef) -> Result<Key, ExecError> {
        let set = target.set.clone().unwrap_or_default();
        match key {
            KeyRef::Pk(lit) => {
                let v = to_value(lit).map_err(usage)?;
                Key::new(target.namespace.clone(), set, v).map_err(client_err)
            }
            KeyRef::Digest(hex) => Ok(Key::with_digest(
                target.namespace.clone(),
                set,
                None,
                digest(hex).map_err(usage)?,
            )),
        }
    }

    async fn one(&mut self, stmt: &Statement) -> Result<Reply, ExecError> {
        let started = Instant::now();
        let ok = |n: usize, what: &str| {
            let s = if n == 1 { "" } else { "s" };
            Reply::Message(format!("OK, {n} {what}{s} affected."))
        };
        match stmt {
            Statement::Insert { target, key, bins } | Statement::Update { target, key, bins } => {
                let mut wp = self.write_policy();
                if matches!(stmt, Statement::Update { .. }) {
                    wp.record_exists_action = RecordExistsAction::UpdateOnly;
                }
                let key = self.key(target, key)?;
                let bins = bins
                    .iter()
                    .map(|(n, l)| Ok(Bin::new(n.clone(), to_value(l).map_err(usage)?)))
                    .collect::<Result<Vec<_>, ExecError>>()?;
                self.client
                    .put(&wp, &key, &bins)
                    .await
                    .map_err(client_err)?;
                Ok(ok(1, "record"))
            }
            Statement::Delete { target, key } => {
                let key = self.key(target, key)?;
                let existed = self
                    .client
                    .delete(&self.write_policy(), &key)
                    .await
                    .map_err(client_err)?;
                if existed {
                    Ok(ok(1, "record"))
                } else {
                    Err(ExecError {
                        code: Some(2),
                        msg: "AEROSPIKE_ERR_RECORD_NOT_FOUND".to_owned(),
                    })
                }
            }
            Statement::SelectKey { bins, target, key } => {
                let key = self.key(target, key)?;
                let rec = self
                    .client
                    .get(&self.read_policy(), &key, bins_of(bins))
                    .await
                    .map_err(client_err)?;
                let row = rec
                    .bins
                    .into_iter()
                    .map(|(n, v)| (n, Cell::Value(v)))
                    .collect();
                Ok(Reply::from_records(
                    vec![row],
                    started.elapsed().as_secs_f64(),
                ))
            }
            Statement::Query {
                bins,
                target,
                collection,
                pred,
                limit,
            } => {
                let mut st = statement(target, bins_of(bins));
                if let Some(p) = pred {
                    st.set_filter(filter(p, *collection)?);
                }
                let mut qp = QueryPolicy::default();
                if let Some(n) = limit {
                    qp.max_records = *n;
                }
                let rs = self
                    .client
                    .query(&qp, PartitionFilter::all(), st)
                    .await
                    .map_err(client_err)?;
                let mut rows = Vec::new();
                let mut stream = rs.into_stream();
                while let Some(r) = stream.next().await {
                    let rec = r.map_err(client_err)?;
                    if limit.is_some_and(|n| rows.len() as u64 >= n) {
                        break;
                    }
                    rows.push(
                        rec.bins
                            .into_iter()
                            .map(|(n, v)| (n, Cell::Value(v)))
                            .collect(),
                    );
                }
                Ok(Reply::from_records(rows, started.elapsed().as_secs_f64()))
            }
            Statement::CreateIndex {
                name,
                collection,
                target,
                bin,
                kind,
            } => {
                let it = match kind {
                    IndexKind::Numeric => IndexType::Numeric,
                    IndexKind::String => IndexType::String,
                    IndexKind::Blob => IndexType::Blob,
                    IndexKind::Geo2dSphere => IndexType::Geo2DSphere,
                };
                let task = self
                    .client
                    .create_index_on_bin(
                        &self.admin_policy(),
                        &target.namespace,
                        target.set.as_deref().unwrap_or(""),
                        bin,
                        name,
                        it,
                        cit(*collection),
                        None,
                    )
                    .await
                    .map_err(client_err)?;
                task.wait_till_complete(Some(Duration::from_secs(60)))
                    .await
                    .map_err(client_err)?;
                Ok(Reply::Message("OK, 1 index added.".to_owned()))
            }
            Statement::DropIndex { target, name } => {
                self.client
                    .drop_index(
                        &self.admin_policy(),
                        &target.namespace,
                        target.set.as_deref().unwrap_or(""),
                        name,
                    )
                    .await
                    .map_err(client_err)?;
                Ok(Reply::Message("OK, 1 index removed.".to_owned()))
            }
            Statement::Show(what) => self.show(*what, started).await,
            Statement::StatNamespace(ns) => self.stat(&format!("namespace/{ns}"), started).await,
            Statement::StatIndex { namespace, name } => {
                self.stat(
                    &format!("sindex-stat:namespace={namespace};indexname={name}"),
                    started,
                )
                .await
            }
            Statement::StatSystem => self.stat("statistics", started).await,
            Statement::RegisterModule(path) => {
                let body = tokio::fs::read(path)
                    .await
                    .map_err(|e| usage(format!("cannot read '{path}': {e}")))?;
                let file = Path::new(path)
                    .file_name()
                    .map(|f| f.to_string_lossy().into_owned())
                    .ok_or_else(|| usage(format!("'{path}' names no file")))?;
                let task = self
                    .client
                    .register_udf(&self.admin_policy(), &body, &file, UdfLang::Lua)
                    .await
                    .map_err(client_err)?;
                task.wait_till_complete(Some(Duration::from_secs(30)))
                    .await
                    .map_err(client_err)?;
                Ok(Reply::Message("OK, 1 module added.".to_owned()))
            }
            Statement::RemoveModule(name) => {
                let file = if name.ends_with(".lua") {
                    name.clone()
                } else {
                    format!("{name}.lua")
                };
                self.client
                    .remove_udf(&self.admin_policy(), &file)
                    .await
                    .map_err(client_err)?;
                Ok(Reply::Message("OK, 1 module removed.".to_owned()))
            }
            Statement::ExecuteKey { call, target, key } => {
                let key = self.key(target, key)?;
                let args = udf_args(call)?;
                let v = self
                    .client
                    .execute_udf(
                        &self.write_policy(),
                        &key,
                        &call.module,
                        &call.function,
                        &args,
                    )
                    .await
                    .map_err(client_err)?;
                let row = vec![(call.function.clone(), Cell::Value(v.unwrap_or(Value::Nil)))];
                Ok(Reply::from_records(
                    vec![row],
                    started.elapsed().as_secs_f64(),
                ))
            }
            Statement::ExecuteBackground { call, target, pred } => {
                let mut st = statement(target, Bins::All);
                if let Some(p) = pred {
                    st.set_filter(filter(p, Collection::Default)?);
                }
                let args = udf_args(call)?;
                self.client
                    .query_execute_udf(
                        &self.write_policy(),
                        st,
                        &call.module,
                        &call.function,
                        &args,
                    )
                    .await
                    .map_err(client_err)?;
                Ok(Reply::Message(
                    "OK, Scheduled background UDF job.".to_owned(),
                ))
            }
            Statement::Aggregate { .. } => Err(ExecError {
                code: Some(16),
                msg: "AGGREGATE is not supported by this aql yet (the final reduce runs \
                      client-side in Lua)"
                    .to_owned(),
            }),
            Statement::Truncate { target, upto_nanos } => {
                self.client
                    .truncate(
                        &self.admin_policy(),
                        &target.namespace,
                        target.set.as_deref().unwrap_or(""),
                        upto_nanos.unwrap_or(0),
                    )
                    .await
                    .map_err(client_err)?;
                Ok(Reply::Message("OK".to_owned()))
            }
            Statement::Set(_) | Statement::Run(_) => Err(usage("not a single statement")),
        }
    }

    async fn info(&self, cmd: &str) -> Result<String, ExecError> {
        let answers = self
            .client
            .info(&self.admin_policy(), &[cmd])
            .await
            .map_err(client_err)?;
        let v = answers.get(cmd).cloned().unwrap_or_default();
        if let Some(rest) = v.strip_prefix("ERROR:") {
            let (code, msg) = rest.split_once(':').unwrap_or(("", rest));
            return Err(ExecError {
                code: code.parse().ok(),
                msg: msg.to_owned(),
            });
        }
        Ok(v)
    }

    async fn show(&self, what: Show, started: Instant) -> Result<Reply, ExecError> {
        let (cmd, sep) = match what {
            Show::Namespaces => {
                let v = self.info("namespaces").await?;
                let rows = v
                    .split(';')
                    .filter(|s| !s.is_empty())
                    .map(|ns| vec![("namespaces".to_owned(), Cell::Value(Value::from(ns)))])
                    .collect();
                return Ok(Reply::from_records(rows, started.elapsed().as_secs_f64()));
            }
            Show::Bins => {
                let v = self.info("bins").await?;
                let mut rows = Vec::new();
                for entry in v.split(';').filter(|s| !s.is_empty()) {
                    let Some((ns, list)) = entry.split_once(':') else {
                        continue;
                    };
                    for item in list.split(',').filter(|i| !i.contains('=')) {
                        rows.push(vec![
                            ("namespace".to_owned(), Cell::Text(ns.to_owned())),
                            ("bin".to_owned(), Cell::Text(item.to_owned())),
                        ]);
                    }
                }
                return Ok(Reply::from_records(rows, started.elapsed().as_secs_f64()));
            }
            Show::Sets => ("sets", ':'),
            Show::Indexes => ("sindex-list", ':'),
            Show::Udfs => ("udf-list", ','),
            Show::Queries => ("query-show", ':'),
            Show::Scans => ("scan-show", ':'),
        };
        let v = self.info(cmd).await?;
        let rows = v
            .split(';')
            .filter(|s| !s.trim().is_empty())
            .map(|entry| {
                entry
                    .split(sep)
                    .filter_map(|kv| kv.split_once('='))
                    .map(|(k, v)| (k.to_owned(), Cell::Text(v.to_owned())))
                    .collect()
            })
            .collect();
        Ok(Reply::from_records(rows, started.elapsed().as_secs_f64()))
    }

    async fn stat(&self, cmd: &str, started: Instant) -> Result<Reply, ExecError> {
        let v = self.info(cmd).await?;
        let rows = v
            .split(';')
            .filter_map(|kv| kv.split_once('='))
            .map(|(k, v)| {
                vec![
                    ("name".to_owned(), Cell::Text(k.to_owned())),
                    ("value".to_owned(), Cell::Text(v.to_owned())),
                ]
            })
            .collect();
        Ok(Reply::from_records(rows, started.elapsed().as_secs_f64()))
    }
}

fn bins_of(bins: &Option<Vec<String>>) -> Bins {
    match bins {
        None => Bins::All,
        Some(b) => Bins::Some(b.clone()),
    }
}

fn statement(target: &Target, bins: Bins) -> QStatement {
    QStatement::new(
        target.namespace.clone(),
        target.set.clone().unwrap_or_default(),
        bins,
    )
}

fn cit(c: Collection) -> CollectionIndexType {
    match c {
        Collection::Default => CollectionIndexType::Default,
        Collection::List => CollectionIndexType::List,
        Collection::MapKeys => CollectionIndexType::MapKeys,
        Collection::MapValues => CollectionIndexType::MapValues,
    }
}

fn udf_args(call: &UdfCall) -> Result<Vec<Value>, ExecError> {
    call.args
        .iter()
        .map(|a| to_value(a).map_err(usage))
        .collect()
}

fn filter(p: &IndexPred, c: Collection) -> Result<Filter, ExecError> {
    let v = |l| to_value(l).map_err(usage);
    Ok(match (p, c) {
        (IndexPred::Equal(bin, l), Collection::Default) => Filter::equal(bin.clone(), v(l)?),
        (IndexPred::Equal(bin, l), c) => Filter::contains(bin.clone(), v(l)?, cit(c)),
        (IndexPred::Between(bin, lo, hi), Collection::Default) => {
            Filter::range(bin.clone(), v(lo)?, v(hi)?)
        }
        (IndexPred::Between(bin, lo, hi), c) => {
            Filter::contains_range(bin.clone(), v(lo)?, v(hi)?, cit(c))
        }
        (IndexPred::GeoContains(bin, point), _) => Filter::geo_contains(bin.clone(), point),
        (IndexPred::GeoWithin(bin, region), _) => Filter::geo_within_region(bin.clone(), region),
    })
}
