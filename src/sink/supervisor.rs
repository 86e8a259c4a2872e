//! The supervisor: owns the consumers and one partition actor per
//! assigned partition; applies the failure policy ([`apply_policy`]: the
//! one place a bad record's fate is decided); drains partitions on revoke
//! and shutdown, cancelling in the writer whatever did not drain in time;
//! rewinds a partition whose message strayed to the main queue; and
//! reports every state change to the status topic.

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use actix::prelude::*;

use super::dead_letter::DeadLetters;
use super::lanes::{least_loaded, Lanes};
use super::lease::QueueReturned;
use super::lifecycle::Failure;
use super::messages::{
    Abandon, Assignment, BadRecord, Cancel, Drain, DrainReport, PartitionFailed, Rewind,
    TopicPartition,
};
use super::partition::PartitionConsumer;
use super::payload::Payload;
use super::prefetch::Prefetch;
use super::rebalance::{Assigned, Bridge, ConsumerHandle, Revoked, Stray};
use super::status::{StatusReporter, StatusState};
use super::writer::Writer;
use crate::config::{Config, FailurePolicy};
use crate::metrics::names;

/// Time a revoke allows, after the drain timeout, for cancelling in the
/// writer what did not drain.
pub const CANCEL_GRACE: Duration = Duration::from_secs(2);

/// What the failure policy does with a bad record.
pub enum Verdict {
    /// `continue`: send it to the dead-letter (conversion) or error
    /// (write) topic; the future resolves once Kafka acknowledged it. It
    /// holds the record's budget permit until then.
    DeadLetter(Pin<Box<dyn Future<Output = ()> + 'static>>),
    /// `stop`: the partition stops at this record.
    Stop(Failure),
}

/// Applies `policy` to `bad`: the one path every bad record takes.
pub fn apply_policy(policy: FailurePolicy, dead_letters: &DeadLetters, bad: BadRecord) -> Verdict {
    tracing::warn!(topic = rdkafka::Message::topic(&bad.source), offset = bad.offset, stage = bad.stage.as_str(), code = %bad.code, reason = %bad.reason, policy = ?policy, "message cannot be written");
    match policy {
        FailurePolicy::Continue => {
            let dead_letters = dead_letters.clone();
            Verdict::DeadLetter(Box::pin(async move {
                dead_letters
                    .send(bad.stage, &bad.source, &bad.code, &bad.reason)
                    .await;
                // The permit goes back with the record, now acknowledged.
                drop(bad.permit);
            }))
        }
        FailurePolicy::Stop => Verdict::Stop(Failure {
            offset: bad.offset,
            reason: bad.reason,
        }),
    }
}

/// Starts the consumers (after the supervisor itself is running, because
/// their callbacks need its address).
#[derive(Message)]
#[rtype(result = "Result<(), String>")]
pub struct Start;

/// Drain everything, commit, close the consumers, then answer.
#[derive(Message)]
#[rtype(result = "()")]
pub struct Shutdown {
    pub done: tokio::sync::oneshot::Sender<()>,
}

struct Owned<P: Payload> {
    consumer: usize,
    assignment: Assignment,
    addr: Addr<PartitionConsumer<P>>,
    /// The lane it runs on, and that lane's writer (which holds its writes).
    lane: usize,
    writer: Addr<Writer<P>>,
    /// Resolves once the actor dropped the partition's queue: a revoke
    /// waits for it (see [`lease`](super::lease)).
    queue_returned: QueueReturned,
}

pub struct Supervisor<P: Payload> {
    config: Arc<Config>,
    /// Where partition actors run, and each lane's writer.
    lanes: Lanes<P>,
    status: StatusReporter,
    /// librdkafka's fetch-ahead, sized from the budget.
    prefetch: Prefetch,
    consumers: Vec<ConsumerHandle>,
    partitions: HashMap<TopicPartition, Owned<P>>,
    next_assignment: u64,
}

impl<P: Payload> Supervisor<P> {
    pub fn new(
        config: Arc<Config>,
        lanes: Lanes<P>,
        status: StatusReporter,
        prefetch: Prefetch,
    ) -> Self {
        Supervisor {
            config,
            lanes,
            status,
            prefetch,
            consumers: Vec::new(),
            partitions: HashMap::new(),
            next_assignment: 0,
        }
    }

    fn drain_timeout(&self) -> Duration {
        Duration::from_millis(self.config.kafka.drain_timeout_ms() as u64)
    }

    /// Drains `tps`, waiting at most the drain timeout; what has not
    /// drained by then is abandoned and its writes cancelled in the
    /// writer. Resolves when all of that is done.
    fn drain(&mut self, tps: Vec<TopicPartition>) -> impl Future<Output = ()> + 'static {
        let mut waits = Vec::new();
        for tp in tps {
            if let Some(owned) = self.partitions.remove(&tp) {
                let (tx, rx) = tokio::sync::oneshot::channel();
                owned.addr.do_send(Drain { done: tx });
                waits.push((tp, owned, rx));
            }
        }
        self.report_partitions();
        let timeout = self.drain_timeout();
        let status = self.status.clone();
        async move {
            let deadline = tokio::time::Instant::now() + timeout;
            // Every report, up to the deadline; the late ones are
            // abandoned as soon as it has passed.
            let mut ended = Vec::with_capacity(waits.len());
            let mut late = 0usize;
            for (tp, owned, rx) in waits {
                let report = match tokio::time::timeout_at(deadline, rx).await {
                    Ok(Ok(report)) => report,
                    // Timed out (or the actor is gone): stop it now.
                    _ => {
                        late += 1;
                        owned.addr.do_send(Abandon);
                        DrainReport::default()
                    }
                };
                ended.push((tp, owned, report));
            }
            // Then all of them at once, within one grace period.
            let grace = tokio::time::Instant::now() + CANCEL_GRACE;
            futures::future::join_all(ended.into_iter().map(|(tp, owned, report)| {
                let status = status.clone();
                async move {
                    release(&tp, owned, grace).await;
                    if report.failure.is_none() {
                        // A FAILED partition stays FAILED: its next owner
                        // stops at the same record and says so again.
                        status.report(&tp, StatusState::Revoked, None, None);
                    }
                }
            }))
            .await;
            if late > 0 {
                tracing::warn!(
                    partitions = late,
                    timeout_ms = timeout.as_millis() as u64,
                    "drain timed out; their unacknowledged writes were cancelled and will be consumed again by the next owner"
                );
            }
        }
    }

    /// The lane with the fewest partitions of this process.
    fn next_lane(&self) -> usize {
        least_loaded(self.lanes.count(), self.partitions.values().map(|o| o.lane))
    }

    /// The partitions this process runs, in all and per lane.
    fn report_partitions(&self) {
        metrics::gauge!(names::ASSIGNED_PARTITIONS).set(self.partitions.len() as f64);
        let mut per_lane = vec![0usize; self.lanes.count()];
        for owned in self.partitions.values() {
            if let Some(count) = per_lane.get_mut(owned.lane) {
                *count += 1;
            }
        }
        for (lane, count) in per_lane.into_iter().enumerate() {
            metrics::gauge!(names::LANE_PARTITIONS, "lane" => lane.to_string()).set(count as f64);
        }
    }
}

/// After a drain or an abandon: waits (until `grace`) for the actor to
/// drop its queue — it may run on another thread, and its last `Write`
/// was sent before that — then has its lane's writer forget the
/// assignment, so nothing of it is written after the next owner's rows.
async fn release<P: Payload>(tp: &TopicPartition, owned: Owned<P>, grace: tokio::time::Instant) {
    if tokio::time::timeout_at(grace, owned.queue_returned.wait())
        .await
        .is_err()
    {
        tracing::error!(partition = %tp, "the partition actor still holds its queue after the drain; a later assignment of it to this consumer waits for it, at most CANCEL_GRACE");
    }
    let _ = tokio::time::timeout_at(
        grace,
        owned.writer.send(Cancel {
            assignment: owned.assignment,
        }),
    )
    .await;
}

impl<P: Payload> Actor for Supervisor<P> {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Context<Self>) {
        // Process-wide gauges, re-set so they never go idle.
        ctx.run_interval(crate::metrics::REFRESH, |act, _| {
            act.report_partitions();
            act.lanes.budget().report();
            let paused = super::partition::PAUSED.load(std::sync::atomic::Ordering::Acquire);
            metrics::gauge!(names::PAUSED_PARTITIONS).set(paused as f64);
            metrics::gauge!(names::BUILD_INFO, "version" => env!("CARGO_PKG_VERSION")).set(1.0);
        });
    }
}

impl<P: Payload> Handler<Start> for Supervisor<P> {
    type Result = Result<(), String>;

    fn handle(&mut self, _: Start, ctx: &mut Context<Self>) -> Self::Result {
        for index in 0..self.config.kafka.consumer_concurrency as usize {
            let me = ctx.address();
            let bridge = Bridge {
                assigned: me.clone().recipient(),
                revoked: me.clone().recipient(),
                stray: me.recipient(),
            };
            let handle = ConsumerHandle::start(&self.config, index, bridge, &self.prefetch)
                .map_err(|e| format!("creating Kafka consumer {index}: {e}"))?;
            self.consumers.push(handle);
        }
        tracing::info!(
            consumers = self.consumers.len(),
            group = %self.config.group(),
            topic = %self.config.kafka.topic,
            "consumers subscribed"
        );
        Ok(())
    }
}

impl<P: Payload> Handler<Assigned> for Supervisor<P> {
    type Result = ();

    fn handle(&mut self, msg: Assigned, ctx: &mut Context<Self>) {
        let Some(handle) = self.consumers.get(msg.consumer) else {
            let _ = msg.done.send(());
            return;
        };
        let consumer = handle.consumer.clone();
        for (tp, queue, queue_returned) in msg.partitions {
            self.next_assignment += 1;
            let assignment = Assignment(self.next_assignment);
            tracing::info!(partition = %tp, consumer = msg.consumer, "partition assigned");
            let lane_index = self.next_lane();
            let lane = self.lanes.get(lane_index);
            let (partition, consumer, deps) = (tp.clone(), consumer.clone(), lane.deps.clone());
            let supervisor = ctx.address().recipient();
            let addr = PartitionConsumer::start_in_arbiter(&lane.arbiter, move |_| {
                PartitionConsumer::new(partition, assignment, consumer, queue, deps, supervisor)
            });
            let owned = Owned {
                consumer: msg.consumer,
                assignment,
                addr,
                lane: lane_index,
                writer: lane.deps.writer.clone(),
                queue_returned,
            };
            if let Some(stale) = self.partitions.insert(tp.clone(), owned) {
                // A stale actor for the same partition (a revoke that never
                // came): stop it, then cancel its writes, as a drain does.
                // (Another consumer's: the assignment callback drains a
                // partition this consumer still runs before it splits the
                // queue again.)
                stale.addr.do_send(Abandon);
                let tp = tp.clone();
                let grace = tokio::time::Instant::now() + CANCEL_GRACE;
                ctx.spawn(async move { release(&tp, stale, grace).await }.into_actor(self));
            }
            self.status.report(&tp, StatusState::Running, None, None);
        }
        self.report_partitions();
        let _ = msg.done.send(());
    }
}

impl<P: Payload> Handler<Revoked> for Supervisor<P> {
    type Result = ();

    fn handle(&mut self, msg: Revoked, ctx: &mut Context<Self>) {
        let mine: Vec<TopicPartition> = msg
            .partitions
            .into_iter()
            .filter(|tp| {
                self.partitions
                    .get(tp)
                    .is_some_and(|o| o.consumer == msg.consumer)
            })
            .collect();
        let drained = self.drain(mine);
        let done = msg.done;
        ctx.spawn(drained.into_actor(self).map(move |_, _, _| {
            let _ = done.send(());
        }));
    }
}

impl<P: Payload> Handler<Stray> for Supervisor<P> {
    type Result = ();

    fn handle(&mut self, msg: Stray, _: &mut Context<Self>) {
        match self.partitions.get(&msg.tp) {
            Some(owned) if owned.consumer == msg.consumer => {
                owned.addr.do_send(Rewind { offset: msg.offset })
            }
            // Not ours (any more): its owner reads it from the committed
            // offset, which never passed a message we did not write.
            _ => {
                tracing::info!(partition = %msg.tp, offset = msg.offset, "stray message of a partition this consumer does not own; ignored")
            }
        }
    }
}

impl<P: Payload> Handler<PartitionFailed> for Supervisor<P> {
    type Result = ();

    fn handle(&mut self, msg: PartitionFailed, _: &mut Context<Self>) {
        self.status.report(
            &msg.tp,
            StatusState::Failed,
            Some(msg.failure.reason),
            Some(msg.failure.offset),
        );
    }
}

impl<P: Payload> Handler<Shutdown> for Supervisor<P> {
    type Result = ();

    fn handle(&mut self, msg: Shutdown, ctx: &mut Context<Self>) {
        tracing::info!(
            partitions = self.partitions.len(),
            "draining in-flight writes before exit"
        );
        // From now on a rebalance starts no partition actors (and the
        // drivers stop polling): one assigned during the drain would be
        // missed by it, and nothing would drain or cancel its writes.
        for c in &self.consumers {
            c.closing.store(true, std::sync::atomic::Ordering::Release);
        }
        let all: Vec<TopicPartition> = self.partitions.keys().cloned().collect();
        let drained = self.drain(all);
        ctx.spawn(drained.into_actor(self).map(move |_, act, _| {
            let consumers = std::mem::take(&mut act.consumers);
            // Closing commits synchronously and leaves the group, which
            // may block: off the actor thread, all consumers at once (one
            // after the other took seconds each).
            std::thread::spawn(move || {
                let closing: Vec<_> = consumers
                    .into_iter()
                    .map(|c| std::thread::spawn(move || c.close()))
                    .collect();
                for c in closing {
                    let _ = c.join();
                }
                let _ = msg.done.send(());
            });
        }));
    }
}
