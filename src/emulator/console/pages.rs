//! The console's pages, each a read transaction rendered to HTML: the
//! table list, one table's schema and rows (primary-key order, typed
//! cells, paged), one TimeSeries table's series with their latest points
//! (paged), and the request log.

use std::ops::Bound;

use prost::Message;
use redb::{ReadTransaction, ReadableTable};

use super::html::{self, esc, url};
use crate::emulator::api_error::ApiError;
use crate::emulator::catalog::{self, TableInfo, TableKind};
use crate::emulator::cells::{self, ReadOptions};
use crate::emulator::keycodec;
use crate::emulator::request_log::RequestLog;
use crate::emulator::store::{ROWS, TABLES, TS_META};
use crate::emulator::validate;
use crate::tablestore::flatrows::SeriesKey;
use crate::tablestore::plainbuffer::Row;
use crate::tablestore::proto::TimeseriesMeta;
use crate::tablestore::timeseries_layout as layout;

/// Rows or series per page unless the URL asks otherwise, and at most.
pub const DEFAULT_PAGE: usize = 25;
pub const MAX_PAGE: usize = 500;
/// Rows counted per table on the index (more shows as "≥").
const MAX_COUNTED_ROWS: usize = 10_000;

/// Where a page of rows or series starts.
pub struct Paging {
    /// Storage key of the last entry of the previous page (hex in URLs).
    pub after: Option<Vec<u8>>,
    pub limit: usize,
    /// 1-based number of the first entry shown, for the "rows a–b" label.
    pub first: usize,
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

pub fn unhex(s: &str) -> Option<Vec<u8>> {
    if s.len() % 2 != 0 {
        return None;
    }
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(s.get(i..i + 2)?, 16).ok())
        .collect()
}

fn not_found(what: &str) -> ApiError {
    ApiError::new(404, "OTSObjectNotExist", format!("{what} does not exist."))
}

fn count_rows(txn: &ReadTransaction, table_id: u64) -> Result<String, ApiError> {
    let start = keycodec::table_prefix(table_id);
    let end = keycodec::successor(&start).expect("table id below u64::MAX");
    let rows = txn.open_table(ROWS)?;
    let n = rows
        .range::<&[u8]>(start.as_slice()..end.as_slice())?
        .take(MAX_COUNTED_ROWS + 1)
        .count();
    Ok(if n > MAX_COUNTED_ROWS {
        format!("≥ {MAX_COUNTED_ROWS}")
    } else {
        n.to_string()
    })
}

fn schema(info: &TableInfo) -> String {
    info.primary_key
        .iter()
        .map(|c| {
            format!(
                "{} <span class=\"t\">{}{}</span>",
                esc(&c.name),
                c.pk_type.wire_name(),
                if c.auto_increment {
                    " AUTO_INCREMENT"
                } else {
                    ""
                }
            )
        })
        .collect::<Vec<_>>()
        .join(", ")
}

fn ttl(seconds: i32) -> String {
    if seconds < 0 {
        "forever".into()
    } else {
        format!("{seconds} s")
    }
}

pub fn index(txn: &ReadTransaction, log: &RequestLog) -> Result<String, ApiError> {
    let mut body = String::from("<h1>Tables</h1>");
    let wide = catalog::list(txn, TableKind::WideColumn)?;
    if wide.is_empty() {
        body.push_str("<p class=\"note\">No Wide Column tables.</p>");
    } else {
        body.push_str(
            "<table id=\"tables\"><tr><th>Table</th><th>Primary key</th><th>Rows</th>\
             <th>TTL</th><th>Max versions</th><th>Created</th></tr>",
        );
        for (name, info) in &wide {
            body.push_str(&format!(
                "<tr><td><a href=\"/console/tables/{}\">{}</a></td><td>{}</td><td>{}</td>\
                 <td>{}</td><td>{}</td><td>{}</td></tr>",
                url(name),
                esc(name),
                schema(info),
                count_rows(txn, info.id)?,
                ttl(info.time_to_live_s),
                info.max_versions,
                html::time_ms(info.created_ms)
            ));
        }
        body.push_str("</table>");
    }
    body.push_str("<h2>TimeSeries tables</h2>");
    let series = catalog::list(txn, TableKind::Timeseries)?;
    if series.is_empty() {
        body.push_str("<p class=\"note\">No TimeSeries tables.</p>");
    } else {
        body.push_str(
            "<table id=\"timeseries-tables\"><tr><th>Table</th><th>Data TTL</th>\
             <th>Meta TTL</th><th>Created</th></tr>",
        );
        for (name, info) in &series {
            body.push_str(&format!(
                "<tr><td><a href=\"/console/timeseries/{}\">{}</a></td><td>{}</td><td>{}</td><td>{}</td></tr>",
                url(name),
                esc(name),
                ttl(info.time_to_live_s),
                ttl(info.meta_time_to_live_s),
                html::time_ms(info.created_ms)
            ));
        }
        body.push_str("</table>");
    }
    let (total, failed) = log.totals();
    body.push_str(&format!(
        "<p class=\"note\">{total} requests served since start, {failed} failed: \
         <a href=\"/console/requests\">request log</a>.</p>"
    ));
    Ok(html::page("Tables", &body))
}

/// The next-page and first-page links of a paged list.
fn nav(base: &str, paging: &Paging, shown: usize, next_after: Option<&[u8]>) -> String {
    let mut out = String::from("<div class=\"nav\">");
    if shown == 0 {
        out.push_str("<span class=\"note\" id=\"range\">nothing to show</span>");
    } else {
        out.push_str(&format!(
            "<span id=\"range\">{} {}–{}</span>",
            if base.contains("/timeseries/") {
                "series"
            } else {
                "rows"
            },
            paging.first,
            paging.first + shown - 1
        ));
    }
    if paging.after.is_some() {
        out.push_str(&format!(
            "<a id=\"first-page\" href=\"{base}?limit={}\">First page</a>",
            paging.limit
        ));
    }
    if let Some(after) = next_after {
        out.push_str(&format!(
            "<a id=\"next-page\" href=\"{base}?after={}&amp;limit={}&amp;first={}\">Next page →</a>",
            hex(after),
            paging.limit,
            paging.first + shown
        ));
    }
    out.push_str("</div>");
    out
}

/// Up to `limit` entries of `table` after `after` within `prefix`, and
/// whether more follow.
type Page = (Vec<(Vec<u8>, Vec<u8>)>, bool);

fn page_of(
    table: &impl ReadableTable<&'static [u8], &'static [u8]>,
    prefix: &[u8],
    paging: &Paging,
    mut keep: impl FnMut(&[u8]) -> bool,
) -> Result<Page, ApiError> {
    let end = keycodec::successor(prefix).expect("table id below u64::MAX");
    let lower = match &paging.after {
        Some(a) if a.starts_with(prefix) => Bound::Excluded(a.as_slice()),
        _ => Bound::Included(prefix),
    };
    let mut out = Vec::new();
    for entry in table.range::<&[u8]>((lower, Bound::Excluded(end.as_slice())))? {
        let (k, v) = entry?;
        if !keep(v.value()) {
            continue;
        }
        if out.len() == paging.limit {
            return Ok((out, true));
        }
        out.push((k.value().to_vec(), v.value().to_vec()));
    }
    Ok((out, false))
}

pub fn table(
    txn: &ReadTransaction,
    name: &str,
    paging: &Paging,
    now_ms: i64,
) -> Result<String, ApiError> {
    let info = catalog::load(&txn.open_table(TABLES)?, name)?
        .filter(|t| t.kind == TableKind::WideColumn)
        .ok_or_else(|| not_found(&format!("Table '{name}'")))?;
    let latest = ReadOptions {
        max_versions: Some(1),
        ..Default::default()
    };
    let visible = |bytes: &[u8]| -> Option<Row> {
        let stored = validate::decode_stored_row(bytes, "stored row").ok()?;
        cells::visible(&info, &stored, now_ms, &latest)
    };
    let rows_table = txn.open_table(ROWS)?;
    let (entries, more) = page_of(&rows_table, &keycodec::table_prefix(info.id), paging, |v| {
        visible(v).is_some()
    })?;
    let rows: Vec<Row> = entries.iter().filter_map(|(_, v)| visible(v)).collect();
    let mut columns: Vec<&str> = rows
        .iter()
        .flat_map(|r| r.cells.iter().map(|c| c.name.as_str()))
        .collect();
    columns.sort_unstable();
    columns.dedup();

    let mut body = format!(
        "<h1>Table <span id=\"table-name\">{}</span></h1><dl id=\"schema\">\
         <dt>Primary key</dt><dd>{}</dd><dt>Time to live</dt><dd>{}</dd>\
         <dt>Max versions</dt><dd>{}</dd><dt>Max version deviation</dt><dd>{} s</dd>\
         <dt>Created</dt><dd>{}</dd></dl>",
        esc(name),
        schema(&info),
        ttl(info.time_to_live_s),
        info.max_versions,
        info.deviation_cell_version_in_sec,
        html::time_ms(info.created_ms)
    );
    let base = format!("/console/tables/{}", url(name));
    let next = more
        .then(|| entries.last().map(|(k, _)| k.as_slice()))
        .flatten();
    let nav = nav(&base, paging, rows.len(), next);
    body.push_str(&nav);
    body.push_str("<table id=\"rows\"><tr>");
    for c in &info.primary_key {
        body.push_str(&format!("<th class=\"pk\">{}</th>", esc(&c.name)));
    }
    for c in &columns {
        body.push_str(&format!("<th>{}</th>", esc(c)));
    }
    body.push_str("</tr>");
    for row in &rows {
        body.push_str("<tr>");
        for (_, v) in &row.primary_key {
            body.push_str(&format!("<td class=\"pk\">{}</td>", html::pk_value(v)));
        }
        for c in &columns {
            match row.cells.iter().find(|cell| cell.name == *c) {
                Some(cell) => {
                    let at = cell.timestamp_ms.map(html::time_ms).unwrap_or_default();
                    let shown = cell.value.as_ref().map(html::value).unwrap_or_default();
                    body.push_str(&format!("<td title=\"version {}\">{shown}</td>", esc(&at)));
                }
                None => body.push_str("<td class=\"missing\">—</td>"),
            }
        }
        body.push_str("</tr>");
    }
    body.push_str("</table>");
    body.push_str(&nav);
    Ok(html::page(&format!("Table {name}"), &body))
}

fn series_key(meta: &TimeseriesMeta) -> SeriesKey {
    let k = &meta.time_series_key;
    let mut tags = k
        .tags
        .as_deref()
        .and_then(SeriesKey::parse_tags)
        .unwrap_or_default();
    for t in &k.tag_list {
        tags.insert(t.name.clone(), t.value.clone());
    }
    SeriesKey {
        measurement: k.measurement.clone().unwrap_or_default(),
        data_source: k.source.clone().unwrap_or_default(),
        tags,
    }
}

pub fn timeseries(txn: &ReadTransaction, name: &str, paging: &Paging) -> Result<String, ApiError> {
    let info = catalog::load(&txn.open_table(TABLES)?, name)?
        .filter(|t| t.kind == TableKind::Timeseries)
        .ok_or_else(|| not_found(&format!("TimeSeries table '{name}'")))?;
    let metas = txn.open_table(TS_META)?;
    let (entries, more) = page_of(&metas, &keycodec::table_prefix(info.id), paging, |_| true)?;
    let rows = txn.open_table(ROWS)?;
    let mut body = format!(
        "<h1>TimeSeries table <span id=\"table-name\">{}</span></h1><dl id=\"schema\">\
         <dt>Data time to live</dt><dd>{}</dd><dt>Meta time to live</dt><dd>{}</dd></dl>",
        esc(name),
        ttl(info.time_to_live_s),
        ttl(info.meta_time_to_live_s)
    );
    let base = format!("/console/timeseries/{}", url(name));
    let next = more
        .then(|| entries.last().map(|(k, _)| k.as_slice()))
        .flatten();
    let nav = nav(&base, paging, entries.len(), next);
    body.push_str(&nav);
    body.push_str(
        "<table id=\"series\"><tr><th>Measurement</th><th>Data source</th><th>Tags</th>\
         <th>Meta updated</th><th>Latest point</th><th>Fields</th></tr>",
    );
    for (_, v) in &entries {
        let meta = TimeseriesMeta::decode(v.as_slice())
            .map_err(|e| ApiError::internal(format!("corrupt series meta: {e}")))?;
        let key = series_key(&meta);
        let lo = keycodec::exact_key(info.id, &layout::storage_key(&key, 0));
        let hi = keycodec::exact_key(info.id, &layout::storage_key(&key, i64::MAX));
        let latest = match rows
            .range::<&[u8]>(lo.as_slice()..=hi.as_slice())?
            .next_back()
        {
            Some(entry) => {
                let (_, v) = entry?;
                let row = validate::decode_stored_row(v.value(), "stored point")?;
                layout::row_from_storage(&row).ok()
            }
            None => None,
        };
        let (time, fields) = match &latest {
            Some(p) => (
                html::time_us(p.time_us),
                p.fields
                    .iter()
                    .map(|(n, v)| format!("{} = {}", esc(n), html::field_value(v)))
                    .collect::<Vec<_>>()
                    .join("<br>"),
            ),
            None => (
                "<span class=\"missing\">no points</span>".into(),
                String::new(),
            ),
        };
        body.push_str(&format!(
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{time}</td><td>{fields}</td></tr>",
            esc(&key.measurement),
            esc(&key.data_source),
            esc(&key.tags_string()),
            meta.update_time.map(html::time_us).unwrap_or_default(),
        ));
    }
    body.push_str("</table>");
    body.push_str(&nav);
    Ok(html::page(&format!("TimeSeries table {name}"), &body))
}

pub fn requests(log: &RequestLog, errors_only: bool) -> String {
    let entries = log.recent(errors_only);
    let (total, failed) = log.totals();
    let mut body = format!(
        "<h1>{}</h1><p class=\"note\">{total} requests since start, {failed} failed; \
         the last {} are kept. <a href=\"/console/requests{}\">{}</a></p>",
        if errors_only {
            "Failed requests"
        } else {
            "Requests"
        },
        crate::emulator::request_log::CAPACITY,
        if errors_only { "" } else { "?errors=1" },
        if errors_only {
            "Show all"
        } else {
            "Show failures only"
        }
    );
    body.push_str(
        "<table id=\"requests\"><tr><th>Time</th><th>Client</th><th>Action</th><th>Table</th>\
         <th>Status</th><th>Error</th><th>Message</th><th>Duration</th></tr>",
    );
    for e in &entries {
        let (code, message) = e
            .error
            .as_ref()
            .map(|(c, m)| (esc(c), esc(m)))
            .unwrap_or_default();
        body.push_str(&format!(
            "<tr{}><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td>\
             <td class=\"code\">{code}</td><td>{message}</td><td>{:.1} ms</td></tr>",
            if e.error.is_some() {
                " class=\"err\""
            } else {
                ""
            },
            html::time_ms(e.at_ms),
            e.peer,
            esc(&e.action),
            esc(e.table.as_deref().unwrap_or("")),
            e.status,
            e.duration.as_secs_f64() * 1000.0
        ));
    }
    body.push_str("</table>");
    html::page("Requests", &body)
}
