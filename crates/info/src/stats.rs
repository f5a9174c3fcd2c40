//! Statistics and configuration answers: `namespace/<ns>`, `sets`, `bins`, `statistics`,
//! `get-config`.

use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::sync::atomic::Ordering;

use aerie_config::StorageEngineConfig;
use aerie_namespace::Namespace;
use aerie_proto::info::param;

use crate::NodeContext;

macro_rules! kv {
    ($out:expr, $($k:expr => $v:expr),* $(,)?) => {
        $( let _ = write!($out, "{}={};", $k, $v); )*
    };
}

/// `namespace/<ns>`: statistics and configuration of one namespace.
pub fn namespace(ctx: &NodeContext, args: &str) -> String {
    let name = args.split([';', ':']).next().unwrap_or("");
    let name = param(name, "id").unwrap_or(name);
    let Some(ns) = ctx.registry.get(name.as_bytes()) else {
        return "type=unknown".to_owned();
    };
    let s = &ns.stats;
    let u = &ns.usage;
    let objects = ns.n_objects();
    let index_bytes: u64 = ns
        .partitions()
        .iter()
        .map(|p| p.lock().memory_bytes() as u64)
        .sum();
    let device_total = u.device_total_bytes.load(Ordering::Relaxed);
    let device_used = u.device_used_bytes.load(Ordering::Relaxed);
    // Objects in partitions this node masters, and in those it holds as a replica.
    let table = ns.ownership();
    let (mut master_objects, mut prole_objects) = (0u64, 0u64);
    for (pid, p) in ns.partitions().iter().enumerate() {
        let n = p.lock().len() as u64;
        if table.holds(pid, 0, ctx.node_id) {
            master_objects += n;
        } else if (1..table.n_replicas).any(|c| table.holds(pid, c, ctx.node_id)) {
            prole_objects += n;
        }
    }
    let mut out = String::new();
    kv!(out,
        "ns_cluster_size" => ctx.cluster.size(),
        "effective_replication_factor" => table.n_replicas,
        "objects" => objects,
        "tombstones" => ns.n_tombstones(),
        "tomb_raider_passes" => ns.raider().raids.load(Ordering::Relaxed),
        "tombstones_dropped" => ns.raider().dropped.load(Ordering::Relaxed),
        "master_objects" => master_objects,
        "prole_objects" => prole_objects,
        "expired_objects" => s.expired_objects.load(Ordering::Relaxed),
        "evicted_objects" => s.evicted_objects.load(Ordering::Relaxed),
        "truncated_records" => s.truncated_records.load(Ordering::Relaxed),
        "data_used_bytes" => u.data_bytes.load(Ordering::Relaxed),
        "index_used_bytes" => index_bytes,
        "device_used_bytes" => device_used,
        "device_total_bytes" => device_total,
        "device_group_commits" => ns.group_commits(),
        "device_compression_ratio" => format!("{:.3}", ns.compression_ratio()),
        "start_type" => ns.start_type,
        "start_ms" => ns.start_ms,
        "device_free_pct" => 100 - (device_used * 100).checked_div(device_total).unwrap_or(0),
        "data_used_pct" => u.used_pct.load(Ordering::Relaxed),
        "stop_writes" => ns.stop_writes(),
        "fail_stop_writes" => s.stop_writes_refused.load(Ordering::Relaxed),
        "client_read_success" => s.client_read_success.load(Ordering::Relaxed),
        "client_read_not_found" => s.client_read_not_found.load(Ordering::Relaxed),
        "client_read_error" => s.client_read_error.load(Ordering::Relaxed),
        "client_write_success" => s.client_write_success.load(Ordering::Relaxed),
        "client_write_error" => s.client_write_error.load(Ordering::Relaxed),
        "client_delete_success" => s.client_delete_success.load(Ordering::Relaxed),
        "client_delete_not_found" => s.client_delete_not_found.load(Ordering::Relaxed),
    );
    s.udf.visit(|prefix, name, v| {
        let _ = write!(out, "{prefix}{name}={v};");
    });
    config_of(ns, &mut out);
    out.pop();
    out
}

fn config_of(ns: &Namespace, out: &mut String) {
    let c = &ns.config;
    kv!(out,
        "replication-factor" => c.replication_factor,
        "default-ttl" => c.default_ttl_secs,
        "max-ttl" => c.max_ttl_secs,
        "nsup-period" => c.nsup_period_secs,
        "allow-ttl-without-nsup" => c.allow_ttl_without_nsup,
        "max-record-size" => c.max_record_size_bytes,
        "stop-writes-used-pct" => c.stop_writes_used_pct,
        "evict-used-pct" => c.evict_used_pct,
        "rack-id" => c.racks.rack_id,
        "prefer-uniform-balance" => c.racks.prefer_uniform_balance,
        "active-rack" => c.racks.active_rack,
        "storage-engine" => match c.storage { StorageEngineConfig::Memory(_) => "memory", StorageEngineConfig::Device(_) => "device" },
    );
}

/// `sets`, `sets/<ns>`, `sets/<ns>/<set>`.
pub fn sets(ctx: &NodeContext, args: &str) -> String {
    let mut parts = args.split('/').filter(|s| !s.is_empty());
    let ns_filter = parts.next();
    let set_filter = parts.next();
    let mut out = String::new();
    for ns in ctx.registry.iter() {
        if ns_filter.is_some_and(|f| f != ns.name) {
            continue;
        }
        for (_, s) in ns.sets.iter() {
            if set_filter.is_some_and(|f| f != s.name) {
                continue;
            }
            let _ = write!(
                out,
                "ns={}:set={}:objects={}:tombstones=0:data_used_bytes=0:truncate_lut={}:sindexes=0:index_populating=false:stop-writes-count=0:stop-writes-size=0:disable-eviction=false;",
                ns.name,
                s.name,
                s.objects.load(Ordering::Relaxed),
                s.truncate_lut_ms.load(Ordering::Relaxed),
            );
        }
    }
    out
}

/// `bins`, `bins/<ns>`: the bin names in use (found by a pass over the records).
pub fn bins(ctx: &NodeContext, args: &str) -> String {
    let ns_filter = args.split('/').find(|s| !s.is_empty());
    let mut out = String::new();
    for ns in ctx.registry.iter() {
        if ns_filter.is_some_and(|f| f != ns.name) {
            continue;
        }
        let mut names = BTreeSet::new();
        for p in ns.partitions() {
            let idx = p.lock();
            let mut buf = aerie_namespace::ReadBuf::new();
            for (_, r) in idx.iter_from(None) {
                // Device namespaces read each record back; an unreadable one is skipped.
                let Ok(r) = ns.data(r, &mut buf) else {
                    continue;
                };
                for b in r.iter_bins() {
                    if !names.contains(b.name) {
                        names.insert(b.name.to_vec());
                    }
                }
            }
        }
        let list: Vec<String> = names
            .iter()
            .map(|n| String::from_utf8_lossy(n).into_owned())
            .collect();
        if ns_filter.is_some() {
            let _ = write!(out, "bin_names={},bin_names_quota=65535", list.len());
        } else {
            let _ = write!(
                out,
                "{}:bin_names={},bin_names_quota=65535",
                ns.name,
                list.len()
            );
        }
        for n in &list {
            let _ = write!(out, ",{n}");
        }
        if ns_filter.is_none() {
            out.push(';');
        }
    }
    out
}

/// `statistics`: node-wide counters.
pub fn statistics(ctx: &NodeContext) -> String {
    let s = &ctx.service_stats;
    let objects: u64 = ctx.registry.iter().map(|n| n.n_objects()).sum();
    let mut out = String::new();
    kv!(out,
        "cluster_size" => ctx.cluster.size(),
        "cluster_key" => ctx.cluster_key(),
        "cluster_integrity" => true,
        "cluster_is_member" => true,
        "cluster_principal" => ctx.node_name(),
        "uptime" => ctx.started.elapsed().as_secs(),
        "objects" => objects,
        "client_connections" => s.client_connections.load(Ordering::Relaxed),
        "client_connections_opened" => s.client_connections_opened.load(Ordering::Relaxed),
        "client_connections_closed" => s.client_connections_closed.load(Ordering::Relaxed),
        "info_requests" => s.info_requests.load(Ordering::Relaxed),
        "proto_errors" => s.proto_errors.load(Ordering::Relaxed),
    );
    push_cluster_stats(ctx, &mut out);
    ctx.latencies.push_statistics(&mut out);
    out.pop();
    out
}

/// `get-config[:context=service|network|namespace;namespace=<ns>|id=<ns>]`, with Aerospike's
/// answers (`as/src/base/cfg_info.c`): a namespace this node lacks is `ERROR:20:namespace not
/// found on node`, `security` is empty while security is not configured, and any other
/// context is `ERROR:4:invalid context`.
pub fn get_config(ctx: &NodeContext, args: &str) -> String {
    let context = param(args, "context").unwrap_or("service");
    let c = &ctx.config;
    let mut out = String::new();
    match context {
        "service" => {
            kv!(out,
                "cluster-name" => c.service.cluster_name.as_deref().unwrap_or("null"),
                "node-id" => ctx.node_name(),
                "proto-fd-max" => c.service.proto_fd_max,
                "transaction-max-ms" => c.service.transaction_max_ms,
            );
        }
        "network" => {
            kv!(out,
                "service.address" => c.network.service.address,
                "service.port" => ctx.service_port,
                "fabric.port" => c.network.fabric.port,
                "heartbeat.port" => c.network.heartbeat.port,
                "http.port" => c.network.http.port,
            );
        }
        "namespace" => {
            let name = match param(args, "namespace").or_else(|| param(args, "id")) {
                None => return "ERROR:20:missing 'namespace'".to_owned(),
                Some("") => return "ERROR:20:missing 'namespace' value".to_owned(),
                Some(name) => name,
            };
            let Some(ns) = ctx.registry.get(name.as_bytes()) else {
                return "ERROR:20:namespace not found on node".to_owned();
            };
            config_of(ns, &mut out);
        }
        "security" => return String::new(),
        _ => return "ERROR:4:invalid context".to_owned(),
    }
    out.pop();
    out
}

/// Clustering counters: proxies, replica writes, migrations.
fn push_cluster_stats(ctx: &NodeContext, out: &mut String) {
    let c = &ctx.cluster.stats;
    let get = |a: &std::sync::atomic::AtomicU64| a.load(Ordering::Relaxed);
    kv!(out,
        "migrate_partitions_remaining" => get(&c.migrate_partitions_remaining),
        "migrate_partitions_received" => get(&c.migrate_partitions_received),
        "migrate_records_sent" => get(&c.migrate_records_sent),
        "migrate_records_received" => get(&c.migrate_records_received),
        "migrate_records_skipped" => get(&c.migrate_records_skipped),
        "migrate_partitions_dropped" => get(&c.migrate_partitions_dropped),
        "migrate_records_dropped" => get(&c.migrate_records_dropped),
        "proxy_initiated" => get(&c.proxy_initiated),
        "proxy_errors" => get(&c.proxy_errors),
        "replica_writes_sent" => get(&c.replica_writes_sent),
        "replica_write_errors" => get(&c.replica_write_errors),
        "replica_writes_applied" => get(&c.replica_writes_applied),
        "cluster_changes" => get(&c.cluster_changes),
    );
}
