//! Every message that crosses an actor boundary, in one place.

use std::sync::Arc;

use actix::prelude::*;
use rdkafka::message::OwnedMessage;

use crate::convert::ConvertError;
use crate::tablestore::flatrows::TimeseriesRow;
use crate::tablestore::{Error as TablestoreError, RowChange};

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

/// What the writer sends to Tablestore for one message.
#[derive(Clone, Debug)]
pub enum Payload {
    Row(RowChange),
    Point(TimeseriesRow),
}

/// One converted message on its way to Tablestore.
#[derive(Debug)]
pub struct EncodedWrite {
    pub offset: i64,
    pub payload: Payload,
    /// Hash of the destination primary key (or series + time): two writes
    /// with the same key are never in flight together, so they are never
    /// reordered.
    pub order_key: u64,
    /// Encoded size, counted against the request byte limit.
    pub encoded_bytes: usize,
    /// Bytes taken from the in-flight budget for this message.
    pub budget_bytes: usize,
    /// Kafka record timestamp, for the end-to-end latency histogram.
    pub timestamp_ms: Option<i64>,
    /// The original message, kept for the error topic if Tablestore
    /// rejects the row.
    pub source: OwnedMessage,
}

/// The converter's answer for one message.
#[derive(Debug)]
pub enum ConvertOutcome {
    Ok(EncodedWrite),
    Failed {
        message: OwnedMessage,
        error: ConvertError,
        budget_bytes: usize,
    },
}

/// Partition → converter pool: convert these, in order.
#[derive(Message)]
#[rtype(result = "Vec<ConvertOutcome>")]
pub struct Convert {
    pub messages: Vec<(OwnedMessage, usize)>,
}

/// Partition → writer: write these rows.
#[derive(Message)]
#[rtype(result = "()")]
pub struct Write {
    pub items: Vec<EncodedWrite>,
    pub reply: Recipient<WriteOutcome>,
}

/// Writer → partition.
#[derive(Message)]
#[rtype(result = "()")]
pub enum WriteOutcome {
    /// Acknowledged by Tablestore (budget already given back).
    Written { offsets: Vec<i64> },
    /// Rejected permanently; the partition applies the failure policy.
    Rejected {
        item: Box<EncodedWrite>,
        error: TablestoreError,
    },
}

/// Dead-letter producer → partition: the error record of `offset` is
/// acknowledged by Kafka.
#[derive(Message)]
#[rtype(result = "()")]
pub struct DeadLettered {
    pub offset: i64,
}

/// Supervisor → partition: stop polling, finish in-flight work, store the
/// commit point, then answer.
#[derive(Message)]
#[rtype(result = "()")]
pub struct Drain {
    pub done: tokio::sync::oneshot::Sender<()>,
}

/// Partition → supervisor.
#[derive(Message)]
#[rtype(result = "()")]
pub struct PartitionFailed {
    pub tp: TopicPartition,
    pub offset: i64,
    pub reason: String,
}
