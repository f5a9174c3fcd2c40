"""`/metrics` on the HTTP port, parsed by the Prometheus project's own text-format parser
(`prometheus_client.parser`), carries the node's real figures: after writes through the
official client, the namespace object count and the write histogram's count match them.
"""

import re
import time
import urllib.request

import pytest
from prometheus_client.parser import text_string_to_metric_families

HTTP_READY = re.compile(r"http ready on (\S+)")


def http_base(aerie_server):
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        aerie_server._stderr.flush()
        with open(aerie_server.stderr_path, encoding="utf-8", errors="replace") as f:
            m = HTTP_READY.search(f.read())
        if m:
            host, _, port = m.group(1).rpartition(":")
            if host in ("0.0.0.0", "[::]", ""):
                host = "127.0.0.1"
            return f"http://{host}:{port}"
        time.sleep(0.1)
    pytest.fail("the server did not log its HTTP address")


def scrape(base):
    with urllib.request.urlopen(base + "/metrics", timeout=10) as r:
        assert r.status == 200
        assert r.headers["Content-Type"].startswith("text/plain")
        return r.read().decode("utf-8")


def samples(text):
    """{(name, frozenset(labels)): value} for every sample; the parser raises on bad text."""
    out = {}
    families = list(text_string_to_metric_families(text))
    assert families, "no metric families"
    for fam in families:
        assert fam.type in ("counter", "gauge", "histogram", "summary", "untyped", "info")
        for s in fam.samples:
            out[(s.name, frozenset(s.labels.items()))] = s.value
    return out


def find(all_samples, name, **labels):
    want = set(labels.items())
    hits = [v for (n, l), v in all_samples.items() if n == name and want <= set(l)]
    assert hits, f"no sample {name}{labels}"
    return hits[0]


def test_metrics_parse_and_carry_real_figures(aerie_server, client):
    base = http_base(aerie_server)
    before = samples(scrape(base))
    n = 37
    for i in range(n):
        client.put(("test", "metrics", i), {"v": i})
    after = samples(scrape(base))
    assert find(after, "aerospike_namespace_objects", ns="test") - find(
        before, "aerospike_namespace_objects", ns="test"
    ) == n
    # The write latency histogram counted every put (a cumulative count per namespace).
    w_before = find(before, "aerospike_latencies_write_ms_count", ns="test")
    w_after = find(after, "aerospike_latencies_write_ms_count", ns="test")
    assert w_after - w_before == n
    # Every bucket series is cumulative and ends at +Inf with the count.
    buckets = sorted(
        (float(dict(l)["le"]), v)
        for (name, l), v in after.items()
        if name == "aerospike_latencies_write_ms_bucket" and dict(l).get("ns") == "test"
    )
    assert buckets and buckets[-1][0] == float("inf") and buckets[-1][1] == w_after
    assert all(a[1] <= b[1] for a, b in zip(buckets, buckets[1:]))
