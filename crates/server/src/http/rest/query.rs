//! `GET /v1/scan/{ns}[/{set}]` and `POST /v1/query/{ns}[/{set}]` (body
//! `{"filter": {...}, "binNames"?: [...], "maxRecords"?: n}`): a scan or a secondary-index
//! query run through the transaction path, answered as
//! `{"pagination": {"totalRecords": n}, "records": [{"key", "bins", "generation", "ttl"}]}`.
//! Filters: `EQUAL` (integer or string `value`), `RANGE` (`begin`, `end`), `CONTAINS` and
//! `CONTAINS_RANGE` (with `collectionType` LIST, MAPKEYS or MAPVALUES), `GEO_WITHIN_REGION` and
//! `GEO_CONTAINS_POINT` (GeoJSON `value`), each with an optional `ctx`.

use std::sync::Arc;

use aerie_info::NodeContext;
use aerie_proto::msg::{field, info1, op};
use aerie_proto::MsgHeader;
use aerie_record::particle;
use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine as _;
use serde_json::{json, Value as Json};

use super::body;
use super::document::json_path_ctx;
use super::error::RestError;
use super::kvs::respond;
use super::operate::ctx_to_msgpack;
use super::params::Params;
use super::txn::{Command, OpSpec, Record, MAX_STREAM_RECORDS};

type Ctx = State<Arc<NodeContext>>;

pub async fn scan_ns(
    State(ctx): Ctx,
    Path(ns): Path<String>,
    RawQuery(q): RawQuery,
    headers: HeaderMap,
) -> Response {
    let r = scan(&ctx, &ns, "", q.as_deref()).await;
    respond(&headers, r)
}

pub async fn scan_set(
    State(ctx): Ctx,
    Path((ns, set)): Path<(String, String)>,
    RawQuery(q): RawQuery,
    headers: HeaderMap,
) -> Response {
    let r = scan(&ctx, &ns, &set, q.as_deref()).await;
    respond(&headers, r)
}

async fn scan(
    ctx: &NodeContext,
    ns: &str,
    set: &str,
    q: Option<&str>,
) -> Result<(StatusCode, Json), RestError> {
    let p = Params::parse(q)?;
    let max = p.int::<u64>("maxRecords")?.unwrap_or(0);
    let cmd = stream_command(ns, set, &p.all("bins"), max, None)?;
    run(ctx, &cmd, ns, set, max, "scan").await
}

pub async fn query_ns(
    State(ctx): Ctx,
    Path(ns): Path<String>,
    RawQuery(q): RawQuery,
    headers: HeaderMap,
    bytes: Bytes,
) -> Response {
    let r = query(&ctx, &ns, "", q.as_deref(), &headers, &bytes).await;
    respond(&headers, r)
}

pub async fn query_set(
    State(ctx): Ctx,
    Path((ns, set)): Path<(String, String)>,
    RawQuery(q): RawQuery,
    headers: HeaderMap,
    bytes: Bytes,
) -> Response {
    let r = query(&ctx, &ns, &set, q.as_deref(), &headers, &bytes).await;
    respond(&headers, r)
}

async fn query(
    ctx: &NodeContext,
    ns: &str,
    set: &str,
    q: Option<&str>,
    headers: &HeaderMap,
    bytes: &[u8],
) -> Result<(StatusCode, Json), RestError> {
    let p = Params::parse(q)?;
    let b = body::decode(headers, bytes)?;
    let mut bins = p.all("bins");
    if let Some(a) = b.get("binNames").and_then(Json::as_array) {
        bins.extend(a.iter().filter_map(Json::as_str).map(str::to_owned));
    }
    let max = match b.get("maxRecords").and_then(Json::as_u64) {
        Some(m) => m,
        None => p.int::<u64>("maxRecords")?.unwrap_or(0),
    };
    let filter = b.get("filter").filter(|f| !f.is_null());
    let cmd = stream_command(ns, set, &bins, max, filter)?;
    run(ctx, &cmd, ns, set, max, "query").await
}

/// A foreground scan, or with `filter` a query, over `ns`/`set`.
pub fn stream_command(
    ns: &str,
    set: &str,
    bins: &[String],
    max: u64,
    filter: Option<&Json>,
) -> Result<Command, RestError> {
    let mut fields = vec![(field::NAMESPACE, ns.as_bytes().to_vec())];
    if !set.is_empty() {
        fields.push((field::SET, set.as_bytes().to_vec()));
    }
    if max > 0 {
        fields.push((field::MAX_RECORDS, max.to_be_bytes().to_vec()));
    }
    if let Some(f) = filter {
        fields.extend(filter_fields(f)?);
    }
    let mut header = MsgHeader {
        info1: info1::READ,
        ..MsgHeader::default()
    };
    if bins.is_empty() {
        header.info1 |= info1::GET_ALL;
    }
    Ok(Command {
        header,
        fields,
        ops: bins
            .iter()
            .map(|n| OpSpec::new(op::READ, particle::NULL, n, Vec::new()))
            .collect(),
    })
}

async fn run(
    ctx: &NodeContext,
    cmd: &Command,
    ns: &str,
    set: &str,
    max: u64,
    what: &str,
) -> Result<(StatusCode, Json), RestError> {
    let cap = if max == 0 {
        MAX_STREAM_RECORDS
    } else {
        max.min(MAX_STREAM_RECORDS)
    };
    let rows = cmd.run_stream(ctx, what, cap).await?;
    let records: Vec<Json> = rows.iter().map(|r| row_json(r, ns, set)).collect();
    Ok((
        StatusCode::OK,
        json!({
            "pagination": { "totalRecords": records.len(), "nextToken": Json::Null },
            "records": records,
        }),
    ))
}

fn row_json(r: &Record, ns: &str, set: &str) -> Json {
    let mut j = r.to_json();
    if let Some(o) = j.as_object_mut() {
        o.insert(
            "key".into(),
            json!({
                "namespace": ns,
                "setName": set,
                "digest": r.digest.as_ref().map(|d| B64.encode(d)),
                "userKey": r.user_key.clone(),
            }),
        );
    }
    j
}

/// The query's index fields: range (21/22), collection type (26) and context (23).
fn filter_fields(f: &Json) -> Result<Vec<(u8, Vec<u8>)>, RestError> {
    let s = |k: &str| f.get(k).and_then(Json::as_str);
    let kind = s("type")
        .or_else(|| s("filterType"))
        .ok_or_else(|| RestError::bad_request("filter.type is required"))?
        .to_ascii_uppercase();
    let bin = s("binName")
        .or_else(|| s("bin"))
        .ok_or_else(|| RestError::bad_request("filter.binName is required"))?;
    if bin.len() > 255 {
        return Err(RestError::bad_request("bin name too long"));
    }
    let int = |k: &str| {
        f.get(k)
            .and_then(Json::as_i64)
            .ok_or_else(|| RestError::bad_request(format!("filter.{k} is an integer")))
    };
    let value = || {
        f.get("value")
            .ok_or_else(|| RestError::bad_request("filter.value is required"))
    };
    let scalar = |v: &Json| -> Result<(u8, Vec<u8>, Vec<u8>), RestError> {
        match v {
            Json::Number(n) => {
                let i = n.as_i64().ok_or_else(|| {
                    RestError::bad_request("filter values are integers or strings")
                })?;
                Ok((
                    particle::INTEGER,
                    i.to_be_bytes().to_vec(),
                    i.to_be_bytes().to_vec(),
                ))
            }
            Json::String(t) => Ok((
                particle::STRING,
                t.as_bytes().to_vec(),
                t.as_bytes().to_vec(),
            )),
            _ => Err(RestError::bad_request(
                "filter values are integers or strings",
            )),
        }
    };
    let geo = || -> Result<(u8, Vec<u8>, Vec<u8>), RestError> {
        let text = match value()? {
            Json::String(t) => t.clone(),
            o @ Json::Object(_) => o.to_string(),
            _ => return Err(RestError::bad_request("filter.value is a GeoJSON object")),
        };
        Ok((
            particle::GEOJSON,
            text.clone().into_bytes(),
            text.into_bytes(),
        ))
    };
    let (ptype, begin, end) = match kind.as_str() {
        "EQUAL" | "CONTAINS" => scalar(value()?)?,
        "RANGE" | "CONTAINS_RANGE" => {
            let (b, e) = (int("begin")?, int("end")?);
            (
                particle::INTEGER,
                b.to_be_bytes().to_vec(),
                e.to_be_bytes().to_vec(),
            )
        }
        "GEO_WITHIN_REGION" | "GEOWITHIN_REGION" | "GEO_CONTAINS_POINT" | "GEOCONTAINS_POINT" => {
            geo()?
        }
        o => return Err(RestError::bad_request(format!("unknown filter type {o:?}"))),
    };
    let mut range = vec![1u8, bin.len() as u8];
    range.extend_from_slice(bin.as_bytes());
    range.push(ptype);
    for part in [&begin, &end] {
        let len = u32::try_from(part.len())
            .map_err(|_| RestError::bad_request("filter value too long"))?;
        range.extend_from_slice(&len.to_be_bytes());
        range.extend_from_slice(part);
    }
    let mut fields = vec![(field::INDEX_RANGE, range)];
    let ctype = match s("collectionType").map(str::to_ascii_uppercase).as_deref() {
        None | Some("DEFAULT") => None,
        Some("LIST") => Some(1u8),
        Some("MAPKEYS") => Some(2),
        Some("MAPVALUES") => Some(3),
        Some(o) => {
            return Err(RestError::bad_request(format!(
                "unknown collectionType {o:?}"
            )))
        }
    };
    if let Some(c) = ctype {
        fields.push((field::INDEX_TYPE, vec![c]));
    }
    if let Some(c) = f.get("ctx").filter(|c| !c.is_null()) {
        fields.push((field::INDEX_CONTEXT, ctx_to_msgpack(c)?));
    } else if let Some(path) = s("jsonPath") {
        // A query on a document field, through the index on that path.
        if let Some(c) = json_path_ctx(path)? {
            fields.push((field::INDEX_CONTEXT, c));
        }
    }
    Ok(fields)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        /// Whatever JSON a client sends as a filter is refused or encoded, never a panic.
        #[test]
        fn filters_never_panic(s in "[ -~]{0,80}") {
            if let Ok(j) = serde_json::from_str::<Json>(&s) {
                let _ = filter_fields(&j);
            }
        }
    }

    #[test]
    fn equal_filter_encodes_one_range() {
        let f = json!({"type": "EQUAL", "binName": "b", "value": 7});
        let fields = filter_fields(&f).unwrap_or_default();
        assert_eq!(fields.len(), 1);
        let (id, r) = &fields[0];
        assert_eq!(*id, field::INDEX_RANGE);
        assert_eq!(&r[..4], &[1, 1, b'b', particle::INTEGER]);
    }
}
