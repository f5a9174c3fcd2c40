"""Collection data types through the official Python client (`aerospike_helpers.operations`):
list, map, bitwise and HyperLogLog operations, nested contexts, and the result codes of bad
input, against a real `aerie server` (the module fixtures in conftest.py start it).

Every answer is checked. Each test uses its own keys.
"""

import aerospike
import pytest
from aerospike import exception as ex
from aerospike_helpers import cdt_ctx
from aerospike_helpers.operations import bitwise_operations as bo
from aerospike_helpers.operations import hll_operations as ho
from aerospike_helpers.operations import list_operations as lo
from aerospike_helpers.operations import map_operations as mo
from aerospike_helpers.operations import operations as op

NS = "test"
SET = "cdt"


def key(name):
    return (NS, SET, name)


def one(client, k, operation):
    """Runs one op and returns its single bin's value."""
    _, _, bins = client.operate(k, [operation])
    assert len(bins) <= 1
    return next(iter(bins.values()), None)


# ---------------------------------------------------------------------------
# Lists


def test_list_build_and_read(client):
    k = key("list-basic")
    assert one(client, k, lo.list_append("l", 1)) == 1
    assert one(client, k, lo.list_append_items("l", [2, 3, 4])) == 4
    assert one(client, k, lo.list_insert("l", 0, 0)) == 5
    assert one(client, k, lo.list_insert_items("l", 2, ["a", "b"])) == 7
    assert client.get(k)[2]["l"] == [0, 1, "a", "b", 2, 3, 4]
    assert one(client, k, lo.list_size("l")) == 7
    assert one(client, k, lo.list_get("l", -1)) == 4
    assert one(client, k, lo.list_get_range("l", 1, 3)) == [1, "a", "b"]
    assert one(client, k, lo.list_pop("l", 2)) == "a"
    assert one(client, k, lo.list_pop_range("l", 2, 2)) == ["b", 2]
    assert one(client, k, lo.list_remove("l", 0)) == 1
    assert one(client, k, lo.list_remove_range("l", 0, 1)) == 1
    assert client.get(k)[2]["l"] == [3, 4]
    client.operate(k, [lo.list_set("l", 4, 9)])
    assert client.get(k)[2]["l"] == [3, 4, None, None, 9], "set past the end pads with nil"
    assert one(client, k, lo.list_increment("l", 1, 10)) == 14
    assert one(client, k, lo.list_trim("l", 0, 2)) == 3
    assert client.get(k)[2]["l"] == [3, 14]
    client.operate(k, [lo.list_clear("l")])
    assert client.get(k)[2]["l"] == []


def test_list_by_value_rank_and_return_types(client):
    k = key("list-select")
    client.put(k, {"l": ["0", 9, 8, 7, 1, 2.1, -1]})
    assert one(client, k, lo.list_get_by_rank("l", 2, aerospike.LIST_RETURN_VALUE)) == 7
    # Rank ranges come back in the server's heap order.
    assert one(client, k, lo.list_get_by_rank_range("l", 2, aerospike.LIST_RETURN_VALUE, 2)) == [8, 7]
    assert one(client, k, lo.list_get_by_rank_range("l", 4, aerospike.LIST_RETURN_VALUE)) == [9, "0", 2.1]
    assert one(client, k, lo.list_get_by_value_range("l", aerospike.LIST_RETURN_COUNT, 1, 9)) == 3
    assert one(client, k, lo.list_get_by_value_range("l", aerospike.LIST_RETURN_INDEX, 1, 9)) == [2, 3, 4]
    assert one(client, k, lo.list_get_by_value_range("l", aerospike.LIST_RETURN_RANK, 1, 9)) == [1, 2, 3]
    assert one(client, k, lo.list_get_by_value("l", 8, aerospike.LIST_RETURN_INDEX)) == [2]
    assert one(client, k, lo.list_get_by_value("l", 8, aerospike.LIST_RETURN_EXISTS)) is True
    assert one(client, k, lo.list_get_by_value_list("l", [1, "0"], aerospike.LIST_RETURN_COUNT)) == 2
    assert one(client, k, lo.list_get_by_index_range("l", 3, aerospike.LIST_RETURN_VALUE)) == [7, 1, 2.1, -1]
    assert one(client, k, lo.list_get_by_index_range("l", 1, aerospike.LIST_RETURN_VALUE, 5, True)) == ["0", -1]
    assert (
        one(client, k, lo.list_get_by_value_rank_range_relative("l", 1, 2, aerospike.LIST_RETURN_VALUE, 2))
        == [8, 9]
    )
    assert one(client, k, lo.list_remove_by_value_range("l", aerospike.LIST_RETURN_VALUE, 7, 9)) == [8, 7]
    assert one(client, k, lo.list_remove_by_index("l", 0, aerospike.LIST_RETURN_VALUE)) == "0"
    assert client.get(k)[2]["l"] == [9, 1, 2.1, -1]
    client.operate(k, [lo.list_sort("l", aerospike.LIST_SORT_DEFAULT)])
    assert client.get(k)[2]["l"] == [-1, 1, 9, 2.1], "ints sort before doubles"


def test_list_ordered_and_write_flags(client):
    k = key("list-ordered")
    client.operate(k, [lo.list_set_order("l", aerospike.LIST_ORDERED)])
    for v in (5, 1, 3, 1):
        client.operate(k, [lo.list_append("l", v)])
    assert client.get(k)[2]["l"] == [1, 1, 3, 5]
    unique = {"write_flags": aerospike.LIST_WRITE_ADD_UNIQUE}
    with pytest.raises(ex.ElementExistsError):
        client.operate(k, [lo.list_append("l", 3, unique)])
    no_fail = {"write_flags": aerospike.LIST_WRITE_ADD_UNIQUE | aerospike.LIST_WRITE_NO_FAIL
               | aerospike.LIST_WRITE_PARTIAL}
    assert one(client, k, lo.list_append_items("l", [3, 7, 7], no_fail)) == 5
    assert client.get(k)[2]["l"] == [1, 1, 3, 5, 7]
    with pytest.raises(ex.OpNotApplicable):
        client.operate(k, [lo.list_insert("l", 0, 9)])
    bounded = {"write_flags": aerospike.LIST_WRITE_INSERT_BOUNDED}
    k2 = key("list-bounded")
    client.put(k2, {"l": [1]})
    with pytest.raises(ex.OpNotApplicable):
        client.operate(k2, [lo.list_insert("l", 5, 2, bounded)])
    assert client.get(k2)[2]["l"] == [1], "a failed op leaves the bin unchanged"


def test_list_errors(client):
    k = key("list-errors")
    client.put(k, {"l": [1, 2], "s": "str"})
    with pytest.raises(ex.OpNotApplicable):
        client.operate(k, [lo.list_get("l", 5)])
    with pytest.raises(ex.BinIncompatibleType):
        client.operate(k, [lo.list_append("s", 1)])
    with pytest.raises(ex.BinIncompatibleType):
        client.operate(k, [lo.list_size("s")])
    with pytest.raises(ex.InvalidRequest):
        client.operate(k, [lo.list_increment("l", 0, "x")])
    assert client.get(k)[2] == {"l": [1, 2], "s": "str"}


# ---------------------------------------------------------------------------
# Maps


def test_map_put_get_remove(client):
    k = key("map-basic")
    assert one(client, k, mo.map_put("m", "b", 2)) == 1
    assert one(client, k, mo.map_put_items("m", {"a": 1, "c": 3, "d": 4})) == 4
    assert one(client, k, mo.map_increment("m", "a", 10)) == 11
    assert one(client, k, mo.map_decrement("m", "b", 1)) == 1
    assert one(client, k, mo.map_size("m")) == 4
    assert one(client, k, mo.map_get_by_key("m", "c", aerospike.MAP_RETURN_VALUE)) == 3
    assert one(client, k, mo.map_get_by_key("m", "zz", aerospike.MAP_RETURN_VALUE)) is None
    assert one(client, k, mo.map_get_by_index("m", 0, aerospike.MAP_RETURN_KEY)) == "a"
    # Key-value results carry the "preserve order" map flag; the C client flattens them.
    assert one(client, k, mo.map_get_by_index("m", -1, aerospike.MAP_RETURN_KEY_VALUE)) == ["d", 4]
    assert one(client, k, mo.map_get_by_rank("m", 0, aerospike.MAP_RETURN_KEY)) == "b"
    assert one(client, k, mo.map_get_by_rank_range("m", 1, 2, aerospike.MAP_RETURN_VALUE)) == [3, 4]
    assert one(client, k, mo.map_get_by_key_range("m", "b", "d", aerospike.MAP_RETURN_KEY)) == ["b", "c"]
    assert one(client, k, mo.map_get_by_value_range("m", 2, 5, aerospike.MAP_RETURN_COUNT)) == 2
    assert one(client, k, mo.map_get_by_key_list("m", ["a", "d", "x"], aerospike.MAP_RETURN_VALUE)) == [11, 4]
    assert one(client, k, mo.map_get_by_value_list("m", [1, 3], aerospike.MAP_RETURN_KEY)) == ["b", "c"]
    assert (
        one(client, k, mo.map_get_by_key_index_range_relative("m", "b", 1, aerospike.MAP_RETURN_KEY, 2))
        == ["c", "d"]
    )
    assert (
        one(client, k, mo.map_get_by_value_rank_range_relative("m", 3, -1, aerospike.MAP_RETURN_KEY, 2))
        == ["b", "c"]
    )
    assert one(client, k, mo.map_remove_by_key("m", "a", aerospike.MAP_RETURN_VALUE)) == 11
    assert one(client, k, mo.map_remove_by_value_range("m", 3, 100, aerospike.MAP_RETURN_KEY)) == ["c", "d"]
    assert client.get(k)[2]["m"] == {"b": 1}
    client.operate(k, [mo.map_clear("m")])
    assert client.get(k)[2]["m"] == {}


def test_map_orders_and_flags(client):
    k = key("map-order")
    client.put(k, {"m": {"z": 1, "m": 2, "a": 3}})
    # Whole maps are stored key-sorted, so index 0 is the smallest key.
    assert one(client, k, mo.map_get_by_index("m", 0, aerospike.MAP_RETURN_KEY)) == "a"
    client.operate(k, [mo.map_set_policy("m", {"map_order": aerospike.MAP_KEY_ORDERED})])
    assert one(client, k, mo.map_get_by_index_range("m", 0, 3, aerospike.MAP_RETURN_KEY)) == ["a", "m", "z"]
    create_only = {"map_write_flags": aerospike.MAP_WRITE_FLAGS_CREATE_ONLY}
    with pytest.raises(ex.ElementExistsError):
        client.operate(k, [mo.map_put("m", "a", 9, create_only)])
    update_only = {"map_write_flags": aerospike.MAP_WRITE_FLAGS_UPDATE_ONLY}
    with pytest.raises(ex.ElementNotFoundError):
        client.operate(k, [mo.map_put("m", "new", 9, update_only)])
    quiet = {"map_write_flags": aerospike.MAP_WRITE_FLAGS_UPDATE_ONLY | aerospike.MAP_WRITE_FLAGS_NO_FAIL}
    assert one(client, k, mo.map_put("m", "new", 9, quiet)) == 3
    assert client.get(k)[2]["m"] == {"a": 3, "m": 2, "z": 1}


def test_map_errors(client):
    k = key("map-errors")
    client.put(k, {"m": {"a": 1}, "l": [1]})
    with pytest.raises(ex.BinIncompatibleType):
        client.operate(k, [mo.map_put("l", "a", 1)])
    with pytest.raises(ex.InvalidRequest):
        client.operate(k, [mo.map_put("m", 1.5, 1)])
    with pytest.raises(ex.OpNotApplicable):
        client.operate(k, [mo.map_get_by_index("m", 3, aerospike.MAP_RETURN_KEY)])
    assert client.get(k)[2] == {"m": {"a": 1}, "l": [1]}


# ---------------------------------------------------------------------------
# Nested contexts


def test_nested_contexts(client):
    k = key("nested")
    client.put(k, {"doc": {"users": [{"name": "ann", "tags": ["x"]}, {"name": "bob", "tags": []}]}})
    users = cdt_ctx.cdt_ctx_map_key("users")
    second = cdt_ctx.cdt_ctx_list_index(1)
    assert one(client, k, mo.map_get_by_key("doc", "name", aerospike.MAP_RETURN_VALUE, ctx=[users, second])) == "bob"
    tags = cdt_ctx.cdt_ctx_map_key("tags")
    assert one(client, k, lo.list_append("doc", "y", ctx=[users, second, tags])) == 1
    assert one(client, k, lo.list_size("doc", ctx=[users, cdt_ctx.cdt_ctx_list_index(0), tags])) == 1
    got = client.get(k)[2]["doc"]
    assert got["users"][1]["tags"] == ["y"]
    # Create missing levels on the way down.
    new = cdt_ctx.cdt_ctx_map_key_create("stats", aerospike.MAP_KEY_ORDERED)
    assert one(client, k, mo.map_increment("doc", "visits", 1, ctx=[new])) == 1
    assert one(client, k, mo.map_increment("doc", "visits", 1, ctx=[new])) == 2
    # A missing context without create is not applicable and changes nothing.
    with pytest.raises(ex.OpNotApplicable):
        client.operate(k, [mo.map_put("doc", "a", 1, ctx=[cdt_ctx.cdt_ctx_map_key("nope")])])
    # Context type on the wrong container.
    with pytest.raises(ex.OpNotApplicable):
        client.operate(k, [lo.list_size("doc", ctx=[cdt_ctx.cdt_ctx_list_index(0)])])
    # The op's own type must match the element it lands on.
    with pytest.raises(ex.BinIncompatibleType):
        client.operate(k, [lo.list_size("doc", ctx=[users, second])])
    assert client.get(k)[2]["doc"]["stats"] == {"visits": 2}


def test_nested_list_index_create_on_empty_bin(client):
    k = key("nested-create")
    client.put(k, {"other": 1})
    ctx = [cdt_ctx.cdt_ctx_list_index_create(0, aerospike.LIST_UNORDERED, False)]
    assert one(client, k, lo.list_append("l", "v", ctx=ctx)) == 1
    assert client.get(k)[2]["l"] == [["v"]]


# ---------------------------------------------------------------------------
# Bitwise


# The helpers warn on every call that their value_byte_size argument will go away.
@pytest.mark.filterwarnings("ignore:value_byte_size is deprecated:DeprecationWarning")
def test_bitwise_ops(client):
    k = key("bits")
    blob = bytearray([0b00000001, 0b01000010, 0b00000011, 0b00000100, 0b00000101])
    client.operate(k, [bo.bit_insert("b", 0, len(blob), blob)])
    assert one(client, k, bo.bit_get("b", 9, 5)) == bytearray([0b10000000])
    assert one(client, k, bo.bit_count("b", 20, 4)) == 2
    client.operate(k, [bo.bit_set("b", 13, 3, 1, bytearray([0b11100000]))])
    assert one(client, k, bo.bit_get("b", 8, 8)) == bytearray([0b01000111])
    client.operate(k, [bo.bit_not("b", 0, 8)])
    assert one(client, k, bo.bit_get("b", 0, 8)) == bytearray([0b11111110])
    client.operate(k, [bo.bit_lshift("b", 24, 8, 3)])
    assert one(client, k, bo.bit_get("b", 24, 8)) == bytearray([0b00100000])
    client.operate(k, [bo.bit_set_int("b", 8, 8, 255)])
    assert one(client, k, bo.bit_get_int("b", 8, 8, False)) == 255
    assert one(client, k, bo.bit_get_int("b", 8, 8, True)) == -1
    with pytest.raises(ex.OpNotApplicable):
        client.operate(k, [bo.bit_add("b", 8, 8, 1, False, aerospike.BIT_OVERFLOW_FAIL)])
    client.operate(k, [bo.bit_add("b", 8, 8, 1, False, aerospike.BIT_OVERFLOW_WRAP)])
    assert one(client, k, bo.bit_get_int("b", 8, 8, False)) == 0
    assert one(client, k, bo.bit_lscan("b", 0, 8, True)) == 0
    assert one(client, k, bo.bit_rscan("b", 0, 8, False)) == 7
    client.operate(k, [bo.bit_resize("b", 2)])
    assert client.get(k)[2]["b"] == bytearray([0b11111110, 0])
    with pytest.raises(ex.OpNotApplicable):
        client.operate(k, [bo.bit_get("b", 64, 8)])
    client.put(k, {"s": "text"})
    with pytest.raises(ex.BinIncompatibleType):
        client.operate(k, [bo.bit_get("s", 0, 8)])


# ---------------------------------------------------------------------------
# HyperLogLog


def test_hll_ops(client):
    k = key("hll")
    client.operate(k, [ho.hll_init("h", 10)])
    items = [f"item-{i}" for i in range(2000)]
    assert one(client, k, ho.hll_add("h", items[:1000])) > 0
    count = one(client, k, ho.hll_get_count("h"))
    assert abs(count - 1000) / 1000 < 0.13, count
    assert one(client, k, ho.hll_describe("h")) == [10, 0]
    client.operate(k, [ho.hll_add("h2", items[500:], 10)])
    other = client.get(k)[2]["h2"]
    union = one(client, k, ho.hll_get_union_count("h", [other]))
    assert abs(union - 2000) / 2000 < 0.13, union
    inter = one(client, k, ho.hll_get_intersect_count("h", [other]))
    assert abs(inter - 500) < 250, inter
    sim = one(client, k, ho.hll_get_similarity("h", [other]))
    assert 0.1 < sim < 0.4, sim
    assert one(client, k, ho.hll_refresh_count("h")) == count
    client.operate(k, [ho.hll_fold("h", 8)])
    assert one(client, k, ho.hll_describe("h")) == [8, 0]
    client.operate(k, [ho.hll_init("mh", 8, 8)])
    assert one(client, k, ho.hll_describe("mh")) == [8, 8]
    with pytest.raises(ex.OpNotApplicable):
        client.operate(k, [ho.hll_fold("mh", 6)])
    with pytest.raises(ex.BinNotFound):
        client.operate(k, [ho.hll_refresh_count("missing")])
    client.put(k, {"i": 1})
    with pytest.raises(ex.BinIncompatibleType):
        client.operate(k, [ho.hll_add("i", ["x"])])


# ---------------------------------------------------------------------------
# GeoJSON


def test_geojson_validated_on_write(client):
    k = key("geo")
    point = aerospike.GeoJSON({"type": "Point", "coordinates": [-122.0, 37.5]})
    client.put(k, {"g": point})
    assert client.get(k)[2]["g"].unwrap() == {"type": "Point", "coordinates": [-122.0, 37.5]}
    bad = aerospike.geojson('{"type": "Point", "coordinates": [500, 0]}')
    with pytest.raises(ex.AerospikeError) as err:
        client.put(k, {"g": bad})
    assert err.value.code == 160


def test_cdt_results_align_with_other_ops(client):
    k = key("aligned")
    ops = [
        lo.list_append("l", 1),
        op.write("w", 5),
        lo.list_append("l", 2),
        op.read("l"),
    ]
    _, _, bins = client.operate_ordered(k, ops)
    # Without RESPOND_ALL_OPS a plain write yields no result slot; CDT modifies do.
    assert bins == [("l", 1), ("l", 2), ("l", [1, 2])]


def test_every_context_type_three_levels_deep(client):
    k = key("ctx-every")
    doc = {
        "lists": [[5, 1, 9], [30, 20], [7]],
        "maps": {"x": {"v": 3, "w": [1, 2]}, "y": {"v": 1, "w": [3]}},
    }
    client.put(k, {"doc": doc})
    lists = cdt_ctx.cdt_ctx_map_key("lists")
    maps = cdt_ctx.cdt_ctx_map_key("maps")
    # list rank: the smallest sub-list by value order is [5, 1, 9] (5 < 7 < 30).
    smallest = cdt_ctx.cdt_ctx_list_rank(0)
    assert one(client, k, lo.list_get_by_rank("doc", 0, aerospike.LIST_RETURN_VALUE, ctx=[lists, smallest])) == 1
    # list value: the sub-list equal to [7]
    seven = cdt_ctx.cdt_ctx_list_value([7])
    assert one(client, k, lo.list_append("doc", 8, ctx=[lists, seven])) == 2
    # list index from the end
    last = cdt_ctx.cdt_ctx_list_index(-1)
    assert one(client, k, lo.list_get("doc", 1, ctx=[lists, last])) == 8
    # map index (key order: x, y), map rank (by value), map value
    first = cdt_ctx.cdt_ctx_map_index(0)
    by_rank = cdt_ctx.cdt_ctx_map_rank(0)  # {"v": 1, ...} (y) sorts before {"v": 3, ...}
    by_value = cdt_ctx.cdt_ctx_map_value({"v": 3, "w": [1, 2]})
    w = cdt_ctx.cdt_ctx_map_key("w")
    assert one(client, k, mo.map_get_by_key("doc", "v", aerospike.MAP_RETURN_VALUE, ctx=[maps, first])) == 3
    assert one(client, k, lo.list_size("doc", ctx=[maps, by_rank, w])) == 1
    assert one(client, k, lo.list_append("doc", 99, ctx=[maps, by_value, w])) == 3
    _, _, bins = client.get(k)
    assert bins["doc"]["maps"]["x"]["w"] == [1, 2, 99]
    assert bins["doc"]["lists"] == [[5, 1, 9], [30, 20], [7, 8]]
    # create contexts (the flags describe the container indexed, "lists" here, which exists): a
    # new element at the end of "lists", then one at a padded index, then a new map key.
    at_end = cdt_ctx.cdt_ctx_list_index_create(3, aerospike.LIST_UNORDERED, False)
    assert one(client, k, lo.list_append_items("doc", [3, 1, 2], ctx=[lists, at_end])) == 3
    assert one(client, k, lo.list_get_range("doc", 0, 3, ctx=[lists, at_end])) == [3, 1, 2]
    padded = cdt_ctx.cdt_ctx_list_index_create(5, aerospike.LIST_UNORDERED, True)
    assert one(client, k, lo.list_append("doc", "p", ctx=[lists, padded])) == 1
    made = cdt_ctx.cdt_ctx_map_key_create("z", aerospike.MAP_KEY_ORDERED)
    assert one(client, k, mo.map_put("doc", "k", 1, ctx=[maps, made])) == 1
    _, _, bins = client.get(k)
    assert bins["doc"]["lists"][3:] == [[3, 1, 2], None, ["p"]]
    assert bins["doc"]["maps"]["z"] == {"k": 1}
    # A context that does not resolve: element not found; the bin is unchanged.
    with pytest.raises(ex.OpNotApplicable):
        client.operate(k, [lo.list_append("doc", 1, ctx=[lists, cdt_ctx.cdt_ctx_list_value([42])])])
    assert client.get(k)[2] == bins
