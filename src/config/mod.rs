//! The sink's configuration: one TOML file, `deny_unknown_fields`, `${ENV}`
//! substitution for secrets, named defaults, and one [`Config::validate`]
//! that rejects every bad value with the key, the value and what is
//! allowed.
//!
//! Sections: [`connector`](ConnectorConfig), [`kafka`](KafkaConfig) (with a
//! `[kafka.client]` librdkafka passthrough), [`tablestore`](TablestoreConfig),
//! [`wide_column`](WideColumnConfig), [`timeseries`](TimeseriesConfig),
//! [`writer`](WriterConfig), [`metrics`](MetricsConfig).

mod checks;
mod explain;
mod kafka;
mod load;
mod secret;
mod tablestore;
mod timeseries;
mod validate;
mod validate_model;
mod wide_column;

use serde::{Deserialize, Serialize};

pub use explain::{Explanation, Level};
pub use kafka::{FailurePolicy, KafkaConfig, MissingTopic, OffsetReset, ResourceCreation};
pub use load::{load, substitute_env};
pub use secret::Secret;
pub use tablestore::{Model, TablestoreConfig, EMBEDDED};
pub use timeseries::{FieldType, SubMicrosecond, TimeseriesConfig, TimeseriesField, TimestampUnit};
pub use validate::ConfigError;
pub use wide_column::{
    DeleteMode, JsonConversion, KeyClash, KeyValueFormat, PkColumnConfig, PkColumnType,
    PrimaryKeyMode, WideColumnConfig, WriteMode,
};

/// The whole configuration file.
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    pub connector: ConnectorConfig,
    pub kafka: KafkaConfig,
    pub tablestore: TablestoreConfig,
    /// Required when `tablestore.model = "wide_column"` (defaults apply if absent).
    #[serde(default)]
    pub wide_column: WideColumnConfig,
    /// Required when `tablestore.model = "timeseries"`.
    #[serde(default)]
    pub timeseries: Option<TimeseriesConfig>,
    #[serde(default)]
    pub writer: WriterConfig,
    #[serde(default)]
    pub metrics: MetricsConfig,
}

#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct ConnectorConfig {
    /// 1-48 characters: digits, lowercase letters and '-', not starting with '-'.
    pub name: String,
}

/// How the writer batches and retries Tablestore requests.
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct WriterConfig {
    /// Rows per BatchWriteRow / PutTimeseriesData request (1-200).
    #[serde(default = "default_max_batch_rows")]
    pub max_batch_rows: usize,
    /// Encoded bytes per request (at most 4 MiB).
    #[serde(default = "default_max_batch_bytes")]
    pub max_batch_bytes: usize,
    /// How long a partial batch may wait for more rows.
    #[serde(default = "default_linger_ms")]
    pub linger_ms: u64,
    /// The most requests in flight at once; the writer adapts below it
    /// (see `sink::writer::concurrency`).
    #[serde(default = "default_max_in_flight_requests")]
    pub max_in_flight_requests: usize,
    /// Message bytes between poll and acknowledgement, across all
    /// partitions; when full, partitions are paused.
    #[serde(default = "default_max_in_flight_bytes")]
    pub max_in_flight_bytes: usize,
    /// First retry delay; doubles per try with full jitter.
    #[serde(default = "default_retry_initial_ms")]
    pub retry_initial_ms: u64,
    /// Longest retry delay.
    #[serde(default = "default_retry_max_ms")]
    pub retry_max_ms: u64,
    /// Per-request deadline.
    #[serde(default = "default_request_timeout_ms")]
    pub request_timeout_ms: u64,
    /// Threads converting messages to rows.
    #[serde(default = "default_converter_threads")]
    pub converter_threads: usize,
    /// Threads running Tablestore requests (encoding, MD5, signing,
    /// sockets), beside the actix thread (see `sink::writer::requests`).
    #[serde(default = "default_client_threads")]
    pub client_threads: usize,
    /// Threads running the partition actors and the writers (see
    /// `sink::lanes`): each partition runs on the one with the fewest,
    /// beside a writer of its own, so no one thread carries every
    /// partition's bookkeeping. 1: the actix system thread does it all.
    #[serde(default = "default_pipeline_threads")]
    pub pipeline_threads: usize,
}

pub fn default_max_batch_rows() -> usize {
    200
}
pub fn default_max_batch_bytes() -> usize {
    4 * 1024 * 1024
}
pub fn default_linger_ms() -> u64 {
    5
}
pub fn default_max_in_flight_requests() -> usize {
    32
}
pub fn default_max_in_flight_bytes() -> usize {
    32 * 1024 * 1024
}
pub fn default_retry_initial_ms() -> u64 {
    50
}
pub fn default_retry_max_ms() -> u64 {
    10_000
}
pub fn default_request_timeout_ms() -> u64 {
    30_000
}
pub fn default_converter_threads() -> usize {
    2
}
pub fn default_client_threads() -> usize {
    2
}
pub fn default_pipeline_threads() -> usize {
    1
}

impl Default for WriterConfig {
    fn default() -> Self {
        WriterConfig {
            max_batch_rows: default_max_batch_rows(),
            max_batch_bytes: default_max_batch_bytes(),
            linger_ms: default_linger_ms(),
            max_in_flight_requests: default_max_in_flight_requests(),
            max_in_flight_bytes: default_max_in_flight_bytes(),
            retry_initial_ms: default_retry_initial_ms(),
            retry_max_ms: default_retry_max_ms(),
            request_timeout_ms: default_request_timeout_ms(),
            converter_threads: default_converter_threads(),
            client_threads: default_client_threads(),
            pipeline_threads: default_pipeline_threads(),
        }
    }
}

#[derive(Clone, Debug, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct MetricsConfig {
    /// Prometheus endpoint address, e.g. "127.0.0.1:9464"; unset = no endpoint.
    #[serde(default)]
    pub listen: Option<std::net::SocketAddr>,
}

impl Config {
    /// The consumer group: `kafka.group` or `connect-<name>`.
    pub fn group(&self) -> String {
        self.kafka
            .group
            .clone()
            .unwrap_or_else(|| format!("connect-{}", self.connector.name))
    }
    pub fn offset_topic(&self) -> String {
        self.kafka
            .offset_topic
            .clone()
            .unwrap_or_else(|| format!("connect-offset-{}", self.connector.name))
    }
    pub fn config_topic(&self) -> String {
        self.kafka
            .config_topic
            .clone()
            .unwrap_or_else(|| format!("connect-config-{}", self.connector.name))
    }
    pub fn status_topic(&self) -> String {
        self.kafka
            .status_topic
            .clone()
            .unwrap_or_else(|| format!("connect-status-{}", self.connector.name))
    }
    pub fn dead_letter_topic(&self) -> String {
        self.kafka
            .dead_letter_topic
            .clone()
            .unwrap_or_else(|| format!("connect-error-{}", self.connector.name))
    }
    pub fn error_topic(&self) -> String {
        self.kafka
            .error_topic
            .clone()
            .unwrap_or_else(|| format!("connect-error-{}", self.connector.name))
    }

    /// The configuration as JSON with every secret replaced by `"***"`,
    /// for the config topic and `check` output.
    pub fn redacted_json(&self) -> serde_json::Value {
        let mut v = serde_json::to_value(self).expect("config serializes");
        if let Some(client) = v
            .pointer_mut("/kafka/client")
            .and_then(|c| c.as_object_mut())
        {
            for (k, val) in client.iter_mut() {
                if kafka::is_secret_client_key(k) {
                    *val = serde_json::Value::String(secret::REDACTED.into());
                }
            }
        }
        v
    }
}
