//! The audit trail: one log line per reported event under the `audit` context, naming the user,
//! the client address and the action. Which events are reported is `security { log { } }`.

use std::net::IpAddr;

use aerie_config::SecurityConfig;
use aerie_proto::ResultCode;

use crate::Perm;

/// A login or authenticate, successful or not.
pub(crate) fn authentication(
    config: &SecurityConfig,
    user: &str,
    peer: IpAddr,
    action: &str,
    rc: ResultCode,
) {
    if config.log.report_authentication {
        tracing::info!(target: "audit", "{{{}}} user={user} client={peer} action={action} result={rc}", "authentication");
    }
}

/// A change to users or roles.
pub(crate) fn user_admin(
    config: &SecurityConfig,
    user: Option<&str>,
    peer: IpAddr,
    action: &str,
    rc: ResultCode,
) {
    if config.log.report_user_admin {
        let user = user.unwrap_or("-");
        tracing::info!(target: "audit", "{{user-admin}} user={user} client={peer} action={action} result={rc}");
    }
}

/// A system-administration info command that was allowed.
pub(crate) fn sys_admin(config: &SecurityConfig, user: Option<&str>, peer: IpAddr, action: &str) {
    if config.log.report_sys_admin && crate::info_requirement(action, "").is_some() {
        let user = user.unwrap_or("-");
        tracing::info!(target: "audit", "{{sys-admin}} user={user} client={peer} action={action}");
    }
}

/// A refused request.
pub(crate) fn violation(
    config: &SecurityConfig,
    user: Option<&str>,
    peer: IpAddr,
    action: &str,
    rc: ResultCode,
) {
    if config.log.report_violation {
        let user = user.unwrap_or("-");
        tracing::info!(target: "audit", "{{violation}} user={user} client={peer} action={action} result={rc}");
    }
}

/// A data operation in a reported scope.
pub(crate) fn data_op(
    config: &SecurityConfig,
    user: Option<&str>,
    peer: IpAddr,
    perm: Perm,
    namespace: &[u8],
    set: &[u8],
) {
    let scopes = &config.log.report_data_op;
    if scopes.is_empty() {
        return;
    }
    let reported = scopes.iter().any(|(ns, s)| {
        ns.as_bytes() == namespace && s.as_ref().is_none_or(|s| s.as_bytes() == set)
    });
    if reported {
        let user = user.unwrap_or("-");
        let (ns, set) = (
            String::from_utf8_lossy(namespace),
            String::from_utf8_lossy(set),
        );
        tracing::info!(target: "audit", "{{data-op}} user={user} client={peer} action={perm:?} namespace={ns} set={set}");
    }
}
