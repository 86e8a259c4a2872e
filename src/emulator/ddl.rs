//! Table DDL for both models: create, describe, list, delete.

use redb::{ReadTransaction, WriteTransaction};

use super::api_error::ApiError;
use super::catalog::{self, check_table_name, PkColumn, PkType, TableInfo, TableKind};
use super::keycodec;
use super::rows::delete_all_rows;
use super::store::{TABLES, TS_META};
use crate::tablestore::proto::*;

/// Tables per instance (`PROTOCOL.md` §6); a TimeSeries table counts as two.
const MAX_TABLES_WEIGHT: usize = 64;

fn check_quota(txn: &WriteTransaction, adding: usize) -> Result<(), ApiError> {
    let read = txn.open_table(TABLES)?;
    let mut weight = 0;
    for entry in redb::ReadableTable::iter(&read)? {
        let (_, v) = entry?;
        let info: TableInfo =
            serde_json::from_slice(v.value()).map_err(|e| ApiError::internal(e.to_string()))?;
        weight += if info.kind == TableKind::Timeseries {
            2
        } else {
            1
        };
    }
    if weight + adding > MAX_TABLES_WEIGHT {
        return Err(ApiError::new(
            403,
            "OTSQuotaExhausted",
            "Number of tables exceeded the quota.",
        ));
    }
    Ok(())
}

fn new_table(txn: &WriteTransaction, name: &str, mut info: TableInfo) -> Result<(), ApiError> {
    if catalog::load(&txn.open_table(TABLES)?, name)?.is_some() {
        return Err(ApiError::table_exists());
    }
    check_quota(
        txn,
        if info.kind == TableKind::Timeseries {
            2
        } else {
            1
        },
    )?;
    info.id = catalog::next_counter(txn, "next_table_id")?;
    catalog::save(txn, name, &info)
}

pub fn check_ttl(ttl: i32, min: i32, what: &str) -> Result<(), ApiError> {
    if ttl == 0 || ttl < -1 {
        return Err(ApiError::invalid("TimeToLive cannot be 0 or less than -1."));
    }
    if ttl == -1 || ttl >= min {
        Ok(())
    } else {
        Err(ApiError::invalid(format!(
            "Invalid {what}: {ttl}; it must be -1 (forever) or at least {min} seconds."
        )))
    }
}

pub fn create_table(
    txn: &WriteTransaction,
    req: CreateTableRequest,
    now_ms: i64,
) -> Result<CreateTableResponse, ApiError> {
    let meta = req.table_meta;
    check_table_name(&meta.table_name)?;
    if meta.primary_key.is_empty() || meta.primary_key.len() > 4 {
        return Err(ApiError::invalid(
            "The number of primary key columns must be in range: [1, 4].",
        ));
    }
    let mut pk = Vec::with_capacity(meta.primary_key.len());
    for (i, col) in meta.primary_key.iter().enumerate() {
        catalog::check_column_name(&col.name)?;
        if pk.iter().any(|c: &PkColumn| c.name == col.name) {
            return Err(ApiError::invalid(format!(
                "Duplicated primary key name: '{}'.",
                col.name
            )));
        }
        let pk_type = match PrimaryKeyType::try_from(col.r#type) {
            Ok(PrimaryKeyType::Integer) => PkType::Integer,
            Ok(PrimaryKeyType::String) => PkType::String,
            Ok(PrimaryKeyType::Binary) => PkType::Binary,
            Err(_) => {
                return Err(ApiError::invalid(format!(
                    "Invalid type of primary key column '{}': {}.",
                    col.name, col.r#type
                )))
            }
        };
        let auto_increment = col.option == Some(PrimaryKeyOption::AutoIncrement as i32);
        if auto_increment && (i == 0 || pk_type != PkType::Integer) {
            return Err(ApiError::invalid(format!(
                "Auto-increment primary key column '{}' must be INTEGER and not the first column.",
                col.name
            )));
        }
        pk.push(PkColumn {
            name: col.name.clone(),
            pk_type,
            auto_increment,
        });
    }
    let options = req.table_options.unwrap_or_default();
    let ttl = options.time_to_live.unwrap_or(-1);
    check_ttl(ttl, 86400, "time_to_live")?;
    let max_versions = options.max_versions.unwrap_or(1);
    if max_versions < 1 {
        return Err(ApiError::invalid(
            "The maximum versions cannot be less than or equal to 0.",
        ));
    }
    let info = TableInfo {
        id: 0,
        kind: TableKind::WideColumn,
        primary_key: pk,
        time_to_live_s: ttl,
        max_versions,
        deviation_cell_version_in_sec: options.deviation_cell_version_in_sec.unwrap_or(86400),
        created_ms: now_ms,
        meta_time_to_live_s: -1,
        allow_update_attributes: true,
    };
    new_table(txn, &meta.table_name, info)?;
    Ok(CreateTableResponse {})
}

pub fn pk_schema(info: &TableInfo) -> Vec<PrimaryKeySchema> {
    info.primary_key
        .iter()
        .map(|c| PrimaryKeySchema {
            name: c.name.clone(),
            r#type: match c.pk_type {
                PkType::Integer => PrimaryKeyType::Integer,
                PkType::String => PrimaryKeyType::String,
                PkType::Binary => PrimaryKeyType::Binary,
            } as i32,
            option: c
                .auto_increment
                .then_some(PrimaryKeyOption::AutoIncrement as i32),
        })
        .collect()
}

/// The emulator reserves no throughput: always 0/0 since creation.
pub fn reserved_details(info: &TableInfo) -> ReservedThroughputDetails {
    ReservedThroughputDetails {
        capacity_unit: CapacityUnit {
            read: Some(0),
            write: Some(0),
        },
        last_increase_time: info.created_ms / 1000,
        last_decrease_time: None,
    }
}

pub fn table_options(info: &TableInfo) -> TableOptions {
    TableOptions {
        time_to_live: Some(info.time_to_live_s),
        max_versions: Some(info.max_versions),
        deviation_cell_version_in_sec: Some(info.deviation_cell_version_in_sec),
        allow_update: Some(true),
        ..Default::default()
    }
}

pub fn describe_table(
    txn: &ReadTransaction,
    req: DescribeTableRequest,
) -> Result<DescribeTableResponse, ApiError> {
    let info = catalog::require(
        &txn.open_table(TABLES)?,
        &req.table_name,
        TableKind::WideColumn,
    )?;
    Ok(DescribeTableResponse {
        table_meta: TableMeta {
            table_name: req.table_name,
            primary_key: pk_schema(&info),
            defined_column: vec![],
        },
        reserved_throughput_details: reserved_details(&info),
        table_options: table_options(&info),
        table_status: Some(1),
        stream_details: Some(StreamDetails {
            enable_stream: false,
            ..Default::default()
        }),
        shard_splits: vec![],
        sse_details: Some(SseDetails { enable: false }),
        creation_time: Some(info.created_ms * 1000),
    })
}

pub fn list_table(txn: &ReadTransaction) -> Result<ListTableResponse, ApiError> {
    let names = catalog::list(txn, TableKind::WideColumn)?
        .into_iter()
        .map(|(n, _)| n)
        .collect();
    Ok(ListTableResponse { table_names: names })
}

/// Deletes a table of `kind` with all its rows (and series meta).
pub fn delete_table(txn: &WriteTransaction, name: &str, kind: TableKind) -> Result<(), ApiError> {
    let info = catalog::require(&txn.open_table(TABLES)?, name, kind)?;
    delete_all_rows(txn, info.id)?;
    let start = keycodec::table_prefix(info.id);
    let end = keycodec::successor(&start).expect("table ids never reach u64::MAX");
    txn.open_table(TS_META)?
        .retain_in::<&[u8], _>(start.as_slice()..end.as_slice(), |_, _| false)?;
    txn.open_table(TABLES)?.remove(name)?;
    Ok(())
}

// ===== TimeSeries tables =====

pub fn create_timeseries_table(
    txn: &WriteTransaction,
    req: CreateTimeseriesTableRequest,
    now_ms: i64,
) -> Result<CreateTimeseriesTableResponse, ApiError> {
    let meta = req.table_meta;
    let name = &meta.table_name;
    let ok_name = !name.is_empty()
        && name.len() <= 128
        && !name.as_bytes()[0].is_ascii_digit()
        && name.bytes().all(|c| c.is_ascii_alphanumeric() || c == b'_');
    if !ok_name {
        return Err(ApiError::invalid(format!(
            "Invalid timeseries table name: '{name}'."
        )));
    }
    if !meta.timeseries_key_schema.is_empty() || !meta.field_primary_key_schema.is_empty() {
        return Err(ApiError::invalid(
            "Custom timeseries keys and field primary keys are not supported by the emulator.",
        ));
    }
    let ttl = meta
        .table_options
        .and_then(|o| o.time_to_live)
        .unwrap_or(-1);
    check_ttl(ttl, 86400, "time_to_live")?;
    let meta_opts = meta.meta_options.unwrap_or_default();
    let meta_ttl = meta_opts.meta_time_to_live.unwrap_or(-1);
    check_ttl(meta_ttl, 604800, "meta_time_to_live")?;
    let info = TableInfo {
        id: 0,
        kind: TableKind::Timeseries,
        primary_key: vec![],
        time_to_live_s: ttl,
        max_versions: 1,
        deviation_cell_version_in_sec: i64::MAX / 1000,
        created_ms: now_ms,
        meta_time_to_live_s: meta_ttl,
        allow_update_attributes: meta_opts.allow_update_attributes.unwrap_or(true),
    };
    new_table(txn, name, info)?;
    Ok(CreateTimeseriesTableResponse {})
}

pub fn ts_meta(name: String, info: &TableInfo) -> TimeseriesTableMeta {
    TimeseriesTableMeta {
        table_name: name,
        table_options: Some(TimeseriesTableOptions {
            time_to_live: Some(info.time_to_live_s),
        }),
        status: Some("ACTIVE".into()),
        meta_options: Some(TimeseriesMetaOptions {
            allow_update_attributes: Some(info.allow_update_attributes),
            meta_time_to_live: Some(info.meta_time_to_live_s),
        }),
        ..Default::default()
    }
}

pub fn describe_timeseries_table(
    txn: &ReadTransaction,
    req: DescribeTimeseriesTableRequest,
) -> Result<DescribeTimeseriesTableResponse, ApiError> {
    let info = catalog::require(
        &txn.open_table(TABLES)?,
        &req.table_name,
        TableKind::Timeseries,
    )?;
    Ok(DescribeTimeseriesTableResponse {
        table_meta: ts_meta(req.table_name, &info),
    })
}

pub fn list_timeseries_table(
    txn: &ReadTransaction,
) -> Result<ListTimeseriesTableResponse, ApiError> {
    let metas = catalog::list(txn, TableKind::Timeseries)?
        .into_iter()
        .map(|(n, i)| ts_meta(n, &i))
        .collect();
    Ok(ListTimeseriesTableResponse { table_metas: metas })
}
