//! Discovery and tending answers: peers, services, partition map.

use std::sync::atomic::Ordering;

use aerie_proto::info::param;
use base64::Engine as _;

use crate::NodeContext;

/// Answers the cluster-facing commands; `None` when `name` is not one of them.
pub fn answer(ctx: &NodeContext, name: &str, args: &str) -> Option<String> {
    Some(match name {
        "partition-generation" => (ctx.partition_generation.load(Ordering::Relaxed)
            + ctx.cluster.partition_generation())
        .to_string(),
        "peers-generation" | "rebalance-generation" => ctx.cluster.peers_generation().to_string(),
        "cluster-size" => ctx.cluster.size().to_string(),
        "cluster-key" => ctx.cluster_key(),
        "cluster-stable" => cluster_stable(ctx, args),
        "peers-clear-std" | "peers-clear-alt" => peers(ctx),
        "peers-tls-std" | "peers-tls-alt" | "alumni-clear-std" | "alumni-tls-std" => {
            format!("{},{},[]", ctx.cluster.peers_generation(), ctx.service_port)
        }
        "services" | "services-alternate" => services(ctx),
        "services-alumni" | "services-alumni-reset" => String::new(),
        "service" | "service-clear-std" | "service-clear-alt" => ctx.service_endpoint.clone(),
        "service-tls-std" | "service-tls-alt" => String::new(),
        "replicas" => replicas(ctx, args, true, true),
        "replicas-all" => replicas(ctx, args, false, true),
        "replicas-master" => replicas(ctx, args, false, false),
        "rack-ids" => rack_ids(ctx),
        "racks" => racks(ctx, args),
        _ => return None,
    })
}

fn cluster_stable(ctx: &NodeContext, args: &str) -> String {
    if !ctx.cluster.is_settled() {
        return "ERROR::cluster not stable".to_owned();
    }
    let ignore_migrations = param(args, "ignore-migrations").is_some_and(|v| v == "true");
    let remaining = ctx
        .cluster
        .stats
        .migrate_partitions_remaining
        .load(Ordering::Relaxed);
    if remaining > 0 && !ignore_migrations {
        return "ERROR::unstable-cluster".to_owned();
    }
    if let Some(size) = param(args, "size") {
        if size != ctx.cluster.size().to_string() {
            return "ERROR::cluster not specified size".to_owned();
        }
    }
    if let Some(ns) = param(args, "namespace") {
        if ctx.registry.get(ns.as_bytes()).is_none() {
            return "ERROR::namespace not found".to_owned();
        }
    }
    ctx.cluster_key()
}

/// `<generation>,<default port>,[[<node>,,[<host>:<port>]],…]`: every other member.
fn peers(ctx: &NodeContext) -> String {
    let view = ctx.cluster.view();
    let list: Vec<String> = view
        .members
        .iter()
        .filter(|m| m.node_id != ctx.node_id)
        .map(|m| format!("[{:X},,[{}]]", m.node_id, m.service))
        .collect();
    format!(
        "{},{},[{}]",
        ctx.cluster.peers_generation(),
        ctx.service_port,
        list.join(",")
    )
}

/// `<host>:<port>;…` of every other member.
fn services(ctx: &NodeContext) -> String {
    let view = ctx.cluster.view();
    view.members
        .iter()
        .filter(|m| m.node_id != ctx.node_id)
        .map(|m| m.service.as_str())
        .collect::<Vec<_>>()
        .join(";")
}

/// `ns:<rack id>;…`: this node's rack in each namespace (the clients' `PREFER_RACK` reads it).
fn rack_ids(ctx: &NodeContext) -> String {
    ctx.registry
        .iter()
        .map(|ns| format!("{}:{}", ns.name, ns.config.racks.rack_id))
        .collect::<Vec<_>>()
        .join(";")
}

/// `ns=<ns>:rack_<id>=<node>,<node>:rack_<id>=…;…`: the members of each rack, per namespace
/// (`namespace=NS` picks one).
fn racks(ctx: &NodeContext, args: &str) -> String {
    let only = param(args, "namespace");
    if let Some(ns) = only {
        if ctx.registry.get(ns.as_bytes()).is_none() {
            return "ERROR:20:namespace not found".to_owned();
        }
    }
    let view = ctx.cluster.view();
    let mut out = Vec::new();
    for ns in ctx.registry.iter() {
        if only.is_some_and(|o| o != ns.name) {
            continue;
        }
        let mut by_rack: std::collections::BTreeMap<u32, Vec<String>> = Default::default();
        for m in &view.members {
            by_rack
                .entry(m.rack(&ns.name))
                .or_default()
                .push(format!("{:X}", m.node_id));
        }
        let mut line = format!("ns={}", ns.name);
        for (rack, nodes) in by_rack {
            line.push_str(&format!(":rack_{rack}={}", nodes.join(",")));
        }
        out.push(line);
    }
    out.join(";")
}

/// `ns:<regime>,<n>,<b64>…;` (with regime), `ns:<n>,<b64>…;` (all) or `ns:<b64>;` (master).
fn replicas(ctx: &NodeContext, args: &str, with_regime: bool, all_columns: bool) -> String {
    let max: Option<usize> = param(args, "max").and_then(|m| m.parse().ok());
    let b64 = base64::engine::general_purpose::STANDARD;
    let mut out = String::new();
    for ns in ctx.registry.iter() {
        let table = ns.ownership();
        let columns = if all_columns {
            max.map_or(table.n_replicas, |m| m.min(table.n_replicas))
        } else {
            1
        };
        if !out.is_empty() {
            out.push(';');
        }
        out.push_str(&ns.name);
        out.push(':');
        if with_regime {
            // The regime is for strong-consistency namespaces; AP ones report 0 (clients read
            // a non-zero regime as "strong consistency").
            out.push_str("0,");
        }
        if all_columns {
            out.push_str(&format!("{columns}"));
        }
        for c in 0..columns {
            if all_columns || c > 0 {
                out.push(',');
            }
            out.push_str(&b64.encode(table.bitmap(c, ctx.node_id)));
        }
    }
    out
}
