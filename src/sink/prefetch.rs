//! How much librdkafka may fetch ahead, sized from the process's memory
//! budget instead of its defaults.
//!
//! librdkafka keeps a prefetch queue **per partition** of up to
//! `queued.max.messages.kbytes` (default 64 MiB) or `queued.min.messages`
//! (default 100 000 messages), whichever is reached first; with the sink's
//! split partition queues every partition fills its own. Six partitions of
//! a backlog could hold 384 MiB before the sink looked at a byte. Here the
//! prefetch of the whole process gets a quarter as many bytes as the
//! in-flight budget (`writer.max_in_flight_bytes`), shared by the topic's
//! partitions (this process may own all of them). A quarter is enough: the
//! budget charges a message about five times its bytes (it holds a copy
//! and an encoded row, see `intake`), while the prefetch counts bytes as
//! they arrived, and it only has to cover the time until the next fetch
//! answers.
//!
//! Each consumer also keeps whole fetch responses alive until their last
//! message has been read (a queue of messages points into them), so a
//! response is at most half of one consumer's share of the prefetch, and
//! the librdkafka side of the process grows with the consumer count only
//! by librdkafka's 1 MB floor per consumer.

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
/// The process's prefetch is this part of the in-flight budget.
const BUDGET_PER_PREFETCH: usize = 4;
/// A fetch response is at most this part of one consumer's share of the
/// prefetch. Measured with `cargo bench --bench sink` (BENCH=quick, 6
/// consumers, a 16 MiB prefetch): fetch responses of a quarter of the
/// whole prefetch (4 MiB per consumer) left 94 MiB in librdkafka's heaps.
const FETCHES_PER_CONSUMER_SHARE: usize = 2;
/// librdkafka requires `fetch.max.bytes` ≥ `message.max.bytes` (1 MB).
const MIN_FETCH_MAX_BYTES: usize = 1024 * 1024;
/// librdkafka's own default for `fetch.max.bytes`.
const DEFAULT_FETCH_MAX_BYTES: usize = 50 * 1024 * 1024;
/// librdkafka's own default for `max.partition.fetch.bytes`.
const DEFAULT_PARTITION_FETCH_BYTES: usize = 1024 * 1024;

impl Prefetch {
    /// The prefetch for an in-flight budget of `budget_bytes`: a quarter
    /// of it, shared by `partitions` and fetched by `consumers`.
    pub fn for_budget(budget_bytes: usize, partitions: usize, consumers: usize) -> Prefetch {
        Prefetch::sized(budget_bytes / BUDGET_PER_PREFETCH, partitions, consumers)
    }

    /// Shares `total_bytes` among `partitions` partitions, fetched by
    /// `consumers` consumers.
    pub fn sized(total_bytes: usize, partitions: usize, consumers: usize) -> Prefetch {
        let per_partition = (total_bytes / partitions.max(1)).max(MIN_PER_PARTITION_BYTES);
        let per_consumer = total_bytes / consumers.max(1);
        Prefetch {
            queued_max_kbytes: per_partition / 1024,
            queued_min_messages: 1000,
            fetch_max_bytes: (per_consumer / FETCHES_PER_CONSUMER_SHARE)
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
    fn the_prefetch_is_shared_by_the_partitions() {
        let p = Prefetch::sized(64 * MIB, 6, 1);
        assert_eq!(p.queued_max_kbytes, 64 * 1024 / 6);
        assert_eq!(p.queued_min_messages, 1000);
        assert_eq!(p.fetch_max_bytes, 32 * MIB, "half of one consumer's share");
        assert_eq!(p.partition_fetch_bytes, MIB);
        // Six partitions of prefetch never exceed it.
        assert!(6 * p.queued_max_kbytes * 1024 <= 64 * MIB);
    }

    #[test]
    fn each_consumer_fetches_half_its_share() {
        let one = Prefetch::sized(16 * MIB, 6, 1);
        let four = Prefetch::sized(16 * MIB, 6, 4);
        assert_eq!(one.fetch_max_bytes, 8 * MIB);
        assert_eq!(four.fetch_max_bytes, 2 * MIB);
        assert_eq!(
            one.queued_max_kbytes, four.queued_max_kbytes,
            "queues are per partition"
        );
    }

    #[test]
    fn many_partitions_keep_a_useful_minimum() {
        let p = Prefetch::sized(16 * MIB, 1000, 1);
        assert_eq!(p.queued_max_kbytes, 256);
        assert_eq!(p.partition_fetch_bytes, 256 * 1024);
        assert_eq!(p.fetch_max_bytes, 8 * MIB);
    }

    #[test]
    fn the_default_budget_gives_a_quarter_of_it_to_the_prefetch() {
        let p = Prefetch::for_budget(32 * MIB, 6, 6);
        assert_eq!(p.queued_max_kbytes, 8 * 1024 / 6);
        assert_eq!(
            p.fetch_max_bytes, MIB,
            "librdkafka's floor (message.max.bytes), above half of 8/6 MiB"
        );
        let one = Prefetch::for_budget(32 * MIB, 6, 1);
        assert_eq!(one.fetch_max_bytes, 4 * MIB);
    }
}
