//! System metadata: secondary-index definitions, UDF modules and truncate cut-offs reach
//! every node. The info commands that change them are the unit: the node that takes one from
//! a client applies it, logs it with an id (origin node, sequence) and sends it to every
//! peer, which applies it once; a node that joins later is sent the whole log by every
//! member, and skips entries it has seen.
//!
//! Request (`kind::SMD`): entries `u64 origin ‖ u64 sequence ‖ u32 length ‖ command`.

use std::collections::HashSet;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use parking_lot::Mutex;

use crate::fabric::{kind, status};
use crate::Cluster;

/// Runs one info command on this node, without broadcasting it again.
pub type SmdHandler = Box<dyn Fn(&str) -> String + Send + Sync>;

/// Entries kept for nodes that join later.
const MAX_LOG: usize = 10_000;
/// Attempts to deliver an entry to a peer.
const ATTEMPTS: usize = 5;

/// The log and the handler.
#[derive(Default)]
pub struct Smd {
    handler: OnceLock<SmdHandler>,
    next_seq: AtomicU64,
    log: Mutex<SmdLog>,
}

#[derive(Default)]
struct SmdLog {
    entries: Vec<(u64, u64, String)>,
    seen: HashSet<(u64, u64)>,
}

impl std::fmt::Debug for Smd {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Smd").finish_non_exhaustive()
    }
}

fn encode(out: &mut Vec<u8>, origin: u64, seq: u64, cmd: &str) {
    out.extend_from_slice(&origin.to_be_bytes());
    out.extend_from_slice(&seq.to_be_bytes());
    out.extend_from_slice(&(cmd.len() as u32).to_be_bytes());
    out.extend_from_slice(cmd.as_bytes());
}

impl Cluster {
    /// Installs the function that runs a peer's command here (set once, at start-up).
    pub fn set_smd_handler(&self, handler: SmdHandler) {
        let _ = self.smd.handler.set(handler);
    }

    /// Logs a command this node applied for a client and sends it to every peer.
    pub fn broadcast_smd(self: &Arc<Self>, cmd: String) {
        if !self.enabled {
            return;
        }
        let seq = self.smd.next_seq.fetch_add(1, Ordering::Relaxed) + 1;
        let mut payload = Vec::with_capacity(cmd.len() + 20);
        encode(&mut payload, self.node_id, seq, &cmd);
        {
            let mut log = self.smd.log.lock();
            if log.entries.len() >= MAX_LOG {
                log.entries.remove(0);
            }
            log.seen.insert((self.node_id, seq));
            log.entries.push((self.node_id, seq, cmd));
        }
        let view = self.view();
        for m in view.members.iter().filter(|m| m.node_id != self.node_id) {
            self.send_smd(m.fabric.clone(), payload.clone());
        }
    }

    /// Sends the whole log to a node that joined.
    pub(crate) fn send_smd_log(self: &Arc<Self>, fabric: String) {
        let payload = {
            let log = self.smd.log.lock();
            if log.entries.is_empty() {
                return;
            }
            let mut p = Vec::new();
            for (origin, seq, cmd) in &log.entries {
                encode(&mut p, *origin, *seq, cmd);
            }
            p
        };
        self.send_smd(fabric, payload);
    }

    fn send_smd(self: &Arc<Self>, fabric: String, payload: Vec<u8>) {
        let cluster = self.clone();
        tokio::spawn(async move {
            for _ in 0..ATTEMPTS {
                if let Ok((status::OK, _)) =
                    cluster.fabric.request(&fabric, kind::SMD, &payload).await
                {
                    return;
                }
                tokio::time::sleep(Duration::from_millis(300)).await;
            }
            tracing::warn!(peer = %fabric, "system metadata not delivered");
        });
    }

    /// Applies a peer's entries not seen before, in order.
    pub(crate) fn receive_smd(&self, mut buf: &[u8]) -> u8 {
        while !buf.is_empty() {
            let Some((origin, rest)) = buf.split_first_chunk::<8>() else {
                return status::ERROR;
            };
            let Some((seq, rest)) = rest.split_first_chunk::<8>() else {
                return status::ERROR;
            };
            let Some((len, rest)) = rest.split_first_chunk::<4>() else {
                return status::ERROR;
            };
            let (origin, seq) = (u64::from_be_bytes(*origin), u64::from_be_bytes(*seq));
            let len = u32::from_be_bytes(*len) as usize;
            let Some(cmd) = rest.get(..len) else {
                return status::ERROR;
            };
            buf = rest.get(len..).unwrap_or_default();
            let Ok(cmd) = std::str::from_utf8(cmd) else {
                continue;
            };
            {
                let mut log = self.smd.log.lock();
                if !log.seen.insert((origin, seq)) {
                    continue;
                }
                if log.entries.len() >= MAX_LOG {
                    log.entries.remove(0);
                }
                log.entries.push((origin, seq, cmd.to_owned()));
            }
            if let Some(h) = self.smd.handler.get() {
                let answer = h(cmd);
                let name = cmd.split(':').next().unwrap_or_default();
                tracing::info!(command = name, answer = %answer, "system metadata from a peer");
            }
        }
        status::OK
    }
}
