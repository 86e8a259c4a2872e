//! What an operator sees on the metrics listener (issue 11, item 4):
//! `/healthz`, `/readyz` (starting, waiting for the topic, ready, a
//! stopped partition, Tablestore gone silent), series that exist at zero
//! from the start, the process, writer and budget gauges, and how the
//! partitions are spread over the pipeline lanes.

mod common;

use std::time::{Duration, Instant};

use common::broker::{free_port, Broker};
use common::sink::{config, SinkProcess};
use tablestore_sink::emulator::{Emulator, EmulatorConfig};
use tablestore_sink::metrics::{names, scrape};

const WAIT: Duration = Duration::from_secs(60);

async fn get(port: u16, path: &str) -> Option<(u16, String)> {
    let r = reqwest::get(format!("http://127.0.0.1:{port}{path}"))
        .await
        .ok()?;
    let status = r.status().as_u16();
    Some((status, r.text().await.ok()?))
}

async fn ready(port: u16) -> Option<(bool, serde_json::Value)> {
    let (status, body) = get(port, "/readyz").await?;
    let json: serde_json::Value = serde_json::from_str(&body).ok()?;
    assert_eq!(status == 200, json["ready"] == true, "{status} {body}");
    Some((status == 200, json))
}

fn sample(text: &str, name: &str, labels: &[(&str, &str)]) -> Option<f64> {
    let samples = scrape::parse(text);
    let hit = samples.iter().any(|s| {
        s.name == name
            && labels
                .iter()
                .all(|(k, v)| s.labels.get(*k).map(String::as_str) == Some(*v))
    });
    hit.then(|| scrape::sum(&samples, name, labels))
}

fn metrics_extra(port: u16, extra: &str) -> String {
    format!("{extra}\n[metrics]\nlisten = \"127.0.0.1:{port}\"\n")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn healthz_readyz_and_series_at_zero() {
    let dir = tempfile::tempdir().unwrap();
    let broker = Broker::start();
    let emu = common::emulator(&dir.path().join("ts")).await;
    let topic = common::unique("probe");
    let port = free_port();
    let cfg = config(
        "probe",
        &broker.bootstrap(),
        &topic,
        &emu.endpoint(),
        "probe",
        "failure_policy = \"stop\"",
        &metrics_extra(port, "[writer]\nmax_in_flight_bytes = 33554432"),
    );
    let sink = SinkProcess::start(dir.path(), "sink", &cfg);

    // The topic does not exist yet: live, not ready, and it says why.
    let (_, body) = common::eventually(WAIT, "waiting for the topic", || async {
        let (ok, body) = ready(port).await?;
        let waiting = body["reasons"]
            .as_array()?
            .iter()
            .any(|r| r.as_str().is_some_and(|r| r.contains("to exist")));
        (!ok && waiting).then_some((ok, body))
    })
    .await;
    assert_eq!(
        body["reasons"][0],
        format!("starting: waiting for source topic {topic:?} to exist")
    );
    assert_eq!(get(port, "/healthz").await.unwrap(), (200, "ok\n".into()));
    assert_eq!(get(port, "/nope").await.unwrap().0, 404);

    broker.create_topic(&topic, 2).await;
    common::eventually(WAIT, "ready", || async {
        let (ok, body) = ready(port).await?;
        (ok && body["partitions"].as_object()?.len() == 2).then_some(())
    })
    .await;

    // Series at zero before anything happened; the process, budget and
    // writer gauges; readiness as a gauge.
    let (_, text) = get(port, "/metrics").await.unwrap();
    for (name, labels) in [
        (
            names::DEAD_LETTER_RECORDS,
            vec![("topic", topic.as_str()), ("reason", "invalid_json")],
        ),
        (
            names::ERROR_RECORDS,
            vec![("topic", topic.as_str()), ("code", "OTSParameterInvalid")],
        ),
        (names::RETRIES, vec![("code", "OTSServerBusy")]),
        (names::REBALANCES, vec![("kind", "revoke")]),
        (names::COMMIT_FAILURES, vec![]),
        (names::FIELD_CLASHES, vec![("kind", "key_value")]),
        (names::WRITER_QUEUED_ROWS, vec![("lane", "0")]),
        (names::WRITER_REQUESTS_IN_FLIGHT, vec![("lane", "0")]),
    ] {
        assert_eq!(
            sample(&text, name, &labels),
            Some(0.0),
            "{name} {labels:?}:\n{text}"
        );
    }
    assert_eq!(
        sample(&text, names::IN_FLIGHT_BYTES_LIMIT, &[]),
        Some(33_554_432.0)
    );
    assert_eq!(
        sample(&text, names::WRITER_CONCURRENCY_LIMIT, &[("lane", "0")]),
        Some(1.0),
        "an idle writer starts at one request in flight:
{text}"
    );
    assert!(
        sample(&text, names::PROCESS_RSS, &[]).is_some_and(|b| b > 1e6),
        "{text}"
    );
    assert!(
        sample(&text, names::PROCESS_CPU, &[]).is_some_and(|s| s > 0.0),
        "{text}"
    );
    common::eventually(WAIT, "the ready gauge", || async {
        let (_, text) = get(port, "/metrics").await?;
        (sample(&text, names::READY, &[]) == Some(1.0)).then_some(())
    })
    .await;

    // A bad message with the stop policy: that partition is not consuming.
    broker
        .produce(
            &topic,
            &[(1, None, Some("not json")), (0, None, Some(r#"{"a":"1"}"#))],
        )
        .await;
    let body = common::eventually(WAIT, "not ready for the stopped partition", || async {
        let (ok, body) = ready(port).await?;
        (!ok).then_some(body)
    })
    .await;
    let reason = body["reasons"][0].as_str().unwrap().to_owned();
    assert!(
        reason.starts_with("partition 1 is stopped (failure_policy = \"stop\"): "),
        "{body}"
    );
    assert!(body["partitions"]["1"]["stopped"].is_string(), "{body}");
    assert_eq!(body["partitions"]["0"], "consuming", "{body}");
    assert!(sink.stop().success());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_silent_tablestore_makes_the_sink_not_ready_until_it_answers_again() {
    let dir = tempfile::tempdir().unwrap();
    let broker = Broker::start();
    let tablestore_port = free_port();
    let start_emulator = || async {
        let mut c = EmulatorConfig::new(dir.path().join("ts"));
        c.listen = format!("127.0.0.1:{tablestore_port}").parse().unwrap();
        Emulator::start(c).await.expect("emulator starts")
    };
    let emu = start_emulator().await;
    let topic = common::unique("silent");
    broker.create_topic(&topic, 1).await;
    let port = free_port();
    let cfg = config(
        "silent",
        &broker.bootstrap(),
        &topic,
        &emu.endpoint(),
        "silent",
        "",
        &metrics_extra(
            port,
            "[writer]\nrequest_timeout_ms = 1000\nretry_max_ms = 1000",
        ),
    );
    let sink = SinkProcess::start(dir.path(), "sink", &cfg);
    common::eventually(WAIT, "ready", || async {
        ready(port).await?.0.then_some(())
    })
    .await;

    emu.stop().await;
    broker
        .produce(&topic, &[(0, None, Some(r#"{"a":"1"}"#))])
        .await;
    let started = Instant::now();
    let body = common::eventually(WAIT, "not ready", || async {
        let (ok, body) = ready(port).await?;
        (!ok).then_some(body)
    })
    .await;
    assert!(
        started.elapsed() >= Duration::from_secs(25),
        "within the grace period: {:?}",
        started.elapsed()
    );
    assert!(
        body["reasons"][0]
            .as_str()
            .unwrap()
            .starts_with("Tablestore has not answered for "),
        "{body}"
    );
    let (_, text) = get(port, "/metrics").await.unwrap();
    assert!(
        sample(
            &text,
            names::TABLESTORE_ERRORS,
            &[("code", "ClientTransport")]
        )
        .is_some_and(|n| n >= 1.0),
        "{text}"
    );

    let emu = start_emulator().await;
    common::eventually(WAIT, "ready again", || async {
        ready(port).await?.0.then_some(())
    })
    .await;
    let client = common::client(&emu);
    common::eventually(WAIT, "the row", || async {
        (common::all_rows(&client, "silent", &["topic_partition", "offset"])
            .await
            .len()
            == 1)
            .then_some(())
    })
    .await;
    assert!(sink.stop().success());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn partitions_are_spread_over_the_pipeline_lanes() {
    let dir = tempfile::tempdir().unwrap();
    let broker = Broker::start();
    let emu = common::emulator(&dir.path().join("ts")).await;
    let topic = common::unique("lanes");
    broker.create_topic(&topic, 6).await;
    let port = free_port();
    let cfg = config(
        "lanes",
        &broker.bootstrap(),
        &topic,
        &emu.endpoint(),
        "lanes",
        "",
        &metrics_extra(port, "[writer]\npipeline_threads = 2"),
    );
    let sink = SinkProcess::start(dir.path(), "sink", &cfg);
    // Six partitions over two lanes, placed on the lane with the fewest:
    // three each, whatever order the group's rebalances hand them out in.
    let mut last = String::from("no scrape");
    let settled = tokio::time::timeout(WAIT, async {
        loop {
            if let Some((_, text)) = get(port, "/metrics").await {
                let lane = |l: &str| sample(&text, names::LANE_PARTITIONS, &[("lane", l)]);
                let seen = (
                    sample(&text, names::ASSIGNED_PARTITIONS, &[]),
                    lane("0"),
                    lane("1"),
                );
                if seen == (Some(6.0), Some(3.0), Some(3.0)) {
                    return;
                }
                last = format!("assigned, lane 0, lane 1: {seen:?}");
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    })
    .await;
    assert!(
        settled.is_ok(),
        "the lanes never ran three of the six partitions each; last seen {last}"
    );
    assert!(sink.stop().success());
}
