//! Why a record could not be converted ([`ConvertError`]), and why a
//! converter could not be built from a configuration ([`SetupError`]).
//!
//! A conversion error sends the record to the dead-letter topic, so its
//! message is written for the person who reads that topic: it says *what*
//! is wrong, *where* (key or value, and the field), and *how* to fix it
//! (the producer side or the config key to change). The Kafka coordinates
//! are not repeated here: the dead-letter headers carry them.
//! [`ConvertError::reason_code`] is a short label from a fixed set, fit for
//! a metrics label or a header.

use std::fmt;

use super::timestamp::TimestampError;

/// Which part of a Kafka record a problem is in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Part {
    Key,
    Value,
}

impl fmt::Display for Part {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Part::Key => "key",
            Part::Value => "value",
        })
    }
}

/// A record that cannot become a Tablestore write.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum ConvertError {
    #[error("the record {part} is not valid UTF-8 ({detail}); JSON and string formats take UTF-8 text: fix the producer's encoding")]
    InvalidUtf8 { part: Part, detail: String },

    #[error("the record {part} is not valid JSON ({detail}); {hint}")]
    InvalidJson {
        part: Part,
        detail: String,
        hint: &'static str,
    },

    #[error("the record {part} must be a JSON object, but it is a JSON {found}; {hint}")]
    NotAnObject {
        part: Part,
        found: &'static str,
        hint: &'static str,
    },

    #[error("the record has no value (a tombstone); {hint}")]
    Tombstone { hint: String },

    #[error("the record has no key, but primary_key_mode = \"record_key\" takes the primary key from the key; produce keyed messages, or use primary_key_mode = \"kafka\" or \"record_value\"")]
    MissingKey,

    #[error("primary key field {field:?} is {problem} in the record {part}; every {part} must carry it (wide_column.primary_key)")]
    MissingPkField {
        part: Part,
        field: String,
        /// "missing" or "null".
        problem: &'static str,
    },

    #[error("primary key {field:?} in the record {part} is {found}, but the column is declared {expected}; {hint}")]
    BadPkType {
        part: Part,
        field: String,
        expected: &'static str,
        /// What was found, e.g. `the float 1.5`.
        found: String,
        hint: &'static str,
    },

    #[error("primary key {field:?} is {len} bytes, over Tablestore's limit of 1024 bytes for a primary-key value; shorten it at the producer or pick another primary key field")]
    PkTooLarge { field: String, len: usize },

    #[error("the record has no attribute columns to write ({detail}); a row needs at least one column besides its primary key")]
    NoColumns { detail: String },

    #[error("every attribute field is null ({count} of them); in update mode nulls are skipped unless delete_mode is \"column\" or \"row_and_column\" (then they delete their columns), so nothing is left to write: send at least one non-null field or enable column deletes")]
    AllNull { count: usize },

    #[error("field {name:?} is not a valid Tablestore column name ({problem}); column names are 1-255 bytes of letters, digits and '_', not starting with a digit: rename the field at the producer, e.g. to {suggestion:?}")]
    BadColumnName {
        name: String,
        problem: &'static str,
        suggestion: String,
    },

    #[error("{what} {name:?} is {len} bytes, over the limit of {limit} bytes; send it in smaller pieces or leave it out")]
    ValueTooLarge {
        /// "column" or "field".
        what: &'static str,
        name: String,
        len: usize,
        limit: usize,
    },

    #[error("the record has {count} {what}s, over the limit of {limit} per row; split the message or map fewer fields")]
    TooManyColumns {
        /// "column" or "field".
        what: &'static str,
        count: usize,
        limit: usize,
    },

    #[error("the row would be about {len} bytes, over Tablestore's 4 MiB limit for one row write; send smaller messages")]
    RowTooLarge { len: usize },

    #[error("the metric name is missing: {problem}; every value must carry a non-empty metric name (timeseries.metric_name_field = {field:?}), or set metric_name_field = \"<topic>\" to use the topic name")]
    MissingMetric { field: String, problem: String },

    #[error("metric name {name:?} is not a valid TimeSeries measurement name ({problem}); measurement names are 1-128 bytes without '#', spaces or control characters: fix the producer's value of {field:?}")]
    BadMetric {
        field: String,
        name: String,
        problem: &'static str,
    },

    #[error("data source {value:?} from field {field:?} is {len} bytes, over the TimeSeries limit of 256 bytes; send a shorter data source")]
    BadDataSource {
        field: String,
        value: String,
        len: usize,
    },

    #[error("tag {tag:?} is not valid: {problem}; fix the producer's value or remove the field from timeseries.tag_fields")]
    BadTag { tag: String, problem: String },

    #[error("timestamp field {field:?} is {problem} in the record value; send it as an integer in timeseries.timestamp_unit or an RFC 3339 string, or unset timeseries.timestamp_field to use the Kafka record timestamp")]
    MissingTimestamp {
        field: String,
        /// "missing" or "null".
        problem: &'static str,
    },

    #[error("bad timestamp in {location} ({value}): {problem}")]
    BadTimestamp {
        /// e.g. `field "time"` or `the Kafka record timestamp`.
        location: String,
        value: String,
        problem: TimestampError,
    },

    #[error("field {name:?}{} is not a valid TimeSeries field name ({problem}); field names are 1-128 bytes of lowercase letters, digits and '_', not starting with a digit: rename it at the producer, e.g. to {suggestion:?}{alternative}", lowered_note(.written_as))]
    BadFieldName {
        name: String,
        /// The lower-cased name, when it differs from `name`.
        written_as: Option<String>,
        problem: &'static str,
        suggestion: String,
        /// Extra way out, e.g. with `map_all_fields = false`.
        alternative: &'static str,
    },

    #[error(
        "field {field:?} = {value} cannot be converted to the declared type {expected}: {problem}"
    )]
    BadFieldValue {
        field: String,
        expected: &'static str,
        value: String,
        problem: String,
    },

    #[error("fields {first:?} and {second:?} would both be written as the TimeSeries field {name:?}, as field names are lower-cased (timeseries.lowercase_field_names = true); rename one of them at the producer")]
    FieldNameClash {
        name: String,
        first: String,
        second: String,
    },

    #[error("the point has no fields ({detail}); a TimeSeries point needs at least one field besides its metric name, data source, tags and timestamp")]
    NoFields { detail: String },
}

/// `" (lower-cased to "x")"` when the name was lower-cased.
fn lowered_note(written_as: &Option<String>) -> String {
    written_as
        .as_ref()
        .map_or_else(String::new, |w| format!(" (lower-cased to {w:?})"))
}

impl ConvertError {
    /// A short label from a fixed set, for metrics labels and the
    /// dead-letter reason header.
    pub fn reason_code(&self) -> &'static str {
        match self {
            ConvertError::InvalidUtf8 { .. } => "invalid_utf8",
            ConvertError::InvalidJson { .. } => "invalid_json",
            ConvertError::NotAnObject { .. } => "not_an_object",
            ConvertError::Tombstone { .. } => "tombstone",
            ConvertError::MissingKey => "missing_key",
            ConvertError::MissingPkField { .. } => "missing_pk_field",
            ConvertError::BadPkType { .. } => "bad_pk_type",
            ConvertError::PkTooLarge { .. } => "pk_too_large",
            ConvertError::NoColumns { .. } => "no_columns",
            ConvertError::AllNull { .. } => "all_null",
            ConvertError::BadColumnName { .. } => "bad_column_name",
            ConvertError::ValueTooLarge { .. } => "value_too_large",
            ConvertError::TooManyColumns { .. } => "too_many_columns",
            ConvertError::RowTooLarge { .. } => "row_too_large",
            ConvertError::MissingMetric { .. } => "missing_metric",
            ConvertError::BadMetric { .. } => "bad_metric",
            ConvertError::BadDataSource { .. } => "bad_data_source",
            ConvertError::BadTag { .. } => "bad_tag",
            ConvertError::MissingTimestamp { .. } => "missing_timestamp",
            ConvertError::BadTimestamp { .. } => "bad_timestamp",
            ConvertError::BadFieldName { .. } => "bad_field_name",
            ConvertError::BadFieldValue { .. } => "bad_field_value",
            ConvertError::FieldNameClash { .. } => "field_name_clash",
            ConvertError::NoFields { .. } => "no_fields",
        }
    }

    /// Every code [`reason_code`](Self::reason_code) can return, so metrics
    /// can be registered up front.
    pub const REASON_CODES: &'static [&'static str] = &[
        "invalid_utf8",
        "invalid_json",
        "not_an_object",
        "tombstone",
        "missing_key",
        "missing_pk_field",
        "bad_pk_type",
        "pk_too_large",
        "no_columns",
        "all_null",
        "bad_column_name",
        "value_too_large",
        "too_many_columns",
        "row_too_large",
        "missing_metric",
        "bad_metric",
        "bad_data_source",
        "bad_tag",
        "missing_timestamp",
        "bad_timestamp",
        "bad_field_name",
        "bad_field_value",
        "field_name_clash",
        "no_fields",
    ];
}

/// A configuration a converter cannot be built from. `Config::validate`
/// is expected to reject these first; this is the converter's own guard.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum SetupError {
    #[error("tablestore.model = \"timeseries\" needs a [timeseries] section with at least metric_name_field")]
    MissingTimeseriesSection,

    #[error(
        "wide_column.primary_key has {count} columns; primary_key_mode = {mode:?} needs 1 to 4"
    )]
    PrimaryKeyCount { mode: &'static str, count: usize },

    #[error("wide_column.{part}_format = \"string\" with primary_key_mode = \"record_{part}\" uses the whole {part} as the primary key, so wide_column.primary_key must have exactly 1 column (it has {count}); use {part}_format = \"json\" for a multi-column key")]
    WholeStringKey { part: Part, count: usize },

    #[error("timeseries.tag_fields entry {name:?} is not a valid tag name ({problem}); tag names are non-empty printable ASCII without '\"' or '='")]
    BadTagName { name: String, problem: &'static str },
}
