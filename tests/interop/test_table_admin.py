"""Changing tables and their data's lifetime through the official Python SDK:
UpdateTable (TTL, max versions, max time deviation) and its effect on reads,
TTL enforced on read for wide-column data, ComputeSplitPointsBySize (the SDK
has no call for it: hand-made request with the SDK's own protobuf classes),
TimeSeries table TTL (by point time) and UpdateTimeseriesTable, and
UpdateTimeseriesMeta / DeleteTimeseriesMeta.
"""

from tablestore import INF_MAX, INF_MIN, Condition, Direction, Row, RowExistenceExpectation, TableOptions
from tablestore.metadata import (
    DeleteTimeseriesMetaRequest,
    GetTimeseriesDataRequest,
    QueryTimeseriesMetaRequest,
    TimeseriesKey,
    TimeseriesMeta,
    TimeseriesMetaOptions,
    TimeseriesRow,
    TimeseriesTableMeta,
    TimeseriesTableOptions,
    UpdateTimeseriesMetaRequest,
)
from tablestore.plainbuffer.plain_buffer_builder import PlainBufferBuilder
from tablestore.protobuf import table_store_pb2 as pb

from support import now_ms, now_us, raw_call, service_error

DAY = 86400
IGNORE = Condition(RowExistenceExpectation.IGNORE)


def options(client, table):
    o = client.describe_table(table).table_options
    return (o.time_to_live, o.max_version, o.max_time_deviation)


def cols(client, table, pk, **kw):
    row = client.get_row(table, pk, **kw)[1]
    return None if row is None else [(c[0], c[1]) for c in row.attribute_columns]


def test_update_table_changes_options_and_what_reads_see(client, new_table):
    table = new_table(max_version=3, max_time_deviation=5 * DAY)
    t = now_ms()
    old = t - 2 * DAY * 1000
    client.update_row(table, Row([("pk", "a")], {"put": [("c", "v0", old), ("c", "v1", t - 2), ("c", "v2", t - 1)]}), IGNORE)
    assert cols(client, table, [("pk", "a")], max_version=3) == [("c", "v2"), ("c", "v1"), ("c", "v0")]

    client.update_table(table, TableOptions(time_to_live=DAY, max_version=2, max_time_deviation=3600))
    assert options(client, table) == (DAY, 2, 3600)
    # The 2-day-old version expired; only max_versions=2 versions are visible.
    assert cols(client, table, [("pk", "a")], max_version=3) == [("c", "v2"), ("c", "v1")]
    _, _, rows, _ = client.get_range(table, Direction.FORWARD, [("pk", INF_MIN)], [("pk", INF_MAX)], max_version=3)
    assert [[(c[0], c[1]) for c in r.attribute_columns] for r in rows] == [[("c", "v2"), ("c", "v1")]]
    # The new deviation bounds writes: 2 hours ago is now out of range.
    with service_error("OTSParameterInvalid", 400, "Invalid timestamp. Cell:c."):
        client.update_row(table, Row([("pk", "a")], {"put": [("c", "late", t - 7200 * 1000)]}), IGNORE)
    # The SDK's TableOptions always sends all three (its defaults -1 / 1 / 86400).
    client.update_table(table, TableOptions(max_version=5))
    assert options(client, table) == (-1, 5, 86400)


def test_update_table_rejects_bad_options_and_unknown_tables(client, new_table):
    table = new_table()
    with service_error("OTSParameterInvalid", 400, "TimeToLive cannot be 0 or less than -1."):
        client.update_table(table, TableOptions(time_to_live=0))
    with service_error("OTSParameterInvalid", 400, "The maximum versions cannot be less than or equal to 0."):
        client.update_table(table, TableOptions(max_version=0))
    with service_error("OTSObjectNotExist", 404, "Requested table does not exist."):
        client.update_table("no_such_table_ut", TableOptions(max_version=2))
    assert options(client, table) == (-1, 1, 86400)


def test_ttl_hides_expired_versions_and_rows_on_read(client, new_table):
    table = new_table(time_to_live=DAY, max_version=2, max_time_deviation=3 * DAY)
    t = now_ms()
    # Inside the TTL window, a version 23 h old stays; one written then expired is hidden.
    client.update_row(table, Row([("pk", "a")], {"put": [("c", "old", t - 23 * 3600 * 1000), ("c", "new", t - 1)]}), IGNORE)
    assert cols(client, table, [("pk", "a")], max_version=2) == [("c", "new"), ("c", "old")]
    # Writes older than the TTL are rejected (they would be expired at once).
    with service_error("OTSParameterInvalid", 400, "Invalid timestamp. Cell:c."):
        client.update_row(table, Row([("pk", "b")], {"put": [("c", "x", t - 2 * DAY * 1000)]}), IGNORE)
    assert cols(client, table, [("pk", "b")]) is None


def split_points(emulator, table, split_size, unit=None):
    req = pb.ComputeSplitPointsBySizeRequest(table_name=table, split_size=split_size)
    if unit is not None:
        req.split_size_unit_in_byte = unit
    return raw_call(emulator.endpoint, "ComputeSplitPointsBySize", req.SerializeToString())


def test_compute_split_points_by_size(emulator, client, new_table):
    from tablestore.plainbuffer.plain_buffer_coded_stream import PlainBufferCodedInputStream
    from tablestore.plainbuffer.plain_buffer_stream import PlainBufferInputStream
    table = new_table((("k", "INTEGER"),))
    for i in range(10):
        client.put_row(table, Row([("k", i)], [("c", "x" * 999)]))  # 1 + 8 + 1 + 999 = 1009 bytes a row
    resp = split_points(emulator, table, 3000, unit=1)
    assert resp.status == 200
    out = pb.ComputeSplitPointsBySizeResponse.FromString(resp.body)
    points = []
    for p in out.split_points:
        stream = PlainBufferCodedInputStream(PlainBufferInputStream(p))
        points.append(stream.read_row()[0])
    # Three rows (3027 bytes) exceed 3000: splits of 2 rows, cut before k=2, 4, 6, 8.
    assert points == [[("k", 2)], [("k", 4)], [("k", 6)], [("k", 8)]]
    assert [(s.name, s.type) for s in out.schema] == [("k", pb.INTEGER)]
    assert [(l.location, l.repeat) for l in out.locations] == [("local", 5)]
    # The default unit is 100 MB: one split, no split point.
    out = pb.ComputeSplitPointsBySizeResponse.FromString(split_points(emulator, table, 1).body)
    assert (list(out.split_points), [(l.location, l.repeat) for l in out.locations]) == ([], [("local", 1)])
    bad = split_points(emulator, table, 0)
    assert (bad.status, bad.error()) == (400, ("OTSParameterInvalid",
                                               "Invalid split size: 0 (unit 104857600 bytes); both must be greater than 0."))


# ----------------------------------------------------------------------------
# TimeSeries


def test_timeseries_ttl_counts_from_each_points_time(client, new_ts_table):
    table = new_ts_table(ttl=DAY)
    key = TimeseriesKey("cpu", "h1", {"r": "a"})
    now = now_us()
    old, recent = now - 2 * DAY * 1_000_000, now - 3600 * 1_000_000
    client.put_timeseries_data(table, [TimeseriesRow(key, {"v": 1.0}, old), TimeseriesRow(key, {"v": 2.0}, recent)])
    rows = client.get_timeseries_data(GetTimeseriesDataRequest(table, key, 0, 2**62)).rows
    assert [(r.time_in_us, r.fields) for r in rows] == [(recent, {"v": 2.0})]
    # Longer TTL via UpdateTimeseriesTable: the older point is visible again
    # (the emulator keeps expired points until then; the service may already
    # have deleted them).
    client.update_timeseries_table(TimeseriesTableMeta(table, TimeseriesTableOptions(3 * DAY)))
    assert client.describe_timeseries_table(table).table_meta.timeseries_table_options.time_to_live == 3 * DAY
    rows = client.get_timeseries_data(GetTimeseriesDataRequest(table, key, 0, 2**62)).rows
    assert [r.time_in_us for r in rows] == [old, recent]


def test_update_timeseries_table_checks_ttls(client, new_ts_table):
    table = new_ts_table()
    with service_error("OTSParameterInvalid", 400,
                       "Invalid time_to_live: 3600; it must be -1 (forever) or at least 86400 seconds."):
        client.update_timeseries_table(TimeseriesTableMeta(table, TimeseriesTableOptions(3600)))
    client.update_timeseries_table(TimeseriesTableMeta(table, TimeseriesTableOptions(-1), TimeseriesMetaOptions(8 * DAY, False)))
    meta = client.describe_timeseries_table(table).table_meta
    assert (meta.timeseries_meta_options.meta_time_to_live, meta.timeseries_meta_options.allow_update_attributes) == (8 * DAY, False)


def metas(client, table):
    found = client.query_timeseries_meta(QueryTimeseriesMetaRequest(table)).timeseriesMetas or []
    return sorted((m.timeseries_key.measurement_name, m.timeseries_key.data_source,
                   tuple(sorted((m.timeseries_key.tags or {}).items())), tuple(sorted((m.attributes or {}).items())))
                  for m in found)


def test_update_and_delete_timeseries_meta(client, new_ts_table):
    table = new_ts_table()
    k1, k2 = TimeseriesKey("cpu", "h1", {"r": "a"}), TimeseriesKey("mem", "h2", {})
    client.put_timeseries_data(table, [TimeseriesRow(k1, {"v": 1.0}, now_us())])
    before = now_us()
    response = client.update_timeseries_meta(UpdateTimeseriesMetaRequest(table, [
        TimeseriesMeta(k1, {"owner": "ops", "tier": "1"}), TimeseriesMeta(k2, {"owner": "dev"})]))
    assert not response.failedRows
    assert metas(client, table) == [
        ("cpu", "h1", (("r", "a"),), (("owner", "ops"), ("tier", "1"))),
        ("mem", "h2", (), (("owner", "dev"),))]
    updated = client.query_timeseries_meta(QueryTimeseriesMetaRequest(table)).timeseriesMetas
    assert all(m.update_time_in_us >= before // 1000 * 1000 for m in updated)

    response = client.delete_timeseries_meta(DeleteTimeseriesMetaRequest(table, [k1]))
    assert not response.failedRows
    assert metas(client, table) == [("mem", "h2", (), (("owner", "dev"),))]
    # Points stay: only the meta is gone.
    assert len(client.get_timeseries_data(GetTimeseriesDataRequest(table, k1, 0, 2**62)).rows) == 1


def test_attributes_cannot_change_when_the_table_forbids_it(emulator, client, new_ts_table):
    # The SDK cannot decode a response with failed rows (its decoder calls
    # FailedRowResult() without arguments), so the second update is hand-made
    # with the SDK's protobuf classes.
    from tablestore.protobuf import timeseries_pb2 as ts
    table = new_ts_table(allow_update_attributes=False)
    k = TimeseriesKey("cpu", "h1", {})
    client.update_timeseries_meta(UpdateTimeseriesMetaRequest(table, [TimeseriesMeta(k, {"a": "1"})]))
    req = ts.UpdateTimeseriesMetaRequest(table_name=table, timeseries_meta=[ts.TimeseriesMeta(
        time_series_key=ts.TimeseriesKey(measurement="cpu", source="h1", tags="[]"), attributes='["a=2"]')])
    resp = raw_call(emulator.endpoint, "UpdateTimeseriesMeta", req.SerializeToString())
    assert resp.status == 200
    failed = ts.UpdateTimeseriesMetaResponse.FromString(resp.body).failed_rows
    assert [(f.row_index, f.error_code, f.error_message) for f in failed] == [
        (0, "OTSParameterInvalid", "The table does not allow updating the attributes of a timeseries.")]
    assert metas(client, table) == [("cpu", "h1", (), (("a", "1"),))]
