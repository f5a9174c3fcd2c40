//! A damaged storage file: bytes flipped inside one record image are caught by its checksum at
//! cold start, reported once with the file and offset, and the server starts with every record
//! outside the damaged stretch.

use std::io::{Read, Seek, SeekFrom, Write};
use std::time::Duration;

use aerie_testkit::ServerProcess;
use aerospike::{as_bin, as_key, Bins, Client, ClientPolicy, ReadPolicy, Value, WritePolicy};

const WBLOCK: u64 = 128 * 1024;

fn config(dir: &std::path::Path) -> String {
    format!(
        "namespace test {{\n  nsup-period 60\n  storage-engine device {{\n    file {}/c.dat\n    filesize 16M\n    write-block-size 128K\n    commit-to-device true\n  }}\n}}\n",
        dir.display()
    )
}

#[tokio::test]
async fn flipped_bytes_are_skipped_and_reported() {
    let dir = std::env::temp_dir().join(format!("aerie-corrupt-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("temp dir");
    let n: i64 = 2000;
    {
        let server = ServerProcess::builder()
            .bin(env!("CARGO_BIN_EXE_aerie"))
            .config(config(&dir))
            .start();
        let client = Client::new(&ClientPolicy::default(), &server.hosts())
            .await
            .expect("connect");
        let payload = "p".repeat(200);
        for i in 0..n {
            client
                .put(
                    &WritePolicy::default(),
                    &as_key!("test", "c", i),
                    &[as_bin!("v", i), as_bin!("s", payload.clone())],
                )
                .await
                .expect("put");
        }
    }
    // Flip bytes in the middle of the third write block (block 0 is the file header).
    let path = dir.join("c.dat");
    let at = 3 * WBLOCK + WBLOCK / 2;
    {
        let mut f = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .open(&path)
            .expect("open data file");
        let mut b = [0u8; 16];
        f.seek(SeekFrom::Start(at)).expect("seek");
        f.read_exact(&mut b).expect("read");
        for x in &mut b {
            *x ^= 0x5a;
        }
        f.seek(SeekFrom::Start(at)).expect("seek");
        f.write_all(&b).expect("write");
    }
    let server = ServerProcess::builder()
        .bin(env!("CARGO_BIN_EXE_aerie"))
        .config(config(&dir))
        .start();
    let client = Client::new(&ClientPolicy::default(), &server.hosts())
        .await
        .expect("connect after corruption");
    let mut present = 0;
    for i in 0..n {
        match client
            .get(&ReadPolicy::default(), &as_key!("test", "c", i), Bins::All)
            .await
        {
            Ok(rec) => {
                assert_eq!(
                    rec.bins.get("v"),
                    Some(&Value::Int(i)),
                    "a surviving record keeps its value"
                );
                present += 1;
            }
            Err(e) => assert_eq!(
                e.server_result_code(),
                Some(aerospike::ResultCode::KeyNotFoundError)
            ),
        }
    }
    // Each 128 KiB block holds about 480 of these records; the damage costs at most the rest of
    // one block.
    assert!(present < n, "the damaged records must not be served");
    assert!(
        present >= n - 500,
        "only the damaged block's tail may be lost, got {present} of {n}"
    );
    std::thread::sleep(Duration::from_millis(100));
    let log = server.stderr_tail();
    let lines: Vec<&str> = log
        .lines()
        .filter(|l| l.contains("c.dat") && l.contains("offset"))
        .collect();
    assert_eq!(
        lines.len(),
        1,
        "one log line naming file and offset, got:\n{log}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}
