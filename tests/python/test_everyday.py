"""The everyday flow of an application, through the official Python client
(`pip install aerospike`), against a real `aerie server` on a free port.

Each test uses its own keys, so they do not depend on each other's order, but
they share one server and one client (module fixtures in conftest.py).
"""

import time

import aerospike
import pytest
from aerospike import exception as ex
from aerospike_helpers.operations import operations

NS = "test"
SET = "demo"
# What the C client reports for a record that never expires (void-time 0).
TTL_NEVER = 0xFFFFFFFF


def key(name):
    return (NS, SET, name)


def test_put_get_every_bin_type(client):
    k = key("everyday-types")
    bins = {
        "i": 42,
        "neg": -7_000_000_000,
        "s": "hello aerie",
        "f": 2.5,
        "b": bytes([0, 1, 2, 255]),
        "l": [1, "two", 3.5, [4]],
        "m": {"a": 1, "b": "x", "c": [1, 2]},
        "t": True,
    }
    client.put(k, bins)

    (rkey, meta, got) = client.get(k)
    assert rkey[0] == NS and rkey[1] == SET
    assert meta["gen"] == 1
    assert meta["ttl"] == TTL_NEVER, "namespace default TTL 0 means never expire"
    assert set(got) == set(bins)
    assert got["i"] == 42 and got["neg"] == -7_000_000_000
    assert got["s"] == "hello aerie"
    assert got["f"] == 2.5 and isinstance(got["f"], float)
    assert got["b"] == bytes([0, 1, 2, 255])
    assert got["l"] == [1, "two", 3.5, [4]]
    assert got["m"] == {"a": 1, "b": "x", "c": [1, 2]}
    assert got["t"] is True, "a Python bool is stored as a boolean particle and read back as bool"


def test_select_exists_touch(client):
    k = key("everyday-select")
    client.put(k, {"a": 1, "b": "two", "c": 3.0})

    (_, meta, got) = client.select(k, ["a", "c", "absent"])
    assert got == {"a": 1, "c": 3.0}
    assert meta["gen"] == 1

    (_, meta) = client.exists(k)
    assert meta is not None and meta["gen"] == 1
    (_, meta) = client.exists(key("everyday-never-written"))
    assert meta is None

    client.touch(k)
    (_, meta) = client.exists(k)
    assert meta["gen"] == 2, "touch bumps the generation"

    client.touch(k, 100)
    (_, meta, _) = client.get(k)
    assert meta["gen"] == 3
    assert 97 <= meta["ttl"] <= 100, meta


def test_increment_append_prepend(client):
    k = key("everyday-incr")
    client.put(k, {"n": 10, "s": "mid", "f": 1.5})
    client.increment(k, "n", 5)
    client.increment(k, "n", -2)
    client.increment(k, "f", 0.25)
    client.increment(k, "fresh", 7)
    client.append(k, "s", "-end")
    client.prepend(k, "s", "start-")
    (_, meta, got) = client.get(k)
    assert got == {"n": 13, "s": "start-mid-end", "f": 1.75, "fresh": 7}
    assert meta["gen"] == 7

    with pytest.raises(ex.BinIncompatibleType):
        client.increment(k, "s", 1)
    with pytest.raises(ex.BinIncompatibleType):
        client.append(k, "n", "x")


def test_operate(client):
    k = key("everyday-operate")
    client.put(k, {"n": 1, "s": "a"})
    ops = [
        operations.write("w", "written"),
        operations.increment("n", 41),
        operations.append("s", "bc"),
        operations.read("n"),
        operations.read("s"),
        operations.touch(),
    ]
    (_, meta, got) = client.operate(k, ops, policy={"ttl": 60})
    assert got["n"] == 42
    assert got["s"] == "abc"
    assert meta["gen"] == 2
    (_, meta, got) = client.get(k)
    assert got == {"n": 42, "s": "abc", "w": "written"}
    assert 57 <= meta["ttl"] <= 60, meta


def test_batch_read_with_missing_keys(client):
    present = [key(f"everyday-batch-{i}") for i in range(5)]
    for i, k in enumerate(present):
        client.put(k, {"i": i, "sq": i * i})
    missing = [key("everyday-batch-missing-1"), key("everyday-batch-missing-2")]
    keys = [present[0], missing[0], present[1], present[2], missing[1], present[3], present[4]]

    result = client.batch_read(keys)
    rows = result.batch_records
    assert len(rows) == len(keys)
    for asked, row in zip(keys, rows):
        assert row.key[:3] == asked, "rows come back in request order"
        if asked in missing:
            assert row.result == 2, f"missing key: result {row.result}"
            assert row.record is None
        else:
            assert row.result == 0, f"present key: result {row.result}"
            (_, meta, got) = row.record
            i = present.index(asked)
            assert got == {"i": i, "sq": i * i}
            assert meta["gen"] == 1

    # Only some bins.
    result = client.batch_read(present[:2], ["sq"])
    assert [r.record[2] for r in result.batch_records] == [{"sq": 0}, {"sq": 1}]


def test_remove(client):
    k = key("everyday-remove")
    client.put(k, {"a": 1})
    client.remove(k)
    with pytest.raises(ex.RecordNotFound):
        client.get(k)
    (_, meta) = client.exists(k)
    assert meta is None
    with pytest.raises(ex.RecordNotFound):
        client.remove(k)


def test_truncate_set(client):
    doomed = [(NS, "truncme", f"t-{i}") for i in range(10)]
    for k in doomed:
        client.put(k, {"v": 1})
    survivor = (NS, "keepme", "s-1")
    client.put(survivor, {"v": 2})

    client.truncate(NS, "truncme", 0)

    for k in doomed:
        with pytest.raises(ex.RecordNotFound):
            client.get(k)
    (_, _, got) = client.get(survivor)
    assert got == {"v": 2}, "truncate of one set leaves other sets alone"

    # A write acknowledged after the truncate returned must survive it. Aerospike
    # truncates records whose last-update time is strictly before the cut-off, so
    # a write in the same millisecond as the truncate is kept. Repeated, because a
    # same-millisecond write happens only on some rounds.
    for round_no in range(20):
        client.truncate(NS, "truncme", 0)
        client.put(doomed[0], {"v": round_no})
        (_, meta, got) = client.get(doomed[0])
        assert got == {"v": round_no}, f"round {round_no}"
        assert meta["gen"] == 1, "a truncated record is gone: the next write creates it anew"


def test_info_all_namespaces(client):
    answers = client.info_all("namespaces")
    assert len(answers) == 1, answers
    ((node, (err, text)),) = answers.items()
    assert err is None, f"{node}: {err}"
    # The client strips the echoed command name; the value is `;`-separated names.
    value = text.rstrip("\n").rpartition("\t")[2]
    assert "test" in value.split(";"), text


def test_errors(client):
    with pytest.raises(ex.RecordNotFound):
        client.get(key("everyday-no-such-key"))

    k = key("everyday-create-only")
    create_only = {"exists": aerospike.POLICY_EXISTS_CREATE}
    client.put(k, {"v": 1}, policy=create_only)
    with pytest.raises(ex.RecordExistsError):
        client.put(k, {"v": 2}, policy=create_only)
    assert client.get(k)[2] == {"v": 1}

    gen_eq = {"gen": aerospike.POLICY_GEN_EQ}
    client.put(k, {"v": 3}, meta={"gen": 1}, policy=gen_eq)
    with pytest.raises(ex.RecordGenerationError):
        client.put(k, {"v": 4}, meta={"gen": 1}, policy=gen_eq)
    (_, meta, got) = client.get(k)
    assert got == {"v": 3} and meta["gen"] == 2


def test_ttl(client):
    never = key("everyday-ttl-never")
    client.put(never, {"v": 1}, policy={"ttl": aerospike.TTL_NEVER_EXPIRE})
    assert client.get(never)[1]["ttl"] == TTL_NEVER

    short = key("everyday-ttl-1")
    client.put(short, {"v": 1}, policy={"ttl": 1})
    assert client.get(short)[2] == {"v": 1}
    time.sleep(2.5)
    with pytest.raises(ex.RecordNotFound):
        client.get(short)
    assert client.get(never)[2] == {"v": 1}
