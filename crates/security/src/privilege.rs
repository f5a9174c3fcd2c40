//! Privileges and permissions: what each privilege code lets a user do, where (global, one
//! namespace, or one set of a namespace), and the predefined roles. Mirrors the permission
//! table of aerospike-server's security (`as_sec_perm` values per privilege code).

use aerie_proto::admin::{privilege as code, WirePrivilege};

/// One thing a request needs. A privilege grants a set of these.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u16)]
pub enum Perm {
    /// Reads, batch reads, scans and queries.
    Read = 1 << 0,
    /// Writes, deletes, touches, operate with write ops, background ops queries.
    Write = 1 << 1,
    /// Record UDFs and background UDF queries.
    UdfApply = 1 << 2,
    /// `truncate`, `truncate-namespace`.
    Truncate = 1 << 3,
    /// `sindex-create`, `sindex-delete`.
    IndexManage = 1 << 4,
    /// `udf-put`, `udf-remove`.
    UdfManage = 1 << 5,
    /// `set-config`, job control and other node administration info commands.
    SysAdmin = 1 << 6,
    /// Creating, dropping and changing users and roles.
    UserAdmin = 1 << 7,
}

/// A set of [`Perm`]s.
pub type PermSet = u16;

/// What privilege `code` grants; `None` for a code Aerie does not know.
pub fn perms_of(privilege_code: u8) -> Option<PermSet> {
    use Perm::*;
    let perms: &[Perm] = match privilege_code {
        code::USER_ADMIN => &[UserAdmin],
        code::SYS_ADMIN => &[SysAdmin],
        code::DATA_ADMIN => &[IndexManage, UdfManage, Truncate],
        code::UDF_ADMIN => &[UdfManage],
        code::SINDEX_ADMIN => &[IndexManage],
        code::READ => &[Read],
        code::READ_WRITE => &[Read, Write],
        code::READ_WRITE_UDF => &[Read, Write, UdfApply],
        code::WRITE => &[Write],
        code::TRUNCATE => &[Truncate],
        _ => return None,
    };
    Some(perms.iter().fold(0, |acc, p| acc | *p as u16))
}

/// The predefined roles: each is one global privilege, and cannot be changed or dropped.
pub const PREDEFINED_ROLES: [(&str, u8); 10] = [
    ("user-admin", code::USER_ADMIN),
    ("sys-admin", code::SYS_ADMIN),
    ("data-admin", code::DATA_ADMIN),
    ("udf-admin", code::UDF_ADMIN),
    ("sindex-admin", code::SINDEX_ADMIN),
    ("read", code::READ),
    ("read-write", code::READ_WRITE),
    ("read-write-udf", code::READ_WRITE_UDF),
    ("write", code::WRITE),
    ("truncate", code::TRUNCATE),
];

/// The privilege of predefined role `name`.
pub fn predefined(name: &str) -> Option<WirePrivilege> {
    PREDEFINED_ROLES
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, c)| WirePrivilege {
            code: *c,
            namespace: String::new(),
            set: String::new(),
        })
}

/// Whether `p` is a privilege a role may hold: a known code, global codes unscoped, and a set
/// scope only inside a namespace.
pub fn is_valid(p: &WirePrivilege) -> bool {
    if perms_of(p.code).is_none() {
        return false;
    }
    if p.code < code::FIRST_SCOPED {
        return p.namespace.is_empty() && p.set.is_empty();
    }
    !p.namespace.is_empty() || p.set.is_empty()
}

/// One resolved grant: permissions and where they apply (empty namespace: everywhere; empty
/// set: the whole namespace).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Grant {
    pub perms: PermSet,
    pub namespace: String,
    pub set: String,
}

impl Grant {
    /// The grant a privilege gives (nothing for an unknown code).
    pub fn of(p: &WirePrivilege) -> Self {
        Self {
            perms: perms_of(p.code).unwrap_or(0),
            namespace: p.namespace.clone(),
            set: p.set.clone(),
        }
    }

    /// Whether this grant allows `perm` on `namespace`/`set`. A request without a namespace
    /// (node-wide) needs a global grant; a namespace-wide request (a scan of every set, a
    /// namespace truncate) needs a grant at namespace scope or wider.
    pub fn allows(&self, perm: Perm, namespace: &[u8], set: &[u8]) -> bool {
        if self.perms & perm as u16 == 0 {
            return false;
        }
        if self.namespace.is_empty() {
            return true;
        }
        if self.namespace.as_bytes() != namespace {
            return false;
        }
        self.set.is_empty() || self.set.as_bytes() == set
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(code: u8, ns: &str, set: &str) -> WirePrivilege {
        WirePrivilege {
            code,
            namespace: ns.into(),
            set: set.into(),
        }
    }

    #[test]
    fn scopes() {
        let global = Grant::of(&p(code::READ, "", ""));
        assert!(global.allows(Perm::Read, b"test", b"demo"));
        assert!(global.allows(Perm::Read, b"", b""));
        assert!(!global.allows(Perm::Write, b"test", b""));
        let ns = Grant::of(&p(code::READ_WRITE, "test", ""));
        assert!(ns.allows(Perm::Write, b"test", b"any"));
        assert!(!ns.allows(Perm::Write, b"bar", b"any"));
        assert!(!ns.allows(Perm::Write, b"", b""));
        let set = Grant::of(&p(code::WRITE, "test", "demo"));
        assert!(set.allows(Perm::Write, b"test", b"demo"));
        assert!(!set.allows(Perm::Write, b"test", b"other"));
        assert!(!set.allows(Perm::Write, b"test", b""));
        assert!(!set.allows(Perm::Read, b"test", b"demo"));
    }

    #[test]
    fn validity() {
        assert!(is_valid(&p(code::SYS_ADMIN, "", "")));
        assert!(!is_valid(&p(code::SYS_ADMIN, "test", "")));
        assert!(!is_valid(&p(99, "", "")));
        assert!(!is_valid(&p(code::READ, "", "demo")));
        assert!(is_valid(&p(code::READ, "test", "demo")));
        for (name, c) in PREDEFINED_ROLES {
            assert_eq!(predefined(name).map(|p| p.code), Some(c));
        }
    }
}
