"""Three `aerie server` processes forming a cluster (replication factor 2); the official
Python client is given one seed only and must find, read from and write through all nodes."""

import socket
import time

import pytest

from conftest import AerieServer, locate_aerie_bin

N_NODES = 3
NS = "test"


def free_port() -> int:
    """A loopback port free for both TCP and UDP (fabric is TCP, heartbeat UDP)."""
    for _ in range(64):
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as t:
            t.bind(("127.0.0.1", 0))
            port = t.getsockname()[1]
            with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as u:
                try:
                    u.bind(("127.0.0.1", port))
                except OSError:
                    continue
            return port
    raise RuntimeError("no free port")


def node_config(node_id: int, fabric: int, heartbeat: int, seeds: list) -> str:
    seed_lines = "".join(f"        mesh-seed-address-port 127.0.0.1 {p}\n" for p in seeds)
    return f"""service {{
    cluster-name aerie-py
    node-id {node_id:X}
}}
network {{
    service {{
        address 127.0.0.1
    }}
    fabric {{
        address 127.0.0.1
        port {fabric}
    }}
    heartbeat {{
        mode mesh
        address 127.0.0.1
        port {heartbeat}
{seed_lines}        interval 100
        timeout 10
    }}
}}
namespace {NS} {{
    replication-factor 2
    nsup-period 60
    storage-engine memory
}}
"""


@pytest.fixture(scope="module")
def cluster():
    binary = locate_aerie_bin()
    ports = [(free_port(), free_port()) for _ in range(N_NODES)]
    seeds = [hb for _, hb in ports]
    nodes = []
    try:
        for i, (fabric, hb) in enumerate(ports):
            # A port picked free can be taken before the node binds it: new ports, again.
            for attempt in range(5):
                try:
                    nodes.append(AerieServer(binary, node_config(0xB0 + i, fabric, hb, seeds)))
                    break
                except pytest.fail.Exception as e:
                    busy = "Address already in use" in str(e) or "failed to bind" in str(e)
                    if not busy or attempt == 4:
                        raise
                    fabric, hb = free_port(), free_port()
                    seeds[i] = hb
        yield nodes
    finally:
        for n in nodes:
            n.stop()


def info_value(client, node, command):
    raw = client.info_single_node(command, node)
    return raw.split("\t", 1)[-1].strip()


def test_one_seed_sees_every_node_and_routes_through_all(cluster):
    import aerospike

    seed = cluster[0]
    client = aerospike.client({"hosts": [(seed.host, seed.port)]}).connect()
    try:
        deadline = time.monotonic() + 20
        want = sorted((n.host, n.port) for n in cluster)
        while sorted(client.get_nodes()) != want:
            assert time.monotonic() < deadline, f"get_nodes() = {client.get_nodes()}, want {want}"
            time.sleep(0.2)
            client.close()
            client = aerospike.client({"hosts": [(seed.host, seed.port)]}).connect()

        # Every node has settled on the three-node member list.
        names = [n["node_name"] for n in client.get_node_names()]
        while any(info_value(client, n, "cluster-size") != str(N_NODES) for n in names):
            assert time.monotonic() < deadline, "the nodes did not settle"
            time.sleep(0.1)

        keys = [(NS, "py", i) for i in range(300)]
        for i, k in enumerate(keys):
            client.put(k, {"v": i, "s": f"value-{i}"})
        for i, k in enumerate(keys):
            _, meta, bins = client.get(k)
            assert bins == {"v": i, "s": f"value-{i}"}
            assert meta["gen"] == 1
        client.increment(keys[0], "v", 5)
        assert client.get(keys[0])[2]["v"] == 5
        client.remove(keys[1])
        with pytest.raises(aerospike.exception.RecordNotFound):
            client.get(keys[1])

        # Batch writes are replicated too.
        from aerospike_helpers.operations import operations as op

        batch_keys = [(NS, "py", 1000 + i) for i in range(100)]
        res = client.batch_operate(batch_keys, [op.write("b", 7)])
        assert all(r.result == 0 for r in res.batch_records), [r.result for r in res.batch_records]

        # Each node masters about a third of the records, and holds a replica of as many.
        names = [n["node_name"] for n in client.get_node_names()]
        masters, proles = [], []
        for name in names:
            stats = dict(
                kv.split("=", 1) for kv in info_value(client, name, f"namespace/{NS}").split(";") if "=" in kv
            )
            masters.append(int(stats["master_objects"]))
            proles.append(int(stats["prole_objects"]))
            assert info_value(client, name, "cluster-size") == str(N_NODES)
        assert sum(masters) == 399, masters
        assert sum(proles) == 399, proles
        assert all(m > 50 for m in masters), masters
    finally:
        client.close()


def test_index_udf_and_truncate_reach_every_node(cluster, tmp_path):
    import aerospike

    seed = cluster[0]
    # The client keeps a copy of registered modules in its Lua user path: a temporary one.
    config = {"hosts": [(seed.host, seed.port)], "lua": {"user_path": str(tmp_path)}}
    client = aerospike.client(config).connect()
    try:
        deadline = time.monotonic() + 20
        while len(client.get_nodes()) != N_NODES:
            assert time.monotonic() < deadline, client.get_nodes()
            time.sleep(0.2)
            client.close()
            client = aerospike.client(config).connect()
        names = [n["node_name"] for n in client.get_node_names()]
        while any(info_value(client, n, "cluster-size") != str(N_NODES) for n in names):
            assert time.monotonic() < deadline, "the nodes did not settle"
            time.sleep(0.1)

        client.index_integer_create(NS, "smd", "n", "smd_n_idx")
        udf = tmp_path / "smd_mod.lua"
        udf.write_text("function hello(rec)\n  return 1\nend\n")
        client.udf_put(str(udf))
        for i in range(60):
            client.put((NS, "smd", i), {"n": i})

        def everywhere(command, needle):
            deadline = time.monotonic() + 10
            while True:
                answers = {n: info_value(client, n, command) for n in names}
                if all(needle in a for a in answers.values()):
                    return
                assert time.monotonic() < deadline, f"{command}: {answers}"
                time.sleep(0.1)

        everywhere("sindex-list:ns=" + NS, "smd_n_idx")
        everywhere("udf-list", "smd_mod.lua")

        # A truncate sent to one node empties the set on all of them.
        time.sleep(0.01)
        client.truncate(NS, "smd", 0)
        deadline = time.monotonic() + 10
        while True:
            counts = []
            for n in names:
                sets = info_value(client, n, f"sets/{NS}/smd")
                stats = dict(kv.split("=", 1) for kv in sets.split(":") if "=" in kv)
                counts.append(int(stats.get("objects", "0")))
            if counts == [0] * N_NODES:
                break
            assert time.monotonic() < deadline, counts
            time.sleep(0.1)
        for i in range(60):
            with pytest.raises(aerospike.exception.RecordNotFound):
                client.get((NS, "smd", i))
    finally:
        client.close()


def settled_client(cluster, config_extra=None):
    import aerospike

    seed = cluster[0]
    config = {"hosts": [(seed.host, seed.port)], **(config_extra or {})}
    client = aerospike.client(config).connect()
    deadline = time.monotonic() + 20
    while len(client.get_nodes()) != N_NODES:
        assert time.monotonic() < deadline, client.get_nodes()
        time.sleep(0.2)
        client.close()
        client = aerospike.client(config).connect()
    names = [n["node_name"] for n in client.get_node_names()]
    while any(info_value(client, n, "cluster-size") != str(N_NODES) for n in names):
        assert time.monotonic() < deadline, "the nodes did not settle"
        time.sleep(0.1)
    return client, names


STREAM_COUNT = """
function count(s)
  local function one(rec) return 1 end
  local function add(a, b) return a + b end
  return s : map(one) : reduce(add)
end
"""


@pytest.mark.client_19_0
def test_each_node_answers_a_whole_node_query_for_its_master_partitions(cluster, tmp_path, monkeypatch):
    """Stream aggregations (sent to every node without a partition list) count every record
    once with replication factor 2, with and without a secondary-index `where`."""
    import aerospike
    from aerospike import predicates as p

    udf = tmp_path / "count_mod.lua"
    udf.write_text(STREAM_COUNT)
    # The C client sets up its Lua once per process, from the first client made: running from
    # the module's directory lets the client-side reduce find it either way.
    monkeypatch.chdir(tmp_path)
    client, names = settled_client(cluster, {"lua": {"user_path": str(tmp_path)}})
    try:
        client.udf_put(str(udf))
        # The 19.0 client has no index_single_value_create; both have this one.
        client.index_integer_create(NS, "agg", "v", "agg_v_idx")
        for i in range(200):
            client.put((NS, "agg", i), {"v": i})
        deadline = time.monotonic() + 20
        while True:
            listed = all("agg_v_idx" in info_value(client, n, f"sindex-list:ns={NS}") for n in names)
            modules = all("count_mod.lua" in info_value(client, n, "udf-list") for n in names)
            if listed and modules:
                break
            assert time.monotonic() < deadline, "index or module did not reach every node"
            time.sleep(0.1)

        q = client.query(NS, "agg")
        q.apply("count_mod", "count")
        assert q.results() == [200]
        deadline = time.monotonic() + 20
        while True:
            q = client.query(NS, "agg")
            q.where(p.between("v", 0, 99))
            q.apply("count_mod", "count")
            try:
                got = q.results()
            except aerospike.exception.IndexNotFound:
                got = None
            if got == [100]:
                break
            assert time.monotonic() < deadline, got
            time.sleep(0.1)
    finally:
        client.close()


def test_paginated_query_without_a_set_returns_every_record(cluster):
    client, names = settled_client(cluster)
    try:
        for i in range(150):
            client.put((NS, None, f"noset-{i}"), {"n": i})
        total = 0
        for n in names:
            stats = dict(
                kv.split("=", 1) for kv in info_value(client, n, f"namespace/{NS}").split(";") if "=" in kv
            )
            total += int(stats["master_objects"])
        q = client.query(NS, None)
        q.max_records = 40
        q.paginate()
        seen = set()
        for _ in range(1000):
            for key, _, _ in q.results():
                seen.add(bytes(key[3]))
            if q.is_done():
                break
        assert len(seen) == total, (len(seen), total)
    finally:
        client.close()


def test_read_touch_ttl_read_finds_the_record(cluster):
    client, _ = settled_client(cluster)
    try:
        keys = [(NS, "touch", i) for i in range(30)]
        for k in keys:
            client.put(k, {"a": 1}, meta={"ttl": 1000})
        for k in keys:
            _, meta, bins = client.get(k, policy={"read_touch_ttl_percent": 80})
            assert bins == {"a": 1}
    finally:
        client.close()
