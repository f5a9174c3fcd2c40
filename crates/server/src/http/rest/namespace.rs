//! `/v1/namespace`: GET lists the namespaces, POST creates one at run time from a flat object
//! of stanza parameters (`{"namespace": "name", "storage-engine": "device", "file": ...}`),
//! and `DELETE /v1/namespace/{ns}` deletes one created at run time. Both changes run the
//! `namespace-create` / `namespace-delete` info commands.

use std::sync::Arc;

use aerie_info::NodeContext;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use serde_json::Value as Json;

use super::admin::{check_name, info_command};
use super::body;
use super::error::RestError;
use super::kvs::{respond, respond_empty};

type Ctx = State<Arc<NodeContext>>;

pub async fn list(State(ctx): Ctx, headers: HeaderMap) -> Response {
    let names: Vec<Json> = ctx
        .registry
        .iter()
        .map(|n| Json::String(n.name.clone()))
        .collect();
    respond(&headers, Ok((StatusCode::OK, Json::Array(names))))
}

pub async fn create(State(ctx): Ctx, headers: HeaderMap, bytes: Bytes) -> Response {
    let r = async {
        let Json::Object(o) = body::decode(&headers, &bytes)? else {
            return Err(RestError::bad_request(
                "the body is an object of namespace parameters",
            ));
        };
        let name = o
            .get("namespace")
            .and_then(Json::as_str)
            .ok_or_else(|| RestError::bad_request("namespace is required"))?;
        check_name(name)?;
        let mut cmd = format!("namespace-create:namespace={name}");
        for (k, v) in &o {
            if k == "namespace" {
                continue;
            }
            let v = match v {
                Json::String(s) => s.clone(),
                Json::Number(n) => n.to_string(),
                Json::Bool(b) => b.to_string(),
                _ => {
                    return Err(RestError::bad_request(format!(
                        "{k}: a string, number or boolean"
                    )))
                }
            };
            check_name(k)?;
            check_name(&v)?;
            cmd.push_str(&format!(";{k}={v}"));
        }
        info_command(&ctx, cmd).await.map(|_| StatusCode::CREATED)
    }
    .await;
    respond_empty(&headers, r)
}

pub async fn delete(State(ctx): Ctx, Path(ns): Path<String>, headers: HeaderMap) -> Response {
    let r = async {
        check_name(&ns)?;
        info_command(&ctx, format!("namespace-delete:namespace={ns}"))
            .await
            .map(|_| StatusCode::NO_CONTENT)
    }
    .await;
    respond_empty(&headers, r)
}
