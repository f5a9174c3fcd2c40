//! The typed configuration: what the rest of Aerie reads.
//!
//! Field names follow Aerospike's parameter names (`proto-fd-max` → `proto_fd_max`) with units added
//! where the name lacks them (`default-ttl` → `default_ttl_secs`). Defaults are Aerospike's unless a
//! comment says otherwise. `Config::default()` is the zero-config setup used when no file is given.

/// Highest TTL Aerospike accepts for `default-ttl` / `max-ttl`: ten 365-day years
/// (`MAX_ALLOWED_TTL` in `as/include/base/datamodel.h`).
pub const MAX_ALLOWED_TTL_SECS: u64 = 3600 * 24 * 365 * 10;

/// The whole server configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    pub service: ServiceConfig,
    pub logging: LoggingConfig,
    pub network: NetworkConfig,
    /// In file order. Never empty after parsing; at most [`crate::MAX_NAMESPACES`].
    pub namespaces: Vec<NamespaceConfig>,
    /// `mod-lua { }`: where UDF modules are kept.
    pub mod_lua: crate::ModLuaConfig,
    /// `security { }`: `None` (no stanza) means security is off.
    pub security: Option<crate::SecurityConfig>,
    /// One line per parameter or stanza that was accepted but has no effect in Aerie yet, formatted
    /// `FILE:LINE: parameter 'x' is accepted but not used`. The server should log each at startup.
    /// The full list lives in `unused.rs`.
    pub warnings: Vec<String>,
}

impl Default for Config {
    /// The zero-config setup: one node listening on 127.0.0.1 only, namespace `test` in memory.
    ///
    /// Departs from a parsed file in two places, both so that `aerie` with no arguments is safe and
    /// useful on a laptop: every listener binds 127.0.0.1 (a file that omits `address` binds all
    /// interfaces, as Aerospike does), and namespace `test` gets `nsup-period 120` so that client
    /// writes with a TTL are accepted (Aerospike's default `nsup-period 0` refuses them unless
    /// `allow-ttl-without-nsup true`).
    fn default() -> Self {
        let mut test = NamespaceConfig::new("test");
        test.nsup_period_secs = 120;
        Config {
            service: ServiceConfig::default(),
            logging: LoggingConfig::default(),
            network: NetworkConfig::default(),
            namespaces: vec![test],
            mod_lua: crate::ModLuaConfig::default(),
            security: None,
            warnings: Vec::new(),
        }
    }
}

impl Config {
    /// The namespace called `name`, if configured.
    pub fn namespace(&self, name: &str) -> Option<&NamespaceConfig> {
        self.namespaces.iter().find(|ns| ns.name == name)
    }
}

// ---------------------------------------------------------------------------------------------
// service { }
// ---------------------------------------------------------------------------------------------

/// The `service` stanza: process-wide knobs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceConfig {
    /// `cluster-name`: nodes refuse to cluster with a node whose name differs. `None` = unset.
    pub cluster_name: Option<String>,
    /// `node-id`, written in hex in the file (`node-id A1`). `None` = derive one at startup.
    pub node_id: Option<u64>,
    /// `proto-fd-max`: maximum open client connections.
    pub proto_fd_max: u32,
    /// `service-threads`. `None` = pick from the CPU count at startup.
    pub service_threads: Option<u32>,
    /// `transaction-max-ms`: a transaction older than this is failed with a timeout.
    pub transaction_max_ms: u32,
    /// `ticker-interval`: seconds between ticker blocks in the log (Aerospike's default 10;
    /// 0 ticks every second, as Aerospike's once-a-second ticker loop then does).
    pub ticker_interval_secs: u32,
    /// `microsecond-histograms`: `latencies:` in microseconds (`usec`) instead of `msec`.
    pub microsecond_histograms: bool,
}

impl Default for ServiceConfig {
    fn default() -> Self {
        ServiceConfig {
            cluster_name: None,
            node_id: None,
            proto_fd_max: 15_000,
            service_threads: None,
            transaction_max_ms: 1_000,
            ticker_interval_secs: 10,
            microsecond_histograms: false,
        }
    }
}

// ---------------------------------------------------------------------------------------------
// logging { }
// ---------------------------------------------------------------------------------------------

/// The `logging` stanza.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoggingConfig {
    /// Default: one console sink at `any info`. A `logging` stanza in a file replaces the default.
    pub sinks: Vec<LogSink>,
}

impl Default for LoggingConfig {
    fn default() -> Self {
        LoggingConfig {
            sinks: vec![LogSink {
                target: LogTarget::Console,
                contexts: vec![("any".to_owned(), "info".to_owned())],
            }],
        }
    }
}

/// One `console { }` or `file PATH { }` sub-stanza.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogSink {
    pub target: LogTarget,
    /// `context NAME LEVEL` lines in file order, e.g. `("any", "info")`. The level is lower-cased and
    /// is one of `critical`, `warning`, `info`, `debug`, `detail`. The context name is not checked:
    /// Aerie's log contexts are not Aerospike's, so the logging setup decides what a name means.
    pub contexts: Vec<(String, String)>,
}

/// Where a [`LogSink`] writes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LogTarget {
    Console,
    /// The path exactly as written in the file.
    File(String),
}

// ---------------------------------------------------------------------------------------------
// network { }
// ---------------------------------------------------------------------------------------------

/// The `network` stanza.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NetworkConfig {
    /// `network { service { } }`: the client port (Aerospike 3000).
    pub service: Endpoint,
    /// `network { fabric { } }`: node-to-node records and migrations (3001).
    pub fabric: Endpoint,
    /// `network { info { } }`: the info-only port (3003). `None` unless the stanza is present;
    /// info commands are always served on the service port too.
    pub info: Option<Endpoint>,
    /// `network { admin { } }` (Aerospike 8.1): a second client-protocol port for operators and
    /// tools, outside `proto-fd-max`. `None` unless the stanza is present; a port of 0 opens none.
    pub admin: Option<Endpoint>,
    pub heartbeat: HeartbeatConfig,
    /// Aerie extension, `network { http { } }`: an HTTP endpoint. Not an Aerospike stanza.
    pub http: HttpConfig,
}

impl Default for NetworkConfig {
    fn default() -> Self {
        NetworkConfig {
            service: Endpoint::localhost(3000),
            fabric: Endpoint::localhost(3001),
            info: None,
            admin: None,
            heartbeat: HeartbeatConfig::default(),
            http: HttpConfig::default(),
        }
    }
}

/// A listening socket plus what the node tells others to dial.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoint {
    /// Bind address. Aerospike's `address any` is stored as `0.0.0.0`; anything else (an IP or a
    /// host name) is kept as written.
    pub address: String,
    pub port: u16,
    /// `access-address`: the address published to clients/peers when it differs from `address`
    /// (NAT, containers). `None` = publish the bind address.
    pub access_address: Option<String>,
}

impl Endpoint {
    /// Bind address meaning "all interfaces", what Aerospike calls `any`.
    pub const ANY_ADDRESS: &'static str = "0.0.0.0";
    /// Bind address of the zero-config setup.
    pub const LOCALHOST: &'static str = "127.0.0.1";

    /// An endpoint on 127.0.0.1 with no access address.
    pub fn localhost(port: u16) -> Self {
        Endpoint {
            address: Self::LOCALHOST.to_owned(),
            port,
            access_address: None,
        }
    }
}

/// `network { heartbeat { } }`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HeartbeatConfig {
    pub mode: HeartbeatMode,
    /// Bind address of the heartbeat listener.
    pub address: String,
    /// Aerospike 3002 for mesh.
    pub port: u16,
    /// `mesh-seed-address-port HOST PORT` lines, in file order. Empty = a one-node cluster until a
    /// peer dials in.
    pub mesh_seeds: Vec<(String, u16)>,
    /// `interval`: milliseconds between heartbeats, 50..=600000.
    pub interval_ms: u32,
    /// `timeout`: missed intervals before a peer is declared gone (so the unit is intervals, not ms).
    pub timeout: u32,
}

impl Default for HeartbeatConfig {
    fn default() -> Self {
        HeartbeatConfig {
            mode: HeartbeatMode::Mesh,
            address: Endpoint::LOCALHOST.to_owned(),
            port: 3002,
            mesh_seeds: Vec::new(),
            interval_ms: 150,
            timeout: 10,
        }
    }
}

/// `heartbeat { mode ... }`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HeartbeatMode {
    Mesh,
    /// Parsed so Aerospike files load; whether Aerie implements it is the fabric crate's business.
    Multicast,
}

/// Aerie's HTTP endpoint (`network { http { enabled BOOL address ADDR port PORT } }`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpConfig {
    pub enabled: bool,
    /// Defaults to 127.0.0.1 even when a file is parsed: this is not an Aerospike listener, so an
    /// Aerospike file that omits it should not open a new port to the network.
    pub address: String,
    pub port: u16,
    /// Whether the operator asked for this endpoint (an `http` stanza, or a port on the command
    /// line). When not, the port is only a default: several nodes on one host all default to it,
    /// so the server treats a taken default port as a warning rather than a reason to stop.
    pub requested: bool,
}

impl Default for HttpConfig {
    fn default() -> Self {
        HttpConfig {
            enabled: true,
            address: Endpoint::LOCALHOST.to_owned(),
            port: 8080,
            requested: false,
        }
    }
}

// ---------------------------------------------------------------------------------------------
// namespace NAME { }
// ---------------------------------------------------------------------------------------------

/// One `namespace NAME { }` stanza.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NamespaceConfig {
    /// 1..=31 bytes, no `:` or `;` (they delimit info-protocol replies).
    pub name: String,
    /// 1..=255. A cluster with fewer nodes keeps as many copies as it has nodes.
    pub replication_factor: u8,
    /// TTL given to writes that do not send one. 0 = never expire.
    pub default_ttl_secs: u64,
    /// Largest TTL a client may send. At most [`MAX_ALLOWED_TTL_SECS`] (its default).
    pub max_ttl_secs: u64,
    /// How often nsup (expiry/eviction) runs. 0 = never; then any write with a TTL is refused unless
    /// `allow_ttl_without_nsup`, and a file with a non-zero `default-ttl` is rejected.
    pub nsup_period_secs: u32,
    /// `allow-ttl-without-nsup`: accept TTLs even though nothing will expire the records.
    pub allow_ttl_without_nsup: bool,
    /// `max-record-size`: writes larger than this fail with RECORD_TOO_BIG. Default 1 MiB, or the
    /// write-block size if a device namespace's block is smaller; an explicit value above a device
    /// namespace's write-block size is rejected. 0 = no cap other than the write-block size.
    pub max_record_size_bytes: u64,
    /// `stop-writes-used-pct` (0..=100): refuse writes when storage use passes this percentage.
    /// Accepted both in the namespace stanza and in its storage-engine stanza (Aerospike 7+).
    pub stop_writes_used_pct: u8,
    /// `evict-used-pct` (0..=100, 0 = eviction off). Also accepted in the storage-engine stanza.
    pub evict_used_pct: u8,
    /// `evict-tenths-pct`: share of eligible records nsup evicts per round, in tenths of a percent.
    pub evict_tenths_pct: u32,
    pub storage: StorageEngineConfig,
    /// Rack awareness (see `docs/cluster.md`): `rack-id`, `prefer-uniform-balance`,
    /// `active-rack`.
    pub racks: RackConfig,
    /// `set NAME { }` stanzas, in file order. Sets not listed here still exist once written.
    pub sets: Vec<SetConfig>,
}

impl NamespaceConfig {
    /// A namespace with Aerospike's defaults and `storage-engine memory` (no size limit, no files).
    /// Note `nsup_period_secs` is 0 here, as in Aerospike; `Config::default()` overrides it.
    pub fn new(name: impl Into<String>) -> Self {
        NamespaceConfig {
            name: name.into(),
            replication_factor: 2,
            default_ttl_secs: 0,
            max_ttl_secs: MAX_ALLOWED_TTL_SECS,
            nsup_period_secs: 0,
            allow_ttl_without_nsup: false,
            max_record_size_bytes: 1024 * 1024,
            stop_writes_used_pct: 70,
            evict_used_pct: 0,
            evict_tenths_pct: 5,
            storage: StorageEngineConfig::Memory(MemoryStorageConfig::default()),
            racks: RackConfig::default(),
            sets: Vec::new(),
        }
    }

    /// The set called `name`, if it has a `set` stanza.
    pub fn set(&self, name: &str) -> Option<&SetConfig> {
        self.sets.iter().find(|set| set.name == name)
    }
}

/// Largest `rack-id` (and `active-rack`), Aerospike's `MAX_RACK_ID`.
pub const MAX_RACK_ID: u32 = 1_000_000;

/// A namespace's rack parameters. Every node of a cluster must agree on
/// `prefer_uniform_balance` and `active_rack`; `rack_id` is the node's own.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RackConfig {
    /// `rack-id` (0..=[`MAX_RACK_ID`]): the rack this node holds the namespace on. Replicas of a
    /// partition go to distinct racks whenever the cluster has that many racks. Default 0.
    pub rack_id: u32,
    /// `prefer-uniform-balance`: give every node the same number of partitions per replica
    /// position (within one), at the cost of a little more migration on membership changes.
    pub prefer_uniform_balance: bool,
    /// `active-rack` (0 = off): every master partition is placed on a node of this rack while
    /// the cluster has one.
    pub active_rack: u32,
}

/// `storage-engine memory` or `storage-engine device { }`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StorageEngineConfig {
    Memory(MemoryStorageConfig),
    Device(DeviceStorageConfig),
}

/// `storage-engine memory [{ }]`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MemoryStorageConfig {
    /// `data-size` (Aerospike 7+), or the namespace's `memory-size` (6.x) when `data-size` is absent.
    /// `None` = bounded only by the machine.
    pub data_size_bytes: Option<u64>,
    /// `file PATH` lines: optional persistence of the in-memory data.
    pub files: Vec<String>,
    /// `filesize`: required when `files` is non-empty.
    pub filesize_bytes: Option<u64>,
}

/// `storage-engine device { }`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeviceStorageConfig {
    /// `file PATH` lines, in file order.
    pub files: Vec<String>,
    /// `device PATH` lines (raw block devices), in file order.
    pub devices: Vec<String>,
    /// `filesize`: size of each file. Parsing guarantees it is non-zero when `files` is non-empty,
    /// at least one write block and at most 2 TiB.
    pub filesize_bytes: u64,
    /// `write-block-size`: a power of two, 1 KiB..=8 MiB.
    pub write_block_size_bytes: u64,
    /// `flush-max-ms`: longest a partly filled write block waits before it is flushed.
    pub flush_max_ms: u64,
    /// `commit-to-device`: flush each write before acknowledging it.
    pub commit_to_device: bool,
    /// `defrag-lwm-pct` (1..=99): blocks less full than this are defragmented.
    pub defrag_lwm_pct: u8,
    /// `defrag-sleep`: microseconds to sleep after each defragmented block.
    pub defrag_sleep_us: u32,
    /// `max-write-cache`: write blocks queued for flushing, in bytes, before writes are refused.
    pub max_write_cache_bytes: u64,
}

impl Default for DeviceStorageConfig {
    fn default() -> Self {
        DeviceStorageConfig {
            files: Vec::new(),
            devices: Vec::new(),
            filesize_bytes: 0,
            write_block_size_bytes: 1024 * 1024,
            flush_max_ms: 1_000,
            commit_to_device: false,
            defrag_lwm_pct: 50,
            defrag_sleep_us: 1_000,
            max_write_cache_bytes: 64 * 1024 * 1024,
        }
    }
}

/// `set NAME { }` inside a namespace.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SetConfig {
    /// 1..=63 bytes, no `:` or `;`.
    pub name: String,
    /// `None` = use the namespace's default TTL (Aerospike's `default-ttl 0`); `Some(0)` = never
    /// expire (Aerospike's `default-ttl -1`); otherwise the set's own default TTL.
    pub default_ttl_secs: Option<u64>,
    /// `disable-eviction` (5.x spelling: `set-disable-eviction`).
    pub disable_eviction: bool,
    /// `stop-writes-count` (5.x: `set-stop-writes-count`): refuse new records once the set holds
    /// this many. 0 = no limit.
    pub stop_writes_count: u64,
}

impl SetConfig {
    /// A set with no overrides.
    pub fn new(name: impl Into<String>) -> Self {
        SetConfig {
            name: name.into(),
            default_ttl_secs: None,
            disable_eviction: false,
            stop_writes_count: 0,
        }
    }
}
