//! `[timeseries]`: how JSON messages become TimeSeries points.

use serde::{Deserialize, Serialize};

#[derive(Clone, Copy, Debug, Default, Deserialize, Serialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum TimestampUnit {
    Seconds,
    #[default]
    Milliseconds,
    Microseconds,
    Nanoseconds,
}

/// What a time finer than a microsecond becomes (Tablestore stores
/// microseconds).
#[derive(Clone, Copy, Debug, Default, Deserialize, Serialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum SubMicrosecond {
    /// Dropped: 1700000000123456789 ns → 1700000000123456 µs (the product
    /// page and the managed connector).
    #[default]
    Truncate,
    /// The record goes to the dead-letter topic.
    Reject,
}

#[derive(Clone, Copy, Debug, Deserialize, Serialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum FieldType {
    Double,
    Integer,
    String,
    Binary,
    Boolean,
}

#[derive(Clone, Debug, Deserialize, Serialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct TimeseriesField {
    pub name: String,
    #[serde(rename = "type")]
    pub field_type: FieldType,
}

#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct TimeseriesConfig {
    /// JSON field whose value is the metric name (`_m_name`); "<topic>"
    /// means the topic name.
    pub metric_name_field: String,
    /// JSON field for `_data_source`; optional.
    #[serde(default)]
    pub data_source_field: Option<String>,
    /// JSON fields that become tags.
    #[serde(default)]
    pub tag_fields: Vec<String>,
    /// JSON field holding the timestamp; unset = the Kafka record timestamp.
    #[serde(default)]
    pub timestamp_field: Option<String>,
    /// Unit of integer timestamps (case-insensitive in the file).
    #[serde(default, deserialize_with = "unit_case_insensitive")]
    pub timestamp_unit: TimestampUnit,
    /// Nanosecond values and RFC 3339 fractions finer than a microsecond:
    /// truncated (default) or dead-lettered.
    #[serde(default)]
    pub sub_microsecond: SubMicrosecond,
    /// Lower-case data field names before writing (TimeSeries field names
    /// are lowercase), as the managed connector does; default true.
    #[serde(default = "default_true")]
    pub lowercase_field_names: bool,
    /// Map every other field with detected types.
    #[serde(default = "default_true")]
    pub map_all_fields: bool,
    /// Typed fields (required when map_all_fields = false; overrides otherwise).
    #[serde(default)]
    pub fields: Vec<TimeseriesField>,
    /// Keep JSON integers as INTEGER instead of DOUBLE when detecting types.
    #[serde(default)]
    pub keep_integers: bool,
}

fn default_true() -> bool {
    true
}

fn unit_case_insensitive<'de, D: serde::Deserializer<'de>>(
    d: D,
) -> Result<TimestampUnit, D::Error> {
    let s = String::deserialize(d)?;
    match s.to_ascii_lowercase().as_str() {
        "seconds" => Ok(TimestampUnit::Seconds),
        "milliseconds" => Ok(TimestampUnit::Milliseconds),
        "microseconds" => Ok(TimestampUnit::Microseconds),
        "nanoseconds" => Ok(TimestampUnit::Nanoseconds),
        _ => Err(serde::de::Error::custom(format!(
            "timeseries.timestamp_unit = {s:?} is not a unit: use seconds, milliseconds, microseconds or nanoseconds"
        ))),
    }
}
