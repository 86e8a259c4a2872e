//! Pipeline lanes: the threads the partition actors and the writers run
//! on. There are `writer.pipeline_threads` of them; partition `p` lives on
//! lane `p % lanes`, beside that lane's own writer, so a message stays on
//! its lane from poll to acknowledgement (it leaves it only for the
//! converter pool and the request threads, which every lane shares) and
//! no one thread carries the bookkeeping of every partition. A single
//! lane is the actix system thread itself.
//!
//! Each lane's writer batches only its own partitions' rows and gets an
//! equal share of `writer.max_in_flight_requests`; the in-flight budget is
//! one for the whole process.

use std::sync::Arc;

use actix::prelude::*;

use super::budget::Budget;
use super::convert_worker::ConvertWorker;
use super::dead_letter::DeadLetters;
use super::partition::PartitionDeps;
use super::payload::Payload;
use super::writer::Writer;
use crate::config::FailurePolicy;

/// The lane partition `partition` runs on.
pub fn lane_of(partition: i32, lanes: usize) -> usize {
    partition.rem_euclid(lanes.max(1) as i32) as usize
}

/// One writer's share of `total` requests in flight (at least one each).
pub fn in_flight_share(total: usize, lanes: usize) -> usize {
    total.div_ceil(lanes.max(1)).max(1)
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
    /// `count` > 1), each with the writer `make_writer(lane)` builds on
    /// the lane's thread.
    pub fn start(
        count: usize,
        shared: Shared<P>,
        make_writer: impl Fn(usize) -> Writer<P> + Send + Sync + 'static,
    ) -> std::io::Result<(Self, LaneThreads)> {
        let make_writer = Arc::new(make_writer);
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
            let writer = Writer::start_in_arbiter(&arbiter, move |_| make(lane));
            lanes.push(Lane {
                arbiter,
                deps: Arc::new(PartitionDeps {
                    converter: shared.converter.clone(),
                    writer,
                    budget: shared.budget.clone(),
                    dead_letters: shared.dead_letters.clone(),
                    policy: shared.policy,
                }),
            });
        }
        Ok((Lanes { lanes }, LaneThreads(threads)))
    }

    /// The lane of `partition`.
    pub fn for_partition(&self, partition: i32) -> &Lane<P> {
        &self.lanes[lane_of(partition, self.lanes.len())]
    }

    /// The process's in-flight budget (one for every lane).
    pub fn budget(&self) -> &Budget {
        &self.lanes[0].deps.budget
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn partitions_spread_over_the_lanes_round_robin() {
        let lanes: Vec<usize> = (0..6).map(|p| lane_of(p, 4)).collect();
        assert_eq!(lanes, [0, 1, 2, 3, 0, 1]);
        assert!((0..100).all(|p| lane_of(p, 1) == 0));
        // A nonsensical partition number still lands on a lane.
        assert_eq!(lane_of(-1, 4), 3);
    }

    #[test]
    fn every_writer_gets_a_share_of_the_requests_in_flight() {
        assert_eq!(in_flight_share(32, 1), 32);
        assert_eq!(in_flight_share(32, 2), 16);
        assert_eq!(in_flight_share(32, 3), 11);
        assert_eq!(in_flight_share(2, 4), 1);
    }
}
