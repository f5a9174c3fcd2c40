//! A minimal HTTP/1.1 GET client for tests of the server's HTTP port (std only).

use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

/// Largest response read; a test server never sends more.
const MAX_RESPONSE_BYTES: u64 = 16 * 1024 * 1024;

/// One HTTP response.
#[derive(Debug, Clone)]
pub struct Response {
    pub status: u16,
    /// Header lines, lower-cased names: `(name, value)`.
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl Response {
    /// The first header called `name` (lower case).
    #[must_use]
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

/// `GET path` with `Connection: close`; reads the whole response.
///
/// # Errors
///
/// Connection, timeout, or a response that is not HTTP/1.x.
pub fn get(addr: SocketAddr, path: &str, timeout: Duration) -> io::Result<Response> {
    let raw = format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n");
    request(addr, raw.as_bytes(), timeout)
}

/// Sends `raw` bytes as they are and reads the response until the server closes.
///
/// # Errors
///
/// Connection, timeout, or a response that is not HTTP/1.x.
pub fn request(addr: SocketAddr, raw: &[u8], timeout: Duration) -> io::Result<Response> {
    let mut s = TcpStream::connect_timeout(&addr, timeout)?;
    s.set_read_timeout(Some(timeout))?;
    s.set_write_timeout(Some(timeout))?;
    s.write_all(raw)?;
    let mut bytes = Vec::new();
    s.take(MAX_RESPONSE_BYTES).read_to_end(&mut bytes)?;
    parse(&bytes)
}

/// Splits one response into status, headers and body (by `content-length` when present).
///
/// # Errors
///
/// Not an HTTP/1.x response.
pub fn parse(bytes: &[u8]) -> io::Result<Response> {
    let bad = |m: &str| io::Error::new(io::ErrorKind::InvalidData, m.to_string());
    let text = String::from_utf8_lossy(bytes);
    let (head, body) = text
        .split_once("\r\n\r\n")
        .ok_or_else(|| bad("no header end"))?;
    let mut lines = head.split("\r\n");
    let status_line = lines.next().unwrap_or_default();
    if !status_line.starts_with("HTTP/1.") {
        return Err(bad("not an HTTP/1.x response"));
    }
    let status: u16 = status_line
        .split(' ')
        .nth(1)
        .and_then(|c| c.parse().ok())
        .ok_or_else(|| bad("no status code"))?;
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_string()))
        .collect();
    let mut body = body.to_string();
    if let Some(len) = headers
        .iter()
        .find(|(n, _)| n == "content-length")
        .and_then(|(_, v)| v.parse::<usize>().ok())
    {
        body.truncate(len.min(body.len()));
    }
    Ok(Response {
        status,
        headers,
        body,
    })
}
