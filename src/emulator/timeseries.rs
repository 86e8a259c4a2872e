//! TimeSeries actions: PutTimeseriesData (with per-row failures and series
//! meta upkeep), GetTimeseriesData (by series key and time range, with
//! paging), QueryTimeseriesMeta (measurement / source / tag / update-time
//! conditions, composable with AND/OR/NOT).
//!
//! Points are stored as wide-column rows in the layout of
//! [`crate::tablestore::timeseries_layout`]; series meta lives in the
//! `ts_meta` redb table keyed by `table id ++ (measurement, source, tags)`.

use prost::Message;
use redb::{ReadTransaction, ReadableTable, WriteTransaction};

use super::api_error::ApiError;
use super::catalog::{self, TableKind};
use super::cells::{self, ReadOptions};
use super::keycodec;
use super::store::{ROWS, TABLES, TS_META};
use super::validate::{
    self, MAX_ATTRIBUTE_BYTES, MAX_BATCH_WRITE_BYTES, MAX_BATCH_WRITE_ROWS, MAX_RANGE_ROWS,
};
use crate::tablestore::client::series_key_proto;
use crate::tablestore::flatrows::{self, SeriesKey, TimeseriesRow};
use crate::tablestore::plainbuffer::{self, PkRef, PkValue, RowEncoder};
use crate::tablestore::proto::*;
use crate::tablestore::timeseries_layout as layout;

use crate::tablestore::timeseries_layout::RESERVED_FIELD_NAMES;
const MAX_META_PAGE: usize = 1000;

/// Checks one point against the TimeSeries limits (`PROTOCOL.md` §6).
pub fn check_point(row: &TimeseriesRow) -> Result<(), String> {
    check_point_with(row, &row.key.tags_string())
}

/// [`check_point`] given the key's [`SeriesKey::tags_string`].
fn check_point_with(row: &TimeseriesRow, tags: &str) -> Result<(), String> {
    let m = &row.key.measurement;
    if m.is_empty() || m.len() > 128 {
        return Err(format!(
            "measurement name {m:?} must be 1-128 bytes, is {}",
            m.len()
        ));
    }
    if m.chars()
        .any(|c| c == '#' || c.is_whitespace() || c.is_control())
    {
        return Err(format!(
            "measurement name {m:?} must not contain '#', whitespace or control characters"
        ));
    }
    if row.key.data_source.len() > 256 {
        return Err(format!(
            "data source is {} bytes, the limit is 256",
            row.key.data_source.len()
        ));
    }
    for (k, v) in &row.key.tags {
        if k.is_empty()
            || k.bytes()
                .any(|b| !(0x21..0x7f).contains(&b) || b == b'"' || b == b'=')
        {
            return Err(format!(
                "tag name {k:?} must be non-empty printable ASCII without '\"' or '='"
            ));
        }
        if v.contains(['"', '=', ',']) {
            return Err(format!(
                "tag {k:?} value {v:?} must not contain '\"', '=' or ','"
            ));
        }
    }
    if tags.len() > 512 {
        return Err("tags are longer than 512 bytes in their [\"k=v\",...] form".into());
    }
    if row.time_us < 0 {
        return Err(format!("time {} is negative", row.time_us));
    }
    if row.fields.is_empty() || row.fields.len() > 1024 {
        return Err(format!(
            "a point must have 1-1024 fields, has {}",
            row.fields.len()
        ));
    }
    for (name, value) in &row.fields {
        let ok = !name.is_empty()
            && name.len() <= 128
            && !name.as_bytes()[0].is_ascii_digit()
            && name
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
            && !RESERVED_FIELD_NAMES.iter().any(|r| name.contains(r));
        if !ok {
            return Err(format!(
                "field name {name:?} is invalid: use 1-128 lowercase letters, digits or '_', not starting with a digit"
            ));
        }
        if value.payload_len() > MAX_ATTRIBUTE_BYTES {
            return Err(format!(
                "field {name:?} is {} bytes, the limit is {MAX_ATTRIBUTE_BYTES}",
                value.payload_len()
            ));
        }
    }
    Ok(())
}

fn meta_key(table_id: u64, key: &SeriesKey) -> Vec<u8> {
    meta_key_with(table_id, key, &key.tags_string())
}

/// [`meta_key`] given the key's [`SeriesKey::tags_string`].
fn meta_key_with(table_id: u64, key: &SeriesKey, tags: &str) -> Vec<u8> {
    keycodec::exact_key_of(
        table_id,
        [
            PkRef::String(&key.measurement),
            PkRef::String(&key.data_source),
            PkRef::String(tags),
        ],
    )
}

fn meta_of(key: &SeriesKey, update_time_us: i64) -> TimeseriesMeta {
    let mut k = series_key_proto(key);
    k.tags = Some(key.tags_string());
    TimeseriesMeta {
        time_series_key: k,
        attributes: None,
        update_time: Some(update_time_us),
    }
}

pub fn put_timeseries_data(
    txn: &WriteTransaction,
    req: PutTimeseriesDataRequest,
    now_ms: i64,
) -> Result<PutTimeseriesDataResponse, ApiError> {
    let info = catalog::require(
        &txn.open_table(TABLES)?,
        &req.table_name,
        TableKind::Timeseries,
    )?;
    let data = req.rows_data;
    if data.r#type != RowsSerializeType::RstFlatBuffer as i32 {
        return Err(ApiError::invalid(
            "Only RST_FLAT_BUFFER rows are supported by the emulator.",
        ));
    }
    if data.rows_data.len() > MAX_BATCH_WRITE_BYTES {
        return Err(ApiError::invalid(format!(
            "The data size of PutTimeseriesData exceeds the limit. Limit:{MAX_BATCH_WRITE_BYTES}, Current:{}.",
            data.rows_data.len()
        )));
    }
    let points =
        flatrows::decode(&data.rows_data, data.flatbuffer_crc32c).map_err(|e| match e {
            // Counted before any row was built.
            flatrows::FlatRowsError::TooManyRows { count } => ApiError::invalid(format!(
                "The number of rows in PutTimeseriesData exceeds the limit. Limit:{}, Current:{count}.",
                flatrows::MAX_ROWS
            )),
            e => ApiError::invalid(format!("Invalid rows_data: {e}.")),
        })?;
    if points.is_empty() {
        return Err(ApiError::invalid(
            "No row is specified in PutTimeseriesData.",
        ));
    }
    let ignore_meta = req.meta_update_mode == Some(MetaUpdateMode::MumIgnore as i32);
    let mut failed = Vec::new();
    let mut status = MetaUpdateStatus::default();
    let mut rows = txn.open_table(ROWS)?;
    let mut metas = txn.open_table(TS_META)?;
    for (i, point) in points.iter().enumerate() {
        let tags = point.key.tags_string();
        if let Err(problem) = check_point_with(point, &tags) {
            failed.push(FailedRowInfo {
                row_index: i as i32,
                error_code: Some("OTSParameterInvalid".into()),
                error_message: Some(problem),
            });
            continue;
        }
        let mk = (!ignore_meta).then(|| meta_key_with(info.id, &point.key, &tags));
        let stored = cells::into_put(&info, layout::row_to_storage_of(point, tags), now_ms);
        let key = keycodec::exact_key(info.id, &stored.primary_key);
        rows.insert(key.as_slice(), plainbuffer::encode_row(&stored).as_slice())?;
        if let Some(mk) = mk {
            if metas.get(mk.as_slice())?.is_none() {
                metas.insert(
                    mk.as_slice(),
                    meta_of(&point.key, now_ms * 1000)
                        .encode_to_vec()
                        .as_slice(),
                )?;
                status.row_ids.push(i as u32);
                status.meta_update_times.push((now_ms / 1000) as u32);
            }
        }
    }
    let meta_update_status = (!status.row_ids.is_empty()).then_some(status);
    Ok(PutTimeseriesDataResponse {
        failed_rows: failed,
        meta_update_status,
    })
}

fn key_from_proto(k: &TimeseriesKey) -> Result<SeriesKey, ApiError> {
    let mut tags = std::collections::BTreeMap::new();
    if let Some(s) = k.tags.as_deref().filter(|s| !s.is_empty()) {
        tags = SeriesKey::parse_tags(s)
            .ok_or_else(|| ApiError::invalid(format!("Invalid tags string: {s}.")))?;
    }
    for t in &k.tag_list {
        tags.insert(t.name.clone(), t.value.clone());
    }
    Ok(SeriesKey {
        measurement: k.measurement.clone().unwrap_or_default(),
        data_source: k.source.clone().unwrap_or_default(),
        tags,
    })
}

pub fn get_timeseries_data(
    txn: &ReadTransaction,
    req: GetTimeseriesDataRequest,
    now_ms: i64,
) -> Result<GetTimeseriesDataResponse, ApiError> {
    let info = catalog::require(
        &txn.open_table(TABLES)?,
        &req.table_name,
        TableKind::Timeseries,
    )?;
    let key = key_from_proto(&req.time_series_key)?;
    let (mut begin, mut end) = match req.specific_time {
        Some(t) => (t, t.saturating_add(1)),
        None => (
            req.begin_time.unwrap_or(0),
            req.end_time.unwrap_or(i64::MAX),
        ),
    };
    if begin < 0 || end <= begin {
        return Err(ApiError::invalid(format!(
            "Invalid time range: begin {begin} must be >= 0 and less than end {end}."
        )));
    }
    let backward = req.backward.unwrap_or(false);
    if let Some(token) = req.token.as_deref().filter(|t| !t.is_empty()) {
        let t = i64::from_be_bytes(
            token
                .try_into()
                .map_err(|_| ApiError::invalid("Invalid token."))?,
        );
        if backward {
            end = t;
        } else {
            begin = t;
        }
    }
    let limit = match req.limit {
        Some(l) if l <= 0 => return Err(ApiError::invalid(format!("Invalid limit: {l}."))),
        Some(l) => (l as usize).min(MAX_RANGE_ROWS),
        None => MAX_RANGE_ROWS,
    };
    let fields: Vec<&str> = req
        .fields_to_get
        .iter()
        .filter_map(|f| f.name.as_deref())
        .collect();
    let lo = keycodec::exact_key(info.id, &layout::storage_key(&key, begin));
    let hi = keycodec::exact_key(info.id, &layout::storage_key(&key, end));
    let rows = txn.open_table(ROWS)?;
    let range = rows.range::<&[u8]>(lo.as_slice()..hi.as_slice())?;
    let iter: Box<dyn Iterator<Item = _>> = if backward {
        Box::new(range.rev())
    } else {
        Box::new(range)
    };
    // TTL counts from each point's own time: older points are never returned.
    let oldest_us = (info.time_to_live_s > 0)
        .then(|| (now_ms - info.time_to_live_s as i64 * 1000).saturating_mul(1000));
    let mut out = Vec::new();
    let mut count = 0;
    let mut next_token = None;
    for entry in iter {
        let (_, v) = entry?;
        let mut stored = validate::decode_stored_row(v.value(), "stored point")?;
        if let Some(oldest) = oldest_us {
            let time_us = stored.primary_key.iter().find_map(|(n, v)| match v {
                PkValue::Integer(t) if n == layout::PK_TIME => Some(*t),
                _ => None,
            });
            if time_us.is_some_and(|t| t < oldest) {
                continue;
            }
        }
        if count == limit {
            let t = match stored.primary_key.last() {
                Some((_, PkValue::Integer(t))) => *t,
                _ => return Err(ApiError::internal("stored point without _time")),
            };
            next_token = Some(if backward { t + 1 } else { t }.to_be_bytes().to_vec());
            break;
        }
        if !fields.is_empty() {
            stored
                .cells
                .retain(|c| fields.iter().any(|f| c.name.split(':').next() == Some(*f)));
        }
        if let Some(row) = cells::visible(&info, &stored, now_ms, &ReadOptions::default()) {
            if out.is_empty() {
                out.extend_from_slice(&plainbuffer::HEADER.to_le_bytes());
            }
            RowEncoder::new(&mut out).row(&row);
            count += 1;
        }
    }
    Ok(GetTimeseriesDataResponse {
        rows_data: out,
        next_token,
    })
}

fn compare(op: i32, actual: &str, want: &str) -> Result<bool, ApiError> {
    use MetaQuerySingleOperator as Op;
    Ok(
        match Op::try_from(op)
            .map_err(|_| ApiError::invalid(format!("Invalid meta query operator: {op}.")))?
        {
            Op::OpEqual => actual == want,
            Op::OpGreaterThan => actual > want,
            Op::OpGreaterEqual => actual >= want,
            Op::OpLessThan => actual < want,
            Op::OpLessEqual => actual <= want,
            Op::OpPrefix => actual.starts_with(want),
        },
    )
}

fn bad(what: &str) -> impl Fn(prost::DecodeError) -> ApiError + '_ {
    move |e| ApiError::invalid(format!("Invalid {what} condition: {e}."))
}

/// Evaluates a meta query condition against one series.
pub fn matches(
    cond: &MetaQueryCondition,
    key: &SeriesKey,
    update_time_us: i64,
) -> Result<bool, ApiError> {
    use MetaQueryConditionType as T;
    let data = cond.proto_data.as_slice();
    let kind = T::try_from(cond.r#type).map_err(|_| {
        ApiError::invalid(format!(
            "Invalid meta query condition type: {}.",
            cond.r#type
        ))
    })?;
    match kind {
        T::Composite => {
            let c = MetaQueryCompositeCondition::decode(data).map_err(bad("composite"))?;
            let mut results = Vec::with_capacity(c.sub_conditions.len());
            for sub in &c.sub_conditions {
                results.push(matches(sub, key, update_time_us)?);
            }
            Ok(match MetaQueryCompositeOperator::try_from(c.op) {
                Ok(MetaQueryCompositeOperator::OpAnd) => results.iter().all(|r| *r),
                Ok(MetaQueryCompositeOperator::OpOr) => results.iter().any(|r| *r),
                Ok(MetaQueryCompositeOperator::OpNot) => !results.iter().all(|r| *r),
                Err(_) => {
                    return Err(ApiError::invalid(format!(
                        "Invalid composite operator: {}.",
                        c.op
                    )))
                }
            })
        }
        T::Measurement => {
            let c = MetaQueryValueCondition::decode(data).map_err(bad("measurement"))?;
            compare(c.op, &key.measurement, &c.value)
        }
        T::Source => {
            let c = MetaQueryValueCondition::decode(data).map_err(bad("source"))?;
            compare(c.op, &key.data_source, &c.value)
        }
        T::Tag => {
            let c = MetaQueryNamedCondition::decode(data).map_err(bad("tag"))?;
            match key.tags.get(&c.name) {
                Some(v) => compare(c.op, v, &c.value),
                None => Ok(false),
            }
        }
        T::UpdateTime => {
            let c = MetaQueryUpdateTimeCondition::decode(data).map_err(bad("update time"))?;
            let v = c.value;
            Ok(match MetaQuerySingleOperator::try_from(c.op) {
                Ok(MetaQuerySingleOperator::OpEqual) => update_time_us == v,
                Ok(MetaQuerySingleOperator::OpGreaterThan) => update_time_us > v,
                Ok(MetaQuerySingleOperator::OpGreaterEqual) => update_time_us >= v,
                Ok(MetaQuerySingleOperator::OpLessThan) => update_time_us < v,
                Ok(MetaQuerySingleOperator::OpLessEqual) => update_time_us <= v,
                _ => {
                    return Err(ApiError::invalid(format!(
                        "Invalid update time operator: {}.",
                        c.op
                    )))
                }
            })
        }
        // Series attributes are never set by the emulator (no UpdateTimeseriesMeta).
        T::Attribute => {
            MetaQueryNamedCondition::decode(data).map_err(bad("attribute"))?;
            Ok(false)
        }
    }
}

pub fn query_timeseries_meta(
    txn: &ReadTransaction,
    req: QueryTimeseriesMetaRequest,
) -> Result<QueryTimeseriesMetaResponse, ApiError> {
    let info = catalog::require(
        &txn.open_table(TABLES)?,
        &req.table_name,
        TableKind::Timeseries,
    )?;
    let limit = match req.limit {
        Some(l) if l <= 0 => return Err(ApiError::invalid(format!("Invalid limit: {l}."))),
        Some(l) => (l as usize).min(MAX_META_PAGE),
        None => MAX_META_PAGE,
    };
    if let Some(c) = &req.condition {
        // Before the recursive matcher sees it, and even on an empty table.
        super::nesting::check_meta_condition(c)?;
    }
    let prefix = keycodec::table_prefix(info.id);
    let end = keycodec::successor(&prefix).expect("table id below u64::MAX");
    let from = match req.token.as_deref().filter(|t| !t.is_empty()) {
        Some(t) if t.starts_with(&prefix) => t.to_vec(),
        Some(_) => return Err(ApiError::invalid("Invalid token.")),
        None => prefix.clone(),
    };
    let want_total = req.get_total_hit.unwrap_or(false);
    let metas = txn.open_table(TS_META)?;
    let mut out = Vec::new();
    let mut total = 0i64;
    let mut next_token = None;
    // With total hits the whole table is scanned (the total counts every
    // match, on every page); otherwise the scan starts at the token.
    let scan_from = if want_total { &prefix } else { &from };
    for entry in metas.range::<&[u8]>(scan_from.as_slice()..end.as_slice())? {
        let (k, v) = entry?;
        let meta = TimeseriesMeta::decode(v.value())
            .map_err(|e| ApiError::internal(format!("corrupt series meta: {e}")))?;
        let key = key_from_proto(&meta.time_series_key)?;
        let hit = match &req.condition {
            Some(c) => matches(c, &key, meta.update_time.unwrap_or(0))?,
            None => true,
        };
        if !hit {
            continue;
        }
        total += 1;
        if k.value() < from.as_slice() {
            continue;
        }
        if out.len() < limit {
            out.push(meta);
        } else if next_token.is_none() {
            next_token = Some(k.value().to_vec());
            if !want_total {
                break;
            }
        }
    }
    let total_hit = want_total.then_some(total);
    Ok(QueryTimeseriesMetaResponse {
        timeseries_metas: out,
        total_hit,
        next_token,
    })
}

/// UpdateTimeseriesMeta: sets the attributes of each listed series (creating
/// its meta if the series has none yet); per-series problems are reported
/// in `failed_rows` by request index.
pub fn update_timeseries_meta(
    txn: &WriteTransaction,
    req: UpdateTimeseriesMetaRequest,
    now_ms: i64,
) -> Result<UpdateTimeseriesMetaResponse, ApiError> {
    let info = catalog::require(
        &txn.open_table(TABLES)?,
        &req.table_name,
        TableKind::Timeseries,
    )?;
    if req.timeseries_meta.is_empty() {
        return Err(ApiError::invalid(
            "No timeseries meta is specified in UpdateTimeseriesMeta.",
        ));
    }
    if req.timeseries_meta.len() > MAX_BATCH_WRITE_ROWS {
        return Err(super::wire_limits::update_metas_exceeded(
            req.timeseries_meta.len(),
        ));
    }
    let mut metas = txn.open_table(TS_META)?;
    let mut failed = Vec::new();
    for (i, m) in req.timeseries_meta.iter().enumerate() {
        let fail = |message: String| FailedRowInfo {
            row_index: i as i32,
            error_code: Some("OTSParameterInvalid".into()),
            error_message: Some(message),
        };
        let key = match key_from_proto(&m.time_series_key) {
            Ok(k) => k,
            Err(e) => {
                failed.push(fail(e.message));
                continue;
            }
        };
        if key.measurement.is_empty() {
            failed.push(fail(
                "The measurement of a timeseries key must not be empty.".into(),
            ));
            continue;
        }
        let attributes = m.attributes.clone().unwrap_or_else(|| "[]".into());
        if SeriesKey::parse_tags(&attributes).is_none() {
            failed.push(fail(format!(
                "Invalid attributes: {attributes}; expected [\"name=value\",...]."
            )));
            continue;
        }
        let mk = meta_key(info.id, &key);
        let had_attributes = match metas.get(mk.as_slice())? {
            Some(v) => TimeseriesMeta::decode(v.value())
                .map_err(|e| ApiError::internal(format!("corrupt series meta: {e}")))?
                .attributes
                .is_some_and(|a| a != "[]"),
            None => false,
        };
        if had_attributes && !info.allow_update_attributes {
            failed.push(fail(
                "The table does not allow updating the attributes of a timeseries.".into(),
            ));
            continue;
        }
        let mut meta = meta_of(&key, now_ms * 1000);
        meta.attributes = Some(attributes);
        metas.insert(mk.as_slice(), meta.encode_to_vec().as_slice())?;
    }
    Ok(UpdateTimeseriesMetaResponse {
        failed_rows: failed,
    })
}

/// DeleteTimeseriesMeta: removes the meta of each listed series (its points
/// stay); a series without meta is not an error.
pub fn delete_timeseries_meta(
    txn: &WriteTransaction,
    req: DeleteTimeseriesMetaRequest,
) -> Result<DeleteTimeseriesMetaResponse, ApiError> {
    let info = catalog::require(
        &txn.open_table(TABLES)?,
        &req.table_name,
        TableKind::Timeseries,
    )?;
    if req.timeseries_key.is_empty() {
        return Err(ApiError::invalid(
            "No timeseries key is specified in DeleteTimeseriesMeta.",
        ));
    }
    let mut metas = txn.open_table(TS_META)?;
    let mut failed = Vec::new();
    for (i, k) in req.timeseries_key.iter().enumerate() {
        match key_from_proto(k) {
            Ok(key) => {
                metas.remove(meta_key(info.id, &key).as_slice())?;
            }
            Err(e) => failed.push(FailedRowInfo {
                row_index: i as i32,
                error_code: Some(e.code.into()),
                error_message: Some(e.message),
            }),
        }
    }
    Ok(DeleteTimeseriesMetaResponse {
        failed_rows: failed,
    })
}
