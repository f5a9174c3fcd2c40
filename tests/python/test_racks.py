"""Three nodes on two racks (rack 1: two nodes, rack 2: one), replication factor 2, and the
official Python client (C core) with rack awareness: it reads `rack-ids` from every node,
and with the PREFER_RACK replica policy sends every read to the rack-2 node, which holds a
copy of every partition because copies go to distinct racks. Without the policy, reads go
to each partition's master on either rack."""

import time

import pytest

from conftest import AerieServer, locate_aerie_bin
from test_cluster import free_port, info_value

NS = "test"
RACKS = [1, 1, 2]
KEYS = 300


def node_config(node_id, rack, fabric, heartbeat, seeds):
    seed_lines = "".join(f"        mesh-seed-address-port 127.0.0.1 {p}\n" for p in seeds)
    return f"""service {{
    cluster-name aerie-py-racks
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
    rack-id {rack}
    storage-engine memory
}}
"""


@pytest.fixture(scope="module")
def racked():
    binary = locate_aerie_bin()
    ports = [(free_port(), free_port()) for _ in RACKS]
    seeds = [hb for _, hb in ports]
    nodes = []
    try:
        for i, ((fabric, hb), rack) in enumerate(zip(ports, RACKS)):
            for attempt in range(5):
                try:
                    nodes.append(AerieServer(binary, node_config(0xC0 + i, rack, fabric, hb, seeds)))
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


def reads_per_node(client, names):
    out = {}
    for name in names:
        stats = dict(kv.split("=", 1) for kv in info_value(client, name, f"namespace/{NS}").split(";") if "=" in kv)
        out[name] = int(stats["client_read_success"])
    return out


def connect(seed, **extra):
    import aerospike

    config = {"hosts": [(seed.host, seed.port)], **extra}
    client = aerospike.client(config).connect()
    deadline = time.monotonic() + 20
    while len(client.get_nodes()) != len(RACKS):
        assert time.monotonic() < deadline, client.get_nodes()
        time.sleep(0.2)
    return client


def test_prefer_rack_reads_go_to_the_clients_rack(racked):
    import aerospike

    plain = connect(racked[0])
    names = [n["node_name"] for n in plain.get_node_names()]
    rack_of = {f"{0xC0 + i:X}": r for i, r in enumerate(RACKS)}
    deadline = time.monotonic() + 20
    while any(info_value(plain, n, "cluster-stable:").startswith("ERROR") for n in names):
        assert time.monotonic() < deadline, "the nodes did not settle"
        time.sleep(0.1)
    for name in names:
        assert info_value(plain, name, "rack-ids") == f"{NS}:{rack_of[name]}"
        racks = info_value(plain, name, "racks:")
        assert racks == f"ns={NS}:rack_1=C0,C1:rack_2=C2", racks

    keys = [(NS, "racks", i) for i in range(KEYS)]
    for i, k in enumerate(keys):
        plain.put(k, {"v": i})

    # The default replica policy reads from masters, on both racks.
    before = reads_per_node(plain, names)
    for k in keys:
        plain.get(k)
    after = reads_per_node(plain, names)
    rack1 = sum(after[n] - before[n] for n in names if rack_of[n] == 1)
    assert rack1 > KEYS // 4, (before, after)

    rack_aware = connect(
        racked[0],
        rack_aware=True,
        rack_id=2,
        policies={"read": {"replica": aerospike.POLICY_REPLICA_PREFER_RACK}},
    )
    try:
        before = reads_per_node(plain, names)
        for i, k in enumerate(keys):
            assert rack_aware.get(k)[2] == {"v": i}
        after = reads_per_node(plain, names)
        served = {n: after[n] - before[n] for n in names}
        assert served["C2"] == KEYS, served
        assert served["C0"] + served["C1"] == 0, served
    finally:
        rack_aware.close()
        plain.close()
