//! Every message that crosses an actor boundary, in one place.

use std::sync::Arc;

use super::record::SourceRecord;
use actix::prelude::*;

use super::budget::BudgetPermit;
use super::dead_letter::Stage;
use super::lifecycle::Failure;
use crate::convert::ConvertError;
use crate::tablestore::Error as TablestoreError;

/// A topic partition; cheap to clone.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TopicPartition {
    pub topic: Arc<str>,
    pub partition: i32,
}

impl std::fmt::Display for TopicPartition {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}[{}]", self.topic, self.partition)
    }
}

/// One assignment of one partition to this process: a new number every
/// time a partition actor starts, so the writer can cancel exactly the
/// work of a revoked assignment (and not that of a later one of the same
/// partition).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Assignment(pub u64);

/// One converted message on its way to Tablestore.
#[derive(Debug)]
pub struct EncodedWrite<P> {
    pub offset: i64,
    pub payload: P,
    /// Hash of the destination primary key (or series + time): two writes
    /// with the same key are never in flight together, so they are never
    /// reordered.
    pub order_key: u64,
    /// Encoded size, counted against the request byte limit.
    pub encoded_bytes: usize,
    /// Kafka record timestamp, for the end-to-end latency histogram.
    pub timestamp_ms: Option<i64>,
    /// The original message, kept for the error topic if Tablestore
    /// rejects the row.
    pub source: SourceRecord,
    /// This message's share of the in-flight budget; given back when the
    /// write is dropped (acknowledged, cancelled or rejected and routed).
    pub permit: BudgetPermit,
}

impl<P> EncodedWrite<P> {
    /// The same write with `slot` where its payload was, and the payload:
    /// a request takes its batch's payloads and leaves each write with
    /// its place in that batch.
    pub fn swap_payload<Q>(self, slot: Q) -> (P, EncodedWrite<Q>) {
        let EncodedWrite {
            offset,
            payload,
            order_key,
            encoded_bytes,
            timestamp_ms,
            source,
            permit,
        } = self;
        let write = EncodedWrite {
            offset,
            payload: slot,
            order_key,
            encoded_bytes,
            timestamp_ms,
            source,
            permit,
        };
        (payload, write)
    }
}

/// The converter's answer for one message.
#[derive(Debug)]
pub enum ConvertOutcome<P> {
    Ok(EncodedWrite<P>),
    Failed {
        message: SourceRecord,
        error: ConvertError,
        permit: BudgetPermit,
    },
}

/// Partition → converter pool: convert these, in order.
pub struct Convert<P> {
    pub messages: Vec<(SourceRecord, BudgetPermit)>,
    _payload: std::marker::PhantomData<fn() -> P>,
}

impl<P> Convert<P> {
    pub fn new(messages: Vec<(SourceRecord, BudgetPermit)>) -> Self {
        Convert {
            messages,
            _payload: std::marker::PhantomData,
        }
    }
}

impl<P: 'static> Message for Convert<P> {
    type Result = Vec<ConvertOutcome<P>>;
}

/// Partition → writer: write these rows (of one assignment, in offset
/// order).
pub struct Write<P> {
    pub assignment: Assignment,
    pub items: Vec<EncodedWrite<P>>,
    pub reply: Recipient<WriteOutcome>,
}

impl<P: 'static> Message for Write<P> {
    type Result = ();
}

/// A row Tablestore rejected for its data: what the failure policy needs.
#[derive(Debug)]
pub struct RejectedWrite {
    pub offset: i64,
    pub source: SourceRecord,
    pub permit: BudgetPermit,
    pub error: TablestoreError,
}

/// Writer → partition.
#[derive(Message)]
#[rtype(result = "()")]
pub enum WriteOutcome {
    /// Acknowledged by Tablestore.
    Written { offsets: Vec<i64> },
    /// Rejected for its data; the partition applies the failure policy.
    Rejected(Box<RejectedWrite>),
}

/// Supervisor → writer: forget every write of this assignment — drop the
/// queued and retrying ones, abort requests in flight that carry any —
/// and answer when done, so a revoked partition's rows cannot land after
/// its next owner's.
#[derive(Message)]
#[rtype(result = "usize")]
pub struct Cancel {
    pub assignment: Assignment,
}

/// A message that cannot be written: failed conversion, or rejected by
/// Tablestore for its data. One path for both: the failure policy.
#[derive(Debug)]
pub struct BadRecord {
    pub offset: i64,
    pub stage: Stage,
    /// Bounded code for metrics and the error header.
    pub code: String,
    pub reason: String,
    pub source: SourceRecord,
    pub permit: BudgetPermit,
}

impl BadRecord {
    pub fn conversion(message: SourceRecord, error: &ConvertError, permit: BudgetPermit) -> Self {
        BadRecord {
            offset: rdkafka::Message::offset(&message),
            stage: Stage::Convert,
            code: error.reason_code().to_owned(),
            reason: error.to_string(),
            source: message,
            permit,
        }
    }

    pub fn rejected(r: RejectedWrite) -> Self {
        BadRecord {
            offset: r.offset,
            stage: Stage::Write,
            code: r.error.code.clone(),
            reason: format!("Tablestore rejected the row: {}", r.error),
            source: r.source,
            permit: r.permit,
        }
    }
}

/// How a drained partition ended.
#[derive(Debug, Default)]
pub struct DrainReport {
    /// Set if the stop policy stopped it: its status stays FAILED.
    pub failure: Option<Failure>,
}

/// Supervisor → partition: stop polling, finish in-flight work, store the
/// commit point, then answer and stop.
#[derive(Message)]
#[rtype(result = "()")]
pub struct Drain {
    pub done: tokio::sync::oneshot::Sender<DrainReport>,
}

/// Supervisor → partition: the drain timed out; stop now (in-flight
/// dead-letter sends are dropped; the writer is told to cancel).
#[derive(Message)]
#[rtype(result = "()")]
pub struct Abandon;

/// Supervisor → partition: a message of this partition reached the
/// consumer's main queue instead of the partition's own; rewind to it.
#[derive(Message)]
#[rtype(result = "()")]
pub struct Rewind {
    pub offset: i64,
}

/// Partition → supervisor: the stop policy stopped the partition.
#[derive(Message)]
#[rtype(result = "()")]
pub struct PartitionFailed {
    pub tp: TopicPartition,
    pub failure: Failure,
}
