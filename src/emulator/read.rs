//! What a read asks for (GetRow, BatchGetRow, GetRange): columns, versions,
//! time range, column range and filter, parsed and checked once, and the
//! one place that turns a stored row into the row a read returns.

use super::api_error::ApiError;
use super::catalog::TableInfo;
use super::cells::{self, ReadOptions};
use super::filter::{self, Filter, Usage};
use super::validate::MAX_COLUMNS_TO_GET;
use crate::tablestore::plainbuffer::Row;
use crate::tablestore::proto::TimeRange;

/// A parsed read request.
#[derive(Clone, Debug)]
pub struct Read {
    options: ReadOptions,
    filter: Option<Filter>,
}

/// The read fields shared by GetRowRequest, TableInBatchGetRowRequest and
/// GetRangeRequest.
pub struct ReadFields<'a> {
    pub columns_to_get: Vec<String>,
    pub time_range: Option<TimeRange>,
    pub max_versions: Option<i32>,
    pub filter: Option<&'a [u8]>,
    pub start_column: Option<String>,
    pub end_column: Option<String>,
}

impl Read {
    pub fn parse(fields: ReadFields<'_>) -> Result<Read, ApiError> {
        let mut options = read_options(
            fields.columns_to_get,
            fields.time_range,
            fields.max_versions,
        )?;
        let nonempty = |s: Option<String>| s.filter(|s| !s.is_empty());
        options.start_column = nonempty(fields.start_column);
        options.end_column = nonempty(fields.end_column);
        if let (Some(s), Some(e)) = (&options.start_column, &options.end_column) {
            if s >= e {
                return Err(ApiError::invalid(format!(
                    "Invalid column range: start column '{s}' must be less than end column '{e}'."
                )));
            }
        }
        Ok(Read {
            options,
            filter: filter::parse(fields.filter, Usage::Read)?,
        })
    }

    /// What the read returns of a stored row: TTL, time range, versions and
    /// column selection, then the filter. `None` when nothing is returned.
    pub fn row(&self, info: &TableInfo, stored: &Row, now_ms: i64) -> Option<Row> {
        let mut row = cells::visible(info, stored, now_ms, &self.options)?;
        if let Some(f) = &self.filter {
            row.cells = f.apply(std::mem::take(&mut row.cells))?;
        }
        Some(row)
    }
}

/// One of time_range/max_versions is required.
fn read_options(
    columns: Vec<String>,
    time_range: Option<TimeRange>,
    max_versions: Option<i32>,
) -> Result<ReadOptions, ApiError> {
    if columns.len() > MAX_COLUMNS_TO_GET {
        return Err(ApiError::invalid(format!(
            "The number of columns to get exceeded the limit: {MAX_COLUMNS_TO_GET}, current: {}.",
            columns.len()
        )));
    }
    if time_range.is_none() && max_versions.is_none() {
        return Err(ApiError::invalid(
            "Neither column time range nor max versions is specified.",
        ));
    }
    if let Some(m) = max_versions {
        if m <= 0 {
            return Err(ApiError::invalid(format!("Invalid max versions: {m}.")));
        }
    }
    let time_range = match time_range {
        None => None,
        Some(TimeRange {
            specific_time: Some(t),
            ..
        }) => Some((t, t.saturating_add(1))),
        Some(TimeRange {
            start_time,
            end_time,
            ..
        }) => {
            let (s, e) = (start_time.unwrap_or(0), end_time.unwrap_or(i64::MAX));
            if s >= e {
                return Err(ApiError::invalid(format!(
                    "Invalid time range: start {s} must be less than end {e}."
                )));
            }
            Some((s, e))
        }
    };
    Ok(ReadOptions {
        max_versions: max_versions.or(if time_range.is_some() {
            Some(i32::MAX)
        } else {
            None
        }),
        time_range,
        columns,
        start_column: None,
        end_column: None,
    })
}
