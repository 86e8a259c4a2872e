//! The table catalog: schemas and options of Wide Column and TimeSeries
//! tables, stored as JSON in the `tables` redb table, plus name checks.

use redb::{ReadableTable, WriteTransaction};
use serde::{Deserialize, Serialize};

use super::api_error::ApiError;
use super::store::{SYS, TABLES};
use crate::tablestore::plainbuffer::PkRef;

#[derive(Clone, Copy, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub enum PkType {
    Integer,
    String,
    Binary,
}

impl PkType {
    pub fn wire_name(self) -> &'static str {
        match self {
            PkType::Integer => "INTEGER",
            PkType::String => "STRING",
            PkType::Binary => "BINARY",
        }
    }

    pub fn matches(self, v: PkRef<'_>) -> bool {
        matches!(
            (self, v),
            (PkType::Integer, PkRef::Integer(_))
                | (PkType::String, PkRef::String(_))
                | (PkType::Binary, PkRef::Binary(_))
        )
    }
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct PkColumn {
    pub name: String,
    pub pk_type: PkType,
    pub auto_increment: bool,
}

#[derive(Clone, Copy, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub enum TableKind {
    WideColumn,
    Timeseries,
}

/// Everything the emulator keeps about a table.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct TableInfo {
    /// Key prefix of the table's rows; new on every CreateTable, so a
    /// re-created table never sees old rows.
    pub id: u64,
    pub kind: TableKind,
    pub primary_key: Vec<PkColumn>,
    /// Seconds, -1 = forever.
    pub time_to_live_s: i32,
    pub max_versions: i32,
    pub deviation_cell_version_in_sec: i64,
    pub created_ms: i64,
    /// TimeSeries only: meta TTL (seconds) and whether attributes may change.
    pub meta_time_to_live_s: i32,
    pub allow_update_attributes: bool,
}

/// `[A-Za-z_][A-Za-z0-9_]*`, 1–255 bytes (`PROTOCOL.md` §6).
pub fn valid_name(name: &str) -> bool {
    let b = name.as_bytes();
    !b.is_empty()
        && b.len() <= 255
        && (b[0].is_ascii_alphabetic() || b[0] == b'_')
        && b.iter().all(|c| c.is_ascii_alphanumeric() || *c == b'_')
}

pub fn check_table_name(name: &str) -> Result<(), ApiError> {
    if valid_name(name) {
        Ok(())
    } else {
        Err(ApiError::invalid(format!("Invalid table name: '{name}'.")))
    }
}

pub fn check_column_name(name: &str) -> Result<(), ApiError> {
    if valid_name(name) {
        Ok(())
    } else {
        Err(ApiError::invalid(format!("Invalid column name: '{name}'.")))
    }
}

pub fn load(
    tables: &impl ReadableTable<&'static str, &'static [u8]>,
    name: &str,
) -> Result<Option<TableInfo>, ApiError> {
    match tables.get(name)? {
        Some(v) => serde_json::from_slice(v.value())
            .map(Some)
            .map_err(|e| ApiError::internal(format!("corrupt catalog entry for {name}: {e}"))),
        None => Ok(None),
    }
}

/// Loads a table of `kind` or answers OTSObjectNotExist.
pub fn require(
    tables: &impl ReadableTable<&'static str, &'static [u8]>,
    name: &str,
    kind: TableKind,
) -> Result<TableInfo, ApiError> {
    match load(tables, name)? {
        Some(t) if t.kind == kind => Ok(t),
        _ => Err(ApiError::table_missing()),
    }
}

pub fn save(txn: &WriteTransaction, name: &str, info: &TableInfo) -> Result<(), ApiError> {
    let bytes = serde_json::to_vec(info).map_err(|e| ApiError::internal(e.to_string()))?;
    txn.open_table(TABLES)?.insert(name, bytes.as_slice())?;
    Ok(())
}

/// Next value of a persistent counter.
pub fn next_counter(txn: &WriteTransaction, counter: &str) -> Result<u64, ApiError> {
    let mut sys = txn.open_table(SYS)?;
    let next = sys.get(counter)?.map(|v| v.value()).unwrap_or(0) + 1;
    sys.insert(counter, next)?;
    Ok(next)
}

pub fn list(
    txn: &redb::ReadTransaction,
    kind: TableKind,
) -> Result<Vec<(String, TableInfo)>, ApiError> {
    let tables = txn.open_table(TABLES)?;
    let mut out = Vec::new();
    for entry in tables.iter()? {
        let (k, v) = entry?;
        let info: TableInfo =
            serde_json::from_slice(v.value()).map_err(|e| ApiError::internal(e.to_string()))?;
        if info.kind == kind {
            out.push((k.value().to_owned(), info));
        }
    }
    Ok(out)
}
