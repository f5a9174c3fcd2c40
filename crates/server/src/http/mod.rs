//! The HTTP port (8080 by default, `network { http { … } }`), served by hyper with an axum
//! router. One router module per concern:
//!
//! - [`console`]: `/` and `/console.js` (the live web console, assets embedded in the binary),
//!   `/health`, and `/api/status` (the console's JSON, built in [`api`]);
//! - [`metrics`]: `/metrics`, Prometheus text exposition;
//! - [`rest`]: the `/v1/...` REST API (Aerospike REST gateway paths and JSON shapes), which
//!   dispatches every record command through the same transaction path as the service port.
//!
//! This module owns the connection side only: a bounded number of connections, a capped
//! request head, an idle timeout, a cap on requests per keep-alive connection, and the headers
//! every answer carries (`cache-control: no-store`, an explicit `connection`).

mod api;
mod console;
mod metrics;
pub mod rest;

use std::convert::Infallible;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;
use std::time::Duration;

use aerie_config::Config;
use aerie_info::NodeContext;
use axum::http::{header, HeaderValue, Request, Version};
use axum::Router;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use tower::ServiceExt;

/// Largest request head (request line and headers) buffered; hyper's floor is 8 KiB.
const MAX_REQUEST_HEAD_BYTES: usize = 16 * 1024;
/// Connections served at once; more wait in the kernel's accept queue.
const MAX_CONNECTIONS: usize = 64;
/// Requests answered on one keep-alive connection before it is closed.
const MAX_REQUESTS_PER_CONNECTION: u32 = 1000;
/// A connection idle (or sending a head) for this long is closed.
const IDLE_TIMEOUT: Duration = Duration::from_secs(15);

/// Binds the HTTP port and serves it in the background.
pub async fn start(config: &Config, ctx: Arc<NodeContext>) -> Result<(), String> {
    let http = &config.network.http;
    let listener = TcpListener::bind((http.address.as_str(), http.port))
        .await
        .map_err(|e| format!("cannot listen on http {}:{}: {e}", http.address, http.port))?;
    if let Ok(a) = listener.local_addr() {
        tracing::info!("http ready on {a}");
    }
    let app = router(ctx);
    let limit = Arc::new(Semaphore::new(MAX_CONNECTIONS));
    tokio::spawn(async move {
        loop {
            let Ok(permit) = limit.clone().acquire_owned().await else {
                return;
            };
            let stream = match listener.accept().await {
                Ok((s, _)) => s,
                Err(e) => {
                    tracing::debug!("http accept failed: {e}");
                    tokio::time::sleep(Duration::from_millis(10)).await;
                    continue;
                }
            };
            let app = app.clone();
            tokio::spawn(async move {
                serve_connection(stream, app).await;
                drop(permit);
            });
        }
    });
    Ok(())
}

/// Every route of the port.
pub fn router(ctx: Arc<NodeContext>) -> Router {
    Router::new()
        .merge(console::routes())
        .merge(metrics::routes())
        .merge(rest::routes())
        .fallback(|| async { (axum::http::StatusCode::NOT_FOUND, "not found\n") })
        .with_state(ctx)
}

async fn serve_connection(stream: tokio::net::TcpStream, app: Router) {
    let served = Arc::new(AtomicU32::new(0));
    let service = hyper::service::service_fn(move |req: Request<Incoming>| {
        let n = served.fetch_add(1, Ordering::Relaxed).saturating_add(1);
        let close = n >= MAX_REQUESTS_PER_CONNECTION || wants_close(&req);
        let app = app.clone();
        async move {
            let mut resp = app
                .oneshot(req.map(axum::body::Body::new))
                .await
                .unwrap_or_else(|e: Infallible| match e {});
            // A method the path does not take: close, as the body was not meant for us.
            let close = close || resp.status() == axum::http::StatusCode::METHOD_NOT_ALLOWED;
            let h = resp.headers_mut();
            h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
            h.insert(
                header::CONNECTION,
                HeaderValue::from_static(if close { "close" } else { "keep-alive" }),
            );
            Ok::<_, Infallible>(resp)
        }
    });
    let mut builder = hyper::server::conn::http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(IDLE_TIMEOUT)
        .max_buf_size(MAX_REQUEST_HEAD_BYTES)
        .keep_alive(true);
    if let Err(e) = builder
        .serve_connection(TokioIo::new(stream), service)
        .await
    {
        tracing::debug!("http connection ended: {e}");
    }
}

/// Whether the client asked to close after this request (`Connection: close`, or HTTP/1.0
/// without `keep-alive`).
fn wants_close<B>(req: &Request<B>) -> bool {
    let conn = req
        .headers()
        .get(header::CONNECTION)
        .and_then(|v| v.to_str().ok())
        .map(str::to_ascii_lowercase);
    match conn.as_deref() {
        Some(v) if v.contains("close") => true,
        Some(v) if v.contains("keep-alive") => false,
        _ => req.version() < Version::HTTP_11,
    }
}
