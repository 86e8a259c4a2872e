//! Our codecs against byte vectors produced by the official Python SDK
//! (`scripts/gen_fixtures.py` → `tests/fixtures/sdk/`).
//!
//! PlainBuffer: we must produce the SDK's bytes exactly, and decode them to
//! the same logical row. FlatBuffers: the builder's layout is not unique,
//! so we decode the SDK's buffer (with its CRC-32C) and compare content,
//! and check our own encoding decodes to the same rows.

use std::collections::BTreeMap;
use std::path::PathBuf;

use base64::Engine;
use serde_json::Value as Json;
use tablestore_sink::tablestore::flatrows::{self, FieldValue, SeriesKey, TimeseriesRow};
use tablestore_sink::tablestore::plainbuffer::{self, Cell, CellOp, PkValue, Row, Value};

fn dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/sdk")
}

fn vectors() -> Vec<Json> {
    let manifest: Json =
        serde_json::from_slice(&std::fs::read(dir().join("manifest.json")).unwrap()).unwrap();
    manifest["vectors"].as_array().unwrap().clone()
}

fn bytes_of(name: &str) -> Vec<u8> {
    std::fs::read(dir().join(format!("{name}.bin"))).unwrap()
}

fn b64(v: &Json) -> Vec<u8> {
    base64::engine::general_purpose::STANDARD
        .decode(v.as_str().unwrap())
        .unwrap()
}

fn double(v: &Json) -> f64 {
    let bits = v["bits"].as_str().unwrap().trim_start_matches("0x");
    f64::from_bits(u64::from_str_radix(bits, 16).unwrap())
}

fn pk_value(v: &Json) -> PkValue {
    match v["type"].as_str().unwrap() {
        "string" => PkValue::String(v["value"].as_str().unwrap().into()),
        "integer" => PkValue::Integer(v["value"].as_i64().unwrap()),
        "binary" => PkValue::Binary(b64(&v["value"])),
        "inf_min" => PkValue::InfMin,
        "inf_max" => PkValue::InfMax,
        "auto_increment" => PkValue::AutoIncrement,
        other => panic!("unknown pk type {other}"),
    }
}

fn attr_value(v: &Json) -> Value {
    match v["type"].as_str().unwrap() {
        "string" => Value::String(v["value"].as_str().unwrap().into()),
        "integer" => Value::Integer(v["value"].as_i64().unwrap()),
        "double" => Value::Double(double(v)),
        "boolean" => Value::Boolean(v["value"].as_bool().unwrap()),
        "binary" => Value::Binary(b64(&v["value"])),
        other => panic!("unknown value type {other}"),
    }
}

fn row_of(vector: &Json) -> Row {
    let input = &vector["input"];
    let primary_key = input["primary_key"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| (p[0].as_str().unwrap().to_owned(), pk_value(&p[1])))
        .collect();
    let cells = input["attributes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| Cell {
            name: a["name"].as_str().unwrap().into(),
            value: (!a["value"].is_null()).then(|| attr_value(&a["value"])),
            op: match a["op"].as_str().unwrap() {
                "put" => CellOp::Put,
                "delete_one_version" => CellOp::DeleteOneVersion,
                "delete_all_versions" => CellOp::DeleteAllVersions,
                "increment" => CellOp::Increment,
                other => panic!("unknown op {other}"),
            },
            timestamp_ms: a["timestamp"].as_i64(),
        })
        .collect();
    Row {
        primary_key,
        cells,
        delete_marker: vector["kind"] == "delete_row",
    }
}

fn assert_same_row(a: &Row, b: &Row, name: &str) {
    assert_eq!(a.primary_key, b.primary_key, "{name}: primary key");
    assert_eq!(a.delete_marker, b.delete_marker, "{name}: delete marker");
    assert_eq!(a.cells.len(), b.cells.len(), "{name}: cell count");
    for (x, y) in a.cells.iter().zip(&b.cells) {
        assert_eq!(
            (&x.name, x.op, x.timestamp_ms),
            (&y.name, y.op, y.timestamp_ms),
            "{name}: cell"
        );
        match (&x.value, &y.value) {
            (Some(p), Some(q)) => assert!(p.bitwise_eq(q), "{name}: {} is {p:?} vs {q:?}", x.name),
            (p, q) => assert_eq!(p, q, "{name}: {}", x.name),
        }
    }
}

#[test]
fn plainbuffer_vectors_encode_to_the_sdk_bytes_and_decode_back() {
    let mut checked = 0;
    for v in vectors().iter().filter(|v| v["kind"] != "timeseries_rows") {
        let name = v["name"].as_str().unwrap();
        let sdk = bytes_of(name);
        let row = row_of(v);
        assert_eq!(
            plainbuffer::encode_row(&row),
            sdk,
            "{name}: our bytes differ from the SDK's"
        );
        assert_same_row(&plainbuffer::decode_single_row(&sdk).unwrap(), &row, name);
        checked += 1;
    }
    assert!(checked >= 12, "only {checked} PlainBuffer vectors found");
}

fn field_value(v: &Json) -> FieldValue {
    match v["type"].as_str().unwrap() {
        "long" => FieldValue::Long(v["value"].as_i64().unwrap()),
        "double" => FieldValue::Double(double(v)),
        "boolean" => FieldValue::Boolean(v["value"].as_bool().unwrap()),
        "string" => FieldValue::String(v["value"].as_str().unwrap().into()),
        "binary" => FieldValue::Binary(b64(&v["value"])),
        other => panic!("unknown field type {other}"),
    }
}

fn points_of(vector: &Json) -> Vec<TimeseriesRow> {
    vector["input"]["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            let tags: BTreeMap<String, String> = r["tags"]
                .as_object()
                .unwrap()
                .iter()
                .map(|(k, v)| (k.clone(), v.as_str().unwrap().to_owned()))
                .collect();
            let mut fields: Vec<(String, FieldValue)> = r["fields"]
                .as_object()
                .unwrap()
                .iter()
                .map(|(k, v)| (k.clone(), field_value(v)))
                .collect();
            fields.sort_by(|a, b| a.0.cmp(&b.0));
            TimeseriesRow {
                key: SeriesKey {
                    measurement: r["measurement"].as_str().unwrap().into(),
                    data_source: r["data_source"].as_str().unwrap().into(),
                    tags,
                },
                time_us: r["time_us"].as_i64().unwrap(),
                fields,
                meta_cache_update_time: 0,
            }
        })
        .collect()
}

#[test]
fn timeseries_vectors_decode_with_the_sdk_crc_and_round_trip() {
    let mut checked = 0;
    for v in vectors().iter().filter(|v| v["kind"] == "timeseries_rows") {
        let name = v["name"].as_str().unwrap();
        let sdk = bytes_of(name);
        let crc = v["crc32c"]["i32"].as_i64().unwrap() as i32;
        assert_eq!(flatrows::crc32c_signed(&sdk), crc, "{name}: CRC-32C");
        let want = points_of(v);
        let got = flatrows::decode(&sdk, Some(crc)).unwrap();
        assert_eq!(got, want, "{name}: decoded SDK rows");
        let ours = flatrows::encode(&want);
        assert_eq!(
            flatrows::decode(&ours, Some(flatrows::crc32c_signed(&ours))).unwrap(),
            want,
            "{name}: our encoding"
        );
        assert!(
            flatrows::decode(&sdk, Some(crc ^ 1)).is_err(),
            "{name}: a wrong CRC must be rejected"
        );
        checked += 1;
    }
    assert!(checked >= 3, "only {checked} TimeSeries vectors found");
}

// ===== The Node.js SDK's padded buffers (tests/interop-node/gen_fixtures.js) =====

fn node_bytes(name: &str) -> Vec<u8> {
    std::fs::read(
        PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join(format!("tests/fixtures/node-sdk/{name}.bin")),
    )
    .unwrap()
}

fn s(v: &str) -> PkValue {
    PkValue::String(v.into())
}

/// Each vector: the logical row, and how many zero bytes the SDK's buffer
/// sizing left after the row checksum.
fn node_vectors() -> Vec<(&'static str, Row, usize)> {
    let key = |a: &str, b: PkValue, c: &str, d: PkValue| vec![(a.to_owned(), b), (c.to_owned(), d)];
    vec![
        (
            "range_start_inf_min",
            Row::with_key(key("gid", PkValue::InfMin, "uid", PkValue::InfMin)),
            2,
        ),
        (
            "range_end_inf_max",
            Row::with_key(key("gid", PkValue::InfMax, "uid", PkValue::InfMax)),
            2,
        ),
        (
            "put_auto_increment",
            Row {
                primary_key: key("pk1", s("a"), "pk2", PkValue::AutoIncrement),
                cells: vec![Cell::put("col", Value::String("x".into()))],
                delete_marker: false,
            },
            1,
        ),
        (
            "update_put_with_timestamp",
            Row {
                primary_key: key("pk1", s("pk1val"), "pk2", s("pk2val")),
                cells: vec![Cell::put_at(
                    "col",
                    Value::String("v".into()),
                    1_700_000_000_000,
                )],
                delete_marker: false,
            },
            22,
        ),
        (
            "update_sample_mixed",
            Row {
                primary_key: key("gid", PkValue::Integer(9), "uid", PkValue::Integer(90)),
                cells: vec![
                    Cell::put("col4", Value::Integer(4)),
                    Cell::put("col5", Value::String("5".into())),
                    Cell::put("col6", Value::Integer(7)),
                    Cell::delete_version("col1", 1_496_826_473_186),
                    Cell::delete_all("col2"),
                ],
                delete_marker: false,
            },
            5,
        ),
    ]
}

#[test]
fn node_sdk_rows_decode_despite_their_zero_padding() {
    for (name, want, padding) in node_vectors() {
        let sdk = node_bytes(name);
        let exact = plainbuffer::encode_row(&want);
        // The SDK's bytes are ours plus exactly `padding` zeros.
        assert_eq!(sdk.len(), exact.len() + padding, "{name}: padding");
        assert_eq!(&sdk[..exact.len()], exact.as_slice(), "{name}: row bytes");
        assert!(sdk[exact.len()..].iter().all(|b| *b == 0), "{name}: zeros");
        assert_same_row(&plainbuffer::decode_single_row(&sdk).unwrap(), &want, name);
    }
}

#[test]
fn node_sdk_padding_never_hides_a_corrupt_row() {
    for (name, want, _) in node_vectors() {
        let sdk = node_bytes(name);
        let row_len = plainbuffer::encode_row(&want).len();
        // A wrong row checksum.
        let mut b = sdk.clone();
        b[row_len - 1] ^= 0x01;
        assert!(
            matches!(
                plainbuffer::decode_single_row(&b),
                Err(plainbuffer::DecodeError::RowChecksum { .. })
            ),
            "{name}: bad row checksum accepted"
        );
        // Anything but zeros after the row.
        let mut b = sdk.clone();
        b[row_len] = 0xee;
        assert_eq!(
            plainbuffer::decode_single_row(&b),
            Err(plainbuffer::DecodeError::TrailingBytes {
                offset: row_len,
                found: 0xee
            }),
            "{name}: non-zero padding accepted"
        );
        // Multi-row decoding (responses) stays strict.
        assert!(plainbuffer::decode_rows(&sdk).is_err(), "{name}");
    }
}
