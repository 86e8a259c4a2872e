"""Durability across emulator restarts on the same data dir: after a
graceful SIGTERM (exit 0) and after kill -9 following acknowledged writes,
a new emulator returns every table, row version, TimeSeries point and
series meta exactly as before.
"""

import pytest
from tablestore import (
    INF_MAX,
    INF_MIN,
    PK_AUTO_INCR,
    BatchWriteRowRequest,
    Direction,
    PutRowItem,
    ReturnType,
    Row,
    TableInBatchWriteRowItem,
)
from tablestore.metadata import GetTimeseriesDataRequest, QueryTimeseriesMetaRequest, TimeseriesKey, TimeseriesRow

from support import create_table, create_timeseries_table, now_ms

TABLE = "durable"
AUTO_TABLE = "durable_auto"
TS_TABLE = "durable_ts"
SERIES = [TimeseriesKey("cpu", "host1", {"region": "hz"}), TimeseriesKey("mem", "", {})]


def write_everything(ots):
    """Creates the tables and writes rows of every kind; returns nothing, all calls are acknowledged."""
    create_table(ots, TABLE, [("pk", "STRING"), ("n", "INTEGER")], max_version=2, time_to_live=86400 * 30)
    create_table(ots, AUTO_TABLE, [("part", "STRING"), ("id", "INTEGER", PK_AUTO_INCR)])
    create_timeseries_table(ots, TS_TABLE, ttl=86400 * 365 * 10, meta_ttl=86400 * 30)

    t = now_ms() - 10_000
    ots.put_row(TABLE, Row([("pk", "types"), ("n", -1)], [
        ("s", "ünïcode ✓"), ("i", -(2**63)), ("d", -0.0), ("b", False), ("bin", bytearray(b"\x00\xff"))]))
    ots.put_row(TABLE, Row([("pk", "versions"), ("n", 0)], [("c", "v1", t)]))
    ots.update_row(TABLE, Row([("pk", "versions"), ("n", 0)], {"put": [("c", "v2", t + 1)]}), None)
    ots.update_row(TABLE, Row([("pk", "versions"), ("n", 0)], {"put": [("c", "v3", t + 2)],
                                                                "increment": [("k", 7)]}), None)
    ots.put_row(TABLE, Row([("pk", "deleted"), ("n", 0)], [("c", 1)]))
    ots.delete_row(TABLE, Row([("pk", "deleted"), ("n", 0)]), None)
    for start in (0, 200):
        request = BatchWriteRowRequest()
        request.add(TableInBatchWriteRowItem(TABLE, [
            PutRowItem(Row([("pk", "batch"), ("n", i)], [("v", i), ("w", f"row {i}")]), None)
            for i in range(start, start + 200)]))
        assert ots.batch_write_row(request).is_all_succeed()
    for value in ("first", "second"):
        ots.put_row(AUTO_TABLE, Row([("part", "p"), ("id", PK_AUTO_INCR)], [("v", value)]),
                    return_type=ReturnType.RT_PK)

    points = [TimeseriesRow(key, {"v": i * 1.5, "n": i, "s": f"p{i}", "b": i % 2 == 1,
                                  "bin": bytearray([i])}, 1_700_000_000_000_001 + i * 1_000)
              for key in SERIES for i in range(10)]
    assert ots.put_timeseries_data(TS_TABLE, points).failedRows is None


def all_rows(ots, table, max_version):
    names = [c[0] for c in ots.describe_table(table).table_meta.schema_of_primary_key]
    start, end, rows = [(n, INF_MIN) for n in names], [(n, INF_MAX) for n in names], []
    while start is not None:
        _, start, page, _ = ots.get_range(table, Direction.FORWARD, start, end, max_version=max_version)
        rows.extend((repr(r.primary_key), [(c[0], repr(c[1]), c[2]) for c in r.attribute_columns])
                    for r in page)
    return rows


def snapshot(ots):
    """Everything observable about the data written by write_everything()."""
    def options(table):
        d = ots.describe_table(table)
        o = d.table_options
        return (d.table_meta.schema_of_primary_key, o.time_to_live, o.max_version, o.max_time_deviation)

    def points(key):
        r = ots.get_timeseries_data(GetTimeseriesDataRequest(TS_TABLE, key, 0, 2**62))
        return [(row.time_in_us, sorted((k, repr(v)) for k, v in row.fields.items())) for row in r.rows]

    ts_meta = ots.describe_timeseries_table(TS_TABLE).table_meta
    metas = ots.query_timeseries_meta(QueryTimeseriesMetaRequest(TS_TABLE, getTotalHits=True))
    return {
        "tables": sorted(ots.list_table()),
        "options": {t: options(t) for t in (TABLE, AUTO_TABLE)},
        "rows": {t: all_rows(ots, t, max_version=5) for t in (TABLE, AUTO_TABLE)},
        "ts_tables": sorted(m.timeseries_table_name for m in ots.list_timeseries_table()),
        "ts_options": (ts_meta.timeseries_table_options.time_to_live,
                       ts_meta.timeseries_meta_options.meta_time_to_live),
        "points": [points(key) for key in SERIES],
        "metas": sorted((m.timeseries_key.measurement_name, m.timeseries_key.data_source,
                         sorted((m.timeseries_key.tags or {}).items()), m.update_time_in_us)
                        for m in metas.timeseriesMetas),
        "total_hits": metas.totalHits,
    }


def check_snapshot_shape(snap):
    assert snap["tables"] == sorted([TABLE, AUTO_TABLE])
    assert len(snap["rows"][TABLE]) == 402 and len(snap["rows"][AUTO_TABLE]) == 2
    versions = [r for r in snap["rows"][TABLE] if "versions" in r[0]][0][1]
    assert [(n, v) for n, v, _ in versions] == [("c", "'v3'"), ("c", "'v2'"), ("k", "7")]
    assert [len(p) for p in snap["points"]] == [10, 10] and snap["total_hits"] == 2


@pytest.mark.parametrize("stop", ["sigterm", "kill-9"])
def test_restart_keeps_everything(spawn_emulator, stop):
    first = spawn_emulator()
    ots = first.client()
    write_everything(ots)
    before = snapshot(ots)
    check_snapshot_shape(before)

    if stop == "sigterm":
        assert first.stop() == 0, first.stderr()
    else:
        assert first.kill() == -9

    second = spawn_emulator(data_dir=first.data_dir)
    assert snapshot(second.client()) == before


def test_kill_9_right_after_acknowledged_writes(spawn_emulator):
    first = spawn_emulator()
    ots = first.client()
    create_table(ots, TABLE, [("pk", "STRING"), ("n", "INTEGER")])
    for i in range(50):
        ots.put_row(TABLE, Row([("pk", "single"), ("n", i)], [("v", i)]))
    ots.update_row(TABLE, Row([("pk", "single"), ("n", 0)], {"put": [("last", True)]}), None)
    ots.delete_row(TABLE, Row([("pk", "single"), ("n", 1)]), None)
    expected = all_rows(ots, TABLE, max_version=1)
    assert first.kill() == -9  # no pause between the last acknowledged write and the kill

    second = spawn_emulator(data_dir=first.data_dir)
    assert all_rows(second.client(), TABLE, max_version=1) == expected


def test_auto_increment_continues_after_restart(spawn_emulator):
    first = spawn_emulator()
    ots = first.client()
    create_table(ots, AUTO_TABLE, [("part", "STRING"), ("id", "INTEGER", PK_AUTO_INCR)])

    def insert(client):
        _, row = client.put_row(AUTO_TABLE, Row([("part", "p"), ("id", PK_AUTO_INCR)], [("v", 1)]),
                                return_type=ReturnType.RT_PK)
        return row.primary_key[1][1]

    before = insert(ots)
    assert first.stop() == 0
    after = insert(spawn_emulator(data_dir=first.data_dir).client())
    assert after > before
