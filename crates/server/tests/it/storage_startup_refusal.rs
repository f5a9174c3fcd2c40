//! Start-up honesty: while a node cold-starts a persisted namespace, a client that connects to
//! its service port is refused at once (the port is listened on only once every namespace is
//! loaded, as Aerospike does), never left waiting for an answer that does not come. The cold
//! start is made slow with the device fault seam (every device read delayed), and probes run
//! from the moment the process starts until it answers; every probe must end, refused or
//! answered, well within its timeout. Afterwards the official client reads the data back.

use std::io::Write as _;
use std::net::{Ipv4Addr, SocketAddr};
use std::time::{Duration, Instant};

use aerie_testkit::wire::{self, Reply};
use aerie_testkit::{cluster::free_port, ServerProcess};
use aerospike::{as_bin, as_key, Bins, Client, ClientPolicy, ReadPolicy, Value, WritePolicy};

const N: i64 = 500;
/// A probe (connect, then an info request) must settle within this.
const PROBE_TIMEOUT: Duration = Duration::from_secs(2);

fn config(dir: &std::path::Path) -> String {
    format!(
        "namespace test {{\n  nsup-period 60\n  storage-engine device {{\n    file {}/startup.dat\n    filesize 64M\n    write-block-size 128K\n  }}\n}}\n",
        dir.display()
    )
}

/// What one probe of the service port saw.
#[derive(Debug, PartialEq, Eq)]
enum Probe {
    Refused,
    Answered,
}

/// Connects and asks `namespaces`; panics when the node accepts but stays silent.
fn probe(addr: SocketAddr) -> Probe {
    let started = Instant::now();
    let mut stream = match wire::connect(addr, PROBE_TIMEOUT) {
        Ok(s) => s,
        Err(e) if e.kind() == std::io::ErrorKind::ConnectionRefused => return Probe::Refused,
        Err(e) => panic!("connect neither refused nor accepted: {e}"),
    };
    stream
        .write_all(&wire::info_frame(&["namespaces"]))
        .unwrap_or_else(|e| panic!("send info: {e}"));
    let reply = wire::read_reply(&mut stream, PROBE_TIMEOUT)
        .unwrap_or_else(|e| panic!("read info reply: {e}"));
    match reply {
        Reply::Frame { body, .. } => {
            let text = String::from_utf8_lossy(&body);
            assert!(text.contains("test"), "info reply {text}");
            assert!(started.elapsed() < PROBE_TIMEOUT);
            Probe::Answered
        }
        other => panic!("accepted but no answer within {PROBE_TIMEOUT:?}: {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cold_start_refuses_then_answers() {
    let dir = std::env::temp_dir().join(format!("aerie-startup-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("temp dir");

    let mut server = ServerProcess::builder()
        .bin(env!("CARGO_BIN_EXE_aerie"))
        .config(config(&dir))
        .start();
    let client = Client::new(&ClientPolicy::default(), &server.hosts())
        .await
        .unwrap_or_else(|e| panic!("connect: {e}"));
    let wp = WritePolicy::default();
    for i in 0..N {
        client
            .put(&wp, &as_key!("test", "s", i), &[as_bin!("v", i * 3)])
            .await
            .unwrap_or_else(|e| panic!("put {i}: {e}"));
    }
    client.close().await.ok();
    server
        .terminate(Duration::from_secs(10))
        .unwrap_or_else(|e| panic!("terminate: {e}"));
    drop(server);

    // Every device read takes 4 ms: the cold start reads each of the 511 block headers (and
    // the writer re-checks the free ones), a few seconds in all.
    let port = free_port().unwrap_or_else(|e| panic!("free port: {e}"));
    let builder = ServerProcess::builder()
        .bin(env!("CARGO_BIN_EXE_aerie"))
        .config(config(&dir))
        .port(port)
        .slow_device_reads(Duration::from_millis(4))
        .ready_timeout(Duration::from_secs(60));
    let starting = std::thread::spawn(move || builder.start());
    let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
    let mut seen = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(60);
    while Instant::now() < deadline {
        let p = probe(addr);
        let answered = p == Probe::Answered;
        seen.push(p);
        if answered {
            break;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let refused = seen.iter().filter(|p| **p == Probe::Refused).count();
    assert_eq!(seen.last(), Some(&Probe::Answered), "never answered");
    assert!(
        refused >= 3,
        "the cold start should have refused several probes, saw {seen:?}"
    );
    let server = starting.join().unwrap_or_else(|_| panic!("start panicked"));

    let client = Client::new(&ClientPolicy::default(), &server.hosts())
        .await
        .unwrap_or_else(|e| panic!("connect: {e}"));
    for i in (0..N).step_by(37) {
        let rec = client
            .get(&ReadPolicy::default(), &as_key!("test", "s", i), Bins::All)
            .await
            .unwrap_or_else(|e| panic!("get {i}: {e}"));
        assert_eq!(rec.bins.get("v"), Some(&Value::Int(i * 3)));
    }
    let _ = std::fs::remove_dir_all(&dir);
}
