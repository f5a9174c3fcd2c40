"""Expressions through the official Python client (`aerospike_helpers.expressions`): filter
expressions on get/put/operate/remove/batch (FILTERED_OUT when false, NOT_FOUND for a missing
record, PARAMETER for a malformed one) and expression read/write operations with their flags.
Also: filters on touch and scans, batch writes/operates with per-row and batch-wide filters,
list/map/bit/HLL read expressions as filters, and the write-op flags.

Every answer is checked. Each test uses its own keys.
"""

import aerospike
import pytest
from aerospike import exception as ex
from aerospike_helpers import expressions as exp
from aerospike_helpers.batch import records as br
from aerospike_helpers.operations import expression_operations as eo
from aerospike_helpers.operations import hll_operations as hll_ops
from aerospike_helpers.operations import operations as op

NS = "test"
SET = "exp"


def key(name):
    return (NS, SET, name)


def policy(expression):
    return {"expressions": expression.compile()}


def test_filter_on_get_put_operate_remove(client):
    k = key("filters")
    client.put(k, {"a": 10, "s": "x"})
    yes = exp.And(exp.Eq(exp.IntBin("a"), 10), exp.Eq(exp.StrBin("s"), "x"))
    no = exp.GT(exp.IntBin("a"), 10)

    _, _, bins = client.get(k, policy=policy(yes))
    assert bins == {"a": 10, "s": "x"}
    with pytest.raises(ex.FilteredOut):
        client.get(k, policy=policy(no))
    with pytest.raises(ex.FilteredOut):
        client.put(k, {"a": 11}, policy=policy(no))
    with pytest.raises(ex.FilteredOut):
        client.operate(k, [op.increment("a", 1)], policy=policy(no))
    with pytest.raises(ex.FilteredOut):
        client.remove(k, policy=policy(no))
    _, meta, bins = client.get(k)
    assert bins["a"] == 10 and meta["gen"] == 1

    client.operate(k, [op.increment("a", 1)], policy=policy(yes))
    _, _, bins = client.get(k)
    assert bins["a"] == 11
    with pytest.raises(ex.RecordNotFound):
        client.get(key("filters-missing"), policy=policy(yes))
    client.remove(k, policy=policy(exp.Eq(exp.IntBin("a"), 11)))
    with pytest.raises(ex.RecordNotFound):
        client.get(k)


def test_malformed_filter_is_parameter_error(client):
    k = key("bad")
    client.put(k, {"a": 1})
    bad = exp.Eq(exp.IntBin("a"), "not an int")
    # The server's PARAMETER (4) reaches Python as InvalidRequest.
    with pytest.raises(ex.InvalidRequest) as e:
        client.get(k, policy=policy(bad))
    assert e.value.code == 4


def test_batch_filter(client):
    keys = [key(f"batch-{i}") for i in range(5)]
    for i, k in enumerate(keys):
        client.put(k, {"n": i})
    res = client.batch_read(keys, policy=policy(exp.GE(exp.IntBin("n"), 3)))
    codes = [r.result for r in res.batch_records]
    assert codes == [27, 27, 27, 0, 0]
    assert [r.record[2] if r.record else None for r in res.batch_records][3:] == [{"n": 3}, {"n": 4}]


def test_metadata_regex_and_arithmetic(client):
    k = key("meta")
    client.put(k, {"s": "Hello", "i": 6, "f": 2.5})
    checks = [
        exp.GT(exp.SinceUpdateTime(), -1),
        exp.Eq(exp.SetName(), SET),
        exp.Not(exp.KeyExists()),
        exp.CmpRegex(aerospike.REGEX_ICASE, "^hel", exp.StrBin("s")),
        exp.Eq(exp.Add(exp.IntBin("i"), 4), 10),
        exp.Eq(exp.Mod(exp.IntBin("i"), 4), 2),
        exp.Eq(exp.ToInt(exp.Floor(exp.FloatBin("f"))), 2),
        exp.Eq(exp.IntAnd(exp.IntBin("i"), 3), 2),
        exp.Let(exp.Def("x", exp.IntBin("i")), exp.And(exp.GT(exp.Var("x"), 5), exp.LT(exp.Var("x"), 7))),
        exp.Eq(exp.Cond(exp.Eq(exp.IntBin("i"), 1), 1, exp.Eq(exp.IntBin("i"), 6), 2, 3), 2),
    ]
    for c in checks:
        _, _, bins = client.get(k, policy=policy(c))
        assert bins["i"] == 6


def test_expression_read_and_write_ops(client):
    k = key("ops")
    client.put(k, {"a": 25, "l": [1, 2, 3]})
    ops = [
        eo.expression_write("b", exp.Add(exp.IntBin("a"), 4).compile()),
        eo.expression_read("r", exp.IntBin("b").compile()),
        eo.expression_read("size", exp.ListSize(None, exp.ListBin("l")).compile()),
    ]
    _, _, bins = client.operate(k, ops)
    assert bins["r"] == 29 and bins["size"] == 3

    create_only = aerospike.EXP_WRITE_CREATE_ONLY
    with pytest.raises(ex.BinExistsError):
        client.operate(k, [eo.expression_write("b", exp.Val(1).compile(), create_only)])
    with pytest.raises(ex.OpNotApplicable):
        client.operate(k, [eo.expression_read("x", exp.IntBin("missing").compile())])
    _, _, bins = client.operate(
        k, [eo.expression_read("x", exp.IntBin("missing").compile(), aerospike.EXP_READ_EVAL_NO_FAIL)]
    )
    assert bins.get("x") is None
    client.operate(
        k, [eo.expression_write("b", exp.Val(None).compile(), aerospike.EXP_WRITE_ALLOW_DELETE)]
    )
    _, _, bins = client.get(k)
    assert "b" not in bins and bins["a"] == 25


def test_filter_on_touch_and_put_that_passes(client):
    k = key("touch")
    client.put(k, {"a": 1})
    with pytest.raises(ex.FilteredOut):
        client.touch(k, 100, policy=policy(exp.Eq(exp.IntBin("a"), 2)))
    client.touch(k, 100, policy=policy(exp.Eq(exp.IntBin("a"), 1)))
    _, meta, _ = client.get(k)
    assert meta["gen"] == 2 and 0 < meta["ttl"] <= 100
    client.put(k, {"a": 5}, policy=policy(exp.Eq(exp.IntBin("a"), 1)))
    _, meta, bins = client.get(k)
    assert bins == {"a": 5} and meta["gen"] == 3


def test_filter_on_scan(client):
    set_name = "exp-scan"
    for i in range(20):
        client.put((NS, set_name, i), {"n": i, "tag": "even" if i % 2 == 0 else "odd"})
    scan = client.scan(NS, set_name)
    flt = exp.And(exp.Eq(exp.StrBin("tag"), "even"), exp.GE(exp.IntBin("n"), 10))
    got = sorted(bins["n"] for _, _, bins in scan.results(policy=policy(flt)))
    assert got == [10, 12, 14, 16, 18]
    # A filter that no record passes returns nothing (the rows are filtered, not errors).
    assert scan.results(policy=policy(exp.LT(exp.IntBin("n"), 0))) == []


def test_batch_write_and_operate_with_filters(client):
    keys = [key(f"bw-{i}") for i in range(4)]
    for i, k in enumerate(keys):
        client.put(k, {"n": i})
    row_filter = {"expressions": exp.GE(exp.IntBin("n"), 2).compile()}
    records = br.BatchRecords(
        [
            br.Write(k, [op.write("w", 1)], policy=row_filter)
            for k in keys
        ]
    )
    client.batch_write(records)
    assert [r.result for r in records.batch_records] == [27, 27, 0, 0]
    written = [client.get(k)[2].get("w") for k in keys]
    assert written == [None, None, 1, 1]

    # A batch-wide filter on batch_operate: FILTERED_OUT rows, the others incremented.
    res = client.batch_operate(
        keys, [op.increment("n", 10)], policy_batch=policy(exp.LT(exp.IntBin("n"), 2))
    )
    assert [r.result for r in res.batch_records] == [0, 0, 27, 27]
    assert [client.get(k)[2]["n"] for k in keys] == [10, 11, 2, 3]


def test_collection_expressions_as_filters(client):
    k = key("cdt-filters")
    client.put(k, {"l": [1, 5, 9], "m": {"a": 1, "b": 2}, "b": bytearray([0xFF, 0x01])})
    client.operate(k, [hll_ops.hll_add("h", ["x", "y", "z"], 8)])
    passing = [
        exp.Eq(exp.ListGetByValue(None, aerospike.LIST_RETURN_INDEX, 5, exp.ListBin("l")), [1]),
        exp.Eq(exp.ListGetByRank(None, aerospike.LIST_RETURN_VALUE, exp.ResultType.INTEGER, -1, exp.ListBin("l")), 9),
        exp.Eq(exp.MapGetByKey(None, aerospike.MAP_RETURN_VALUE, exp.ResultType.INTEGER, "b", exp.MapBin("m")), 2),
        exp.Eq(exp.MapSize(None, exp.MapBin("m")), 2),
        exp.Eq(exp.BitCount(0, 16, exp.BlobBin("b")), 9),
        exp.Eq(exp.HLLGetCount(exp.HLLBin("h")), 3),
        exp.Eq(exp.ListSize(None, exp.ListAppend(None, None, 7, exp.ListBin("l"))), 4),
    ]
    for c in passing:
        _, _, bins = client.get(k, policy=policy(c))
        assert bins["l"] == [1, 5, 9]
    with pytest.raises(ex.FilteredOut):
        client.get(k, policy=policy(exp.Eq(exp.MapSize(None, exp.MapBin("m")), 3)))
    # The modify expression worked on a copy: the bin is unchanged.
    assert client.get(k)[2]["l"] == [1, 5, 9]


def test_expression_write_flags(client):
    k = key("write-flags")
    client.put(k, {"a": 1})
    update_only = aerospike.EXP_WRITE_UPDATE_ONLY
    with pytest.raises(ex.BinNotFound):
        client.operate(k, [eo.expression_write("new", exp.Val(1).compile(), update_only)])
    # POLICY_NO_FAIL turns the refusal into a no-op.
    client.operate(
        k,
        [eo.expression_write("new", exp.Val(1).compile(), update_only | aerospike.EXP_WRITE_POLICY_NO_FAIL)],
    )
    assert "new" not in client.get(k)[2]
    # An expression that cannot be evaluated fails the write, unless EVAL_NO_FAIL.
    with pytest.raises(ex.OpNotApplicable):
        client.operate(k, [eo.expression_write("c", exp.IntBin("missing").compile())])
    client.operate(
        k, [eo.expression_write("c", exp.IntBin("missing").compile(), aerospike.EXP_WRITE_EVAL_NO_FAIL)]
    )
    client.operate(k, [eo.expression_write("a", exp.Mul(exp.IntBin("a"), 7).compile(), update_only)])
    _, _, bins = client.get(k)
    assert bins == {"a": 7}
