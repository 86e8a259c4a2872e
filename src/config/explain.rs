//! What a valid configuration *does* where the effect is not obvious from
//! one key: `check` prints every [`Explanation`], and `run` logs the
//! warnings once at startup. Validation ([`Config::validate`]) says what
//! is wrong; this says what is right but surprising.

use super::checks::spelling;
use super::kafka::{MissingTopic, ResourceCreation};
use super::tablestore::Model;
use super::timeseries::{SubMicrosecond, TimestampUnit};
use super::wide_column::{KeyClash, KeyValueFormat, PrimaryKeyMode, WriteMode};
use super::Config;
use crate::metrics::names;

/// How loud an explanation is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Level {
    /// How a rule applies to this configuration.
    Note,
    /// A setting that drops or changes data the user may not expect; also
    /// logged at startup.
    Warning,
}

/// One sentence or two about what a setting does here.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Explanation {
    pub level: Level,
    /// The setting it is about, e.g. `wide_column.key_clash`.
    pub key: &'static str,
    pub text: String,
}

impl std::fmt::Display for Explanation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let level = match self.level {
            Level::Note => "note",
            Level::Warning => "warning",
        };
        write!(f, "{level}: {}: {}", self.key, self.text)
    }
}

impl Config {
    /// Every explanation that applies, notes first.
    pub fn explain(&self) -> Vec<Explanation> {
        let mut out = Vec::new();
        let mut say = |level, key, text: String| out.push(Explanation { level, key, text });
        match self.tablestore.model {
            Model::WideColumn => explain_wide_column(self, &mut say),
            Model::Timeseries => explain_timeseries(self, &mut say),
        }
        explain_kafka(self, &mut say);
        out.sort_by_key(|e| e.level == Level::Warning);
        out
    }

    /// The explanations that are warnings.
    pub fn warnings(&self) -> Vec<Explanation> {
        self.explain()
            .into_iter()
            .filter(|e| e.level == Level::Warning)
            .collect()
    }
}

fn explain_wide_column(c: &Config, say: &mut impl FnMut(Level, &'static str, String)) {
    let wc = &c.wide_column;
    let key_columns = match wc.key_format {
        KeyValueFormat::String => {
            format!("a string key is written to the column {:?}", wc.key_column)
        }
        KeyValueFormat::Json => "each field of a JSON key becomes a column".to_owned(),
    };
    let value_columns = match wc.value_format {
        KeyValueFormat::String => format!("a string value to the column {:?}", wc.value_column),
        KeyValueFormat::Json => "each field of a JSON value a column".to_owned(),
    };
    let counted = format!("{}{{kind=\"key_value\"}}", names::FIELD_CLASHES);
    let (level, rule) = match wc.key_clash {
        KeyClash::Rename => (
            Level::Note,
            "both are kept: the value's field under its name, the key's column renamed \
             with the prefix \"key_\" (the product page's test message, key \"demo\" and \
             value {\"key\": \"test\"}, gives key = \"test\" and key_key = \"demo\")"
                .to_owned(),
        ),
        KeyClash::KeyWins => (
            Level::Warning,
            "the key's column overwrites the value's field, which is lost (the Java plugin's \
             rule); set key_clash = \"rename\" to keep both"
                .to_owned(),
        ),
        KeyClash::ValueWins => (
            Level::Warning,
            "the value's field is kept and the key's column is not written; set key_clash = \
             \"rename\" to keep both"
                .to_owned(),
        ),
    };
    say(
        level,
        "wide_column.key_clash",
        format!(
            "{key_columns}, {value_columns}; when a column from the key has the name of a \
             value field, {rule}. Every such clash is counted in {counted}."
        ),
    );
    let pk_names = match wc.primary_key_mode {
        PrimaryKeyMode::Kafka => "topic_partition and offset".to_owned(),
        _ => wc
            .primary_key
            .iter()
            .map(|c| c.name.as_str())
            .collect::<Vec<_>>()
            .join(", "),
    };
    let source = match wc.primary_key_mode {
        PrimaryKeyMode::Kafka => "the key and the value",
        PrimaryKeyMode::RecordKey => "the value",
        PrimaryKeyMode::RecordValue => "the key",
    };
    say(
        Level::Note,
        "wide_column.primary_key_mode",
        format!(
            "fields of {source} named like a primary key column ({pk_names}) are not written: \
             Tablestore rejects an attribute with a primary key column's name. Each is counted \
             in {}{{kind=\"primary_key\"}}.",
            names::FIELD_CLASHES
        ),
    );
    match wc.write_mode {
        WriteMode::Put => {
            say(
                Level::Note,
                "wide_column.write_mode",
                "\"put\" replaces each row whole (PutRow); a message whose fields are all null, \
                 or that has no field besides the primary key, writes a row with its primary key \
                 alone, overwriting the row (the product page: put exports records with empty \
                 values in overwrite mode)."
                    .to_owned(),
            );
            if wc.delete_mode.deletes_columns() {
                let rows = if wc.delete_mode.deletes_rows() {
                    "the row part still applies: a tombstone deletes its row"
                } else {
                    "tombstones are dead-lettered, as with delete_mode = \"none\""
                };
                say(
                    Level::Warning,
                    "wide_column.delete_mode",
                    format!(
                        "delete_mode = {:?} with write_mode = \"put\": the column part has no \
                         effect, because put replaces the row whole, so a null field is simply \
                         not written (and is gone from the row anyway); {rows}. Use write_mode \
                         = \"update\" to delete single columns.",
                        spelling(&wc.delete_mode)
                    ),
                );
            }
        }
        WriteMode::Update => say(
            Level::Note,
            "wide_column.write_mode",
            format!(
                "\"update\" upserts the message's columns (UpdateRow); null fields {}; a message \
                 whose fields are all null {}.",
                if wc.delete_mode.deletes_columns() {
                    "delete their columns"
                } else {
                    "are skipped"
                },
                if wc.delete_mode.deletes_columns() {
                    "deletes those columns"
                } else {
                    "is dead-lettered (all_null), as the product page says"
                }
            ),
        ),
    }
}

fn explain_timeseries(c: &Config, say: &mut impl FnMut(Level, &'static str, String)) {
    let Some(ts) = &c.timeseries else { return };
    say(
        Level::Note,
        "timeseries.lowercase_field_names",
        if ts.lowercase_field_names {
            "field names are lower-cased before writing (\"CpuUsage\" is written as \
             \"cpuusage\"), and timeseries.fields entries match case-insensitively; two fields \
             that lower-case to one name are dead-lettered (field_name_clash)."
                .to_owned()
        } else {
            "field names are written as they are, so a field with an uppercase letter is \
             dead-lettered (bad_field_name)."
                .to_owned()
        },
    );
    if ts.timestamp_unit == TimestampUnit::Nanoseconds || ts.timestamp_field.is_some() {
        say(
            Level::Note,
            "timeseries.sub_microsecond",
            match ts.sub_microsecond {
                SubMicrosecond::Truncate => {
                    "times finer than a microsecond (nanoseconds, RFC 3339 \
                     fractions of more than 6 digits) are truncated to the microsecond, as the \
                     product page and the managed connector do."
                        .to_owned()
                }
                SubMicrosecond::Reject => "a time that is not a whole number of microseconds is \
                     dead-lettered (bad_timestamp) instead of truncated."
                    .to_owned(),
            },
        );
    }
}

fn explain_kafka(c: &Config, say: &mut impl FnMut(Level, &'static str, String)) {
    say(
        Level::Note,
        "kafka.on_missing_topic",
        match c.kafka.on_missing_topic {
            MissingTopic::Wait => format!(
                "if the source topic {:?} does not exist, the sink waits for it, not ready \
                 (/readyz), logging every few seconds; set on_missing_topic = \"fail\" to exit \
                 instead.",
                c.kafka.topic
            ),
            MissingTopic::Fail => format!(
                "if the source topic {:?} does not exist, the sink exits at once with an error.",
                c.kafka.topic
            ),
        },
    );
    say(
        Level::Note,
        "kafka.resource_creation",
        match c.kafka.resource_creation {
            ResourceCreation::Auto => format!(
                "missing connector topics are created; the consumer group {:?} is created by \
                 joining it where the broker allows (ApsaraMQ: with flexible group creation on; \
                 otherwise create it in the console).",
                c.group()
            ),
            ResourceCreation::Manual => format!(
                "the five connector topics and the consumer group {:?} must exist; the sink \
                 checks them at startup and refuses to start, saying how to create what is \
                 missing.",
                c.group()
            ),
        },
    );
}
