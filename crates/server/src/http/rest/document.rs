//! `/v1/document/{ns}/{set}/{key}?jsonPath=...&bins=...`: JSON documents stored in bins (the
//! `bins` named, `doc` by default), read and changed by JSONPath ([`super::jsonpath`]):
//! GET reads what the path selects, PUT sets it to the body, POST appends the body to the list
//! the path selects, DELETE removes it.
//!
//! A simple path (names and indexes only) is one CDT op per bin, its steps the op's context,
//! all bins in one operate command. A path with wildcards or filters is resolved against the
//! stored document into the concrete paths it selects; the changes are then one operate
//! command with a CDT op per match, guarded by the generation read, and retried a few times
//! if another writer got in between. Either way each request is one atomic operate.

use std::sync::Arc;

use aerie_cdt::list::op as lop;
use aerie_cdt::map::op as mop;
use aerie_cdt::Value;
use aerie_info::NodeContext;
use aerie_proto::msg::{info1, info2, op};
use aerie_proto::MsgHeader;
use aerie_record::particle;
use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use serde_json::{Map as JsonMap, Value as Json};

use super::body;
use super::error::RestError;
use super::jsonpath::{self, Concrete, Step};
use super::kvs::{respond, respond_empty, Address};
use super::operate::cdt_payload_values;
use super::params::Params;
use super::txn::{Command, OpSpec};
use super::value::{json_to_cdt, json_to_particle};

type Ctx = State<Arc<NodeContext>>;
type Key = Path<(String, String, String)>;

/// The bin a document lives in when the request names none.
pub const DEFAULT_DOCUMENT_BIN: &str = "doc";
/// Attempts of a wildcard or filter change that keeps meeting concurrent writers.
const MAX_GENERATION_RETRIES: usize = 5;
/// CDT return type "none" (removes report nothing).
const RETURN_NONE: i64 = 0;
/// CDT return type "value".
const RETURN_VALUE: i64 = 7;

/// What a request does at the selected places.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Change {
    Put,
    Append,
    Delete,
}

pub async fn get(
    State(ctx): Ctx,
    Path((ns, set, key)): Key,
    RawQuery(q): RawQuery,
    headers: HeaderMap,
) -> Response {
    let r = read(&ctx, ns, set, &key, q.as_deref()).await;
    respond(&headers, r)
}

pub async fn put(
    State(ctx): Ctx,
    Path((ns, set, key)): Key,
    RawQuery(q): RawQuery,
    headers: HeaderMap,
    bytes: Bytes,
) -> Response {
    let r = change(
        &ctx,
        ns,
        set,
        &key,
        q.as_deref(),
        Some((&headers, &bytes)),
        Change::Put,
    )
    .await;
    respond_empty(&headers, r.map(|()| StatusCode::NO_CONTENT))
}

pub async fn append(
    State(ctx): Ctx,
    Path((ns, set, key)): Key,
    RawQuery(q): RawQuery,
    headers: HeaderMap,
    bytes: Bytes,
) -> Response {
    let r = change(
        &ctx,
        ns,
        set,
        &key,
        q.as_deref(),
        Some((&headers, &bytes)),
        Change::Append,
    )
    .await;
    respond_empty(&headers, r.map(|()| StatusCode::NO_CONTENT))
}

pub async fn delete(
    State(ctx): Ctx,
    Path((ns, set, key)): Key,
    RawQuery(q): RawQuery,
    headers: HeaderMap,
) -> Response {
    let r = change(&ctx, ns, set, &key, q.as_deref(), None, Change::Delete).await;
    respond_empty(&headers, r.map(|()| StatusCode::NO_CONTENT))
}

/// The request's path and document bins.
fn target(p: &Params) -> Result<(Vec<Step>, Vec<String>), RestError> {
    let path = p
        .get("jsonPath")
        .ok_or_else(|| RestError::bad_request("jsonPath is required"))?;
    let steps =
        jsonpath::parse(path).map_err(|e| RestError::bad_request(format!("jsonPath: {e}")))?;
    let mut bins = p.all("bins");
    if bins.is_empty() {
        bins.push(DEFAULT_DOCUMENT_BIN.to_owned());
    }
    Ok((steps, bins))
}

async fn read(
    ctx: &NodeContext,
    ns: String,
    set: String,
    key: &str,
    q: Option<&str>,
) -> Result<(StatusCode, Json), RestError> {
    let p = Params::parse(q)?;
    let addr = Address::new(ns, set, key, &p)?;
    let (steps, bins) = target(&p)?;
    let mut header = MsgHeader {
        info1: info1::READ,
        ..MsgHeader::default()
    };
    let simple = jsonpath::is_simple(&steps);
    let mut ops = Vec::with_capacity(bins.len());
    for bin in &bins {
        ops.push(match (simple, steps.split_last()) {
            (true, Some((last, parents))) => {
                let (code, args) = match last {
                    Step::Key(k) => (
                        mop::GET_BY_KEY,
                        vec![Value::Int(RETURN_VALUE), Value::string(k)],
                    ),
                    Step::Index(i) => (
                        lop::GET_BY_INDEX,
                        vec![Value::Int(RETURN_VALUE), Value::Int(*i)],
                    ),
                    _ => return Err(RestError::bad_request("jsonPath: unexpected step")),
                };
                OpSpec::new(
                    op::CDT_READ,
                    particle::BLOB,
                    bin,
                    cdt_payload_values(simple_ctx(parents)?, code, args),
                )
            }
            _ => OpSpec::new(op::READ, particle::NULL, bin, Vec::new()),
        });
    }
    header.info1 |= info1::READ;
    let rec = Command {
        header,
        fields: addr.fields(&p)?,
        ops,
    }
    .run(ctx, "document read")
    .await?;
    let got = rec.bins.unwrap_or_default();
    let mut out = JsonMap::new();
    for bin in &bins {
        let v = got.get(bin).cloned().unwrap_or(Json::Null);
        let v = if simple {
            v
        } else {
            Json::Array(
                jsonpath::select(&v, &steps)
                    .iter()
                    .filter_map(|path| lookup(&v, path).cloned())
                    .collect(),
            )
        };
        if v.is_null() || v.as_array().is_some_and(|a| a.is_empty() && !simple) {
            return Err(RestError::from_code(
                23,
                &format!("jsonPath selects nothing in bin {bin}"),
            ));
        }
        out.insert(bin.clone(), v);
    }
    Ok((StatusCode::OK, Json::Object(out)))
}

async fn change(
    ctx: &NodeContext,
    ns: String,
    set: String,
    key: &str,
    q: Option<&str>,
    body: Option<(&HeaderMap, &[u8])>,
    what: Change,
) -> Result<(), RestError> {
    let p = Params::parse(q)?;
    let addr = Address::new(ns, set, key, &p)?;
    let (steps, bins) = target(&p)?;
    let value = match body {
        Some((h, b)) => body::decode(h, b)?,
        None => Json::Null,
    };
    let fields = addr.fields(&p)?;
    if jsonpath::is_simple(&steps) {
        let concrete = steps
            .iter()
            .map(|s| match s {
                Step::Key(k) => Ok(Place::Key(k.clone())),
                Step::Index(i) => Ok(Place::Index(*i)),
                _ => Err(RestError::bad_request("jsonPath: unexpected step")),
            })
            .collect::<Result<Vec<_>, _>>()?;
        let mut ops = Vec::new();
        for bin in &bins {
            ops.push(change_op(bin, &concrete, what, &value)?);
        }
        let cmd = Command {
            header: write_header(),
            fields,
            ops,
        };
        return cmd.run(ctx, "document write").await.map(|_| ());
    }
    // Wildcards and filters: resolve against the stored document, then change every match in
    // one operate guarded by the generation read.
    for _ in 0..MAX_GENERATION_RETRIES {
        let read = Command {
            header: MsgHeader {
                info1: info1::READ,
                ..MsgHeader::default()
            },
            fields: fields.clone(),
            ops: bins
                .iter()
                .map(|b| OpSpec::new(op::READ, particle::NULL, b, Vec::new()))
                .collect(),
        }
        .run(ctx, "document read")
        .await?;
        let docs = read.bins.unwrap_or_default();
        let mut ops = Vec::new();
        for bin in &bins {
            let doc = docs.get(bin).cloned().unwrap_or(Json::Null);
            let mut matches = match (what, steps.split_last()) {
                // A put may name a member or position that does not exist yet: resolve the
                // parents, then address the last step under each.
                (Change::Put, Some((last @ (Step::Key(_) | Step::Index(_)), parents))) => {
                    jsonpath::select(&doc, parents)
                        .into_iter()
                        .filter_map(|mut m| {
                            let parent = lookup(&doc, &m)?;
                            m.push(match last {
                                Step::Key(k) => Concrete::Key(k.clone()),
                                Step::Index(i) => Concrete::Index(jsonpath::resolve_index(
                                    *i,
                                    parent.as_array()?.len(),
                                )?),
                                _ => return None,
                            });
                            Some(m)
                        })
                        .collect()
                }
                _ => jsonpath::select(&doc, &steps),
            };
            // Later list positions first, so removing one does not shift the others.
            matches.sort();
            matches.reverse();
            for m in matches {
                let places: Vec<Place> = m
                    .into_iter()
                    .map(|c| match c {
                        Concrete::Key(k) => Place::Key(k),
                        Concrete::Index(i) => Place::Index(i as i64),
                    })
                    .collect();
                ops.push(change_op(bin, &places, what, &value)?);
            }
        }
        if ops.is_empty() {
            return Err(RestError::from_code(23, "jsonPath selects nothing"));
        }
        let mut header = write_header();
        header.info2 |= info2::GENERATION;
        header.generation = read.generation;
        match (Command {
            header,
            fields: fields.clone(),
            ops,
        })
        .run(ctx, "document write")
        .await
        {
            Err(e) if e.code == 3 => continue,
            r => return r.map(|_| ()),
        }
    }
    Err(RestError::from_code(
        3,
        "document changed by other writers; retries exhausted",
    ))
}

/// A concrete place in a document.
#[derive(Debug, Clone)]
enum Place {
    Key(String),
    Index(i64),
}

fn write_header() -> MsgHeader {
    MsgHeader {
        info2: info2::WRITE,
        ..MsgHeader::default()
    }
}

/// The op that applies `what` at `places` inside `bin`.
fn change_op(bin: &str, places: &[Place], what: Change, value: &Json) -> Result<OpSpec, RestError> {
    let cdt = |v: &Json| json_to_cdt(v, 0).map_err(RestError::bad_request);
    let modify = |steps: &[Place], code: u64, args: Vec<Value>| {
        Ok(OpSpec::new(
            op::CDT_MODIFY,
            particle::BLOB,
            bin,
            cdt_payload_values(place_ctx(steps), code, args),
        ))
    };
    match (what, places.split_last()) {
        // The whole bin.
        (Change::Put, None) => {
            let (t, b) = json_to_particle(value).map_err(RestError::bad_request)?;
            Ok(OpSpec::new(op::WRITE, t, bin, b))
        }
        (Change::Delete, None) => Ok(OpSpec::new(op::WRITE, particle::NULL, bin, Vec::new())),
        (Change::Append, _) => modify(places, lop::APPEND, vec![cdt(value)?]),
        (Change::Put, Some((Place::Key(k), parents))) => {
            modify(parents, mop::PUT, vec![Value::string(k), cdt(value)?])
        }
        (Change::Put, Some((Place::Index(i), parents))) => {
            modify(parents, lop::SET, vec![Value::Int(*i), cdt(value)?])
        }
        (Change::Delete, Some((Place::Key(k), parents))) => modify(
            parents,
            mop::REMOVE_BY_KEY,
            vec![Value::Int(RETURN_NONE), Value::string(k)],
        ),
        (Change::Delete, Some((Place::Index(i), parents))) => modify(
            parents,
            lop::REMOVE_BY_INDEX,
            vec![Value::Int(RETURN_NONE), Value::Int(*i)],
        ),
    }
}

/// A simple path's steps as a CDT context (`[type, value, ...]`).
pub fn simple_ctx(steps: &[Step]) -> Result<Vec<Value>, RestError> {
    let places = steps
        .iter()
        .map(|s| match s {
            Step::Key(k) => Ok(Place::Key(k.clone())),
            Step::Index(i) => Ok(Place::Index(*i)),
            _ => Err(RestError::bad_request(
                "jsonPath: only names and indexes can address an element here",
            )),
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok(place_ctx(&places))
}

fn place_ctx(places: &[Place]) -> Vec<Value> {
    let mut out = Vec::with_capacity(places.len() * 2);
    for p in places {
        match p {
            Place::Key(k) => {
                out.push(Value::Int(0x22));
                out.push(Value::string(k));
            }
            Place::Index(i) => {
                out.push(Value::Int(0x10));
                out.push(Value::Int(*i));
            }
        }
    }
    out
}

fn lookup<'a>(doc: &'a Json, path: &[Concrete]) -> Option<&'a Json> {
    path.iter().try_fold(doc, |v, c| match c {
        Concrete::Key(k) => v.get(k),
        Concrete::Index(i) => v.get(*i),
    })
}

/// A simple JSONPath (names and indexes) as an encoded CDT context, for secondary indexes on
/// a document field and the queries that use them. `$` itself is no context.
pub fn json_path_ctx(path: &str) -> Result<Option<Vec<u8>>, RestError> {
    let steps =
        jsonpath::parse(path).map_err(|e| RestError::bad_request(format!("jsonPath: {e}")))?;
    if steps.is_empty() {
        return Ok(None);
    }
    let ctx = simple_ctx(&steps)?;
    Ok(Some(aerie_cdt::msgpack::encode(&Value::List(
        aerie_cdt::List::new(0, ctx),
    ))))
}
