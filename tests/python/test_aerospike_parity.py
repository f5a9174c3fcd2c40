"""Answers that must match Aerospike 8.1's, each checked against the server's source
(as/src/transaction/udf.c, sindex/sindex_manager.c, base/truncate.c, base/udf_cask.c), through
the official Python client. The tests marked `client_19_0` also run with client 19.0.0."""

import os
import time

import aerospike
import pytest
from aerospike import exception as ex
from aerospike import predicates as p

NS = "test"
SET = "parity"

STREAM_UDF = """
function count(s)
  local function one(rec) return 1 end
  local function add(a, b) return a + b end
  return s : map(one) : reduce(add)
end

function count_args(s, a, b)
  local function one(rec) return 1 end
  local function add(x, y) return x + y end
  local function label(n)
    return tostring(a) .. ':' .. tostring(b) .. ':' .. tostring(n)
  end
  return s : map(one) : reduce(add) : map(label)
end
"""


@pytest.fixture(scope="module")
def lua_client(aerie_server, tmp_path_factory):
    lua_dir = tmp_path_factory.mktemp("parity-lua")
    (lua_dir / "parity_udf.lua").write_text(STREAM_UDF)
    # The C client sets up its Lua once per process, from the first client made: running from
    # the module's directory lets the client-side reduce find it either way.
    previous_cwd = os.getcwd()
    os.chdir(lua_dir)
    c = aerospike.client(
        {"hosts": [(aerie_server.host, aerie_server.port)], "lua": {"user_path": str(lua_dir)}}
    ).connect()
    try:
        c.udf_put(str(lua_dir / "parity_udf.lua"))
        deadline = time.monotonic() + 5
        while not any(m["name"] == "parity_udf.lua" for m in c.udf_list()):
            assert time.monotonic() < deadline, "module never listed"
            time.sleep(0.05)
        for i in range(20):
            c.put((NS, SET, i), {"v": i})
        # The 19.0 client has no index_single_value_create; both have this one.
        c.index_integer_create(NS, SET, "v", "parity_v_idx")
        yield c
    finally:
        c.close()
        os.chdir(previous_cwd)


def results_when_indexed(make_query):
    deadline = time.monotonic() + 10
    while True:
        try:
            return make_query().results()
        except ex.IndexNotFound:
            assert time.monotonic() < deadline
            time.sleep(0.1)


@pytest.mark.client_19_0
def test_stream_udf_without_arguments(lua_client):
    # `apply(module, function)` sends an empty argument list field: no arguments.
    q = lua_client.query(NS, SET)
    q.apply("parity_udf", "count")
    assert q.results() == [20]

    def with_where():
        q = lua_client.query(NS, SET)
        q.where(p.between("v", 0, 9))
        q.apply("parity_udf", "count")
        return q

    assert results_when_indexed(with_where) == [10]


@pytest.mark.client_19_0
def test_stream_udf_arguments_reach_the_function(lua_client):
    q = lua_client.query(NS, SET)
    q.apply("parity_udf", "count_args", ["x", 7])
    assert q.results() == ["x:7:20"]
    q = lua_client.query(NS, SET)
    q.apply("parity_udf", "count_args", [None, "y"])
    assert q.results() == ["nil:y:20"]
    q = lua_client.query(NS, SET)
    q.apply("parity_udf", "count_args", [])
    assert q.results() == ["nil:nil:20"]


@pytest.mark.client_19_0
def test_apply_with_empty_module_or_function_is_a_udf_error(lua_client):
    # Aerospike accepts the empty names and fails the lookup: UDF (100), not PARAMETER.
    k = (NS, SET, 1)
    with pytest.raises(ex.UDFError) as e:
        lua_client.apply(k, "", "count", [])
    assert e.value.code == 100
    with pytest.raises(ex.UDFError) as e:
        lua_client.apply(k, "parity_udf", "", [])
    assert e.value.code == 100


@pytest.mark.client_19_0
def test_index_create_and_truncate_on_an_unknown_namespace_answer_ok(lua_client):
    # Both go to system metadata, which nodes without the namespace ignore. (The client then
    # waits on the index with `sindex-exists`, which does name the missing namespace.)
    def info(command):
        return lua_client.info_random_node(command).split("\t", 1)[-1].strip()

    create = "sindex-create:namespace=no_such_ns;set=s;indexname=nons_idx;bin=v;type=numeric"
    assert info(create) == "ok"
    with pytest.raises(ex.NamespaceNotFound):
        info("sindex-exists:namespace=no_such_ns;indexname=nons_idx")
    assert info("sindex-delete:namespace=no_such_ns;indexname=nons_idx") == "ok"
    # A set index needs the namespace.
    set_index = "sindex-create:namespace=no_such_ns;set=s;indexname=nons_set_idx;indextype=set"
    with pytest.raises(ex.InvalidRequest):
        info(set_index)
    assert lua_client.truncate("no_such_ns", None, 0) == 0
    assert lua_client.truncate("no_such_ns", SET, 0) == 0


@pytest.mark.client_19_0
def test_removing_a_missing_udf_module_is_a_udf_error(lua_client):
    with pytest.raises(ex.UDFError):
        lua_client.udf_remove("no_such_module.lua")


@pytest.mark.client_19_0
def test_truncate_last_update_time_out_of_range(lua_client):
    # At or before the 2010 epoch: "would truncate to 0"; after now: "in the future".
    before_2010_ns = 1_000_000_000 * 1_000_000_000
    with pytest.raises(ex.InvalidRequest) as e:
        lua_client.truncate(NS, SET, before_2010_ns)
    assert e.value.code == 4
    beyond_u32_secs_ns = (2**32 + 5) * 1_000_000_000
    with pytest.raises(ex.InvalidRequest) as e:
        lua_client.truncate(NS, SET, beyond_u32_secs_ns)
    assert e.value.code == 4
    # A cut-off in the past is fine and leaves newer records alone.
    assert lua_client.truncate(NS, SET, 1_300_000_000 * 1_000_000_000) == 0
    assert lua_client.get((NS, SET, 3))[2] == {"v": 3}


@pytest.mark.client_19_0
def test_get_config_of_a_namespace_in_both_forms(lua_client):
    def info(command):
        return lua_client.info_random_node(command).split("\t", 1)[-1].strip()

    by_name = info(f"get-config:context=namespace;namespace={NS}")
    by_id = info(f"get-config:context=namespace;id={NS}")
    assert by_name == by_id
    assert "replication-factor=" in by_name
    with pytest.raises(ex.NamespaceNotFound):
        info("get-config:context=namespace;namespace=no_such_ns")
    with pytest.raises(ex.InvalidRequest):
        info("get-config:context=no_such_context")
