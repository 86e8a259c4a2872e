//! Property tests: every row round-trips through PlainBuffer, every point
//! through FlatBuffers, and arbitrary or corrupted bytes never panic.

use proptest::prelude::*;
use tablestore_sink::tablestore::flatrows::{self, FieldValue, SeriesKey, TimeseriesRow};
use tablestore_sink::tablestore::plainbuffer::{self, Cell, CellOp, PkValue, Row, Value};

fn name() -> impl Strategy<Value = String> {
    "[A-Za-z_][A-Za-z0-9_]{0,12}"
}

fn pk_value() -> impl Strategy<Value = PkValue> {
    prop_oneof![
        any::<i64>().prop_map(PkValue::Integer),
        ".{0,20}".prop_map(PkValue::String),
        proptest::collection::vec(any::<u8>(), 0..20).prop_map(PkValue::Binary),
    ]
}

fn value() -> impl Strategy<Value = Value> {
    prop_oneof![
        any::<i64>().prop_map(Value::Integer),
        any::<u64>().prop_map(|b| Value::Double(f64::from_bits(b))),
        any::<bool>().prop_map(Value::Boolean),
        ".{0,30}".prop_map(Value::String),
        proptest::collection::vec(any::<u8>(), 0..30).prop_map(Value::Binary),
    ]
}

fn cell() -> impl Strategy<Value = Cell> {
    (
        name(),
        value(),
        proptest::option::of(0i64..4_000_000_000_000),
        0..4u8,
    )
        .prop_map(|(name, v, ts, op)| match op {
            0 => Cell {
                name,
                value: Some(v),
                op: CellOp::Put,
                timestamp_ms: ts,
            },
            1 => Cell {
                name,
                value: None,
                op: CellOp::DeleteAllVersions,
                timestamp_ms: None,
            },
            2 => Cell {
                name,
                value: None,
                op: CellOp::DeleteOneVersion,
                timestamp_ms: Some(ts.unwrap_or(1)),
            },
            _ => Cell {
                name,
                value: Some(Value::Integer(ts.unwrap_or(3))),
                op: CellOp::Increment,
                timestamp_ms: None,
            },
        })
}

fn row() -> impl Strategy<Value = Row> {
    (
        proptest::collection::vec((name(), pk_value()), 1..5),
        proptest::collection::vec(cell(), 0..8),
        any::<bool>(),
    )
        .prop_map(|(primary_key, cells, del)| {
            let delete_marker = del && cells.is_empty();
            Row {
                primary_key,
                cells,
                delete_marker,
            }
        })
}

fn same(a: &Row, b: &Row) -> bool {
    a.primary_key == b.primary_key
        && a.delete_marker == b.delete_marker
        && a.cells.len() == b.cells.len()
        && a.cells.iter().zip(&b.cells).all(|(x, y)| {
            x.name == y.name
                && x.op == y.op
                && x.timestamp_ms == y.timestamp_ms
                && match (&x.value, &y.value) {
                    (Some(p), Some(q)) => p.bitwise_eq(q),
                    (p, q) => p == q,
                }
        })
}

proptest! {
    #[test]
    fn plainbuffer_round_trips(r in row()) {
        let bytes = plainbuffer::encode_row(&r);
        prop_assert_eq!(bytes.len(), plainbuffer::encoded_row_len(&r) + 4);
        let back = plainbuffer::decode_single_row(&bytes).unwrap();
        prop_assert!(same(&back, &r), "{:?} != {:?}", back, r);
    }

    #[test]
    fn multi_row_buffers_round_trip(rows in proptest::collection::vec(row(), 1..5)) {
        let bytes = plainbuffer::encode_rows(&rows);
        let back = plainbuffer::decode_rows(&bytes).unwrap();
        prop_assert_eq!(back.len(), rows.len());
        for (a, b) in back.iter().zip(&rows) {
            prop_assert!(same(a, b));
        }
    }

    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..300)) {
        let _ = plainbuffer::decode_rows(&bytes);
        let mut with_header = 0x75u32.to_le_bytes().to_vec();
        with_header.extend_from_slice(&bytes);
        let _ = plainbuffer::decode_rows(&with_header);
        let _ = flatrows::decode(&bytes, None);
    }

    #[test]
    fn corrupted_rows_are_rejected_or_differ(r in row(), pos in any::<usize>(), xor in 1u8..) {
        let mut bytes = plainbuffer::encode_row(&r);
        let i = pos % bytes.len();
        bytes[i] ^= xor;
        if let Ok(back) = plainbuffer::decode_single_row(&bytes) {
            // A corruption that still decodes must at least not pass as the
            // original row (CRC-8 catches every single-byte error in data).
            prop_assert!(!same(&back, &r), "corruption at {} went unnoticed", i);
        }
    }

    #[test]
    fn flatbuffer_points_round_trip(
        m in "[a-z]{1,8}", ds in "[a-z0-9]{0,8}",
        tags in proptest::collection::btree_map("[a-z]{1,5}", "[a-z0-9]{1,5}", 0..4),
        t in 0i64..i64::MAX, l in any::<i64>(), d in any::<u64>(), s in ".{0,20}", bin in proptest::collection::vec(any::<u8>(), 0..10), b in any::<bool>(),
    ) {
        let p = TimeseriesRow {
            key: SeriesKey { measurement: m, data_source: ds, tags },
            time_us: t,
            fields: vec![
                ("a".into(), FieldValue::Long(l)),
                ("b".into(), FieldValue::Boolean(b)),
                ("c".into(), FieldValue::Double(f64::from_bits(d))),
                ("d".into(), FieldValue::String(s)),
                ("e".into(), FieldValue::Binary(bin)),
            ],
            meta_cache_update_time: 7,
        };
        let bytes = flatrows::encode(std::slice::from_ref(&p));
        let back = flatrows::decode(&bytes, Some(flatrows::crc32c_signed(&bytes))).unwrap();
        prop_assert_eq!(back.len(), 1);
        prop_assert_eq!(&back[0].key, &p.key);
        prop_assert_eq!(back[0].time_us, p.time_us);
        prop_assert_eq!(back[0].meta_cache_update_time, 7);
        match (&back[0].fields[2].1, &p.fields[2].1) {
            (FieldValue::Double(x), FieldValue::Double(y)) => prop_assert_eq!(x.to_bits(), y.to_bits()),
            _ => prop_assert!(false),
        }
    }
}
