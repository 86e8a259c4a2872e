//! How many requests the writer keeps in flight: adapted to Tablestore's
//! answers, between 1 and `writer.max_in_flight_requests`, the way
//! Vector's adaptive request concurrency does (AIMD over round trips).
//!
//! Time is cut into windows of about one round trip. At the end of each:
//! * the service pushed back (throttling, a passing fault, a timeout) →
//!   the limit halves;
//! * otherwise, if the limit was reached during the window (more
//!   concurrency was wanted) → the limit grows by one.
//!
//! So a fast service is driven up to the ceiling within a few round
//! trips, a slow one (added latency) gets as many requests in flight as
//! hide its latency, and a throttling one is backed off at once instead of
//! being hammered with the full ceiling. Unlike Vector, a growing round
//! trip alone does not lower the limit: the sink's batches range from one
//! row to 200, so their round trips vary by far more than any queue
//! would add, and easing off on that noise starved a steady load (p99
//! latency of seconds at half the maximum rate). Pure: the writer feeds
//! it sends and answers with their times.

use std::time::{Duration, Instant};

/// Weight of the newest window in the round-trip moving average.
const RTT_EWMA_WEIGHT: f64 = 0.4;
/// Factor on the limit after a push-back.
const BACKOFF_RATIO: f64 = 0.5;
/// The shortest window: below it, timer and scheduling noise dominate.
const MIN_WINDOW: Duration = Duration::from_millis(5);

/// What a response says about the service's load.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Answer {
    /// Written, or rejected for its data: the service is keeping up.
    Served,
    /// Throttled, or a passing fault or timeout: slow down.
    PushedBack,
}

/// The adaptive limit on requests in flight.
#[derive(Debug)]
pub struct AdaptiveConcurrency {
    limit: usize,
    ceiling: usize,
    /// Moving average of the windows' mean round trips, in seconds: the
    /// length of a window.
    past_rtt: Option<f64>,
    window: Window,
}

#[derive(Debug)]
struct Window {
    started: Instant,
    rtt_sum: f64,
    answers: u32,
    pushed_back: bool,
    reached_limit: bool,
}

impl Window {
    fn new(now: Instant) -> Self {
        Window {
            started: now,
            rtt_sum: 0.0,
            answers: 0,
            pushed_back: false,
            reached_limit: false,
        }
    }
}

impl AdaptiveConcurrency {
    /// Starts at 1, as a new connection to an unknown service should.
    pub fn new(ceiling: usize, now: Instant) -> Self {
        AdaptiveConcurrency {
            limit: 1,
            ceiling: ceiling.max(1),
            past_rtt: None,
            window: Window::new(now),
        }
    }

    /// Requests that may be in flight now.
    pub fn limit(&self) -> usize {
        self.limit
    }

    /// A request went out; `in_flight` counts it.
    pub fn on_send(&mut self, in_flight: usize) {
        if in_flight >= self.limit {
            self.window.reached_limit = true;
        }
    }

    /// A request came back after `rtt`.
    pub fn on_answer(&mut self, answer: Answer, rtt: Duration, now: Instant) {
        let w = &mut self.window;
        w.rtt_sum += rtt.as_secs_f64();
        w.answers += 1;
        w.pushed_back |= answer == Answer::PushedBack;
        let length = self
            .past_rtt
            .map_or(rtt, Duration::from_secs_f64)
            .max(MIN_WINDOW);
        if now.duration_since(w.started) >= length {
            self.end_window(now);
        }
    }

    fn end_window(&mut self, now: Instant) {
        let w = std::mem::replace(&mut self.window, Window::new(now));
        let mean = w.rtt_sum / f64::from(w.answers.max(1));
        self.limit = if w.pushed_back {
            scaled(self.limit, BACKOFF_RATIO)
        } else if w.reached_limit {
            (self.limit + 1).min(self.ceiling)
        } else {
            self.limit
        };
        if !w.pushed_back {
            // Round trips of pushed-back requests (fast refusals, or
            // timeouts) say nothing about the service's normal speed.
            self.past_rtt = Some(match self.past_rtt {
                Some(past) => past + RTT_EWMA_WEIGHT * (mean - past),
                None => mean,
            });
        }
    }
}

fn scaled(limit: usize, ratio: f64) -> usize {
    ((limit as f64 * ratio).floor() as usize).max(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    const MS: Duration = Duration::from_millis(1);

    /// Runs `windows` round trips of `rtt` with every slot used, each
    /// answered `answer`; returns the limits after each window.
    fn drive(
        c: &mut AdaptiveConcurrency,
        now: &mut Instant,
        rtt: Duration,
        answer: Answer,
        windows: usize,
    ) -> Vec<usize> {
        let mut limits = Vec::new();
        for _ in 0..windows {
            let slots = c.limit();
            for i in 1..=slots {
                c.on_send(i);
            }
            *now += rtt;
            for _ in 0..slots {
                c.on_answer(answer, rtt, *now);
            }
            limits.push(c.limit());
        }
        limits
    }

    #[test]
    fn a_fast_steady_service_drives_the_limit_up_to_the_ceiling_one_by_one() {
        let mut now = Instant::now();
        let mut c = AdaptiveConcurrency::new(8, now);
        assert_eq!(c.limit(), 1);
        let limits = drive(&mut c, &mut now, 10 * MS, Answer::Served, 10);
        assert_eq!(limits, vec![2, 3, 4, 5, 6, 7, 8, 8, 8, 8]);
    }

    #[test]
    fn a_push_back_halves_the_limit_and_never_below_one() {
        let mut now = Instant::now();
        let mut c = AdaptiveConcurrency::new(32, now);
        drive(&mut c, &mut now, 10 * MS, Answer::Served, 15);
        assert_eq!(c.limit(), 16);
        let limits = drive(&mut c, &mut now, 10 * MS, Answer::PushedBack, 6);
        assert_eq!(limits, vec![8, 4, 2, 1, 1, 1]);
    }

    #[test]
    fn round_trips_that_vary_with_batch_size_do_not_lower_the_limit() {
        let mut now = Instant::now();
        let mut c = AdaptiveConcurrency::new(32, now);
        drive(&mut c, &mut now, 5 * MS, Answer::Served, 9);
        assert_eq!(c.limit(), 10);
        // Full batches after single rows: round trips 10x longer.
        let limits = drive(&mut c, &mut now, 50 * MS, Answer::Served, 2);
        assert_eq!(limits, vec![11, 12]);
    }

    #[test]
    fn a_slow_but_steady_service_still_gets_more_concurrency() {
        // 20 ms more per request, every time: the latency is not a queue,
        // so the limit keeps growing and hides it.
        let mut now = Instant::now();
        let mut c = AdaptiveConcurrency::new(64, now);
        let limits = drive(&mut c, &mut now, 25 * MS, Answer::Served, 40);
        assert_eq!(*limits.last().unwrap(), 41);
    }

    #[test]
    fn an_unused_limit_does_not_grow() {
        let mut now = Instant::now();
        let mut c = AdaptiveConcurrency::new(8, now);
        drive(&mut c, &mut now, 10 * MS, Answer::Served, 3);
        assert_eq!(c.limit(), 4);
        // One request at a time is all the load there is.
        for _ in 0..10 {
            c.on_send(1);
            now += 10 * MS;
            c.on_answer(Answer::Served, 10 * MS, now);
        }
        assert_eq!(c.limit(), 4);
    }

    #[test]
    fn a_ceiling_of_zero_is_treated_as_one() {
        let mut now = Instant::now();
        let mut c = AdaptiveConcurrency::new(0, now);
        let limits = drive(&mut c, &mut now, 10 * MS, Answer::Served, 3);
        assert_eq!(limits, vec![1, 1, 1]);
    }
}
