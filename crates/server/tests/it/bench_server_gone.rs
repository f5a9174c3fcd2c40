//! `aerie bench` when its node goes away mid-run: the run ends on its own long before its
//! duration, prints its summary with the failures counted, and exits non-zero.

use std::io::Read as _;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use aerie_testkit::ServerProcess;

/// The bench is asked to run this long; it must stop far sooner once the node is gone.
const ASKED_SECS: u64 = 60;
/// Wall-clock bound on the whole bench run after the server is stopped.
const GIVE_UP: Duration = Duration::from_secs(30);

#[test]
fn a_vanished_node_ends_the_run_with_errors() {
    let mut server = ServerProcess::builder()
        .bin(env!("CARGO_BIN_EXE_aerie"))
        .start();
    let mut child = Command::new(env!("CARGO_BIN_EXE_aerie"))
        .args([
            "bench",
            "-h",
            &server.hosts(),
            "-k",
            "1000",
            "-w",
            "RU,50",
            "-z",
            "4",
        ])
        .args([
            "--duration",
            &ASKED_SECS.to_string(),
            "--json",
            "-g",
            "2000",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("spawn aerie bench: {e}"));

    std::thread::sleep(Duration::from_millis(1500));
    server
        .terminate(Duration::from_secs(10))
        .unwrap_or_else(|e| panic!("stop the server: {e}"));
    let stopped = Instant::now();

    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break status,
            Ok(None) if stopped.elapsed() > GIVE_UP => {
                let _ = child.kill();
                panic!("aerie bench kept running {GIVE_UP:?} after its node was gone");
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(50)),
            Err(e) => panic!("wait for aerie bench: {e}"),
        }
    };
    let mut out = String::new();
    let mut err = String::new();
    if let Some(mut s) = child.stdout.take() {
        let _ = s.read_to_string(&mut out);
    }
    if let Some(mut s) = child.stderr.take() {
        let _ = s.read_to_string(&mut err);
    }
    assert_eq!(
        status.code(),
        Some(1),
        "failures make the exit status 1\nstdout: {out}\nstderr: {err}"
    );
    assert!(
        out.starts_with("{\"stages\":[") && out.trim_end().contains("],\"config\":{"),
        "summary still printed: {out}"
    );
    assert!(
        !out.contains("\"connection_errors\":0"),
        "the failures are counted: {out}"
    );
    assert!(err.contains("failures in a row"), "{err}");
}
