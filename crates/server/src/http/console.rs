//! The console routes: `/` (and `/index.html`), `/console.js`, `/health` and `/api/status`.
//! Every answer is built from atomics and short info-command passes.

use std::sync::Arc;

use aerie_info::NodeContext;
use axum::extract::State;
use axum::http::header;
use axum::response::IntoResponse;
use axum::routing::get;
use axum::Router;

const CONSOLE_HTML: &str = include_str!("console.html");
const CONSOLE_JS: &str = include_str!("console.js");

pub fn routes() -> Router<Arc<NodeContext>> {
    Router::new()
        .route("/", get(page))
        .route("/index.html", get(page))
        .route("/console.js", get(script))
        .route("/health", get(health))
        .route("/api/status", get(status))
}

async fn page() -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
        CONSOLE_HTML,
    )
}

async fn script() -> impl IntoResponse {
    (
        [(
            header::CONTENT_TYPE,
            "application/javascript; charset=utf-8",
        )],
        CONSOLE_JS,
    )
}

async fn health(State(ctx): State<Arc<NodeContext>>) -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        format!("ok node={}\n", ctx.node_name()),
    )
}

async fn status(State(ctx): State<Arc<NodeContext>>) -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, "application/json")],
        super::api::status(&ctx),
    )
}
