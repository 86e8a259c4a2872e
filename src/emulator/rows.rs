//! Row actions: PutRow, UpdateRow, DeleteRow, GetRow, BatchWriteRow.
//! Each handler is a plain function over a redb transaction; the server
//! runs writes through the group-committing writer ([`super::store`]).

use redb::{ReadTransaction, ReadableTable, Table, WriteTransaction};

use super::api_error::ApiError;
use super::capacity;
use super::catalog::{self, TableInfo, TableKind};
use super::cells::{self, ReadOptions};
use super::filter::{self, Filter, Usage};
use super::keycodec;
use super::read::{Read, ReadFields};
use super::store::{ROWS, TABLES};
use super::validate::{self, RowUse, MAX_BATCH_WRITE_BYTES, MAX_BATCH_WRITE_ROWS};
use crate::tablestore::plainbuffer::{self, PkRef, PkValue, Row, RowView};
use crate::tablestore::proto::*;

/// A write's condition: the row existence expectation and an optional
/// column condition, checked on the stored row before anything is written.
pub struct Expectation {
    pub existence: RowExistenceExpectation,
    pub column: Option<Filter>,
}

impl Expectation {
    pub fn parse(c: &Condition) -> Result<Self, ApiError> {
        let existence = RowExistenceExpectation::try_from(c.row_existence).map_err(|_| {
            ApiError::invalid(format!(
                "Invalid row existence expectation: {}.",
                c.row_existence
            ))
        })?;
        Ok(Expectation {
            existence,
            column: filter::parse(c.column_condition.as_deref(), Usage::Condition)?,
        })
    }

    /// Whether checking it reads the row (and costs read capacity).
    fn reads_row(&self) -> bool {
        self.existence != RowExistenceExpectation::Ignore || self.column.is_some()
    }
}

/// What a successful row write answers with.
pub struct Written {
    pub consumed: ConsumedCapacity,
    /// The `row` of the response, per `return_content`.
    pub row: Option<Vec<u8>>,
}

/// Every version of every column a condition may look at (TTL applied).
fn all_versions() -> ReadOptions {
    ReadOptions {
        max_versions: Some(i32::MAX),
        ..Default::default()
    }
}

/// The response row for `return_content`: RT_PK gives the primary key
/// (with auto-increment values filled in); RT_AFTER_MODIFY the primary key
/// and the latest version of each `return_column_names` column as it is
/// after the write (an incremented counter's new value).
fn returned_row(
    rc: &Option<ReturnContent>,
    pk: &[(String, PkValue)],
    after: Option<&Row>,
) -> Option<Vec<u8>> {
    let rc = rc.as_ref()?;
    match ReturnType::try_from(rc.return_type.unwrap_or(0)) {
        Ok(ReturnType::RtPk) => Some(plainbuffer::encode_primary_key(pk)),
        Ok(ReturnType::RtAfterModify) => {
            let mut row = Row::with_key(pk.to_vec());
            if let Some(after) = after {
                for name in &rc.return_column_names {
                    // Stored cells are sorted newest first within a column.
                    if let Some(c) = after.cells.iter().find(|c| &c.name == name) {
                        row.cells.push(c.clone());
                    }
                }
            }
            Some(plainbuffer::encode_row(&row))
        }
        _ => None,
    }
}

/// Whether `return_content` asks for the row after the write.
fn returns_after(rc: &Option<ReturnContent>) -> bool {
    rc.as_ref().and_then(|rc| rc.return_type) == Some(ReturnType::RtAfterModify as i32)
}

/// The rows table of a write transaction, opened once per request.
pub type RowsTable<'txn> = Table<'txn, &'static [u8], &'static [u8]>;

/// Applies one row change, as it arrived, inside `txn` (`rows` is its
/// open rows table). Validates everything before writing (the store's job
/// contract).
#[allow(clippy::too_many_arguments)]
pub fn write_one(
    txn: &WriteTransaction,
    rows: &mut RowsTable<'_>,
    info: &TableInfo,
    op: OperationType,
    change: &RowView<'_>,
    expect: &Expectation,
    return_content: &Option<ReturnContent>,
    now_ms: i64,
) -> Result<Written, ApiError> {
    let usage = match op {
        OperationType::Put => RowUse::Put,
        OperationType::Update => RowUse::Update,
        OperationType::Delete => RowUse::Delete,
    };
    validate::check_row(info, change, usage, now_ms)?;
    match (op, expect.existence) {
        (OperationType::Delete, RowExistenceExpectation::ExpectNotExist) => {
            return Err(ApiError::invalid(
                "Invalid condition: EXPECT_NOT_EXIST while deleting row.",
            ))
        }
        (OperationType::Update, RowExistenceExpectation::ExpectNotExist) => {
            return Err(ApiError::invalid(
                "Invalid condition: EXPECT_NOT_EXIST while updating row.",
            ))
        }
        _ => {}
    }
    let consumed = capacity::for_write(
        capacity::change_sizes(change),
        op == OperationType::Delete,
        expect.reads_row(),
    );
    let needs_auto = change
        .primary_key
        .iter()
        .any(|c| c.value == PkRef::AutoIncrement);
    if op == OperationType::Put
        && !needs_auto
        && !expect.reads_row()
        && !returns_after(return_content)
    {
        // The common write (every sink Put): nothing to read, and the
        // stored row is the request's bytes with versions added.
        let key = keycodec::exact_key_of(info.id, change.primary_key.iter().map(|c| c.value));
        let versions = cells::put_versions(info, change, now_ms);
        let value = plainbuffer::encode_stored_put(&change.primary_key, &versions);
        rows.insert(key.as_slice(), value.as_slice())?;
        let row = return_content
            .as_ref()
            .and_then(|_| returned_row(return_content, &change.to_row().primary_key, None));
        return Ok(Written { consumed, row });
    }
    let mut row = change.to_row();
    let key = if needs_auto {
        None
    } else {
        Some(keycodec::exact_key(info.id, &row.primary_key))
    };
    let existing = match &key {
        Some(k) => match rows.get(k.as_slice())? {
            Some(v) => Some(validate::decode_stored_row(v.value(), "stored row")?),
            None => None,
        },
        None => None,
    };
    let live = existing
        .as_ref()
        .and_then(|r| cells::visible(info, r, now_ms, &all_versions()));
    match expect.existence {
        RowExistenceExpectation::ExpectExist if live.is_none() => {
            return Err(ApiError::condition_failed())
        }
        RowExistenceExpectation::ExpectNotExist if live.is_some() => {
            return Err(ApiError::condition_failed())
        }
        _ => {}
    }
    if let Some(f) = &expect.column {
        if !f.matches(live.as_ref().map_or(&[][..], |r| r.cells.as_slice())) {
            return Err(ApiError::condition_failed());
        }
    }
    // Everything checked: write.
    if needs_auto {
        let counter = format!("auto_increment:{}", info.id);
        for (_, v) in row.primary_key.iter_mut() {
            if *v == PkValue::AutoIncrement {
                *v = PkValue::Integer(catalog::next_counter(txn, &counter)? as i64);
            }
        }
    }
    let key = key.unwrap_or_else(|| keycodec::exact_key(info.id, &row.primary_key));
    let after = match op {
        OperationType::Put => {
            let stored = cells::apply_put(info, &row, now_ms);
            rows.insert(key.as_slice(), plainbuffer::encode_row(&stored).as_slice())?;
            Some(stored)
        }
        OperationType::Update => {
            let base = existing.filter(|r| cells::exists(info, r, now_ms));
            let stored = cells::apply_update(info, base, &row, now_ms)?;
            match &stored {
                Some(stored) => {
                    rows.insert(key.as_slice(), plainbuffer::encode_row(stored).as_slice())?;
                }
                None => {
                    rows.remove(key.as_slice())?;
                }
            }
            stored
        }
        OperationType::Delete => {
            rows.remove(key.as_slice())?;
            None
        }
    };
    Ok(Written {
        consumed,
        row: returned_row(return_content, &row.primary_key, after.as_ref()),
    })
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
    let expect = Expectation::parse(condition)?;
    let change = validate::view_row(bytes, "row")?;
    let mut rows = txn.open_table(ROWS)?;
    let written = write_one(
        txn,
        &mut rows,
        &info,
        op,
        &change,
        &expect,
        return_content,
        now_ms,
    )?;
    Ok(WriteRowResponse {
        consumed: written.consumed,
        row: written.row,
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
    let key_row = validate::decode_row(&req.primary_key, "primary key")?;
    validate::check_primary_key(&info, &key_row.primary_key, RowUse::Key)?;
    let read = Read::parse(ReadFields {
        columns_to_get: req.columns_to_get,
        time_range: req.time_range,
        max_versions: req.max_versions,
        filter: req.filter.as_deref(),
        start_column: req.start_column,
        end_column: req.end_column,
    })?;
    let found = read_one(txn, &info, &read, &key_row.primary_key, now_ms)?;
    Ok(GetRowResponse {
        consumed: capacity::for_read(found.as_ref().map_or(0, capacity::row_size)),
        row: found
            .map(|r| plainbuffer::encode_row(&r))
            .unwrap_or_default(),
        next_token: None,
    })
}

/// Reads one row by its (checked) primary key.
pub fn read_one(
    txn: &ReadTransaction,
    info: &TableInfo,
    read: &Read,
    primary_key: &[(String, PkValue)],
    now_ms: i64,
) -> Result<Option<Row>, ApiError> {
    let key = keycodec::exact_key(info.id, primary_key);
    let rows = txn.open_table(ROWS)?;
    Ok(match rows.get(key.as_slice())? {
        Some(v) => read.row(
            info,
            &validate::decode_stored_row(v.value(), "stored row")?,
            now_ms,
        ),
        None => None,
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
        return Err(super::wire_limits::batch_write_rows_exceeded(total));
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
    let mut rows = txn.open_table(ROWS)?;
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
                let expect = Expectation::parse(&r.condition)?;
                let change = validate::view_row(&r.row_change, "row")?;
                write_one(
                    txn,
                    &mut rows,
                    info,
                    op,
                    &change,
                    &expect,
                    &r.return_content,
                    now_ms,
                )
            })();
            results.push(match result {
                Ok(written) => RowInBatchWriteRowResponse {
                    is_ok: true,
                    error: None,
                    consumed: Some(written.consumed),
                    row: written.row,
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
