//! How a TimeSeries point is stored as a Wide Column row, the layout
//! GetTimeseriesData returns in `rows_data` (`PROTOCOL.md` §4.1/§4.4):
//!
//! ```text
//! PK:    _#h (STRING, hash of the series) | _m_name | _data_source | _tags | _time (INTEGER µs)
//! cells: "<field>:<type letter>" = value
//! ```
//! The emulator stores points this way and our client reads them back
//! with [`row_from_storage`]. Readers strip the suffix from the last ':'.

use super::flatrows::{FieldValue, SeriesKey, TimeseriesRow};
use super::plainbuffer::{Cell, PkValue, Row, Value};

pub const PK_HASH: &str = "_#h";
pub const PK_MEASUREMENT: &str = "_m_name";
pub const PK_DATA_SOURCE: &str = "_data_source";
pub const PK_TAGS: &str = "_tags";
pub const PK_TIME: &str = "_time";

/// Names a TimeSeries field must not contain (`PROTOCOL.md` §6): the key columns
/// and the meta table's own columns.
pub const RESERVED_FIELD_NAMES: [&str; 6] = [
    PK_MEASUREMENT,
    PK_DATA_SOURCE,
    PK_TAGS,
    PK_TIME,
    "_meta_update_time",
    "_attributes",
];

/// Column-name suffix per field type.
fn suffix(value: &FieldValue) -> &'static str {
    match value {
        FieldValue::Long(_) => ":i",
        FieldValue::Boolean(_) => ":b",
        FieldValue::Double(_) => ":d",
        FieldValue::String(_) => ":s",
        FieldValue::Binary(_) => ":n",
    }
}

/// A short stable hash of the series identity, spreading series over
/// partitions the way the service's `_#h` column does.
pub fn series_hash(key: &SeriesKey) -> String {
    series_hash_of(key, &key.tags_string())
}

/// [`series_hash`] given the key's [`SeriesKey::tags_string`].
fn series_hash_of(key: &SeriesKey, tags: &str) -> String {
    let mut h: u32 = 0x811c9dc5;
    for b in key
        .measurement
        .bytes()
        .chain([0])
        .chain(key.data_source.bytes())
        .chain([0])
        .chain(tags.bytes())
    {
        h = (h ^ b as u32).wrapping_mul(0x01000193);
    }
    format!("{:04x}", h & 0xffff)
}

/// The storage primary key of a point.
pub fn storage_key(key: &SeriesKey, time_us: i64) -> Vec<(String, PkValue)> {
    storage_key_of(key, key.tags_string(), time_us)
}

/// [`storage_key`] given the key's [`SeriesKey::tags_string`].
fn storage_key_of(key: &SeriesKey, tags: String, time_us: i64) -> Vec<(String, PkValue)> {
    vec![
        (PK_HASH.into(), PkValue::String(series_hash_of(key, &tags))),
        (
            PK_MEASUREMENT.into(),
            PkValue::String(key.measurement.clone()),
        ),
        (
            PK_DATA_SOURCE.into(),
            PkValue::String(key.data_source.clone()),
        ),
        (PK_TAGS.into(), PkValue::String(tags)),
        (PK_TIME.into(), PkValue::Integer(time_us)),
    ]
}

/// The storage row of a point.
pub fn row_to_storage(row: &TimeseriesRow) -> Row {
    row_to_storage_of(row, row.key.tags_string())
}

/// [`row_to_storage`] given the key's [`SeriesKey::tags_string`] (which
/// the caller has already made for other uses).
pub fn row_to_storage_of(row: &TimeseriesRow, tags: String) -> Row {
    let cells = row
        .fields
        .iter()
        .map(|(name, v)| {
            let value = match v {
                FieldValue::Long(x) => Value::Integer(*x),
                FieldValue::Boolean(x) => Value::Boolean(*x),
                FieldValue::Double(x) => Value::Double(*x),
                FieldValue::String(x) => Value::String(x.clone()),
                FieldValue::Binary(x) => Value::Binary(x.clone()),
            };
            Cell::put(format!("{name}{}", suffix(v)), value)
        })
        .collect();
    Row {
        primary_key: storage_key_of(&row.key, tags, row.time_us),
        cells,
        delete_marker: false,
    }
}

/// Reads a storage row back into a point; fails on a row of another shape.
pub fn row_from_storage(row: &Row) -> Result<TimeseriesRow, String> {
    let mut key = SeriesKey::default();
    let mut time_us = None;
    for (name, value) in &row.primary_key {
        match (name.as_str(), value) {
            (PK_HASH, _) => {}
            (PK_MEASUREMENT, PkValue::String(s)) => key.measurement = s.clone(),
            (PK_DATA_SOURCE, PkValue::String(s)) => key.data_source = s.clone(),
            (PK_TAGS, PkValue::String(s)) => {
                key.tags =
                    SeriesKey::parse_tags(s).ok_or_else(|| format!("bad _tags value {s:?}"))?
            }
            (PK_TIME, PkValue::Integer(t)) => time_us = Some(*t),
            (other, v) => return Err(format!("unexpected TimeSeries key column {other} = {v}")),
        }
    }
    let time_us = time_us.ok_or("TimeSeries row has no _time")?;
    let mut fields = Vec::with_capacity(row.cells.len());
    for cell in &row.cells {
        let Some(value) = &cell.value else { continue };
        let name = cell
            .name
            .rsplit_once(':')
            .map(|(n, _)| n)
            .unwrap_or(&cell.name);
        let v = match value {
            Value::Integer(x) => FieldValue::Long(*x),
            Value::Boolean(x) => FieldValue::Boolean(*x),
            Value::Double(x) => FieldValue::Double(*x),
            Value::String(x) => FieldValue::String(x.clone()),
            Value::Binary(x) => FieldValue::Binary(x.clone()),
        };
        fields.push((name.to_owned(), v));
    }
    Ok(TimeseriesRow {
        key,
        time_us,
        fields,
        meta_cache_update_time: 0,
    })
}
