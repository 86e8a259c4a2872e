//! Lending partition queues to the actors that read them.
//!
//! librdkafka keeps one wake-up callback per partition queue, and dropping
//! a handle of the queue switches that callback off. A handle of an
//! earlier assignment that is dropped after the next assignment's handle
//! was split therefore silences the new one: its actor is never woken
//! again and the partition stalls. Two rules keep that from happening:
//!
//! * a revoke finishes only once the old handle is gone: the supervisor
//!   waits for [`QueueReturned`];
//! * a consumer splits a partition's queue only once no earlier handle of
//!   it is still out: [`QueueSlots`] counts the handles each consumer has
//!   lent, and the assignment callback waits (bounded) for the count of a
//!   partition to fall to zero first.

use std::collections::HashMap;
use std::sync::{Arc, Condvar, Mutex, PoisonError};
use std::time::{Duration, Instant};

use super::messages::TopicPartition;
use super::rebalance::PartitionQueue;

/// Testing only: a returned queue is dropped this many milliseconds late
/// (on a thread of its own), as by an actor slow to stop, to prove the
/// next assignment of the partition to the same consumer still wakes.
pub const FAULT_HOLD_QUEUE_ENV: &str = "TABLESTORE_SINK_FAULT_HOLD_QUEUE_MS";

/// How many handles of each partition's queue one consumer has lent out.
#[derive(Default)]
pub struct QueueSlots {
    slots: Mutex<HashMap<TopicPartition, Arc<Slot>>>,
}

#[derive(Default)]
struct Slot {
    out: Mutex<usize>,
    returned: Condvar,
}

/// One lent handle, counted in its partition's slot until dropped.
pub struct SlotGuard(Arc<Slot>);

impl Drop for SlotGuard {
    fn drop(&mut self) {
        let mut out = self.0.out.lock().unwrap_or_else(PoisonError::into_inner);
        *out = out.saturating_sub(1);
        self.0.returned.notify_all();
    }
}

impl QueueSlots {
    fn slot(&self, tp: &TopicPartition) -> Arc<Slot> {
        let mut slots = self.slots.lock().unwrap_or_else(PoisonError::into_inner);
        slots.entry(tp.clone()).or_default().clone()
    }

    /// Whether no handle of `tp`'s queue is out, waiting up to `within`
    /// for the last one to be returned (`Duration::ZERO`: just look).
    pub fn returned(&self, tp: &TopicPartition, within: Duration) -> bool {
        let slot = self.slot(tp);
        let deadline = Instant::now() + within;
        let mut out = slot.out.lock().unwrap_or_else(PoisonError::into_inner);
        while *out > 0 {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return false;
            }
            out = slot
                .returned
                .wait_timeout(out, left)
                .unwrap_or_else(PoisonError::into_inner)
                .0;
        }
        true
    }

    /// Counts one more handle of `tp`'s queue as out.
    pub fn take(&self, tp: &TopicPartition) -> SlotGuard {
        let slot = self.slot(tp);
        *slot.out.lock().unwrap_or_else(PoisonError::into_inner) += 1;
        SlotGuard(slot)
    }
}

/// A partition's queue (the sink's [`PartitionQueue`]; generic for tests),
/// lent to the actor that reads it.
pub struct LeasedQueue<Q: Send + 'static = PartitionQueue> {
    /// `None` only while being dropped.
    lent: Option<Lent<Q>>,
    /// See [`FAULT_HOLD_QUEUE_ENV`].
    hold: Option<Duration>,
}

struct Lent<Q> {
    /// Dropped first (fields drop in declaration order): the slot and
    /// `returned` are given back only once the handle is gone.
    queue: Q,
    _slot: SlotGuard,
    _returned: tokio::sync::oneshot::Sender<()>,
}

impl<Q: Send + 'static> LeasedQueue<Q> {
    pub fn queue(&self) -> &Q {
        &self.lent.as_ref().expect("set until dropped").queue
    }
}

impl<Q: Send + 'static> Drop for LeasedQueue<Q> {
    fn drop(&mut self) {
        if let (Some(hold), Some(lent)) = (self.hold, self.lent.take()) {
            std::thread::spawn(move || {
                std::thread::sleep(hold);
                drop(lent);
            });
        }
    }
}

/// Resolves once its [`LeasedQueue`] is dropped.
pub struct QueueReturned(tokio::sync::oneshot::Receiver<()>);

impl QueueReturned {
    pub async fn wait(self) {
        // Nothing is ever sent: the sender's drop is the signal.
        let _ = self.0.await;
    }
}

/// [`FAULT_HOLD_QUEUE_ENV`], read once per process.
fn fault_hold() -> Option<Duration> {
    static HOLD: std::sync::OnceLock<Option<Duration>> = std::sync::OnceLock::new();
    *HOLD.get_or_init(|| {
        std::env::var(FAULT_HOLD_QUEUE_ENV)
            .ok()
            .and_then(|v| v.parse().ok())
            .map(Duration::from_millis)
    })
}

/// Splits `tp`'s queue with `split` and lends the handle out, once no
/// earlier handle of the partition is out: it waits up to `within` for
/// that, and splits anyway (saying so) if one still is. `None` if `split`
/// failed.
pub fn lend_when_returned<Q: Send + 'static>(
    slots: &QueueSlots,
    tp: &TopicPartition,
    within: Duration,
    split: impl FnOnce() -> Option<Q>,
) -> Option<(LeasedQueue<Q>, QueueReturned)> {
    if !slots.returned(tp, within) {
        tracing::error!(partition = %tp, waited_ms = within.as_millis() as u64, "the previous queue of the partition is still out; its new queue may not wake until the next rebalance");
    }
    let queue = split()?;
    let (tx, rx) = tokio::sync::oneshot::channel();
    let hold = fault_hold();
    let lent = Lent {
        queue,
        _slot: slots.take(tp),
        _returned: tx,
    };
    Some((
        LeasedQueue {
            lent: Some(lent),
            hold,
        },
        QueueReturned(rx),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tp() -> TopicPartition {
        TopicPartition {
            topic: "t".into(),
            partition: 3,
        }
    }

    #[test]
    fn a_slot_is_free_until_taken_and_again_once_every_guard_is_dropped() {
        let slots = QueueSlots::default();
        assert!(slots.returned(&tp(), Duration::ZERO));
        let first = slots.take(&tp());
        let second = slots.take(&tp());
        assert!(!slots.returned(&tp(), Duration::from_millis(20)));
        drop(first);
        assert!(!slots.returned(&tp(), Duration::ZERO), "one still out");
        drop(second);
        assert!(slots.returned(&tp(), Duration::ZERO));
        let other = TopicPartition {
            topic: "t".into(),
            partition: 4,
        };
        let _held = slots.take(&other);
        assert!(slots.returned(&tp(), Duration::ZERO), "per partition");
    }

    /// The hazard itself, on librdkafka's mock cluster: a reader of a
    /// queue lent while the old handle was out (the old one dropped after
    /// the split) would never be woken for the message produced here.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_queue_lent_after_the_old_handle_is_back_wakes_its_reader() {
        use rdkafka::config::ClientConfig;
        use rdkafka::consumer::Consumer;
        use rdkafka::message::Message;
        use rdkafka::mocking::MockCluster;
        use rdkafka::producer::{BaseProducer, BaseRecord, Producer};
        use rdkafka::{Offset, TopicPartitionList};

        let cluster = MockCluster::new(1).unwrap();
        cluster.create_topic("lease", 1, 1).unwrap();
        let servers = cluster.bootstrap_servers();
        let consumer = crate::sink::mock_kafka::consumer(&servers, "lease");
        let slots = QueueSlots::default();
        let tp = TopicPartition {
            topic: "lease".into(),
            partition: 0,
        };
        let split = || consumer.split_partition_queue("lease", 0);
        let (old, _) = lend_when_returned(&slots, &tp, Duration::ZERO, split).unwrap();
        let mut tpl = TopicPartitionList::new();
        tpl.add_partition_offset("lease", 0, Offset::Beginning)
            .unwrap();
        consumer.assign(&tpl).unwrap();
        // The old handle comes back 300 ms later, from another thread, as
        // from an actor slow to stop; the new one is lent after that.
        let returner = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(300));
            drop(old);
        });
        let (new, _) = lend_when_returned(&slots, &tp, Duration::from_secs(10), split).unwrap();
        returner.join().unwrap();

        let producer: BaseProducer = ClientConfig::new()
            .set("bootstrap.servers", &servers)
            .create()
            .unwrap();
        producer
            .send(
                BaseRecord::<(), str>::to("lease")
                    .partition(0)
                    .payload("woken"),
            )
            .unwrap();
        producer.flush(Duration::from_secs(10)).unwrap();
        // Biased to the deadline, so its expiry does not poll the reader
        // once more (`tokio::time::timeout` would, and find the message).
        let message = tokio::select! {
            biased;
            _ = tokio::time::sleep(Duration::from_secs(10)) => None,
            message = new.queue().recv() => Some(message),
        };
        let message = message
            .expect("the new handle's reader was never woken")
            .unwrap();
        assert_eq!(message.payload(), Some(&b"woken"[..]));
    }

    #[test]
    fn a_waiter_wakes_when_the_guard_is_dropped_on_another_thread() {
        let slots = QueueSlots::default();
        let guard = slots.take(&tp());
        let returner = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(50));
            drop(guard);
        });
        let started = Instant::now();
        assert!(slots.returned(&tp(), Duration::from_secs(10)));
        assert!(started.elapsed() < Duration::from_secs(10));
        returner.join().unwrap();
    }
}
