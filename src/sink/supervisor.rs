//! The supervisor: owns the consumers and one partition-consumer actor per
//! assigned partition, applies the failure policy's consequences (status
//! FAILED, the partition stays paused while every other partition goes
//! on), drains partitions on revoke and shutdown, and reports every state
//! change to the status topic.

use std::collections::HashMap;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use actix::prelude::*;

use super::budget::Budget;
use super::consumer::{Assigned, ConsumerHandle, Revoked};
use super::converter::ConverterActor;
use super::dead_letter::DeadLetters;
use super::messages::{Drain, PartitionFailed, TopicPartition};
use super::partition::PartitionConsumer;
use super::status::StatusReporter;
use super::writer::Writer;
use crate::config::Config;
use crate::metrics::names;

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

pub struct Supervisor {
    pub config: Arc<Config>,
    pub converter: Addr<ConverterActor>,
    pub writer: Addr<Writer>,
    pub budget: Budget,
    pub dead_letters: DeadLetters,
    pub status: StatusReporter,
    consumers: Vec<ConsumerHandle>,
    partitions: HashMap<TopicPartition, (usize, Addr<PartitionConsumer>)>,
}

impl Supervisor {
    pub fn new(
        config: Arc<Config>,
        converter: Addr<ConverterActor>,
        writer: Addr<Writer>,
        budget: Budget,
        dead_letters: DeadLetters,
        status: StatusReporter,
    ) -> Self {
        Supervisor {
            config,
            converter,
            writer,
            budget,
            dead_letters,
            status,
            consumers: Vec::new(),
            partitions: HashMap::new(),
        }
    }

    fn drain_timeout(&self) -> Duration {
        Duration::from_millis(self.config.kafka.drain_timeout_ms() as u64)
    }

    /// Drains `tps`, waiting at most the drain timeout, then stops them.
    fn drain(
        &mut self,
        tps: Vec<TopicPartition>,
        state: &'static str,
    ) -> impl Future<Output = ()> + 'static {
        let mut waits = Vec::new();
        for tp in tps {
            if let Some((_, addr)) = self.partitions.remove(&tp) {
                let (tx, rx) = tokio::sync::oneshot::channel();
                addr.do_send(Drain { done: tx });
                self.status.report(&tp, state, None, None);
                waits.push(rx);
            }
        }
        metrics::gauge!(names::ASSIGNED_PARTITIONS).set(self.partitions.len() as f64);
        let timeout = self.drain_timeout();
        async move {
            if tokio::time::timeout(timeout, futures::future::join_all(waits))
                .await
                .is_err()
            {
                tracing::warn!(
                    timeout_ms = timeout.as_millis() as u64,
                    "drain timed out; unacknowledged messages will be consumed again"
                );
            }
        }
    }
}

impl Actor for Supervisor {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Context<Self>) {
        // Process-wide gauges, re-set so they never go idle.
        ctx.run_interval(crate::metrics::REFRESH, |act, _| {
            metrics::gauge!(names::ASSIGNED_PARTITIONS).set(act.partitions.len() as f64);
            metrics::gauge!(names::IN_FLIGHT_BYTES).set(act.budget.in_use() as f64);
            let paused = super::partition::PAUSED.load(std::sync::atomic::Ordering::Acquire);
            metrics::gauge!(names::PAUSED_PARTITIONS).set(paused as f64);
            metrics::gauge!(names::BUILD_INFO, "version" => env!("CARGO_PKG_VERSION")).set(1.0);
        });
    }
}

impl Handler<Start> for Supervisor {
    type Result = Result<(), String>;

    fn handle(&mut self, _: Start, ctx: &mut Context<Self>) -> Self::Result {
        for index in 0..self.config.kafka.consumer_concurrency as usize {
            let handle = ConsumerHandle::start(
                &self.config,
                index,
                ctx.address().recipient(),
                ctx.address().recipient(),
            )
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

impl Handler<Assigned> for Supervisor {
    type Result = ();

    fn handle(&mut self, msg: Assigned, ctx: &mut Context<Self>) {
        let Some(handle) = self.consumers.get(msg.consumer) else {
            return;
        };
        tracing::info!(partition = %msg.tp, consumer = msg.consumer, "partition assigned");
        let actor = PartitionConsumer::new(
            msg.tp.clone(),
            handle.consumer.clone(),
            msg.queue,
            self.converter.clone(),
            self.writer.clone(),
            ctx.address().recipient(),
            self.dead_letters.clone(),
            self.budget.clone(),
            self.config.kafka.failure_policy,
        )
        .start();
        if let Some((_, old)) = self
            .partitions
            .insert(msg.tp.clone(), (msg.consumer, actor))
        {
            // A stale actor for the same partition (missed revoke): stop it.
            let (tx, _rx) = tokio::sync::oneshot::channel();
            old.do_send(Drain { done: tx });
        }
        metrics::gauge!(names::ASSIGNED_PARTITIONS).set(self.partitions.len() as f64);
        self.status.report(&msg.tp, "RUNNING", None, None);
    }
}

impl Handler<Revoked> for Supervisor {
    type Result = ();

    fn handle(&mut self, msg: Revoked, ctx: &mut Context<Self>) {
        let mine: Vec<TopicPartition> = msg
            .partitions
            .into_iter()
            .filter(|tp| {
                self.partitions
                    .get(tp)
                    .is_some_and(|(c, _)| *c == msg.consumer)
            })
            .collect();
        let drained = self.drain(mine, "REVOKED");
        let done = msg.done;
        ctx.spawn(drained.into_actor(self).map(move |_, _, _| {
            let _ = done.send(());
        }));
    }
}

impl Handler<PartitionFailed> for Supervisor {
    type Result = ();

    fn handle(&mut self, msg: PartitionFailed, _: &mut Context<Self>) {
        self.status
            .report(&msg.tp, "FAILED", Some(msg.reason), Some(msg.offset));
    }
}

impl Handler<Shutdown> for Supervisor {
    type Result = ();

    fn handle(&mut self, msg: Shutdown, ctx: &mut Context<Self>) {
        tracing::info!(
            partitions = self.partitions.len(),
            "draining in-flight writes before exit"
        );
        let all: Vec<TopicPartition> = self.partitions.keys().cloned().collect();
        let drained = self.drain(all, "REVOKED");
        ctx.spawn(drained.into_actor(self).map(move |_, act, _| {
            let consumers = std::mem::take(&mut act.consumers);
            // Closing commits synchronously and may block: off the actor thread.
            std::thread::spawn(move || {
                for c in consumers {
                    c.close();
                }
                let _ = msg.done.send(());
            });
        }));
    }
}
