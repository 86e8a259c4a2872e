//! The in-flight byte budget shared by all partitions. Bytes are taken
//! when messages are polled and given back when they are acknowledged (by
//! the writer or the dead-letter producer, never by the partition actor,
//! which may itself be waiting for budget). When it is exhausted,
//! partitions pause instead of buffering without bound.
//!
//! Accounting is exact. A take larger than the whole budget succeeds only
//! when nothing else is in flight, so an oversized chunk cannot deadlock.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use tokio::sync::Notify;

use crate::metrics::names;

#[derive(Clone)]
pub struct Budget {
    inner: Arc<Inner>,
}

struct Inner {
    in_use: AtomicUsize,
    limit: usize,
    /// Woken whenever bytes are given back.
    freed: Notify,
}

impl Budget {
    pub fn new(limit_bytes: usize) -> Self {
        Budget {
            inner: Arc::new(Inner {
                in_use: AtomicUsize::new(0),
                limit: limit_bytes.max(1),
                freed: Notify::new(),
            }),
        }
    }

    /// Takes `bytes` now if they fit.
    pub fn try_take(&self, bytes: usize) -> bool {
        let i = &self.inner;
        let mut cur = i.in_use.load(Ordering::Acquire);
        loop {
            if cur > 0 && cur + bytes > i.limit {
                return false;
            }
            match i.in_use.compare_exchange_weak(
                cur,
                cur + bytes,
                Ordering::AcqRel,
                Ordering::Acquire,
            ) {
                Ok(_) => {
                    self.report(cur + bytes);
                    return true;
                }
                Err(now) => cur = now,
            }
        }
    }

    /// Waits until `bytes` fit, then takes them.
    pub async fn take(&self, bytes: usize) {
        loop {
            let freed = self.inner.freed.notified();
            tokio::pin!(freed);
            freed.as_mut().enable();
            if self.try_take(bytes) {
                return;
            }
            freed.await;
        }
    }

    /// Gives back bytes taken earlier.
    pub fn give(&self, bytes: usize) {
        let before = self.inner.in_use.fetch_sub(bytes, Ordering::AcqRel);
        debug_assert!(before >= bytes, "budget given back more than taken");
        self.report(before - bytes);
        self.inner.freed.notify_waiters();
    }

    pub fn in_use(&self) -> usize {
        self.inner.in_use.load(Ordering::Acquire)
    }

    fn report(&self, in_use: usize) {
        metrics::gauge!(names::IN_FLIGHT_BYTES).set(in_use as f64);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn take_waits_until_bytes_are_given_back() {
        let b = Budget::new(100);
        assert!(b.try_take(60));
        assert!(!b.try_take(60));
        let waiter = tokio::spawn({
            let b = b.clone();
            async move { b.take(60).await }
        });
        tokio::task::yield_now().await;
        assert!(!waiter.is_finished());
        b.give(60);
        waiter.await.unwrap();
        assert_eq!(b.in_use(), 60);
        b.give(60);
        // Oversized takes pass only when nothing else is in flight.
        assert!(b.try_take(1_000));
        assert!(!b.try_take(1));
        b.give(1_000);
        assert_eq!(b.in_use(), 0);
    }
}
