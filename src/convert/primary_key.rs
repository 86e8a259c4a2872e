//! The Wide Column primary key of a record, per `primary_key_mode`.
//!
//! * `kafka`: `topic_partition` = `"<topic>_<partition>"` (STRING) then
//!   `offset` (INTEGER), the Java plugin's names; replays rewrite the same
//!   rows.
//! * `record_key` / `record_value` with a JSON key / value: the fields named
//!   in `wide_column.primary_key`, in that order, converted to the declared
//!   type. An INTEGER column takes a JSON integer that fits an i64 or a
//!   string of decimal digits (`"123"`, `"-5"`); a float (even `1.0`), a
//!   boolean, an object or an array is an error naming the field. A STRING
//!   column takes a JSON string, or a number or boolean as its JSON text.
//!   A missing or null field is an error.
//! * `record_key` / `record_value` with a `string` key / value: the whole
//!   text is the one primary-key column (parsed as a decimal integer for
//!   an INTEGER column).
//!
//! Fields used for the primary key never also become attribute columns,
//! and neither does any other field with a primary-key column's name
//! (Tablestore rejects an attribute named like a key column).

use serde_json::Value as Json;

use super::decode::Decoded;
use super::error::{ConvertError, Part, SetupError};
use super::json::{self, NumberKind};
use super::limits::MAX_PK_VALUE_BYTES;
use super::Record;
use crate::config::{
    KeyValueFormat, PkColumnConfig, PkColumnType, PrimaryKeyMode, WideColumnConfig,
};
use crate::tablestore::plainbuffer::PkValue;

/// First primary-key column in `kafka` mode.
pub const TOPIC_PARTITION: &str = "topic_partition";
/// Second primary-key column in `kafka` mode.
pub const OFFSET: &str = "offset";
/// Most primary-key columns a table can have.
pub const MAX_PK_COLUMNS: usize = 4;

/// Where the primary key comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Source {
    /// Topic, partition and offset.
    Kafka,
    /// Named fields of a JSON key or value.
    Fields(Part),
    /// The whole string key or value.
    Whole(Part),
}

/// How to build a record's primary key; also the table's primary-key
/// schema (for creating or checking the table).
#[derive(Clone, Debug)]
pub struct PrimaryKeySpec {
    source: Source,
    /// In table order. In `kafka` mode, the two fixed columns.
    columns: Vec<PkColumnConfig>,
}

impl PrimaryKeySpec {
    pub fn new(config: &WideColumnConfig) -> Result<Self, SetupError> {
        let (part, format, mode) = match config.primary_key_mode {
            PrimaryKeyMode::Kafka => {
                return Ok(PrimaryKeySpec {
                    source: Source::Kafka,
                    columns: vec![
                        column(TOPIC_PARTITION, PkColumnType::String),
                        column(OFFSET, PkColumnType::Integer),
                    ],
                })
            }
            PrimaryKeyMode::RecordKey => (Part::Key, config.key_format, "record_key"),
            PrimaryKeyMode::RecordValue => (Part::Value, config.value_format, "record_value"),
        };
        let count = config.primary_key.len();
        if !(1..=MAX_PK_COLUMNS).contains(&count) {
            return Err(SetupError::PrimaryKeyCount { mode, count });
        }
        let source = match format {
            KeyValueFormat::Json => Source::Fields(part),
            KeyValueFormat::String if count == 1 => Source::Whole(part),
            KeyValueFormat::String => return Err(SetupError::WholeStringKey { part, count }),
        };
        Ok(PrimaryKeySpec {
            source,
            columns: config.primary_key.clone(),
        })
    }

    /// The primary-key columns in table order.
    pub fn columns(&self) -> &[PkColumnConfig] {
        &self.columns
    }

    /// Whether `name` is a primary-key column (so not an attribute).
    pub fn is_key_column(&self, name: &str) -> bool {
        self.columns.iter().any(|c| c.name == name)
    }

    /// Whether the whole string `part` is the primary key (so it does not
    /// also become the `key` / `value` column).
    pub fn uses_whole(&self, part: Part) -> bool {
        self.source == Source::Whole(part)
    }

    /// Whether the primary key comes from `part` of the record.
    pub fn comes_from(&self, part: Part) -> bool {
        matches!(self.source, Source::Fields(p) | Source::Whole(p) if p == part)
    }

    /// Whether the primary key comes from the record key.
    pub fn from_key(&self) -> bool {
        matches!(
            self.source,
            Source::Fields(Part::Key) | Source::Whole(Part::Key)
        )
    }

    /// The record's primary key, in table order.
    pub fn extract(
        &self,
        record: &Record,
        key: &Decoded,
        value: &Decoded,
    ) -> Result<Vec<(String, PkValue)>, ConvertError> {
        let (part, decoded) = match self.source {
            Source::Kafka => {
                return Ok(vec![
                    (
                        TOPIC_PARTITION.to_owned(),
                        PkValue::String(topic_partition(record.topic, record.partition)),
                    ),
                    (OFFSET.to_owned(), PkValue::Integer(record.offset)),
                ])
            }
            Source::Fields(part) | Source::Whole(part) => match part {
                Part::Key => (part, key),
                Part::Value => (part, value),
            },
        };
        let mut out = Vec::with_capacity(self.columns.len());
        match decoded {
            Decoded::Absent if part == Part::Key => return Err(ConvertError::MissingKey),
            Decoded::Absent => {
                return Err(ConvertError::Tombstone {
                    hint:
                        "primary_key_mode = \"record_value\" takes the primary key from the value"
                            .into(),
                })
            }
            Decoded::Text(text) => {
                let col = &self.columns[0];
                out.push((col.name.clone(), from_text(part, col, text)?));
            }
            Decoded::Object(object) => {
                for col in &self.columns {
                    let v = object
                        .get(&col.name)
                        .ok_or_else(|| ConvertError::MissingPkField {
                            part,
                            field: col.name.clone(),
                            problem: "missing",
                        })?
                        .to_json();
                    out.push((col.name.clone(), from_json(part, col, &v)?));
                }
            }
        }
        Ok(out)
    }
}

/// `{topic}_{partition}`, the `kafka` mode's first key value, built
/// without the formatting machinery (it is made for every record).
fn topic_partition(topic: &str, partition: i32) -> String {
    let mut digits = itoa::Buffer::new();
    let partition = digits.format(partition);
    let mut out = String::with_capacity(topic.len() + 1 + partition.len());
    out.push_str(topic);
    out.push('_');
    out.push_str(partition);
    out
}

fn column(name: &str, column_type: PkColumnType) -> PkColumnConfig {
    PkColumnConfig {
        name: name.to_owned(),
        column_type,
    }
}

const INTEGER_HINT: &str = "an integer primary key takes a JSON integer within the signed 64-bit range, or a string of decimal digits such as \"123\" or \"-5\"";
const STRING_HINT: &str =
    "a string primary key takes a JSON string, number or boolean; objects and arrays cannot be keys";
const WHOLE_INTEGER_HINT: &str = "a string-format key or value used whole as an integer primary key must be a decimal integer such as \"123\" or \"-5\"; declare the column type = \"string\" otherwise";

/// A JSON field as a primary-key value of the column's type.
fn from_json(part: Part, col: &PkColumnConfig, v: &Json) -> Result<PkValue, ConvertError> {
    let bad = |expected: &'static str, hint: &'static str| ConvertError::BadPkType {
        part,
        field: col.name.clone(),
        expected,
        found: format!("the {} {}", json::type_name(v), json::snippet(v)),
        hint,
    };
    if v.is_null() {
        return Err(ConvertError::MissingPkField {
            part,
            field: col.name.clone(),
            problem: "null",
        });
    }
    match col.column_type {
        PkColumnType::Integer => match v {
            Json::Number(n) => match json::classify(n) {
                NumberKind::Int(i) => Ok(PkValue::Integer(i)),
                kind @ NumberKind::WideInt { .. } => Err(ConvertError::BadPkType {
                    part,
                    field: col.name.clone(),
                    expected: "integer",
                    found: format!(
                        "{} ({})",
                        json::range_problem(kind).unwrap_or("out of range"),
                        json::shorten(n.as_str())
                    ),
                    hint: INTEGER_HINT,
                }),
                NumberKind::Float(_) | NumberKind::HugeFloat => Err(bad("integer", INTEGER_HINT)),
            },
            Json::String(s) => parse_integer(s).map(PkValue::Integer).ok_or_else(|| {
                let mut e = bad("integer", INTEGER_HINT);
                if let (ConvertError::BadPkType { found, .. }, Some(why)) =
                    (&mut e, overflow_problem(s))
                {
                    found.push_str(&format!(", {why}"));
                }
                e
            }),
            _ => Err(bad("integer", INTEGER_HINT)),
        },
        PkColumnType::String => match v {
            Json::String(_) | Json::Number(_) | Json::Bool(_) => {
                let text = json::text(v).unwrap_or_default();
                check_len(col, text).map(PkValue::String)
            }
            _ => Err(bad("string", STRING_HINT)),
        },
    }
}

/// A whole string key or value as a primary-key value of the column's type.
fn from_text(part: Part, col: &PkColumnConfig, text: &str) -> Result<PkValue, ConvertError> {
    match col.column_type {
        PkColumnType::String => check_len(col, text.to_owned()).map(PkValue::String),
        PkColumnType::Integer => {
            parse_integer(text)
                .map(PkValue::Integer)
                .ok_or_else(|| ConvertError::BadPkType {
                    part,
                    field: col.name.clone(),
                    expected: "integer",
                    found: match overflow_problem(text) {
                        Some(why) => format!("the text {:?}, {why}", json::shorten(text)),
                        None => format!("the text {:?}", json::shorten(text)),
                    },
                    hint: WHOLE_INTEGER_HINT,
                })
        }
    }
}

/// A decimal integer string (optional sign, digits only) as an i64.
fn parse_integer(s: &str) -> Option<i64> {
    let digits = s.strip_prefix(['-', '+']).unwrap_or(s);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

/// For a decimal integer string that does not fit an i64, why.
fn overflow_problem(s: &str) -> Option<&'static str> {
    let digits = s.strip_prefix(['-', '+']).unwrap_or(s);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let over_64_bits = s.starts_with('-') || digits.parse::<u64>().is_err();
    json::range_problem(NumberKind::WideInt { over_64_bits })
}

fn check_len(col: &PkColumnConfig, text: String) -> Result<String, ConvertError> {
    if text.len() > MAX_PK_VALUE_BYTES {
        return Err(ConvertError::PkTooLarge {
            field: col.name.clone(),
            len: text.len(),
        });
    }
    Ok(text)
}
