//! `Config::validate`: every cross-field and range check, with errors that
//! name the key, quote the bad value and say what is allowed.
//!
//! The checks run section by section ([`validate_connector`],
//! [`validate_kafka`], [`validate_tablestore`], the model's section in
//! [`validate_model`](super::validate_model), [`validate_writer`],
//! [`validate_metrics`]) and the first problem found is returned, so a user
//! fixes one line at a time. Nothing here touches the network or the file
//! system: `check` on a laptop gives the same answer as `run` in production.

use super::checks::{in_range, kafka_topic_problem, spelling};
use super::tablestore::Model;
use super::validate_model::{validate_timeseries, validate_wide_column};
use super::Config;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ConfigError {
    #[error("cannot read config file {path}: {error}")]
    Read { path: String, error: String },
    #[error("config file {path} is not valid: {error}")]
    Parse { path: String, error: String },
    #[error("environment variable ${{{name}}} (line {line}) {problem}")]
    Env {
        name: String,
        line: usize,
        problem: String,
    },
    #[error("{key} = {value}: {allowed}")]
    Invalid {
        key: String,
        value: String,
        allowed: String,
    },
}

impl ConfigError {
    pub fn invalid(key: &str, value: impl std::fmt::Debug, allowed: impl Into<String>) -> Self {
        ConfigError::Invalid {
            key: key.into(),
            value: format!("{value:?}"),
            allowed: allowed.into(),
        }
    }
}

impl Config {
    /// Checks everything; the first problem found is returned.
    pub fn validate(&self) -> Result<(), ConfigError> {
        validate_connector(self)?;
        validate_kafka(self)?;
        validate_tablestore(self)?;
        match self.tablestore.model {
            Model::WideColumn => {
                if self.timeseries.is_some() {
                    return Err(ConfigError::invalid(
                        "tablestore.model",
                        spelling(&self.tablestore.model),
                        "the file has a [timeseries] section, which only applies to \
                         model = \"timeseries\": set tablestore.model = \"timeseries\" \
                         or remove the [timeseries] section",
                    ));
                }
                validate_wide_column(&self.wide_column)?;
            }
            Model::Timeseries => {
                // [wide_column] settings are not used by this model and are
                // ignored, whatever they say.
                let ts = self.timeseries.as_ref().ok_or_else(|| {
                    ConfigError::invalid(
                        "tablestore.model",
                        spelling(&self.tablestore.model),
                        "the [timeseries] section is missing: add it with at least \
                         metric_name_field (see config/timeseries.toml), or set \
                         tablestore.model = \"wide_column\"",
                    )
                })?;
                validate_timeseries(ts)?;
            }
        }
        validate_writer(self)?;
        validate_metrics(self)
    }
}

/// `[connector]`.
pub fn validate_connector(c: &Config) -> Result<(), ConfigError> {
    let name = &c.connector.name;
    let len = name.chars().count();
    let problem = if len == 0 {
        Some("the name is empty".to_string())
    } else if len > 48 {
        Some(format!("the name is {len} characters long"))
    } else if name.starts_with('-') {
        Some("the name starts with '-'".to_string())
    } else {
        name.chars()
            .find(|c| !(c.is_ascii_digit() || c.is_ascii_lowercase() || *c == '-'))
            .map(|c| format!("{c:?} is not allowed"))
    };
    match problem {
        None => Ok(()),
        Some(problem) => Err(ConfigError::invalid(
            "connector.name",
            name,
            format!(
                "{problem}; use 1-48 characters: digits, lowercase letters and '-', \
                 not starting with '-'"
            ),
        )),
    }
}

/// librdkafka properties the sink sets from its own keys; setting them in
/// `[kafka.client]` would fight those keys or break at-least-once delivery.
const MANAGED_CLIENT_KEYS: [(&str, &str); 9] = [
    ("bootstrap.servers", "set by kafka.bootstrap_servers"),
    ("metadata.broker.list", "set by kafka.bootstrap_servers"),
    ("group.id", "set by kafka.group"),
    ("auto.offset.reset", "set by kafka.offset_reset"),
    ("session.timeout.ms", "set by kafka.session_timeout_ms"),
    ("auto.commit.interval.ms", "set by kafka.commit_interval_ms"),
    (
        "enable.auto.commit",
        "the sink commits offsets itself, only after Tablestore acknowledged the rows (at least once)",
    ),
    (
        "enable.auto.offset.store",
        "the sink stores offsets itself, only after Tablestore acknowledged the rows (at least once)",
    ),
    (
        "enable.partition.eof",
        "the sink keeps it off: it reads partitions in batches, where an end-of-partition event \
         moves librdkafka's read position like a message",
    ),
];

const SASL_MECHANISMS: [&str; 4] = ["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512", "OAUTHBEARER"];

/// `[kafka]` and `[kafka.client]`.
pub fn validate_kafka(c: &Config) -> Result<(), ConfigError> {
    let k = &c.kafka;
    if let Some(problem) = bootstrap_servers_problem(&k.bootstrap_servers) {
        return Err(ConfigError::invalid(
            "kafka.bootstrap_servers",
            &k.bootstrap_servers,
            problem,
        ));
    }
    if let Some(problem) = kafka_topic_problem(&k.topic) {
        return Err(ConfigError::invalid("kafka.topic", &k.topic, problem));
    }
    if ![1, 2, 3, 6, 12].contains(&k.consumer_concurrency) {
        return Err(ConfigError::invalid(
            "kafka.consumer_concurrency",
            k.consumer_concurrency,
            "allowed values are 1, 2, 3, 6 or 12",
        ));
    }
    if let Some(group) = &k.group {
        if !group.starts_with("connect-") || group.len() == "connect-".len() {
            return Err(ConfigError::invalid(
                "kafka.group",
                group,
                format!(
                    "the consumer group must be named connect-<task name>, e.g. \"connect-{}\"; \
                     rename it or remove the key to use that default",
                    c.connector.name
                ),
            ));
        }
    }
    validate_internal_topics(c)?;
    in_range(
        "kafka.session_timeout_ms",
        k.session_timeout_ms,
        1_000,
        300_000,
        " (milliseconds)",
    )?;
    if k.commit_interval_ms < 100 {
        return Err(ConfigError::invalid(
            "kafka.commit_interval_ms",
            k.commit_interval_ms,
            "allowed values are 100 (milliseconds) or more",
        ));
    }
    if let Some(drain) = k.drain_timeout_ms {
        if drain == 0 || drain >= k.session_timeout_ms {
            return Err(ConfigError::invalid(
                "kafka.drain_timeout_ms",
                drain,
                format!(
                    "allowed values are 1 to {} (below kafka.session_timeout_ms = {}, so a \
                     revoke finishes before the group evicts this consumer); remove the key \
                     for the default, half of kafka.session_timeout_ms",
                    k.session_timeout_ms.saturating_sub(1),
                    k.session_timeout_ms
                ),
            ));
        }
    }
    validate_kafka_client(c)
}

/// `None` when `servers` is a non-empty comma-separated `host:port` list
/// (each entry optionally prefixed with `protocol://`, as librdkafka allows).
fn bootstrap_servers_problem(servers: &str) -> Option<String> {
    const EXAMPLE: &str =
        "use a comma-separated host:port list such as \"broker1:9092,broker2:9092\"";
    if servers.trim().is_empty() {
        return Some(format!("no broker is listed; {EXAMPLE}"));
    }
    for entry in servers.split(',').map(str::trim) {
        let addr = entry.split_once("://").map_or(entry, |(_, rest)| rest);
        let ok = addr.rsplit_once(':').is_some_and(|(host, port)| {
            !host.is_empty()
                && !host.contains(|c: char| c.is_whitespace() || c == '/')
                && port.parse::<u16>().is_ok_and(|p| p > 0)
        });
        if !ok {
            return Some(format!("{entry:?} is not host:port; {EXAMPLE}"));
        }
    }
    None
}

/// The five connector topics: valid names, none equal to the source topic,
/// and offset/config/status each on a topic of its own (they need different
/// partition counts); dead-letter and error records may share one topic.
fn validate_internal_topics(c: &Config) -> Result<(), ConfigError> {
    let k = &c.kafka;
    let topics = [
        ("kafka.offset_topic", &k.offset_topic, c.offset_topic()),
        ("kafka.config_topic", &k.config_topic, c.config_topic()),
        ("kafka.status_topic", &k.status_topic, c.status_topic()),
        (
            "kafka.dead_letter_topic",
            &k.dead_letter_topic,
            c.dead_letter_topic(),
        ),
        ("kafka.error_topic", &k.error_topic, c.error_topic()),
    ];
    for (key, explicit, _) in &topics {
        if let Some(name) = explicit {
            if let Some(problem) = kafka_topic_problem(name) {
                return Err(ConfigError::invalid(key, name, problem));
            }
        }
    }
    for (i, (key, _, name)) in topics.iter().enumerate() {
        if *name == k.topic {
            return Err(ConfigError::invalid(
                key,
                name,
                "this is also kafka.topic, the source topic; the sink would read its own \
                 records: choose another name",
            ));
        }
        for (other_key, _, other) in &topics[..i] {
            let both_error_topics = i >= 3 && other_key.ends_with("dead_letter_topic");
            if other == name && !both_error_topics {
                return Err(ConfigError::invalid(
                    key,
                    name,
                    format!(
                        "this is also {other_key}; the offset, config and status topics each \
                         need a topic of their own (only the dead-letter and error topics may \
                         share one): choose another name"
                    ),
                ));
            }
        }
    }
    Ok(())
}

/// `[kafka.client]`: no property the sink manages, and a SASL/SSL setup
/// librdkafka (as built here) can actually use.
fn validate_kafka_client(c: &Config) -> Result<(), ConfigError> {
    let client = &c.kafka.client;
    for (key, value) in client {
        let shown_key = format!("kafka.client.{key:?}");
        if key.trim().is_empty() {
            return Err(ConfigError::invalid(
                "kafka.client",
                key,
                "a property name is empty; use librdkafka property names such as \
                 \"security.protocol\"",
            ));
        }
        if let Some((_, why)) = MANAGED_CLIENT_KEYS.iter().find(|(k, _)| k == key) {
            return Err(ConfigError::invalid(
                &shown_key,
                value,
                format!("{why}; remove it from [kafka.client]"),
            ));
        }
    }
    let protocol = client.get("security.protocol");
    if let Some(p) = protocol {
        let known = ["plaintext", "ssl", "sasl_plaintext", "sasl_ssl"];
        if !known.contains(&p.to_ascii_lowercase().as_str()) {
            return Err(ConfigError::invalid(
                "kafka.client.\"security.protocol\"",
                p,
                "allowed values are plaintext, ssl, sasl_plaintext or sasl_ssl \
                 (ApsaraMQ's SASL endpoints use sasl_ssl)",
            ));
        }
    }
    let (mech_key, mechanism) = match client.get("sasl.mechanism") {
        Some(m) => ("sasl.mechanism", Some(m)),
        None => ("sasl.mechanisms", client.get("sasl.mechanisms")),
    };
    if let Some(m) = mechanism {
        if !SASL_MECHANISMS.contains(&m.as_str()) {
            return Err(ConfigError::invalid(
                &format!("kafka.client.{mech_key:?}"),
                m,
                "allowed values are PLAIN, SCRAM-SHA-256, SCRAM-SHA-512 or OAUTHBEARER \
                 (upper case; this build has no Kerberos/GSSAPI)",
            ));
        }
    }
    let uses_sasl = protocol.is_some_and(|p| p.to_ascii_lowercase().starts_with("sasl_"));
    if uses_sasl {
        let Some(m) = mechanism else {
            return Err(ConfigError::invalid(
                "kafka.client.\"security.protocol\"",
                protocol.map(String::as_str).unwrap_or_default(),
                "SASL needs a mechanism: add sasl.mechanism = \"PLAIN\" (ApsaraMQ) or \
                 \"SCRAM-SHA-256\"/\"SCRAM-SHA-512\" to [kafka.client]",
            ));
        };
        if m != "OAUTHBEARER" {
            for needed in ["sasl.username", "sasl.password"] {
                if client.get(needed).is_none_or(|v| v.is_empty()) {
                    return Err(ConfigError::invalid(
                        &format!("kafka.client.{mech_key:?}"),
                        m,
                        format!(
                            "{m} needs sasl.username and sasl.password in [kafka.client], and \
                             {needed} is not set or empty (put the password in the environment: \
                             \"sasl.password\" = \"${{KAFKA_SASL_PASSWORD}}\")"
                        ),
                    ));
                }
            }
        }
    }
    Ok(())
}

/// `[tablestore]` except the model's own section.
pub fn validate_tablestore(c: &Config) -> Result<(), ConfigError> {
    let t = &c.tablestore;
    if t.endpoint.trim().is_empty() {
        return Err(ConfigError::invalid(
            "tablestore.endpoint",
            &t.endpoint,
            "the endpoint is required: set the instance's URL, e.g. endpoint = \
             \"https://<instance>.cn-hangzhou.ots.aliyuncs.com\", or endpoint = \"embedded\" \
             to run the local emulator inside the sink (data in tablestore.data_dir)",
        ));
    }
    if !t.is_embedded() {
        let rest = t
            .endpoint
            .strip_prefix("https://")
            .or_else(|| t.endpoint.strip_prefix("http://"));
        let host_ok = rest.is_some_and(|r| {
            let host = r.split('/').next().unwrap_or_default();
            !host.is_empty() && !r.contains(char::is_whitespace)
        });
        if !host_ok {
            return Err(ConfigError::invalid(
                "tablestore.endpoint",
                &t.endpoint,
                "use \"embedded\" (the emulator, run inside the sink) or an http:// or https:// \
                 URL such as \"https://<instance>.cn-hangzhou.ots.aliyuncs.com\"",
            ));
        }
    } else if t.data_dir.as_os_str().is_empty() {
        return Err(ConfigError::invalid(
            "tablestore.data_dir",
            t.data_dir.display().to_string(),
            "the embedded emulator needs a directory for its data: set a path or remove the \
             key for the default \"./data/tablestore\"",
        ));
    }
    if t.instance.trim().is_empty()
        || t.instance
            .contains(|c: char| c.is_whitespace() || c.is_control())
    {
        return Err(ConfigError::invalid(
            "tablestore.instance",
            &t.instance,
            "the Tablestore instance name must be non-empty, without spaces (e.g. \"my-instance\")",
        ));
    }
    if !t.is_embedded() {
        if t.access_key_id.trim().is_empty() {
            return Err(ConfigError::invalid(
                "tablestore.access_key_id",
                &t.access_key_id,
                "a remote endpoint needs an AccessKey ID: set it, e.g. \
                 access_key_id = \"${TABLESTORE_ACCESS_KEY_ID}\"",
            ));
        }
        if t.access_key_secret.expose().is_empty() {
            // Only an empty secret gets here, so quoting it shows nothing.
            return Err(ConfigError::invalid(
                "tablestore.access_key_secret",
                "",
                "a remote endpoint needs an AccessKey secret: set it from the environment, e.g. \
                 access_key_secret = \"${TABLESTORE_ACCESS_KEY_SECRET}\"",
            ));
        }
    }
    let problem = match t.model {
        Model::WideColumn => super::checks::column_name_problem(&t.table),
        Model::Timeseries => super::checks::timeseries_table_problem(&t.table),
    };
    if let Some(problem) = problem {
        return Err(ConfigError::invalid("tablestore.table", &t.table, problem));
    }
    Ok(())
}

/// `[writer]`.
pub fn validate_writer(c: &Config) -> Result<(), ConfigError> {
    const MIB: usize = 1024 * 1024;
    let w = &c.writer;
    in_range(
        "writer.max_batch_rows",
        w.max_batch_rows,
        1,
        200,
        " (Tablestore takes at most 200 rows per request)",
    )?;
    in_range(
        "writer.max_batch_bytes",
        w.max_batch_bytes,
        1,
        4 * MIB,
        " bytes (4 MiB is Tablestore's request limit)",
    )?;
    in_range(
        "writer.linger_ms",
        w.linger_ms,
        0,
        60_000,
        " (milliseconds)",
    )?;
    in_range(
        "writer.max_in_flight_requests",
        w.max_in_flight_requests,
        1,
        64,
        "",
    )?;
    if w.max_in_flight_bytes < MIB.max(w.max_batch_bytes) {
        return Err(ConfigError::invalid(
            "writer.max_in_flight_bytes",
            w.max_in_flight_bytes,
            format!(
                "allowed values are {} bytes or more (at least 1 MiB and at least \
                 writer.max_batch_bytes = {}, so a full batch fits)",
                MIB.max(w.max_batch_bytes),
                w.max_batch_bytes
            ),
        ));
    }
    if w.retry_initial_ms < 1 || w.retry_initial_ms > w.retry_max_ms {
        return Err(ConfigError::invalid(
            "writer.retry_initial_ms",
            w.retry_initial_ms,
            format!(
                "allowed values are 1 to writer.retry_max_ms = {} (milliseconds)",
                w.retry_max_ms
            ),
        ));
    }
    if w.request_timeout_ms < 100 {
        return Err(ConfigError::invalid(
            "writer.request_timeout_ms",
            w.request_timeout_ms,
            "allowed values are 100 (milliseconds) or more",
        ));
    }
    in_range("writer.converter_threads", w.converter_threads, 1, 64, "")?;
    in_range("writer.client_threads", w.client_threads, 1, 64, "")?;
    in_range("writer.pipeline_threads", w.pipeline_threads, 1, 64, "")?;
    if w.pipeline_threads > w.max_in_flight_requests {
        return Err(ConfigError::invalid(
            "writer.pipeline_threads",
            w.pipeline_threads,
            format!(
                "each pipeline thread's writer needs at least one of the writer.max_in_flight_requests = {}; use at most that many threads",
                w.max_in_flight_requests
            ),
        ));
    }
    Ok(())
}

/// `[metrics]`: any address, but not the embedded emulator's.
pub fn validate_metrics(c: &Config) -> Result<(), ConfigError> {
    if let Some(listen) = c.metrics.listen {
        if c.tablestore.is_embedded()
            && listen == c.tablestore.embedded_listen
            && listen.port() != 0
        {
            return Err(ConfigError::invalid(
                "metrics.listen",
                listen.to_string(),
                "this is also tablestore.embedded_listen, where the embedded emulator listens: \
                 choose another port",
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests;
