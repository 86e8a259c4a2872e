//! `[wide_column]`: how messages become Wide Column rows.

use serde::{Deserialize, Serialize};

#[derive(Clone, Copy, Debug, Default, Deserialize, Serialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum KeyValueFormat {
    String,
    #[default]
    Json,
}

#[derive(Clone, Copy, Debug, Default, Deserialize, Serialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum JsonConversion {
    /// Write every field as STRING (nested values as compact JSON).
    #[default]
    String,
    /// Strings → STRING, booleans → BOOLEAN, numbers → DOUBLE (or INTEGER
    /// with `keep_integers`), nested → STRING (compact JSON).
    Auto,
}

#[derive(Clone, Copy, Debug, Default, Deserialize, Serialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum PrimaryKeyMode {
    /// `topic_partition` ("<topic>_<partition>") + `offset`.
    #[default]
    Kafka,
    RecordKey,
    RecordValue,
}

#[derive(Clone, Copy, Debug, Deserialize, Serialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum PkColumnType {
    String,
    Integer,
}

#[derive(Clone, Debug, Deserialize, Serialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct PkColumnConfig {
    pub name: String,
    #[serde(rename = "type")]
    pub column_type: PkColumnType,
}

#[derive(Clone, Copy, Debug, Default, Deserialize, Serialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum WriteMode {
    /// PutRow: the row is replaced.
    #[default]
    Put,
    /// UpdateRow: listed columns upserted, others kept.
    Update,
}

#[derive(Clone, Copy, Debug, Default, Deserialize, Serialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum DeleteMode {
    #[default]
    None,
    /// A tombstone (null value) deletes the row.
    Row,
    /// Null fields delete their columns (update mode; with put, rows are
    /// replaced whole, so this has no effect).
    Column,
    RowAndColumn,
}

impl DeleteMode {
    pub fn deletes_rows(self) -> bool {
        matches!(self, DeleteMode::Row | DeleteMode::RowAndColumn)
    }
    pub fn deletes_columns(self) -> bool {
        matches!(self, DeleteMode::Column | DeleteMode::RowAndColumn)
    }
}

/// What happens when a column from the message key has the name of a
/// field of the value (the product page's test message: key `demo`, value
/// `{"key": "test"}`).
#[derive(Clone, Copy, Debug, Default, Deserialize, Serialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum KeyClash {
    /// Both are kept: the value's field keeps its name, the key's column
    /// is written as `key_<name>` (prefix repeated until the name is free).
    #[default]
    Rename,
    /// The key's column replaces the value's field (the Java plugin's rule;
    /// the value's field is lost, and counted).
    KeyWins,
    /// The value's field is kept and the key's column dropped (counted).
    ValueWins,
}

/// The column for a `string` key.
pub fn default_key_column() -> String {
    "key".into()
}
/// The column for a `string` value.
pub fn default_value_column() -> String {
    "value".into()
}

#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct WideColumnConfig {
    #[serde(default)]
    pub key_format: KeyValueFormat,
    #[serde(default)]
    pub value_format: KeyValueFormat,
    #[serde(default)]
    pub json_conversion: JsonConversion,
    /// With `json_conversion = "auto"`: keep JSON integers as INTEGER
    /// instead of DOUBLE (opt-in; the product page converts to DOUBLE).
    #[serde(default)]
    pub keep_integers: bool,
    #[serde(default)]
    pub primary_key_mode: PrimaryKeyMode,
    /// 1-4 columns for record_key / record_value.
    #[serde(default)]
    pub primary_key: Vec<PkColumnConfig>,
    #[serde(default)]
    pub write_mode: WriteMode,
    #[serde(default)]
    pub delete_mode: DeleteMode,
    /// Column written for a `string` key (unless the key is the primary key).
    #[serde(default = "default_key_column")]
    pub key_column: String,
    /// Column written for a `string` value (unless it is the primary key).
    #[serde(default = "default_value_column")]
    pub value_column: String,
    /// A key column named like a value field: keep both (default) or let
    /// one win.
    #[serde(default)]
    pub key_clash: KeyClash,
}

impl Default for WideColumnConfig {
    fn default() -> Self {
        WideColumnConfig {
            key_format: KeyValueFormat::default(),
            value_format: KeyValueFormat::default(),
            json_conversion: JsonConversion::default(),
            keep_integers: false,
            primary_key_mode: PrimaryKeyMode::default(),
            primary_key: Vec::new(),
            write_mode: WriteMode::default(),
            delete_mode: DeleteMode::default(),
            key_column: default_key_column(),
            value_column: default_value_column(),
            key_clash: KeyClash::default(),
        }
    }
}
