//! Kafka consumers and the bridge from librdkafka's rebalance callbacks to
//! the supervisor.
//!
//! Each consumer's main queue is polled by its own driver thread; it only
//! serves callbacks, because every assigned partition is read from its own
//! queue by its partition actor.
//!
//! * **Assign**: before librdkafka starts fetching (in `pre_rebalance`),
//!   the callback splits every assigned partition's queue, clears any
//!   pause left from an earlier assignment, hands all of them to the
//!   supervisor in one message and waits until the supervisor has handed
//!   each queue to the actor it starts on its lane. Splitting *before* the assignment matters: librdkafka
//!   forwards a partition's fetch queue to the main queue when it starts
//!   fetching unless the application already took that queue, so a split
//!   made after the assignment races the first fetch. A partition whose
//!   earlier queue handle is still out (its actor has not stopped, or no
//!   revoke came) is drained first, and split once that handle is back,
//!   or after [`CANCEL_GRACE`] at most for all of them (then it may not
//!   wake until the next rebalance, and an error says so; see
//!   [`lease`](super::lease)).
//! * **Revoke**: the callback asks the supervisor to drain the revoked
//!   partitions and blocks until it answers (bounded), then commits
//!   synchronously, so the next owner starts where our acknowledged
//!   writes end.
//! * **Strays**: a message that reaches the main queue anyway is never
//!   dropped: the supervisor rewinds its partition to it.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock, Weak};
use std::time::{Duration, Instant};

use actix::prelude::*;
use rdkafka::client::ClientContext;
use rdkafka::consumer::{
    BaseConsumer, CommitMode, Consumer, ConsumerContext, Rebalance, StreamConsumer,
};
use rdkafka::error::{KafkaError, KafkaResult, RDKafkaErrorCode};
use rdkafka::statistics::Statistics;
use rdkafka::TopicPartitionList;

use super::lease::{lend_when_returned, LeasedQueue, QueueReturned, QueueSlots};
use super::messages::TopicPartition;
use super::prefetch::Prefetch;
use super::supervisor::CANCEL_GRACE;
use crate::config::{Config, OffsetReset};
use crate::metrics::names;

pub type SinkConsumer = StreamConsumer<SinkContext>;
pub use super::ready_read::PartitionQueue;

/// Testing only: split partition queues this many milliseconds *after*
/// the assignment (the racy order), to prove strays are not lost.
pub const FAULT_LATE_SPLIT_ENV: &str = "TABLESTORE_SINK_FAULT_LATE_SPLIT_MS";

/// Callback → supervisor: these partitions are about to be assigned;
/// here are their queues. Answer on `done` once each is handed to its
/// actor (started on its lane; the queue keeps messages until it runs).
#[derive(Message)]
#[rtype(result = "()")]
pub struct Assigned {
    pub consumer: usize,
    pub partitions: Vec<(TopicPartition, LeasedQueue, QueueReturned)>,
    pub done: crossbeam_channel::Sender<()>,
}

/// Callback → supervisor: drain these partitions, then answer on `done`.
#[derive(Message)]
#[rtype(result = "()")]
pub struct Revoked {
    pub consumer: usize,
    pub partitions: Vec<TopicPartition>,
    pub done: crossbeam_channel::Sender<()>,
}

/// Driver → supervisor: a message of `tp` arrived on the main queue.
#[derive(Message)]
#[rtype(result = "()")]
pub struct Stray {
    pub consumer: usize,
    pub tp: TopicPartition,
    pub offset: i64,
}

/// Where the callbacks send their news.
pub struct Bridge {
    pub assigned: Recipient<Assigned>,
    pub revoked: Recipient<Revoked>,
    pub stray: Recipient<Stray>,
}

pub struct SinkContext {
    index: usize,
    bridge: Bridge,
    /// Set right after creation: the callback needs the `Arc` to split
    /// partition queues.
    consumer: OnceLock<Weak<SinkConsumer>>,
    /// How long a revoke waits for the supervisor's drain (the drain
    /// timeout plus time to cancel what did not drain).
    revoke_wait: Duration,
    /// Set at shutdown, before the supervisor drains: assignments then
    /// start nothing, and revokes only commit, without asking the
    /// (stopping) supervisor.
    closing: Arc<AtomicBool>,
    /// See [`FAULT_LATE_SPLIT_ENV`].
    late_split: Option<Duration>,
    /// The partition queue handles this consumer has lent out.
    slots: QueueSlots,
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

impl SinkContext {
    /// Splits the queues of `tpl`, clears stale pauses, and waits until
    /// the supervisor has handed them to their actors.
    fn hand_over(&self, base: &BaseConsumer<Self>, tpl: &TopicPartitionList) {
        let Some(consumer) = self.consumer.get().and_then(Weak::upgrade) else {
            return;
        };
        // A pause set while a partition was ours before (budget, stop
        // policy) must not outlive that assignment.
        if let Err(e) = base.resume(tpl) {
            tracing::debug!(consumer = self.index, error = %e, "resume before assignment");
        }
        let assigned = partitions(tpl);
        let still_out: Vec<TopicPartition> = assigned
            .iter()
            .filter(|tp| !self.slots.returned(tp, Duration::ZERO))
            .cloned()
            .collect();
        if !still_out.is_empty() {
            // The revoke of their last assignment did not finish, or never
            // came: drain what still runs, then wait for the handles.
            tracing::warn!(
                consumer = self.index,
                partitions = still_out.len(),
                "assigned partitions whose previous queue is still out; draining that first"
            );
            self.drain_and_wait(still_out);
            commit_stored(base, self.index);
        }
        // One wait for the handles still out, however many there are: the
        // callback must not keep the consumer from polling much longer.
        let deadline = Instant::now() + CANCEL_GRACE;
        let mut handed = Vec::new();
        for tp in assigned {
            let split = || PartitionQueue::split(&consumer, &tp.topic, tp.partition);
            let within = deadline.saturating_duration_since(Instant::now());
            match lend_when_returned(&self.slots, &tp, within, split) {
                Some((queue, returned)) => handed.push((tp, queue, returned)),
                None => {
                    tracing::error!(consumer = self.index, partition = %tp, "cannot split the partition queue")
                }
            }
        }
        if self.closing.load(Ordering::Acquire) {
            // Shutdown began while this callback waited: the drain has
            // listed its partitions already. The queues go back unread;
            // the next owner reads them from the committed offsets.
            return;
        }
        let count = handed.len();
        let (done, wait) = crossbeam_channel::bounded(1);
        self.bridge.assigned.do_send(Assigned {
            consumer: self.index,
            partitions: handed,
            done,
        });
        if wait.recv_timeout(self.revoke_wait).is_err() {
            tracing::error!(
                consumer = self.index,
                partitions = count,
                "supervisor did not start the assigned partitions in time"
            );
        }
    }

    /// Asks the supervisor to drain `partitions` (those it runs for this
    /// consumer) and waits for its answer, at most the revoke wait.
    fn drain_and_wait(&self, partitions: Vec<TopicPartition>) {
        let (done, wait) = crossbeam_channel::bounded(1);
        self.bridge.revoked.do_send(Revoked {
            consumer: self.index,
            partitions,
            done,
        });
        if wait.recv_timeout(self.revoke_wait).is_err() {
            tracing::warn!(consumer = self.index, timeout_ms = self.revoke_wait.as_millis() as u64, "drain did not answer in time; unacknowledged messages will be redelivered to the next owner");
        }
    }
}

impl ConsumerContext for SinkContext {
    fn pre_rebalance(&self, base: &BaseConsumer<Self>, rebalance: &Rebalance<'_>) {
        match rebalance {
            Rebalance::Assign(tpl) => {
                metrics::counter!(names::REBALANCES, "kind" => "assign").increment(1);
                if self.late_split.is_none() && !self.closing.load(Ordering::Acquire) {
                    self.hand_over(base, tpl);
                }
            }
            Rebalance::Revoke(tpl) => {
                metrics::counter!(names::REBALANCES, "kind" => "revoke").increment(1);
                if !self.closing.load(Ordering::Acquire) {
                    let parts = partitions(tpl);
                    tracing::info!(
                        consumer = self.index,
                        partitions = parts.len(),
                        "partitions revoked; draining in-flight writes"
                    );
                    self.drain_and_wait(parts);
                }
                commit_stored(base, self.index);
            }
            Rebalance::Error(e) => {
                tracing::warn!(consumer = self.index, error = %e, "rebalance error")
            }
        }
    }

    fn post_rebalance(&self, base: &BaseConsumer<Self>, rebalance: &Rebalance<'_>) {
        if let (Rebalance::Assign(tpl), Some(delay)) = (rebalance, self.late_split) {
            std::thread::sleep(delay);
            if !self.closing.load(Ordering::Acquire) {
                self.hand_over(base, tpl);
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
            Err(e) => {
                crate::metrics::events::commit_failed();
                tracing::warn!(consumer = self.index, error = %e, "offset commit failed")
            }
        }
    }
}

/// Synchronously commits what was stored (nothing to commit is fine).
pub fn commit_stored<C: ConsumerContext>(consumer: &impl Consumer<C>, index: usize) {
    match consumer.commit_consumer_state(CommitMode::Sync) {
        Ok(()) | Err(KafkaError::ConsumerCommit(RDKafkaErrorCode::NoOffset)) => {}
        Err(e) => {
            crate::metrics::events::commit_failed();
            tracing::warn!(consumer = index, error = %e, "synchronous commit failed")
        }
    }
}

/// librdkafka settings of our consumers. The user's `[kafka.client]`
/// properties are applied last and win.
pub fn consumer_config(
    config: &Config,
    index: usize,
    prefetch: &Prefetch,
) -> rdkafka::ClientConfig {
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
        // with it the end-to-end latency at low rates (at 100 ms the p99
        // at 10 % of the maximum rate was 98 ms; `cargo bench --bench
        // sink`, BENCH=latency). An idle consumer asks 50 times a second.
        .set("fetch.wait.max.ms", "20");
    for (k, v) in prefetch.properties() {
        c.set(k, v);
    }
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
        bridge: Bridge,
        prefetch: &Prefetch,
    ) -> KafkaResult<Self> {
        let closing = Arc::new(AtomicBool::new(false));
        let drain = Duration::from_millis(config.kafka.drain_timeout_ms() as u64);
        let context = SinkContext {
            index,
            bridge,
            consumer: OnceLock::new(),
            revoke_wait: drain + CANCEL_GRACE,
            closing: closing.clone(),
            late_split: std::env::var(FAULT_LATE_SPLIT_ENV)
                .ok()
                .and_then(|v| v.parse().ok())
                .map(Duration::from_millis),
            slots: QueueSlots::default(),
        };
        let consumer: Arc<SinkConsumer> =
            Arc::new(consumer_config(config, index, prefetch).create_with_context(context)?);
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

/// Polls the main queue so callbacks run. A message that arrives here
/// (it should not: see the module doc) goes to the supervisor, which
/// rewinds its partition to it.
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
                    let tp = TopicPartition {
                        topic: m.topic().into(),
                        partition: m.partition(),
                    };
                    tracing::warn!(consumer = index, partition = %tp, offset = m.offset(), "message arrived on the main queue; rewinding its partition to it");
                    consumer.context().bridge.stray.do_send(Stray {
                        consumer: index,
                        tp,
                        offset: m.offset(),
                    });
                }
                Ok(Err(e)) => tracing::warn!(consumer = index, error = %e, "Kafka consumer error"),
            }
        }
    });
}
