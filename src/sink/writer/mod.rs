//! The writer actor: batches writes into Tablestore requests, retries
//! what is worth retrying, and gives back what is done.
//!
//! * Batches hold at most `max_batch_rows` rows and `max_batch_bytes`
//!   bytes ([`queue`]). A full batch goes out at once; a partial one goes
//!   out at once when nothing is in flight, else after `linger_ms`.
//! * Requests run concurrently up to an adaptive limit between 1 and
//!   `max_in_flight_requests` ([`concurrency`]): it grows while the
//!   service keeps up, halves when it pushes back (throttling, passing
//!   faults).
//! * Per-key order: a write whose order key is in flight or waiting for a
//!   retry stays queued behind it ([`queue::WriteQueue`]).
//! * What a response means is decided by [`settle`] from the error's
//!   [`Disposition`](crate::tablestore::error::Disposition): throttling,
//!   passing faults and set-up problems (auth, missing table, a gateway in
//!   the way) retry without limit, with exponential backoff and jitter;
//!   a request-level data error splits the batch into single-row requests
//!   to find the bad row; only rows the service rejects for their data go
//!   back to their partition, which applies the failure policy.
//! * Cancel: a revoked assignment's queued and retrying writes are
//!   dropped and requests in flight that carry any are aborted (the other
//!   rows in them are queued again), so no write of a revoked partition
//!   lands after the writes of its next owner.
//! * Budget: each write carries its permit; bytes come back when the write
//!   is dropped here (written or cancelled) or by the partition (rejected).

pub mod concurrency;
pub mod queue;
pub mod requests;
pub mod settle;
#[cfg(test)]
mod tests;

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use actix::prelude::*;

use self::concurrency::{AdaptiveConcurrency, Answer};
use self::queue::{BatchLimits, QueueItem, WriteQueue};
use self::requests::RequestRuntime;
use self::settle::{retry_delay, settle};
use super::budget::{Budget, BudgetPermit};
use super::messages::{Assignment, Cancel, EncodedWrite, RejectedWrite, Write, WriteOutcome};
use super::payload::Payload;
use crate::config::WriterConfig;
use crate::metrics::names;
use crate::tablestore::error::Disposition;
use crate::tablestore::{Client, Error as TablestoreError, RowResult};

struct Queued<P> {
    item: EncodedWrite<P>,
    assignment: Assignment,
    attempt: u32,
    /// Send alone: isolates a bad row after a request-level data error.
    solo: bool,
}

impl<P> Queued<P> {
    fn swap_payload<Q>(self, slot: Q) -> (P, Queued<Q>) {
        let (payload, item) = self.item.swap_payload(slot);
        let queued = Queued {
            item,
            assignment: self.assignment,
            attempt: self.attempt,
            solo: self.solo,
        };
        (payload, queued)
    }
}

/// A write in a request: where its payload was, its index in the batch
/// the request shares ([`InFlight::payloads`]).
type Sent = Queued<usize>;

/// The payloads of a request that has ended, back from it: whole when
/// the request let go of them (it always has once it answered), copied
/// when an aborted request still holds them.
fn take_back<P: Clone>(payloads: Arc<Vec<P>>) -> Vec<Option<P>> {
    Arc::try_unwrap(payloads)
        .unwrap_or_else(|shared| shared.as_ref().clone())
        .into_iter()
        .map(Some)
        .collect()
}

/// Gives each sent write its payload back, to queue it again.
fn rejoin<P>(sent: Vec<Sent>, payloads: &mut [Option<P>]) -> Vec<Queued<P>> {
    sent.into_iter()
        .map(|q| {
            let payload = payloads[q.item.payload]
                .take()
                .expect("each write of a batch has its own slot");
            q.swap_payload(payload).1
        })
        .collect()
}

impl<P> QueueItem for Queued<P> {
    fn order_key(&self) -> u64 {
        self.item.order_key
    }
    fn encoded_bytes(&self) -> usize {
        self.item.encoded_bytes
    }
    fn assignment(&self) -> Assignment {
        self.assignment
    }
    fn solo(&self) -> bool {
        self.solo
    }
}

/// A request on its way, and the writes it carries (kept here, not in the
/// request future, so a cancel can take them back).
struct InFlight<P> {
    batch: Vec<Sent>,
    /// The batch's payloads, shared with the request: one reference count
    /// for the batch, where a copy of each row's handle cost the actix
    /// thread an allocation and two atomic updates per row.
    payloads: Arc<Vec<P>>,
    handle: SpawnHandle,
    started: Instant,
}

pub struct Writer<P: Payload> {
    client: Client,
    /// Where requests run: off the actix thread (shared by every lane).
    requests: Arc<RequestRuntime>,
    /// The lane this writer serves, the label of its gauges (one writer
    /// per lane, each with its own queue and in-flight limit).
    lane: String,
    table: String,
    /// Source topic, the label of the end-to-end latency histogram.
    topic: String,
    limits: WriterConfig,
    /// For the in-flight gauge only: bytes come back with the permits.
    budget: Budget,
    queue: WriteQueue<Queued<P>>,
    /// Where to send each assignment's outcomes.
    replies: HashMap<Assignment, Recipient<WriteOutcome>>,
    /// Writes held per assignment (queued, in flight or parked), so a
    /// cancel of an assignment with none costs nothing.
    held: HashMap<Assignment, usize>,
    in_flight: HashMap<u64, InFlight<P>>,
    /// How many requests may be in flight now.
    concurrency: AdaptiveConcurrency,
    /// Writes waiting for their retry timer; their keys stay reserved.
    parked: HashMap<u64, Vec<Queued<P>>>,
    next_id: u64,
    linger_armed: bool,
}

impl<P: Payload> Writer<P> {
    pub fn new(
        client: Client,
        table: String,
        topic: String,
        limits: WriterConfig,
        budget: Budget,
        requests: Arc<RequestRuntime>,
        lane: usize,
    ) -> Self {
        let concurrency = AdaptiveConcurrency::new(limits.max_in_flight_requests, Instant::now());
        Writer {
            client,
            requests,
            lane: lane.to_string(),
            table,
            topic,
            limits,
            budget,
            queue: WriteQueue::default(),
            replies: HashMap::new(),
            held: HashMap::new(),
            in_flight: HashMap::new(),
            concurrency,
            parked: HashMap::new(),
            next_id: 0,
            linger_armed: false,
        }
    }

    /// This lane's queue, requests in flight and adaptive limit.
    fn report_gauges(&self) {
        crate::metrics::events::writer_queue(&self.lane, self.queue.len(), self.in_flight.len());
        metrics::gauge!(names::WRITER_CONCURRENCY_LIMIT, "lane" => self.lane.clone())
            .set(self.concurrency.limit() as f64);
    }

    fn batch_limits(&self) -> BatchLimits {
        BatchLimits {
            max_rows: self.limits.max_batch_rows,
            max_bytes: self.limits.max_batch_bytes,
        }
    }

    fn release_held(&mut self, assignment: Assignment, n: usize) {
        if let Some(h) = self.held.get_mut(&assignment) {
            *h = h.saturating_sub(n);
        }
    }

    /// Sends batches while there is capacity. Partial batches only go out
    /// when `partial` (linger expired) or nothing is in flight.
    fn pump(&mut self, ctx: &mut Context<Self>, partial: bool) {
        while self.in_flight.len() < self.concurrency.limit() && !self.queue.is_empty() {
            if !partial
                && !self.in_flight.is_empty()
                && !self.queue.full_batch_waiting(self.batch_limits())
            {
                self.arm_linger(ctx);
                return;
            }
            let batch = self.queue.take_batch(self.batch_limits());
            if batch.is_empty() {
                return; // everything queued waits for a key in flight
            }
            self.send(batch, ctx);
        }
    }

    fn arm_linger(&mut self, ctx: &mut Context<Self>) {
        if !self.linger_armed {
            self.linger_armed = true;
            ctx.run_later(Duration::from_millis(self.limits.linger_ms), |act, ctx| {
                act.linger_armed = false;
                act.pump(ctx, true);
            });
        }
    }

    fn send(&mut self, batch: Vec<Queued<P>>, ctx: &mut Context<Self>) {
        let id = self.next_id;
        self.next_id += 1;
        metrics::histogram!(names::BATCH_ROWS, "api" => P::API).record(batch.len() as f64);
        let mut payloads = Vec::with_capacity(batch.len());
        let batch: Vec<Sent> = batch
            .into_iter()
            .enumerate()
            .map(|(i, q)| {
                let (payload, sent) = q.swap_payload(i);
                payloads.push(payload);
                sent
            })
            .collect();
        let payloads = Arc::new(payloads);
        let request = P::request(&self.client, &self.table, Arc::clone(&payloads));
        let request = self.requests.spawn(request);
        let handle = ctx.spawn(
            request
                .into_actor(self)
                .map(move |result, act, ctx| act.on_response(id, result, ctx)),
        );
        self.in_flight.insert(
            id,
            InFlight {
                batch,
                payloads,
                handle,
                started: Instant::now(),
            },
        );
        self.concurrency.on_send(self.in_flight.len());
        self.report_gauges();
    }

    fn on_response(
        &mut self,
        id: u64,
        result: Result<Vec<RowResult>, TablestoreError>,
        ctx: &mut Context<Self>,
    ) {
        let Some(flight) = self.in_flight.remove(&id) else {
            return; // cancelled meanwhile
        };
        let rtt = flight.started.elapsed();
        metrics::histogram!(names::REQUEST_DURATION, "api" => P::API).record(rtt.as_secs_f64());
        for q in &flight.batch {
            self.queue.release(q);
        }
        let rows = flight.batch.len();
        let request_error = result.as_ref().err().cloned();
        crate::metrics::events::tablestore_request(
            P::API,
            request_error.as_ref().map_or(Ok(()), Err),
        );
        let settled = settle(flight.batch, result);
        let answer = match settled.retry_because {
            Some((Disposition::DataRejected, _)) | None => Answer::Served,
            Some(_) => Answer::PushedBack,
        };
        self.concurrency.on_answer(answer, rtt, Instant::now());
        let outcome = match (&request_error, settled.written.len()) {
            (None, n) if n == rows => "ok",
            (None, _) => "partial",
            (Some(_), _) if !settled.split.is_empty() => "split",
            (Some(_), _) if !settled.rejected.is_empty() => "failed",
            (Some(_), _) => "retriable",
        };
        metrics::counter!(names::REQUESTS, "api" => P::API, "outcome" => outcome).increment(1);

        self.acknowledge(settled.written);
        for (q, error) in settled.rejected {
            self.reject(q, error);
        }
        if !settled.split.is_empty() || !settled.retry.is_empty() {
            let mut payloads = take_back(flight.payloads);
            if !settled.split.is_empty() {
                if let Some(e) = &request_error {
                    tracing::warn!(table = %self.table, error = %e, rows = settled.split.len(), "request rejected for its data; resending its rows one by one to find the bad one");
                }
                let mut split = rejoin(settled.split, &mut payloads);
                for q in &mut split {
                    q.solo = true;
                }
                self.queue.push_front_all(split);
            }
            if let Some((disposition, error)) = settled.retry_because {
                let retry = rejoin(settled.retry, &mut payloads);
                self.retry_later(retry, disposition, &error, ctx);
            }
        }
        self.pump(ctx, false);
        self.report_gauges();
    }

    fn acknowledge<T>(&mut self, mut written: Vec<Queued<T>>) {
        if written.is_empty() {
            return;
        }
        let now_ms = chrono::Utc::now().timestamp_millis();
        let latency = metrics::histogram!(names::END_TO_END_LATENCY, "topic" => self.topic.clone());
        let mut bytes = 0u64;
        let rows = written.len() as u64;
        let mut by_assignment: Vec<(Assignment, Vec<i64>)> = Vec::new();
        // One give-back for the whole batch instead of one per row.
        let mut permits = BudgetPermit::empty();
        // Read in place and dropped as a whole below: moving each write
        // out of the list cost the pipeline thread a copy per row.
        for q in &mut written {
            bytes += q.item.encoded_bytes as u64;
            if let Some(ts) = q.item.timestamp_ms {
                latency.record(((now_ms - ts).max(0)) as f64 / 1000.0);
            }
            match by_assignment.iter_mut().find(|(a, _)| *a == q.assignment) {
                Some((_, offsets)) => offsets.push(q.item.offset),
                None => by_assignment.push((q.assignment, vec![q.item.offset])),
            }
            permits.merge(std::mem::replace(&mut q.item.permit, BudgetPermit::empty()));
        }
        drop(written);
        drop(permits);
        self.budget.report();
        metrics::counter!(names::ROWS_WRITTEN, "table" => self.table.clone()).increment(rows);
        metrics::counter!(names::BYTES_WRITTEN, "table" => self.table.clone()).increment(bytes);
        for (assignment, offsets) in by_assignment {
            self.release_held(assignment, offsets.len());
            if let Some(reply) = self.replies.get(&assignment) {
                reply.do_send(WriteOutcome::Written { offsets });
            }
        }
    }

    fn reject<T>(&mut self, q: Queued<T>, error: TablestoreError) {
        tracing::warn!(table = %self.table, offset = q.item.offset, error = %error, "row rejected by Tablestore for its data");
        self.release_held(q.assignment, 1);
        if let Some(reply) = self.replies.get(&q.assignment) {
            reply.do_send(WriteOutcome::Rejected(Box::new(RejectedWrite {
                offset: q.item.offset,
                source: q.item.source,
                permit: q.item.permit,
                error,
            })));
        }
    }

    /// Parks `batch` for a backoff, then queues it again at the front;
    /// its keys stay reserved meanwhile so nothing with the same key
    /// overtakes it.
    fn retry_later(
        &mut self,
        mut batch: Vec<Queued<P>>,
        disposition: Disposition,
        error: &TablestoreError,
        ctx: &mut Context<Self>,
    ) {
        metrics::counter!(names::RETRIES, "code" => error.code.clone())
            .increment(batch.len() as u64);
        if disposition == Disposition::Systemic {
            tracing::error!(table = %self.table, error = %error, rows = batch.len(), "Tablestore request failed for a reason that is not the data's; retrying until it is fixed");
        } else {
            tracing::warn!(table = %self.table, error = %error, rows = batch.len(), disposition = disposition.as_str(), "Tablestore request failed; retrying");
        }
        let attempt = batch.iter().map(|q| q.attempt).max().unwrap_or(0);
        for q in &mut batch {
            q.attempt += 1;
            self.queue.reserve(q);
        }
        let delay = retry_delay(
            attempt,
            disposition,
            Duration::from_millis(self.limits.retry_initial_ms),
            Duration::from_millis(self.limits.retry_max_ms),
            rand::random::<f64>(),
        );
        let id = self.next_id;
        self.next_id += 1;
        self.parked.insert(id, batch);
        ctx.run_later(delay, move |act, ctx| {
            let Some(batch) = act.parked.remove(&id) else {
                return; // cancelled meanwhile
            };
            for q in &batch {
                act.queue.release(q);
            }
            act.queue.push_front_all(batch);
            act.pump(ctx, true);
        });
    }

    /// Drops every write of `assignment`; returns how many there were.
    fn cancel(&mut self, assignment: Assignment, ctx: &mut Context<Self>) -> usize {
        self.replies.remove(&assignment);
        if self.held.remove(&assignment).unwrap_or(0) == 0 {
            return 0;
        }
        let mut cancelled = self.queue.cancel(assignment).len();
        for batch in self.parked.values_mut() {
            let (mine, others): (Vec<_>, Vec<_>) =
                batch.drain(..).partition(|q| q.assignment == assignment);
            for q in &mine {
                self.queue.release(q);
            }
            cancelled += mine.len();
            *batch = others;
        }
        let carrying: Vec<u64> = self
            .in_flight
            .iter()
            .filter(|(_, f)| f.batch.iter().any(|q| q.assignment == assignment))
            .map(|(id, _)| *id)
            .collect();
        for id in carrying {
            let flight = self.in_flight.remove(&id).expect("listed above");
            ctx.cancel_future(flight.handle);
            metrics::counter!(names::REQUESTS, "api" => P::API, "outcome" => "aborted")
                .increment(1);
            for q in &flight.batch {
                self.queue.release(q);
            }
            let (mine, others): (Vec<_>, Vec<_>) = flight
                .batch
                .into_iter()
                .partition(|q| q.assignment == assignment);
            cancelled += mine.len();
            // The other partitions' rows go again; the write is idempotent.
            let mut payloads = take_back(flight.payloads);
            self.queue.push_front_all(rejoin(others, &mut payloads));
        }
        if cancelled > 0 {
            tracing::info!(table = %self.table, writes = cancelled, "cancelled the writes of a revoked partition");
        }
        self.pump(ctx, false);
        cancelled
    }
}

impl<P: Payload> Actor for Writer<P> {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Context<Self>) {
        // The gauges are set as requests come and go; re-set here too, so
        // a lane's series stay on the endpoint while its writer is idle
        // (gauges expire after `metrics::GAUGE_IDLE_TIMEOUT`).
        ctx.run_interval(crate::metrics::REFRESH, |act, _| act.report_gauges());
    }
}

impl<P: Payload> Handler<Write<P>> for Writer<P> {
    type Result = ();

    fn handle(&mut self, msg: Write<P>, ctx: &mut Context<Self>) {
        self.replies
            .entry(msg.assignment)
            .or_insert_with(|| msg.reply.clone());
        *self.held.entry(msg.assignment).or_insert(0) += msg.items.len();
        for item in msg.items {
            self.queue.push_back(Queued {
                item,
                assignment: msg.assignment,
                attempt: 0,
                solo: false,
            });
        }
        self.pump(ctx, false);
    }
}

impl<P: Payload> Handler<Cancel> for Writer<P> {
    type Result = usize;

    fn handle(&mut self, msg: Cancel, ctx: &mut Context<Self>) -> usize {
        self.cancel(msg.assignment, ctx)
    }
}
