//! Index definitions survive a restart: indexes created on a namespace with a storage file
//! are listed again after the server restarts on the same file, rebuilt in the background
//! over the records the cold start loaded (load_pct reaches 100), and answer queries; a
//! dropped index stays dropped.

use std::time::{Duration, Instant};

use aerie_testkit::ServerProcess;
use aerospike::query::{CollectionIndexType, Filter, PartitionFilter};
use aerospike::{
    as_bin, as_geo, as_key, AdminPolicy, Bins, Client, ClientPolicy, IndexType, QueryPolicy,
    Statement, Task, WritePolicy,
};
use futures::StreamExt;

const NS: &str = "test";

fn start(dir: &std::path::Path) -> ServerProcess {
    ServerProcess::builder()
        .bin(env!("CARGO_BIN_EXE_aerie"))
        .config(format!(
            "namespace test {{\n  storage-engine device {{\n    file {}/idx.dat\n    filesize 64M\n    write-block-size 128K\n  }}\n}}\n",
            dir.display()
        ))
        .start()
}

async fn connect(server: &ServerProcess) -> Client {
    Client::new(&ClientPolicy::default(), &server.hosts())
        .await
        .unwrap_or_else(|e| panic!("connect: {e}"))
}

async fn count(client: &Client, filter: Filter) -> usize {
    let mut stmt = Statement::new(NS, "r", Bins::All);
    stmt.set_filter(filter);
    let rs = client
        .query(&QueryPolicy::default(), PartitionFilter::all(), stmt)
        .await
        .expect("query");
    let mut n = 0;
    let mut s = rs.into_stream();
    while let Some(r) = s.next().await {
        r.expect("record");
        n += 1;
    }
    n
}

async fn info(client: &Client, cmd: &str) -> String {
    let m = client
        .info(&AdminPolicy::default(), &[cmd])
        .await
        .expect("info");
    m.get(cmd).cloned().unwrap_or_default()
}

#[tokio::test]
async fn index_definitions_survive_restart() {
    let dir = std::env::temp_dir().join(format!("aerie-sindex-restart-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("temp dir");
    let ap = AdminPolicy::default();
    {
        let mut server = start(&dir);
        let client = connect(&server).await;
        let wp = WritePolicy::default();
        for i in 0..2000i64 {
            let loc = format!(
                r#"{{"type":"Point","coordinates":[{},{}]}}"#,
                i % 50,
                i / 50
            );
            let bins = [
                as_bin!("n", i),
                as_bin!("s", format!("v{}", i % 10)),
                as_bin!("loc", as_geo!(loc)),
            ];
            client
                .put(&wp, &as_key!(NS, "r", i), &bins)
                .await
                .expect("put");
        }
        for (bin, name, t) in [
            ("n", "r_n", IndexType::Numeric),
            ("s", "r_s", IndexType::String),
            ("loc", "r_loc", IndexType::Geo2DSphere),
            ("n", "r_gone", IndexType::Numeric),
        ] {
            client
                .create_index_on_bin(
                    &ap,
                    NS,
                    "r",
                    bin,
                    name,
                    t,
                    CollectionIndexType::Default,
                    None,
                )
                .await
                .expect("create")
                .wait_till_complete(None)
                .await
                .expect("populate");
        }
        client
            .drop_index(&ap, NS, "r", "r_gone")
            .await
            .expect("drop")
            .wait_till_complete(None)
            .await
            .expect("dropped");
        assert!(dir.join("idx.dat.sindex").exists());
        server.terminate(Duration::from_secs(10)).expect("stop");
    }

    let server = start(&dir);
    let client = connect(&server).await;
    let list = info(&client, "sindex-list:namespace=test").await;
    for name in ["r_n", "r_s", "r_loc"] {
        assert!(list.contains(&format!("indexname={name}:")), "{list}");
    }
    assert!(!list.contains("r_gone"), "{list}");
    // Background rebuild: wait for every index to report load_pct=100.
    let deadline = Instant::now() + Duration::from_secs(30);
    for name in ["r_n", "r_s", "r_loc"] {
        loop {
            let stat = info(
                &client,
                &format!("sindex-stat:namespace=test;indexname={name}"),
            )
            .await;
            if stat.contains("load_pct=100") {
                break;
            }
            assert!(Instant::now() < deadline, "{name} not rebuilt: {stat}");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
    assert_eq!(count(&client, Filter::range("n", 100, 199)).await, 100);
    assert_eq!(count(&client, Filter::equal("s", "v3")).await, 200);
    let region = r#"{"type":"Polygon","coordinates":[[[-0.5,-0.5],[4.5,-0.5],[4.5,1.5],[-0.5,1.5],[-0.5,-0.5]]]}"#;
    // x in 0..=4, y in 0..=1: ten points.
    assert_eq!(
        count(&client, Filter::geo_within_region("loc", region)).await,
        10
    );
    drop(client);
    drop(server);
    let _ = std::fs::remove_dir_all(&dir);
}
