//! Answers admin (proto type 2) commands: login and authenticate, user and role management,
//! and user and role queries. One function per command, in the order of Aerospike's command
//! ids. A change is applied here and returned as system-metadata text for the other nodes.
//!
//! Login and password commands run bcrypt: call [`Security::handle_admin`] off the async
//! runtime.

use std::net::IpAddr;

use aerie_proto::admin::{
    command, field, write_records_frame, write_reply, AdminRecord, AdminRequest, WirePrivilege,
};
use aerie_proto::ResultCode;

use crate::privilege::{self, Perm, PREDEFINED_ROLES};
use crate::store::{Change, Role, User};
use crate::{allowlist, audit, is_client_hash, server_hash, ConnAuth, Security, SMD_PREFIX};

/// Most user or role records packed into one query reply frame.
const RECORDS_PER_FRAME: usize = 256;

type AdminResult = Result<Option<Change>, ResultCode>;

impl Security {
    /// Answers one admin message into `out`. Returns the system-metadata entry to send to the
    /// other nodes when the command changed users or roles.
    pub fn handle_admin(
        &self,
        auth: &mut ConnAuth,
        peer: IpAddr,
        body: &[u8],
        out: &mut Vec<u8>,
    ) -> Option<String> {
        let req = match AdminRequest::parse(body) {
            Ok(r) => r,
            Err(e) => {
                tracing::debug!(%peer, "malformed admin message: {e}");
                let cmd = body.get(2).copied().unwrap_or_default();
                write_reply(out, e.result_code(), cmd);
                return None;
            }
        };
        let cmd = req.command;
        match cmd {
            command::LOGIN => {
                self.login(auth, peer, &req, out);
                return None;
            }
            command::AUTHENTICATE => {
                let rc = self.authenticate(auth, peer, &req);
                write_reply(out, rc, cmd);
                return None;
            }
            command::QUERY_USERS | command::QUERY_ROLES => {
                if let Err(rc) = self.query(auth, &req, out) {
                    write_reply(out, rc, cmd);
                }
                return None;
            }
            _ => {}
        }
        let result = self.admin_change(auth, peer, &req);
        let action = command_name(cmd);
        match result {
            Ok(change) => {
                audit::user_admin(&self.config, auth.user(), peer, action, ResultCode::Ok);
                write_reply(out, ResultCode::Ok, cmd);
                change.map(|c| {
                    let text = format!("{SMD_PREFIX}{}", c.encode());
                    self.commit(c);
                    text
                })
            }
            Err(rc) => {
                audit::user_admin(&self.config, auth.user(), peer, action, rc);
                write_reply(out, rc, cmd);
                None
            }
        }
    }

    // --------------------------------------------------------------------------------------
    // Login and authenticate
    // --------------------------------------------------------------------------------------

    fn login(&self, auth: &mut ConnAuth, peer: IpAddr, req: &AdminRequest<'_>, out: &mut Vec<u8>) {
        let user = req
            .str_field(field::USER)
            .ok()
            .flatten()
            .unwrap_or_default();
        let result = self.login_user(user, peer, req);
        audit::authentication(
            &self.config,
            user,
            peer,
            "login",
            result.as_ref().err().copied().unwrap_or(ResultCode::Ok),
        );
        match result {
            Ok(token) => {
                auth.user = Some(user.into());
                auth.resolved = None;
                let mut r = AdminRecord::new(ResultCode::Ok, command::LOGIN);
                r.field(field::SESSION_TOKEN, &token);
                r.u32_field(field::SESSION_TTL, self.config.session_ttl_secs);
                write_records_frame(out, &[r.finish()]);
            }
            Err(rc) => write_reply(out, rc, command::LOGIN),
        }
    }

    fn login_user(
        &self,
        user: &str,
        peer: IpAddr,
        req: &AdminRequest<'_>,
    ) -> Result<Vec<u8>, ResultCode> {
        if user.is_empty() {
            // PKI login (no user, no credential) needs a TLS client certificate.
            return Err(ResultCode::InvalidCredential);
        }
        let credential = req
            .field(field::CREDENTIAL)
            .ok_or(ResultCode::InvalidCredential)?;
        self.verify_password(user, credential)?;
        self.allowlisted(user, peer)?;
        self.new_session(user)
    }

    fn authenticate(
        &self,
        auth: &mut ConnAuth,
        peer: IpAddr,
        req: &AdminRequest<'_>,
    ) -> ResultCode {
        let user = req
            .str_field(field::USER)
            .ok()
            .flatten()
            .unwrap_or_default();
        let result = (|| {
            if !self.store.read().users.contains_key(user) {
                return Err(ResultCode::InvalidUser);
            }
            if let Some(token) = req.field(field::SESSION_TOKEN) {
                self.check_session(user, token)?;
            } else {
                let credential = req
                    .field(field::CREDENTIAL)
                    .ok_or(ResultCode::InvalidCredential)?;
                self.verify_password(user, credential)?;
            }
            self.allowlisted(user, peer)
        })();
        audit::authentication(
            &self.config,
            user,
            peer,
            "authenticate",
            result.err().unwrap_or(ResultCode::Ok),
        );
        match result {
            Ok(()) => {
                auth.user = Some(user.into());
                auth.resolved = None;
                ResultCode::Ok
            }
            Err(rc) => rc,
        }
    }

    // --------------------------------------------------------------------------------------
    // Changes
    // --------------------------------------------------------------------------------------

    fn admin_change(
        &self,
        auth: &mut ConnAuth,
        peer: IpAddr,
        req: &AdminRequest<'_>,
    ) -> AdminResult {
        let Some(resolved) = self.resolve(auth) else {
            audit::violation(
                &self.config,
                None,
                peer,
                command_name(req.command),
                ResultCode::NotAuthenticated,
            );
            return Err(ResultCode::NotAuthenticated);
        };
        let is_user_admin = resolved.perms() & Perm::UserAdmin as u16 != 0;
        let user_field = || -> Result<&str, ResultCode> {
            req.str_field(field::USER)
                .map_err(|e| e.result_code())?
                .filter(|u| !u.is_empty())
                .ok_or(ResultCode::InvalidUser)
        };
        let role_field = || -> Result<&str, ResultCode> {
            req.str_field(field::ROLE)
                .map_err(|e| e.result_code())?
                .filter(|r| !r.is_empty())
                .ok_or(ResultCode::InvalidRole)
        };
        // Changing one's own password needs the old one, not user-admin.
        if req.command == command::CHANGE_PASSWORD {
            let user = user_field()?;
            if auth.user() != Some(user) && !is_user_admin {
                return Err(ResultCode::RoleViolation);
            }
            if auth.user() == Some(user) {
                let old = req
                    .field(field::OLD_PASSWORD)
                    .ok_or(ResultCode::InvalidPassword)?;
                self.verify_password(user, old)?;
            }
            return self.set_password(user, req);
        }
        if !is_user_admin {
            audit::violation(
                &self.config,
                auth.user(),
                peer,
                command_name(req.command),
                ResultCode::RoleViolation,
            );
            return Err(ResultCode::RoleViolation);
        }
        match req.command {
            command::CREATE_USER => {
                let user = user_field()?;
                if self.store.read().users.contains_key(user) {
                    return Err(ResultCode::UserAlreadyExists);
                }
                let roles = self.known_roles(req)?;
                let hash = self.hash_field(req)?;
                Ok(Some(Change::SetUser(
                    user.to_owned(),
                    User {
                        password_hash: hash,
                        roles,
                    },
                )))
            }
            command::DROP_USER => {
                let user = user_field()?;
                if !self.store.read().users.contains_key(user) {
                    return Err(ResultCode::InvalidUser);
                }
                Ok(Some(Change::DropUser(user.to_owned())))
            }
            command::SET_PASSWORD => self.set_password(user_field()?, req),
            command::GRANT_ROLES | command::REVOKE_ROLES => {
                let user = user_field()?;
                let roles = self.known_roles(req)?;
                let mut u = self
                    .store
                    .read()
                    .users
                    .get(user)
                    .cloned()
                    .ok_or(ResultCode::InvalidUser)?;
                if req.command == command::GRANT_ROLES {
                    for r in roles {
                        if !u.roles.contains(&r) {
                            u.roles.push(r);
                        }
                    }
                } else {
                    u.roles.retain(|r| !roles.contains(r));
                }
                Ok(Some(Change::SetUser(user.to_owned(), u)))
            }
            command::CREATE_ROLE => {
                let name = role_field()?;
                if privilege::predefined(name).is_some()
                    || self.store.read().roles.contains_key(name)
                {
                    return Err(ResultCode::RoleAlreadyExists);
                }
                let mut role = Role {
                    privileges: valid_privileges(req)?,
                    ..Role::default()
                };
                role.allowlist = valid_allowlist(req)?;
                self.read_quotas(req, &mut role)?;
                Ok(Some(Change::SetRole(name.to_owned(), role)))
            }
            command::DROP_ROLE => {
                let name = self.user_defined_role(role_field()?)?;
                Ok(Some(Change::DropRole(name.0)))
            }
            command::GRANT_PRIVILEGES | command::REVOKE_PRIVILEGES => {
                let (name, mut role) = self.user_defined_role(role_field()?)?;
                let privs = valid_privileges(req)?;
                if req.command == command::GRANT_PRIVILEGES {
                    for p in privs {
                        if !role.privileges.contains(&p) {
                            role.privileges.push(p);
                        }
                    }
                } else {
                    role.privileges.retain(|p| !privs.contains(p));
                }
                Ok(Some(Change::SetRole(name, role)))
            }
            command::SET_ALLOWLIST => {
                let (name, mut role) = self.user_defined_role(role_field()?)?;
                role.allowlist = valid_allowlist(req)?;
                Ok(Some(Change::SetRole(name, role)))
            }
            command::SET_QUOTAS => {
                let (name, mut role) = self.user_defined_role(role_field()?)?;
                self.read_quotas(req, &mut role)?;
                Ok(Some(Change::SetRole(name, role)))
            }
            _ => Err(ResultCode::InvalidCommand),
        }
    }

    fn set_password(&self, user: &str, req: &AdminRequest<'_>) -> AdminResult {
        let mut u = self
            .store
            .read()
            .users
            .get(user)
            .cloned()
            .ok_or(ResultCode::InvalidUser)?;
        u.password_hash = self.hash_field(req)?;
        Ok(Some(Change::SetUser(user.to_owned(), u)))
    }

    /// The PASSWORD field (a client hash) hashed for storage.
    fn hash_field(&self, req: &AdminRequest<'_>) -> Result<String, ResultCode> {
        let credential = req
            .field(field::PASSWORD)
            .ok_or(ResultCode::InvalidPassword)?;
        if !is_client_hash(credential) {
            return Err(ResultCode::InvalidPassword);
        }
        let credential =
            std::str::from_utf8(credential).map_err(|_| ResultCode::InvalidPassword)?;
        server_hash(credential).map_err(|_| ResultCode::ServerError)
    }

    /// The ROLES field; every name must be a predefined or existing role.
    fn known_roles(&self, req: &AdminRequest<'_>) -> Result<Vec<String>, ResultCode> {
        let roles = req.roles().map_err(|e| e.result_code())?;
        let store = self.store.read();
        roles
            .into_iter()
            .map(|r| {
                if privilege::predefined(r).is_some() || store.roles.contains_key(r) {
                    Ok(r.to_owned())
                } else {
                    Err(ResultCode::InvalidRole)
                }
            })
            .collect()
    }

    fn user_defined_role(&self, name: &str) -> Result<(String, Role), ResultCode> {
        if privilege::predefined(name).is_some() {
            return Err(ResultCode::InvalidRole);
        }
        let role = self
            .store
            .read()
            .roles
            .get(name)
            .cloned()
            .ok_or(ResultCode::InvalidRole)?;
        Ok((name.to_owned(), role))
    }

    fn read_quotas(&self, req: &AdminRequest<'_>, role: &mut Role) -> Result<(), ResultCode> {
        let read = req
            .u32_field(field::READ_QUOTA)
            .map_err(|_| ResultCode::InvalidQuota)?;
        let write = req
            .u32_field(field::WRITE_QUOTA)
            .map_err(|_| ResultCode::InvalidQuota)?;
        if (read.unwrap_or(0) != 0 || write.unwrap_or(0) != 0) && !self.config.enable_quotas {
            return Err(ResultCode::QuotasNotEnabled);
        }
        if let Some(r) = read {
            role.read_quota = r;
        }
        if let Some(w) = write {
            role.write_quota = w;
        }
        Ok(())
    }

    // --------------------------------------------------------------------------------------
    // Queries
    // --------------------------------------------------------------------------------------

    fn query(
        &self,
        auth: &mut ConnAuth,
        req: &AdminRequest<'_>,
        out: &mut Vec<u8>,
    ) -> Result<(), ResultCode> {
        let resolved = self.resolve(auth).ok_or(ResultCode::NotAuthenticated)?;
        let is_user_admin = resolved.perms() & Perm::UserAdmin as u16 != 0;
        let me = auth.user().unwrap_or_default().to_owned();
        let store = self.store.read();
        let records: Vec<Vec<u8>> = if req.command == command::QUERY_USERS {
            let wanted = req.str_field(field::USER).map_err(|e| e.result_code())?;
            let names: Vec<&String> = match wanted {
                Some(u) => vec![
                    store
                        .users
                        .get_key_value(u)
                        .ok_or(ResultCode::InvalidUser)?
                        .0,
                ],
                None => store.users.keys().collect(),
            };
            if !is_user_admin && names.iter().any(|n| **n != me) {
                return Err(ResultCode::RoleViolation);
            }
            names
                .into_iter()
                .filter_map(|n| store.users.get(n).map(|u| (n, u)))
                .map(|(name, u)| {
                    let (rps, wps) = self.user_tps(name);
                    let r = self.resolve_user(name).unwrap_or_default();
                    let roles: Vec<&str> = u.roles.iter().map(String::as_str).collect();
                    let mut rec = AdminRecord::new(ResultCode::Ok, command::QUERY_USERS);
                    rec.field(field::USER, name.as_bytes()).roles(&roles);
                    rec.u32_list(field::READ_INFO, &[r.read_quota, rps, 0, 0]);
                    rec.u32_list(field::WRITE_INFO, &[r.write_quota, wps, 0, 0]);
                    rec.finish()
                })
                .collect()
        } else {
            let wanted = req.str_field(field::ROLE).map_err(|e| e.result_code())?;
            let mine: Vec<String> = store
                .users
                .get(&me)
                .map(|u| u.roles.clone())
                .unwrap_or_default();
            let visible = |n: &str| is_user_admin || mine.iter().any(|m| m == n);
            let mut all: Vec<(String, Role)> = PREDEFINED_ROLES
                .iter()
                .filter_map(|(n, _)| {
                    let p = privilege::predefined(n)?;
                    Some((
                        (*n).to_owned(),
                        Role {
                            privileges: vec![p],
                            ..Role::default()
                        },
                    ))
                })
                .collect();
            all.extend(store.roles.iter().map(|(n, r)| (n.clone(), r.clone())));
            let chosen: Vec<(String, Role)> = match wanted {
                Some(w) => {
                    let found = all
                        .into_iter()
                        .find(|(n, _)| n == w)
                        .ok_or(ResultCode::InvalidRole)?;
                    if !visible(&found.0) {
                        return Err(ResultCode::RoleViolation);
                    }
                    vec![found]
                }
                None => all.into_iter().filter(|(n, _)| visible(n)).collect(),
            };
            chosen
                .into_iter()
                .map(|(name, role)| {
                    let mut rec = AdminRecord::new(ResultCode::Ok, command::QUERY_ROLES);
                    rec.field(field::ROLE, name.as_bytes())
                        .privileges(&role.privileges);
                    if !role.allowlist.is_empty() {
                        rec.field(field::ALLOWLIST, role.allowlist.join(",").as_bytes());
                    }
                    rec.u32_field(field::READ_QUOTA, role.read_quota);
                    rec.u32_field(field::WRITE_QUOTA, role.write_quota);
                    rec.finish()
                })
                .collect()
        };
        for chunk in records.chunks(RECORDS_PER_FRAME) {
            write_records_frame(out, chunk);
        }
        write_reply(out, ResultCode::QueryEnd, req.command);
        Ok(())
    }
}

/// The PRIVILEGES field, each privilege checked.
fn valid_privileges(req: &AdminRequest<'_>) -> Result<Vec<WirePrivilege>, ResultCode> {
    let privs = req.privileges().map_err(|_| ResultCode::InvalidPrivilege)?;
    if privs.iter().all(privilege::is_valid) {
        Ok(privs)
    } else {
        Err(ResultCode::InvalidPrivilege)
    }
}

/// The ALLOWLIST field, each entry checked.
fn valid_allowlist(req: &AdminRequest<'_>) -> Result<Vec<String>, ResultCode> {
    let list = req.allowlist().map_err(|_| ResultCode::InvalidAllowlist)?;
    if list.iter().all(|a| allowlist::is_valid(a)) {
        Ok(list.into_iter().map(str::to_owned).collect())
    } else {
        Err(ResultCode::InvalidAllowlist)
    }
}

/// A command's name for the audit trail.
fn command_name(cmd: u8) -> &'static str {
    match cmd {
        command::AUTHENTICATE => "authenticate",
        command::CREATE_USER => "create-user",
        command::DROP_USER => "drop-user",
        command::SET_PASSWORD => "set-password",
        command::CHANGE_PASSWORD => "change-password",
        command::GRANT_ROLES => "grant-roles",
        command::REVOKE_ROLES => "revoke-roles",
        command::QUERY_USERS => "query-users",
        command::CREATE_ROLE => "create-role",
        command::DROP_ROLE => "drop-role",
        command::GRANT_PRIVILEGES => "grant-privileges",
        command::REVOKE_PRIVILEGES => "revoke-privileges",
        command::SET_ALLOWLIST => "set-allowlist",
        command::SET_QUOTAS => "set-quotas",
        command::QUERY_ROLES => "query-roles",
        command::LOGIN => "login",
        _ => "unknown",
    }
}
