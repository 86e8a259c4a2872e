//! The TimeSeries model end to end: Kafka JSON metrics → points, read back
//! with the official Python SDK (GetTimeseriesData, QueryTimeseriesMeta).

mod common;

use std::time::Duration;

use common::broker::{header, Broker};
use common::sink::{config, SinkProcess};
use rdkafka::Message;
use serde_json::json;
use tablestore_sink::tablestore::flatrows::SeriesKey;

const WAIT: Duration = Duration::from_secs(60);

fn ts_config(
    name: &str,
    broker: &Broker,
    topic: &str,
    endpoint: &str,
    table: &str,
    kafka_extra: &str,
    timeseries: &str,
) -> String {
    let mut c = config(
        name,
        &broker.bootstrap(),
        topic,
        endpoint,
        table,
        kafka_extra,
        &format!("[timeseries]\n{timeseries}\n"),
    );
    c = c.replace(
        &format!("table = \"{table}\"\n"),
        &format!("table = \"{table}\"\nmodel = \"timeseries\"\n"),
    );
    c
}

fn key(m: &str, host: &str, region: &str) -> SeriesKey {
    SeriesKey {
        measurement: m.into(),
        data_source: host.into(),
        tags: [("region".to_string(), region.to_string())].into(),
    }
}

async fn points(
    client: &tablestore_sink::tablestore::Client,
    table: &str,
    k: &SeriesKey,
    n: usize,
) -> Vec<tablestore_sink::tablestore::flatrows::TimeseriesRow> {
    common::eventually(WAIT, &format!("{n} points in {table}"), || async {
        let got = client
            .get_timeseries_data(table, k, 0, i64::MAX, 1000)
            .await
            .unwrap_or_default();
        (got.len() == n).then_some(got)
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_timestamp_unit_converts_to_exact_microseconds() {
    let dir = tempfile::tempdir().unwrap();
    let broker = Broker::start();
    let emu = common::emulator(&dir.path().join("ts")).await;
    let client = common::client(&emu);
    // (unit, value in that unit, expected µs) — large values check exactness.
    let cases = [
        ("seconds", "1700000000", 1_700_000_000_000_000i64),
        ("MILLISECONDS", "1700000000123", 1_700_000_000_123_000),
        ("microseconds", "1700000000123456", 1_700_000_000_123_456),
        ("Nanoseconds", "1700000000123456000", 1_700_000_000_123_456),
    ];
    let mut sinks = Vec::new();
    for (i, (unit, value, _)) in cases.iter().enumerate() {
        let topic = common::unique(&format!("unit{i}"));
        broker.create_topic(&topic, 1).await;
        let msg =
            format!(r#"{{"metric":"cpu","host":"h1","region":"hz","ts":{value},"usage":0.5}}"#);
        broker
            .produce(&topic, &[(0, None, Some(msg.as_str()))])
            .await;
        let cfg = ts_config(&format!("unit-{i}"), &broker, &topic, &emu.endpoint(), &format!("units{i}"), "",
            &format!("metric_name_field = \"metric\"\ndata_source_field = \"host\"\ntag_fields = [\"region\"]\ntimestamp_field = \"ts\"\ntimestamp_unit = \"{unit}\""));
        sinks.push(SinkProcess::start(dir.path(), &format!("sink{i}"), &cfg));
    }
    for (i, (unit, _, want_us)) in cases.iter().enumerate() {
        let got = points(&client, &format!("units{i}"), &key("cpu", "h1", "hz"), 1).await;
        assert_eq!(got[0].time_us, *want_us, "unit {unit}");
    }
    // The official SDK reads the same points.
    let read = common::sdk(
        &emu.endpoint(),
        r#"
from tablestore.metadata import GetTimeseriesDataRequest, TimeseriesKey
out = []
for i in range(4):
    r = client.get_timeseries_data(GetTimeseriesDataRequest('units%d' % i, TimeseriesKey('cpu', 'h1', {'region': 'hz'}), beginTimeInUs=0, endTimeInUs=2**62, limit=10))
    out.append([[x.time_in_us, x.fields] for x in r.rows])
print(json.dumps(out))
"#,
    );
    let want: Vec<_> = cases
        .iter()
        .map(|(_, _, us)| json!([[us, {"usage": 0.5}]]))
        .collect();
    assert_eq!(read, json!(want));
    for s in sinks {
        assert!(s.stop().success());
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn types_tags_kafka_timestamps_and_bad_records() {
    let dir = tempfile::tempdir().unwrap();
    let broker = Broker::start();
    let emu = common::emulator(&dir.path().join("ts")).await;
    let topic = common::unique("metrics");
    broker.create_topic(&topic, 1).await;
    broker
        .produce(&topic, &[
            (0, None, Some(r#"{"metric":"cpu","host":"h1","region":"hz","az":null,"usage":0.25,"cores":8,"ok":true,"label":"x","nested":{"a":[1]}}"#)),
            (0, None, Some(r#"{"metric":"mem","host":"h2","region":"sh","free":1024}"#)),
            (0, None, Some(r#"[1,2,3]"#)),
            (0, None, Some(r#"{"host":"h3","free":1}"#)),
            (0, None, Some(r#"{"metric":"cpu","host":"h1","region":"hz","usage":"not a number"}"#)),
        ])
        .await;
    let cfg = ts_config("types", &broker, &topic, &emu.endpoint(), "metrics", "",
        "metric_name_field = \"metric\"\ndata_source_field = \"host\"\ntag_fields = [\"region\", \"az\"]\nkeep_integers = true\nfields = [{ name = \"usage\", type = \"double\" }]");
    let sink = SinkProcess::start(dir.path(), "sink", &cfg);
    let mut dead = broker.read_all("connect-error-types", 3, WAIT);
    assert_eq!(dead.len(), 3, "three bad records");
    // The dead-letter topic has several partitions: order by source offset.
    dead.sort_by_key(|m| {
        header(m, "tablestore_sink.source.offset")
            .unwrap()
            .parse::<i64>()
            .unwrap()
    });
    let reasons: Vec<(String, String)> = dead
        .iter()
        .map(|m| {
            (
                header(m, "tablestore_sink.source.offset")
                    .unwrap()
                    .to_owned(),
                header(m, "tablestore_sink.error.code").unwrap().to_owned(),
            )
        })
        .collect();
    assert_eq!(
        reasons.iter().map(|(o, _)| o.as_str()).collect::<Vec<_>>(),
        vec!["2", "3", "4"]
    );
    for (m, (_, code)) in dead.iter().zip(&reasons) {
        let reason = header(m, "tablestore_sink.error.reason").unwrap();
        assert!(!code.is_empty() && !reason.is_empty(), "{code}: {reason}");
    }
    assert!(
        header(&dead[2], "tablestore_sink.error.reason")
            .unwrap()
            .contains("usage"),
        "names the field"
    );
    assert_eq!(dead[0].payload(), Some(&b"[1,2,3]"[..]));

    let got = common::sdk(
        &emu.endpoint(),
        r#"
from tablestore.metadata import GetTimeseriesDataRequest, TimeseriesKey, QueryTimeseriesMetaRequest
r = client.get_timeseries_data(GetTimeseriesDataRequest('metrics', TimeseriesKey('cpu', 'h1', {'region': 'hz'}), beginTimeInUs=0, endTimeInUs=2**62, limit=10))
m = client.query_timeseries_meta(QueryTimeseriesMetaRequest('metrics', getTotalHits=True, limit=10))
print(json.dumps({'fields': r.rows[0].fields, 'time': r.rows[0].time_in_us,
  'series': sorted([[x.timeseries_key.measurement_name, x.timeseries_key.data_source, x.timeseries_key.tags] for x in m.timeseriesMetas]), 'hits': m.totalHits}))
"#,
    );
    assert_eq!(
        got["fields"],
        json!({"usage": 0.25, "cores": 8, "ok": true, "label": "x", "nested": "{\"a\":[1]}"})
    );
    let kafka_time_us = got["time"].as_i64().unwrap();
    let now_us = chrono::Utc::now().timestamp_micros();
    assert!(
        kafka_time_us % 1000 == 0 && (now_us - kafka_time_us).abs() < 120_000_000,
        "Kafka record timestamp used: {kafka_time_us}"
    );
    assert_eq!(
        got["series"],
        json!([["cpu", "h1", {"region": "hz"}], ["mem", "h2", {"region": "sh"}]]),
        "az=null is skipped"
    );
    assert_eq!(got["hits"], json!(2));
    assert!(sink.stop().success());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stop_policy_on_one_partition_and_restart_without_loss() {
    let dir = tempfile::tempdir().unwrap();
    let broker = Broker::start();
    let emu = common::emulator(&dir.path().join("ts")).await;
    let client = common::client(&emu);
    let topic = common::unique("tsstop");
    broker.create_topic(&topic, 2).await;
    let good = |i: i64| {
        format!(
            r#"{{"metric":"m","host":"p{}","region":"r","t":{},"v":{i}}}"#,
            i % 2,
            1_000 + i
        )
    };
    let mut msgs: Vec<(i32, Option<String>, Option<String>)> = (0..40)
        .map(|i| ((i % 2) as i32, None, Some(good(i))))
        .collect();
    msgs[10].2 = Some(r#"{"metric":"m","host":"p0","region":"r","t":-5,"v":1}"#.into()); // partition 0, offset 5
    let refs: Vec<_> = msgs
        .iter()
        .map(|(p, k, v)| (*p, k.as_deref(), v.as_deref()))
        .collect();
    broker.produce(&topic, &refs).await;
    let ts = "metric_name_field = \"metric\"\ndata_source_field = \"host\"\ntag_fields = [\"region\"]\ntimestamp_field = \"t\"\ntimestamp_unit = \"seconds\"";
    let cfg = ts_config(
        "tsstop",
        &broker,
        &topic,
        &emu.endpoint(),
        "tsstop",
        "failure_policy = \"stop\"",
        ts,
    );
    let sink = SinkProcess::start(dir.path(), "sink", &cfg);
    let p1 = points(&client, "tsstop", &key("m", "p1", "r"), 20).await;
    assert_eq!(p1.len(), 20, "the healthy partition finishes");
    let p0 = points(&client, "tsstop", &key("m", "p0", "r"), 5).await;
    assert_eq!(
        p0.iter().map(|p| p.time_us).collect::<Vec<_>>(),
        (0..5)
            .map(|i| (1_000 + 2 * i) * 1_000_000)
            .collect::<Vec<_>>()
    );
    sink.kill9();
    // Restart: partition 0 stops at the same bad message again; nothing lost or duplicated.
    let sink = SinkProcess::start(dir.path(), "sink2", &cfg);
    broker
        .produce(&topic, &[(1, None, Some(good(41).as_str()))])
        .await;
    let p1 = points(&client, "tsstop", &key("m", "p1", "r"), 21).await;
    assert_eq!(p1.last().unwrap().time_us, 1_041_000_000);
    assert_eq!(
        client
            .get_timeseries_data("tsstop", &key("m", "p0", "r"), 0, i64::MAX, 100)
            .await
            .unwrap()
            .len(),
        5
    );
    assert!(sink.stop().success());
    assert_eq!(
        broker.committed("connect-tsstop", &topic, 2),
        vec![Some(5), Some(21)]
    );
}
