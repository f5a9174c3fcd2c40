//! Access control: users, roles, privileges, sessions, allow-lists, quotas and the audit trail.
//!
//! **Owns:** the security system metadata ([`store`]: users with their bcrypt password hashes,
//! user-defined roles), session tokens, each connection's authentication state ([`ConnAuth`]),
//! the answers to admin (proto type 2) commands ([`admin`]), and the decision whether a data
//! request or info command may run ([`Security::check_msg`], [`Security::check_info`]).
//!
//! **Does not own:** the wire layout of admin messages (`aerie-proto`'s `admin` module), sockets
//! (the server's service layer holds a [`ConnAuth`] per connection and calls in), or carrying
//! changes to other nodes (the cluster's system metadata carries the text [`admin`] returns).
//!
//! **Mirrors:** aerospike-server's enterprise security (`as/src/base/security*.c`): same
//! commands, result codes, privilege codes, predefined roles and `admin`/`admin` first user.
//! Passwords are stored as Aerospike does: the client sends bcrypt(password) with a fixed salt,
//! the server keeps bcrypt of that with a random salt.
//!
//! A node built without a `security { }` stanza never constructs a [`Security`], so security off
//! costs nothing on the request path.

pub mod admin;
pub mod allowlist;
mod audit;
pub mod privilege;
pub mod store;

use std::collections::HashMap;
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use aerie_config::SecurityConfig;
use aerie_proto::msg::{field, info2};
use aerie_proto::{Msg, ResultCode};
use parking_lot::{Mutex, RwLock};

pub use privilege::Perm;
use privilege::{Grant, PermSet};
use store::{Change, Store, User};

/// System-metadata entries for security start with this (the rest is a [`store::Change`]).
pub const SMD_PREFIX: &str = "security:";
/// bcrypt cost of the server-side hash.
const SERVER_HASH_COST: u32 = 10;
/// The salt every Aerospike client hashes passwords with (`7EqJtq98hPqEX7fNZaFWoO` in
/// bcrypt's base64), so a password given here in clear hashes to what a client sends.
const CLIENT_SALT_B64: &str = "7EqJtq98hPqEX7fNZaFWoO";
/// Cost of the client-side hash.
const CLIENT_HASH_COST: u32 = 10;
/// Most live sessions kept; past it, expired ones are swept and then the oldest refused.
const MAX_SESSIONS: usize = 100_000;
/// Name of the saved state inside the metadata directory.
const SMD_FILE: &str = "security.smd";

/// The predefined first user.
pub const ADMIN_USER: &str = "admin";

/// One connection's authentication state. Starts anonymous; a login or authenticate sets the
/// user. Privileges are resolved once and re-resolved only when users or roles change.
#[derive(Debug, Default)]
pub struct ConnAuth {
    user: Option<Arc<str>>,
    resolved: Option<(u64, Arc<Resolved>)>,
}

impl ConnAuth {
    /// The logged-in user, if any.
    pub fn user(&self) -> Option<&str> {
        self.user.as_deref()
    }
}

/// A user's effective grants, quotas and allow-list.
#[derive(Debug, Default)]
struct Resolved {
    grants: Vec<Grant>,
    read_quota: u32,
    write_quota: u32,
    allowlist: Vec<String>,
}

impl Resolved {
    fn allows(&self, perm: Perm, namespace: &[u8], set: &[u8]) -> bool {
        self.grants.iter().any(|g| g.allows(perm, namespace, set))
    }

    fn perms(&self) -> PermSet {
        self.grants.iter().fold(0, |a, g| a | g.perms)
    }
}

struct Session {
    user: Arc<str>,
    expires: Instant,
}

/// A user's request counts in the current one-second window.
#[derive(Default)]
struct QuotaWindow {
    second: u64,
    reads: u32,
    writes: u32,
    last_reads: u32,
    last_writes: u32,
}

/// The node's security state.
pub struct Security {
    config: SecurityConfig,
    store: RwLock<Store>,
    /// Bumped on every change to users or roles; connections re-resolve when it moves.
    generation: AtomicU64,
    sessions: Mutex<HashMap<Vec<u8>, Session>>,
    /// Per user, the client credential last verified against the stored hash, so a client
    /// opening many connections pays for bcrypt once.
    verified: Mutex<HashMap<String, String>>,
    quotas: Mutex<HashMap<Arc<str>, QuotaWindow>>,
    persist: Option<std::sync::mpsc::Sender<String>>,
    epoch: Instant,
}

impl std::fmt::Debug for Security {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Security").finish_non_exhaustive()
    }
}

impl Security {
    /// Opens the security state: loads the saved users and roles from `smd_dir` (created if
    /// missing; `None` keeps them in memory), and creates user `admin` when there are no users
    /// yet, with password `admin` or the first line of `default-password-file`. Runs bcrypt:
    /// call it off the async runtime.
    pub fn open(config: &SecurityConfig, smd_dir: Option<&Path>) -> Result<Self, String> {
        let mut store = Store::default();
        let mut persist = None;
        if let Some(dir) = smd_dir {
            std::fs::create_dir_all(dir)
                .map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
            let path = dir.join(SMD_FILE);
            match std::fs::read_to_string(&path) {
                Ok(text) => store = Store::from_snapshot(&text),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => return Err(format!("cannot read {}: {e}", path.display())),
            }
            persist = Some(spawn_writer(path)?);
        }
        let security = Self {
            config: config.clone(),
            store: RwLock::new(store),
            generation: AtomicU64::new(1),
            sessions: Mutex::new(HashMap::new()),
            verified: Mutex::new(HashMap::new()),
            quotas: Mutex::new(HashMap::new()),
            persist,
            epoch: Instant::now(),
        };
        if security.store.read().users.is_empty() {
            let clear = match &config.default_password_file {
                Some(p) => std::fs::read_to_string(p)
                    .map_err(|e| format!("cannot read default-password-file {p}: {e}"))?
                    .lines()
                    .next()
                    .unwrap_or_default()
                    .to_owned(),
                None => ADMIN_USER.to_owned(),
            };
            let credential = client_hash(&clear)?;
            let user = User {
                password_hash: server_hash(&credential)?,
                roles: vec!["user-admin".to_owned()],
            };
            security.commit(Change::SetUser(ADMIN_USER.to_owned(), user));
        }
        Ok(security)
    }

    /// The configuration it runs with.
    pub fn config(&self) -> &SecurityConfig {
        &self.config
    }

    /// Applies a change received from a peer (the text after [`SMD_PREFIX`]); returns the
    /// info-style answer for the log.
    pub fn apply_smd(&self, text: &str) -> String {
        match Change::decode(text) {
            Some(change) => {
                self.commit(change);
                "ok".to_owned()
            }
            None => "ERROR::bad security metadata".to_owned(),
        }
    }

    /// Checks a data request (a single-record command, a scan or query, or one batch row)
    /// against the connection's privileges, and counts it against the user's quota.
    pub fn check_msg(
        &self,
        auth: &mut ConnAuth,
        peer: IpAddr,
        msg: &Msg<'_>,
    ) -> Result<(), ResultCode> {
        let namespace = msg.fields.get(field::NAMESPACE).unwrap_or_default();
        let set = msg.fields.get(field::SET).unwrap_or_default();
        let perm = if msg.fields.has(field::UDF_FUNCTION) || msg.fields.has(field::UDF_PACKAGE) {
            Perm::UdfApply
        } else if msg.header.info2 & info2::WRITE != 0 {
            Perm::Write
        } else {
            Perm::Read
        };
        let Some(resolved) = self.resolve(auth) else {
            audit::violation(
                &self.config,
                None,
                peer,
                "data request",
                ResultCode::NotAuthenticated,
            );
            return Err(ResultCode::NotAuthenticated);
        };
        if !resolved.allows(perm, namespace, set) {
            let what = format!(
                "{perm:?} on {}/{}",
                String::from_utf8_lossy(namespace),
                String::from_utf8_lossy(set)
            );
            audit::violation(
                &self.config,
                auth.user(),
                peer,
                &what,
                ResultCode::RoleViolation,
            );
            return Err(ResultCode::RoleViolation);
        }
        let single = msg.fields.has(field::DIGEST) || msg.fields.has(field::KEY);
        if self.config.enable_quotas && single {
            self.count_quota(auth, &resolved, perm == Perm::Read)?;
        }
        audit::data_op(&self.config, auth.user(), peer, perm, namespace, set);
        Ok(())
    }

    /// Checks one info command. `Err` holds the whole answer to send instead
    /// (`ERROR:80:...` or `ERROR:81:...`).
    pub fn check_info(
        &self,
        auth: &mut ConnAuth,
        peer: IpAddr,
        name: &str,
        args: &str,
    ) -> Result<(), String> {
        let Some(resolved) = self.resolve(auth) else {
            return Err(format!(
                "ERROR:{}:not authenticated",
                ResultCode::NotAuthenticated.code()
            ));
        };
        let Some((perm, namespace, set)) = info_requirement(name, args) else {
            return Ok(());
        };
        if !resolved.allows(perm, namespace.as_bytes(), set.as_bytes()) {
            audit::violation(
                &self.config,
                auth.user(),
                peer,
                name,
                ResultCode::RoleViolation,
            );
            return Err(format!(
                "ERROR:{}:role violation",
                ResultCode::RoleViolation.code()
            ));
        }
        audit::sys_admin(&self.config, auth.user(), peer, name);
        Ok(())
    }

    // --------------------------------------------------------------------------------------
    // Shared steps
    // --------------------------------------------------------------------------------------

    /// The connection's resolved privileges; `None` when it has not authenticated or its user
    /// is gone.
    fn resolve(&self, auth: &mut ConnAuth) -> Option<Arc<Resolved>> {
        let user = auth.user.clone()?;
        let generation = self.generation.load(Ordering::Acquire);
        if let Some((g, r)) = &auth.resolved {
            if *g == generation {
                return Some(r.clone());
            }
        }
        let resolved = Arc::new(self.resolve_user(&user)?);
        auth.resolved = Some((generation, resolved.clone()));
        Some(resolved)
    }

    fn resolve_user(&self, user: &str) -> Option<Resolved> {
        let store = self.store.read();
        let u = store.users.get(user)?;
        let mut r = Resolved::default();
        for role in &u.roles {
            if let Some(p) = privilege::predefined(role) {
                r.grants.push(Grant::of(&p));
            } else if let Some(role) = store.roles.get(role) {
                r.grants.extend(role.privileges.iter().map(Grant::of));
                r.read_quota = r.read_quota.max(role.read_quota);
                r.write_quota = r.write_quota.max(role.write_quota);
                r.allowlist.extend(role.allowlist.iter().cloned());
            }
        }
        Some(r)
    }

    fn count_quota(
        &self,
        auth: &ConnAuth,
        resolved: &Resolved,
        read: bool,
    ) -> Result<(), ResultCode> {
        let limit = if read {
            resolved.read_quota
        } else {
            resolved.write_quota
        };
        let Some(user) = auth.user.clone() else {
            return Ok(());
        };
        let second = self.epoch.elapsed().as_secs();
        let mut quotas = self.quotas.lock();
        let w = quotas.entry(user).or_default();
        if w.second != second {
            let (lr, lw) = if w.second + 1 == second {
                (w.reads, w.writes)
            } else {
                (0, 0)
            };
            *w = QuotaWindow {
                second,
                last_reads: lr,
                last_writes: lw,
                ..QuotaWindow::default()
            };
        }
        let count = if read { &mut w.reads } else { &mut w.writes };
        if limit != 0 && *count >= limit {
            return Err(ResultCode::QuotaExceeded);
        }
        *count = count.saturating_add(1);
        Ok(())
    }

    /// Applies a change here, saves the new state and wakes connections to re-resolve.
    fn commit(&self, change: Change) {
        if let Change::SetUser(name, _) | Change::DropUser(name) = &change {
            self.verified.lock().remove(name);
        }
        if let Change::DropUser(name) = &change {
            self.sessions
                .lock()
                .retain(|_, s| &*s.user != name.as_str());
        }
        let snapshot = {
            let mut store = self.store.write();
            store.apply(change);
            self.persist.as_ref().map(|_| store.snapshot())
        };
        self.generation.fetch_add(1, Ordering::AcqRel);
        if let (Some(tx), Some(s)) = (&self.persist, snapshot) {
            let _ = tx.send(s);
        }
    }

    /// Checks `credential` (the client's hash) against `user`'s stored hash.
    fn verify_password(&self, user: &str, credential: &[u8]) -> Result<(), ResultCode> {
        let stored = self
            .store
            .read()
            .users
            .get(user)
            .map(|u| u.password_hash.clone())
            .ok_or(ResultCode::InvalidUser)?;
        let credential =
            std::str::from_utf8(credential).map_err(|_| ResultCode::InvalidPassword)?;
        if self
            .verified
            .lock()
            .get(user)
            .is_some_and(|c| c == credential)
        {
            return Ok(());
        }
        match bcrypt::verify(credential, &stored) {
            Ok(true) => {
                self.verified
                    .lock()
                    .insert(user.to_owned(), credential.to_owned());
                Ok(())
            }
            _ => Err(ResultCode::InvalidPassword),
        }
    }

    fn new_session(&self, user: &str) -> Result<Vec<u8>, ResultCode> {
        let mut token = vec![0u8; 32];
        getrandom::fill(&mut token).map_err(|_| ResultCode::ServerError)?;
        let ttl = Duration::from_secs(u64::from(self.config.session_ttl_secs));
        let mut sessions = self.sessions.lock();
        if sessions.len() >= MAX_SESSIONS {
            let now = Instant::now();
            sessions.retain(|_, s| s.expires > now);
            if sessions.len() >= MAX_SESSIONS {
                return Err(ResultCode::ServerError);
            }
        }
        sessions.insert(
            token.clone(),
            Session {
                user: Arc::from(user),
                expires: Instant::now() + ttl,
            },
        );
        Ok(token)
    }

    fn check_session(&self, user: &str, token: &[u8]) -> Result<(), ResultCode> {
        let mut sessions = self.sessions.lock();
        let s = sessions.get(token).ok_or(ResultCode::InvalidCredential)?;
        if &*s.user != user {
            return Err(ResultCode::InvalidCredential);
        }
        if s.expires <= Instant::now() {
            sessions.remove(token);
            return Err(ResultCode::ExpiredSession);
        }
        Ok(())
    }

    /// Whether `user` may connect from `peer` under its roles' allow-lists.
    fn allowlisted(&self, user: &str, peer: IpAddr) -> Result<(), ResultCode> {
        let r = self.resolve_user(user).ok_or(ResultCode::InvalidUser)?;
        if r.allowlist.is_empty() || allowlist::contains(&r.allowlist, peer) {
            Ok(())
        } else {
            Err(ResultCode::NotAllowlisted)
        }
    }

    /// Reads-per-second and writes-per-second of `user` in the last whole second.
    fn user_tps(&self, user: &str) -> (u32, u32) {
        let second = self.epoch.elapsed().as_secs();
        let quotas = self.quotas.lock();
        match quotas.get(user) {
            Some(w) if w.second == second => (w.last_reads, w.last_writes),
            Some(w) if w.second + 1 == second => (w.reads, w.writes),
            _ => (0, 0),
        }
    }
}

/// What an info command needs beyond being logged in: a permission and its scope.
fn info_requirement(name: &str, args: &str) -> Option<(Perm, String, String)> {
    let param = |key: &str| {
        args.split(';')
            .filter_map(|kv| kv.split_once('='))
            .find(|(k, _)| *k == key)
            .map(|(_, v)| v.to_owned())
            .unwrap_or_default()
    };
    let global = |p| Some((p, String::new(), String::new()));
    match name {
        "set-config" | "config-set" | "log-set" | "recluster" | "quiesce" | "quiesce-undo"
        | "revive" | "tip" | "tip-clear" | "scan-abort" | "query-abort" | "abort"
        | "scan-abort-all" | "query-abort-all" | "abort-all" => global(Perm::SysAdmin),
        "jobs" if args.contains("cmd=kill-job") => global(Perm::SysAdmin),
        "sindex-create" | "sindex-delete" => global(Perm::IndexManage),
        "udf-put" | "udf-remove" => global(Perm::UdfManage),
        "truncate" | "truncate-undo" => Some((Perm::Truncate, param("namespace"), param("set"))),
        "truncate-namespace" | "truncate-namespace-undo" => {
            Some((Perm::Truncate, param("namespace"), String::new()))
        }
        _ => None,
    }
}

/// The client-side hash of a clear password: bcrypt with Aerospike's fixed salt, `$2a$`.
pub fn client_hash(clear: &str) -> Result<String, String> {
    use base64::Engine as _;
    let engine = base64::engine::GeneralPurpose::new(
        &base64::alphabet::BCRYPT,
        base64::engine::GeneralPurposeConfig::new()
            .with_decode_allow_trailing_bits(true)
            .with_decode_padding_mode(base64::engine::DecodePaddingMode::RequireNone),
    );
    let salt = engine
        .decode(CLIENT_SALT_B64)
        .map_err(|e| format!("bad client salt: {e}"))?;
    let salt: [u8; 16] = salt
        .get(..16)
        .and_then(|s| s.try_into().ok())
        .ok_or("bad client salt length")?;
    bcrypt::hash_with_salt(clear, CLIENT_HASH_COST, salt)
        .map(|h| h.format_for_version(bcrypt::Version::TwoA))
        .map_err(|e| e.to_string())
}

/// The stored hash of a client hash.
fn server_hash(credential: &str) -> Result<String, String> {
    bcrypt::hash(credential, SERVER_HASH_COST).map_err(|e| e.to_string())
}

/// Whether `credential` looks like a client hash (`$2a$` bcrypt, 60 characters).
fn is_client_hash(credential: &[u8]) -> bool {
    credential.len() == 60 && credential.starts_with(b"$2")
}

/// A thread that saves each new snapshot (temporary file, fsync, rename), off the service
/// threads; snapshots queued meanwhile collapse to the newest.
fn spawn_writer(path: PathBuf) -> Result<std::sync::mpsc::Sender<String>, String> {
    let (tx, rx) = std::sync::mpsc::channel::<String>();
    std::thread::Builder::new()
        .name("security-smd".into())
        .spawn(move || {
            while let Ok(mut snapshot) = rx.recv() {
                while let Ok(newer) = rx.try_recv() {
                    snapshot = newer;
                }
                if let Err(e) = write_atomically(&path, snapshot.as_bytes()) {
                    tracing::error!(path = %path.display(), "cannot save security metadata: {e}");
                }
            }
        })
        .map_err(|e| format!("cannot start the security metadata writer: {e}"))?;
    Ok(tx)
}

fn write_atomically(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write as _;
    let tmp = path.with_extension("smd.tmp");
    {
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
    }
    std::fs::rename(&tmp, path)
}

#[cfg(test)]
mod lib_test;
