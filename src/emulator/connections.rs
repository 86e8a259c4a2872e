//! The open-connection registry: at most `max` connections are served at
//! once, and a new connection is never kept waiting by connections that
//! are doing nothing.
//!
//! A connection is *busy* while a request handler runs on it (from the
//! parsed request head until the response is produced). When the registry
//! is full, admitting a new connection evicts the oldest connection that
//! is not busy: one idle between keep-alive requests, one still sending a
//! request head (slowloris), or one slowly reading its response. Only when
//! every connection is busy does the new one wait, and busy connections
//! are bounded in time by the body-read timeout and the handlers.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use tokio::sync::Notify;

/// Shared by the accept loop and every connection task.
pub struct Connections {
    max: usize,
    open: Mutex<Open>,
    /// Signalled whenever a connection closes, finishes a request, or
    /// refuses an eviction.
    changed: Notify,
}

#[derive(Default)]
struct Open {
    next_id: u64,
    /// By id, so the first entry is the oldest connection.
    entries: BTreeMap<u64, Entry>,
}

struct Entry {
    busy: Arc<AtomicBool>,
    evict: Arc<Notify>,
    /// Eviction asked and not yet answered, so one admission evicts one.
    evicting: bool,
}

/// A connection's place in the registry; dropping it frees the place.
pub struct Slot {
    id: u64,
    registry: Arc<Connections>,
    busy: Arc<AtomicBool>,
    evict: Arc<Notify>,
}

/// Marks its connection busy while alive; when it drops, a waiting
/// admission looks again for an idle connection.
pub struct BusyGuard {
    busy: Arc<AtomicBool>,
    registry: Arc<Connections>,
}

impl Drop for BusyGuard {
    fn drop(&mut self) {
        self.busy.store(false, Ordering::Release);
        self.registry.changed.notify_one();
    }
}

impl Connections {
    pub fn new(max: usize) -> Arc<Self> {
        Arc::new(Connections {
            max: max.max(1),
            open: Mutex::new(Open::default()),
            changed: Notify::new(),
        })
    }

    /// How many connections hold a slot now.
    pub fn open_count(&self) -> usize {
        self.open.lock().expect("registry lock").entries.len()
    }

    /// Takes a slot for a new connection, evicting the oldest idle
    /// connection if the registry is full, or waiting until one closes if
    /// every connection is busy.
    pub async fn admit(self: &Arc<Self>) -> Slot {
        loop {
            let changed = self.changed.notified();
            {
                let mut open = self.open.lock().expect("registry lock");
                if open.entries.len() < self.max {
                    open.next_id += 1;
                    let id = open.next_id;
                    let busy = Arc::new(AtomicBool::new(false));
                    let evict = Arc::new(Notify::new());
                    open.entries.insert(
                        id,
                        Entry {
                            busy: busy.clone(),
                            evict: evict.clone(),
                            evicting: false,
                        },
                    );
                    return Slot {
                        id,
                        registry: self.clone(),
                        busy,
                        evict,
                    };
                }
                let pending = open.entries.values().any(|e| e.evicting);
                if !pending {
                    if let Some(victim) = open
                        .entries
                        .values_mut()
                        .find(|e| !e.busy.load(Ordering::Acquire))
                    {
                        victim.evicting = true;
                        victim.evict.notify_one();
                    }
                }
            }
            changed.await;
        }
    }

    fn release(&self, id: u64) {
        self.open.lock().expect("registry lock").entries.remove(&id);
        self.changed.notify_one();
    }

    fn refuse_eviction(&self, id: u64) {
        if let Some(e) = self
            .open
            .lock()
            .expect("registry lock")
            .entries
            .get_mut(&id)
        {
            e.evicting = false;
        }
        self.changed.notify_one();
    }
}

impl Slot {
    /// Marks the connection busy until the guard drops.
    pub fn busy(&self) -> BusyGuard {
        self.busy.store(true, Ordering::Release);
        BusyGuard {
            busy: self.busy.clone(),
            registry: self.registry.clone(),
        }
    }

    /// Resolves when the registry asks this connection to close and it is
    /// not busy; an ask that arrives while a request runs is refused (the
    /// accept loop then looks for another idle connection).
    pub async fn evicted(&self) {
        loop {
            self.evict.notified().await;
            if !self.busy.load(Ordering::Acquire) {
                return;
            }
            self.registry.refuse_eviction(self.id);
        }
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        self.registry.release(self.id);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[tokio::test]
    async fn a_full_registry_evicts_the_oldest_idle_connection() {
        let reg = Connections::new(2);
        let first = reg.admit().await;
        let second = reg.admit().await;
        let _busy = first.busy();
        let admitting = tokio::spawn({
            let reg = reg.clone();
            async move { reg.admit().await }
        });
        // The busy first connection is skipped; the idle second one is asked.
        tokio::time::timeout(Duration::from_secs(5), second.evicted())
            .await
            .expect("the idle connection is evicted");
        drop(second);
        let third = tokio::time::timeout(Duration::from_secs(5), admitting)
            .await
            .expect("admitted after the eviction")
            .unwrap();
        assert_eq!(reg.open_count(), 2);
        drop(third);
        assert_eq!(reg.open_count(), 1);
    }

    #[tokio::test]
    async fn when_every_connection_is_busy_a_new_one_waits_for_a_close() {
        let reg = Connections::new(1);
        let only = reg.admit().await;
        let busy = only.busy();
        let admitting = tokio::spawn({
            let reg = reg.clone();
            async move { reg.admit().await }
        });
        tokio::time::sleep(Duration::from_millis(50)).await;
        assert!(
            !admitting.is_finished(),
            "must wait while the only connection is busy"
        );
        drop(busy);
        drop(only);
        tokio::time::timeout(Duration::from_secs(5), admitting)
            .await
            .expect("admitted once the busy connection closed")
            .unwrap();
    }

    #[tokio::test]
    async fn an_eviction_that_meets_a_running_request_is_refused() {
        let reg = Connections::new(1);
        let only = reg.admit().await;
        let admitting = tokio::spawn({
            let reg = reg.clone();
            async move { reg.admit().await }
        });
        tokio::time::sleep(Duration::from_millis(50)).await;
        // The eviction was asked while idle; a request starts before the
        // connection task looks at it.
        let busy = only.busy();
        let refused = tokio::time::timeout(Duration::from_millis(200), only.evicted()).await;
        assert!(refused.is_err(), "a busy connection is not evicted");
        drop(busy);
        tokio::time::timeout(Duration::from_secs(5), only.evicted())
            .await
            .expect("evicted once idle again");
        drop(only);
        admitting.await.unwrap();
    }
}
