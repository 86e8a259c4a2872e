//! One test per rule: a config built from TOML lines, and the exact error.
//! The rules of each part are in [`kafka`], [`tablestore`] and
//! [`timeseries`]; the settings added for the product page's semantics
//! are in [`page`].

mod kafka;
mod page;
mod tablestore;
mod timeseries;

use super::super::{substitute_env, Config};
use super::ConfigError;

/// Sections in file order, with the lines every test config starts from.
const BASE: [(&str, &[&str]); 8] = [
    ("connector", &["name = \"orders-sink\""]),
    (
        "kafka",
        &[
            "bootstrap_servers = \"127.0.0.1:9092\"",
            "topic = \"orders\"",
        ],
    ),
    ("kafka.client", &[]),
    (
        "tablestore",
        &["endpoint = \"embedded\"", "table = \"orders\""],
    ),
    ("wide_column", &[]),
    ("timeseries", &[]),
    ("writer", &[]),
    ("metrics", &[]),
];

/// `record_key` mode and its one string primary key column.
const RECORD_KEY: (&str, &str) = ("wide_column", "primary_key_mode = \"record_key\"");
const PK_ID: (&str, &str) = (
    "wide_column",
    "primary_key = [{ name = \"id\", type = \"string\" }]",
);

/// The base config with `edits` applied: `(section, "key = value")` replaces
/// that key's line in the section, or adds the line.
fn toml_with(edits: &[(&str, &str)]) -> String {
    let key_of = |line: &str| {
        line.split('=')
            .next()
            .unwrap_or_default()
            .trim()
            .to_string()
    };
    let mut out = String::new();
    for (section, base) in BASE {
        let mut lines: Vec<String> = base.iter().map(|l| l.to_string()).collect();
        for (_, edit) in edits.iter().filter(|(s, _)| *s == section) {
            match lines.iter().position(|l| key_of(l) == key_of(edit)) {
                Some(at) => lines[at] = edit.to_string(),
                None => lines.push(edit.to_string()),
            }
        }
        if !lines.is_empty() {
            out.push_str(&format!("[{section}]\n{}\n", lines.join("\n")));
        }
    }
    out
}

/// What `config::load` does, from a string.
fn parse(text: &str) -> Result<Config, ConfigError> {
    let text = substitute_env(text)?;
    let config: Config = toml::from_str(&text).map_err(|e| ConfigError::Parse {
        path: "test.toml".into(),
        error: e.to_string(),
    })?;
    config.validate()?;
    Ok(config)
}

fn error(edits: &[(&str, &str)]) -> String {
    match parse(&toml_with(edits)) {
        Ok(_) => panic!("accepted:\n{}", toml_with(edits)),
        Err(e) => e.to_string(),
    }
}

fn ok(edits: &[(&str, &str)]) -> Config {
    parse(&toml_with(edits)).unwrap_or_else(|e| panic!("{e}\n{}", toml_with(edits)))
}

/// The key and quoted value of an `Invalid` error.
fn key_value(edits: &[(&str, &str)]) -> (String, String) {
    match parse(&toml_with(edits)) {
        Err(ConfigError::Invalid { key, value, .. }) => (key, value),
        other => panic!("expected Invalid, got {other:?}"),
    }
}

fn kv(key: &str, value: &str) -> (String, String) {
    (key.to_string(), value.to_string())
}

const TS: (&str, &str) = ("tablestore", "model = \"timeseries\"");
const METRIC: (&str, &str) = ("timeseries", "metric_name_field = \"measurement\"");

// ---- the rules the issue names ------------------------------------------

#[test]
fn consumer_concurrency_5() {
    assert_eq!(
        error(&[("kafka", "consumer_concurrency = 5")]),
        "kafka.consumer_concurrency = 5: allowed values are 1, 2, 3, 6 or 12"
    );
    for n in [1, 2, 3, 6, 12] {
        ok(&[("kafka", &format!("consumer_concurrency = {n}"))]);
    }
}

#[test]
fn name_of_49_characters() {
    let name = "a".repeat(49);
    assert_eq!(
        error(&[("connector", &format!("name = \"{name}\""))]),
        format!(
            "connector.name = \"{name}\": the name is 49 characters long; use 1-48 characters: \
             digits, lowercase letters and '-', not starting with '-'"
        )
    );
    ok(&[("connector", &format!("name = \"{}\"", "a".repeat(48)))]);
}

#[test]
fn five_primary_key_columns() {
    let pk =
        "primary_key = [{ name = \"a\", type = \"string\" }, { name = \"b\", type = \"string\" }, \
              { name = \"c\", type = \"integer\" }, { name = \"d\", type = \"string\" }, \
              { name = \"e\", type = \"string\" }]";
    assert_eq!(
        error(&[
            ("wide_column", "primary_key_mode = \"record_value\""),
            ("wide_column", pk),
        ]),
        "wide_column.primary_key = [\"a\", \"b\", \"c\", \"d\", \"e\"]: 5 columns; with \
         primary_key_mode = \"record_value\" a table has 1 to 4 primary key columns: remove 1"
    );
}

#[test]
fn delete_mode_without_record_key() {
    assert_eq!(
        error(&[("wide_column", "delete_mode = \"row\"")]),
        "wide_column.delete_mode = \"row\": deletes need primary_key_mode = \"record_key\" (a \
         tombstone has only its key to find the row by), and primary_key_mode is \"kafka\": set \
         delete_mode = \"none\" or primary_key_mode = \"record_key\""
    );
}

#[test]
fn group_not_starting_with_connect() {
    assert_eq!(
        error(&[("kafka", "group = \"orders-group\"")]),
        "kafka.group = \"orders-group\": the consumer group must be named connect-<task name>, \
         e.g. \"connect-orders-sink\"; rename it or remove the key to use that default"
    );
    assert_eq!(
        key_value(&[("kafka", "group = \"connect-\"")]),
        kv("kafka.group", "\"connect-\"")
    );
    assert_eq!(
        ok(&[("kafka", "group = \"connect-shared\"")]).group(),
        "connect-shared"
    );
}

#[test]
fn unknown_timestamp_unit_names_the_key() {
    let e = error(&[TS, METRIC, ("timeseries", "timestamp_unit = \"hours\"")]);
    assert!(e.starts_with("config file test.toml is not valid: "), "{e}");
    assert!(
        e.contains(
            "timeseries.timestamp_unit = \"hours\" is not a unit: use seconds, milliseconds, \
             microseconds or nanoseconds"
        ),
        "{e}"
    );
    let c = ok(&[
        TS,
        METRIC,
        ("timeseries", "timestamp_unit = \"NanoSeconds\""),
    ]);
    assert_eq!(
        c.timeseries.unwrap().timestamp_unit,
        crate::config::TimestampUnit::Nanoseconds
    );
}

#[test]
fn map_all_fields_false_without_fields() {
    assert_eq!(
        error(&[TS, METRIC, ("timeseries", "map_all_fields = false")]),
        "timeseries.fields = []: with map_all_fields = false only the listed fields are \
         written, and none is listed: add fields = [{ name = \"value\", type = \"double\" }, \
         ...] or set map_all_fields = true"
    );
}

#[test]
fn field_listed_twice() {
    assert_eq!(
        error(&[
            TS,
            METRIC,
            (
                "timeseries",
                "fields = [{ name = \"temp\", type = \"double\" }, { name = \"hum\", type = \
                 \"double\" }, { name = \"temp\", type = \"integer\" }]"
            ),
        ]),
        "timeseries.fields[2].name = \"temp\": already listed as timeseries.fields[0]: list \
         each field once"
    );
}

#[test]
fn field_colliding_with_a_key_field() {
    let fields = "fields = [{ name = \"temp\", type = \"double\" }, { name = \"host\", type = \
                  \"string\" }]";
    assert_eq!(
        error(&[
            TS,
            METRIC,
            ("timeseries", "tag_fields = [\"region\", \"host\"]"),
            ("timeseries", fields),
        ]),
        "timeseries.fields[1].name = \"host\": collides with a key field \
         (timeseries.tag_fields[1] = \"host\"); key fields identify the series or the time and \
         are not written as data fields: remove it from fields"
    );
    for (key, line) in [
        (
            "timeseries.metric_name_field",
            "metric_name_field = \"host\"",
        ),
        (
            "timeseries.data_source_field",
            "data_source_field = \"host\"",
        ),
        ("timeseries.timestamp_field", "timestamp_field = \"host\""),
    ] {
        let e = error(&[TS, METRIC, ("timeseries", line), ("timeseries", fields)]);
        assert!(
            e.contains(&format!("collides with a key field ({key} = \"host\")")),
            "{e}"
        );
    }
}

#[test]
fn unknown_key_is_rejected() {
    let e = error(&[("kafka", "topik = \"orders\"")]);
    assert!(e.starts_with("config file test.toml is not valid: "), "{e}");
    assert!(e.contains("unknown field `topik`"), "{e}");
    // toml's message shows the line, so the section is visible too.
    assert!(
        e.contains("line 6") && e.contains("topik = \"orders\""),
        "{e}"
    );
    let e = error(&[("wide_column", "delete = \"row\"")]);
    assert!(e.contains("unknown field `delete`"), "{e}");
}

#[test]
fn missing_env_variable_is_named() {
    let text = toml_with(&[(
        "tablestore",
        "access_key_id = \"${TSS_TEST_UNSET_VARIABLE_7F3A}\"",
    )]);
    let e = parse(&text).unwrap_err();
    assert_eq!(
        e,
        ConfigError::Env {
            name: "TSS_TEST_UNSET_VARIABLE_7F3A".into(),
            line: 9,
            problem: "is not set in the environment".into(),
        }
    );
    assert_eq!(
        e.to_string(),
        "environment variable ${TSS_TEST_UNSET_VARIABLE_7F3A} (line 9) is not set in the \
         environment"
    );
}

#[test]
fn full_valid_config_passes() {
    let text = r#"
[connector]
name = "orders-sink-2"

[kafka]
bootstrap_servers = "b1.example.com:9093, SASL_SSL://b2.example.com:9093"
topic = "orders.v1"
consumer_concurrency = 12
offset_reset = "latest"
failure_policy = "stop"
resource_creation = "manual"
group = "connect-orders"
offset_topic = "connect-offset-orders"
config_topic = "connect-config-orders"
status_topic = "connect-status-orders"
dead_letter_topic = "connect-error-orders"
error_topic = "connect-error-orders"
session_timeout_ms = 6000
commit_interval_ms = 1000
drain_timeout_ms = 5000

[kafka.client]
"security.protocol" = "SASL_SSL"
"sasl.mechanism" = "PLAIN"
"sasl.username" = "user"
"sasl.password" = "pw"
"ssl.ca.location" = "/etc/ssl/ca.pem"

[tablestore]
endpoint = "https://inst.cn-hangzhou.ots.aliyuncs.com"
instance = "inst"
access_key_id = "ak"
access_key_secret = "sk"
table = "orders_by_id"
auto_create_table = false
model = "wide_column"

[wide_column]
key_format = "json"
value_format = "json"
json_conversion = "auto"
keep_integers = true
primary_key_mode = "record_key"
primary_key = [{ name = "tenant", type = "string" }, { name = "id", type = "integer" }]
write_mode = "update"
delete_mode = "row_and_column"

[writer]
max_batch_rows = 200
max_batch_bytes = 4194304
linger_ms = 10
max_in_flight_requests = 64
max_in_flight_bytes = 4194304
retry_initial_ms = 10
retry_max_ms = 10
request_timeout_ms = 100
converter_threads = 64
client_threads = 64
pipeline_threads = 64

[metrics]
listen = "0.0.0.0:9464"
"#;
    let c = parse(text).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(c.wide_column.primary_key.len(), 2);
    // The base every other test starts from is valid too.
    ok(&[]);
}

// ---- writer and metrics --------------------------------------------------

#[test]
fn writer_ranges() {
    for (line, key, value) in [
        ("max_batch_rows = 0", "writer.max_batch_rows", "0"),
        ("max_batch_rows = 201", "writer.max_batch_rows", "201"),
        ("max_batch_bytes = 0", "writer.max_batch_bytes", "0"),
        (
            "max_batch_bytes = 4194305",
            "writer.max_batch_bytes",
            "4194305",
        ),
        ("linger_ms = 60001", "writer.linger_ms", "60001"),
        (
            "max_in_flight_requests = 0",
            "writer.max_in_flight_requests",
            "0",
        ),
        (
            "max_in_flight_requests = 65",
            "writer.max_in_flight_requests",
            "65",
        ),
        (
            "max_in_flight_bytes = 1048575",
            "writer.max_in_flight_bytes",
            "1048575",
        ),
        ("retry_initial_ms = 0", "writer.retry_initial_ms", "0"),
        (
            "retry_initial_ms = 10001",
            "writer.retry_initial_ms",
            "10001",
        ),
        ("request_timeout_ms = 99", "writer.request_timeout_ms", "99"),
        ("converter_threads = 0", "writer.converter_threads", "0"),
        ("converter_threads = 65", "writer.converter_threads", "65"),
        ("client_threads = 0", "writer.client_threads", "0"),
        ("client_threads = 65", "writer.client_threads", "65"),
        ("pipeline_threads = 0", "writer.pipeline_threads", "0"),
        ("pipeline_threads = 65", "writer.pipeline_threads", "65"),
        (
            "pipeline_threads = 5\nmax_in_flight_requests = 4",
            "writer.pipeline_threads",
            "5",
        ),
    ] {
        assert_eq!(key_value(&[("writer", line)]), kv(key, value), "{line}");
    }
    assert_eq!(
        error(&[("writer", "max_batch_rows = 500")]),
        "writer.max_batch_rows = 500: allowed values are 1 to 200 (Tablestore takes at most 200 \
         rows per request)"
    );
    assert_eq!(
        error(&[("writer", "max_in_flight_bytes = 2097152")]),
        "writer.max_in_flight_bytes = 2097152: allowed values are 4194304 bytes or more (at \
         least 1 MiB and at least writer.max_batch_bytes = 4194304, so a full batch fits)"
    );
    ok(&[
        ("writer", "max_in_flight_bytes = 1048576"),
        ("writer", "max_batch_bytes = 1048576"),
    ]);
}

#[test]
fn metrics_listen() {
    assert_eq!(
        error(&[("metrics", "listen = \"127.0.0.1:8800\"")]),
        "metrics.listen = \"127.0.0.1:8800\": this is also tablestore.embedded_listen, where the \
         embedded emulator listens: choose another port"
    );
    let c = ok(&[("metrics", "listen = \"[::]:9464\"")]);
    assert_eq!(c.metrics.listen.map(|a| a.port()), Some(9464));
    let e = error(&[("metrics", "listen = \"localhost\"")]);
    assert!(e.contains("listen = \"localhost\""), "{e}");
}
