//! Pipeline lanes: the threads the partition actors and the writers run
//! on. There are `writer.pipeline_threads` of them. An assigned partition
//! goes to the lane with the fewest of this process's partitions, beside
//! that lane's own writer, so a message stays on its lane from poll to
//! acknowledgement (it leaves it only for the converter pool and the
//! request threads, which every lane shares) and no one thread carries the
//! bookkeeping of every partition. A single lane is the actix system
//! thread itself.
//!
//! Each lane's writer batches only its own partitions' rows (so two rows
//! with one key are kept in order within a lane, which holds all of a
//! partition's rows) and gets its share of `writer.max_in_flight_requests`
//! (the shares add up to it); the in-flight budget is one for the process.

use std::sync::Arc;

use actix::prelude::*;

use super::budget::Budget;
use super::convert_worker::ConvertWorker;
use super::dead_letter::DeadLetters;
use super::partition::PartitionDeps;
use super::payload::Payload;
use super::writer::Writer;
use crate::config::FailurePolicy;

/// The lane with the fewest partitions, given the lane of each partition
/// already placed (the first such lane on a tie).
pub fn least_loaded(lanes: usize, placed: impl Iterator<Item = usize>) -> usize {
    let mut counts = vec![0usize; lanes.max(1)];
    for lane in placed {
        if let Some(c) = counts.get_mut(lane) {
            *c += 1;
        }
    }
    (0..counts.len()).min_by_key(|&i| counts[i]).unwrap_or(0)
}

/// Lane `lane`'s share of `total` requests in flight: the shares of all
/// `lanes` add up to `total` (validation keeps `lanes` ≤ `total`).
pub fn in_flight_share(total: usize, lanes: usize, lane: usize) -> usize {
    let lanes = lanes.max(1);
    (total / lanes + usize::from(lane < total % lanes)).max(1)
}

/// One lane: where its actors run, and what they share.
pub struct Lane<P: Payload> {
    pub arbiter: ArbiterHandle,
    /// The lane's writer, and what every partition actor needs.
    pub deps: Arc<PartitionDeps<P>>,
}

/// Every lane, by index.
pub struct Lanes<P: Payload> {
    lanes: Vec<Lane<P>>,
    shared: Arc<Shared<P>>,
}

/// The lanes' own threads (none for one lane); stopped when dropped,
/// after the supervisor has drained every partition.
pub struct LaneThreads(Vec<Arbiter>);

impl Drop for LaneThreads {
    fn drop(&mut self) {
        for arbiter in &self.0 {
            arbiter.stop();
        }
    }
}

/// What every lane shares.
pub struct Shared<P: Payload> {
    pub converter: Addr<ConvertWorker<P>>,
    pub budget: Budget,
    pub dead_letters: DeadLetters,
    pub policy: FailurePolicy,
}

impl<P: Payload> Lanes<P> {
    /// Starts `count` lanes (threads beyond the current one only if
    /// `count` > 1), each with the writer `make_writer(lane, its share of
    /// max_in_flight_requests)` builds on the lane's thread.
    pub fn start(
        count: usize,
        max_in_flight_requests: usize,
        shared: Shared<P>,
        make_writer: impl Fn(usize, usize) -> Writer<P> + Send + Sync + 'static,
    ) -> std::io::Result<(Self, LaneThreads)> {
        let make_writer = Arc::new(make_writer);
        let shared = Arc::new(shared);
        let mut threads = Vec::new();
        let mut lanes = Vec::with_capacity(count);
        for lane in 0..count.max(1) {
            let arbiter = if count > 1 {
                let thread = Arbiter::try_new()?;
                let handle = thread.handle();
                threads.push(thread);
                handle
            } else {
                Arbiter::current()
            };
            let make = make_writer.clone();
            let share = in_flight_share(max_in_flight_requests, count, lane);
            let writer = Writer::start_in_arbiter(&arbiter, move |_| make(lane, share));
            lanes.push(Lane {
                arbiter,
                deps: Arc::new(PartitionDeps {
                    shared: shared.clone(),
                    writer,
                }),
            });
        }
        Ok((Lanes { lanes, shared }, LaneThreads(threads)))
    }

    /// Lane `index` (< [`Lanes::count`]).
    pub fn get(&self, index: usize) -> &Lane<P> {
        &self.lanes[index]
    }

    /// How many lanes (at least one).
    pub fn count(&self) -> usize {
        self.lanes.len()
    }

    /// The process's in-flight budget (one for every lane).
    pub fn budget(&self) -> &Budget {
        &self.shared.budget
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_partition_goes_to_the_lane_with_the_fewest() {
        // Whatever numbers the group hands this process (here only even
        // ones, as roundrobin over two processes would), they spread.
        let mut placed = Vec::new();
        for _partition in [0, 2, 4, 6, 8, 10] {
            placed.push(least_loaded(2, placed.iter().copied()));
        }
        assert_eq!(placed, [0, 1, 0, 1, 0, 1]);
        assert_eq!(least_loaded(3, [0, 0, 2].into_iter()), 1);
        assert_eq!(least_loaded(1, [0, 0].into_iter()), 0);
    }

    #[test]
    fn the_shares_of_the_requests_in_flight_add_up_to_the_limit() {
        for (total, lanes) in [(32, 1), (32, 2), (32, 3), (4, 4), (64, 5)] {
            let shares: Vec<usize> = (0..lanes)
                .map(|l| in_flight_share(total, lanes, l))
                .collect();
            assert_eq!(
                shares.iter().sum::<usize>(),
                total,
                "{total} over {lanes}: {shares:?}"
            );
            assert!(shares.iter().max().unwrap() - shares.iter().min().unwrap() <= 1);
        }
        assert_eq!(in_flight_share(32, 3, 0), 11);
        assert_eq!(in_flight_share(32, 3, 2), 10);
    }
}
