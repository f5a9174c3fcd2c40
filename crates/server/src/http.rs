//! The HTTP port (8080 by default). For now it answers `/health`; the console and
//! `/metrics` build on it.

use std::sync::Arc;

use aerie_config::Config;
use aerie_info::NodeContext;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

/// Largest request head read before answering.
const MAX_REQUEST_BYTES: usize = 8 * 1024;

/// Binds the HTTP port and serves it in the background.
pub async fn start(config: &Config, ctx: Arc<NodeContext>) -> Result<(), String> {
    let http = &config.network.http;
    let listener = TcpListener::bind((http.address.as_str(), http.port))
        .await
        .map_err(|e| format!("cannot listen on http {}:{}: {e}", http.address, http.port))?;
    if let Ok(a) = listener.local_addr() {
        tracing::info!("http ready on {a}");
    }
    tokio::spawn(async move {
        loop {
            let Ok((mut stream, _)) = listener.accept().await else {
                continue;
            };
            let ctx = ctx.clone();
            tokio::spawn(async move {
                let mut buf = vec![0u8; MAX_REQUEST_BYTES];
                let Ok(n) = stream.read(&mut buf).await else {
                    return;
                };
                let head = String::from_utf8_lossy(buf.get(..n).unwrap_or_default());
                let path = head.split_whitespace().nth(1).unwrap_or("/");
                let (status, body) = match path {
                    "/health" => ("200 OK", format!("ok node={}\n", ctx.node_name())),
                    _ => ("404 Not Found", "not found\n".to_owned()),
                };
                let reply = format!(
                    "HTTP/1.1 {status}\r\ncontent-type: text/plain\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                    body.len()
                );
                let _ = stream.write_all(reply.as_bytes()).await;
            });
        }
    });
    Ok(())
}
