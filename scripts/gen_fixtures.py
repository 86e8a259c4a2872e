#!/usr/bin/env python3
"""Generate golden wire-format vectors with the official Tablestore Python SDK.

What it produces
    tests/fixtures/sdk/NAME.bin       raw bytes of one encoded vector
    tests/fixtures/sdk/manifest.json  {"generator": {...}, "vectors": [...]}

Each manifest vector is {"name", "kind", "description", "input", "bytes_len",
"sha256"} (timeseries vectors also carry "crc32c", "request" and
"sdk_layout", the layout read back from the buffer), with kind
one of put_row | update_row | delete_row | primary_key | timeseries_rows.

All bytes come from the SDK's own encoders; nothing is re-implemented here:
    PlainBuffer  tablestore.plainbuffer.plain_buffer_builder.PlainBufferBuilder
                 .serialize_for_put_row / .serialize_for_update_row /
                 .serialize_for_delete_row / .serialize_primary_key
    FlatBuffers  tablestore.flatbuffer.timeseries_flat_buffer_encoder
                 .get_column_val_by_tp, cross-checked against (and crc32c taken
                 from) tablestore.encoder.OTSProtoBufferEncoder
                 ._encode_put_timeseries_data, i.e. the PutTimeseriesData path.

The "input" JSON describes the logical content so a Rust test can rebuild it:
    primary key  [[name, {"type": "string"|"integer"|"binary"|"inf_min"|
                          "inf_max"|"auto_increment", "value": ...}], ...]
    attributes   [{"name", "value": {"type", "value"} | null,
                   "timestamp": ms | null,
                   "op": "put"|"delete_one_version"|"delete_all_versions"|
                         "increment"}, ...]            (in wire order)
    timeseries   {"table_name", "rows": [{"measurement", "data_source", "tags": {k: v},
                            "time_us", "fields": {name: {"type", "value"}}}]}
Binary values are base64. Doubles carry "value" (float) and "bits" (IEEE-754
bits as a 0x-prefixed 16-digit hex string).

SDK type mapping to be aware of: a Python `bytes` value is encoded as STRING
by the SDK; only `bytearray` becomes BINARY/BLOB. This script therefore always
passes binary data as bytearray.

Re-run from the repository root:
    .venv/bin/python scripts/gen_fixtures.py
The script also checks the worked examples of
src/tablestore/PROTOCOL.md section 3.6 and exits with status
1 (after writing the fixtures) if any of them differ from the SDK output.
"""

import base64
import hashlib
import json
import logging
import os
import struct
import sys
from importlib.metadata import version

# The SDK logs a warning when its optional native C++ encoder is missing; the
# pure-Python encoders below are the ones this script uses anyway.
logging.disable(logging.WARNING)

import crc32c  # noqa: E402  (SDK dependency, used only for an extra check)
from tablestore.encoder import OTSProtoBufferEncoder  # noqa: E402
from tablestore.flatbuffer.timeseries import FlatBufferRows  # noqa: E402
from tablestore.flatbuffer.timeseries.DataType import DataType  # noqa: E402
from tablestore.flatbuffer.timeseries_flat_buffer_encoder import (  # noqa: E402
    get_column_val_by_tp,
)
from tablestore.metadata import (  # noqa: E402
    INF_MAX,
    INF_MIN,
    PK_AUTO_INCR,
    TimeseriesKey,
    TimeseriesRow,
)
from tablestore.plainbuffer.plain_buffer_builder import PlainBufferBuilder  # noqa: E402
from tablestore.plainbuffer.plain_buffer_coded_stream import (  # noqa: E402
    PlainBufferCodedInputStream,
)
from tablestore.plainbuffer.plain_buffer_stream import PlainBufferInputStream  # noqa: E402

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT_DIR = os.path.join(REPO_ROOT, "tests", "fixtures", "sdk")

I64_MIN = -(1 << 63)
I64_MAX = (1 << 63) - 1
TS = 1700000000000  # a fixed cell timestamp (ms)


# --------------------------------------------------------------------------
# Logical-content JSON
# --------------------------------------------------------------------------

def b64(data):
    return base64.b64encode(bytes(data)).decode("ascii")


def double_bits(x):
    return "0x%016x" % struct.unpack("<Q", struct.pack("<d", x))[0]


def pk_value_json(v):
    if v is INF_MIN:
        return {"type": "inf_min", "value": None}
    if v is INF_MAX:
        return {"type": "inf_max", "value": None}
    if v is PK_AUTO_INCR:
        return {"type": "auto_increment", "value": None}
    if isinstance(v, bool):
        raise TypeError("boolean primary keys are not covered")
    if isinstance(v, int):
        return {"type": "integer", "value": v}
    if isinstance(v, str):
        return {"type": "string", "value": v}
    if isinstance(v, bytearray):
        return {"type": "binary", "value": b64(v)}
    raise TypeError("unexpected primary key value %r" % (v,))


def primary_key_json(pk):
    return [[name, pk_value_json(value)] for name, value in pk]


def cell_value_json(v):
    if v is None:
        return None
    if isinstance(v, bool):  # before int: bool is an int subclass
        return {"type": "boolean", "value": v}
    if isinstance(v, int):
        return {"type": "integer", "value": v}
    if isinstance(v, float):
        return {"type": "double", "value": v, "bits": double_bits(v)}
    if isinstance(v, str):
        return {"type": "string", "value": v}
    if isinstance(v, bytearray):
        return {"type": "binary", "value": b64(v)}
    raise TypeError("unexpected cell value %r (use bytearray for binary)" % (v,))


def cell_json(name, value, timestamp, op):
    return {"name": name, "value": cell_value_json(value),
            "timestamp": timestamp, "op": op}


def put_cells_json(columns):
    """Columns in SDK put form: (name, value) or (name, value, timestamp)."""
    out = []
    for col in columns:
        name, value = col[0], col[1]
        ts = col[2] if len(col) == 3 else None
        out.append(cell_json(name, value, ts, "put"))
    return out


UPDATE_OPS = {
    "put": "put",
    "delete": "delete_one_version",
    "delete_all": "delete_all_versions",
    "increment": "increment",
}


def update_cells_json(update):
    """Mirror PlainBufferCodedOutputStream.write_update_columns: cells are
    written grouped by update type, in dict order, then list order."""
    out = []
    for kind, columns in update.items():
        op = UPDATE_OPS[kind.lower()]
        for col in columns:
            if isinstance(col, str):
                out.append(cell_json(col, None, None, op))
            else:
                ts = col[2] if len(col) == 3 else None
                out.append(cell_json(col[0], col[1], ts, op))
    return out


def ts_field_json(v):
    # Same dispatch order as build_row_to_row_group_offset in the SDK.
    if isinstance(v, bool):
        return {"type": "boolean", "value": v}
    if isinstance(v, int):
        return {"type": "long", "value": v}
    if isinstance(v, str):
        return {"type": "string", "value": v}
    if isinstance(v, bytearray):
        return {"type": "binary", "value": b64(v)}
    if isinstance(v, float):
        return {"type": "double", "value": v, "bits": double_bits(v)}
    raise TypeError("unexpected timeseries field value %r" % (v,))


def ts_row_json(row):
    key = row.timeseries_key
    return {
        "measurement": key.measurement_name,
        "data_source": key.data_source,
        "tags": dict(key.tags),
        "time_us": row.time_in_us,
        "fields": {k: ts_field_json(v) for k, v in row.fields.items()},
    }


# --------------------------------------------------------------------------
# Reading back SDK output (sanity checks and layout notes, not encoding)
# --------------------------------------------------------------------------

def sdk_decode_row(data):
    """Decode with the SDK's PlainBuffer reader (validates both checksums)."""
    stream = PlainBufferCodedInputStream(PlainBufferInputStream(bytes(data)))
    return stream.read_row()


DATA_TYPE_NAMES = {v: k.lower() for k, v in vars(DataType).items()
                   if not k.startswith("_")}


def _has_slot(table, slot):
    return table._tab.Offset(4 + 2 * slot) != 0


def flatbuffer_layout(data):
    """Describe how the SDK laid out a FlatBufferRows buffer, using the SDK's
    generated reader classes."""
    rows = FlatBufferRows.FlatBufferRows.GetRootAs(bytes(data), 0)
    groups = []
    for g in range(rows.RowGroupsLength()):
        group = rows.RowGroups(g)
        in_rows = []
        for r in range(group.RowsLength()):
            row = group.Rows(r)
            fv = row.FieldValues()
            in_rows.append({
                "data_source": row.DataSource().decode(),
                "tags_present": _has_slot(row, 1),
                "tags": row.Tags().decode() if _has_slot(row, 1) else None,
                "time": row.Time(),
                "time_present": _has_slot(row, 2),
                "meta_cache_update_time_present": _has_slot(row, 4),
                "tag_list": [[row.TagList(i).Name().decode(),
                              row.TagList(i).Value().decode()]
                             for i in range(row.TagListLength())],
                "field_value_vectors_present": [
                    name for slot, name in enumerate(
                        ["long_values", "bool_values", "double_values",
                         "string_values", "binary_values"])
                    if _has_slot(fv, slot)],
            })
        groups.append({
            "measurement_name": group.MeasurementName().decode(),
            "field_names": [group.FieldNames(i).decode()
                            for i in range(group.FieldNamesLength())],
            "field_types": [DATA_TYPE_NAMES[group.FieldTypes(i)]
                            for i in range(group.FieldTypesLength())],
            "rows": in_rows,
        })
    return {"row_groups": groups}


# --------------------------------------------------------------------------
# Vector construction
# --------------------------------------------------------------------------

VECTORS = []


def add(name, kind, description, data, input_json, **extra):
    data = bytes(data)
    entry = {"name": name, "kind": kind, "description": description,
             "input": input_json, "bytes_len": len(data),
             "sha256": hashlib.sha256(data).hexdigest()}
    entry.update(extra)
    VECTORS.append((entry, data))
    return data


def put_row(name, description, pk, columns):
    data = PlainBufferBuilder.serialize_for_put_row(pk, columns)
    return add(name, "put_row", description, data,
               {"primary_key": primary_key_json(pk),
                "attributes": put_cells_json(columns)})


def update_row(name, description, pk, update):
    data = PlainBufferBuilder.serialize_for_update_row(pk, update)
    return add(name, "update_row", description, data,
               {"primary_key": primary_key_json(pk),
                "attributes": update_cells_json(update)})


def delete_row(name, description, pk):
    data = PlainBufferBuilder.serialize_for_delete_row(pk)
    return add(name, "delete_row", description, data,
               {"primary_key": primary_key_json(pk), "attributes": []})


def primary_key(name, description, pk):
    data = PlainBufferBuilder.serialize_primary_key(pk)
    return add(name, "primary_key", description, data,
               {"primary_key": primary_key_json(pk), "attributes": []})


def timeseries_rows(name, description, table, rows):
    logical = {"table_name": table, "rows": [ts_row_json(r) for r in rows]}
    data = bytes(get_column_val_by_tp(table, rows))
    # The request path of PutTimeseriesData: same buffer plus its crc32c.
    proto = OTSProtoBufferEncoder("utf-8")._encode_put_timeseries_data(table, rows)
    assert proto.rows_data.rows_data == data, "encoder paths disagree"
    crc_i32 = proto.rows_data.flatbuffer_crc32c
    assert crc_i32 == struct.unpack("<i", struct.pack("<I", crc32c.crc32c(data)))[0]
    return add(name, "timeseries_rows", description, data, logical,
               crc32c={"i32": crc_i32, "u32": crc_i32 & 0xFFFFFFFF,
                       "computed_by": "tablestore.encoder: crc32c.crc32c(rows_data) "
                                      "reinterpreted as signed int32"},
               request={"supported_table_version": proto.supported_table_version,
                        "meta_update_mode": proto.meta_update_mode,
                        "rows_serialize_type": proto.rows_data.type},
               sdk_layout=flatbuffer_layout(data))


def ts_row(measurement, source, tags, time_us, fields):
    return TimeseriesRow(TimeseriesKey(measurement, source, tags), fields, time_us)


def build_vectors():
    pk = [("s", "ab"), ("i", 1)]

    # 1. Spec 3.6 worked example.
    put_row("spec_put_basic", "Spec 3.6 worked example: PK s='ab', i=1; "
            "attrs a=1.5, b=true, c='x'; no timestamps.",
            pk, [("a", 1.5), ("b", True), ("c", "x")])

    # 2. Same PK in the other PK-carrying payloads.
    delete_row("spec_delete_row", "Spec 3.6: DeleteRow payload for PK s='ab', i=1.", pk)
    primary_key("spec_get_row_pk", "Spec 3.6: GetRow primary key s='ab', i=1.", pk)
    primary_key("spec_range_start_inf_min", "Spec 3.6: GetRange inclusive start "
                "(s=INF_MIN, i=INF_MIN).", [("s", INF_MIN), ("i", INF_MIN)])
    primary_key("spec_range_end_inf_max", "GetRange exclusive end "
                "(s=INF_MAX, i=INF_MAX).", [("s", INF_MAX), ("i", INF_MAX)])

    # 3. AUTO_INCREMENT primary key.
    put_row("spec_put_auto_increment", "Spec 3.6: put with s='ab', i=AUTO_INCREMENT, "
            "no attribute columns.", [("s", "ab"), ("i", PK_AUTO_INCR)], [])
    put_row("put_auto_increment_with_attrs", "PK s='ab', i=AUTO_INCREMENT plus "
            "attributes v=42, w='auto'.",
            [("s", "ab"), ("i", PK_AUTO_INCR)], [("v", 42), ("w", "auto")])

    # 4. Spec 3.6 update example. Note the ('b', None, ts) form for the
    #    delete-one-version cell (('b', ts) would encode ts as a value).
    update_row("spec_update_mixed", "Spec 3.6 update: put a=2.0@1700000000000, "
               "delete one version b@1700000000000, delete all versions of c, "
               "increment n by 5.", pk,
               {"put": [("a", 2.0, TS)],
                "delete": [("b", None, TS)],
                "delete_all": ["c"],
                "increment": [("n", 5)]})

    # 5. A typical 10-column row.
    put_row("typical_10_columns", "Typical row: PK topic_partition='orders_3', "
            "offset=123456789; 10 attributes of mixed types (strings 10-40 chars, "
            "i64 min/max and negative, doubles -0.0 and 1e300, booleans, 16-byte "
            "binary, multibyte UTF-8 string).",
            [("topic_partition", "orders_3"), ("offset", 123456789)],
            [("order_note", "please leave the parcel at the back door"),
             ("amount_cents", -4250),
             ("min_i64", I64_MIN),
             ("max_i64", I64_MAX),
             ("neg_zero", -0.0),
             ("huge", 1e300),
             ("is_paid", True),
             ("is_gift", False),
             ("payload", bytearray(range(0x10, 0x20))),
             ("greeting", "héllo wörld ✓")])  # 13 chars, 17 UTF-8 bytes

    # 6. Assorted put-row shapes.
    put_row("put_with_timestamps", "Put with explicit per-cell timestamps "
            "(and one cell without).", pk,
            [("a", 1.5, TS), ("b", "v1", TS + 1), ("c", 7), ("d", False, 1)])
    put_row("put_binary_pk", "Binary PK column (bytearray => BLOB) between a "
            "string and an integer PK.",
            [("tenant", "t1"), ("id", bytearray(b"\x00\x01\xfe\xff")), ("seq", -1)],
            [("v", "x")])
    put_row("put_empty_string_attr", "Attribute holding the empty string.", pk,
            [("empty", ""), ("after", 0)])
    put_row("put_no_attributes", "Put with no attribute columns "
            "(no ROW_DATA tag).", pk, [])

    # 7. Timeseries FlatBuffers.
    timeseries_rows("ts_single_all_types", "One row, all 5 field types.", "ts_table", [
        ts_row("cpu", "host1", {"region": "cn-hangzhou", "az": "a"},
               1700000000123456,
               {"usage": 0.75, "count": 42, "ok": True, "state": "running",
                "raw": bytearray(b"\x00\x01\x02\xff")}),
    ])
    timeseries_rows("ts_multi_series", "Several rows of different series "
                    "(measurement/source/tags) and field sets.", "ts_table", [
        ts_row("cpu", "host1", {"region": "cn-hangzhou"}, 1700000000000001,
               {"usage": 0.5, "cores": 8}),
        ts_row("cpu", "host2", {"region": "cn-shanghai", "az": "b"}, 1700000000000002,
               {"usage": -0.0, "cores": -3, "healthy": False}),
        ts_row("mem", "host1", {"region": "cn-hangzhou"}, 1700000000000003,
               {"used": I64_MAX, "free": I64_MIN, "pct": 1e300, "note": "héllo ✓"}),
        ts_row("cpu", "host1", {"region": "cn-hangzhou"}, 1700000000000004,
               {"usage": 0.25, "cores": 8}),
    ])
    timeseries_rows("ts_no_tags_empty_source", "Row with no tags and empty data "
                    "source.", "ts_table", [
        ts_row("disk", "", {}, 1700000000000000, {"free": 123}),
    ])
    timeseries_rows("ts_time_zero", "time_us=0 equals the FlatBuffers default, so "
                    "the SDK's builder omits the time slot entirely; readers must "
                    "default it to 0.", "ts_table", [
        ts_row("disk", "host9", {"dev": "sda"}, 0, {"free": 0, "ro": False}),
    ])


# --------------------------------------------------------------------------
# Spec 3.6 checks
# --------------------------------------------------------------------------

SPEC_PK = ("75000000" "01"
           "03" "0401000000" "73" "0507000000" "03" "02000000" "6162" "0a4d"
           "03" "0401000000" "69" "0509000000" "00" "0100000000000000" "0a57")
SPEC_EXPECTED = {
    "spec_put_basic":
        SPEC_PK + "02"
        "03" "0401000000" "61" "0509000000" "01" "000000000000f83f" "0a75"
        "03" "0401000000" "62" "0502000000" "02" "01" "0a3e"
        "03" "0401000000" "63" "0506000000" "03" "01000000" "78" "0af4"
        "0996",
    "spec_delete_row": SPEC_PK + "08" "0977",
    "spec_get_row_pk": SPEC_PK + "0970",
    "spec_range_start_inf_min":
        "75000000" "01" "03" "0401000000" "73" "0501000000" "09" "0aa2"
        "03" "0401000000" "69" "0501000000" "09" "0a77" "0957",
    "spec_put_auto_increment":
        "75000000" "01"
        "03" "0401000000" "73" "0507000000" "03" "02000000" "6162" "0a4d"
        "03" "0401000000" "69" "0501000000" "0b" "0a79" "0908",
    "spec_update_mixed":
        SPEC_PK + "02"
        "03" "0401000000" "61" "0509000000" "01" "0000000000000040"
        "07" "0068e5cf8b010000" "0a4e"
        "03" "0401000000" "62" "0603" "07" "0068e5cf8b010000" "0a66"
        "03" "0401000000" "63" "0601" "0acd"
        "03" "0401000000" "6e" "0509000000" "00" "0500000000000000" "0604" "0a00"
        "0995",
}
SPEC_LENGTHS = {"spec_put_basic": 111, "spec_update_mixed": 140}


def check_spec(by_name):
    ok = True
    for name, hex_ in SPEC_EXPECTED.items():
        expected = bytes.fromhex(hex_)
        got = by_name[name]
        want_len = SPEC_LENGTHS.get(name, len(expected))
        if got == expected and len(got) == want_len:
            print("spec 3.6 match: %-26s %3d bytes identical" % (name, len(got)))
        else:
            ok = False
            print("spec 3.6 MISMATCH: %s\n  spec: %s\n  sdk:  %s"
                  % (name, expected.hex(), got.hex()))
    return ok


def self_check(entries):
    """Decode every plain put row / PK without INF or AUTO_INCREMENT values
    with the SDK's own reader, which verifies cell and row checksums."""
    for entry, data in entries:
        if entry["kind"] not in ("put_row", "primary_key"):
            continue
        pk_types = {v["type"] for _, v in entry["input"]["primary_key"]}
        if pk_types & {"inf_min", "inf_max", "auto_increment"}:
            continue  # the SDK reader only knows concrete PK values
        pk, attrs = sdk_decode_row(data)
        assert [n for n, _ in pk] == [n for n, _ in entry["input"]["primary_key"]]
        assert [a[0] for a in attrs] == [c["name"] for c in entry["input"]["attributes"]]


def main():
    build_vectors()
    self_check(VECTORS)

    os.makedirs(OUT_DIR, exist_ok=True)
    for entry, data in VECTORS:
        with open(os.path.join(OUT_DIR, entry["name"] + ".bin"), "wb") as f:
            f.write(data)
    manifest = {
        "generator": {
            "script": "scripts/gen_fixtures.py",
            "tablestore": version("tablestore"),
            "flatbuffers": version("flatbuffers"),
            "crc32c": version("crc32c"),
        },
        "vectors": [entry for entry, _ in VECTORS],
    }
    with open(os.path.join(OUT_DIR, "manifest.json"), "w", encoding="utf-8") as f:
        json.dump(manifest, f, indent=2, ensure_ascii=False)
        f.write("\n")
    print("wrote %d vectors to %s" % (len(VECTORS), os.path.relpath(OUT_DIR, REPO_ROOT)))

    ok = check_spec({entry["name"]: data for entry, data in VECTORS})
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
