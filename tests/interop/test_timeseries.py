"""TimeSeries model through the official SDK: table DDL, PutTimeseriesData
with every field type, GetTimeseriesData (series key, exact microsecond
time ranges, paging with limit, backward), QueryTimeseriesMeta
(measurement, data source, tag, update-time and composite conditions,
total hits, paging) and per-row failures of PutTimeseriesData.
"""

import pytest
from tablestore.encoder import OTSProtoBufferEncoder
from tablestore.metadata import (
    GetTimeseriesDataRequest,
    QueryTimeseriesMetaRequest,
    TimeseriesKey,
    TimeseriesRow,
)
from tablestore.protobuf import timeseries_pb2
from tablestore.timeseries_condition import (
    CompositeMetaQueryCondition,
    DataSourceMetaQueryCondition,
    MeasurementMetaQueryCondition,
    MetaQueryCompositeOperator,
    MetaQuerySingleOperator,
    TagMetaQueryCondition,
    UpdateTimeMetaQueryCondition,
)

from support import (
    create_timeseries_table,
    now_us,
    raw_call,
    service_error,
    signed_headers,
    unique_name,
)

Op = MetaQuerySingleOperator
AND, OR, NOT = (MetaQueryCompositeOperator.OP_AND, MetaQueryCompositeOperator.OP_OR,
                MetaQueryCompositeOperator.OP_NOT)

T0 = 1_700_000_000_123_456  # µs, deliberately not a whole millisecond
STEP = 1_000_001
POINTS_PER_SERIES = 5
END_OF_TIME = 2**62

SERIES = {
    "cpu_h1": ("cpu", "host1", {"region": "hz", "az": "a"}),
    "cpu_h2": ("cpu", "host2", {"region": "sh"}),
    "mem_h1": ("mem", "host1", {"region": "hz"}),
    "disk": ("disk", "", {}),
}


def key(series):
    measurement, source, tags = SERIES[series]
    return TimeseriesKey(measurement, source, dict(tags))


def point_time(i):
    return T0 + i * STEP


def fields(series, i):
    """Every field type; values differ per series and point."""
    return {
        "v": i + 0.25 if series != "disk" else -0.0,
        "n": (-1) ** i * (2**62 + i),
        "s": f"{series}-{i}-✓",
        "b": i % 2 == 0,
        "bin": bytearray([i, 0, 255]),
    }


def typed_fields(f):
    return sorted((name, repr(value)) for name, value in f.items())


def expected(series, indexes):
    measurement, source, tags = SERIES[series]
    return [((measurement, source, tags), typed_fields(fields(series, i)), point_time(i)) for i in indexes]


def as_tuples(rows):
    return [((r.timeseries_key.measurement_name, r.timeseries_key.data_source, r.timeseries_key.tags),
             typed_fields(r.fields), r.time_in_us) for r in rows or []]


def meta_key(meta):
    k = meta.timeseries_key
    return (k.measurement_name, k.data_source, tuple(sorted((k.tags or {}).items())))


def series_meta_key(series):
    measurement, source, tags = SERIES[series]
    return (measurement, source, tuple(sorted(tags.items())))


@pytest.fixture
def loaded(client, new_ts_table):
    """A TimeSeries table holding POINTS_PER_SERIES points of every series in SERIES.

    Returns (table, earliest and latest possible meta update time in µs).
    """
    table = new_ts_table()
    rows = [TimeseriesRow(key(s), fields(s, i), point_time(i))
            for s in SERIES for i in range(POINTS_PER_SERIES)]
    before = now_us() // 1000 * 1000
    response = client.put_timeseries_data(table, rows)
    after = now_us()
    assert response.failedRows is None
    return table, before, after


def get_points(client, table, series, begin=0, end=END_OF_TIME, **kwargs):
    return client.get_timeseries_data(GetTimeseriesDataRequest(table, key(series), begin, end, **kwargs))


def get_all_pages(client, table, series, limit, backward=False):
    pages, rows, token = [], [], None
    while True:
        response = get_points(client, table, series, limit=limit, nextToken=token, backward=backward)
        pages.append(len(response.rows or []))
        rows.extend(response.rows or [])
        token = response.nextToken
        if token is None:
            return pages, rows


def query_meta(client, table, condition=None, **kwargs):
    return client.query_timeseries_meta(QueryTimeseriesMetaRequest(table, condition, **kwargs))


# ----------------------------------------------------------------------------
# Table DDL


def ts_options(meta):
    return (meta.timeseries_table_name, meta.status, meta.timeseries_table_options.time_to_live,
            meta.timeseries_meta_options.meta_time_to_live,
            meta.timeseries_meta_options.allow_update_attributes)


def test_create_describe_list_delete_timeseries_table(client):
    name = unique_name("ts")
    create_timeseries_table(client, name, ttl=2 * 86400, meta_ttl=30 * 86400,
                            allow_update_attributes=False)

    expected_options = (name, "ACTIVE", 2 * 86400, 30 * 86400, False)
    assert ts_options(client.describe_timeseries_table(name).table_meta) == expected_options
    listed = {m.timeseries_table_name: ts_options(m) for m in client.list_timeseries_table()}
    assert listed[name] == expected_options
    assert name not in client.list_table()  # not a wide-column table

    assert client.delete_timeseries_table(name) is None
    assert name not in {m.timeseries_table_name for m in client.list_timeseries_table()}
    with service_error("OTSObjectNotExist", 404, "Requested table does not exist."):
        client.describe_timeseries_table(name)


def test_timeseries_table_defaults(client, new_ts_table):
    name = new_ts_table()
    assert ts_options(client.describe_timeseries_table(name).table_meta) == (name, "ACTIVE", -1, -1, True)


def test_duplicate_timeseries_table(client, new_ts_table):
    name = new_ts_table()
    with service_error("OTSObjectAlreadyExist", 409, "Requested table already exists."):
        create_timeseries_table(client, name)


def test_missing_timeseries_table(client):
    name = unique_name("missing")
    for call in (client.describe_timeseries_table, client.delete_timeseries_table,
                 lambda n: get_points(client, n, "cpu_h1")):
        with service_error("OTSObjectNotExist", 404, "Requested table does not exist."):
            call(name)


@pytest.mark.parametrize("options,message", [
    ({"ttl": 3600}, "Invalid time_to_live: 3600; it must be -1 (forever) or at least 86400 seconds."),
    ({"meta_ttl": 86400},
     "Invalid meta_time_to_live: 86400; it must be -1 (forever) or at least 604800 seconds."),
])
def test_timeseries_table_ttl_limits(client, options, message):
    with service_error("OTSParameterInvalid", 400, message):
        create_timeseries_table(client, unique_name("ts"), **options)


# ----------------------------------------------------------------------------
# GetTimeseriesData


@pytest.mark.parametrize("series", sorted(SERIES))
def test_get_whole_series(client, loaded, series):
    table, _, _ = loaded
    response = get_points(client, table, series)
    assert as_tuples(response.rows) == expected(series, range(POINTS_PER_SERIES))
    assert response.nextToken is None


def test_get_time_range_is_begin_inclusive_end_exclusive(client, loaded):
    table, _, _ = loaded
    response = get_points(client, table, "cpu_h1", point_time(1), point_time(3))
    assert as_tuples(response.rows) == expected("cpu_h1", [1, 2])

    one_us_later = get_points(client, table, "cpu_h1", point_time(1) + 1, point_time(3) + 1)
    assert as_tuples(one_us_later.rows) == expected("cpu_h1", [2, 3])


def test_get_backward(client, loaded):
    table, _, _ = loaded
    response = get_points(client, table, "mem_h1", point_time(1), point_time(4), backward=True)
    assert as_tuples(response.rows) == expected("mem_h1", [3, 2, 1])


def test_get_pages_with_limit(client, loaded):
    table, _, _ = loaded
    pages, rows = get_all_pages(client, table, "cpu_h2", limit=2)
    assert pages == [2, 2, 1]
    assert as_tuples(rows) == expected("cpu_h2", range(POINTS_PER_SERIES))


def test_get_pages_backward_with_limit(client, loaded):
    table, _, _ = loaded
    pages, rows = get_all_pages(client, table, "cpu_h2", limit=2, backward=True)
    assert pages == [2, 2, 1]
    assert as_tuples(rows) == expected("cpu_h2", reversed(range(POINTS_PER_SERIES)))


def test_get_only_some_fields(client, loaded):
    table, _, _ = loaded
    response = get_points(client, table, "cpu_h1", point_time(0), point_time(1),
                          fieldsToGet={"n": 1, "s": 4})
    f = fields("cpu_h1", 0)
    assert [typed_fields(r.fields) for r in response.rows] == [typed_fields({"n": f["n"], "s": f["s"]})]


@pytest.mark.parametrize("series_key", [
    TimeseriesKey("cpu", "host1", {"region": "hz"}),             # subset of the tags
    TimeseriesKey("cpu", "host1", {"region": "hz", "az": "b"}),  # other tag value
    TimeseriesKey("cpu", "host3", {"region": "hz", "az": "a"}),  # other data source
    TimeseriesKey("gpu", "host1", {"region": "hz", "az": "a"}),  # other measurement
])
def test_get_of_unknown_series_returns_no_rows(client, loaded, series_key):
    table, _, _ = loaded
    response = client.get_timeseries_data(GetTimeseriesDataRequest(table, series_key, 0, END_OF_TIME))
    assert (response.rows, response.nextToken) == (None, None)


# ----------------------------------------------------------------------------
# QueryTimeseriesMeta


def test_query_all_metas(client, loaded):
    table, before, after = loaded
    response = query_meta(client, table, getTotalHits=True)

    assert response.totalHits == len(SERIES)
    assert response.nextToken is None
    assert sorted(meta_key(m) for m in response.timeseriesMetas) == sorted(map(series_meta_key, SERIES))
    for meta in response.timeseriesMetas:
        assert meta.attributes is None
        assert before <= meta.update_time_in_us <= after


@pytest.mark.parametrize("condition,matching", [
    (MeasurementMetaQueryCondition(Op.OP_EQUAL, "cpu"), ["cpu_h1", "cpu_h2"]),
    (MeasurementMetaQueryCondition(Op.OP_PREFIX, "me"), ["mem_h1"]),
    (MeasurementMetaQueryCondition(Op.OP_GREATER_THAN, "cpu"), ["disk", "mem_h1"]),
    (MeasurementMetaQueryCondition(Op.OP_LESS_EQUAL, "disk"), ["cpu_h1", "cpu_h2", "disk"]),
    (DataSourceMetaQueryCondition(Op.OP_EQUAL, "host1"), ["cpu_h1", "mem_h1"]),
    (DataSourceMetaQueryCondition(Op.OP_EQUAL, ""), ["disk"]),
    (TagMetaQueryCondition(Op.OP_EQUAL, "region", "hz"), ["cpu_h1", "mem_h1"]),
    (TagMetaQueryCondition(Op.OP_EQUAL, "az", "a"), ["cpu_h1"]),
    (TagMetaQueryCondition(Op.OP_EQUAL, "region", "bj"), []),
    (CompositeMetaQueryCondition(AND, [MeasurementMetaQueryCondition(Op.OP_EQUAL, "cpu"),
                                       TagMetaQueryCondition(Op.OP_EQUAL, "region", "hz")]), ["cpu_h1"]),
    (CompositeMetaQueryCondition(OR, [MeasurementMetaQueryCondition(Op.OP_EQUAL, "mem"),
                                      DataSourceMetaQueryCondition(Op.OP_EQUAL, "host2")]),
     ["cpu_h2", "mem_h1"]),
    (CompositeMetaQueryCondition(AND, [
        CompositeMetaQueryCondition(OR, [TagMetaQueryCondition(Op.OP_EQUAL, "region", "hz"),
                                         TagMetaQueryCondition(Op.OP_EQUAL, "region", "sh")]),
        DataSourceMetaQueryCondition(Op.OP_PREFIX, "host"),
        MeasurementMetaQueryCondition(Op.OP_EQUAL, "cpu")]), ["cpu_h1", "cpu_h2"]),
    (CompositeMetaQueryCondition(NOT, [MeasurementMetaQueryCondition(Op.OP_EQUAL, "cpu")]),
     ["disk", "mem_h1"]),
], ids=["measurement", "measurement-prefix", "measurement-gt", "measurement-le", "source", "empty-source",
        "tag", "other-tag", "no-match", "and", "or", "nested", "not"])
def test_query_meta_conditions(client, loaded, condition, matching):
    table, _, _ = loaded
    response = query_meta(client, table, condition, getTotalHits=True)
    assert sorted(meta_key(m) for m in response.timeseriesMetas) == sorted(map(series_meta_key, matching))
    assert response.totalHits == len(matching)


def test_query_meta_by_update_time(client, loaded):
    table, before, after = loaded
    cases = [
        (Op.OP_GREATER_EQUAL, before, len(SERIES)),
        (Op.OP_LESS_THAN, before, 0),
        (Op.OP_GREATER_THAN, after, 0),
        (Op.OP_LESS_EQUAL, after, len(SERIES)),
    ]
    for op, time_us, hits in cases:
        response = query_meta(client, table, UpdateTimeMetaQueryCondition(op, time_us), getTotalHits=True)
        assert (len(response.timeseriesMetas), response.totalHits) == (hits, hits), (op, time_us)


def query_meta_pages(client, table):
    """Follows nextToken with limit=1; returns every page's response."""
    responses, token = [], None
    while True:
        response = query_meta(client, table, getTotalHits=True, limit=1, nextToken=token)
        responses.append(response)
        token = response.nextToken
        if token is None:
            return responses


def test_query_meta_pages_with_limit(client, loaded):
    table, _, _ = loaded
    responses = query_meta_pages(client, table)

    assert [len(r.timeseriesMetas) for r in responses] == [1] * len(SERIES)
    assert responses[0].totalHits == len(SERIES)
    seen = [meta_key(m) for r in responses for m in r.timeseriesMetas]
    assert sorted(seen) == sorted(map(series_meta_key, SERIES))


def test_query_meta_total_hits_is_the_same_on_every_page(client, loaded):
    table, _, _ = loaded
    assert [r.totalHits for r in query_meta_pages(client, table)] == [len(SERIES)] * len(SERIES)


def test_query_meta_of_empty_table(client, new_ts_table):
    response = query_meta(client, new_ts_table(), getTotalHits=True)
    assert (response.timeseriesMetas, response.totalHits, response.nextToken) == ([], 0, None)


def test_rewriting_points_keeps_one_meta_per_series(client, loaded):
    table, _, _ = loaded
    client.put_timeseries_data(table, [TimeseriesRow(key("cpu_h1"), {"v": 1.0}, point_time(99))])
    assert query_meta(client, table, getTotalHits=True).totalHits == len(SERIES)


# ----------------------------------------------------------------------------
# Per-row failures


def test_invalid_point_fails_alone(emulator, client, new_ts_table):
    """The Python SDK crashes on any failed_rows (decoder bug), so this request is raw."""
    table = new_ts_table()
    rows = [
        TimeseriesRow(key("cpu_h1"), {"v": 1.5}, T0),
        TimeseriesRow(TimeseriesKey("bad#name", "host1", {}), {"v": 2.5}, T0),
        TimeseriesRow(key("mem_h1"), {"v": 3.5}, T0),
    ]
    body = OTSProtoBufferEncoder("utf-8").encode_request("PutTimeseriesData", table, rows).SerializeToString()

    resp = raw_call(emulator.endpoint, "PutTimeseriesData", body, signed_headers("PutTimeseriesData", body))

    assert resp.status == 200
    parsed = timeseries_pb2.PutTimeseriesDataResponse()
    parsed.ParseFromString(resp.body)
    assert [(f.row_index, f.error_code, f.error_message) for f in parsed.failed_rows] == [
        (1, "OTSParameterInvalid",
         "measurement name \"bad#name\" must not contain '#', whitespace or control characters")]
    for series, value in (("cpu_h1", 1.5), ("mem_h1", 3.5)):
        assert [r.fields for r in get_points(client, table, series).rows] == [{"v": value}]
