//! Reading one partition's queue: chunks of messages, each chunk only
//! once its in-flight budget is held.
//!
//! The stream takes up to [`MAX_CHUNK`] messages that are ready, then
//! their budget. If the budget is full it first yields
//! [`Intake::Waiting`] (the partition's state says it waits; librdkafka
//! fetches ahead only up to the prefetch bound) and then waits —
//! inside the stream, so the partition actor's mailbox stays open for
//! acknowledgements and drains meanwhile, and nothing more is read from
//! the queue until the budget comes.
//!
//! The queue is on loan ([`LeasedQueue`]; see [`lease`](super::lease)
//! for why a queue's return is awaited).

use std::sync::Arc;

use futures::{Stream, StreamExt};
use rdkafka::error::KafkaResult;
use rdkafka::message::Message as _;

use super::budget::{Budget, BudgetPermit};
use super::lease::LeasedQueue;
use super::record::SourceRecord;

/// Messages handed to the converter at once (at most).
pub const MAX_CHUNK: usize = 500;
/// A message's key and value are held twice while it is in flight: the
/// detached copy (kept for the error topic until the write is
/// acknowledged) and its encoded row, about as large.
const COPIES_IN_FLIGHT: usize = 2;
/// What one message in flight holds besides its key and value: the write
/// entry it travels in (the copied message inside it) and the slack of the
/// queues around it, the chunk slot it was converted from, allocator
/// rounding and its offset in the ledger. With 128 here (key and value
/// counted once) the sink's heap grew by 4.2 bytes per budget byte
/// (`cargo bench --bench sink`, BENCH=quick, budgets of 8 and 32 MiB): the
/// budget bounded a quarter of what it was meant to. That was measured
/// with rdkafka's `OwnedMessage` as the copy (a topic name, key and value
/// of its own, 208-byte entries); the [`SourceRecord`] is smaller, so 640
/// now errs on the safe side.
pub const MESSAGE_OVERHEAD_BYTES: usize = 640;

pub enum Intake {
    /// The next chunk waits for budget.
    Waiting,
    /// Messages in offset order with their budget sizes, and the permit
    /// for all of them.
    Chunk {
        messages: Vec<(SourceRecord, usize)>,
        permit: BudgetPermit,
    },
}

/// Key and value bytes of one message, as Kafka counts them.
pub fn message_bytes(m: &SourceRecord) -> usize {
    m.key().map_or(0, <[u8]>::len) + m.payload().map_or(0, <[u8]>::len)
}

/// Budget bytes of one message: what it holds in memory while in flight.
pub fn budget_bytes(m: &SourceRecord) -> usize {
    COPIES_IN_FLIGHT * message_bytes(m) + MESSAGE_OVERHEAD_BYTES
}

/// The intake stream of `queue`. Consumer errors are logged and skipped
/// (librdkafka retries fetches itself).
pub fn intake(
    queue: LeasedQueue,
    topic: Arc<str>,
    budget: Budget,
    label: String,
) -> impl Stream<Item = Intake> {
    // A chunk: the next message, waited for, then what the queue holds
    // already, taken in one call.
    let messages = futures::stream::unfold((queue, topic), |(leased, topic)| async move {
        let queue = leased.queue();
        let first: KafkaResult<SourceRecord> = queue
            .stream
            .recv()
            .await
            .map(|m| SourceRecord::copy_of(&m, &topic));
        let mut chunk = vec![first];
        queue.ready.read_into(&topic, MAX_CHUNK - 1, &mut chunk);
        Some((chunk, (leased, topic)))
    });
    struct State<S> {
        chunks: S,
        budget: Budget,
        /// A chunk that waits for its budget.
        waiting: Option<(Vec<(SourceRecord, usize)>, usize)>,
        label: String,
    }
    futures::stream::unfold(
        State {
            chunks: Box::pin(messages),
            budget,
            waiting: None,
            label,
        },
        |mut s| async move {
            loop {
                if let Some((messages, bytes)) = s.waiting.take() {
                    let permit = s.budget.take(bytes).await;
                    return Some((Intake::Chunk { messages, permit }, s));
                }
                let chunk = s.chunks.next().await?;
                let messages: Vec<(SourceRecord, usize)> = chunk
                    .into_iter()
                    .filter_map(|m| match m {
                        Ok(m) => {
                            let size = budget_bytes(&m);
                            Some((m, size))
                        }
                        Err(e) => {
                            tracing::warn!(partition = %s.label, error = %e, "Kafka consumer error");
                            None
                        }
                    })
                    .collect();
                if messages.is_empty() {
                    continue;
                }
                let bytes = messages.iter().map(|(_, b)| b).sum();
                match s.budget.try_take(bytes) {
                    Some(permit) => return Some((Intake::Chunk { messages, permit }, s)),
                    None => {
                        s.waiting = Some((messages, bytes));
                        return Some((Intake::Waiting, s));
                    }
                }
            }
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sink::budget::BudgetPermit;
    use crate::sink::messages::EncodedWrite;
    use crate::sink::payload::Point;
    use crate::tablestore::RowChange;
    use rdkafka::Timestamp;
    use std::mem::size_of;

    #[test]
    fn the_overhead_covers_the_structs_a_message_lives_in() {
        let entry = size_of::<EncodedWrite<RowChange>>().max(size_of::<EncodedWrite<Point>>());
        let chunk_slot = size_of::<(SourceRecord, BudgetPermit)>();
        assert!(
            MESSAGE_OVERHEAD_BYTES >= entry + chunk_slot,
            "{MESSAGE_OVERHEAD_BYTES} < write entry {entry} + chunk slot {chunk_slot}"
        );
    }

    #[test]
    fn a_message_is_charged_twice_its_bytes_and_its_overhead() {
        let m = SourceRecord::new(
            Some(&[0; 200][..]),
            Some(&[0; 10][..]),
            "t".into(),
            Timestamp::NotAvailable,
            0,
            0,
            None,
        );
        assert_eq!(message_bytes(&m), 210);
        assert_eq!(budget_bytes(&m), 420 + MESSAGE_OVERHEAD_BYTES);
        let tombstone =
            SourceRecord::new(None, None, "t".into(), Timestamp::NotAvailable, 0, 0, None);
        assert_eq!(budget_bytes(&tombstone), MESSAGE_OVERHEAD_BYTES);
    }
}
