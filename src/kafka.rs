//! librdkafka client settings shared by every Kafka client we create
//! (consumers, the dead-letter/status producer, admin): bootstrap servers,
//! then the user's `[kafka.client]` passthrough, which wins.

pub mod access;
pub mod preflight;

use rdkafka::ClientConfig;

use crate::config::Config;

pub fn base_client_config(config: &Config, client_id: &str) -> ClientConfig {
    let mut c = ClientConfig::new();
    c.set("bootstrap.servers", &config.kafka.bootstrap_servers);
    c.set("client.id", client_id);
    for (k, v) in &config.kafka.client {
        c.set(k, v);
    }
    c
}

/// Producer for error records, status and config: every record must be
/// acknowledged by all in-sync replicas.
pub fn producer_config(config: &Config) -> ClientConfig {
    let mut c = ClientConfig::new();
    c.set("bootstrap.servers", &config.kafka.bootstrap_servers);
    c.set(
        "client.id",
        format!("tablestore-sink-{}-producer", config.connector.name),
    );
    c.set("acks", "all");
    c.set("message.timeout.ms", "30000");
    c.set("linger.ms", "5");
    for (k, v) in &config.kafka.client {
        c.set(k, v);
    }
    c
}
