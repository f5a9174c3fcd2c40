"""Expressions through the official Python client (`aerospike_helpers.expressions`): filter
expressions on get/put/operate/remove/batch (FILTERED_OUT when false, NOT_FOUND for a missing
record, PARAMETER for a malformed one) and expression read/write operations with their flags.
Scans with a filter are covered once scans land (see scripts/client-suite.sh).

Every answer is checked. Each test uses its own keys.
"""

import aerospike
import pytest
from aerospike import exception as ex
from aerospike_helpers import expressions as exp
from aerospike_helpers.operations import expression_operations as eo
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
