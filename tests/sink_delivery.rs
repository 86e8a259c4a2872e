//! The sink end to end against a real broker (tansu) and the emulator:
//! every message lands exactly as a row, offsets are committed only after
//! the writes, bad messages go to the dead-letter topic (continue) or stop
//! only their partition (stop), and a crash loses nothing.

mod common;

use std::time::Duration;

use common::broker::{header, Broker};
use common::sink::{config, SinkProcess};
use rdkafka::Message;
use tablestore_sink::tablestore::plainbuffer::{PkValue, Value};

const WAIT: Duration = Duration::from_secs(60);

fn offset_of(row: &tablestore_sink::tablestore::plainbuffer::Row) -> (String, i64) {
    match (&row.primary_key[0].1, &row.primary_key[1].1) {
        (PkValue::String(tp), PkValue::Integer(o)) => (tp.clone(), *o),
        other => panic!("unexpected key {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kafka_mode_writes_every_message_and_commits_only_after_the_writes() {
    let dir = tempfile::tempdir().unwrap();
    let broker = Broker::start();
    let emu = common::emulator(&dir.path().join("ts")).await;
    let client = common::client(&emu);
    let topic = common::unique("orders");
    broker.create_topic(&topic, 3).await;
    let messages: Vec<(i32, Option<String>, Option<String>)> = (0..90)
        .map(|i| {
            (
                i % 3,
                Some(format!("k{i}")),
                Some(format!(r#"{{"n":{i},"name":"item-{i}","ok":true}}"#)),
            )
        })
        .collect();
    let refs: Vec<_> = messages
        .iter()
        .map(|(p, k, v)| (*p, k.as_deref(), v.as_deref()))
        .collect();
    broker.produce(&topic, &refs).await;

    let cfg = config("delivery", &broker.bootstrap(), &topic, &emu.endpoint(), "orders", "", "[wide_column]\nkey_format = \"string\"\njson_conversion = \"auto\"\nkeep_integers = true\n");
    let sink = SinkProcess::start(dir.path(), "sink", &cfg);
    let rows = common::eventually(WAIT, "90 rows", || async {
        let rows = common::all_rows(&client, "orders", &["topic_partition", "offset"]).await;
        (rows.len() == 90).then_some(rows)
    })
    .await;
    for row in &rows {
        let (tp, offset) = offset_of(row);
        let p: i32 = tp.rsplit('_').next().unwrap().parse().unwrap();
        assert_eq!(tp, format!("{topic}_{p}"));
        let i = offset * 3 + p as i64;
        assert_eq!(
            row.latest("n"),
            Some(&Value::Integer(i)),
            "integers kept as INTEGER"
        );
        assert_eq!(
            row.latest("name"),
            Some(&Value::String(format!("item-{i}")))
        );
        assert_eq!(row.latest("ok"), Some(&Value::Boolean(true)));
        assert_eq!(row.latest("key"), Some(&Value::String(format!("k{i}"))));
    }
    assert!(sink.stop().success());
    assert_eq!(
        broker.committed("connect-delivery", &topic, 3),
        vec![Some(30), Some(30), Some(30)]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn poison_messages_go_to_the_dead_letter_topic_with_their_bytes_and_reasons() {
    let dir = tempfile::tempdir().unwrap();
    let broker = Broker::start();
    let emu = common::emulator(&dir.path().join("ts")).await;
    let client = common::client(&emu);
    let topic = common::unique("mixed");
    broker.create_topic(&topic, 2).await;
    broker
        .produce(
            &topic,
            &[
                (0, Some("a"), Some(r#"{"v":1}"#)),
                (0, Some("b"), Some("not json {")),
                (0, Some("c"), Some(r#"{"v":3}"#)),
                (1, Some("d"), Some(r#"[1,2]"#)),
                (1, Some("e"), Some(r#"{"v":5}"#)),
            ],
        )
        .await;
    let cfg = config(
        "dlq",
        &broker.bootstrap(),
        &topic,
        &emu.endpoint(),
        "mixed",
        "",
        "[wide_column]\nkey_format = \"string\"\n",
    );
    let sink = SinkProcess::start(dir.path(), "sink", &cfg);
    let rows = common::eventually(WAIT, "3 good rows", || async {
        let rows = common::all_rows(&client, "mixed", &["topic_partition", "offset"]).await;
        (rows.len() == 3).then_some(rows)
    })
    .await;
    let keys: Vec<_> = rows.iter().map(offset_of).collect();
    assert_eq!(
        keys,
        vec![
            (format!("{topic}_0"), 0),
            (format!("{topic}_0"), 2),
            (format!("{topic}_1"), 1)
        ]
    );
    assert_eq!(
        rows[0].latest("v"),
        Some(&Value::String("1".into())),
        "json_conversion = string by default"
    );

    let dead = broker.read_all("connect-error-dlq", 2, WAIT);
    assert_eq!(dead.len(), 2, "both bad messages are dead-lettered");
    let mut dead: Vec<_> = dead.iter().collect();
    dead.sort_by_key(|m| header(m, "tablestore_sink.source.partition").map(str::to_owned));
    let bad_json = dead[0];
    assert_eq!(bad_json.key(), Some(&b"b"[..]));
    assert_eq!(
        bad_json.payload(),
        Some(&b"not json {"[..]),
        "original bytes kept"
    );
    assert_eq!(
        header(bad_json, "trace"),
        Some("t-1"),
        "original headers kept"
    );
    assert_eq!(
        header(bad_json, "tablestore_sink.error.stage"),
        Some("convert")
    );
    assert_eq!(
        header(bad_json, "tablestore_sink.source.topic"),
        Some(topic.as_str())
    );
    assert_eq!(header(bad_json, "tablestore_sink.source.offset"), Some("1"));
    assert!(
        header(bad_json, "tablestore_sink.error.reason")
            .unwrap()
            .contains("JSON"),
        "{:?}",
        header(bad_json, "tablestore_sink.error.reason")
    );
    assert_eq!(dead[1].payload(), Some(&b"[1,2]"[..]));
    assert!(sink.stop().success());
    // Dead-lettered offsets are committed too: the partition goes on.
    assert_eq!(
        broker.committed("connect-dlq", &topic, 2),
        vec![Some(3), Some(2)]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stop_policy_stops_only_the_bad_partition_at_the_bad_message() {
    let dir = tempfile::tempdir().unwrap();
    let broker = Broker::start();
    let emu = common::emulator(&dir.path().join("ts")).await;
    let client = common::client(&emu);
    let topic = common::unique("strict");
    broker.create_topic(&topic, 2).await;
    let mut msgs: Vec<(i32, Option<&str>, Option<&str>)> = Vec::new();
    for i in 0..10 {
        msgs.push((
            0,
            None,
            Some(if i == 4 { "{broken" } else { r#"{"ok":1}"# }),
        ));
        msgs.push((1, None, Some(r#"{"ok":1}"#)));
    }
    broker.produce(&topic, &msgs).await;
    let cfg = config(
        "strict",
        &broker.bootstrap(),
        &topic,
        &emu.endpoint(),
        "strict",
        "failure_policy = \"stop\"",
        "",
    );
    let sink = SinkProcess::start(dir.path(), "sink", &cfg);
    let rows = common::eventually(WAIT, "14 rows", || async {
        let rows = common::all_rows(&client, "strict", &["topic_partition", "offset"]).await;
        (rows.len() == 14).then_some(rows)
    })
    .await;
    let p0: Vec<i64> = rows
        .iter()
        .map(offset_of)
        .filter(|(tp, _)| tp.ends_with("_0"))
        .map(|(_, o)| o)
        .collect();
    assert_eq!(p0, vec![0, 1, 2, 3], "partition 0 stops at the bad message");
    let status = broker.read_all("connect-status-strict", 3, WAIT);
    let failed: Vec<serde_json::Value> = status
        .iter()
        .filter_map(|m| serde_json::from_slice::<serde_json::Value>(m.payload()?).ok())
        .filter(|s| s["state"] == "FAILED")
        .collect();
    assert_eq!(failed.len(), 1, "{status:?}");
    assert_eq!(
        (
            failed[0]["partition"].as_i64(),
            failed[0]["offset"].as_i64()
        ),
        (Some(0), Some(4))
    );
    assert!(failed[0]["reason"].as_str().unwrap().contains("JSON"));
    // Messages keep flowing on the healthy partition.
    broker
        .produce(&topic, &[(1, None, Some(r#"{"ok":2}"#))])
        .await;
    common::eventually(WAIT, "the new row on partition 1", || async {
        (common::all_rows(&client, "strict", &["topic_partition", "offset"])
            .await
            .len()
            == 15)
            .then_some(())
    })
    .await;
    assert!(sink.stop().success());
    assert_eq!(
        broker.committed("connect-strict", &topic, 2),
        vec![Some(4), Some(11)],
        "the bad offset is not committed"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_crash_mid_stream_followed_by_a_restart_loses_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let broker = Broker::start();
    // 50 ms per request: the first sink cannot finish before it is killed.
    let faults = tablestore_sink::emulator::Faults {
        latency: Duration::from_millis(50),
        throttle_rate: 0.0,
    };
    let emu = common::emulator_with(&dir.path().join("ts"), faults).await;
    let client = common::client(&emu);
    let topic = common::unique("crash");
    broker.create_topic(&topic, 3).await;
    let total = 6_000;
    let values: Vec<String> = (0..total)
        .map(|i| format!(r#"{{"i":{i},"pad":"{}"}}"#, "x".repeat(100)))
        .collect();
    let msgs: Vec<_> = values
        .iter()
        .enumerate()
        .map(|(i, v)| ((i % 3) as i32, None, Some(v.as_str())))
        .collect();
    broker.produce(&topic, &msgs[..total / 2]).await;
    let cfg = config(
        "crash",
        &broker.bootstrap(),
        &topic,
        &emu.endpoint(),
        "crash",
        "",
        "[writer]\nmax_batch_rows = 50\nmax_in_flight_requests = 2\n",
    );
    let sink = SinkProcess::start(dir.path(), "sink", &cfg);
    common::eventually(WAIT, "some rows", || async {
        (!common::all_rows(&client, "crash", &["topic_partition", "offset"])
            .await
            .is_empty())
        .then_some(())
    })
    .await;
    broker.produce(&topic, &msgs[total / 2..]).await;
    sink.kill9();
    let before_restart = common::all_rows(&client, "crash", &["topic_partition", "offset"])
        .await
        .len();
    assert!(
        before_restart < total,
        "the crash happened mid-stream ({before_restart} of {total} rows written)"
    );
    let sink = SinkProcess::start(dir.path(), "sink2", &cfg);
    let rows = common::eventually(WAIT, "every row after the restart", || async {
        let rows = common::all_rows(&client, "crash", &["topic_partition", "offset"]).await;
        (rows.len() == total).then_some(rows)
    })
    .await;
    let mut seen: Vec<i64> = rows
        .iter()
        .map(|r| match r.latest("i") {
            Some(Value::String(s)) => s.parse().unwrap(),
            other => panic!("{other:?}"),
        })
        .collect();
    seen.sort();
    assert_eq!(
        seen,
        (0..total as i64).collect::<Vec<_>>(),
        "no holes, no duplicates (kafka PK mode rewrites the same rows)"
    );
    assert!(sink.stop().success());
}
