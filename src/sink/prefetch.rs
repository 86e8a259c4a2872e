//! How much librdkafka may fetch ahead, sized from the process's memory
//! budget instead of its defaults.
//!
//! librdkafka keeps a prefetch queue **per partition** of up to
//! `queued.max.messages.kbytes` (default 64 MiB) or `queued.min.messages`
//! (default 100 000 messages), whichever is reached first; with the sink's
//! split partition queues every partition fills its own. Six partitions of
//! a backlog could hold 384 MiB before the sink looked at a byte. Here the
//! prefetch of the whole process gets half as many bytes as the in-flight
//! budget (`writer.max_in_flight_bytes`), shared by the topic's partitions
//! (this process may own all of them), so the sink's memory is bounded
//! by the budget, not by the backlog (about 290 MiB at the default 32 MiB
//! budget for any backlog measured, 500 k to 10 M messages: a message in
//! flight costs a few times its bytes). Half is enough: the prefetch only
//! has to cover the time until the next fetch answers, while the budget
//! also holds everything converted and waiting for Tablestore.

/// The fetch settings for one consumer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Prefetch {
    /// `queued.max.messages.kbytes`: per partition.
    pub queued_max_kbytes: usize,
    /// `queued.min.messages`: per partition; small, so the byte bound
    /// governs.
    pub queued_min_messages: usize,
    /// `fetch.max.bytes`: one fetch response, across partitions.
    pub fetch_max_bytes: usize,
    /// `max.partition.fetch.bytes`: one partition in one fetch (a larger
    /// message is still fetched whole).
    pub partition_fetch_bytes: usize,
}

/// Never less per partition than this: fetches stay efficient.
const MIN_PER_PARTITION_BYTES: usize = 256 * 1024;
/// A fetch response is at most this part of the prefetch: librdkafka
/// keeps a whole response buffer alive until its last message has been
/// read, one per consumer, on top of the queues (measured with `cargo
/// bench --bench sink`, BENCH=memory, 12 consumers draining 3 M messages:
/// peak RSS 315 MiB with 16 MiB responses, 246 MiB with 2 MiB ones).
const FETCHES_PER_PREFETCH: usize = 4;
/// librdkafka requires `fetch.max.bytes` ≥ `message.max.bytes` (1 MB).
const MIN_FETCH_MAX_BYTES: usize = 1024 * 1024;
/// librdkafka's own default for `fetch.max.bytes`.
const DEFAULT_FETCH_MAX_BYTES: usize = 50 * 1024 * 1024;
/// librdkafka's own default for `max.partition.fetch.bytes`.
const DEFAULT_PARTITION_FETCH_BYTES: usize = 1024 * 1024;

impl Prefetch {
    /// The prefetch for an in-flight budget of `budget_bytes`: half of it,
    /// shared by `partitions`.
    pub fn for_budget(budget_bytes: usize, partitions: usize) -> Prefetch {
        Prefetch::sized(budget_bytes / 2, partitions)
    }

    /// Shares `total_bytes` among `partitions` partitions.
    pub fn sized(total_bytes: usize, partitions: usize) -> Prefetch {
        let per_partition = (total_bytes / partitions.max(1)).max(MIN_PER_PARTITION_BYTES);
        Prefetch {
            queued_max_kbytes: per_partition / 1024,
            queued_min_messages: 1000,
            fetch_max_bytes: (total_bytes / FETCHES_PER_PREFETCH)
                .clamp(MIN_FETCH_MAX_BYTES, DEFAULT_FETCH_MAX_BYTES),
            partition_fetch_bytes: per_partition.min(DEFAULT_PARTITION_FETCH_BYTES),
        }
    }

    /// The librdkafka properties.
    pub fn properties(&self) -> [(&'static str, String); 4] {
        [
            (
                "queued.max.messages.kbytes",
                self.queued_max_kbytes.to_string(),
            ),
            ("queued.min.messages", self.queued_min_messages.to_string()),
            ("fetch.max.bytes", self.fetch_max_bytes.to_string()),
            (
                "max.partition.fetch.bytes",
                self.partition_fetch_bytes.to_string(),
            ),
        ]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MIB: usize = 1024 * 1024;

    #[test]
    fn the_budget_is_shared_by_the_partitions() {
        let p = Prefetch::sized(64 * MIB, 6);
        assert_eq!(p.queued_max_kbytes, 64 * 1024 / 6);
        assert_eq!(p.queued_min_messages, 1000);
        assert_eq!(p.fetch_max_bytes, 16 * MIB, "a quarter of the prefetch");
        assert_eq!(p.partition_fetch_bytes, MIB);
        // Six partitions of prefetch never exceed the budget.
        assert!(6 * p.queued_max_kbytes * 1024 <= 64 * MIB);
    }

    #[test]
    fn many_partitions_keep_a_useful_minimum() {
        let p = Prefetch::sized(16 * MIB, 1000);
        assert_eq!(p.queued_max_kbytes, 256);
        assert_eq!(p.partition_fetch_bytes, 256 * 1024);
        assert_eq!(p.fetch_max_bytes, 4 * MIB);
    }

    #[test]
    fn the_default_budget_gives_half_of_it_to_the_prefetch() {
        let p = Prefetch::for_budget(32 * MIB, 6);
        assert_eq!(p.queued_max_kbytes, 16 * 1024 / 6);
        assert_eq!(p.fetch_max_bytes, 4 * MIB);
        let small = Prefetch::for_budget(2 * MIB, 6);
        assert_eq!(
            small.fetch_max_bytes, MIB,
            "librdkafka's floor (message.max.bytes)"
        );
    }
}
