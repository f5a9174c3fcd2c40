//! `namespace NAME { }`: the namespace parameters, its storage engine and its sets, then the checks
//! that span several lines. Mirrors the `NAMESPACE*` contexts of Aerospike's `as/src/base/cfg.c`.

use std::collections::HashMap;

use crate::error::{ParseErrorKind, Section};
use crate::lexer::{Item, Param, Stanza};
use crate::parse::Ctx;
use crate::types::{
    DeviceStorageConfig, MemoryStorageConfig, NamespaceConfig, SetConfig, StorageEngineConfig,
    MAX_ALLOWED_TTL_SECS, MAX_RACK_ID,
};
use crate::value::{is_valid_name, ParamValue};
use crate::{
    unused, ConfigError, MAX_NAMESPACES, MAX_NAMESPACE_NAME_BYTES, MAX_SETS_PER_NAMESPACE,
    MAX_SET_NAME_BYTES,
};

/// Largest write block (Aerospike's `WBLOCK_SZ`, 8 MiB); also the largest `max-record-size`.
pub(crate) const MAX_WRITE_BLOCK_BYTES: u64 = 8 << 20;
/// Smallest write block accepted.
pub(crate) const MIN_WRITE_BLOCK_BYTES: u64 = 1 << 10;
/// Largest storage file (Aerospike's `AS_STORAGE_MAX_DEVICE_SIZE`, 2 TiB). Aerospike's 128 MiB
/// minimum is not enforced, so tests can use small files; the floor is one write block.
pub(crate) const MAX_FILESIZE_BYTES: u64 = 2 << 40;

const STORAGE_USAGE: &str = "storage-engine memory|device {";

/// Parses one namespace stanza. `seen` maps the names of earlier namespaces to their lines.
pub(crate) fn parse_namespace(
    ctx: &mut Ctx<'_>,
    stanza: &Stanza,
    seen: &HashMap<String, u32>,
) -> Result<NamespaceConfig, ConfigError> {
    let name = ctx.one_arg(stanza, "namespace", "name", "namespace NAME {")?;
    check_stanza_name(ctx, stanza, "namespace", name, MAX_NAMESPACE_NAME_BYTES)?;
    if let Some(first_line) = seen.get(name) {
        let what = format!("namespace '{name}'");
        return Err(ctx.error(
            stanza.line,
            ParseErrorKind::Duplicate {
                what,
                first_line: *first_line,
            },
        ));
    }
    if seen.len() >= MAX_NAMESPACES {
        return Err(ctx.error(
            stanza.line,
            ParseErrorKind::TooMany {
                what: "namespaces",
                max: MAX_NAMESPACES,
            },
        ));
    }

    let mut draft = Draft {
        ns: NamespaceConfig::new(name),
        storage: None,
        memory_size: None,
        max_record_size_line: None,
        set_lines: HashMap::new(),
    };
    for item in &stanza.body {
        match item {
            Item::Param(param) => parse_param(ctx, param, &mut draft)?,
            Item::Stanza(inner) => parse_sub_stanza(ctx, inner, &mut draft)?,
        }
    }
    finish(ctx, stanza, draft)
}

// ---------------------------------------------------------------------------------------------
// Namespace body
// ---------------------------------------------------------------------------------------------

/// A namespace being parsed, with the lines later checks point at.
struct Draft {
    ns: NamespaceConfig,
    /// The storage engine and the line that chose it; `None` until `storage-engine` is seen.
    storage: Option<(StorageEngineConfig, u32)>,
    /// 6.x `memory-size` and its line: becomes `data-size` of a memory engine that has none.
    memory_size: Option<(u64, Param)>,
    /// Line of an explicit `max-record-size`, which must then fit a write block.
    max_record_size_line: Option<u32>,
    set_lines: HashMap<String, u32>,
}

fn parse_param(ctx: &mut Ctx<'_>, param: &Param, draft: &mut Draft) -> Result<(), ConfigError> {
    let value = ctx.value(param);
    let ns = &mut draft.ns;
    match param.key.as_str() {
        "replication-factor" => ns.replication_factor = value.int(1, u8::MAX)?,
        "default-ttl" => ns.default_ttl_secs = value.secs(0, MAX_ALLOWED_TTL_SECS)?,
        "max-ttl" => ns.max_ttl_secs = value.secs(1, MAX_ALLOWED_TTL_SECS)?,
        "nsup-period" => {
            let secs = value.secs(0, u64::from(u32::MAX))?;
            ns.nsup_period_secs = u32::try_from(secs).unwrap_or(u32::MAX);
        }
        "allow-ttl-without-nsup" => ns.allow_ttl_without_nsup = value.bool()?,
        "max-record-size" => {
            ns.max_record_size_bytes = value.size(0, MAX_WRITE_BLOCK_BYTES)?;
            draft.max_record_size_line = Some(param.line);
        }
        "stop-writes-used-pct" | "evict-used-pct" | "evict-tenths-pct" => {
            shared_limit(&value, param, ns)?
        }
        "rack-id" => ns.racks.rack_id = value.int(0, MAX_RACK_ID)?,
        "prefer-uniform-balance" => ns.racks.prefer_uniform_balance = value.bool()?,
        "active-rack" => ns.racks.active_rack = value.int(0, MAX_RACK_ID)?,
        "memory-size" => draft.memory_size = Some((value.size(1, u64::MAX)?, param.clone())),
        // The one-line form `storage-engine memory`.
        "storage-engine" => {
            claim_storage(ctx, draft, param.line)?;
            let storage = match ctx.value(param).choice(&["memory", "device"])? {
                0 => StorageEngineConfig::Memory(MemoryStorageConfig::default()),
                _ => {
                    // Always fails (no files): reports what the one-line form is missing.
                    let device = DeviceStorageConfig::default();
                    check_device(ctx, param.line, &draft.ns.name, &device, None, None)?;
                    StorageEngineConfig::Device(device)
                }
            };
            draft.storage = Some((storage, param.line));
        }
        _ => ctx.other_param(
            param,
            Section::Namespace,
            unused::NAMESPACE,
            &[("set", "set NAME {")],
        )?,
    }
    Ok(())
}

/// Limits Aerospike 7+ reads from the storage-engine stanza and 6.x read from the namespace; both
/// places are accepted and land on the namespace.
fn shared_limit(
    value: &ParamValue<'_, '_>,
    param: &Param,
    ns: &mut NamespaceConfig,
) -> Result<(), ConfigError> {
    match param.key.as_str() {
        "stop-writes-used-pct" => ns.stop_writes_used_pct = value.int(0, 100)?,
        "evict-used-pct" => ns.evict_used_pct = value.int(0, 100)?,
        _ => ns.evict_tenths_pct = value.int(0, u32::MAX)?,
    }
    Ok(())
}

fn parse_sub_stanza(
    ctx: &mut Ctx<'_>,
    stanza: &Stanza,
    draft: &mut Draft,
) -> Result<(), ConfigError> {
    match stanza.name.as_str() {
        "storage-engine" => {
            let kind = ctx.one_arg(stanza, "storage-engine", "type", STORAGE_USAGE)?;
            claim_storage(ctx, draft, stanza.line)?;
            let storage = match kind {
                "memory" => StorageEngineConfig::Memory(parse_memory(ctx, stanza, &mut draft.ns)?),
                "device" => StorageEngineConfig::Device(parse_device(ctx, stanza, &mut draft.ns)?),
                other => {
                    let kind = ParseErrorKind::InvalidValue {
                        key: "storage-engine".to_owned(),
                        value: other.to_owned(),
                        expected: "'memory' or 'device'".to_owned(),
                    };
                    return Err(ctx.error(stanza.line, kind));
                }
            };
            draft.storage = Some((storage, stanza.line));
        }
        "set" => {
            let name = ctx.one_arg(stanza, "set", "name", "set NAME {")?;
            check_stanza_name(ctx, stanza, "set", name, MAX_SET_NAME_BYTES)?;
            if let Some(first_line) = draft.set_lines.get(name) {
                let what = format!("set '{name}' in namespace '{}'", draft.ns.name);
                return Err(ctx.error(
                    stanza.line,
                    ParseErrorKind::Duplicate {
                        what,
                        first_line: *first_line,
                    },
                ));
            }
            if draft.ns.sets.len() >= MAX_SETS_PER_NAMESPACE {
                let kind = ParseErrorKind::TooMany {
                    what: "sets in one namespace",
                    max: MAX_SETS_PER_NAMESPACE,
                };
                return Err(ctx.error(stanza.line, kind));
            }
            let set = parse_set(ctx, stanza, name)?;
            draft.set_lines.insert(set.name.clone(), stanza.line);
            draft.ns.sets.push(set);
        }
        _ => {
            let expected = "'storage-engine memory|device {' or 'set NAME {'";
            ctx.other_stanza(
                stanza,
                Section::Namespace,
                unused::NAMESPACE_STANZAS,
                expected,
            )?;
        }
    }
    Ok(())
}

/// Aerospike refuses a second storage engine ("duplicate storage-engines are nasty").
fn claim_storage(ctx: &Ctx<'_>, draft: &Draft, line: u32) -> Result<(), ConfigError> {
    match &draft.storage {
        None => Ok(()),
        Some((_, first_line)) => {
            let what = format!("storage-engine in namespace '{}'", draft.ns.name);
            Err(ctx.error(
                line,
                ParseErrorKind::Duplicate {
                    what,
                    first_line: *first_line,
                },
            ))
        }
    }
}

fn check_stanza_name(
    ctx: &Ctx<'_>,
    stanza: &Stanza,
    key: &str,
    name: &str,
    max_bytes: usize,
) -> Result<(), ConfigError> {
    if is_valid_name(name, max_bytes) {
        return Ok(());
    }
    let kind = ParseErrorKind::InvalidValue {
        key: key.to_owned(),
        value: name.to_owned(),
        expected: format!("a name of 1..{max_bytes} bytes without ':' or ';'"),
    };
    Err(ctx.error(stanza.line, kind))
}

// ---------------------------------------------------------------------------------------------
// storage-engine memory|device { }
// ---------------------------------------------------------------------------------------------

fn parse_memory(
    ctx: &mut Ctx<'_>,
    stanza: &Stanza,
    ns: &mut NamespaceConfig,
) -> Result<MemoryStorageConfig, ConfigError> {
    let mut memory = MemoryStorageConfig::default();
    for item in &stanza.body {
        let param = match item {
            Item::Param(param) => param,
            Item::Stanza(inner) => {
                ctx.other_stanza(inner, Section::StorageMemory, &[], "only parameters here")?;
                continue;
            }
        };
        let value = ctx.value(param);
        match param.key.as_str() {
            "data-size" => memory.data_size_bytes = Some(value.size(1, u64::MAX)?),
            "file" => {
                let path = value.string("one path")?;
                ctx.claim_storage_path(param, &path)?;
                memory.files.push(path);
            }
            "filesize" => {
                memory.filesize_bytes = Some(value.size(MIN_WRITE_BLOCK_BYTES, MAX_FILESIZE_BYTES)?)
            }
            "stop-writes-used-pct" | "evict-used-pct" => shared_limit(&value, param, ns)?,
            _ => ctx.other_param(param, Section::StorageMemory, unused::STORAGE_MEMORY, &[])?,
        }
    }
    if !memory.files.is_empty() && memory.filesize_bytes.is_none() {
        let message = format!(
            "namespace '{}' must configure 'filesize' when using storage files",
            ns.name
        );
        return Err(ctx.invalid(stanza.line, message));
    }
    Ok(memory)
}

fn parse_device(
    ctx: &mut Ctx<'_>,
    stanza: &Stanza,
    ns: &mut NamespaceConfig,
) -> Result<DeviceStorageConfig, ConfigError> {
    let mut device = DeviceStorageConfig::default();
    let mut filesize_line = None;
    let mut write_cache_line = None;
    for item in &stanza.body {
        let param = match item {
            Item::Param(param) => param,
            Item::Stanza(inner) => {
                ctx.other_stanza(inner, Section::StorageDevice, &[], "only parameters here")?;
                continue;
            }
        };
        let value = ctx.value(param);
        match param.key.as_str() {
            // One path per line: Aerospike's optional second path (a shadow device) is not supported.
            "file" | "device" => {
                let path = value.string("one path (shadow devices are not supported)")?;
                ctx.claim_storage_path(param, &path)?;
                let list = if param.key == "file" {
                    &mut device.files
                } else {
                    &mut device.devices
                };
                list.push(path);
            }
            "filesize" => {
                device.filesize_bytes = value.size(MIN_WRITE_BLOCK_BYTES, MAX_FILESIZE_BYTES)?;
                filesize_line = Some(param.line);
            }
            "write-block-size" => {
                device.write_block_size_bytes =
                    value.size_power_of_two(MIN_WRITE_BLOCK_BYTES, MAX_WRITE_BLOCK_BYTES)?;
            }
            "flush-max-ms" => device.flush_max_ms = value.int(0, u64::MAX)?,
            "commit-to-device" => device.commit_to_device = value.bool()?,
            "defrag-lwm-pct" => device.defrag_lwm_pct = value.int(1, 99)?,
            "defrag-sleep" => device.defrag_sleep_us = value.int(0, u32::MAX)?,
            "max-write-cache" => {
                device.max_write_cache_bytes = value.size(1, u64::MAX)?;
                write_cache_line = Some(param.line);
            }
            "stop-writes-used-pct" | "evict-used-pct" => shared_limit(&value, param, ns)?,
            _ => ctx.other_param(param, Section::StorageDevice, unused::STORAGE_DEVICE, &[])?,
        }
    }
    check_device(
        ctx,
        stanza.line,
        &ns.name,
        &device,
        filesize_line,
        write_cache_line,
    )?;
    Ok(device)
}

/// Checks across the device stanza's lines, each error pointing at the line to change.
fn check_device(
    ctx: &Ctx<'_>,
    stanza_line: u32,
    ns_name: &str,
    device: &DeviceStorageConfig,
    filesize_line: Option<u32>,
    write_cache_line: Option<u32>,
) -> Result<(), ConfigError> {
    let wblock = device.write_block_size_bytes;
    if device.files.is_empty() && device.devices.is_empty() {
        let message = format!("namespace '{ns_name}' storage-engine device needs at least one 'file PATH' or 'device PATH' line");
        return Err(ctx.invalid(stanza_line, message));
    }
    if !device.files.is_empty() {
        let Some(line) = filesize_line else {
            let message =
                format!("namespace '{ns_name}' must configure 'filesize' when using storage files");
            return Err(ctx.invalid(stanza_line, message));
        };
        if device.filesize_bytes < wblock {
            let message = format!(
                "'filesize' ({} bytes) must be at least 'write-block-size' ({wblock} bytes)",
                device.filesize_bytes
            );
            return Err(ctx.invalid(line, message));
        }
    }
    if let Some(line) = write_cache_line.filter(|_| device.max_write_cache_bytes < wblock) {
        let message = format!(
            "'max-write-cache' ({} bytes) must be at least 'write-block-size' ({wblock} bytes)",
            device.max_write_cache_bytes
        );
        return Err(ctx.invalid(line, message));
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// set NAME { }
// ---------------------------------------------------------------------------------------------

fn parse_set(ctx: &mut Ctx<'_>, stanza: &Stanza, name: &str) -> Result<SetConfig, ConfigError> {
    let mut set = SetConfig::new(name);
    for item in &stanza.body {
        let param = match item {
            Item::Param(param) => param,
            Item::Stanza(inner) => {
                ctx.other_stanza(inner, Section::Set, &[], "only parameters here")?;
                continue;
            }
        };
        let value = ctx.value(param);
        match param.key.as_str() {
            // As in Aerospike: 0 = use the namespace default, -1 = never expire.
            "default-ttl" => {
                set.default_ttl_secs = if value.single("a duration")? == "-1" {
                    Some(0)
                } else {
                    Some(value.secs(0, MAX_ALLOWED_TTL_SECS)?).filter(|secs| *secs != 0)
                };
            }
            "disable-eviction" | "set-disable-eviction" => set.disable_eviction = value.bool()?,
            "stop-writes-count" | "set-stop-writes-count" => {
                set.stop_writes_count = value.count()?
            }
            _ => ctx.other_param(param, Section::Set, unused::SET, &[])?,
        }
    }
    Ok(set)
}

// ---------------------------------------------------------------------------------------------
// Checks across the namespace
// ---------------------------------------------------------------------------------------------

fn finish(
    ctx: &mut Ctx<'_>,
    stanza: &Stanza,
    draft: Draft,
) -> Result<NamespaceConfig, ConfigError> {
    let Draft {
        mut ns,
        storage,
        memory_size,
        max_record_size_line,
        ..
    } = draft;
    let Some((storage, _)) = storage else {
        let message = format!(
            "namespace '{}' has no storage-engine: expected 'storage-engine memory' or 'storage-engine device {{ ... }}'",
            ns.name
        );
        return Err(ctx.invalid(stanza.line, message));
    };
    ns.storage = storage;

    // 6.x `memory-size` bounded a memory namespace's data; Aerospike 7 renamed it `data-size`.
    if let Some((bytes, param)) = memory_size {
        match &mut ns.storage {
            StorageEngineConfig::Memory(memory) if memory.data_size_bytes.is_none() => {
                memory.data_size_bytes = Some(bytes);
            }
            _ => ctx.warn_unused_param(&param),
        }
    }

    if ns.default_ttl_secs > ns.max_ttl_secs {
        let message = format!(
            "namespace '{}' has 'default-ttl' ({} seconds) above 'max-ttl' ({} seconds)",
            ns.name, ns.default_ttl_secs, ns.max_ttl_secs
        );
        return Err(ctx.invalid(stanza.line, message));
    }
    // Aerospike's own rule: nothing would ever expire those records.
    if ns.default_ttl_secs != 0 && ns.nsup_period_secs == 0 && !ns.allow_ttl_without_nsup {
        let message = format!(
            "namespace '{}' must configure non-zero 'nsup-period' or 'allow-ttl-without-nsup true' if 'default-ttl' is non-zero",
            ns.name
        );
        return Err(ctx.invalid(stanza.line, message));
    }

    if let StorageEngineConfig::Device(device) = &ns.storage {
        let wblock = device.write_block_size_bytes;
        match max_record_size_line {
            Some(line) if ns.max_record_size_bytes > wblock => {
                let message = format!(
                    "'max-record-size' ({} bytes) must not exceed 'write-block-size' ({wblock} bytes)",
                    ns.max_record_size_bytes
                );
                return Err(ctx.invalid(line, message));
            }
            // The implicit 1 MiB default shrinks to a smaller write block rather than failing.
            None => ns.max_record_size_bytes = ns.max_record_size_bytes.min(wblock),
            Some(_) => {}
        }
    }
    Ok(ns)
}
