//! The product page's semantics end to end (issue 11, item 3), against the
//! real broker and the emulator: the page's own test message keeps both
//! columns and counts the clash, put with a column delete mode runs and
//! warns once, NANOSECONDS are truncated and field names lower-cased, a
//! missing source topic is waited for (or fails fast), and `manual`
//! resources require the consumer group.

mod common;

use std::process::Command;
use std::time::{Duration, Instant};

use common::broker::{free_port, Broker};
use common::sink::{binary, config, SinkProcess};
use rdkafka::consumer::{BaseConsumer, Consumer};
use tablestore_sink::metrics::{names, scrape};
use tablestore_sink::tablestore::flatrows::{FieldValue, SeriesKey};
use tablestore_sink::tablestore::plainbuffer::Value;

const WAIT: Duration = Duration::from_secs(60);

fn s(v: &str) -> Value {
    Value::String(v.into())
}

async fn metric(port: u16, name: &str, labels: &[(&str, &str)]) -> Option<f64> {
    let text = reqwest::get(format!("http://127.0.0.1:{port}/metrics"))
        .await
        .ok()?
        .text()
        .await
        .ok()?;
    let samples = scrape::parse(&text);
    samples
        .iter()
        .any(|x| {
            x.name == name
                && labels
                    .iter()
                    .all(|(k, v)| x.labels.get(*k).map(String::as_str) == Some(*v))
        })
        .then(|| scrape::sum(&samples, name, labels))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_pages_test_message_keeps_both_columns_and_counts_the_clash() {
    let dir = tempfile::tempdir().unwrap();
    let broker = Broker::start();
    let emu = common::emulator(&dir.path().join("ts")).await;
    let client = common::client(&emu);
    let topic = common::unique("page");
    broker.create_topic(&topic, 1).await;
    let port = free_port();
    let cfg = config(
        "page",
        &broker.bootstrap(),
        &topic,
        &emu.endpoint(),
        "page_rows",
        "",
        &format!(
            "[wide_column]\nkey_format = \"string\"\n\n[metrics]\nlisten = \"127.0.0.1:{port}\"\n"
        ),
    );
    let sink = SinkProcess::start(dir.path(), "sink", &cfg);
    let clashes = |kind: &'static str| {
        let topic = topic.clone();
        move || {
            let topic = topic.clone();
            async move {
                metric(
                    port,
                    names::FIELD_CLASHES,
                    &[("topic", topic.as_str()), ("kind", kind)],
                )
                .await
            }
        }
    };
    // The series exist at zero before any clash.
    let zero = common::eventually(WAIT, "the clash series", clashes("key_value")).await;
    assert_eq!(zero, 0.0);
    assert_eq!(
        common::eventually(WAIT, "the clash series", clashes("primary_key")).await,
        0.0
    );

    // The page's "Test" button: key demo, content {"key": "test"}.
    let path = dir.path().join("sink.toml");
    let out = Command::new(binary())
        .args([
            "send",
            "--key",
            "demo",
            "--value",
            r#"{"key": "test"}"#,
            "--config",
        ])
        .arg(&path)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let rows = common::eventually(WAIT, "the row", || async {
        let rows = common::all_rows(&client, "page_rows", &["topic_partition", "offset"]).await;
        (!rows.is_empty()).then_some(rows)
    })
    .await;
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].latest("key"), Some(&s("test")), "{:?}", rows[0]);
    assert_eq!(rows[0].latest("key_key"), Some(&s("demo")), "{:?}", rows[0]);
    common::eventually(WAIT, "the clash counted", || async {
        (clashes("key_value")().await == Some(1.0)).then_some(())
    })
    .await;
    assert!(sink.stop().success());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn put_with_a_column_delete_mode_runs_and_warns_once() {
    let dir = tempfile::tempdir().unwrap();
    let broker = Broker::start();
    let emu = common::emulator(&dir.path().join("ts")).await;
    let client = common::client(&emu);
    let topic = common::unique("putcol");
    broker.create_topic(&topic, 1).await;
    broker
        .produce(
            &topic,
            &[
                (0, Some("k1"), Some(r#"{"a":1,"b":2}"#)),
                // All null with put: the row is overwritten by its key alone.
                (0, Some("k1"), Some(r#"{"a":null,"b":null}"#)),
                (0, Some("k2"), Some(r#"{"a":1,"gone":null}"#)),
                // "column" has no row part: a tombstone is dead-lettered.
                (0, Some("k2"), None),
            ],
        )
        .await;
    let cfg = config(
        "putcol",
        &broker.bootstrap(),
        &topic,
        &emu.endpoint(),
        "putcol",
        "",
        "[wide_column]\nkey_format = \"string\"\nprimary_key_mode = \"record_key\"\n\
         primary_key = [{ name = \"id\", type = \"string\" }]\nwrite_mode = \"put\"\ndelete_mode = \"column\"\n",
    );
    let sink = SinkProcess::start(dir.path(), "sink", &cfg);
    let dead = tokio::task::block_in_place(|| broker.read_all("connect-error-putcol", 1, WAIT));
    assert_eq!(dead.len(), 1);
    let rows = common::all_rows(&client, "putcol", &["id"]).await;
    assert_eq!(rows.len(), 2, "{rows:?}");
    assert!(
        rows[0].cells.is_empty(),
        "k1 is its key alone: {:?}",
        rows[0]
    );
    assert_eq!(rows[1].latest("a"), Some(&s("1")));
    assert_eq!(rows[1].latest("gone"), None);
    let log = sink.log_text();
    assert_eq!(
        log.matches("the column part has no effect").count(),
        1,
        "warned once:\n{log}"
    );
    assert!(sink.stop().success());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nanoseconds_are_truncated_and_field_names_lower_cased() {
    let dir = tempfile::tempdir().unwrap();
    let broker = Broker::start();
    let emu = common::emulator(&dir.path().join("ts")).await;
    let client = common::client(&emu);
    let topic = common::unique("nanos");
    broker.create_topic(&topic, 1).await;
    broker
        .produce(
            &topic,
            &[(
                0,
                None,
                Some(r#"{"metric":"cpu","ts":1700000000123456789,"CpuUsage":0.5,"Cores":8}"#),
            )],
        )
        .await;
    let cfg = config(
        "nanos",
        &broker.bootstrap(),
        &topic,
        &emu.endpoint(),
        "nanos",
        "",
        "[timeseries]\nmetric_name_field = \"metric\"\ntimestamp_field = \"ts\"\ntimestamp_unit = \"NANOSECONDS\"\n\
         fields = [{ name = \"Cores\", type = \"integer\" }]\n",
    )
    .replace("table = \"nanos\"\n", "table = \"nanos\"\nmodel = \"timeseries\"\n");
    let sink = SinkProcess::start(dir.path(), "sink", &cfg);
    let key = SeriesKey {
        measurement: "cpu".into(),
        data_source: String::new(),
        tags: Default::default(),
    };
    let points = common::eventually(WAIT, "the point", || async {
        let p = client
            .get_timeseries_data("nanos", &key, 0, i64::MAX, 10)
            .await
            .unwrap_or_default();
        (!p.is_empty()).then_some(p)
    })
    .await;
    assert_eq!(points[0].time_us, 1_700_000_000_123_456);
    let mut fields = points[0].fields.clone();
    fields.sort_by(|a, b| a.0.cmp(&b.0));
    assert_eq!(
        fields,
        vec![
            ("cores".to_owned(), FieldValue::Long(8)),
            ("cpuusage".to_owned(), FieldValue::Double(0.5)),
        ]
    );
    assert!(sink.stop().success());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_missing_source_topic_is_waited_for_then_consumed() {
    let dir = tempfile::tempdir().unwrap();
    let broker = Broker::start();
    let emu = common::emulator(&dir.path().join("ts")).await;
    let client = common::client(&emu);
    let topic = common::unique("late");
    let cfg = config(
        "late",
        &broker.bootstrap(),
        &topic,
        &emu.endpoint(),
        "late",
        "",
        "",
    );
    let mut sink = SinkProcess::start(dir.path(), "sink", &cfg);
    let waiting = format!("source topic {topic:?} does not exist yet; waiting for it");
    // A clear line every few seconds, and still running.
    let started = Instant::now();
    while sink.log_text().matches(&waiting).count() < 2 {
        assert!(sink.is_running(), "exited:\n{}", sink.log_text());
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "no repeated wait line:\n{}",
            sink.log_text()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(sink.is_running());
    broker.create_topic(&topic, 2).await;
    broker
        .produce(
            &topic,
            &[
                (0, None, Some(r#"{"a":"1"}"#)),
                (1, None, Some(r#"{"a":"2"}"#)),
            ],
        )
        .await;
    common::eventually(WAIT, "both rows", || async {
        (common::all_rows(&client, "late", &["topic_partition", "offset"])
            .await
            .len()
            == 2)
            .then_some(())
    })
    .await;
    assert!(sink.log_text().contains("source topic exists"));
    assert!(sink.stop().success());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_missing_source_topic_fails_fast_when_told_to() {
    let dir = tempfile::tempdir().unwrap();
    let broker = Broker::start();
    let emu = common::emulator(&dir.path().join("ts")).await;
    let topic = common::unique("absent");
    let cfg = config(
        "absent",
        &broker.bootstrap(),
        &topic,
        &emu.endpoint(),
        "absent",
        "on_missing_topic = \"fail\"",
        "",
    );
    let (status, log) = SinkProcess::start(dir.path(), "sink", &cfg).wait_exit(WAIT);
    assert!(!status.success(), "{log}");
    assert!(
        log.contains(&format!("source topic {topic:?} does not exist"))
            && log.contains("kafka.on_missing_topic = \"wait\""),
        "{log}"
    );
}

fn group_exists(broker: &Broker, group: &str) -> bool {
    let c: BaseConsumer = broker.client_config().create().unwrap();
    c.fetch_group_list(Some(group), Duration::from_secs(10))
        .unwrap()
        .groups()
        .iter()
        .any(|g| g.name() == group && g.state() != "Dead")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn manual_resources_require_the_consumer_group_and_auto_creates_it_by_joining() {
    let dir = tempfile::tempdir().unwrap();
    let broker = Broker::start();
    let emu = common::emulator(&dir.path().join("ts")).await;
    let client = common::client(&emu);
    let topic = common::unique("grp");
    broker.create_topic(&topic, 1).await;
    broker
        .produce(&topic, &[(0, None, Some(r#"{"a":"1"}"#))])
        .await;
    let name = "grp-manual";
    for (t, n, compact) in [
        (format!("connect-offset-{name}"), 6, true),
        (format!("connect-config-{name}"), 1, true),
        (format!("connect-status-{name}"), 6, true),
        (format!("connect-error-{name}"), 6, false),
    ] {
        if compact {
            broker
                .create_topic_with(&t, n, &[("cleanup.policy", "compact")])
                .await;
        } else {
            broker.create_topic(&t, n).await;
        }
    }
    let cfg = config(
        name,
        &broker.bootstrap(),
        &topic,
        &emu.endpoint(),
        "grp_manual",
        "resource_creation = \"manual\"",
        "",
    );
    let group = format!("connect-{name}");
    let (status, log) = SinkProcess::start(dir.path(), "first", &cfg).wait_exit(WAIT);
    assert!(!status.success(), "{log}");
    assert!(
        log.contains(&format!("consumer group {group:?} does not exist"))
            && log.contains("Create Group")
            && log.contains("kafka-consumer-groups.sh"),
        "{log}"
    );
    // Created as the message says (committing its starting offsets): starts.
    broker.create_group(&group, &topic, 1);
    let sink = SinkProcess::start(dir.path(), "second", &cfg);
    common::eventually(WAIT, "the row", || async {
        (common::all_rows(&client, "grp_manual", &["topic_partition", "offset"])
            .await
            .len()
            == 1)
            .then_some(())
    })
    .await;
    assert!(sink.stop().success());

    // auto: a missing group is created by the sink's join.
    let auto_cfg = config(
        "grp-auto",
        &broker.bootstrap(),
        &topic,
        &emu.endpoint(),
        "grp_auto",
        "",
        "",
    );
    assert!(!group_exists(&broker, "connect-grp-auto"));
    let sink = SinkProcess::start(dir.path(), "auto", &auto_cfg);
    common::eventually(WAIT, "the row", || async {
        (common::all_rows(&client, "grp_auto", &["topic_partition", "offset"])
            .await
            .len()
            == 1)
            .then_some(())
    })
    .await;
    // (The broker lists a group once it has committed offsets.)
    common::eventually(WAIT, "the group to exist", || async {
        tokio::task::block_in_place(|| group_exists(&broker, "connect-grp-auto")).then_some(())
    })
    .await;
    assert!(sink.log_text().contains("joining it creates it"));
    assert!(sink.stop().success());
}
