//! `POST /v1/execute/udf/{ns}/{set}/{key}?packageName=..&functionName=..` with a JSON list of
//! arguments as the body: a record UDF applied through the transaction path. The answer is the
//! record the call returned (`bins.SUCCESS` holds the function's value, as the clients show).

use std::sync::Arc;

use aerie_cdt::msgpack;
use aerie_cdt::{List, Value};
use aerie_info::NodeContext;
use aerie_proto::msg::{field, info2};
use aerie_proto::MsgHeader;
use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use serde_json::Value as Json;

use super::body;
use super::error::RestError;
use super::kvs::{respond, Address};
use super::params::Params;
use super::txn::Command;
use super::value::json_to_cdt;

type Ctx = State<Arc<NodeContext>>;

pub async fn execute_with_set(
    State(ctx): Ctx,
    Path((ns, set, key)): Path<(String, String, String)>,
    RawQuery(q): RawQuery,
    headers: HeaderMap,
    bytes: Bytes,
) -> Response {
    let r = execute(&ctx, ns, set, &key, q.as_deref(), &headers, &bytes).await;
    respond(&headers, r)
}

pub async fn execute_no_set(
    State(ctx): Ctx,
    Path((ns, key)): Path<(String, String)>,
    RawQuery(q): RawQuery,
    headers: HeaderMap,
    bytes: Bytes,
) -> Response {
    let r = execute(
        &ctx,
        ns,
        String::new(),
        &key,
        q.as_deref(),
        &headers,
        &bytes,
    )
    .await;
    respond(&headers, r)
}

async fn execute(
    ctx: &NodeContext,
    ns: String,
    set: String,
    key: &str,
    q: Option<&str>,
    headers: &HeaderMap,
    bytes: &[u8],
) -> Result<(StatusCode, Json), RestError> {
    let p = Params::parse(q)?;
    let addr = Address::new(ns, set, key, &p)?;
    let package = p
        .get("packageName")
        .ok_or_else(|| RestError::bad_request("packageName is required"))?;
    let function = p
        .get("functionName")
        .ok_or_else(|| RestError::bad_request("functionName is required"))?;
    let args = match body::decode(headers, bytes)? {
        Json::Null => Vec::new(),
        Json::Array(a) => a
            .iter()
            .map(|v| json_to_cdt(v, 0))
            .collect::<Result<_, _>>()
            .map_err(RestError::bad_request)?,
        _ => return Err(RestError::bad_request("the body is a list of arguments")),
    };
    let mut fields = addr.fields(&p)?;
    fields.push((field::UDF_PACKAGE, package.as_bytes().to_vec()));
    fields.push((field::UDF_FUNCTION, function.as_bytes().to_vec()));
    fields.push((
        field::UDF_ARGLIST,
        msgpack::encode(&Value::List(List::new(0, args))),
    ));
    let cmd = Command {
        header: MsgHeader {
            info2: info2::WRITE,
            ..MsgHeader::default()
        },
        fields,
        ops: Vec::new(),
    };
    let rec = cmd.run(ctx, "udf").await?;
    Ok((StatusCode::OK, rec.to_json()))
}
