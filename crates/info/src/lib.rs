//! The info protocol: the text commands clients send to discover and tend a node, and that
//! operators use to inspect and administer it.
//!
//! Each command's answer is formatted exactly as the official clients parse it. Mirrors
//! aerospike-server `as/src/base/thr_info.c` and `cfg_info.c`. Cluster-facing answers
//! (`replicas`, `peers-*`, `partition-generation`) are derived from each namespace's
//! ownership table, so clustering only has to change that table.

mod cluster;
mod jobs;
mod latency;
pub mod process;
mod sindex;
mod stats;
mod udf;

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Instant;

use aerie_config::Config;
use aerie_namespace::Registry;
use aerie_proto::info::{self, param, push_reply, split_command};

pub use latency::{
    percentile_us, BatchSubKind, Histogram, Kind, Latencies, Sample, N_BUCKETS, N_LATENCY_COLS,
};

/// Protocol version the node reports in `build`; clients choose features from it.
pub const COMPAT_BUILD: &str = "8.1.2.0";
/// The edition string clients and tools parse.
pub const COMPAT_EDITION: &str = "Aerospike Community Edition";
/// Aerie's own version.
pub const AERIE_VERSION: &str = env!("CARGO_PKG_VERSION");

/// Connection counters kept by the service layer.
#[derive(Debug, Default)]
pub struct ServiceStats {
    pub client_connections: AtomicU64,
    pub client_connections_opened: AtomicU64,
    pub client_connections_closed: AtomicU64,
    pub info_requests: AtomicU64,
    pub proto_errors: AtomicU64,
}

/// What the info commands need to know about the node.
#[derive(Debug)]
pub struct NodeContext {
    pub node_id: u64,
    pub config: Arc<Config>,
    pub registry: Arc<Registry>,
    /// The address clients should use for this node, `host:port`.
    pub service_endpoint: String,
    pub service_port: u16,
    pub started: Instant,
    pub service_stats: ServiceStats,
    /// Bumped whenever partition ownership changes.
    pub partition_generation: AtomicU64,
    /// UDF modules (`udf-put` and friends).
    pub udf: Arc<aerie_udf::Registry>,
    /// Latency histograms and activity samples (`latencies:`, the console, the ticker).
    pub latencies: Latencies,
    /// Membership and partition map (a one-node cluster unless seeds are configured).
    pub cluster: Arc<aerie_cluster::Cluster>,
}

impl NodeContext {
    /// The node id as clients print it: upper-case hex.
    pub fn node_name(&self) -> String {
        format!("{:X}", self.node_id)
    }

    /// The cluster key: derived from the member list, the same on every member.
    pub fn cluster_key(&self) -> String {
        self.cluster.key_hex()
    }

    fn cluster_name(&self) -> &str {
        self.config
            .service
            .cluster_name
            .as_deref()
            .unwrap_or("null")
    }
}

/// Answers an info request body; appends the reply body (without proto header) to `out`.
pub fn handle(ctx: &NodeContext, body: &[u8], out: &mut Vec<u8>) {
    handle_checked(ctx, body, out, &mut |_, _| Ok(()));
}

/// [`handle`], asking `allow(name, args)` before each command; an `Err` is sent as that
/// command's answer instead of running it (access control).
pub fn handle_checked(
    ctx: &NodeContext,
    body: &[u8],
    out: &mut Vec<u8>,
    allow: &mut dyn FnMut(&str, &str) -> Result<(), String>,
) {
    ctx.service_stats
        .info_requests
        .fetch_add(1, Ordering::Relaxed);
    let mut any = false;
    for raw in info::commands(body) {
        any = true;
        let cmd = String::from_utf8_lossy(raw);
        let cmd = cmd.trim_end_matches('\r');
        let (name, args) = split_command(cmd);
        let value = match allow(name, args) {
            Ok(()) => answer(ctx, cmd),
            Err(refused) => refused,
        };
        push_reply(out, raw, value.as_bytes());
    }
    if !any {
        // An empty request asks for the legacy summary.
        for name in ["node", "build", "edition", "version", "statistics"] {
            let value = match allow(name, "") {
                Ok(()) => answer(ctx, name),
                Err(refused) => refused,
            };
            push_reply(out, name.as_bytes(), value.as_bytes());
        }
    }
}

/// Commands that change system metadata: applied here, then on every other cluster node.
const SMD_COMMANDS: [&str; 6] = [
    "sindex-create",
    "sindex-delete",
    "udf-put",
    "udf-remove",
    "truncate",
    "truncate-namespace",
];

/// The answer to one command. A system-metadata command that succeeds here is sent on to
/// every other node of the cluster (a truncate with its cut-off pinned to now first).
pub fn answer(ctx: &NodeContext, cmd: &str) -> String {
    let (name, args) = split_command(cmd);
    if !ctx.cluster.enabled || !SMD_COMMANDS.contains(&name) {
        return answer_local(ctx, cmd);
    }
    let pinned;
    let cmd = if name.starts_with("truncate") && param(args, "lut").is_none() {
        let now_ns = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos() as u64)
            .unwrap_or(0);
        let sep = if args.is_empty() { "" } else { ";" };
        pinned = format!("{name}:{args}{sep}lut={now_ns}");
        pinned.as_str()
    } else {
        cmd
    };
    let out = answer_local(ctx, cmd);
    if !out.starts_with("ERROR") {
        ctx.cluster.broadcast_smd(cmd.to_owned());
    }
    out
}

/// The answer to one command, on this node only (system metadata from a peer).
pub fn answer_local(ctx: &NodeContext, cmd: &str) -> String {
    let (name, args) = split_command(cmd);
    match name {
        "node" => ctx.node_name(),
        "build" => COMPAT_BUILD.to_owned(),
        "version" => format!("{COMPAT_EDITION} build {COMPAT_BUILD}"),
        "edition" => COMPAT_EDITION.to_owned(),
        "release" => format!(
            "edition={COMPAT_EDITION};version={COMPAT_BUILD};os=linux;arch={};sha=aerie-{AERIE_VERSION}",
            std::env::consts::ARCH
        ),
        "aerie-version" => AERIE_VERSION.to_owned(),
        "status" => "ok".to_owned(),
        "cluster-name" => ctx.cluster_name().to_owned(),
        "features" => FEATURES.to_owned(),
        "namespaces" => ctx.registry.iter().map(|n| n.name.as_str()).collect::<Vec<_>>().join(";"),
        "user-agent-set" => "ok".to_owned(),
        "namespace" => stats::namespace(ctx, args),
        "sets" => stats::sets(ctx, args),
        "bins" => stats::bins(ctx, args),
        "statistics" => stats::statistics(ctx),
        "latencies" => ctx.latencies.answer(args),
        "get-config" => stats::get_config(ctx, args),
        "set-config" => "ERROR:4:no dynamic parameters are supported yet".to_owned(),
        "truncate" => truncate(ctx, args, false),
        "truncate-namespace" => truncate(ctx, args, true),
        "truncate-undo" | "truncate-namespace-undo" => {
            "ERROR:4:truncate is applied at once; there is nothing to undo".to_owned()
        }
        "sindex-create" => sindex::create(ctx, args),
        "sindex-delete" => sindex::delete(ctx, args),
        "sindex-exists" => sindex::exists(ctx, args),
        "sindex-list" => sindex::list(ctx, args),
        "sindex-stat" | "sindex" => sindex::stat(ctx, args),
        "udf-put" => udf::put(ctx, args),
        "udf-get" => udf::get(ctx, args),
        "udf-list" => udf::list(ctx),
        "udf-remove" => udf::remove(ctx, args),
        "query-show" | "scan-show" => jobs::show(args),
        "query-abort" | "scan-abort" => jobs::abort(args),
        "query-abort-all" | "scan-abort-all" => jobs::abort_all(),
        "jobs" => jobs::legacy(args),
        "namespace-create" | "namespace-delete" => match NAMESPACE_ADMIN.get() {
            Some(admin) => admin(ctx, name, args),
            None => "ERROR:16:namespaces cannot be created at run time on this node".to_owned(),
        },
        _ => cluster::answer(ctx, name, args).unwrap_or_else(|| "ERROR:4:unrecognized command".to_owned()),
    }
}

/// Runs `namespace-create` and `namespace-delete` (command name, arguments). Creating a
/// namespace opens storage and starts the namespace's background tasks, which belong to the
/// server binary; it installs this once at startup ([`install_namespace_admin`]).
pub type NamespaceAdmin = dyn Fn(&NodeContext, &str, &str) -> String + Send + Sync;

static NAMESPACE_ADMIN: std::sync::OnceLock<Box<NamespaceAdmin>> = std::sync::OnceLock::new();

/// Installs the handler of the run-time namespace commands (first call wins).
pub fn install_namespace_admin(admin: Box<NamespaceAdmin>) {
    let _ = NAMESPACE_ADMIN.set(admin);
}

/// Features this node supports, as CE 8.1 announces them.
const FEATURES: &str = "batch-any;batch-index;blob-bits;cdt-index;cdt-list;cdt-map;cluster-stable;float;geo;\
sindex-exists;peers;pipelining;pquery;pscans;query-show;relaxed-sc;replicas;replicas-all;replicas-master;\
replicas-max;truncate-namespace;udf";

/// `truncate:namespace=..;set=..[;lut=..]` and `truncate-namespace:namespace=..[;lut=..]`, with
/// Aerospike's answers (`as/src/base/thr_info.c` `cmd_truncate`, `truncate.c`
/// `as_truncate_cmd`): `lut` is Unix nanoseconds read as C's `strtoul` reads it; one at or before
/// the 2010 epoch "would truncate to 0" and one after now "would truncate in the future", both
/// PARAMETER. A namespace this node does not have is not an error: Aerospike hands the command
/// to system metadata, where nodes without it ignore it.
fn truncate(ctx: &NodeContext, args: &str, whole_namespace: bool) -> String {
    let ns_name = match param(args, "namespace") {
        None => return "ERROR:20:missing 'namespace'".to_owned(),
        Some("") => return "ERROR:20:missing 'namespace' value".to_owned(),
        Some(n) => n,
    };
    let set = if whole_namespace {
        None
    } else {
        match param(args, "set") {
            None => return "ERROR:4:missing 'set'".to_owned(),
            Some("") => return "ERROR:4:missing 'set' value".to_owned(),
            Some(s) => Some(s),
        }
    };
    let lut_ms = match param(args, "lut") {
        None => None,
        Some("") => return "ERROR:4:missing 'lut' value".to_owned(),
        Some(v) => {
            let lut_ms = aerie_record::time::unix_ns_to_ms(strtoul(v));
            if lut_ms == 0 {
                return "ERROR:4:would truncate to 0".to_owned();
            }
            if lut_ms > aerie_record::time::now_ms() {
                return "ERROR:4:would truncate in the future".to_owned();
            }
            Some(lut_ms)
        }
    };
    let Some(ns) = ctx.registry.get(ns_name.as_bytes()) else {
        tracing::info!(
            namespace = ns_name,
            "truncate of a namespace this node does not have"
        );
        return "ok".to_owned();
    };
    match ns.truncate(set.map(str::as_bytes), lut_ms) {
        Ok(n) => {
            tracing::info!(
                namespace = ns_name,
                set = set.unwrap_or(""),
                removed = n,
                "truncated"
            );
            "ok".to_owned()
        }
        Err(_) => "ERROR:4:would truncate in the future".to_owned(),
    }
}

/// C's `strtoul(text, NULL, 0)` on a 64-bit target: leading blanks, an optional sign (a minus
/// negates modulo 2^64), `0x` for hex or a leading `0` for octal, digits up to the first that is
/// not one; overflow gives `u64::MAX`, no digits give 0.
fn strtoul(text: &str) -> u64 {
    let t = text.trim_start();
    let (negative, t) = match t.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, t.strip_prefix('+').unwrap_or(t)),
    };
    let (radix, digits) = if let Some(rest) = t.strip_prefix("0x").or_else(|| t.strip_prefix("0X"))
    {
        (16, rest)
    } else if t.starts_with('0') {
        (8, t)
    } else {
        (10, t)
    };
    let mut value: u64 = 0;
    for c in digits.chars() {
        let Some(d) = c.to_digit(radix) else { break };
        match value
            .checked_mul(u64::from(radix))
            .and_then(|v| v.checked_add(u64::from(d)))
        {
            Some(v) => value = v,
            None => return u64::MAX,
        }
    }
    if negative {
        value.wrapping_neg()
    } else {
        value
    }
}

#[cfg(test)]
mod strtoul_tests {
    use super::strtoul;

    #[test]
    fn reads_numbers_as_c_strtoul_does() {
        assert_eq!(strtoul("1500000000000000000"), 1_500_000_000_000_000_000);
        assert_eq!(strtoul("  42abc"), 42);
        assert_eq!(strtoul("0x10"), 16);
        assert_eq!(strtoul("010"), 8);
        assert_eq!(strtoul("-1"), u64::MAX);
        assert_eq!(strtoul("99999999999999999999999"), u64::MAX);
        assert_eq!(strtoul("abc"), 0);
    }
}
