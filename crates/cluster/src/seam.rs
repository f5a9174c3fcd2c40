//! The cluster's side of the transaction layer's seam (`aerie_transaction::tsvc`): it
//! answers who owns a partition and carries replica writes and proxied requests between
//! nodes, and the fabric server receives them. Every decision about a request — serve,
//! proxy, replicate, give up — is the transaction layer's; nothing here parses an `as_msg`.

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

use aerie_namespace::{Namespace, NodeId};
use aerie_proto::PROTO_HEADER_SIZE;
use aerie_transaction::tsvc::{self, Origin, Tsvc};
use aerie_transaction::{replica_write, Dispatched, PartitionOwner, Proxy, Replicator};
use tokio::io::BufReader;
use tokio::net::{TcpListener, TcpStream};

use crate::fabric::{kind, read_frame, status, write_frame};
use crate::Cluster;

impl PartitionOwner for Cluster {
    fn node_id(&self) -> NodeId {
        self.node_id
    }

    #[inline]
    fn is_alone(&self) -> bool {
        Cluster::is_alone(self)
    }

    fn filling_from(&self, ns: &Namespace, pid: usize) -> Option<NodeId> {
        self.fill
            .get(ns.name.as_bytes())
            .and_then(|f| f.source_while_filling(pid))
    }
}

impl Replicator for Cluster {
    /// One fabric request per node, all at once, each bounded by `deadline`.
    async fn replicate(&self, sends: Vec<(NodeId, Vec<u8>)>, deadline: Instant) -> Vec<bool> {
        // Broken on purpose, for the nemesis suite: acknowledge without replicating.
        #[cfg(feature = "failpoints")]
        fail::fail_point!("replica-write-skip", |_| vec![true; sends.len()]);
        let view = self.view();
        let deadline = tokio::time::Instant::from_std(deadline);
        let requests = sends.iter().map(|(node, payload)| {
            let addr = view.fabric_of(*node).map(str::to_owned);
            async move {
                let Some(addr) = addr else {
                    return false;
                };
                matches!(
                    tokio::time::timeout_at(
                        deadline,
                        self.fabric.request(&addr, kind::REPLICA, payload)
                    )
                    .await,
                    Ok(Ok((status::OK, _)))
                )
            }
        });
        let acks = futures_join(requests).await;
        for ((node, _), ok) in sends.iter().zip(&acks) {
            self.stats
                .replica_writes_sent
                .fetch_add(1, Ordering::Relaxed);
            if !ok {
                self.stats
                    .replica_write_errors
                    .fetch_add(1, Ordering::Relaxed);
                tracing::debug!(replica = %format!("{node:X}"), "replica write not acknowledged");
            }
        }
        acks
    }

    async fn pause(&self, d: Duration) {
        tokio::time::sleep(d).await;
    }
}

impl Proxy for Cluster {
    async fn proxy(&self, node: NodeId, body: &[u8], deadline: Instant) -> Option<Vec<u8>> {
        self.stats.proxy_initiated.fetch_add(1, Ordering::Relaxed);
        let addr = self.view().fabric_of(node).map(str::to_owned);
        let answer = match addr {
            Some(a) => tokio::time::timeout_at(
                tokio::time::Instant::from_std(deadline),
                self.fabric.request(&a, kind::PROXY, body),
            )
            .await
            .ok()
            .and_then(Result::ok),
            None => None,
        };
        match answer {
            Some((status::OK, reply)) if reply.len() >= PROTO_HEADER_SIZE => Some(reply),
            _ => {
                self.stats.proxy_errors.fetch_add(1, Ordering::Relaxed);
                None
            }
        }
    }
}

impl Cluster {
    /// The pipeline over this node's namespaces and this cluster.
    pub fn tsvc(&self) -> Tsvc<'_, Self> {
        Tsvc {
            registry: &self.registry,
            cluster: self,
            transaction_max_ms: self.transaction_max_ms,
        }
    }

    /// Serves a request another node proxied here: served here or refused with TIMEOUT,
    /// never proxied again.
    async fn serve_proxied(&self, body: &[u8], out: &mut Vec<u8>) {
        if let Dispatched::Stream(mut job) =
            tsvc::process(&self.tsvc(), body, Origin::Proxied, out).await
        {
            job.run_to_end(out);
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
                tokio::time::sleep(Duration::from_millis(10)).await;
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

/// Applies a replica-write payload; acknowledged only when every image in it applied.
fn apply_replica_writes(cluster: &Cluster, buf: &[u8]) -> u8 {
    match replica_write::apply(&cluster.registry, buf) {
        Ok(n) => {
            cluster
                .stats
                .replica_writes_applied
                .fetch_add(n, Ordering::Relaxed);
            status::OK
        }
        Err(e) => {
            tracing::warn!("replica write refused: {e}");
            status::ERROR
        }
    }
}
