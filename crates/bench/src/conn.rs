// hot path: one write and (usually) one read syscall per transaction.
//! One client connection: send a request frame, read its reply frame(s), as the official
//! clients do (one command in flight per connection).
//!
//! Replies are read through a `BufReader`, so the 8-byte header and the body of a reply
//! usually come from a single `read` syscall; the body buffer is reused between replies.

use std::io;
use std::time::Duration;

use aerie_proto::{ProtoHeader, ProtoType, PROTO_HEADER_SIZE};
use tokio::io::{AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;

use crate::request::{scan_batch_frame, single_result_code, BatchTally, ReplyError};

/// Largest reply the bench accepts (the clients refuse above 120 MiB; we need far less).
pub const MAX_REPLY_BYTES: u64 = 16 * 1024 * 1024;
/// Most frames one batch reply may span before the bench calls it malformed.
const MAX_BATCH_FRAMES: usize = 100_000;
const READ_BUFFER_BYTES: usize = 64 * 1024;

/// Why a call failed.
#[derive(Debug)]
pub enum CallError {
    Io(io::Error),
    /// No complete reply within the socket timeout.
    Timeout,
    Reply(ReplyError),
    /// The reply frame header is invalid (bad version/type or oversize).
    Frame(String),
}

impl std::fmt::Display for CallError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            CallError::Io(e) => write!(f, "{e}"),
            CallError::Timeout => write!(f, "no reply within the socket timeout"),
            CallError::Reply(e) => write!(f, "{e}"),
            CallError::Frame(e) => write!(f, "bad reply frame: {e}"),
        }
    }
}

impl From<io::Error> for CallError {
    fn from(e: io::Error) -> Self {
        CallError::Io(e)
    }
}

impl From<ReplyError> for CallError {
    fn from(e: ReplyError) -> Self {
        CallError::Reply(e)
    }
}

/// A connected socket with its reply buffer.
#[derive(Debug)]
pub struct Conn {
    stream: BufReader<TcpStream>,
    body: Vec<u8>,
    socket_timeout: Duration,
}

impl Conn {
    /// Connects (bounded by `socket_timeout`) and turns Nagle off.
    pub async fn connect(addr: &str, socket_timeout: Duration) -> Result<Conn, CallError> {
        let stream = tokio::time::timeout(socket_timeout, TcpStream::connect(addr))
            .await
            .map_err(|_| CallError::Timeout)??;
        stream.set_nodelay(true)?;
        Ok(Conn {
            stream: BufReader::with_capacity(READ_BUFFER_BYTES, stream),
            body: Vec::with_capacity(4096),
            socket_timeout,
        })
    }

    /// Connects and, with `login` (user, client-side password hash), logs in as the official
    /// clients do on a node with security on.
    pub async fn open(
        addr: &str,
        socket_timeout: Duration,
        login: Option<&(String, String)>,
    ) -> Result<Conn, CallError> {
        let mut conn = Self::connect(addr, socket_timeout).await?;
        if let Some((user, credential)) = login {
            conn.login(user, credential).await?;
        }
        Ok(conn)
    }

    /// Sends an admin LOGIN and checks its result code.
    pub async fn login(&mut self, user: &str, credential: &str) -> Result<(), CallError> {
        use aerie_proto::admin::{command, field, write_records_frame, AdminRecord};
        let mut record = AdminRecord::new(aerie_proto::ResultCode::Ok, command::LOGIN);
        record.field(field::USER, user.as_bytes());
        record.field(field::CREDENTIAL, credential.as_bytes());
        let mut frame = Vec::new();
        write_records_frame(&mut frame, &[record.finish()]);
        let timeout = self.socket_timeout;
        tokio::time::timeout(timeout, async {
            self.stream.get_mut().write_all(&frame).await?;
            self.read_frame(ProtoType::Admin).await?;
            match self.body.get(1).copied() {
                Some(0) => Ok(()),
                rc => Err(CallError::Frame(format!("login refused with code {rc:?}"))),
            }
        })
        .await
        .map_err(|_| CallError::Timeout)?
    }

    /// Sends a single-record request and returns the reply's result code.
    pub async fn call_single(&mut self, request: &[u8]) -> Result<u8, CallError> {
        let timeout = self.socket_timeout;
        tokio::time::timeout(timeout, async {
            self.stream.get_mut().write_all(request).await?;
            self.read_frame(ProtoType::Msg).await?;
            Ok(single_result_code(&self.body)?)
        })
        .await
        .map_err(|_| CallError::Timeout)?
    }

    /// Sends a batch request and tallies its rows until the LAST message.
    pub async fn call_batch(&mut self, request: &[u8]) -> Result<BatchTally, CallError> {
        let timeout = self.socket_timeout;
        tokio::time::timeout(timeout, async {
            self.stream.get_mut().write_all(request).await?;
            let mut tally = BatchTally::default();
            for _ in 0..MAX_BATCH_FRAMES {
                self.read_frame(ProtoType::Msg).await?;
                scan_batch_frame(&self.body, &mut tally)?;
                if tally.last_rc.is_some() {
                    return Ok(tally);
                }
            }
            Err(CallError::Reply(ReplyError::Malformed))
        })
        .await
        .map_err(|_| CallError::Timeout)?
    }

    /// Sends a scan or query and counts the records streamed back until the LAST message
    /// (each frame bounded by the socket timeout). A LAST message with an error code is a
    /// `Reply` error.
    pub async fn call_stream(&mut self, request: &[u8]) -> Result<u64, CallError> {
        let timeout = self.socket_timeout;
        tokio::time::timeout(timeout, self.stream.get_mut().write_all(request))
            .await
            .map_err(|_| CallError::Timeout)??;
        let mut records = 0u64;
        loop {
            tokio::time::timeout(timeout, self.read_frame(ProtoType::Msg))
                .await
                .map_err(|_| CallError::Timeout)??;
            match crate::sindex::count_stream_frame(&self.body, &mut records)? {
                None => {}
                Some(0) => return Ok(records),
                Some(rc) => return Err(CallError::Frame(format!("stream ended with code {rc}"))),
            }
        }
    }

    /// Sends info commands (type 1) and returns the raw reply text.
    pub async fn info(&mut self, commands: &[&str]) -> Result<String, CallError> {
        let mut text = String::new();
        for c in commands {
            text.push_str(c);
            text.push('\n');
        }
        let mut frame = Vec::with_capacity(PROTO_HEADER_SIZE + text.len());
        aerie_proto::builder::write_frame(&mut frame, ProtoType::Info, text.as_bytes());
        let timeout = self.socket_timeout;
        tokio::time::timeout(timeout, async {
            self.stream.get_mut().write_all(&frame).await?;
            self.read_frame(ProtoType::Info).await?;
            Ok(String::from_utf8_lossy(&self.body).into_owned())
        })
        .await
        .map_err(|_| CallError::Timeout)?
    }

    /// Reads one whole frame of type `want` into `self.body`.
    async fn read_frame(&mut self, want: ProtoType) -> Result<(), CallError> {
        let mut h = [0u8; PROTO_HEADER_SIZE];
        self.stream.read_exact(&mut h).await?;
        let header = ProtoHeader::parse(&h).map_err(|e| CallError::Frame(e.to_string()))?;
        if header.proto_type != want {
            return Err(CallError::Reply(ReplyError::ProtoType(
                header.proto_type as u8,
            )));
        }
        if header.size_bytes > MAX_REPLY_BYTES {
            return Err(CallError::Frame(format!(
                "{} bytes is over the bench's limit",
                header.size_bytes
            )));
        }
        let size =
            usize::try_from(header.size_bytes).map_err(|_| CallError::Frame("size".to_owned()))?;
        self.body.resize(size, 0);
        self.stream.read_exact(&mut self.body).await?;
        Ok(())
    }
}
