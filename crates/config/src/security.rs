//! `security { }`: access control. Its presence turns security on (Aerospike 5.7+ has no
//! `enable-security` switch either); without it every admin message is answered
//! SECURITY_NOT_ENABLED and nothing is checked. Mirrors the `security` stanza of
//! aerospike-server `as/src/base/cfg.c`.
//!
//! ```text
//! security {
//!     enable-quotas true            # per-role read/write quotas (default false)
//!     session-ttl 86400             # seconds a login's token lives, 120..864000
//!     default-password-file /etc/aerospike/admin.pw   # the first password of user admin
//!     log {
//!         report-authentication true
//!         report-user-admin true
//!         report-sys-admin true
//!         report-violation true
//!         report-data-op test demo  # namespace [set]
//!     }
//! }
//! ```
//!
//! `privilege-refresh-period` and `tps-weight` are accepted and ignored (privileges apply at once
//! here); `ldap { }` and `syslog { }` are refused: an operator who configures them expects
//! them to act.

use crate::error::{ConfigError, Section};
use crate::lexer::{Item, Stanza};
use crate::parse::Ctx;

/// Aerospike's default `session-ttl`: one day.
pub const DEFAULT_SESSION_TTL_SECS: u32 = 86_400;
/// Shortest `session-ttl` Aerospike accepts.
pub const MIN_SESSION_TTL_SECS: u32 = 120;
/// Longest `session-ttl` Aerospike accepts (ten days).
pub const MAX_SESSION_TTL_SECS: u32 = 864_000;

/// `security { }`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SecurityConfig {
    /// `enable-quotas`: whether role read/write quotas are enforced (and may be set).
    pub enable_quotas: bool,
    /// `session-ttl`: lifetime of a login's session token.
    pub session_ttl_secs: u32,
    /// `default-password-file`: a file whose first line is the initial password of `admin`
    /// (instead of `admin`). Read when the node first creates the user.
    pub default_password_file: Option<String>,
    /// `log { }`: which events the audit trail reports.
    pub log: SecurityLogConfig,
}

impl Default for SecurityConfig {
    fn default() -> Self {
        Self {
            enable_quotas: false,
            session_ttl_secs: DEFAULT_SESSION_TTL_SECS,
            default_password_file: None,
            log: SecurityLogConfig::default(),
        }
    }
}

/// `security { log { } }`: audit-trail reporting switches.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SecurityLogConfig {
    /// Logins and authentications, successful or not.
    pub report_authentication: bool,
    /// User and role changes.
    pub report_user_admin: bool,
    /// System administration (config changes, index and UDF management, truncation).
    pub report_sys_admin: bool,
    /// Refused requests (role violations, not authenticated, quota exceeded).
    pub report_violation: bool,
    /// Data operations on these (namespace, optional set) scopes.
    pub report_data_op: Vec<(String, Option<String>)>,
}

/// Parameters of `security` that Aerie accepts and ignores.
const UNUSED: &[&str] = &["privilege-refresh-period", "tps-weight"];
/// Parameters of `security { log }` that Aerie accepts and ignores.
const LOG_UNUSED: &[&str] = &["report-data-op-role", "report-data-op-user"];

pub(crate) fn parse_security(
    ctx: &mut Ctx<'_>,
    stanza: &Stanza,
    out: &mut SecurityConfig,
) -> Result<(), ConfigError> {
    ctx.no_args(stanza, "security {")?;
    for item in &stanza.body {
        let param = match item {
            Item::Param(param) => param,
            Item::Stanza(inner) if inner.name == "log" => {
                parse_log(ctx, inner, &mut out.log)?;
                continue;
            }
            Item::Stanza(inner) => {
                ctx.other_stanza(inner, Section::Security, &[], "'log {'")?;
                continue;
            }
        };
        match param.key.as_str() {
            "enable-quotas" => out.enable_quotas = ctx.value(param).bool()?,
            "session-ttl" => {
                out.session_ttl_secs = ctx
                    .value(param)
                    .int(MIN_SESSION_TTL_SECS, MAX_SESSION_TTL_SECS)?;
            }
            "default-password-file" => {
                out.default_password_file = Some(ctx.value(param).string("a file path")?);
            }
            _ => ctx.other_param(param, Section::Security, UNUSED, &[("log", "log {")])?,
        }
    }
    Ok(())
}

fn parse_log(
    ctx: &mut Ctx<'_>,
    stanza: &Stanza,
    out: &mut SecurityLogConfig,
) -> Result<(), ConfigError> {
    ctx.no_args(stanza, "log {")?;
    for item in &stanza.body {
        let param = match item {
            Item::Param(param) => param,
            Item::Stanza(inner) => {
                ctx.other_stanza(inner, Section::SecurityLog, &[], "only parameters here")?;
                continue;
            }
        };
        match param.key.as_str() {
            "report-authentication" => out.report_authentication = ctx.value(param).bool()?,
            "report-user-admin" => out.report_user_admin = ctx.value(param).bool()?,
            "report-sys-admin" => out.report_sys_admin = ctx.value(param).bool()?,
            "report-violation" => out.report_violation = ctx.value(param).bool()?,
            "report-data-op" => {
                let scope = match param.values.as_slice() {
                    [ns] => (ns.clone(), None),
                    [ns, set] => (ns.clone(), Some(set.clone())),
                    _ => {
                        let v = ctx.value(param);
                        return Err(v.invalid(&param.values.join(" "), "NAMESPACE [SET]"));
                    }
                };
                out.report_data_op.push(scope);
            }
            _ => ctx.other_param(param, Section::SecurityLog, LOG_UNUSED, &[])?,
        }
    }
    Ok(())
}

#[cfg(test)]
#[expect(clippy::unwrap_used, reason = "tests")]
mod tests {
    use crate::parse_str;

    const NS: &str = "namespace test { storage-engine memory { data-size 64M } }\n";

    #[test]
    fn absent_means_off() {
        let c = parse_str(NS, "t.conf").unwrap();
        assert_eq!(c.security, None);
    }

    #[test]
    fn full_stanza() {
        let text = format!(
            "security {{\n enable-quotas true\n session-ttl 600\n default-password-file /tmp/pw\n \
             log {{\n report-authentication true\n report-violation true\n report-data-op test demo\n }}\n}}\n{NS}"
        );
        let c = parse_str(&text, "t.conf").unwrap();
        let s = c.security.unwrap();
        assert!(s.enable_quotas);
        assert_eq!(s.session_ttl_secs, 600);
        assert_eq!(s.default_password_file.as_deref(), Some("/tmp/pw"));
        assert!(s.log.report_authentication && s.log.report_violation);
        assert!(!s.log.report_user_admin);
        assert_eq!(
            s.log.report_data_op,
            vec![("test".to_owned(), Some("demo".to_owned()))]
        );
    }

    #[test]
    fn bad_values_are_errors() {
        for bad in [
            "security {\n session-ttl 5\n}\n",
            "security {\n enable-quotas maybe\n}\n",
            "security {\n ldap {\n }\n}\n",
            "security {\n bogus 1\n}\n",
        ] {
            let text = format!("{bad}{NS}");
            assert!(parse_str(&text, "t.conf").is_err(), "{bad}");
        }
    }
}
