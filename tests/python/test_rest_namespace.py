"""A namespace created at run time: through the REST API (urllib) and the
`namespace-create` info command, written and read by the official Python
client, still there with its records after a restart, and deleted again.
"""

import json
import re
import tempfile
import time
import urllib.error
import urllib.request

import pytest

from conftest import AerieServer, locate_aerie_bin

HTTP_READY = re.compile(r"http ready on ([0-9.]+):(\d+)")


def http_base(server):
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        m = HTTP_READY.search(server.stderr_tail(1 << 20))
        if m:
            return f"http://{m.group(1)}:{m.group(2)}"
        time.sleep(0.05)
    pytest.fail("no http port in the server log")


def request(method, url, body=None):
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(url, data=data, method=method, headers={"content-type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            text = r.read().decode()
            return r.status, (json.loads(text) if text else None)
    except urllib.error.HTTPError as e:
        text = e.read().decode()
        return e.code, (json.loads(text) if text else None)


def put_with_retry(client, key, bins):
    """The client learns a new namespace at its next partition-map refresh."""
    import aerospike

    deadline = time.monotonic() + 10
    while True:
        try:
            client.put(key, bins)
            return
        except aerospike.exception.AerospikeError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


def test_runtime_namespace_survives_restart():
    import aerospike

    workdir = tempfile.mkdtemp(prefix="aerie-pytest-rtns-")
    binary = locate_aerie_bin()
    server = AerieServer(binary, workdir=workdir)
    try:
        base = http_base(server)
        status, _ = request("POST", f"{base}/v1/namespace", {
            "namespace": "rtdev",
            "replication-factor": 1,
            "storage-engine": "device",
            "file": f"{workdir}/rtdev.dat",
            "filesize": "64M",
        })
        assert status == 201
        # The same name again: a conflict. Another namespace on the same file: refused.
        status, err = request("POST", f"{base}/v1/namespace", {"namespace": "rtdev"})
        assert status == 409, err
        status, err = request("POST", f"{base}/v1/namespace", {
            "namespace": "other", "storage-engine": "device",
            "file": f"{workdir}/rtdev.dat", "filesize": "64M",
        })
        assert status == 400 and "in use" in err["message"], err
        status, names = request("GET", f"{base}/v1/namespace")
        assert status == 200 and names == ["test", "rtdev"], names

        client = aerospike.client({"hosts": [(server.host, server.port)]}).connect()
        # A memory namespace through the info command itself.
        answers = client.info_all("namespace-create:namespace=rtmem;storage-engine=memory")
        assert all(a[1].strip() == "ok" for a in answers.values() if a), answers
        for i in range(50):
            put_with_retry(client, ("rtdev", "s", f"k{i}"), {"i": i, "s": f"v{i}"})
        put_with_retry(client, ("rtmem", "s", "m"), {"x": 1})
        _, _, bins = client.get(("rtdev", "s", "k7"))
        assert bins == {"i": 7, "s": "v7"}
        client.close()
    finally:
        server.stop(keep_logs=True)

    # Restart in the same work directory: both namespaces come back; the device one with data.
    server = AerieServer(binary, workdir=workdir)
    try:
        client = aerospike.client({"hosts": [(server.host, server.port)]}).connect()
        for i in (0, 7, 49):
            _, _, bins = client.get(("rtdev", "s", f"k{i}"))
            assert bins == {"i": i, "s": f"v{i}"}
        namespaces = list(client.info_all("namespaces").values())[0][1].strip()
        assert namespaces.split(";") == ["test", "rtdev", "rtmem"], namespaces
        # A configured namespace cannot be deleted at run time.
        with pytest.raises(aerospike.exception.InvalidRequest, match="configuration file"):
            client.info_all("namespace-delete:namespace=test")
        # Delete the run-time ones: they are gone, and stay gone after another restart.
        base = http_base(server)
        status, _ = request("DELETE", f"{base}/v1/namespace/rtmem")
        assert status == 204
        answer = list(client.info_all("namespace-delete:namespace=rtdev").values())[0][1]
        assert answer.strip() == "ok", answer
        status, err = request("GET", f"{base}/v1/kvs/rtdev/s/k7")
        assert status == 404 and err["internalErrorCode"] == 20, err
        client.close()
    finally:
        server.stop(keep_logs=True)
    server = AerieServer(binary, workdir=workdir)
    try:
        base = http_base(server)
        status, names = request("GET", f"{base}/v1/namespace")
        assert names == ["test"], names
    finally:
        server.stop()
