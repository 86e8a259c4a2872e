//! Tests of the FlatBuffers rows codec: round trips, the verifier's
//! bounds and budgets, and the CRC.

use super::*;

fn sample() -> Vec<TimeseriesRow> {
    vec![TimeseriesRow {
        key: SeriesKey {
            measurement: "cpu".into(),
            data_source: "host1".into(),
            tags: [
                ("region".to_string(), "cn".to_string()),
                ("az".to_string(), "a".to_string()),
            ]
            .into(),
        },
        time_us: 1_700_000_000_123_456,
        fields: vec![
            ("z".into(), FieldValue::Double(0.5)),
            ("a".into(), FieldValue::Long(-7)),
            ("b".into(), FieldValue::Boolean(true)),
            ("s".into(), FieldValue::String("héllo".into())),
            ("bin".into(), FieldValue::Binary(vec![0, 255, 7])),
            ("a2".into(), FieldValue::Long(i64::MAX)),
        ],
        meta_cache_update_time: 0,
    }]
}

#[test]
fn round_trip_sorts_fields_and_keeps_types() {
    let bytes = encode(&sample());
    let back = decode(&bytes, Some(crc32c_signed(&bytes))).unwrap();
    let mut want = sample();
    want[0].fields.sort_by(|a, b| a.0.cmp(&b.0));
    assert_eq!(back, want);
}

#[test]
fn bad_crc_is_rejected() {
    let bytes = encode(&sample());
    assert!(matches!(
        decode(&bytes, Some(crc32c_signed(&bytes) ^ 1)),
        Err(FlatRowsError::Crc { .. })
    ));
}

#[test]
fn garbage_never_panics() {
    let bytes = encode(&sample());
    for i in 0..bytes.len() {
        let mut b = bytes.clone();
        b[i] = b[i].wrapping_add(0x5a);
        let _ = decode(&b, None);
        let _ = decode(&b[..i], None);
    }
}

/// One group of `fields` STRING fields, every value the same `value_len`
/// bytes string, and `rows` rows that all point at one row.
fn shared(rows: usize, fields: usize, value_len: usize) -> Vec<u8> {
    let mut fbb = FlatBufferBuilder::new();
    let value = fbb.create_string(&"v".repeat(value_len));
    let strings = fbb.create_vector(&vec![value; fields]);
    let start = fbb.start_table();
    fbb.push_slot_always(slot(3), strings);
    let values = fbb.end_table(start);
    let start = fbb.start_table();
    fbb.push_slot_always(slot(3), values);
    let row = fbb.end_table(start);
    let rows = fbb.create_vector(&vec![row; rows]);
    let name = fbb.create_string("f");
    let names = fbb.create_vector(&vec![name; fields]);
    let types = fbb.create_vector(&vec![data_type::STRING; fields]);
    let measurement = fbb.create_string("m");
    let start = fbb.start_table();
    fbb.push_slot_always(slot(0), measurement);
    fbb.push_slot_always(slot(1), names);
    fbb.push_slot_always(slot(2), types);
    fbb.push_slot_always(slot(3), rows);
    let group = fbb.end_table(start);
    let groups = fbb.create_vector(&[group]);
    let start = fbb.start_table();
    fbb.push_slot_always(slot(0), groups);
    let root = fbb.end_table(start);
    fbb.finish(root, None);
    fbb.finished_data().to_vec()
}

#[test]
fn rows_are_counted_before_any_is_built() {
    let bytes = shared(20_000, 1, 1);
    assert!(bytes.len() < 100_000);
    assert!(matches!(
        decode(&bytes, None),
        Err(FlatRowsError::TooManyRows { count: 20_000 })
    ));
    assert_eq!(
        decode(&shared(MAX_ROWS, 1, 1), None).unwrap().len(),
        MAX_ROWS
    );
}

#[test]
fn fields_are_counted_before_any_row_is_built() {
    assert!(matches!(
        decode(&shared(1, MAX_FIELDS + 1, 1), None),
        Err(FlatRowsError::TooManyFields {
            group: 0,
            count: 1025
        })
    ));
}

#[test]
fn one_string_referenced_many_times_stops_at_the_expansion_budget() {
    // 200 rows x 1000 fields x 200 bytes = 40 MB if expanded; ~10 KB here.
    // (Far larger expansions already fail the verifier's size bound.)
    let bytes = shared(200, 1000, 200);
    assert!(bytes.len() < 20_000);
    let result = decode(&bytes, None);
    assert!(matches!(result, Err(FlatRowsError::TooLarge)), "{result:?}");
    // Within the budget the same sharing decodes.
    assert_eq!(decode(&shared(2, 10, 1024), None).unwrap().len(), 2);
}

#[test]
fn tags_string_round_trips() {
    let key = &sample()[0].key;
    assert_eq!(key.tags_string(), r#"["az=a","region=cn"]"#);
    assert_eq!(SeriesKey::parse_tags(&key.tags_string()).unwrap(), key.tags);
    assert_eq!(SeriesKey::parse_tags("[]").unwrap(), BTreeMap::new());
}
