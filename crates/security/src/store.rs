//! Users and user-defined roles: the security system metadata. Every change is a [`Change`]
//! that replaces one user or role whole (or drops it), so applying the same change twice, or a
//! peer's log replayed on a node that joins, gives the same state. Changes travel between nodes
//! as text ([`Change::encode`]), and the whole state is saved as the same text, one change a line.
//!
//! Text form: `user:NAME:HASH:ROLE,ROLE`, `drop-user:NAME`,
//! `role:NAME:CODE.NS.SET,...:ADDR,...:READ_QUOTA:WRITE_QUOTA`, `drop-role:NAME`, with every
//! name, hash, namespace, set and address in URL-safe base64 so no separator can appear in one.

use std::collections::BTreeMap;

use aerie_proto::admin::WirePrivilege;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use base64::Engine as _;

/// A user: its server-side password hash (bcrypt of the client's bcrypt hash) and its roles.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    pub password_hash: String,
    pub roles: Vec<String>,
}

/// A user-defined role.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Role {
    pub privileges: Vec<WirePrivilege>,
    pub allowlist: Vec<String>,
    pub read_quota: u32,
    pub write_quota: u32,
}

/// The users and user-defined roles.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Store {
    pub users: BTreeMap<String, User>,
    pub roles: BTreeMap<String, Role>,
}

/// One change to the store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Change {
    SetUser(String, User),
    DropUser(String),
    SetRole(String, Role),
    DropRole(String),
}

impl Store {
    /// Applies a change.
    pub fn apply(&mut self, change: Change) {
        match change {
            Change::SetUser(name, user) => {
                self.users.insert(name, user);
            }
            Change::DropUser(name) => {
                self.users.remove(&name);
            }
            Change::SetRole(name, role) => {
                self.roles.insert(name, role);
            }
            Change::DropRole(name) => {
                self.roles.remove(&name);
                for user in self.users.values_mut() {
                    user.roles.retain(|r| *r != name);
                }
            }
        }
    }

    /// The whole state as text, one change a line.
    pub fn snapshot(&self) -> String {
        let mut out = String::new();
        for (name, role) in &self.roles {
            out.push_str(&Change::SetRole(name.clone(), role.clone()).encode());
            out.push('\n');
        }
        for (name, user) in &self.users {
            out.push_str(&Change::SetUser(name.clone(), user.clone()).encode());
            out.push('\n');
        }
        out
    }

    /// Reads a snapshot; a line that does not decode is reported and skipped.
    pub fn from_snapshot(text: &str) -> Self {
        let mut store = Self::default();
        for line in text.lines().filter(|l| !l.trim().is_empty()) {
            match Change::decode(line) {
                Some(c) => store.apply(c),
                None => tracing::warn!("skipping an unreadable security metadata line"),
            }
        }
        store
    }
}

impl Change {
    /// The text form.
    pub fn encode(&self) -> String {
        match self {
            Self::SetUser(name, user) => format!(
                "user:{}:{}:{}",
                b64(name),
                b64(&user.password_hash),
                list(user.roles.iter().map(|r| b64(r)))
            ),
            Self::DropUser(name) => format!("drop-user:{}", b64(name)),
            Self::SetRole(name, role) => format!(
                "role:{}:{}:{}:{}:{}",
                b64(name),
                list(role.privileges.iter().map(|p| format!(
                    "{}.{}.{}",
                    p.code,
                    b64(&p.namespace),
                    b64(&p.set)
                ))),
                list(role.allowlist.iter().map(|a| b64(a))),
                role.read_quota,
                role.write_quota
            ),
            Self::DropRole(name) => format!("drop-role:{}", b64(name)),
        }
    }

    /// Parses the text form; `None` if malformed.
    pub fn decode(text: &str) -> Option<Self> {
        let parts: Vec<&str> = text.trim().split(':').collect();
        match parts.as_slice() {
            ["user", name, hash, roles] => Some(Self::SetUser(
                unb64(name)?,
                User {
                    password_hash: unb64(hash)?,
                    roles: unlist(roles, unb64)?,
                },
            )),
            ["drop-user", name] => Some(Self::DropUser(unb64(name)?)),
            ["role", name, privs, allow, rq, wq] => Some(Self::SetRole(
                unb64(name)?,
                Role {
                    privileges: unlist(privs, |p| {
                        let mut it = p.split('.');
                        let code = it.next()?.parse().ok()?;
                        let namespace = unb64(it.next()?)?;
                        let set = unb64(it.next()?)?;
                        Some(WirePrivilege {
                            code,
                            namespace,
                            set,
                        })
                    })?,
                    allowlist: unlist(allow, unb64)?,
                    read_quota: rq.parse().ok()?,
                    write_quota: wq.parse().ok()?,
                },
            )),
            ["drop-role", name] => Some(Self::DropRole(unb64(name)?)),
            _ => None,
        }
    }
}

fn b64(s: &str) -> String {
    B64.encode(s.as_bytes())
}

fn unb64(s: &str) -> Option<String> {
    String::from_utf8(B64.decode(s).ok()?).ok()
}

fn list(items: impl Iterator<Item = String>) -> String {
    items.collect::<Vec<_>>().join(",")
}

fn unlist<T>(s: &str, f: impl Fn(&str) -> Option<T>) -> Option<Vec<T>> {
    if s.is_empty() {
        return Some(Vec::new());
    }
    s.split(',').map(f).collect()
}

#[cfg(test)]
#[expect(clippy::unwrap_used, reason = "tests")]
mod tests {
    use super::*;

    #[test]
    fn changes_round_trip() {
        let changes = [
            Change::SetUser(
                "a:b,c".into(),
                User {
                    password_hash: "$2b$10$abc".into(),
                    roles: vec!["read".into(), "x,y".into()],
                },
            ),
            Change::SetUser(
                "empty".into(),
                User {
                    password_hash: "h".into(),
                    roles: vec![],
                },
            ),
            Change::DropUser("a".into()),
            Change::SetRole(
                "r".into(),
                Role {
                    privileges: vec![
                        WirePrivilege {
                            code: 10,
                            namespace: "test".into(),
                            set: "".into(),
                        },
                        WirePrivilege {
                            code: 1,
                            namespace: "".into(),
                            set: "".into(),
                        },
                    ],
                    allowlist: vec!["10.0.0.0/8".into()],
                    read_quota: 5,
                    write_quota: 0,
                },
            ),
            Change::SetRole("none".into(), Role::default()),
            Change::DropRole("r".into()),
        ];
        for c in changes {
            assert_eq!(Change::decode(&c.encode()).unwrap(), c);
        }
        assert_eq!(Change::decode("user:%%:x:"), None);
        assert_eq!(Change::decode("nonsense"), None);
    }

    #[test]
    fn snapshot_round_trip_and_drop_role_revokes() {
        let mut s = Store::default();
        s.apply(Change::SetRole("r".into(), Role::default()));
        s.apply(Change::SetUser(
            "u".into(),
            User {
                password_hash: "h".into(),
                roles: vec!["r".into(), "read".into()],
            },
        ));
        assert_eq!(Store::from_snapshot(&s.snapshot()), s);
        s.apply(Change::DropRole("r".into()));
        assert_eq!(s.users.get("u").unwrap().roles, vec!["read".to_owned()]);
    }
}
