//! The REST API under `/v1`, after the Aerospike REST gateway's paths and JSON shapes, so its
//! users can point at Aerie directly. One module per concern: [`kvs`] (single records),
//! [`operate`], [`batch`], [`query`] (scans and secondary-index queries), [`admin`] (info,
//! truncate, indexes), [`udf`], [`document`] (JSON documents by JSONPath), [`namespace`]
//! (namespaces created at run time) and [`openapi`] (the served description).
//!
//! Every record command is built as an `as_msg` request and dispatched through
//! [`crate::tsvc::execute`], the path the service port uses ([`txn`]); nothing here touches
//! records directly. Bodies are JSON or MessagePack ([`body`]); errors carry the gateway's
//! error body with an HTTP status mapped from the result code ([`error`]).
//!
//! Access control: every `/v1` request passes [`authorize`] first. Security is not enabled in
//! this server yet, so it admits every request; when it is, that function is the one place to
//! check the request's credentials (HTTP Basic, as the gateway does) against the user store.

mod admin;
mod batch;
mod body;
mod document;
mod error;
mod jsonpath;
mod kvs;
mod namespace;
pub mod openapi;
mod operate;
mod params;
mod query;
mod txn;
mod udf;
mod value;

use std::sync::Arc;

use aerie_info::NodeContext;
use axum::extract::{DefaultBodyLimit, Request};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post};
use axum::Router;

/// The `/v1` routes. Each path here is listed in [`ROUTES`], which the OpenAPI document is
/// built from (an integration test checks the two agree).
pub fn routes() -> Router<Arc<NodeContext>> {
    Router::new()
        .route(
            "/v1/kvs/{ns}/{set}/{key}",
            get(kvs::get_with_set)
                .head(kvs::head_with_set)
                .post(kvs::create_with_set)
                .put(kvs::replace_with_set)
                .patch(kvs::update_with_set)
                .delete(kvs::delete_with_set),
        )
        .route(
            "/v1/kvs/{ns}/{key}",
            get(kvs::get_no_set)
                .head(kvs::head_no_set)
                .post(kvs::create_no_set)
                .put(kvs::replace_no_set)
                .patch(kvs::update_no_set)
                .delete(kvs::delete_no_set),
        )
        .route(
            "/v1/operate/{ns}/{set}/{key}",
            post(operate::operate_with_set),
        )
        .route("/v1/operate/{ns}/{key}", post(operate::operate_no_set))
        .route("/v1/batch", post(batch::batch))
        .route("/v1/scan/{ns}", get(query::scan_ns))
        .route("/v1/scan/{ns}/{set}", get(query::scan_set))
        .route("/v1/query/{ns}", post(query::query_ns))
        .route("/v1/query/{ns}/{set}", post(query::query_set))
        .route("/v1/index", post(admin::index_create))
        .route("/v1/index/{ns}", get(admin::index_list))
        .route(
            "/v1/index/{ns}/{name}",
            get(admin::index_stats).delete(admin::index_delete),
        )
        .route("/v1/truncate/{ns}", delete(admin::truncate_ns))
        .route("/v1/truncate/{ns}/{set}", delete(admin::truncate_set))
        .route("/v1/info", post(admin::info))
        .route(
            "/v1/execute/udf/{ns}/{set}/{key}",
            post(udf::execute_with_set),
        )
        .route("/v1/execute/udf/{ns}/{key}", post(udf::execute_no_set))
        .route(
            "/v1/document/{ns}/{set}/{key}",
            get(document::get)
                .put(document::put)
                .post(document::append)
                .delete(document::delete),
        )
        .route(
            "/v1/namespace",
            get(namespace::list).post(namespace::create),
        )
        .route("/v1/namespace/{ns}", delete(namespace::delete))
        .route("/v1/openapi.json", get(openapi::serve))
        .layer(axum::middleware::from_fn(authorize))
        .layer(DefaultBodyLimit::max(body::MAX_BODY_BYTES))
}

/// The access-control hook for every `/v1` request (see the module docs).
async fn authorize(req: Request, next: Next) -> Response {
    match check_access(req.headers()) {
        Ok(()) => next.run(req).await,
        Err(e) => body::error(req.headers(), &e).into_response(),
    }
}

/// Security is not enabled in this server: every request is admitted.
fn check_access(_headers: &axum::http::HeaderMap) -> Result<(), error::RestError> {
    Ok(())
}
