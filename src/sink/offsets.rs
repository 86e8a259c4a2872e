//! Which offsets of one partition are safe to commit, and what is still
//! out: the partition's bookkeeping as a plain struct, tested without
//! Kafka or actors.
//!
//! Offsets are registered when polled and acknowledged when Tablestore
//! (or the dead-letter/error topic) acknowledges them, in any order. The
//! commit point is the lowest offset not yet acknowledged: everything
//! below it is done. This is the at-least-once rule: **the commit point
//! never passes an offset that was neither written nor dead-lettered.**
//!
//! Two things make that hold beyond the happy path:
//! * an offset can be outstanding more than once (a rewind delivers it
//!   again while its first copy is still in flight), so pending offsets
//!   are counted, not just remembered;
//! * a message known to exist but not received through the partition's
//!   own queue (it reached the consumer's main queue instead) is
//!   *awaited*: the partition is rewound to it, and the commit point stays
//!   at or below it until it is polled again.

use std::collections::VecDeque;

/// Offsets polled and not yet acknowledged, with their copy counts, in
/// ascending order.
///
/// A partition is polled in increasing offset order, so a registration is
/// almost always a push at the back; only a rewind's redelivery inserts
/// lower offsets. An acknowledgement finds its offset by binary search and
/// counts it down. Entries counted down to zero stay where they are until
/// they reach the front (popped there, so the front is always the lowest
/// pending offset), or until they outnumber the live ones (compacted), so
/// memory stays proportional to what is pending. (A `BTreeMap` did this
/// with a node insert and removal per message: `perf` put ~10 % of the
/// pipeline thread there.)
#[derive(Debug, Default)]
struct Pending {
    entries: VecDeque<(i64, u32)>,
    /// Entries with a count above zero.
    live: usize,
    /// The sum of the counts.
    copies: usize,
}

/// Dead entries tolerated besides the live ones before compacting.
const DEAD_ENTRIES_SLACK: usize = 1024;

impl Pending {
    fn add(&mut self, offset: i64) {
        match self.entries.back() {
            Some(&(last, _)) if offset <= last => {
                match self.entries.binary_search_by_key(&offset, |e| e.0) {
                    Ok(i) => {
                        let count = &mut self.entries[i].1;
                        if *count == 0 {
                            self.live += 1;
                        }
                        *count += 1;
                    }
                    Err(i) => {
                        self.entries.insert(i, (offset, 1));
                        self.live += 1;
                    }
                }
            }
            _ => {
                self.entries.push_back((offset, 1));
                self.live += 1;
            }
        }
        self.copies += 1;
    }

    /// Counts one copy of `offset` down; false if none was pending.
    fn remove_one(&mut self, offset: i64) -> bool {
        let Ok(i) = self.entries.binary_search_by_key(&offset, |e| e.0) else {
            return false;
        };
        let count = &mut self.entries[i].1;
        if *count == 0 {
            return false;
        }
        *count -= 1;
        self.copies -= 1;
        if *count == 0 {
            self.live -= 1;
            while self.entries.front().is_some_and(|e| e.1 == 0) {
                self.entries.pop_front();
            }
            if self.entries.len() > 2 * self.live + DEAD_ENTRIES_SLACK {
                self.entries.retain(|e| e.1 > 0);
            }
        }
        true
    }

    fn lowest(&self) -> Option<i64> {
        self.entries.front().map(|e| e.0)
    }
}

#[derive(Debug, Default)]
pub struct OffsetTracker {
    /// Offsets polled and not yet acknowledged, with their copy count.
    pending: Pending,
    /// One past the highest offset ever registered.
    next: Option<i64>,
    /// The lowest offset that must still be polled (after a rewind).
    awaiting: Option<i64>,
}

impl OffsetTracker {
    pub fn register(&mut self, offset: i64) {
        self.pending.add(offset);
        self.next = Some(self.next.map_or(offset + 1, |n| n.max(offset + 1)));
        if self.awaiting.is_some_and(|a| offset <= a) {
            self.awaiting = None;
        }
    }

    /// One copy of `offset` was acknowledged. Returns false (and changes
    /// nothing) if no copy was pending: a caller bug.
    pub fn acknowledge(&mut self, offset: i64) -> bool {
        self.pending.remove_one(offset)
    }

    /// `offset` exists but was not received: hold the commit point at or
    /// below it until it is registered again.
    pub fn await_redelivery(&mut self, offset: i64) {
        self.awaiting = Some(self.awaiting.map_or(offset, |a| a.min(offset)));
    }

    /// The next offset to consume after every acknowledged message: what
    /// the group may commit. `None` before anything was registered.
    pub fn commit_point(&self) -> Option<i64> {
        [self.pending.lowest(), self.awaiting, self.next]
            .into_iter()
            .flatten()
            .min()
    }

    /// Offsets polled and not yet acknowledged (copies counted).
    pub fn unacknowledged(&self) -> usize {
        self.pending.copies
    }

    /// The lowest offset polled and not yet acknowledged.
    pub fn lowest_unacknowledged(&self) -> Option<i64> {
        self.pending.lowest()
    }
}

/// One partition's bookkeeping: the tracker, what was last stored for
/// commit, and the work handed out that has not come back.
#[derive(Debug, Default)]
pub struct Ledger {
    offsets: OffsetTracker,
    /// The commit point last handed to librdkafka (`store_offset`).
    stored: Option<i64>,
    /// Chunks being converted, rows in the writer, records on their way
    /// to the dead-letter or error topic. A drain is complete at zero.
    outstanding: usize,
}

impl Ledger {
    pub fn polled(&mut self, offsets: impl IntoIterator<Item = i64>) {
        for o in offsets {
            self.offsets.register(o);
        }
    }

    /// `n` pieces of work were handed to another actor.
    pub fn handed_out(&mut self, n: usize) {
        self.outstanding += n;
    }

    /// `n` pieces of work came back.
    pub fn answered(&mut self, n: usize) {
        debug_assert!(self.outstanding >= n, "answered more than was handed out");
        self.outstanding = self.outstanding.saturating_sub(n);
    }

    /// Tablestore or Kafka acknowledged `offset`.
    pub fn acknowledged(&mut self, offset: i64) {
        let known = self.offsets.acknowledge(offset);
        debug_assert!(known, "acknowledged offset {offset} was not pending");
    }

    /// `offset` was seen outside the partition's queue: the caller rewinds
    /// the partition to it.
    pub fn rewind(&mut self, offset: i64) {
        self.offsets.await_redelivery(offset);
    }

    /// The commit point, if it differs from what was stored; marks it
    /// stored. It normally only moves forward; after a rewind below the
    /// stored point it moves back, which is safe (redelivery) where
    /// keeping it would not be (loss).
    pub fn take_commit_point(&mut self) -> Option<i64> {
        let point = self.offsets.commit_point()?;
        if self.stored == Some(point) {
            return None;
        }
        self.stored = Some(point);
        Some(point)
    }

    pub fn stored(&self) -> Option<i64> {
        self.stored
    }

    pub fn is_idle(&self) -> bool {
        self.outstanding == 0
    }

    pub fn outstanding(&self) -> usize {
        self.outstanding
    }

    pub fn offsets(&self) -> &OffsetTracker {
        &self.offsets
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn commit_point_waits_for_the_lowest_pending_offset() {
        let mut t = OffsetTracker::default();
        assert_eq!(t.commit_point(), None);
        for o in 10..15 {
            t.register(o);
        }
        assert_eq!(t.commit_point(), Some(10));
        assert!(t.acknowledge(12));
        assert!(t.acknowledge(11));
        assert_eq!(t.commit_point(), Some(10), "10 is still in flight");
        assert!(t.acknowledge(10));
        assert_eq!(t.commit_point(), Some(13));
        assert!(t.acknowledge(14));
        assert!(t.acknowledge(13));
        assert_eq!(t.commit_point(), Some(15));
        assert_eq!(t.unacknowledged(), 0);
        assert!(!t.acknowledge(13), "nothing pending");
    }

    #[test]
    fn gaps_in_offsets_are_fine() {
        let mut t = OffsetTracker::default();
        t.register(3);
        t.register(7);
        t.acknowledge(3);
        assert_eq!(t.commit_point(), Some(7));
        t.acknowledge(7);
        assert_eq!(t.commit_point(), Some(8));
    }

    #[test]
    fn a_rewind_holds_the_commit_point_until_the_offset_is_polled_again() {
        let mut t = OffsetTracker::default();
        for o in 5..10 {
            t.register(o);
        }
        for o in 5..10 {
            t.acknowledge(o);
        }
        t.await_redelivery(3);
        assert_eq!(t.commit_point(), Some(3));
        // Redelivered from 3 on; 5..10 come again while nothing else moves.
        t.register(3);
        t.register(4);
        t.register(5);
        assert_eq!(t.commit_point(), Some(3));
        t.acknowledge(3);
        t.acknowledge(4);
        t.acknowledge(5);
        assert_eq!(t.commit_point(), Some(10));
    }

    #[test]
    fn a_copy_of_an_offset_in_flight_is_counted() {
        let mut t = OffsetTracker::default();
        t.register(1);
        t.register(1);
        t.acknowledge(1);
        assert_eq!(t.commit_point(), Some(1), "one copy still out");
        t.acknowledge(1);
        assert_eq!(t.commit_point(), Some(2));
    }

    #[test]
    fn the_ledger_stores_only_moves_and_goes_back_only_for_a_rewind() {
        let mut l = Ledger::default();
        assert_eq!(l.take_commit_point(), None);
        l.polled(0..4);
        assert_eq!(l.take_commit_point(), Some(0));
        assert_eq!(l.take_commit_point(), None, "unchanged");
        for o in 0..4 {
            l.acknowledged(o);
        }
        assert_eq!(l.take_commit_point(), Some(4));
        l.rewind(2);
        assert_eq!(l.take_commit_point(), Some(2), "a rewind moves it back");
    }

    proptest! {
        /// The pending set answers as a `BTreeMap` of copy counts would,
        /// whatever the order of registrations (ascending runs, lower
        /// redeliveries, copies) and acknowledgements (any, including
        /// ones never registered).
        #[test]
        fn pending_offsets_answer_like_a_map_of_counts(
            steps in proptest::collection::vec((any::<bool>(), 0i64..3000), 1..3000)
        ) {
            let mut pending = Pending::default();
            let mut model: std::collections::BTreeMap<i64, u32> = Default::default();
            let mut next = 0i64;
            for (register, x) in steps {
                if register {
                    // Mostly the next offsets, sometimes an earlier one.
                    let offset = if x % 7 == 0 { x % (next + 1) } else { next + x % 3 };
                    next = next.max(offset + 1);
                    pending.add(offset);
                    *model.entry(offset).or_insert(0) += 1;
                } else {
                    let offset = x % (next + 1);
                    let expected = match model.get_mut(&offset) {
                        Some(n) if *n > 1 => { *n -= 1; true }
                        Some(_) => { model.remove(&offset); true }
                        None => false,
                    };
                    prop_assert_eq!(pending.remove_one(offset), expected, "ack of {}", offset);
                }
                prop_assert_eq!(pending.lowest(), model.keys().next().copied());
                prop_assert_eq!(pending.copies, model.values().map(|&n| n as usize).sum::<usize>());
                prop_assert_eq!(pending.live, model.len());
                prop_assert!(pending.entries.len() <= 2 * pending.live + DEAD_ENTRIES_SLACK + 1);
            }
        }
    }

    #[test]
    fn acknowledged_entries_behind_a_stuck_offset_are_compacted() {
        let mut pending = Pending::default();
        pending.add(0); // stuck: never acknowledged
        for o in 1..100_000 {
            pending.add(o);
            assert!(pending.remove_one(o));
        }
        assert_eq!(pending.lowest(), Some(0));
        assert_eq!((pending.live, pending.copies), (1, 1));
        assert!(
            pending.entries.len() <= 2 + DEAD_ENTRIES_SLACK + 1,
            "{}",
            pending.entries.len()
        );
    }

    /// One step of a partition's life, as the actors would drive it.
    #[derive(Clone, Debug)]
    enum Step {
        /// Poll the next `n` offsets (with a gap of `gap` before them).
        Poll { n: u8, gap: u8 },
        /// Acknowledge the `i`-th pending copy (written or dead-lettered).
        Ack(u8),
        /// A message of offset `lowest pending - back` was found on the
        /// main queue: rewind to it (and poll again from there).
        Stray(u8),
        /// Store the commit point.
        Store,
    }

    fn step() -> impl Strategy<Value = Step> {
        prop_oneof![
            (1u8..20, 0u8..3).prop_map(|(n, gap)| Step::Poll { n, gap }),
            any::<u8>().prop_map(Step::Ack),
            (0u8..5).prop_map(Step::Stray),
            Just(Step::Store),
        ]
    }

    proptest! {
        /// Whatever the interleaving of polls, acknowledgements in any
        /// order, rewinds and stores: what is stored never passes an
        /// offset that was polled and not acknowledged (nor one awaited
        /// after a rewind), and once everything is acknowledged the
        /// commit point is one past the last offset.
        #[test]
        fn the_stored_point_never_passes_an_unacknowledged_offset(
            steps in proptest::collection::vec(step(), 1..200)
        ) {
            let mut ledger = Ledger::default();
            // Copies handed out and not acknowledged, in poll order.
            let mut out: Vec<i64> = Vec::new();
            let mut next = 0i64;
            let mut awaiting: Option<i64> = None;
            for s in steps {
                match s.clone() {
                    Step::Poll { n, gap } => {
                        let start = match awaiting.take() {
                            Some(a) => a,
                            None => next + gap as i64,
                        };
                        let polled: Vec<i64> = (start..start + n as i64).collect();
                        next = next.max(start + n as i64);
                        ledger.polled(polled.iter().copied());
                        out.extend(polled);
                    }
                    Step::Ack(i) if !out.is_empty() => {
                        let o = out.remove(i as usize % out.len());
                        ledger.acknowledged(o);
                    }
                    Step::Ack(_) => {}
                    Step::Stray(back) => {
                        let base = out.iter().min().copied().unwrap_or(next);
                        let o = (base - back as i64).max(0);
                        ledger.rewind(o);
                        awaiting = Some(awaiting.map_or(o, |a| a.min(o)));
                    }
                    Step::Store => {
                        ledger.take_commit_point();
                    }
                }
                let floor = out.iter().copied().chain(awaiting).min();
                let point = ledger.offsets().commit_point();
                if let (Some(f), Some(p)) = (floor, point) {
                    prop_assert!(p <= f, "commit point {} passes unacknowledged {}", p, f);
                }
                if matches!(s, Step::Store) {
                    prop_assert_eq!(ledger.stored(), point);
                }
            }
            for o in out.drain(..) {
                ledger.acknowledged(o);
            }
            if awaiting.is_none() && next > 0 {
                prop_assert_eq!(ledger.take_commit_point().or(ledger.stored()), Some(next));
            }
        }
    }
}
