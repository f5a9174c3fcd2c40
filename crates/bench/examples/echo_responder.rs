//! A trivial Aerospike-protocol responder, to measure `aerie bench`'s own ceiling.
//!
//! It answers every AS_MSG with a canned OK (a bare 22-byte header, no bins; for a batch, a
//! single LAST message), and the info command `namespaces` with `test`. It stores nothing
//! and parses only the proto header and info1, so whatever rate the bench reaches against
//! it is the bench's (and the loopback's) limit, not a database's.
//!
//! `cargo run --release -p aerie-bench --example echo_responder -- [PORT] [THREADS]`
//! Binds 127.0.0.1 only; PORT 0 (the default) picks a free port. Prints
//! `echo ready: 127.0.0.1:PORT` once it listens.

use std::io;

use aerie_proto::msg::{info1, info3};
use aerie_proto::{MsgHeader, MsgWriter, ProtoHeader, ProtoType, PROTO_HEADER_SIZE};
use tokio::io::{AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};

/// Largest request body the responder reads (it only needs small ones).
const MAX_BODY_BYTES: u64 = 16 * 1024 * 1024;

fn main() -> io::Result<()> {
    let mut argv = std::env::args().skip(1);
    let port: u16 = argv.next().and_then(|p| p.parse().ok()).unwrap_or(0);
    let threads: usize = argv.next().and_then(|t| t.parse().ok()).unwrap_or(1).max(1);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(threads)
        .enable_all()
        .build()?;
    rt.block_on(async move {
        let listener = TcpListener::bind(("127.0.0.1", port)).await?;
        println!("echo ready: {}", listener.local_addr()?);
        loop {
            let (socket, _) = listener.accept().await?;
            tokio::spawn(async move {
                let _ = serve(socket).await;
            });
        }
    })
}

async fn serve(socket: TcpStream) -> io::Result<()> {
    socket.set_nodelay(true)?;
    let mut stream = BufReader::with_capacity(64 * 1024, socket);
    let ok_reply = canned(0);
    let batch_reply = canned(info3::LAST);
    let mut body = Vec::with_capacity(4096);
    let mut h = [0u8; PROTO_HEADER_SIZE];
    loop {
        stream.read_exact(&mut h).await?;
        let header =
            ProtoHeader::parse(&h).map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))?;
        if header.size_bytes > MAX_BODY_BYTES {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                "request too large",
            ));
        }
        body.resize(header.size_bytes as usize, 0);
        stream.read_exact(&mut body).await?;
        match header.proto_type {
            ProtoType::Info => {
                let mut out = Vec::new();
                let mut text = Vec::new();
                for cmd in aerie_proto::info::commands(&body) {
                    let value: &[u8] = if cmd == b"namespaces" { b"test" } else { b"" };
                    aerie_proto::info::push_reply(&mut text, cmd, value);
                }
                aerie_proto::builder::write_frame(&mut out, ProtoType::Info, &text);
                stream.get_mut().write_all(&out).await?;
            }
            _ => {
                let is_batch = body.get(1).is_some_and(|i1| i1 & info1::BATCH != 0);
                let reply = if is_batch { &batch_reply } else { &ok_reply };
                stream.get_mut().write_all(reply).await?;
            }
        }
    }
}

fn canned(info3_bits: u8) -> Vec<u8> {
    let mut buf = Vec::new();
    let mut w = MsgWriter::begin(&mut buf, ProtoType::Msg);
    w.header(&MsgHeader {
        info3: info3_bits,
        generation: 1,
        ..MsgHeader::default()
    });
    w.finish();
    buf
}
