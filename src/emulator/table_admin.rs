//! Changing tables after creation and planning parallel scans: UpdateTable
//! (TTL, max versions, max time deviation), UpdateTimeseriesTable (data and
//! meta TTL, attribute updates) and ComputeSplitPointsBySize.
//!
//! New options apply to every later read at once: a shorter TTL hides the
//! versions it expires, a lower max_versions hides the older versions.

use redb::{ReadTransaction, WriteTransaction};

use super::api_error::ApiError;
use super::capacity;
use super::catalog::{self, TableKind};
use super::ddl::{check_ttl, pk_schema, reserved_details, table_options};
use super::keycodec;
use super::store::{ROWS, TABLES};
use super::validate;
use crate::tablestore::plainbuffer;
use crate::tablestore::proto::*;

pub fn update_table(
    txn: &WriteTransaction,
    req: UpdateTableRequest,
) -> Result<UpdateTableResponse, ApiError> {
    let mut info = catalog::require(
        &txn.open_table(TABLES)?,
        &req.table_name,
        TableKind::WideColumn,
    )?;
    if req.table_options.is_none() && req.reserved_throughput.is_none() && req.stream_spec.is_none()
    {
        return Err(ApiError::invalid(
            "Neither table options nor reserved throughput is specified in UpdateTable.",
        ));
    }
    if req.stream_spec.as_ref().is_some_and(|s| s.enable_stream) {
        return Err(ApiError::invalid(
            "Streams are not supported by the emulator.",
        ));
    }
    if let Some(o) = &req.table_options {
        if let Some(ttl) = o.time_to_live {
            check_ttl(ttl, 86400, "time_to_live")?;
            info.time_to_live_s = ttl;
        }
        if let Some(v) = o.max_versions {
            if v < 1 {
                return Err(ApiError::invalid(
                    "The maximum versions cannot be less than or equal to 0.",
                ));
            }
            info.max_versions = v;
        }
        if let Some(d) = o.deviation_cell_version_in_sec {
            if d <= 0 {
                return Err(ApiError::invalid(format!(
                    "Invalid max time deviation: {d}; it must be greater than 0 seconds."
                )));
            }
            info.deviation_cell_version_in_sec = d;
        }
    }
    catalog::save(txn, &req.table_name, &info)?;
    Ok(UpdateTableResponse {
        reserved_throughput_details: reserved_details(&info),
        table_options: table_options(&info),
        stream_details: Some(StreamDetails {
            enable_stream: false,
            ..Default::default()
        }),
    })
}

pub fn update_timeseries_table(
    txn: &WriteTransaction,
    req: UpdateTimeseriesTableRequest,
) -> Result<UpdateTimeseriesTableResponse, ApiError> {
    let mut info = catalog::require(
        &txn.open_table(TABLES)?,
        &req.table_name,
        TableKind::Timeseries,
    )?;
    if let Some(ttl) = req.table_options.and_then(|o| o.time_to_live) {
        check_ttl(ttl, 86400, "time_to_live")?;
        info.time_to_live_s = ttl;
    }
    if let Some(m) = req.meta_options {
        if let Some(ttl) = m.meta_time_to_live {
            check_ttl(ttl, 604800, "meta_time_to_live")?;
            info.meta_time_to_live_s = ttl;
        }
        if let Some(allow) = m.allow_update_attributes {
            info.allow_update_attributes = allow;
        }
    }
    catalog::save(txn, &req.table_name, &info)?;
    Ok(UpdateTimeseriesTableResponse {})
}

/// Default unit of `split_size`: 100 MB.
const SPLIT_SIZE_UNIT_BYTES: i64 = 100 * 1024 * 1024;

/// Splits the table into ranges of about `split_size` bytes of row data,
/// cut at row boundaries; the split points are the first primary keys of
/// the second and later splits. All splits live at one location.
pub fn compute_split_points_by_size(
    txn: &ReadTransaction,
    req: ComputeSplitPointsBySizeRequest,
    now_ms: i64,
) -> Result<ComputeSplitPointsBySizeResponse, ApiError> {
    let info = catalog::require(
        &txn.open_table(TABLES)?,
        &req.table_name,
        TableKind::WideColumn,
    )?;
    let unit = req.split_size_unit_in_byte.unwrap_or(SPLIT_SIZE_UNIT_BYTES);
    if req.split_size <= 0 || unit <= 0 {
        return Err(ApiError::invalid(format!(
            "Invalid split size: {} (unit {unit} bytes); both must be greater than 0.",
            req.split_size
        )));
    }
    let split_bytes = req.split_size.saturating_mul(unit) as usize;
    let start = keycodec::table_prefix(info.id);
    let end = keycodec::successor(&start).expect("table id below u64::MAX");
    let rows = txn.open_table(ROWS)?;
    let mut split_points = Vec::new();
    let mut in_split = 0usize;
    for entry in rows.range::<&[u8]>(start.as_slice()..end.as_slice())? {
        let (_, v) = entry?;
        let stored = validate::decode_stored_row(v.value(), "stored row")?;
        if !super::cells::exists(&info, &stored, now_ms) {
            continue;
        }
        let size = capacity::row_size(&stored);
        if in_split > 0 && in_split + size > split_bytes {
            split_points.push(plainbuffer::encode_primary_key(&stored.primary_key));
            in_split = 0;
        }
        in_split += size;
    }
    let splits = split_points.len() as i64 + 1;
    Ok(ComputeSplitPointsBySizeResponse {
        consumed: capacity::consumed(1, 0),
        schema: pk_schema(&info),
        split_points,
        locations: vec![SplitLocation {
            location: "local".into(),
            repeat: splits,
        }],
    })
}
