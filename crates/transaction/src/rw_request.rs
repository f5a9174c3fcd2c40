//! A write in flight (aerospike-server `as/src/transaction/rw_request.c`,
//! `rw_request_hash.c`): the master has applied it and encoded its replica images under the
//! partition lock; here the images go to every other owner of the partition in the current
//! map, and the client's answer waits until they all acknowledge.
//!
//! Rules, in order:
//! - every other owner acknowledged → the write's reply stands;
//! - a send failed (refused, connection lost) or went unanswered for
//!   [`RETRANSMIT_INTERVAL`] → if the partition map changed since (a new regime), resend at
//!   once to the owners of the new map; otherwise resend after [`RETRY_PAUSE`];
//! - the deadline (the client's timeout, else `transaction-max-ms`) passed → if the map
//!   changed during the last round, re-resolve and send again (at most [`MAX_MAP_RETRIES`]
//!   times, each with a fresh bound); otherwise the write fails with TIMEOUT, which clients
//!   report as "in doubt": it was applied here and maybe on some replicas.
//!
//! Images carry whole record states and replicas keep the newest, so resending is safe.

// hot path (clustered writes): one call per replicated write or batch.

use std::ops::Range;
use std::sync::Arc;
use std::time::{Duration, Instant};

use aerie_namespace::{Namespace, NodeId};
use aerie_proto::{MsgWriter, ProtoType, ResultCode};

use crate::partition::PartitionOwner;
use crate::replica_write::Replicator;
use crate::reply;

/// Pause before resending to owners that refused or could not be reached.
pub const RETRY_PAUSE: Duration = Duration::from_millis(20);
/// Longest one round of sends waits before the map is looked at again (a paused replica
/// must not hold a write past a map change that removed it).
pub const RETRANSMIT_INTERVAL: Duration = Duration::from_millis(250);
/// Times a write whose replicas timed out is re-resolved on a changed map.
pub const MAX_MAP_RETRIES: u32 = 3;

/// One replicated write: its partition and its image in [`Pending::images`].
#[derive(Debug)]
pub(crate) struct Write {
    pub(crate) ns: Arc<Namespace>,
    pub(crate) pid: usize,
    pub(crate) image: Range<usize>,
}

/// How the client's reply is completed once the replicas have answered.
#[derive(Debug)]
pub(crate) enum Respond {
    /// A single-record write: its reply is already in the output buffer from `start`;
    /// replaced by a TIMEOUT reply when the write is not acknowledged.
    Single { start: usize },
    /// Batch rows: each write's reply message is held in `replies` (one range per write) and
    /// released, or replaced by a TIMEOUT row, once known; then the stream's last message.
    Batch {
        replies: Vec<u8>,
        rows: Vec<(u32, Range<usize>)>,
        final_rc: ResultCode,
    },
}

/// Writes applied on the master, waiting on their replicas.
#[derive(Debug)]
pub(crate) struct Pending {
    pub(crate) images: Vec<u8>,
    pub(crate) writes: Vec<Write>,
    pub(crate) respond: Respond,
    /// When the client's transaction started and how long it may take.
    pub(crate) deadline: Instant,
}

/// Ships every pending write to its replicas and completes the reply in `out`.
pub(crate) async fn run<C: PartitionOwner + Replicator>(
    cluster: &C,
    pending: Pending,
    out: &mut Vec<u8>,
) {
    let acked = replicate(cluster, &pending.images, &pending.writes, pending.deadline).await;
    match pending.respond {
        Respond::Single { start } => {
            if !acked.first().copied().unwrap_or(true) {
                out.truncate(start);
                reply::single_error(out, ResultCode::Timeout);
            }
        }
        Respond::Batch {
            replies,
            rows,
            final_rc,
        } => {
            let mut w = MsgWriter::begin(out, ProtoType::Msg);
            for ((index, range), ok) in rows.into_iter().zip(acked) {
                match replies.get(range) {
                    Some(msg) if ok => w.append_message(msg),
                    _ => reply::header_only(&mut w, ResultCode::Timeout, 0, 0, index),
                }
            }
            w.finish();
            reply::stream_end(out, final_rc);
        }
    }
}

/// Sends each write's image to the other owners of its partition until all acknowledge or
/// the rules above give up; returns, per write, whether every owner acknowledged it.
pub(crate) async fn replicate<C: PartitionOwner + Replicator>(
    cluster: &C,
    images: &[u8],
    writes: &[Write],
    mut deadline: Instant,
) -> Vec<bool> {
    let me = cluster.node_id();
    let bound = deadline.saturating_duration_since(Instant::now());
    let mut done = vec![false; writes.len()];
    let mut map_retries = 0;
    // Each pass either finishes, waits (time moves towards the deadline), follows a map
    // change (rare: one per membership change) or spends one of the bounded map retries,
    // so the loop ends.
    loop {
        // Resolve the owners from the map as it stands now.
        let mut sends: Vec<(NodeId, Vec<u8>, Vec<usize>)> = Vec::new();
        let mut regimes: Vec<(usize, u32)> = Vec::new();
        for (i, wr) in writes.iter().enumerate() {
            if done.get(i).copied().unwrap_or(true) {
                continue;
            }
            let table = wr.ns.ownership();
            regimes.push((i, table.regime));
            let image = images.get(wr.image.clone()).unwrap_or_default();
            let mut any = false;
            for &node in table
                .owners
                .get(wr.pid)
                .into_iter()
                .flatten()
                .filter(|&&n| n != me)
            {
                any = true;
                match sends.iter_mut().find(|(n, _, _)| *n == node) {
                    Some((_, payload, members)) => {
                        payload.extend_from_slice(image);
                        members.push(i);
                    }
                    None => sends.push((node, image.to_vec(), vec![i])),
                }
            }
            if !any {
                // No other owner in the current map: nothing left to wait for.
                if let Some(d) = done.get_mut(i) {
                    *d = true;
                }
            }
        }
        if sends.is_empty() {
            break;
        }
        let (payloads, members): (Vec<_>, Vec<_>) = sends
            .into_iter()
            .map(|(node, payload, members)| ((node, payload), members))
            .unzip();
        let round_end = deadline.min(Instant::now() + RETRANSMIT_INTERVAL);
        let acks = cluster.replicate(payloads, round_end).await;
        let mut failed = vec![false; writes.len()];
        for (members, ok) in members
            .iter()
            .zip(acks.iter().chain(std::iter::repeat(&false)))
        {
            if !ok {
                for &i in members {
                    if let Some(f) = failed.get_mut(i) {
                        *f = true;
                    }
                }
            }
        }
        let mut all_done = true;
        for (i, _) in &regimes {
            match failed.get(*i) {
                Some(false) => {
                    if let Some(d) = done.get_mut(*i) {
                        *d = true;
                    }
                }
                _ => all_done = false,
            }
        }
        if all_done {
            break;
        }
        let map_changed = regimes.iter().any(|(i, regime)| {
            failed.get(*i).copied().unwrap_or(false)
                && writes
                    .get(*i)
                    .is_some_and(|w| w.ns.ownership().regime != *regime)
        });
        let now = Instant::now();
        if now >= deadline {
            if map_changed && map_retries < MAX_MAP_RETRIES {
                map_retries += 1;
                deadline = now + bound;
                continue;
            }
            break;
        }
        if !map_changed {
            cluster
                .pause(RETRY_PAUSE.min(deadline.saturating_duration_since(now)))
                .await;
        }
    }
    done
}
