//! The partition-consumer actor: one per assigned partition. It performs
//! what its [`lifecycle`](super::lifecycle) state machine decides and
//! keeps its [`Ledger`]; the logic of both lives there, tested without
//! actors. Here: read the partition's queue ([`intake`](super::intake)),
//! hand chunks to the converter pool (several at once, forwarded to the
//! writer in order), hand bad records to the failure policy, and store the
//! commit point as acknowledgements arrive.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;

use actix::prelude::*;
use rdkafka::consumer::Consumer;
use rdkafka::message::Message as _;

use super::record::SourceRecord;
use rdkafka::{Offset, TopicPartitionList};

use super::budget::BudgetPermit;
use super::intake::{intake, message_bytes, Intake};
use super::lanes::Shared;
use super::lease::LeasedQueue;
use super::lifecycle::{Effect, Event, Failure, PartitionState};
use super::messages::*;
use super::offsets::Ledger;
use super::payload::Payload;
use super::rebalance::SinkConsumer;
use super::supervisor::{apply_policy, Verdict};
use super::writer::Writer;
use crate::metrics::names;

/// Partitions paused for budget in this process (the gauge's value).
pub static PAUSED: AtomicI64 = AtomicI64::new(0);

/// What every partition actor of a lane needs: what all lanes share, and
/// the lane's writer.
pub struct PartitionDeps<P: Payload> {
    pub shared: Arc<Shared<P>>,
    pub writer: Addr<Writer<P>>,
}

pub struct PartitionConsumer<P: Payload> {
    tp: TopicPartition,
    assignment: Assignment,
    consumer: Arc<SinkConsumer>,
    deps: Arc<PartitionDeps<P>>,
    supervisor: Recipient<PartitionFailed>,
    /// Taken in `started` to build the intake stream.
    queue: Option<LeasedQueue>,
    state: PartitionState,
    ledger: Ledger,
    intake: Option<SpawnHandle>,
    /// Chunks converted out of turn, by sequence number, until every
    /// earlier chunk has been forwarded.
    converted: BTreeMap<u64, Vec<ConvertOutcome<P>>>,
    next_chunk: u64,
    next_to_forward: u64,
    /// Lowest offset this assignment was rewound to; strays above it are
    /// covered by that rewind.
    rewound_to: Option<i64>,
    drain_waiters: Vec<tokio::sync::oneshot::Sender<DrainReport>>,
    labels: [(&'static str, String); 2],
}

impl<P: Payload> PartitionConsumer<P> {
    pub fn new(
        tp: TopicPartition,
        assignment: Assignment,
        consumer: Arc<SinkConsumer>,
        queue: LeasedQueue,
        deps: Arc<PartitionDeps<P>>,
        supervisor: Recipient<PartitionFailed>,
    ) -> Self {
        let labels = [
            ("topic", tp.topic.to_string()),
            ("partition", tp.partition.to_string()),
        ];
        PartitionConsumer {
            tp,
            assignment,
            consumer,
            deps,
            supervisor,
            queue: Some(queue),
            state: PartitionState::Assigned,
            ledger: Ledger::default(),
            intake: None,
            converted: BTreeMap::new(),
            next_chunk: 0,
            next_to_forward: 0,
            rewound_to: None,
            drain_waiters: Vec::new(),
            labels,
        }
    }

    fn tpl(&self) -> TopicPartitionList {
        let mut tpl = TopicPartitionList::new();
        tpl.add_partition(&self.tp.topic, self.tp.partition);
        tpl
    }

    /// Applies `event` to the state machine and performs its effects.
    fn transition(&mut self, event: Event, ctx: &mut Context<Self>) {
        let was_paused = self.state.is_paused_for_budget();
        let effects = match self.state.on(event) {
            Ok(effects) => effects,
            Err(e) => {
                // A broken invariant: say so loudly, change nothing.
                tracing::error!(partition = %self.tp, error = %e, "partition state machine");
                debug_assert!(false, "{e}");
                return;
            }
        };
        let now_paused = self.state.is_paused_for_budget();
        if was_paused != now_paused {
            let delta = if now_paused { 1 } else { -1 };
            PAUSED.fetch_add(delta, Ordering::AcqRel);
            // An increment, not a set: lanes on other threads change it
            // too (the supervisor re-sets it from PAUSED on its interval).
            metrics::gauge!(names::PAUSED_PARTITIONS).increment(delta as f64);
        }
        for effect in effects {
            self.perform(effect, ctx);
        }
    }

    fn perform(&mut self, effect: Effect, ctx: &mut Context<Self>) {
        match effect {
            Effect::PauseFetch => {
                // Never resumed within this assignment: a resume would
                // fetch from librdkafka's read position, which the
                // intake's batch reads can leave past an error message
                // (see `ready_read`).
                if let Err(e) = self.consumer.pause(&self.tpl()) {
                    tracing::debug!(partition = %self.tp, error = %e, "pause failed (no longer assigned?)");
                }
            }
            Effect::ResumeFetch => {
                if let Err(e) = self.consumer.resume(&self.tpl()) {
                    tracing::debug!(partition = %self.tp, error = %e, "resume failed (no longer assigned?)");
                }
            }
            Effect::StopIntake => {
                if let Some(h) = self.intake.take() {
                    ctx.cancel_future(h);
                }
            }
            Effect::ReportFailed(failure) => {
                tracing::error!(partition = %self.tp, offset = failure.offset, reason = %failure.reason, "partition stopped by the stop failure policy");
                metrics::gauge!(names::PARTITION_FAILED, &self.labels).set(1.0);
                crate::metrics::health::partition_stopped(self.tp.partition, &failure.reason);
                self.supervisor.do_send(PartitionFailed {
                    tp: self.tp.clone(),
                    failure,
                });
            }
            Effect::Finish => self.finish(ctx),
        }
    }

    /// Stores the commit point, answers the drain, stops.
    fn finish(&mut self, ctx: &mut Context<Self>) {
        self.store_commit_point();
        for w in self.drain_waiters.drain(..) {
            let _ = w.send(DrainReport {
                failure: self.state.failure().cloned(),
            });
        }
        ctx.stop();
    }

    /// Hands the commit point to librdkafka if it moved (auto-commit
    /// sends it on its interval; revoke and shutdown commit at once).
    fn store_commit_point(&mut self) {
        let Some(point) = self.ledger.take_commit_point() else {
            return;
        };
        let mut tpl = TopicPartitionList::new();
        let stored = tpl
            .add_partition_offset(&self.tp.topic, self.tp.partition, Offset::Offset(point))
            .and_then(|_| self.consumer.store_offsets(&tpl));
        match stored {
            Ok(()) => metrics::gauge!(names::COMMITTED_OFFSET, &self.labels).set(point as f64),
            Err(e) => tracing::debug!(partition = %self.tp, error = %e, "could not store offset"),
        }
    }

    /// After every answer: store progress; finish a drain that is done.
    fn settle(&mut self, ctx: &mut Context<Self>) {
        self.store_commit_point();
        if matches!(self.state, PartitionState::Draining { .. }) && self.ledger.is_idle() {
            self.transition(Event::Drained, ctx);
        }
    }

    fn on_chunk(
        &mut self,
        messages: Vec<(SourceRecord, usize)>,
        mut permit: BudgetPermit,
        ctx: &mut Context<Self>,
    ) {
        self.deps.shared.budget.report();
        let count = messages.len();
        let bytes: usize = messages.iter().map(|(m, _)| message_bytes(m)).sum();
        let topic = self.labels[0].1.clone();
        metrics::counter!(names::MESSAGES_CONSUMED, "topic" => topic.clone())
            .increment(count as u64);
        metrics::counter!(names::BYTES_CONSUMED, "topic" => topic.clone()).increment(bytes as u64);
        // How long the records waited before the sink read them: the part of
        // the end-to-end latency that is Kafka's, not the sink's.
        let polled_ms = chrono::Utc::now().timestamp_millis();
        let delay = metrics::histogram!(names::POLL_DELAY, "topic" => topic);
        for ts in messages
            .iter()
            .filter_map(|(m, _)| m.timestamp().to_millis())
        {
            delay.record((polled_ms - ts).max(0) as f64 / 1000.0);
        }
        self.ledger.polled(messages.iter().map(|(m, _)| m.offset()));
        let items: Vec<(SourceRecord, BudgetPermit)> = messages
            .into_iter()
            .map(|(m, size)| {
                let share = permit.split(size);
                (m, share)
            })
            .collect();
        // A chunk larger than the whole budget held less than its size:
        // its last messages carry smaller (or empty) shares.
        drop(permit);
        let seq = self.next_chunk;
        self.next_chunk += 1;
        self.ledger.handed_out(1);
        let convert = self.deps.shared.converter.send(Convert::<P>::new(items));
        ctx.spawn(convert.into_actor(self).map(move |result, act, ctx| {
            act.ledger.answered(1);
            match result {
                Ok(outcomes) => {
                    act.converted.insert(seq, outcomes);
                    act.forward_in_order(ctx);
                }
                Err(e) => {
                    // The converter pool is gone: the process is stopping.
                    // The chunk's offsets stay unacknowledged.
                    let offset = act.ledger.offsets().lowest_unacknowledged().unwrap_or(0);
                    act.transition(
                        Event::Stop(Failure {
                            offset,
                            reason: format!("converter unavailable: {e}"),
                        }),
                        ctx,
                    );
                }
            }
            act.settle(ctx);
        }));
    }

    /// Forwards converted chunks whose turn it is.
    fn forward_in_order(&mut self, ctx: &mut Context<Self>) {
        while let Some(outcomes) = self.converted.remove(&self.next_to_forward) {
            self.next_to_forward += 1;
            self.forward(outcomes, ctx);
        }
    }

    fn forward(&mut self, outcomes: Vec<ConvertOutcome<P>>, ctx: &mut Context<Self>) {
        let mut writes = Vec::with_capacity(outcomes.len());
        for outcome in outcomes {
            // Failed: nothing after the bad record is written. Draining:
            // converted rows are left to the next owner (they are not
            // acknowledged, so the commit point stays below them).
            if !self.state.accepts_records() {
                break;
            }
            match outcome {
                ConvertOutcome::Ok(w) => writes.push(w),
                ConvertOutcome::Failed {
                    message,
                    error,
                    permit,
                } => {
                    metrics::counter!(names::DEAD_LETTER_RECORDS, "topic" => self.labels[0].1.clone(), "reason" => error.reason_code()).increment(1);
                    self.on_bad_record(BadRecord::conversion(message, &error, permit), ctx);
                }
            }
        }
        if !writes.is_empty() {
            self.ledger.handed_out(writes.len());
            self.deps.writer.do_send(Write {
                assignment: self.assignment,
                items: writes,
                reply: ctx.address().recipient(),
            });
        }
    }

    /// The one path of every bad record: the failure policy decides.
    fn on_bad_record(&mut self, bad: BadRecord, ctx: &mut Context<Self>) {
        let offset = bad.offset;
        match apply_policy(self.deps.shared.policy, &self.deps.shared.dead_letters, bad) {
            Verdict::DeadLetter(sent) => {
                self.ledger.handed_out(1);
                // Spawned in this actor's context: abandoned with it.
                ctx.spawn(sent.into_actor(self).map(move |(), act, ctx| {
                    act.ledger.answered(1);
                    act.ledger.acknowledged(offset);
                    act.settle(ctx);
                }));
            }
            Verdict::Stop(failure) => self.transition(Event::Stop(failure), ctx),
        }
    }

    fn rewind(&mut self, offset: i64, ctx: &mut Context<Self>) {
        if self.rewound_to.is_some_and(|r| r <= offset) {
            return; // that rewind redelivers this one too
        }
        self.rewound_to = Some(offset);
        self.ledger.rewind(offset);
        tracing::warn!(partition = %self.tp, offset, "rewinding the partition to a message that reached the main queue");
        if let Err(e) = self.consumer.seek(
            &self.tp.topic,
            self.tp.partition,
            Offset::Offset(offset),
            std::time::Duration::from_secs(10),
        ) {
            self.transition(
                Event::Stop(Failure {
                    offset,
                    reason: format!("cannot rewind to a message that reached the main queue: {e}"),
                }),
                ctx,
            );
        }
        self.store_commit_point();
    }

    /// Re-sets this partition's gauges so they stay on the endpoint while
    /// it is assigned (and vanish after it is revoked).
    fn refresh_gauges(&self) {
        if let Some(point) = self.ledger.stored() {
            metrics::gauge!(names::COMMITTED_OFFSET, &self.labels).set(point as f64);
        }
        let failed = matches!(self.state, PartitionState::Failed(_));
        metrics::gauge!(names::PARTITION_FAILED, &self.labels).set(if failed { 1.0 } else { 0.0 });
    }
}

impl<P: Payload> Actor for PartitionConsumer<P> {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Context<Self>) {
        let queue = self.queue.take().expect("queue is set at creation");
        let stream = intake(
            queue,
            self.tp.topic.clone(),
            self.deps.shared.budget.clone(),
            self.tp.to_string(),
        );
        self.intake = Some(ctx.add_stream(stream));
        ctx.run_interval(crate::metrics::REFRESH, |act, _| act.refresh_gauges());
        crate::metrics::health::partition_consuming(self.tp.partition);
        self.transition(Event::Started, ctx);
    }

    fn stopped(&mut self, _: &mut Context<Self>) {
        if self.state.is_paused_for_budget() {
            PAUSED.fetch_sub(1, Ordering::AcqRel);
        }
        crate::metrics::health::partition_released(self.tp.partition);
        // This process no longer speaks for the partition; the series
        // expire after `metrics::GAUGE_IDLE_TIMEOUT`.
        metrics::gauge!(names::PARTITION_FAILED, &self.labels).set(0.0);
    }
}

impl<P: Payload> StreamHandler<Intake> for PartitionConsumer<P> {
    fn handle(&mut self, item: Intake, ctx: &mut Context<Self>) {
        match item {
            Intake::Waiting => self.transition(Event::BudgetWait, ctx),
            Intake::Chunk { messages, permit } => {
                if self.state.is_paused_for_budget() {
                    self.transition(Event::BudgetGranted, ctx);
                }
                if self.state.accepts_records() {
                    self.on_chunk(messages, permit, ctx);
                }
            }
        }
    }

    fn finished(&mut self, _: &mut Context<Self>) {
        // The stream never ends on its own; it is cancelled on drain or
        // failure. Keep the actor alive to receive acknowledgements.
    }
}

impl<P: Payload> Handler<WriteOutcome> for PartitionConsumer<P> {
    type Result = ();

    fn handle(&mut self, msg: WriteOutcome, ctx: &mut Context<Self>) {
        match msg {
            WriteOutcome::Written { offsets } => {
                self.ledger.answered(offsets.len());
                for o in offsets {
                    self.ledger.acknowledged(o);
                }
            }
            WriteOutcome::Rejected(rejected) => {
                self.ledger.answered(1);
                metrics::counter!(names::ERROR_RECORDS, "topic" => self.labels[0].1.clone(), "code" => rejected.error.code.clone()).increment(1);
                self.on_bad_record(BadRecord::rejected(*rejected), ctx);
            }
        }
        self.settle(ctx);
    }
}

impl<P: Payload> Handler<Drain> for PartitionConsumer<P> {
    type Result = ();

    fn handle(&mut self, msg: Drain, ctx: &mut Context<Self>) {
        self.drain_waiters.push(msg.done);
        self.transition(Event::Revoke, ctx);
        self.settle(ctx);
    }
}

impl<P: Payload> Handler<Abandon> for PartitionConsumer<P> {
    type Result = ();

    fn handle(&mut self, _: Abandon, ctx: &mut Context<Self>) {
        tracing::warn!(partition = %self.tp, outstanding = self.ledger.outstanding(), "drain timed out; abandoning in-flight work");
        self.transition(Event::Revoke, ctx);
        self.store_commit_point();
        // Spawned dead-letter sends and conversions are dropped with the
        // context; their offsets were never stored.
        ctx.stop();
    }
}

impl<P: Payload> Handler<Rewind> for PartitionConsumer<P> {
    type Result = ();

    fn handle(&mut self, msg: Rewind, ctx: &mut Context<Self>) {
        self.rewind(msg.offset, ctx);
    }
}
