//! Which offsets of one partition are safe to commit.
//!
//! Offsets are registered when polled and completed when Tablestore (or
//! the dead-letter topic) acknowledges them, in any order. The commit
//! point is the lowest offset not yet completed: everything below it is
//! done. This is the at-least-once rule: we never store an offset past a
//! message that is still in flight.

use std::collections::BTreeSet;

#[derive(Debug, Default)]
pub struct OffsetTracker {
    /// Offsets polled but not yet acknowledged.
    pending: BTreeSet<i64>,
    /// One past the highest offset ever registered.
    next: Option<i64>,
}

impl OffsetTracker {
    pub fn register(&mut self, offset: i64) {
        self.pending.insert(offset);
        self.next = Some(self.next.map_or(offset + 1, |n| n.max(offset + 1)));
    }

    pub fn complete(&mut self, offset: i64) {
        self.pending.remove(&offset);
    }

    /// The next offset to consume after every acknowledged message: what
    /// the group may commit. `None` before anything was registered.
    pub fn commit_point(&self) -> Option<i64> {
        match self.pending.first() {
            Some(lowest) => Some(*lowest),
            None => self.next,
        }
    }

    pub fn in_flight(&self) -> usize {
        self.pending.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commit_point_waits_for_the_lowest_pending_offset() {
        let mut t = OffsetTracker::default();
        assert_eq!(t.commit_point(), None);
        for o in 10..15 {
            t.register(o);
        }
        assert_eq!(t.commit_point(), Some(10));
        t.complete(12);
        t.complete(11);
        assert_eq!(t.commit_point(), Some(10), "10 is still in flight");
        t.complete(10);
        assert_eq!(t.commit_point(), Some(13));
        t.complete(14);
        t.complete(13);
        assert_eq!(t.commit_point(), Some(15));
        assert_eq!(t.in_flight(), 0);
    }

    #[test]
    fn gaps_in_offsets_are_fine() {
        let mut t = OffsetTracker::default();
        t.register(3);
        t.register(7);
        t.complete(3);
        assert_eq!(t.commit_point(), Some(7));
        t.complete(7);
        assert_eq!(t.commit_point(), Some(8));
    }
}
