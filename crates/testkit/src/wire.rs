//! Raw proto frames over a plain `TcpStream`, for tests that must send what no
//! official client would (malformed frames) or read replies byte by byte.
//!
//! This is a deliberately small, independent encoder: it must not share code with
//! `aerie-proto`, or a bug there would be mirrored here and the tests could not
//! see it. Layouts are the ones in `shared/reference/WIRE-FACTS.md` §1–2.

use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};

/// Proto version byte every frame carries.
pub const PROTO_VERSION: u8 = 2;
/// Proto type: info (text commands).
pub const PROTO_TYPE_INFO: u8 = 1;
/// Proto type: as_msg (data commands).
pub const PROTO_TYPE_AS_MSG: u8 = 3;
/// The server's cap on a frame body (Aerospike's `PROTO_SIZE_MAX`).
pub const PROTO_SIZE_MAX: u64 = 128 * 1024 * 1024;
/// Length of the as_msg header that follows the proto header.
pub const AS_MSG_HEADER_SIZE: usize = 22;
/// Result code PARAMETER (bad request).
pub const RESULT_PARAMETER: u8 = 4;

/// Offset of the result code inside an as_msg body.
const AS_MSG_RESULT_CODE_OFFSET: usize = 5;
/// Largest reply body these helpers will buffer. Replies in tests are tiny; a
/// bigger length means a broken header, reported rather than allocated.
const MAX_REPLY_BODY: u64 = 16 * 1024 * 1024;

/// The 8-byte proto header: version, type, 48-bit big-endian body length. The
/// length is truncated to 48 bits, so oversize values can be sent on purpose.
#[must_use]
pub fn proto_header(version: u8, proto_type: u8, body_len: u64) -> [u8; 8] {
    let len = body_len.to_be_bytes();
    [
        version, proto_type, len[2], len[3], len[4], len[5], len[6], len[7],
    ]
}

/// A whole frame: a version-2 header of `proto_type` followed by `body`.
#[must_use]
pub fn frame(proto_type: u8, body: &[u8]) -> Vec<u8> {
    let mut out = proto_header(PROTO_VERSION, proto_type, body.len() as u64).to_vec();
    out.extend_from_slice(body);
    out
}

/// An info request body: each command followed by `\n`.
#[must_use]
pub fn info_frame(commands: &[&str]) -> Vec<u8> {
    let mut body = String::new();
    for cmd in commands {
        body.push_str(cmd);
        body.push('\n');
    }
    frame(PROTO_TYPE_INFO, body.as_bytes())
}

/// Builder for an as_msg body (without the proto header). Field and op counts in
/// the header come from what was added unless overridden, so a test can make them
/// lie.
#[derive(Debug, Clone, Default)]
pub struct AsMsg {
    /// info1..info4 flag bytes.
    pub info: [u8; 4],
    /// Expected generation (request).
    pub generation: u32,
    /// Record TTL in seconds (request).
    pub record_ttl: u32,
    /// Client timeout in ms.
    pub transaction_ttl: u32,
    fields: Vec<u8>,
    ops: Vec<u8>,
    n_fields: u16,
    n_ops: u16,
    n_fields_override: Option<u16>,
    n_ops_override: Option<u16>,
}

/// Field type ids used by tests.
pub mod field {
    /// Namespace name.
    pub const NAMESPACE: u8 = 0;
    /// Set name.
    pub const SET: u8 = 1;
    /// User key: particle type byte + key bytes.
    pub const KEY: u8 = 2;
    /// 20-byte digest.
    pub const DIGEST: u8 = 4;
}

/// info1 / info2 flag bits used by tests.
pub mod flags {
    /// info1: read.
    pub const INFO1_READ: u8 = 0x01;
    /// info1: read all bins.
    pub const INFO1_GET_ALL: u8 = 0x02;
    /// info2: write.
    pub const INFO2_WRITE: u8 = 0x01;
}

/// Op codes and particle types used by tests.
pub mod op {
    /// Read a bin.
    pub const READ: u8 = 1;
    /// Write a bin.
    pub const WRITE: u8 = 2;
    /// Particle type integer (8 bytes big-endian).
    pub const PARTICLE_INTEGER: u8 = 1;
    /// Particle type string.
    pub const PARTICLE_STRING: u8 = 3;
}

impl AsMsg {
    /// An empty message.
    #[must_use]
    pub fn new() -> Self {
        AsMsg::default()
    }

    /// Sets info1..info4.
    #[must_use]
    pub fn info(mut self, info1: u8, info2: u8, info3: u8, info4: u8) -> Self {
        self.info = [info1, info2, info3, info4];
        self
    }

    /// Appends a field: u32 size (type byte + data), u8 type, data.
    #[must_use]
    pub fn field(mut self, field_type: u8, data: &[u8]) -> Self {
        let size = u32::try_from(data.len() + 1).expect("test field fits u32");
        self.fields.extend_from_slice(&size.to_be_bytes());
        self.fields.push(field_type);
        self.fields.extend_from_slice(data);
        self.n_fields += 1;
        self
    }

    /// Appends raw bytes to the field area without counting a field, to build
    /// fields whose size lies.
    #[must_use]
    pub fn raw_field_bytes(mut self, bytes: &[u8]) -> Self {
        self.fields.extend_from_slice(bytes);
        self
    }

    /// Appends an op: u32 size (everything after itself), op, particle type, flags
    /// (0), name length, name, value.
    #[must_use]
    pub fn op(mut self, op_type: u8, particle_type: u8, name: &str, value: &[u8]) -> Self {
        let name_len = u8::try_from(name.len()).expect("test bin name fits u8");
        let size = u32::try_from(4 + name.len() + value.len()).expect("test op fits u32");
        self.ops.extend_from_slice(&size.to_be_bytes());
        self.ops
            .extend_from_slice(&[op_type, particle_type, 0, name_len]);
        self.ops.extend_from_slice(name.as_bytes());
        self.ops.extend_from_slice(value);
        self.n_ops += 1;
        self
    }

    /// Claims `n` fields in the header whatever was added.
    #[must_use]
    pub fn claim_n_fields(mut self, n: u16) -> Self {
        self.n_fields_override = Some(n);
        self
    }

    /// Claims `n` ops in the header whatever was added.
    #[must_use]
    pub fn claim_n_ops(mut self, n: u16) -> Self {
        self.n_ops_override = Some(n);
        self
    }

    /// The as_msg body: 22-byte header, fields, ops.
    #[must_use]
    pub fn body(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(AS_MSG_HEADER_SIZE + self.fields.len() + self.ops.len());
        out.push(AS_MSG_HEADER_SIZE as u8);
        out.extend_from_slice(&self.info);
        out.push(0); // result code, unused in requests
        out.extend_from_slice(&self.generation.to_be_bytes());
        out.extend_from_slice(&self.record_ttl.to_be_bytes());
        out.extend_from_slice(&self.transaction_ttl.to_be_bytes());
        out.extend_from_slice(
            &self
                .n_fields_override
                .unwrap_or(self.n_fields)
                .to_be_bytes(),
        );
        out.extend_from_slice(&self.n_ops_override.unwrap_or(self.n_ops).to_be_bytes());
        debug_assert_eq!(out.len(), AS_MSG_HEADER_SIZE);
        out.extend_from_slice(&self.fields);
        out.extend_from_slice(&self.ops);
        out
    }

    /// The whole frame: proto header (type 3) + body.
    #[must_use]
    pub fn frame(&self) -> Vec<u8> {
        frame(PROTO_TYPE_AS_MSG, &self.body())
    }
}

/// What the server did with a request, as seen from the client socket.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reply {
    /// It closed the connection (EOF or reset) before a whole reply arrived.
    Closed,
    /// Nothing arrived within the timeout and the socket is still open.
    Silent,
    /// One whole frame.
    Frame {
        /// Proto version byte.
        version: u8,
        /// Proto type byte.
        proto_type: u8,
        /// The body, without the 8-byte header.
        body: Vec<u8>,
    },
}

impl Reply {
    /// The as_msg result code, when this is an as_msg frame long enough to carry one.
    #[must_use]
    pub fn result_code(&self) -> Option<u8> {
        match self {
            Reply::Frame {
                proto_type: PROTO_TYPE_AS_MSG,
                body,
                ..
            } => body.get(AS_MSG_RESULT_CODE_OFFSET).copied(),
            _ => None,
        }
    }
}

/// Connects to `addr` with read and write timeouts set.
///
/// # Errors
///
/// The connect failed or the timeouts could not be set.
pub fn connect(addr: SocketAddr, timeout: Duration) -> io::Result<TcpStream> {
    let stream = TcpStream::connect_timeout(&addr, timeout)?;
    stream.set_read_timeout(Some(timeout))?;
    stream.set_write_timeout(Some(timeout))?;
    stream.set_nodelay(true)?;
    Ok(stream)
}

/// Reads one reply frame, waiting at most `timeout` in total.
///
/// # Errors
///
/// Only for errors that are neither a close nor a timeout, and for a reply header
/// announcing a body over 16 MiB.
pub fn read_reply(stream: &mut TcpStream, timeout: Duration) -> io::Result<Reply> {
    let deadline = Instant::now() + timeout;
    let mut header = [0u8; 8];
    match read_full(stream, &mut header, deadline)? {
        ReadOutcome::Done => {}
        ReadOutcome::Closed => return Ok(Reply::Closed),
        ReadOutcome::TimedOut { got: 0 } => return Ok(Reply::Silent),
        ReadOutcome::TimedOut { got } => {
            return Err(io::Error::new(
                io::ErrorKind::TimedOut,
                format!("only {got} of 8 header bytes arrived"),
            ));
        }
    }
    let len = u64::from_be_bytes([
        0, 0, header[2], header[3], header[4], header[5], header[6], header[7],
    ]);
    if len > MAX_REPLY_BODY {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            format!("reply header announces {len} bytes"),
        ));
    }
    let mut body = vec![0u8; usize::try_from(len).map_err(io::Error::other)?];
    match read_full(stream, &mut body, deadline)? {
        ReadOutcome::Done => Ok(Reply::Frame {
            version: header[0],
            proto_type: header[1],
            body,
        }),
        ReadOutcome::Closed => Ok(Reply::Closed),
        ReadOutcome::TimedOut { got } => Err(io::Error::new(
            io::ErrorKind::TimedOut,
            format!("only {got} of {len} body bytes arrived"),
        )),
    }
}

/// Sends an info request on a fresh connection and returns the reply text.
///
/// # Errors
///
/// Connect/IO failure, a close or silence instead of a reply, or a reply that is
/// not a version-2 info frame.
pub fn info(addr: SocketAddr, commands: &[&str], timeout: Duration) -> io::Result<String> {
    let mut stream = connect(addr, timeout)?;
    stream.write_all(&info_frame(commands))?;
    match read_reply(&mut stream, timeout)? {
        Reply::Frame {
            version: PROTO_VERSION,
            proto_type: PROTO_TYPE_INFO,
            body,
        } => String::from_utf8(body).map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e)),
        other => Err(io::Error::new(
            io::ErrorKind::InvalidData,
            format!("not an info reply: {other:?}"),
        )),
    }
}

enum ReadOutcome {
    Done,
    Closed,
    TimedOut { got: usize },
}

fn read_full(stream: &mut TcpStream, buf: &mut [u8], deadline: Instant) -> io::Result<ReadOutcome> {
    let mut got = 0;
    while got < buf.len() {
        let now = Instant::now();
        if now >= deadline {
            return Ok(ReadOutcome::TimedOut { got });
        }
        stream.set_read_timeout(Some(deadline - now))?;
        let Some(rest) = buf.get_mut(got..) else {
            break;
        };
        match stream.read(rest) {
            Ok(0) => return Ok(ReadOutcome::Closed),
            Ok(n) => got += n,
            Err(e) => match e.kind() {
                io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut => {
                    return Ok(ReadOutcome::TimedOut { got })
                }
                io::ErrorKind::ConnectionReset
                | io::ErrorKind::ConnectionAborted
                | io::ErrorKind::BrokenPipe => return Ok(ReadOutcome::Closed),
                io::ErrorKind::Interrupted => {}
                _ => return Err(e),
            },
        }
    }
    Ok(ReadOutcome::Done)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_is_version_type_and_48_bit_big_endian_length() {
        assert_eq!(
            proto_header(2, 3, 0x0102_0304_0506),
            [2, 3, 1, 2, 3, 4, 5, 6]
        );
        // Over 48 bits: the top bytes are dropped, as on the wire.
        assert_eq!(
            proto_header(2, 1, 0xFF00_0000_0000_0001),
            [2, 1, 0, 0, 0, 0, 0, 1]
        );
    }

    #[test]
    fn as_msg_layout_counts_fields_and_ops() {
        let body = AsMsg::new()
            .info(1, 0, 0, 0)
            .field(field::NAMESPACE, b"test")
            .op(op::READ, 0, "a", &[])
            .body();
        assert_eq!(body.len(), 22 + (4 + 1 + 4) + (4 + 4 + 1));
        assert_eq!(body[0], 22);
        assert_eq!(body[1], 1);
        assert_eq!(&body[18..22], &[0, 1, 0, 1]);
        assert_eq!(&body[22..27], &[0, 0, 0, 5, field::NAMESPACE]);
        assert_eq!(&body[31..39], &[0, 0, 0, 5, op::READ, 0, 0, 1]);
    }

    #[test]
    fn claimed_counts_override_real_ones() {
        let body = AsMsg::new()
            .field(field::NAMESPACE, b"test")
            .claim_n_fields(7)
            .claim_n_ops(3)
            .body();
        assert_eq!(&body[18..22], &[0, 7, 0, 3]);
    }

    #[test]
    fn info_frame_terminates_each_command() {
        let f = info_frame(&["node", "build"]);
        assert_eq!(&f[..8], &proto_header(2, 1, 11));
        assert_eq!(&f[8..], b"node\nbuild\n");
    }
}
