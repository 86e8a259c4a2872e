//! The benchmark's workloads: what each message looks like, how the sink
//! is configured for it, and how fast a bare consumer parses it (the
//! floor).

use std::time::{Duration, Instant};

use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::producer::{BaseRecord, Producer, ThreadedProducer};
use rdkafka::{ClientConfig, Message};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Workload {
    /// 200-byte JSON with 8 fields of mixed types, `json_conversion =
    /// "auto"`, `kafka` PK mode (the issue's workload).
    Wide8,
    /// 200-byte JSON with 5 fields, all written as strings.
    Light5,
    /// 200-byte JSON points into a TimeSeries table (3 fields, 2 tags).
    Timeseries,
}

impl Workload {
    pub fn name(self) -> &'static str {
        match self {
            Workload::Wide8 => "wide column, 8 mixed fields, auto types",
            Workload::Light5 => "wide column, 5 fields, all strings",
            Workload::Timeseries => "timeseries, 3 fields + 2 tags",
        }
    }

    /// Message `i`: `(key, value)`, about 200 bytes of value.
    pub fn message(self, i: u64) -> (String, String) {
        let key = format!("k{}", i % 1000);
        let head = match self {
            Workload::Wide8 => format!(
                r#"{{"seq":{i},"user":"user-{}","amount":{}.5,"ok":{},"qty":{},"city":"Hangzhou","ts":{},"note":""#,
                i % 977,
                i % 1000,
                i % 2 == 0,
                i % 13,
                1_764_000_000_000u64 + i
            ),
            Workload::Light5 => format!(
                r#"{{"seq":{i},"user":"user-{}","amount":{}.5,"ok":true,"note":""#,
                i % 977,
                i % 1000
            ),
            Workload::Timeseries => format!(
                r#"{{"measurement":"cpu","device":"host-{}","region":"cn-hangzhou","rack":"r{}","ts":{},"usage":0.{},"cores":{},"state":"ok","note":""#,
                i % 1000,
                i % 7,
                1_764_000_000_000u64 + i,
                i % 100,
                i % 64
            ),
        };
        let pad = 200usize.saturating_sub(head.len() + 2);
        (key, format!("{head}{}\"}}", "x".repeat(pad)))
    }

    /// The `[tablestore]`-and-below part of the sink's configuration.
    pub fn config(self, table: &str, endpoint: &str) -> String {
        match self {
            Workload::Wide8 => format!(
                "[tablestore]\nendpoint = \"{endpoint}\"\ntable = \"{table}\"\n\
                 [wide_column]\nkey_format = \"string\"\njson_conversion = \"auto\"\nkeep_integers = true\n"
            ),
            Workload::Light5 => format!(
                "[tablestore]\nendpoint = \"{endpoint}\"\ntable = \"{table}\"\n\
                 [wide_column]\nkey_format = \"string\"\n"
            ),
            Workload::Timeseries => format!(
                "[tablestore]\nendpoint = \"{endpoint}\"\ntable = \"{table}\"\nmodel = \"timeseries\"\n\
                 [timeseries]\nmetric_name_field = \"measurement\"\ndata_source_field = \"device\"\n\
                 tag_fields = [\"region\", \"rack\"]\ntimestamp_field = \"ts\"\ntimestamp_unit = \"milliseconds\"\n\
                 map_all_fields = false\nfields = [\n  {{ name = \"usage\", type = \"double\" }},\n  \
                 {{ name = \"cores\", type = \"integer\" }},\n  {{ name = \"state\", type = \"string\" }},\n]\n"
            ),
        }
    }
}

fn producer(bootstrap: &str) -> ThreadedProducer<rdkafka::producer::DefaultProducerContext> {
    ClientConfig::new()
        .set("bootstrap.servers", bootstrap)
        .set("broker.address.family", "v4")
        .set("linger.ms", "5")
        .set("batch.num.messages", "10000")
        .set("queue.buffering.max.messages", "1000000")
        .create()
        .unwrap()
}

/// Produces messages `first..first + n` of `workload`; returns msg/s.
pub fn produce(bootstrap: &str, topic: &str, workload: Workload, first: u64, n: u64) -> f64 {
    let producer = producer(bootstrap);
    let started = Instant::now();
    for i in first..first + n {
        let (key, value) = workload.message(i);
        let mut record = BaseRecord::to(topic).key(&key).payload(&value);
        loop {
            match producer.send(record) {
                Ok(()) => break,
                Err((_, r)) => {
                    record = r;
                    std::thread::sleep(Duration::from_millis(1));
                }
            }
        }
    }
    producer.flush(Duration::from_secs(300)).unwrap();
    n as f64 / started.elapsed().as_secs_f64()
}

/// Produces at `rate` msg/s (`f64::INFINITY`: as fast as it can) for
/// `seconds`, from message `first`; returns how many it produced. Record
/// timestamps are their send time, so the sink's latency histogram
/// measures the time to acknowledgement.
pub fn produce_at(
    bootstrap: &str,
    topic: &str,
    workload: Workload,
    first: u64,
    rate: f64,
    seconds: f64,
) -> u64 {
    let producer = producer(bootstrap);
    let started = Instant::now();
    let duration = Duration::from_secs_f64(seconds);
    let mut n = 0u64;
    loop {
        if rate.is_finite() {
            if n >= (rate * seconds) as u64 {
                break;
            }
            let due = started + Duration::from_secs_f64(n as f64 / rate);
            if let Some(wait) = due.checked_duration_since(Instant::now()) {
                std::thread::sleep(wait);
            }
        } else if started.elapsed() >= duration {
            break;
        }
        let (key, value) = workload.message(first + n);
        let mut record = BaseRecord::to(topic).key(&key).payload(&value);
        while let Err((_, r)) = producer.send(record) {
            record = r;
            std::thread::sleep(Duration::from_millis(1));
        }
        n += 1;
    }
    producer.flush(Duration::from_secs(60)).unwrap();
    n
}

/// A bare consumer in its own group, reading from the start, with the
/// sink's fetch queue back-off (librdkafka's 1000 ms default caps the rate).
fn bare_consumer(bootstrap: &str, group: &str) -> ClientConfig {
    let mut config = ClientConfig::new();
    config
        .set("bootstrap.servers", bootstrap)
        .set("broker.address.family", "v4")
        .set("group.id", group)
        .set("auto.offset.reset", "earliest")
        .set("enable.auto.commit", "false")
        .set("session.timeout.ms", "2000")
        .set("heartbeat.interval.ms", "500")
        .set("fetch.queue.backoff.ms", "10");
    config
}

/// The floor: a bare rdkafka consumer with librdkafka's default fetch
/// settings (larger fetches than the sink's: the cheapest reading)
/// reading `n` messages of the topic and parsing each value with
/// `serde_json` (into a `Value`, as a naive sink would). Returns (msg/s,
/// CPU µs per message) of this process while it ran. Each `reading` of a
/// topic is its own consumer group, so it reads the topic from the start.
pub fn floor(bootstrap: &str, topic: &str, n: u64, reading: &str) -> (f64, f64) {
    let consumer: BaseConsumer =
        bare_consumer(bootstrap, &format!("bench-floor-{reading}-{topic}"))
            .create()
            .unwrap();
    consumer.subscribe(&[topic]).unwrap();
    let me = std::process::id();
    let mut count = 0u64;
    let mut first: Option<(Instant, f64)> = None;
    while count < n {
        if let Some(Ok(m)) = consumer.poll(Duration::from_millis(100)) {
            if first.is_none() {
                first = Some((Instant::now(), super::rig::cpu_seconds(me)));
            }
            let v: serde_json::Value =
                serde_json::from_slice(m.payload().unwrap_or(b"null")).unwrap();
            std::hint::black_box(v);
            count += 1;
        }
    }
    let (t0, cpu0) = first.unwrap();
    let secs = t0.elapsed().as_secs_f64();
    (
        n as f64 / secs,
        (super::rig::cpu_seconds(me) - cpu0) * 1e6 / n as f64,
    )
}

/// The latency floor: the delay from each record's timestamp to its poll
/// by a bare consumer (one rdkafka consumer of the whole topic, with the
/// sink's fetch settings and no work per message) while `produce` runs
/// on this thread. Counts records stamped at or after the instant
/// `produce` returns from `measure_from` (its warm-up); returns their
/// delays in seconds, sorted.
pub fn poll_delays(
    bootstrap: &str,
    topic: &str,
    produce: impl FnOnce(&dyn Fn()) -> u64,
) -> Vec<f64> {
    use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, Ordering};
    use std::sync::Arc;
    let consumer: BaseConsumer = bare_consumer(bootstrap, &format!("bench-latency-floor-{topic}"))
        // The sink's fetch wait (`sink::rebalance`).
        .set("fetch.wait.max.ms", "20")
        .create()
        .unwrap();
    consumer.subscribe(&[topic]).unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    while consumer.assignment().map_or(0, |a| a.count()) < 6 {
        assert!(
            Instant::now() < deadline,
            "the bare consumer was not assigned the topic's 6 partitions in 60 s"
        );
        consumer.poll(Duration::from_millis(50));
    }
    let since_ms = Arc::new(AtomicI64::new(i64::MAX));
    let seen = Arc::new(AtomicU64::new(0));
    let stop = Arc::new(AtomicBool::new(false));
    let reader = {
        let (since_ms, seen, stop) = (since_ms.clone(), seen.clone(), stop.clone());
        std::thread::spawn(move || {
            let mut delays = Vec::new();
            while !stop.load(Ordering::Acquire) {
                if let Some(Ok(m)) = consumer.poll(Duration::from_millis(20)) {
                    let now = chrono::Utc::now().timestamp_millis();
                    seen.fetch_add(1, Ordering::Release);
                    if let Some(ts) = m.timestamp().to_millis() {
                        if ts >= since_ms.load(Ordering::Acquire) {
                            delays.push((now - ts).max(0) as f64 / 1000.0);
                        }
                    }
                }
            }
            delays
        })
    };
    let measure_from = || since_ms.store(chrono::Utc::now().timestamp_millis(), Ordering::Release);
    let sent = produce(&measure_from);
    let deadline = Instant::now() + Duration::from_secs(120);
    while seen.load(Ordering::Acquire) < sent && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(50));
    }
    stop.store(true, Ordering::Release);
    let mut delays = reader.join().unwrap();
    delays.sort_by(f64::total_cmp);
    delays
}
