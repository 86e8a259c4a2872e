//! The status and config topics: every partition state change (RUNNING,
//! FAILED with its reason, REVOKED) is written to the status topic keyed
//! `<connector>/<topic>/<partition>`, and the configuration (secrets
//! redacted) to the config topic at start, keyed by connector name.

use std::sync::Arc;
use std::time::Duration;

use rdkafka::producer::{FutureProducer, FutureRecord};
use serde::{Deserialize, Serialize};

use super::messages::TopicPartition;
use crate::config::Config;

/// A partition's state as the status topic says it.
#[derive(Clone, Copy, Debug, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum StatusState {
    /// Assigned to `worker` and consuming.
    Running,
    /// Stopped by the `stop` failure policy at `offset` for `reason`; stays
    /// FAILED across rebalances (each owner stops at the same record).
    Failed,
    /// Given up by `worker` (rebalance or shutdown).
    Revoked,
}

impl StatusState {
    pub fn as_str(self) -> &'static str {
        match self {
            StatusState::Running => "RUNNING",
            StatusState::Failed => "FAILED",
            StatusState::Revoked => "REVOKED",
        }
    }
}

/// One record of the status topic.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct PartitionStatus {
    pub connector: String,
    pub topic: String,
    pub partition: i32,
    pub state: StatusState,
    /// Why a partition FAILED.
    #[serde(default)]
    pub reason: Option<String>,
    /// The offset a FAILED partition stopped at.
    #[serde(default)]
    pub offset: Option<i64>,
    /// `host:pid` of the process that reported it.
    pub worker: String,
    pub timestamp_ms: i64,
}

#[derive(Clone)]
pub struct StatusReporter {
    producer: FutureProducer,
    connector: Arc<str>,
    status_topic: Arc<str>,
    worker: Arc<str>,
}

impl StatusReporter {
    pub fn new(config: &Config, producer: FutureProducer) -> Self {
        let host = std::env::var("HOSTNAME")
            .ok()
            .or_else(|| std::fs::read_to_string("/proc/sys/kernel/hostname").ok())
            .map(|h| h.trim().to_owned())
            .filter(|h| !h.is_empty())
            .unwrap_or_else(|| "localhost".into());
        StatusReporter {
            producer,
            connector: config.connector.name.as_str().into(),
            status_topic: config.status_topic().into(),
            worker: format!("{host}:{}", std::process::id()).into(),
        }
    }

    /// Writes a state change in the background (status is informational:
    /// a failure is logged, never blocks the pipeline).
    pub fn report(
        &self,
        tp: &TopicPartition,
        state: StatusState,
        reason: Option<String>,
        offset: Option<i64>,
    ) {
        let status = PartitionStatus {
            connector: self.connector.to_string(),
            topic: tp.topic.to_string(),
            partition: tp.partition,
            state,
            reason,
            offset,
            worker: self.worker.to_string(),
            timestamp_ms: chrono::Utc::now().timestamp_millis(),
        };
        let key = format!("{}/{}/{}", self.connector, tp.topic, tp.partition);
        let me = self.clone();
        actix::spawn(async move {
            let value = serde_json::to_string(&status).expect("status serializes");
            let record = FutureRecord::to(&me.status_topic).key(&key).payload(&value);
            if let Err((e, _)) = me.producer.send(record, Duration::from_secs(10)).await {
                tracing::warn!(error = %e, key = %key, "status record not written");
            }
        });
    }

    /// Writes the redacted configuration to the config topic and waits.
    pub async fn publish_config(&self, config: &Config) -> Result<(), String> {
        let value = serde_json::to_string(&config.redacted_json()).expect("config serializes");
        let topic = config.config_topic();
        let record = FutureRecord::to(&topic)
            .key(&*self.connector)
            .payload(&value);
        self.producer
            .send(record, Duration::from_secs(30))
            .await
            .map(|_| ())
            .map_err(|(e, _)| e.to_string())
    }
}
