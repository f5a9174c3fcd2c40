//! Record and stream UDFs run through the real Lua runtime.

use std::time::{Duration, Instant};

use aerie_cdt::Value;
use base64::Engine as _;

use crate::{apply_record, apply_stream, Change, Limits, RecordInput, Registry};

fn registry(name: &str, src: &str) -> Registry {
    let r = Registry::in_memory(Limits {
        time: Duration::from_millis(200),
        memory_bytes: 8 * 1024 * 1024,
    });
    let enc = base64::engine::general_purpose::STANDARD.encode(src);
    assert_eq!(r.put(name, &enc, None), Ok(()));
    r
}

fn rec<'a>(bins: Vec<(&'a [u8], Value)>) -> RecordInput<'a> {
    RecordInput {
        exists: true,
        bins,
        generation: 3,
        ttl_secs: 100,
        last_update_ms: 1234,
        key: Some(Value::Int(7)),
        digest: [9; 20],
        set: b"demo",
    }
}

#[test]
fn echo_returns_every_argument_type() {
    let r = registry("e.lua", "function echo(rec, v) return v end");
    let vals = [
        Value::Nil,
        Value::Int(-5),
        Value::Float(1.5),
        Value::Bool(true),
        Value::string("hi"),
        Value::blob(&[1, 2, 3]),
        Value::List(aerie_cdt::List::new(
            0,
            vec![Value::Int(1), Value::string("a")],
        )),
        Value::Map(aerie_cdt::Map::new(
            0,
            vec![(Value::string("k"), Value::Int(2))],
        )),
    ];
    for v in vals {
        let out = apply_record(&r, "e", "echo", std::slice::from_ref(&v), &rec(vec![]));
        assert_eq!(out.result, Ok(v));
        assert_eq!(out.change, Change::None);
    }
}

#[test]
fn update_commits_bins_and_metadata_is_visible() {
    let src = r#"
function f(rec, div)
  local x = rec['bin']
  rec['bin2'] = math.floor(x / div)
  rec['gen'] = record.gen(rec)
  rec['set'] = record.setname(rec)
  rec['n'] = record.numbins(rec)
  record.set_ttl(rec, 50)
  aerospike:update(rec)
  local m = map()
  m['res'] = rec['bin2']
  m['key'] = record.key(rec)
  return m
end
function no_commit(rec) rec['x'] = 1 return 0 end
function del(rec) aerospike:remove(rec) return 1 end
"#;
    let r = registry("m.lua", src);
    let out = apply_record(
        &r,
        "m",
        "f",
        &[Value::Int(2)],
        &rec(vec![(b"bin", Value::Int(10))]),
    );
    let Ok(Value::Map(m)) = out.result else {
        panic!("{out:?}")
    };
    assert!(m.entries.contains(&(Value::string("res"), Value::Int(5))));
    assert!(m.entries.contains(&(Value::string("key"), Value::Int(7))));
    let Change::Write { mut bins, ttl, .. } = out.change else {
        panic!("{:?}", out.change)
    };
    bins.sort_by(|a, b| a.0.cmp(&b.0));
    assert_eq!(ttl, Some(50));
    assert_eq!(
        bins,
        vec![
            (b"bin".to_vec(), Value::Int(10)),
            (b"bin2".to_vec(), Value::Int(5)),
            (b"gen".to_vec(), Value::Int(3)),
            (b"n".to_vec(), Value::Int(4)),
            (b"set".to_vec(), Value::string("demo")),
        ]
    );
    let out = apply_record(
        &r,
        "m",
        "no_commit",
        &[],
        &rec(vec![(b"bin", Value::Int(1))]),
    );
    assert_eq!(out.change, Change::None);
    let out = apply_record(&r, "m", "del", &[], &rec(vec![(b"bin", Value::Int(1))]));
    assert_eq!(out.change, Change::Delete);
}

#[test]
fn errors_carry_file_line_and_message() {
    let r = registry("bad.lua", "function f(rec)\n  error('boom')\nend\n");
    let out = apply_record(&r, "bad", "f", &[], &rec(vec![]));
    assert_eq!(out.result, Err("bad.lua:2: boom".to_owned()));
    let out = apply_record(&r, "bad", "nope", &[], &rec(vec![]));
    assert_eq!(out.result, Err("function not found".to_owned()));
    let out = apply_record(&r, "missing", "f", &[], &rec(vec![]));
    assert!(matches!(out.result, Err(m) if m.contains("not found")));
}

#[test]
fn sandbox_hides_files_processes_and_bytecode() {
    let src = r#"
function probe(rec)
  return tostring(io) .. tostring(os.execute) .. tostring(dofile) .. tostring(require)
    .. tostring(loadfile) .. tostring(string.dump) .. tostring(package)
end
function bytecode(rec) return load("\27Lua") end
"#;
    let r = registry("s.lua", src);
    let out = apply_record(&r, "s", "probe", &[], &rec(vec![]));
    assert_eq!(out.result, Ok(Value::string("nilnilnilnilnilnilnil")));
    let out = apply_record(&r, "s", "bytecode", &[], &rec(vec![]));
    assert_eq!(out.result, Ok(Value::Nil));
}

#[test]
fn runaway_code_is_stopped_even_under_pcall() {
    let src = r#"
function spin(rec) while true do end end
function sneaky(rec) while true do pcall(function() while true do end end) end end
function hog(rec) local t = {} for i = 1, 1e9 do t[i] = string.rep('x', 1000) .. i end end
function ok(rec) return 1 end
"#;
    let r = registry("loop.lua", src);
    for f in ["spin", "sneaky"] {
        let t = Instant::now();
        let out = apply_record(&r, "loop", f, &[], &rec(vec![]));
        assert_eq!(out.result, Err(crate::TIME_LIMIT_MESSAGE.to_owned()), "{f}");
        assert!(t.elapsed() < Duration::from_secs(5));
    }
    let out = apply_record(&r, "loop", "hog", &[], &rec(vec![]));
    assert!(
        matches!(&out.result, Err(m) if m.contains("memory")),
        "{out:?}"
    );
    // The state stays usable.
    let out = apply_record(&r, "loop", "ok", &[], &rec(vec![]));
    assert_eq!(out.result, Ok(Value::Int(1)));
}

#[test]
fn stream_sum_and_groupby_on_the_server_side() {
    let src = r#"
function sum(s, bin)
  local function m(rec) return rec[bin] end
  local function add(a, b) return a + b end
  return s : map(m) : reduce(add)
end
function by_parity(s)
  return s : filter(function(r) return r['v'] > 1 end)
           : groupby(function(r) return r['v'] % 2 end)
end
"#;
    let r = registry("agg.lua", src);
    let records = || (1..=4).map(|i| rec(vec![(b"v".as_slice(), Value::Int(i))]));
    let out = apply_stream(&r, "agg", "sum", &[Value::string("v")], records());
    assert_eq!(out, Ok(vec![Value::Int(10)]));
    let out = apply_stream(&r, "agg", "by_parity", &[], records()).unwrap_or_default();
    assert_eq!(out.len(), 1);
    let Some(Value::Map(m)) = out.first() else {
        panic!("{out:?}")
    };
    assert_eq!(m.entries.len(), 2);
}

#[test]
fn modules_persist_in_the_user_path() {
    let dir = std::env::temp_dir().join(format!("aerie-udf-test-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let enc = base64::engine::general_purpose::STANDARD.encode("function f(r) return 2 end");
    {
        let Ok(r) = Registry::open(&dir, Limits::default()) else {
            panic!("cannot open {}", dir.display())
        };
        assert_eq!(r.put("p.lua", &enc, None), Ok(()));
        assert_eq!(r.put("q.lua", &enc, None), Ok(()));
        assert!(r.remove("q.lua"));
    }
    let Ok(r) = Registry::open(&dir, Limits::default()) else {
        panic!("cannot reopen {}", dir.display())
    };
    assert_eq!(r.list().len(), 1);
    let out = apply_record(&r, "p", "f", &[], &rec(vec![]));
    assert_eq!(out.result, Ok(Value::Int(2)));
    let _ = std::fs::remove_dir_all(&dir);
}

thread_local! {
    static RUNNER_CALLS: std::cell::Cell<u32> = const { std::cell::Cell::new(0) };
}

fn counting_runner(f: &mut dyn FnMut()) {
    RUNNER_CALLS.with(|c| c.set(c.get() + 1));
    f();
}

#[test]
fn short_functions_skip_the_blocking_runner_until_a_call_is_slow() {
    crate::install_blocking_runner(counting_runner);
    let r = registry(
        "fast.lua",
        "function sum(rec, n) local x = 0 for i = 1, n do x = x + i end return x end",
    );
    let calls = || RUNNER_CALLS.with(std::cell::Cell::get);
    let run = |n: i64| apply_record(&r, "fast", "sum", &[Value::Int(n)], &rec(vec![]));
    // Debug builds are slow: a short call here is far below FAST_CALL either way.
    for _ in 0..100 {
        assert_eq!(run(3).result, Ok(Value::Int(6)));
    }
    let after_warmup = calls();
    assert!(after_warmup >= 16, "the first calls go through the runner");
    assert!(after_warmup < 100, "short calls stop using the runner");
    // A long call (well over 500 µs) runs where it is, then sends the function back.
    let started = Instant::now();
    assert!(run(3_000_000).result.is_ok());
    assert!(started.elapsed() > Duration::from_millis(1));
    assert_eq!(calls(), after_warmup);
    assert_eq!(run(3).result, Ok(Value::Int(6)));
    assert_eq!(calls(), after_warmup + 1);
}

#[test]
fn geojson_is_built_by_calling_the_module_and_returns_as_geojson() {
    let r = registry(
        "geo.lua",
        "function point(rec, s) local g = geojson(s) return list{g, tostring(g), geojson.new(s) == g} end",
    );
    let text = r#"{"type":"Point","coordinates":[1.5,2.5]}"#;
    let out = apply_record(&r, "geo", "point", &[Value::string(text)], &rec(vec![]));
    let mut geo = vec![aerie_cdt::msgpack::BYTES_GEOJSON];
    geo.extend_from_slice(text.as_bytes());
    let want = Value::List(aerie_cdt::List::new(
        0,
        vec![Value::Str(geo), Value::string(text), Value::Bool(true)],
    ));
    assert_eq!(out.result, Ok(want));
    let bad = apply_record(&r, "geo", "point", &[Value::Int(1)], &rec(vec![]));
    assert!(bad.result.is_err_and(|e| e.contains("expected a string")));
}
