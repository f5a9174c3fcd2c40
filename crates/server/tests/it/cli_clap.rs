//! The `aerie` command line as a user meets it: `--help` on every subcommand, errors that name
//! the bad flag (exit status 2), shell completions, and no panic when stdout is a closed pipe
//! (`aerie bench --help | head -1`).

use std::io::Read;
use std::process::{Command, Output, Stdio};

fn aerie(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_aerie"))
        .args(args)
        .stdin(Stdio::null())
        .output()
        .unwrap_or_else(|e| panic!("run aerie {args:?}: {e}"))
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

#[test]
fn every_subcommand_has_help() {
    for sub in [
        "server",
        "bench",
        "info",
        "completions",
        "version",
        "bench sindex",
    ] {
        let mut argv: Vec<&str> = sub.split(' ').collect();
        argv.push("--help");
        let o = aerie(&argv);
        assert!(o.status.success(), "{argv:?}: {o:?}");
        let out = text(&o.stdout);
        assert!(
            out.contains(&format!("Usage: aerie {sub}")),
            "{argv:?}: {out}"
        );
    }
    // The client tools keep -h for the host, as Aerospike's tools do; -u prints their help.
    let o = aerie(&["info", "-u"]);
    assert!(
        o.status.success() && text(&o.stdout).contains("--host"),
        "{o:?}"
    );
    let o = aerie(&["--version"]);
    assert!(text(&o.stdout).starts_with("aerie "), "{o:?}");
}

#[test]
fn errors_name_the_bad_flag() {
    for (argv, needle) in [
        (&["server", "--bogus"][..], "'--bogus'"),
        (&["server", "--port", "70000"][..], "--port"),
        (&["bench", "-z", "0"][..], "--threads"),
        (&["bench", "-w", "XY"][..], "--workload"),
        (&["info", "-p"][..], "--port"),
        (&["nosuchtool"][..], "'nosuchtool'"),
    ] {
        let o = aerie(argv);
        assert_eq!(o.status.code(), Some(2), "{argv:?}: {o:?}");
        let err = text(&o.stderr);
        assert!(err.contains(needle), "{argv:?}: {err}");
        assert!(!err.contains("panicked"), "{argv:?}: {err}");
    }
}

#[test]
fn bash_completions_name_the_subcommands() {
    let o = aerie(&["completions", "bash"]);
    assert!(o.status.success(), "{o:?}");
    let script = text(&o.stdout);
    for word in ["_aerie", "server", "bench", "info", "--namespace"] {
        assert!(script.contains(word), "{word} missing from the script");
    }
    let o = aerie(&["completions", "tcsh"]);
    assert_eq!(o.status.code(), Some(2), "{o:?}");
}

/// `aerie bench --help | head -1`: the reader goes away first; the writer ends quietly.
#[test]
fn closed_stdout_is_not_a_panic() {
    for argv in [
        &["bench", "--help"][..],
        &["completions", "bash"][..],
        &["version"][..],
    ] {
        let mut child = Command::new(env!("CARGO_BIN_EXE_aerie"))
            .args(argv)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("spawn aerie {argv:?}: {e}"));
        // Close the read end before the child has written anything.
        drop(child.stdout.take());
        let mut err = String::new();
        if let Some(mut e) = child.stderr.take() {
            let _ = e.read_to_string(&mut err);
        }
        let status = child
            .wait()
            .unwrap_or_else(|e| panic!("wait for aerie {argv:?}: {e}"));
        assert!(!err.contains("panicked"), "{argv:?}: {err}");
        assert!(status.success(), "{argv:?}: {status:?} {err}");
    }
}
