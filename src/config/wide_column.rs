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
    /// Null fields delete their columns (update mode).
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

#[derive(Clone, Debug, Default, Deserialize, Serialize)]
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
}
