//! `aerie info` end to end against the real server: asinfo-style requests and answers.

use std::process::{Command, Output};

use aerie_testkit::ServerProcess;

fn info(server: &ServerProcess, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_aerie"))
        .arg("info")
        .args(["-h", &server.hosts(), "--timeout", "10000"])
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("run aerie info: {e}"))
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

#[test]
fn info_prints_values_and_fails_on_errors() {
    let server = ServerProcess::builder()
        .bin(env!("CARGO_BIN_EXE_aerie"))
        .start();

    // One command: just its value, as asinfo prints it.
    let o = info(&server, &["namespaces"]);
    assert!(o.status.success(), "{o:?}");
    assert_eq!(stdout(&o), "test\n");

    // Several: `command<TAB>value` per line, in request order.
    let o = info(&server, &["-v", "build", "namespaces"]);
    assert!(o.status.success(), "{o:?}");
    let text = stdout(&o);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 2, "{text}");
    assert!(
        lines[0].starts_with("build\t") && lines[0].split('.').count() == 4,
        "{text}"
    );
    assert_eq!(lines[1], "namespaces\ttest");

    // -l splits `;`-separated answers into lines.
    let o = info(&server, &["-l", "namespace/test"]);
    assert!(o.status.success(), "{o:?}");
    assert!(stdout(&o).lines().count() > 3, "{}", stdout(&o));

    // An ERROR answer is shown and fails the command.
    let o = info(&server, &["no-such-command"]);
    assert_eq!(o.status.code(), Some(1), "{o:?}");
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("ERROR:4"),
        "{o:?}"
    );
}
