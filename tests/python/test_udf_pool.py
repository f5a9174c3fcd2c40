"""Long record UDFs run on the UDF pool, not on the service threads: while more spinning UDFs
are sent than the node has service threads, a new client connects, and info and short reads are
answered, all before any of the UDFs ends (each is stopped by the 1 s time limit); and the pool
is bounded: no more UDFs run at once than there are service threads, the rest wait their turn."""

import os
import threading
import time

import aerospike
import pytest
from aerospike import exception as ex

from conftest import AerieServer, locate_aerie_bin

NS = "test"
SERVICE_THREADS = 2
SPINNERS = 4

CONFIG = f"""service {{
    service-threads {SERVICE_THREADS}
}}
network {{
    service {{
        address 127.0.0.1
    }}
}}
namespace {NS} {{
    replication-factor 1
    storage-engine memory
}}
"""

SPIN_UDF = """
function spin(rec)
  while true do end
end
"""


@pytest.fixture(scope="module")
def server():
    s = AerieServer(locate_aerie_bin(), CONFIG)
    try:
        yield s
    finally:
        s.stop()


@pytest.mark.client_19_0
def test_new_connections_info_and_reads_are_served_while_udfs_spin(server, tmp_path):
    udf = tmp_path / "pool_spin.lua"
    udf.write_text(SPIN_UDF)
    hosts = [(server.host, server.port)]
    c = aerospike.client({"hosts": hosts}).connect()
    try:
        c.udf_put(str(udf))
        deadline = time.monotonic() + 5
        while not any(m["name"] == "pool_spin.lua" for m in c.udf_list()):
            assert time.monotonic() < deadline
            time.sleep(0.05)
        for i in range(SPINNERS):
            c.put((NS, "spin", i), {"a": i})
        c.put((NS, "plain", 1), {"b": 1})

        finished = []
        codes = []

        def spin(i):
            try:
                c.apply((NS, "spin", i), "pool_spin", "spin", [], policy={"total_timeout": 10000})
            except ex.AerospikeError as e:
                codes.append(e.code)
            finished.append(time.monotonic())

        threads = [threading.Thread(target=spin, args=(i,)) for i in range(SPINNERS)]
        for t in threads:
            t.start()
        time.sleep(0.2)
        # A fresh client: new connections, the tend's info commands, then reads.
        started = time.monotonic()
        fresh = aerospike.client({"hosts": hosts, "policies": {"timeout": 5000}}).connect()
        try:
            assert fresh.info_random_node("namespaces").strip().endswith(NS)
            for _ in range(20):
                assert fresh.get((NS, "plain", 1))[2] == {"b": 1}
            served_at = time.monotonic()
        finally:
            fresh.close()
        for t in threads:
            t.join(timeout=20)
        assert len(finished) == SPINNERS
        times = sorted(f - started for f in finished)
        assert served_at < min(finished), (served_at - started, times)
        # Every UDF was stopped by its time limit, in two waves of SERVICE_THREADS.
        assert codes == [100] * SPINNERS, codes
        first_wave, second_wave = times[:SERVICE_THREADS], times[SERVICE_THREADS:]
        assert min(second_wave) - max(first_wave) > 0.5, times
    finally:
        c.close()
