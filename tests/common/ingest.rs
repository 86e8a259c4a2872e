//! Ingest scenarios and their verdicts: numbered messages in, and the
//! exact checks after a run — every row present once with its value, the
//! dead-letter topic holding exactly the bad messages, nothing in the
//! error topic, committed offsets at the end offsets.

use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant};

use rdkafka::Message;
use tablestore_sink::tablestore::plainbuffer::{PkValue, Row, Value};

use super::broker::Broker;
use super::sink::SinkProcess;

pub const WAIT: Duration = Duration::from_secs(60);
pub const KAFKA_PK: &[&str] = &["topic_partition", "offset"];

/// `count` messages round-robin over `partitions`, numbered from `first`,
/// each `{"i":N}` plus `pad` bytes of padding when `pad > 0`.
pub fn numbered(first: usize, count: usize, partitions: i32, pad: usize) -> Vec<(i32, String)> {
    (first..first + count)
        .map(|i| {
            let v = if pad > 0 {
                format!(r#"{{"i":{i},"pad":"{}"}}"#, "x".repeat(pad))
            } else {
                format!(r#"{{"i":{i}}}"#)
            };
            ((i % partitions as usize) as i32, v)
        })
        .collect()
}

/// Produces `msgs` (no key); returns where each landed.
pub async fn produce(broker: &Broker, topic: &str, msgs: &[(i32, String)]) -> Vec<(i32, i64)> {
    let refs: Vec<_> = msgs
        .iter()
        .map(|(p, v)| (*p, None, Some(v.as_str())))
        .collect();
    broker.produce(topic, &refs).await
}

/// The rows a `kafka`-PK-mode sink must hold for `msgs` (in production
/// order, into an empty topic): (partition, offset) → the value's `i` as
/// the default `string` conversion writes it.
pub fn expected_rows(msgs: &[(i32, String)]) -> BTreeMap<(i32, i64), String> {
    let mut next: BTreeMap<i32, i64> = BTreeMap::new();
    let mut out = BTreeMap::new();
    for (p, v) in msgs {
        let o = next.entry(*p).or_insert(0);
        let json: serde_json::Value = serde_json::from_str(v).unwrap();
        out.insert((*p, *o), json["i"].to_string());
        *o += 1;
    }
    out
}

/// `(partition, offset)` of a row in `kafka` PK mode, checking the topic.
pub fn coordinates(topic: &str, row: &Row) -> (i32, i64) {
    match (&row.primary_key[0].1, &row.primary_key[1].1) {
        (PkValue::String(tp), PkValue::Integer(o)) => {
            let p = tp
                .strip_prefix(&format!("{topic}_"))
                .unwrap_or_else(|| panic!("row of another topic: {tp}"));
            (p.parse().unwrap(), *o)
        }
        other => panic!("unexpected key {other:?}"),
    }
}

/// Asserts the table holds exactly one row per expected message, with
/// the message's `i` (and nothing else but the padding, if any).
pub fn assert_rows_exactly(topic: &str, rows: &[Row], expected: &BTreeMap<(i32, i64), String>) {
    let got: BTreeMap<(i32, i64), String> = rows
        .iter()
        .map(|r| {
            let i = match r.latest("i") {
                Some(Value::String(s)) => s.clone(),
                other => panic!("row {:?} has i = {other:?}", r.primary_key),
            };
            for c in &r.cells {
                assert!(
                    c.name == "i" || c.name == "pad",
                    "unexpected column {} in {:?}",
                    c.name,
                    r.primary_key
                );
            }
            (coordinates(topic, r), i)
        })
        .collect();
    assert_eq!(got.len(), rows.len(), "one row per (partition, offset)");
    let missing: Vec<_> = expected.keys().filter(|k| !got.contains_key(k)).collect();
    let extra: Vec<_> = got.keys().filter(|k| !expected.contains_key(k)).collect();
    assert!(
        missing.is_empty() && extra.is_empty(),
        "{} rows missing (first {:?}), {} unexpected (first {:?})",
        missing.len(),
        missing.iter().take(10).collect::<Vec<_>>(),
        extra.len(),
        extra.iter().take(10).collect::<Vec<_>>()
    );
    assert_eq!(&got, expected, "every row has its message's value");
}

/// Like `common::eventually`, but a timeout shows the sinks' logs.
pub async fn until<T, F, Fut>(what: &str, sinks: &[&SinkProcess], check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    until_within(WAIT, what, sinks, check).await
}

/// [`until`] with its own time budget.
pub async fn until_within<T, F, Fut>(
    wait: Duration,
    what: &str,
    sinks: &[&SinkProcess],
    mut check: F,
) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let deadline = Instant::now() + wait;
    loop {
        if let Some(v) = check().await {
            return v;
        }
        if Instant::now() > deadline {
            let logs: Vec<String> = sinks
                .iter()
                .map(|s| format!("--- {} ---\n{}", s.log.display(), tail(&s.log_text(), 120)))
                .collect();
            panic!(
                "timed out after {wait:?} waiting for {what}\n{}",
                logs.join("\n")
            );
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// The last `n` lines of `text`.
pub fn tail(text: &str, n: usize) -> String {
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(n)..].join("\n")
}

pub async fn wait_log(sink: &SinkProcess, needle: &str) {
    let what = format!("{needle:?} in {}", sink.log.display());
    super::eventually(WAIT, &what, || async {
        sink.log_text().contains(needle).then_some(())
    })
    .await;
}

/// Reads everything in a topic (waits `settle` for more to arrive).
pub fn read_everything(
    broker: &Broker,
    topic: &str,
    settle: Duration,
) -> Vec<rdkafka::message::OwnedMessage> {
    tokio::task::block_in_place(|| broker.read_all(topic, usize::MAX, settle))
}

/// The last status record per source partition: (state, worker).
pub fn last_status(
    broker: &Broker,
    status_topic: &str,
    source: &str,
) -> (BTreeMap<i64, (String, String)>, Vec<serde_json::Value>) {
    let all: Vec<serde_json::Value> = read_everything(broker, status_topic, Duration::from_secs(3))
        .iter()
        .filter_map(|m| serde_json::from_slice(m.payload()?).ok())
        .filter(|s: &serde_json::Value| s["topic"] == source)
        .collect();
    // Per key the status topic keeps order; timestamps order the records
    // of one partition written by different processes.
    let mut sorted = all.clone();
    sorted.sort_by_key(|s| s["timestamp_ms"].as_i64());
    let mut last = BTreeMap::new();
    for s in &sorted {
        last.insert(
            s["partition"].as_i64().unwrap(),
            (
                s["state"].as_str().unwrap().to_owned(),
                s["worker"].as_str().unwrap().to_owned(),
            ),
        );
    }
    (last, all)
}

/// One past the last offset produced, per partition.
pub fn end_offsets(placed: &[(i32, i64)], partitions: i32) -> Vec<Option<i64>> {
    let mut end = vec![None; partitions as usize];
    for &(p, o) in placed {
        let e = &mut end[p as usize];
        *e = Some(e.map_or(o + 1, |x: i64| x.max(o + 1)));
    }
    end
}

/// `(partition, offset)` of the source of every record in an error or
/// dead-letter topic, from the sink's headers.
pub fn sources_of(records: &[rdkafka::message::OwnedMessage]) -> Vec<(i32, i64)> {
    records
        .iter()
        .map(|m| {
            let p = super::broker::header(m, "tablestore_sink.source.partition")
                .expect("source partition header");
            let o = super::broker::header(m, "tablestore_sink.source.offset")
                .expect("source offset header");
            (p.parse().unwrap(), o.parse().unwrap())
        })
        .collect()
}

/// The verdict after a run: what the table, the error topics and the
/// group's commits must be.
pub struct Verdict<'a> {
    pub broker: &'a Broker,
    pub topic: &'a str,
    pub partitions: i32,
    pub group: &'a str,
    pub dead_letter_topic: &'a str,
    pub error_topic: &'a str,
    pub rows: &'a BTreeMap<(i32, i64), String>,
    /// Exactly these went to the dead-letter topic (at least once each).
    pub dead: &'a BTreeSet<(i32, i64)>,
    pub end: Vec<Option<i64>>,
}

/// The connector's default names: group `connect-<name>`, dead letters
/// and errors in `connect-error-<name>`.
pub struct Names {
    pub group: String,
    pub errors: String,
}

impl Names {
    pub fn of(connector: &str) -> Names {
        Names {
            group: format!("connect-{connector}"),
            errors: format!("connect-error-{connector}"),
        }
    }
}

impl<'a> Verdict<'a> {
    /// The verdict for a connector with default topic names.
    pub fn defaults(
        broker: &'a Broker,
        topic: &'a str,
        partitions: i32,
        names: &'a Names,
        rows: &'a BTreeMap<(i32, i64), String>,
        dead: &'a BTreeSet<(i32, i64)>,
        placed: &[(i32, i64)],
    ) -> Self {
        Verdict {
            broker,
            topic,
            partitions,
            group: &names.group,
            dead_letter_topic: &names.errors,
            error_topic: &names.errors,
            rows,
            dead,
            end: end_offsets(placed, partitions),
        }
    }
}

impl Verdict<'_> {
    /// Checks everything; `rows` are the table's rows. Blocks (bounded)
    /// for the commits: call it from a multi-threaded runtime.
    pub fn check(&self, rows: &[Row]) {
        assert_rows_exactly(self.topic, rows, self.rows);
        let errors = read_everything(self.broker, self.error_topic, Duration::from_secs(2));
        if self.error_topic != self.dead_letter_topic {
            assert!(
                errors.is_empty(),
                "healthy messages in the error topic: {:?}",
                sources_of(&errors)
            );
        }
        let dead = read_everything(self.broker, self.dead_letter_topic, Duration::from_secs(2));
        let dead_sources: BTreeSet<(i32, i64)> = sources_of(&dead).into_iter().collect();
        assert_eq!(
            &dead_sources, self.dead,
            "the dead-letter topic holds exactly the bad messages"
        );
        // Commits go out on the commit interval: wait for them (bounded).
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let committed = self
                .broker
                .try_committed(self.group, self.topic, self.partitions);
            match committed {
                Ok(c) if c == self.end => break,
                Ok(c) if Instant::now() > deadline => {
                    panic!(
                        "committed offsets {c:?} are not the end offsets {:?}",
                        self.end
                    )
                }
                Err(e) if Instant::now() > deadline => panic!("reading committed offsets: {e}"),
                _ => tokio::task::block_in_place(|| std::thread::sleep(Duration::from_millis(200))),
            }
        }
    }
}
