//! GetRange: forward and backward scans with INF_MIN/INF_MAX bounds and
//! `next_start_primary_key` paging at the service's page limits (`limit`,
//! 5000 rows, 4 MB), filters and column ranges applied per row.

use std::ops::Bound;

use redb::ReadTransaction;

use super::api_error::ApiError;
use super::capacity;
use super::catalog::{self, TableKind};
use super::keycodec::{self, Position};
use super::read::{Read, ReadFields};
use super::rows::stored_rows_in;
use super::store::{ROWS, TABLES};
use super::validate::{self, RowUse, MAX_RANGE_BYTES, MAX_RANGE_ROWS};
use crate::tablestore::plainbuffer::{self, RowEncoder};
use crate::tablestore::proto::*;

fn bound_bytes(p: &Position) -> Option<&[u8]> {
    match p {
        Position::Exact(k) => Some(k),
        Position::Between(k) => k.as_deref(),
    }
}

pub fn get_range(
    txn: &ReadTransaction,
    req: GetRangeRequest,
    now_ms: i64,
) -> Result<GetRangeResponse, ApiError> {
    let info = catalog::require(
        &txn.open_table(TABLES)?,
        &req.table_name,
        TableKind::WideColumn,
    )?;
    let start = validate::decode_row(
        &req.inclusive_start_primary_key,
        "inclusive_start_primary_key",
    )?;
    let end = validate::decode_row(&req.exclusive_end_primary_key, "exclusive_end_primary_key")?;
    validate::check_primary_key(&info, &start.primary_key, RowUse::RangeBound)?;
    validate::check_primary_key(&info, &end.primary_key, RowUse::RangeBound)?;
    let forward = match Direction::try_from(req.direction) {
        Ok(Direction::Forward) => true,
        Ok(Direction::Backward) => false,
        Err(_) => {
            return Err(ApiError::invalid(format!(
                "Invalid direction: {}.",
                req.direction
            )))
        }
    };
    let limit = match req.limit {
        Some(l) if l <= 0 => return Err(ApiError::invalid("The limit must be greater than 0.")),
        Some(l) => (l as usize).min(MAX_RANGE_ROWS),
        None => MAX_RANGE_ROWS,
    };
    let read = Read::parse(ReadFields {
        columns_to_get: req.columns_to_get,
        time_range: req.time_range,
        max_versions: req.max_versions,
        filter: req.filter.as_deref(),
        start_column: req.start_column,
        end_column: req.end_column,
    })?;

    let start_pos = keycodec::position(info.id, &start.primary_key);
    let end_pos = keycodec::position(info.id, &end.primary_key);
    let table_end =
        keycodec::successor(&keycodec::table_prefix(info.id)).expect("table id below u64::MAX");
    let (s, e) = (
        bound_bytes(&start_pos).unwrap_or(&table_end),
        bound_bytes(&end_pos).unwrap_or(&table_end),
    );
    if forward && s >= e {
        return Err(ApiError::invalid(
            "Begin key must less than end key in FORWARD",
        ));
    }
    if !forward && s <= e {
        return Err(ApiError::invalid(
            "Begin key must more than end key in BACKWARD",
        ));
    }

    let rows_table = txn.open_table(ROWS)?;
    // Start is inclusive and end exclusive; INF positions are never real
    // keys, so the same bounds serve them (see keycodec).
    let iter = if forward {
        stored_rows_in(&rows_table, Bound::Included(s), Bound::Excluded(e))?
    } else {
        stored_rows_in(&rows_table, Bound::Excluded(e), Bound::Included(s))?
    };
    let iter: Box<dyn Iterator<Item = _>> = if forward {
        Box::new(iter)
    } else {
        Box::new(iter.rev())
    };

    let mut out = Vec::new();
    let mut count = 0;
    let mut data_bytes = 0;
    let mut next_start = None;
    for entry in iter {
        let (_, v) = entry?;
        let stored = validate::decode_stored_row(v.value(), "stored row")?;
        if count >= limit || out.len() >= MAX_RANGE_BYTES {
            next_start = Some(plainbuffer::encode_primary_key(&stored.primary_key));
            break;
        }
        if let Some(row) = read.row(&info, &stored, now_ms) {
            if out.is_empty() {
                out.extend_from_slice(&plainbuffer::HEADER.to_le_bytes());
            }
            RowEncoder::new(&mut out).row(&row);
            data_bytes += capacity::row_size(&row);
            count += 1;
        }
    }
    Ok(GetRangeResponse {
        consumed: capacity::for_read(data_bytes),
        rows: out,
        next_start_primary_key: next_start,
        next_token: None,
    })
}
