//! Per-namespace compression of record data (`compression lz4|snappy|zstd`,
//! `compression-level`): two file namespaces on one node, one compressed, get the same
//! repetitive records through the official Rust client. Both read back exactly; the compressed
//! one uses a fraction of the write blocks and reports `device_compression_ratio` well
//! below 1. With zstd the data also reads back after a warm restart and after a crash (cold
//! start).

use std::path::Path;
use std::time::Duration;

use aerie_testkit::ServerProcess;
use aerospike::{
    as_bin, as_key, AdminPolicy, Bins, Client, ClientPolicy, ReadPolicy, Value, WritePolicy,
};

const N: i64 = 300;

fn config(dir: &Path, codec: &str) -> String {
    let level = if codec == "zstd" {
        "    compression-level 9\n"
    } else {
        ""
    };
    format!(
        "namespace plain {{\n  nsup-period 60\n  storage-engine device {{\n    file {d}/plain.dat\n    filesize 32M\n    write-block-size 128K\n    flush-max-ms 100\n  }}\n}}\n\
         namespace packed {{\n  nsup-period 60\n  storage-engine device {{\n    file {d}/packed.dat\n    filesize 32M\n    write-block-size 128K\n    flush-max-ms 100\n    compression {codec}\n{level}  }}\n}}\n",
        d = dir.display()
    )
}

fn start(dir: &Path, codec: &str) -> ServerProcess {
    ServerProcess::builder()
        .bin(env!("CARGO_BIN_EXE_aerie"))
        .config(config(dir, codec))
        .start()
}

async fn stat(client: &Client, ns: &str, name: &str) -> String {
    let cmd = format!("namespace/{ns}");
    let info = client
        .info(&AdminPolicy::default(), &[&cmd])
        .await
        .unwrap_or_else(|e| panic!("info: {e}"));
    let text = info.get(&cmd).cloned().unwrap_or_default();
    text.split(';')
        .filter_map(|kv| kv.split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.to_owned())
        .unwrap_or_else(|| panic!("stat {name} missing in {text}"))
}

fn value(i: i64) -> String {
    format!("{i:06}-").repeat(600) // 4200 bytes, highly repetitive
}

async fn verify(client: &Client, ns: &str) {
    let rp = ReadPolicy::default();
    for i in 0..N {
        let rec = client
            .get(&rp, &as_key!(ns, "c", i), Bins::All)
            .await
            .unwrap_or_else(|e| panic!("get {ns} {i}: {e}"));
        assert_eq!(
            rec.bins.get("s"),
            Some(&Value::String(value(i))),
            "{ns} {i}"
        );
        assert_eq!(rec.bins.get("n"), Some(&Value::Int(i)), "{ns} {i}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn compressed_namespace_reads_back_and_uses_fewer_bytes() {
    for codec in ["lz4", "snappy", "zstd"] {
        let dir =
            std::env::temp_dir().join(format!("aerie-compress-{codec}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("temp dir");
        let mut server = start(&dir, codec);
        let client = Client::new(&ClientPolicy::default(), &server.hosts())
            .await
            .unwrap_or_else(|e| panic!("connect: {e}"));
        let wp = WritePolicy::default();
        for ns in ["plain", "packed"] {
            for i in 0..N {
                client
                    .put(
                        &wp,
                        &as_key!(ns, "c", i),
                        &[as_bin!("s", value(i)), as_bin!("n", i)],
                    )
                    .await
                    .unwrap_or_else(|e| panic!("put {ns} {i}: {e}"));
            }
        }
        verify(&client, "plain").await;
        verify(&client, "packed").await;
        tokio::time::sleep(Duration::from_millis(1_500)).await; // usage refresh
        let used = |s: String| s.parse::<u64>().unwrap_or_else(|e| panic!("{s}: {e}"));
        let plain = used(stat(&client, "plain", "device_used_bytes").await);
        let packed = used(stat(&client, "packed", "device_used_bytes").await);
        let ratio: f64 = stat(&client, "packed", "device_compression_ratio")
            .await
            .parse()
            .unwrap_or_else(|e| panic!("ratio: {e}"));
        println!("{codec}: plain {plain} B, packed {packed} B, ratio {ratio}");
        assert!(
            packed * 4 <= plain,
            "{codec}: packed {packed} vs plain {plain}"
        );
        assert!(ratio > 0.0 && ratio < 0.2, "{codec}: ratio {ratio}");
        assert_eq!(
            stat(&client, "plain", "device_compression_ratio").await,
            "1.000"
        );
        if codec == "zstd" {
            drop(client);
            server
                .terminate(Duration::from_secs(20))
                .unwrap_or_else(|e| panic!("terminate: {e}"));
            drop(server);
            let server = start(&dir, codec);
            let client = Client::new(&ClientPolicy::default(), &server.hosts())
                .await
                .unwrap_or_else(|e| panic!("connect: {e}"));
            assert_eq!(stat(&client, "packed", "start_type").await, "warm");
            verify(&client, "packed").await;
            drop(client);
            if let Some(pid) = server.pid() {
                let _ = std::process::Command::new("kill")
                    .args(["-9", &pid.to_string()])
                    .status();
            }
            drop(server);
            let server = start(&dir, codec);
            let client = Client::new(&ClientPolicy::default(), &server.hosts())
                .await
                .unwrap_or_else(|e| panic!("connect: {e}"));
            assert_eq!(stat(&client, "packed", "start_type").await, "cold");
            verify(&client, "packed").await;
        }
        let _ = std::fs::remove_dir_all(&dir);
    }
}
