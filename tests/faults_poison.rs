//! Poison messages of every kind, including ones larger than Kafka's
//! default record limit: each goes to the dead-letter topic exactly as
//! itself (or, when it cannot fit there, cut to fit with its source
//! coordinates and a header saying so), the partition goes on, and the
//! commits reach the end. An error record never wedges its partition.

mod common;

use std::collections::{BTreeMap, BTreeSet};

use common::broker::{header, Broker};
use common::ingest::*;
use common::sink::{config, SinkProcess};
use rdkafka::Message;

const MIB: usize = 1024 * 1024;

/// The poison of this suite, by name: every one fails conversion.
fn poisons() -> Vec<(&'static str, Vec<u8>)> {
    let wide: String = (0..1100)
        .map(|i| format!("\"c{i}\":1"))
        .collect::<Vec<_>>()
        .join(",");
    vec![
        ("not json", b"this is not JSON {".to_vec()),
        ("array", b"[1,2,3]".to_vec()),
        (
            "invalid utf-8",
            vec![b'{', b'"', b'a', b'"', b':', b'"', 0xff, 0xfe, b'"', b'}'],
        ),
        ("bad column name", br#"{"no spaces allowed": 1}"#.to_vec()),
        ("too many columns", format!("{{{wide}}}").into_bytes()),
        (
            "2.5 MiB attribute",
            format!(r#"{{"i":1,"blob":"{}"}}"#, "b".repeat(5 * MIB / 2)).into_bytes(),
        ),
        ("1.5 MB garbage", vec![b'#'; 3 * MIB / 2]),
    ]
}

/// Runs 600 healthy messages with the poison spread over 3 partitions;
/// returns the dead-letter records by source.
async fn run(
    dead_letter_limit: Option<usize>,
) -> BTreeMap<(i32, i64), rdkafka::message::OwnedMessage> {
    let dir = tempfile::tempdir().unwrap();
    let broker = Broker::start();
    let emu = common::emulator(&dir.path().join("ts")).await;
    let client = common::client(&emu);
    let topic = common::unique("poison");
    let partitions = 3;
    broker.create_topic(&topic, partitions).await;
    let name = format!("poison{}", dead_letter_limit.map_or(0, |l| l / MIB));
    let dead_letter_topic = format!("connect-error-{name}");
    if let Some(limit) = dead_letter_limit {
        broker
            .create_topic_with(
                &dead_letter_topic,
                6,
                &[("max.message.bytes", &limit.to_string())],
            )
            .await;
    }
    let healthy = numbered(0, 600, partitions, 0);
    let mut placed = Vec::new();
    let mut bad = BTreeSet::new();
    let mut healthy_at = Vec::new();
    for (n, (label, poison)) in poisons().into_iter().enumerate() {
        let chunk = &healthy[n * 60..(n + 1) * 60];
        let at = produce(&broker, &topic, chunk).await;
        healthy_at.extend(at.iter().copied().zip(chunk.iter().cloned()));
        placed.extend(at);
        let p = (n % 3) as i32;
        let at = broker
            .produce_bytes(&topic, &[(p, Some(label.as_bytes()), Some(&poison))])
            .await;
        bad.insert(at[0]);
        placed.extend(at);
    }
    let rest = &healthy[420..];
    let at = produce(&broker, &topic, rest).await;
    healthy_at.extend(at.iter().copied().zip(rest.iter().cloned()));
    placed.extend(at);
    let expected: BTreeMap<(i32, i64), String> = healthy_at
        .iter()
        .map(|(at, (_, v))| {
            let json: serde_json::Value = serde_json::from_str(v).unwrap();
            (*at, json["i"].to_string())
        })
        .collect();

    let cfg = config(
        &name,
        &broker.bootstrap(),
        &topic,
        &emu.endpoint(),
        "poison",
        "",
        "",
    );
    let sink = SinkProcess::start(dir.path(), "sink", &cfg);
    let rows = until("600 rows", &[&sink], || async {
        let rows = common::all_rows(&client, "poison", KAFKA_PK).await;
        (rows.len() >= 600).then_some(rows)
    })
    .await;
    until("7 dead letters", &[&sink], || async {
        let dead = read_everything(
            &broker,
            &dead_letter_topic,
            std::time::Duration::from_millis(500),
        );
        let sources: BTreeSet<_> = sources_of(&dead).into_iter().collect();
        (sources == bad).then_some(())
    })
    .await;
    Verdict {
        broker: &broker,
        topic: &topic,
        partitions,
        group: &format!("connect-{name}"),
        dead_letter_topic: &dead_letter_topic,
        error_topic: &dead_letter_topic,
        rows: &expected,
        dead: &bad,
        end: end_offsets(&placed, partitions),
    }
    .check(&rows);
    assert!(sink.stop().success());
    read_everything(
        &broker,
        &dead_letter_topic,
        std::time::Duration::from_secs(1),
    )
    .into_iter()
    .map(|m| {
        let at = sources_of(std::slice::from_ref(&m))[0];
        (at, m)
    })
    .collect()
}

fn by_label(
    dead: &BTreeMap<(i32, i64), rdkafka::message::OwnedMessage>,
    label: &str,
) -> rdkafka::message::OwnedMessage {
    dead.values()
        .find(|m| m.key() == Some(label.as_bytes()))
        .unwrap_or_else(|| panic!("no dead letter for {label}"))
        .clone()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn poison_larger_than_the_topic_limit_is_dead_lettered_cut_to_fit() {
    let dead = run(None).await;
    let poisons = poisons();
    for (label, bytes) in &poisons {
        let m = by_label(&dead, label);
        let reason = header(&m, "tablestore_sink.error.reason").unwrap();
        assert!(!reason.is_empty(), "{label}: a reason");
        if bytes.len() < 1_000_000 {
            assert_eq!(m.payload(), Some(&bytes[..]), "{label}: the original bytes");
            assert!(header(&m, "tablestore_sink.value.truncated").is_none());
        } else {
            // Kafka's default limit (1 MiB) is all the topic takes.
            let cut = header(&m, "tablestore_sink.value.truncated")
                .unwrap_or_else(|| panic!("{label}: says it was cut"));
            assert!(
                cut.ends_with(&format!("of {} bytes", bytes.len())),
                "{label}: {cut}"
            );
            let kept = m.payload().unwrap();
            assert!(
                kept.len() < MIB && kept.len() > MIB - 8 * 1024,
                "{label}: kept {}",
                kept.len()
            );
            assert_eq!(
                kept,
                &bytes[..kept.len()],
                "{label}: a prefix of the original"
            );
            assert_eq!(
                header(&m, "trace"),
                Some("t-1"),
                "{label}: original headers kept"
            );
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dead_letter_topic_that_takes_large_records_gets_them_whole() {
    let dead = run(Some(4 * MIB)).await;
    for (label, bytes) in poisons() {
        let m = by_label(&dead, label);
        assert_eq!(m.payload().map(<[u8]>::len), Some(bytes.len()), "{label}");
        assert!(
            header(&m, "tablestore_sink.value.truncated").is_none(),
            "{label}"
        );
    }
}
