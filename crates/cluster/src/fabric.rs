//! The fabric: node-to-node requests over TCP on the fabric port.
//!
//! A simple framed request/response protocol (Aerie's own, not Aerospike's fabric messages):
//! a request is `u32 length (big-endian) ‖ u8 kind ‖ payload`, its answer
//! `u32 length ‖ u8 status ‖ payload`, the length counting kind/status and payload. A
//! connection carries one request at a time; the client keeps a small pool per peer.

use std::collections::HashMap;
use std::io;
use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use parking_lot::Mutex;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, BufReader};
use tokio::net::{TcpSocket, TcpStream};

/// Request kinds.
pub mod kind {
    /// An `as_msg` body for the partition's master; the answer is the reply frames.
    pub const PROXY: u8 = 1;
    /// One record image for a replica to apply.
    pub const REPLICA: u8 = 2;
    /// A batch of record images migrating into a partition.
    pub const MIGRATE: u8 = 3;
    /// Which partitions of a namespace are still filling at the peer, if its cluster key
    /// matches the asker's.
    pub const FILL_STATUS: u8 = 4;
    /// System-metadata entries (info commands) to apply once.
    pub const SMD: u8 = 5;
}

/// Answer statuses.
pub mod status {
    pub const OK: u8 = 0;
    pub const ERROR: u8 = 1;
}

/// Largest frame either side accepts.
pub const MAX_FRAME: usize = 64 * 1024 * 1024;
/// Idle connections kept per peer.
const POOL_PER_PEER: usize = 16;
/// Bound on connecting to a peer.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(1);
/// Bound on one request's round trip.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(5);

/// Writes one frame.
pub async fn write_frame<W: AsyncWrite + Unpin>(
    w: &mut W,
    tag: u8,
    payload: &[u8],
) -> io::Result<()> {
    let len = u32::try_from(payload.len() + 1)
        .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "frame too large"))?;
    let mut head = [0u8; 5];
    head[..4].copy_from_slice(&len.to_be_bytes());
    head[4] = tag;
    w.write_all(&head).await?;
    w.write_all(payload).await?;
    w.flush().await
}

/// Reads one frame into `buf`; returns its tag, or `None` at a clean end of stream.
pub async fn read_frame<R: AsyncRead + Unpin>(
    r: &mut R,
    buf: &mut Vec<u8>,
) -> io::Result<Option<u8>> {
    let mut head = [0u8; 5];
    match r.read_exact(&mut head[..1]).await {
        Ok(_) => {}
        Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => return Ok(None),
        Err(e) => return Err(e),
    }
    r.read_exact(&mut head[1..]).await?;
    let len = u32::from_be_bytes([head[0], head[1], head[2], head[3]]) as usize;
    if len == 0 || len > MAX_FRAME {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            "bad fabric frame length",
        ));
    }
    buf.clear();
    let body_len = len - 1;
    if body_len <= PREALLOCATE_FRAME_BYTES {
        buf.resize(body_len, 0);
        r.read_exact(buf).await?;
    } else {
        // A large declared length is not trusted: the buffer grows only as bytes arrive, so a
        // peer (or anything that reaches the port) cannot make the node allocate more than it
        // sent.
        let got = (&mut *r).take(body_len as u64).read_to_end(buf).await?;
        if got != body_len {
            return Err(io::ErrorKind::UnexpectedEof.into());
        }
    }
    Ok(Some(head[4]))
}

/// Frames up to this size are read into a buffer sized up front.
const PREALLOCATE_FRAME_BYTES: usize = 64 * 1024;

/// Client side: pooled connections to peers' fabric addresses.
#[derive(Debug, Default)]
pub struct FabricClient {
    pools: Mutex<HashMap<String, Vec<BufReader<TcpStream>>>>,
    /// The address outgoing connections start from: the node's fabric address, so peers
    /// (and firewall rules) see node-to-node traffic come from it.
    local_ip: Option<IpAddr>,
}

impl FabricClient {
    /// A client whose connections start from `local_ip` (`None`: the kernel's choice).
    pub fn new(local_ip: Option<IpAddr>) -> Self {
        FabricClient {
            pools: Mutex::default(),
            local_ip,
        }
    }

    async fn connect(&self, addr: &str) -> io::Result<TcpStream> {
        let peer: SocketAddr = match addr.parse() {
            Ok(a) => a,
            Err(_) => tokio::net::lookup_host(addr)
                .await?
                .next()
                .ok_or_else(|| io::Error::new(io::ErrorKind::NotFound, "no address"))?,
        };
        let socket = if peer.is_ipv4() {
            TcpSocket::new_v4()?
        } else {
            TcpSocket::new_v6()?
        };
        if let Some(ip) = self.local_ip.filter(|ip| ip.is_ipv4() == peer.is_ipv4()) {
            socket.bind(SocketAddr::new(ip, 0))?;
        }
        socket.connect(peer).await
    }

    /// Sends one request to `addr` and returns the answer's status and payload. A pooled
    /// connection that fails (the peer restarted) is retried once on a fresh one.
    pub async fn request(&self, addr: &str, tag: u8, payload: &[u8]) -> io::Result<(u8, Vec<u8>)> {
        let pooled = self.pools.lock().get_mut(addr).and_then(Vec::pop);
        if let Some(conn) = pooled {
            if let Ok(answer) = self.round_trip(addr, conn, tag, payload).await {
                return Ok(answer);
            }
        }
        let s = tokio::time::timeout(CONNECT_TIMEOUT, self.connect(addr))
            .await
            .map_err(|_| io::Error::new(io::ErrorKind::TimedOut, "fabric connect timed out"))??;
        let _ = s.set_nodelay(true);
        self.round_trip(addr, BufReader::new(s), tag, payload).await
    }

    async fn round_trip(
        &self,
        addr: &str,
        mut conn: BufReader<TcpStream>,
        tag: u8,
        payload: &[u8],
    ) -> io::Result<(u8, Vec<u8>)> {
        let mut answer = Vec::new();
        let exchange = async {
            write_frame(conn.get_mut(), tag, payload).await?;
            read_frame(&mut conn, &mut answer).await
        };
        let st = tokio::time::timeout(REQUEST_TIMEOUT, exchange)
            .await
            .map_err(|_| io::Error::new(io::ErrorKind::TimedOut, "fabric request timed out"))??
            .ok_or_else(|| {
                io::Error::new(
                    io::ErrorKind::UnexpectedEof,
                    "peer closed the fabric connection",
                )
            })?;
        let mut pools = self.pools.lock();
        let pool = pools.entry(addr.to_owned()).or_default();
        if pool.len() < POOL_PER_PEER {
            pool.push(conn);
        }
        Ok((st, answer))
    }

    /// Drops the idle connections to peers no longer in `keep`.
    pub fn retain(&self, keep: &[String]) {
        self.pools.lock().retain(|a, _| keep.contains(a));
    }
}

#[cfg(test)]
mod frame_tests {
    use super::*;

    #[tokio::test]
    async fn declared_length_is_not_allocated_up_front() {
        let (mut client, mut server) = tokio::io::duplex(1 << 16);
        // Declares the largest frame, sends ten bytes, hangs up.
        let mut frame = (MAX_FRAME as u32).to_be_bytes().to_vec();
        frame.push(kind::SMD);
        frame.extend_from_slice(&[7u8; 10]);
        client.write_all(&frame).await.unwrap_or_default();
        drop(client);
        let mut buf = Vec::new();
        let r = read_frame(&mut server, &mut buf).await;
        assert_eq!(
            r.err().map(|e| e.kind()),
            Some(io::ErrorKind::UnexpectedEof)
        );
        assert!(buf.capacity() < 1024 * 1024, "allocated {}", buf.capacity());
    }

    #[tokio::test]
    async fn frames_of_every_size_round_trip() {
        for size in [
            0usize,
            1,
            PREALLOCATE_FRAME_BYTES,
            PREALLOCATE_FRAME_BYTES + 1,
            300_000,
        ] {
            let (mut client, mut server) = tokio::io::duplex(1 << 20);
            let payload = vec![5u8; size];
            let writer =
                tokio::spawn(async move { write_frame(&mut client, kind::SMD, &payload).await });
            let mut buf = Vec::new();
            let tag = read_frame(&mut server, &mut buf).await;
            assert!(matches!(tag, Ok(Some(t)) if t == kind::SMD), "size {size}");
            assert_eq!(buf.len(), size);
            assert!(matches!(writer.await, Ok(Ok(()))));
        }
    }
}
