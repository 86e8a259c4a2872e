"""Service limits (PK/attribute sizes, names, column counts, batch and body
sizes), authentication (wrong secret/instance/access key, tampered MD5,
stale dates, missing headers, v4 signing), protocol errors (unknown action,
wrong HTTP method), response signing, and fault injection
(--throttle-rate, --latency-ms).

Real-service wordings come from the public Tablestore error-code reference
(see support.py).
"""

import datetime as dt
import re
import time
import zlib

import pytest
import urllib3
from tablestore import BatchWriteRowRequest, PutRowItem, Row, TableInBatchWriteRowItem
from tablestore.protobuf import table_store_pb2

from support import (
    ACCESS_KEY_ID,
    ANY_MESSAGE,
    ACCESS_KEY_SECRET,
    REQUEST_ID,
    RESPONSE_DATE,
    b64_md5,
    create_table,
    ots_date,
    raw_call,
    service_error,
    sign_response,
    signed_headers,
    unique_name,
)

MiB = 1024 * 1024
AUTH_FAILED = ("OTSAuthFailed", 403)
MD5_MISMATCH = "Mismatch between MD5 value of request body and x-ots-contentmd5 in header."


def describe_body(table: str) -> bytes:
    req = table_store_pb2.DescribeTableRequest()
    req.table_name = table
    return req.SerializeToString()


# ----------------------------------------------------------------------------
# Size and name limits


@pytest.fixture
def pk_table(new_table):
    return new_table([("pk0", "STRING"), ("pk1", "BINARY")])


@pytest.mark.parametrize("column,pk_of_size", [
    ("pk0", lambda n: [("pk0", "é" * (n // 2)), ("pk1", bytearray(b"a"))]),  # 2 UTF-8 bytes per 'é'
    ("pk1", lambda n: [("pk0", "a"), ("pk1", bytearray(n))]),
], ids=["string", "binary"])
def test_primary_key_value_limit_is_1024_bytes(client, pk_table, column, pk_of_size):
    client.put_row(pk_table, Row(pk_of_size(1024), [("c", 1)]))
    assert client.get_row(pk_table, pk_of_size(1024))[1].primary_key == pk_of_size(1024)

    message = f"The length of primary key column: '{column}' exceeded the MaxLength:1024 with CurrentLength:1026."
    with service_error("OTSParameterInvalid", 400, message):
        client.put_row(pk_table, Row(pk_of_size(1026), [("c", 1)]))


def test_primary_key_value_of_1025_bytes_is_rejected(client, pk_table):
    message = "The length of primary key column: 'pk0' exceeded the MaxLength:1024 with CurrentLength:1025."
    with service_error("OTSParameterInvalid", 400, message):
        client.put_row(pk_table, Row([("pk0", "x" * 1025), ("pk1", bytearray(b"a"))], [("c", 1)]))


@pytest.mark.parametrize("make", [lambda n: "s" * n, lambda n: bytearray(n)], ids=["string", "binary"])
def test_attribute_value_limit_is_2_mib(client, new_table, make):
    table = new_table()
    client.put_row(table, Row([("pk", "max")], [("c", make(2 * MiB))]))
    assert client.get_row(table, [("pk", "max")])[1].attribute_columns[0][1] == make(2 * MiB)

    message = "The length of attribute column: 'c' exceeded the MaxLength:2097152 with CurrentLength:2097153."
    with service_error("OTSParameterInvalid", 400, message):
        client.put_row(table, Row([("pk", "over")], [("c", make(2 * MiB + 1))]))
    with service_error("OTSParameterInvalid", 400, message):
        client.update_row(table, Row([("pk", "max")], {"put": [("c", make(2 * MiB + 1))]}), None)


# (Non-ASCII names are not tried: the SDK writes their length in characters, not bytes.)
@pytest.mark.parametrize("name", ["bad-col", "1c", "with space", "dot.name", "c" * 256])
def test_invalid_attribute_column_name(client, new_table, name):
    table = new_table()
    with service_error("OTSParameterInvalid", 400, f"Invalid column name: '{name}'."):
        client.put_row(table, Row([("pk", "a")], [(name, 1)]))


def test_column_count_limit_is_1024_per_write(client, new_table):
    table = new_table()
    columns = [(f"c{i:04d}", i) for i in range(1025)]

    client.put_row(table, Row([("pk", "max")], columns[:1024]))
    assert len(client.get_row(table, [("pk", "max")])[1].attribute_columns) == 1024

    message = "The number of columns from the request exceeded the limit. Limit:1024, Current:1025."
    with service_error("OTSOutOfColumnCountLimit", 400, message):
        client.put_row(table, Row([("pk", "over")], columns))


def batch_of_4_5_mib(table):
    request = BatchWriteRowRequest()
    request.add(TableInBatchWriteRowItem(table, [
        PutRowItem(Row([("pk", str(i))], [("c", bytearray(1536 * 1024))]), None) for i in range(3)]))
    return request


def test_batch_write_data_limit_is_4_mib(client, new_table):
    table = new_table()
    with service_error("OTSParameterInvalid", 400, ANY_MESSAGE):
        client.batch_write_row(batch_of_4_5_mib(table))
    assert client.get_row(table, [("pk", "0")])[1] is None


def test_batch_write_data_limit_message(client, new_table):
    message = re.compile(r"The total data size of BatchWriteRow request exceeds the limit, "
                         r"limit size: ?4194304, data size: ?\d+\.?")
    with service_error("OTSParameterInvalid", 400, message):
        client.batch_write_row(batch_of_4_5_mib(new_table()))


def test_request_body_over_5_mib_is_rejected(client, new_table):
    table = new_table()
    row = Row([("pk", "a")], [(f"c{i}", bytearray(2 * MiB)) for i in range(3)])
    with service_error("OTSRequestBodyTooLarge", 413, "The size of POST data is too large."):
        client.put_row(table, row)


# ----------------------------------------------------------------------------
# Authentication through the SDK


@pytest.mark.parametrize("overrides,message", [
    ({"access_key_secret": "wrong-secret"}, "Signature mismatch."),
    ({"access_key_id": "unknown-ak"}, "The AccessKeyID does not exist."),
    ({"instance_name": "nope"}, "The instance 'nope' is not found."),
], ids=["wrong-secret", "unknown-access-key", "wrong-instance"])
def test_bad_credentials_are_rejected(emulator, overrides, message):
    bad = emulator.client(**overrides)
    with service_error(*AUTH_FAILED, message):
        bad.list_table()
    with service_error(*AUTH_FAILED, message):
        bad.put_row("any_table", Row([("pk", "a")], [("c", 1)]))


def test_v4_signed_client_works(emulator):
    v4 = emulator.client(region="cn-hangzhou")
    table = unique_name("v4")
    create_table(v4, table)
    try:
        v4.put_row(table, Row([("pk", "a")], [("c", "v4")]))
        row = v4.get_row(table, [("pk", "a")])[1]
        assert (row.primary_key, [c[:2] for c in row.attribute_columns]) == ([("pk", "a")], [("c", "v4")])
        assert table in v4.list_table()
    finally:
        v4.delete_table(table)


def test_v4_signed_client_with_wrong_secret_is_rejected(emulator):
    v4 = emulator.client(region="cn-hangzhou", access_key_secret="wrong-secret")
    with service_error(*AUTH_FAILED, "Signature mismatch."):
        v4.list_table()


# ----------------------------------------------------------------------------
# Hand-made requests


def assert_signed_response(resp, action):
    """The headers every SDK checks, with a valid response signature."""
    h = resp.headers
    assert h["x-ots-contentmd5"] == b64_md5(resp.body)
    assert h["x-ots-contenttype"] == "protocol buffer"
    assert RESPONSE_DATE.fullmatch(h["x-ots-date"]), h["x-ots-date"]
    assert REQUEST_ID.fullmatch(h["x-ots-requestid"]), h["x-ots-requestid"]
    assert h["authorization"] == f"OTS {ACCESS_KEY_ID}:{sign_response(ACCESS_KEY_SECRET, action, h)}"


def assert_raw_error(resp, status, code, message):
    assert (resp.status, resp.error()) == (status, (code, message))


def test_raw_signed_request_succeeds_with_signed_response(emulator, new_table):
    table = new_table()
    resp = raw_call(emulator.endpoint, "DescribeTable", describe_body(table))

    assert resp.status == 200
    assert_signed_response(resp, "DescribeTable")
    described = table_store_pb2.DescribeTableResponse()
    described.ParseFromString(resp.body)
    assert described.table_meta.table_name == table


def test_raw_request_with_endpoint_path_prefix_routes_on_last_segment(emulator):
    headers = signed_headers("ListTable", b"")
    resp = raw_call(emulator.endpoint, "some/prefix/ListTable", b"", headers=headers)
    assert resp.status == 200


def test_deflate_compressed_request_body(emulator, new_table):
    table = new_table()
    raw = describe_body(table)
    body = zlib.compress(raw)
    headers = signed_headers("DescribeTable", body, extra={
        "x-ots-request-compress-type": "deflate", "x-ots-request-compress-size": str(len(raw))})

    resp = raw_call(emulator.endpoint, "DescribeTable", body, headers)

    assert resp.status == 200
    described = table_store_pb2.DescribeTableResponse()
    described.ParseFromString(resp.body)
    assert described.table_meta.table_name == table


def test_tampered_md5_is_rejected(emulator, new_table):
    body = describe_body(new_table())
    headers = signed_headers("DescribeTable", body, content_md5=b64_md5(body + b"x"))

    resp = raw_call(emulator.endpoint, "DescribeTable", body, headers)

    assert_raw_error(resp, 403, "OTSAuthFailed", MD5_MISMATCH)
    assert_signed_response(resp, "DescribeTable")


def test_body_changed_after_signing_is_rejected(emulator, new_table):
    table = new_table()
    headers = signed_headers("DescribeTable", describe_body(table))
    resp = raw_call(emulator.endpoint, "DescribeTable", describe_body(table + "x"), headers)
    assert_raw_error(resp, 403, "OTSAuthFailed", MD5_MISMATCH)


@pytest.mark.parametrize("skew_minutes", [-20, 20])
def test_stale_or_future_date_is_rejected(emulator, skew_minutes):
    date = ots_date(dt.datetime.now(dt.timezone.utc) + dt.timedelta(minutes=skew_minutes))
    resp = raw_call(emulator.endpoint, "ListTable", b"", signed_headers("ListTable", b"", date=date))
    assert_raw_error(resp, 403, "OTSAuthFailed", f"Mismatch between system time and x-ots-date: {date}.")


def test_date_within_fifteen_minutes_is_accepted(emulator):
    date = ots_date(dt.datetime.now(dt.timezone.utc) - dt.timedelta(minutes=14))
    resp = raw_call(emulator.endpoint, "ListTable", b"", signed_headers("ListTable", b"", date=date))
    assert resp.status == 200


def test_missing_signature_header_is_rejected(emulator):
    headers = signed_headers("ListTable", b"")
    del headers["x-ots-signature"]
    resp = raw_call(emulator.endpoint, "ListTable", b"", headers)
    assert_raw_error(resp, 400, "OTSParameterInvalid", "Missing header: x-ots-signature.")


def test_signature_over_other_action_is_rejected(emulator):
    headers = signed_headers("ListTable", b"")
    resp = raw_call(emulator.endpoint, "ListTimeseriesTable", b"", headers)
    assert_raw_error(resp, 403, "OTSAuthFailed", "Signature mismatch.")


def test_unknown_access_key_error_is_not_signed(emulator):
    headers = signed_headers("ListTable", b"", access_key_id="unknown-ak")
    resp = raw_call(emulator.endpoint, "ListTable", b"", headers)
    assert_raw_error(resp, 403, "OTSAuthFailed", "The AccessKeyID does not exist.")
    assert "authorization" not in resp.headers


def test_unknown_action_is_unsupported(emulator):
    resp = raw_call(emulator.endpoint, "Foo", b"")
    assert_raw_error(resp, 400, "OTSParameterInvalid", "Unsupported operation: Foo.")
    assert_signed_response(resp, "Foo")


def get_list_table(emulator):
    return raw_call(emulator.endpoint, "ListTable", b"", signed_headers("ListTable", b""), method="GET")


def test_get_method_is_not_allowed(emulator):
    resp = get_list_table(emulator)
    assert (resp.status, resp.error()[0]) == (405, "OTSMethodNotAllowed")


def test_get_method_message(emulator):
    assert_raw_error(get_list_table(emulator), 405, "OTSMethodNotAllowed", "Only POST method for requests is supported.")


def test_garbage_body_is_invalid(emulator):
    body = b"\xff\xff\xff"
    resp = raw_call(emulator.endpoint, "DescribeTable", body)
    assert resp.status == 400
    code, message = resp.error()
    assert code == "OTSParameterInvalid" and message.startswith("Invalid request body: ")


# ----------------------------------------------------------------------------
# Fault injection


def test_throttle_rate_one_answers_server_busy_for_every_call(spawn_emulator):
    busy = spawn_emulator("--throttle-rate", "1.0").client()
    calls = [
        busy.list_table,
        lambda: busy.describe_table("t"),
        lambda: busy.put_row("t", Row([("pk", "a")], [("c", 1)])),
        lambda: busy.get_row("t", [("pk", "a")]),
        busy.list_timeseries_table,
    ]
    for call in calls:
        with service_error("OTSServerBusy", 503, "Server is busy."):
            call()


def test_throttling_happens_after_authentication(spawn_emulator):
    emu = spawn_emulator("--throttle-rate", "1.0")
    with service_error(*AUTH_FAILED, "Signature mismatch."):
        emu.client(access_key_secret="wrong-secret").list_table()


def test_latency_is_added_to_every_request(spawn_emulator):
    emu = spawn_emulator("--latency-ms", "400")
    started = time.monotonic()
    assert emu.client().list_table() == ()
    assert time.monotonic() - started >= 0.4

    with pytest.raises(urllib3.exceptions.ReadTimeoutError):
        emu.client(socket_timeout=0.1).list_table()
