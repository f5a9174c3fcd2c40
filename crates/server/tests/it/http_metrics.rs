//! The HTTP port: `/metrics` parses as Prometheus text exposition (a strict parser below)
//! and carries the node's real figures; `/health`, `/api/status`, HEAD, keep-alive and the
//! request limits; `latencies:` over the info protocol.

use std::collections::{BTreeMap, HashSet};
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};

use aerie_testkit::{http, wire, ServerProcess};
use aerospike::{as_bin, as_key, Bins, Client, ClientPolicy, ReadPolicy, WritePolicy};

const TIMEOUT: Duration = Duration::from_secs(10);
const N_RECORDS: i64 = 25;

/// One parsed sample: metric name, labels, value.
#[derive(Debug)]
struct Sample {
    name: String,
    labels: BTreeMap<String, String>,
    value: f64,
}

/// A strict parser for the text format (version 0.0.4): HELP/TYPE comments, one TYPE per
/// family before its samples, valid metric and label names, escaped label values,
/// numeric values and optional integer timestamps. Returns the samples and each
/// family's type.
fn parse_exposition(text: &str) -> Result<(Vec<Sample>, BTreeMap<String, String>), String> {
    let mut samples = Vec::new();
    let mut types: BTreeMap<String, String> = BTreeMap::new();
    let mut helped = HashSet::new();
    let mut families_with_samples = HashSet::new();
    if !text.ends_with('\n') {
        return Err("exposition must end with a newline".into());
    }
    for (n, line) in text.lines().enumerate() {
        let at = |m: &str| format!("line {}: {m}: {line:?}", n + 1);
        if line.is_empty() {
            continue;
        }
        if let Some(rest) = line.strip_prefix("# ") {
            let mut parts = rest.splitn(3, ' ');
            match (parts.next(), parts.next(), parts.next()) {
                (Some("HELP"), Some(name), _) => {
                    check_metric_name(name).map_err(|e| at(&e))?;
                    if !helped.insert(name.to_owned()) {
                        return Err(at("second HELP for a family"));
                    }
                }
                (Some("TYPE"), Some(name), Some(kind)) => {
                    check_metric_name(name).map_err(|e| at(&e))?;
                    if !matches!(
                        kind,
                        "counter" | "gauge" | "histogram" | "summary" | "untyped"
                    ) {
                        return Err(at("unknown type"));
                    }
                    if families_with_samples.contains(name) {
                        return Err(at("TYPE after the family's samples"));
                    }
                    if types.insert(name.to_owned(), kind.to_owned()).is_some() {
                        return Err(at("second TYPE for a family"));
                    }
                }
                _ => return Err(at("malformed comment")),
            }
            continue;
        }
        if line.starts_with('#') {
            continue;
        }
        let sample = parse_sample(line).map_err(|e| at(&e))?;
        let family = ["_bucket", "_sum", "_count"]
            .iter()
            .find_map(|s| {
                sample
                    .name
                    .strip_suffix(s)
                    .filter(|base| types.get(*base).is_some_and(|t| t == "histogram"))
            })
            .unwrap_or(&sample.name)
            .to_owned();
        families_with_samples.insert(family);
        samples.push(sample);
    }
    Ok((samples, types))
}

fn check_metric_name(name: &str) -> Result<(), String> {
    let mut chars = name.chars();
    let first_ok = chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_' || c == ':');
    if first_ok && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':') {
        Ok(())
    } else {
        Err(format!("bad metric name {name:?}"))
    }
}

fn parse_sample(line: &str) -> Result<Sample, String> {
    let name_end = line
        .find(['{', ' '])
        .ok_or_else(|| "no value".to_string())?;
    let name = &line[..name_end];
    check_metric_name(name)?;
    let mut rest = &line[name_end..];
    let mut labels = BTreeMap::new();
    if let Some(after) = rest.strip_prefix('{') {
        let mut chars = after.char_indices().peekable();
        loop {
            // label name
            let start = chars.peek().map(|(i, _)| *i).ok_or("unterminated labels")?;
            if after[start..].starts_with('}') {
                chars.next();
                break;
            }
            let mut end = start;
            while let Some(&(i, c)) = chars.peek() {
                if c == '=' {
                    end = i;
                    break;
                }
                if !(c.is_ascii_alphanumeric() || c == '_') {
                    return Err(format!("bad label name char {c:?}"));
                }
                chars.next();
            }
            let lname = &after[start..end];
            if lname.is_empty() || lname.starts_with(|c: char| c.is_ascii_digit()) {
                return Err("bad label name".into());
            }
            chars.next(); // '='
            if chars.next().map(|(_, c)| c) != Some('"') {
                return Err("label value must be quoted".into());
            }
            let mut value = String::new();
            loop {
                match chars.next().map(|(_, c)| c) {
                    Some('\\') => match chars.next().map(|(_, c)| c) {
                        Some('\\') => value.push('\\'),
                        Some('"') => value.push('"'),
                        Some('n') => value.push('\n'),
                        _ => return Err("bad escape".into()),
                    },
                    Some('"') => break,
                    Some('\n') | None => return Err("unterminated label value".into()),
                    Some(c) => value.push(c),
                }
            }
            if labels.insert(lname.to_owned(), value).is_some() {
                return Err("repeated label".into());
            }
            match chars.next().map(|(_, c)| c) {
                Some(',') => {}
                Some('}') => break,
                _ => return Err("expected , or }".into()),
            }
        }
        let consumed = chars.peek().map_or(after.len(), |(i, _)| *i);
        rest = &after[consumed..];
    }
    let rest = rest.strip_prefix(' ').ok_or("one space before the value")?;
    let mut parts = rest.split(' ');
    let v = parts.next().ok_or("no value")?;
    let value = match v {
        "+Inf" => f64::INFINITY,
        "-Inf" => f64::NEG_INFINITY,
        "NaN" => f64::NAN,
        _ if v.chars().all(|c| c.is_ascii_digit() || "+-.eE".contains(c)) => v
            .parse::<f64>()
            .map_err(|e| format!("bad value {v:?}: {e}"))?,
        _ => return Err(format!("bad value {v:?}")),
    };
    if let Some(ts) = parts.next() {
        ts.parse::<i64>().map_err(|_| "bad timestamp".to_string())?;
    }
    if parts.next().is_some() {
        return Err("trailing text".into());
    }
    Ok(Sample {
        name: name.to_owned(),
        labels,
        value,
    })
}

fn find<'a>(samples: &'a [Sample], name: &str, labels: &[(&str, &str)]) -> Option<&'a Sample> {
    samples.iter().find(|s| {
        s.name == name
            && labels
                .iter()
                .all(|(k, v)| s.labels.get(*k).is_some_and(|x| x == v))
    })
}

async fn write_and_read(server: &ServerProcess) {
    let client = Client::new(&ClientPolicy::default(), &server.hosts())
        .await
        .unwrap_or_else(|e| panic!("client cannot connect: {e}"));
    let wp = WritePolicy::default();
    for i in 0..N_RECORDS {
        let key = as_key!("test", "metrics", i);
        client
            .put(&wp, &key, &[as_bin!("v", i)])
            .await
            .unwrap_or_else(|e| panic!("put {i}: {e}"));
    }
    for i in 0..5 {
        let key = as_key!("test", "metrics", i);
        client
            .get(&ReadPolicy::default(), &key, Bins::All)
            .await
            .unwrap_or_else(|e| panic!("get {i}: {e}"));
    }
    client.close().await.ok();
}

fn http_addr(server: &ServerProcess) -> SocketAddr {
    let addr = server
        .http_addr()
        .unwrap_or_else(|| panic!("no `http ready on` line:\n{}", server.stderr_tail()));
    assert!(addr.ip().is_loopback(), "{addr}");
    addr
}

#[tokio::test]
async fn metrics_parse_and_carry_real_figures() {
    let server = ServerProcess::builder()
        .bin(env!("CARGO_BIN_EXE_aerie"))
        .start();
    let addr = http_addr(&server);
    write_and_read(&server).await;

    let r = http::get(addr, "/metrics", TIMEOUT).expect("GET /metrics");
    assert_eq!(r.status, 200);
    assert!(r
        .header("content-type")
        .is_some_and(|t| t.starts_with("text/plain; version=0.0.4")));
    let (samples, types) = parse_exposition(&r.body).unwrap_or_else(|e| panic!("{e}\n{}", r.body));

    let objects = find(&samples, "aerospike_namespace_objects", &[("ns", "test")])
        .unwrap_or_else(|| panic!("no namespace objects:\n{}", r.body));
    assert_eq!(objects.value, N_RECORDS as f64);
    assert_eq!(
        types.get("aerospike_namespace_objects").map(String::as_str),
        Some("gauge")
    );
    let node_objects = find(&samples, "aerospike_node_stats_objects", &[]).expect("node objects");
    assert_eq!(node_objects.value, N_RECORDS as f64);
    let writes = find(
        &samples,
        "aerospike_namespace_client_write_success",
        &[("ns", "test")],
    )
    .expect("client_write_success");
    assert_eq!(writes.value, N_RECORDS as f64);
    assert!(find(&samples, "aerospike_node_stats_client_connections", &[]).is_some());
    assert!(find(
        &samples,
        "aerospike_sets_objects",
        &[("ns", "test"), ("set", "metrics")]
    )
    .is_some_and(|s| s.value == N_RECORDS as f64));
    assert!(find(&samples, "process_resident_memory_bytes", &[]).is_some_and(|s| s.value > 0.0));

    // Latency histograms: cumulative buckets, +Inf equal to _count, counts match the traffic.
    assert_eq!(
        types
            .get("aerospike_latencies_write_ms")
            .map(String::as_str),
        Some("histogram")
    );
    let count = find(
        &samples,
        "aerospike_latencies_write_ms_count",
        &[("ns", "test")],
    )
    .expect("write count");
    assert_eq!(count.value, N_RECORDS as f64);
    let reads = find(
        &samples,
        "aerospike_latencies_read_ms_count",
        &[("ns", "test")],
    )
    .expect("read count");
    assert_eq!(reads.value, 5.0);
    let buckets: Vec<&Sample> = samples
        .iter()
        .filter(|s| {
            s.name == "aerospike_latencies_write_ms_bucket"
                && s.labels.get("ns").is_some_and(|n| n == "test")
        })
        .collect();
    assert_eq!(buckets.len(), 18, "17 thresholds and +Inf");
    assert!(buckets.windows(2).all(|w| w[0].value <= w[1].value));
    assert_eq!(
        buckets.last().map(|b| b.labels["le"].as_str()),
        Some("+Inf")
    );
    assert_eq!(buckets.last().map(|b| b.value), Some(count.value));
}

#[tokio::test]
async fn latencies_info_and_statistics() {
    let server = ServerProcess::builder()
        .bin(env!("CARGO_BIN_EXE_aerie"))
        .start();
    write_and_read(&server).await;
    let reply = wire::info(
        server.addr(),
        &[
            "latencies:",
            "latencies:hist={test}-write",
            "latencies:hist=nope",
            "statistics",
        ],
        TIMEOUT,
    )
    .expect("info");
    let lines: BTreeMap<&str, &str> = reply.lines().filter_map(|l| l.split_once('\t')).collect();
    let all = lines.get("latencies:").copied().unwrap_or_default();
    for name in [
        "batch-index:",
        "{test}-read:",
        "{test}-write:",
        "{test}-udf:",
        "{test}-pi-query:",
        "{test}-si-query:",
    ] {
        assert!(all.contains(name), "{name} missing from {all:?}");
    }
    assert!(!all.ends_with(';'), "{all:?}");
    // Before two ticker periods the slice is empty, as on Aerospike.
    assert_eq!(
        lines.get("latencies:hist={test}-write").copied(),
        Some("{test}-write:")
    );
    assert_eq!(
        lines.get("latencies:hist=nope").copied(),
        Some("ERROR:4:bad hist name")
    );

    // Ops/s figures appear in `statistics` once the sampler has run.
    let deadline = Instant::now() + TIMEOUT;
    loop {
        let stats = wire::info(server.addr(), &["statistics"], TIMEOUT).expect("statistics");
        if stats.contains("write_ops_per_sec=") && stats.contains("batch_index_initiate=0") {
            break;
        }
        assert!(Instant::now() < deadline, "no ops/s in statistics: {stats}");
        std::thread::sleep(Duration::from_millis(200));
    }
}

#[test]
fn health_head_keep_alive_and_limits() {
    let server = ServerProcess::builder()
        .bin(env!("CARGO_BIN_EXE_aerie"))
        .start();
    let addr = http_addr(&server);

    let r = http::get(addr, "/health", TIMEOUT).expect("health");
    assert_eq!(r.status, 200);
    assert!(r.body.starts_with("ok node="), "{}", r.body);
    assert_eq!(http::get(addr, "/nope", TIMEOUT).expect("404").status, 404);
    let page = http::get(addr, "/", TIMEOUT).expect("console");
    assert_eq!(page.status, 200);
    assert!(page.body.contains("<script src=\"/console.js\">"));
    assert!(
        !page.body.contains("http://") && !page.body.contains("https://"),
        "no outside assets"
    );
    let js = http::get(addr, "/console.js", TIMEOUT).expect("js");
    assert!(js
        .header("content-type")
        .is_some_and(|t| t.starts_with("application/javascript")));
    let api = http::get(addr, "/api/status", TIMEOUT).expect("api");
    assert!(
        api.body.starts_with('{') && api.body.ends_with('}'),
        "{}",
        api.body
    );
    assert!(
        api.body.contains("\"namespaces\":[{\"name\":\"test\""),
        "{}",
        api.body
    );

    let head = http::request(
        addr,
        b"HEAD /health HTTP/1.1\r\nConnection: close\r\n\r\n",
        TIMEOUT,
    )
    .expect("HEAD");
    assert_eq!(head.status, 200);
    assert!(head.body.is_empty());
    let post = http::request(
        addr,
        b"POST / HTTP/1.1\r\nContent-Length: 2\r\n\r\nhi",
        TIMEOUT,
    )
    .expect("POST");
    assert_eq!(post.status, 405);
    let garbage = http::request(addr, b"\x16\x03\x01garbage\r\n\r\n", TIMEOUT).expect("garbage");
    assert_eq!(garbage.status, 400);
    let mut huge = b"GET / HTTP/1.1\r\nX: ".to_vec();
    huge.extend(std::iter::repeat_n(b'a', 20_000));
    let r = http::request(addr, &huge, TIMEOUT).expect("huge head");
    assert_eq!(r.status, 431);

    // Two pipelined requests on one keep-alive connection, then close.
    let mut s = TcpStream::connect_timeout(&addr, TIMEOUT).expect("connect");
    s.set_read_timeout(Some(TIMEOUT)).expect("timeout");
    s.write_all(b"GET /health HTTP/1.1\r\n\r\nGET /health HTTP/1.1\r\nConnection: close\r\n\r\n")
        .expect("write");
    let mut all = String::new();
    s.read_to_string(&mut all).expect("read");
    assert_eq!(all.matches("HTTP/1.1 200 OK").count(), 2, "{all}");
    assert!(all.contains("connection: keep-alive") && all.contains("connection: close"));

    // The service is unaffected.
    let node = wire::info(server.addr(), &["node"], TIMEOUT).expect("info");
    assert!(node.starts_with("node\t"), "{node}");
}
