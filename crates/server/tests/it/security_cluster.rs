//! Users created on one node of a 3-node `security { }` cluster work on every node: each node
//! learns the user through system metadata, accepts its login, and serves its writes; a user
//! dropped on one node is refused on all.

use std::time::{Duration, Instant};

use aerie_testkit::cluster::info_as;
use aerie_testkit::TestCluster;
use aerospike::policy::AuthMode;
use aerospike::{as_bin, as_key, AdminPolicy, Client, ClientPolicy, WritePolicy};

const CONFIG: &str = "security {\n}\nnamespace test {\n  replication-factor 2\n  \
                      storage-engine memory {\n    data-size 64M\n  }\n}\n";

async fn connect(hosts: &str, user: &str, password: &str) -> Client {
    let policy = ClientPolicy {
        auth_mode: AuthMode::Internal(user.to_owned(), password.to_owned()),
        timeout: 10_000,
        ..ClientPolicy::default()
    };
    Client::new(&policy, &hosts)
        .await
        .unwrap_or_else(|e| panic!("login as {user}: {e}"))
}

/// Waits (bounded) until `user` can or cannot log in on every node.
fn wait_login_everywhere(cluster: &TestCluster, user: &str, credential: &str, allowed: bool) {
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let results: Vec<bool> = cluster
            .addrs()
            .iter()
            .map(|a| info_as(*a, "node", user, credential).is_ok())
            .collect();
        if results.iter().all(|ok| *ok == allowed) {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "login of {user} per node: {results:?}, wanted {allowed}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn user_created_on_one_node_works_on_all() {
    let admin_hash = aerie_security::client_hash("admin").expect("hash");
    let cluster =
        TestCluster::start_secured(env!("CARGO_BIN_EXE_aerie"), 3, CONFIG, "admin", &admin_hash);
    let addrs = cluster.addrs();
    let first = addrs[0].to_string();
    let admin = connect(&first, "admin", "admin").await;
    let ap = AdminPolicy::default();
    admin
        .create_user(&ap, "app", "app-pw", &["read-write"])
        .await
        .expect("create user");
    let app_hash = aerie_security::client_hash("app-pw").expect("hash");
    wait_login_everywhere(&cluster, "app", &app_hash, true);

    // The user's writes land on every node's partitions (the client routes each key to its
    // master, so 200 keys reach all three nodes).
    let app = connect(&first, "app", "app-pw").await;
    let wp = WritePolicy::default();
    for i in 0..200 {
        app.put(&wp, &as_key!("test", "c", i), &[as_bin!("v", i)])
            .await
            .unwrap_or_else(|e| panic!("put {i}: {e}"));
    }

    // Dropped on one node, refused on all.
    admin.drop_user(&ap, "app").await.expect("drop user");
    wait_login_everywhere(&cluster, "app", &app_hash, false);
}
