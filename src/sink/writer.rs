//! The writer actor: batches rows into Tablestore requests and retries.
//!
//! * Batches hold at most `max_batch_rows` rows and `max_batch_bytes`
//!   bytes. A full batch goes out at once; a partial one goes out at once
//!   when nothing is in flight, else after `linger_ms`.
//! * Up to `max_in_flight_requests` requests run concurrently.
//! * Per-key order: a write whose order key is already in flight (or
//!   waiting for a retry) stays queued behind it, so two changes to the
//!   same row are never reordered or merged.
//! * Retriable errors (throttling, transient, and problems that are not
//!   the data's fault: auth, missing table) are retried without limit with
//!   exponential backoff and full jitter; per-row failures retry by row.
//!   A request-level data error splits the batch into single-row requests
//!   to find the bad row. Rows rejected permanently go back to their
//!   partition, which applies the failure policy.
//! * Budget bytes are given back here on success, never by the partition.

use std::collections::{HashMap, HashSet, VecDeque};
use std::time::{Duration, Instant};

use actix::prelude::*;

use super::budget::Budget;
use super::messages::{EncodedWrite, Payload, Write, WriteOutcome};
use crate::config::WriterConfig;
use crate::metrics::names;
use crate::tablestore::{Client, Error as TablestoreError, ErrorClass, RowResult};

/// Error codes that are not the row's fault: retry instead of routing the
/// data to the error topic.
/// Queued writes looked at per batch, so a long run of blocked keys
/// cannot make batching quadratic.
const MAX_SCAN: usize = 10_000;

const SYSTEMIC_CODES: &[&str] = &[
    "OTSAuthFailed",
    "OTSNoPermissionAccess",
    "OTSObjectNotExist",
    "OTSTableNotReady",
    "ClientTransport",
];

struct Queued {
    item: EncodedWrite,
    reply: Recipient<WriteOutcome>,
    attempt: u32,
    /// Send alone: isolates a bad row after a request-level data error.
    solo: bool,
}

pub struct Writer {
    client: Client,
    table: String,
    /// Source topic, the label of the end-to-end latency histogram.
    topic: String,
    limits: WriterConfig,
    budget: Budget,
    queue: VecDeque<Queued>,
    queued_bytes: usize,
    /// Order keys in flight or waiting for a retry, with counts.
    reserved: HashMap<u64, u32>,
    in_flight: usize,
    linger_armed: bool,
}

impl Writer {
    pub fn new(
        client: Client,
        table: String,
        topic: String,
        limits: WriterConfig,
        budget: Budget,
    ) -> Self {
        Writer {
            client,
            table,
            topic,
            limits,
            budget,
            queue: VecDeque::new(),
            queued_bytes: 0,
            reserved: HashMap::new(),
            in_flight: 0,
            linger_armed: false,
        }
    }

    fn full_batch_waiting(&self) -> bool {
        self.queue.len() >= self.limits.max_batch_rows
            || self.queued_bytes >= self.limits.max_batch_bytes
    }

    /// Sends batches while there is capacity. Partial batches only go out
    /// when `partial` (linger expired) or nothing is in flight.
    fn pump(&mut self, ctx: &mut Context<Self>, partial: bool) {
        while self.in_flight < self.limits.max_in_flight_requests && !self.queue.is_empty() {
            if !partial && self.in_flight > 0 && !self.full_batch_waiting() {
                self.arm_linger(ctx);
                return;
            }
            let batch = self.take_batch();
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

    /// Picks the next batch in queue order, skipping (and keeping behind
    /// them every later write of) keys that are reserved. Costs O(batch)
    /// when nothing is skipped — the common case — and O(scanned) otherwise,
    /// never O(queue): the queue can hold a large backlog.
    fn take_batch(&mut self) -> Vec<Queued> {
        let max_rows = self.limits.max_batch_rows;
        let mut chosen: Vec<usize> = Vec::new();
        let mut bytes = 0;
        let mut blocked: HashSet<u64> = HashSet::new();
        let mut in_batch: HashSet<u64> = HashSet::new();
        for (i, q) in self.queue.iter().enumerate().take(MAX_SCAN) {
            let key = q.item.order_key;
            let first_solo = chosen.first().is_some_and(|&c| self.queue[c].solo);
            let full = chosen.len() >= max_rows
                || (!chosen.is_empty()
                    && bytes + q.item.encoded_bytes > self.limits.max_batch_bytes)
                || first_solo
                || (q.solo && !chosen.is_empty());
            if full {
                break;
            }
            if self.reserved.contains_key(&key) || blocked.contains(&key) || in_batch.contains(&key)
            {
                blocked.insert(key);
                continue;
            }
            bytes += q.item.encoded_bytes;
            in_batch.insert(key);
            chosen.push(i);
        }
        self.queued_bytes -= bytes;
        // Fast path: the batch is a prefix of the queue.
        if chosen.last().is_none_or(|&last| last + 1 == chosen.len()) {
            return self.queue.drain(..chosen.len()).collect();
        }
        // Slow path: some writes were skipped; rebuild only the scanned part.
        let scanned = chosen.last().map_or(0, |&l| l + 1);
        let mut batch = Vec::with_capacity(chosen.len());
        let mut kept = Vec::with_capacity(scanned - chosen.len());
        let mut next = chosen.iter().peekable();
        for (i, q) in self.queue.drain(..scanned).enumerate() {
            if next.peek() == Some(&&i) {
                next.next();
                batch.push(q);
            } else {
                kept.push(q);
            }
        }
        for q in kept.into_iter().rev() {
            self.queue.push_front(q);
        }
        batch
    }

    fn reserve(&mut self, key: u64) {
        *self.reserved.entry(key).or_insert(0) += 1;
    }

    fn release(&mut self, key: u64) {
        if let Some(n) = self.reserved.get_mut(&key) {
            *n -= 1;
            if *n == 0 {
                self.reserved.remove(&key);
            }
        }
    }

    fn send(&mut self, batch: Vec<Queued>, ctx: &mut Context<Self>) {
        for q in &batch {
            self.reserve(q.item.order_key);
        }
        self.in_flight += 1;
        let client = self.client.clone();
        let table = self.table.clone();
        let is_points = matches!(
            batch.first().map(|q| &q.item.payload),
            Some(Payload::Point(_))
        );
        let api = if is_points {
            "PutTimeseriesData"
        } else {
            "BatchWriteRow"
        };
        metrics::histogram!(names::BATCH_ROWS, "api" => api).record(batch.len() as f64);
        let started = Instant::now();
        // Built from the queued items without copying them: points are
        // encoded here, rows are shared `Bytes`.
        let request: std::pin::Pin<Box<dyn std::future::Future<Output = _>>> = if is_points {
            let points = batch.iter().filter_map(|q| match &q.item.payload {
                Payload::Point(p) => Some(p),
                Payload::Row(_) => None,
            });
            let data = crate::tablestore::flatrows::encode(points);
            let count = batch.len();
            Box::pin(async move { client.put_timeseries_encoded(&table, data, count).await })
        } else {
            let changes: Vec<_> = batch
                .iter()
                .filter_map(|q| match &q.item.payload {
                    Payload::Row(r) => Some(r.clone()),
                    Payload::Point(_) => None,
                })
                .collect();
            Box::pin(async move { client.batch_write_row(&table, &changes).await })
        };
        ctx.spawn(request.into_actor(self).map(move |result, act, ctx| {
            metrics::histogram!(names::REQUEST_DURATION, "api" => api)
                .record(started.elapsed().as_secs_f64());
            act.in_flight -= 1;
            act.on_response(api, batch, result, ctx);
            act.pump(ctx, false);
        }));
    }

    fn on_response(
        &mut self,
        api: &'static str,
        batch: Vec<Queued>,
        result: Result<Vec<RowResult>, TablestoreError>,
        ctx: &mut Context<Self>,
    ) {
        let results = match result {
            Ok(r) => r,
            Err(e) => {
                let systemic = SYSTEMIC_CODES.contains(&e.code.as_str());
                if e.is_retriable() || systemic {
                    metrics::counter!(names::REQUESTS, "api" => api, "outcome" => "retriable")
                        .increment(1);
                    if systemic {
                        tracing::error!(table = %self.table, error = %e, rows = batch.len(), "Tablestore request failed for a reason that is not the data's; retrying until it is fixed");
                    } else {
                        tracing::warn!(table = %self.table, error = %e, rows = batch.len(), "Tablestore request failed; retrying");
                    }
                    let class = if systemic {
                        ErrorClass::RetriableTransient
                    } else {
                        e.class
                    };
                    self.retry_later(batch, &e.code, class, ctx);
                } else if batch.len() > 1 {
                    metrics::counter!(names::REQUESTS, "api" => api, "outcome" => "split")
                        .increment(1);
                    tracing::warn!(table = %self.table, error = %e, rows = batch.len(), "request rejected; resending its rows one by one to find the bad one");
                    for q in batch.iter().rev() {
                        self.release(q.item.order_key);
                    }
                    for mut q in batch.into_iter().rev() {
                        q.solo = true;
                        self.queued_bytes += q.item.encoded_bytes;
                        self.queue.push_front(q);
                    }
                } else {
                    metrics::counter!(names::REQUESTS, "api" => api, "outcome" => "failed")
                        .increment(1);
                    for q in batch {
                        self.reject(q, e.clone());
                    }
                }
                return;
            }
        };
        let mut done: Vec<(Recipient<WriteOutcome>, Vec<i64>)> = Vec::new();
        let mut retry = Vec::new();
        let mut rows = 0u64;
        let mut bytes = 0u64;
        let now_ms = chrono::Utc::now().timestamp_millis();
        let latency = metrics::histogram!(names::END_TO_END_LATENCY, "topic" => self.topic.clone());
        let mut retry_code = String::new();
        let mut retry_class = ErrorClass::RetriableTransient;
        let partial = results.iter().any(|r| r.is_err());
        for (q, r) in batch.into_iter().zip(results) {
            match r {
                Ok(()) => {
                    self.release(q.item.order_key);
                    rows += 1;
                    bytes += q.item.encoded_bytes as u64;
                    if let Some(ts) = q.item.timestamp_ms {
                        latency.record(((now_ms - ts).max(0)) as f64 / 1000.0);
                    }
                    self.budget.give(q.item.budget_bytes);
                    match done.iter_mut().find(|(r, _)| *r == q.reply) {
                        Some((_, offsets)) => offsets.push(q.item.offset),
                        None => done.push((q.reply, vec![q.item.offset])),
                    }
                }
                Err(e) if e.is_retriable() => {
                    retry_code = e.code.clone();
                    retry_class = e.class;
                    retry.push(q);
                }
                Err(e) => {
                    self.release(q.item.order_key);
                    self.reject(q, e);
                }
            }
        }
        metrics::counter!(names::REQUESTS, "api" => api, "outcome" => if partial { "partial" } else { "ok" }).increment(1);
        metrics::counter!(names::ROWS_WRITTEN, "table" => self.table.clone()).increment(rows);
        metrics::counter!(names::BYTES_WRITTEN, "table" => self.table.clone()).increment(bytes);
        for (reply, offsets) in done {
            reply.do_send(WriteOutcome::Written { offsets });
        }
        if !retry.is_empty() {
            self.retry_later(retry, &retry_code, retry_class, ctx);
        }
    }

    fn reject(&mut self, q: Queued, error: TablestoreError) {
        tracing::warn!(table = %self.table, offset = q.item.offset, error = %error, "row rejected by Tablestore");
        q.reply.do_send(WriteOutcome::Rejected {
            item: Box::new(q.item),
            error,
        });
    }

    /// Re-queues `batch` at the front after a backoff; their keys stay
    /// reserved meanwhile so nothing with the same key overtakes them.
    fn retry_later(
        &mut self,
        mut batch: Vec<Queued>,
        code: &str,
        class: ErrorClass,
        ctx: &mut Context<Self>,
    ) {
        metrics::counter!(names::RETRIES, "code" => code.to_owned()).increment(batch.len() as u64);
        let attempt = batch.iter().map(|q| q.attempt).max().unwrap_or(0);
        for q in &mut batch {
            q.attempt += 1;
        }
        let base = self.limits.retry_initial_ms
            * if class == ErrorClass::RetriableThrottle {
                2
            } else {
                1
            };
        let ceiling = base
            .saturating_mul(1 << attempt.min(20))
            .min(self.limits.retry_max_ms)
            .max(1);
        let delay = Duration::from_millis(base.min(ceiling) / 2 + rand::random_range(0..=ceiling));
        ctx.run_later(delay, move |act, ctx| {
            for q in batch.into_iter().rev() {
                act.release(q.item.order_key);
                act.queued_bytes += q.item.encoded_bytes;
                act.queue.push_front(q);
            }
            act.pump(ctx, true);
        });
    }
}

impl Actor for Writer {
    type Context = Context<Self>;
}

impl Handler<Write> for Writer {
    type Result = ();

    fn handle(&mut self, msg: Write, ctx: &mut Context<Self>) {
        for item in msg.items {
            self.queued_bytes += item.encoded_bytes;
            self.queue.push_back(Queued {
                item,
                reply: msg.reply.clone(),
                attempt: 0,
                solo: false,
            });
        }
        self.pump(ctx, false);
    }
}
