//! Checks before the sink joins its consumer group: the source topic
//! exists (or the sink waits for it, `kafka.on_missing_topic`), and with
//! `resource_creation = "manual"` the consumer group exists.
//!
//! A missing source topic is usually a deployment racing the topic's
//! creation; under Kubernetes exiting would only restart into the same
//! state (a crash loop), so by default the sink waits, not ready, with a
//! log line every [`WAIT_LOG_INTERVAL`]. ApsaraMQ requires a consumer
//! group to exist when flexible group creation is off; `manual` verifies
//! it and says how to create it, `auto` lets the join create it where the
//! broker allows (Apache Kafka, ApsaraMQ with flexible group creation).

use std::time::Duration;

use rdkafka::consumer::{BaseConsumer, Consumer};

use crate::config::{Config, MissingTopic, ResourceCreation};
use crate::metrics::health;

/// How often the wait for the source topic says so.
pub const WAIT_LOG_INTERVAL: Duration = Duration::from_secs(5);
/// How often the wait looks for the topic.
const POLL_INTERVAL: Duration = Duration::from_secs(1);
/// Bound on one metadata or group request.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(15);

/// Why the sink cannot start consuming.
#[derive(Debug, thiserror::Error)]
pub enum PreflightError {
    #[error("source topic {topic:?} does not exist: create it (the sink never creates its source topic), or set kafka.on_missing_topic = \"wait\" to wait for it")]
    MissingTopic { topic: String },
    #[error("consumer group {group:?} does not exist, and kafka.resource_creation = \"manual\" requires it: create it in the ApsaraMQ console (Groups, Create Group, Group ID {group:?}), or on Apache Kafka by committing its starting offsets, e.g. `kafka-consumer-groups.sh --bootstrap-server {bootstrap} --group {group} --topic {topic} --reset-offsets --to-earliest --execute`; or set kafka.resource_creation = \"auto\" to let the sink's join create it where the broker allows")]
    MissingGroup {
        group: String,
        topic: String,
        bootstrap: String,
    },
    #[error("{what} at {bootstrap}: {error}")]
    Kafka {
        what: &'static str,
        bootstrap: String,
        error: rdkafka::error::KafkaError,
    },
}

fn metadata_consumer(config: &Config) -> Result<BaseConsumer, PreflightError> {
    super::base_client_config(
        config,
        &format!("tablestore-sink-{}-preflight", config.connector.name),
    )
    .create()
    .map_err(|error| PreflightError::Kafka {
        what: "creating a Kafka client",
        bootstrap: config.kafka.bootstrap_servers.clone(),
        error,
    })
}

async fn blocking<T: Send + 'static>(
    consumer: &std::sync::Arc<BaseConsumer>,
    f: impl FnOnce(&BaseConsumer) -> T + Send + 'static,
) -> T {
    let consumer = consumer.clone();
    tokio::task::spawn_blocking(move || f(&consumer))
        .await
        .expect("a metadata request does not panic")
}

async fn topic_exists(
    config: &Config,
    consumer: &std::sync::Arc<BaseConsumer>,
) -> Result<bool, PreflightError> {
    // All topics, not just ours: asking for one topic by name may create
    // it on brokers with auto.create.topics.enable.
    let topic = config.kafka.topic.clone();
    blocking(consumer, move |c| {
        c.fetch_metadata(None, REQUEST_TIMEOUT).map(|md| {
            md.topics()
                .iter()
                .any(|t| t.name() == topic && t.error().is_none() && !t.partitions().is_empty())
        })
    })
    .await
    .map_err(|error| PreflightError::Kafka {
        what: "reading topic metadata",
        bootstrap: config.kafka.bootstrap_servers.clone(),
        error,
    })
}

/// Waits for (or, with `on_missing_topic = "fail"`, requires) the source
/// topic; readiness says what it waits for meanwhile.
pub async fn wait_for_source_topic(config: &Config) -> Result<(), PreflightError> {
    let consumer = &std::sync::Arc::new(metadata_consumer(config)?);
    let topic = &config.kafka.topic;
    if topic_exists(config, consumer).await? {
        return Ok(());
    }
    if config.kafka.on_missing_topic == MissingTopic::Fail {
        return Err(PreflightError::MissingTopic {
            topic: topic.clone(),
        });
    }
    let started = tokio::time::Instant::now();
    health::waiting_for(format!("source topic {topic:?} to exist"));
    let mut next_log = started;
    loop {
        if tokio::time::Instant::now() >= next_log {
            tracing::warn!(
                topic = %topic,
                waited_s = started.elapsed().as_secs(),
                "source topic {topic:?} does not exist yet; waiting for it (not ready). Create it, or set kafka.on_missing_topic = \"fail\" to exit instead"
            );
            next_log += WAIT_LOG_INTERVAL;
        }
        tokio::time::sleep(POLL_INTERVAL).await;
        match topic_exists(config, consumer).await {
            Ok(true) => break,
            Ok(false) => {}
            // A broker that is briefly away: keep waiting, say why.
            Err(e) => tracing::warn!(error = %e, "looking for the source topic"),
        }
    }
    health::done_waiting();
    tracing::info!(topic = %topic, waited_s = started.elapsed().as_secs(), "source topic exists");
    Ok(())
}

/// With `resource_creation = "manual"`, requires the consumer group to
/// exist; with `auto`, says that the join will create it.
pub async fn check_group(config: &Config) -> Result<(), PreflightError> {
    let consumer = &std::sync::Arc::new(metadata_consumer(config)?);
    let group = config.group();
    let name = group.clone();
    let exists = blocking(consumer, move |c| {
        c.fetch_group_list(Some(&name), REQUEST_TIMEOUT)
            .map(|list| {
                list.groups()
                    .iter()
                    .any(|g| g.name() == name && g.state() != "Dead")
            })
    })
    .await
    .map_err(|error| PreflightError::Kafka {
        what: "looking up the consumer group",
        bootstrap: config.kafka.bootstrap_servers.clone(),
        error,
    })?;
    match (exists, config.kafka.resource_creation) {
        (true, _) => Ok(()),
        (false, ResourceCreation::Manual) => Err(PreflightError::MissingGroup {
            group,
            topic: config.kafka.topic.clone(),
            bootstrap: config.kafka.bootstrap_servers.clone(),
        }),
        (false, ResourceCreation::Auto) => {
            tracing::info!(group = %group, "consumer group does not exist yet; joining it creates it (brokers that allow it: Apache Kafka, ApsaraMQ with flexible group creation)");
            Ok(())
        }
    }
}
