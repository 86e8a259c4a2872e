//! A Kafka record as one Wide Column row change: PutRow, UpdateRow or
//! DeleteRow.
//!
//! Columns: a `string` value becomes the column `value_column` (default
//! `value`), a `string` key the column `key_column` (default `key`),
//! unless that whole string is the primary key. A JSON object contributes
//! one column per top-level field, the value's first and then the key's.
//! Cell values follow `json_conversion` (see [`json`](super::json)); cells
//! carry no timestamp, so the server stamps them and the last message
//! written wins.
//!
//! Clashes, where two parts of a record want one column name, never lose
//! data without a word: each is counted in [`FieldClashes`] (the sink
//! exports the counts as a metric), and `check` explains the rules.
//! * A key column with the name of a value field (the product page's test
//!   message: key `demo`, value `{"key": "test"}`) follows `key_clash`:
//!   `rename` (default) keeps the value's field and writes the key's as
//!   `key_<name>` (the prefix repeated until the name is free); `key_wins`
//!   is the Java plugin's rule (the key overwrites the field);
//!   `value_wins` drops the key's column.
//! * A field named like a primary-key column, in a part the primary key
//!   does not come from (a value field `offset` in `kafka` mode), is left
//!   out: Tablestore rejects an attribute named like a key column.
//!
//! Nulls and deletes (the product page's matrix):
//!
//! | record | put | update |
//! |---|---|---|
//! | tombstone, `record_key`, delete_mode row / row_and_column | DeleteRow | DeleteRow |
//! | any other tombstone | error `tombstone` | error `tombstone` |
//! | null field, delete_mode column / row_and_column | skipped (the row is replaced whole) | column deleted (all versions) |
//! | null field, delete_mode none / row | skipped | skipped |
//! | every field null, or no field | PutRow of the primary key alone (overwrites the row) | column deletes when on, else error `all_null` / `no_columns` |
//!
//! Before a row leaves, the limits a single record can break are checked
//! ([`limits`](super::limits)): column names, 2 MiB per value, 1024
//! columns, about 4 MiB per row.

use std::borrow::Cow;
use std::sync::Arc;

use rustc_hash::FxHashMap;

use super::decode::{decode, Decoded};
use super::error::{ConvertError, Part, SetupError};
use super::limits::{self, MAX_CELL_BYTES, MAX_COLUMNS, MAX_ROW_BYTES};
use super::object::FieldValue;
use super::primary_key::PrimaryKeySpec;
use super::{ClashTally, FieldClashes, Record, RowWrite};
use crate::config::{
    DeleteMode, JsonConversion, KeyClash, KeyValueFormat, WideColumnConfig, WriteMode,
};
use crate::tablestore::plainbuffer::{Cell, PkValue, Row, Value};
use crate::tablestore::proto::OperationType;

/// The prefix a renamed key column gets (`key_clash = "rename"`).
pub const CLASH_PREFIX: &str = "key_";

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
    key_column: String,
    value_column: String,
    key_clash: KeyClash,
    /// Clash totals over every record converted, for the metric; clones
    /// share it.
    tally: Arc<ClashTally>,
}

/// The attribute fields of one record, and the clashes met on the way.
struct Fields<'a> {
    list: Vec<(Cow<'a, str>, Field<'a, 'a>)>,
    clashes: FieldClashes,
}

/// One field on its way to a cell.
#[derive(Clone, Copy)]
enum Field<'o, 'a> {
    Json(FieldValue<'o, 'a>),
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
            key_column: config.key_column.clone(),
            value_column: config.value_column.clone(),
            key_clash: config.key_clash,
            tally: Arc::default(),
        })
    }

    /// The clash totals, for the metrics exporter.
    pub fn tally(&self) -> Arc<ClashTally> {
        self.tally.clone()
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
        let cells = self.cells(&fields.list)?;
        check_row(&primary_key, &cells)?;
        self.tally.add(fields.clashes);
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
            clashes: fields.clashes,
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
            clashes: FieldClashes::default(),
        })
    }

    /// The attribute fields: the value's, then the key's (clashes per
    /// `key_clash`), without primary-key columns.
    fn fields<'a>(&'a self, key: &'a Decoded<'a>, value: &'a Decoded<'a>) -> Fields<'a> {
        let count = |decoded: &Decoded| match decoded {
            Decoded::Absent => 0,
            Decoded::Text(_) => 1,
            Decoded::Object(object) => object.len(),
        };
        let mut fields = Fields {
            list: Vec::with_capacity(count(value) + count(key)),
            clashes: FieldClashes::default(),
        };
        // Names taken so far, looked up only for the key's columns: the
        // value's fields are unique (a JSON object's names are). A few
        // lookups scan the list (a string key is one); many build a map.
        let mut index: Option<FxHashMap<Cow<'a, str>, usize>> = None;
        for (part, decoded, text_column) in [
            (Part::Value, value, self.value_column.as_str()),
            (Part::Key, key, self.key_column.as_str()),
        ] {
            // The part's fields, without collecting them first.
            let (text, object) = match decoded {
                Decoded::Absent => (None, None),
                Decoded::Text(_) if self.primary_key.uses_whole(part) => (None, None),
                Decoded::Text(text) => (Some((text_column, Field::Text(text))), None),
                Decoded::Object(object) => (None, Some(object)),
            };
            let listed = usize::from(text.is_some()) + object.map_or(0, |o| o.len());
            let entries = text.into_iter().chain(
                object
                    .into_iter()
                    .flat_map(|o| o.fields().map(|(name, v)| (name, Field::Json(v)))),
            );
            if part == Part::Key && listed * (fields.list.len() + listed) > NAME_SCAN_LIMIT {
                let mut map = FxHashMap::default();
                map.reserve(fields.list.len() + listed);
                for (i, (n, _)) in fields.list.iter().enumerate() {
                    map.insert(n.clone(), i);
                }
                index = Some(map);
            }
            for (name, field) in entries {
                if self.primary_key.is_key_column(name) {
                    if !self.primary_key.comes_from(part) {
                        fields.clashes.primary_key += 1;
                    }
                    continue;
                }
                if part == Part::Value {
                    fields.list.push((Cow::Borrowed(name), field));
                    continue;
                }
                let Some(taken) = position(&index, &fields.list, name) else {
                    if let Some(map) = index.as_mut() {
                        map.insert(Cow::Borrowed(name), fields.list.len());
                    }
                    fields.list.push((Cow::Borrowed(name), field));
                    continue;
                };
                // Only the key's columns can meet a name already taken.
                fields.clashes.key_value += 1;
                match self.key_clash {
                    KeyClash::KeyWins => fields.list[taken].1 = field,
                    KeyClash::ValueWins => {}
                    KeyClash::Rename => {
                        let mut renamed = format!("{CLASH_PREFIX}{name}");
                        while position(&index, &fields.list, &renamed).is_some()
                            || self.primary_key.is_key_column(&renamed)
                        {
                            renamed.insert_str(0, CLASH_PREFIX);
                        }
                        if let Some(map) = index.as_mut() {
                            map.insert(Cow::Owned(renamed.clone()), fields.list.len());
                        }
                        fields.list.push((Cow::Owned(renamed), field));
                    }
                }
            }
        }
        fields
    }

    /// Cells for the fields under the write and delete modes.
    fn cells(&self, fields: &[(Cow<str>, Field<'_, '_>)]) -> Result<Vec<Cell>, ConvertError> {
        let update = self.write_mode == WriteMode::Update;
        let delete_nulls = update && self.delete_mode.deletes_columns();
        let mut cells = Vec::with_capacity(fields.len());
        let mut nulls = 0;
        for (name, field) in fields {
            let name: &str = name;
            let value = match *field {
                Field::Text(text) => Some(Value::String(text.to_owned())),
                Field::Json(v) => v.to_value(self.conversion, self.keep_integers),
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
        // Put exports every record in overwrite mode (the product page):
        // with nothing non-null, the row is its primary key alone.
        if cells.is_empty() && update {
            return Err(if nulls > 0 {
                ConvertError::AllNull { count: nulls }
            } else {
                ConvertError::NoColumns {
                    detail: "the key and value have no fields besides the primary key".into(),
                }
            });
        }
        Ok(cells)
    }
}

/// Up to this many name comparisons (key fields × names), the key's
/// columns scan the taken names instead of building a map of them.
const NAME_SCAN_LIMIT: usize = 64;

/// Where `name` is in `list`, through `index` when there is one.
fn position(
    index: &Option<FxHashMap<Cow<'_, str>, usize>>,
    list: &[(Cow<'_, str>, Field<'_, '_>)],
    name: &str,
) -> Option<usize> {
    match index {
        Some(map) => map.get(name).copied(),
        None => list.iter().position(|(n, _)| n == name),
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
