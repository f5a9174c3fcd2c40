"""Lua UDFs through the official Python client: module registration (udf_put, udf_list,
udf_get, udf_remove, compile errors), record UDFs (apply) with arguments and return values of
every type, the record API (create/update/remove, metadata, TTL), errors raised by a UDF,
filter expressions on apply, batch UDF rows, a runaway UDF stopped by the time limit while
other requests are served, stream aggregations (query.apply) with the client-side reduce,
background UDF jobs (scan/query execute_background with a record UDF, waited on with
job_info), the UDF statistics, and modules surviving a restart.
"""

import hashlib
import os
import pathlib
import tempfile
import threading
import time

import aerospike
import pytest
from aerospike import exception as ex
from aerospike import predicates as p
from aerospike_helpers import expressions as exp

from conftest import AerieServer, locate_aerie_bin

NS = "test"
SET = "udf"

RECORD_UDF = """
function echo(rec, v)
  return v
end

function types(rec)
  local l = list{1, 'two', 3.5}
  local m = map{a = 1}
  m['nested'] = list{true, false}
  local b = bytes(3)
  bytes.set_byte(b, 1, 65)
  return list{1, -2, 2.5, 'str', true, l, m, b}
end

function add(rec, bin, n)
  if aerospike:exists(rec) then
    rec[bin] = (rec[bin] or 0) + n
    aerospike:update(rec)
  else
    rec[bin] = n
    aerospike:create(rec)
  end
  return rec[bin]
end

function meta(rec)
  local m = map()
  m['gen'] = record.gen(rec)
  m['set'] = record.setname(rec)
  m['numbins'] = record.numbins(rec)
  m['names'] = record.bin_names(rec)
  m['digest_len'] = bytes.size(record.digest(rec))
  m['lut'] = record.last_update_time(rec) > 0
  return m
end

function set_ttl(rec, ttl)
  record.set_ttl(rec, ttl)
  rec['touched'] = 1
  aerospike:update(rec)
  return record.ttl(rec)
end

function no_commit(rec)
  rec['ghost'] = 1
  return 'not stored'
end

function delete(rec)
  return aerospike:remove(rec)
end

function raise(rec, text)
  error(text)
end

function bg_tag(rec, tag, by)
  if rec['v'] == 13 then error('unlucky') end
  rec['tag'] = tag
  rec['v2'] = rec['v'] * by
  aerospike:update(rec)
end

function spin(rec)
  while true do end
end

function list_ops(rec)
  local l = list()
  list.append(l, 1)
  list.append(l, 2)
  list.prepend(l, 0)
  local total = 0
  for v in list.iterator(l) do total = total + v end
  local m = map{x = 1, y = 2}
  local keys = 0
  for k, v in map.pairs(m) do keys = keys + 1 end
  return list{list.size(l), total, map.size(m), keys, #l}
end
"""

STREAM_UDF = """
function sum(s, bin)
  local function value(rec) return rec[bin] end
  local function add(a, b) return a + b end
  return s : map(value) : reduce(add)
end

function group_count(s, bin)
  local function key(rec) return rec[bin] end
  local function count(groups)
    local out = map()
    for k, members in map.pairs(groups) do out[k] = list.size(members) end
    return out
  end
  return s : groupby(key) : map(count)
end

function count_by(s, bin)
  local function agg(m, rec)
    local k = rec[bin]
    m[k] = (m[k] or 0) + 1
    return m
  end
  local function merge(a, b)
    return map.merge(a, b, function(x, y) return x + y end)
  end
  return s : aggregate(map(), agg) : reduce(merge)
end

function odd_values(s, bin)
  return s : filter(function(rec) return rec[bin] % 2 == 1 end)
           : map(function(rec) return rec[bin] end)
end
"""


@pytest.fixture(scope="module")
def lua_dir():
    d = tempfile.mkdtemp(prefix="aerie-pytest-lua-")
    for name, text in (("rec_udf.lua", RECORD_UDF), ("stream_udf.lua", STREAM_UDF)):
        pathlib.Path(d, name).write_text(text)
    yield d


@pytest.fixture(scope="module")
def lua_client(aerie_server, lua_dir):
    # The C client configures its Lua once per process, from the first client made; if an
    # earlier test module made one, its user path is the default "./". Running from lua_dir
    # makes the client-side reduce find the modules either way.
    previous_cwd = os.getcwd()
    os.chdir(lua_dir)
    c = aerospike.client(
        {"hosts": [(aerie_server.host, aerie_server.port)], "lua": {"user_path": lua_dir}}
    ).connect()
    c.udf_put(os.path.join(lua_dir, "rec_udf.lua"))
    c.udf_put(os.path.join(lua_dir, "stream_udf.lua"))
    wait_for_module(c, "rec_udf.lua")
    wait_for_module(c, "stream_udf.lua")
    try:
        yield c
    finally:
        c.close()
        os.chdir(previous_cwd)


def wait_for_module(c, name):
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        if any(m["name"] == name for m in c.udf_list()):
            return
        time.sleep(0.05)
    pytest.fail(f"module {name} never listed")


def key(name):
    return (NS, SET, name)


def test_udf_put_list_get_remove(lua_client, lua_dir):
    listed = {m["name"]: m for m in lua_client.udf_list()}
    assert "rec_udf.lua" in listed
    expected = hashlib.sha1(RECORD_UDF.encode()).hexdigest()
    assert bytes(listed["rec_udf.lua"]["hash"]).decode() == expected
    assert lua_client.udf_get("rec_udf.lua") == RECORD_UDF

    path = os.path.join(lua_dir, "short_lived.lua")
    pathlib.Path(path).write_text("function f(rec) return 1 end\n")
    lua_client.udf_put(path)
    wait_for_module(lua_client, "short_lived.lua")
    lua_client.udf_remove("short_lived.lua")
    assert all(m["name"] != "short_lived.lua" for m in lua_client.udf_list())


def test_udf_put_refuses_code_that_does_not_compile(lua_client, lua_dir):
    path = os.path.join(lua_dir, "broken.lua")
    pathlib.Path(path).write_text("function f(rec)\n  return 1\nend\nlocal = 2\n")
    with pytest.raises(ex.AerospikeError) as info:
        lua_client.udf_put(path)
    assert "broken.lua" in str(info.value.msg) or "compile" in str(info.value.msg).lower()
    assert all(m["name"] != "broken.lua" for m in lua_client.udf_list())


@pytest.mark.parametrize(
    "value",
    [0, -7, 2**40, 1.25, "text", "", b"\x00\x01\xff", [1, "a", [2.5, None]], {"k": 1, "l": [1, 2]}, None, True],
)
def test_apply_echoes_every_argument_type(lua_client, value):
    k = key("echo")
    lua_client.put(k, {"x": 1})
    assert lua_client.apply(k, "rec_udf", "echo", [value]) == value


def test_apply_returns_lists_maps_and_bytes(lua_client):
    k = key("types")
    lua_client.put(k, {"x": 1})
    out = lua_client.apply(k, "rec_udf", "types", [])
    assert out[:5] == [1, -2, 2.5, "str", True]
    assert out[5] == [1, "two", 3.5]
    assert out[6] == {"a": 1, "nested": [True, False]}
    assert out[7] == b"A\x00\x00"
    assert lua_client.apply(k, "rec_udf", "list_ops", []) == [3, 3, 2, 2, 3]


def test_apply_creates_updates_and_removes_records(lua_client):
    k = key("counter")
    try:
        lua_client.remove(k)
    except ex.RecordNotFound:
        pass
    assert lua_client.apply(k, "rec_udf", "add", ["n", 5]) == 5
    _, meta, bins = lua_client.get(k)
    assert bins == {"n": 5} and meta["gen"] == 1
    assert lua_client.apply(k, "rec_udf", "add", ["n", 3]) == 8
    _, meta, bins = lua_client.get(k)
    assert bins == {"n": 8} and meta["gen"] == 2

    # Writes never committed with aerospike:update are dropped, generation untouched.
    assert lua_client.apply(k, "rec_udf", "no_commit", []) == "not stored"
    _, meta, bins = lua_client.get(k)
    assert bins == {"n": 8} and meta["gen"] == 2

    m = lua_client.apply(k, "rec_udf", "meta", [])
    assert m == {"gen": 2, "set": SET, "numbins": 1, "names": ["n"], "digest_len": 20, "lut": True}

    assert lua_client.apply(k, "rec_udf", "delete", []) == 0
    with pytest.raises(ex.RecordNotFound):
        lua_client.get(k)


def test_set_ttl_reaches_the_record(lua_client):
    k = key("ttl")
    lua_client.put(k, {"a": 1})
    lua_client.apply(k, "rec_udf", "set_ttl", [1000])
    _, meta, bins = lua_client.get(k)
    assert bins == {"a": 1, "touched": 1}
    assert 990 <= meta["ttl"] <= 1000


def test_a_raising_udf_answers_udf_error_with_its_message(lua_client):
    k = key("raise")
    lua_client.put(k, {"a": 1})
    with pytest.raises(ex.UDFError) as info:
        lua_client.apply(k, "rec_udf", "raise", ["something broke"])
    assert info.value.code == 100
    assert "rec_udf.lua:" in info.value.msg and "something broke" in info.value.msg
    with pytest.raises(ex.UDFError) as info:
        lua_client.apply(k, "rec_udf", "no_such_function", [])
    assert "function not found" in info.value.msg
    with pytest.raises(ex.UDFError):
        lua_client.apply(k, "no_such_module", "f", [])
    # The record is untouched.
    assert lua_client.get(k)[2] == {"a": 1}


def test_filter_expressions_apply_to_udfs(lua_client):
    k = key("filtered")
    lua_client.put(k, {"n": 1})
    no = {"expressions": exp.GT(exp.IntBin("n"), 5).compile()}
    yes = {"expressions": exp.Eq(exp.IntBin("n"), 1).compile()}
    with pytest.raises(ex.FilteredOut):
        lua_client.apply(k, "rec_udf", "add", ["n", 1], policy=no)
    assert lua_client.apply(k, "rec_udf", "add", ["n", 1], policy=yes) == 2


def test_batch_apply_runs_the_udf_on_every_row(lua_client):
    keys = [key(f"batch-{i}") for i in range(5)]
    for i, k in enumerate(keys):
        lua_client.put(k, {"n": i})
    res = lua_client.batch_apply(keys, "rec_udf", "add", ["n", 10])
    assert [r.result for r in res.batch_records] == [0] * 5
    assert [r.record[2]["SUCCESS"] for r in res.batch_records] == [10, 11, 12, 13, 14]
    assert [lua_client.get(k)[2]["n"] for k in keys] == [10, 11, 12, 13, 14]
    res = lua_client.batch_apply(keys[:2], "rec_udf", "raise", ["row failed"])
    assert [r.result for r in res.batch_records] == [100, 100]


def test_runaway_udf_is_stopped_while_other_requests_are_served(lua_client, aerie_server):
    k = key("spin")
    lua_client.put(k, {"a": 1})
    outcome = {}

    def run():
        started = time.monotonic()
        try:
            lua_client.apply(k, "rec_udf", "spin", [], policy={"total_timeout": 10000})
            outcome["error"] = None
        except ex.AerospikeError as e:
            outcome["error"] = e
        outcome["secs"] = time.monotonic() - started

    t = threading.Thread(target=run)
    t.start()
    time.sleep(0.1)
    other = aerospike.client({"hosts": [(aerie_server.host, aerie_server.port)]}).connect()
    served = 0
    served_at = None
    try:
        while served < 50:
            other.put(key(f"spin-other-{served}"), {"i": served})
            assert other.get(key(f"spin-other-{served}"))[2] == {"i": served}
            served += 1
        served_at = time.monotonic()
    finally:
        other.close()
    t.join(timeout=15)
    assert not t.is_alive()
    err = outcome["error"]
    assert isinstance(err, ex.UDFError) and err.code == 100, err
    assert "time limit" in err.msg
    assert outcome["secs"] < 5
    # The other requests completed while the UDF was still running.
    assert served == 50 and served_at is not None
    assert lua_client.get(k)[2] == {"a": 1}


@pytest.fixture(scope="module")
def agg_records(lua_client):
    set_name = "udf_agg"
    for i in range(1, 101):
        lua_client.put((NS, set_name, i), {"v": i, "g": "even" if i % 2 == 0 else "odd"})
    return set_name


def test_aggregation_sum_with_client_side_reduce(lua_client, agg_records):
    q = lua_client.query(NS, agg_records)
    q.apply("stream_udf", "sum", ["v"])
    assert q.results() == [5050]


def test_aggregation_group_by(lua_client, agg_records):
    q = lua_client.query(NS, agg_records)
    q.apply("stream_udf", "group_count", ["g"])
    assert q.results() == [{"even": 50, "odd": 50}]
    q = lua_client.query(NS, agg_records)
    q.apply("stream_udf", "count_by", ["g"])
    assert q.results() == [{"even": 50, "odd": 50}]


def test_aggregation_without_reduce_streams_every_value(lua_client, agg_records):
    q = lua_client.query(NS, agg_records)
    q.apply("stream_udf", "odd_values", ["v"])
    assert sorted(q.results()) == list(range(1, 101, 2))


def test_aggregation_over_a_secondary_index_query(lua_client, agg_records):
    lua_client.index_single_value_create(NS, agg_records, "v", aerospike.INDEX_NUMERIC, "udf_agg_v")
    deadline = time.monotonic() + 5
    while True:
        try:
            q = lua_client.query(NS, agg_records)
            q.where(p.between("v", 1, 10))
            q.apply("stream_udf", "sum", ["v"])
            assert q.results() == [55]
            break
        except ex.IndexNotFound:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)


def wait_job(c, job_id, module, timeout_s=30.0):
    deadline = time.monotonic() + timeout_s
    while True:
        info = c.job_info(job_id, module)
        if info["status"] == aerospike.JOB_STATUS_COMPLETED:
            return info
        assert time.monotonic() < deadline, info
        time.sleep(0.05)


def namespace_stats(c):
    text = c.info_random_node(f"namespace/{NS}").strip().split("\t")[-1]
    return dict(kv.split("=", 1) for kv in text.split(";") if "=" in kv)


def test_background_udf_jobs_run_the_udf_on_every_match(lua_client):
    set_name = "udf_bg"
    n = 60
    for i in range(n):
        lua_client.put((NS, set_name, i), {"v": i, "even": 1 - i % 2})
    before = namespace_stats(lua_client)

    # A scan: every record but v == 13 (whose UDF raises) is tagged; the job still ends.
    s = lua_client.scan(NS, set_name)
    s.apply("rec_udf", "bg_tag", ["s", 2])
    job = s.execute_background()
    info = wait_job(lua_client, job, aerospike.JOB_SCAN)
    assert info["records_read"] == n - 1
    for i in range(n):
        _, _, bins = lua_client.get((NS, set_name, i))
        if i == 13:
            assert bins == {"v": 13, "even": 0}
        else:
            assert bins == {"v": i, "even": 1 - i % 2, "tag": "s", "v2": 2 * i}
    shown = lua_client.info_random_node(f"query-show:trid={job}")
    assert f"recs-succeeded={n - 1}:recs-failed=1" in shown, shown

    # A secondary-index query with a filter expression: only even v in 20..39.
    lua_client.index_single_value_create(NS, set_name, "v", aerospike.INDEX_NUMERIC, "udf_bg_v")
    deadline = time.monotonic() + 5
    while True:
        q = lua_client.query(NS, set_name)
        q.where(p.between("v", 20, 39))
        q.apply("rec_udf", "bg_tag", ["q", 3])
        try:
            job = q.execute_background({"expressions": exp.Eq(exp.IntBin("even"), 1).compile()})
            break
        except ex.IndexNotFound:
            assert time.monotonic() < deadline
            time.sleep(0.1)
    info = wait_job(lua_client, job, aerospike.JOB_QUERY)
    assert info["records_read"] == 10
    for i in range(n):
        _, _, bins = lua_client.get((NS, set_name, i))
        if 20 <= i <= 39 and i % 2 == 0:
            assert (bins["tag"], bins["v2"]) == ("q", 3 * i)
        elif i != 13:
            assert (bins["tag"], bins["v2"]) == ("s", 2 * i)

    # The records of both jobs are counted as UDF sub-transactions.
    after = namespace_stats(lua_client)
    prefixes = ("udf_sub_", "pi_query_udf_bg_", "si_query_udf_bg_")
    delta = {k: int(after[k]) - int(before[k]) for k in after if k.startswith(prefixes)}
    assert delta["udf_sub_udf_complete"] == n - 1 + 10
    assert delta["udf_sub_lang_write_success"] == n - 1 + 10
    assert delta["udf_sub_lang_error"] == 1
    assert delta["pi_query_udf_bg_complete"] == 1
    assert delta["si_query_udf_bg_complete"] == 1


def test_modules_survive_a_restart(lua_dir):
    workdir = tempfile.mkdtemp(prefix="aerie-pytest-udf-")
    udf_dir = os.path.join(workdir, "modules")
    conf = os.path.join(workdir, "aerie.conf")
    pathlib.Path(conf).write_text(
        f"""
mod-lua {{
    user-path {udf_dir}
}}
network {{
    service {{
        address 127.0.0.1
        port 0
    }}
}}
namespace test {{
    replication-factor 1
    nsup-period 120
    storage-engine memory
}}
"""
    )
    binary = locate_aerie_bin()
    server = AerieServer(binary, extra_args=["--config", conf], workdir=workdir)
    try:
        c = aerospike.client({"hosts": [(server.host, server.port)], "lua": {"user_path": lua_dir}}).connect()
        c.udf_put(os.path.join(lua_dir, "rec_udf.lua"))
        wait_for_module(c, "rec_udf.lua")
        c.close()
    finally:
        server.stop(keep_logs=True)
    assert os.path.isfile(os.path.join(udf_dir, "rec_udf.lua"))
    server = AerieServer(binary, extra_args=["--config", conf], workdir=workdir)
    try:
        c = aerospike.client({"hosts": [(server.host, server.port)]}).connect()
        assert any(m["name"] == "rec_udf.lua" for m in c.udf_list())
        k = (NS, SET, "after-restart")
        assert c.apply(k, "rec_udf", "add", ["n", 4]) == 4
        c.close()
    finally:
        server.stop()
