//! Access control through the official Rust client against a node with `security { }`:
//! anonymous requests refused, wrong and unknown credentials, predefined and user-defined roles
//! with namespace and set scopes, password change, dropped users, allow-lists, quotas, and
//! users and roles surviving a restart.

use std::time::Duration;

use aerie_testkit::wire::{self, AsMsg};
use aerie_testkit::ServerProcess;
use aerospike::policy::AuthMode;
use aerospike::{
    as_bin, as_key, AdminPolicy, Bins, Client, ClientPolicy, Error, Privilege, PrivilegeCode,
    ReadPolicy, ResultCode, WritePolicy,
};

const TIMEOUT: Duration = Duration::from_secs(5);

fn config(dir: &std::path::Path) -> String {
    format!(
        "security {{\n  enable-quotas true\n  log {{\n    report-authentication true\n    \
         report-user-admin true\n    report-violation true\n  }}\n}}\n\
         namespace test {{\n  storage-engine device {{\n    file {}/sec.dat\n    filesize 16M\n    \
         write-block-size 128K\n  }}\n}}\n",
        dir.display()
    )
}

fn start(dir: &std::path::Path) -> ServerProcess {
    ServerProcess::builder()
        .bin(env!("CARGO_BIN_EXE_aerie"))
        .config(config(dir))
        .start()
}

async fn connect(server: &ServerProcess, user: &str, password: &str) -> Result<Client, Error> {
    let policy = ClientPolicy {
        auth_mode: AuthMode::Internal(user.to_owned(), password.to_owned()),
        timeout: 5_000,
        ..ClientPolicy::default()
    };
    Client::new(&policy, &server.hosts()).await
}

fn code<T: std::fmt::Debug>(r: Result<T, Error>) -> Option<ResultCode> {
    match r {
        Ok(v) => panic!("expected a server error, got Ok({v:?})"),
        Err(e) => e.server_result_code(),
    }
}

#[tokio::test]
async fn roles_scopes_passwords_and_drops() {
    let dir = tempdir("access");
    let server = start(&dir);

    // Anonymous: a raw read and a raw info command are refused.
    let mut s = wire::connect(server.addr(), TIMEOUT).expect("connect");
    let read = AsMsg::new()
        .info(1, 0, 0, 0)
        .field(0, b"test")
        .field(1, b"demo")
        .field(4, &[9u8; 20]);
    std::io::Write::write_all(&mut s, &read.frame()).expect("send");
    let reply = wire::read_reply(&mut s, TIMEOUT).expect("reply");
    assert_eq!(reply.result_code(), Some(80), "anonymous read");
    let answer = wire::info(server.addr(), &["namespaces"], TIMEOUT).expect("info");
    assert!(answer.contains("ERROR:80"), "anonymous info: {answer}");

    // Wrong password, unknown user.
    assert!(connect(&server, "admin", "wrong").await.is_err());
    assert!(connect(&server, "nobody", "admin").await.is_err());

    let admin = connect(&server, "admin", "admin")
        .await
        .expect("admin login");
    let ap = AdminPolicy::default();
    let wp = WritePolicy::default();
    let rp = ReadPolicy::default();
    let key = as_key!("test", "demo", 1);
    // admin holds user-admin only: no data access.
    assert_eq!(
        code(admin.put(&wp, &key, &[as_bin!("a", 1)]).await),
        Some(ResultCode::RoleViolation)
    );

    let demo_rw = Privilege::new(
        PrivilegeCode::ReadWrite,
        Some("test".into()),
        Some("demo".into()),
    );
    admin
        .create_role(&ap, "demo-rw", std::slice::from_ref(&demo_rw), &[], 0, 0)
        .await
        .expect("create role");
    admin
        .create_user(&ap, "writer", "wpass", &["demo-rw"])
        .await
        .expect("create writer");
    admin
        .create_user(&ap, "reader", "rpass", &["read"])
        .await
        .expect("create reader");
    assert_eq!(
        code(admin.create_user(&ap, "reader", "x", &["read"]).await),
        Some(ResultCode::UserAlreadyExists)
    );
    assert_eq!(
        code(
            admin
                .create_user(&ap, "ghost", "x", &["no-such-role"])
                .await
        ),
        Some(ResultCode::InvalidRole)
    );

    let users = admin.query_users(&ap, None).await.expect("query users");
    let names: Vec<&str> = users.iter().map(|u| u.user.as_str()).collect();
    assert!(
        names.contains(&"admin") && names.contains(&"writer") && names.contains(&"reader"),
        "{names:?}"
    );
    let writer_info = admin
        .query_users(&ap, Some("writer"))
        .await
        .expect("query writer");
    assert_eq!(writer_info[0].roles, vec!["demo-rw".to_owned()]);
    let roles = admin
        .query_roles(&ap, Some("demo-rw"))
        .await
        .expect("query role");
    assert_eq!(roles[0].privileges, vec![demo_rw]);
    let all_roles = admin.query_roles(&ap, None).await.expect("query roles");
    assert!(
        all_roles.iter().any(|r| r.name == "read-write-udf"),
        "predefined roles listed"
    );

    // Scoped privilege: read-write on test/demo only.
    let writer = connect(&server, "writer", "wpass")
        .await
        .expect("writer login");
    writer
        .put(&wp, &key, &[as_bin!("a", 1)])
        .await
        .expect("scoped put");
    assert_eq!(
        code(
            writer
                .put(&wp, &as_key!("test", "other", 1), &[as_bin!("a", 1)])
                .await
        ),
        Some(ResultCode::RoleViolation)
    );
    assert_eq!(
        code(writer.create_user(&ap, "x", "y", &["read"]).await),
        Some(ResultCode::RoleViolation)
    );

    // Global read: reads anywhere, writes nowhere.
    let reader = connect(&server, "reader", "rpass")
        .await
        .expect("reader login");
    let rec = reader.get(&rp, &key, Bins::All).await.expect("read");
    assert_eq!(rec.bins.get("a"), Some(&aerospike::Value::Int(1)));
    assert_eq!(
        code(reader.put(&wp, &key, &[as_bin!("a", 2)]).await),
        Some(ResultCode::RoleViolation)
    );
    // Roles granted later apply to open connections.
    admin
        .grant_roles(&ap, "reader", &["read-write"])
        .await
        .expect("grant");
    reader
        .put(&wp, &key, &[as_bin!("a", 2)])
        .await
        .expect("write after grant");
    admin
        .revoke_roles(&ap, "reader", &["read-write"])
        .await
        .expect("revoke");
    assert_eq!(
        code(reader.put(&wp, &key, &[as_bin!("a", 3)]).await),
        Some(ResultCode::RoleViolation)
    );

    // Password change by the user: the old password stops working, the new one works.
    reader
        .change_password(&ap, "reader", "rpass2")
        .await
        .expect("change password");
    assert!(connect(&server, "reader", "rpass").await.is_err());
    let reader2 = connect(&server, "reader", "rpass2")
        .await
        .expect("new password");
    reader2
        .get(&rp, &key, Bins::All)
        .await
        .expect("read with new password");

    // A dropped user's connections lose access at once.
    admin.drop_user(&ap, "writer").await.expect("drop");
    assert!(writer.put(&wp, &key, &[as_bin!("a", 4)]).await.is_err());
    assert!(connect(&server, "writer", "wpass").await.is_err());
    assert_eq!(
        code(admin.drop_user(&ap, "writer").await),
        Some(ResultCode::InvalidUser)
    );

    // The audit trail names user, client address and action.
    let log = std::fs::read_to_string(server.stderr_path()).expect("stderr");
    for line in [
        "{authentication} user=admin client=127.0.0.1 action=login result=InvalidPassword(62)",
        "{user-admin} user=admin client=127.0.0.1 action=drop-user result=Ok(0)",
        "{violation} user=reader client=127.0.0.1 action=Write on test/demo result=RoleViolation(81)",
    ] {
        assert!(log.contains(line), "audit line missing: {line}");
    }
}

#[tokio::test]
async fn allowlists_quotas_and_restart() {
    let dir = tempdir("quota");
    let ap = AdminPolicy::default();
    let rp = ReadPolicy::default();
    {
        let server = start(&dir);
        let admin = connect(&server, "admin", "admin")
            .await
            .expect("admin login");
        let read = Privilege::new(PrivilegeCode::Read, Some("test".into()), None);
        admin
            .create_role(
                &ap,
                "far",
                std::slice::from_ref(&read),
                &["10.9.0.0/16"],
                0,
                0,
            )
            .await
            .expect("role far");
        admin
            .create_user(&ap, "faru", "pw", &["far"])
            .await
            .expect("user faru");
        assert!(
            connect(&server, "faru", "pw").await.is_err(),
            "login from outside the allow-list"
        );
        admin
            .set_allowlist(&ap, "far", &["127.0.0.0/8"])
            .await
            .expect("allowlist");
        let faru = connect(&server, "faru", "pw")
            .await
            .expect("login inside the allow-list");
        let _ = faru.get(&rp, &as_key!("test", "s", 1), Bins::All).await;

        // Quotas: three reads a second.
        admin
            .create_role(&ap, "slow", &[read], &[], 3, 0)
            .await
            .expect("role slow");
        admin
            .create_user(&ap, "q", "pw", &["slow"])
            .await
            .expect("user q");
        let q = connect(&server, "q", "pw").await.expect("q login");
        let mut exceeded = 0;
        for i in 0..40 {
            if let Err(e) = q.get(&rp, &as_key!("test", "s", i), Bins::All).await {
                if e.server_result_code() == Some(ResultCode::QuotaExceeded) {
                    exceeded += 1;
                }
            }
        }
        assert!(exceeded > 0, "no read refused over quota");
        let roles = admin
            .query_roles(&ap, Some("slow"))
            .await
            .expect("query slow");
        assert_eq!(roles[0].read_quota, 3);
        // Quotas need enable-quotas; an invalid allow-list entry is refused.
        assert_eq!(
            code(admin.set_allowlist(&ap, "far", &["not-an-address"]).await),
            Some(ResultCode::InvalidAllowlist)
        );
    }
    // Users and roles survive a restart.
    let server = start(&dir);
    let admin = connect(&server, "admin", "admin")
        .await
        .expect("admin login after restart");
    let users = admin.query_users(&ap, Some("q")).await.expect("q kept");
    assert_eq!(users[0].roles, vec!["slow".to_owned()]);
    connect(&server, "faru", "pw")
        .await
        .expect("faru login after restart");
}

fn tempdir(tag: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("aerie-security-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("temp dir");
    dir
}
