//! Namespaces created and deleted at run time: the `namespace-create:namespace=NAME;...` and
//! `namespace-delete:namespace=NAME` info commands (the REST API's `/v1/namespace` runs them
//! too).
//!
//! `namespace-create` takes the parameters of a `namespace NAME { }` stanza as `key=value`
//! pairs; `storage-engine=memory|device` with the storage keys (`file`, `filesize`,
//! `data-in-memory`, ...) going inside the storage sub-stanza. The stanza is parsed by the
//! configuration parser, so the same rules and defaults apply, then added to the namespace
//! registry and appended to `namespaces.conf` in the work directory (the server's current
//! directory), which startup reads after the configuration file: a created namespace comes
//! back after a restart. Refused: a name that exists, a storage file another namespace uses,
//! and clustered nodes (not propagated through system metadata yet). `namespace-delete`
//! removes only namespaces created at run time: their records are truncated at once and the
//! namespace is hidden; its memory and files are released at the next restart.

use std::path::PathBuf;

use aerie_config::Config;
use aerie_info::NodeContext;
use aerie_namespace::{Namespace, RegistryError};
use aerie_proto::info::{param, params};

/// The file, in the work directory, holding the stanzas of namespaces created at run time.
pub const NAMESPACES_FILE: &str = "namespaces.conf";

/// Keys that belong inside the `storage-engine` sub-stanza.
const STORAGE_KEYS: &[&str] = &[
    "file",
    "filesize",
    "device",
    "data-size",
    "data-in-memory",
    "write-block-size",
    "commit-to-device",
    "flush-max-ms",
    "flush-size",
    "defrag-lwm-pct",
    "defrag-sleep",
    "compression",
    "compression-level",
    "post-write-cache",
    "max-used-pct",
    "evict-used-pct",
    "stop-writes-used-pct",
    "direct-files",
    "read-page-cache",
];

/// Serializes changes of the namespaces file.
static FILE_LOCK: parking_lot::Mutex<()> = parking_lot::Mutex::new(());

fn file_path() -> PathBuf {
    PathBuf::from(NAMESPACES_FILE)
}

/// Adds the namespaces created at run time before the last stop to `config`.
pub fn load_persisted(config: &mut Config) -> Result<(), String> {
    let path = file_path();
    let text = match std::fs::read_to_string(&path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(format!("cannot read {}: {e}", path.display())),
    };
    for (name, stanza) in stanzas(&text) {
        if config.namespaces.iter().any(|n| n.name == name) {
            return Err(format!(
                "namespace {name} of {} is also in the configuration file: remove one of them",
                path.display()
            ));
        }
        let ns = parse_stanza(&stanza).map_err(|e| format!("{}: {e}", path.display()))?;
        config.namespaces.push(ns);
    }
    Ok(())
}

/// Installs the info command handler.
pub fn install() {
    aerie_info::install_namespace_admin(Box::new(|ctx, name, args| {
        let r = match name {
            "namespace-create" => create(ctx, args),
            _ => delete(ctx, args),
        };
        r.unwrap_or_else(|e| e)
    }));
}

fn create(ctx: &NodeContext, args: &str) -> Result<String, String> {
    let name = param(args, "namespace")
        .or_else(|| param(args, "ns"))
        .filter(|n| !n.is_empty())
        .ok_or("ERROR:4:missing namespace")?;
    if !valid_name(name) {
        return Err("ERROR:4:invalid namespace name (1 to 31 letters, digits, '-' or '_')".into());
    }
    if ctx.cluster.enabled {
        return Err("ERROR:16:namespaces are created at run time on single nodes only; add the stanza to every node's configuration".into());
    }
    let stanza = stanza_text(name, args)?;
    let config = parse_stanza(&stanza).map_err(|e| format!("ERROR:4:{e}"))?;
    let _file = FILE_LOCK.lock();
    let ns = match ctx
        .registry
        .add(config, |c| Namespace::open(c, ctx.node_id))
    {
        Err(e @ RegistryError::Exists(_)) => return Err(format!("ERROR:200:{e}")),
        Err(e) => return Err(format!("ERROR:4:{e}")),
        Ok(Err(e)) => return Err(format!("ERROR:1:{e}")),
        Ok(Ok(ns)) => ns.clone(),
    };
    if let Err(e) = persist(|text| {
        let mut t = text.to_owned();
        t.push_str(&stanza);
        t
    }) {
        // Not persisted: take the namespace back rather than lose it at the next restart.
        let _ = ctx.registry.delete(name);
        return Err(format!("ERROR:1:cannot save {NAMESPACES_FILE}: {e}"));
    }
    crate::service::start_namespace_tasks(&ns);
    // Clients refetch the partition map when this moves, and so learn the namespace.
    ctx.partition_generation
        .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    tracing::info!(namespace = name, "namespace created at run time");
    Ok("ok".into())
}

fn delete(ctx: &NodeContext, args: &str) -> Result<String, String> {
    let name = param(args, "namespace")
        .or_else(|| param(args, "ns"))
        .ok_or("ERROR:4:missing namespace")?;
    let _file = FILE_LOCK.lock();
    let text = std::fs::read_to_string(file_path()).unwrap_or_default();
    if !stanzas(&text).iter().any(|(n, _)| n == name) {
        return Err(if ctx.registry.get(name.as_bytes()).is_some() {
            format!("ERROR:4:namespace {name} comes from the configuration file; remove it there and restart")
        } else {
            format!("ERROR:20:namespace {name} not found")
        });
    }
    persist(|text| {
        stanzas(text)
            .into_iter()
            .filter(|(n, _)| n != name)
            .map(|(_, s)| s)
            .collect()
    })
    .map_err(|e| format!("ERROR:1:cannot save {NAMESPACES_FILE}: {e}"))?;
    let ns = ctx
        .registry
        .delete(name)
        .map_err(|e| format!("ERROR:20:{e}"))?;
    // Free the records now; the namespace's memory and files go at the next restart.
    let _ = ns.truncate(None, None);
    ctx.partition_generation
        .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    tracing::info!(namespace = name, "namespace deleted at run time");
    Ok("ok".into())
}

fn valid_name(n: &str) -> bool {
    (1..=31).contains(&n.len())
        && n.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// The `namespace NAME { }` stanza for the command's `key=value` pairs.
fn stanza_text(name: &str, args: &str) -> Result<String, String> {
    let mut top = Vec::new();
    let mut storage = Vec::new();
    let mut engine = None;
    for (k, v) in params(args) {
        if matches!(k, "namespace" | "ns") {
            continue;
        }
        let clean = |s: &str| {
            !s.is_empty()
                && s.bytes()
                    .all(|b| b.is_ascii_graphic() && !matches!(b, b'{' | b'}' | b'#'))
        };
        if !clean(k) || !clean(v) {
            return Err(format!("ERROR:4:invalid parameter {k}={v}"));
        }
        if k == "storage-engine" {
            engine = Some(v.to_owned());
        } else if STORAGE_KEYS.contains(&k) {
            storage.push(format!("        {k} {v}\n"));
        } else {
            top.push(format!("    {k} {v}\n"));
        }
    }
    let mut s = format!("namespace {name} {{\n");
    for line in top {
        s.push_str(&line);
    }
    match (engine.as_deref(), storage.is_empty()) {
        (None, true) => s.push_str("    storage-engine memory\n"),
        (Some(e), true) => s.push_str(&format!("    storage-engine {e}\n")),
        (e, false) => {
            s.push_str(&format!(
                "    storage-engine {} {{\n",
                e.unwrap_or("memory")
            ));
            for line in storage {
                s.push_str(&line);
            }
            s.push_str("    }\n");
        }
    }
    s.push_str("}\n");
    Ok(s)
}

fn parse_stanza(stanza: &str) -> Result<aerie_config::NamespaceConfig, String> {
    let mut c = aerie_config::parse_str(stanza, NAMESPACES_FILE).map_err(|e| e.to_string())?;
    match (c.namespaces.pop(), c.namespaces.is_empty()) {
        (Some(ns), true) => Ok(ns),
        _ => Err("expected exactly one namespace stanza".into()),
    }
}

/// The file's stanzas with their namespace names, in order.
fn stanzas(text: &str) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = Vec::new();
    for line in text.lines() {
        if let Some(rest) = line.strip_prefix("namespace ") {
            let name = rest.trim_end_matches('{').trim().to_owned();
            out.push((name, String::new()));
        }
        if let Some((_, s)) = out.last_mut() {
            s.push_str(line);
            s.push('\n');
        }
    }
    out
}

/// Rewrites the namespaces file with `change` applied, atomically (temp file, fsync, rename).
fn persist(change: impl FnOnce(&str) -> String) -> std::io::Result<()> {
    use std::io::Write as _;
    let path = file_path();
    let old = match std::fs::read_to_string(&path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
        Err(e) => return Err(e),
    };
    let new = change(&old);
    let tmp = path.with_extension("conf.tmp");
    {
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(new.as_bytes())?;
        f.sync_all()?;
    }
    std::fs::rename(&tmp, &path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stanza_from_pairs_parses() {
        let s = stanza_text(
            "rt",
            "namespace=rt;replication-factor=1;default-ttl=0;storage-engine=device;file=/tmp/x.dat;filesize=64M",
        )
        .unwrap_or_default();
        assert!(s.contains("storage-engine device {"), "{s}");
        let ns = parse_stanza(&s);
        assert!(ns.is_ok_and(|n| n.name == "rt"), "{s}");
        assert!(stanza_text("rt", "namespace=rt;x={").is_err());
        let two = format!("{s}{}", stanza_text("b", "namespace=b").unwrap_or_default());
        let names: Vec<String> = stanzas(&two).into_iter().map(|(n, _)| n).collect();
        assert_eq!(names, ["rt", "b"]);
    }

    #[test]
    fn names_are_checked() {
        assert!(valid_name("ok_name-1"));
        assert!(!valid_name(""));
        assert!(!valid_name("a;b"));
        assert!(!valid_name(&"x".repeat(32)));
    }
}
