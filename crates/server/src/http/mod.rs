//! The HTTP port (8080 by default, `network { http { … } }`): `/health`, `/metrics`
//! (Prometheus text exposition), `/api/status` (the console's JSON) and `/` (the live web
//! console, from assets embedded in the binary).
//!
//! A deliberately small HTTP/1.1 server: GET and HEAD only, no request bodies, a capped
//! request head, keep-alive with an idle timeout and a request cap per connection, and a
//! bounded number of connections. It never blocks the service port's tasks: every answer is
//! built from atomics and short info-command passes.

mod api;
mod metrics;

use std::sync::Arc;
use std::time::Duration;

use aerie_config::Config;
use aerie_info::NodeContext;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Semaphore;

/// Largest request head (request line and headers) accepted.
const MAX_REQUEST_BYTES: usize = 8 * 1024;
/// Connections served at once; more wait in the kernel's accept queue.
const MAX_CONNECTIONS: usize = 64;
/// Requests answered on one keep-alive connection before it is closed.
const MAX_REQUESTS_PER_CONNECTION: u32 = 1000;
/// A connection idle (or sending a head) for this long is closed.
const IDLE_TIMEOUT: Duration = Duration::from_secs(15);

const CONSOLE_HTML: &str = include_str!("console.html");
const CONSOLE_JS: &str = include_str!("console.js");

/// Binds the HTTP port and serves it in the background.
pub async fn start(config: &Config, ctx: Arc<NodeContext>) -> Result<(), String> {
    let http = &config.network.http;
    let listener = TcpListener::bind((http.address.as_str(), http.port))
        .await
        .map_err(|e| format!("cannot listen on http {}:{}: {e}", http.address, http.port))?;
    if let Ok(a) = listener.local_addr() {
        tracing::info!("http ready on {a}");
    }
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
            let ctx = ctx.clone();
            tokio::spawn(async move {
                serve(stream, &ctx).await;
                drop(permit);
            });
        }
    });
    Ok(())
}

/// One parsed request: only what routing needs.
#[derive(Debug, PartialEq, Eq)]
struct Request {
    head_only: bool,
    path: String,
    keep_alive: bool,
}

/// Why a request head could not be answered normally.
#[derive(Debug, PartialEq, Eq)]
enum HeadError {
    /// Not HTTP/1.x, or a malformed request line.
    Bad,
    /// A method other than GET or HEAD, or a request with a body.
    Method,
}

/// A response ready to write.
struct Response {
    status: &'static str,
    content_type: &'static str,
    body: Vec<u8>,
}

impl Response {
    fn new(status: &'static str, content_type: &'static str, body: impl Into<Vec<u8>>) -> Self {
        Self {
            status,
            content_type,
            body: body.into(),
        }
    }

    fn text(status: &'static str, body: &str) -> Self {
        Self::new(status, "text/plain; charset=utf-8", body)
    }
}

async fn serve(mut stream: TcpStream, ctx: &NodeContext) {
    let mut buf: Vec<u8> = Vec::with_capacity(1024);
    for _ in 0..MAX_REQUESTS_PER_CONNECTION {
        let head_len = match read_head(&mut stream, &mut buf).await {
            Ok(Some(n)) => n,
            Ok(None) => return,
            Err(too_large) => {
                if too_large {
                    let r = Response::text("431 Request Header Fields Too Large", "too large\n");
                    let _ = write_response(&mut stream, &r, false, false).await;
                    linger_close(stream).await;
                }
                return;
            }
        };
        let parsed = parse_head(buf.get(..head_len).unwrap_or_default());
        buf.drain(..head_len.min(buf.len()));
        let req = match parsed {
            Ok(r) => r,
            Err(e) => {
                let r = match e {
                    HeadError::Bad => Response::text("400 Bad Request", "bad request\n"),
                    HeadError::Method => {
                        Response::text("405 Method Not Allowed", "only GET and HEAD\n")
                    }
                };
                let _ = write_response(&mut stream, &r, false, false).await;
                linger_close(stream).await;
                return;
            }
        };
        let response = route(ctx, &req.path);
        if write_response(&mut stream, &response, req.head_only, req.keep_alive)
            .await
            .is_err()
            || !req.keep_alive
        {
            return;
        }
    }
}

/// Reads until `buf` holds a whole request head; returns its length (blank line included).
/// `Ok(None)`: the peer closed or went idle. `Err(true)`: the head is over the cap.
async fn read_head(stream: &mut TcpStream, buf: &mut Vec<u8>) -> Result<Option<usize>, bool> {
    let mut chunk = [0u8; 2048];
    loop {
        if let Some(end) = find_head_end(buf) {
            return Ok(Some(end));
        }
        if buf.len() >= MAX_REQUEST_BYTES {
            return Err(true);
        }
        match tokio::time::timeout(IDLE_TIMEOUT, stream.read(&mut chunk)).await {
            Ok(Ok(0)) | Ok(Err(_)) | Err(_) => return Ok(None),
            Ok(Ok(n)) => buf.extend_from_slice(chunk.get(..n).unwrap_or_default()),
        }
    }
}

fn find_head_end(buf: &[u8]) -> Option<usize> {
    let limit = buf.len().min(MAX_REQUEST_BYTES);
    buf.get(..limit)?
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .map(|p| p + 4)
}

fn parse_head(head: &[u8]) -> Result<Request, HeadError> {
    let text = std::str::from_utf8(head).map_err(|_| HeadError::Bad)?;
    let mut lines = text.split("\r\n");
    let mut parts = lines.next().unwrap_or_default().split(' ');
    let (Some(method), Some(target), Some(version), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(HeadError::Bad);
    };
    let http11 = match version {
        "HTTP/1.1" => true,
        "HTTP/1.0" => false,
        _ => return Err(HeadError::Bad),
    };
    if !target.starts_with('/') {
        return Err(HeadError::Bad);
    }
    let mut keep_alive = http11;
    for line in lines.filter(|l| !l.is_empty()) {
        let (name, value) = line.split_once(':').ok_or(HeadError::Bad)?;
        let value = value.trim();
        if name.eq_ignore_ascii_case("connection") {
            if value.eq_ignore_ascii_case("close") {
                keep_alive = false;
            } else if value.eq_ignore_ascii_case("keep-alive") {
                keep_alive = true;
            }
        } else if (name.eq_ignore_ascii_case("content-length") && value != "0")
            || name.eq_ignore_ascii_case("transfer-encoding")
        {
            return Err(HeadError::Method);
        }
    }
    let head_only = match method {
        "GET" => false,
        "HEAD" => true,
        _ => return Err(HeadError::Method),
    };
    let path = target.split(['?', '#']).next().unwrap_or("/").to_owned();
    Ok(Request {
        head_only,
        path,
        keep_alive,
    })
}

fn route(ctx: &NodeContext, path: &str) -> Response {
    match path {
        "/health" => Response::text("200 OK", &format!("ok node={}\n", ctx.node_name())),
        "/metrics" => Response::new(
            "200 OK",
            "text/plain; version=0.0.4; charset=utf-8",
            metrics::render(ctx),
        ),
        "/api/status" => Response::new("200 OK", "application/json", api::status(ctx)),
        "/" | "/index.html" => Response::new("200 OK", "text/html; charset=utf-8", CONSOLE_HTML),
        "/console.js" => Response::new(
            "200 OK",
            "application/javascript; charset=utf-8",
            CONSOLE_JS,
        ),
        _ => Response::text("404 Not Found", "not found\n"),
    }
}

/// Closes after an error reply without resetting the connection: a close with unread
/// input sends a reset, which can destroy the reply before the client reads it. So stop
/// writing, then read and drop what the client still sends, bounded in bytes and time.
async fn linger_close(mut stream: TcpStream) {
    const DRAIN_BYTES: usize = 64 * 1024;
    const DRAIN_TIME: Duration = Duration::from_secs(1);
    let _ = stream.shutdown().await;
    let mut chunk = [0u8; 4096];
    let mut drained = 0;
    let deadline = tokio::time::Instant::now() + DRAIN_TIME;
    while drained < DRAIN_BYTES {
        match tokio::time::timeout_at(deadline, stream.read(&mut chunk)).await {
            Ok(Ok(n)) if n > 0 => drained += n,
            _ => return,
        }
    }
}

async fn write_response(
    stream: &mut TcpStream,
    r: &Response,
    head_only: bool,
    keep_alive: bool,
) -> std::io::Result<()> {
    let head = format!(
        "HTTP/1.1 {}\r\ncontent-type: {}\r\ncontent-length: {}\r\ncache-control: no-store\r\nconnection: {}\r\n\r\n",
        r.status,
        r.content_type,
        r.body.len(),
        if keep_alive { "keep-alive" } else { "close" }
    );
    let mut out = head.into_bytes();
    if !head_only {
        out.extend_from_slice(&r.body);
    }
    stream.write_all(&out).await?;
    stream.flush().await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_get_and_head() {
        let r = parse_head(b"GET /metrics?x=1 HTTP/1.1\r\nHost: a\r\n\r\n");
        assert_eq!(
            r,
            Ok(Request {
                head_only: false,
                path: "/metrics".into(),
                keep_alive: true
            })
        );
        let r = parse_head(b"HEAD / HTTP/1.0\r\n\r\n");
        assert_eq!(
            r,
            Ok(Request {
                head_only: true,
                path: "/".into(),
                keep_alive: false
            })
        );
        let r = parse_head(b"GET / HTTP/1.1\r\nConnection: close\r\n\r\n");
        assert!(r.is_ok_and(|r| !r.keep_alive));
    }

    #[test]
    fn rejects_bad_heads() {
        assert_eq!(parse_head(b"GET /\r\n\r\n"), Err(HeadError::Bad));
        assert_eq!(parse_head(b"GET / HTTP/2\r\n\r\n"), Err(HeadError::Bad));
        assert_eq!(parse_head(b"GET x HTTP/1.1\r\n\r\n"), Err(HeadError::Bad));
        assert_eq!(
            parse_head(b"GET / HTTP/1.1\r\nnocolon\r\n\r\n"),
            Err(HeadError::Bad)
        );
        assert_eq!(
            parse_head(b"POST / HTTP/1.1\r\n\r\n"),
            Err(HeadError::Method)
        );
        assert_eq!(
            parse_head(b"GET / HTTP/1.1\r\nContent-Length: 5\r\n\r\n"),
            Err(HeadError::Method)
        );
        assert_eq!(parse_head(&[0xff, 0xfe, b'\r', b'\n']), Err(HeadError::Bad));
    }

    #[test]
    fn head_end_is_found_within_the_cap_only() {
        assert_eq!(find_head_end(b"GET / HTTP/1.1\r\n\r\nrest"), Some(18));
        assert_eq!(find_head_end(b"GET / HTTP/1.1\r\n"), None);
        let mut big = vec![b'a'; MAX_REQUEST_BYTES];
        big.extend_from_slice(b"\r\n\r\n");
        assert_eq!(find_head_end(&big), None);
    }
}
