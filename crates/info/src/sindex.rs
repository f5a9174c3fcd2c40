//! Secondary-index info commands: `sindex-create`, `sindex-delete`, `sindex-exists`,
//! `sindex-list`, `sindex-stat` (and the older `sindex/<ns>[/<index>]`). Mirrors
//! aerospike-server `as/src/sindex/sindex_manager.c` and the sindex parts of `thr_info.c`.

use aerie_proto::info::param;
use aerie_sindex::{CreateError, SindexDef, Sindexes};

use crate::NodeContext;

fn namespace_param(args: &str) -> Option<&str> {
    param(args, "namespace").or_else(|| param(args, "ns"))
}

/// `sindex-create:namespace=..;set=..;indexname=..;[indextype=..;]bin=..;type=..` or the
/// older `...;indexdata=<bin>,<type>`.
///
/// As Aerospike's `as_sindex_manager_sindex_create`: a definition for a namespace this node does
/// not have is accepted (`ok`; it goes to system metadata, which such nodes ignore), except a set
/// index, which answers PARAMETER "namespace not found".
pub fn create(ctx: &NodeContext, args: &str) -> String {
    let Some(ns_name) = namespace_param(args).filter(|n| !n.is_empty()) else {
        return "ERROR:20:missing 'namespace'".to_owned();
    };
    let def = match SindexDef::parse(|k| param(args, k)) {
        Ok(d) => d,
        Err(e) => return format!("ERROR:4:{e}"),
    };
    let Some(ns) = ctx.registry.get(ns_name.as_bytes()) else {
        if param(args, "indextype").is_some_and(|t| t.eq_ignore_ascii_case("set")) {
            return "ERROR:4:namespace not found".to_owned();
        }
        tracing::info!(namespace = ns_name, index = %def.name, "sindex-create for a namespace this node does not have");
        return "ok".to_owned();
    };
    let Some(sis) = Sindexes::of(ns) else {
        return "ERROR:1:secondary indexes unavailable".to_owned();
    };
    let name = def.name.clone();
    match sis.create(ns, def) {
        Ok(()) => {
            tracing::info!(namespace = ns_name, index = %name, "sindex created");
            "ok".to_owned()
        }
        Err(CreateError::Exists) => "ERROR:200:index with the same name already exists".to_owned(),
        Err(CreateError::TooMany) => "ERROR:206:too many indexes".to_owned(),
        Err(CreateError::BadSet) => "ERROR:4:invalid set".to_owned(),
        Err(CreateError::Unavailable) => "ERROR:1:secondary indexes unavailable".to_owned(),
    }
}

/// `sindex-delete:namespace=..;indexname=..` → `ok`, also when the index or (as in Aerospike)
/// the namespace is absent.
pub fn delete(ctx: &NodeContext, args: &str) -> String {
    let (Some(ns_name), Some(name)) = (namespace_param(args), param(args, "indexname")) else {
        return "ERROR:4:missing namespace or indexname".to_owned();
    };
    let Some(ns) = ctx.registry.get(ns_name.as_bytes()) else {
        return "ok".to_owned();
    };
    if Sindexes::existing(ns).is_some_and(|s| s.delete(ns, name)) {
        tracing::info!(namespace = ns_name, index = name, "sindex dropped");
    }
    "ok".to_owned()
}

/// `sindex-exists:namespace=..;indexname=..` → `true` / `false`.
pub fn exists(ctx: &NodeContext, args: &str) -> String {
    let (Some(ns_name), Some(name)) = (namespace_param(args), param(args, "indexname")) else {
        return "ERROR:4:missing namespace or indexname".to_owned();
    };
    let Some(ns) = ctx.registry.get(ns_name.as_bytes()) else {
        return "ERROR:20:namespace not found on node".to_owned();
    };
    let found = Sindexes::existing(ns).is_some_and(|s| s.get(name).is_some());
    found.to_string()
}

/// `sindex-list[:namespace=..]`: one `ns=..:indexname=..:set=..:bin=..:type=..:indextype=..:
/// context=..:exp=..:state=RW|WO` entry per index, `;`-separated.
pub fn list(ctx: &NodeContext, args: &str) -> String {
    let only = namespace_param(args);
    let mut entries = Vec::new();
    for ns in ctx.registry.iter() {
        if only.is_some_and(|n| n != ns.name) {
            continue;
        }
        let Some(sis) = Sindexes::existing(ns) else {
            continue;
        };
        for si in sis.list() {
            let d = &si.def;
            entries.push(format!(
                "ns={}:indexname={}:set={}:bin={}:type={}:indextype={}:context={}:exp={}:state={}",
                ns.name,
                d.name,
                d.set.as_deref().unwrap_or("NULL"),
                if d.bin.is_empty() { "NULL" } else { &d.bin },
                d.ktype.name(),
                d.ctype.name(),
                d.context.as_ref().map_or("NULL", |c| c.base64.as_str()),
                d.exp.as_ref().map_or("NULL", |e| e.base64.as_str()),
                if si.load_pct() >= 100 { "RW" } else { "WO" },
            ));
        }
    }
    entries.join(";")
}

/// `sindex-stat:namespace=..;indexname=..` (or `sindex/<ns>/<index>`): statistics with
/// `load_pct`, which index-create tasks poll. `sindex/<ns>` lists the namespace's indexes.
pub fn stat(ctx: &NodeContext, args: &str) -> String {
    let (ns_name, name) = match (namespace_param(args), param(args, "indexname")) {
        (Some(n), Some(i)) => (n, i),
        _ => match args.split_once('/') {
            Some((n, i)) => (n, i),
            None if !args.is_empty() && !args.contains('=') => {
                return list(ctx, &format!("namespace={args}"))
            }
            None => return list(ctx, args),
        },
    };
    let Some(ns) = ctx.registry.get(ns_name.as_bytes()) else {
        return "ERROR:20:namespace not found".to_owned();
    };
    let Some(si) = Sindexes::existing(ns).and_then(|s| s.get(name)) else {
        return "ERROR:201:no index".to_owned();
    };
    let load_pct = si.load_pct();
    format!(
        "entries={};used_bytes=0;load_pct={load_pct};load_time=0;stat_gc_recs=0;\
query_basic_complete=0;query_basic_error=0;query_basic_abort=0;query_basic_avg_rec_count=0",
        si.entries()
    )
}
