//! Row actions: PutRow, UpdateRow, DeleteRow, GetRow, BatchWriteRow.
//! Each handler is a plain function over a redb transaction; the server
//! runs writes through the group-committing writer ([`super::store`]).

use redb::{ReadTransaction, ReadableTable, WriteTransaction};

use super::api_error::ApiError;
use super::catalog::{self, TableInfo, TableKind};
use super::cells::{self, ReadOptions};
use super::keycodec;
use super::store::{ROWS, TABLES};
use super::validate::{
    self, RowUse, MAX_BATCH_WRITE_BYTES, MAX_BATCH_WRITE_ROWS, MAX_COLUMNS_TO_GET,
};
use crate::tablestore::plainbuffer::{self, PkValue, Row};
use crate::tablestore::proto::*;

/// One capacity unit, the way the service reports small writes.
pub fn consumed(read: i32, write: i32) -> ConsumedCapacity {
    ConsumedCapacity {
        capacity_unit: CapacityUnit {
            read: Some(read),
            write: Some(write),
        },
    }
}

fn expectation(c: &Condition) -> Result<RowExistenceExpectation, ApiError> {
    if c.column_condition.as_ref().is_some_and(|b| !b.is_empty()) {
        return Err(ApiError::invalid(
            "Column conditions (filters) are not supported by the emulator.",
        ));
    }
    RowExistenceExpectation::try_from(c.row_existence).map_err(|_| {
        ApiError::invalid(format!(
            "Invalid row existence expectation: {}.",
            c.row_existence
        ))
    })
}

fn wants_pk(rc: &Option<ReturnContent>) -> bool {
    rc.as_ref().and_then(|r| r.return_type) == Some(ReturnType::RtPk as i32)
}

/// Applies one row change inside `txn`. Validates everything before
/// writing (the store's job contract). Returns the final primary key
/// (auto-increment values filled in).
pub fn write_one(
    txn: &WriteTransaction,
    info: &TableInfo,
    op: OperationType,
    mut row: Row,
    expect: RowExistenceExpectation,
    now_ms: i64,
) -> Result<Vec<(String, PkValue)>, ApiError> {
    let usage = match op {
        OperationType::Put => RowUse::Put,
        OperationType::Update => RowUse::Update,
        OperationType::Delete => RowUse::Delete,
    };
    validate::check_row(info, &row, usage, now_ms)?;
    if op == OperationType::Delete && expect == RowExistenceExpectation::ExpectNotExist {
        return Err(ApiError::invalid(
            "Invalid condition: EXPECT_NOT_EXIST while deleting a row.",
        ));
    }
    let needs_auto = row
        .primary_key
        .iter()
        .any(|(_, v)| *v == PkValue::AutoIncrement);
    let key = if needs_auto {
        None
    } else {
        Some(keycodec::exact_key(info.id, &row.primary_key))
    };
    let rows = txn.open_table(ROWS)?;
    let existing = match &key {
        Some(k) => match rows.get(k.as_slice())? {
            Some(v) => Some(validate::decode_row(v.value(), "stored row")?),
            None => None,
        },
        None => None,
    };
    let exists = existing
        .as_ref()
        .is_some_and(|r| cells::exists(info, r, now_ms));
    match expect {
        RowExistenceExpectation::ExpectExist if !exists => return Err(ApiError::condition_failed()),
        RowExistenceExpectation::ExpectNotExist if exists => {
            return Err(ApiError::condition_failed())
        }
        _ => {}
    }
    // Everything checked: write.
    drop(rows);
    if needs_auto {
        let counter = format!("auto_increment:{}", info.id);
        for (_, v) in row.primary_key.iter_mut() {
            if *v == PkValue::AutoIncrement {
                *v = PkValue::Integer(catalog::next_counter(txn, &counter)? as i64);
            }
        }
    }
    let key = key.unwrap_or_else(|| keycodec::exact_key(info.id, &row.primary_key));
    let mut rows = txn.open_table(ROWS)?;
    match op {
        OperationType::Put => {
            let stored = cells::apply_put(info, &row, now_ms);
            rows.insert(key.as_slice(), plainbuffer::encode_row(&stored).as_slice())?;
        }
        OperationType::Update => {
            let base = existing.filter(|r| cells::exists(info, r, now_ms));
            match cells::apply_update(info, base, &row, now_ms)? {
                Some(stored) => {
                    rows.insert(key.as_slice(), plainbuffer::encode_row(&stored).as_slice())?;
                }
                None => {
                    rows.remove(key.as_slice())?;
                }
            }
        }
        OperationType::Delete => {
            rows.remove(key.as_slice())?;
        }
    }
    Ok(row.primary_key)
}

fn write_single(
    txn: &WriteTransaction,
    table: &str,
    op: OperationType,
    bytes: &[u8],
    condition: &Condition,
    return_content: &Option<ReturnContent>,
    now_ms: i64,
) -> Result<WriteRowResponse, ApiError> {
    let info = catalog::require(&txn.open_table(TABLES)?, table, TableKind::WideColumn)?;
    let expect = expectation(condition)?;
    let row = validate::decode_row(bytes, "row")?;
    let pk = write_one(txn, &info, op, row, expect, now_ms)?;
    let row = wants_pk(return_content).then(|| plainbuffer::encode_primary_key(&pk));
    Ok(WriteRowResponse {
        consumed: consumed(0, 1),
        row,
    })
}

pub fn put_row(
    txn: &WriteTransaction,
    req: PutRowRequest,
    now_ms: i64,
) -> Result<WriteRowResponse, ApiError> {
    write_single(
        txn,
        &req.table_name,
        OperationType::Put,
        &req.row,
        &req.condition,
        &req.return_content,
        now_ms,
    )
}

pub fn update_row(
    txn: &WriteTransaction,
    req: UpdateRowRequest,
    now_ms: i64,
) -> Result<WriteRowResponse, ApiError> {
    write_single(
        txn,
        &req.table_name,
        OperationType::Update,
        &req.row_change,
        &req.condition,
        &req.return_content,
        now_ms,
    )
}

pub fn delete_row(
    txn: &WriteTransaction,
    req: DeleteRowRequest,
    now_ms: i64,
) -> Result<WriteRowResponse, ApiError> {
    write_single(
        txn,
        &req.table_name,
        OperationType::Delete,
        &req.primary_key,
        &req.condition,
        &req.return_content,
        now_ms,
    )
}

/// Read options of GetRow/GetRange; one of time_range/max_versions is required.
pub fn read_options(
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
    })
}

pub fn get_row(
    txn: &ReadTransaction,
    req: GetRowRequest,
    now_ms: i64,
) -> Result<GetRowResponse, ApiError> {
    let info = catalog::require(
        &txn.open_table(TABLES)?,
        &req.table_name,
        TableKind::WideColumn,
    )?;
    validate::reject_filter(&req.filter)?;
    let key_row = validate::decode_row(&req.primary_key, "primary key")?;
    validate::check_primary_key(&info, &key_row.primary_key, RowUse::Key)?;
    let opts = read_options(req.columns_to_get, req.time_range, req.max_versions)?;
    let key = keycodec::exact_key(info.id, &key_row.primary_key);
    let rows = txn.open_table(ROWS)?;
    let found = match rows.get(key.as_slice())? {
        Some(v) => cells::visible(
            &info,
            &validate::decode_row(v.value(), "stored row")?,
            now_ms,
            &opts,
        ),
        None => None,
    };
    Ok(GetRowResponse {
        consumed: consumed(1, 0),
        row: found
            .map(|r| plainbuffer::encode_row(&r))
            .unwrap_or_default(),
        next_token: None,
    })
}

/// Request-level checks of BatchWriteRow; failures here fail the request.
fn check_batch(req: &BatchWriteRowRequest) -> Result<(), ApiError> {
    if req.tables.is_empty() {
        return Err(ApiError::invalid("No row is specified in BatchWriteRow."));
    }
    if let Some(t) = req.tables.iter().find(|t| t.rows.is_empty()) {
        return Err(ApiError::invalid(format!(
            "No operation is specified for table: '{}'.",
            t.table_name
        )));
    }
    let total: usize = req.tables.iter().map(|t| t.rows.len()).sum();
    if total > MAX_BATCH_WRITE_ROWS {
        return Err(ApiError::invalid(format!(
            "The total number of rows in BatchWriteRow exceeds the limit. Limit:{MAX_BATCH_WRITE_ROWS}, Current:{total}."
        )));
    }
    let bytes: usize = req
        .tables
        .iter()
        .flat_map(|t| &t.rows)
        .map(|r| r.row_change.len())
        .sum();
    if bytes > MAX_BATCH_WRITE_BYTES {
        return Err(ApiError::invalid(format!(
            "The total data size of BatchWriteRow request exceeds the limit, limit size: {MAX_BATCH_WRITE_BYTES}, data size: {bytes}."
        )));
    }
    Ok(())
}

fn row_error(e: ApiError) -> RowInBatchWriteRowResponse {
    RowInBatchWriteRowResponse {
        is_ok: false,
        error: Some(Error {
            code: e.code.to_owned(),
            message: Some(e.message),
        }),
        consumed: None,
        row: None,
    }
}

pub fn batch_write_row(
    txn: &WriteTransaction,
    req: BatchWriteRowRequest,
    now_ms: i64,
) -> Result<BatchWriteRowResponse, ApiError> {
    check_batch(&req)?;
    let mut out = Vec::with_capacity(req.tables.len());
    for table in req.tables {
        let info = catalog::load(&txn.open_table(TABLES)?, &table.table_name)?
            .filter(|t| t.kind == TableKind::WideColumn);
        let mut results = Vec::with_capacity(table.rows.len());
        for r in table.rows {
            let result = (|| {
                let info = info.as_ref().ok_or_else(ApiError::table_missing)?;
                let op = OperationType::try_from(r.r#type).map_err(|_| {
                    ApiError::invalid(format!("Invalid operation type: {}.", r.r#type))
                })?;
                let expect = expectation(&r.condition)?;
                let row = validate::decode_row(&r.row_change, "row")?;
                let pk = write_one(txn, info, op, row, expect, now_ms)?;
                Ok::<_, ApiError>(
                    wants_pk(&r.return_content).then(|| plainbuffer::encode_primary_key(&pk)),
                )
            })();
            results.push(match result {
                Ok(row) => RowInBatchWriteRowResponse {
                    is_ok: true,
                    error: None,
                    consumed: Some(consumed(0, 1)),
                    row,
                },
                Err(e) => row_error(e),
            });
        }
        out.push(TableInBatchWriteRowResponse {
            table_name: table.table_name,
            rows: results,
        });
    }
    Ok(BatchWriteRowResponse { tables: out })
}

/// Drops every row of a table (DeleteTable).
pub fn delete_all_rows(txn: &WriteTransaction, table_id: u64) -> Result<(), ApiError> {
    let start = keycodec::table_prefix(table_id);
    let end = keycodec::successor(&start).expect("table ids never reach u64::MAX");
    let mut rows = txn.open_table(ROWS)?;
    rows.retain_in::<&[u8], _>(start.as_slice()..end.as_slice(), |_, _| false)?;
    Ok(())
}

/// Iterates stored rows in key order for [`super::range`].
pub fn stored_rows_in<'a>(
    rows: &'a impl ReadableTable<&'static [u8], &'static [u8]>,
    lower: std::ops::Bound<&'a [u8]>,
    upper: std::ops::Bound<&'a [u8]>,
) -> Result<redb::Range<'a, &'static [u8], &'static [u8]>, ApiError> {
    Ok(rows.range::<&[u8]>((lower, upper))?)
}
