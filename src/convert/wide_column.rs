//! A Kafka record as one Wide Column row change: PutRow, UpdateRow or
//! DeleteRow.
//!
//! Columns: a `string` value becomes the column `value`, a `string` key
//! the column `key` (unless that whole string is the primary key). A JSON
//! object contributes one column per top-level field, the value's first
//! and then the key's, a key field replacing a value field of the same
//! name (as the Java plugin merges them). Fields named like a primary-key
//! column are left out. Cell values follow `json_conversion` (see
//! [`json`](super::json)); cells carry no timestamp, so the server stamps
//! them and the last message written wins.
//!
//! Nulls and deletes (the product page's matrix, implemented):
//!
//! | record | put | update |
//! |---|---|---|
//! | tombstone, `record_key`, delete_mode row / row_and_column | DeleteRow | DeleteRow |
//! | any other tombstone | error `tombstone` | error `tombstone` |
//! | null field, delete_mode column / row_and_column | skipped | column deleted (all versions) |
//! | null field, delete_mode none / row | skipped | skipped |
//! | every field null | error `no_columns` | deletes when column deletes are on, else error `all_null` |
//! | no field at all | error `no_columns` | error `no_columns` |
//!
//! Before a row leaves, the limits a single record can break are checked
//! ([`limits`](super::limits)): column names, 2 MiB per value, 1024
//! columns, about 4 MiB per row.

use std::collections::HashMap;

use serde_json::Value as Json;

use super::decode::{decode, Decoded};
use super::error::{ConvertError, Part, SetupError};
use super::json;
use super::limits::{self, MAX_CELL_BYTES, MAX_COLUMNS, MAX_ROW_BYTES};
use super::primary_key::PrimaryKeySpec;
use super::{Record, RowWrite};
use crate::config::{DeleteMode, JsonConversion, KeyValueFormat, WideColumnConfig, WriteMode};
use crate::tablestore::plainbuffer::{Cell, PkValue, Row, Value};
use crate::tablestore::proto::OperationType;

/// Column written for a `string` key.
pub const KEY_COLUMN: &str = "key";
/// Column written for a `string` value.
pub const VALUE_COLUMN: &str = "value";

/// Converts records to Wide Column row changes. Immutable once built.
#[derive(Clone, Debug)]
pub struct WideColumnConverter {
    key_format: KeyValueFormat,
    value_format: KeyValueFormat,
    conversion: JsonConversion,
    keep_integers: bool,
    write_mode: WriteMode,
    delete_mode: DeleteMode,
    primary_key: PrimaryKeySpec,
}

/// One field on its way to a cell.
#[derive(Clone, Copy)]
enum Field<'a> {
    Json(&'a Json),
    Text(&'a str),
}

impl WideColumnConverter {
    pub fn new(config: &WideColumnConfig) -> Result<Self, SetupError> {
        Ok(WideColumnConverter {
            key_format: config.key_format,
            value_format: config.value_format,
            conversion: config.json_conversion,
            keep_integers: config.keep_integers,
            write_mode: config.write_mode,
            delete_mode: config.delete_mode,
            primary_key: PrimaryKeySpec::new(config)?,
        })
    }

    /// The primary-key rule, also the table's primary-key schema.
    pub fn primary_key(&self) -> &PrimaryKeySpec {
        &self.primary_key
    }

    pub fn convert(&self, record: &Record) -> Result<RowWrite, ConvertError> {
        if record.value.is_none() {
            return self.tombstone(record);
        }
        let value = decode(Part::Value, record.value, self.value_format)?;
        let key = decode(Part::Key, record.key, self.key_format)?;
        let primary_key = self.primary_key.extract(record, &key, &value)?;
        let fields = self.fields(&key, &value);
        let cells = self.cells(&fields)?;
        check_row(&primary_key, &cells)?;
        let op = match self.write_mode {
            WriteMode::Put => OperationType::Put,
            WriteMode::Update => OperationType::Update,
        };
        Ok(RowWrite {
            op,
            row: Row {
                primary_key,
                cells,
                delete_marker: false,
            },
        })
    }

    /// A record without a value: a row delete, when allowed.
    fn tombstone(&self, record: &Record) -> Result<RowWrite, ConvertError> {
        if !self.primary_key.from_key() {
            return Err(ConvertError::Tombstone {
                hint: "tombstones delete rows only with primary_key_mode = \"record_key\" and delete_mode = \"row\" or \"row_and_column\"; with the primary key taken elsewhere there is nothing to write".into(),
            });
        }
        if !self.delete_mode.deletes_rows() {
            return Err(ConvertError::Tombstone {
                hint: format!(
                    "delete_mode = {:?} does not delete rows: set wide_column.delete_mode = \"row\" or \"row_and_column\" to delete the row on a tombstone",
                    delete_mode_name(self.delete_mode)
                ),
            });
        }
        let key = decode(Part::Key, record.key, self.key_format)?;
        let primary_key = self.primary_key.extract(record, &key, &Decoded::Absent)?;
        Ok(RowWrite {
            op: OperationType::Delete,
            row: Row {
                primary_key,
                cells: Vec::new(),
                delete_marker: true,
            },
        })
    }

    /// The attribute fields: the value's, then the key's (replacing
    /// same-named ones), without primary-key columns.
    fn fields<'a>(&self, key: &'a Decoded, value: &'a Decoded) -> Vec<(&'a str, Field<'a>)> {
        let mut fields: Vec<(&str, Field)> = Vec::new();
        let mut index: HashMap<&str, usize> = HashMap::new();
        for (part, decoded, text_column) in [
            (Part::Value, value, VALUE_COLUMN),
            (Part::Key, key, KEY_COLUMN),
        ] {
            let entries: Vec<(&str, Field)> = match decoded {
                Decoded::Absent => Vec::new(),
                Decoded::Text(_) if self.primary_key.uses_whole(part) => Vec::new(),
                Decoded::Text(text) => vec![(text_column, Field::Text(text))],
                Decoded::Object(map) => map
                    .iter()
                    .map(|(name, v)| (name.as_str(), Field::Json(v)))
                    .collect(),
            };
            for (name, field) in entries {
                if self.primary_key.is_key_column(name) {
                    continue;
                }
                match index.get(name) {
                    Some(&i) => fields[i].1 = field,
                    None => {
                        index.insert(name, fields.len());
                        fields.push((name, field));
                    }
                }
            }
        }
        fields
    }

    /// Cells for the fields under the write and delete modes.
    fn cells(&self, fields: &[(&str, Field)]) -> Result<Vec<Cell>, ConvertError> {
        let update = self.write_mode == WriteMode::Update;
        let delete_nulls = update && self.delete_mode.deletes_columns();
        let mut cells = Vec::with_capacity(fields.len());
        let mut nulls = 0;
        for &(name, field) in fields {
            let value = match field {
                Field::Text(text) => Some(Value::String(text.to_owned())),
                Field::Json(v) => json::to_value(v, self.conversion, self.keep_integers),
            };
            let cell = match value {
                Some(value) => Cell::put(name, value),
                None if delete_nulls => Cell::delete_all(name),
                None => {
                    nulls += 1;
                    continue;
                }
            };
            limits::check_column_name(name)?;
            cells.push(cell);
        }
        if cells.is_empty() {
            return Err(if update && nulls > 0 {
                ConvertError::AllNull { count: nulls }
            } else if nulls > 0 {
                ConvertError::NoColumns {
                    detail: format!("all {nulls} fields are null, and put mode skips nulls"),
                }
            } else {
                ConvertError::NoColumns {
                    detail: "the key and value have no fields besides the primary key".into(),
                }
            });
        }
        Ok(cells)
    }
}

/// Column count, value sizes and the approximate row size.
fn check_row(primary_key: &[(String, PkValue)], cells: &[Cell]) -> Result<(), ConvertError> {
    if cells.len() > MAX_COLUMNS {
        return Err(ConvertError::TooManyColumns {
            what: "column",
            count: cells.len(),
            limit: MAX_COLUMNS,
        });
    }
    let mut row_len = 0;
    for (name, v) in primary_key {
        row_len += name.len()
            + match v {
                PkValue::String(s) => s.len(),
                PkValue::Binary(b) => b.len(),
                _ => 8,
            };
    }
    for cell in cells {
        let len = cell.value.as_ref().map_or(0, Value::payload_len);
        if len > MAX_CELL_BYTES {
            return Err(ConvertError::ValueTooLarge {
                what: "column",
                name: cell.name.clone(),
                len,
                limit: MAX_CELL_BYTES,
            });
        }
        row_len += cell.name.len() + len;
    }
    if row_len > MAX_ROW_BYTES {
        return Err(ConvertError::RowTooLarge { len: row_len });
    }
    Ok(())
}

fn delete_mode_name(mode: DeleteMode) -> &'static str {
    match mode {
        DeleteMode::None => "none",
        DeleteMode::Row => "row",
        DeleteMode::Column => "column",
        DeleteMode::RowAndColumn => "row_and_column",
    }
}
