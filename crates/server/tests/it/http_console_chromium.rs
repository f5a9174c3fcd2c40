//! The web console in a real browser: headless Chromium (Debian's `chromium` package,
//! installed by `.ci/run`) loads `/` from a live server after records were written through
//! the official client, runs the page's polling script, and the test checks that the tables
//! and chart legends show the server's real figures. A screenshot is saved to
//! `target/tmp/console.png` for people to look at.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use aerie_testkit::{http, ServerProcess};
use aerospike::{as_bin, as_key, Client, ClientPolicy, WritePolicy};

const N_RECORDS: usize = 120;
const TIMEOUT: Duration = Duration::from_secs(10);
/// Upper bound on one Chromium run (start, page load, virtual time, dump).
const CHROMIUM_TIMEOUT: Duration = Duration::from_secs(90);
/// Virtual time the page runs for: several 1-second polls.
const VIRTUAL_TIME_MS: u32 = 4000;

fn chromium() -> PathBuf {
    for name in ["chromium", "chromium-browser"] {
        for dir in std::env::var("PATH").unwrap_or_default().split(':') {
            let p = Path::new(dir).join(name);
            if p.is_file() {
                return p;
            }
        }
    }
    panic!("no `chromium` on PATH: install Debian's chromium package (`apt-get install -y chromium`; .ci/run does)");
}

/// Runs headless Chromium on `url` with `extra` arguments; returns stdout. Killed after
/// `CHROMIUM_TIMEOUT`.
fn run_chromium(url: &str, extra: &[String], profile: &Path) -> String {
    let mut cmd = Command::new(chromium());
    cmd.args([
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-dev-shm-usage",
        "--hide-scrollbars",
        "--window-size=1400,1300",
    ])
    .arg(format!("--user-data-dir={}", profile.display()))
    .arg(format!("--virtual-time-budget={VIRTUAL_TIME_MS}"))
    .args(extra)
    .arg(url)
    .stdin(Stdio::null())
    .stdout(Stdio::piped())
    .stderr(Stdio::null());
    let child = cmd
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start chromium: {e}"));
    let pid = child.id();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(child.wait_with_output());
    });
    match rx.recv_timeout(CHROMIUM_TIMEOUT) {
        Ok(Ok(out)) => String::from_utf8_lossy(&out.stdout).into_owned(),
        Ok(Err(e)) => panic!("chromium failed: {e}"),
        Err(_) => {
            let _ = Command::new("kill")
                .arg("-KILL")
                .arg(pid.to_string())
                .status();
            panic!("chromium did not finish within {CHROMIUM_TIMEOUT:?}");
        }
    }
}

/// The text of the first element whose opening tag contains `marker`.
fn text_after<'a>(dom: &'a str, marker: &str) -> Option<&'a str> {
    let at = dom.find(marker)?;
    let rest = &dom[at..];
    let start = rest.find('>')? + 1;
    let end = rest[start..].find('<')? + start;
    Some(rest[start..end].trim())
}

/// The value of attribute `attr` in the first opening tag containing `marker`.
fn attr_of<'a>(dom: &'a str, marker: &str, attr: &str) -> Option<&'a str> {
    let at = dom.find(marker)?;
    let tag_start = dom[..at].rfind('<')?;
    let tag_end = at + dom[at..].find('>')?;
    let tag = &dom[tag_start..tag_end];
    let key = format!("{attr}=\"");
    let v = &tag[tag.find(&key)? + key.len()..];
    Some(&v[..v.find('"')?])
}

/// Waits until the server's own per-second samples account for every write, so the page
/// has real chart data from its first poll.
fn wait_for_samples(addr: std::net::SocketAddr, writes: usize) {
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let body = http::get(addr, "/api/status", TIMEOUT)
            .map(|r| r.body)
            .unwrap_or_default();
        let counted: usize = body
            .split("\"counts\":{\"read\":")
            .nth(1)
            .and_then(|s| s.split("\"write\":[").nth(1))
            .and_then(|s| s.split(']').next())
            .map(|list| {
                list.split(',')
                    .filter_map(|n| n.parse::<usize>().ok())
                    .sum()
            })
            .unwrap_or(0);
        if counted >= writes {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "samples count {counted} of {writes} writes: {body}"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
}

#[tokio::test]
async fn console_shows_live_figures_in_chromium() {
    let server = ServerProcess::builder()
        .bin(env!("CARGO_BIN_EXE_aerie"))
        .start();
    let http_addr = server
        .http_addr()
        .unwrap_or_else(|| panic!("no `http ready on` line:\n{}", server.stderr_tail()));
    let client = Client::new(&ClientPolicy::default(), &server.hosts())
        .await
        .unwrap_or_else(|e| panic!("client cannot connect: {e}"));
    let wp = WritePolicy::default();
    for i in 0..N_RECORDS {
        let key = as_key!("test", "console", i as i64);
        client
            .put(&wp, &key, &[as_bin!("v", "x".repeat(100))])
            .await
            .unwrap_or_else(|e| panic!("put {i}: {e}"));
    }
    client.close().await.ok();
    let addr = http_addr;
    tokio::task::spawn_blocking(move || wait_for_samples(addr, N_RECORDS))
        .await
        .unwrap_or_else(|e| panic!("{e}"));

    let url = format!("http://{http_addr}/");
    let profile = server.work_dir().join("chromium-profile");
    std::fs::create_dir_all(&profile).unwrap_or_else(|e| panic!("{e}"));
    let dom = {
        let (url, profile) = (url.clone(), profile.clone());
        tokio::task::spawn_blocking(move || run_chromium(&url, &["--dump-dom".into()], &profile))
            .await
            .unwrap_or_else(|e| panic!("{e}"))
    };
    let save = |name: &str, text: &str| {
        let _ = std::fs::write(Path::new(env!("CARGO_TARGET_TMPDIR")).join(name), text);
    };
    save("console-dom.html", &dom);

    // The page polled the node several times, live.
    let polls: u32 = attr_of(&dom, "id=\"live\"", "data-polls")
        .and_then(|p| p.parse().ok())
        .unwrap_or(0);
    assert!(polls >= 2, "page polled {polls} times; DOM:\n{dom}");
    assert!(
        attr_of(&dom, "id=\"live\"", "class") == Some("ok"),
        "not live"
    );

    // Tables: the node and namespace rows carry the real object count.
    let n = N_RECORDS.to_string();
    assert_eq!(
        text_after(&dom, "data-ns=\"test\" data-stat=\"objects\""),
        Some(n.as_str())
    );
    assert_eq!(
        text_after(&dom, "data-stat=\"client_write_success\""),
        Some(n.as_str())
    );
    let node = text_after(&dom, "id=\"node-id\"").unwrap_or_default();
    assert!(!node.is_empty() && node != "-", "node id {node:?}");
    // Sets table: the set written to, with its count.
    assert!(dom.contains(">console<"), "set missing");
    // Sections that do not exist yet say so.
    assert!(dom.contains("data-empty=\"true\""), "no 'none' section");

    // Charts: the ops chart plotted samples, and its legend accounts for every write.
    let points: u32 = attr_of(&dom, "id=\"chart-ops\"", "data-points")
        .and_then(|p| p.parse().ok())
        .unwrap_or(0);
    assert!(points >= 1, "ops chart has no points");
    assert_eq!(text_after(&dom, "id=\"ops-total-write\""), Some(n.as_str()));
    assert_eq!(
        attr_of(&dom, "id=\"chart-ops\"", "data-total-write"),
        Some(n.as_str())
    );
    let peak: f64 = attr_of(&dom, "id=\"chart-ops\"", "data-peak")
        .and_then(|p| p.parse().ok())
        .unwrap_or(0.0);
    assert!(peak > 0.0, "ops chart peak {peak}");
    let p99 = text_after(&dom, "id=\"lat-p99-write\"").unwrap_or_default();
    assert!(
        p99.ends_with("µs") && !p99.starts_with('0'),
        "write p99 {p99:?}"
    );

    // A screenshot for people.
    let png = Path::new(env!("CARGO_TARGET_TMPDIR")).join("console.png");
    let _ = std::fs::remove_file(&png);
    let shot = format!("--screenshot={}", png.display());
    tokio::task::spawn_blocking(move || run_chromium(&url, &[shot], &profile))
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let bytes = std::fs::read(&png).unwrap_or_default();
    assert!(
        bytes.starts_with(b"\x89PNG") && bytes.len() > 10_000,
        "screenshot {} missing or empty",
        png.display()
    );
}
