//! `/v1/kvs/{ns}/{set}/{key}` (and `/v1/kvs/{ns}/{key}` for the null set): GET reads, POST
//! creates, PUT replaces, PATCH updates, DELETE deletes, HEAD tells whether the record exists.
//! Write bodies are a bins object: `{"bin": value, ...}`.

use std::sync::Arc;

use aerie_info::NodeContext;
use aerie_proto::msg::{info1, info2, op};
use aerie_proto::MsgHeader;
use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::Value as Json;

use super::body;
use super::error::RestError;
use super::params::{self, ExistsAction, Params, UserKey};
use super::txn::{Command, OpSpec};
use super::value::json_to_particle;

type Ctx = State<Arc<NodeContext>>;

/// The record's address from the path and query.
pub struct Address {
    pub ns: String,
    pub set: String,
    pub key: UserKey,
}

impl Address {
    pub fn new(ns: String, set: String, key: &str, p: &Params) -> Result<Self, RestError> {
        Ok(Self {
            ns,
            set,
            key: UserKey::parse(key, p.get("keytype"))?,
        })
    }

    pub fn fields(&self, p: &Params) -> Result<Vec<(u8, Vec<u8>)>, RestError> {
        Ok(params::key_fields(
            &self.ns,
            &self.set,
            &self.key,
            p.flag("sendKey")?,
        ))
    }
}

pub async fn get_with_set(
    State(ctx): Ctx,
    Path((ns, set, key)): Path<(String, String, String)>,
    RawQuery(q): RawQuery,
    headers: HeaderMap,
) -> Response {
    respond(
        &headers,
        read(&ctx, ns, set, &key, q.as_deref(), false).await,
    )
}

pub async fn get_no_set(
    State(ctx): Ctx,
    Path((ns, key)): Path<(String, String)>,
    RawQuery(q): RawQuery,
    headers: HeaderMap,
) -> Response {
    respond(
        &headers,
        read(&ctx, ns, String::new(), &key, q.as_deref(), false).await,
    )
}

pub async fn head_with_set(
    State(ctx): Ctx,
    Path((ns, set, key)): Path<(String, String, String)>,
    RawQuery(q): RawQuery,
) -> Response {
    exists(read(&ctx, ns, set, &key, q.as_deref(), true).await)
}

pub async fn head_no_set(
    State(ctx): Ctx,
    Path((ns, key)): Path<(String, String)>,
    RawQuery(q): RawQuery,
) -> Response {
    exists(read(&ctx, ns, String::new(), &key, q.as_deref(), true).await)
}

fn exists(r: Result<(StatusCode, Json), RestError>) -> Response {
    match r {
        Ok(_) => StatusCode::OK.into_response(),
        Err(e) => e.status.into_response(),
    }
}

async fn read(
    ctx: &NodeContext,
    ns: String,
    set: String,
    key: &str,
    q: Option<&str>,
    header_only: bool,
) -> Result<(StatusCode, Json), RestError> {
    let p = Params::parse(q)?;
    let addr = Address::new(ns, set, key, &p)?;
    let mut cmd = Command {
        header: params::read_header(&p),
        fields: addr.fields(&p)?,
        ops: Vec::new(),
    };
    if header_only {
        cmd.header.info1 = info1::READ | info1::GET_NO_BINS;
    } else {
        for b in p.all("bins") {
            cmd.ops.push(OpSpec::new(op::READ, 0, &b, Vec::new()));
        }
    }
    let rec = cmd.run(ctx, "read").await?;
    Ok((StatusCode::OK, rec.to_json()))
}

macro_rules! write_route {
    ($with_set:ident, $no_set:ident, $action:expr, $status:expr) => {
        pub async fn $with_set(
            State(ctx): Ctx,
            Path((ns, set, key)): Path<(String, String, String)>,
            RawQuery(q): RawQuery,
            headers: HeaderMap,
            bytes: Bytes,
        ) -> Response {
            let r = write(&ctx, ns, set, &key, q.as_deref(), &headers, &bytes, $action).await;
            respond_empty(&headers, r.map(|()| $status))
        }

        pub async fn $no_set(
            State(ctx): Ctx,
            Path((ns, key)): Path<(String, String)>,
            RawQuery(q): RawQuery,
            headers: HeaderMap,
            bytes: Bytes,
        ) -> Response {
            let r = write(
                &ctx,
                ns,
                String::new(),
                &key,
                q.as_deref(),
                &headers,
                &bytes,
                $action,
            )
            .await;
            respond_empty(&headers, r.map(|()| $status))
        }
    };
}

write_route!(
    create_with_set,
    create_no_set,
    ExistsAction::CreateOnly,
    StatusCode::CREATED
);
write_route!(
    replace_with_set,
    replace_no_set,
    ExistsAction::ReplaceOnly,
    StatusCode::NO_CONTENT
);
write_route!(
    update_with_set,
    update_no_set,
    ExistsAction::UpdateOnly,
    StatusCode::NO_CONTENT
);

#[allow(clippy::too_many_arguments)] // one per part of the request
async fn write(
    ctx: &NodeContext,
    ns: String,
    set: String,
    key: &str,
    q: Option<&str>,
    headers: &HeaderMap,
    bytes: &[u8],
    action: ExistsAction,
) -> Result<(), RestError> {
    let p = Params::parse(q)?;
    let addr = Address::new(ns, set, key, &p)?;
    let bins = match body::decode(headers, bytes)? {
        Json::Object(m) => m,
        _ => return Err(RestError::bad_request("the body is an object of bins")),
    };
    let mut ops = Vec::with_capacity(bins.len());
    for (name, v) in &bins {
        let (t, b) = json_to_particle(v).map_err(RestError::bad_request)?;
        ops.push(OpSpec::new(op::WRITE, t, name, b));
    }
    let cmd = Command {
        header: params::write_header(&p, action)?,
        fields: addr.fields(&p)?,
        ops,
    };
    cmd.run(ctx, "write").await.map(|_| ())
}

pub async fn delete_with_set(
    State(ctx): Ctx,
    Path((ns, set, key)): Path<(String, String, String)>,
    RawQuery(q): RawQuery,
    headers: HeaderMap,
) -> Response {
    let r = delete(&ctx, ns, set, &key, q.as_deref()).await;
    respond_empty(&headers, r.map(|()| StatusCode::NO_CONTENT))
}

pub async fn delete_no_set(
    State(ctx): Ctx,
    Path((ns, key)): Path<(String, String)>,
    RawQuery(q): RawQuery,
    headers: HeaderMap,
) -> Response {
    let r = delete(&ctx, ns, String::new(), &key, q.as_deref()).await;
    respond_empty(&headers, r.map(|()| StatusCode::NO_CONTENT))
}

async fn delete(
    ctx: &NodeContext,
    ns: String,
    set: String,
    key: &str,
    q: Option<&str>,
) -> Result<(), RestError> {
    let p = Params::parse(q)?;
    let addr = Address::new(ns, set, key, &p)?;
    let mut header = MsgHeader {
        info2: info2::WRITE | info2::DELETE,
        ..MsgHeader::default()
    };
    params::apply_common_write(&p, &mut header)?;
    let cmd = Command {
        header,
        fields: addr.fields(&p)?,
        ops: Vec::new(),
    };
    cmd.run(ctx, "delete").await.map(|_| ())
}

/// A JSON answer or the error's.
pub fn respond(headers: &HeaderMap, r: Result<(StatusCode, Json), RestError>) -> Response {
    match r {
        Ok((status, j)) => body::reply(headers, status, &j),
        Err(e) => body::error(headers, &e),
    }
}

/// An empty answer or the error's.
pub fn respond_empty(headers: &HeaderMap, r: Result<StatusCode, RestError>) -> Response {
    match r {
        Ok(status) => status.into_response(),
        Err(e) => body::error(headers, &e),
    }
}
