//! The partition-consumer actor: one per assigned partition. It reads the
//! partition's own librdkafka queue, takes in-flight budget (pausing the
//! partition while it waits), sends chunks to the converter pool in order,
//! forwards converted rows to the writer, routes failures by policy, and
//! stores the commit point as acknowledgements arrive.
//!
//! States: Running → (Failed | Draining). Failed (stop policy) keeps the
//! partition paused at the bad message; its offset is never stored.

use std::sync::Arc;

use actix::prelude::*;
use futures::StreamExt;
use rdkafka::consumer::Consumer;
use rdkafka::error::KafkaResult;
use rdkafka::message::{Message as _, OwnedMessage};
use rdkafka::TopicPartitionList;

use super::budget::Budget;
use super::consumer::{PartitionQueue, SinkConsumer};
use super::converter::ConverterActor;
use super::dead_letter::{DeadLetters, Stage};
use super::messages::*;
use super::offsets::OffsetTracker;
use super::writer::Writer;
use crate::config::FailurePolicy;
use crate::metrics::names;

/// Partitions paused for budget in this process (the gauge's value).
pub static PAUSED: std::sync::atomic::AtomicI64 = std::sync::atomic::AtomicI64::new(0);

/// Messages handed to the converter at once (at most).
const MAX_CHUNK: usize = 500;
/// Budget bytes counted per message on top of key and value.
const MESSAGE_OVERHEAD_BYTES: usize = 128;

#[derive(Debug, Clone, PartialEq, Eq)]
enum State {
    Running,
    Failed,
    Draining,
}

pub struct PartitionConsumer {
    pub tp: TopicPartition,
    pub consumer: Arc<SinkConsumer>,
    /// Taken in `started` to build the message stream.
    pub queue: Option<PartitionQueue>,
    pub converter: Addr<ConverterActor>,
    pub writer: Addr<Writer>,
    pub supervisor: Recipient<PartitionFailed>,
    pub dead_letters: DeadLetters,
    pub budget: Budget,
    pub policy: FailurePolicy,
    tracker: OffsetTracker,
    /// Last commit point stored in librdkafka.
    stored: Option<i64>,
    state: State,
    /// Writes and error records sent but not yet acknowledged; a drain
    /// waits for this to reach zero.
    outstanding: usize,
    stream: Option<SpawnHandle>,
    drain_waiters: Vec<tokio::sync::oneshot::Sender<()>>,
    paused: bool,
}

impl PartitionConsumer {
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        tp: TopicPartition,
        consumer: Arc<SinkConsumer>,
        queue: PartitionQueue,
        converter: Addr<ConverterActor>,
        writer: Addr<Writer>,
        supervisor: Recipient<PartitionFailed>,
        dead_letters: DeadLetters,
        budget: Budget,
        policy: FailurePolicy,
    ) -> Self {
        PartitionConsumer {
            tp,
            consumer,
            queue: Some(queue),
            converter,
            writer,
            supervisor,
            dead_letters,
            budget,
            policy,
            tracker: OffsetTracker::default(),
            stored: None,
            state: State::Running,
            outstanding: 0,
            stream: None,
            drain_waiters: Vec::new(),
            paused: false,
        }
    }

    fn tpl(&self) -> TopicPartitionList {
        let mut tpl = TopicPartitionList::new();
        tpl.add_partition(&self.tp.topic, self.tp.partition);
        tpl
    }

    fn set_paused(&mut self, paused: bool) {
        if self.paused == paused {
            return;
        }
        let result = if paused {
            self.consumer.pause(&self.tpl())
        } else {
            self.consumer.resume(&self.tpl())
        };
        if let Err(e) = result {
            tracing::debug!(partition = %self.tp, error = %e, paused, "pause/resume failed (partition no longer assigned?)");
        }
        self.paused = paused;
        let delta = if paused { 1 } else { -1 };
        let now = PAUSED.fetch_add(delta, std::sync::atomic::Ordering::AcqRel) + delta;
        metrics::gauge!(names::PAUSED_PARTITIONS).set(now as f64);
    }

    fn stop_stream(&mut self, ctx: &mut Context<Self>) {
        if let Some(handle) = self.stream.take() {
            ctx.cancel_future(handle);
        }
    }

    /// Stores the commit point if it moved. librdkafka's `store_offset(o)`
    /// commits `o + 1`, so we store one below the next offset to read.
    fn store_commit_point(&mut self) {
        let Some(point) = self.tracker.commit_point() else {
            return;
        };
        if self.stored.is_some_and(|s| s >= point) {
            return;
        }
        match self
            .consumer
            .store_offset(&self.tp.topic, self.tp.partition, point - 1)
        {
            Ok(()) => {
                self.stored = Some(point);
                metrics::gauge!(names::COMMITTED_OFFSET, "topic" => self.tp.topic.to_string(), "partition" => self.tp.partition.to_string())
                    .set(point as f64);
            }
            Err(e) => tracing::debug!(partition = %self.tp, error = %e, "could not store offset"),
        }
    }

    /// Re-sets this partition's gauges so they stay on the endpoint while
    /// it is assigned (and vanish after it is revoked).
    fn refresh_gauges(&self) {
        let labels = [
            ("topic", self.tp.topic.to_string()),
            ("partition", self.tp.partition.to_string()),
        ];
        if let Some(point) = self.stored {
            metrics::gauge!(names::COMMITTED_OFFSET, &labels).set(point as f64);
        }
        metrics::gauge!(names::PARTITION_FAILED, &labels).set(if self.state == State::Failed {
            1.0
        } else {
            0.0
        });
    }

    fn settle(&mut self, ctx: &mut Context<Self>) {
        self.store_commit_point();
        if self.outstanding == 0 && self.state != State::Running {
            for w in self.drain_waiters.drain(..) {
                let _ = w.send(());
            }
            if self.state == State::Draining {
                ctx.stop();
            }
        }
    }

    fn on_chunk(&mut self, chunk: Vec<KafkaResult<OwnedMessage>>, ctx: &mut Context<Self>) {
        let mut messages = Vec::with_capacity(chunk.len());
        for m in chunk {
            match m {
                Ok(m) => messages.push(m),
                Err(e) => tracing::warn!(partition = %self.tp, error = %e, "Kafka consumer error"),
            }
        }
        if messages.is_empty() || self.state != State::Running {
            return;
        }
        let sized: Vec<(OwnedMessage, usize)> = messages
            .into_iter()
            .map(|m| {
                let size = m.key().map_or(0, <[u8]>::len)
                    + m.payload().map_or(0, <[u8]>::len)
                    + MESSAGE_OVERHEAD_BYTES;
                (m, size)
            })
            .collect();
        let total: usize = sized.iter().map(|(_, s)| s).sum();
        let topic = self.tp.topic.to_string();
        metrics::counter!(names::MESSAGES_CONSUMED, "topic" => topic.clone())
            .increment(sized.len() as u64);
        metrics::counter!(names::BYTES_CONSUMED, "topic" => topic)
            .increment((total - sized.len() * MESSAGE_OVERHEAD_BYTES) as u64);
        for (m, _) in &sized {
            self.tracker.register(m.offset());
        }
        // The chunk goes to the converter only once its bytes are held:
        // `send` enqueues at once, and its rows could be written (and their
        // bytes given back) before a later take.
        if self.budget.try_take(total) {
            self.convert(sized, ctx);
        } else {
            self.set_paused(true);
            let budget = self.budget.clone();
            ctx.wait(
                async move { budget.take(total).await }
                    .into_actor(self)
                    .map(move |_, act, ctx| {
                        act.set_paused(false);
                        act.convert(sized, ctx);
                    }),
            );
        }
    }

    /// Converts a chunk whose budget is held, then hands the rows on.
    fn convert(&mut self, messages: Vec<(OwnedMessage, usize)>, ctx: &mut Context<Self>) {
        let convert = self.converter.send(Convert { messages });
        ctx.wait(
            convert
                .into_actor(self)
                .map(|result, act, ctx| match result {
                    Ok(outcomes) => act.on_converted(outcomes, ctx),
                    Err(e) => {
                        // The converter pool is gone: the process is shutting down.
                        tracing::error!(partition = %act.tp, error = %e, "converter unavailable");
                        act.fail(-1, format!("converter unavailable: {e}"), ctx);
                    }
                }),
        );
    }

    fn on_converted(&mut self, outcomes: Vec<ConvertOutcome>, ctx: &mut Context<Self>) {
        let mut writes = Vec::with_capacity(outcomes.len());
        for outcome in outcomes {
            if self.state == State::Failed {
                // Stop policy: nothing after the bad message is written.
                let bytes = match &outcome {
                    ConvertOutcome::Ok(w) => w.budget_bytes,
                    ConvertOutcome::Failed { budget_bytes, .. } => *budget_bytes,
                };
                self.budget.give(bytes);
                continue;
            }
            match outcome {
                ConvertOutcome::Ok(w) => writes.push(w),
                ConvertOutcome::Failed {
                    message,
                    error,
                    budget_bytes,
                } => {
                    let topic = self.tp.topic.to_string();
                    metrics::counter!(names::DEAD_LETTER_RECORDS, "topic" => topic, "reason" => error.reason_code()).increment(1);
                    tracing::warn!(partition = %self.tp, offset = message.offset(), reason = error.reason_code(), error = %error, "message cannot be converted");
                    match self.policy {
                        FailurePolicy::Continue => self.route_to(
                            Stage::Convert,
                            message,
                            error.reason_code().to_owned(),
                            error.to_string(),
                            budget_bytes,
                            ctx,
                        ),
                        FailurePolicy::Stop => {
                            self.budget.give(budget_bytes);
                            self.fail(message.offset(), format!("conversion failed: {error}"), ctx);
                        }
                    }
                }
            }
        }
        if !writes.is_empty() {
            self.outstanding += writes.len();
            self.writer.do_send(Write {
                items: writes,
                reply: ctx.address().recipient(),
            });
        }
    }

    /// Sends the original message to the dead-letter or error topic; the
    /// offset completes (and the budget is given back) when Kafka acks.
    fn route_to(
        &mut self,
        stage: Stage,
        message: OwnedMessage,
        code: String,
        reason: String,
        budget_bytes: usize,
        ctx: &mut Context<Self>,
    ) {
        self.outstanding += 1;
        let dead_letters = self.dead_letters.clone();
        let budget = self.budget.clone();
        let me = ctx.address();
        actix::spawn(async move {
            dead_letters.send(stage, &message, &code, &reason).await;
            budget.give(budget_bytes);
            me.do_send(DeadLettered {
                offset: message.offset(),
            });
        });
    }

    fn fail(&mut self, offset: i64, reason: String, ctx: &mut Context<Self>) {
        if self.state == State::Failed {
            return;
        }
        tracing::error!(partition = %self.tp, offset, reason = %reason, "partition stopped by the stop failure policy");
        self.state = State::Failed;
        self.stop_stream(ctx);
        self.set_paused(true);
        metrics::gauge!(names::PARTITION_FAILED, "topic" => self.tp.topic.to_string(), "partition" => self.tp.partition.to_string()).set(1.0);
        self.supervisor.do_send(PartitionFailed {
            tp: self.tp.clone(),
            offset,
            reason,
        });
    }
}

impl Actor for PartitionConsumer {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Context<Self>) {
        let queue = self.queue.take().expect("queue is set at creation");
        // Own the queue inside the stream; detach each message so it can
        // cross to the converter threads.
        let stream = futures::stream::unfold(queue, |queue| async move {
            let item = queue.recv().await.map(|m| m.detach());
            Some((item, queue))
        })
        .ready_chunks(MAX_CHUNK);
        self.stream = Some(ctx.add_stream(stream));
        ctx.run_interval(crate::metrics::REFRESH, |act, _| act.refresh_gauges());
    }

    fn stopped(&mut self, _: &mut Context<Self>) {
        if self.paused {
            PAUSED.fetch_sub(1, std::sync::atomic::Ordering::AcqRel);
        }
        // This partition's gauges are no longer refreshed, so the exporter
        // drops their series after `metrics::GAUGE_IDLE_TIMEOUT`.
    }
}

impl StreamHandler<Vec<KafkaResult<OwnedMessage>>> for PartitionConsumer {
    fn handle(&mut self, chunk: Vec<KafkaResult<OwnedMessage>>, ctx: &mut Context<Self>) {
        self.on_chunk(chunk, ctx);
    }

    fn finished(&mut self, _: &mut Context<Self>) {
        // The stream never ends on its own; it is cancelled on drain or
        // failure. Keep the actor alive to receive acknowledgements.
    }
}

impl Handler<WriteOutcome> for PartitionConsumer {
    type Result = ();

    fn handle(&mut self, msg: WriteOutcome, ctx: &mut Context<Self>) {
        match msg {
            WriteOutcome::Written { offsets } => {
                self.outstanding -= offsets.len();
                for o in offsets {
                    self.tracker.complete(o);
                }
            }
            WriteOutcome::Rejected { item, error } => {
                self.outstanding -= 1;
                metrics::counter!(names::ERROR_RECORDS, "topic" => self.tp.topic.to_string(), "code" => error.code.clone()).increment(1);
                match self.policy {
                    FailurePolicy::Continue => {
                        let item = *item;
                        self.route_to(
                            Stage::Write,
                            item.source,
                            error.code.clone(),
                            error.to_string(),
                            item.budget_bytes,
                            ctx,
                        );
                    }
                    FailurePolicy::Stop => {
                        self.budget.give(item.budget_bytes);
                        self.fail(
                            item.offset,
                            format!("Tablestore rejected the row: {error}"),
                            ctx,
                        );
                    }
                }
            }
        }
        self.settle(ctx);
    }
}

impl Handler<DeadLettered> for PartitionConsumer {
    type Result = ();

    fn handle(&mut self, msg: DeadLettered, ctx: &mut Context<Self>) {
        self.outstanding -= 1;
        self.tracker.complete(msg.offset);
        self.settle(ctx);
    }
}

impl Handler<Drain> for PartitionConsumer {
    type Result = ();

    fn handle(&mut self, msg: Drain, ctx: &mut Context<Self>) {
        self.stop_stream(ctx);
        if self.state == State::Running {
            self.state = State::Draining;
        }
        self.drain_waiters.push(msg.done);
        self.settle(ctx);
    }
}
