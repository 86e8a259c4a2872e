//! Operating the sink, against a real broker (tansu) and the emulator:
//! two processes share a topic and the survivor of a `kill -9` finishes
//! the work; a throttling Tablestore slows the sink but loses nothing;
//! `manual` resources and existing tables are verified before anything
//! runs; SIGTERM drains, commits only what was written and exits 0.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant};

use common::broker::Broker;
use common::ingest::*;
use common::sink::{config, SinkProcess};
use rdkafka::Message;
use tablestore_sink::tablestore::plainbuffer::{Row, Value};
use tablestore_sink::tablestore::proto::{CreateTableRequest, PrimaryKeyType};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_processes_split_the_partitions_and_the_survivor_of_a_kill9_finishes() {
    let dir = tempfile::tempdir().unwrap();
    let broker = Broker::start();
    let emu = common::emulator(&dir.path().join("ts")).await;
    let client = common::client(&emu);
    let topic = common::unique("split");
    broker.create_topic(&topic, 6).await;
    let phase1 = numbered(0, 600, 6, 0);
    let phase2 = numbered(600, 600, 6, 0);
    let phase3 = numbered(1200, 300, 6, 0);
    let phase4 = numbered(1500, 300, 6, 0);
    produce(&broker, &topic, &phase1).await;

    let cfg = config(
        "split",
        &broker.bootstrap(),
        &topic,
        &emu.endpoint(),
        "split",
        "",
        "",
    );
    let a = SinkProcess::start(dir.path(), "a", &cfg);
    wait_log(&a, "partition assigned").await;
    let b = SinkProcess::start(dir.path(), "b", &cfg);
    wait_log(&b, "partition assigned").await;
    // Both hold partitions now: new messages go to both.
    produce(&broker, &topic, &phase2).await;
    let first_two: Vec<_> = phase1.iter().chain(&phase2).cloned().collect();
    let rows = until("1200 rows", &[&a, &b], || async {
        let rows = common::all_rows(&client, "split", KAFKA_PK).await;
        (rows.len() >= 1200).then_some(rows)
    })
    .await;
    assert_rows_exactly(&topic, &rows, &expected_rows(&first_two));

    // The group split the partitions: the current owner of each partition
    // (its last status record) is RUNNING, and both processes own some.
    // Status records are written in the background: read until they show
    // the split (bounded), then assert on what was read.
    let deadline = Instant::now() + WAIT;
    let (last, all) = loop {
        let (last, all) = last_status(&broker, "connect-status-split", &topic);
        let owners: BTreeSet<&str> = last.values().map(|(_, w)| w.as_str()).collect();
        let split = last.len() == 6
            && last.values().all(|(state, _)| state == "RUNNING")
            && owners.len() == 2;
        if split || Instant::now() > deadline {
            break (last, all);
        }
    };
    let running_workers: BTreeSet<&str> = all
        .iter()
        .filter(|s| s["state"] == "RUNNING")
        .filter_map(|s| s["worker"].as_str())
        .collect();
    assert_eq!(
        running_workers.len(),
        2,
        "RUNNING from two workers: {all:?}"
    );
    assert_eq!(last.len(), 6, "{all:?}");
    assert!(
        last.values().all(|(state, _)| state == "RUNNING"),
        "{last:?}"
    );
    let owners: BTreeSet<&str> = last.values().map(|(_, w)| w.as_str()).collect();
    assert_eq!(owners.len(), 2, "both processes own partitions: {last:?}");
    let a_assigned = a.log_text().matches("partition assigned").count();
    assert!(a_assigned >= 1, "{}", a.log_text());

    // Crash one mid-stream; the survivor takes every partition and
    // finishes, including what the dead one had in flight.
    produce(&broker, &topic, &phase3).await;
    a.kill9();
    produce(&broker, &topic, &phase4).await;
    let everything: Vec<_> = first_two
        .iter()
        .chain(&phase3)
        .chain(&phase4)
        .cloned()
        .collect();
    let rows = until("1800 rows after the kill", &[&b], || async {
        let rows = common::all_rows(&client, "split", KAFKA_PK).await;
        (rows.len() >= 1800).then_some(rows)
    })
    .await;
    assert_rows_exactly(&topic, &rows, &expected_rows(&everything));
    let log_b = b.log_text();
    assert!(b.stop().success(), "{log_b}");
    assert_eq!(
        broker.committed("connect-split", &topic, 6),
        vec![Some(300); 6],
        "the survivor committed every partition to the end"
    );
}

/// The retries the sink counted for `code`, and the rows it wrote, from
/// its Prometheus endpoint.
async fn retries_and_rows_written(metrics_port: u16, code: &str) -> (f64, f64, String) {
    let text = reqwest::get(format!("http://127.0.0.1:{metrics_port}/metrics"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let samples = tablestore_sink::metrics::scrape::parse(&text);
    let retries = samples
        .iter()
        .filter(|s| {
            s.name == "tablestore_sink_retries_total"
                && s.labels.get("code").map(String::as_str) == Some(code)
        })
        .map(|s| s.value)
        .sum();
    let written = samples
        .iter()
        .filter(|s| s.name == "tablestore_sink_rows_written_total")
        .map(|s| s.value)
        .sum();
    (retries, written, text)
}

fn throttling(rate: f64) -> tablestore_sink::emulator::Faults {
    tablestore_sink::emulator::Faults {
        throttle_rate: rate,
        ..Default::default()
    }
}

/// The sink starts against a healthy Tablestore, which then starts
/// throttling half of all requests (restarted on the same address and
/// data): the writes slow down but every message lands.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_throttling_tablestore_slows_the_sink_but_loses_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let broker = Broker::start();
    let data = dir.path().join("ts");
    let emu = common::emulator(&data).await;
    let addr = emu.addr;
    let client = common::client(&emu);
    let topic = common::unique("throttled");
    broker.create_topic(&topic, 3).await;
    let before = numbered(0, 60, 3, 0);
    let during = numbered(60, 600, 3, 0);
    produce(&broker, &topic, &before).await;
    let metrics_port = common::broker::free_port();
    let cfg = config(
        "throttled",
        &broker.bootstrap(),
        &topic,
        &emu.endpoint(),
        "throttled",
        "",
        &format!(
            "[writer]\nmax_batch_rows = 20\nretry_max_ms = 1000\n\n[metrics]\nlisten = \"127.0.0.1:{metrics_port}\"\n"
        ),
    );
    let sink = SinkProcess::start(dir.path(), "sink", &cfg);
    until("the first 60 rows", &[&sink], || async {
        (common::all_rows(&client, "throttled", KAFKA_PK).await.len() >= 60).then_some(())
    })
    .await;

    emu.stop().await;
    let mut throttled = tablestore_sink::emulator::EmulatorConfig::new(&data);
    throttled.listen = addr;
    throttled.faults = throttling(0.5);
    let _emu = tablestore_sink::emulator::Emulator::start(throttled)
        .await
        .expect("the throttling emulator starts on the same address");
    produce(&broker, &topic, &during).await;
    // Reads are throttled too: a failed read just tries again.
    let rows = until("660 rows through the throttle", &[&sink], || async {
        match common::try_all_rows(&client, "throttled", KAFKA_PK).await {
            Ok(rows) if rows.len() >= 660 => Some(rows),
            _ => None,
        }
    })
    .await;
    let all: Vec<_> = before.iter().chain(&during).cloned().collect();
    assert_rows_exactly(&topic, &rows, &expected_rows(&all));

    // It was slowed: throttled requests were retried, and counted.
    let log = sink.log_text();
    assert!(
        log.contains("Tablestore request failed; retrying") && log.contains("OTSServerBusy"),
        "no throttling retries in the log:\n{log}"
    );
    let (retries, written, text) = retries_and_rows_written(metrics_port, "OTSServerBusy").await;
    assert!(
        retries > 0.0,
        "retries_total{{code=OTSServerBusy}} = {retries}\n{text}"
    );
    assert!(written >= 660.0, "rows_written_total = {written}");

    assert!(sink.stop().success(), "{log}");
    assert_eq!(
        broker.committed("connect-throttled", &topic, 3),
        vec![Some(220); 3]
    );
}

/// Starting against a Tablestore that throttles most requests: the
/// startup checks must retry throttling like the writes do.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_sink_starts_against_a_throttling_tablestore() {
    let dir = tempfile::tempdir().unwrap();
    let broker = Broker::start();
    let emu = common::emulator_with(&dir.path().join("ts"), throttling(0.8)).await;
    let client = common::client(&emu);
    let topic = common::unique("busystart");
    broker.create_topic(&topic, 3).await;
    let msgs = numbered(0, 300, 3, 0);
    produce(&broker, &topic, &msgs).await;
    let cfg = config(
        "busy-start",
        &broker.bootstrap(),
        &topic,
        &emu.endpoint(),
        "busy_start",
        "",
        "[writer]\nretry_max_ms = 1000\n",
    );
    let sink = SinkProcess::start(dir.path(), "sink", &cfg);
    // Four of five calls fail, at startup too, where retries back off up
    // to 5 s: a run takes 20-50 s on this machine, so allow 3 minutes.
    let rows = until_within(
        Duration::from_secs(180),
        "300 rows through an 80% throttle",
        &[&sink],
        || async {
            match common::try_all_rows(&client, "busy_start", KAFKA_PK).await {
                Ok(rows) if rows.len() >= 300 => Some(rows),
                _ => None,
            }
        },
    )
    .await;
    assert_rows_exactly(&topic, &rows, &expected_rows(&msgs));
    let log = sink.log_text();
    assert!(sink.stop().success(), "{log}");
}

/// Connector topic names of connector `name`, by role.
fn connector_topics(name: &str) -> [(&'static str, String); 4] {
    [
        ("offset", format!("connect-offset-{name}")),
        ("config", format!("connect-config-{name}")),
        ("status", format!("connect-status-{name}")),
        ("error", format!("connect-error-{name}")),
    ]
}

/// Creates the connector topic of `role` as `manual` mode requires it.
async fn create_connector_topic(broker: &Broker, role: &str, name: &str) {
    match role {
        "offset" => {
            broker
                .create_topic_with(name, 6, &[("cleanup.policy", "compact")])
                .await
        }
        "config" => {
            broker
                .create_topic_with(name, 1, &[("cleanup.policy", "compact")])
                .await
        }
        "status" => {
            broker
                .create_topic_with(name, 6, &[("cleanup.policy", "compact")])
                .await
        }
        _ => broker.create_topic(name, 6).await,
    }
}

/// The startup error's lines (each problem is one line).
fn problem_lines(log: &str) -> Vec<&str> {
    log.lines()
        .filter(|l| {
            l.contains("does not exist")
                || l.contains("must be compact")
                || l.contains("must have exactly")
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn manual_resources_refuse_to_start_with_a_list_of_what_is_missing() {
    let dir = tempfile::tempdir().unwrap();
    let broker = Broker::start();
    let emu = common::emulator(&dir.path().join("ts")).await;
    let topic = common::unique("manual");
    broker.create_topic(&topic, 2).await;
    let start = |name: &str| {
        let cfg = config(
            name,
            &broker.bootstrap(),
            &topic,
            &emu.endpoint(),
            &name.replace('-', "_"),
            "resource_creation = \"manual\"",
            "",
        );
        SinkProcess::start(dir.path(), name, &cfg)
    };

    // Every connector topic missing, then each one missing alone.
    let started = Instant::now();
    let mut sinks = vec![(
        "none",
        Vec::from(connector_topics("none").map(|(_, t)| t)),
        start("none"),
    )];
    for role in ["offset", "config", "status", "error"] {
        let name = format!("no-{role}");
        let mut missing = Vec::new();
        for (r, t) in connector_topics(&name) {
            if r == role {
                missing.push(t);
            } else {
                create_connector_topic(&broker, r, &t).await;
            }
        }
        sinks.push((role, missing, start(&name)));
    }
    for (what, missing, sink) in sinks {
        let (status, log) = sink.wait_exit(Duration::from_secs(30));
        assert!(
            !status.success(),
            "{what}: started without {missing:?}:\n{log}"
        );
        let problems = problem_lines(&log);
        assert_eq!(
            problems.len(),
            missing.len(),
            "{what}: one line per missing topic:\n{log}"
        );
        for t in &missing {
            assert!(
                problems.iter().any(|l| l.contains(&format!("{t:?}"))),
                "{what}: {t} not listed:\n{log}"
            );
        }
        assert!(
            log.contains("resource_creation"),
            "{what}: the message says how to fix it:\n{log}"
        );
    }
    assert!(
        started.elapsed() < Duration::from_secs(15),
        "refusals are quick: {:?}",
        started.elapsed()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn manual_resources_with_wrong_properties_refuse_to_start() {
    let dir = tempfile::tempdir().unwrap();
    let broker = Broker::start();
    let emu = common::emulator(&dir.path().join("ts")).await;
    let topic = common::unique("manualprops");
    broker.create_topic(&topic, 2).await;
    let name = "wrong-props";
    let [offset, config_topic, status, error] = connector_topics(name).map(|(_, t)| t);
    broker
        .create_topic_with(&offset, 6, &[("cleanup.policy", "compact")])
        .await;
    // Config: two partitions (must be exactly one). Status: not compacted.
    broker
        .create_topic_with(&config_topic, 2, &[("cleanup.policy", "compact")])
        .await;
    broker.create_topic(&status, 6).await;
    broker.create_topic(&error, 6).await;
    let cfg = config(
        name,
        &broker.bootstrap(),
        &topic,
        &emu.endpoint(),
        "wrong_props",
        "resource_creation = \"manual\"",
        "",
    );
    let (status_code, log) =
        SinkProcess::start(dir.path(), name, &cfg).wait_exit(Duration::from_secs(30));
    assert!(!status_code.success(), "{log}");
    let problems = problem_lines(&log);
    assert_eq!(problems.len(), 2, "{log}");
    assert!(
        problems
            .iter()
            .any(|l| l.contains(&format!("{config_topic:?}")) && l.contains("exactly 1")),
        "{log}"
    );
    assert!(
        problems
            .iter()
            .any(|l| l.contains(&format!("{status:?}")) && l.contains("compact")),
        "{log}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn manual_resources_that_exist_correctly_start_and_deliver() {
    let dir = tempfile::tempdir().unwrap();
    let broker = Broker::start();
    let emu = common::emulator(&dir.path().join("ts")).await;
    let client = common::client(&emu);
    let topic = common::unique("manualok");
    broker.create_topic(&topic, 2).await;
    let name = "manual-ok";
    for (role, t) in connector_topics(name) {
        create_connector_topic(&broker, role, &t).await;
    }
    // Manual resources include the consumer group.
    broker.create_group(&format!("connect-{name}"), &topic, 2);
    let msgs = numbered(0, 50, 2, 0);
    produce(&broker, &topic, &msgs).await;
    let cfg = config(
        name,
        &broker.bootstrap(),
        &topic,
        &emu.endpoint(),
        "manual_ok",
        "resource_creation = \"manual\"",
        "",
    );
    let sink = SinkProcess::start(dir.path(), name, &cfg);
    let rows = common::eventually(WAIT, "50 rows", || async {
        let rows = common::all_rows(&client, "manual_ok", KAFKA_PK).await;
        (rows.len() >= 50).then_some(rows)
    })
    .await;
    assert_rows_exactly(&topic, &rows, &expected_rows(&msgs));
    let log = sink.log_text();
    assert!(
        !log.contains("created topic"),
        "manual mode created a topic:\n{log}"
    );
    // The config topic got the redacted configuration.
    let config_topic = format!("connect-config-{name}");
    let configs = tokio::task::block_in_place(|| broker.read_all(&config_topic, 1, WAIT));
    let again = read_everything(&broker, &config_topic, Duration::from_secs(2));
    assert_eq!(again.len().max(configs.len()), 1, "one config record");
    assert_eq!(configs.len(), 1, "one config record");
    assert_eq!(configs[0].key(), Some(name.as_bytes()));
    assert!(sink.stop().success(), "{log}");
    assert_eq!(
        broker.committed(&format!("connect-{name}"), &topic, 2),
        vec![Some(25), Some(25)]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn missing_or_mismatched_tables_refuse_to_start() {
    let dir = tempfile::tempdir().unwrap();
    let broker = Broker::start();
    let emu = common::emulator(&dir.path().join("ts")).await;
    let client = common::client(&emu);
    let topic = common::unique("tables");
    broker.create_topic(&topic, 1).await;
    client
        .create_table(&CreateTableRequest::new(
            "by_id",
            &[("id", PrimaryKeyType::String)],
        ))
        .await
        .unwrap();
    let start = |name: &str, table: &str, extra: &str| {
        let cfg = config(
            name,
            &broker.bootstrap(),
            &topic,
            &emu.endpoint(),
            table,
            "",
            extra,
        );
        SinkProcess::start(dir.path(), name, &cfg)
    };
    // The harness config has a [tablestore] section: set the key there.
    let no_auto = {
        let cfg = config(
            "no-auto",
            &broker.bootstrap(),
            &topic,
            &emu.endpoint(),
            "absent_table",
            "",
            "",
        )
        .replace(
            "table = \"absent_table\"",
            "table = \"absent_table\"\nauto_create_table = false",
        );
        SinkProcess::start(dir.path(), "no-auto", &cfg)
    };
    let kafka_vs_id = start("kafka-vs-id", "by_id", "");
    let int_vs_string = start(
        "int-vs-string",
        "by_id",
        "[wide_column]\nkey_format = \"string\"\nprimary_key_mode = \"record_key\"\nprimary_key = [{ name = \"id\", type = \"integer\" }]\n",
    );

    let (status, log) = no_auto.wait_exit(Duration::from_secs(30));
    assert!(!status.success(), "{log}");
    assert!(
        log.contains("table \"absent_table\" does not exist") && log.contains("auto_create_table"),
        "{log}"
    );
    let (status, log) = kafka_vs_id.wait_exit(Duration::from_secs(30));
    assert!(!status.success(), "{log}");
    assert!(
        log.contains("(id STRING)") && log.contains("(topic_partition STRING, offset INTEGER)"),
        "both schemas named:\n{log}"
    );
    let (status, log) = int_vs_string.wait_exit(Duration::from_secs(30));
    assert!(!status.success(), "{log}");
    assert!(
        log.contains("(id STRING)") && log.contains("(id INTEGER)"),
        "both schemas named:\n{log}"
    );
    // Nothing was created behind the user's back.
    let tables = client.list_table().await.unwrap();
    assert_eq!(tables, vec!["by_id".to_string()], "no table created");
}

/// Produces `{"i":N}` round-robin over 3 partitions, 20 messages every
/// 20 ms (about 1000/s), until `stop`; returns what it produced, in order,
/// once every message is acknowledged.
fn spawn_stream(
    broker: &Broker,
    topic: &str,
    stop: std::sync::Arc<std::sync::atomic::AtomicBool>,
) -> tokio::task::JoinHandle<Vec<(i32, String)>> {
    let producer = broker.producer();
    let topic = topic.to_owned();
    tokio::spawn(async move {
        let mut sent = Vec::new();
        let mut deliveries = Vec::new();
        while !stop.load(std::sync::atomic::Ordering::Acquire) {
            for _ in 0..20 {
                let i = sent.len();
                let p = (i % 3) as i32;
                let v = format!(r#"{{"i":{i}}}"#);
                let record: rdkafka::producer::FutureRecord<'_, str, str> =
                    rdkafka::producer::FutureRecord::to(&topic)
                        .partition(p)
                        .payload(&v);
                deliveries.push(producer.send_result(record).map_err(|(e, _)| e).unwrap());
                sent.push((p, v));
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        for d in deliveries {
            d.await.unwrap().map_err(|(e, _)| e).unwrap();
        }
        sent
    })
}

/// `(partition, offsets)` of the rows of a `kafka`-PK-mode table.
fn offsets_by_partition(topic: &str, rows: &[Row]) -> BTreeMap<i32, BTreeSet<i64>> {
    let mut out: BTreeMap<i32, BTreeSet<i64>> = BTreeMap::new();
    for r in rows {
        let (p, o) = coordinates(topic, r);
        out.entry(p).or_default().insert(o);
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_mid_stream_drains_commits_only_written_offsets_and_exits_zero() {
    let dir = tempfile::tempdir().unwrap();
    let broker = Broker::start();
    // Every request takes 10 ms, so writes are in flight when SIGTERM
    // arrives; messages keep arriving until after the sink has exited.
    let emu = common::emulator_with(
        &dir.path().join("ts"),
        tablestore_sink::emulator::Faults {
            latency: Duration::from_millis(10),
            ..Default::default()
        },
    )
    .await;
    let client = common::client(&emu);
    let topic = common::unique("term");
    broker.create_topic(&topic, 3).await;
    let stop_stream = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let stream = spawn_stream(&broker, &topic, stop_stream.clone());
    let drain_timeout = Duration::from_millis(1900);
    let cfg = config(
        "term",
        &broker.bootstrap(),
        &topic,
        &emu.endpoint(),
        "term",
        &format!("drain_timeout_ms = {}", drain_timeout.as_millis()),
        "[writer]\nmax_batch_rows = 20\nmax_in_flight_requests = 2\n",
    );
    let sink = SinkProcess::start(dir.path(), "sink", &cfg);
    until("some rows", &[&sink], || async {
        (common::all_rows(&client, "term", KAFKA_PK).await.len() >= 300).then_some(())
    })
    .await;
    let stopping = Instant::now();
    let log_path = sink.log.clone();
    let status = sink.stop();
    let took = stopping.elapsed();
    tokio::time::sleep(Duration::from_millis(300)).await;
    stop_stream.store(true, std::sync::atomic::Ordering::Release);
    let sent = stream.await.unwrap();
    let log = std::fs::read_to_string(&log_path).unwrap();
    assert!(status.success(), "exit status {status:?}:\n{log}");
    // Bounded: the drain timeout, plus teardown (commit, producer flush).
    assert!(
        took < drain_timeout + Duration::from_secs(2),
        "exit took {took:?}, drain timeout {drain_timeout:?}:\n{log}"
    );
    assert!(log.contains("sink stopped cleanly"), "{log}");

    let rows = common::all_rows(&client, "term", KAFKA_PK).await;
    assert!(
        rows.len() < sent.len(),
        "SIGTERM came mid-stream ({} rows of {})",
        rows.len(),
        sent.len()
    );
    let mut written = offsets_by_partition(&topic, &rows);
    let committed = broker.committed("connect-term", &topic, 3);
    for p in 0..3 {
        let offsets = written.remove(&p).unwrap_or_default();
        let n = offsets.len() as i64;
        assert_eq!(
            committed[p as usize].unwrap_or(0),
            n,
            "partition {p}: committed offset = rows written ({n}); committed {committed:?}\n{log}"
        );
        assert_eq!(
            offsets,
            (0..n).collect::<BTreeSet<_>>(),
            "partition {p}: rows are exactly the committed prefix"
        );
    }
    // Everything written is what was produced.
    let expected = expected_rows(&sent);
    for r in &rows {
        let key = coordinates(&topic, r);
        assert_eq!(
            r.latest("i"),
            Some(&Value::String(expected[&key].clone())),
            "{key:?}"
        );
    }
}

/// A backlog far larger than `max_in_flight_bytes` (1 MiB): partitions
/// pause and resume, in-flight bytes stay bounded, and everything lands.
/// Partition 2 has large messages, so its chunks are larger than the
/// others'. (Regression: chunks were converted and written before their
/// bytes were taken, underflowing the budget and stalling every
/// partition.)
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_backlog_larger_than_the_in_flight_budget_is_delivered_with_bounded_memory() {
    let dir = tempfile::tempdir().unwrap();
    let broker = Broker::start();
    let emu = common::emulator_with(
        &dir.path().join("ts"),
        tablestore_sink::emulator::Faults {
            latency: Duration::from_millis(20),
            ..Default::default()
        },
    )
    .await;
    let client = common::client(&emu);
    let topic = common::unique("backlog");
    broker.create_topic(&topic, 3).await;
    let mut msgs = Vec::new();
    for i in 0..20_000usize {
        msgs.push((
            (i % 2) as i32,
            format!(r#"{{"i":{i},"pad":"{}"}}"#, "x".repeat(50)),
        ));
    }
    for i in 20_000..21_500usize {
        msgs.push((2, format!(r#"{{"i":{i},"pad":"{}"}}"#, "x".repeat(4000))));
    }
    produce(&broker, &topic, &msgs).await;
    let limit = 1_048_576.0_f64;
    // The budget lets one chunk (at most 500 messages) exceed the limit
    // when nothing else is in flight.
    let largest_chunk = 500.0 * (4100.0 + 128.0);
    let metrics_port = common::broker::free_port();
    let cfg = config(
        "backlog",
        &broker.bootstrap(),
        &topic,
        &emu.endpoint(),
        "backlog",
        "",
        &format!(
            "[writer]\nmax_batch_rows = 20\nmax_in_flight_requests = 2\nmax_in_flight_bytes = {limit}\nmax_batch_bytes = {limit}\n\n[metrics]\nlisten = \"127.0.0.1:{metrics_port}\"\n"
        ),
    );
    let sink = SinkProcess::start(dir.path(), "sink", &cfg);
    let most_in_flight = std::sync::Arc::new(std::sync::Mutex::new(0.0_f64));
    let total = msgs.len();
    let rows = until("every row of the backlog", &[&sink], || {
        let client = &client;
        let most = most_in_flight.clone();
        async move {
            let url = format!("http://127.0.0.1:{metrics_port}/metrics");
            if let Ok(r) = reqwest::get(url).await {
                let text = r.text().await.unwrap_or_default();
                for s in tablestore_sink::metrics::scrape::parse(&text) {
                    if s.name == "tablestore_sink_in_flight_bytes" {
                        let mut m = most.lock().unwrap();
                        *m = m.max(s.value);
                    }
                }
            }
            let rows = common::all_rows(client, "backlog", KAFKA_PK).await;
            (rows.len() >= total).then_some(rows)
        }
    })
    .await;
    let most_in_flight = *most_in_flight.lock().unwrap();
    assert_rows_exactly(&topic, &rows, &expected_rows(&msgs));
    assert!(
        most_in_flight <= f64::max(limit, largest_chunk),
        "in-flight bytes reached {most_in_flight}, budget {limit}"
    );
    let log = sink.log_text();
    assert!(!log.contains("panicked"), "{log}");
    assert!(sink.stop().success(), "{log}");
    assert_eq!(
        broker.committed("connect-backlog", &topic, 3),
        vec![Some(10_000), Some(10_000), Some(1500)]
    );
}
