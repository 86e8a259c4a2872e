//! One test per rule: a config built from TOML lines, and the exact error.
//! The settings added for the product page's semantics are in [`page`].

mod page;

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

// ---- connector and kafka -------------------------------------------------

#[test]
fn connector_name_characters() {
    for (name, problem) in [
        ("", "the name is empty"),
        ("-sink", "the name starts with '-'"),
        ("Orders", "'O' is not allowed"),
        ("orders_sink", "'_' is not allowed"),
    ] {
        let e = error(&[("connector", &format!("name = \"{name}\""))]);
        assert!(
            e.starts_with(&format!("connector.name = \"{name}\": {problem}; use 1-48")),
            "{e}"
        );
    }
    ok(&[("connector", "name = \"0-a-\"")]);
}

#[test]
fn bootstrap_servers_are_host_port() {
    for bad in [
        "",
        " ",
        "broker",
        "broker:x",
        "broker:0",
        ":9092",
        "a:9092,,b:9092",
    ] {
        let (key, _) = key_value(&[("kafka", &format!("bootstrap_servers = \"{bad}\""))]);
        assert_eq!(key, "kafka.bootstrap_servers", "{bad}");
    }
    assert_eq!(
        error(&[("kafka", "bootstrap_servers = \"a:9092,b\"")]),
        "kafka.bootstrap_servers = \"a:9092,b\": \"b\" is not host:port; use a comma-separated \
         host:port list such as \"broker1:9092,broker2:9092\""
    );
    ok(&[(
        "kafka",
        "bootstrap_servers = \"[::1]:9092, localhost:9093\"",
    )]);
}

#[test]
fn topic_names() {
    assert_eq!(
        error(&[("kafka", "topic = \"my topic\"")]),
        "kafka.topic = \"my topic\": ' ' is not allowed; a Kafka topic name is 1-249 \
         characters of letters, digits, '.', '_' and '-', and not \".\" or \"..\""
    );
    let long = "t".repeat(250);
    assert_eq!(
        key_value(&[("kafka", &format!("topic = \"{long}\""))]),
        kv("kafka.topic", &format!("{long:?}"))
    );
    ok(&[("kafka", &format!("topic = \"{}\"", "t".repeat(249)))]);
    for key in [
        "offset_topic",
        "config_topic",
        "status_topic",
        "dead_letter_topic",
        "error_topic",
    ] {
        assert_eq!(
            key_value(&[("kafka", &format!("{key} = \"bad/topic\""))]),
            kv(&format!("kafka.{key}"), "\"bad/topic\"")
        );
        assert_eq!(
            key_value(&[("kafka", &format!("{key} = \"..\""))]),
            kv(&format!("kafka.{key}"), "\"..\"")
        );
    }
}

#[test]
fn internal_topics_do_not_collide() {
    assert_eq!(
        error(&[("kafka", "dead_letter_topic = \"orders\"")]),
        "kafka.dead_letter_topic = \"orders\": this is also kafka.topic, the source topic; the \
         sink would read its own records: choose another name"
    );
    // A source topic equal to a default internal name is caught too.
    assert_eq!(
        key_value(&[("kafka", "topic = \"connect-error-orders-sink\"")]),
        kv("kafka.dead_letter_topic", "\"connect-error-orders-sink\"")
    );
    assert_eq!(
        key_value(&[("kafka", "status_topic = \"connect-config-orders-sink\"")]),
        kv("kafka.status_topic", "\"connect-config-orders-sink\"")
    );
    assert_eq!(
        key_value(&[("kafka", "error_topic = \"connect-offset-orders-sink\"")]),
        kv("kafka.error_topic", "\"connect-offset-orders-sink\"")
    );
    // The product page lets dead-letter and error records share a topic.
    ok(&[
        ("kafka", "dead_letter_topic = \"errs\""),
        ("kafka", "error_topic = \"errs\""),
    ]);
}

#[test]
fn kafka_timeouts() {
    assert_eq!(
        error(&[("kafka", "session_timeout_ms = 999")]),
        "kafka.session_timeout_ms = 999: allowed values are 1000 to 300000 (milliseconds)"
    );
    assert_eq!(
        key_value(&[("kafka", "session_timeout_ms = 300001")]),
        kv("kafka.session_timeout_ms", "300001")
    );
    assert_eq!(
        error(&[("kafka", "commit_interval_ms = 99")]),
        "kafka.commit_interval_ms = 99: allowed values are 100 (milliseconds) or more"
    );
    assert_eq!(
        error(&[
            ("kafka", "session_timeout_ms = 6000"),
            ("kafka", "drain_timeout_ms = 6000")
        ]),
        "kafka.drain_timeout_ms = 6000: allowed values are 1 to 5999 (below \
         kafka.session_timeout_ms = 6000, so a revoke finishes before the group evicts this \
         consumer); remove the key for the default, half of kafka.session_timeout_ms"
    );
    assert_eq!(
        key_value(&[("kafka", "drain_timeout_ms = 0")]),
        kv("kafka.drain_timeout_ms", "0")
    );
    assert_eq!(ok(&[]).kafka.drain_timeout_ms(), 5000);
}

#[test]
fn kafka_client_properties() {
    assert_eq!(
        error(&[("kafka.client", "\"enable.auto.commit\" = \"true\"")]),
        "kafka.client.\"enable.auto.commit\" = \"true\": the sink commits offsets itself, only \
         after Tablestore acknowledged the rows (at least once); remove it from [kafka.client]"
    );
    assert_eq!(
        key_value(&[("kafka.client", "\"group.id\" = \"g\"")]),
        kv("kafka.client.\"group.id\"", "\"g\"")
    );
    assert_eq!(
        key_value(&[("kafka.client", "\"security.protocol\" = \"tls\"")]),
        kv("kafka.client.\"security.protocol\"", "\"tls\"")
    );
    assert_eq!(
        key_value(&[("kafka.client", "\"security.protocol\" = \"sasl_ssl\"")]),
        kv("kafka.client.\"security.protocol\"", "\"sasl_ssl\"")
    );
    assert_eq!(
        key_value(&[
            ("kafka.client", "\"security.protocol\" = \"sasl_ssl\""),
            ("kafka.client", "\"sasl.mechanism\" = \"GSSAPI\""),
        ]),
        kv("kafka.client.\"sasl.mechanism\"", "\"GSSAPI\"")
    );
    let secret = "s3cret-value";
    let e = error(&[
        ("kafka.client", "\"security.protocol\" = \"SASL_SSL\""),
        ("kafka.client", "\"sasl.mechanisms\" = \"SCRAM-SHA-256\""),
        ("kafka.client", &format!("\"sasl.password\" = \"{secret}\"")),
    ]);
    assert!(
        e.starts_with(
            "kafka.client.\"sasl.mechanisms\" = \"SCRAM-SHA-256\": SCRAM-SHA-256 needs \
             sasl.username and sasl.password in [kafka.client], and sasl.username is not set"
        ),
        "{e}"
    );
    assert!(!e.contains(secret));
    ok(&[
        ("kafka.client", "\"security.protocol\" = \"SASL_SSL\""),
        ("kafka.client", "\"sasl.mechanism\" = \"PLAIN\""),
        ("kafka.client", "\"sasl.username\" = \"u\""),
        ("kafka.client", "\"sasl.password\" = \"p\""),
        ("kafka.client", "\"fetch.max.bytes\" = \"1048576\""),
    ]);
}

// ---- tablestore ----------------------------------------------------------

const REMOTE: [(&str, &str); 3] = [
    (
        "tablestore",
        "endpoint = \"https://inst.cn-hangzhou.ots.aliyuncs.com\"",
    ),
    ("tablestore", "access_key_id = \"ak\""),
    ("tablestore", "access_key_secret = \"sk\""),
];

#[test]
fn endpoint_is_embedded_or_url() {
    assert_eq!(
        error(&[("tablestore", "endpoint = \"inst.ots.aliyuncs.com\"")]),
        "tablestore.endpoint = \"inst.ots.aliyuncs.com\": use \"embedded\" (the emulator, run \
         inside the sink) or an http:// or https:// URL such as \
         \"https://<instance>.cn-hangzhou.ots.aliyuncs.com\""
    );
    assert_eq!(
        key_value(&[("tablestore", "endpoint = \"https://\"")]),
        kv("tablestore.endpoint", "\"https://\"")
    );
    ok(&REMOTE);
    assert_eq!(
        key_value(&[("tablestore", "data_dir = \"\"")]),
        kv("tablestore.data_dir", "\"\"")
    );
    let mut http = REMOTE.to_vec();
    http[0] = ("tablestore", "endpoint = \"http://127.0.0.1:8800\"");
    ok(&http);
}

#[test]
fn credentials_for_remote_endpoints() {
    let mut c = REMOTE.to_vec();
    c[1] = ("tablestore", "access_key_id = \"\"");
    assert_eq!(key_value(&c), kv("tablestore.access_key_id", "\"\""));
    let mut c = REMOTE.to_vec();
    c[2] = ("tablestore", "access_key_secret = \"\"");
    assert_eq!(key_value(&c), kv("tablestore.access_key_secret", "\"\""));
    // The embedded emulator has its own defaults.
    ok(&[("tablestore", "access_key_id = \"\"")]);
}

#[test]
fn instance_is_named() {
    assert_eq!(
        error(&[("tablestore", "instance = \"\"")]),
        "tablestore.instance = \"\": the Tablestore instance name must be non-empty, without \
         spaces (e.g. \"my-instance\")"
    );
}

#[test]
fn table_names_per_model() {
    assert_eq!(
        error(&[("tablestore", "table = \"9orders\"")]),
        "tablestore.table = \"9orders\": it starts with '9'; use 1-255 bytes of letters, \
         digits and '_', starting with a letter or '_'"
    );
    assert_eq!(
        key_value(&[("tablestore", "table = \"order-s\"")]),
        kv("tablestore.table", "\"order-s\"")
    );
    let long = "T".repeat(255);
    ok(&[("tablestore", &format!("table = \"{long}\""))]);
    assert_eq!(
        key_value(&[("tablestore", &format!("table = \"{long}x\""))]).0,
        "tablestore.table"
    );
    // TimeSeries tables: 1-128 characters.
    let ts = "m".repeat(129);
    assert_eq!(
        error(&[TS, METRIC, ("tablestore", &format!("table = \"{ts}\""))]),
        format!(
            "tablestore.table = \"{ts}\": the name is 129 characters long; a TimeSeries table \
             name is 1-128 characters of letters, digits and '_', not starting with a digit"
        )
    );
    ok(&[
        TS,
        METRIC,
        ("tablestore", &format!("table = \"{}\"", &ts[1..])),
    ]);
}

#[test]
fn model_sections() {
    assert_eq!(
        error(&[TS]),
        "tablestore.model = \"timeseries\": the [timeseries] section is missing: add it with at \
         least metric_name_field (see config/timeseries.toml), or set tablestore.model = \
         \"wide_column\""
    );
    assert_eq!(
        key_value(&[METRIC]),
        kv("tablestore.model", "\"wide_column\"")
    );
    let e = error(&[TS, ("timeseries", "tag_fields = [\"host\"]")]);
    assert!(e.contains("missing field `metric_name_field`"), "{e}");
    // [wide_column] settings are ignored under the TimeSeries model.
    ok(&[TS, METRIC, ("wide_column", "delete_mode = \"column\"")]);
}

// ---- wide column ---------------------------------------------------------

const RECORD_KEY: (&str, &str) = ("wide_column", "primary_key_mode = \"record_key\"");
const PK_ID: (&str, &str) = (
    "wide_column",
    "primary_key = [{ name = \"id\", type = \"string\" }]",
);

#[test]
fn primary_key_only_in_record_modes() {
    assert_eq!(
        error(&[PK_ID]),
        "wide_column.primary_key = [\"id\"]: with primary_key_mode = \"kafka\" the primary key \
         is always topic_partition + offset: remove primary_key, or set primary_key_mode = \
         \"record_key\" or \"record_value\" to take it from the message"
    );
    assert_eq!(
        error(&[RECORD_KEY]),
        "wide_column.primary_key = []: 0 columns; with primary_key_mode = \"record_key\" a \
         table has 1 to 4 primary key columns: declare the columns, e.g. primary_key = [{ name \
         = \"id\", type = \"string\" }]"
    );
    ok(&[RECORD_KEY, PK_ID]);
    // The Java plugin's column names are fine as record PK names.
    ok(&[
        RECORD_KEY,
        (
            "wide_column",
            "primary_key = [{ name = \"topic_partition\", type = \"string\" }, { name = \
             \"offset\", type = \"integer\" }]",
        ),
    ]);
}

#[test]
fn primary_key_column_names() {
    assert_eq!(
        error(&[
            RECORD_KEY,
            (
                "wide_column",
                "primary_key = [{ name = \"id\", type = \"string\" }, { name = \"user-id\", type \
                 = \"string\" }]"
            ),
        ]),
        "wide_column.primary_key[1].name = \"user-id\": '-' is not allowed; use 1-255 bytes of \
         letters, digits and '_', starting with a letter or '_'"
    );
    assert_eq!(
        error(&[
            RECORD_KEY,
            (
                "wide_column",
                "primary_key = [{ name = \"id\", type = \"string\" }, { name = \"id\", type = \
                 \"integer\" }]"
            ),
        ]),
        "wide_column.primary_key[1].name = \"id\": already declared as \
         wide_column.primary_key[0]: list each primary key column once"
    );
}

#[test]
fn record_value_needs_json_values() {
    assert_eq!(
        error(&[
            ("wide_column", "primary_key_mode = \"record_value\""),
            ("wide_column", "value_format = \"string\""),
            PK_ID,
        ]),
        "wide_column.value_format = \"string\": primary_key_mode = \"record_value\" takes the \
         primary key from fields of a JSON value: set value_format = \"json\""
    );
}

#[test]
fn string_key_is_one_column() {
    let two = (
        "wide_column",
        "primary_key = [{ name = \"a\", type = \"string\" }, { name = \"b\", type = \"string\" }]",
    );
    assert_eq!(
        error(&[RECORD_KEY, ("wide_column", "key_format = \"string\""), two]),
        "wide_column.primary_key = [\"a\", \"b\"]: with primary_key_mode = \"record_key\" and \
         key_format = \"string\" the whole key is the primary key, so declare exactly 1 column \
         (or set key_format = \"json\" to take up to 4 fields from a JSON key)"
    );
    ok(&[
        RECORD_KEY,
        ("wide_column", "key_format = \"string\""),
        PK_ID,
    ]);
    ok(&[RECORD_KEY, two]);
}

#[test]
fn column_deletes_are_accepted_with_put_and_with_update() {
    // The page: with put, any delete mode may be set (see `explain` for
    // what it means); `check` and the startup warning explain it.
    ok(&[
        RECORD_KEY,
        PK_ID,
        ("wide_column", "delete_mode = \"column\""),
    ]);
    ok(&[
        RECORD_KEY,
        PK_ID,
        ("wide_column", "delete_mode = \"row_and_column\""),
    ]);
    ok(&[RECORD_KEY, PK_ID, ("wide_column", "delete_mode = \"row\"")]);
    ok(&[
        RECORD_KEY,
        PK_ID,
        ("wide_column", "delete_mode = \"row_and_column\""),
        ("wide_column", "write_mode = \"update\""),
    ]);
    assert_eq!(
        key_value(&[
            ("wide_column", "primary_key_mode = \"record_value\""),
            PK_ID,
            ("wide_column", "delete_mode = \"column\""),
            ("wide_column", "write_mode = \"update\""),
        ]),
        kv("wide_column.delete_mode", "\"column\"")
    );
}

#[test]
fn keep_integers_needs_auto() {
    assert_eq!(
        error(&[("wide_column", "keep_integers = true")]),
        "wide_column.keep_integers = true: keep_integers only changes how json_conversion = \
         \"auto\" types numbers (INTEGER instead of DOUBLE), and json_conversion is \"string\": \
         set json_conversion = \"auto\" or remove keep_integers"
    );
    ok(&[
        ("wide_column", "keep_integers = true"),
        ("wide_column", "json_conversion = \"auto\""),
    ]);
}

// ---- timeseries ----------------------------------------------------------

#[test]
fn metric_name_field_is_set() {
    assert_eq!(
        error(&[TS, ("timeseries", "metric_name_field = \" \"")]),
        "timeseries.metric_name_field = \" \": name the JSON field holding the metric name \
         (e.g. \"measurement\"), or \"<topic>\" to use the topic name"
    );
    ok(&[TS, ("timeseries", "metric_name_field = \"<topic>\"")]);
}

#[test]
fn optional_key_fields_are_not_empty() {
    assert_eq!(
        error(&[TS, METRIC, ("timeseries", "timestamp_field = \"\"")]),
        "timeseries.timestamp_field = \"\": name a JSON field, or remove the key to use the \
         Kafka record timestamp"
    );
    assert_eq!(
        key_value(&[TS, METRIC, ("timeseries", "data_source_field = \"\"")]),
        kv("timeseries.data_source_field", "\"\"")
    );
}

#[test]
fn key_fields_are_distinct() {
    assert_eq!(
        error(&[
            TS,
            METRIC,
            ("timeseries", "timestamp_field = \"measurement\"")
        ]),
        "timeseries.timestamp_field = \"measurement\": this field is already \
         timeseries.metric_name_field; metric name, data source, tags and timestamp must be \
         different fields"
    );
    assert_eq!(
        key_value(&[
            TS,
            METRIC,
            ("timeseries", "data_source_field = \"host\""),
            ("timeseries", "tag_fields = [\"region\", \"host\"]"),
        ]),
        kv("timeseries.tag_fields[1]", "\"host\"")
    );
    // "<topic>" is not a field, so a field called "<topic>" cannot collide.
    ok(&[
        TS,
        ("timeseries", "metric_name_field = \"<topic>\""),
        ("timeseries", "tag_fields = [\"<topic>\"]"),
    ]);
}

#[test]
fn tag_fields() {
    assert_eq!(
        error(&[
            TS,
            METRIC,
            ("timeseries", "tag_fields = [\"a\", \"b\", \"a\"]")
        ]),
        "timeseries.tag_fields[2] = \"a\": already listed as timeseries.tag_fields[0]: list \
         each tag once"
    );
    assert_eq!(
        key_value(&[TS, METRIC, ("timeseries", "tag_fields = [\"a=b\"]")]),
        kv("timeseries.tag_fields[0]", "\"a=b\"")
    );
}

#[test]
fn field_names_follow_timeseries_limits() {
    assert_eq!(
        error(&[
            TS,
            METRIC,
            (
                "timeseries",
                "fields = [{ name = \"Start Time\", type = \"integer\" }]"
            ),
        ]),
        "timeseries.fields[0].name = \"Start Time\": ' ' is not allowed; a TimeSeries field \
         name is 1-128 bytes of lowercase letters, digits and '_', not starting with a digit and \
         not containing _m_name, _data_source, _tags, _time, _meta_update_time, _attributes; \
         rename the field, e.g. to \"starttime\""
    );
    for (bad, suggestion) in [
        ("9lives", "f9lives"),
        ("up_time", "uptime"),
        ("a.b", "a_b"),
        ("", "field"),
    ] {
        let e = error(&[
            TS,
            METRIC,
            (
                "timeseries",
                &format!("fields = [{{ name = \"{bad}\", type = \"double\" }}]"),
            ),
        ]);
        assert!(
            e.starts_with(&format!("timeseries.fields[0].name = \"{bad}\": ")),
            "{e}"
        );
        assert!(e.ends_with(&format!("e.g. to \"{suggestion}\"")), "{e}");
    }
    let long = "x".repeat(128);
    ok(&[
        TS,
        METRIC,
        (
            "timeseries",
            &format!("fields = [{{ name = \"{long}\", type = \"binary\" }}]"),
        ),
    ]);
}

#[test]
fn keep_integers_needs_detected_types() {
    assert_eq!(
        key_value(&[
            TS,
            METRIC,
            ("timeseries", "map_all_fields = false"),
            (
                "timeseries",
                "fields = [{ name = \"v\", type = \"double\" }]"
            ),
            ("timeseries", "keep_integers = true"),
        ]),
        kv("timeseries.keep_integers", "true")
    );
    ok(&[TS, METRIC, ("timeseries", "keep_integers = true")]);
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
