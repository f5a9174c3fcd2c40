//! `/v1/info`, `/v1/truncate` and `/v1/index`: administration through the info commands
//! (`aerie_info::answer`, the same entry the info protocol uses, which also spreads
//! system-metadata commands over the cluster). An `ERROR:<code>:<text>` answer becomes the
//! matching HTTP error.

use std::sync::Arc;

use aerie_info::NodeContext;
use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine as _;
use serde_json::{json, Map as JsonMap, Value as Json};

use super::body;
use super::document::json_path_ctx;
use super::error::RestError;
use super::kvs::{respond, respond_empty};
use super::operate::ctx_to_msgpack;
use super::params::Params;

type Ctx = State<Arc<NodeContext>>;

/// Longest info command accepted from a REST body.
const MAX_INFO_COMMANDS: usize = 64;

/// Runs one info command; an `ERROR:code:text` (or `FAIL:code:text`) answer is an error.
pub async fn info_command(ctx: &Arc<NodeContext>, cmd: String) -> Result<String, RestError> {
    let ctx2 = ctx.clone();
    // Info commands may touch files (UDFs, truncate, namespaces): off the async workers.
    let answer = tokio::task::spawn_blocking(move || aerie_info::answer(&ctx2, &cmd))
        .await
        .map_err(|e| RestError::from_code(1, &format!("info command failed: {e}")))?;
    check_answer(&answer)?;
    Ok(answer)
}

/// Maps `ERROR:code:text` / `FAIL:code:text` answers to errors.
pub fn check_answer(answer: &str) -> Result<(), RestError> {
    let Some(rest) = answer
        .strip_prefix("ERROR:")
        .or_else(|| answer.strip_prefix("FAIL:"))
        .or_else(|| answer.strip_prefix("ERROR::"))
    else {
        return Ok(());
    };
    let (code, text) = rest.split_once(':').unwrap_or((rest, ""));
    let code: u8 = code.trim().parse().unwrap_or(4);
    let mut e = RestError::from_code(code, "info command");
    if !text.is_empty() {
        e.message = format!("{text} ({})", e.message);
    }
    Err(e)
}

/// `POST /v1/info`: `["cmd", ...]` → `{"cmd": "answer", ...}`.
pub async fn info(State(ctx): Ctx, headers: HeaderMap, bytes: Bytes) -> Response {
    let r = async {
        let cmds = match body::decode(&headers, &bytes)? {
            Json::Array(a) => a,
            _ => {
                return Err(RestError::bad_request(
                    "the body is a list of info commands",
                ))
            }
        };
        if cmds.len() > MAX_INFO_COMMANDS {
            return Err(RestError::bad_request("too many info commands"));
        }
        let mut out = JsonMap::new();
        for c in cmds {
            let Json::String(c) = c else {
                return Err(RestError::bad_request("info commands are strings"));
            };
            let ctx2 = ctx.clone();
            let cmd = c.clone();
            let answer = tokio::task::spawn_blocking(move || aerie_info::answer(&ctx2, &cmd))
                .await
                .map_err(|e| RestError::from_code(1, &format!("info command failed: {e}")))?;
            out.insert(c, Json::String(answer));
        }
        Ok((StatusCode::OK, Json::Object(out)))
    }
    .await;
    respond(&headers, r)
}

/// `DELETE /v1/truncate/{ns}`.
pub async fn truncate_ns(
    State(ctx): Ctx,
    Path(ns): Path<String>,
    RawQuery(q): RawQuery,
    headers: HeaderMap,
) -> Response {
    let r = truncate(&ctx, &ns, None, q.as_deref()).await;
    respond_empty(&headers, r.map(|()| StatusCode::ACCEPTED))
}

/// `DELETE /v1/truncate/{ns}/{set}`.
pub async fn truncate_set(
    State(ctx): Ctx,
    Path((ns, set)): Path<(String, String)>,
    RawQuery(q): RawQuery,
    headers: HeaderMap,
) -> Response {
    let r = truncate(&ctx, &ns, Some(&set), q.as_deref()).await;
    respond_empty(&headers, r.map(|()| StatusCode::ACCEPTED))
}

async fn truncate(
    ctx: &Arc<NodeContext>,
    ns: &str,
    set: Option<&str>,
    q: Option<&str>,
) -> Result<(), RestError> {
    let p = Params::parse(q)?;
    check_name(ns)?;
    // The info command answers `ok` for a namespace this node does not have (as Aerospike's
    // does); a REST caller naming a missing namespace gets 404.
    if ctx.registry.get(ns.as_bytes()).is_none() {
        return Err(RestError::from_code(
            aerie_proto::ResultCode::Namespace.code(),
            ns,
        ));
    }
    let mut cmd = match set {
        Some(s) => {
            check_name(s)?;
            format!("truncate:namespace={ns};set={s}")
        }
        None => format!("truncate-namespace:namespace={ns}"),
    };
    // `date`: records last updated before it (ISO-8601 or nanoseconds since the epoch).
    if let Some(d) = p.get("date") {
        let ns_since_epoch: u64 = d
            .parse()
            .map_err(|_| RestError::bad_request("date: nanoseconds since the Unix epoch"))?;
        cmd.push_str(&format!(";lut={ns_since_epoch}"));
    }
    info_command(ctx, cmd).await.map(|_| ())
}

/// Names that would break the info command's `;`/`=` syntax are refused.
pub fn check_name(s: &str) -> Result<(), RestError> {
    if s.is_empty() || s.contains([';', ':', '=', '\t', '\n']) {
        return Err(RestError::bad_request(format!("invalid name {s:?}")));
    }
    Ok(())
}

/// `GET /v1/index/{ns}`: the namespace's secondary indexes.
pub async fn index_list(State(ctx): Ctx, Path(ns): Path<String>, headers: HeaderMap) -> Response {
    let r = async {
        check_name(&ns)?;
        if ctx.registry.get(ns.as_bytes()).is_none() {
            return Err(RestError::from_code(20, &format!("namespace {ns}")));
        }
        let answer = info_command(&ctx, format!("sindex-list:ns={ns}")).await?;
        Ok((StatusCode::OK, Json::Array(parse_rows(&answer))))
    }
    .await;
    respond(&headers, r)
}

/// `GET /v1/index/{ns}/{name}`: one index's statistics.
pub async fn index_stats(
    State(ctx): Ctx,
    Path((ns, name)): Path<(String, String)>,
    headers: HeaderMap,
) -> Response {
    let r = async {
        check_name(&ns)?;
        check_name(&name)?;
        let answer =
            info_command(&ctx, format!("sindex-stat:namespace={ns};indexname={name}")).await?;
        let row = parse_rows(&answer).into_iter().next().unwrap_or(json!({}));
        Ok((StatusCode::OK, row))
    }
    .await;
    respond(&headers, r)
}

/// `POST /v1/index`: `{"namespace", "set"?, "name", "bin", "type", "collectionType"?, "ctx"?}`.
pub async fn index_create(State(ctx): Ctx, headers: HeaderMap, bytes: Bytes) -> Response {
    let r = async {
        let b = body::decode(&headers, &bytes)?;
        let s = |k: &str| b.get(k).and_then(Json::as_str).map(str::to_owned);
        let ns = s("namespace").ok_or_else(|| RestError::bad_request("namespace is required"))?;
        let name = s("name").ok_or_else(|| RestError::bad_request("name is required"))?;
        let bin = s("bin").or_else(|| s("binName"));
        let ktype = s("type").or_else(|| s("indexType")).ok_or_else(|| {
            RestError::bad_request("type is required (NUMERIC, STRING, BLOB, GEO2DSPHERE)")
        })?;
        for v in [&ns, &name, &ktype] {
            check_name(v)?;
        }
        let mut cmd = format!("sindex-create:namespace={ns};indexname={name}");
        if let Some(set) = s("set").filter(|s| !s.is_empty()) {
            check_name(&set)?;
            cmd.push_str(&format!(";set={set}"));
        }
        if let Some(ct) = s("collectionType") {
            check_name(&ct)?;
            cmd.push_str(&format!(";indextype={ct}"));
        }
        if let Some(bin) = bin {
            check_name(&bin)?;
            cmd.push_str(&format!(";bin={bin}"));
        }
        cmd.push_str(&format!(";type={ktype}"));
        if let Some(c) = b.get("ctx").filter(|c| !c.is_null()) {
            cmd.push_str(&format!(";context={}", B64.encode(ctx_to_msgpack(c)?)));
        } else if let Some(path) = s("jsonPath") {
            // An index on a document field: the path's steps are the index's context.
            if let Some(c) = json_path_ctx(&path)? {
                cmd.push_str(&format!(";context={}", B64.encode(c)));
            }
        }
        info_command(&ctx, cmd).await.map(|_| StatusCode::ACCEPTED)
    }
    .await;
    respond_empty(&headers, r)
}

/// `DELETE /v1/index/{ns}/{name}`.
pub async fn index_delete(
    State(ctx): Ctx,
    Path((ns, name)): Path<(String, String)>,
    headers: HeaderMap,
) -> Response {
    let r = async {
        check_name(&ns)?;
        check_name(&name)?;
        info_command(
            &ctx,
            format!("sindex-delete:namespace={ns};indexname={name}"),
        )
        .await
        .map(|_| StatusCode::ACCEPTED)
    }
    .await;
    respond_empty(&headers, r)
}

/// `a=1:b=2;a=3:b=4` (or `,`-separated pairs) as a list of objects.
fn parse_rows(answer: &str) -> Vec<Json> {
    answer
        .split(';')
        .filter(|r| !r.is_empty())
        .map(|row| {
            let sep = if row.contains(':') { ':' } else { ',' };
            Json::Object(
                row.split(sep)
                    .filter_map(|kv| kv.split_once('='))
                    .map(|(k, v)| (k.to_owned(), Json::String(v.to_owned())))
                    .collect(),
            )
        })
        .collect()
}
