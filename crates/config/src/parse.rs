//! Tree → typed [`Config`]: the top level and the `service`, `logging` and `network` stanzas.
//! Namespaces are in `namespace.rs`. Mirrors the context switch in Aerospike's `as/src/base/cfg.c`.

use std::collections::HashMap;

use crate::error::{ConfigError, ParseErrorKind, Section};
use crate::lexer::{Item, Param, Stanza};
use crate::types::{
    Config, Endpoint, HeartbeatConfig, HeartbeatMode, HttpConfig, LogSink, LogTarget,
    NetworkConfig, ServiceConfig,
};
use crate::value::{quoted_list, ParamValue};
use crate::{namespace, unused, MAX_CLUSTER_NAME_BYTES, MAX_MESH_SEEDS};

/// Highest `service-threads` accepted.
pub(crate) const MAX_SERVICE_THREADS: u32 = 4096;

/// Log levels, as Aerospike's `cf_log_init_level` spells them.
const LOG_LEVELS: &[&str] = &["critical", "warning", "info", "debug", "detail"];

/// `expected` text for stanzas that contain only parameters.
const ONLY_PARAMETERS: &str = "only parameters here";

/// Builds the typed config from the tree. `last_line` is where "no namespace" points.
pub(crate) fn build(items: &[Item], file: &str, last_line: u32) -> Result<Config, ConfigError> {
    let mut ctx = Ctx::new(file);
    let mut config = file_baseline();
    let mut logging_seen = false;
    let mut namespace_lines: HashMap<String, u32> = HashMap::new();

    for item in items {
        let stanza = match item {
            Item::Stanza(stanza) => stanza,
            Item::Param(param) => {
                let usage = &[
                    ("service", "service {"),
                    ("logging", "logging {"),
                    ("network", "network {"),
                    ("namespace", "namespace NAME {"),
                ];
                ctx.other_param(param, Section::Top, &[], usage)?;
                continue;
            }
        };
        match stanza.name.as_str() {
            "service" => {
                ctx.no_args(stanza, "service {")?;
                parse_service(&mut ctx, stanza, &mut config.service)?;
            }
            "logging" => {
                ctx.no_args(stanza, "logging {")?;
                // The first logging stanza replaces the default console sink; later ones add to it.
                if !logging_seen {
                    config.logging.sinks.clear();
                    logging_seen = true;
                }
                parse_logging(&mut ctx, stanza, &mut config.logging.sinks)?;
            }
            "network" => {
                ctx.no_args(stanza, "network {")?;
                parse_network(&mut ctx, stanza, &mut config.network)?;
            }
            "mod-lua" => crate::mod_lua::parse_mod_lua(&mut ctx, stanza, &mut config.mod_lua)?,
            "security" => {
                let security = config.security.get_or_insert_with(Default::default);
                crate::security::parse_security(&mut ctx, stanza, security)?;
            }
            "namespace" => {
                let ns = namespace::parse_namespace(&mut ctx, stanza, &namespace_lines)?;
                namespace_lines.insert(ns.name.clone(), stanza.line);
                config.namespaces.push(ns);
            }
            _ => {
                let expected = "'service {', 'logging {', 'network {' or 'namespace NAME {'";
                ctx.other_stanza(stanza, Section::Top, unused::TOP_STANZAS, expected)?;
            }
        }
    }

    if config.namespaces.is_empty() {
        return Err(ctx.error(last_line, ParseErrorKind::NoNamespace));
    }
    config.warnings = ctx.warnings;
    Ok(config)
}

/// What a file's omitted parameters mean: Aerospike's defaults. Differs from `Config::default()` in
/// binding `any` (as Aerospike does when `address` is omitted) and in having no namespaces.
fn file_baseline() -> Config {
    let mut config = Config::default();
    config.namespaces.clear();
    let network = &mut config.network;
    network.service.address = Endpoint::ANY_ADDRESS.to_owned();
    network.fabric.address = Endpoint::ANY_ADDRESS.to_owned();
    network.heartbeat.address = Endpoint::ANY_ADDRESS.to_owned();
    config
}

// ---------------------------------------------------------------------------------------------
// Shared parse state and fallbacks
// ---------------------------------------------------------------------------------------------

/// State carried through one parse.
pub(crate) struct Ctx<'f> {
    pub(crate) file: &'f str,
    pub(crate) warnings: Vec<String>,
    /// Every storage `file`/`device` path seen so far, with its line: two namespaces (or two lines)
    /// sharing a path would overwrite each other's data.
    pub(crate) storage_paths: HashMap<String, u32>,
}

impl<'f> Ctx<'f> {
    fn new(file: &'f str) -> Self {
        Ctx {
            file,
            warnings: Vec::new(),
            storage_paths: HashMap::new(),
        }
    }

    pub(crate) fn value<'a>(&self, param: &'a Param) -> ParamValue<'f, 'a> {
        ParamValue::new(self.file, param)
    }

    pub(crate) fn error(&self, line: u32, kind: ParseErrorKind) -> ConfigError {
        ConfigError::parse(self.file, line, kind)
    }

    pub(crate) fn invalid(&self, line: u32, message: String) -> ConfigError {
        self.error(line, ParseErrorKind::Invalid { message })
    }

    pub(crate) fn warn_unused_param(&mut self, param: &Param) {
        let warning = format!(
            "{}:{}: parameter '{}' is accepted but not used",
            self.file, param.line, param.key
        );
        self.warnings.push(warning);
    }

    /// The fallback arm for a parameter line: accept-and-warn if listed in `unused`, point out a
    /// missing `{` if the name is one of this section's stanzas (`stanzas` maps name → usage), and
    /// otherwise reject it as unknown.
    pub(crate) fn other_param(
        &mut self,
        param: &Param,
        section: Section,
        unused: &[&str],
        stanzas: &[(&str, &'static str)],
    ) -> Result<(), ConfigError> {
        let key = param.key.as_str();
        if let Some((_, _, accepted)) = unused::DEFAULT_ONLY
            .iter()
            .find(|(s, name, _)| *s == section && *name == key)
        {
            let value = param.values.join(" ");
            if !value.eq_ignore_ascii_case(accepted) {
                let message = format!(
                    "'{key} {value}' is not supported by Aerie (only '{key} {accepted}' is accepted)"
                );
                return Err(self.invalid(param.line, message));
            }
            self.warn_unused_param(param);
            return Ok(());
        }
        if unused.contains(&key) {
            self.warn_unused_param(param);
            return Ok(());
        }
        let name = param.key.clone();
        let kind = match stanzas.iter().find(|(stanza, _)| *stanza == param.key) {
            Some((_, usage)) => ParseErrorKind::ExpectedStanza {
                name,
                section,
                usage,
            },
            None => ParseErrorKind::UnknownParameter { name, section },
        };
        Err(self.error(param.line, kind))
    }

    /// The fallback arm for a stanza: skip-and-warn if listed in `ignored`, else reject it.
    pub(crate) fn other_stanza(
        &mut self,
        stanza: &Stanza,
        section: Section,
        ignored: &[&str],
        expected: &'static str,
    ) -> Result<(), ConfigError> {
        if ignored.contains(&stanza.name.as_str()) {
            let warning = format!(
                "{}:{}: stanza '{}' is accepted but not used",
                self.file, stanza.line, stanza.name
            );
            self.warnings.push(warning);
            return Ok(());
        }
        let kind = ParseErrorKind::UnknownStanza {
            name: stanza.name.clone(),
            section,
            expected,
        };
        Err(self.error(stanza.line, kind))
    }

    /// Rejects `service foo {`.
    pub(crate) fn no_args(&self, stanza: &Stanza, usage: &'static str) -> Result<(), ConfigError> {
        match stanza.args.first() {
            None => Ok(()),
            Some(arg) => Err(self.unexpected_arg(stanza, arg, usage)),
        }
    }

    /// The single argument of `namespace NAME {`, `file PATH {`, ...
    pub(crate) fn one_arg<'s>(
        &self,
        stanza: &'s Stanza,
        name: &'static str,
        what: &'static str,
        usage: &'static str,
    ) -> Result<&'s str, ConfigError> {
        match stanza.args.as_slice() {
            [arg] => Ok(arg.as_str()),
            [] => Err(self.error(
                stanza.line,
                ParseErrorKind::MissingStanzaArg {
                    stanza: name,
                    what,
                    usage,
                },
            )),
            [_, extra, ..] => Err(self.unexpected_arg(stanza, extra, usage)),
        }
    }

    fn unexpected_arg(&self, stanza: &Stanza, arg: &str, usage: &'static str) -> ConfigError {
        let kind = ParseErrorKind::UnexpectedStanzaArg {
            stanza: stanza.name.clone(),
            arg: arg.to_owned(),
            usage,
        };
        self.error(stanza.line, kind)
    }

    /// Records a storage path, rejecting one already used anywhere in the file.
    pub(crate) fn claim_storage_path(
        &mut self,
        param: &Param,
        path: &str,
    ) -> Result<(), ConfigError> {
        if let Some(first_line) = self.storage_paths.get(path) {
            let what = format!("storage path '{path}'");
            return Err(self.error(
                param.line,
                ParseErrorKind::Duplicate {
                    what,
                    first_line: *first_line,
                },
            ));
        }
        self.storage_paths.insert(path.to_owned(), param.line);
        Ok(())
    }
}

// ---------------------------------------------------------------------------------------------
// service { }
// ---------------------------------------------------------------------------------------------

fn parse_service(
    ctx: &mut Ctx<'_>,
    stanza: &Stanza,
    out: &mut ServiceConfig,
) -> Result<(), ConfigError> {
    for item in &stanza.body {
        let param = match item {
            Item::Param(param) => param,
            Item::Stanza(inner) => {
                ctx.other_stanza(inner, Section::Service, &[], ONLY_PARAMETERS)?;
                continue;
            }
        };
        let value = ctx.value(param);
        match param.key.as_str() {
            "cluster-name" => out.cluster_name = Some(value.name(MAX_CLUSTER_NAME_BYTES)?),
            "node-id" => out.node_id = Some(value.hex_u64_nonzero()?),
            "proto-fd-max" => out.proto_fd_max = value.int(1, u32::MAX)?,
            "service-threads" => out.service_threads = Some(value.int(1, MAX_SERVICE_THREADS)?),
            "transaction-max-ms" => out.transaction_max_ms = value.int(1, u32::MAX)?,
            "ticker-interval" => out.ticker_interval_secs = value.int(0, u32::MAX)?,
            "microsecond-histograms" => out.microsecond_histograms = value.bool()?,
            _ => ctx.other_param(param, Section::Service, unused::SERVICE, &[])?,
        }
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// logging { }
// ---------------------------------------------------------------------------------------------

fn parse_logging(
    ctx: &mut Ctx<'_>,
    stanza: &Stanza,
    sinks: &mut Vec<LogSink>,
) -> Result<(), ConfigError> {
    for item in &stanza.body {
        let inner = match item {
            Item::Stanza(inner) => inner,
            Item::Param(param) => {
                let usage = &[("console", "console {"), ("file", "file PATH {")];
                ctx.other_param(param, Section::Logging, &[], usage)?;
                continue;
            }
        };
        let (target, section) = match inner.name.as_str() {
            "console" => {
                ctx.no_args(inner, "console {")?;
                (LogTarget::Console, Section::LogConsole)
            }
            "file" => {
                let path = ctx.one_arg(inner, "file", "path", "file PATH {")?;
                (LogTarget::File(path.to_owned()), Section::LogFile)
            }
            _ => {
                let expected = "'console {' or 'file PATH {'";
                ctx.other_stanza(inner, Section::Logging, unused::LOGGING_STANZAS, expected)?;
                continue;
            }
        };
        let contexts = parse_log_contexts(ctx, inner, section)?;
        sinks.push(LogSink { target, contexts });
    }
    Ok(())
}

/// `context NAME LEVEL` lines. A sink with none is legal; the logging setup picks its default.
fn parse_log_contexts(
    ctx: &mut Ctx<'_>,
    stanza: &Stanza,
    section: Section,
) -> Result<Vec<(String, String)>, ConfigError> {
    let mut contexts = Vec::new();
    for item in &stanza.body {
        let param = match item {
            Item::Param(param) => param,
            Item::Stanza(inner) => {
                ctx.other_stanza(inner, section, &[], ONLY_PARAMETERS)?;
                continue;
            }
        };
        if param.key != "context" {
            ctx.other_param(param, section, &[], &[])?;
            continue;
        }
        let value = ctx.value(param);
        let (name, level) = value.pair("a context and a level, e.g. 'context any info'")?;
        let level = level.to_ascii_lowercase();
        if !LOG_LEVELS.contains(&level.as_str()) {
            return Err(value.invalid(&level, format!("a log level: {}", quoted_list(LOG_LEVELS))));
        }
        contexts.push((name.to_owned(), level));
    }
    Ok(contexts)
}

// ---------------------------------------------------------------------------------------------
// network { }
// ---------------------------------------------------------------------------------------------

fn parse_network(
    ctx: &mut Ctx<'_>,
    stanza: &Stanza,
    net: &mut NetworkConfig,
) -> Result<(), ConfigError> {
    for item in &stanza.body {
        let inner = match item {
            Item::Stanza(inner) => inner,
            Item::Param(param) => {
                let usage = &[
                    ("service", "service {"),
                    ("heartbeat", "heartbeat {"),
                    ("fabric", "fabric {"),
                    ("info", "info {"),
                    ("admin", "admin {"),
                    ("http", "http {"),
                ];
                ctx.other_param(param, Section::Network, &[], usage)?;
                continue;
            }
        };
        match inner.name.as_str() {
            "service" => {
                ctx.no_args(inner, "service {")?;
                parse_endpoint(
                    ctx,
                    inner,
                    &mut net.service,
                    Section::NetworkService,
                    unused::NETWORK_SERVICE,
                )?;
            }
            "fabric" => {
                ctx.no_args(inner, "fabric {")?;
                parse_endpoint(ctx, inner, &mut net.fabric, Section::Fabric, unused::FABRIC)?;
            }
            "info" => {
                ctx.no_args(inner, "info {")?;
                let info = net.info.get_or_insert_with(|| Endpoint {
                    address: Endpoint::ANY_ADDRESS.to_owned(),
                    port: 3003,
                    access_address: None,
                });
                parse_endpoint(ctx, inner, info, Section::Info, unused::INFO)?;
            }
            "admin" => {
                ctx.no_args(inner, "admin {")?;
                // Aerospike gives the admin port no default: a stanza without `port` opens none.
                let admin = net.admin.get_or_insert_with(|| Endpoint {
                    address: Endpoint::ANY_ADDRESS.to_owned(),
                    port: 0,
                    access_address: None,
                });
                parse_endpoint(ctx, inner, admin, Section::Admin, unused::ADMIN)?;
            }
            "heartbeat" => {
                ctx.no_args(inner, "heartbeat {")?;
                parse_heartbeat(ctx, inner, &mut net.heartbeat)?;
            }
            "http" => {
                ctx.no_args(inner, "http {")?;
                parse_http(ctx, inner, &mut net.http)?;
            }
            _ => {
                let expected =
                    "'service {', 'admin {', 'heartbeat {', 'fabric {', 'info {' or 'http {'";
                ctx.other_stanza(inner, Section::Network, &[], expected)?;
            }
        }
    }
    Ok(())
}

/// `network { service|fabric|info { address port access-address } }`.
fn parse_endpoint(
    ctx: &mut Ctx<'_>,
    stanza: &Stanza,
    endpoint: &mut Endpoint,
    section: Section,
    unused: &[&str],
) -> Result<(), ConfigError> {
    let mut address_line = None;
    for item in &stanza.body {
        let param = match item {
            Item::Param(param) => param,
            Item::Stanza(inner) => {
                ctx.other_stanza(inner, section, &[], ONLY_PARAMETERS)?;
                continue;
            }
        };
        let value = ctx.value(param);
        match param.key.as_str() {
            "address" => {
                check_single_address(ctx, param, &mut address_line)?;
                endpoint.address = value.address()?;
            }
            "port" => endpoint.port = value.port()?,
            "access-address" => {
                endpoint.access_address = Some(value.string("an IP address or a host name")?)
            }
            _ => ctx.other_param(param, section, unused, &[])?,
        }
    }
    Ok(())
}

/// Aerospike binds every `address` line; Aerie binds one, so a second line is an error rather
/// than a silently unbound interface.
fn check_single_address(
    ctx: &Ctx<'_>,
    param: &Param,
    first: &mut Option<u32>,
) -> Result<(), ConfigError> {
    if let Some(first_line) = *first {
        let what = "'address' (Aerie binds one address per listener)".to_owned();
        return Err(ctx.error(param.line, ParseErrorKind::Duplicate { what, first_line }));
    }
    *first = Some(param.line);
    Ok(())
}

fn parse_heartbeat(
    ctx: &mut Ctx<'_>,
    stanza: &Stanza,
    hb: &mut HeartbeatConfig,
) -> Result<(), ConfigError> {
    let mut address_line = None;
    for item in &stanza.body {
        let param = match item {
            Item::Param(param) => param,
            Item::Stanza(inner) => {
                ctx.other_stanza(inner, Section::Heartbeat, &[], ONLY_PARAMETERS)?;
                continue;
            }
        };
        let value = ctx.value(param);
        match param.key.as_str() {
            "mode" => {
                hb.mode = match value.choice(&["mesh", "multicast"])? {
                    0 => HeartbeatMode::Mesh,
                    _ => HeartbeatMode::Multicast,
                };
            }
            "address" => {
                check_single_address(ctx, param, &mut address_line)?;
                hb.address = value.address()?;
            }
            "port" => hb.port = value.port()?,
            "mesh-seed-address-port" => {
                let seed = value.host_port()?;
                if hb.mesh_seeds.len() >= MAX_MESH_SEEDS {
                    let kind = ParseErrorKind::TooMany {
                        what: "mesh seeds",
                        max: MAX_MESH_SEEDS,
                    };
                    return Err(ctx.error(param.line, kind));
                }
                hb.mesh_seeds.push(seed);
            }
            // Ranges from Aerospike's `as/include/fabric/hb.h`.
            "interval" => hb.interval_ms = value.int(50, 600_000)?,
            "timeout" => hb.timeout = value.int(3, u32::MAX)?,
            _ => ctx.other_param(param, Section::Heartbeat, unused::HEARTBEAT, &[])?,
        }
    }
    Ok(())
}

fn parse_http(
    ctx: &mut Ctx<'_>,
    stanza: &Stanza,
    http: &mut HttpConfig,
) -> Result<(), ConfigError> {
    http.requested = true;
    for item in &stanza.body {
        let param = match item {
            Item::Param(param) => param,
            Item::Stanza(inner) => {
                ctx.other_stanza(inner, Section::Http, &[], ONLY_PARAMETERS)?;
                continue;
            }
        };
        let value = ctx.value(param);
        match param.key.as_str() {
            "enabled" => http.enabled = value.bool()?,
            "address" => http.address = value.address()?,
            "port" => http.port = value.port()?,
            _ => ctx.other_param(param, Section::Http, &[], &[])?,
        }
    }
    Ok(())
}
