"""BatchWriteRow (mixed puts/updates/deletes, per-row errors next to
successful rows, request-level limits) and GetRange (forward/backward over
INF_MIN..INF_MAX across several 5000-row pages, small limits, bounds,
primary-key ordering of INTEGER, STRING and BINARY columns).

Expected real-service messages not listed in the brief come from the
official SDKs' functional tests that run against the real service
(aliyun-tablestore-python-sdk tests/row_op_test.py,
aliyun-tablestore-java-sdk functiontest).
"""

from concurrent.futures import ThreadPoolExecutor

import pytest
from tablestore import (
    INF_MAX,
    INF_MIN,
    PK_AUTO_INCR,
    BatchWriteRowRequest,
    CapacityUnit,
    Condition,
    DeleteRowItem,
    Direction,
    PutRowItem,
    ReturnType,
    Row,
    RowExistenceExpectation,
    TableInBatchWriteRowItem,
    UpdateRowItem,
)

from support import ANY_MESSAGE, create_table, service_error, unique_name

EXIST = RowExistenceExpectation.EXPECT_EXIST
NOT_EXIST = RowExistenceExpectation.EXPECT_NOT_EXIST
IGNORE = RowExistenceExpectation.IGNORE

BIG_ROWS = 5200  # more than one 5000-row GetRange page
BATCH = 200


def put_item(pk, columns, expectation=IGNORE):
    return PutRowItem(Row(pk, columns), Condition(expectation))


def batch_write(client, tables):
    """tables: {table_name: [row items]} -> BatchWriteRowResponse."""
    request = BatchWriteRowRequest()
    for name, items in tables.items():
        request.add(TableInBatchWriteRowItem(name, items))
    return client.batch_write_row(request)


def put_rows(client, table, rows):
    """Writes (pk, columns) pairs with BatchWriteRow in 200-row batches."""
    for start in range(0, len(rows), BATCH):
        chunk = rows[start:start + BATCH]
        response = batch_write(client, {table: [put_item(pk, cols) for pk, cols in chunk]})
        assert response.is_all_succeed()


def outcomes(items):
    """(index, is_ok, error_code, error_message) per batch response item."""
    return [(i.index, i.is_ok, i.error_code, i.error_message) for i in items]


def get(client, table, pk):
    return client.get_row(table, pk)[1]


def values(client, table, pk):
    row = get(client, table, pk)
    return None if row is None else [(c[0], c[1]) for c in row.attribute_columns]


def scan(client, table, direction, start, end, limit=None):
    """Follows next_start_primary_key to the end; returns (pages, rows)."""
    pages, rows = [], []
    while start is not None:
        _, start, page, next_token = client.get_range(table, direction, start, end, limit=limit)
        assert next_token == b""
        pages.append(len(page))
        rows.extend(page)
    return pages, rows


def pk_values(rows):
    """The first primary-key column's value of each row."""
    return [r.primary_key[0][1] for r in rows]


# ----------------------------------------------------------------------------
# BatchWriteRow


def test_batch_write_mixed_operations_with_per_row_errors(client, new_table):
    table = new_table()
    missing_table = unique_name("missing")
    for key in ("upd", "del", "dup"):
        client.put_row(table, Row([("pk", key)], [("c", "old")]))

    update_upd = UpdateRowItem(Row([("pk", "upd")], {"put": [("c", "updated")], "increment": [("n", 3)]}),
                               Condition(EXIST))
    response = batch_write(client, {
        table: [
            put_item([("pk", "new")], [("c", "fresh")]),                                    # 0 ok
            update_upd,                                                                     # 1 ok
            DeleteRowItem(Row([("pk", "del")]), Condition(IGNORE)),                         # 2 ok
            put_item([("pk", "dup")], [("c", "clobbered")], NOT_EXIST),                     # 3 exists
            put_item([("wrong", "x")], [("c", 1)]),                                         # 4 PK name
            UpdateRowItem(Row([("pk", "absent")], {"put": [("c", 1)]}), Condition(EXIST)),  # 5 missing
            DeleteRowItem(Row([("pk", "absent")]), Condition(EXIST)),                       # 6 missing
            put_item([("pk", 7)], [("c", 1)]),                                              # 7 PK type
        ],
        missing_table: [put_item([("pk", "x")], [("c", 1)])],
    })

    assert not response.is_all_succeed()
    condition_failed = ("OTSConditionCheckFail", "Condition check failed.")
    assert outcomes(response.get_put_by_table(table)) == [
        (0, True, None, None),
        (3, False, *condition_failed),
        (4, False, "OTSInvalidPK", "Validate PK name fail. Input: wrong, Meta: pk."),
        (7, False, "OTSInvalidPK", "Validate PK type fail. Input: VT_INTEGER, Meta: VT_STRING."),
    ]
    assert outcomes(response.get_update_by_table(table)) == [(1, True, None, None),
                                                             (5, False, *condition_failed)]
    assert outcomes(response.get_delete_by_table(table)) == [(2, True, None, None),
                                                             (6, False, *condition_failed)]
    assert outcomes(response.get_put_by_table(missing_table)) == [
        (0, False, "OTSObjectNotExist", "Requested table does not exist.")]
    # Capacity by size (all rows < 4 KB): one write CU each; the EXPECT_EXIST
    # update also reads the row (one read CU).
    cus = lambda items: [(i.consumed.read, i.consumed.write) for i in items]
    assert cus(response.get_succeed_of_put()) == [(0, 1)]
    assert cus(response.get_succeed_of_update()) == [(1, 1)]

    assert values(client, table, [("pk", "new")]) == [("c", "fresh")]
    assert values(client, table, [("pk", "upd")]) == [("c", "updated"), ("n", 3)]
    assert values(client, table, [("pk", "del")]) is None
    assert values(client, table, [("pk", "dup")]) == [("c", "old")]
    assert values(client, table, [("pk", "absent")]) is None


def test_batch_write_across_tables(client, new_table):
    tables = [new_table(), new_table([("id", "INTEGER")])]
    response = batch_write(client, {
        tables[0]: [put_item([("pk", "a")], [("v", 1)])],
        tables[1]: [put_item([("id", 1)], [("v", 2)]), put_item([("id", 2)], [("v", 3)])],
    })

    assert response.is_all_succeed()
    assert values(client, tables[0], [("pk", "a")]) == [("v", 1)]
    assert [values(client, tables[1], [("id", i)]) for i in (1, 2)] == [[("v", 2)], [("v", 3)]]


def test_batch_write_returns_generated_primary_keys(client, new_table):
    table = new_table([("part", "STRING"), ("id", "INTEGER", PK_AUTO_INCR)])
    items = [PutRowItem(Row([("part", "p"), ("id", PK_AUTO_INCR)], [("v", i)]), Condition(IGNORE),
                        return_type=ReturnType.RT_PK) for i in range(3)]

    response = batch_write(client, {table: items})

    generated = [item.row.primary_key for item in response.get_put_by_table(table)]
    ids = [pk[1][1] for pk in generated]
    assert [pk[0] for pk in generated] == [("part", "p")] * 3 and ids == sorted(set(ids))
    assert [values(client, table, pk) for pk in generated] == [[("v", i)] for i in range(3)]


def test_batch_write_may_touch_one_row_twice(client, new_table):
    table = new_table()
    response = batch_write(client, {table: [
        put_item([("pk", "a")], [("c", 1)]),
        UpdateRowItem(Row([("pk", "a")], {"put": [("d", 2)]}), Condition(IGNORE)),
    ]})
    assert response.is_all_succeed()
    assert values(client, table, [("pk", "a")]) == [("c", 1), ("d", 2)]


def test_concurrent_batch_writers(client, new_table):
    table = new_table([("id", "INTEGER")])

    def write(worker):
        put_rows(client, table, [([("id", worker * 1000 + i)], [("w", worker)]) for i in range(300)])

    with ThreadPoolExecutor(max_workers=6) as pool:
        list(pool.map(write, range(6)))

    _, rows = scan(client, table, Direction.FORWARD, [("id", INF_MIN)], [("id", INF_MAX)])
    assert pk_values(rows) == [w * 1000 + i for w in range(6) for i in range(300)]


def test_batch_write_of_200_rows_is_accepted_and_201_rejected(client, new_table):
    table = new_table([("id", "INTEGER")])
    items = [put_item([("id", i)], [("v", i)]) for i in range(201)]

    assert batch_write(client, {table: items[:200]}).is_all_succeed()
    message = "The total number of rows in BatchWriteRow exceeds the limit. Limit:200, Current:201."
    with service_error("OTSParameterInvalid", 400, message):
        batch_write(client, {table: items})
    assert get(client, table, [("id", 200)]) is None


def test_batch_write_rows_split_over_tables_count_towards_the_limit(client, new_table):
    tables = [new_table([("id", "INTEGER")]) for _ in range(2)]
    message = "The total number of rows in BatchWriteRow exceeds the limit. Limit:200, Current:201."
    with service_error("OTSParameterInvalid", 400, message):
        batch_write(client, {tables[0]: [put_item([("id", i)], [("v", i)]) for i in range(100)],
                             tables[1]: [put_item([("id", i)], [("v", i)]) for i in range(101)]})


def test_batch_write_without_tables(client):
    with service_error("OTSParameterInvalid", 400, "No row is specified in BatchWriteRow."):
        batch_write(client, {})


def test_batch_write_table_without_rows(client, new_table):
    with service_error("OTSParameterInvalid", 400, ANY_MESSAGE):
        batch_write(client, {new_table(): []})


def test_batch_write_table_without_rows_message(client, new_table):
    table = new_table()
    with service_error("OTSParameterInvalid", 400, f"No operation is specified for table: '{table}'."):
        batch_write(client, {table: []})


# ----------------------------------------------------------------------------
# GetRange over more than one page


@pytest.fixture(scope="module")
def big_table(client):
    """A table with BIG_ROWS rows: pk=i, attributes v=i and s='row-i'."""
    name = unique_name("big")
    create_table(client, name, [("pk", "INTEGER")])
    put_rows(client, name, [([("pk", i)], [("s", f"row-{i}"), ("v", i)]) for i in range(BIG_ROWS)])
    yield name
    client.delete_table(name)


def check_big_rows(rows, expected_keys):
    assert pk_values(rows) == expected_keys
    assert [[(c[0], c[1]) for c in r.attribute_columns] for r in rows] == [
        [("s", f"row-{i}"), ("v", i)] for i in expected_keys]


def test_forward_scan_pages_through_every_row_once_in_order(client, big_table):
    pages, rows = scan(client, big_table, Direction.FORWARD, [("pk", INF_MIN)], [("pk", INF_MAX)])
    assert pages == [5000, BIG_ROWS - 5000]
    check_big_rows(rows, list(range(BIG_ROWS)))


def test_forward_page_reports_next_start_primary_key(client, big_table):
    _, next_start, rows, _ = client.get_range(
        big_table, Direction.FORWARD, [("pk", INF_MIN)], [("pk", INF_MAX)])
    assert (len(rows), next_start) == (5000, [("pk", 5000)])


def test_backward_scan_pages_through_every_row_once_in_reverse(client, big_table):
    pages, rows = scan(client, big_table, Direction.BACKWARD, [("pk", INF_MAX)], [("pk", INF_MIN)])
    assert pages == [5000, BIG_ROWS - 5000]
    check_big_rows(rows, list(reversed(range(BIG_ROWS))))


def test_small_limit_pages(client, big_table):
    pages, rows = scan(client, big_table, Direction.FORWARD, [("pk", 100)], [("pk", 150)], limit=7)
    assert pages == [7] * 7 + [1]
    check_big_rows(rows, list(range(100, 150)))


def test_small_limit_pages_backward(client, big_table):
    pages, rows = scan(client, big_table, Direction.BACKWARD, [("pk", 150)], [("pk", 100)], limit=7)
    assert pages == [7] * 7 + [1]
    # Backward: start inclusive (150), end exclusive (100).
    check_big_rows(rows, list(range(150, 100, -1)))


def test_xget_range_iterates_every_row(client, big_table):
    consumed = CapacityUnit(0, 0)
    rows = list(client.xget_range(big_table, Direction.FORWARD, [("pk", 4990)], [("pk", INF_MAX)], consumed))
    check_big_rows(rows, list(range(4990, BIG_ROWS)))
    assert consumed.read >= 1


def test_range_columns_to_get(client, big_table):
    _, _, rows, _ = client.get_range(big_table, Direction.FORWARD, [("pk", 10)], [("pk", 13)],
                                     columns_to_get=["v"])
    assert [(r.primary_key, [(c[0], c[1]) for c in r.attribute_columns]) for r in rows] == [
        ([("pk", i)], [("v", i)]) for i in (10, 11, 12)]


def test_range_columns_to_get_of_only_missing_columns_returns_no_rows(client, big_table):
    _, next_start, rows, _ = client.get_range(big_table, Direction.FORWARD, [("pk", 10)], [("pk", 13)],
                                              columns_to_get=["not_there"])
    assert (rows, next_start) == ([], None)


def test_range_pages_at_four_megabytes(client, new_table):
    table = new_table([("id", "INTEGER")])
    for i in range(6):
        client.put_row(table, Row([("id", i)], [("blob", bytearray([i]) * (1024 * 1024))]))

    pages, rows = scan(client, table, Direction.FORWARD, [("id", INF_MIN)], [("id", INF_MAX)])

    assert len(pages) > 1 and max(pages) < 6
    assert pk_values(rows) == list(range(6))
    assert all(r.attribute_columns[0][1] == bytearray([i]) * (1024 * 1024) for i, r in enumerate(rows))


# ----------------------------------------------------------------------------
# Primary key ordering and bounds


@pytest.mark.parametrize("pk_type,keys,ordered", [
    ("INTEGER", [5, -1, 0, 2**63 - 1, -(2**63), 10, -10, 3],
     [-(2**63), -10, -1, 0, 3, 5, 10, 2**63 - 1]),
    ("STRING", ["b", "aa", "B", "a", "é", "Z", "a\x00", "~"],
     ["B", "Z", "a", "a\x00", "aa", "b", "~", "é"]),
    ("BINARY", [bytearray(b"\x01"), bytearray(b"\x00\x00"), bytearray(b"\xff"), bytearray(b"\x00"),
                bytearray(b"\x80\x01"), bytearray(b"\x7f")],
     [bytearray(b"\x00"), bytearray(b"\x00\x00"), bytearray(b"\x01"), bytearray(b"\x7f"),
      bytearray(b"\x80\x01"), bytearray(b"\xff")]),
])
def test_primary_key_order(client, new_table, pk_type, keys, ordered):
    table = new_table([("k", pk_type)])
    put_rows(client, table, [([("k", k)], [("c", 1)]) for k in keys])

    _, forward = scan(client, table, Direction.FORWARD, [("k", INF_MIN)], [("k", INF_MAX)])
    _, backward = scan(client, table, Direction.BACKWARD, [("k", INF_MAX)], [("k", INF_MIN)])

    assert [repr(k) for k in pk_values(forward)] == [repr(k) for k in ordered]
    assert [repr(k) for k in pk_values(backward)] == [repr(k) for k in reversed(ordered)]


@pytest.fixture
def grid_table(client, new_table):
    """Rows (a, b) for a in 'xyz', b in 1..3."""
    table = new_table([("a", "STRING"), ("b", "INTEGER")])
    put_rows(client, table, [([("a", a), ("b", b)], [("c", f"{a}{b}")]) for a in "xyz" for b in (1, 2, 3)])
    return table


def keys_of(rows):
    return [(r.primary_key[0][1], r.primary_key[1][1]) for r in rows]


@pytest.mark.parametrize("direction,start,end,expected", [
    (Direction.FORWARD, [("a", "y"), ("b", INF_MIN)], [("a", "y"), ("b", INF_MAX)],
     [("y", 1), ("y", 2), ("y", 3)]),
    (Direction.FORWARD, [("a", "x"), ("b", 2)], [("a", "y"), ("b", 2)],
     [("x", 2), ("x", 3), ("y", 1)]),
    (Direction.FORWARD, [("a", "x"), ("b", INF_MAX)], [("a", "z"), ("b", INF_MIN)],
     [("y", 1), ("y", 2), ("y", 3)]),
    (Direction.FORWARD, [("a", "x"), ("b", INF_MAX)], [("a", "y"), ("b", INF_MIN)], []),
    (Direction.BACKWARD, [("a", "y"), ("b", 2)], [("a", "x"), ("b", 2)],
     [("y", 2), ("y", 1), ("x", 3)]),
    (Direction.BACKWARD, [("a", "z"), ("b", INF_MIN)], [("a", "x"), ("b", INF_MAX)],
     [("y", 3), ("y", 2), ("y", 1)]),
], ids=["prefix", "inclusive-exclusive", "between-prefixes", "empty-gap", "backward", "backward-prefix"])
def test_range_bounds(client, grid_table, direction, start, end, expected):
    _, rows = scan(client, grid_table, direction, start, end)
    assert keys_of(rows) == expected


REVERSED_BOUNDS = pytest.mark.parametrize("direction,start,end", [
    (Direction.FORWARD, [("a", "y"), ("b", 1)], [("a", "x"), ("b", 1)]),
    (Direction.BACKWARD, [("a", "x"), ("b", 1)], [("a", "y"), ("b", 1)]),
], ids=["forward", "backward"])
WHOLE_GRID = ([("a", INF_MIN), ("b", INF_MIN)], [("a", INF_MAX), ("b", INF_MAX)])


def begin_key_message(direction):
    relation = "less" if direction == Direction.FORWARD else "more"
    return f"Begin key must {relation} than end key in {direction}"


@REVERSED_BOUNDS
def test_range_with_reversed_bounds_is_rejected(client, grid_table, direction, start, end):
    with service_error("OTSParameterInvalid", 400, ANY_MESSAGE):
        client.get_range(grid_table, direction, start, end)


@REVERSED_BOUNDS
def test_range_with_reversed_bounds_message(client, grid_table, direction, start, end):
    with service_error("OTSParameterInvalid", 400, begin_key_message(direction)):
        client.get_range(grid_table, direction, start, end)


def test_range_with_equal_bounds_is_rejected(client, grid_table):
    pk = [("a", "x"), ("b", 1)]
    with service_error("OTSParameterInvalid", 400, begin_key_message(Direction.FORWARD)):
        client.get_range(grid_table, Direction.FORWARD, pk, pk)


@pytest.mark.parametrize("limit", [0, -1])
def test_range_limit_must_be_positive(client, grid_table, limit):
    with service_error("OTSParameterInvalid", 400, ANY_MESSAGE):
        client.get_range(grid_table, Direction.FORWARD, *WHOLE_GRID, limit=limit)


@pytest.mark.parametrize("limit", [0, -1])
def test_range_limit_message(client, grid_table, limit):
    with service_error("OTSParameterInvalid", 400, "The limit must be greater than 0."):
        client.get_range(grid_table, Direction.FORWARD, *WHOLE_GRID, limit=limit)


def test_range_bound_primary_key_is_validated(client, grid_table):
    with service_error("OTSInvalidPK", 400, "Validate PK size fail. Input: 1, Meta: 2."):
        client.get_range(grid_table, Direction.FORWARD, [("a", INF_MIN)], [("a", INF_MAX)])
