//! tsvc, where every client `as_msg` enters the transaction layer (aerospike-server
//! `as/src/base/thr_tsvc.c`). The pipeline, one phase per module:
//!
//! 1. **tsvc** ([`process`]): the body is parsed once into a [`Msg`]; batches go to
//!    [`crate::batch`], scans and queries to [`crate::scan`]; a single-record command is
//!    validated ([`Request`]) and its partition *reserved*: served here, or proxied.
//! 2. **proxy** ([`crate::proxy`]): forwarded to the node that must serve it.
//! 3. **read** / **write_master** / **udf_apply**: the command runs under its partition
//!    lock; a write whose partition has other owners appends its replica image (encoded from
//!    the stored bytes, still under the lock) to an image sink.
//! 4. **rw_request** ([`crate::rw_request`]): the images go to every other owner through
//!    the [`Replicator`]; the reply waits for their acknowledgements.
//! 5. **respond**: the reply built in phase 3 is released, or replaced by TIMEOUT when the
//!    replicas did not all acknowledge.
//!
//! A node that is alone (no peers) answers every command in phase 3 with no await at all;
//! [`crate::dispatch`] is that path for callers without a cluster.

// hot path: every client command passes through here.

use std::time::{Duration, Instant};

use aerie_namespace::{NodeId, Registry};
use aerie_proto::msg::{field, info1};
use aerie_proto::{Msg, MsgWriter, ProtoType, ResultCode};
use aerie_record::partition_id;

use crate::partition::PartitionOwner;
use crate::proxy::Proxy;
use crate::replica_write::Replicator;
use crate::request::Request;
use crate::rw_request::{Pending, Respond, Write};
use crate::{reply, scan, Dispatched};

/// Everything the pipeline needs from the cluster: partition ownership, replica writes and
/// proxying. Implemented by the cluster crate; [`Standalone`] for a node without one.
pub trait Cluster: PartitionOwner + Replicator + Proxy {}

impl<T: PartitionOwner + Replicator + Proxy> Cluster for T {}

/// The pipeline's inputs that outlive one request.
#[derive(Debug)]
pub struct Tsvc<'a, C> {
    pub registry: &'a Registry,
    pub cluster: &'a C,
    /// `transaction-max-ms`: the bound on a transaction whose client sent no timeout.
    pub transaction_max_ms: u32,
}

/// Where a request came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origin {
    /// A client connection.
    Client,
    /// Another node proxied it here: it is served here or refused, never proxied again.
    Proxied,
}

/// Runs one `as_msg` request body through the whole pipeline and appends its reply to
/// `out`. Scans and queries return a job that streams theirs.
pub async fn process<C: Cluster>(
    t: &Tsvc<'_, C>,
    body: &[u8],
    origin: Origin,
    out: &mut Vec<u8>,
) -> Dispatched {
    let started = Instant::now();
    let msg = match Msg::parse(body) {
        Ok(m) => m,
        Err(e) => {
            tracing::debug!(error = %e, "malformed message");
            reply::single_error(out, ResultCode::Parameter);
            return Dispatched::Complete;
        }
    };
    let deadline = started + transaction_bound(t.transaction_max_ms, &msg);
    match front(t.registry, t.cluster, &msg, origin, deadline, out) {
        Next::Done(d) => d,
        Next::Proxy(node) => {
            crate::proxy::forward(t.cluster, node, body, deadline, out).await;
            Dispatched::Complete
        }
        Next::Replicate(pending) => {
            crate::rw_request::run(t.cluster, pending, out).await;
            Dispatched::Complete
        }
    }
}

/// How long a transaction may take: the client's timeout (`transaction_ttl`), else
/// `transaction-max-ms`.
fn transaction_bound(transaction_max_ms: u32, msg: &Msg<'_>) -> Duration {
    let ms = match msg.header.transaction_ttl {
        0 => transaction_max_ms,
        t => t,
    };
    Duration::from_millis(u64::from(ms.max(1)))
}

/// What the synchronous phases left to the asynchronous ones.
pub(crate) enum Next {
    /// The reply is complete (or a stream job is returned).
    Done(Dispatched),
    /// Forward the request, unchanged, to this node.
    Proxy(NodeId),
    /// Applied here; waiting on replicas.
    Replicate(Pending),
}

/// Phases 1 and 3: parse-time routing, reservation, execution. Never awaits.
pub(crate) fn front<P: PartitionOwner>(
    registry: &Registry,
    owner: &P,
    msg: &Msg<'_>,
    origin: Origin,
    deadline: Instant,
    out: &mut Vec<u8>,
) -> Next {
    if msg.header.info1 & info1::BATCH != 0 || msg.fields.has(field::BATCH_INDEX) {
        return match crate::batch::execute(registry, owner, msg, deadline, out) {
            Some(p) => Next::Replicate(p),
            None => Next::Done(Dispatched::Complete),
        };
    }
    if !msg.fields.has(field::DIGEST) && !msg.fields.has(field::KEY) {
        // Scans and queries arrive without a digest.
        return Next::Done(match scan::start(registry, msg, out) {
            Some(job) => Dispatched::Stream(Box::new(job)),
            None => Dispatched::Complete,
        });
    }
    let req = match Request::new(registry, msg, None, None) {
        Ok(r) => r,
        Err(rc) => {
            reply::single_error(out, rc);
            return Next::Done(Dispatched::Complete);
        }
    };
    let pid = match reserve(owner, &req, origin) {
        Reservation::Local { replicate_pid } => replicate_pid,
        Reservation::Proxy(node) => return Next::Proxy(node),
        Reservation::NotHere => {
            reply::single_error(out, ResultCode::Timeout);
            return Next::Done(Dispatched::Complete);
        }
    };
    let start = out.len();
    let mut images = Vec::new();
    let mut w = MsgWriter::begin(out, ProtoType::Msg);
    let sink = pid.is_some().then_some(&mut images);
    crate::execute_request(&req, &mut w, 0, false, sink);
    w.finish();
    match pid {
        Some(pid) if !images.is_empty() => Next::Replicate(Pending {
            writes: vec![Write {
                ns: req.ns.clone(),
                pid,
                image: 0..images.len(),
            }],
            images,
            respond: Respond::Single { start },
            deadline,
        }),
        _ => Next::Done(Dispatched::Complete),
    }
}

/// Where a single-record command is served (aerospike-server `as_partition_reserve_*`).
enum Reservation {
    /// Here; `Some(pid)` when it writes a partition with other owners.
    Local { replicate_pid: Option<usize> },
    /// At this node.
    Proxy(NodeId),
    /// Proxied here, but this node does not hold the partition (the map moved on): the
    /// client retries on a newer map.
    NotHere,
}

fn reserve<P: PartitionOwner>(owner: &P, req: &Request<'_>, origin: Origin) -> Reservation {
    if owner.is_alone() {
        return Reservation::Local {
            replicate_pid: None,
        };
    }
    let me = owner.node_id();
    let pid = partition_id(&req.digest) as usize;
    let table = req.ns.ownership();
    let owners = table.owners.get(pid).map(Vec::as_slice).unwrap_or_default();
    let write = req.is_write();
    let local = |owners: &[NodeId]| Reservation::Local {
        replicate_pid: (write && owners.iter().any(|&o| o != me)).then_some(pid),
    };
    if origin == Origin::Proxied {
        // No second hop: serve it if this node holds the partition.
        return if owners.contains(&me) {
            local(owners)
        } else {
            Reservation::NotHere
        };
    }
    // No owner yet (before the first member list settles): served here, as a lone node.
    let Some(&master) = owners.first() else {
        return Reservation::Local {
            replicate_pid: None,
        };
    };
    if owners.contains(&me) {
        // A partition still filling here is served by the node it fills from.
        if let Some(source) = owner.filling_from(req.ns, pid) {
            return Reservation::Proxy(source);
        }
    }
    if master == me {
        return local(owners);
    }
    // A replica may answer reads itself (clients send them there by policy).
    if !write && owners.contains(&me) {
        return local(owners);
    }
    Reservation::Proxy(master)
}

/// For a batch row, which always runs here: its partition when it writes and the partition
/// has other owners to replicate to.
pub(crate) fn replicated_partition<P: PartitionOwner>(
    owner: &P,
    req: &Request<'_>,
) -> Option<usize> {
    if owner.is_alone() || !req.is_write() {
        return None;
    }
    let me = owner.node_id();
    let pid = partition_id(&req.digest) as usize;
    let table = req.ns.ownership();
    let others = table
        .owners
        .get(pid)
        .is_some_and(|o| o.iter().any(|&n| n != me));
    others.then_some(pid)
}

/// A node without a cluster: alone, so nothing is ever proxied or replicated.
#[derive(Debug, Clone, Copy, Default)]
pub struct Standalone;

impl PartitionOwner for Standalone {
    fn node_id(&self) -> NodeId {
        0
    }
    fn is_alone(&self) -> bool {
        true
    }
    fn filling_from(&self, _: &aerie_namespace::Namespace, _: usize) -> Option<NodeId> {
        None
    }
}

impl Replicator for Standalone {
    async fn replicate(&self, sends: Vec<(NodeId, Vec<u8>)>, _: Instant) -> Vec<bool> {
        // No peers: nothing is ever sent here.
        vec![false; sends.len()]
    }
    async fn pause(&self, _: Duration) {}
}

impl Proxy for Standalone {
    async fn proxy(&self, _: NodeId, _: &[u8], _: Instant) -> Option<Vec<u8>> {
        None
    }
}
