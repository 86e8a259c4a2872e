//! Conversion and write modes end to end, against a real broker (tansu)
//! and the emulator, with row contents asserted exactly (values and
//! types): every primary-key mode × key/value format × json_conversion,
//! put vs update, every delete mode, integer and bad primary keys, and
//! per-key order under many in-flight batches.
//!
//! Each configuration is a [`Case`]: its own source topic, table and sink
//! process. The cases of one test share a broker, an emulator and one
//! dead-letter topic, and their sinks run side by side. A case is done
//! when its group has committed every message (the sink commits only after
//! the write or the dead-letter record is acknowledged); then its table
//! must hold exactly the expected rows and the dead-letter topic exactly
//! the expected records.

mod common;

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use common::broker::{header, Broker};
use common::sink::{config, SinkProcess};
use rdkafka::Message;
use tablestore_sink::tablestore::plainbuffer::{PkValue, Row, Value};

const WAIT: Duration = Duration::from_secs(60);
const DEAD_LETTERS: &str = "modes-dead-letters";

/// `(partition, key, value)`.
type Msg = (i32, Option<String>, Option<String>);
type Pk = Vec<(String, PkValue)>;
type Cells = BTreeMap<String, Value>;

/// One sink configuration, its input and its expected outcome.
struct Case {
    /// Connector name; also names the topic, group and table.
    name: String,
    partitions: i32,
    /// The body of `[wide_column]`.
    wide_column: String,
    /// More TOML sections (e.g. `[writer]`).
    extra: String,
    /// The table's primary-key column names, in order.
    pk: Vec<&'static str>,
    messages: Vec<Msg>,
    /// Every row the table must hold at the end, in primary-key order.
    rows: Vec<(Pk, Cells)>,
    /// Every dead-letter record: (partition, offset, reason code, text the
    /// reason must contain).
    dead: Vec<(i32, i64, &'static str, &'static str)>,
}

impl Case {
    fn table(&self) -> String {
        format!("t_{}", self.name.replace('-', "_"))
    }

    fn topic(&self) -> String {
        format!("src-{}", self.name)
    }

    fn group(&self) -> String {
        format!("connect-{}", self.name)
    }

    /// Messages per partition, for the committed-offset check.
    fn counts(&self) -> Vec<Option<i64>> {
        (0..self.partitions)
            .map(|p| Some(self.messages.iter().filter(|m| m.0 == p).count() as i64))
            .collect()
    }
}

fn s(v: &str) -> Value {
    Value::String(v.into())
}

fn pk_s(name: &str, v: &str) -> (String, PkValue) {
    (name.into(), PkValue::String(v.into()))
}

fn pk_i(name: &str, v: i64) -> (String, PkValue) {
    (name.into(), PkValue::Integer(v))
}

fn cells(list: &[(&str, Value)]) -> Cells {
    list.iter()
        .map(|(n, v)| (n.to_string(), v.clone()))
        .collect()
}

fn msg(p: i32, key: Option<&str>, value: Option<&str>) -> Msg {
    (p, key.map(str::to_owned), value.map(str::to_owned))
}

/// The cells of a stored row, one value per column; a column stored with
/// more than one version is reported as a mismatch by the caller.
fn row_cells(row: &Row) -> Result<Cells, String> {
    let mut out = Cells::new();
    for c in &row.cells {
        let v = c
            .value
            .clone()
            .ok_or_else(|| format!("cell {} without a value", c.name))?;
        if out.insert(c.name.clone(), v).is_some() {
            return Err(format!("column {} has more than one version", c.name));
        }
    }
    Ok(out)
}

/// Runs every case against one broker and one emulator, each with its own
/// sink process, then checks rows, dead letters and a clean shutdown.
async fn run(cases: Vec<Case>) {
    let dir = tempfile::tempdir().unwrap();
    let broker = Broker::start();
    let emu = common::emulator(&dir.path().join("ts")).await;
    let client = common::client(&emu);
    for c in &cases {
        broker.create_topic(&c.topic(), c.partitions).await;
        let refs: Vec<_> = c
            .messages
            .iter()
            .map(|(p, k, v)| (*p, k.as_deref(), v.as_deref()))
            .collect();
        broker.produce(&c.topic(), &refs).await;
    }
    let mut sinks = Vec::new();
    for c in &cases {
        let cfg = config(
            &c.name,
            &broker.bootstrap(),
            &c.topic(),
            &emu.endpoint(),
            &c.table(),
            &format!("dead_letter_topic = \"{DEAD_LETTERS}\""),
            &format!("[wide_column]\n{}\n{}\n", c.wide_column, c.extra),
        );
        sinks.push(SinkProcess::start(dir.path(), &c.name, &cfg));
    }

    // Every case has committed every message: all writes and dead letters
    // are acknowledged.
    let deadline = Instant::now() + WAIT;
    let mut pending: Vec<usize> = (0..cases.len()).collect();
    while !pending.is_empty() {
        pending.retain(|&i| {
            let c = &cases[i];
            let committed = tokio::task::block_in_place(|| {
                broker.try_committed(&c.group(), &c.topic(), c.partitions)
            });
            committed.ok() != Some(c.counts())
        });
        if pending.is_empty() {
            break;
        }
        if Instant::now() > deadline {
            let report: Vec<String> = pending
                .iter()
                .map(|&i| {
                    let c = &cases[i];
                    format!(
                        "{}: committed {:?}, expected {:?}\n--- log ---\n{}",
                        c.name,
                        broker.try_committed(&c.group(), &c.topic(), c.partitions),
                        c.counts(),
                        sinks[i].log_text()
                    )
                })
                .collect();
            panic!(
                "timed out after {WAIT:?} waiting for commits:\n{}",
                report.join("\n")
            );
        }
        tokio::time::sleep(Duration::from_millis(300)).await;
    }

    let mut failures = Vec::new();
    for c in &cases {
        let stored = common::all_rows(&client, &c.table(), &c.pk).await;
        let got: Vec<(Pk, Result<Cells, String>)> = stored
            .iter()
            .map(|r| (r.primary_key.clone(), row_cells(r)))
            .collect();
        let want: Vec<(Pk, Result<Cells, String>)> = c
            .rows
            .iter()
            .map(|(pk, cells)| (pk.clone(), Ok(cells.clone())))
            .collect();
        if got != want {
            failures.push(format!(
                "{}: rows differ\n  expected: {want:?}\n  stored:   {got:?}",
                c.name
            ));
        }
    }

    // Dead letters: exactly the expected ones, with the original bytes and
    // the reason headers.
    let expected_dead: usize = cases.iter().map(|c| c.dead.len()).sum();
    // Wait (bounded) for the expected ones, then look briefly for more.
    let dead = tokio::task::block_in_place(|| {
        let expected = broker.read_all(DEAD_LETTERS, expected_dead, WAIT);
        let more = broker.read_all(DEAD_LETTERS, expected_dead + 1, Duration::from_secs(2));
        if more.len() > expected.len() {
            more
        } else {
            expected
        }
    });
    for c in &cases {
        let topic = c.topic();
        let mut mine: Vec<_> = dead
            .iter()
            .filter(|m| header(m, "tablestore_sink.source.topic") == Some(topic.as_str()))
            .collect();
        mine.sort_by_key(|m| {
            (
                header(m, "tablestore_sink.source.partition").map(str::to_owned),
                header(m, "tablestore_sink.source.offset").and_then(|o| o.parse::<i64>().ok()),
            )
        });
        let got: Vec<(i32, i64, String)> = mine
            .iter()
            .map(|m| {
                (
                    header(m, "tablestore_sink.source.partition")
                        .and_then(|p| p.parse().ok())
                        .unwrap_or(-1),
                    header(m, "tablestore_sink.source.offset")
                        .and_then(|o| o.parse().ok())
                        .unwrap_or(-1),
                    header(m, "tablestore_sink.error.code")
                        .unwrap_or("")
                        .to_owned(),
                )
            })
            .collect();
        let mut want: Vec<(i32, i64, String)> = c
            .dead
            .iter()
            .map(|(p, o, code, _)| (*p, *o, code.to_string()))
            .collect();
        want.sort();
        if got != want {
            failures.push(format!(
                "{}: dead letters differ\n  expected: {want:?}\n  got:      {got:?}",
                c.name
            ));
            continue;
        }
        let mut expected_dead = c.dead.clone();
        expected_dead.sort();
        for (m, (p, o, _, reason_part)) in mine.iter().zip(&expected_dead) {
            // The original message: the `o`-th message produced to `p`.
            let original = c.messages.iter().filter(|m| m.0 == *p).nth(*o as usize);
            let original = original.expect("expected dead letter names a produced message");
            let reason = header(m, "tablestore_sink.error.reason").unwrap_or("");
            let ok = m.key() == original.1.as_deref().map(str::as_bytes)
                && m.payload() == original.2.as_deref().map(str::as_bytes)
                && header(m, "trace") == Some("t-1")
                && header(m, "tablestore_sink.error.stage") == Some("convert")
                && !reason.is_empty()
                && reason.contains(reason_part);
            if !ok {
                failures.push(format!(
                    "{}: dead letter for {p}/{o} is not the original message with a reason containing {reason_part:?}: key {:?} value {:?} headers {:?}",
                    c.name,
                    m.key().map(String::from_utf8_lossy),
                    m.payload().map(String::from_utf8_lossy),
                    m.headers()
                ));
            }
        }
    }
    let unclaimed: Vec<_> = dead
        .iter()
        .filter(|m| {
            !cases
                .iter()
                .any(|c| header(m, "tablestore_sink.source.topic") == Some(c.topic().as_str()))
        })
        .collect();
    if !unclaimed.is_empty() {
        failures.push(format!("dead letters from no case: {unclaimed:?}"));
    }

    for (c, sink) in cases.iter().zip(sinks) {
        let log = sink.log_text();
        let status = sink.stop();
        if !status.success() {
            failures.push(format!("{}: sink exited with {status:?}\n{log}", c.name));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

// ----- PK mode × key/value format × json_conversion -----------------------

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Format {
    String,
    Json,
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Conv {
    /// json_conversion = "string"
    Str,
    /// json_conversion = "auto"
    Auto,
    /// json_conversion = "auto", keep_integers = true
    Keep,
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum PkMode {
    Kafka,
    RecordKey,
    RecordValue,
}

impl Format {
    fn name(self) -> &'static str {
        match self {
            Format::String => "string",
            Format::Json => "json",
        }
    }
}

impl Conv {
    fn toml(self) -> &'static str {
        match self {
            Conv::Str => "json_conversion = \"string\"",
            Conv::Auto => "json_conversion = \"auto\"",
            Conv::Keep => "json_conversion = \"auto\"\nkeep_integers = true",
        }
    }

    fn short(self) -> &'static str {
        match self {
            Conv::Str => "str",
            Conv::Auto => "auto",
            Conv::Keep => "keep",
        }
    }

    /// A JSON integer.
    fn int(self, i: i64) -> Value {
        match self {
            Conv::Str => Value::String(i.to_string()),
            Conv::Auto => Value::Double(i as f64),
            Conv::Keep => Value::Integer(i),
        }
    }

    /// A JSON float with its text.
    fn float(self, f: f64, text: &str) -> Value {
        match self {
            Conv::Str => s(text),
            _ => Value::Double(f),
        }
    }

    fn boolean(self, b: bool) -> Value {
        match self {
            Conv::Str => s(if b { "true" } else { "false" }),
            _ => Value::Boolean(b),
        }
    }
}

// Message 1: a value with every JSON type (nested values with spaces, to
// check the compact rendering) and a key whose "s" clashes with the value's.
const V1: &str = r#"{"vid": "v-1", "seq": "3", "s": "x", "i": 7, "f": 1.5, "b": true, "o": { "a": 1, "z": [2] }, "arr": [1, "y"], "n": null}"#;
const K1: &str = r#"{"kid": "k-1", "kn": 5, "s": "from-key"}"#;
// Message 2.
const V2: &str = r#"{"vid":"v-2","seq":-4,"t":"y"}"#;
const K2: &str = r#"{"kid":"k-2"}"#;
// Message 3 in record_value mode: a float primary key.
const V3_FLOAT_PK: &str = r#"{"vid":"v-3","seq":2.5,"t":"z"}"#;

fn v1_cells(conv: Conv) -> Cells {
    cells(&[
        ("vid", s("v-1")),
        ("seq", s("3")),
        ("s", s("x")),
        ("i", conv.int(7)),
        ("f", conv.float(1.5, "1.5")),
        ("b", conv.boolean(true)),
        ("o", s(r#"{"a":1,"z":[2]}"#)),
        ("arr", s(r#"[1,"y"]"#)),
    ])
}

fn k1_cells(conv: Conv) -> Cells {
    cells(&[("kid", s("k-1")), ("kn", conv.int(5)), ("s", s("from-key"))])
}

fn v2_cells(conv: Conv) -> Cells {
    cells(&[("vid", s("v-2")), ("seq", conv.int(-4)), ("t", s("y"))])
}

fn k2_cells() -> Cells {
    cells(&[("kid", s("k-2"))])
}

/// The row's columns: the value's, then the key's, a key column named
/// like a value field renamed `key_<name>` (`key_clash = "rename"`),
/// without primary-key columns.
fn merge(value: Cells, key: Cells, pk: &[&str]) -> Cells {
    let mut out = value;
    out.retain(|name, _| !pk.contains(&name.as_str()));
    for (mut name, v) in key {
        if pk.contains(&name.as_str()) {
            continue;
        }
        while out.contains_key(&name) {
            name.insert_str(0, "key_");
        }
        out.insert(name, v);
    }
    out
}

fn matrix_case(mode: PkMode, kf: Format, vf: Format, conv: Conv) -> Case {
    let mode_name = match mode {
        PkMode::Kafka => "kafka",
        PkMode::RecordKey => "record_key",
        PkMode::RecordValue => "record_value",
    };
    let name = format!(
        "{}-{}{}-{}",
        match mode {
            PkMode::Kafka => "kafka",
            PkMode::RecordKey => "rkey",
            PkMode::RecordValue => "rval",
        },
        &kf.name()[..1],
        &vf.name()[..1],
        conv.short()
    );
    let (pk, pk_toml): (Vec<&'static str>, &str) = match (mode, kf) {
        (PkMode::Kafka, _) => (vec!["topic_partition", "offset"], ""),
        (PkMode::RecordKey, Format::String) => (
            vec!["id"],
            r#"primary_key = [{ name = "id", type = "string" }]"#,
        ),
        (PkMode::RecordKey, Format::Json) => (
            vec!["kid"],
            r#"primary_key = [{ name = "kid", type = "string" }]"#,
        ),
        (PkMode::RecordValue, _) => (
            vec!["vid", "seq"],
            r#"primary_key = [{ name = "vid", type = "string" }, { name = "seq", type = "integer" }]"#,
        ),
    };
    let (key1, key2) = match kf {
        Format::Json => (K1, K2),
        Format::String => ("k-1", "k-2"),
    };
    // Columns each message contributes.
    let key_cells = |json: Cells, text: &str| match (kf, mode) {
        (Format::Json, _) => json,
        // The whole string key is the primary key: no `key` column.
        (Format::String, PkMode::RecordKey) => Cells::new(),
        (Format::String, _) => cells(&[("key", s(text))]),
    };
    let value_cells = |json: Cells, text: &str| match vf {
        Format::Json => json,
        Format::String => cells(&[("value", s(text))]),
    };
    let row1 = merge(
        value_cells(v1_cells(conv), V1),
        key_cells(k1_cells(conv), key1),
        &pk,
    );
    let row2 = merge(
        value_cells(v2_cells(conv), V2),
        key_cells(k2_cells(), key2),
        &pk,
    );

    let mut messages = vec![msg(0, Some(key1), Some(V1)), msg(0, Some(key2), Some(V2))];
    let mut dead = Vec::new();
    let rows = match mode {
        PkMode::Kafka => {
            // A message without a key: only the value's columns.
            messages.push(msg(0, None, Some(V2)));
            let row3 = merge(value_cells(v2_cells(conv), V2), Cells::new(), &pk);
            let tp = format!("src-{name}_0");
            vec![
                (vec![pk_s("topic_partition", &tp), pk_i("offset", 0)], row1),
                (vec![pk_s("topic_partition", &tp), pk_i("offset", 1)], row2),
                (vec![pk_s("topic_partition", &tp), pk_i("offset", 2)], row3),
            ]
        }
        PkMode::RecordKey => {
            // No key, no primary key.
            messages.push(msg(0, None, Some(V2)));
            dead.push((0, 2, "missing_key", "no key"));
            let col = pk[0];
            vec![
                (vec![pk_s(col, "k-1")], row1),
                (vec![pk_s(col, "k-2")], row2),
            ]
        }
        PkMode::RecordValue => {
            messages.push(msg(0, Some(key1), Some(V3_FLOAT_PK)));
            dead.push((0, 2, "bad_pk_type", "float"));
            vec![
                // "3" is an integer-looking string: an INTEGER key.
                (vec![pk_s("vid", "v-1"), pk_i("seq", 3)], row1),
                (vec![pk_s("vid", "v-2"), pk_i("seq", -4)], row2),
            ]
        }
    };
    Case {
        wide_column: format!(
            "key_format = \"{}\"\nvalue_format = \"{}\"\n{}\nprimary_key_mode = \"{mode_name}\"\n{pk_toml}\n",
            kf.name(),
            vf.name(),
            conv.toml()
        ),
        name,
        partitions: 1,
        extra: String::new(),
        pk,
        messages,
        rows,
        dead,
    }
}

/// Every format pair and conversion valid for `mode`; with no JSON part
/// the conversion does not matter, so only `string` runs.
fn matrix(mode: PkMode) -> Vec<Case> {
    let mut out = Vec::new();
    for kf in [Format::String, Format::Json] {
        for vf in [Format::String, Format::Json] {
            if mode == PkMode::RecordValue && vf == Format::String {
                continue; // rejected by config validation
            }
            let convs: &[Conv] = if kf == Format::String && vf == Format::String {
                &[Conv::Str]
            } else {
                &[Conv::Str, Conv::Auto, Conv::Keep]
            };
            for &conv in convs {
                out.push(matrix_case(mode, kf, vf, conv));
            }
        }
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kafka_pk_mode_every_format_and_conversion() {
    let cases = matrix(PkMode::Kafka);
    assert_eq!(cases.len(), 10);
    run(cases).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn record_key_pk_mode_every_format_and_conversion() {
    let cases = matrix(PkMode::RecordKey);
    assert_eq!(cases.len(), 10);
    run(cases).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn record_value_pk_mode_every_format_and_conversion() {
    let cases = matrix(PkMode::RecordValue);
    assert_eq!(cases.len(), 6);
    run(cases).await;
}

// ----- put vs update, delete modes ----------------------------------------

/// record_key with a whole string key as the STRING column `id`, JSON
/// values, auto types with integers kept.
fn keyed_case(
    name: &str,
    write_mode: &str,
    delete_mode: &str,
    messages: &[(Option<&str>, Option<&str>)],
    rows: Vec<(&str, Cells)>,
    dead: Vec<(i64, &'static str)>,
) -> Case {
    Case {
        name: name.into(),
        partitions: 1,
        wide_column: format!(
            "key_format = \"string\"\nvalue_format = \"json\"\njson_conversion = \"auto\"\nkeep_integers = true\n\
             primary_key_mode = \"record_key\"\nprimary_key = [{{ name = \"id\", type = \"string\" }}]\n\
             write_mode = \"{write_mode}\"\ndelete_mode = \"{delete_mode}\"\n"
        ),
        extra: String::new(),
        pk: vec!["id"],
        messages: messages.iter().map(|(k, v)| msg(0, *k, *v)).collect(),
        rows: rows
            .into_iter()
            .map(|(id, c)| (vec![pk_s("id", id)], c))
            .collect(),
        dead: dead.into_iter().map(|(o, code)| (0, o, code, "")).collect(),
    }
}

fn i(v: i64) -> Value {
    Value::Integer(v)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn put_replaces_update_merges_and_every_delete_mode() {
    let two = [
        (Some("k1"), Some(r#"{"a":1,"b":"x"}"#)),
        (Some("k1"), Some(r#"{"b":"y","c":true}"#)),
    ];
    let cases = vec![
        // put: the second message replaces the row.
        keyed_case(
            "put",
            "put",
            "none",
            &two,
            vec![("k1", cells(&[("b", s("y")), ("c", Value::Boolean(true))]))],
            vec![],
        ),
        // update: the second message's columns are upserted, `a` kept.
        keyed_case(
            "update",
            "update",
            "none",
            &two,
            vec![(
                "k1",
                cells(&[("a", i(1)), ("b", s("y")), ("c", Value::Boolean(true))]),
            )],
            vec![],
        ),
        // none (put): a tombstone is an error record; nulls are skipped;
        // an all-null put writes its primary key alone (the page: put
        // exports records with empty values in overwrite mode).
        keyed_case(
            "del-none",
            "put",
            "none",
            &[
                (Some("k1"), Some(r#"{"a":1,"b":2}"#)),
                (Some("k1"), None),
                (Some("k2"), Some(r#"{"a":1,"b":null}"#)),
                (Some("k3"), Some(r#"{"a":null}"#)),
            ],
            vec![
                ("k1", cells(&[("a", i(1)), ("b", i(2))])),
                ("k2", cells(&[("a", i(1))])),
                ("k3", cells(&[])),
            ],
            vec![(1, "tombstone")],
        ),
        // row (put): a tombstone deletes the row (also a missing one);
        // put replaces, so a null column disappears with the old row.
        keyed_case(
            "del-row",
            "put",
            "row",
            &[
                (Some("k1"), Some(r#"{"a":1}"#)),
                (Some("k1"), None),
                (Some("k2"), Some(r#"{"a":1,"b":2}"#)),
                (Some("k2"), Some(r#"{"a":null,"b":3}"#)),
                (Some("k3"), Some(r#"{"a":1}"#)),
                (Some("k4"), None),
            ],
            vec![("k2", cells(&[("b", i(3))])), ("k3", cells(&[("a", i(1))]))],
            vec![],
        ),
        // none (update): nulls skipped, all-null is an error record, a
        // tombstone is an error record.
        keyed_case(
            "del-none-upd",
            "update",
            "none",
            &[
                (Some("k1"), Some(r#"{"a":1,"b":2}"#)),
                (Some("k1"), Some(r#"{"a":null}"#)),
                (Some("k1"), Some(r#"{"b":null,"c":3}"#)),
                (Some("k2"), Some(r#"{"a":1}"#)),
                (Some("k2"), None),
            ],
            vec![
                ("k1", cells(&[("a", i(1)), ("b", i(2)), ("c", i(3))])),
                ("k2", cells(&[("a", i(1))])),
            ],
            vec![(1, "all_null"), (4, "tombstone")],
        ),
        // row (update): a tombstone deletes the row, a later update
        // recreates it; nulls are skipped; all-null is an error record.
        keyed_case(
            "del-row-upd",
            "update",
            "row",
            &[
                (Some("k1"), Some(r#"{"a":1,"b":2}"#)),
                (Some("k1"), Some(r#"{"b":null,"c":3}"#)),
                (Some("k1"), Some(r#"{"a":null,"b":null}"#)),
                (Some("k2"), Some(r#"{"a":1}"#)),
                (Some("k2"), None),
                (Some("k2"), Some(r#"{"z":9}"#)),
            ],
            vec![
                ("k1", cells(&[("a", i(1)), ("b", i(2)), ("c", i(3))])),
                ("k2", cells(&[("z", i(9))])),
            ],
            vec![(2, "all_null")],
        ),
        // column (update): a null field deletes its column (even when all
        // fields are null); a tombstone is an error record.
        keyed_case(
            "del-col",
            "update",
            "column",
            &[
                (Some("k1"), Some(r#"{"a":1,"b":2,"c":3}"#)),
                (Some("k1"), Some(r#"{"a":null,"d":4}"#)),
                (Some("k2"), Some(r#"{"a":1}"#)),
                (Some("k2"), None),
                (Some("k1"), Some(r#"{"b":null}"#)),
            ],
            vec![
                ("k1", cells(&[("c", i(3)), ("d", i(4))])),
                ("k2", cells(&[("a", i(1))])),
            ],
            vec![(3, "tombstone")],
        ),
        // row_and_column (update): both.
        keyed_case(
            "del-rowcol",
            "update",
            "row_and_column",
            &[
                (Some("k1"), Some(r#"{"a":1,"b":2}"#)),
                (Some("k1"), Some(r#"{"a":null}"#)),
                (Some("k2"), Some(r#"{"a":1}"#)),
                (Some("k2"), None),
                (Some("k3"), Some(r#"{"x":1,"y":null}"#)),
                (Some("k1"), Some(r#"{"c":null,"e":"e"}"#)),
            ],
            vec![
                ("k1", cells(&[("b", i(2)), ("e", s("e"))])),
                ("k3", cells(&[("x", i(1))])),
            ],
            vec![],
        ),
    ];
    run(cases).await;
}

// ----- primary-key types ---------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn integer_primary_keys_accept_integer_strings_and_reject_floats() {
    let json_key = Case {
        name: "int-pk-json".into(),
        partitions: 1,
        wide_column: "key_format = \"json\"\nvalue_format = \"json\"\nprimary_key_mode = \"record_key\"\n\
                      primary_key = [{ name = \"tenant\", type = \"string\" }, { name = \"id\", type = \"integer\" }]\n"
            .into(),
        extra: String::new(),
        pk: vec!["tenant", "id"],
        messages: vec![
            msg(0, Some(r#"{"tenant":"t","id":"42"}"#), Some(r#"{"v":"a"}"#)),
            msg(0, Some(r#"{"tenant":"t","id":-5}"#), Some(r#"{"v":"b"}"#)),
            msg(0, Some(r#"{"tenant":"t","id":"-7"}"#), Some(r#"{"v":"c"}"#)),
            msg(0, Some(r#"{"tenant":"t","id":1.5}"#), Some(r#"{"v":"x"}"#)),
            msg(0, Some(r#"{"tenant":"t","id":2.0}"#), Some(r#"{"v":"x"}"#)),
            msg(0, Some(r#"{"tenant":"t","id":"1.5"}"#), Some(r#"{"v":"x"}"#)),
            msg(0, Some(r#"{"tenant":"t"}"#), Some(r#"{"v":"x"}"#)),
            msg(0, Some(r#"{"tenant":"u","id":"007"}"#), Some(r#"{"v":"d"}"#)),
            // A number for a STRING key column is its JSON text; a value
            // field named like a key column is not a column.
            msg(
                0,
                Some(r#"{"tenant":8,"id":9,"extra":"e"}"#),
                Some(r#"{"v":"e","id":"ignored"}"#),
            ),
        ],
        rows: vec![
            (vec![pk_s("tenant", "8"), pk_i("id", 9)], cells(&[("extra", s("e")), ("v", s("e"))])),
            (vec![pk_s("tenant", "t"), pk_i("id", -7)], cells(&[("v", s("c"))])),
            (vec![pk_s("tenant", "t"), pk_i("id", -5)], cells(&[("v", s("b"))])),
            (vec![pk_s("tenant", "t"), pk_i("id", 42)], cells(&[("v", s("a"))])),
            (vec![pk_s("tenant", "u"), pk_i("id", 7)], cells(&[("v", s("d"))])),
        ],
        dead: vec![
            (0, 3, "bad_pk_type", "float"),
            (0, 4, "bad_pk_type", "float"),
            (0, 5, "bad_pk_type", "\"id\""),
            (0, 6, "missing_pk_field", "\"id\""),
        ],
    };
    let string_key = Case {
        name: "int-pk-str".into(),
        partitions: 1,
        wide_column: "key_format = \"string\"\nvalue_format = \"string\"\nprimary_key_mode = \"record_key\"\n\
                      primary_key = [{ name = \"id\", type = \"integer\" }]\n"
            .into(),
        extra: String::new(),
        pk: vec!["id"],
        messages: vec![
            msg(0, Some("17"), Some("hello")),
            msg(0, Some("-3"), Some("x y")),
            msg(0, Some("x1"), Some("no")),
            msg(0, Some("1.5"), Some("no")),
        ],
        rows: vec![
            (vec![pk_i("id", -3)], cells(&[("value", s("x y"))])),
            (vec![pk_i("id", 17)], cells(&[("value", s("hello"))])),
        ],
        dead: vec![
            (0, 2, "bad_pk_type", "integer"),
            (0, 3, "bad_pk_type", "integer"),
        ],
    };
    run(vec![json_key, string_key]).await;
}

// ----- per-key order -------------------------------------------------------

/// `keys` keys over 3 partitions, `per_key` changes each, interleaved; small
/// batches and many requests in flight, so reordering would show.
fn order_case(name: &str, write_mode: &str, keys: usize, per_key: i64) -> Case {
    let mut messages = Vec::new();
    for j in 0..per_key {
        for k in 0..keys {
            let value = if j == 0 {
                format!(r#"{{"v":{j},"first":true}}"#)
            } else {
                format!(r#"{{"v":{j}}}"#)
            };
            messages.push(((k % 3) as i32, Some(format!("hot-{k}")), Some(value)));
        }
    }
    let last = per_key - 1;
    let rows = (0..keys)
        .map(|k| {
            let c = if write_mode == "update" {
                cells(&[("first", Value::Boolean(true)), ("v", i(last))])
            } else {
                cells(&[("v", i(last))])
            };
            (vec![pk_s("id", &format!("hot-{k}"))], c)
        })
        .collect();
    Case {
        name: name.into(),
        partitions: 3,
        wide_column: format!(
            "key_format = \"string\"\njson_conversion = \"auto\"\nkeep_integers = true\n\
             primary_key_mode = \"record_key\"\nprimary_key = [{{ name = \"id\", type = \"string\" }}]\n\
             write_mode = \"{write_mode}\"\n"
        ),
        extra: "[writer]\nmax_batch_rows = 7\nlinger_ms = 0\nmax_in_flight_requests = 8\n".into(),
        pk: vec!["id"],
        messages,
        rows,
        dead: vec![],
    }
}

/// Updates and tombstones alternating on each key (row deletes on): even
/// keys end with a tombstone (no row), odd keys with an update after a
/// tombstone (only that update's column).
fn order_delete_case(keys: usize, per_key: i64) -> Case {
    let mut messages = Vec::new();
    for j in 0..=per_key {
        for k in 0..keys {
            let len = per_key + (k % 2) as i64;
            if j >= len {
                continue;
            }
            let value = (j % 2 == 0).then(|| format!(r#"{{"v{}":{j}}}"#, j % 3));
            messages.push(((k % 3) as i32, Some(format!("hot-{k}")), value));
        }
    }
    let rows = (0..keys)
        .filter(|k| k % 2 == 1)
        .map(|k| {
            (
                vec![pk_s("id", &format!("hot-{k}"))],
                cells(&[(&format!("v{}", per_key % 3), i(per_key))]),
            )
        })
        .collect();
    Case {
        name: "order-delete".into(),
        partitions: 3,
        wide_column: "key_format = \"string\"\njson_conversion = \"auto\"\nkeep_integers = true\n\
                      primary_key_mode = \"record_key\"\nprimary_key = [{ name = \"id\", type = \"string\" }]\n\
                      write_mode = \"update\"\ndelete_mode = \"row_and_column\"\n"
            .into(),
        extra: "[writer]\nmax_batch_rows = 7\nlinger_ms = 0\nmax_in_flight_requests = 8\n".into(),
        pk: vec!["id"],
        messages,
        rows,
        dead: vec![],
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn many_changes_to_one_key_end_with_the_last() {
    run(vec![
        order_case("order-update", "update", 6, 150),
        order_case("order-put", "put", 6, 150),
        order_delete_case(6, 100),
    ])
    .await;
}
