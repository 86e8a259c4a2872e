"""Single-row operations through the official SDK: PutRow, GetRow,
UpdateRow (put / delete one version / delete all versions / increment),
DeleteRow, multi-version cells, timestamps and TTL, row existence
conditions, columns_to_get, auto-increment primary keys, concurrent
increments, value and primary-key validation errors.

Real-service wordings come from the public Tablestore error-code reference
and the official SDKs' functional tests (see support.py).

Values are compared by `repr` so that types are exact too: -0.0 vs 0.0,
bool vs int, bytearray (BINARY) vs bytes vs str.
"""

from concurrent.futures import ThreadPoolExecutor

import pytest
from tablestore import (
    PK_AUTO_INCR,
    Condition,
    ReturnType,
    Row,
    RowExistenceExpectation,
)

from support import ANY_MESSAGE, now_ms, service_error

EXIST = RowExistenceExpectation.EXPECT_EXIST
NOT_EXIST = RowExistenceExpectation.EXPECT_NOT_EXIST
IGNORE = RowExistenceExpectation.IGNORE
CONDITION_FAILED = ("OTSConditionCheckFail", 403, "Condition check failed.")

I64_MAX = 2**63 - 1
I64_MIN = -(2**63)

ALL_TYPES = [
    ("bin", bytearray(b"\x00\xff\x80 binary \x01")),
    ("bin_empty", bytearray()),
    ("bool_false", False),
    ("bool_true", True),
    ("d_big", 1e300),
    ("d_frac", 0.1),
    ("d_neg_zero", -0.0),
    ("d_subnormal", -5e-324),
    ("i_max", I64_MAX),
    ("i_min", I64_MIN),
    ("i_neg", -42),
    ("i_zero", 0),
    ("s_ascii", "plain"),
    ("s_empty", ""),
    ("s_unicode", "héllo wörld ✓ 日本語 😀 \u0000 end"),
]


def typed(columns):
    """(name, repr(value)) per attribute cell: exact value and type, no timestamp."""
    return [(c[0], repr(c[1])) for c in columns]


def stamps(columns):
    return [c[2] for c in columns]


def get(client, table, pk, **kwargs):
    """GetRow returning only the row (None if missing)."""
    return client.get_row(table, pk, **kwargs)[1]


def get_attrs(client, table, pk, **kwargs):
    row = get(client, table, pk, **kwargs)
    return None if row is None else typed(row.attribute_columns)


# ----------------------------------------------------------------------------
# PutRow / GetRow


def test_put_and_get_every_attribute_type(client, new_table):
    table = new_table([("s", "STRING"), ("i", "INTEGER"), ("b", "BINARY")])
    pk = [("s", "ключ 🔑"), ("i", -7), ("b", bytearray(b"\x00\x01\xfe"))]
    before = now_ms()

    consumed, returned = client.put_row(table, Row(pk, ALL_TYPES))
    after = now_ms()

    assert (consumed.read, consumed.write, returned) == (0, 1, None)
    consumed, row, next_token = client.get_row(table, pk)
    assert (consumed.read, consumed.write, next_token) == (1, 0, b"")
    assert typed(row.primary_key) == typed(pk)
    # Attribute columns come back in column-name order.
    assert typed(row.attribute_columns) == typed(sorted(ALL_TYPES))
    ts = stamps(row.attribute_columns)
    assert len(set(ts)) == 1 and before <= ts[0] <= after


def test_put_with_explicit_timestamps(client, new_table):
    table = new_table()
    t1, t2 = now_ms() - 60_000, now_ms() - 1_000
    client.put_row(table, Row([("pk", "a")], [("x", 1, t1), ("y", "two", t2)]))

    row = get(client, table, [("pk", "a")])

    assert row.attribute_columns == [("x", 1, t1), ("y", "two", t2)]


def test_put_replaces_the_whole_row(client, new_table):
    table = new_table()
    pk = [("pk", "a")]
    client.put_row(table, Row(pk, [("a", 1), ("b", 2)]))

    client.put_row(table, Row(pk, [("c", 3)]))

    assert get_attrs(client, table, pk) == [("c", "3")]


def test_put_with_only_a_primary_key_creates_an_empty_row(client, new_table):
    table = new_table()
    client.put_row(table, Row([("pk", "empty")], []))

    row = get(client, table, [("pk", "empty")])

    assert (row.primary_key, row.attribute_columns) == ([("pk", "empty")], [])


def test_put_returns_primary_key_with_rt_pk(client, new_table):
    table = new_table([("pk0", "STRING"), ("pk1", "INTEGER")])
    pk = [("pk0", "a"), ("pk1", 1)]

    _, returned = client.put_row(table, Row(pk, [("c", 1)]), return_type=ReturnType.RT_PK)

    assert (returned.primary_key, returned.attribute_columns) == (pk, [])


def test_get_missing_row_returns_none(client, new_table):
    table = new_table()
    consumed, row, next_token = client.get_row(table, [("pk", "nobody")])
    assert (row, next_token, consumed.read, consumed.write) == (None, b"", 1, 0)


def test_columns_to_get_returns_only_those_columns(client, new_table):
    table = new_table()
    pk = [("pk", "a")]
    client.put_row(table, Row(pk, [("a", 1), ("b", 2), ("c", 3), ("d", 4)]))

    row = get(client, table, pk, columns_to_get=["d", "b", "not_there"])

    assert row.primary_key == pk
    assert typed(row.attribute_columns) == [("b", "2"), ("d", "4")]


def test_columns_to_get_of_only_missing_columns_returns_no_row(client, new_table):
    table = new_table()
    client.put_row(table, Row([("pk", "a")], [("a", 1)]))
    assert get(client, table, [("pk", "a")], columns_to_get=["not_there"]) is None


# ----------------------------------------------------------------------------
# UpdateRow


def test_update_puts_and_deletes_all_versions(client, new_table):
    table = new_table()
    pk = [("pk", "a")]
    client.put_row(table, Row(pk, [("a", 1), ("b", 2), ("c", 3)]))

    consumed, returned = client.update_row(
        table, Row(pk, {"put": [("a", "new"), ("z", 2.5)], "delete_all": ["b"]}), None)

    assert (consumed.read, consumed.write, returned) == (0, 1, None)
    assert get_attrs(client, table, pk) == [("a", "'new'"), ("c", "3"), ("z", "2.5")]


def test_update_of_missing_row_creates_it(client, new_table):
    table = new_table()
    client.update_row(table, Row([("pk", "new")], {"put": [("a", True)]}), Condition(IGNORE))
    assert get_attrs(client, table, [("pk", "new")]) == [("a", "True")]


def test_update_deleting_every_column_removes_the_row(client, new_table):
    table = new_table()
    pk = [("pk", "a")]
    client.put_row(table, Row(pk, [("a", 1)]))

    client.update_row(table, Row(pk, {"delete_all": ["a"]}), None)

    assert get(client, table, pk) is None


def test_update_deleting_columns_of_a_missing_row_leaves_it_missing(client, new_table):
    table = new_table()
    client.update_row(table, Row([("pk", "a")], {"delete_all": ["x", "y"]}), None)
    assert get(client, table, [("pk", "a")]) is None


def test_update_without_columns_is_rejected(client, new_table):
    table = new_table()
    with service_error("OTSParameterInvalid", 400, "Invalid update row request: missing cells in request."):
        client.update_row(table, Row([("pk", "a")], {"put": []}), None)


def test_update_deletes_one_version(client, new_table):
    table = new_table(max_version=3)
    pk = [("pk", "a")]
    t1, t2 = now_ms() - 2_000, now_ms() - 1_000
    client.put_row(table, Row(pk, [("c", "old", t1)]))
    client.update_row(table, Row(pk, {"put": [("c", "new", t2)]}), None)

    client.update_row(table, Row(pk, {"delete": [("c", None, t1)]}), None)

    assert get(client, table, pk, max_version=3).attribute_columns == [("c", "new", t2)]


def test_update_increments_integer_columns(client, new_table):
    table = new_table()
    pk = [("pk", "counter")]

    client.update_row(table, Row(pk, {"increment": [("n", 5)]}), None)
    assert get_attrs(client, table, pk) == [("n", "5")]

    client.update_row(table, Row(pk, {"increment": [("n", -7)], "put": [("m", 10)]}), None)
    assert get_attrs(client, table, pk) == [("m", "10"), ("n", "-2")]

    client.update_row(table, Row(pk, {"increment": [("m", I64_MAX - 10)]}), None)
    assert get_attrs(client, table, pk) == [("m", repr(I64_MAX)), ("n", "-2")]


@pytest.mark.parametrize("value,type_name", [("text", "STRING"), (1.5, "DOUBLE"),
                                             (True, "BOOLEAN"), (bytearray(b"x"), "BINARY")])
def test_increment_of_non_integer_column_is_rejected(client, new_table, value, type_name):
    table = new_table()
    pk = [("pk", "a")]
    client.put_row(table, Row(pk, [("c", value)]))

    message = f"Increment on column 'c' of type {type_name} is not allowed; it must be INTEGER."
    with service_error("OTSParameterInvalid", 400, message):
        client.update_row(table, Row(pk, {"increment": [("c", 1)]}), None)

    assert get_attrs(client, table, pk) == [("c", repr(value))]


def test_concurrent_increments_are_atomic(client, new_table):
    table = new_table()
    pk = [("pk", "counter")]
    increments = 400

    def bump(_):
        client.update_row(table, Row(pk, {"increment": [("n", 1)]}), None)

    with ThreadPoolExecutor(max_workers=16) as pool:
        list(pool.map(bump, range(increments)))

    assert get_attrs(client, table, pk) == [("n", str(increments))]


# ----------------------------------------------------------------------------
# Versions


def test_max_versions_three_keeps_the_three_newest_newest_first(client, new_table):
    table = new_table(max_version=3)
    pk = [("pk", "a")]
    base = now_ms() - 10_000
    t = [base + i * 1000 for i in range(5)]
    client.put_row(table, Row(pk, [("c", "v0", t[0]), ("d", 0, t[0])]))
    for i in (3, 1, 4, 2):  # out of order on purpose
        client.update_row(table, Row(pk, {"put": [("c", f"v{i}", t[i])]}), None)
    client.update_row(table, Row(pk, {"put": [("d", 1, t[1])]}), None)

    assert get(client, table, pk, max_version=3).attribute_columns == [
        ("c", "v4", t[4]), ("c", "v3", t[3]), ("c", "v2", t[2]),
        ("d", 1, t[1]), ("d", 0, t[0]),
    ]
    # Only three versions are retained, however many are asked for.
    assert [c[1] for c in get(client, table, pk, max_version=100).attribute_columns] == [
        "v4", "v3", "v2", 1, 0]
    # The default (max_version=1) is the newest version of each column.
    assert get(client, table, pk).attribute_columns == [("c", "v4", t[4]), ("d", 1, t[1])]


def test_time_range_selects_versions(client, new_table):
    table = new_table(max_version=5)
    pk = [("pk", "a")]
    t = [now_ms() - 10_000 + i * 1000 for i in range(4)]
    for i, ts in enumerate(t):
        client.update_row(table, Row(pk, {"put": [("c", i, ts)]}), None)

    row = get(client, table, pk, max_version=None, time_range=(t[1], t[3]))
    assert row.attribute_columns == [("c", 2, t[2]), ("c", 1, t[1])]

    row = get(client, table, pk, max_version=None, time_range=t[1])  # one specific version
    assert row.attribute_columns == [("c", 1, t[1])]

    assert get(client, table, pk, max_version=None, time_range=(t[3] + 1, t[3] + 5)) is None


def test_rewriting_a_version_replaces_its_value(client, new_table):
    table = new_table(max_version=3)
    pk = [("pk", "a")]
    ts = now_ms() - 5_000
    client.update_row(table, Row(pk, {"put": [("c", "first", ts)]}), None)
    client.update_row(table, Row(pk, {"put": [("c", "second", ts)]}), None)

    assert get(client, table, pk, max_version=3).attribute_columns == [("c", "second", ts)]


def put_at(client, table, ts):
    client.put_row(table, Row([("pk", "a")], [("c", 1, ts)]))


@pytest.mark.parametrize("deviation_s,offset_s", [(86400, -86401), (86400, 86401), (3600, -3601)])
def test_explicit_timestamp_outside_max_time_deviation_is_rejected(client, new_table, deviation_s, offset_s):
    table = new_table(max_time_deviation=deviation_s)
    with service_error("OTSParameterInvalid", 400, ANY_MESSAGE):
        put_at(client, table, now_ms() + offset_s * 1000)
    assert get(client, table, [("pk", "a")]) is None


def test_explicit_timestamp_outside_max_time_deviation_message(client, new_table):
    table = new_table()
    with service_error("OTSParameterInvalid", 400, "Invalid timestamp. Cell:c."):
        put_at(client, table, now_ms() - 86_401_000)


def test_explicit_timestamp_within_max_time_deviation_is_accepted(client, new_table):
    table = new_table(max_time_deviation=3600)
    past, future = now_ms() - 3_590_000, now_ms() + 3_590_000
    client.put_row(table, Row([("pk", "a")], [("p", 1, past), ("f", 2, future)]))
    assert get(client, table, [("pk", "a")]).attribute_columns == [("f", 2, future), ("p", 1, past)]


def test_version_older_than_time_to_live_is_rejected(client, new_table):
    table = new_table(time_to_live=86400, max_time_deviation=2 * 86400)
    with service_error("OTSParameterInvalid", 400, "Invalid timestamp. Cell:c."):
        put_at(client, table, now_ms() - 86_460_000)  # one day and a minute ago
    assert get(client, table, [("pk", "a")]) is None


@pytest.mark.parametrize("value,message", [
    (float("nan"), "NaN can't be set to double value."),
    (float("inf"), "Infinity can't be set to double value."),
    (float("-inf"), "Infinity can't be set to double value."),
], ids=["nan", "inf", "-inf"])
def test_nan_and_infinity_are_rejected(client, new_table, value, message):
    table = new_table()
    with service_error("OTSParameterInvalid", 400, message):
        client.put_row(table, Row([("pk", "a")], [("d", value)]))
    assert get(client, table, [("pk", "a")]) is None


def put_column_named_like_the_pk(client, table):
    client.put_row(table, Row([("pk", "a")], [("pk", 1)]))


def test_attribute_named_like_a_primary_key_column_is_rejected(client, new_table):
    table = new_table()
    with service_error("OTSParameterInvalid", 400, ANY_MESSAGE):
        put_column_named_like_the_pk(client, table)
    assert get(client, table, [("pk", "a")]) is None


def test_attribute_named_like_a_primary_key_column_message(client, new_table):
    message = "Duplicated attribute column name with primary key column: pk."
    with service_error("OTSParameterInvalid", 400, message):
        put_column_named_like_the_pk(client, new_table())


# ----------------------------------------------------------------------------
# DeleteRow


def test_delete_row(client, new_table):
    table = new_table()
    pk = [("pk", "a")]
    client.put_row(table, Row(pk, [("c", 1)]))

    consumed, returned = client.delete_row(table, Row(pk), None)

    assert (consumed.read, consumed.write, returned) == (0, 1, None)
    assert get(client, table, pk) is None
    # Deleting a missing row without a condition succeeds.
    client.delete_row(table, Row(pk), None)


# ----------------------------------------------------------------------------
# Row existence conditions


def _put(client, table, pk, expectation):
    client.put_row(table, Row(pk, [("c", "new")]), Condition(expectation))


def _update(client, table, pk, expectation):
    client.update_row(table, Row(pk, {"put": [("c", "new")]}), Condition(expectation))


def _delete(client, table, pk, expectation):
    client.delete_row(table, Row(pk), Condition(expectation))


WRITES = {"put": _put, "update": _update, "delete": _delete}
AFTER_WRITE = {"put": [("c", "'new'")], "update": [("c", "'new'")], "delete": None}


@pytest.mark.parametrize("op,expectation,exists,succeeds", [
    ("put", EXIST, True, True),
    ("put", EXIST, False, False),
    ("put", NOT_EXIST, False, True),
    ("put", NOT_EXIST, True, False),
    ("put", IGNORE, True, True),
    ("put", IGNORE, False, True),
    ("update", EXIST, True, True),
    ("update", EXIST, False, False),
    ("update", IGNORE, False, True),
    ("delete", EXIST, True, True),
    ("delete", EXIST, False, False),
    ("delete", IGNORE, True, True),
    ("delete", IGNORE, False, True),
])
def test_row_existence_condition(client, new_table, op, expectation, exists, succeeds):
    table = new_table()
    pk = [("pk", "a")]
    if exists:
        client.put_row(table, Row(pk, [("c", "old")]))
    before = get_attrs(client, table, pk)

    if succeeds:
        WRITES[op](client, table, pk, expectation)
        assert get_attrs(client, table, pk) == AFTER_WRITE[op]
    else:
        with service_error(*CONDITION_FAILED):
            WRITES[op](client, table, pk, expectation)
        assert get_attrs(client, table, pk) == before


def test_update_with_expect_not_exist_is_invalid(client, new_table):
    # The service rejects it (the Python SDK's functional tests assert this message).
    table = new_table()
    message = "Invalid condition: EXPECT_NOT_EXIST while updating row."
    with service_error("OTSParameterInvalid", 400, message):
        _update(client, table, [("pk", "a")], NOT_EXIST)
    assert get_attrs(client, table, [("pk", "a")]) is None


def test_delete_with_expect_not_exist_is_invalid(client, new_table):
    table = new_table()
    message = "Invalid condition: EXPECT_NOT_EXIST while deleting row."
    with service_error("OTSParameterInvalid", 400, message):
        _delete(client, table, [("pk", "a")], NOT_EXIST)


# ----------------------------------------------------------------------------
# Auto-increment primary keys


def test_auto_increment_primary_key(client, new_table):
    table = new_table([("part", "STRING"), ("id", "INTEGER", PK_AUTO_INCR)])
    assert client.describe_table(table).table_meta.schema_of_primary_key == [
        ("part", "STRING"), ("id", "INTEGER", PK_AUTO_INCR)]

    ids = []
    for value in ("first", "second"):
        _, returned = client.put_row(table, Row([("part", "p"), ("id", PK_AUTO_INCR)], [("v", value)]),
                                     return_type=ReturnType.RT_PK)
        (part, generated) = returned.primary_key
        assert part == ("part", "p") and generated[0] == "id" and type(generated[1]) is int
        ids.append(generated[1])

    assert ids[0] < ids[1]
    for value, generated in zip(("first", "second"), ids):
        assert get_attrs(client, table, [("part", "p"), ("id", generated)]) == [("v", repr(value))]


# ----------------------------------------------------------------------------
# Primary key validation


def _get(client, table, pk):
    client.get_row(table, pk)


PK_OPS = {"put": lambda c, t, pk: _put(c, t, pk, IGNORE),
          "update": lambda c, t, pk: _update(c, t, pk, IGNORE),
          "delete": lambda c, t, pk: _delete(c, t, pk, IGNORE),
          "get": _get}


@pytest.mark.parametrize("op", sorted(PK_OPS))
@pytest.mark.parametrize("pk,message", [
    ([("pk0", "a")], "Validate PK size fail. Input: 1, Meta: 2."),
    ([("pk0", "a"), ("pk1", 1), ("pk2", 2)], "Validate PK size fail. Input: 3, Meta: 2."),
    ([("pk0", "a"), ("other", 1)], "Validate PK name fail. Input: other, Meta: pk1."),
    ([("pk1", 1), ("pk0", "a")], "Validate PK name fail. Input: pk1, Meta: pk0."),
    ([("pk0", "a"), ("pk1", "1")], "Validate PK type fail. Input: VT_STRING, Meta: VT_INTEGER."),
    ([("pk0", 1), ("pk1", 1)], "Validate PK type fail. Input: VT_INTEGER, Meta: VT_STRING."),
    ([("pk0", bytearray(b"a")), ("pk1", 1)], "Validate PK type fail. Input: VT_BLOB, Meta: VT_STRING."),
], ids=["too-few", "too-many", "wrong-name", "wrong-order", "str-for-int", "int-for-str", "blob-for-str"])
def test_primary_key_mismatch(client, new_table, op, pk, message):
    table = new_table([("pk0", "STRING"), ("pk1", "INTEGER")])
    with service_error("OTSInvalidPK", 400, message):
        PK_OPS[op](client, table, pk)


def test_operations_on_missing_table(client):
    for op in PK_OPS.values():
        with service_error("OTSObjectNotExist", 404, "Requested table does not exist."):
            op(client, "no_such_table_here", [("pk", "a")])
