//! Aerospike parameters and stanzas that Aerie accepts but does not act on (yet).
//!
//! Each hit adds `FILE:LINE: parameter 'x' is accepted but not used` to [`crate::Config::warnings`]
//! instead of failing, so a real `aerospike.conf` loads. The lists are explicit on purpose: anything
//! not listed (and not implemented) is an error.
//!
//! Policy: a name goes on a list only if ignoring it cannot weaken what the operator asked for in
//! durability, security or data meaning. Tuning knobs, thread counts, histograms, TLS *listeners*
//! (Aerie opens no TLS port, so nothing is exposed) and process management qualify. These are left
//! off on purpose and therefore fail loudly:
//! - `strong-consistency`, `conflict-resolution-policy`: change which write wins (accepted at
//!   Aerospike's default only, see [`DEFAULT_ONLY`]);
//! - `single-bin`: changes what a record is;
//! - `encryption`, `encryption-key-file`: the operator expects data or access protected;
//! - `commit-to-device` in `storage-engine memory`, `cold-start-empty`: durability/restart semantics;
//! - `disable-udf-execution`: a safety switch;
//! - `xdr { }`: the operator expects replication to another cluster.
//!
//! Some of those are accepted at the one value that matches what Aerie does ([`DEFAULT_ONLY`]),
//! so a file that spells out Aerospike's default loads while any other value is refused.
//!
//! When a parameter gets implemented, move it out of these lists and into `parse.rs`/`namespace.rs`.

use crate::error::Section;

/// `service { }`.
pub(crate) const SERVICE: &[&str] = &[
    "advertise-ipv6",
    "auto-pin",
    "batch-index-threads",
    "batch-max-buffers-per-queue",
    "batch-max-requests",
    "batch-max-unused-buffers",
    "cgroup-mem-tracking",
    "debug-allocations",
    "enable-benchmarks-fabric",
    "enable-health-check",
    "enable-hist-info",
    "enforce-best-practices",
    "feature-key-file",
    "feature-key-files",
    "group",
    "indent-allocations",
    "info-max-ms",
    "info-threads",
    "keep-caps-ssd-health",
    "log-local-time",
    "log-millis",
    "migrate-fill-delay",
    "migrate-max-num-incoming",
    "migrate-threads",
    "min-cluster-size",
    "node-id-interface",
    "os-group-perms",
    "paxos-single-replica-limit",
    "pidfile",
    "poison-allocations",
    "proto-fd-idle-ms",
    "quarantine-allocations",
    "query-max-done",
    "query-threads-limit",
    "run-as-daemon",
    "secrets-address-port",
    "secrets-tls-context",
    "secrets-uds-path",
    "sindex-builder-threads",
    "sindex-gc-period",
    "tls-refresh-period",
    "transaction-queues",
    "transaction-retry-ms",
    "transaction-threads-per-queue",
    "user",
    "vault-ca",
    "vault-namespace",
    "vault-path",
    "vault-token-file",
    "vault-url",
    "work-directory",
];

/// `network { service { } }`. TLS and alternate-access variants only: Aerie serves plain TCP.
pub(crate) const NETWORK_SERVICE: &[&str] = &[
    "access-port",
    "alternate-access-address",
    "alternate-access-port",
    "disable-localhost",
    "tls-access-address",
    "tls-access-port",
    "tls-address",
    "tls-alternate-access-address",
    "tls-alternate-access-port",
    "tls-authenticate-client",
    "tls-name",
    "tls-port",
];

/// `network { heartbeat { } }`.
pub(crate) const HEARTBEAT: &[&str] = &[
    "connect-timeout-ms",
    "mtu",
    "multicast-group",
    "multicast-ttl",
    "protocol",
    "tls-address",
    "tls-mesh-seed-address-port",
    "tls-name",
    "tls-port",
];

/// `network { fabric { } }`.
pub(crate) const FABRIC: &[&str] = &[
    "channel-bulk-fds",
    "channel-bulk-recv-threads",
    "channel-ctrl-fds",
    "channel-ctrl-recv-threads",
    "channel-meta-fds",
    "channel-meta-recv-threads",
    "channel-rw-fds",
    "channel-rw-recv-pools",
    "channel-rw-recv-threads",
    "keepalive-enabled",
    "keepalive-intvl",
    "keepalive-probes",
    "keepalive-time",
    "latency-max-ms",
    "recv-rearm-threshold",
    "send-threads",
    "tls-address",
    "tls-name",
    "tls-port",
];

/// `network { admin { } }`. TLS variants only (Aerie serves plain TCP), and `disable-localhost`.
pub(crate) const ADMIN: &[&str] = &[
    "disable-localhost",
    "tls-address",
    "tls-authenticate-client",
    "tls-name",
    "tls-port",
];

/// `network { info { } }`.
pub(crate) const INFO: &[&str] = &[];

/// `namespace NAME { }`. (`memory-size` is not here: it maps to `data-size`, see `namespace.rs`.)
pub(crate) const NAMESPACE: &[&str] = &[
    "active-rack",
    "apply-ttl-reductions",
    "auto-revive",
    "background-query-max-rps",
    "default-read-touch-ttl-pct",
    "disable-cold-start-eviction",
    "disable-mrt-writes",
    "disable-write-dup-res",
    "disallow-expunge",
    "disallow-null-setname",
    "enable-benchmarks-batch-sub",
    "enable-benchmarks-ops-sub",
    "enable-benchmarks-read",
    "enable-benchmarks-udf",
    "enable-benchmarks-udf-sub",
    "enable-benchmarks-write",
    "enable-hist-proxy",
    "evict-hist-buckets",
    "evict-indexes-memory-pct",
    "high-water-disk-pct",
    "high-water-memory-pct",
    "ignore-migrate-fill-delay",
    "index-stage-size",
    "index-type",
    "indexes-memory-budget",
    "inline-short-queries",
    "migrate-order",
    "migrate-retransmit-ms",
    "migrate-skip-unreadable",
    "migrate-sleep",
    "mrt-duration",
    "nsup-hist-period",
    "nsup-threads",
    "partition-tree-sprigs",
    "read-consistency-level-override",
    "reject-xdr-writes",
    "sindex-stage-size",
    "sindex-type",
    "single-query-threads",
    "stop-writes-pct",
    "stop-writes-sys-memory-pct",
    "strong-consistency-allow-expunge",
    "tomb-raider-eligible-age",
    "tomb-raider-period",
    "tomb-raider-unmark-threads",
    "transaction-pending-limit",
    "truncate-threads",
    "write-commit-level-override",
    "xdr-bin-tombstone-ttl",
    "xdr-tomb-raider-period",
    "xdr-tomb-raider-threads",
];

/// `storage-engine memory { }`.
pub(crate) const STORAGE_MEMORY: &[&str] = &[
    "compression",
    "compression-acceleration",
    "compression-level",
    "defrag-lwm-pct",
    "defrag-queue-min",
    "defrag-sleep",
    "defrag-startup-minimum",
    "device",
    "direct-files",
    "disable-odsync",
    "enable-benchmarks-storage",
    "flush-max-ms",
    "flush-size",
    "max-write-cache",
    "stop-writes-avail-pct",
    "tomb-raider-sleep",
];

/// `storage-engine device { }`.
pub(crate) const STORAGE_DEVICE: &[&str] = &[
    "cache-replica-writes",
    "compression",
    "compression-acceleration",
    "compression-level",
    "data-in-memory",
    "defrag-queue-min",
    "defrag-startup-minimum",
    "direct-files",
    "disable-odsync",
    "enable-benchmarks-storage",
    "flush-size",
    "min-avail-pct",
    "post-write-cache",
    "post-write-queue",
    "read-page-cache",
    "serialize-tomb-raider",
    "sindex-startup-device-scan",
    "stop-writes-avail-pct",
    "tomb-raider-sleep",
];

/// `set NAME { }`.
pub(crate) const SET: &[&str] = &[
    "default-read-touch-ttl-pct",
    "enable-index",
    "set-enable-xdr",
    "stop-writes-size",
];

/// Whole stanzas skipped inside `logging { }`: Aerie logs to the console and to files.
pub(crate) const LOGGING_STANZAS: &[&str] = &["syslog"];

/// Parameters that change what the server does, so Aerie accepts them (with the usual warning)
/// only at the one value that describes what it does anyway, and refuses any other value rather
/// than ignore it: `(section, name, the value accepted)`.
pub(crate) const DEFAULT_ONLY: &[(Section, &str, &str)] = &[
    (
        Section::Namespace,
        "conflict-resolution-policy",
        "generation",
    ),
    (Section::Namespace, "conflict-resolve-writes", "false"),
    (Section::Namespace, "reject-non-xdr-writes", "false"),
    (Section::Namespace, "strong-consistency", "false"),
    (Section::Service, "disable-udf-execution", "false"),
    (Section::Service, "stay-quiesced", "false"),
    (Section::StorageDevice, "cold-start-empty", "false"),
    (Section::StorageMemory, "commit-to-device", "false"),
];

/// Whole stanzas skipped at the top level.
pub(crate) const TOP_STANZAS: &[&str] = &[];

/// Whole stanzas skipped inside a namespace (index/sindex placement, geo tuning).
pub(crate) const NAMESPACE_STANZAS: &[&str] = &["geo2dsphere-within", "index-type", "sindex-type"];

#[cfg(test)]
mod tests {
    use super::*;

    /// Sorted, so a reviewer can see at a glance whether a name is listed; also catches duplicates.
    #[test]
    fn lists_are_sorted_and_unique() {
        let lists = [
            SERVICE,
            NETWORK_SERVICE,
            ADMIN,
            HEARTBEAT,
            FABRIC,
            INFO,
            NAMESPACE,
            STORAGE_MEMORY,
            STORAGE_DEVICE,
            SET,
            TOP_STANZAS,
            LOGGING_STANZAS,
            NAMESPACE_STANZAS,
        ];
        for list in lists {
            assert!(
                list.windows(2).all(|w| matches!(w, [a, b] if a < b)),
                "{list:?}"
            );
        }
    }
}
