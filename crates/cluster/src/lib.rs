//! Clustering in Aerospike's available-under-partition (AP) mode.
//!
//! **Owns:** membership (chitchat gossip on the heartbeat port, see [`membership`]), the
//! per-namespace partition map computed from the member list ([`placement`]), the fabric
//! between nodes ([`fabric`]): proxying requests to a partition's master, synchronous
//! replication of writes to the replicas, and migrations of partitions to new owners
//! ([`migrate`]) with newest-wins merging ([`image`]).
//!
//! **Does not own:** what a command does to a record (the transaction crate) nor the info
//! answers' formats (the info crate reads [`Cluster`]'s state).
//!
//! Clustering runs when the `heartbeat` stanza lists at least one `mesh-seed-address-port`;
//! otherwise the node is a one-node cluster and nothing here touches the request path.

mod batch;
pub mod fabric;
pub mod image;
pub mod membership;
mod migrate;
pub mod placement;
mod route;
pub mod sim;
pub mod smd;

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use aerie_config::Config;
use aerie_namespace::{NodeId, Registry};
use parking_lot::RwLock;
use tokio::net::TcpListener;

pub use membership::Member;

/// Cluster counters, shown in `statistics`.
#[derive(Debug, Default)]
pub struct ClusterStats {
    /// Requests this node forwarded to a partition's master.
    pub proxy_initiated: AtomicU64,
    /// Forwarded requests that failed (the master was unreachable).
    pub proxy_errors: AtomicU64,
    /// Record images shipped to replicas.
    pub replica_writes_sent: AtomicU64,
    /// Replica writes that a replica did not acknowledge.
    pub replica_write_errors: AtomicU64,
    /// Record images applied as a replica.
    pub replica_writes_applied: AtomicU64,
    /// Partitions this node still has to send to new owners.
    pub migrate_partitions_remaining: AtomicU64,
    /// Partitions filled from their previous owners since start.
    pub migrate_partitions_received: AtomicU64,
    pub migrate_records_sent: AtomicU64,
    pub migrate_records_received: AtomicU64,
    /// Received records that were older than the node's own copy.
    pub migrate_records_skipped: AtomicU64,
    /// Partitions (and their records) removed here once their owners had filled them.
    pub migrate_partitions_dropped: AtomicU64,
    pub migrate_records_dropped: AtomicU64,
    /// Membership changes acted on.
    pub cluster_changes: AtomicU64,
}

/// The member list a node acts on, with what is derived from it.
#[derive(Debug, Clone)]
pub struct View {
    /// Sorted by node id, this node included.
    pub members: Vec<Member>,
    /// Derived from the member list, so every node of a settled cluster shows the same key.
    pub key: u64,
}

impl View {
    fn of(members: Vec<Member>) -> Self {
        let key = members
            .iter()
            .fold(0x5EED_u64, |k, m| placement_mix(k ^ m.node_id));
        View { members, key }
    }

    /// The members with their racks in `namespace`, as placement takes them.
    pub fn placement_nodes(&self, namespace: &str) -> Vec<placement::Node> {
        self.members
            .iter()
            .map(|m| placement::Node {
                id: m.node_id,
                rack: m.rack(namespace),
            })
            .collect()
    }

    /// The fabric address of `node`.
    pub fn fabric_of(&self, node: NodeId) -> Option<&str> {
        self.members
            .iter()
            .find(|m| m.node_id == node)
            .map(|m| m.fabric.as_str())
    }
}

fn placement_mix(z: u64) -> u64 {
    let z = (z ^ (z >> 33)).wrapping_mul(0xFF51_AFD7_ED55_8CCD);
    let z = (z ^ (z >> 33)).wrapping_mul(0xC4CE_B9FE_1A85_EC53);
    z ^ (z >> 33)
}

/// This node's view of the cluster.
#[derive(Debug)]
pub struct Cluster {
    pub node_id: NodeId,
    /// Whether clustering runs at all (seeds configured).
    pub enabled: bool,
    /// True while the node is alone: the request path then skips every cluster step.
    alone: AtomicBool,
    view: RwLock<Arc<View>>,
    /// Bumped on every member-list change (`peers-generation`).
    peers_generation: AtomicU64,
    /// Bumped on every partition-map change (`partition-generation`).
    partition_generation: AtomicU64,
    pub stats: ClusterStats,
    registry: Arc<Registry>,
    fabric: fabric::FabricClient,
    /// Bumped per map change; running migrations stop when it moves on.
    migration_round: AtomicU64,
    migrate_max_partitions: usize,
    /// Per namespace name: partitions still filling here.
    fill: HashMap<Vec<u8>, Arc<migrate::FillState>>,
    /// System metadata log (index definitions, UDF modules, truncates).
    smd: smd::Smd,
}

/// Partitions migrated at once per node.
pub const MIGRATE_CONCURRENCY: usize = 4;

impl Cluster {
    fn new(
        node_id: NodeId,
        enabled: bool,
        me: Member,
        registry: Arc<Registry>,
        fabric: fabric::FabricClient,
    ) -> Self {
        Cluster {
            node_id,
            enabled,
            alone: AtomicBool::new(true),
            view: RwLock::new(Arc::new(View::of(vec![me]))),
            peers_generation: AtomicU64::new(1),
            partition_generation: AtomicU64::new(1),
            stats: ClusterStats::default(),
            fabric,
            migration_round: AtomicU64::new(0),
            migrate_max_partitions: MIGRATE_CONCURRENCY,
            fill: registry
                .iter()
                .map(|ns| (ns.name.as_bytes().to_vec(), Arc::default()))
                .collect(),
            smd: smd::Smd::default(),
            registry,
        }
    }

    /// A one-node cluster: no heartbeat, no fabric.
    pub fn single(node_id: NodeId, service: String, registry: Arc<Registry>) -> Arc<Self> {
        let me = Member {
            node_id,
            service,
            fabric: String::new(),
            racks: own_racks(&registry),
        };
        Arc::new(Self::new(
            node_id,
            false,
            me,
            registry,
            fabric::FabricClient::default(),
        ))
    }

    /// Starts the fabric listener and membership when seeds are configured; otherwise
    /// returns a one-node cluster.
    pub async fn start(
        config: &Config,
        node_id: NodeId,
        service: String,
        registry: Arc<Registry>,
    ) -> Result<Arc<Self>, String> {
        let hb = &config.network.heartbeat;
        if hb.mesh_seeds.is_empty() {
            return Ok(Self::single(node_id, service, registry));
        }
        if hb.mode != aerie_config::HeartbeatMode::Mesh {
            return Err("heartbeat mode multicast is not supported; use mode mesh".to_owned());
        }
        let fab = &config.network.fabric;
        let listener = TcpListener::bind((fab.address.as_str(), fab.port))
            .await
            .map_err(|e| {
                format!(
                    "cannot listen for fabric on {}:{}: {e}",
                    fab.address, fab.port
                )
            })?;
        let fabric_port = listener.local_addr().map_err(|e| e.to_string())?.port();
        let fabric_addr = match &fab.access_address {
            Some(a) => format!("{a}:{fabric_port}"),
            None => membership::dialable(&fab.address, fabric_port)?.to_string(),
        };
        let me = Member {
            node_id,
            service: service.clone(),
            fabric: fabric_addr.clone(),
            racks: own_racks(&registry),
        };
        let local_ip = fab
            .address
            .parse::<std::net::IpAddr>()
            .ok()
            .filter(|ip| !ip.is_unspecified());
        let client = fabric::FabricClient::new(local_ip);
        // A clustered node claims no partition until its first member list settles, so
        // clients do not send it writes that its cluster would not know about.
        for ns in registry.iter() {
            ns.set_ownership(aerie_namespace::OwnershipTable {
                regime: 0,
                n_replicas: 1,
                owners: vec![Vec::new(); aerie_record::N_PARTITIONS],
            });
        }
        let cluster = Arc::new(Self::new(node_id, true, me, registry, client));
        tokio::spawn(route::serve_fabric(listener, cluster.clone()));
        let info = membership::SelfInfo {
            node_id,
            service,
            fabric: fabric_addr,
            racks: own_racks(&cluster.registry),
            cluster_name: config
                .service
                .cluster_name
                .clone()
                .unwrap_or_else(|| "aerie".to_owned()),
        };
        // Aerospike settles a new member list over a few heartbeat intervals.
        let quiet = Duration::from_millis(u64::from(hb.interval_ms) * QUIET_INTERVALS);
        let membership = membership::start(hb, &info, quiet).await?;
        tracing::info!(
            node = %format!("{node_id:X}"),
            heartbeat = %format!("{}:{}", hb.address, hb.port),
            fabric = %info.fabric,
            seeds = hb.mesh_seeds.len(),
            "clustering on"
        );
        tokio::spawn(follow(cluster.clone(), membership));
        tokio::spawn(migrate::balance(cluster.clone()));
        Ok(cluster)
    }

    /// The current view.
    pub fn view(&self) -> Arc<View> {
        self.view.read().clone()
    }

    /// Members in the current view.
    pub fn size(&self) -> usize {
        self.view.read().members.len()
    }

    /// The cluster key as clients print it.
    pub fn key_hex(&self) -> String {
        format!("{:X}", self.view.read().key)
    }

    pub fn peers_generation(&self) -> u64 {
        self.peers_generation.load(Ordering::Relaxed)
    }

    pub fn partition_generation(&self) -> u64 {
        self.partition_generation.load(Ordering::Relaxed)
    }

    /// Whether the node acts on a settled member list (always, without clustering).
    pub fn is_settled(&self) -> bool {
        !self.enabled || self.stats.cluster_changes.load(Ordering::Relaxed) > 0
    }

    /// Whether the node is alone (no peers in its view).
    #[inline]
    pub fn is_alone(&self) -> bool {
        self.alone.load(Ordering::Relaxed)
    }

    /// Acts on a settled member list: new view, new partition maps, migrations.
    fn install(self: &Arc<Self>, members: Vec<Member>) {
        let n_members = members.len();
        let view = View::of(members);
        // A node that was alone held the whole map itself; what it must fill comes from the
        // map the others had without it.
        let was_alone = self.is_alone();
        let mut changes = Vec::new();
        for ns in self.registry.iter() {
            let current = ns.ownership();
            let policy = placement_policy(&ns.config);
            let nodes = view.placement_nodes(&ns.name);
            let new = placement::table(&nodes, &policy, current.regime.wrapping_add(1));
            let others: Vec<placement::Node> = nodes
                .iter()
                .copied()
                .filter(|n| n.id != self.node_id)
                .collect();
            let old = if was_alone && !others.is_empty() {
                Arc::new(placement::table(&others, &policy, current.regime))
            } else {
                current
            };
            changes.push((ns.clone(), old, Arc::new(new.clone())));
            ns.set_ownership(new);
        }
        self.fabric.retain(
            &view
                .members
                .iter()
                .map(|m| m.fabric.clone())
                .collect::<Vec<_>>(),
        );
        let view = Arc::new(view);
        // Fill flags first, then the view: a peer that sees the new cluster key in a
        // fill-status answer sees this node's fills too (see `balance`).
        let old_view = self.view();
        migrate::start(self.clone(), &old_view, view.clone(), changes);
        // Nodes that joined get the system metadata this node knows.
        for m in &view.members {
            if m.node_id != self.node_id && !old_view.members.iter().any(|o| o.node_id == m.node_id)
            {
                self.send_smd_log(m.fabric.clone());
            }
        }
        self.alone.store(n_members <= 1, Ordering::Relaxed);
        *self.view.write() = view;
        self.peers_generation.fetch_add(1, Ordering::Relaxed);
        self.partition_generation.fetch_add(1, Ordering::Relaxed);
        self.stats.cluster_changes.fetch_add(1, Ordering::Relaxed);
    }
}

/// This node's rack per namespace, as it publishes them.
fn own_racks(registry: &Registry) -> Vec<(String, u32)> {
    registry
        .iter()
        .map(|ns| (ns.name.clone(), ns.config.racks.rack_id))
        .collect()
}

/// A namespace's placement parameters from its configuration.
pub fn placement_policy(config: &aerie_config::NamespaceConfig) -> placement::Policy {
    placement::Policy {
        replication_factor: usize::from(config.replication_factor),
        prefer_uniform_balance: config.racks.prefer_uniform_balance,
        active_rack: config.racks.active_rack,
    }
}

/// Heartbeat intervals a member list must stay unchanged before the node acts on it.
pub const QUIET_INTERVALS: u64 = 4;

/// Installs every settled member list.
async fn follow(cluster: Arc<Cluster>, mut membership: membership::Membership) {
    loop {
        if membership.settled.changed().await.is_err() {
            return;
        }
        let members = membership.settled.borrow_and_update().clone();
        cluster.install(members);
    }
}
