//! Test support: a consumer of librdkafka's in-process mock cluster, for
//! the unit tests of partition queues (no broker, no group join).

use std::sync::Arc;

use rdkafka::config::ClientConfig;
use rdkafka::consumer::StreamConsumer;

/// A consumer of `servers` in `group` that never commits by itself.
pub fn consumer(servers: &str, group: &str) -> Arc<StreamConsumer> {
    Arc::new(
        ClientConfig::new()
            .set("bootstrap.servers", servers)
            .set("group.id", group)
            .set("enable.auto.commit", "false")
            .create()
            .expect("a mock-cluster consumer"),
    )
}
