//! Reading one partition's queue: chunks of messages, each chunk only
//! once its in-flight budget is held.
//!
//! The stream takes up to [`MAX_CHUNK`] messages that are ready, then
//! their budget. If the budget is full it first yields
//! [`Intake::Waiting`] (the partition pauses fetching) and then waits —
//! inside the stream, so the partition actor's mailbox stays open for
//! acknowledgements and drains meanwhile, and nothing more is read from
//! the queue until the budget comes.

use futures::{Stream, StreamExt};
use rdkafka::error::KafkaResult;
use rdkafka::message::{Message as _, OwnedMessage};

use super::budget::{Budget, BudgetPermit};
use super::rebalance::PartitionQueue;

/// Messages handed to the converter at once (at most).
pub const MAX_CHUNK: usize = 500;
/// Budget bytes counted per message on top of key and value.
pub const MESSAGE_OVERHEAD_BYTES: usize = 128;

pub enum Intake {
    /// The next chunk waits for budget.
    Waiting,
    /// Messages in offset order with their budget sizes, and the permit
    /// for all of them.
    Chunk {
        messages: Vec<(OwnedMessage, usize)>,
        permit: BudgetPermit,
    },
}

/// Budget bytes of one message.
pub fn budget_bytes(m: &OwnedMessage) -> usize {
    m.key().map_or(0, <[u8]>::len) + m.payload().map_or(0, <[u8]>::len) + MESSAGE_OVERHEAD_BYTES
}

/// The intake stream of `queue`. Consumer errors are logged and skipped
/// (librdkafka retries fetches itself).
pub fn intake(queue: PartitionQueue, budget: Budget, label: String) -> impl Stream<Item = Intake> {
    let messages = futures::stream::unfold(queue, |queue| async move {
        let item: KafkaResult<OwnedMessage> = queue.recv().await.map(|m| m.detach());
        Some((item, queue))
    })
    .ready_chunks(MAX_CHUNK);
    struct State<S> {
        chunks: S,
        budget: Budget,
        /// A chunk that waits for its budget.
        waiting: Option<(Vec<(OwnedMessage, usize)>, usize)>,
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
                let messages: Vec<(OwnedMessage, usize)> = chunk
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
