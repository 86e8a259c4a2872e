"""Wide-column table DDL through the official SDK: CreateTable,
DescribeTable (PK schema, TTL, max versions, deviation, reserved throughput),
ListTable, DeleteTable, the 64-table quota and their error answers.

Real-service wordings come from the public Tablestore error-code reference
("Error codes", alibabacloud.com/help/en/tablestore) and the official SDKs'
functional tests.
"""

import time

import pytest
from tablestore import CapacityUnit, ReservedThroughput, Row, TableMeta, TableOptions

from support import (
    ANY_MESSAGE,
    REQUEST_ID,
    create_table,
    create_timeseries_table,
    service_error,
    unique_name,
)

NO_TABLE = ("OTSObjectNotExist", 404, "Requested table does not exist.")


def describe(client, name):
    d = client.describe_table(name)
    o = d.table_options
    rt = d.reserved_throughput_details
    return {
        "table_name": d.table_meta.table_name,
        "primary_key": d.table_meta.schema_of_primary_key,
        "options": (o.time_to_live, o.max_version, o.max_time_deviation, o.allow_update),
        "reserved": (rt.capacity_unit.read, rt.capacity_unit.write, rt.last_decrease_time),
        "last_increase_time": rt.last_increase_time,
        "request_id": d.request_id,
    }


def test_create_and_describe_with_default_options(client, new_table):
    before = int(time.time())
    name = new_table([("pk0", "STRING"), ("pk1", "INTEGER"), ("pk2", "BINARY")])
    after = int(time.time())

    d = describe(client, name)

    assert d["table_name"] == name
    assert d["primary_key"] == [("pk0", "STRING"), ("pk1", "INTEGER"), ("pk2", "BINARY")]
    assert d["options"] == (-1, 1, 86400, True)
    assert d["reserved"] == (0, 0, None)
    assert before <= d["last_increase_time"] <= after
    assert REQUEST_ID.fullmatch(d["request_id"])


def test_create_and_describe_with_explicit_options(client, new_table):
    name = new_table([("b", "INTEGER"), ("a", "STRING")],
                     time_to_live=2 * 86400, max_version=3, max_time_deviation=3600)

    d = describe(client, name)

    # The PK schema keeps creation order, not name order.
    assert d["primary_key"] == [("b", "INTEGER"), ("a", "STRING")]
    assert d["options"] == (2 * 86400, 3, 3600, True)


def test_table_options_omitted_get_service_defaults(client):
    name = unique_name()
    client.create_table(TableMeta(name, [("pk", "STRING")]), TableOptions(None, None, None),
                        ReservedThroughput(CapacityUnit(0, 0)))
    try:
        assert describe(client, name)["options"] == (-1, 1, 86400, True)
    finally:
        client.delete_table(name)


def test_list_table_shows_created_and_forgets_deleted(client):
    names = sorted(unique_name() for _ in range(3))
    for name in names:
        create_table(client, name)
    assert set(names) <= set(client.list_table())

    client.delete_table(names[1])

    listed = client.list_table()
    assert isinstance(listed, tuple)
    assert names[0] in listed and names[2] in listed and names[1] not in listed
    for name in (names[0], names[2]):
        client.delete_table(name)


def test_delete_table_removes_table_and_rows(client):
    name = unique_name()
    create_table(client, name)
    client.put_row(name, Row([("pk", "a")], [("c", 1)]))

    assert client.delete_table(name) is None

    with service_error(*NO_TABLE):
        client.describe_table(name)
    with service_error(*NO_TABLE):
        client.get_row(name, [("pk", "a")])
    # A new table of the same name starts empty.
    create_table(client, name)
    try:
        assert client.get_row(name, [("pk", "a")])[1] is None
    finally:
        client.delete_table(name)


def test_duplicate_create_is_rejected(client, new_table):
    name = new_table([("pk", "STRING")])
    with service_error("OTSObjectAlreadyExist", 409, "Requested table already exists."):
        create_table(client, name, [("other", "INTEGER")])
    # The original schema is untouched.
    assert describe(client, name)["primary_key"] == [("pk", "STRING")]


def test_describe_missing_table(client):
    with service_error(*NO_TABLE):
        client.describe_table(unique_name("missing"))


def test_delete_missing_table(client):
    with service_error(*NO_TABLE):
        client.delete_table(unique_name("missing"))


@pytest.mark.parametrize("name", ["1starts_with_digit", "has-dash", "has space", "x" * 256])
def test_invalid_table_name(client, name):
    with service_error("OTSParameterInvalid", 400, f"Invalid table name: '{name}'."):
        create_table(client, name)


def test_invalid_primary_key_column_name(client):
    with service_error("OTSParameterInvalid", 400, "Invalid column name: 'bad-pk'."):
        create_table(client, unique_name(), [("bad-pk", "STRING")])


def test_duplicated_primary_key_name(client):
    with service_error("OTSParameterInvalid", 400, "Duplicated primary key name: 'pk0'."):
        create_table(client, unique_name(), [("pk0", "STRING"), ("pk0", "INTEGER")])


FOUR_PKS = [(f"pk{i}", "INTEGER") for i in range(4)]


def create_with_five_pks(client):
    create_table(client, unique_name(), FOUR_PKS + [("pk4", "INTEGER")])


def test_primary_key_has_one_to_four_columns(client, new_table):
    assert describe(client, new_table(FOUR_PKS))["primary_key"] == FOUR_PKS
    with service_error("OTSParameterInvalid", 400, ANY_MESSAGE):
        create_with_five_pks(client)


def test_primary_key_count_message(client):
    with service_error("OTSParameterInvalid", 400, "The number of primary key columns must be in range: [1, 4]."):
        create_with_five_pks(client)


@pytest.fixture
def full_instance(spawn_emulator):
    """A client of a fresh emulator holding the maximum of 64 tables (t0..t61 and one TimeSeries table)."""
    ots = spawn_emulator().client()
    for i in range(62):
        create_table(ots, f"t{i}")
    create_timeseries_table(ots, "ts_counts_twice")  # a TimeSeries table counts as two
    return ots


def test_instance_holds_at_most_64_tables(full_instance):
    with service_error("OTSQuotaExhausted", 403, ANY_MESSAGE):
        create_table(full_instance, "one_too_many")
    with service_error("OTSQuotaExhausted", 403, ANY_MESSAGE):
        create_timeseries_table(full_instance, "ts_too_many")

    full_instance.delete_table("t0")
    create_table(full_instance, "one_too_many")


def test_table_quota_message(full_instance):
    with service_error("OTSQuotaExhausted", 403, "Number of tables exceeded the quota."):
        create_table(full_instance, "one_too_many")


@pytest.mark.parametrize("ttl,message", [
    (0, ANY_MESSAGE),
    (-2, ANY_MESSAGE),
    (1, "Invalid time_to_live: 1; it must be -1 (forever) or at least 86400 seconds."),
    (86399, "Invalid time_to_live: 86399; it must be -1 (forever) or at least 86400 seconds."),
])
def test_time_to_live_must_be_forever_or_at_least_a_day(client, ttl, message):
    with service_error("OTSParameterInvalid", 400, message):
        create_table(client, unique_name(), time_to_live=ttl)


@pytest.mark.parametrize("ttl", [0, -2])
def test_zero_or_negative_time_to_live_message(client, ttl):
    with service_error("OTSParameterInvalid", 400, "TimeToLive cannot be 0 or less than -1."):
        create_table(client, unique_name(), time_to_live=ttl)


def test_max_versions_must_be_positive(client):
    with service_error("OTSParameterInvalid", 400, ANY_MESSAGE):
        create_table(client, unique_name(), max_version=0)


def test_max_versions_message(client):
    with service_error("OTSParameterInvalid", 400, "The maximum versions cannot be less than or equal to 0."):
        create_table(client, unique_name(), max_version=0)


def test_time_to_live_of_exactly_one_day_is_accepted(client, new_table):
    name = new_table(time_to_live=86400)
    assert describe(client, name)["options"][0] == 86400
