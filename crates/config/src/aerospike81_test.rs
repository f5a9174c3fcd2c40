//! Every stanza and parameter of Aerospike 8.1's configuration reference (`as/src/base/cfg.c`,
//! community edition 8.1.2), one test per context: each file uses all of a context's names with a
//! typical value and must load, every name either acted on or reported once as accepted but not
//! used. Security, TLS, XDR, storage compression and encryption have their own tests.

use crate::{parse_str, Config, ConfigError};

/// Parses `text` and checks that no parameter was reported twice.
fn load(text: &str) -> Result<Config, ConfigError> {
    let config = parse_str(text, "aerospike.conf")?;
    let mut seen = std::collections::HashSet::new();
    for w in &config.warnings {
        assert!(seen.insert(w.clone()), "reported twice: {w}");
    }
    Ok(config)
}

/// `lines` (`name value` each) inside `open ... }`, then a minimal namespace when `open` is not
/// one.
fn file(open: &str, lines: &[&str], close: &str) -> String {
    let mut text = String::new();
    text.push_str(open);
    text.push('\n');
    for line in lines {
        text.push_str(line);
        text.push('\n');
    }
    text.push_str(close);
    text.push('\n');
    if !open.starts_with("namespace") {
        text.push_str("namespace test {\nstorage-engine memory\n}\n");
    }
    text
}

/// The parameter's name as reported, for lines Aerie does not act on.
fn warned(config: &Config, name: &str) -> bool {
    let needle = format!("'{name}' is accepted but not used");
    config.warnings.iter().any(|w| w.contains(&needle))
}

const SERVICE: &[&str] = &[
    "advertise-ipv6 false",
    "auto-pin none",
    "batch-index-threads 4",
    "batch-max-buffers-per-queue 255",
    "batch-max-requests 5000",
    "batch-max-unused-buffers 256",
    "cgroup-mem-tracking false",
    "cluster-name c81",
    "debug-allocations false",
    "disable-udf-execution false",
    "enable-benchmarks-fabric false",
    "enable-health-check false",
    "enable-hist-info false",
    "enforce-best-practices false",
    "feature-key-file /etc/aerospike/features.conf",
    "group aerospike",
    "indent-allocations false",
    "info-max-ms 10000",
    "info-threads 16",
    "keep-caps-ssd-health false",
    "log-local-time false",
    "log-millis false",
    "microsecond-histograms false",
    "migrate-fill-delay 0",
    "migrate-max-num-incoming 4",
    "migrate-threads 1",
    "min-cluster-size 1",
    "node-id a1",
    "node-id-interface eth0",
    "os-group-perms false",
    "pidfile /var/run/aerospike/asd.pid",
    "poison-allocations false",
    "proto-fd-idle-ms 0",
    "proto-fd-max 15000",
    "quarantine-allocations 0",
    "query-max-done 100",
    "query-threads-limit 128",
    "run-as-daemon false",
    "secrets-address-port 127.0.0.1 3005",
    "secrets-tls-context tls1",
    "secrets-uds-path /run/secrets.sock",
    "service-threads 4",
    "sindex-builder-threads 4",
    "sindex-gc-period 10",
    "stay-quiesced false",
    "ticker-interval 10",
    "tls-refresh-period 1D",
    "transaction-max-ms 1000",
    "transaction-retry-ms 1002",
    "user aerospike",
    "vault-ca /etc/vault/ca.pem",
    "vault-namespace ns1",
    "vault-path secret/aerospike",
    "vault-token-file /etc/vault/token",
    "vault-url https://vault.example:8200",
    "work-directory /opt/aerospike",
];

#[test]
fn service_context() -> Result<(), ConfigError> {
    let config = load(&file("service {", SERVICE, "}"))?;
    assert_eq!(config.service.cluster_name.as_deref(), Some("c81"));
    assert_eq!(config.service.node_id, Some(0xa1));
    assert!(warned(&config, "vault-url"));
    Ok(())
}

#[test]
fn logging_context() -> Result<(), ConfigError> {
    let text = "logging {\n\
        console {\ncontext any info\n}\n\
        file /var/log/aerospike/aerospike.log {\ncontext any info\ncontext migrate debug\n}\n\
        syslog {\ncontext any warning\nfacility local0\npath /dev/log\ntag asd\n}\n\
        }\n";
    let config = load(&file(text, &[], ""))?;
    assert_eq!(config.logging.sinks.len(), 2);
    assert!(config.warnings.iter().any(|w| w.contains("'syslog'")));
    Ok(())
}

const NETWORK_SERVICE: &[&str] = &[
    "access-address 10.0.0.1",
    "access-port 3000",
    "address any",
    "alternate-access-address 203.0.113.1",
    "alternate-access-port 4000",
    "disable-localhost false",
    "port 3000",
    "tls-access-address 10.0.0.1",
    "tls-access-port 4333",
    "tls-address any",
    "tls-alternate-access-address 203.0.113.1",
    "tls-alternate-access-port 4334",
    "tls-authenticate-client false",
    "tls-name tls1",
    "tls-port 4333",
];

const NETWORK_ADMIN: &[&str] = &[
    "address 127.0.0.1",
    "disable-localhost false",
    "port 3008",
    "tls-address any",
    "tls-authenticate-client false",
    "tls-name tls1",
    "tls-port 4338",
];

const NETWORK_HEARTBEAT: &[&str] = &[
    "address 10.0.0.1",
    "connect-timeout-ms 500",
    "interval 150",
    "mesh-seed-address-port 10.0.0.2 3002",
    "mode mesh",
    "mtu 1500",
    "multicast-group 239.1.99.222",
    "multicast-ttl 1",
    "port 3002",
    "protocol v3",
    "timeout 10",
    "tls-address any",
    "tls-mesh-seed-address-port 10.0.0.2 3012",
    "tls-name tls1",
    "tls-port 3012",
];

const NETWORK_FABRIC: &[&str] = &[
    "address any",
    "channel-bulk-fds 2",
    "channel-bulk-recv-threads 4",
    "channel-ctrl-fds 1",
    "channel-ctrl-recv-threads 4",
    "channel-meta-fds 1",
    "channel-meta-recv-threads 4",
    "channel-rw-fds 8",
    "channel-rw-recv-pools 1",
    "channel-rw-recv-threads 16",
    "keepalive-enabled true",
    "keepalive-intvl 1",
    "keepalive-probes 10",
    "keepalive-time 1",
    "latency-max-ms 5",
    "port 3001",
    "recv-rearm-threshold 1024",
    "send-threads 8",
    "tls-address any",
    "tls-name tls1",
    "tls-port 3011",
];

fn network_stanza(name: &str, lines: &[&str]) -> String {
    file(&format!("network {{\n{name} {{"), lines, "}\n}")
}

#[test]
fn network_service_context() -> Result<(), ConfigError> {
    let config = load(&network_stanza("service", NETWORK_SERVICE))?;
    let service = &config.network.service;
    assert_eq!((service.address.as_str(), service.port), ("0.0.0.0", 3000));
    assert_eq!(service.access_address.as_deref(), Some("10.0.0.1"));
    Ok(())
}

#[test]
fn network_admin_context() -> Result<(), ConfigError> {
    let config = load(&network_stanza("admin", NETWORK_ADMIN))?;
    assert_eq!(config.network.admin.map(|a| a.port), Some(3008));
    Ok(())
}

#[test]
fn network_heartbeat_context() -> Result<(), ConfigError> {
    let config = load(&network_stanza("heartbeat", NETWORK_HEARTBEAT))?;
    let hb = &config.network.heartbeat;
    assert_eq!(hb.mesh_seeds, vec![("10.0.0.2".to_owned(), 3002)]);
    assert_eq!((hb.interval_ms, hb.timeout), (150, 10));
    Ok(())
}

#[test]
fn network_fabric_context() -> Result<(), ConfigError> {
    let config = load(&network_stanza("fabric", NETWORK_FABRIC))?;
    assert_eq!(config.network.fabric.port, 3001);
    Ok(())
}

#[test]
fn network_info_context() -> Result<(), ConfigError> {
    let config = load(&network_stanza("info", &["address any", "port 3003"]))?;
    assert_eq!(config.network.info.map(|i| i.port), Some(3003));
    Ok(())
}

const NAMESPACE: &[&str] = &[
    "active-rack 0",
    "allow-ttl-without-nsup false",
    "apply-ttl-reductions true",
    "auto-revive false",
    "background-query-max-rps 10000",
    "conflict-resolution-policy generation",
    "conflict-resolve-writes false",
    "default-read-touch-ttl-pct 0",
    "default-ttl 30D",
    "disable-cold-start-eviction false",
    "disable-mrt-writes false",
    "disable-write-dup-res false",
    "disallow-expunge false",
    "disallow-null-setname false",
    "enable-benchmarks-batch-sub false",
    "enable-benchmarks-ops-sub false",
    "enable-benchmarks-read false",
    "enable-benchmarks-udf false",
    "enable-benchmarks-udf-sub false",
    "enable-benchmarks-write false",
    "enable-hist-proxy false",
    "evict-hist-buckets 10000",
    "evict-indexes-memory-pct 0",
    "evict-tenths-pct 5",
    "ignore-migrate-fill-delay false",
    "index-stage-size 1G",
    "indexes-memory-budget 0",
    "inline-short-queries false",
    "max-record-size 1M",
    "migrate-order 5",
    "migrate-retransmit-ms 5000",
    "migrate-skip-unreadable false",
    "migrate-sleep 1",
    "mrt-duration 10",
    "nsup-hist-period 3600",
    "nsup-period 120",
    "nsup-threads 1",
    "partition-tree-sprigs 256",
    "prefer-uniform-balance true",
    "rack-id 0",
    "read-consistency-level-override off",
    "reject-non-xdr-writes false",
    "reject-xdr-writes false",
    "replication-factor 2",
    "sindex-stage-size 1G",
    "single-query-threads 4",
    "stop-writes-sys-memory-pct 90",
    "strong-consistency false",
    "strong-consistency-allow-expunge false",
    "tomb-raider-eligible-age 86400",
    "tomb-raider-period 86400",
    "tomb-raider-unmark-threads 1",
    "transaction-pending-limit 20",
    "truncate-threads 4",
    "write-commit-level-override off",
    "xdr-bin-tombstone-ttl 86400",
    "xdr-tomb-raider-period 120",
    "xdr-tomb-raider-threads 1",
    "index-type shmem",
    "sindex-type shmem",
    "storage-engine memory",
];

#[test]
fn namespace_context() -> Result<(), ConfigError> {
    let config = load(&file("namespace test {", NAMESPACE, "}"))?;
    let [ns] = config.namespaces.as_slice() else {
        panic!("one namespace expected");
    };
    assert_eq!((ns.replication_factor, ns.nsup_period_secs), (2, 120));
    assert!(warned(&config, "tomb-raider-period"));
    Ok(())
}

/// Values Aerie cannot honour are refused, not ignored.
#[test]
fn namespace_values_aerie_cannot_honour() {
    for line in [
        "strong-consistency true",
        "conflict-resolution-policy last-update-time",
        "reject-non-xdr-writes true",
    ] {
        let text = file("namespace test {", &[line, "storage-engine memory"], "}");
        let err = parse_str(&text, "aerospike.conf")
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(err.contains("not supported"), "{line}: {err}");
    }
}

#[test]
fn namespace_sub_stanzas() -> Result<(), ConfigError> {
    let mount_lines = [
        "evict-mounts-pct 0",
        "mount /mnt/flash",
        "mounts-budget 4G",
        "mounts-high-water-pct 0",
        "mounts-size-limit 4G",
    ]
    .join("\n");
    let text = format!(
        "namespace test {{\n\
         geo2dsphere-within {{\nstrict true\nmin-level 1\nmax-level 20\nmax-cells 12\nlevel-mod 1\nearth-radius-meters 6371000\n}}\n\
         index-type flash {{\n{mount_lines}\n}}\n\
         sindex-type pmem {{\n{mount_lines}\n}}\n\
         storage-engine memory\n\
         }}\n"
    );
    let config = load(&text)?;
    assert_eq!(config.namespaces.len(), 1);
    Ok(())
}

const STORAGE_MEMORY: &[&str] = &[
    "commit-to-device false",
    "data-size 1G",
    "defrag-lwm-pct 50",
    "defrag-queue-min 0",
    "defrag-sleep 1000",
    "defrag-startup-minimum 0",
    "direct-files false",
    "disable-odsync false",
    "enable-benchmarks-storage false",
    "evict-used-pct 0",
    "file /opt/aerospike/data/test.dat",
    "filesize 16G",
    "flush-max-ms 1000",
    "flush-size 1M",
    "max-write-cache 64M",
    "stop-writes-avail-pct 5",
    "stop-writes-used-pct 70",
    "tomb-raider-sleep 1000",
];

#[test]
fn storage_memory_context() -> Result<(), ConfigError> {
    let text = file(
        "namespace test {\nstorage-engine memory {",
        STORAGE_MEMORY,
        "}\n}",
    );
    let config = load(&text)?;
    let [ns] = config.namespaces.as_slice() else {
        panic!("one namespace expected");
    };
    assert_eq!(ns.stop_writes_used_pct, 70);
    Ok(())
}

const STORAGE_DEVICE: &[&str] = &[
    "cache-replica-writes false",
    "cold-start-empty false",
    "commit-to-device false",
    "defrag-lwm-pct 50",
    "defrag-queue-min 0",
    "defrag-sleep 1000",
    "defrag-startup-minimum 0",
    "device /dev/nvme0n1",
    "direct-files false",
    "disable-odsync false",
    "enable-benchmarks-storage false",
    "evict-used-pct 0",
    "file /opt/aerospike/data/test.dat",
    "filesize 16G",
    "flush-max-ms 1000",
    "flush-size 1M",
    "max-write-cache 64M",
    "post-write-cache 256M",
    "read-page-cache false",
    "serialize-tomb-raider false",
    "sindex-startup-device-scan false",
    "stop-writes-avail-pct 5",
    "stop-writes-used-pct 70",
    "tomb-raider-sleep 1000",
];

#[test]
fn storage_device_context() -> Result<(), ConfigError> {
    let text = file(
        "namespace test {\nstorage-engine device {",
        STORAGE_DEVICE,
        "}\n}",
    );
    let config = load(&text)?;
    assert_eq!(config.namespaces.len(), 1);
    Ok(())
}

const SET: &[&str] = &[
    "default-read-touch-ttl-pct 0",
    "default-ttl 1D",
    "disable-eviction false",
    "enable-index false",
    "stop-writes-count 0",
    "stop-writes-size 0",
];

#[test]
fn set_context() -> Result<(), ConfigError> {
    let text = file(
        "namespace test {\nstorage-engine memory\nset s1 {",
        SET,
        "}\n}",
    );
    let config = load(&text)?;
    let set = config.namespaces.first().and_then(|ns| ns.sets.first());
    assert_eq!(set.and_then(|s| s.default_ttl_secs), Some(86_400));
    Ok(())
}

#[test]
fn mod_lua_context() -> Result<(), ConfigError> {
    let text = file(
        "mod-lua {",
        &["cache-enabled true", "user-path /opt/aerospike/usr/udf/lua"],
        "}",
    );
    let config = load(&text)?;
    assert_eq!(
        config.mod_lua.user_path.as_deref(),
        Some("/opt/aerospike/usr/udf/lua")
    );
    Ok(())
}
