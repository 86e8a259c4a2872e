"""BatchGetRow, filters, column conditions and consumed capacity through the
official Python SDK.

* BatchGetRow: several tables, per-row results (a missing row is an OK empty
  row, a missing table or a bad key fails only its rows), request limits.
* Filters on GetRow, GetRange and BatchGetRow: single-column comparisons,
  AND / OR / NOT, pass_if_missing, latest_version_only; start/end column.
  (The Python SDK has no column pagination filter; the Node suite tests it.)
* Column conditions on PutRow, UpdateRow, DeleteRow and inside BatchWriteRow.
* Capacity units as the service bills them: data size in 4 KB units,
  rounded up (figures from the SDK's own functional tests).
"""

import pytest
from tablestore import (
    INF_MAX,
    INF_MIN,
    BatchGetRowRequest,
    BatchWriteRowRequest,
    ColumnConditionType,
    ComparatorType,
    CompositeColumnCondition,
    Condition,
    Direction,
    LogicalOperator,
    PutRowItem,
    Row,
    RowExistenceExpectation,
    SingleColumnCondition,
    TableInBatchGetRowItem,
    TableInBatchWriteRowItem,
    UpdateRowItem,
    DeleteRowItem,
)

from support import now_ms, service_error

IGNORE = RowExistenceExpectation.IGNORE
EXIST = RowExistenceExpectation.EXPECT_EXIST
CONDITION_FAILED = ("OTSConditionCheckFail", 403, "Condition check failed.")
EQ, NE, GT, GE, LT, LE = (ComparatorType.EQUAL, ComparatorType.NOT_EQUAL, ComparatorType.GREATER_THAN,
                          ComparatorType.GREATER_EQUAL, ComparatorType.LESS_THAN, ComparatorType.LESS_EQUAL)


def single(column, value, comparator=EQ, pass_if_missing=True, latest_version_only=True):
    return SingleColumnCondition(column, value, comparator, pass_if_missing, latest_version_only)


def composite(op, *subs):
    c = CompositeColumnCondition(op)
    for s in subs:
        c.add_sub_condition(s)
    return c


def attrs(row):
    return None if row is None else [(c[0], c[1]) for c in row.attribute_columns]


@pytest.fixture
def people(client, new_table):
    """pk 'a'..'d' with name/age/city; 'd' has no city."""
    table = new_table()
    data = {"a": ("ann", 30, "paris"), "b": ("bob", 40, "rome"), "c": ("cid", 50, "paris"), "d": ("dan", 60, None)}
    for pk, (name, age, city) in data.items():
        cols = [("age", age), ("name", name)] + ([("city", city)] if city else [])
        client.put_row(table, Row([("pk", pk)], cols))
    return table


def range_keys(client, table, column_filter=None, **kw):
    _, next_pk, rows, _ = client.get_range(table, Direction.FORWARD, [("pk", INF_MIN)], [("pk", INF_MAX)],
                                          column_filter=column_filter, **kw)
    assert next_pk is None
    return [r.primary_key[0][1] for r in rows]


# ----------------------------------------------------------------------------
# Filters


@pytest.mark.parametrize("comparator,value,expected", [
    (EQ, 40, ["b"]), (NE, 40, ["a", "c", "d"]), (GT, 40, ["c", "d"]), (GE, 40, ["b", "c", "d"]),
    (LT, 40, ["a"]), (LE, 40, ["a", "b"]),
])
def test_single_column_filter_on_get_range(client, people, comparator, value, expected):
    assert range_keys(client, people, single("age", value, comparator)) == expected


def test_pass_if_missing_decides_rows_without_the_column(client, people):
    assert range_keys(client, people, single("city", "paris", EQ, pass_if_missing=True)) == ["a", "c", "d"]
    assert range_keys(client, people, single("city", "paris", EQ, pass_if_missing=False)) == ["a", "c"]
    assert range_keys(client, people, single("city", "rome", NE, pass_if_missing=False)) == ["a", "c"]


def test_composite_and_or_not(client, people):
    paris = single("city", "paris", EQ, pass_if_missing=False)
    old = single("age", 45, GT)
    assert range_keys(client, people, composite(LogicalOperator.AND, paris, old)) == ["c"]
    assert range_keys(client, people, composite(LogicalOperator.OR, paris, old)) == ["a", "c", "d"]
    assert range_keys(client, people, composite(LogicalOperator.NOT, paris)) == ["b", "d"]
    nested = composite(LogicalOperator.AND, composite(LogicalOperator.NOT, paris), old)
    assert range_keys(client, people, nested) == ["d"]


def test_filter_types_compare_bytewise_and_never_across_types(client, new_table):
    table = new_table()
    client.put_row(table, Row([("pk", "x")], [("s", "b"), ("n", 7), ("d", 2.5), ("t", True), ("bin", bytearray(b"\x02"))]))
    assert range_keys(client, table, single("s", "a", GT)) == ["x"]
    assert range_keys(client, table, single("d", 2.5, GE)) == ["x"]
    assert range_keys(client, table, single("t", True, EQ)) == ["x"]
    assert range_keys(client, table, single("bin", bytearray(b"\x01"), GT)) == ["x"]
    # A STRING constant against an INTEGER column: not equal, not greater.
    assert range_keys(client, table, single("n", "7", EQ)) == []
    assert range_keys(client, table, single("n", "7", NE)) == ["x"]


def test_latest_version_only(client, new_table):
    table = new_table(max_version=5)
    t = now_ms() - 10_000
    client.update_row(table, Row([("pk", "v")], {"put": [("c", 1, t), ("c", 2, t + 1)]}), Condition(IGNORE))
    # The newest version is 2; an older one is 1.
    assert range_keys(client, table, single("c", 1, EQ, latest_version_only=True), max_version=5) == []
    assert range_keys(client, table, single("c", 1, EQ, latest_version_only=False), max_version=5) == ["v"]


def test_filter_on_get_row_returns_no_row_when_it_fails(client, people):
    _, row, _ = client.get_row(people, [("pk", "b")], column_filter=single("age", 40, EQ))
    assert attrs(row) == [("age", 40), ("city", "rome"), ("name", "bob")]
    _, row, _ = client.get_row(people, [("pk", "b")], column_filter=single("age", 41, EQ))
    assert row is None


def test_start_and_end_column_select_a_column_range(client, people):
    _, row, _ = client.get_row(people, [("pk", "a")], start_column="b", end_column="name")
    assert attrs(row) == [("city", "paris")]
    _, row, _ = client.get_row(people, [("pk", "a")], start_column="city")
    assert attrs(row) == [("city", "paris"), ("name", "ann")]


def test_a_filter_value_of_unknown_type_is_invalid(emulator, people):
    from tablestore.protobuf import table_store_filter_pb2 as f
    from support import raw_call
    bad = f.Filter(type=f.FT_SINGLE_COLUMN_VALUE, filter=f.SingleColumnValueFilter(
        comparator=f.CT_EQUAL, column_name="age", column_value=b"\x42", filter_if_missing=False,
        latest_version_only=True).SerializeToString())
    from tablestore.plainbuffer.plain_buffer_builder import PlainBufferBuilder
    from tablestore.protobuf import table_store_pb2 as pb
    req = pb.GetRowRequest(table_name=people, primary_key=bytes(PlainBufferBuilder.serialize_primary_key([("pk", "a")])),
                           max_versions=1, filter=bad.SerializeToString())
    resp = raw_call(emulator.endpoint, "GetRow", req.SerializeToString())
    assert resp.status == 400
    assert resp.error() == ("OTSParameterInvalid",
                            "Invalid value of the filter on 'age': PlainBuffer byte 0: unknown value type 0x42.")


# ----------------------------------------------------------------------------
# Column conditions


def test_column_condition_on_put_update_delete(client, people):
    with service_error(*CONDITION_FAILED):
        client.put_row(people, Row([("pk", "a")], [("age", 1)]), Condition(IGNORE, single("age", 99)))
    client.put_row(people, Row([("pk", "a")], [("age", 31)]), Condition(EXIST, single("age", 30)))
    assert attrs(client.get_row(people, [("pk", "a")])[1]) == [("age", 31)]

    with service_error(*CONDITION_FAILED):
        client.update_row(people, Row([("pk", "b")], {"put": [("age", 41)]}), Condition(IGNORE, single("name", "nobody")))
    client.update_row(people, Row([("pk", "b")], {"put": [("age", 41)]}),
                      Condition(IGNORE, composite(LogicalOperator.AND, single("name", "bob"), single("age", 40))))
    assert attrs(client.get_row(people, [("pk", "b")])[1]) == [("age", 41), ("city", "rome"), ("name", "bob")]

    with service_error(*CONDITION_FAILED):
        client.delete_row(people, Row([("pk", "c")]), Condition(IGNORE, single("city", "rome")))
    client.delete_row(people, Row([("pk", "c")]), Condition(IGNORE, single("city", "paris")))
    assert client.get_row(people, [("pk", "c")])[1] is None
    # A condition on a missing column follows pass_if_missing.
    client.update_row(people, Row([("pk", "d")], {"put": [("x", 1)]}), Condition(IGNORE, single("city", "x", pass_if_missing=True)))
    with service_error(*CONDITION_FAILED):
        client.update_row(people, Row([("pk", "d")], {"put": [("x", 2)]}), Condition(IGNORE, single("city", "x", pass_if_missing=False)))


def test_column_conditions_inside_batch_write_row(client, people):
    request = BatchWriteRowRequest()
    request.add(TableInBatchWriteRowItem(people, [
        UpdateRowItem(Row([("pk", "a")], {"put": [("age", 1)]}), Condition(IGNORE, single("age", 30))),
        UpdateRowItem(Row([("pk", "b")], {"put": [("age", 1)]}), Condition(IGNORE, single("age", 30))),
        PutRowItem(Row([("pk", "c")], [("age", 1)]), Condition(IGNORE, single("city", "paris"))),
        DeleteRowItem(Row([("pk", "d")]), Condition(IGNORE, single("name", "dan", NE))),
    ]))
    response = client.batch_write_row(request)
    outcome = lambda items: [(r.is_ok, r.error_code or None) for r in items]
    assert outcome(response.get_update_by_table(people)) == [(True, None), (False, "OTSConditionCheckFail")]
    assert outcome(response.get_put_by_table(people)) == [(True, None)]
    assert outcome(response.get_delete_by_table(people)) == [(False, "OTSConditionCheckFail")]
    assert attrs(client.get_row(people, [("pk", "a")])[1])[0] == ("age", 1)
    assert attrs(client.get_row(people, [("pk", "b")])[1])[0] == ("age", 40)
    assert attrs(client.get_row(people, [("pk", "c")])[1]) == [("age", 1)]
    assert client.get_row(people, [("pk", "d")])[1] is not None


# ----------------------------------------------------------------------------
# BatchGetRow


def batch_get(client, *items):
    req = BatchGetRowRequest()
    for item in items:
        req.add(item)
    return client.batch_get_row(req)


def test_batch_get_row_across_tables_with_missing_rows_and_tables(client, people, new_table):
    other = new_table((("k", "INTEGER"),))
    client.put_row(other, Row([("k", 1)], [("v", "one")]))
    missing = "no_such_table_bgr"
    response = batch_get(
        client,
        TableInBatchGetRowItem(people, [[("pk", "a")], [("pk", "zz")], [("pk", "c")]], max_version=1),
        TableInBatchGetRowItem(other, [[("k", 1)], [("k", "wrong-type")]], max_version=1),
        TableInBatchGetRowItem(missing, [[("pk", "a")]], max_version=1),
    )
    assert not response.is_all_succeed()
    rows = response.get_result_by_table(people)
    assert [(r.is_ok, attrs(r.row)) for r in rows] == [
        (True, [("age", 30), ("city", "paris"), ("name", "ann")]), (True, None),
        (True, [("age", 50), ("city", "paris"), ("name", "cid")])]
    assert [(r.consumed.read, r.consumed.write) for r in rows] == [(1, 0), (1, 0), (1, 0)]
    rows = response.get_result_by_table(other)
    assert (rows[0].is_ok, attrs(rows[0].row)) == (True, [("v", "one")])
    assert (rows[1].is_ok, rows[1].error_code, rows[1].error_message) == (
        False, "OTSInvalidPK", "Validate PK type fail. Input: VT_STRING, Meta: VT_INTEGER.")
    rows = response.get_result_by_table(missing)
    assert [(r.is_ok, r.error_code, r.error_message) for r in rows] == [
        (False, "OTSObjectNotExist", "Requested table does not exist.")]


def test_batch_get_row_with_filter_columns_and_column_range(client, people):
    response = batch_get(client, TableInBatchGetRowItem(
        people, [[("pk", k)] for k in "abcd"], max_version=1, columns_to_get=["age", "city"],
        column_filter=single("age", 45, GT)))
    assert [attrs(r.row) for r in response.get_result_by_table(people)] == [
        None, None, [("age", 50), ("city", "paris")], [("age", 60)]]
    response = batch_get(client, TableInBatchGetRowItem(
        people, [[("pk", "b")]], max_version=1, start_column="c", end_column="z"))
    assert attrs(response.get_result_by_table(people)[0].row) == [("city", "rome"), ("name", "bob")]


def test_batch_get_row_limits(client, people):
    with service_error("OTSParameterInvalid", 400,
                       "The total number of rows in BatchGetRow exceeds the limit. Limit:100, Current:101."):
        batch_get(client, TableInBatchGetRowItem(people, [[("pk", str(i))] for i in range(101)], max_version=1))
    rows = batch_get(client, TableInBatchGetRowItem(people, [[("pk", str(i))] for i in range(100)], max_version=1))
    assert len(rows.get_result_by_table(people)) == 100


# ----------------------------------------------------------------------------
# Consumed capacity


def test_capacity_units_follow_data_size(client, new_table):
    """The SDK's functional test figures: PK '0'*20, two 2 KB columns."""
    table = new_table((("PK1", "STRING"),))
    pk = [("PK1", "0" * 20)]
    cols = [("C0", "V" * 2048), ("C1", "B" * 2048)]
    consumed, _ = client.put_row(table, Row(pk, cols))
    assert (consumed.read, consumed.write) == (0, 2)
    consumed, _ = client.update_row(table, Row(pk, {"put": cols}), Condition(EXIST))
    assert (consumed.read, consumed.write) == (1, 2)
    consumed, _, _ = client.get_row(table, pk)
    assert (consumed.read, consumed.write) == (2, 0)
    consumed, _ = client.update_row(table, Row(pk, {"put": [("C2", "V" * 2048), ("C3", "B" * 2048)]}), Condition(IGNORE))
    assert (consumed.read, consumed.write) == (0, 2)
    consumed, _, _ = client.get_row(table, pk)
    assert (consumed.read, consumed.write) == (3, 0)
    consumed, _ = client.update_row(table, Row(pk, {"delete_all": ["C0", "C1"]}), Condition(EXIST))
    assert (consumed.read, consumed.write) == (1, 1)
    consumed, _ = client.delete_row(table, Row(pk), Condition(IGNORE))
    assert (consumed.read, consumed.write) == (0, 1)
    consumed, _, _ = client.get_row(table, pk)
    assert (consumed.read, consumed.write) == (1, 0)


def test_get_range_capacity_is_the_page_size_in_4_kb_units(client, new_table):
    table = new_table((("PK1", "STRING"),))
    for width, cu in ((400, 1), (800, 2)):
        for i in range(9):
            client.put_row(table, Row([("PK1", str(i))], [("C", "V" * width)]))
        consumed, _, rows, _ = client.get_range(table, Direction.FORWARD, [("PK1", INF_MIN)], [("PK1", INF_MAX)])
        assert (len(rows), consumed.read, consumed.write) == (9, cu, 0)
