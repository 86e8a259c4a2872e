//! Rows Tablestore rejects permanently, and backpressure.
//!
//! A realistic permanent rejection: the table is recreated with another
//! primary-key type while the sink runs, so every row fails with
//! OTSInvalidPK. Under `continue` the rows go to the error topic with their
//! original bytes; under `stop` the partition stops at the first one.

mod common;

use std::time::Duration;

use common::broker::{header, Broker};
use common::sink::{config, SinkProcess};
use rdkafka::Message;
use tablestore_sink::emulator::Faults;
use tablestore_sink::tablestore::proto::{CreateTableRequest, PrimaryKeyType};

const WAIT: Duration = Duration::from_secs(60);

/// Replaces the sink's `kafka`-mode table with one whose `offset` column is
/// a STRING, so the sink's INTEGER offsets are rejected row by row.
async fn break_the_schema(client: &tablestore_sink::tablestore::Client, table: &str) {
    client.delete_table(table).await.unwrap();
    let pk = [
        ("topic_partition", PrimaryKeyType::String),
        ("offset", PrimaryKeyType::String),
    ];
    client
        .create_table(&CreateTableRequest::new(table, &pk))
        .await
        .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rejected_rows_go_to_the_error_topic_under_continue() {
    let dir = tempfile::tempdir().unwrap();
    let broker = Broker::start();
    let emu = common::emulator(&dir.path().join("ts")).await;
    let client = common::client(&emu);
    let topic = common::unique("rej");
    broker.create_topic(&topic, 1).await;
    broker
        .produce(&topic, &[(0, Some("a"), Some(r#"{"v":1}"#))])
        .await;
    let cfg = config(
        "rej",
        &broker.bootstrap(),
        &topic,
        &emu.endpoint(),
        "rej",
        "error_topic = \"rej-errors\"",
        "[wide_column]\nkey_format = \"string\"\n",
    );
    let sink = SinkProcess::start(dir.path(), "sink", &cfg);
    common::eventually(WAIT, "the first row", || async {
        (common::all_rows(&client, "rej", &["topic_partition", "offset"])
            .await
            .len()
            == 1)
            .then_some(())
    })
    .await;
    break_the_schema(&client, "rej").await;
    broker
        .produce(
            &topic,
            &[
                (0, Some("b"), Some(r#"{"v":2}"#)),
                (0, Some("c"), Some(r#"{"v":3}"#)),
            ],
        )
        .await;
    let mut errors = broker.read_all("rej-errors", 2, WAIT);
    assert_eq!(
        errors.len(),
        2,
        "both rejected rows reach the error topic:\n{}",
        sink.log_text()
    );
    errors.sort_by_key(|m| m.offset());
    for (m, (key, value, offset)) in errors
        .iter()
        .zip([("b", r#"{"v":2}"#, "1"), ("c", r#"{"v":3}"#, "2")])
    {
        assert_eq!(m.key(), Some(key.as_bytes()));
        assert_eq!(m.payload(), Some(value.as_bytes()), "original bytes");
        assert_eq!(header(m, "tablestore_sink.error.stage"), Some("write"));
        assert_eq!(
            header(m, "tablestore_sink.error.code"),
            Some("OTSInvalidPK")
        );
        assert_eq!(header(m, "tablestore_sink.source.offset"), Some(offset));
        assert!(header(m, "tablestore_sink.error.reason")
            .unwrap()
            .contains("Validate PK type fail"));
    }
    assert!(sink.stop().success());
    assert_eq!(
        broker.committed("connect-rej", &topic, 1),
        vec![Some(3)],
        "routed rows are committed"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rejected_row_stops_its_partition_under_stop() {
    let dir = tempfile::tempdir().unwrap();
    let broker = Broker::start();
    let emu = common::emulator(&dir.path().join("ts")).await;
    let client = common::client(&emu);
    let topic = common::unique("rejstop");
    broker.create_topic(&topic, 1).await;
    broker
        .produce(&topic, &[(0, None, Some(r#"{"v":1}"#))])
        .await;
    let cfg = config(
        "rejstop",
        &broker.bootstrap(),
        &topic,
        &emu.endpoint(),
        "rejstop",
        "failure_policy = \"stop\"",
        "",
    );
    let sink = SinkProcess::start(dir.path(), "sink", &cfg);
    common::eventually(WAIT, "the first row", || async {
        (common::all_rows(&client, "rejstop", &["topic_partition", "offset"])
            .await
            .len()
            == 1)
            .then_some(())
    })
    .await;
    break_the_schema(&client, "rejstop").await;
    broker
        .produce(&topic, &[(0, None, Some(r#"{"v":2}"#))])
        .await;
    let failed = common::eventually(WAIT, "a FAILED status", || async {
        broker
            .read_all("connect-status-rejstop", 3, Duration::from_secs(2))
            .iter()
            .filter_map(|m| serde_json::from_slice::<serde_json::Value>(m.payload()?).ok())
            .find(|s| s["state"] == "FAILED")
    })
    .await;
    assert_eq!(failed["offset"], 1);
    assert!(
        failed["reason"].as_str().unwrap().contains("OTSInvalidPK"),
        "{failed}"
    );
    assert!(sink.stop().success());
    assert_eq!(
        broker.committed("connect-rejstop", &topic, 1),
        vec![Some(1)],
        "the rejected offset is not committed"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_byte_budget_pauses_partitions_and_nothing_is_lost() {
    let dir = tempfile::tempdir().unwrap();
    let broker = Broker::start();
    // A slow Tablestore: every request takes 100 ms.
    let emu = common::emulator_with(
        &dir.path().join("ts"),
        Faults {
            latency: Duration::from_millis(100),
            throttle_rate: 0.0,
        },
    )
    .await;
    let client = common::client(&emu);
    let topic = common::unique("bp");
    broker.create_topic(&topic, 3).await;
    let value = format!(r#"{{"pad":"{}"}}"#, "x".repeat(2000));
    let msgs: Vec<_> = (0..3000i32)
        .map(|i| (i % 3, None, Some(value.as_str())))
        .collect();
    broker.produce(&topic, &msgs).await;
    let metrics_port = common::broker::free_port();
    let cfg = config(
        "bp",
        &broker.bootstrap(),
        &topic,
        &emu.endpoint(),
        "bp",
        "",
        &format!("[writer]\nmax_in_flight_bytes = 1048576\nmax_batch_bytes = 262144\nmax_in_flight_requests = 2\n\n[metrics]\nlisten = \"127.0.0.1:{metrics_port}\"\n"),
    );
    let sink = SinkProcess::start(dir.path(), "sink", &cfg);
    let url = format!("http://127.0.0.1:{metrics_port}/metrics");
    let http = reqwest::Client::new();
    // Highest paused-partition count and in-flight bytes seen while
    // waiting, and how many scrapes succeeded (a failed scrape is not a
    // zero).
    #[derive(Default)]
    struct Seen {
        paused: f64,
        in_flight: f64,
        scrapes: u32,
    }
    let seen = std::sync::Arc::new(std::sync::Mutex::new(Seen::default()));
    common::eventually(WAIT, "3000 rows", || {
        let (http, url, client, seen) = (http.clone(), url.clone(), client.clone(), seen.clone());
        async move {
            if let Ok(r) = http.get(&url).send().await {
                if let Ok(text) = r.text().await {
                    let s = tablestore_sink::metrics::scrape::parse(&text);
                    let paused = tablestore_sink::metrics::scrape::get(
                        &s,
                        "tablestore_sink_paused_partitions",
                        &[],
                    );
                    let bytes = tablestore_sink::metrics::scrape::get(
                        &s,
                        "tablestore_sink_in_flight_bytes",
                        &[],
                    );
                    if let (Some(paused), Some(bytes)) = (paused, bytes) {
                        let mut seen = seen.lock().unwrap();
                        seen.paused = seen.paused.max(paused);
                        seen.in_flight = seen.in_flight.max(bytes);
                        seen.scrapes += 1;
                    }
                }
            }
            (common::all_rows(&client, "bp", &["topic_partition", "offset"])
                .await
                .len()
                == 3000)
                .then_some(())
        }
    })
    .await;
    let seen = seen.lock().unwrap();
    assert!(seen.scrapes >= 3, "only {} scrapes succeeded", seen.scrapes);
    assert!(
        seen.paused >= 1.0,
        "partitions paused while the budget was full"
    );
    // The budget is a hard limit now (a chunk's take is capped at it), and
    // it was really used.
    assert!(
        seen.in_flight >= 262_144.0 && seen.in_flight <= 1_048_576.0,
        "in-flight bytes peaked at {}",
        seen.in_flight
    );
    assert!(sink.stop().success());
    assert_eq!(
        broker.committed("connect-bp", &topic, 3),
        vec![Some(1000), Some(1000), Some(1000)]
    );
}
