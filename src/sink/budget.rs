//! The in-flight byte budget shared by all partitions, as permits.
//!
//! A partition takes a [`BudgetPermit`] for a chunk of messages before
//! the chunk goes anywhere; the permit is split per message and travels
//! with it (inside the converted write, the dead-letter send, the
//! rejected row). Bytes come back when the permit is dropped, wherever
//! that happens: written, dead-lettered, cancelled on revoke, or dropped
//! because the process stops. No code gives bytes back by hand, so none
//! can give them back twice or forget to.
//!
//! A chunk larger than the whole budget takes the whole budget (its take
//! is capped), so it waits for everything else to drain but never for
//! ever.

use std::sync::{Arc, Mutex, PoisonError};

use tokio::sync::{OwnedSemaphorePermit, Semaphore, TryAcquireError};

use crate::metrics::names;

/// The semaphore counts bytes; `acquire_many` takes a `u32`.
const MAX_LIMIT_BYTES: usize = u32::MAX as usize;

#[derive(Clone)]
pub struct Budget {
    bytes: Arc<Semaphore>,
    /// Total bytes, for the cap and the in-use figure.
    limit: usize,
    /// Held while the in-use figure is read and set, so that reports from
    /// several lanes' threads set the gauge in the order they read it (an
    /// older figure can no longer overwrite a newer one).
    reporting: Arc<Mutex<()>>,
}

/// Bytes of the budget held by some data; given back on drop.
#[derive(Debug)]
pub struct BudgetPermit {
    /// `None` only for an empty permit (zero bytes).
    permit: Option<OwnedSemaphorePermit>,
}

impl Budget {
    pub fn new(limit_bytes: usize) -> Self {
        let limit = limit_bytes.clamp(1, MAX_LIMIT_BYTES);
        Budget {
            bytes: Arc::new(Semaphore::new(limit)),
            limit,
            reporting: Arc::default(),
        }
    }

    /// What a take of `bytes` really takes: at most the whole budget.
    fn capped(&self, bytes: usize) -> u32 {
        bytes.clamp(1, self.limit) as u32
    }

    /// Takes `bytes` now if they fit.
    pub fn try_take(&self, bytes: usize) -> Option<BudgetPermit> {
        match self
            .bytes
            .clone()
            .try_acquire_many_owned(self.capped(bytes))
        {
            Ok(p) => Some(BudgetPermit { permit: Some(p) }),
            Err(TryAcquireError::NoPermits) => None,
            Err(TryAcquireError::Closed) => unreachable!("the budget is never closed"),
        }
    }

    /// Waits until `bytes` fit (fairly, first come first served), then
    /// takes them.
    pub async fn take(&self, bytes: usize) -> BudgetPermit {
        let permit = self
            .bytes
            .clone()
            .acquire_many_owned(self.capped(bytes))
            .await
            .expect("the budget is never closed");
        BudgetPermit {
            permit: Some(permit),
        }
    }

    pub fn in_use(&self) -> usize {
        self.limit - self.bytes.available_permits()
    }

    pub fn limit(&self) -> usize {
        self.limit
    }

    /// Sets the in-flight gauge (per chunk taken, per batch given back).
    pub fn report(&self) {
        let _in_order = self
            .reporting
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        metrics::gauge!(names::IN_FLIGHT_BYTES).set(self.in_use() as f64);
    }
}

impl BudgetPermit {
    /// A permit for nothing (e.g. the remainder of a capped chunk).
    pub fn empty() -> Self {
        BudgetPermit { permit: None }
    }

    pub fn bytes(&self) -> usize {
        self.permit.as_ref().map_or(0, |p| p.num_permits())
    }

    /// Splits off up to `bytes` into a permit of their own.
    pub fn split(&mut self, bytes: usize) -> BudgetPermit {
        let take = bytes.min(self.bytes());
        if take == 0 {
            return BudgetPermit::empty();
        }
        if take == self.bytes() {
            return std::mem::replace(self, BudgetPermit::empty());
        }
        let part = self
            .permit
            .as_mut()
            .and_then(|p| p.split(take))
            .expect("take is at most what the permit holds");
        BudgetPermit { permit: Some(part) }
    }

    /// Joins `other` into this permit (one give-back instead of many).
    pub fn merge(&mut self, other: BudgetPermit) {
        match (&mut self.permit, other.permit) {
            (_, None) => {}
            (None, Some(p)) => self.permit = Some(p),
            (Some(mine), Some(p)) => mine.merge(p),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn bytes_come_back_when_the_permit_is_dropped() {
        let b = Budget::new(100);
        let first = b.try_take(60).unwrap();
        assert!(b.try_take(60).is_none());
        let waiter = tokio::spawn({
            let b = b.clone();
            async move { b.take(60).await }
        });
        tokio::task::yield_now().await;
        assert!(!waiter.is_finished());
        drop(first);
        let second = waiter.await.unwrap();
        assert_eq!(b.in_use(), 60);
        drop(second);
        assert_eq!(b.in_use(), 0);
    }

    #[tokio::test]
    async fn a_take_larger_than_the_budget_takes_the_whole_budget() {
        let b = Budget::new(100);
        let small = b.try_take(10).unwrap();
        assert!(b.try_take(1_000).is_none(), "waits for the others");
        drop(small);
        let big = b.take(1_000).await;
        assert_eq!(big.bytes(), 100);
        assert_eq!(b.in_use(), 100);
        drop(big);
        assert_eq!(b.in_use(), 0);
    }

    #[test]
    fn split_and_merge_keep_the_total() {
        let b = Budget::new(100);
        let mut chunk = b.try_take(90).unwrap();
        let a = chunk.split(30);
        let c = chunk.split(1_000); // more than is left: the rest
        assert_eq!((a.bytes(), c.bytes(), chunk.bytes()), (30, 60, 0));
        assert_eq!(chunk.split(5).bytes(), 0);
        let mut joined = BudgetPermit::empty();
        joined.merge(a);
        joined.merge(c);
        joined.merge(BudgetPermit::empty());
        assert_eq!(joined.bytes(), 90);
        assert_eq!(b.in_use(), 90);
        drop(joined);
        drop(chunk);
        assert_eq!(b.in_use(), 0);
    }
}
