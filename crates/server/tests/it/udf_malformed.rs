//! Malformed and hostile UDF requests over raw frames: each gets its result code (PARAMETER,
//! UDF execution with a FAILURE bin) and the server keeps serving; a module that does not
//! compile is refused with its line; a background UDF job whose function raises on half the
//! records counts those as failed and runs to its end.

use std::time::Duration;

use aerie_testkit::wire::{self, field, flags, op, AsMsg, Reply};
use aerie_testkit::ServerProcess;

const IO_TIMEOUT: Duration = Duration::from_secs(10);

/// Fields 30..33 (package, function, argument list, UDF op).
const UDF_PACKAGE: u8 = 30;
const UDF_FUNCTION: u8 = 31;
const UDF_ARGLIST: u8 = 32;
const UDF_OP: u8 = 33;
const RESULT_UDF: u8 = 100;
const TASK_ID: u8 = 7;

const MODULE: &str = "function echo(rec, v) return v end
function negate_odd(rec)
  if rec['n'] % 2 == 0 then error('even value') end
  rec['n'] = -rec['n']
  aerospike:update(rec)
end
";

fn b64(data: &[u8]) -> String {
    const A: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for c in data.chunks(3) {
        let b = |i: usize| u32::from(c.get(i).copied().unwrap_or(0));
        let n = (b(0) << 16) | (b(1) << 8) | b(2);
        let s = |k: u32| char::from(A[((n >> k) & 63) as usize]);
        out.push(s(18));
        out.push(s(12));
        out.push(if c.len() > 1 { s(6) } else { '=' });
        out.push(if c.len() > 2 { s(0) } else { '=' });
    }
    out
}

fn record_udf(package: &[u8], function: Option<&[u8]>, args: Option<&[u8]>) -> AsMsg {
    let mut m = AsMsg::new()
        .info(0, flags::INFO2_WRITE, 0, 0)
        .field(field::NAMESPACE, b"test")
        .field(field::DIGEST, &[7u8; 20])
        .field(UDF_PACKAGE, package);
    if let Some(f) = function {
        m = m.field(UDF_FUNCTION, f);
    }
    if let Some(a) = args {
        m = m.field(UDF_ARGLIST, a);
    }
    m
}

fn send(server: &ServerProcess, msg: &AsMsg) -> Reply {
    let mut s = wire::connect(server.addr(), IO_TIMEOUT).expect("connect");
    std::io::Write::write_all(&mut s, &msg.frame()).expect("write");
    wire::read_reply(&mut s, IO_TIMEOUT).expect("reply")
}

fn body_of(r: &Reply) -> &[u8] {
    match r {
        Reply::Frame { body, .. } => body,
        other => panic!("expected a reply frame, got {other:?}"),
    }
}

#[test]
fn malformed_udf_requests_get_their_codes_and_the_server_keeps_serving() {
    let server = ServerProcess::builder()
        .bin(env!("CARGO_BIN_EXE_aerie"))
        .start();
    let put = format!(
        "udf-put:filename=m.lua;content={};udf-type=LUA;",
        b64(MODULE.as_bytes())
    );
    let reply = wire::info(server.addr(), &[&put], IO_TIMEOUT).expect("udf-put");
    assert!(reply.contains("ok"), "{reply}");
    let bad = format!(
        "udf-put:filename=bad.lua;content={};udf-type=LUA;",
        b64(b"function f()\n  return 1\nend\nlocal = 2\n")
    );
    let reply = wire::info(server.addr(), &[&bad], IO_TIMEOUT).expect("udf-put bad");
    assert!(
        reply.contains("error=compile_error") && reply.contains("line=4"),
        "{reply}"
    );

    // A good call first: the argument comes back in bin SUCCESS.
    let ok = send(
        &server,
        &record_udf(b"m", Some(b"echo"), Some(&[0x91, 0x07])),
    );
    assert_eq!(ok.result_code(), Some(0));
    assert!(body_of(&ok).windows(7).any(|w| w == b"SUCCESS"));

    // As Aerospike's `udf_def_init_from_msg`: package, function and argument list fields must
    // all be there.
    let parameter_cases: [(&str, AsMsg); 4] = [
        (
            "package without function",
            record_udf(b"m", None, Some(&[0x90])),
        ),
        (
            "no argument list field",
            record_udf(b"m", Some(b"echo"), None),
        ),
        (
            "package name too long",
            record_udf(&[b'm'; 128], Some(b"echo"), Some(&[0x90])),
        ),
        (
            "unknown UDF op on a record",
            record_udf(b"m", Some(b"echo"), Some(&[0x90])).field(UDF_OP, &[9]),
        ),
    ];
    for (name, msg) in &parameter_cases {
        let r = send(&server, msg);
        assert_eq!(r.result_code(), Some(wire::RESULT_PARAMETER), "{name}");
    }

    // An argument list field that is empty (what the C client sends for a call without
    // arguments), not a list, or cut short means "no arguments", as in Aerospike.
    let no_argument_cases: [(&str, AsMsg); 3] = [
        (
            "argument list empty",
            record_udf(b"m", Some(b"echo"), Some(&[])),
        ),
        (
            "argument list not a list",
            record_udf(b"m", Some(b"echo"), Some(&[0x07])),
        ),
        (
            "argument list cut short",
            record_udf(b"m", Some(b"echo"), Some(&[0x92, 0xa5, 3])),
        ),
    ];
    for (name, msg) in &no_argument_cases {
        let r = send(&server, msg);
        assert_eq!(r.result_code(), Some(0), "{name}");
    }

    // Lua-level failures: code 100 with the reason in bin FAILURE.
    let mut deep = vec![0x91u8; 500];
    deep.push(0x01);
    let udf_cases: [(&str, AsMsg, &[u8]); 6] = [
        (
            "missing module",
            record_udf(b"nope", Some(b"f"), Some(&[0x90])),
            b"module not found",
        ),
        (
            "empty module name",
            record_udf(b"", Some(b"f"), Some(&[0x90])),
            b"module not found",
        ),
        (
            "package not UTF-8",
            record_udf(&[0xff, 0xfe], Some(b"echo"), Some(&[0x90])),
            b"module not found",
        ),
        (
            "missing function",
            record_udf(b"m", Some(b"nope"), Some(&[0x90])),
            b"function not found",
        ),
        (
            "empty function name",
            record_udf(b"m", Some(b""), Some(&[0x90])),
            b"function not found",
        ),
        (
            "argument nested too deeply",
            record_udf(b"m", Some(b"echo"), Some(&deep)),
            b"FAILURE",
        ),
    ];
    for (name, msg, text) in &udf_cases {
        let r = send(&server, msg);
        let code = r.result_code();
        // Nesting beyond the decoder's own limit means no arguments: echo answers nil.
        assert!(
            code == Some(RESULT_UDF) || (*name == "argument nested too deeply" && code == Some(0)),
            "{name}: {code:?}"
        );
        if code == Some(RESULT_UDF) {
            assert!(
                body_of(&r).windows(text.len()).any(|w| w == *text),
                "{name}"
            );
        }
    }

    // Malformed background UDF scans: the stream ends at once with PARAMETER.
    let bg = |task: Option<u64>| {
        let m = AsMsg::new()
            .info(0, flags::INFO2_WRITE, 0, 0)
            .field(field::NAMESPACE, b"test")
            .field(field::SET, b"bg");
        match task {
            Some(id) => m.field(TASK_ID, &id.to_be_bytes()),
            None => m,
        }
    };
    let bg_cases: [(&str, AsMsg); 5] = [
        (
            "no task id",
            bg(None)
                .field(UDF_PACKAGE, b"m")
                .field(UDF_FUNCTION, b"echo")
                .field(UDF_OP, &[2]),
        ),
        (
            "no function",
            bg(Some(11)).field(UDF_PACKAGE, b"m").field(UDF_OP, &[2]),
        ),
        (
            "aggregation op with the write flag",
            bg(Some(12))
                .field(UDF_PACKAGE, b"m")
                .field(UDF_FUNCTION, b"echo")
                .field(UDF_OP, &[1]),
        ),
        (
            "a write op beside the UDF",
            bg(Some(13))
                .field(UDF_PACKAGE, b"m")
                .field(UDF_FUNCTION, b"echo")
                .field(UDF_OP, &[2])
                .op(op::WRITE, op::PARTICLE_INTEGER, "x", &1i64.to_be_bytes()),
        ),
        (
            "background op without the write flag",
            AsMsg::new()
                .info(flags::INFO1_READ, 0, 0, 0)
                .field(field::NAMESPACE, b"test")
                .field(TASK_ID, &14u64.to_be_bytes())
                .field(UDF_PACKAGE, b"m")
                .field(UDF_FUNCTION, b"echo")
                .field(UDF_OP, &[2]),
        ),
    ];
    for (name, msg) in &bg_cases {
        let r = send(&server, msg);
        assert_eq!(r.result_code(), Some(wire::RESULT_PARAMETER), "{name}");
    }

    // A background UDF job raising on every even record: those count as failed, the odd ones
    // are written, and the job ends.
    for i in 0..10u8 {
        let put = AsMsg::new()
            .info(0, flags::INFO2_WRITE, 0, 0)
            .field(field::NAMESPACE, b"test")
            .field(field::SET, b"bg")
            .field(field::DIGEST, &[i + 100; 20])
            .op(
                op::WRITE,
                op::PARTICLE_INTEGER,
                "n",
                &i64::from(i).to_be_bytes(),
            );
        assert_eq!(send(&server, &put).result_code(), Some(0));
    }
    let job = bg(Some(77))
        .field(UDF_PACKAGE, b"m")
        .field(UDF_FUNCTION, b"negate_odd")
        .field(UDF_ARGLIST, &[0x90])
        .field(UDF_OP, &[2]);
    assert_eq!(send(&server, &job).result_code(), Some(0));
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    let shown = loop {
        let s = wire::info(server.addr(), &["query-show:trid=77"], IO_TIMEOUT).expect("show");
        if s.contains("status=done") {
            break s;
        }
        assert!(std::time::Instant::now() < deadline, "job never ended: {s}");
        std::thread::sleep(Duration::from_millis(20));
    };
    assert!(shown.contains(":recs-succeeded=5:recs-failed=5"), "{shown}");
    let ns = wire::info(server.addr(), &["namespace/test"], IO_TIMEOUT).expect("namespace");
    for stat in [
        "udf_sub_udf_complete=5;",
        "udf_sub_udf_error=5;",
        "udf_sub_lang_write_success=5;",
        "udf_sub_lang_error=5;",
        "pi_query_udf_bg_complete=1;",
    ] {
        assert!(ns.contains(stat), "{stat} not in {ns}");
    }
    let odd = send(
        &server,
        &AsMsg::new()
            .info(flags::INFO1_READ | flags::INFO1_GET_ALL, 0, 0, 0)
            .field(field::NAMESPACE, b"test")
            .field(field::DIGEST, &[103; 20]),
    );
    assert!(
        body_of(&odd).windows(8).any(|w| w == (-3i64).to_be_bytes()),
        "record 3 not negated"
    );

    let node = wire::info(server.addr(), &["node"], IO_TIMEOUT).expect("node");
    assert!(!node.trim().is_empty());
    let again = send(
        &server,
        &record_udf(b"m", Some(b"echo"), Some(&[0x91, 0x07])),
    );
    assert_eq!(again.result_code(), Some(0));
}
