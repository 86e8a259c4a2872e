//! The emulator's web console in a real headless browser (Debian's
//! `chromium`, driven by `tests/console/browse.mjs` with playwright-core):
//! what a user sees on each page after filling the emulator through our
//! client — table names, the schema, typed cells in primary-key order,
//! paging to the end and back, TimeSeries series with their latest points,
//! and a failed request in the error log. Screenshots land in
//! `target/tmp/console-screens/`.

mod common;

use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;

use serde_json::{json, Value as Json};
use tablestore_sink::tablestore::flatrows::{FieldValue, SeriesKey, TimeseriesRow};
use tablestore_sink::tablestore::plainbuffer::{Cell, PkValue, Row, Value};
use tablestore_sink::tablestore::proto::*;
use tablestore_sink::tablestore::RowChange;

const ROWS: i64 = 60;

fn order(i: i64) -> Row {
    let mut cells = vec![
        Cell::put("amount", Value::Double(1.5 * i as f64)),
        Cell::put("paid", Value::Boolean(i % 2 == 0)),
        Cell::put("qty", Value::Integer(i)),
        Cell::put("raw", Value::Binary(vec![0, 1, 255])),
    ];
    if i != 7 {
        cells.push(Cell::put(
            "note",
            Value::String(format!("<i>order {i}</i>")),
        ));
    }
    Row {
        primary_key: vec![
            ("region".into(), PkValue::String(format!("cn-{}", i % 3))),
            ("id".into(), PkValue::Integer(i)),
        ],
        cells,
        delete_marker: false,
    }
}

fn point(host: usize, t: i64) -> TimeseriesRow {
    TimeseriesRow {
        key: SeriesKey {
            measurement: "cpu".into(),
            data_source: format!("host{host}"),
            tags: [("region".to_string(), "cn".to_string())].into(),
        },
        time_us: 1_700_000_000_000_000 + t * 1_000_000,
        fields: vec![
            ("usage".into(), FieldValue::Double(t as f64 / 4.0)),
            ("cores".into(), FieldValue::Long(4)),
        ],
        meta_cache_update_time: 0,
    }
}

fn cell(text: &str, ty: &str) -> Json {
    json!({ "text": text, "type": ty })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_console_shows_tables_typed_rows_pages_series_and_errors_in_a_browser() {
    let dir = tempfile::tempdir().unwrap();
    let emu = common::emulator(dir.path()).await;
    let client = common::client(&emu);
    client
        .create_table(&CreateTableRequest::new(
            "orders",
            &[
                ("region", PrimaryKeyType::String),
                ("id", PrimaryKeyType::Integer),
            ],
        ))
        .await
        .unwrap();
    let changes: Vec<RowChange> = (0..ROWS)
        .map(|i| RowChange::new(OperationType::Put, &order(i)))
        .collect();
    for batch in changes.chunks(20) {
        assert!(client
            .batch_write_row("orders", batch)
            .await
            .unwrap()
            .iter()
            .all(|r| r.is_ok()));
    }
    client.create_timeseries_table("metrics", -1).await.unwrap();
    let points: Vec<TimeseriesRow> = (0..3)
        .flat_map(|h| (0..3).map(move |t| point(h, t)))
        .collect();
    client
        .put_timeseries_data("metrics", &points)
        .await
        .unwrap();
    let missing = client
        .get_row(
            "no_such_table",
            &[("pk".into(), PkValue::String("x".into()))],
            &[],
            1,
        )
        .await
        .unwrap_err();
    assert_eq!(missing.code, "OTSObjectNotExist");

    let shots = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("console-screens");
    std::fs::create_dir_all(&shots).unwrap();
    let browser_dir = common::repo().join("tests/console");
    assert!(
        browser_dir.join("node_modules/playwright-core").exists() && PathBuf::from("/usr/bin/chromium").exists(),
        "the console browser test needs Debian's chromium and tests/console/node_modules: run scripts/setup.sh"
    );
    let child = tokio::process::Command::new("node")
        .arg("browse.mjs")
        .arg(emu.console_url())
        .arg(&shots)
        .current_dir(&browser_dir)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("node runs");
    let out = tokio::time::timeout(Duration::from_secs(180), child.wait_with_output())
        .await
        .expect("the browser session finishes within 3 minutes")
        .unwrap();
    assert!(
        out.status.success(),
        "browse.mjs failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let seen: Json = serde_json::from_slice(&out.stdout).expect("browse.mjs prints JSON");

    // The table list.
    assert_eq!(seen["index"]["tables"], json!(["orders"]));
    assert_eq!(seen["index"]["timeseries"], json!(["metrics"]));

    // The schema and the columns.
    let table = &seen["table"];
    assert_eq!(table["name"], "orders");
    let schema = table["schema"].as_str().unwrap();
    assert!(schema.contains("region STRING, id INTEGER"), "{schema}");
    assert_eq!(
        table["header"],
        json!(["region", "id", "amount", "note", "paid", "qty", "raw"])
    );

    // Three pages of 25, 25 and 10 rows, in primary-key order.
    let pages = table["pages"].as_array().unwrap();
    let ranges: Vec<&str> = pages.iter().map(|p| p["range"].as_str().unwrap()).collect();
    assert_eq!(ranges, ["rows 1–25", "rows 26–50", "rows 51–60"]);
    let shown: Vec<(String, i64)> = pages
        .iter()
        .flat_map(|p| p["rows"].as_array().unwrap().clone())
        .map(|r| {
            (
                r[0]["text"].as_str().unwrap().to_owned(),
                r[1]["text"].as_str().unwrap().parse().unwrap(),
            )
        })
        .collect();
    let mut expected: Vec<(String, i64)> =
        (0..ROWS).map(|i| (format!("cn-{}", i % 3), i)).collect();
    expected.sort();
    assert_eq!(shown, expected, "every row once, in primary-key order");
    assert_eq!(table["backToFirst"], "rows 1–25");

    // Typed cells, markup shown as text, a missing column as a dash.
    let first = &pages[0]["rows"][0];
    assert_eq!(
        first,
        &json!([
            cell("cn-0", "STRING"),
            cell("0", "INTEGER"),
            cell("0.0", "DOUBLE"),
            cell("<i>order 0</i>", "STRING"),
            cell("true", "BOOLEAN"),
            cell("0", "INTEGER"),
            cell("0x0001ff (3 bytes)", "BINARY"),
        ])
    );
    let seven = pages
        .iter()
        .flat_map(|p| p["rows"].as_array().unwrap().clone())
        .find(|r| r[1]["text"] == "7")
        .unwrap();
    assert_eq!(seven[2], cell("10.5", "DOUBLE"));
    assert_eq!(seven[3], json!({ "text": "—" }));
    assert_eq!(seven[4], cell("false", "BOOLEAN"));

    // Each series with its latest point.
    assert_eq!(seen["timeseries"]["name"], "metrics");
    let series = seen["timeseries"]["series"].as_array().unwrap();
    assert_eq!(series.len(), 3);
    for (h, s) in series.iter().enumerate() {
        assert_eq!(s[0]["text"], "cpu");
        assert_eq!(s[1]["text"], format!("host{h}"));
        assert_eq!(s[2]["text"], r#"["region=cn"]"#);
        assert_eq!(
            s[4]["text"], "2023-11-14 22:13:22.000000 UTC",
            "the latest of 3 points"
        );
        assert_eq!(s[5]["text"], "cores = 4usage = 0.5", "{s}");
    }

    // The failed request in the error log.
    assert_eq!(seen["errors"]["heading"], "Failed requests");
    let errors = seen["errors"]["rows"].as_array().unwrap();
    assert_eq!(errors.len(), 1, "{errors:?}");
    let e = &errors[0];
    assert_eq!(e[2]["text"], "GetRow");
    assert_eq!(e[3]["text"], "no_such_table");
    assert_eq!(e[4]["text"], "404");
    assert_eq!(e[5]["text"], "OTSObjectNotExist");
    assert_eq!(e[6]["text"], "Requested table does not exist.");
    for name in [
        "console-index.png",
        "console-table.png",
        "console-timeseries.png",
        "console-errors.png",
    ] {
        assert!(
            shots.join(name).metadata().unwrap().len() > 1000,
            "{name} written"
        );
    }
    emu.stop().await;
}
