//! Malformed frames on the service port.
//!
//! For each bad input the server must either answer with an as_msg carrying result
//! code 4 (PARAMETER) or close that one connection; it must not stay silent on a
//! frame it has wholly received, and it must not fall over. After every case a
//! fresh connection must still get a correct `node` info reply, and at the end a
//! real put/get through the official client must work.
//!
//! Aerospike itself closes the socket without a reply for a bad proto version or
//! type and for a length over 128 MiB (`as/src/base/service.c`); for a body it
//! cannot parse it either closes or answers PARAMETER. Both are accepted here.

use std::io::Write;
use std::net::SocketAddr;
use std::time::Duration;

use aerie_testkit::wire::{self, field, flags, op, AsMsg, Reply};
use aerie_testkit::ServerProcess;

/// How long a case may take to be answered or closed. Generous for a loaded CI
/// machine; a correct server answers in microseconds.
const IO_TIMEOUT: Duration = Duration::from_secs(5);

/// One bad input and what it is meant to exercise.
struct Case {
    name: &'static str,
    bytes: Vec<u8>,
}

#[test]
fn garbage_frames_get_parameter_or_close_and_the_server_keeps_serving() {
    let server = ServerProcess::builder()
        .bin(env!("CARGO_BIN_EXE_aerie"))
        .start();
    let addr = server.addr();
    assert_info_node_works(addr, "before any garbage");

    for case in cases() {
        let outcome = send_case(addr, &case);
        eprintln!("{:<40} -> {}", case.name, summarize(&outcome));
        match &outcome {
            Reply::Closed => {}
            Reply::Frame { .. } if outcome.result_code() == Some(wire::RESULT_PARAMETER) => {}
            Reply::Silent => panic!(
                "case {:?}: the server neither replied nor closed within {IO_TIMEOUT:?} after a complete frame",
                case.name
            ),
            Reply::Frame { version, proto_type, body } => panic!(
                "case {:?}: expected a result-code-4 as_msg or a close; got version {version} type {proto_type} \
                 result code {:?}, body {:02x?}",
                case.name,
                outcome.result_code(),
                &body[..body.len().min(64)]
            ),
        }
        assert_info_node_works(addr, case.name);
    }

    real_client_put_get(&server);
}

/// Every bad input, each on its own connection.
fn cases() -> Vec<Case> {
    let valid_read = || {
        AsMsg::new()
            .info(flags::INFO1_READ | flags::INFO1_GET_ALL, 0, 0, 0)
            .field(field::NAMESPACE, b"test")
            .field(field::DIGEST, &[0x11; 20])
    };

    vec![
        Case {
            name: "an HTTP request",
            bytes: b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".to_vec(),
        },
        Case {
            name: "random bytes",
            bytes: pseudo_random_garbage(512),
        },
        Case {
            name: "proto version 3",
            bytes: with_header(3, wire::PROTO_TYPE_AS_MSG, &valid_read().body()),
        },
        Case {
            name: "proto version 0 on an as_msg",
            bytes: with_header(0, wire::PROTO_TYPE_AS_MSG, &valid_read().body()),
        },
        Case {
            name: "proto type 0",
            bytes: with_header(2, 0, &valid_read().body()),
        },
        Case {
            name: "proto type 9",
            bytes: with_header(2, 9, &valid_read().body()),
        },
        Case {
            name: "proto type 255",
            bytes: with_header(2, 255, &valid_read().body()),
        },
        // Only the header: a server that waited for 128 MiB of body would stay
        // silent, which fails the case.
        Case {
            name: "as_msg length 128 MiB + 1",
            bytes: wire::proto_header(2, wire::PROTO_TYPE_AS_MSG, wire::PROTO_SIZE_MAX + 1)
                .to_vec(),
        },
        Case {
            name: "info length 2^48 - 1",
            bytes: wire::proto_header(2, wire::PROTO_TYPE_INFO, (1 << 48) - 1).to_vec(),
        },
        Case {
            name: "empty as_msg body",
            bytes: wire::frame(wire::PROTO_TYPE_AS_MSG, &[]),
        },
        Case {
            name: "as_msg shorter than its 22-byte header",
            bytes: wire::frame(
                wire::PROTO_TYPE_AS_MSG,
                valid_read().body().get(..10).unwrap_or_default(),
            ),
        },
        Case {
            name: "n_fields beyond the body",
            bytes: valid_read().claim_n_fields(5).frame(),
        },
        Case {
            name: "n_fields = 65535",
            bytes: valid_read().claim_n_fields(u16::MAX).frame(),
        },
        Case {
            name: "field size beyond the body",
            bytes: valid_read()
                .raw_field_bytes(&[0x7f, 0xff, 0xff, 0xff, field::SET, b's'])
                .claim_n_fields(3)
                .frame(),
        },
        Case {
            // A size of 0 cannot even hold the type byte; a parser that advanced
            // by 4 + size would loop or read the type from the next field.
            name: "field size 0",
            bytes: valid_read()
                .raw_field_bytes(&[0, 0, 0, 0])
                .claim_n_fields(3)
                .frame(),
        },
        Case {
            name: "n_ops beyond the body",
            bytes: valid_read().claim_n_ops(3).frame(),
        },
        Case {
            name: "op size beyond the body",
            bytes: {
                let mut body = AsMsg::new()
                    .info(0, flags::INFO2_WRITE, 0, 0)
                    .field(field::NAMESPACE, b"test")
                    .field(field::DIGEST, &[0x22; 20])
                    .op(op::WRITE, op::PARTICLE_INTEGER, "bin", &7_u64.to_be_bytes())
                    .body();
                // Make the op claim 1000 bytes while 12 follow.
                let op_start = body.len() - (4 + 4 + 3 + 8);
                if let Some(size) = body.get_mut(op_start..op_start + 4) {
                    size.copy_from_slice(&1000_u32.to_be_bytes());
                }
                wire::frame(wire::PROTO_TYPE_AS_MSG, &body)
            },
        },
        Case {
            name: "op name length beyond the op",
            bytes: {
                let mut body = AsMsg::new()
                    .info(0, flags::INFO2_WRITE, 0, 0)
                    .field(field::NAMESPACE, b"test")
                    .field(field::DIGEST, &[0x33; 20])
                    .op(op::WRITE, op::PARTICLE_STRING, "bin", b"value")
                    .body();
                // name_len is the 8th byte of the op; claim 200 name bytes.
                let name_len_at = body.len() - (3 + 5) - 1;
                if let Some(b) = body.get_mut(name_len_at) {
                    *b = 200;
                }
                wire::frame(wire::PROTO_TYPE_AS_MSG, &body)
            },
        },
        Case {
            name: "digest field of 5 bytes",
            bytes: AsMsg::new()
                .info(flags::INFO1_READ | flags::INFO1_GET_ALL, 0, 0, 0)
                .field(field::NAMESPACE, b"test")
                .field(field::DIGEST, &[1, 2, 3, 4, 5])
                .frame(),
        },
    ]
}

/// Sends `case` on a fresh connection and reports what the server did.
fn send_case(addr: SocketAddr, case: &Case) -> Reply {
    let mut stream = wire::connect(addr, IO_TIMEOUT)
        .unwrap_or_else(|e| panic!("case {:?}: cannot connect: {e}", case.name));
    if let Err(e) = stream.write_all(&case.bytes) {
        // The server may close (and reset) before it has read everything we sent.
        if matches!(
            e.kind(),
            std::io::ErrorKind::BrokenPipe | std::io::ErrorKind::ConnectionReset
        ) {
            return Reply::Closed;
        }
        panic!("case {:?}: write failed: {e}", case.name);
    }
    wire::read_reply(&mut stream, IO_TIMEOUT)
        .unwrap_or_else(|e| panic!("case {:?}: reading the reply: {e}", case.name))
}

/// A fresh connection still gets `node\t<ID>\n`.
fn assert_info_node_works(addr: SocketAddr, after: &str) {
    let reply = wire::info(addr, &["node"], IO_TIMEOUT)
        .unwrap_or_else(|e| panic!("after case {after:?}: `node` info request failed: {e}"));
    let value = reply
        .strip_prefix("node\t")
        .and_then(|rest| rest.strip_suffix('\n'))
        .unwrap_or_else(|| panic!("after case {after:?}: malformed info reply {reply:?}"));
    assert!(
        !value.is_empty()
            && value
                .chars()
                .all(|c| c.is_ascii_hexdigit() && !c.is_ascii_lowercase()),
        "after case {after:?}: node id must be upper-case hex, got {value:?}"
    );
}

/// The official client still works end to end.
fn real_client_put_get(server: &ServerProcess) {
    use aerospike::{as_bin, as_key, Bins, Client, ClientPolicy, ReadPolicy, Value, WritePolicy};

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(async {
        let client = Client::new(&ClientPolicy::default(), &server.hosts())
            .await
            .expect("official client connects");
        let key = as_key!("test", "garbage", "after");
        client
            .put(&WritePolicy::default(), &key, &[as_bin!("ok", "yes")])
            .await
            .expect("put after garbage");
        let rec = client
            .get(&ReadPolicy::default(), &key, Bins::All)
            .await
            .expect("get after garbage");
        assert_eq!(rec.bins.get("ok"), Some(&Value::from("yes")));
        client.close().await.expect("close");
    });
}

fn summarize(reply: &Reply) -> String {
    match reply {
        Reply::Closed => "closed".to_string(),
        Reply::Silent => "silent".to_string(),
        Reply::Frame { proto_type, .. } => format!(
            "type-{proto_type} reply, result code {:?}",
            reply.result_code()
        ),
    }
}

fn with_header(version: u8, proto_type: u8, body: &[u8]) -> Vec<u8> {
    let mut out = wire::proto_header(version, proto_type, body.len() as u64).to_vec();
    out.extend_from_slice(body);
    out
}

/// Deterministic junk (xorshift), with a first byte that is no proto version, so
/// the header is refused on its first byte rather than read as a length to wait for.
fn pseudo_random_garbage(len: usize) -> Vec<u8> {
    let mut state: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut out: Vec<u8> = (0..len)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state.to_le_bytes()[0]
        })
        .collect();
    if let Some(first) = out.first_mut() {
        *first = 0xA5;
    }
    out
}
