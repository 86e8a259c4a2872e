//! Kafka consumers and the bridge from librdkafka's rebalance callbacks to
//! the supervisor.
//!
//! Each consumer's main queue is polled by its own driver thread (it only
//! serves callbacks: every assigned partition is split into its own
//! queue). On assign, the callback splits the partition queues and hands
//! them to the supervisor. On revoke, the callback asks the supervisor to
//! drain the revoked partitions and blocks (up to the drain timeout) until
//! it answers, then commits synchronously, so the next owner starts where
//! our acknowledged writes end.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock, Weak};
use std::time::Duration;

use actix::prelude::*;
use rdkafka::client::ClientContext;
use rdkafka::consumer::stream_consumer::StreamPartitionQueue;
use rdkafka::consumer::{
    BaseConsumer, CommitMode, Consumer, ConsumerContext, Rebalance, StreamConsumer,
};
use rdkafka::error::{KafkaError, KafkaResult, RDKafkaErrorCode};
use rdkafka::statistics::Statistics;
use rdkafka::TopicPartitionList;

use super::messages::TopicPartition;
use crate::config::{Config, OffsetReset};
use crate::metrics::names;

pub type SinkConsumer = StreamConsumer<SinkContext>;
pub type PartitionQueue = StreamPartitionQueue<SinkContext>;

/// Callback → supervisor: a partition was assigned; here is its queue.
#[derive(Message)]
#[rtype(result = "()")]
pub struct Assigned {
    pub consumer: usize,
    pub tp: TopicPartition,
    pub queue: PartitionQueue,
}

/// Callback → supervisor: drain these partitions, then answer on `done`.
#[derive(Message)]
#[rtype(result = "()")]
pub struct Revoked {
    pub consumer: usize,
    pub partitions: Vec<TopicPartition>,
    pub done: crossbeam_channel::Sender<()>,
}

pub struct SinkContext {
    index: usize,
    supervisor: Recipient<Assigned>,
    revoker: Recipient<Revoked>,
    /// Set right after creation: the callback needs the `Arc` to split
    /// partition queues.
    consumer: OnceLock<Weak<SinkConsumer>>,
    drain_timeout: Duration,
    /// Set at shutdown: revokes then only commit, without asking the
    /// (stopping) supervisor.
    closing: Arc<AtomicBool>,
}

impl ClientContext for SinkContext {
    fn stats(&self, stats: Statistics) {
        for (topic, t) in &stats.topics {
            for (p, part) in &t.partitions {
                // Only partitions this consumer is fetching: a revoked one's
                // stale figure must not overwrite its new owner's.
                if *p >= 0 && part.consumer_lag >= 0 && part.fetch_state == "active" {
                    metrics::gauge!(names::CONSUMER_LAG, "topic" => topic.clone(), "partition" => p.to_string()).set(part.consumer_lag as f64);
                }
            }
        }
    }
}

fn partitions(tpl: &TopicPartitionList) -> Vec<TopicPartition> {
    tpl.elements()
        .iter()
        .map(|e| TopicPartition {
            topic: e.topic().into(),
            partition: e.partition(),
        })
        .collect()
}

impl ConsumerContext for SinkContext {
    fn pre_rebalance(&self, base: &BaseConsumer<Self>, rebalance: &Rebalance<'_>) {
        let Rebalance::Revoke(tpl) = rebalance else {
            return;
        };
        metrics::counter!(names::REBALANCES, "kind" => "revoke").increment(1);
        if !self.closing.load(Ordering::Acquire) {
            let (done, wait) = crossbeam_channel::bounded(1);
            let parts = partitions(tpl);
            tracing::info!(
                consumer = self.index,
                partitions = parts.len(),
                "partitions revoked; draining in-flight writes"
            );
            if self
                .revoker
                .try_send(Revoked {
                    consumer: self.index,
                    partitions: parts,
                    done,
                })
                .is_ok()
                && wait.recv_timeout(self.drain_timeout).is_err()
            {
                tracing::warn!(consumer = self.index, timeout_ms = self.drain_timeout.as_millis() as u64, "drain timed out; unacknowledged messages will be redelivered to the next owner");
            }
        }
        commit_stored(base, self.index);
    }

    fn post_rebalance(&self, _: &BaseConsumer<Self>, rebalance: &Rebalance<'_>) {
        let Rebalance::Assign(tpl) = rebalance else {
            return;
        };
        metrics::counter!(names::REBALANCES, "kind" => "assign").increment(1);
        let Some(consumer) = self.consumer.get().and_then(Weak::upgrade) else {
            return;
        };
        for tp in partitions(tpl) {
            match consumer.split_partition_queue(&tp.topic, tp.partition) {
                Some(queue) => {
                    if self
                        .supervisor
                        .try_send(Assigned {
                            consumer: self.index,
                            tp,
                            queue,
                        })
                        .is_err()
                    {
                        tracing::error!(
                            consumer = self.index,
                            "supervisor is gone; cannot start partition"
                        );
                    }
                }
                None => {
                    tracing::error!(consumer = self.index, partition = %tp, "cannot split the partition queue")
                }
            }
        }
    }

    fn commit_callback(&self, result: KafkaResult<()>, offsets: &TopicPartitionList) {
        match result {
            Ok(()) => tracing::debug!(
                consumer = self.index,
                partitions = offsets.count(),
                "offsets committed"
            ),
            Err(KafkaError::ConsumerCommit(RDKafkaErrorCode::NoOffset)) => {}
            Err(e) => tracing::warn!(consumer = self.index, error = %e, "offset commit failed"),
        }
    }
}

/// Synchronously commits what was stored (nothing to commit is fine).
pub fn commit_stored<C: ConsumerContext>(consumer: &impl Consumer<C>, index: usize) {
    match consumer.commit_consumer_state(CommitMode::Sync) {
        Ok(()) | Err(KafkaError::ConsumerCommit(RDKafkaErrorCode::NoOffset)) => {}
        Err(e) => tracing::warn!(consumer = index, error = %e, "synchronous commit failed"),
    }
}

/// librdkafka settings of our consumers. The user's `[kafka.client]`
/// properties are applied last and win.
pub fn consumer_config(config: &Config, index: usize) -> rdkafka::ClientConfig {
    let mut c = crate::kafka::base_client_config(
        config,
        &format!("tablestore-sink-{}-{index}", config.connector.name),
    );
    let session = config.kafka.session_timeout_ms;
    c.set("group.id", config.group())
        .set("enable.auto.commit", "true")
        .set(
            "auto.commit.interval.ms",
            config.kafka.commit_interval_ms.to_string(),
        )
        // At least once: only offsets we store after acknowledgement are committed.
        .set("enable.auto.offset.store", "false")
        .set(
            "auto.offset.reset",
            match config.kafka.offset_reset {
                OffsetReset::Earliest => "earliest",
                OffsetReset::Latest => "latest",
            },
        )
        .set("session.timeout.ms", session.to_string())
        .set(
            "heartbeat.interval.ms",
            (session / 4).clamp(100, 3000).to_string(),
        )
        .set("max.poll.interval.ms", session.max(10_000).to_string())
        .set("enable.partition.eof", "false")
        .set("statistics.interval.ms", "5000")
        // librdkafka's default 1000 ms back-off caps throughput when the
        // local queue is busy (measured in kafka-broker-probe.md §10).
        .set("fetch.queue.backoff.ms", "10")
        // Bounds how long a fetch waits for data (librdkafka: 500 ms), and
        // with it the end-to-end latency at low rates.
        .set("fetch.wait.max.ms", "100");
    for (k, v) in &config.kafka.client {
        c.set(k, v);
    }
    c
}

/// A consumer and the thread that serves its callbacks.
pub struct ConsumerHandle {
    pub consumer: Arc<SinkConsumer>,
    pub closing: Arc<AtomicBool>,
    driver: Option<std::thread::JoinHandle<()>>,
}

impl ConsumerHandle {
    /// Creates consumer `index`, subscribes, and starts its driver thread.
    pub fn start(
        config: &Config,
        index: usize,
        supervisor: Recipient<Assigned>,
        revoker: Recipient<Revoked>,
    ) -> KafkaResult<Self> {
        let closing = Arc::new(AtomicBool::new(false));
        let context = SinkContext {
            index,
            supervisor,
            revoker,
            consumer: OnceLock::new(),
            drain_timeout: Duration::from_millis(config.kafka.drain_timeout_ms() as u64),
            closing: closing.clone(),
        };
        let consumer: Arc<SinkConsumer> =
            Arc::new(consumer_config(config, index).create_with_context(context)?);
        let _ = consumer.context().consumer.set(Arc::downgrade(&consumer));
        consumer.subscribe(&[&config.kafka.topic])?;
        let driven = consumer.clone();
        let stop = closing.clone();
        let driver = std::thread::Builder::new()
            .name(format!("kafka-consumer-{index}"))
            .spawn(move || drive(driven, stop, index))
            .map_err(|e| KafkaError::ClientCreation(format!("starting consumer thread: {e}")))?;
        Ok(ConsumerHandle {
            consumer,
            closing,
            driver: Some(driver),
        })
    }

    /// Commits what was stored, stops the driver, and closes the consumer.
    pub fn close(mut self) {
        self.closing.store(true, Ordering::Release);
        if let Some(d) = self.driver.take() {
            let _ = d.join();
        }
        commit_stored(&*self.consumer, self.consumer.context().index);
        self.consumer.unsubscribe();
    }
}

/// Polls the main queue so callbacks run. Messages never arrive here for
/// split partitions; any that do (a fetch that raced the split) are
/// logged and left uncommitted, so they are redelivered after a restart.
fn drive(consumer: Arc<SinkConsumer>, closing: Arc<AtomicBool>, index: usize) {
    let rt = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            tracing::error!(error = %e, "cannot start consumer driver runtime");
            return;
        }
    };
    rt.block_on(async {
        while !closing.load(Ordering::Acquire) {
            match tokio::time::timeout(Duration::from_millis(100), consumer.recv()).await {
                Err(_) => {}
                Ok(Ok(m)) => {
                    use rdkafka::Message;
                    tracing::error!(consumer = index, topic = m.topic(), partition = m.partition(), offset = m.offset(), "message arrived on the main queue; it will be redelivered after a rebalance or restart");
                }
                Ok(Err(e)) => tracing::warn!(consumer = index, error = %e, "Kafka consumer error"),
            }
        }
    });
}
