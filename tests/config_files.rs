//! The shipped config files: every `config/*.toml` loads and validates
//! through `config::load`, `config/example.toml` documents every key, and
//! the ApsaraMQ example's secrets never reach its redacted form.

use std::path::{Path, PathBuf};
use std::sync::Once;

use serde_json::Value;
use tablestore_sink::config::{self, Config};

/// Values for the two secrets of `config/apsaramq-sasl-ssl.toml`, distinct
/// enough that finding them anywhere is a leak.
const KAFKA_SASL_PASSWORD: &str = "sasl-pw-9f3c2a71";
const TABLESTORE_ACCESS_KEY_SECRET: &str = "ots-secret-5be0d4c8";

fn config_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("config")
}

fn toml_files() -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(config_dir())
        .expect("config/ exists")
        .map(|entry| entry.expect("readable directory entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
        .collect();
    files.sort();
    files
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The `${NAME}` variables a file references.
fn env_vars(text: &str) -> Vec<String> {
    let mut names = Vec::new();
    let mut rest = text;
    while let Some(start) = rest.find("${") {
        let after = &rest[start + 2..];
        let Some(end) = after.find('}') else { break };
        names.push(after[..end].to_string());
        rest = &after[end + 1..];
    }
    names
}

/// Sets every variable the files reference, once per test process: the
/// two secrets to the values above, everything else to a dummy.
fn set_env() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        for file in toml_files() {
            for name in env_vars(&read(&file)) {
                let value = match name.as_str() {
                    "KAFKA_SASL_PASSWORD" => KAFKA_SASL_PASSWORD.to_string(),
                    "TABLESTORE_ACCESS_KEY_SECRET" => TABLESTORE_ACCESS_KEY_SECRET.to_string(),
                    other => format!("dummy-{}", other.to_ascii_lowercase()),
                };
                // Edition 2021: safe to call. Every test calls set_env()
                // before it reads the environment, and `Once` makes the
                // others wait until this is done.
                std::env::set_var(&name, value);
            }
        }
    });
}

fn load(name: &str) -> Config {
    set_env();
    let path = config_dir().join(name);
    config::load(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

#[test]
fn every_config_file_loads_and_validates() {
    set_env();
    let files = toml_files();
    let names: Vec<String> = files
        .iter()
        .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    for expected in [
        "example.toml",
        "minimal.toml",
        "timeseries.toml",
        "apsaramq-sasl-ssl.toml",
    ] {
        assert!(
            names.iter().any(|n| n == expected),
            "config/{expected} is missing"
        );
    }
    let failures: Vec<String> = files
        .iter()
        .filter_map(|path| {
            config::load(path)
                .err()
                .map(|e| format!("{}: {e}", path.display()))
        })
        .collect();
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

#[test]
fn examples_say_what_they_claim() {
    let minimal = load("minimal.toml");
    assert!(minimal.tablestore.is_embedded());
    assert_eq!(minimal.kafka.topic, "orders");
    assert_eq!(minimal.tablestore.table, "orders");
    assert_eq!(minimal.group(), "connect-orders-sink");

    let ts = load("timeseries.toml");
    assert_eq!(ts.tablestore.model, config::Model::Timeseries);
    let section = ts.timeseries.expect("[timeseries] section");
    assert!(section.data_source_field.is_some() && section.timestamp_field.is_some());
    assert!(!section.tag_fields.is_empty() && !section.fields.is_empty());

    let mq = load("apsaramq-sasl-ssl.toml");
    assert!(mq.tablestore.endpoint.starts_with("https://"));
    let client = &mq.kafka.client;
    assert_eq!(
        client.get("security.protocol").map(String::as_str),
        Some("SASL_SSL")
    );
    for key in ["sasl.mechanism", "sasl.username", "ssl.ca.location"] {
        assert!(client.contains_key(key), "{key} is missing");
    }
}

#[test]
fn apsaramq_secrets_are_redacted() {
    let config = load("apsaramq-sasl-ssl.toml");
    // The secrets did arrive from the environment...
    assert_eq!(
        config.kafka.client.get("sasl.password").map(String::as_str),
        Some(KAFKA_SASL_PASSWORD)
    );
    assert_eq!(
        config.tablestore.access_key_secret.expose(),
        TABLESTORE_ACCESS_KEY_SECRET
    );
    // ...and the redacted form shows neither.
    let redacted = config.redacted_json();
    let text = redacted.to_string();
    for secret in [KAFKA_SASL_PASSWORD, TABLESTORE_ACCESS_KEY_SECRET] {
        assert!(!text.contains(secret), "{secret} leaked into {text}");
    }
    assert_eq!(redacted["kafka"]["client"]["sasl.password"], "***");
    assert_eq!(redacted["tablestore"]["access_key_secret"], "***");
    // Non-secret settings stay readable.
    assert_eq!(redacted["kafka"]["client"]["security.protocol"], "SASL_SSL");
}

/// Every key of every section (as the config serializes, so a key added to
/// the structs shows up here) has a documented line in example.toml, either
/// active or, for [timeseries], commented out.
#[test]
fn example_documents_every_key() {
    let example = read(&config_dir().join("example.toml"));
    let documented = |key: &str| {
        let mut previous = "";
        example.lines().any(|line| {
            let bare = line.trim_start_matches(['#', ' ']);
            let hit = bare
                .strip_prefix(key)
                .is_some_and(|rest| rest.trim_start().starts_with('='));
            // The line above a key is its comment.
            let ok = hit && previous.trim_start().starts_with('#');
            previous = line;
            ok
        })
    };
    let mut keys = Vec::new();
    for file in ["example.toml", "timeseries.toml"] {
        let json = serde_json::to_value(load(file)).expect("config serializes");
        let Value::Object(sections) = json else {
            unreachable!()
        };
        for (section, body) in sections {
            if let Value::Object(fields) = body {
                for (key, value) in fields {
                    if value.is_object() {
                        // A table of its own: [kafka.client].
                        assert!(
                            example.contains(&format!("[{section}.{key}]")),
                            "[{section}.{key}] is not in example.toml"
                        );
                    } else {
                        keys.push(format!("{section}.{key}"));
                    }
                }
            }
        }
    }
    keys.sort();
    keys.dedup();
    assert!(keys.len() > 50, "{keys:?}");
    let missing: Vec<&String> = keys
        .iter()
        .filter(|k| !documented(k.rsplit('.').next().unwrap()))
        .collect();
    assert!(
        missing.is_empty(),
        "example.toml does not document {missing:?}"
    );
}
