//! Rebalances that used to lose or wedge data, each against a real broker
//! and the emulator:
//! * 48 partitions assigned to one consumer at once are all read;
//! * messages that reach the consumer's main queue (a split made after
//!   the first fetch) are rewound to, not dropped;
//! * a partition stopped by the `stop` policy stops again at the same
//!   record after every reassignment, and says FAILED;
//! * a revoked partition's retrying writes are cancelled, so they cannot
//!   overwrite what its next owner wrote;
//! * a partition assigned back to the consumer whose old actor still holds
//!   its queue is read (the old handle used to switch the new one's
//!   wake-ups off).

mod common;

use std::collections::BTreeSet;
use std::time::Duration;

use common::broker::Broker;
use common::ingest::*;
use common::sink::{config, SinkProcess};
use tablestore_sink::fault_gateway::{FaultGateway, FaultPlan};
use tablestore_sink::tablestore::plainbuffer::{PkValue, Value};

/// What a finished run keeps alive until the test's last check.
struct Run {
    _dir: tempfile::TempDir,
    _broker: Broker,
    _emulator: tablestore_sink::emulator::Emulator,
    sink: SinkProcess,
}

/// A prefilled topic of `count` numbered messages over `partitions`, one
/// sink (with `env`), and the clean verdict: exact rows, no dead letters,
/// commits at the end offsets.
async fn prefilled_run(name: &str, partitions: i32, count: usize, env: &[(&str, &str)]) -> Run {
    let dir = tempfile::tempdir().unwrap();
    let broker = Broker::start();
    let emu = common::emulator(&dir.path().join("ts")).await;
    let client = common::client(&emu);
    let topic = common::unique(name);
    broker.create_topic(&topic, partitions).await;
    let msgs = numbered(0, count, partitions, 0);
    let placed = produce(&broker, &topic, &msgs).await;
    let cfg = config(
        name,
        &broker.bootstrap(),
        &topic,
        &emu.endpoint(),
        name,
        "",
        "",
    );
    let sink = SinkProcess::start_with_env(dir.path(), "sink", &cfg, env);
    let rows = rows_at_least(&client, name, count, &[&sink]).await;
    let expected = expected_rows(&msgs);
    let names = Names::of(name);
    Verdict::defaults(
        &broker,
        &topic,
        partitions,
        &names,
        &expected,
        &BTreeSet::new(),
        &placed,
    )
    .check(&rows);
    Run {
        _dir: dir,
        _broker: broker,
        _emulator: emu,
        sink,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forty_eight_partitions_on_one_consumer_are_all_read_and_committed() {
    let run = prefilled_run("p48", 48, 4800, &[]).await;
    assert!(run.sink.stop().success());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn messages_that_reach_the_main_queue_are_rewound_to_not_lost() {
    // Split the partition queues 1.5 s after the assignment: librdkafka
    // has fetched by then, and those messages sit on the main queue.
    let run = prefilled_run(
        "stray",
        6,
        1800,
        &[("TABLESTORE_SINK_FAULT_LATE_SPLIT_MS", "1500")],
    )
    .await;
    let sink = run.sink;
    let log = sink.log_text();
    assert!(
        log.contains("message arrived on the main queue"),
        "the fault did not happen, so this run proves nothing:\n{}",
        tail(&log, 40)
    );
    assert!(sink.stop().success());
}

/// The FAILED records of the status topic for `partition`, and whether a
/// REVOKED followed the first of them.
fn failures_of(
    broker: &Broker,
    status_topic: &str,
    topic: &str,
    partition: i64,
) -> (Vec<(i64, String)>, bool) {
    let (_, all) = last_status(broker, status_topic, topic);
    let mut mine: Vec<&serde_json::Value> =
        all.iter().filter(|s| s["partition"] == partition).collect();
    mine.sort_by_key(|s| s["timestamp_ms"].as_i64());
    let failed: Vec<(i64, String)> = mine
        .iter()
        .filter(|s| s["state"] == "FAILED")
        .map(|s| {
            (
                s["offset"].as_i64().unwrap(),
                s["worker"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    let first_failed = mine.iter().position(|s| s["state"] == "FAILED");
    let revoked_after =
        first_failed.is_some_and(|i| mine[i..].iter().any(|s| s["state"] == "REVOKED"));
    (failed, revoked_after)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stopped_partition_stops_again_at_the_same_record_after_every_rebalance() {
    let dir = tempfile::tempdir().unwrap();
    let broker = Broker::start();
    let emu = common::emulator(&dir.path().join("ts")).await;
    let client = common::client(&emu);
    let topic = common::unique("stopreb");
    let partitions = 3;
    broker.create_topic(&topic, partitions).await;
    // Partition 1 has a bad record at offset 5.
    let mut msgs = numbered(0, 300, partitions, 0);
    msgs[3 * 5 + 1].1 = "not json".into();
    produce(&broker, &topic, &msgs).await;
    let name = "stopreb";
    let cfg = config(
        name,
        &broker.bootstrap(),
        &topic,
        &emu.endpoint(),
        name,
        "failure_policy = \"stop\"",
        "",
    );
    let status_topic = format!("connect-status-{name}");
    let a = SinkProcess::start(dir.path(), "a", &cfg);
    until("partition 1 FAILED", &[&a], || async {
        let (failed, _) = failures_of(&broker, &status_topic, &topic, 1);
        (!failed.is_empty()).then_some(())
    })
    .await;
    // A second process joins: every partition is revoked and assigned
    // again; then the first leaves, so the second owns all three.
    let b = SinkProcess::start(dir.path(), "b", &cfg);
    wait_log(&b, "partition assigned").await;
    assert!(a.stop().success());
    let (failed, revoked_after) = until("partition 1 FAILED by its new owner", &[&b], || async {
        let (failed, revoked_after) = failures_of(&broker, &status_topic, &topic, 1);
        let workers: BTreeSet<&String> = failed.iter().map(|(_, w)| w).collect();
        (workers.len() >= 2).then_some((failed.clone(), revoked_after))
    })
    .await;
    assert!(
        failed.iter().all(|(o, _)| *o == 5),
        "every owner stopped at offset 5: {failed:?}"
    );
    assert!(!revoked_after, "FAILED was overwritten by REVOKED");
    // Every other record is written: 100 + 100 + 5 rows.
    let rows = until("205 rows", &[&b], || async {
        let rows = common::all_rows(&client, name, KAFKA_PK).await;
        (rows.len() == 205).then_some(rows)
    })
    .await;
    let p1: BTreeSet<i64> = rows
        .iter()
        .map(|r| coordinates(&topic, r))
        .filter(|(p, _)| *p == 1)
        .map(|(_, o)| o)
        .collect();
    assert_eq!(
        p1,
        (0..5).collect(),
        "nothing after the bad record of partition 1"
    );
    let committed = broker.committed(&format!("connect-{name}"), &topic, partitions);
    assert_eq!(committed[1], Some(5), "the bad record is not committed");
    assert!(b.stop().success());
}

/// The `v` column of the row whose `id` is `key`.
async fn value_of(
    client: &tablestore_sink::tablestore::Client,
    table: &str,
    key: &str,
) -> Option<String> {
    let row = client
        .get_row(
            table,
            &[("id".to_owned(), PkValue::String(key.to_owned()))],
            &[],
            1,
        )
        .await
        .ok()??;
    match row.latest("v") {
        Some(Value::String(s)) => Some(s.clone()),
        _ => None,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_revoked_partitions_retrying_writes_never_land_after_its_next_owners() {
    let dir = tempfile::tempdir().unwrap();
    let broker = Broker::start();
    let emu = common::emulator(&dir.path().join("ts")).await;
    let client = common::client(&emu);
    let topic = common::unique("fence");
    broker.create_topic(&topic, 2).await;
    let keyed = "[wide_column]\nkey_format = \"string\"\nprimary_key_mode = \"record_key\"\nprimary_key = [{ name = \"id\", type = \"string\" }]\n\
                 [writer]\nretry_initial_ms = 20\nretry_max_ms = 200\npipeline_threads = 2\n";
    // Process A reaches Tablestore through a gateway that goes down once
    // A runs: its writes of the first values keep retrying.
    let down = FaultGateway::start(&emu.endpoint(), FaultPlan::none(), 3)
        .await
        .unwrap();
    let name = "fence";
    let cfg_a = config(
        name,
        &broker.bootstrap(),
        &topic,
        &down.endpoint(),
        name,
        "",
        keyed,
    );
    let a = SinkProcess::start(dir.path(), "a", &cfg_a);
    wait_log(&a, "partition assigned").await;
    down.set_plan(FaultPlan {
        outage: true,
        ..FaultPlan::none()
    });
    broker
        .produce(
            &topic,
            &[
                (0, Some("k0"), Some(r#"{"v":1}"#)),
                (1, Some("k1"), Some(r#"{"v":1}"#)),
            ],
        )
        .await;
    until("A retrying", &[&a], || async {
        (down.counts().refused >= 4).then_some(())
    })
    .await;
    // B joins with a healthy path: one partition moves to it (A's drain
    // times out: its writes are stuck), B writes the old value, then the
    // new one.
    let cfg_b = config(
        name,
        &broker.bootstrap(),
        &topic,
        &emu.endpoint(),
        name,
        "",
        keyed,
    );
    let b = SinkProcess::start(dir.path(), "b", &cfg_b);
    wait_log(&b, "partition assigned").await;
    let moved = until(
        "B wrote the old value of its partition",
        &[&a, &b],
        || async {
            for key in ["k0", "k1"] {
                if value_of(&client, name, key).await.as_deref() == Some("1") {
                    return Some(key);
                }
            }
            None
        },
    )
    .await;
    let partition = if moved == "k0" { 0 } else { 1 };
    broker
        .produce(&topic, &[(partition, Some(moved), Some(r#"{"v":2}"#))])
        .await;
    until("B wrote the new value", &[&a, &b], || async {
        (value_of(&client, name, moved).await.as_deref() == Some("2")).then_some(())
    })
    .await;
    // A's path comes back: whatever A still retried would land now.
    down.set_plan(FaultPlan::none());
    let other = if moved == "k0" { "k1" } else { "k0" };
    until("A writes the partition it kept", &[&a, &b], || async {
        value_of(&client, name, other).await.map(|_| ())
    })
    .await;
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert_eq!(
        value_of(&client, name, moved).await.as_deref(),
        Some("2"),
        "a revoked partition's stale write overwrote its next owner's:\n--- a ---\n{}",
        tail(&a.log_text(), 60)
    );
    assert!(a.stop().success());
    assert!(b.stop().success());
    down.stop().await;
}

/// The rows of `table` once there are at least `count`.
async fn rows_at_least(
    client: &tablestore_sink::tablestore::Client,
    table: &str,
    count: usize,
    sinks: &[&SinkProcess],
) -> Vec<tablestore_sink::tablestore::plainbuffer::Row> {
    until(&format!("{count} rows"), sinks, || async {
        let rows = common::all_rows(client, table, KAFKA_PK).await;
        (rows.len() >= count).then_some(rows)
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_partition_assigned_back_while_its_old_queue_is_out_is_still_read() {
    let dir = tempfile::tempdir().unwrap();
    let broker = Broker::start();
    let emu = common::emulator(&dir.path().join("ts")).await;
    let client = common::client(&emu);
    let name = "holdq";
    let topic = common::unique(name);
    let partitions = 2;
    broker.create_topic(&topic, partitions).await;
    let cfg = config(
        name,
        &broker.bootstrap(),
        &topic,
        &emu.endpoint(),
        name,
        "",
        "",
    );
    // A's stopped actors give their queues back 4 s late: longer than a
    // revoke waits for them (2 s), so each rebalance assigns A a partition
    // whose old handle is still out. The assignment comes at least those
    // 2 s and a group rejoin after the drop, and waits up to 2 s more: so
    // the handle is back within that wait, by about the rejoin's margin. (A silenced queue would still be read
    // at its actor's 5 s refresh, so the rows alone cannot tell; the log
    // says whether the new queue was split only after the old one was
    // back, and `lease::tests` shows the silence itself.)
    let a = SinkProcess::start_with_env(
        dir.path(),
        "a",
        &cfg,
        &[("TABLESTORE_SINK_FAULT_HOLD_QUEUE_MS", "4000")],
    );
    wait_log(&a, "partition assigned").await;
    let mut msgs = Vec::new();
    let mut placed = Vec::new();
    let round = |first: usize| numbered(first, 20, partitions, 0);
    let first = round(0);
    placed.extend(produce(&broker, &topic, &first).await);
    msgs.extend(first);
    rows_at_least(&client, name, 20, &[&a]).await;

    // B joins: A keeps one partition, on the consumer that had it.
    let b = SinkProcess::start(dir.path(), "b", &cfg);
    wait_log(&b, "partition assigned").await;
    let second = round(20);
    placed.extend(produce(&broker, &topic, &second).await);
    msgs.extend(second);
    rows_at_least(&client, name, 40, &[&a, &b]).await;

    // B leaves: A takes both back, the one it kept again with its old
    // handle out.
    assert!(b.stop().success());
    let third = round(40);
    placed.extend(produce(&broker, &topic, &third).await);
    msgs.extend(third);
    let rows = rows_at_least(&client, name, 60, &[&a]).await;

    let log = a.log_text();
    assert!(
        log.contains("previous queue is still out"),
        "the fault did not happen, so this run proves nothing:\n{}",
        tail(&log, 40)
    );
    assert!(
        !log.contains("its new queue may not wake"),
        "{}",
        tail(&log, 40)
    );
    let names = Names::of(name);
    Verdict::defaults(
        &broker,
        &topic,
        partitions,
        &names,
        &expected_rows(&msgs),
        &BTreeSet::new(),
        &placed,
    )
    .check(&rows);
    assert!(a.stop().success());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_stops_a_process_without_partitions_within_the_drain_timeout() {
    let dir = tempfile::tempdir().unwrap();
    let broker = Broker::start();
    let emu = common::emulator(&dir.path().join("ts")).await;
    let topic = common::unique("idle");
    broker.create_topic(&topic, 1).await;
    let cfg = config(
        "idle",
        &broker.bootstrap(),
        &topic,
        &emu.endpoint(),
        "idle",
        "",
        "",
    )
    .replace("consumer_concurrency = 1", "consumer_concurrency = 6");
    let first = SinkProcess::start(dir.path(), "first", &cfg);
    wait_log(&first, "partition assigned").await;
    let second = SinkProcess::start(dir.path(), "second", &cfg);
    wait_log(&second, "consumers subscribed").await;
    // Let its six consumers join the group; the one partition ends up
    // with one of the two processes.
    tokio::time::sleep(Duration::from_secs(6)).await;
    let owns = |s: &SinkProcess| {
        let log = s.log_text();
        log.rfind("partition assigned") > log.rfind("partitions revoked")
    };
    let (idle, busy) = match (owns(&first), owns(&second)) {
        (true, false) => (second, first),
        (false, true) => (first, second),
        other => panic!("expected exactly one owner, got {other:?}"),
    };
    let started = std::time::Instant::now();
    assert!(idle.stop().success());
    // The drain timeout is 1 s (half the 2 s session); closing six
    // consumers one after the other took 4.5 s.
    let took = started.elapsed();
    assert!(took < Duration::from_secs(3), "SIGTERM took {took:?}");
    assert!(busy.stop().success());
}
