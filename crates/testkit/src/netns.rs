//! A network namespace of the test's own, so a test can cut links between nodes on
//! 127.0.0.2… with `ip rule … blackhole` without touching the host (needs root and
//! iproute2).
//!
//! The test re-runs its own binary inside `ip netns exec` ([`reexec_inside`]); the inner
//! run calls [`prepare_loopback`] and then [`cut`]/[`heal`] links.

use std::net::Ipv4Addr;
use std::process::Command;

/// Set in the environment of the inner run.
const INNER_ENV: &str = "AERIE_NETNS_INNER";

/// Where a test runs.
#[derive(Debug)]
pub enum Place {
    /// This is the inner run: do the work.
    Inside,
    /// The inner run finished; `Ok` when it passed, else its output.
    Ran(Result<(), String>),
    /// No namespace could be made (not root, or no iproute2).
    Unavailable,
}

fn ip(args: &[&str]) -> bool {
    Command::new("ip")
        .args(args)
        .status()
        .is_ok_and(|s| s.success())
}

/// Runs test `test_name` of the current test binary again inside a fresh network
/// namespace (deleted afterwards), its output echoed indented so libtest summaries are not
/// counted twice. Returns [`Place::Inside`] in that inner run.
#[must_use]
pub fn reexec_inside(test_name: &str) -> Place {
    if std::env::var_os(INNER_ENV).is_some() {
        return Place::Inside;
    }
    let name = format!(
        "aerie-{}-{}",
        std::process::id(),
        test_name
            .chars()
            .rev()
            .take(12)
            .filter(char::is_ascii_alphanumeric)
            .collect::<String>()
    );
    if !ip(&["netns", "add", &name]) {
        return Place::Unavailable;
    }
    let run = std::env::current_exe().and_then(|exe| {
        Command::new("ip")
            .args(["netns", "exec", &name])
            .arg(exe)
            .args(["--exact", test_name, "--nocapture", "--test-threads=1"])
            .args(
                std::env::args()
                    .any(|a| a == "--ignored" || a == "--include-ignored")
                    .then_some("--include-ignored"),
            )
            .env(INNER_ENV, "1")
            .output()
    });
    let _ = ip(&["netns", "del", &name]);
    let run = match run {
        Ok(r) => r,
        Err(e) => return Place::Ran(Err(format!("ip netns exec: {e}"))),
    };
    let mut text = String::new();
    for line in String::from_utf8_lossy(&run.stdout)
        .lines()
        .chain(String::from_utf8_lossy(&run.stderr).lines())
    {
        text.push_str("  [netns] ");
        text.push_str(line);
        text.push('\n');
    }
    println!("{text}");
    Place::Ran(if run.status.success() {
        Ok(())
    } else {
        Err(format!(
            "the run inside the namespace failed: {}",
            run.status
        ))
    })
}

/// Brings `lo` up and moves local delivery (the `local` table, preference 0) behind the
/// preference-10 rules [`cut`] adds. Call once, inside.
///
/// # Errors
///
/// An `ip` command failed.
pub fn prepare_loopback() -> Result<(), String> {
    for args in [
        &["link", "set", "lo", "up"][..],
        &["rule", "add", "pref", "100", "lookup", "local"],
        &["rule", "del", "pref", "0"],
    ] {
        if !ip(args) {
            return Err(format!("ip {}", args.join(" ")));
        }
    }
    Ok(())
}

fn rule(verb: &str, a: Ipv4Addr, b: Ipv4Addr) -> Result<(), String> {
    for (from, to) in [(a, b), (b, a)] {
        let (from, to) = (from.to_string(), to.to_string());
        let args = [
            "rule",
            verb,
            "pref",
            "10",
            "from",
            &from,
            "to",
            &to,
            "blackhole",
        ];
        if !ip(&args) {
            return Err(format!("ip {}", args.join(" ")));
        }
    }
    Ok(())
}

/// Drops all traffic between `a` and `b`, both ways.
///
/// # Errors
///
/// An `ip rule` command failed.
pub fn cut(a: Ipv4Addr, b: Ipv4Addr) -> Result<(), String> {
    rule("add", a, b)
}

/// Undoes [`cut`].
///
/// # Errors
///
/// An `ip rule` command failed.
pub fn heal(a: Ipv4Addr, b: Ipv4Addr) -> Result<(), String> {
    rule("del", a, b)
}
