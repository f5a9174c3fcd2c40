//! Migrations: after a membership change, each node pulls the partitions it newly owns from
//! a node that held them before (the "source"), in batches, a few partitions at a time, while
//! traffic continues. Until a partition is filled, requests for it that reach this node are
//! proxied to the source, which still has every record; the source's writes are replicated
//! to all current owners, this node included. Received records merge newest-wins.
//!
//! Every owner also merges each partition it owns from nodes that joined since the last
//! member list: a restarted node or the other side of a healed network split may hold
//! writes that no one here has. Once every owner of a partition reports it filled, nodes
//! that hold it without owning it drop their copy ([`balance`]).
//!
//! Pull request (`kind::MIGRATE`): `u8 ns length ‖ ns ‖ u16 partition ‖ u8 has-cursor ‖
//! [digest]`. Answer: `u8 more ‖ record images…`.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use aerie_namespace::{Namespace, OwnershipTable};
use aerie_record::{Digest, DIGEST_SIZE, N_PARTITIONS};
use tokio::sync::Semaphore;

use crate::fabric::{kind, status};
use crate::{image, Cluster, View};

/// Records per pull answer.
const BATCH_RECORDS: usize = 512;
/// Bytes per pull answer (about).
const BATCH_BYTES: usize = 1024 * 1024;
/// Pause before retrying a failed pull.
const RETRY_PAUSE: Duration = Duration::from_millis(200);

/// Per namespace: which partitions are still filling here, and from whom.
#[derive(Debug)]
pub struct FillState {
    filling: Vec<AtomicBool>,
    source: Vec<AtomicU64>,
}

impl Default for FillState {
    fn default() -> Self {
        FillState {
            filling: (0..N_PARTITIONS).map(|_| AtomicBool::new(false)).collect(),
            source: (0..N_PARTITIONS).map(|_| AtomicU64::new(0)).collect(),
        }
    }
}

impl FillState {
    /// The node to proxy to while `pid` is filling here.
    #[inline]
    pub fn source_while_filling(&self, pid: usize) -> Option<u64> {
        let filling = self.filling.get(pid)?.load(Ordering::Acquire);
        let src = self.source.get(pid)?.load(Ordering::Acquire);
        (filling && src != 0).then_some(src)
    }
}

/// Decides what this node must pull after a map change and starts pulling.
pub(crate) fn start(
    cluster: Arc<Cluster>,
    old_view: &View,
    view: Arc<View>,
    changes: Vec<(Arc<Namespace>, Arc<OwnershipTable>, Arc<OwnershipTable>)>,
) {
    let round = cluster.migration_round.fetch_add(1, Ordering::AcqRel) + 1;
    let me = cluster.node_id;
    let alive = |n: &u64| *n != me && view.members.iter().any(|m| m.node_id == *n);
    // Nodes that were not in the last member list (a restarted node, the other side of a
    // healed split) may hold writes nobody here has: every owner merges their copy too.
    let joined: Vec<u64> = view
        .members
        .iter()
        .map(|m| m.node_id)
        .filter(|&n| n != me && !old_view.members.iter().any(|m| m.node_id == n))
        .collect();
    let mut work = Vec::new();
    for (ns, old, new) in changes {
        let Some(fill) = cluster.fill.get(ns.name.as_bytes()).cloned() else {
            continue;
        };
        for pid in 0..N_PARTITIONS {
            let (Some(new_o), Some(flag), Some(src)) = (
                new.owners.get(pid),
                fill.filling.get(pid),
                fill.source.get(pid),
            ) else {
                continue;
            };
            let old_o = old.owners.get(pid).map(Vec::as_slice).unwrap_or_default();
            let owner_now = new_o.contains(&me);
            let prev_src = src.load(Ordering::Acquire);
            let was_filling = flag.load(Ordering::Acquire) && prev_src != 0;
            // A new owner (or one still filling) fills from an earlier owner still here —
            // the one in use if it is — and until then proxies requests to it.
            let primary = if owner_now && (!old_o.contains(&me) || was_filling) {
                if was_filling && alive(&prev_src) {
                    Some(prev_src)
                } else {
                    old_o.iter().copied().find(|n| alive(n))
                }
            } else {
                None
            };
            let mut sources: Vec<u64> = primary.into_iter().collect();
            if owner_now {
                sources.extend(joined.iter().copied().filter(|j| Some(*j) != primary));
            }
            if sources.is_empty() {
                flag.store(false, Ordering::Release);
                src.store(0, Ordering::Release);
            } else {
                src.store(primary.unwrap_or(0), Ordering::Release);
                flag.store(true, Ordering::Release);
                work.push((ns.clone(), fill.clone(), pid, sources));
            }
        }
    }
    cluster
        .stats
        .migrate_partitions_remaining
        .store(work.len() as u64, Ordering::Relaxed);
    if !work.is_empty() {
        tracing::info!(
            partitions = work.len(),
            "migrations: filling partitions from their previous owners and joined nodes"
        );
    }
    let total = work.len();
    let gate = Arc::new(Semaphore::new(cluster.migrate_max_partitions.max(1)));
    tokio::spawn(async move {
        let mut tasks = tokio::task::JoinSet::new();
        for (ns, fill, pid, sources) in work {
            let Ok(permit) = gate.clone().acquire_owned().await else {
                return;
            };
            if cluster.migration_round.load(Ordering::Acquire) != round {
                return;
            }
            let cluster = cluster.clone();
            let view = view.clone();
            tasks.spawn(async move {
                let mut filled = true;
                for source in sources {
                    filled &= fill_partition(&cluster, &view, &ns, pid, source, round).await;
                }
                if filled {
                    if let Some(f) = fill.filling.get(pid) {
                        f.store(false, Ordering::Release);
                    }
                    cluster
                        .stats
                        .migrate_partitions_received
                        .fetch_add(1, Ordering::Relaxed);
                }
                if cluster.migration_round.load(Ordering::Acquire) == round {
                    cluster
                        .stats
                        .migrate_partitions_remaining
                        .fetch_sub(1, Ordering::Relaxed);
                }
                drop(permit);
            });
        }
        while tasks.join_next().await.is_some() {}
        if cluster.migration_round.load(Ordering::Acquire) == round && total > 0 {
            tracing::info!(partitions = total, "migrations: done");
        }
    });
}

/// Pulls one partition until the source says there is no more; false when a newer map
/// superseded this round first.
async fn fill_partition(
    cluster: &Cluster,
    view: &View,
    ns: &Namespace,
    pid: usize,
    source: u64,
    round: u64,
) -> bool {
    let mut cursor: Option<Digest> = None;
    loop {
        if cluster.migration_round.load(Ordering::Acquire) != round {
            return false;
        }
        let Some(addr) = view.fabric_of(source).map(str::to_owned) else {
            return false;
        };
        let mut req = Vec::with_capacity(64);
        let name = ns.name.as_bytes();
        req.push(name.len().min(255) as u8);
        req.extend_from_slice(name.get(..255.min(name.len())).unwrap_or_default());
        req.extend_from_slice(&(pid as u16).to_be_bytes());
        match &cursor {
            Some(d) => {
                req.push(1);
                req.extend_from_slice(d);
            }
            None => req.push(0),
        }
        let answer = match cluster.fabric.request(&addr, kind::MIGRATE, &req).await {
            Ok((status::OK, a)) => a,
            _ => {
                tokio::time::sleep(RETRY_PAUSE).await;
                continue;
            }
        };
        let Some((&more, mut rest)) = answer.split_first() else {
            tokio::time::sleep(RETRY_PAUSE).await;
            continue;
        };
        while let Some((img, tail)) = image::decode(rest) {
            rest = tail;
            cursor = Some(img.digest);
            match image::apply(&cluster.registry, &img) {
                Ok(true) => cluster
                    .stats
                    .migrate_records_received
                    .fetch_add(1, Ordering::Relaxed),
                _ => cluster
                    .stats
                    .migrate_records_skipped
                    .fetch_add(1, Ordering::Relaxed),
            };
        }
        if more == 0 {
            return true;
        }
    }
}

/// Answers a pull: the next batch of the partition's live records after the cursor.
pub(crate) fn answer_pull(cluster: &Cluster, req: &[u8], out: &mut Vec<u8>) -> u8 {
    let parse = || -> Option<(&[u8], usize, Option<Digest>)> {
        let (&len, rest) = req.split_first()?;
        let ns = rest.get(..len as usize)?;
        let rest = rest.get(len as usize..)?;
        let pid = u16::from_be_bytes([*rest.first()?, *rest.get(1)?]) as usize;
        let cursor = match rest.get(2)? {
            0 => None,
            _ => Some(<[u8; DIGEST_SIZE]>::try_from(rest.get(3..3 + DIGEST_SIZE)?).ok()?),
        };
        Some((ns, pid, cursor))
    };
    let Some((ns_name, pid, cursor)) = parse() else {
        return status::ERROR;
    };
    let Some(ns) = cluster.registry.get(ns_name) else {
        return status::ERROR;
    };
    let Some(partition) = ns.partitions().get(pid) else {
        return status::ERROR;
    };
    let now = aerie_record::time::now_secs();
    out.push(0);
    let idx = partition.lock();
    let mut n = 0;
    let mut more = false;
    for (digest, rec) in idx.iter_from(cursor.as_ref()) {
        if n >= BATCH_RECORDS || out.len() >= BATCH_BYTES {
            more = true;
            break;
        }
        if !ns.is_live(rec, now) {
            continue;
        }
        if image::encode(out, ns, digest, Some(rec), 0) {
            n += 1;
        }
    }
    drop(idx);
    if let Some(m) = out.first_mut() {
        *m = u8::from(more);
    }
    cluster
        .stats
        .migrate_records_sent
        .fetch_add(n as u64, Ordering::Relaxed);
    status::OK
}

/// Answers a fill-status request (`u64 cluster key ‖ namespace`): a bitmap of the
/// namespace's partitions still filling here, or an error when the keys differ (the two
/// nodes do not act on the same member list yet).
pub(crate) fn answer_fill_status(cluster: &Cluster, req: &[u8], out: &mut Vec<u8>) -> u8 {
    let Some((key, ns)) = req.split_first_chunk::<8>() else {
        return status::ERROR;
    };
    if u64::from_be_bytes(*key) != cluster.view().key {
        return status::ERROR;
    }
    let Some(fill) = cluster.fill.get(ns) else {
        return status::ERROR;
    };
    let start = out.len();
    out.resize(start + N_PARTITIONS / 8, 0);
    for (pid, f) in fill.filling.iter().enumerate() {
        if f.load(Ordering::Acquire) {
            if let Some(b) = out.get_mut(start + pid / 8) {
                *b |= 0x80 >> (pid % 8);
            }
        }
    }
    status::OK
}

/// How often a node looks for partitions it holds but no longer owns.
const BALANCE_PERIOD: Duration = Duration::from_secs(1);

/// Removes the records of partitions this node no longer owns, once every owner of such a
/// partition reports it filled under the same member list. Until then the node keeps them:
/// it may be the source an owner is filling from.
pub(crate) async fn balance(cluster: Arc<Cluster>) {
    let mut tick = tokio::time::interval(BALANCE_PERIOD);
    loop {
        tick.tick().await;
        if cluster.is_alone() {
            continue;
        }
        let view = cluster.view();
        for ns in cluster.registry.iter() {
            let table = ns.ownership();
            let stale: Vec<usize> = (0..N_PARTITIONS)
                .filter(|&pid| {
                    table
                        .owners
                        .get(pid)
                        .is_some_and(|o| !o.contains(&cluster.node_id))
                        && ns
                            .partitions()
                            .get(pid)
                            .is_some_and(|p| !p.lock().is_empty())
                })
                .collect();
            if stale.is_empty() {
                continue;
            }
            let mut req = view.key.to_be_bytes().to_vec();
            req.extend_from_slice(ns.name.as_bytes());
            let mut filling = vec![0u8; N_PARTITIONS / 8];
            let mut complete = true;
            for m in view.members.iter().filter(|m| m.node_id != cluster.node_id) {
                match cluster
                    .fabric
                    .request(&m.fabric, kind::FILL_STATUS, &req)
                    .await
                {
                    Ok((status::OK, bits)) if bits.len() == filling.len() => {
                        for (f, b) in filling.iter_mut().zip(bits) {
                            *f |= b;
                        }
                    }
                    _ => complete = false,
                }
            }
            // Only act on answers about the map this node still has.
            if !complete || cluster.view().key != view.key || !Arc::ptr_eq(&table, &ns.ownership())
            {
                continue;
            }
            for pid in stale {
                let busy = filling
                    .get(pid / 8)
                    .is_some_and(|b| b & (0x80 >> (pid % 8)) != 0);
                if !busy {
                    drop_partition(&cluster, ns, pid);
                }
            }
        }
    }
}

/// Removes every record of a partition this node does not own.
fn drop_partition(cluster: &Cluster, ns: &Namespace, pid: usize) {
    let Some(p) = ns.partitions().get(pid) else {
        return;
    };
    let mut idx = p.lock();
    let digests: Vec<Digest> = idx.iter_from(None).map(|(d, _)| *d).collect();
    let mut n = 0u64;
    for d in &digests {
        if matches!(ns.delete_record(&mut idx, d), Ok(Some(_))) {
            n += 1;
        }
    }
    drop(idx);
    cluster
        .stats
        .migrate_partitions_dropped
        .fetch_add(1, Ordering::Relaxed);
    cluster
        .stats
        .migrate_records_dropped
        .fetch_add(n, Ordering::Relaxed);
}
