//! Conversion of Kafka records into Tablestore writes: the pure layer
//! (no I/O, no clock) between the partition consumers and the writers.
//!
//! A [`Converter`] is built once from the [`Config`] and shared by the
//! converter threads: it holds only immutable settings, so it is `Send +
//! Sync` and `convert` takes `&self`. [`Converter::convert`] turns one
//! [`Record`] into a Wide Column [`RowWrite`] (put, update or delete) or a
//! TimeSeries point, or into a [`ConvertError`] that sends the record to
//! the dead-letter topic: its message says what is wrong, where and how to
//! fix it, and [`ConvertError::reason_code`] is a short bounded label for
//! metrics and headers.
//!
//! * [`decode`]: key / value bytes as UTF-8 text or a JSON object;
//! * [`json`]: JSON values as cell values (`string` / `auto` conversion);
//! * [`object`]: a record's JSON object without a `Value` tree when flat;
//! * [`flat_scan`]: the one-pass reader of flat JSON objects;
//! * [`primary_key`]: the primary key per `primary_key_mode`;
//! * [`wide_column`]: record → PutRow / UpdateRow / DeleteRow;
//! * [`timeseries`]: record → TimeSeries point;
//! * [`timestamp`]: exact microsecond timestamps;
//! * [`limits`]: the service limits a single record can break;
//! * [`error`]: [`ConvertError`] and [`SetupError`].

pub mod decode;
pub mod error;
pub mod flat_scan;
pub mod json;
pub mod limits;
pub mod object;
pub mod primary_key;
pub mod timeseries;
pub mod timestamp;
pub mod wide_column;

#[cfg(test)]
mod tests;

pub use error::{ConvertError, Part, SetupError};
pub use primary_key::PrimaryKeySpec;
pub use timeseries::TimeseriesConverter;
pub use wide_column::WideColumnConverter;

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use crate::config::{Config, Model};
use crate::tablestore::flatrows::TimeseriesRow;
use crate::tablestore::plainbuffer::Row;
use crate::tablestore::proto::OperationType;

/// One Kafka message, borrowed from the consumer's buffer.
#[derive(Clone, Copy, Debug)]
pub struct Record<'a> {
    pub topic: &'a str,
    pub partition: i32,
    pub offset: i64,
    /// Milliseconds since the epoch; `None` when the message has none.
    pub timestamp_ms: Option<i64>,
    /// `None` for a null key.
    pub key: Option<&'a [u8]>,
    /// `None` for a null value (a tombstone).
    pub value: Option<&'a [u8]>,
}

/// One Wide Column row change. For [`OperationType::Delete`] the row has
/// its primary key, `delete_marker = true` and no cells.
#[derive(Clone, Debug, PartialEq)]
pub struct RowWrite {
    pub op: OperationType,
    pub row: Row,
    /// Name clashes met while building the row (see [`wide_column`]).
    pub clashes: FieldClashes,
}

/// Fields of one record that wanted a column name already taken.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct FieldClashes {
    /// Key columns named like a value field (`wide_column.key_clash`).
    pub key_value: u32,
    /// Fields named like a primary-key column, left out.
    pub primary_key: u32,
}

/// What a record becomes.
#[derive(Clone, Debug, PartialEq)]
pub enum Converted {
    Row(RowWrite),
    Point(TimeseriesRow),
}

/// The converter for the configured model.
#[derive(Clone, Debug)]
pub struct Converter {
    model: ModelConverter,
}

#[derive(Clone, Debug)]
enum ModelConverter {
    WideColumn(WideColumnConverter),
    Timeseries(TimeseriesConverter),
}

/// Running totals of [`FieldClashes`] over every record a
/// [`WideColumnConverter`] has converted, shared with the metrics exporter, which moves them into its
/// counters at each scrape. Converter threads add without locking, and
/// only a record with a clash touches them.
#[derive(Debug, Default)]
pub struct ClashTally {
    key_value: AtomicU64,
    primary_key: AtomicU64,
}

impl ClashTally {
    pub(crate) fn add(&self, clashes: FieldClashes) {
        if clashes.key_value > 0 {
            self.key_value
                .fetch_add(u64::from(clashes.key_value), Ordering::Relaxed);
        }
        if clashes.primary_key > 0 {
            self.primary_key
                .fetch_add(u64::from(clashes.primary_key), Ordering::Relaxed);
        }
    }

    /// The totals since the last call, as `(key_value, primary_key)`.
    pub fn take(&self) -> (u64, u64) {
        (
            self.key_value.swap(0, Ordering::Relaxed),
            self.primary_key.swap(0, Ordering::Relaxed),
        )
    }
}

impl Converter {
    /// Builds the converter for `config.tablestore.model`, or says which
    /// setting makes conversion impossible (never panics).
    pub fn new(config: &Config) -> Result<Self, SetupError> {
        let model = match config.tablestore.model {
            Model::WideColumn => {
                ModelConverter::WideColumn(WideColumnConverter::new(&config.wide_column)?)
            }
            Model::Timeseries => {
                let ts = config
                    .timeseries
                    .as_ref()
                    .ok_or(SetupError::MissingTimeseriesSection)?;
                ModelConverter::Timeseries(TimeseriesConverter::new(ts)?)
            }
        };
        Ok(Converter { model })
    }

    /// The clash totals, for the metrics exporter (TimeSeries has none).
    pub fn tally(&self) -> Arc<ClashTally> {
        match &self.model {
            ModelConverter::WideColumn(c) => c.tally(),
            ModelConverter::Timeseries(_) => Arc::default(),
        }
    }

    /// Converts one record.
    pub fn convert(&self, record: &Record) -> Result<Converted, ConvertError> {
        match &self.model {
            ModelConverter::WideColumn(c) => c.convert(record).map(Converted::Row),
            ModelConverter::Timeseries(c) => c.convert(record).map(Converted::Point),
        }
    }
}
