//! Request validation against the table schema and the service limits
//! (`PROTOCOL.md` §6), with the service's error codes and messages.

use super::api_error::ApiError;
use super::catalog::{check_column_name, TableInfo};
use crate::tablestore::plainbuffer::{self, CellOp, PkRef, PkValue, Row, RowView, ValueRef};

pub const MAX_PK_VALUE_BYTES: usize = 1024;
pub const MAX_ATTRIBUTE_BYTES: usize = 2 * 1024 * 1024;
pub const MAX_COLUMNS_PER_WRITE: usize = 1024;
pub const MAX_BATCH_WRITE_ROWS: usize = 200;
pub const MAX_BATCH_WRITE_BYTES: usize = 4 * 1024 * 1024;
pub const MAX_RANGE_ROWS: usize = 5000;
pub const MAX_RANGE_BYTES: usize = 4 * 1024 * 1024;
pub const MAX_COLUMNS_TO_GET: usize = 128;

/// What kind of request a row arrived in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RowUse {
    Put,
    Update,
    Delete,
    /// GetRow key: fully specified, no auto-increment.
    Key,
    /// GetRange bound: INF_MIN/INF_MAX allowed.
    RangeBound,
}

fn vt(v: PkRef<'_>) -> &'static str {
    match v {
        PkRef::Integer(_) => "VT_INTEGER",
        PkRef::String(_) => "VT_STRING",
        PkRef::Binary(_) => "VT_BLOB",
        PkRef::InfMin => "VT_INF_MIN",
        PkRef::InfMax => "VT_INF_MAX",
        PkRef::AutoIncrement => "VT_AUTO_INCREMENT",
    }
}

/// Checks a primary key against the schema.
pub fn check_primary_key(
    info: &TableInfo,
    pk: &[(String, PkValue)],
    usage: RowUse,
) -> Result<(), ApiError> {
    check_key(
        info,
        pk.len(),
        pk.iter().map(|(n, v)| (n.as_str(), PkRef::from(v))),
        usage,
    )
}

/// [`check_primary_key`] of `count` columns given as names and values.
fn check_key<'a>(
    info: &TableInfo,
    count: usize,
    pk: impl Iterator<Item = (&'a str, PkRef<'a>)>,
    usage: RowUse,
) -> Result<(), ApiError> {
    if count != info.primary_key.len() {
        return Err(ApiError::invalid_pk(format!(
            "Validate PK size fail. Input: {}, Meta: {}.",
            count,
            info.primary_key.len()
        )));
    }
    for ((name, value), col) in pk.zip(&info.primary_key) {
        if name != col.name {
            return Err(ApiError::invalid_pk(format!(
                "Validate PK name fail. Input: {name}, Meta: {}.",
                col.name
            )));
        }
        match value {
            PkRef::InfMin | PkRef::InfMax if usage == RowUse::RangeBound => continue,
            PkRef::InfMin | PkRef::InfMax => {
                return Err(ApiError::invalid(format!(
                    "INF_MIN or INF_MAX is only allowed in range bounds, not in primary key column '{name}'."
                )))
            }
            PkRef::AutoIncrement if col.auto_increment && usage == RowUse::Put => continue,
            PkRef::AutoIncrement => {
                return Err(ApiError::invalid(format!(
                    "AUTO_INCREMENT is only allowed in a put to an auto-increment column; '{name}' is not one."
                )))
            }
            _ => {}
        }
        if !col.pk_type.matches(value) {
            return Err(ApiError::invalid_pk(format!(
                "Validate PK type fail. Input: {}, Meta: VT_{}.",
                vt(value),
                match col.pk_type.wire_name() {
                    "BINARY" => "BLOB",
                    other => other,
                }
            )));
        }
        let len = match value {
            PkRef::String(s) => s.len(),
            PkRef::Binary(b) => b.len(),
            _ => 0,
        };
        if len > MAX_PK_VALUE_BYTES {
            return Err(ApiError::invalid(format!(
                "The length of primary key column: '{name}' exceeded the MaxLength:{MAX_PK_VALUE_BYTES} with CurrentLength:{len}."
            )));
        }
    }
    Ok(())
}

/// Checks a row change (put, update or delete) completely, as it arrived.
pub fn check_row(
    info: &TableInfo,
    row: &RowView<'_>,
    usage: RowUse,
    now_ms: i64,
) -> Result<(), ApiError> {
    check_key(
        info,
        row.primary_key.len(),
        row.primary_key.iter().map(|c| (c.name, c.value)),
        usage,
    )?;
    if usage == RowUse::Update && row.cells.is_empty() {
        return Err(ApiError::invalid(
            "Invalid update row request: missing cells in request.",
        ));
    }
    match usage {
        RowUse::Delete if !row.cells.is_empty() => {
            return Err(ApiError::invalid(
                "DeleteRow must not carry attribute columns.",
            ))
        }
        RowUse::Put | RowUse::Update if row.delete_marker => {
            return Err(ApiError::invalid(
                "A put or update row must not carry the delete-row marker.",
            ))
        }
        _ => {}
    }
    if row.cells.len() > MAX_COLUMNS_PER_WRITE {
        return Err(too_many_columns(row.cells.len()));
    }
    for cell in &row.cells {
        check_column_name(cell.name)?;
        if info.primary_key.iter().any(|c| c.name == cell.name) {
            return Err(ApiError::invalid(format!(
                "Duplicated attribute column name with primary key column: {}.",
                cell.name
            )));
        }
        if usage == RowUse::Put && cell.op != CellOp::Put {
            return Err(ApiError::invalid(format!(
                "PutRow cannot delete or increment column '{}'.",
                cell.name
            )));
        }
        if let Some(ValueRef::Double(d)) = &cell.value {
            if d.is_nan() {
                return Err(ApiError::invalid("NaN can't be set to double value."));
            }
            if d.is_infinite() {
                return Err(ApiError::invalid("Infinity can't be set to double value."));
            }
        }
        if let Some(v) = &cell.value {
            if v.payload_len() > MAX_ATTRIBUTE_BYTES {
                return Err(ApiError::invalid(format!(
                    "The length of attribute column: '{}' exceeded the MaxLength:{MAX_ATTRIBUTE_BYTES} with CurrentLength:{}.",
                    cell.name,
                    v.payload_len()
                )));
            }
        }
        if let (CellOp::Put, Some(ts)) = (cell.op, cell.timestamp_ms) {
            // Accepted: [max(now - deviation, now - TTL), now + deviation).
            let deviation_ms = info.deviation_cell_version_in_sec.saturating_mul(1000);
            let mut lowest = now_ms.saturating_sub(deviation_ms);
            if info.time_to_live_s > 0 {
                lowest = lowest.max(now_ms - info.time_to_live_s as i64 * 1000);
            }
            if ts < lowest || ts >= now_ms.saturating_add(deviation_ms) {
                return Err(ApiError::invalid(format!(
                    "Invalid timestamp. Cell:{}.",
                    cell.name
                )));
            }
        }
    }
    Ok(())
}

/// Most primary-key columns a request row may carry before decoding stops
/// keeping them (tables have at most 4; the schema check names the
/// mismatch for anything up to this).
pub const MAX_REQUEST_PK_COLUMNS: usize = 32;

/// The OTSOutOfColumnCountLimit error for a row write of `count` columns.
pub fn too_many_columns(count: usize) -> ApiError {
    ApiError::new(
        400,
        "OTSOutOfColumnCountLimit",
        format!("The number of columns from the request exceeded the limit. Limit:{MAX_COLUMNS_PER_WRITE}, Current:{count}."),
    )
}

/// Decodes a single-row PlainBuffer from a request, mapping codec errors
/// to OTSParameterInvalid with the codec's explanation. Cells are counted
/// before they are kept: a row over the column limit costs its bytes only.
pub fn decode_row(bytes: &[u8], what: &str) -> Result<Row, ApiError> {
    view_row(bytes, what).map(|v| v.to_row())
}

/// [`decode_row`] as a view of `bytes`, validated the same way.
pub fn view_row<'a>(bytes: &'a [u8], what: &str) -> Result<RowView<'a>, ApiError> {
    let limits = plainbuffer::RowLimits {
        max_primary_key_columns: MAX_REQUEST_PK_COLUMNS,
        max_cells: MAX_COLUMNS_PER_WRITE,
    };
    plainbuffer::view_single_row(bytes, limits).map_err(|e| match e {
        plainbuffer::DecodeError::TooManyCells { count, .. } => too_many_columns(count),
        plainbuffer::DecodeError::TooManyPrimaryKeyColumns { count, .. } => {
            ApiError::invalid_pk(format!(
                "Validate PK size fail. Input: {count}, at most {MAX_REQUEST_PK_COLUMNS} columns are read."
            ))
        }
        e => ApiError::invalid(format!("Invalid {what}: {e}.")),
    })
}

/// Decodes a row the emulator stored (all versions, no request limits).
pub fn decode_stored_row(bytes: &[u8], what: &str) -> Result<Row, ApiError> {
    plainbuffer::decode_single_row(bytes)
        .map_err(|e| ApiError::internal(format!("Corrupt {what}: {e}.")))
}
