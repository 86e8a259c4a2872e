//! `[kafka]`: source topic, consumers, failure policy, resources.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

#[derive(Clone, Copy, Debug, Default, Deserialize, Serialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum OffsetReset {
    /// Start from the earliest offset when the group has no committed offset.
    #[default]
    Earliest,
    Latest,
}

#[derive(Clone, Copy, Debug, Default, Deserialize, Serialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum FailurePolicy {
    /// Route the bad message to the dead-letter/error topic and go on.
    #[default]
    Continue,
    /// Stop that partition at the bad message; other partitions go on.
    Stop,
}

#[derive(Clone, Copy, Debug, Default, Deserialize, Serialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum ResourceCreation {
    /// Create missing topics (and the table if `auto_create_table`).
    #[default]
    Auto,
    /// Verify they exist with the required properties; refuse to start otherwise.
    Manual,
}

/// What the sink does when its source topic does not exist (yet).
#[derive(Clone, Copy, Debug, Default, Deserialize, Serialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum MissingTopic {
    /// Wait for it: not ready, a log line every few seconds (under
    /// Kubernetes a crash loop would only restart into the same wait).
    #[default]
    Wait,
    /// Exit at once with an error.
    Fail,
}

#[derive(Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct KafkaConfig {
    /// Comma-separated `host:port` list.
    pub bootstrap_servers: String,
    /// The source topic.
    pub topic: String,
    /// Consumers in this process: 1, 2, 3, 6 or 12.
    #[serde(default = "default_consumer_concurrency")]
    pub consumer_concurrency: u32,
    #[serde(default)]
    pub offset_reset: OffsetReset,
    #[serde(default)]
    pub failure_policy: FailurePolicy,
    #[serde(default)]
    pub resource_creation: ResourceCreation,
    /// A missing source topic: wait for it (default) or fail.
    #[serde(default)]
    pub on_missing_topic: MissingTopic,
    /// Consumer group; default `connect-<name>`; must start with `connect-`.
    #[serde(default)]
    pub group: Option<String>,
    /// Default `connect-offset-<name>`: more than 1 partition, compacted.
    #[serde(default)]
    pub offset_topic: Option<String>,
    /// Default `connect-config-<name>`: exactly 1 partition, compacted.
    #[serde(default)]
    pub config_topic: Option<String>,
    /// Default `connect-status-<name>`: 6 partitions, compacted.
    #[serde(default)]
    pub status_topic: Option<String>,
    /// Conversion failures go here. Default `connect-error-<name>`.
    #[serde(default)]
    pub dead_letter_topic: Option<String>,
    /// Rows Tablestore rejects go here. Default `connect-error-<name>`.
    #[serde(default)]
    pub error_topic: Option<String>,
    /// Consumer session timeout (librdkafka `session.timeout.ms`).
    #[serde(default = "default_session_timeout_ms")]
    pub session_timeout_ms: u32,
    /// Offsets are committed this often (and on revoke and shutdown).
    #[serde(default = "default_commit_interval_ms")]
    pub commit_interval_ms: u32,
    /// How long a revoke or shutdown waits for in-flight writes; must be
    /// below `session_timeout_ms`. Default: half of it.
    #[serde(default)]
    pub drain_timeout_ms: Option<u32>,
    /// librdkafka properties passed through as-is (security.protocol,
    /// sasl.*, ssl.*, ...). Values of sasl.password and ssl.*password are
    /// secrets and never printed.
    #[serde(default)]
    pub client: BTreeMap<String, String>,
}

pub fn default_consumer_concurrency() -> u32 {
    6
}
pub fn default_session_timeout_ms() -> u32 {
    10_000
}
pub fn default_commit_interval_ms() -> u32 {
    5_000
}

impl KafkaConfig {
    pub fn drain_timeout_ms(&self) -> u32 {
        self.drain_timeout_ms.unwrap_or(self.session_timeout_ms / 2)
    }
}

/// librdkafka properties whose values are secrets.
pub fn is_secret_client_key(key: &str) -> bool {
    let k = key.to_ascii_lowercase();
    k.contains("password")
        || k.contains("secret")
        || k.ends_with(".key.pem")
        || k.contains("sasl.jaas")
}

impl std::fmt::Debug for KafkaConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let client: BTreeMap<&str, &str> = self
            .client
            .iter()
            .map(|(k, v)| {
                (
                    k.as_str(),
                    if is_secret_client_key(k) {
                        super::secret::REDACTED
                    } else {
                        v.as_str()
                    },
                )
            })
            .collect();
        f.debug_struct("KafkaConfig")
            .field("bootstrap_servers", &self.bootstrap_servers)
            .field("topic", &self.topic)
            .field("consumer_concurrency", &self.consumer_concurrency)
            .field("offset_reset", &self.offset_reset)
            .field("failure_policy", &self.failure_policy)
            .field("resource_creation", &self.resource_creation)
            .field("on_missing_topic", &self.on_missing_topic)
            .field("group", &self.group)
            .field("session_timeout_ms", &self.session_timeout_ms)
            .field("commit_interval_ms", &self.commit_interval_ms)
            .field("drain_timeout_ms", &self.drain_timeout_ms)
            .field("client", &client)
            .finish_non_exhaustive()
    }
}
