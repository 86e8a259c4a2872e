//! A partition's life as a state machine: one enum, one transition
//! function, and the side effects each transition asks for. Pure: the
//! partition actor performs the effects; the tests here need neither
//! Kafka nor actors.
//!
//! ```text
//!   Assigned ──Started──▶ Running ◀──BudgetGranted── Paused
//!                            │ └────BudgetWait─────────▲
//!                 BadRecord  │ (stop policy)           │
//!                            ▼                         │
//!                          Failed ◀────────────────────┘
//!   Running | Paused | Failed ──Revoke──▶ Draining ──Drained──▶ Stopped
//! ```
//!
//! * **Paused**: waiting for in-flight budget. Nothing more is read from
//!   the partition's queue; librdkafka keeps fetching only until its
//!   prefetch bound ([`prefetch`](super::prefetch)) is reached. Fetching
//!   is *not* paused: a librdkafka pause throws the prefetched messages
//!   away and fetches them again on resume, which under a full budget
//!   (every few milliseconds) cost more CPU than the conversion.
//! * **Failed**: the stop policy hit a bad record. Nothing after it is
//!   written; its offset is never committed; fetching is paused. The
//!   partition stays failed until it is revoked; its next owner stops at
//!   the same record.
//! * **Draining**: revoked (or shutting down): no more polling; work
//!   already handed out finishes; then the commit point is stored.
//! * **Stopped**: drained. A failure survives draining, so the status
//!   topic keeps saying FAILED rather than REVOKED.

/// Why a partition stopped under the `stop` policy.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Failure {
    pub offset: i64,
    pub reason: String,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PartitionState {
    Assigned,
    Running,
    Paused,
    Failed(Failure),
    Draining { failure: Option<Failure> },
    Stopped { failure: Option<Failure> },
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Event {
    /// The actor started reading its queue.
    Started,
    /// A chunk waits for budget.
    BudgetWait,
    /// The waiting chunk got its budget.
    BudgetGranted,
    /// The stop policy applies to this bad record.
    Stop(Failure),
    /// Revoked or shutting down.
    Revoke,
    /// Everything handed out has come back (only meaningful while draining).
    Drained,
}

/// What the actor must do for a transition.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Effect {
    /// Pause librdkafka fetching for this partition.
    PauseFetch,
    /// Resume it (also before giving the partition up, so a pause never
    /// outlives the assignment).
    ResumeFetch,
    /// Stop reading the partition's queue.
    StopIntake,
    /// Tell the supervisor (status FAILED, gauge).
    ReportFailed(Failure),
    /// Answer the drain waiters and stop the actor.
    Finish,
}

/// A transition the state machine does not allow: a broken invariant.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("partition cannot go from {from:?} on {event:?}")]
pub struct InvalidTransition {
    pub from: PartitionState,
    pub event: Event,
}

impl PartitionState {
    /// Applies `event`; returns the effects to perform, in order.
    pub fn on(&mut self, event: Event) -> Result<Vec<Effect>, InvalidTransition> {
        use Effect::*;
        use PartitionState::*;
        let (next, effects) = match (&*self, &event) {
            (Assigned, Event::Started) => (Running, vec![]),

            (Running, Event::BudgetWait) => (Paused, vec![]),
            (Paused, Event::BudgetGranted) => (Running, vec![]),
            // Waits and grants that race a failure or a drain change nothing.
            (Failed(_) | Draining { .. } | Stopped { .. }, Event::BudgetWait)
            | (Failed(_) | Draining { .. } | Stopped { .. }, Event::BudgetGranted) => {
                return Ok(vec![])
            }

            (Running | Paused, Event::Stop(f)) => (
                Failed(f.clone()),
                vec![StopIntake, PauseFetch, ReportFailed(f.clone())],
            ),
            // The first bad record is where the partition stopped.
            (Failed(_) | Stopped { .. }, Event::Stop(_)) => return Ok(vec![]),
            (Draining { failure: None }, Event::Stop(f)) => (
                Draining {
                    failure: Some(f.clone()),
                },
                vec![ReportFailed(f.clone())],
            ),
            (Draining { failure: Some(_) }, Event::Stop(_)) => return Ok(vec![]),

            (Assigned, Event::Revoke) => (Draining { failure: None }, vec![]),
            (Running | Paused, Event::Revoke) => (Draining { failure: None }, vec![StopIntake]),
            (Failed(f), Event::Revoke) => (
                Draining {
                    failure: Some(f.clone()),
                },
                vec![ResumeFetch],
            ),
            (Draining { .. } | Stopped { .. }, Event::Revoke) => return Ok(vec![]),

            (Draining { failure }, Event::Drained) => (
                Stopped {
                    failure: failure.clone(),
                },
                vec![Finish],
            ),
            // Work coming back while running says nothing.
            (Running | Paused | Failed(_) | Stopped { .. }, Event::Drained) => return Ok(vec![]),

            _ => {
                return Err(InvalidTransition {
                    from: self.clone(),
                    event,
                })
            }
        };
        *self = next;
        Ok(effects)
    }

    /// Whether new chunks may be converted and written.
    pub fn accepts_records(&self) -> bool {
        matches!(self, PartitionState::Running | PartitionState::Paused)
    }

    pub fn failure(&self) -> Option<&Failure> {
        match self {
            PartitionState::Failed(f) => Some(f),
            PartitionState::Draining { failure } | PartitionState::Stopped { failure } => {
                failure.as_ref()
            }
            _ => None,
        }
    }

    pub fn is_paused_for_budget(&self) -> bool {
        matches!(self, PartitionState::Paused)
    }
}

#[cfg(test)]
mod tests {
    use super::Effect::*;
    use super::*;

    fn failure(offset: i64) -> Failure {
        Failure {
            offset,
            reason: "bad".into(),
        }
    }

    fn run(events: &[Event]) -> (PartitionState, Vec<Effect>) {
        let mut s = PartitionState::Assigned;
        let mut all = Vec::new();
        for e in events {
            all.extend(s.on(e.clone()).unwrap());
        }
        (s, all)
    }

    #[test]
    fn budget_waits_stop_reading_but_never_pause_librdkafka() {
        let (s, effects) = run(&[Event::Started, Event::BudgetWait, Event::BudgetGranted]);
        assert_eq!(s, PartitionState::Running);
        assert_eq!(effects, vec![], "a pause would throw the prefetch away");
    }

    #[test]
    fn a_partition_waiting_for_budget_pauses_when_it_fails() {
        let (s, effects) = run(&[Event::Started, Event::BudgetWait, Event::Stop(failure(4))]);
        assert_eq!(s, PartitionState::Failed(failure(4)));
        assert_eq!(
            effects,
            vec![StopIntake, PauseFetch, ReportFailed(failure(4))]
        );
    }

    #[test]
    fn a_drain_of_a_partition_waiting_for_budget_stops_its_intake() {
        let (s, effects) = run(&[
            Event::Started,
            Event::BudgetWait,
            Event::Revoke,
            Event::Drained,
        ]);
        assert_eq!(s, PartitionState::Stopped { failure: None });
        assert_eq!(effects, vec![StopIntake, Finish]);
    }

    #[test]
    fn a_failed_partition_drains_stops_and_remembers_why() {
        let (s, effects) = run(&[
            Event::Started,
            Event::Stop(failure(7)),
            Event::Stop(failure(9)),
            Event::BudgetWait,
            Event::Revoke,
            Event::Drained,
        ]);
        assert_eq!(
            s,
            PartitionState::Stopped {
                failure: Some(failure(7))
            },
            "the first bad record is where it stopped"
        );
        assert_eq!(
            effects,
            vec![
                StopIntake,
                PauseFetch,
                ReportFailed(failure(7)),
                ResumeFetch,
                Finish
            ]
        );
    }

    #[test]
    fn a_bad_record_found_while_draining_still_fails_the_partition() {
        let (s, effects) = run(&[
            Event::Started,
            Event::Revoke,
            Event::Stop(failure(3)),
            Event::Drained,
        ]);
        assert_eq!(s.failure(), Some(&failure(3)));
        assert_eq!(effects, vec![StopIntake, ReportFailed(failure(3)), Finish]);
    }

    #[test]
    fn only_running_and_paused_partitions_take_records() {
        let mut s = PartitionState::Assigned;
        assert!(!s.accepts_records());
        s.on(Event::Started).unwrap();
        assert!(s.accepts_records());
        s.on(Event::BudgetWait).unwrap();
        assert!(s.accepts_records() && s.is_paused_for_budget());
        s.on(Event::Stop(failure(1))).unwrap();
        assert!(!s.accepts_records() && !s.is_paused_for_budget());
    }

    #[test]
    fn impossible_transitions_are_errors() {
        let mut s = PartitionState::Running;
        assert!(s.on(Event::Started).is_err());
        let mut s = PartitionState::Assigned;
        assert!(s.on(Event::Drained).is_err());
        let mut s = PartitionState::Stopped { failure: None };
        assert!(s.on(Event::Started).is_err());
    }
}
