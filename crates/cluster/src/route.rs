//! The request path: proxying to a partition's master, replicating the master's writes, and
//! the fabric server that receives both.

use std::sync::atomic::Ordering;
use std::sync::Arc;

use aerie_proto::msg::{field, info1, info2};
use aerie_proto::{Msg, MsgHeader, MsgWriter, ProtoType, ResultCode, PROTO_HEADER_SIZE};
use aerie_record::{compute_digest, partition_id, Digest, DIGEST_SIZE};
use tokio::io::BufReader;
use tokio::net::{TcpListener, TcpStream};

use crate::fabric::{kind, read_frame, status, write_frame};
use crate::{image, Cluster};

/// What a single-record request addresses.
struct Target<'a> {
    ns: &'a [u8],
    digest: Digest,
    write: bool,
}

/// The namespace and digest of a single-record request; `None` for batches, scans,
/// queries and anything malformed (those are served locally).
fn target(body: &[u8]) -> Option<Target<'_>> {
    let msg = Msg::parse(body).ok()?;
    if msg.header.info1 & info1::BATCH != 0 || msg.fields.has(field::BATCH_INDEX) {
        return None;
    }
    let ns = msg.fields.get(field::NAMESPACE)?;
    let digest = match msg.fields.get(field::DIGEST) {
        Some(d) => <[u8; DIGEST_SIZE]>::try_from(d).ok()?,
        None => {
            let (&t, k) = msg.fields.get(field::KEY)?.split_first()?;
            compute_digest(msg.fields.get(field::SET).unwrap_or_default(), t, k)
        }
    };
    Some(Target {
        ns,
        digest,
        write: msg.header.info2 & info2::WRITE != 0,
    })
}

/// One error reply frame.
fn error_reply(out: &mut Vec<u8>, rc: ResultCode) {
    let mut w = MsgWriter::begin(out, ProtoType::Msg);
    w.header(&MsgHeader {
        result_code: rc.code(),
        ..Default::default()
    });
    w.finish();
}

impl Cluster {
    /// Serves a client `as_msg` when clustering has something to do with it: a single-record
    /// request for a partition another node masters is proxied there; a write this node
    /// masters is applied and replicated before the reply. Returns false, having done
    /// nothing, for everything the caller should dispatch locally as before.
    pub async fn handle_msg(self: &Arc<Self>, body: &[u8], out: &mut Vec<u8>) -> bool {
        if self.is_alone() {
            return false;
        }
        let Some(t) = target(body) else {
            return self.handle_batch(body, out).await;
        };
        let Some(ns) = self.registry.get(t.ns) else {
            return false;
        };
        let table = ns.ownership();
        let Some(owners) = table.owners.get(partition_id(&t.digest) as usize) else {
            return false;
        };
        let Some(&master) = owners.first() else {
            return false;
        };
        // A partition still filling here is served by the node it is filling from.
        if owners.contains(&self.node_id) {
            let source = self
                .fill
                .get(t.ns)
                .and_then(|f| f.source_while_filling(partition_id(&t.digest) as usize));
            if let Some(source) = source {
                self.proxy(source, body, out).await;
                return true;
            }
        }
        if master != self.node_id {
            // A replica may answer reads itself (clients send them there by policy).
            if !t.write && owners.contains(&self.node_id) {
                return false;
            }
            self.proxy(master, body, out).await;
            return true;
        }
        if !t.write {
            return false;
        }
        self.write_and_replicate(body, &t, owners, out).await;
        true
    }

    /// Forwards a request to `master` and appends its reply; a timeout result when the
    /// master cannot be reached (the client retries, by then on a new map).
    async fn proxy(&self, master: u64, body: &[u8], out: &mut Vec<u8>) {
        self.stats.proxy_initiated.fetch_add(1, Ordering::Relaxed);
        let addr = self.view().fabric_of(master).map(str::to_owned);
        let answer = match addr {
            Some(a) => self.fabric.request(&a, kind::PROXY, body).await.ok(),
            None => None,
        };
        match answer {
            Some((status::OK, reply)) if reply.len() >= PROTO_HEADER_SIZE => {
                out.extend_from_slice(&reply)
            }
            _ => {
                self.stats.proxy_errors.fetch_add(1, Ordering::Relaxed);
                error_reply(out, ResultCode::Timeout);
            }
        }
    }

    /// Applies a write as master, then ships the record's resulting state to every replica
    /// and waits for their acknowledgements before the reply is released.
    async fn write_and_replicate(
        &self,
        body: &[u8],
        t: &Target<'_>,
        owners: &[u64],
        out: &mut Vec<u8>,
    ) {
        let start = out.len();
        aerie_transaction::dispatch(&self.registry, body, out);
        let rc = out
            .get(start + PROTO_HEADER_SIZE + 5)
            .copied()
            .unwrap_or(ResultCode::ServerError.code());
        // A failed write changed nothing, except a delete of an expired record (not found).
        if rc != ResultCode::Ok.code() && rc != ResultCode::NotFound.code() {
            return;
        }
        if !owners.iter().any(|&o| o != self.node_id) {
            return;
        }
        self.replicate(&[(t.ns, t.digest)]).await;
    }

    /// A batch with writing rows: executed here, then every written record's state is
    /// shipped to its other owners before the reply is released. Other batches are left to
    /// the caller.
    async fn handle_batch(&self, body: &[u8], out: &mut Vec<u8>) -> bool {
        let Ok(msg) = Msg::parse(body) else {
            return false;
        };
        if msg.header.info1 & info1::BATCH == 0 && !msg.fields.has(field::BATCH_INDEX) {
            return false;
        }
        let written = match crate::batch::written_rows(&msg) {
            Some(w) if !w.is_empty() => w,
            _ => return false,
        };
        aerie_transaction::dispatch(&self.registry, body, out);
        self.replicate(&written).await;
        true
    }

    /// Ships the current state of each record (an image, or a tombstone when it is gone)
    /// to the partition's other owners, one request per node, and waits for them all.
    async fn replicate(&self, records: &[(&[u8], Digest)]) {
        // Broken on purpose, for the nemesis suite: acknowledge without replicating.
        #[cfg(feature = "failpoints")]
        fail::fail_point!("replica-write-skip", |_| ());
        let mut per_node: Vec<(u64, Vec<u8>)> = Vec::new();
        for (ns_name, digest) in records {
            let Some(ns) = self.registry.get(ns_name) else {
                continue;
            };
            let table = ns.ownership();
            let Some(owners) = table.owners.get(partition_id(digest) as usize) else {
                continue;
            };
            if !owners.iter().any(|&o| o != self.node_id) {
                continue;
            }
            // The state after the write, read under the lock: concurrent writes to one
            // record each ship the then-current state, and replicas keep the newest.
            let mut img = Vec::with_capacity(128);
            {
                let idx = ns.partition(digest).lock();
                if !image::encode(
                    &mut img,
                    ns,
                    digest,
                    idx.get(digest),
                    aerie_record::time::now_ms(),
                ) {
                    tracing::warn!(namespace = %ns.name, "record unreadable: not replicated");
                    continue;
                }
            }
            // Every other owner: the replicas, or (when this node serves a partition still
            // filling at its new master) the master too.
            for &o in owners.iter().filter(|&&o| o != self.node_id) {
                match per_node.iter_mut().find(|(n, _)| *n == o) {
                    Some((_, buf)) => buf.extend_from_slice(&img),
                    None => per_node.push((o, img.clone())),
                }
            }
        }
        if per_node.is_empty() {
            return;
        }
        let view = self.view();
        let sends = per_node.iter().filter_map(|(node, buf)| {
            let addr = view.fabric_of(*node)?.to_owned();
            Some(async move {
                let ok = matches!(
                    self.fabric.request(&addr, kind::REPLICA, buf).await,
                    Ok((status::OK, _))
                );
                (*node, ok)
            })
        });
        for (replica, ok) in futures_join(sends).await {
            self.stats
                .replica_writes_sent
                .fetch_add(1, Ordering::Relaxed);
            if !ok {
                self.stats
                    .replica_write_errors
                    .fetch_add(1, Ordering::Relaxed);
                tracing::debug!(replica = %format!("{replica:X}"), "replica write not acknowledged");
            }
        }
    }

    /// Serves a proxied request here (no second hop) when this node holds the partition;
    /// otherwise answers TIMEOUT so the client retries on a newer map. (A node that has not
    /// settled its first member list holds nothing.)
    async fn serve_proxied(&self, body: &[u8], out: &mut Vec<u8>) {
        if let Some(t) = target(body) {
            let holds = self.registry.get(t.ns).is_some_and(|ns| {
                ns.ownership()
                    .owners
                    .get(partition_id(&t.digest) as usize)
                    .is_some_and(|o| o.contains(&self.node_id))
            });
            if !holds {
                self.stats.proxy_errors.fetch_add(1, Ordering::Relaxed);
                error_reply(out, ResultCode::Timeout);
                return;
            }
        }
        match target(body) {
            Some(t) if t.write => {
                let owners = self
                    .registry
                    .get(t.ns)
                    .and_then(|ns| {
                        ns.ownership()
                            .owners
                            .get(partition_id(&t.digest) as usize)
                            .cloned()
                    })
                    .unwrap_or_default();
                self.write_and_replicate(body, &t, &owners, out).await;
            }
            _ => aerie_transaction::dispatch(&self.registry, body, out),
        }
    }
}

/// Awaits every future concurrently (replication fans out to replication-factor − 1 nodes);
/// the outputs come back in order.
async fn futures_join<F: std::future::Future>(futs: impl Iterator<Item = F>) -> Vec<F::Output> {
    use std::task::Poll;
    let mut pending: Vec<Option<std::pin::Pin<Box<F>>>> = futs.map(|f| Some(Box::pin(f))).collect();
    let mut results: Vec<Option<F::Output>> = pending.iter().map(|_| None).collect();
    std::future::poll_fn(|cx| {
        let mut done = true;
        for (slot, res) in pending.iter_mut().zip(results.iter_mut()) {
            if let Some(f) = slot {
                match f.as_mut().poll(cx) {
                    Poll::Ready(v) => {
                        *res = Some(v);
                        *slot = None;
                    }
                    Poll::Pending => done = false,
                }
            }
        }
        if done {
            Poll::Ready(())
        } else {
            Poll::Pending
        }
    })
    .await;
    results.into_iter().flatten().collect()
}

/// Accepts fabric connections.
pub(crate) async fn serve_fabric(listener: TcpListener, cluster: Arc<Cluster>) {
    loop {
        let (stream, peer) = match listener.accept().await {
            Ok(s) => s,
            Err(e) => {
                tracing::warn!("fabric accept failed: {e}");
                tokio::time::sleep(std::time::Duration::from_millis(10)).await;
                continue;
            }
        };
        let cluster = cluster.clone();
        tokio::spawn(async move {
            if let Err(e) = serve_peer(stream, &cluster).await {
                tracing::debug!(%peer, "fabric connection closed: {e}");
            }
        });
    }
}

/// Answers one peer's requests, one at a time.
async fn serve_peer(stream: TcpStream, cluster: &Cluster) -> std::io::Result<()> {
    let _ = stream.set_nodelay(true);
    let mut conn = BufReader::new(stream);
    let mut buf = Vec::new();
    let mut out = Vec::new();
    while let Some(tag) = read_frame(&mut conn, &mut buf).await? {
        out.clear();
        let st = match tag {
            kind::PROXY => {
                cluster.serve_proxied(&buf, &mut out).await;
                status::OK
            }
            kind::REPLICA => apply_replica_writes(cluster, &buf),
            kind::MIGRATE => crate::migrate::answer_pull(cluster, &buf, &mut out),
            kind::SMD => cluster.receive_smd(&buf),
            kind::FILL_STATUS => crate::migrate::answer_fill_status(cluster, &buf, &mut out),
            _ => status::ERROR,
        };
        write_frame(conn.get_mut(), st, &out).await?;
    }
    Ok(())
}

/// Applies every image of a replica-write request.
fn apply_replica_writes(cluster: &Cluster, mut buf: &[u8]) -> u8 {
    while !buf.is_empty() {
        let Some((img, rest)) = image::decode(buf) else {
            return status::ERROR;
        };
        buf = rest;
        if let Err(e) = image::apply(&cluster.registry, &img) {
            tracing::warn!("replica write refused: {e}");
            return status::ERROR;
        }
        cluster
            .stats
            .replica_writes_applied
            .fetch_add(1, Ordering::Relaxed);
    }
    status::OK
}
