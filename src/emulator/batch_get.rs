//! BatchGetRow: up to 100 rows from one or more tables in one request, each
//! with its own result (a missing table or a bad key fails only its rows).

use redb::ReadTransaction;

use super::api_error::ApiError;
use super::capacity;
use super::catalog::{self, TableKind};
use super::read::{Read, ReadFields};
use super::rows::read_one;
use super::store::TABLES;
use super::validate::{self, RowUse};
use crate::tablestore::plainbuffer;
use crate::tablestore::proto::*;

/// Most rows in one BatchGetRow (`PROTOCOL.md` §6).
pub const MAX_BATCH_GET_ROWS: usize = 100;

fn check_batch(req: &BatchGetRowRequest) -> Result<(), ApiError> {
    let total: usize = req.tables.iter().map(|t| t.primary_key.len()).sum();
    if total == 0 {
        return Err(ApiError::invalid(
            "No row specified in the request of BatchGetRow.",
        ));
    }
    if let Some(t) = req.tables.iter().find(|t| t.primary_key.is_empty()) {
        return Err(ApiError::invalid(format!(
            "No row is specified for table: '{}'.",
            t.table_name
        )));
    }
    for (i, t) in req.tables.iter().enumerate() {
        if req.tables[..i].iter().any(|u| u.table_name == t.table_name) {
            return Err(ApiError::invalid(format!(
                "The table '{}' appears more than once in BatchGetRow.",
                t.table_name
            )));
        }
    }
    if total > MAX_BATCH_GET_ROWS {
        return Err(super::wire_limits::batch_get_rows_exceeded(total));
    }
    Ok(())
}

fn row_error(e: ApiError) -> RowInBatchGetRowResponse {
    RowInBatchGetRowResponse {
        is_ok: false,
        error: Some(Error {
            code: e.code.to_owned(),
            message: Some(e.message),
        }),
        consumed: None,
        row: None,
        next_token: None,
    }
}

pub fn batch_get_row(
    txn: &ReadTransaction,
    req: BatchGetRowRequest,
    now_ms: i64,
) -> Result<BatchGetRowResponse, ApiError> {
    check_batch(&req)?;
    // Read options are per table and checked for the whole request first.
    let mut reads = Vec::with_capacity(req.tables.len());
    for t in &req.tables {
        reads.push(Read::parse(ReadFields {
            columns_to_get: t.columns_to_get.clone(),
            time_range: t.time_range,
            max_versions: t.max_versions,
            filter: t.filter.as_deref(),
            start_column: t.start_column.clone(),
            end_column: t.end_column.clone(),
        })?);
    }
    let tables = txn.open_table(TABLES)?;
    let mut out = Vec::with_capacity(req.tables.len());
    for (t, read) in req.tables.into_iter().zip(reads) {
        let info =
            catalog::load(&tables, &t.table_name)?.filter(|i| i.kind == TableKind::WideColumn);
        let rows = t
            .primary_key
            .iter()
            .map(|key| {
                let result = (|| {
                    let info = info.as_ref().ok_or_else(ApiError::table_missing)?;
                    let key_row = validate::decode_row(key, "primary key")?;
                    validate::check_primary_key(info, &key_row.primary_key, RowUse::Key)?;
                    read_one(txn, info, &read, &key_row.primary_key, now_ms)
                })();
                match result {
                    Ok(found) => RowInBatchGetRowResponse {
                        is_ok: true,
                        error: None,
                        consumed: Some(capacity::for_read(
                            found.as_ref().map_or(0, capacity::row_size),
                        )),
                        row: Some(
                            found
                                .map(|r| plainbuffer::encode_row(&r))
                                .unwrap_or_default(),
                        ),
                        next_token: None,
                    },
                    Err(e) => row_error(e),
                }
            })
            .collect();
        out.push(TableInBatchGetRowResponse {
            table_name: t.table_name,
            rows,
        });
    }
    Ok(BatchGetRowResponse { tables: out })
}
