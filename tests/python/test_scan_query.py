"""Scans, secondary indexes, queries and background jobs through the official Python client:
`client.scan`, `client.query`, `index_integer_create`, `index_string_create`,
`index_geo2dsphere_create`, the `aerospike.predicates` (equals, between,
geo_within_geojson_region, geo_within_radius, geo_contains_geojson_point), partition-filter
pagination and `execute_background`.

Every answer is compared with what the data written here implies. Each test uses its own set.
"""

import math
import time

import aerospike
import pytest
from aerospike import exception as ex
from aerospike import predicates as p
from aerospike_helpers import expressions as exp
from aerospike_helpers.operations import operations as op

NS = "test"
N = 300


def fill(client, set_name, n=N):
    for i in range(n):
        client.put((NS, set_name, i), {"id": i, "n": i, "s": f"v{i % 10}", "even": i % 2})


def wait_index(client, name, timeout_s=20.0):
    """Waits until the index reports load_pct=100 (the build runs in the background)."""
    deadline = time.monotonic() + timeout_s
    while True:
        stat = client.info_random_node(f"sindex-stat:namespace={NS};indexname={name}")
        if "load_pct=100" in stat:
            return
        assert time.monotonic() < deadline, stat
        time.sleep(0.02)


def ids(records):
    got = [bins["id"] for (_, _, bins) in records]
    assert len(got) == len(set(got)), "a record came back twice"
    return set(got)


def test_scan_all_selected_and_filtered(client):
    fill(client, "py_scan")
    client.put((NS, "py_scan_other", 1), {"id": -1})

    records = client.scan(NS, "py_scan").results()
    assert ids(records) == set(range(N))
    for (key, meta, bins) in records:
        assert key[0] == NS and key[1] == "py_scan"
        assert meta["gen"] == 1
        assert bins == {"id": bins["id"], "n": bins["id"], "s": f"v{bins['id'] % 10}", "even": bins["id"] % 2}

    scan = client.scan(NS, "py_scan")
    scan.select("id", "s")
    records = scan.results()
    assert len(records) == N
    assert all(set(bins) == {"id", "s"} for (_, _, bins) in records)

    # A filter expression on a scan.
    policy = {"expressions": exp.GE(exp.IntBin("n"), 250).compile()}
    assert ids(client.scan(NS, "py_scan").results(policy)) == set(range(250, N))

    # foreach sees the same records.
    seen = []
    client.scan(NS, "py_scan").foreach(lambda rec: seen.append(rec[2]["id"]))
    assert sorted(seen) == list(range(N))


def test_scan_partition_pagination(client):
    fill(client, "py_page")
    scan = client.scan(NS, "py_page")
    scan.paginate()
    pages = []
    while True:
        page = scan.results({"max_records": 64})
        if page:
            pages.append(page)
        if scan.is_done():
            break
        assert len(pages) < 50, "pagination does not end"
    assert all(len(page) <= 64 for page in pages)
    assert len(pages) >= N // 64
    got = [bins["id"] for page in pages for (_, _, bins) in page]
    assert sorted(got) == list(range(N)), "pages must cover every record exactly once"

    # Explicit partition ranges split the set with no overlap.
    halves = [
        client.scan(NS, "py_page").results({"partition_filter": {"begin": 0, "count": 2048}}),
        client.scan(NS, "py_page").results({"partition_filter": {"begin": 2048, "count": 2048}}),
    ]
    a, b = ids(halves[0]), ids(halves[1])
    assert a and b and not (a & b) and a | b == set(range(N))


def test_integer_and_string_queries(client):
    fill(client, "py_q")
    client.index_integer_create(NS, "py_q", "n", "py_q_n")
    client.index_string_create(NS, "py_q", "s", "py_q_s")
    wait_index(client, "py_q_n")
    wait_index(client, "py_q_s")

    q = client.query(NS, "py_q")
    q.where(p.between("n", 10, 19))
    assert ids(q.results()) == set(range(10, 20))

    q = client.query(NS, "py_q")
    q.where(p.equals("n", 42))
    assert ids(q.results()) == {42}

    q = client.query(NS, "py_q")
    q.where(p.equals("s", "v7"))
    assert ids(q.results()) == {i for i in range(N) if i % 10 == 7}

    # Selected bins, and a filter expression on top of the index.
    q = client.query(NS, "py_q")
    q.select("id")
    q.where(p.between("n", 0, 99))
    records = q.results({"expressions": exp.Eq(exp.IntBin("even"), 0).compile()})
    assert ids(records) == set(range(0, 100, 2))
    assert all(set(bins) == {"id"} for (_, _, bins) in records)

    # Writes are reflected at once.
    client.put((NS, "py_q", 15), {"n": 1000})
    client.remove((NS, "py_q", 16))
    q = client.query(NS, "py_q")
    q.where(p.between("n", 10, 19))
    assert ids(q.results()) == set(range(10, 20)) - {15, 16}

    # Query pagination by partition: every match once.
    q = client.query(NS, "py_q")
    q.where(p.between("n", 100, 299))
    q.max_records = 30
    q.paginate()
    got = []
    while True:
        page = q.results()
        assert len(page) <= 30
        got += [bins["id"] for (_, _, bins) in page]
        if q.is_done():
            break
        assert len(got) <= 200, "query pagination does not end"
    assert sorted(got) == list(range(100, 300))

    # No index on the bin.
    q = client.query(NS, "py_q")
    q.where(p.equals("even", 1))
    with pytest.raises(ex.IndexNotFound):
        q.results()


def point(lng, lat):
    return aerospike.GeoJSON({"type": "Point", "coordinates": [lng, lat]})


def haversine_m(a, b):
    lon1, lat1, lon2, lat2 = map(math.radians, (a[0], a[1], b[0], b[1]))
    h = math.sin((lat2 - lat1) / 2) ** 2 + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    return 2 * 6371000.0 * math.asin(min(1.0, math.sqrt(h)))


def test_geo_queries(client):
    grid = {}
    for i in range(15):
        for j in range(10):
            pid = i * 10 + j
            grid[pid] = (-122.7 + i * 0.1, 37.2 + j * 0.1)
            client.put((NS, "py_geo", pid), {"id": pid, "loc": point(*grid[pid])})
    client.index_geo2dsphere_create(NS, "py_geo", "loc", "py_geo_loc")
    wait_index(client, "py_geo_loc")

    lng_lo, lng_hi, lat_lo, lat_hi = -122.45, -122.05, 37.45, 37.75
    region = aerospike.GeoJSON({
        "type": "Polygon",
        "coordinates": [[[lng_lo, lat_lo], [lng_hi, lat_lo], [lng_hi, lat_hi], [lng_lo, lat_hi], [lng_lo, lat_lo]]],
    })
    q = client.query(NS, "py_geo")
    q.where(p.geo_within_geojson_region("loc", region.dumps()))
    want = {k for k, (x, y) in grid.items() if lng_lo < x < lng_hi and lat_lo < y < lat_hi}
    assert len(want) == 4 * 3
    assert ids(q.results()) == want

    centre, radius = (-122.3, 37.6), 15000.0
    q = client.query(NS, "py_geo")
    q.where(p.geo_within_radius("loc", centre[0], centre[1], radius))
    want = {k for k, c in grid.items() if haversine_m(centre, c) <= radius}
    assert len(want) > 3
    assert ids(q.results()) == want

    # Regions containing a point.
    squares = {}
    for k in range(1, 5):
        h = 0.25 * k
        squares[1000 + k] = h
        client.put((NS, "py_geo", 1000 + k), {
            "id": 1000 + k,
            "loc": aerospike.GeoJSON({
                "type": "Polygon",
                "coordinates": [[[-h, -h], [h, -h], [h, h], [-h, h], [-h, -h]]],
            }),
        })
    q = client.query(NS, "py_geo")
    q.where(p.geo_contains_geojson_point("loc", point(0.6, 0.1).dumps()))
    assert ids(q.results()) == {k for k, h in squares.items() if 0.6 < h}


def wait_job(client, job_id, module, timeout_s=30.0):
    deadline = time.monotonic() + timeout_s
    while True:
        info = client.job_info(job_id, module)
        if info["status"] == aerospike.JOB_STATUS_COMPLETED:
            return info
        assert time.monotonic() < deadline, info
        time.sleep(0.05)


def test_execute_background(client):
    fill(client, "py_bg")
    client.index_integer_create(NS, "py_bg", "n", "py_bg_n")
    wait_index(client, "py_bg_n")

    # A background query: add 1000 to n for n in 0..=49.
    q = client.query(NS, "py_bg")
    q.where(p.between("n", 0, 49))
    q.add_ops([op.increment("n", 1000)])
    job = q.execute_background()
    info = wait_job(client, job, aerospike.JOB_QUERY)
    assert info["records_read"] == 50
    for i in range(N):
        _, _, bins = client.get((NS, "py_bg", i))
        assert bins["n"] == (i + 1000 if i < 50 else i)

    # A background scan with a filter expression: mark the odd records.
    s = client.scan(NS, "py_bg")
    s.add_ops([op.write("odd", True)])
    job = s.execute_background({"expressions": exp.Eq(exp.IntBin("even"), 1).compile()})
    wait_job(client, job, aerospike.JOB_SCAN)
    for i in range(N):
        _, _, bins = client.get((NS, "py_bg", i))
        assert bins.get("odd") == (True if i % 2 else None)

    # The job is listed by query-show with its counts.
    shown = client.info_random_node(f"query-show:trid={job}")
    assert "status=done" in shown and f"recs-succeeded={N // 2}:" in shown, shown
