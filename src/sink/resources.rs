//! Startup resources: the five connector topics and the destination table.
//!
//! `resource_creation = "auto"` creates missing topics with the product
//! page's settings; `manual` only verifies. Either way, existing topics
//! and the table must have the required properties; otherwise the sink
//! refuses to start with the full list of what is wrong.

use std::time::Duration;

use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, ResourceSpecifier, TopicReplication};
use rdkafka::client::DefaultClientContext;
use rdkafka::consumer::Consumer;
use rdkafka::error::RDKafkaErrorCode;

use crate::config::{Config, Model, PkColumnType, PrimaryKeyMode, ResourceCreation};
use crate::tablestore::proto::*;
use crate::tablestore::Client;

/// One connector topic and the properties it must have.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TopicSpec {
    pub name: String,
    pub role: &'static str,
    pub create_partitions: i32,
    pub min_partitions: i32,
    pub exact_partitions: Option<i32>,
    pub compact: bool,
}

pub fn topic_specs(config: &Config) -> Vec<TopicSpec> {
    let spec = |name: String, role, create, min, exact, compact| TopicSpec {
        name,
        role,
        create_partitions: create,
        min_partitions: min,
        exact_partitions: exact,
        compact,
    };
    let mut specs = vec![
        spec(config.offset_topic(), "offset", 6, 2, None, true),
        spec(config.config_topic(), "config", 1, 1, Some(1), true),
        spec(config.status_topic(), "status", 6, 1, None, true),
        spec(config.dead_letter_topic(), "dead-letter", 6, 1, None, false),
    ];
    if config.error_topic() != config.dead_letter_topic() {
        specs.push(spec(config.error_topic(), "error", 6, 1, None, false));
    }
    specs
}

fn admin(config: &Config) -> anyhow::Result<AdminClient<DefaultClientContext>> {
    Ok(crate::kafka::base_client_config(
        config,
        &format!("tablestore-sink-{}-admin", config.connector.name),
    )
    .create()?)
}

/// How many partitions the source topic has (it exists by now).
pub async fn source_partitions(config: &Config) -> anyhow::Result<usize> {
    let consumer: rdkafka::consumer::BaseConsumer = crate::kafka::base_client_config(
        config,
        &format!("tablestore-sink-{}-metadata", config.connector.name),
    )
    .create()?;
    let topic = config.kafka.topic.clone();
    let metadata = tokio::task::spawn_blocking(move || {
        consumer.fetch_metadata(Some(&topic), Duration::from_secs(15))
    })
    .await??;
    Ok(metadata
        .topics()
        .iter()
        .map(|t| t.partitions().len())
        .sum::<usize>()
        .max(1))
}

/// Checks (and in auto mode creates) the topics.
pub async fn ensure_topics(config: &Config) -> anyhow::Result<()> {
    let admin = admin(config)?;
    let metadata = {
        let consumer: rdkafka::consumer::BaseConsumer = crate::kafka::base_client_config(
            config,
            &format!("tablestore-sink-{}-metadata", config.connector.name),
        )
        .create()?;
        tokio::task::spawn_blocking(move || consumer.fetch_metadata(None, Duration::from_secs(15)))
            .await??
    };
    let partitions_of = |name: &str| {
        metadata
            .topics()
            .iter()
            .find(|t| t.name() == name && t.error().is_none())
            .map(|t| t.partitions().len() as i32)
    };
    let mut problems = Vec::new();
    if partitions_of(&config.kafka.topic).is_none() {
        problems.push(format!(
            "source topic {:?} does not exist: create it (the sink never creates its source topic)",
            config.kafka.topic
        ));
    }
    let specs = topic_specs(config);
    let missing: Vec<&TopicSpec> = specs
        .iter()
        .filter(|s| partitions_of(&s.name).is_none())
        .collect();
    if config.kafka.resource_creation == ResourceCreation::Auto && !missing.is_empty() {
        let new: Vec<NewTopic<'_>> = missing
            .iter()
            .map(|s| {
                let t = NewTopic::new(&s.name, s.create_partitions, TopicReplication::Fixed(-1));
                if s.compact {
                    t.set("cleanup.policy", "compact")
                } else {
                    t
                }
            })
            .collect();
        let results = admin
            .create_topics(
                &new,
                &AdminOptions::new().operation_timeout(Some(Duration::from_secs(30))),
            )
            .await?;
        for r in results {
            match r {
                Ok(name) => tracing::info!(topic = %name, "created topic"),
                Err((name, RDKafkaErrorCode::TopicAlreadyExists)) => {
                    tracing::info!(topic = %name, "topic already exists")
                }
                Err((name, code)) => problems.push(format!("cannot create topic {name:?}: {code}")),
            }
        }
    } else {
        for s in &missing {
            problems.push(format!(
                "{} topic {:?} does not exist: create it with {} partition(s){} or set kafka.resource_creation = \"auto\"",
                s.role,
                s.name,
                s.create_partitions,
                if s.compact { " and cleanup.policy=compact" } else { "" }
            ));
        }
    }
    // Verify the ones that existed before.
    let existing: Vec<&TopicSpec> = specs
        .iter()
        .filter(|s| partitions_of(&s.name).is_some())
        .collect();
    for s in &existing {
        let n = partitions_of(&s.name).unwrap_or(0);
        if let Some(exact) = s.exact_partitions {
            if n != exact {
                problems.push(format!(
                    "{} topic {:?} has {n} partitions; it must have exactly {exact}",
                    s.role, s.name
                ));
            }
        } else if n < s.min_partitions {
            problems.push(format!(
                "{} topic {:?} has {n} partition(s); it needs at least {}",
                s.role, s.name, s.min_partitions
            ));
        }
    }
    let compacted: Vec<&&TopicSpec> = existing.iter().filter(|s| s.compact).collect();
    if !compacted.is_empty() {
        let specifiers: Vec<ResourceSpecifier<'_>> = compacted
            .iter()
            .map(|s| ResourceSpecifier::Topic(&s.name))
            .collect();
        let described = admin
            .describe_configs(
                &specifiers,
                &AdminOptions::new().request_timeout(Some(Duration::from_secs(15))),
            )
            .await?;
        for (s, d) in compacted.iter().zip(described) {
            let policy = d
                .ok()
                .and_then(|r| r.get("cleanup.policy").and_then(|e| e.value.clone()));
            if !policy.as_deref().is_some_and(|p| p.contains("compact")) {
                problems.push(format!(
                    "{} topic {:?} has cleanup.policy = {}; it must be compact",
                    s.role,
                    s.name,
                    policy.as_deref().unwrap_or("delete (default)")
                ));
            }
        }
    }
    if problems.is_empty() {
        Ok(())
    } else {
        anyhow::bail!(
            "Kafka resources are not usable:\n  - {}",
            problems.join("\n  - ")
        )
    }
}

/// The dead-letter and error topics' `max.message.bytes`, where the
/// broker reports it (many report only what was set explicitly); the
/// error-record producer is sized from it.
pub async fn record_limits(
    config: &Config,
) -> anyhow::Result<crate::sink::dead_letter::RecordLimits> {
    let admin = admin(config)?;
    let mut limits = [None, None];
    for (i, topic) in [config.dead_letter_topic(), config.error_topic()]
        .iter()
        .enumerate()
    {
        if i == 1 && config.error_topic() == config.dead_letter_topic() {
            limits[1] = limits[0];
            break;
        }
        let described = admin
            .describe_configs(
                &[ResourceSpecifier::Topic(topic)],
                &AdminOptions::new().request_timeout(Some(Duration::from_secs(15))),
            )
            .await;
        limits[i] = match described {
            Ok(d) => d
                .into_iter()
                .next()
                .and_then(Result::ok)
                .and_then(|r| r.get("max.message.bytes").and_then(|e| e.value.clone()))
                .and_then(|v| v.parse::<usize>().ok()),
            Err(e) => {
                tracing::warn!(topic = %topic, error = %e, "cannot read the topic's max.message.bytes; assuming Kafka's default");
                None
            }
        };
    }
    Ok(crate::sink::dead_letter::RecordLimits::from_topics(
        limits[0], limits[1],
    ))
}

/// How long startup keeps retrying a throttled or unavailable Tablestore.
const STARTUP_RETRY_DEADLINE: Duration = Duration::from_secs(120);

/// Runs a startup call, retrying retriable errors (throttling, transient
/// faults, connection failures) with backoff until
/// [`STARTUP_RETRY_DEADLINE`]: a busy service must not stop the sink from
/// starting. Permanent errors return at once.
async fn startup_call<T, F, Fut>(what: &str, mut call: F) -> Result<T, crate::tablestore::Error>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<T, crate::tablestore::Error>>,
{
    let deadline = tokio::time::Instant::now() + STARTUP_RETRY_DEADLINE;
    let mut delay = Duration::from_millis(100);
    loop {
        match call().await {
            Err(e) if e.is_retriable() && tokio::time::Instant::now() + delay < deadline => {
                tracing::warn!(call = what, error = %e, retry_in_ms = delay.as_millis() as u64, "Tablestore call failed at startup; retrying");
                tokio::time::sleep(delay).await;
                delay = (delay * 2).min(Duration::from_secs(5));
            }
            result => return result,
        }
    }
}

/// The primary key the configuration writes.
pub fn expected_primary_key(config: &Config) -> Vec<(String, PrimaryKeyType)> {
    match config.wide_column.primary_key_mode {
        PrimaryKeyMode::Kafka => vec![
            ("topic_partition".into(), PrimaryKeyType::String),
            ("offset".into(), PrimaryKeyType::Integer),
        ],
        _ => config
            .wide_column
            .primary_key
            .iter()
            .map(|c| {
                (
                    c.name.clone(),
                    match c.column_type {
                        PkColumnType::String => PrimaryKeyType::String,
                        PkColumnType::Integer => PrimaryKeyType::Integer,
                    },
                )
            })
            .collect(),
    }
}

/// Checks (and if allowed creates) the destination table.
pub async fn ensure_table(client: &Client, config: &Config) -> anyhow::Result<()> {
    let table = &config.tablestore.table;
    let auto = config.tablestore.auto_create_table;
    match config.tablestore.model {
        Model::Timeseries => match startup_call("DescribeTimeseriesTable", || client.describe_timeseries_table(table)).await {
            Ok(_) => Ok(()),
            Err(e) if e.code == "OTSObjectNotExist" && auto => {
                startup_call("CreateTimeseriesTable", || client.create_timeseries_table(table, -1)).await.map_err(|e| anyhow::anyhow!("creating TimeSeries table {table:?}: {e}"))?;
                tracing::info!(table = %table, "created TimeSeries table");
                Ok(())
            }
            Err(e) if e.code == "OTSObjectNotExist" => anyhow::bail!(
                "TimeSeries table {table:?} does not exist: create it or set tablestore.auto_create_table = true"
            ),
            Err(e) => anyhow::bail!("checking TimeSeries table {table:?}: {e}"),
        },
        Model::WideColumn => {
            let expected = expected_primary_key(config);
            match startup_call("DescribeTable", || client.describe_table(table)).await {
                Ok(desc) => {
                    let actual: Vec<(String, i32)> = desc.table_meta.primary_key.iter().map(|c| (c.name.clone(), c.r#type)).collect();
                    let want: Vec<(String, i32)> = expected.iter().map(|(n, t)| (n.clone(), *t as i32)).collect();
                    if actual != want {
                        let show = |v: &[(String, i32)]| {
                            v.iter()
                                .map(|(n, t)| format!("{n} {}", pk_type_name(*t)))
                                .collect::<Vec<_>>()
                                .join(", ")
                        };
                        anyhow::bail!(
                            "table {table:?} has primary key ({}) but the configuration writes ({}): fix wide_column.primary_key or use another table",
                            show(&actual),
                            show(&want)
                        );
                    }
                    Ok(())
                }
                Err(e) if e.code == "OTSObjectNotExist" && auto => {
                    let pk: Vec<(&str, PrimaryKeyType)> = expected.iter().map(|(n, t)| (n.as_str(), *t)).collect();
                    let req = CreateTableRequest::new(table, &pk);
                    startup_call("CreateTable", || client.create_table(&req)).await.map_err(|e| anyhow::anyhow!("creating table {table:?}: {e}"))?;
                    tracing::info!(table = %table, "created table");
                    Ok(())
                }
                Err(e) if e.code == "OTSObjectNotExist" => {
                    anyhow::bail!("table {table:?} does not exist: create it or set tablestore.auto_create_table = true")
                }
                Err(e) => anyhow::bail!("checking table {table:?}: {e}"),
            }
        }
    }
}

fn pk_type_name(t: i32) -> &'static str {
    match PrimaryKeyType::try_from(t) {
        Ok(PrimaryKeyType::Integer) => "INTEGER",
        Ok(PrimaryKeyType::String) => "STRING",
        Ok(PrimaryKeyType::Binary) => "BINARY",
        Err(_) => "UNKNOWN",
    }
}
