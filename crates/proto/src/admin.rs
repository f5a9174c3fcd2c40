//! The admin (security) message, proto type 2: login, authenticate, user and role management.
//! Mirrors the layout aerospike-server reads in `as/src/base/security*.c` and the clients write
//! in their `admin_command` sources. See `docs/security.md` for the table.
//!
//! | offset | size | meaning                                             |
//! |--------|------|-----------------------------------------------------|
//! | 0      | 1    | unused (0)                                          |
//! | 1      | 1    | result code (replies)                               |
//! | 2      | 1    | command id                                          |
//! | 3      | 1    | field count                                         |
//! | 4      | 12   | unused (0)                                          |
//! | 16     | ...  | fields: `u32 BE size` (id byte + data), `u8 id`, data |
//!
//! Decoding borrows from the body and is bounded: at most 255 fields, each checked against the
//! body's end before use. Nothing here knows users or roles; it only moves bytes.

use crate::header::ProtoType;
use crate::{ProtoHeader, ResultCode};

/// The admin header that follows the proto header.
pub const ADMIN_HEADER_SIZE: usize = 16;
const OFF_RESULT: usize = 1;
const OFF_COMMAND: usize = OFF_RESULT + 1;
const OFF_FIELD_COUNT: usize = OFF_COMMAND + 1;
const _: () = assert!(OFF_FIELD_COUNT + 1 + 12 == ADMIN_HEADER_SIZE);

/// Command ids (byte 2 of the admin header).
pub mod command {
    pub const AUTHENTICATE: u8 = 0;
    pub const CREATE_USER: u8 = 1;
    pub const DROP_USER: u8 = 2;
    pub const SET_PASSWORD: u8 = 3;
    pub const CHANGE_PASSWORD: u8 = 4;
    pub const GRANT_ROLES: u8 = 5;
    pub const REVOKE_ROLES: u8 = 6;
    pub const QUERY_USERS: u8 = 9;
    pub const CREATE_ROLE: u8 = 10;
    pub const DROP_ROLE: u8 = 11;
    pub const GRANT_PRIVILEGES: u8 = 12;
    pub const REVOKE_PRIVILEGES: u8 = 13;
    pub const SET_ALLOWLIST: u8 = 14;
    pub const SET_QUOTAS: u8 = 15;
    pub const QUERY_ROLES: u8 = 16;
    pub const LOGIN: u8 = 20;
}

/// Field ids.
pub mod field {
    pub const USER: u8 = 0;
    pub const PASSWORD: u8 = 1;
    pub const OLD_PASSWORD: u8 = 2;
    pub const CREDENTIAL: u8 = 3;
    pub const CLEAR_PASSWORD: u8 = 4;
    pub const SESSION_TOKEN: u8 = 5;
    pub const SESSION_TTL: u8 = 6;
    pub const ROLES: u8 = 10;
    pub const ROLE: u8 = 11;
    pub const PRIVILEGES: u8 = 12;
    pub const ALLOWLIST: u8 = 13;
    pub const READ_QUOTA: u8 = 14;
    pub const WRITE_QUOTA: u8 = 15;
    pub const READ_INFO: u8 = 16;
    pub const WRITE_INFO: u8 = 17;
    pub const CONNECTIONS: u8 = 18;
    /// One past the largest id kept.
    pub const SLOTS: usize = 19;
}

/// Privilege codes on the wire. Codes from `READ` up may be scoped to a namespace and set.
pub mod privilege {
    pub const USER_ADMIN: u8 = 0;
    pub const SYS_ADMIN: u8 = 1;
    pub const DATA_ADMIN: u8 = 2;
    pub const UDF_ADMIN: u8 = 3;
    pub const SINDEX_ADMIN: u8 = 4;
    pub const READ: u8 = 10;
    pub const READ_WRITE: u8 = 11;
    pub const READ_WRITE_UDF: u8 = 12;
    pub const WRITE: u8 = 13;
    pub const TRUNCATE: u8 = 14;
    /// The first code that carries a namespace and set scope.
    pub const FIRST_SCOPED: u8 = READ;
}

/// Why an admin body could not be decoded. Every variant is answered with a result code and the
/// connection stays open, as the reference server does.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum AdminParseError {
    #[error("admin header shorter than 16 bytes")]
    ShortHeader,
    #[error("admin field {index} runs past the end of the message")]
    FieldTruncated { index: u8 },
    #[error("admin field {index} has size 0")]
    FieldEmpty { index: u8 },
    #[error("admin field {id} is not valid UTF-8")]
    NotUtf8 { id: u8 },
    #[error("admin field {id} is malformed")]
    Malformed { id: u8 },
}

impl AdminParseError {
    /// The code the reply carries (Aerospike's field error, 55, for a bad field).
    pub fn result_code(&self) -> ResultCode {
        match self {
            Self::ShortHeader => ResultCode::Parameter,
            Self::FieldTruncated { .. }
            | Self::FieldEmpty { .. }
            | Self::NotUtf8 { .. }
            | Self::Malformed { .. } => ResultCode::InvalidField,
        }
    }
}

/// A privilege as the wire carries it: a code, and for data codes a namespace and set (empty
/// when not scoped).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct WirePrivilege {
    pub code: u8,
    pub namespace: String,
    pub set: String,
}

/// A decoded admin request, borrowing its fields from the body.
#[derive(Debug, Clone)]
pub struct AdminRequest<'a> {
    pub command: u8,
    slots: [Option<&'a [u8]>; field::SLOTS],
}

impl<'a> AdminRequest<'a> {
    /// Decodes an admin body (the bytes after the proto header). Unknown field ids are skipped.
    pub fn parse(body: &'a [u8]) -> Result<Self, AdminParseError> {
        let header = body
            .get(..ADMIN_HEADER_SIZE)
            .ok_or(AdminParseError::ShortHeader)?;
        let command = header.get(OFF_COMMAND).copied().unwrap_or_default();
        let n_fields = header.get(OFF_FIELD_COUNT).copied().unwrap_or_default();
        let mut slots = [None; field::SLOTS];
        let mut rest = body.get(ADMIN_HEADER_SIZE..).unwrap_or_default();
        for index in 0..n_fields {
            let (size, after) = rest
                .split_first_chunk::<4>()
                .ok_or(AdminParseError::FieldTruncated { index })?;
            let size = u32::from_be_bytes(*size) as usize;
            if size == 0 {
                return Err(AdminParseError::FieldEmpty { index });
            }
            let f = after
                .get(..size)
                .ok_or(AdminParseError::FieldTruncated { index })?;
            rest = after.get(size..).unwrap_or_default();
            if let Some((&id, data)) = f.split_first() {
                if let Some(slot) = slots.get_mut(id as usize) {
                    *slot = Some(data);
                }
            }
        }
        Ok(Self { command, slots })
    }

    /// The raw data of field `id`.
    pub fn field(&self, id: u8) -> Option<&'a [u8]> {
        self.slots.get(id as usize).copied().flatten()
    }

    /// Field `id` as text.
    pub fn str_field(&self, id: u8) -> Result<Option<&'a str>, AdminParseError> {
        self.field(id)
            .map(|b| std::str::from_utf8(b).map_err(|_| AdminParseError::NotUtf8 { id }))
            .transpose()
    }

    /// Field `id` as a big-endian u32 (quotas, session TTL).
    pub fn u32_field(&self, id: u8) -> Result<Option<u32>, AdminParseError> {
        self.field(id)
            .map(|b| {
                b.first_chunk::<4>()
                    .map(|c| u32::from_be_bytes(*c))
                    .ok_or(AdminParseError::Malformed { id })
            })
            .transpose()
    }

    /// The roles field: `u8 count`, then per role `u8 length` and the name.
    pub fn roles(&self) -> Result<Vec<&'a str>, AdminParseError> {
        const ID: u8 = field::ROLES;
        let Some(mut b) = self.field(ID) else {
            return Ok(Vec::new());
        };
        let count = take_u8(&mut b, ID)?;
        let mut out = Vec::with_capacity(count as usize);
        for _ in 0..count {
            out.push(take_name(&mut b, ID)?);
        }
        Ok(out)
    }

    /// The privileges field: `u8 count`, then per privilege `u8 code`, and for scoped codes
    /// `u8 length` + namespace and `u8 length` + set.
    pub fn privileges(&self) -> Result<Vec<WirePrivilege>, AdminParseError> {
        const ID: u8 = field::PRIVILEGES;
        let Some(mut b) = self.field(ID) else {
            return Ok(Vec::new());
        };
        let count = take_u8(&mut b, ID)?;
        let mut out = Vec::with_capacity(count as usize);
        for _ in 0..count {
            let code = take_u8(&mut b, ID)?;
            let (namespace, set) = if code >= privilege::FIRST_SCOPED {
                (take_name(&mut b, ID)?, take_name(&mut b, ID)?)
            } else {
                ("", "")
            };
            out.push(WirePrivilege {
                code,
                namespace: namespace.to_owned(),
                set: set.to_owned(),
            });
        }
        Ok(out)
    }

    /// The allow-list field: comma-separated addresses; empty elements skipped.
    pub fn allowlist(&self) -> Result<Vec<&'a str>, AdminParseError> {
        Ok(self
            .str_field(field::ALLOWLIST)?
            .map(|s| {
                s.split(',')
                    .map(str::trim)
                    .filter(|a| !a.is_empty())
                    .collect()
            })
            .unwrap_or_default())
    }
}

fn take_u8(b: &mut &[u8], id: u8) -> Result<u8, AdminParseError> {
    let (&v, rest) = b.split_first().ok_or(AdminParseError::Malformed { id })?;
    *b = rest;
    Ok(v)
}

fn take_name<'a>(b: &mut &'a [u8], id: u8) -> Result<&'a str, AdminParseError> {
    let len = take_u8(b, id)? as usize;
    let name = b.get(..len).ok_or(AdminParseError::Malformed { id })?;
    *b = b.get(len..).unwrap_or_default();
    std::str::from_utf8(name).map_err(|_| AdminParseError::NotUtf8 { id })
}

// ------------------------------------------------------------------------------------------
// Encoding
// ------------------------------------------------------------------------------------------

/// One admin message under construction: a 16-byte header and its fields. Replies to commands
/// are one record in one frame; query replies pack many records into a frame.
#[derive(Debug, Clone)]
pub struct AdminRecord {
    buf: Vec<u8>,
    n_fields: u8,
}

impl AdminRecord {
    /// A record with result code `rc` for `command`.
    pub fn new(rc: ResultCode, command: u8) -> Self {
        let mut buf = vec![0u8; ADMIN_HEADER_SIZE];
        if let Some(b) = buf.get_mut(OFF_RESULT) {
            *b = rc.code();
        }
        if let Some(b) = buf.get_mut(OFF_COMMAND) {
            *b = command;
        }
        Self { buf, n_fields: 0 }
    }

    /// Appends a field with raw data.
    pub fn field(&mut self, id: u8, data: &[u8]) -> &mut Self {
        self.begin_field(id, data.len());
        self.buf.extend_from_slice(data);
        self
    }

    /// Appends a big-endian u32 field.
    pub fn u32_field(&mut self, id: u8, v: u32) -> &mut Self {
        self.field(id, &v.to_be_bytes())
    }

    /// Appends a roles field (names longer than 255 bytes are cut, as the field cannot say more).
    pub fn roles(&mut self, roles: &[&str]) -> &mut Self {
        let names: Vec<&[u8]> = roles.iter().take(255).map(|r| clip(r)).collect();
        let size = 1 + names.iter().map(|n| 1 + n.len()).sum::<usize>();
        self.begin_field(field::ROLES, size);
        self.buf.push(names.len() as u8);
        for n in names {
            self.buf.push(n.len() as u8);
            self.buf.extend_from_slice(n);
        }
        self
    }

    /// Appends a privileges field.
    pub fn privileges(&mut self, privileges: &[WirePrivilege]) -> &mut Self {
        let list: Vec<&WirePrivilege> = privileges.iter().take(255).collect();
        let mut data = vec![list.len() as u8];
        for p in list {
            data.push(p.code);
            if p.code >= privilege::FIRST_SCOPED {
                for name in [clip(&p.namespace), clip(&p.set)] {
                    data.push(name.len() as u8);
                    data.extend_from_slice(name);
                }
            }
        }
        self.field(field::PRIVILEGES, &data)
    }

    /// Appends a list of u32 statistics (`READ_INFO`, `WRITE_INFO`).
    pub fn u32_list(&mut self, id: u8, values: &[u32]) -> &mut Self {
        let values = values.get(..values.len().min(255)).unwrap_or_default();
        let mut data = vec![values.len() as u8];
        for v in values {
            data.extend_from_slice(&v.to_be_bytes());
        }
        self.field(id, &data)
    }

    /// The record's bytes (header with its field count, then fields).
    pub fn finish(mut self) -> Vec<u8> {
        if let Some(b) = self.buf.get_mut(OFF_FIELD_COUNT) {
            *b = self.n_fields;
        }
        self.buf
    }

    fn begin_field(&mut self, id: u8, size: usize) {
        self.n_fields = self.n_fields.saturating_add(1);
        self.buf
            .extend_from_slice(&((size as u32).saturating_add(1)).to_be_bytes());
        self.buf.push(id);
    }
}

fn clip(s: &str) -> &[u8] {
    let b = s.as_bytes();
    b.get(..b.len().min(255)).unwrap_or_default()
}

/// Appends one admin frame holding `records` back to back.
pub fn write_records_frame(out: &mut Vec<u8>, records: &[Vec<u8>]) {
    let size: usize = records.iter().map(Vec::len).sum();
    out.extend_from_slice(&ProtoHeader::encode(ProtoType::Admin, size as u64));
    for r in records {
        out.extend_from_slice(r);
    }
}

/// Appends a header-only reply: result code `rc` for `command`.
pub fn write_reply(out: &mut Vec<u8>, rc: ResultCode, command: u8) {
    write_records_frame(out, &[AdminRecord::new(rc, command).finish()]);
}

#[cfg(test)]
#[expect(clippy::unwrap_used, clippy::indexing_slicing, reason = "tests")]
mod tests {
    use super::*;

    fn request(command: u8, fields: &[(u8, &[u8])]) -> Vec<u8> {
        let mut r = AdminRecord::new(ResultCode::Ok, command);
        for (id, d) in fields {
            r.field(*id, d);
        }
        r.finish()
    }

    #[test]
    fn login_round_trip() {
        let body = request(
            command::LOGIN,
            &[(field::USER, b"alice"), (field::CREDENTIAL, b"$2a$10$x")],
        );
        let req = AdminRequest::parse(&body).unwrap();
        assert_eq!(req.command, command::LOGIN);
        assert_eq!(req.str_field(field::USER).unwrap(), Some("alice"));
        assert_eq!(req.field(field::CREDENTIAL), Some(&b"$2a$10$x"[..]));
        assert_eq!(req.field(field::PASSWORD), None);
    }

    #[test]
    fn roles_and_privileges_round_trip() {
        let privs = vec![
            WirePrivilege {
                code: privilege::SYS_ADMIN,
                namespace: String::new(),
                set: String::new(),
            },
            WirePrivilege {
                code: privilege::READ,
                namespace: "test".into(),
                set: "demo".into(),
            },
        ];
        let mut r = AdminRecord::new(ResultCode::Ok, command::CREATE_ROLE);
        r.roles(&["read", "write"]).privileges(&privs);
        r.u32_field(field::READ_QUOTA, 7);
        r.field(field::ALLOWLIST, b"10.0.0.1,,127.0.0.0/8");
        let body = r.finish();
        let req = AdminRequest::parse(&body).unwrap();
        assert_eq!(req.roles().unwrap(), vec!["read", "write"]);
        assert_eq!(req.privileges().unwrap(), privs);
        assert_eq!(req.u32_field(field::READ_QUOTA).unwrap(), Some(7));
        assert_eq!(req.allowlist().unwrap(), vec!["10.0.0.1", "127.0.0.0/8"]);
    }

    #[test]
    fn truncated_and_empty_fields_are_errors() {
        let body = request(command::LOGIN, &[(field::USER, b"alice")]);
        for cut in ADMIN_HEADER_SIZE + 1..body.len() {
            assert!(matches!(
                AdminRequest::parse(body.get(..cut).unwrap()),
                Err(AdminParseError::FieldTruncated { index: 0 })
            ));
        }
        assert_eq!(
            AdminRequest::parse(&body[..3]).unwrap_err(),
            AdminParseError::ShortHeader
        );
        let mut empty = AdminRecord::new(ResultCode::Ok, 0).finish();
        empty[3] = 1;
        empty.extend_from_slice(&[0, 0, 0, 0]);
        assert_eq!(
            AdminRequest::parse(&empty).unwrap_err(),
            AdminParseError::FieldEmpty { index: 0 }
        );
    }

    #[test]
    fn malformed_lists_are_errors() {
        let body = request(command::GRANT_ROLES, &[(field::ROLES, &[2, 4, b'r'])]);
        let req = AdminRequest::parse(&body).unwrap();
        assert!(req.roles().is_err());
        let body = request(
            command::GRANT_PRIVILEGES,
            &[(field::PRIVILEGES, &[1, 10, 9])],
        );
        let req = AdminRequest::parse(&body).unwrap();
        assert!(req.privileges().is_err());
        let body = request(command::SET_QUOTAS, &[(field::READ_QUOTA, &[1, 2])]);
        let req = AdminRequest::parse(&body).unwrap();
        assert!(req.u32_field(field::READ_QUOTA).is_err());
    }

    #[test]
    fn reply_frame_layout() {
        let mut out = Vec::new();
        write_reply(&mut out, ResultCode::NotAuthenticated, command::LOGIN);
        assert_eq!(out.len(), 8 + ADMIN_HEADER_SIZE);
        assert_eq!(out[1], 2);
        assert_eq!(out[8 + 1], 80);
        assert_eq!(out[8 + 2], command::LOGIN);
        assert_eq!(out[8 + 3], 0);
    }

    proptest::proptest! {
        #[test]
        fn parse_never_panics(b in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..256)) {
            if let Ok(r) = AdminRequest::parse(&b) {
                let _ = r.roles();
                let _ = r.privileges();
                let _ = r.allowlist();
                let _ = r.u32_field(field::SESSION_TTL);
            }
        }
    }
}
