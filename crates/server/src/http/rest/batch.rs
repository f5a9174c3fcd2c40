//! `POST /v1/batch`: reads of many records, `[{"key": {"namespace", "setName", "userKey",
//! "keyType"}, "readAllBins": true | "binNames": [...]}, ...]` → `[{"key", "record"}, ...]`
//! with `record` null for a missing record. Each row is one read through the transaction
//! path, as the batch layer itself runs its rows.

use std::sync::Arc;

use aerie_info::NodeContext;
use aerie_proto::msg::{info1, op};
use aerie_proto::MsgHeader;
use aerie_record::particle;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use serde_json::{json, Value as Json};

use super::body;
use super::error::RestError;
use super::kvs::respond;
use super::params::{key_fields, UserKey};
use super::txn::{Command, OpSpec};

/// Most rows in one batch request.
pub const MAX_BATCH_ROWS: usize = 5000;

pub async fn batch(
    State(ctx): State<Arc<NodeContext>>,
    headers: HeaderMap,
    bytes: Bytes,
) -> Response {
    let r = run(&ctx, &headers, &bytes).await;
    respond(&headers, r)
}

async fn run(
    ctx: &NodeContext,
    headers: &HeaderMap,
    bytes: &[u8],
) -> Result<(StatusCode, Json), RestError> {
    let rows = match body::decode(headers, bytes)? {
        Json::Array(a) => a,
        Json::Object(mut o) => match o.remove("batchRecords") {
            Some(Json::Array(a)) => a,
            _ => return Err(RestError::bad_request("the body is a list of batch reads")),
        },
        _ => return Err(RestError::bad_request("the body is a list of batch reads")),
    };
    if rows.len() > MAX_BATCH_ROWS {
        return Err(RestError::bad_request(format!(
            "at most {MAX_BATCH_ROWS} rows"
        )));
    }
    let mut out = Vec::with_capacity(rows.len());
    for row in &rows {
        let k = row
            .get("key")
            .ok_or_else(|| RestError::bad_request("each row has a \"key\""))?;
        let s = |f: &str| k.get(f).and_then(Json::as_str);
        let ns =
            s("namespace").ok_or_else(|| RestError::bad_request("key.namespace is required"))?;
        let set = s("setName").or_else(|| s("set")).unwrap_or("");
        let user_key = k
            .get("userKey")
            .ok_or_else(|| RestError::bad_request("key.userKey is required"))?;
        let key = UserKey::from_json(user_key, s("keyType"))?;
        let names: Vec<String> = row
            .get("binNames")
            .and_then(Json::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(Json::as_str)
                    .map(str::to_owned)
                    .collect()
            })
            .unwrap_or_default();
        let mut header = MsgHeader {
            info1: info1::READ,
            ..MsgHeader::default()
        };
        if names.is_empty() {
            header.info1 |= info1::GET_ALL;
        }
        let cmd = Command {
            header,
            fields: key_fields(ns, set, &key, false),
            ops: names
                .iter()
                .map(|n| OpSpec::new(op::READ, particle::NULL, n, Vec::new()))
                .collect(),
        };
        let record = match cmd.run(ctx, "batch read").await {
            Ok(rec) => rec.to_json(),
            Err(e) if e.status == StatusCode::NOT_FOUND && e.code == 2 => Json::Null,
            Err(e) => return Err(e),
        };
        out.push(json!({ "key": k, "record": record }));
    }
    Ok((StatusCode::OK, Json::Array(out)))
}
