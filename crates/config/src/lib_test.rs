//! Whole-file tests: the default config, a realistic Aerospike file, and every error path with its
//! exact `FILE:LINE: message`.

use super::*;

/// A file as an Aerospike operator would write it (mesh cluster, two namespaces, 6.x/7.x mix).
const SAMPLE: &str = "\
# Aerospike database configuration file.
service {
    user root
    group root
    paxos-single-replica-limit 1 # Number of nodes where the replica count is automatically reduced to 1.
    pidfile /var/run/aerospike/asd.pid
    proto-fd-max 20000
    cluster-name prod-east
    node-id A1B2
    service-threads 8
    transaction-max-ms 1500
}

logging {
    file /var/log/aerospike/aerospike.log {
        context any info
        context migrate DEBUG
    }
    console {
        context any warning
    }
}

network {
    service {
        address any
        port 3000
        access-address 10.0.0.1
    }

    heartbeat {
        mode mesh
        address 10.0.0.1
        port 3002
        mesh-seed-address-port 10.0.0.2 3002
        mesh-seed-address-port 10.0.0.3 3002
        interval 150
        timeout 20
    }

    fabric {
        port 3001
    }

    info {
        port 3003
    }
}

mod-lua {
    user-path /opt/aerospike/usr/udf/lua
}

namespace test {
    replication-factor 2
    memory-size 4G
    default-ttl 30D
    nsup-period 120
    storage-engine memory
}

namespace bar {
    replication-factor 1
    nsup-period 10M
    max-ttl 365D
    stop-writes-used-pct 80
    storage-engine device {
        file /opt/aerospike/data/bar.dat
        filesize 4G
        write-block-size 1M
        commit-to-device true
        data-in-memory false
        evict-used-pct 60
    }
    set demo {
        default-ttl 12H
        disable-eviction true
        stop-writes-count 1M
    }
}
";

fn sample_expected() -> Config {
    let mut test = NamespaceConfig::new("test");
    test.default_ttl_secs = 30 * 86_400;
    test.nsup_period_secs = 120;
    test.storage = StorageEngineConfig::Memory(MemoryStorageConfig {
        data_size_bytes: Some(4 << 30),
        files: vec![],
        filesize_bytes: None,
    });

    let mut bar = NamespaceConfig::new("bar");
    bar.replication_factor = 1;
    bar.nsup_period_secs = 600;
    bar.max_ttl_secs = 365 * 86_400;
    bar.stop_writes_used_pct = 80;
    bar.evict_used_pct = 60;
    bar.storage = StorageEngineConfig::Device(DeviceStorageConfig {
        files: vec!["/opt/aerospike/data/bar.dat".to_owned()],
        filesize_bytes: 4 << 30,
        write_block_size_bytes: 1 << 20,
        commit_to_device: true,
        ..DeviceStorageConfig::default()
    });
    bar.sets = vec![SetConfig {
        name: "demo".to_owned(),
        default_ttl_secs: Some(12 * 3_600),
        disable_eviction: true,
        stop_writes_count: 1 << 20,
    }];

    let pair = |a: &str, b: &str| (a.to_owned(), b.to_owned());
    Config {
        service: ServiceConfig {
            cluster_name: Some("prod-east".to_owned()),
            node_id: Some(0xA1B2),
            proto_fd_max: 20_000,
            service_threads: Some(8),
            transaction_max_ms: 1_500,
            ..ServiceConfig::default()
        },
        logging: LoggingConfig {
            sinks: vec![
                LogSink {
                    target: LogTarget::File("/var/log/aerospike/aerospike.log".to_owned()),
                    contexts: vec![pair("any", "info"), pair("migrate", "debug")],
                },
                LogSink {
                    target: LogTarget::Console,
                    contexts: vec![pair("any", "warning")],
                },
            ],
        },
        network: NetworkConfig {
            service: Endpoint {
                address: "0.0.0.0".to_owned(),
                port: 3000,
                access_address: Some("10.0.0.1".to_owned()),
            },
            fabric: Endpoint {
                address: "0.0.0.0".to_owned(),
                port: 3001,
                access_address: None,
            },
            info: Some(Endpoint {
                address: "0.0.0.0".to_owned(),
                port: 3003,
                access_address: None,
            }),
            admin: None,
            heartbeat: HeartbeatConfig {
                mode: HeartbeatMode::Mesh,
                address: "10.0.0.1".to_owned(),
                port: 3002,
                mesh_seeds: vec![("10.0.0.2".to_owned(), 3002), ("10.0.0.3".to_owned(), 3002)],
                interval_ms: 150,
                timeout: 20,
            },
            http: HttpConfig {
                enabled: true,
                address: "127.0.0.1".to_owned(),
                port: 8080,
                requested: false,
            },
        },
        namespaces: vec![test, bar],
        mod_lua: crate::ModLuaConfig {
            user_path: Some("/opt/aerospike/usr/udf/lua".to_owned()),
        },
        security: None,
        warnings: [
            "aerospike.conf:3: parameter 'user' is accepted but not used",
            "aerospike.conf:4: parameter 'group' is accepted but not used",
            "aerospike.conf:5: parameter 'paxos-single-replica-limit' is accepted but not used",
            "aerospike.conf:6: parameter 'pidfile' is accepted but not used",
            "aerospike.conf:72: parameter 'data-in-memory' is accepted but not used",
        ]
        .map(str::to_owned)
        .to_vec(),
    }
}

/// The message `parse_str` gives for `text`, or `None` if it parsed.
fn error_of(text: &str) -> Option<String> {
    parse_str(text, "aerie.conf").err().map(|e| e.to_string())
}

/// A file with one minimal namespace after `prefix`, so error tests can focus on one stanza.
fn with_namespace(prefix: &str) -> String {
    format!("{prefix}namespace test {{\n    storage-engine memory\n}}\n")
}

#[test]
fn default_config_is_zero_config() {
    let config = Config::default();
    assert_eq!(config.service, ServiceConfig::default());
    assert_eq!(config.service.proto_fd_max, 15_000);
    assert_eq!(config.service.transaction_max_ms, 1_000);
    assert_eq!(config.network.service, Endpoint::localhost(3000));
    assert_eq!(config.network.fabric, Endpoint::localhost(3001));
    assert_eq!(config.network.info, None);
    let hb = &config.network.heartbeat;
    assert_eq!(
        (hb.mode, hb.address.as_str(), hb.port),
        (HeartbeatMode::Mesh, "127.0.0.1", 3002)
    );
    assert_eq!((hb.interval_ms, hb.timeout), (150, 10));
    assert!(hb.mesh_seeds.is_empty());
    assert_eq!(
        config.network.http,
        HttpConfig {
            enabled: true,
            address: "127.0.0.1".to_owned(),
            port: 8080,
            requested: false,
        }
    );
    assert_eq!(config.logging.sinks.len(), 1);
    assert!(config.warnings.is_empty());

    let [ns] = config.namespaces.as_slice() else {
        panic!("expected one namespace, got {:?}", config.namespaces);
    };
    assert_eq!(ns.name, "test");
    assert_eq!(ns.replication_factor, 2);
    assert_eq!(ns.default_ttl_secs, 0);
    assert_eq!(ns.max_ttl_secs, MAX_ALLOWED_TTL_SECS);
    assert_eq!(
        ns.nsup_period_secs, 120,
        "so client TTLs are accepted without configuration"
    );
    assert!(!ns.allow_ttl_without_nsup);
    assert_eq!(ns.max_record_size_bytes, 1 << 20);
    assert_eq!((ns.stop_writes_used_pct, ns.evict_used_pct), (70, 0));
    assert_eq!(
        ns.storage,
        StorageEngineConfig::Memory(MemoryStorageConfig::default())
    );
    assert!(ns.sets.is_empty());
}

#[test]
fn realistic_aerospike_file() -> Result<(), ConfigError> {
    let config = parse_str(SAMPLE, "aerospike.conf")?;
    let expected = sample_expected();
    // Field by field first, for readable failures; then the whole thing.
    assert_eq!(config.service, expected.service);
    assert_eq!(config.logging, expected.logging);
    assert_eq!(config.network, expected.network);
    assert_eq!(config.namespaces, expected.namespaces);
    assert_eq!(config.warnings, expected.warnings);
    assert_eq!(config, expected);
    assert_eq!(
        config
            .namespace("bar")
            .and_then(|ns| ns.set("demo"))
            .map(|s| s.stop_writes_count),
        Some(1 << 20)
    );
    Ok(())
}

#[test]
fn omitted_parameters_take_aerospike_defaults() -> Result<(), ConfigError> {
    let config = parse_str(&with_namespace(""), "aerie.conf")?;
    let mut expected = Config::default();
    expected.namespaces[0].nsup_period_secs = 0; // Aerospike's default; only zero-config changes it
    for endpoint in [&mut expected.network.service, &mut expected.network.fabric] {
        endpoint.address = "0.0.0.0".to_owned();
    }
    expected.network.heartbeat.address = "0.0.0.0".to_owned();
    assert_eq!(config, expected);
    Ok(())
}

#[test]
fn sizes_and_durations_in_a_file() -> Result<(), ConfigError> {
    let text = "namespace ns {\n\
                nsup-period 10M\n\
                default-ttl 12h\n\
                max-ttl 30d\n\
                max-record-size 128K\n\
                storage-engine memory {\n\
                data-size 2g\n\
                file /data/ns.dat\n\
                filesize 1T\n\
                }\n\
                set a {\n\
                default-ttl 60S\n\
                }\n\
                set b {\n\
                default-ttl 90\n\
                }\n\
                }\n";
    let config = parse_str(text, "aerie.conf")?;
    let ns = &config.namespaces[0];
    assert_eq!(ns.nsup_period_secs, 600);
    assert_eq!(ns.default_ttl_secs, 12 * 3_600);
    assert_eq!(ns.max_ttl_secs, 30 * 86_400);
    assert_eq!(ns.max_record_size_bytes, 128 << 10);
    let expected_storage = StorageEngineConfig::Memory(MemoryStorageConfig {
        data_size_bytes: Some(2 << 30),
        files: vec!["/data/ns.dat".to_owned()],
        filesize_bytes: Some(1 << 40),
    });
    assert_eq!(ns.storage, expected_storage);
    let ttls: Vec<_> = ns.sets.iter().map(|s| s.default_ttl_secs).collect();
    assert_eq!(ttls, [Some(60), Some(90)]);
    Ok(())
}

#[test]
fn set_default_ttl_zero_inherits_and_minus_one_never_expires() -> Result<(), ConfigError> {
    let text = "namespace ns {\nstorage-engine memory\nset a {\ndefault-ttl 0\n}\nset b {\ndefault-ttl -1\n}\n}\n";
    let config = parse_str(text, "aerie.conf")?;
    let ttls: Vec<_> = config.namespaces[0]
        .sets
        .iter()
        .map(|s| s.default_ttl_secs)
        .collect();
    assert_eq!(ttls, [None, Some(0)]);
    Ok(())
}

#[test]
fn one_line_stanzas_and_aerospike_5_spellings() -> Result<(), ConfigError> {
    let text = "logging { console { context any info } }\n\
                namespace ns { storage-engine memory }\n\
                namespace ns2 {\n\
                storage-engine device {\n\
                device /dev/nvme0n1\n\
                }\n\
                set s { set-disable-eviction true }\n\
                set t { set-stop-writes-count 5000 }\n\
                }\n";
    let config = parse_str(text, "aerie.conf")?;
    assert_eq!(config.logging, LoggingConfig::default());
    assert_eq!(config.namespaces.len(), 2);
    let sets = &config.namespaces[1].sets;
    assert!(sets[0].disable_eviction);
    assert_eq!(sets[1].stop_writes_count, 5_000);
    let StorageEngineConfig::Device(device) = &config.namespaces[1].storage else {
        panic!("expected device storage");
    };
    assert_eq!(device.devices, ["/dev/nvme0n1"]);
    Ok(())
}

#[test]
fn memory_size_is_data_size_unless_data_size_is_given() -> Result<(), ConfigError> {
    let text = "namespace ns {\nmemory-size 1G\nstorage-engine memory {\ndata-size 2G\n}\n}\n";
    let config = parse_str(text, "aerie.conf")?;
    let StorageEngineConfig::Memory(memory) = &config.namespaces[0].storage else {
        panic!("expected memory storage");
    };
    assert_eq!(memory.data_size_bytes, Some(2 << 30));
    assert_eq!(
        config.warnings,
        ["aerie.conf:2: parameter 'memory-size' is accepted but not used"]
    );
    Ok(())
}

#[test]
fn rack_parameters() -> Result<(), ConfigError> {
    let text = "namespace ns {\nrack-id 7\nprefer-uniform-balance true\nactive-rack 7\nstorage-engine memory\n}\n";
    let config = parse_str(text, "aerie.conf")?;
    let racks = config.namespaces[0].racks;
    assert_eq!(
        racks,
        RackConfig {
            rack_id: 7,
            prefer_uniform_balance: true,
            active_rack: 7
        }
    );
    assert!(config.warnings.is_empty(), "{:?}", config.warnings);
    let default = parse_str(&with_namespace(""), "aerie.conf")?;
    assert_eq!(default.namespaces[0].racks, RackConfig::default());
    let too_big = "namespace ns {\nrack-id 1000001\nstorage-engine memory\n}\n";
    let err = error_of(too_big).unwrap_or_default();
    assert!(err.contains("rack-id") && err.contains("1000000"), "{err}");
    Ok(())
}

#[test]
fn device_max_record_size_follows_a_small_write_block() -> Result<(), ConfigError> {
    let text = "namespace ns {\nstorage-engine device {\nfile /d.dat\nfilesize 16M\nwrite-block-size 128K\n}\n}\n";
    let config = parse_str(text, "aerie.conf")?;
    assert_eq!(config.namespaces[0].max_record_size_bytes, 128 << 10);
    Ok(())
}

#[test]
fn http_stanza_is_an_aerie_extension() -> Result<(), ConfigError> {
    let text = with_namespace("network {\nhttp {\nenabled false\naddress any\nport 9090\n}\n}\n");
    let config = parse_str(&text, "aerie.conf")?;
    assert_eq!(
        config.network.http,
        HttpConfig {
            enabled: false,
            address: "0.0.0.0".to_owned(),
            port: 9090,
            requested: true,
        }
    );
    Ok(())
}

/// Aerospike 8.1's `admin` stanza: the admin port, with no default port of its own.
#[test]
fn admin_stanza_of_aerospike_8_1() -> Result<(), ConfigError> {
    let text = with_namespace("network {\nadmin {\naddress any\nport 3008\n}\n}\n");
    let config = parse_str(&text, "aerie.conf")?;
    let expected = Endpoint {
        address: "0.0.0.0".to_owned(),
        port: 3008,
        access_address: None,
    };
    assert_eq!(config.network.admin, Some(expected));
    let text = with_namespace("network {\nadmin {\naddress 127.0.0.1\ntls-name x\n}\n}\n");
    let config = parse_str(&text, "aerie.conf")?;
    assert_eq!(config.network.admin.map(|a| a.port), Some(0));
    assert_eq!(config.warnings.len(), 1, "{:?}", config.warnings);
    assert_eq!(
        parse_str(&with_namespace(""), "aerie.conf")?.network.admin,
        None
    );
    Ok(())
}

#[test]
fn every_error_names_file_line_and_what_was_expected() {
    let cases: &[(&str, &str)] = &[
        // Structure.
        ("namespace test {\nstorage-engine memory\n", "aerie.conf:1: stanza 'namespace' is never closed: expected '}' before the end of the file"),
        ("service {\n}\n}\n", "aerie.conf:3: unexpected '}': no stanza is open here"),
        ("", "aerie.conf:1: no namespace configured: expected at least one 'namespace NAME { ... }' stanza"),
        ("service {\n}\n", "aerie.conf:2: no namespace configured: expected at least one 'namespace NAME { ... }' stanza"),
        // Unknown names.
        ("namespace test {\nstorage-engine memory\nfoo 1\n}\n", "aerie.conf:3: unknown parameter 'foo' in namespace stanza"),
        ("proto-fd-max 100\n", "aerie.conf:1: unknown parameter 'proto-fd-max' at the top level"),
        ("xdr {\n}\n", "aerie.conf:1: unknown stanza 'xdr' at the top level: expected 'service {', 'logging {', 'network {' or 'namespace NAME {'"),
        ("namespace test {\nstorage-engine memory\nstrong-consistency true\n}\n", "aerie.conf:3: 'strong-consistency true' is not supported by Aerie (only 'strong-consistency false' is accepted)"),
        ("network {\ntls a {\n}\n}\n", "aerie.conf:2: unknown stanza 'tls' in network stanza: expected 'service {', 'admin {', 'heartbeat {', 'fabric {', 'info {' or 'http {'"),
        ("service {\nfoo {\n}\n}\n", "aerie.conf:2: unknown stanza 'foo' in service stanza: expected only parameters here"),
        ("network {\nheartbeat\n}\n", "aerie.conf:2: 'heartbeat' in network stanza opens a stanza: expected 'heartbeat {'"),
        ("namespace test {\nstorage-engine memory\nset demo\n}\n", "aerie.conf:3: 'set' in namespace stanza opens a stanza: expected 'set NAME {'"),
        ("namespace test {\nstorage-engine memory {\ncommit-to-device true\n}\n}\n", "aerie.conf:3: 'commit-to-device true' is not supported by Aerie (only 'commit-to-device false' is accepted)"),
        // Bad values.
        ("network {\nservice {\nport abc\n}\n}\n", "aerie.conf:3: invalid value 'abc' for 'port': expected an integer 0..65535"),
        ("network {\nservice {\nport 65536\n}\n}\n", "aerie.conf:3: invalid value '65536' for 'port': expected an integer 0..65535"),
        ("network {\nservice {\nport\n}\n}\n", "aerie.conf:3: missing value for 'port': expected an integer 0..65535"),
        ("network {\nservice {\nport 1 2\n}\n}\n", "aerie.conf:3: too many values for 'port': expected an integer 0..65535"),
        ("service {\nnode-id xyz\n}\n", "aerie.conf:2: invalid value 'xyz' for 'node-id': expected a non-zero hex number of at most 16 digits (e.g. A1)"),
        ("service {\nservice-threads 0\n}\n", "aerie.conf:2: invalid value '0' for 'service-threads': expected an integer 1..4096"),
        ("network {\nheartbeat {\nmode broadcast\n}\n}\n", "aerie.conf:3: invalid value 'broadcast' for 'mode': expected 'mesh' or 'multicast'"),
        ("network {\nheartbeat {\ninterval 10\n}\n}\n", "aerie.conf:3: invalid value '10' for 'interval': expected an integer 50..600000"),
        ("network {\nheartbeat {\nmesh-seed-address-port 10.0.0.2\n}\n}\n", "aerie.conf:3: missing value for 'mesh-seed-address-port': expected HOST PORT, e.g. '10.0.0.2 3002'"),
        ("network {\nheartbeat {\nmesh-seed-address-port 10.0.0.2 0\n}\n}\n", "aerie.conf:3: invalid value '0' for 'mesh-seed-address-port': expected a port 1..65535"),
        ("logging {\nconsole {\ncontext any loud\n}\n}\n", "aerie.conf:3: invalid value 'loud' for 'context': expected a log level: 'critical', 'warning', 'info', 'debug' or 'detail'"),
        ("namespace test {\nreplication-factor 0\nstorage-engine memory\n}\n", "aerie.conf:2: invalid value '0' for 'replication-factor': expected an integer 1..255"),
        ("namespace test {\ndefault-ttl 11000D\nstorage-engine memory\n}\n", "aerie.conf:2: invalid value '11000D' for 'default-ttl': expected a duration 0..315360000 seconds with an optional S, M, H or D suffix (e.g. 30D)"),
        ("namespace test {\nallow-ttl-without-nsup yes\nstorage-engine memory\n}\n", "aerie.conf:2: invalid value 'yes' for 'allow-ttl-without-nsup': expected true or false"),
        ("namespace test {\nstorage-engine memory {\ndata-size 4Q\n}\n}\n", "aerie.conf:3: invalid value '4Q' for 'data-size': expected a size of at least 1 with an optional K, M, G, T or P suffix (e.g. 4G)"),
        ("namespace test {\nstorage-engine device {\nfile /a.dat\nfilesize 4G\nwrite-block-size 3M\n}\n}\n", "aerie.conf:5: invalid value '3M' for 'write-block-size': expected a power of two 1K..8M (e.g. 1M)"),
        ("namespace test {\nstorage-engine pmem {\n}\n}\n", "aerie.conf:2: invalid value 'pmem' for 'storage-engine': expected 'memory' or 'device'"),
        ("namespace test {\nstorage-engine\n}\n", "aerie.conf:2: missing value for 'storage-engine': expected 'memory' or 'device'"),
        // Stanza arguments and names.
        ("namespace {\nstorage-engine memory\n}\n", "aerie.conf:1: missing namespace name: expected 'namespace NAME {'"),
        ("namespace a b {\nstorage-engine memory\n}\n", "aerie.conf:1: unexpected 'b' after 'namespace': expected 'namespace NAME {'"),
        ("service x {\n}\n", "aerie.conf:1: unexpected 'x' after 'service': expected 'service {'"),
        ("logging {\nfile {\n}\n}\n", "aerie.conf:2: missing file path: expected 'file PATH {'"),
        ("namespace test {\nstorage-engine memory\nset {\n}\n}\n", "aerie.conf:3: missing set name: expected 'set NAME {'"),
        ("namespace a234567890123456789012345678901x {\nstorage-engine memory\n}\n", "aerie.conf:1: invalid value 'a234567890123456789012345678901x' for 'namespace': expected a name of 1..31 bytes without ':' or ';'"),
        ("namespace a:b {\nstorage-engine memory\n}\n", "aerie.conf:1: invalid value 'a:b' for 'namespace': expected a name of 1..31 bytes without ':' or ';'"),
        // Duplicates.
        ("namespace test {\nstorage-engine memory\n}\nnamespace test {\nstorage-engine memory\n}\n", "aerie.conf:4: duplicate namespace 'test': first defined at line 1"),
        ("namespace test {\nstorage-engine memory\nstorage-engine memory\n}\n", "aerie.conf:3: duplicate storage-engine in namespace 'test': first defined at line 2"),
        ("namespace test {\nstorage-engine memory\nset a {\n}\nset a {\n}\n}\n", "aerie.conf:5: duplicate set 'a' in namespace 'test': first defined at line 3"),
        ("namespace a {\nstorage-engine device {\nfile /d.dat\nfilesize 1G\n}\n}\nnamespace b {\nstorage-engine device {\nfile /d.dat\nfilesize 1G\n}\n}\n", "aerie.conf:9: duplicate storage path '/d.dat': first defined at line 3"),
        ("network {\nservice {\naddress 10.0.0.1\naddress 10.0.0.2\n}\n}\n", "aerie.conf:4: duplicate 'address' (Aerie binds one address per listener): first defined at line 3"),
        // Checks across lines.
        ("namespace test {\nreplication-factor 2\n}\n", "aerie.conf:1: namespace 'test' has no storage-engine: expected 'storage-engine memory' or 'storage-engine device { ... }'"),
        ("namespace test {\ndefault-ttl 30D\nstorage-engine memory\n}\n", "aerie.conf:1: namespace 'test' must configure non-zero 'nsup-period' or 'allow-ttl-without-nsup true' if 'default-ttl' is non-zero"),
        ("namespace test {\ndefault-ttl 30D\nmax-ttl 1D\nnsup-period 60\nstorage-engine memory\n}\n", "aerie.conf:1: namespace 'test' has 'default-ttl' (2592000 seconds) above 'max-ttl' (86400 seconds)"),
        ("namespace test {\nstorage-engine device\n}\n", "aerie.conf:2: namespace 'test' storage-engine device needs at least one 'file PATH' or 'device PATH' line"),
        ("namespace test {\nstorage-engine device {\nfile /d.dat\n}\n}\n", "aerie.conf:2: namespace 'test' must configure 'filesize' when using storage files"),
        ("namespace test {\nstorage-engine memory {\nfile /d.dat\n}\n}\n", "aerie.conf:2: namespace 'test' must configure 'filesize' when using storage files"),
        ("namespace test {\nstorage-engine device {\nfile /d.dat\nfilesize 64K\nwrite-block-size 1M\n}\n}\n", "aerie.conf:4: 'filesize' (65536 bytes) must be at least 'write-block-size' (1048576 bytes)"),
        ("namespace test {\nmax-record-size 2M\nstorage-engine device {\nfile /d.dat\nfilesize 1G\n}\n}\n", "aerie.conf:2: 'max-record-size' (2097152 bytes) must not exceed 'write-block-size' (1048576 bytes)"),
        ("namespace test {\nstorage-engine device {\nfile /d.dat\nfilesize 1G\nfile /e.dat /e.shadow\n}\n}\n", "aerie.conf:5: too many values for 'file': expected one path (shadow devices are not supported)"),
    ];
    for (text, message) in cases {
        assert_eq!(error_of(text).as_deref(), Some(*message), "input:\n{text}");
    }
}

#[test]
fn errors_in_the_sample_point_at_the_edited_line() {
    // Each edit replaces one line of SAMPLE; the error must name that line.
    let cases = [
        ("    proto-fd-max 20000", "    proto-fd-max lots", "aerospike.conf:7: invalid value 'lots' for 'proto-fd-max': expected an integer 1..4294967295"),
        ("        port 3001", "        port 3001x", "aerospike.conf:42: invalid value '3001x' for 'port': expected an integer 0..65535"),
        ("        commit-to-device true", "        commit-to-device maybe", "aerospike.conf:71: invalid value 'maybe' for 'commit-to-device': expected true or false"),
        ("        stop-writes-count 1M", "        stop-writes-count many", "aerospike.conf:78: invalid value 'many' for 'stop-writes-count': expected an integer with an optional K, M, G, T or P multiplier (e.g. 10M)"),
        ("namespace bar {", "namespace test {", "aerospike.conf:62: duplicate namespace 'test': first defined at line 54"),
        ("        stop-writes-count 1M\n    }\n}\n", "        stop-writes-count 1M\n    }\n", "aerospike.conf:62: stanza 'namespace' is never closed: expected '}' before the end of the file"),
    ];
    for (from, to, message) in cases {
        assert!(SAMPLE.contains(from), "{from:?} not in SAMPLE");
        let text = SAMPLE.replacen(from, to, 1);
        let got = parse_str(&text, "aerospike.conf")
            .err()
            .map(|e| e.to_string());
        assert_eq!(got.as_deref(), Some(message));
    }
}

#[test]
fn namespaces_are_capped() {
    let one = |i: usize| format!("namespace ns{i} {{\nstorage-engine memory\n}}\n");
    let text: String = (0..MAX_NAMESPACES).map(one).collect();
    assert_eq!(
        parse_str(&text, "aerie.conf")
            .map(|c| c.namespaces.len())
            .ok(),
        Some(MAX_NAMESPACES)
    );
    let text = format!("{text}{}", one(MAX_NAMESPACES));
    let line = MAX_NAMESPACES * 3 + 1;
    assert_eq!(
        error_of(&text),
        Some(format!(
            "aerie.conf:{line}: too many namespaces: expected at most 32"
        ))
    );
}

#[test]
fn set_name_length_is_capped() -> Result<(), ConfigError> {
    let text =
        |name: &str| format!("namespace ns {{\nstorage-engine memory\nset {name} {{\n}}\n}}\n");
    parse_str(&text(&"s".repeat(MAX_SET_NAME_BYTES)), "aerie.conf")?;
    let long = "s".repeat(MAX_SET_NAME_BYTES + 1);
    let expected = format!("aerie.conf:3: invalid value '{long}' for 'set': expected a name of 1..63 bytes without ':' or ';'");
    assert_eq!(error_of(&text(&long)), Some(expected));
    Ok(())
}

#[test]
fn load_reads_a_file_and_names_it_in_errors() -> Result<(), Box<dyn std::error::Error>> {
    let dir = std::env::temp_dir().join(format!("aerie-config-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;

    let good = dir.join("good.conf");
    std::fs::write(&good, SAMPLE)?;
    assert_eq!(load(&good)?.namespaces.len(), 2);

    let bad = dir.join("bad.conf");
    std::fs::write(&bad, "namespace test {\nbogus 1\n}\n")?;
    let message = load(&bad).err().map(|e| e.to_string());
    assert_eq!(
        message,
        Some(format!(
            "{}:2: unknown parameter 'bogus' in namespace stanza",
            bad.display()
        ))
    );

    let big = dir.join("big.conf");
    std::fs::write(&big, vec![b'#'; 2 << 20])?;
    let message = load(&big).err().map(|e| e.to_string());
    assert_eq!(
        message,
        Some(format!(
            "{}: config file is too large: expected at most 1048576 bytes",
            big.display()
        ))
    );

    let missing = dir.join("missing.conf");
    assert!(matches!(load(&missing), Err(ConfigError::Read { .. })));

    std::fs::remove_dir_all(&dir)?;
    Ok(())
}

#[test]
fn error_line_accessor() {
    let err = parse_str("}\n", "aerie.conf").err();
    assert_eq!(err.as_ref().and_then(ConfigError::line), Some(1));
}

#[test]
fn ticker_interval_and_microsecond_histograms() -> Result<(), ConfigError> {
    let text = "service {\n    ticker-interval 5\n    microsecond-histograms true\n}\n\
                namespace test {\n    storage-engine memory\n}\n";
    let config = parse_str(text, "aerie.conf")?;
    assert_eq!(config.service.ticker_interval_secs, 5);
    assert!(config.service.microsecond_histograms);
    assert!(config.warnings.is_empty(), "{:?}", config.warnings);
    let bad = parse_str(
        "service {\n    microsecond-histograms maybe\n}\n",
        "aerie.conf",
    );
    assert!(bad.is_err());
    Ok(())
}
