//! The writer's queue: writes waiting to be sent, and the order keys of
//! writes in flight or waiting for a retry. Pure; unit-tested without
//! actors or Tablestore.
//!
//! Per-key order: a write whose order key is reserved (in flight, parked
//! for a retry, or already chosen for the batch being built) stays queued,
//! and so does every later write of that key, so two changes to the same
//! row are never reordered or sent together.

use std::collections::VecDeque;

use rustc_hash::{FxHashMap as HashMap, FxHashSet as HashSet};

use crate::sink::messages::Assignment;

/// Queued writes looked at per batch, so a long run of blocked keys
/// cannot make batching quadratic.
const MAX_SCAN: usize = 10_000;

/// What the queue needs to know about a write.
pub trait QueueItem {
    fn order_key(&self) -> u64;
    fn encoded_bytes(&self) -> usize;
    fn assignment(&self) -> Assignment;
    /// Must go alone (isolating a bad row after a request-level error).
    fn solo(&self) -> bool;
}

/// Batch limits.
#[derive(Clone, Copy, Debug)]
pub struct BatchLimits {
    pub max_rows: usize,
    pub max_bytes: usize,
}

#[derive(Debug)]
pub struct WriteQueue<T> {
    queue: VecDeque<T>,
    queued_bytes: usize,
    /// Order keys in flight or parked for a retry, with counts.
    reserved: HashMap<u64, u32>,
}

impl<T> Default for WriteQueue<T> {
    fn default() -> Self {
        WriteQueue {
            queue: VecDeque::new(),
            queued_bytes: 0,
            reserved: HashMap::default(),
        }
    }
}

impl<T: QueueItem> WriteQueue<T> {
    pub fn push_back(&mut self, item: T) {
        self.queued_bytes += item.encoded_bytes();
        self.queue.push_back(item);
    }

    /// Puts `items` back at the front, in their order (they were taken
    /// first, so they go first).
    pub fn push_front_all(&mut self, items: Vec<T>) {
        for item in items.into_iter().rev() {
            self.queued_bytes += item.encoded_bytes();
            self.queue.push_front(item);
        }
    }

    pub fn len(&self) -> usize {
        self.queue.len()
    }

    pub fn is_empty(&self) -> bool {
        self.queue.is_empty()
    }

    pub fn queued_bytes(&self) -> usize {
        self.queued_bytes
    }

    /// Whether a full batch could go now.
    pub fn full_batch_waiting(&self, limits: BatchLimits) -> bool {
        self.queue.len() >= limits.max_rows || self.queued_bytes >= limits.max_bytes
    }

    /// Reserves `item`'s key: any write with an order key (one still
    /// queued, or one in a request, whose payload the request holds).
    pub fn reserve(&mut self, item: &impl QueueItem) {
        *self.reserved.entry(item.order_key()).or_insert(0) += 1;
    }

    pub fn release(&mut self, item: &impl QueueItem) {
        let key = item.order_key();
        if let Some(n) = self.reserved.get_mut(&key) {
            *n -= 1;
            if *n == 0 {
                self.reserved.remove(&key);
            }
        } else {
            debug_assert!(false, "released a key that was not reserved");
        }
    }

    /// Keys reserved (in flight or parked), for tests and gauges.
    pub fn reserved_keys(&self) -> usize {
        self.reserved.len()
    }

    /// Picks the next batch in queue order, skipping (and keeping behind
    /// them every later write of) keys that are reserved, and reserves
    /// the keys of what it picks. Costs O(batch) when nothing is skipped —
    /// the common case — and O(scanned) otherwise, never O(queue).
    pub fn take_batch(&mut self, limits: BatchLimits) -> Vec<T> {
        let mut chosen: Vec<usize> = Vec::new();
        let mut bytes = 0;
        let mut blocked: HashSet<u64> = HashSet::default();
        let mut in_batch: HashSet<u64> =
            HashSet::with_capacity_and_hasher(limits.max_rows, Default::default());
        for (i, q) in self.queue.iter().enumerate().take(MAX_SCAN) {
            let key = q.order_key();
            let first_solo = chosen.first().is_some_and(|&c| self.queue[c].solo());
            let full = chosen.len() >= limits.max_rows
                || (!chosen.is_empty() && bytes + q.encoded_bytes() > limits.max_bytes)
                || first_solo
                || (q.solo() && !chosen.is_empty());
            if full {
                break;
            }
            if self.reserved.contains_key(&key) || blocked.contains(&key) || in_batch.contains(&key)
            {
                blocked.insert(key);
                continue;
            }
            bytes += q.encoded_bytes();
            in_batch.insert(key);
            chosen.push(i);
        }
        self.queued_bytes -= bytes;
        let batch: Vec<T> = if chosen.last().is_none_or(|&last| last + 1 == chosen.len()) {
            // Fast path: the batch is a prefix of the queue.
            self.queue.drain(..chosen.len()).collect()
        } else {
            // Some writes were skipped; rebuild only the scanned part.
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
        };
        for q in &batch {
            self.reserve(q);
        }
        batch
    }

    /// Removes every queued write of `assignment` (queued writes hold no
    /// reservation); returns them.
    pub fn cancel(&mut self, assignment: Assignment) -> Vec<T> {
        let mut removed = Vec::new();
        let mut kept = VecDeque::with_capacity(self.queue.len());
        for q in self.queue.drain(..) {
            if q.assignment() == assignment {
                self.queued_bytes -= q.encoded_bytes();
                removed.push(q);
            } else {
                kept.push_back(q);
            }
        }
        self.queue = kept;
        removed
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, PartialEq)]
    struct W {
        key: u64,
        bytes: usize,
        owner: u64,
        solo: bool,
        id: u32,
    }

    impl QueueItem for W {
        fn order_key(&self) -> u64 {
            self.key
        }
        fn encoded_bytes(&self) -> usize {
            self.bytes
        }
        fn assignment(&self) -> Assignment {
            Assignment(self.owner)
        }
        fn solo(&self) -> bool {
            self.solo
        }
    }

    fn w(id: u32, key: u64) -> W {
        W {
            key,
            bytes: 10,
            owner: 1,
            solo: false,
            id,
        }
    }

    const LIMITS: BatchLimits = BatchLimits {
        max_rows: 3,
        max_bytes: 1_000,
    };

    fn ids(batch: &[W]) -> Vec<u32> {
        batch.iter().map(|w| w.id).collect()
    }

    #[test]
    fn batches_follow_queue_order_within_the_row_limit() {
        let mut q = WriteQueue::default();
        for i in 0..5 {
            q.push_back(w(i, i as u64));
        }
        assert_eq!(ids(&q.take_batch(LIMITS)), vec![0, 1, 2]);
        assert_eq!(ids(&q.take_batch(LIMITS)), vec![3, 4]);
        assert!(q.is_empty());
        assert_eq!(q.queued_bytes(), 0);
        assert_eq!(q.reserved_keys(), 5);
    }

    #[test]
    fn a_reserved_key_holds_back_every_later_write_of_that_key() {
        let mut q = WriteQueue::default();
        q.push_back(w(0, 7));
        let first = q.take_batch(LIMITS);
        q.push_back(w(1, 7));
        q.push_back(w(2, 8));
        q.push_back(w(3, 7));
        assert_eq!(ids(&q.take_batch(LIMITS)), vec![2], "key 7 is in flight");
        q.release(&first[0]);
        assert_eq!(
            ids(&q.take_batch(LIMITS)),
            vec![1],
            "one write of key 7 at a time"
        );
    }

    #[test]
    fn the_byte_limit_and_solo_writes_cut_batches() {
        let mut q = WriteQueue::default();
        q.push_back(W {
            bytes: 600,
            ..w(0, 0)
        });
        q.push_back(W {
            bytes: 600,
            ..w(1, 1)
        });
        q.push_back(W {
            solo: true,
            ..w(2, 2)
        });
        q.push_back(w(3, 3));
        let limits = BatchLimits {
            max_rows: 10,
            max_bytes: 1_000,
        };
        assert_eq!(ids(&q.take_batch(limits)), vec![0]);
        assert_eq!(ids(&q.take_batch(limits)), vec![1]);
        assert_eq!(ids(&q.take_batch(limits)), vec![2], "solo goes alone");
        assert_eq!(ids(&q.take_batch(limits)), vec![3]);
    }

    #[test]
    fn cancel_removes_only_that_assignment_and_keeps_the_order_of_the_rest() {
        let mut q = WriteQueue::default();
        for i in 0..6 {
            q.push_back(W {
                owner: (i % 2) as u64,
                ..w(i, i as u64)
            });
        }
        let removed = q.cancel(Assignment(1));
        assert_eq!(ids(&removed), vec![1, 3, 5]);
        assert_eq!(q.queued_bytes(), 30);
        assert_eq!(ids(&q.take_batch(LIMITS)), vec![0, 2, 4]);
    }

    #[test]
    fn requeued_writes_go_first_in_their_order() {
        let mut q = WriteQueue::default();
        for i in 0..4 {
            q.push_back(w(i, i as u64));
        }
        let batch = q.take_batch(LIMITS);
        for b in &batch {
            q.release(b);
        }
        q.push_front_all(batch);
        assert_eq!(ids(&q.take_batch(LIMITS)), vec![0, 1, 2]);
    }
}
