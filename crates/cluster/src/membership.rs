//! Membership and failure detection: chitchat (scuttlebutt gossip with a phi-accrual failure
//! detector) over UDP on the heartbeat port. Each node publishes its node id and its service
//! and fabric addresses as gossip keys; the live-node set it reports is turned into a sorted
//! member list, which is acted on only after it has stayed the same for the quiet period.

use std::collections::BTreeMap;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use aerie_config::HeartbeatConfig;
use chitchat::transport::UdpTransport;
use chitchat::{
    spawn_chitchat, ChitchatConfig, ChitchatHandle, ChitchatId, FailureDetectorConfig, NodeState,
    ProtocolVersion,
};
use tokio::sync::watch;

/// Gossip key holding a node's client service address (`host:port`).
pub const KEY_SERVICE: &str = "service";
/// Gossip key holding a node's fabric address (`host:port`).
pub const KEY_FABRIC: &str = "fabric";
/// Gossip key prefix of a node's rack in a namespace: `rack:<namespace>` = rack id.
pub const KEY_RACK_PREFIX: &str = "rack:";

/// One cluster member as the gossip describes it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Member {
    pub node_id: u64,
    pub service: String,
    pub fabric: String,
    /// `(namespace, rack id)`, sorted by namespace; a namespace not listed is on rack 0.
    pub racks: Vec<(String, u32)>,
}

impl Member {
    /// The member's rack in `namespace` (0 when it published none).
    pub fn rack(&self, namespace: &str) -> u32 {
        self.racks
            .iter()
            .find(|(ns, _)| ns == namespace)
            .map_or(0, |&(_, r)| r)
    }
}

/// A running membership service.
pub struct Membership {
    _handle: ChitchatHandle,
    /// The settled member list, sorted by node id, self included.
    pub settled: watch::Receiver<Vec<Member>>,
}

impl std::fmt::Debug for Membership {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Membership").finish_non_exhaustive()
    }
}

/// What a node publishes about itself.
#[derive(Debug, Clone)]
pub struct SelfInfo {
    pub node_id: u64,
    pub service: String,
    pub fabric: String,
    pub racks: Vec<(String, u32)>,
    pub cluster_name: String,
}

/// Publishes `advertise` unless the bind address is "any", which is not dialable.
pub fn dialable(addr: &str, port: u16) -> Result<SocketAddr, String> {
    let ip: IpAddr = addr
        .parse()
        .map_err(|_| format!("'{addr}' is not an IP address"))?;
    let ip = if ip.is_unspecified() {
        IpAddr::V4(Ipv4Addr::LOCALHOST)
    } else {
        ip
    };
    Ok(SocketAddr::new(ip, port))
}

/// Starts gossip on the heartbeat port with the configured mesh seeds.
pub async fn start(
    hb: &HeartbeatConfig,
    me: &SelfInfo,
    quiet: Duration,
) -> Result<Membership, String> {
    let listen: SocketAddr = format!("{}:{}", hb.address, hb.port)
        .parse()
        .map_err(|e| format!("heartbeat address {}:{}: {e}", hb.address, hb.port))?;
    let advertise = dialable(&hb.address, hb.port)?;
    // A restarted node is a new incarnation: chitchat tells them apart by this number.
    let incarnation = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0);
    let interval = Duration::from_millis(u64::from(hb.interval_ms));
    let config = ChitchatConfig {
        chitchat_id: ChitchatId::new(format!("{:X}", me.node_id), incarnation, advertise),
        cluster_id: me.cluster_name.clone(),
        gossip_interval: interval,
        listen_addr: listen,
        seed_nodes: hb
            .mesh_seeds
            .iter()
            .map(|(h, p)| format!("{h}:{p}"))
            .collect(),
        failure_detector_config: FailureDetectorConfig {
            phi_threshold: 8.0,
            sampling_window_size: 1000,
            max_interval: interval * hb.timeout.max(3),
            initial_interval: interval,
            dead_node_grace_period: Duration::from_secs(3600),
        },
        marked_for_deletion_grace_period: Duration::from_secs(3600),
        catchup_callback: None,
        extra_liveness_predicate: Some(Box::new(|s: &NodeState| {
            s.get(KEY_SERVICE).is_some() && s.get(KEY_FABRIC).is_some()
        })),
        protocol_version: ProtocolVersion::V0,
    };
    let mut initial = vec![
        (KEY_SERVICE.to_owned(), me.service.clone()),
        (KEY_FABRIC.to_owned(), me.fabric.clone()),
    ];
    initial.extend(
        me.racks
            .iter()
            .map(|(ns, rack)| (format!("{KEY_RACK_PREFIX}{ns}"), rack.to_string())),
    );
    let handle = spawn_chitchat(config, initial, &UdpTransport)
        .await
        .map_err(|e| format!("cannot start heartbeat on {listen}: {e}"))?;
    let live = handle.chitchat().lock().await.live_nodes_watcher();
    let me_member = Member {
        node_id: me.node_id,
        service: me.service.clone(),
        fabric: me.fabric.clone(),
        racks: sorted(me.racks.clone()),
    };
    // Empty until the first list settles: even a node that finds no peer waits for the
    // quiet period before it claims any partition.
    let (tx, settled) = watch::channel(Vec::new());
    tokio::spawn(settle(live, tx, me_member, quiet));
    Ok(Membership {
        _handle: handle,
        settled,
    })
}

/// The member list a live-node map describes: one entry per node id (its newest incarnation).
fn members_of(live: &BTreeMap<ChitchatId, NodeState>, me: &Member) -> Vec<Member> {
    let mut by_id: BTreeMap<u64, (u64, Member)> = BTreeMap::new();
    by_id.insert(me.node_id, (u64::MAX, me.clone()));
    for (id, state) in live {
        let Ok(node_id) = u64::from_str_radix(&id.node_id, 16) else {
            continue;
        };
        let (Some(service), Some(fabric)) = (state.get(KEY_SERVICE), state.get(KEY_FABRIC)) else {
            continue;
        };
        let racks = state
            .key_values()
            .filter_map(|(k, v)| {
                let ns = k.strip_prefix(KEY_RACK_PREFIX)?;
                Some((ns.to_owned(), v.parse().ok()?))
            })
            .collect();
        let m = Member {
            node_id,
            service: service.to_owned(),
            fabric: fabric.to_owned(),
            racks: sorted(racks),
        };
        match by_id.get(&node_id) {
            Some((gen, _)) if *gen >= id.generation_id => {}
            _ => {
                by_id.insert(node_id, (id.generation_id, m));
            }
        }
    }
    by_id.into_values().map(|(_, m)| m).collect()
}

fn sorted(mut racks: Vec<(String, u32)>) -> Vec<(String, u32)> {
    racks.sort();
    racks
}

/// Publishes a member list once it has not changed for `quiet`.
async fn settle(
    mut live: watch::Receiver<BTreeMap<ChitchatId, NodeState>>,
    tx: watch::Sender<Vec<Member>>,
    me: Member,
    quiet: Duration,
) {
    loop {
        let candidate = members_of(&live.borrow_and_update(), &me);
        if candidate != *tx.borrow() {
            tokio::select! {
                r = live.changed() => {
                    if r.is_err() {
                        return;
                    }
                    // Changed again (maybe only a heartbeat or a key): look at it afresh.
                    continue;
                }
                () = tokio::time::sleep(quiet) => {
                    tracing::info!(
                        size = candidate.len(),
                        members = ?candidate.iter().map(|m| format!("{:X}", m.node_id)).collect::<Vec<_>>(),
                        "cluster membership settled"
                    );
                    if tx.send(candidate).is_err() {
                        return;
                    }
                }
            }
        } else if live.changed().await.is_err() {
            return;
        }
    }
}
