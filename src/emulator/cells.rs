//! Cell versions: how writes change a stored row and what reads see.
//!
//! A stored row keeps every live version of every column, sorted by
//! (column name, timestamp descending). Writes trim to the table's
//! `max_versions` and drop expired versions; reads apply TTL, time range,
//! column selection and `max_versions`, all in milliseconds.

use super::api_error::ApiError;
use super::catalog::TableInfo;
use crate::tablestore::plainbuffer::{Cell, CellOp, CellView, Row, RowView, Value};

/// What a read asks for.
#[derive(Clone, Debug, Default)]
pub struct ReadOptions {
    pub max_versions: Option<i32>,
    /// `[start, end)` in ms.
    pub time_range: Option<(i64, i64)>,
    pub columns: Vec<String>,
    /// Only columns named in `[start_column, end_column)` (GetRow and
    /// GetRange `start_column` / `end_column`; either side may be open).
    pub start_column: Option<String>,
    pub end_column: Option<String>,
}

impl ReadOptions {
    fn selects(&self, name: &str) -> bool {
        (self.columns.is_empty() || self.columns.iter().any(|n| n == name))
            && self.start_column.as_deref().is_none_or(|s| name >= s)
            && self.end_column.as_deref().is_none_or(|e| name < e)
    }
}

fn ttl_floor_ms(info: &TableInfo, now_ms: i64) -> i64 {
    if info.time_to_live_s > 0 {
        now_ms - info.time_to_live_s as i64 * 1000
    } else {
        i64::MIN
    }
}

/// What normalizing needs of a cell version.
trait Version {
    fn column(&self) -> &str;
    fn version(&self) -> Option<i64>;
}

impl Version for Cell {
    fn column(&self) -> &str {
        &self.name
    }
    fn version(&self) -> Option<i64> {
        self.timestamp_ms
    }
}

/// A request's put cell with the version it is stored at.
impl Version for (&CellView<'_>, i64) {
    fn column(&self) -> &str {
        self.0.name
    }
    fn version(&self) -> Option<i64> {
        Some(self.1)
    }
}

/// Drops expired versions, sorts by (column, version descending), keeps
/// the last write of a (column, version) pair and at most `max_versions`
/// versions per column. In place, without allocating.
fn normalize<C: Version>(info: &TableInfo, cells: &mut Vec<C>, now_ms: i64) {
    let floor = ttl_floor_ms(info, now_ms);
    cells.retain(|c| c.version().unwrap_or(now_ms) >= floor);
    // Stable: later writes stay after earlier ones for equal keys.
    cells.sort_by(|a, b| {
        a.column()
            .cmp(b.column())
            .then(b.version().cmp(&a.version()))
    });
    let max = info.max_versions.max(1) as usize;
    // cells[..kept] is the result so far; its last entry is the newest
    // kept version of the column being read.
    let (mut kept, mut versions) = (0, 0);
    for read in 0..cells.len() {
        if kept > 0 && cells[kept - 1].column() == cells[read].column() {
            if cells[kept - 1].version() == cells[read].version() {
                cells.swap(kept - 1, read);
                continue;
            }
            versions += 1;
            if versions > max {
                continue;
            }
        } else {
            versions = 1;
        }
        cells.swap(kept, read);
        kept += 1;
    }
    cells.truncate(kept);
}

/// The cells a PutRow of `row` stores, in stored order, each with its
/// version (the one it carries, or `now_ms`): [`apply_put`] without
/// copying the row.
pub fn put_versions<'v, 'a>(
    info: &TableInfo,
    row: &'v RowView<'a>,
    now_ms: i64,
) -> Vec<(&'v CellView<'a>, i64)> {
    let mut cells: Vec<_> = row
        .cells
        .iter()
        .map(|c| (c, c.timestamp_ms.unwrap_or(now_ms)))
        .collect();
    normalize(info, &mut cells, now_ms);
    cells
}

/// The stored form of a PutRow: the row replaced by `new`.
pub fn apply_put(info: &TableInfo, new: &Row, now_ms: i64) -> Row {
    into_put(info, new.clone(), now_ms)
}

/// [`apply_put`] of a row the caller no longer needs.
pub fn into_put(info: &TableInfo, mut row: Row, now_ms: i64) -> Row {
    for c in &mut row.cells {
        c.timestamp_ms = Some(c.timestamp_ms.unwrap_or(now_ms));
    }
    normalize(info, &mut row.cells, now_ms);
    row.delete_marker = false;
    row
}

/// The stored form after an UpdateRow; `None` when no cell is left.
pub fn apply_update(
    info: &TableInfo,
    existing: Option<Row>,
    change: &Row,
    now_ms: i64,
) -> Result<Option<Row>, ApiError> {
    let mut cells = existing.map(|r| r.cells).unwrap_or_default();
    normalize(info, &mut cells, now_ms);
    for c in &change.cells {
        match c.op {
            CellOp::Put => {
                let ts = c.timestamp_ms.unwrap_or(now_ms);
                cells.retain(|x| !(x.name == c.name && x.timestamp_ms == Some(ts)));
                cells.push(Cell {
                    timestamp_ms: Some(ts),
                    op: CellOp::Put,
                    ..c.clone()
                });
            }
            CellOp::DeleteOneVersion => {
                cells.retain(|x| !(x.name == c.name && x.timestamp_ms == c.timestamp_ms))
            }
            CellOp::DeleteAllVersions => cells.retain(|x| x.name != c.name),
            CellOp::Increment => {
                let Some(Value::Integer(delta)) = c.value else {
                    return Err(ApiError::invalid(format!(
                        "Increment of column '{}' needs an INTEGER delta.",
                        c.name
                    )));
                };
                let latest = cells
                    .iter()
                    .filter(|x| x.name == c.name)
                    .max_by_key(|x| x.timestamp_ms);
                let base = match latest.and_then(|x| x.value.as_ref()) {
                    None => 0,
                    Some(Value::Integer(v)) => *v,
                    Some(other) => {
                        return Err(ApiError::invalid(format!(
                        "Increment on column '{}' of type {} is not allowed; it must be INTEGER.",
                        c.name,
                        other.type_name()
                    )))
                    }
                };
                let sum = base.checked_add(delta).ok_or_else(|| {
                    ApiError::invalid(format!(
                        "Increment of column '{}' overflows INTEGER.",
                        c.name
                    ))
                })?;
                cells.retain(|x| !(x.name == c.name && x.timestamp_ms == Some(now_ms)));
                cells.push(Cell::put_at(c.name.clone(), Value::Integer(sum), now_ms));
            }
        }
    }
    normalize(info, &mut cells, now_ms);
    if cells.is_empty() {
        return Ok(None);
    }
    Ok(Some(Row {
        primary_key: change.primary_key.clone(),
        cells,
        delete_marker: false,
    }))
}

/// Whether a stored row exists for condition checks (not fully expired).
pub fn exists(info: &TableInfo, stored: &Row, now_ms: i64) -> bool {
    let floor = ttl_floor_ms(info, now_ms);
    stored.cells.is_empty()
        || stored
            .cells
            .iter()
            .any(|c| c.timestamp_ms.unwrap_or(now_ms) >= floor)
}

/// What a read returns of a stored row; `None` if it is invisible.
pub fn visible(info: &TableInfo, stored: &Row, now_ms: i64, opts: &ReadOptions) -> Option<Row> {
    if !exists(info, stored, now_ms) {
        return None;
    }
    let floor = ttl_floor_ms(info, now_ms);
    let wants_pk = opts
        .columns
        .iter()
        .any(|c| stored.primary_key.iter().any(|(n, _)| n == c));
    // Versions beyond the table's max_versions (after an UpdateTable lowered
    // it) are invalid and never returned.
    let max = opts
        .max_versions
        .unwrap_or(1)
        .max(1)
        .min(info.max_versions.max(1)) as usize;
    let mut cells = Vec::new();
    let mut kept = 0;
    let mut current: Option<&str> = None;
    for c in &stored.cells {
        let ts = c.timestamp_ms.unwrap_or(0);
        if ts < floor {
            continue;
        }
        if let Some((start, end)) = opts.time_range {
            if ts < start || ts >= end {
                continue;
            }
        }
        if !opts.selects(&c.name) {
            continue;
        }
        if current != Some(c.name.as_str()) {
            current = Some(&c.name);
            kept = 0;
        }
        kept += 1;
        if kept <= max {
            cells.push(c.clone());
        }
    }
    let filtered = opts.time_range.is_some()
        || !opts.columns.is_empty()
        || opts.start_column.is_some()
        || opts.end_column.is_some();
    if cells.is_empty() && filtered && !wants_pk {
        return None;
    }
    Some(Row {
        primary_key: stored.primary_key.clone(),
        cells,
        delete_marker: false,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::emulator::catalog::TableKind;
    use crate::tablestore::plainbuffer::{self, PkValue, RowLimits};
    use proptest::prelude::*;

    /// The straightforward normalize the in-place one must equal: filter,
    /// stable sort, keep the last of equal (name, ts), trim per column.
    fn reference_normalize(info: &TableInfo, cells: &mut Vec<Cell>, now_ms: i64) {
        let floor = ttl_floor_ms(info, now_ms);
        cells.retain(|c| c.timestamp_ms.unwrap_or(now_ms) >= floor);
        cells.sort_by(|a, b| {
            a.name
                .cmp(&b.name)
                .then(b.timestamp_ms.cmp(&a.timestamp_ms))
        });
        let mut out: Vec<Cell> = Vec::new();
        for c in cells.drain(..) {
            match out.last_mut() {
                Some(last) if last.name == c.name && last.timestamp_ms == c.timestamp_ms => {
                    *last = c
                }
                _ => out.push(c),
            }
        }
        let max = info.max_versions.max(1) as usize;
        let mut kept = 0;
        let mut current: Option<String> = None;
        out.retain(|c| {
            if current.as_deref() != Some(c.name.as_str()) {
                current = Some(c.name.clone());
                kept = 0;
            }
            kept += 1;
            kept <= max
        });
        *cells = out;
    }

    fn value() -> impl Strategy<Value = Value> {
        prop_oneof![
            any::<i64>().prop_map(Value::Integer),
            (-1e9f64..1e9).prop_map(Value::Double),
            any::<bool>().prop_map(Value::Boolean),
            "[a-z\\x00é]{0,12}".prop_map(Value::String),
            proptest::collection::vec(any::<u8>(), 0..12).prop_map(Value::Binary),
        ]
    }

    /// Put cells over few names and versions, so duplicates are common.
    fn put_cells() -> impl Strategy<Value = Vec<Cell>> {
        let cell =
            ("[abc]{1,2}", proptest::option::of(0i64..6), value()).prop_map(|(name, ts, v)| Cell {
                name,
                value: Some(v),
                op: CellOp::Put,
                timestamp_ms: ts.map(|t| 1000 + t * 100),
            });
        proptest::collection::vec(cell, 0..12)
    }

    proptest! {
        #[test]
        fn normalize_matches_the_reference(
            cells in put_cells(), max in 1i32..4, ttl in prop_oneof![Just(-1), 1i32..3], now in 1000i64..2000,
        ) {
            let info = info(max, ttl);
            let mut fast = cells.clone();
            normalize(&info, &mut fast, now);
            let mut reference = cells;
            reference_normalize(&info, &mut reference, now);
            prop_assert_eq!(fast, reference);
        }

        /// The stored bytes of a put written from the request's bytes equal
        /// those of the owned row encoded.
        #[test]
        fn a_put_stored_from_its_view_equals_the_owned_encoding(
            cells in put_cells(), max in 1i32..4, ttl in prop_oneof![Just(-1), 1i32..3],
            now in 1000i64..2000, key in "[a-z\\x00]{0,8}", offset: i64,
        ) {
            let info = info(max, ttl);
            let row = Row {
                primary_key: vec![
                    ("pk".into(), PkValue::String(key)),
                    ("offset".into(), PkValue::Integer(offset)),
                ],
                cells,
                delete_marker: false,
            };
            let bytes = plainbuffer::encode_row(&row);
            let view = plainbuffer::view_single_row(&bytes, RowLimits::NONE).unwrap();
            let versions = put_versions(&info, &view, now);
            let from_view = plainbuffer::encode_stored_put(&view.primary_key, &versions);
            let owned = plainbuffer::encode_row(&apply_put(&info, &view.to_row(), now));
            prop_assert_eq!(from_view, owned);
        }
    }

    fn info(max_versions: i32, ttl: i32) -> TableInfo {
        TableInfo {
            id: 1,
            kind: TableKind::WideColumn,
            primary_key: vec![],
            time_to_live_s: ttl,
            max_versions,
            deviation_cell_version_in_sec: 86400,
            created_ms: 0,
            meta_time_to_live_s: -1,
            allow_update_attributes: true,
        }
    }

    #[test]
    fn versions_are_trimmed_to_max_versions_newest_first() {
        let t = info(2, -1);
        let mut row = None;
        for ts in [10, 30, 20] {
            let change = Row {
                cells: vec![Cell::put_at("a", Value::Integer(ts), ts)],
                ..Default::default()
            };
            row = apply_update(&t, row, &change, 1000).unwrap();
        }
        let stamps: Vec<_> = row
            .unwrap()
            .cells
            .iter()
            .map(|c| c.timestamp_ms.unwrap())
            .collect();
        assert_eq!(stamps, vec![30, 20]);
    }

    #[test]
    fn ttl_hides_expired_rows() {
        let t = info(1, 10);
        let row = apply_put(
            &t,
            &Row {
                cells: vec![Cell::put("a", Value::Boolean(true))],
                ..Default::default()
            },
            0,
        );
        assert!(visible(&t, &row, 9_000, &ReadOptions::default()).is_some());
        assert!(visible(&t, &row, 10_001, &ReadOptions::default()).is_none());
    }

    #[test]
    fn increment_adds_to_the_latest_integer_and_rejects_other_types() {
        let t = info(1, -1);
        let put = Row {
            cells: vec![Cell::put_at("n", Value::Integer(40), 5)],
            ..Default::default()
        };
        let row = apply_update(&t, None, &put, 10).unwrap();
        let inc = Row {
            cells: vec![Cell::increment("n", 2)],
            ..Default::default()
        };
        let row = apply_update(&t, row, &inc, 20).unwrap().unwrap();
        assert_eq!(row.latest("n"), Some(&Value::Integer(42)));
        let s = Row {
            cells: vec![Cell::put("s", Value::String("x".into()))],
            ..Default::default()
        };
        let row = apply_update(&t, Some(row), &s, 30).unwrap();
        let inc = Row {
            cells: vec![Cell::increment("s", 1)],
            ..Default::default()
        };
        assert_eq!(
            apply_update(&t, row, &inc, 40).unwrap_err().code,
            "OTSParameterInvalid"
        );
    }

    #[test]
    fn deleting_every_column_removes_the_row() {
        let t = info(1, -1);
        let row = apply_put(
            &t,
            &Row {
                cells: vec![Cell::put("a", Value::Integer(1))],
                ..Default::default()
            },
            0,
        );
        let del = Row {
            cells: vec![Cell::delete_all("a")],
            ..Default::default()
        };
        assert!(apply_update(&t, Some(row), &del, 1).unwrap().is_none());
    }
}
