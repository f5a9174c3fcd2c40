//! Unit tests of the security state through its admin-message interface.

#![expect(clippy::unwrap_used, clippy::indexing_slicing, reason = "tests")]

use std::net::IpAddr;

use aerie_config::SecurityConfig;
use aerie_proto::admin::{command, field, privilege as code, AdminRecord, WirePrivilege};
use aerie_proto::msg::{info1, info2};
use aerie_proto::{Msg, MsgHeader, ResultCode};

use super::*;

const PEER: IpAddr = IpAddr::V4(std::net::Ipv4Addr::LOCALHOST);

fn send(sec: &Security, auth: &mut ConnAuth, rec: AdminRecord) -> (u8, Vec<u8>, Option<String>) {
    let mut out = Vec::new();
    let smd = sec.handle_admin(auth, PEER, &rec.finish(), &mut out);
    (out[9], out, smd)
}

fn login(sec: &Security, auth: &mut ConnAuth, user: &str, password: &str) -> u8 {
    let mut r = AdminRecord::new(ResultCode::Ok, command::LOGIN);
    r.field(field::USER, user.as_bytes());
    r.field(field::CREDENTIAL, client_hash(password).unwrap().as_bytes());
    send(sec, auth, r).0
}

fn msg_bytes(info2_flags: u8, ns: &str, set: &str) -> Vec<u8> {
    let h = MsgHeader {
        info1: if info2_flags == 0 { info1::READ } else { 0 },
        info2: info2_flags,
        n_fields: 3,
        ..Default::default()
    };
    let mut b = h.encode().to_vec();
    for (id, d) in [
        (0u8, ns.as_bytes()),
        (1, set.as_bytes()),
        (4, &[7u8; 20][..]),
    ] {
        b.extend_from_slice(&(d.len() as u32 + 1).to_be_bytes());
        b.push(id);
        b.extend_from_slice(d);
    }
    b
}

fn check(
    sec: &Security,
    auth: &mut ConnAuth,
    write: bool,
    ns: &str,
    set: &str,
) -> Result<(), ResultCode> {
    let b = msg_bytes(if write { info2::WRITE } else { 0 }, ns, set);
    sec.check_msg(auth, PEER, &Msg::parse(&b).unwrap())
}

fn create_user(
    sec: &Security,
    admin: &mut ConnAuth,
    user: &str,
    password: &str,
    roles: &[&str],
) -> u8 {
    let mut r = AdminRecord::new(ResultCode::Ok, command::CREATE_USER);
    r.field(field::USER, user.as_bytes());
    r.field(field::PASSWORD, client_hash(password).unwrap().as_bytes());
    r.roles(roles);
    send(sec, admin, r).0
}

#[test]
fn admin_login_and_user_lifecycle() {
    let sec = Security::open(&SecurityConfig::default(), None).unwrap();
    let mut anon = ConnAuth::default();
    assert_eq!(
        check(&sec, &mut anon, false, "test", ""),
        Err(ResultCode::NotAuthenticated)
    );
    assert_eq!(
        login(&sec, &mut anon, "admin", "wrong"),
        ResultCode::InvalidPassword.code()
    );
    assert_eq!(
        login(&sec, &mut anon, "nobody", "admin"),
        ResultCode::InvalidUser.code()
    );
    let mut admin = ConnAuth::default();
    assert_eq!(login(&sec, &mut admin, "admin", "admin"), 0);
    // admin holds user-admin only.
    assert_eq!(
        check(&sec, &mut admin, false, "test", ""),
        Err(ResultCode::RoleViolation)
    );
    assert_eq!(create_user(&sec, &mut admin, "bob", "pw", &["read"]), 0);
    assert_eq!(
        create_user(&sec, &mut admin, "bob", "pw", &["read"]),
        ResultCode::UserAlreadyExists.code()
    );
    assert_eq!(
        create_user(&sec, &mut admin, "eve", "pw", &["nope"]),
        ResultCode::InvalidRole.code()
    );
    let mut bob = ConnAuth::default();
    assert_eq!(login(&sec, &mut bob, "bob", "pw"), 0);
    assert_eq!(check(&sec, &mut bob, false, "test", "x"), Ok(()));
    assert_eq!(
        check(&sec, &mut bob, true, "test", "x"),
        Err(ResultCode::RoleViolation)
    );
    // bob may not manage users.
    assert_eq!(
        create_user(&sec, &mut bob, "eve", "pw", &["read"]),
        ResultCode::RoleViolation.code()
    );
    // Dropping bob ends his connection's rights at once.
    let mut r = AdminRecord::new(ResultCode::Ok, command::DROP_USER);
    r.field(field::USER, b"bob");
    let (rc, _, smd) = send(&sec, &mut admin, r);
    assert_eq!(rc, 0);
    assert!(smd.unwrap().starts_with(SMD_PREFIX));
    assert_eq!(
        check(&sec, &mut bob, false, "test", "x"),
        Err(ResultCode::NotAuthenticated)
    );
}

#[test]
fn scoped_roles_quotas_and_smd_replay() {
    let config = SecurityConfig {
        enable_quotas: true,
        ..SecurityConfig::default()
    };
    let a = Security::open(&config, None).unwrap();
    let b = Security::open(&config, None).unwrap();
    let mut admin = ConnAuth::default();
    assert_eq!(login(&a, &mut admin, "admin", "admin"), 0);
    let mut r = AdminRecord::new(ResultCode::Ok, command::CREATE_ROLE);
    r.field(field::ROLE, b"demo-writer");
    r.privileges(&[WirePrivilege {
        code: code::READ_WRITE,
        namespace: "test".into(),
        set: "demo".into(),
    }]);
    r.u32_field(field::READ_QUOTA, 2);
    let (rc, _, smd1) = send(&a, &mut admin, r);
    assert_eq!(rc, 0);
    let mut r = AdminRecord::new(ResultCode::Ok, command::CREATE_USER);
    r.field(field::USER, b"w");
    r.field(field::PASSWORD, client_hash("pw").unwrap().as_bytes());
    r.roles(&["demo-writer"]);
    let (rc, _, smd2) = send(&a, &mut admin, r);
    assert_eq!(rc, 0);
    // The other node learns both through system metadata.
    for s in [smd1.unwrap(), smd2.unwrap()] {
        assert_eq!(b.apply_smd(s.strip_prefix(SMD_PREFIX).unwrap()), "ok");
    }
    let mut w = ConnAuth::default();
    assert_eq!(login(&b, &mut w, "w", "pw"), 0);
    assert_eq!(check(&b, &mut w, true, "test", "demo"), Ok(()));
    assert_eq!(
        check(&b, &mut w, true, "test", "other"),
        Err(ResultCode::RoleViolation)
    );
    assert_eq!(
        check(&b, &mut w, true, "bar", "demo"),
        Err(ResultCode::RoleViolation)
    );
    // Read quota 2 per second: the third read in a second is refused (retry once across a
    // second boundary).
    let refused = (0..2).any(|_| {
        let r: Vec<_> = (0..3)
            .map(|_| check(&b, &mut w, false, "test", "demo"))
            .collect();
        r == [Ok(()), Ok(()), Err(ResultCode::QuotaExceeded)]
    });
    assert!(refused);
}

#[test]
fn allowlist_and_sessions() {
    let config = SecurityConfig {
        session_ttl_secs: 120,
        ..SecurityConfig::default()
    };
    let sec = Security::open(&config, None).unwrap();
    let mut admin = ConnAuth::default();
    assert_eq!(login(&sec, &mut admin, "admin", "admin"), 0);
    let mut r = AdminRecord::new(ResultCode::Ok, command::CREATE_ROLE);
    r.field(field::ROLE, b"remote");
    r.privileges(&[WirePrivilege {
        code: code::READ,
        namespace: String::new(),
        set: String::new(),
    }]);
    r.field(field::ALLOWLIST, b"10.0.0.0/8");
    assert_eq!(send(&sec, &mut admin, r).0, 0);
    assert_eq!(create_user(&sec, &mut admin, "far", "pw", &["remote"]), 0);
    let mut far = ConnAuth::default();
    assert_eq!(
        login(&sec, &mut far, "far", "pw"),
        ResultCode::NotAllowlisted.code()
    );
    // A session token authenticates a new connection; a made-up one does not.
    let mut r = AdminRecord::new(ResultCode::Ok, command::LOGIN);
    r.field(field::USER, b"admin");
    r.field(field::CREDENTIAL, client_hash("admin").unwrap().as_bytes());
    let (rc, out, _) = send(&sec, &mut ConnAuth::default(), r);
    assert_eq!(rc, 0);
    let req = aerie_proto::admin::AdminRequest::parse(&out[8..]).unwrap();
    let token = req.field(field::SESSION_TOKEN).unwrap().to_vec();
    assert_eq!(req.u32_field(field::SESSION_TTL).unwrap(), Some(120));
    for (tok, want) in [
        (token.clone(), 0),
        (vec![1; 32], ResultCode::InvalidCredential.code()),
    ] {
        let mut r = AdminRecord::new(ResultCode::Ok, command::AUTHENTICATE);
        r.field(field::USER, b"admin");
        r.field(field::SESSION_TOKEN, &tok);
        assert_eq!(send(&sec, &mut ConnAuth::default(), r).0, want);
    }
}

#[test]
fn state_survives_reopen() {
    let dir = tempfile::tempdir().unwrap();
    {
        let sec = Security::open(&SecurityConfig::default(), Some(dir.path())).unwrap();
        let mut admin = ConnAuth::default();
        assert_eq!(login(&sec, &mut admin, "admin", "admin"), 0);
        assert_eq!(create_user(&sec, &mut admin, "kept", "pw", &["read"]), 0);
    }
    // The writer thread saves asynchronously; wait (bounded) for the file.
    let path = dir.path().join(SMD_FILE);
    for _ in 0..100 {
        if std::fs::read_to_string(&path).is_ok_and(|t| t.lines().count() == 2) {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    let sec = Security::open(&SecurityConfig::default(), Some(dir.path())).unwrap();
    assert_eq!(login(&sec, &mut ConnAuth::default(), "kept", "pw"), 0);
}

#[test]
fn client_hash_matches_the_clients() {
    // The official clients' hash of "password" (their shared fixed salt, cost 10, $2a$).
    assert_eq!(
        client_hash("password").unwrap(),
        "$2a$10$7EqJtq98hPqEX7fNZaFWoOqUH6KN8IKy3Yk5Kz..RHGKNAUCoP/LG"
    );
}

#[test]
fn expired_session_is_refused() {
    let sec = Security::open(&SecurityConfig::default(), None).unwrap();
    let token = sec.new_session("admin").unwrap();
    let authenticate = |sec: &Security| {
        let mut r = AdminRecord::new(ResultCode::Ok, command::AUTHENTICATE);
        r.field(field::USER, b"admin");
        r.field(field::SESSION_TOKEN, &token);
        send(sec, &mut ConnAuth::default(), r).0
    };
    assert_eq!(authenticate(&sec), 0);
    // Age the session past its TTL.
    if let Some(s) = sec.sessions.lock().get_mut(&token) {
        s.expires = std::time::Instant::now();
    }
    assert_eq!(authenticate(&sec), ResultCode::ExpiredSession.code());
    // Expired sessions are forgotten: the token is now unknown.
    assert_eq!(authenticate(&sec), ResultCode::InvalidCredential.code());
}

#[test]
fn malformed_admin_messages_get_a_code() {
    let sec = Security::open(&SecurityConfig::default(), None).unwrap();
    let mut auth = ConnAuth::default();
    for body in [
        &[][..],
        &[0, 0, 20],
        &[0, 0, 20, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 9],
    ] {
        let mut out = Vec::new();
        assert!(sec.handle_admin(&mut auth, PEER, body, &mut out).is_none());
        assert_ne!(out[9], 0);
    }
    let mut r = AdminRecord::new(ResultCode::Ok, 99);
    r.field(field::USER, b"admin");
    assert_eq!(
        send(&sec, &mut auth, r).0,
        ResultCode::NotAuthenticated.code()
    );
}
