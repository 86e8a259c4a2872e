//! `tablestore-sink query`: the product page's "query the table". Wide
//! Column rows in primary-key order with typed cells; TimeSeries series
//! (metric, source, tags) with their latest points. Works against a real
//! endpoint and against the embedded store: over HTTP while the sink runs,
//! or by opening its data directory when it does not.

use std::collections::BTreeSet;
use std::path::PathBuf;

use anyhow::Context as _;
use serde_json::{json, Value as Json};

use crate::config::{Config, Model};
use crate::emulator::Emulator;
use crate::tablestore::flatrows::{FieldValue, SeriesKey};
use crate::tablestore::plainbuffer::{PkValue, Row, Value};
use crate::tablestore::proto::Direction;
use crate::tablestore::{Client, ClientConfig};

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Table,
    Json,
}

#[derive(clap::Args, Debug)]
pub struct QueryArgs {
    /// The TOML configuration file (its tablestore section is used).
    #[arg(long, short)]
    pub config: PathBuf,
    /// Most rows (Wide Column) or series (TimeSeries) to show.
    #[arg(long, default_value_t = 20)]
    pub limit: usize,
    /// Latest points shown per series (TimeSeries).
    #[arg(long, default_value_t = 3)]
    pub points: usize,
    #[arg(long, value_enum, default_value = "table")]
    pub format: Format,
}

pub fn run(args: QueryArgs) -> anyhow::Result<()> {
    let config = crate::config::load(&args.config)?;
    let rt = tokio::runtime::Runtime::new()?;
    rt.block_on(async move {
        let (client, local) = connect(&config).await?;
        let out = match config.tablestore.model {
            Model::WideColumn => wide_column(&client, &config, &args).await,
            Model::Timeseries => timeseries(&client, &config, &args).await,
        };
        if let Some(emulator) = local {
            emulator.stop().await;
        }
        println!("{}", out?);
        Ok(())
    })
}

/// A client for the configured Tablestore. For the embedded store: the
/// running sink's listener, else the data directory opened here.
async fn connect(config: &Config) -> anyhow::Result<(Client, Option<Emulator>)> {
    let ts = &config.tablestore;
    let client_for = |endpoint: &str| -> anyhow::Result<Client> {
        Client::new(ClientConfig::new(
            endpoint,
            &ts.instance,
            &ts.access_key_id,
            ts.access_key_secret.expose(),
        ))
        .map_err(|e| anyhow::anyhow!("{e}"))
    };
    if !ts.is_embedded() {
        return Ok((client_for(&ts.endpoint)?, None));
    }
    if tokio::net::TcpStream::connect(ts.embedded_listen)
        .await
        .is_ok()
    {
        return Ok((client_for(&format!("http://{}", ts.embedded_listen))?, None));
    }
    let emu = crate::sink::destination::embedded_emulator(
        ts,
        "127.0.0.1:0".parse().expect("static address"),
    );
    let emulator = Emulator::start(emu)
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))
        .with_context(|| format!("opening the embedded store in {}", ts.data_dir.display()))?;
    Ok((client_for(&emulator.endpoint())?, Some(emulator)))
}

fn pk_json(v: &PkValue) -> Json {
    match v {
        PkValue::Integer(i) => json!(i),
        PkValue::String(s) => json!(s),
        PkValue::Binary(b) => json!(format!("0x{}", hex(b))),
        other => json!(other.to_string()),
    }
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

fn cell_json(v: &Value) -> Json {
    let value = match v {
        Value::Integer(i) => json!(i),
        Value::Double(d) => json!(d),
        Value::Boolean(b) => json!(b),
        Value::String(s) => json!(s),
        Value::Binary(b) => json!(format!("0x{}", hex(b))),
    };
    json!({"type": v.type_name(), "value": value})
}

/// A cell as text that shows its type: strings quoted, doubles always
/// with a fraction, integers without, binaries as 0x…
fn cell_text(v: &Value) -> String {
    match v {
        Value::Double(d) if d.fract() == 0.0 && d.is_finite() => format!("{d:.1}"),
        other => other.to_string(),
    }
}

async fn wide_column(client: &Client, config: &Config, args: &QueryArgs) -> anyhow::Result<String> {
    let table = &config.tablestore.table;
    let desc = client
        .describe_table(table)
        .await
        .map_err(|e| anyhow::anyhow!("table {table:?}: {e}"))?;
    let pk: Vec<String> = desc
        .table_meta
        .primary_key
        .iter()
        .map(|c| c.name.clone())
        .collect();
    let start: Vec<_> = pk.iter().map(|n| (n.clone(), PkValue::InfMin)).collect();
    let end: Vec<_> = pk.iter().map(|n| (n.clone(), PkValue::InfMax)).collect();
    let rows = client
        .get_range_all(table, Direction::Forward, &start, &end, args.limit)
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    if args.format == Format::Json {
        let out: Vec<Json> = rows
            .iter()
            .map(|r| {
                json!({
                    "primary_key": r.primary_key.iter().map(|(n, v)| (n.clone(), pk_json(v))).collect::<serde_json::Map<_, _>>(),
                    "columns": latest_cells(r).into_iter().map(|(n, v)| (n, cell_json(&v))).collect::<serde_json::Map<_, _>>(),
                })
            })
            .collect();
        return Ok(serde_json::to_string_pretty(&out)?);
    }
    let columns: BTreeSet<String> = rows
        .iter()
        .flat_map(|r| r.cells.iter().map(|c| c.name.clone()))
        .collect();
    let header: Vec<String> = pk.iter().cloned().chain(columns.iter().cloned()).collect();
    let body: Vec<Vec<String>> = rows
        .iter()
        .map(|r| {
            let cells = latest_cells(r);
            r.primary_key
                .iter()
                .map(|(_, v)| v.to_string())
                .chain(columns.iter().map(|c| {
                    cells
                        .iter()
                        .find(|(n, _)| n == c)
                        .map(|(_, v)| cell_text(v))
                        .unwrap_or_default()
                }))
                .collect()
        })
        .collect();
    Ok(format!(
        "{}\n({} row(s) of table {table:?}; strings are quoted, DOUBLE has a decimal point)",
        render(&header, &body),
        rows.len()
    ))
}

/// Each column's latest version.
fn latest_cells(row: &Row) -> Vec<(String, Value)> {
    let mut out: Vec<(String, Value)> = Vec::new();
    for c in &row.cells {
        if let Some(v) = &c.value {
            if !out.iter().any(|(n, _)| n == &c.name) {
                out.push((c.name.clone(), v.clone()));
            }
        }
    }
    out
}

pub(crate) fn render(header: &[String], rows: &[Vec<String>]) -> String {
    let mut widths: Vec<usize> = header.iter().map(|h| h.chars().count()).collect();
    for r in rows {
        for (i, c) in r.iter().enumerate() {
            widths[i] = widths[i].max(c.chars().count());
        }
    }
    let line = |cells: &[String]| -> String {
        cells
            .iter()
            .enumerate()
            .map(|(i, c)| format!("{c:<w$}", w = widths[i]))
            .collect::<Vec<_>>()
            .join(" | ")
            .trim_end()
            .to_owned()
    };
    let mut out = vec![
        line(header),
        widths
            .iter()
            .map(|w| "-".repeat(*w))
            .collect::<Vec<_>>()
            .join("-+-"),
    ];
    out.extend(rows.iter().map(|r| line(r)));
    out.join("\n")
}

fn field_text(v: &FieldValue) -> (String, &'static str) {
    match v {
        FieldValue::Long(i) => (i.to_string(), "INTEGER"),
        FieldValue::Double(d) => (cell_text(&Value::Double(*d)), "DOUBLE"),
        FieldValue::Boolean(b) => (b.to_string(), "BOOLEAN"),
        FieldValue::String(s) => (format!("{s:?}"), "STRING"),
        FieldValue::Binary(b) => (format!("0x{}", hex(b)), "BINARY"),
    }
}

async fn timeseries(client: &Client, config: &Config, args: &QueryArgs) -> anyhow::Result<String> {
    let table = &config.tablestore.table;
    let metas = client
        .query_timeseries_meta(table, None, args.limit)
        .await
        .map_err(|e| anyhow::anyhow!("TimeSeries table {table:?}: {e}"))?;
    let mut series = Vec::new();
    for meta in &metas {
        let k = &meta.time_series_key;
        let key = SeriesKey {
            measurement: k.measurement.clone().unwrap_or_default(),
            data_source: k.source.clone().unwrap_or_default(),
            tags: k
                .tag_list
                .iter()
                .map(|t| (t.name.clone(), t.value.clone()))
                .collect(),
        };
        let mut points = client
            .get_timeseries_data(table, &key, 0, i64::MAX, usize::MAX)
            .await
            .map_err(|e| anyhow::anyhow!("{e}"))?;
        let keep = points.len().saturating_sub(args.points);
        points.drain(..keep);
        series.push((key, points));
    }
    if args.format == Format::Json {
        let out: Vec<Json> = series
            .iter()
            .map(|(k, points)| {
                json!({
                    "metric": k.measurement, "data_source": k.data_source, "tags": k.tags,
                    "latest_points": points.iter().map(|p| json!({
                        "time_us": p.time_us,
                        "fields": p.fields.iter().map(|(n, v)| {
                            let (text, ty) = field_text(v);
                            (n.clone(), json!({"type": ty, "value": text}))
                        }).collect::<serde_json::Map<_, _>>(),
                    })).collect::<Vec<_>>(),
                })
            })
            .collect();
        return Ok(serde_json::to_string_pretty(&out)?);
    }
    let mut out = Vec::new();
    for (k, points) in &series {
        out.push(format!(
            "series metric={:?} data_source={:?} tags={}",
            k.measurement,
            k.data_source,
            k.tags_string()
        ));
        for p in points {
            let time = chrono::DateTime::from_timestamp_micros(p.time_us)
                .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Micros, true))
                .unwrap_or_default();
            let fields: Vec<String> = p
                .fields
                .iter()
                .map(|(n, v)| {
                    let (text, ty) = field_text(v);
                    format!("{n}={text} ({ty})")
                })
                .collect();
            out.push(format!(
                "  {time} ({} µs)  {}",
                p.time_us,
                fields.join(", ")
            ));
        }
    }
    out.push(format!(
        "({} series in TimeSeries table {table:?})",
        series.len()
    ));
    Ok(out.join("\n"))
}
