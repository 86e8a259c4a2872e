//! A Kafka record as one TimeSeries point: series key (metric name, data
//! source, tags), time in microseconds, and typed fields.
//!
//! The value must be a JSON object. From it:
//! * metric name (`_m_name`): the `metric_name_field` value, or the topic
//!   when that setting is `"<topic>"` (any case, as in the Java plugin).
//!   Required: missing, null, empty, an object or an array is an error. A
//!   number or boolean is taken as its JSON text.
//! * data source: the `data_source_field` value as text; unset, missing or
//!   null gives `""`.
//! * tags: each `tag_fields` entry present and non-null, as text (nested
//!   values as compact JSON); missing or null tags are skipped, an empty
//!   string is kept.
//! * time: see [`timestamp`](super::timestamp); without `timestamp_field`
//!   the Kafka record timestamp.
//! * fields: every other top-level field. A field declared in `fields` is
//!   converted to its declared type; otherwise, with `map_all_fields`, its
//!   type is detected (numbers DOUBLE, or INTEGER with `keep_integers`;
//!   booleans BOOLEAN; strings STRING; objects and arrays STRING as compact
//!   JSON; a number no cell type holds, such as 2^70, STRING with its
//!   digits); otherwise it is dropped. Nulls are skipped. The metric, data
//!   source, tag and timestamp fields are never also fields.
//!
//! Field names are lower-cased (`lowercase_field_names`, default on, as
//! the managed connector does: TimeSeries field names are lowercase), and
//! `fields` entries match them case-insensitively. What is still invalid
//! after that (a `-`, a reserved name, two fields that lower-case to one
//! name) is an error naming the field and the problem, with a valid name
//! to use. Names and sizes are checked against the TimeSeries limits
//! ([`limits`](super::limits)).

use std::collections::{BTreeMap, HashMap};

use base64::Engine;
use serde_json::{Map, Value as Json};

use super::decode;
use super::error::{ConvertError, Part, SetupError};
use super::json::{self, NumberKind};
use super::limits::{self, MAX_CELL_BYTES, MAX_DATA_SOURCE_BYTES, MAX_FIELDS, MAX_TAGS_BYTES};
use super::timestamp::{self, TimeRule, TimestampError};
use super::Record;
use crate::config::{FieldType, TimeseriesConfig};
use crate::tablestore::flatrows::{FieldValue, SeriesKey, TimeseriesRow};
use crate::tablestore::plainbuffer::Value;

/// `metric_name_field` value meaning "the topic name".
pub const TOPIC_METRIC: &str = "<topic>";

/// Base64 as producers write it: standard alphabet, padding optional.
const BASE64: base64::engine::GeneralPurpose = base64::engine::GeneralPurpose::new(
    &base64::alphabet::STANDARD,
    base64::engine::GeneralPurposeConfig::new()
        .with_decode_padding_mode(base64::engine::DecodePaddingMode::Indifferent),
);

/// Converts records to TimeSeries points. Immutable once built.
#[derive(Clone, Debug)]
pub struct TimeseriesConverter {
    /// `None` = the topic name.
    metric_field: Option<String>,
    data_source_field: Option<String>,
    tag_fields: Vec<String>,
    timestamp_field: Option<String>,
    time_rule: TimeRule,
    map_all_fields: bool,
    /// Declared types by field name (lower-cased when `lowercase`).
    declared: HashMap<String, FieldType>,
    keep_integers: bool,
    /// Lower-case field names before checking and writing them.
    lowercase: bool,
}

impl TimeseriesConverter {
    pub fn new(config: &TimeseriesConfig) -> Result<Self, SetupError> {
        for name in &config.tag_fields {
            if let Some(problem) = limits::tag_name_problem(name) {
                return Err(SetupError::BadTagName {
                    name: name.clone(),
                    problem,
                });
            }
        }
        let metric_field = (!config.metric_name_field.eq_ignore_ascii_case(TOPIC_METRIC))
            .then(|| config.metric_name_field.clone());
        Ok(TimeseriesConverter {
            metric_field,
            data_source_field: config.data_source_field.clone(),
            tag_fields: config.tag_fields.clone(),
            timestamp_field: config.timestamp_field.clone(),
            time_rule: TimeRule {
                unit: config.timestamp_unit,
                sub_microsecond: config.sub_microsecond,
            },
            map_all_fields: config.map_all_fields,
            declared: config
                .fields
                .iter()
                .map(|f| {
                    let name = if config.lowercase_field_names {
                        f.name.to_ascii_lowercase()
                    } else {
                        f.name.clone()
                    };
                    (name, f.field_type)
                })
                .collect(),
            keep_integers: config.keep_integers,
            lowercase: config.lowercase_field_names,
        })
    }

    pub fn convert(&self, record: &Record) -> Result<TimeseriesRow, ConvertError> {
        let Some(bytes) = record.value else {
            return Err(ConvertError::Tombstone {
                hint: "a TimeSeries point is built from a JSON object value, so tombstones cannot be written".into(),
            });
        };
        let map = decode::object(
            Part::Value,
            bytes,
            "TimeSeries values must be JSON objects such as {\"metric\":\"cpu\",\"host\":\"a\",\"time\":1700000000000,\"value\":0.5}",
            "a TimeSeries point is built from the top-level fields of one JSON object",
        )?;
        let key = SeriesKey {
            measurement: self.measurement(record, &map)?,
            data_source: self.data_source(&map)?,
            tags: self.tags(&map)?,
        };
        Ok(TimeseriesRow {
            key,
            time_us: self.time(record, &map)?,
            fields: self.fields(&map)?,
            meta_cache_update_time: 0,
        })
    }

    fn measurement(
        &self,
        record: &Record,
        map: &Map<String, Json>,
    ) -> Result<String, ConvertError> {
        let (field, name) = match &self.metric_field {
            None => ("<topic>", record.topic.to_owned()),
            Some(field) => {
                let missing = |problem: String| ConvertError::MissingMetric {
                    field: field.clone(),
                    problem,
                };
                let name = match map.get(field) {
                    None => return Err(missing(format!("field {field:?} is not in the value"))),
                    Some(Json::Null) => return Err(missing(format!("field {field:?} is null"))),
                    Some(v @ (Json::Object(_) | Json::Array(_))) => {
                        return Err(missing(format!(
                            "field {field:?} is a JSON {}, not a name",
                            json::type_name(v)
                        )))
                    }
                    Some(v) => json::text(v).unwrap_or_default(),
                };
                if name.is_empty() {
                    return Err(missing(format!("field {field:?} is empty")));
                }
                (field.as_str(), name)
            }
        };
        match limits::measurement_problem(&name) {
            None => Ok(name),
            Some(problem) => Err(ConvertError::BadMetric {
                field: field.to_owned(),
                name: json::shorten(&name),
                problem,
            }),
        }
    }

    fn data_source(&self, map: &Map<String, Json>) -> Result<String, ConvertError> {
        let Some(field) = &self.data_source_field else {
            return Ok(String::new());
        };
        let value = map.get(field).and_then(json::text).unwrap_or_default();
        if value.len() > MAX_DATA_SOURCE_BYTES {
            return Err(ConvertError::BadDataSource {
                field: field.clone(),
                value: json::shorten(&value),
                len: value.len(),
            });
        }
        Ok(value)
    }

    fn tags(&self, map: &Map<String, Json>) -> Result<BTreeMap<String, String>, ConvertError> {
        let mut tags = BTreeMap::new();
        for name in &self.tag_fields {
            let Some(value) = map.get(name).and_then(json::text) else {
                continue;
            };
            if let Some(problem) = limits::tag_value_problem(&value) {
                return Err(ConvertError::BadTag {
                    tag: name.clone(),
                    problem: format!("{problem} (value {:?})", json::shorten(&value)),
                });
            }
            tags.insert(name.clone(), value);
        }
        // The length of `SeriesKey::tags_string`: `["k=v","k=v"]`.
        let len = 2
            + tags
                .iter()
                .map(|(k, v)| k.len() + v.len() + 3)
                .sum::<usize>()
            + tags.len().saturating_sub(1);
        if len > MAX_TAGS_BYTES {
            return Err(ConvertError::BadTag {
                tag: "_tags".into(),
                problem: format!(
                    "all tags together take {len} bytes as [\"name=value\",...], over the TimeSeries limit of {MAX_TAGS_BYTES} bytes"
                ),
            });
        }
        Ok(tags)
    }

    fn time(&self, record: &Record, map: &Map<String, Json>) -> Result<i64, ConvertError> {
        let Some(field) = &self.timestamp_field else {
            return timestamp::from_kafka_ms(record.timestamp_ms).map_err(|problem| {
                ConvertError::BadTimestamp {
                    location: "the Kafka record timestamp".into(),
                    value: record
                        .timestamp_ms
                        .map_or_else(|| "none".into(), |ms| format!("{ms} ms")),
                    problem,
                }
            });
        };
        let missing = |problem| ConvertError::MissingTimestamp {
            field: field.clone(),
            problem,
        };
        match map.get(field) {
            None => Err(missing("missing")),
            Some(Json::Null) => Err(missing("null")),
            Some(v) => {
                timestamp::from_json(v, self.time_rule).map_err(|problem: TimestampError| {
                    ConvertError::BadTimestamp {
                        location: format!("field {field:?}"),
                        value: json::snippet(v),
                        problem,
                    }
                })
            }
        }
    }

    /// Whether `name` is a series-key or timestamp field.
    fn is_key_field(&self, name: &str) -> bool {
        self.metric_field.as_deref() == Some(name)
            || self.data_source_field.as_deref() == Some(name)
            || self.timestamp_field.as_deref() == Some(name)
            || self.tag_fields.iter().any(|t| t == name)
    }

    /// The name a record field is written under.
    fn written_name<'a>(&self, name: &'a str) -> std::borrow::Cow<'a, str> {
        if self.lowercase && name.bytes().any(|b| b.is_ascii_uppercase()) {
            std::borrow::Cow::Owned(name.to_ascii_lowercase())
        } else {
            std::borrow::Cow::Borrowed(name)
        }
    }

    fn fields(&self, map: &Map<String, Json>) -> Result<Vec<(String, FieldValue)>, ConvertError> {
        let mut fields = Vec::new();
        // Record names of the fields whose names were lower-cased, by
        // their written name, to find two fields becoming one.
        let mut lowered: Vec<(String, &str)> = Vec::new();
        for (name, v) in map {
            if self.is_key_field(name) {
                continue;
            }
            let written = self.written_name(name);
            let (value, alternative) = match self.declared.get(written.as_ref()) {
                Some(&ty) => (declared_value(name, v, ty)?, " (and in timeseries.fields)"),
                None if self.map_all_fields => (
                    json::detect(v, self.keep_integers).map(field_value),
                    ", or set map_all_fields = false and declare only the fields to keep",
                ),
                None => continue,
            };
            let Some(value) = value else {
                continue;
            };
            let alternative = if !self.lowercase && name.bytes().any(|b| b.is_ascii_uppercase()) {
                ", or set timeseries.lowercase_field_names = true to lower-case field names"
            } else {
                alternative
            };
            limits::check_field_name(&written, alternative).map_err(|mut e| {
                if let ConvertError::BadFieldName {
                    name: bad,
                    written_as,
                    ..
                } = &mut e
                {
                    if *bad != *name {
                        *written_as = Some(std::mem::replace(bad, name.clone()));
                    }
                }
                e
            })?;
            let len = value.payload_len();
            if len > MAX_CELL_BYTES {
                return Err(ConvertError::ValueTooLarge {
                    what: "field",
                    name: name.clone(),
                    len,
                    limit: MAX_CELL_BYTES,
                });
            }
            if let std::borrow::Cow::Owned(w) = &written {
                lowered.push((w.clone(), name));
            }
            fields.push((written.into_owned(), value));
        }
        if !lowered.is_empty() {
            check_lowercase_clashes(&lowered, &fields)?;
        }
        if fields.is_empty() {
            let detail = if self.map_all_fields {
                "every field besides the series key and timestamp is null or absent".to_owned()
            } else {
                let mut names: Vec<&str> = self.declared.keys().map(String::as_str).collect();
                names.sort_unstable();
                format!(
                    "none of the declared fields {names:?} is present and non-null (map_all_fields = false)"
                )
            };
            return Err(ConvertError::NoFields { detail });
        }
        if fields.len() > MAX_FIELDS {
            return Err(ConvertError::TooManyColumns {
                what: "field",
                count: fields.len(),
                limit: MAX_FIELDS,
            });
        }
        Ok(fields)
    }
}

/// Two record fields written under one name after lower-casing (`"Temp"`
/// and `"temp"`): an error naming both, never one of them silently lost.
/// `lowered` holds `(written, record name)` of the fields whose names
/// changed.
fn check_lowercase_clashes(
    lowered: &[(String, &str)],
    fields: &[(String, FieldValue)],
) -> Result<(), ConvertError> {
    for (written, original) in lowered {
        if fields.iter().filter(|(n, _)| n == written).count() > 1 {
            let other = lowered
                .iter()
                .find(|(w, o)| w == written && o != original)
                .map_or(written.as_str(), |(_, o)| o);
            let (first, second) = if other < *original {
                (other, *original)
            } else {
                (*original, other)
            };
            return Err(ConvertError::FieldNameClash {
                name: written.clone(),
                first: first.to_owned(),
                second: second.to_owned(),
            });
        }
    }
    Ok(())
}

/// A detected cell value as a field value.
fn field_value(v: Value) -> FieldValue {
    match v {
        Value::Integer(i) => FieldValue::Long(i),
        Value::Double(d) => FieldValue::Double(d),
        Value::Boolean(b) => FieldValue::Boolean(b),
        Value::String(s) => FieldValue::String(s),
        Value::Binary(b) => FieldValue::Binary(b),
    }
}

/// `v` converted to the declared type; `None` for null.
fn declared_value(name: &str, v: &Json, ty: FieldType) -> Result<Option<FieldValue>, ConvertError> {
    let fail = |expected: &'static str, problem: &str| ConvertError::BadFieldValue {
        field: name.to_owned(),
        expected,
        value: json::snippet(v),
        problem: problem.to_owned(),
    };
    let found = json::type_name(v);
    Ok(Some(match (ty, v) {
        (_, Json::Null) => return Ok(None),
        (FieldType::Integer, Json::Number(n)) => match json::classify(n) {
            NumberKind::Int(i) => FieldValue::Long(i),
            kind @ NumberKind::WideInt { .. } => {
                let why = json::range_problem(kind).unwrap_or("out of range");
                return Err(fail(
                    "integer",
                    &format!("it is {why}, and INTEGER fields are signed 64-bit; declare the field type = \"string\" to keep its digits"),
                ));
            }
            NumberKind::Float(_) | NumberKind::HugeFloat => {
                return Err(fail(
                    "integer",
                    "it has a fraction or exponent; send a whole number such as 3, or declare the field type = \"double\"",
                ))
            }
        },
        (FieldType::Integer, Json::String(s)) => match s.parse::<i64>() {
            Ok(i) => FieldValue::Long(i),
            _ => {
                return Err(fail(
                    "integer",
                    "the string is not a decimal integer within the signed 64-bit range such as \"42\"",
                ))
            }
        },
        (FieldType::Double, Json::Number(n)) => match n.as_f64() {
            Some(d) => FieldValue::Double(d),
            None => return Err(fail("double", "it is beyond the DOUBLE range; declare the field type = \"string\" to keep its text")),
        },
        (FieldType::Double, Json::String(s)) => match s.parse::<f64>() {
            Ok(d) if d.is_finite() => FieldValue::Double(d),
            _ => return Err(fail("double", "the string is not a finite decimal number such as \"0.5\"")),
        },
        (FieldType::String, _) => FieldValue::String(json::text(v).unwrap_or_default()),
        (FieldType::Boolean, Json::Bool(b)) => FieldValue::Boolean(*b),
        (FieldType::Boolean, Json::String(s)) if s == "true" || s == "false" => {
            FieldValue::Boolean(s == "true")
        }
        (FieldType::Boolean, _) => {
            return Err(fail("boolean", "send true or false (or the strings \"true\" / \"false\")"))
        }
        (FieldType::Binary, Json::String(s)) => match BASE64.decode(s) {
            Ok(bytes) => FieldValue::Binary(bytes),
            Err(e) => {
                return Err(fail(
                    "binary",
                    &format!("the string is not valid base64 ({e}); binary fields take standard base64 text"),
                ))
            }
        },
        (FieldType::Binary, _) => {
            return Err(fail("binary", &format!("a JSON {found} is not base64 text; binary fields take standard base64 text")))
        }
        (FieldType::Integer | FieldType::Double, _) => {
            let expected = if ty == FieldType::Integer { "integer" } else { "double" };
            return Err(fail(expected, &format!("a JSON {found} is not a number; send a JSON number or a numeric string")));
        }
    }))
}
