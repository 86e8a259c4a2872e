//! Liveness and readiness, served as `/healthz` and `/readyz` next to
//! `/metrics`.
//!
//! The sink reports events through the free functions here (one line at
//! each call site, so the pipeline's structure does not depend on this
//! module); [`HealthState`] folds them into a state, and
//! [`HealthState::readiness`] decides, as a pure function of that state
//! and the time, whether the process is ready:
//! * started: past startup (Tablestore checked, source topic found,
//!   resources verified) and not shutting down;
//! * every assigned partition is consuming (running or paused by the
//!   in-flight budget, not stopped by the `stop` failure policy);
//! * Tablestore answered recently: no request has gone unanswered
//!   (connection failures, timeouts) for [`TABLESTORE_GRACE`] without any
//!   answer since. An idle sink sends nothing and stays ready.
//!
//! Liveness is the process serving HTTP: a wedged runtime cannot answer.

use std::collections::BTreeMap;
use std::sync::{LazyLock, Mutex, MutexGuard};
use std::time::{Duration, Instant};

/// How long Tablestore may go without answering before the sink is not
/// ready (a few retries of a 30 s request timeout would be too late; one
/// dropped connection must not flap readiness).
pub const TABLESTORE_GRACE: Duration = Duration::from_secs(30);

/// The process's life, as readiness sees it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Phase {
    /// Checking Tablestore and Kafka; `waiting_for` says what blocks, if
    /// anything does.
    Starting { waiting_for: Option<String> },
    /// Consuming (or ready to, once partitions are assigned).
    Running,
    /// SIGTERM received: draining.
    Stopping,
}

/// One assigned partition.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PartitionHealth {
    Consuming,
    /// Stopped by `failure_policy = "stop"` at a bad message.
    Stopped {
        reason: String,
    },
}

/// Everything readiness depends on.
#[derive(Clone, Debug)]
pub struct HealthState {
    pub phase: Phase,
    /// By partition number (the sink reads one topic).
    pub partitions: BTreeMap<i32, PartitionHealth>,
    /// Since when Tablestore has not answered, if it has not.
    pub tablestore_silent_since: Option<Instant>,
}

/// The answer of `/readyz`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Readiness {
    pub ready: bool,
    /// Why not (empty when ready), one sentence each.
    pub reasons: Vec<String>,
}

impl Default for HealthState {
    fn default() -> Self {
        HealthState {
            phase: Phase::Starting { waiting_for: None },
            partitions: BTreeMap::new(),
            tablestore_silent_since: None,
        }
    }
}

impl HealthState {
    pub fn readiness(&self, now: Instant) -> Readiness {
        let mut reasons = Vec::new();
        match &self.phase {
            Phase::Starting {
                waiting_for: Some(what),
            } => reasons.push(format!("starting: waiting for {what}")),
            Phase::Starting { waiting_for: None } => {
                reasons.push("starting: checking Tablestore and Kafka".to_owned())
            }
            Phase::Running => {}
            Phase::Stopping => reasons.push("shutting down".to_owned()),
        }
        for (partition, health) in &self.partitions {
            if let PartitionHealth::Stopped { reason } = health {
                reasons.push(format!(
                    "partition {partition} is stopped (failure_policy = \"stop\"): {reason}"
                ));
            }
        }
        if let Some(since) = self.tablestore_silent_since {
            let silent = now.saturating_duration_since(since);
            if silent >= TABLESTORE_GRACE {
                reasons.push(format!(
                    "Tablestore has not answered for {} s",
                    silent.as_secs()
                ));
            }
        }
        Readiness {
            ready: reasons.is_empty(),
            reasons,
        }
    }
}

static STATE: LazyLock<Mutex<HealthState>> = LazyLock::new(Mutex::default);

fn state() -> MutexGuard<'static, HealthState> {
    // A panic while holding this lock cannot leave it inconsistent: every
    // update is one assignment.
    STATE.lock().unwrap_or_else(|e| e.into_inner())
}

/// Startup is blocked on `what` (e.g. the source topic to exist).
pub fn waiting_for(what: String) {
    state().phase = Phase::Starting {
        waiting_for: Some(what),
    };
}

/// Startup is no longer blocked.
pub fn done_waiting() {
    let mut s = state();
    if matches!(s.phase, Phase::Starting { .. }) {
        s.phase = Phase::Starting { waiting_for: None };
    }
}

/// Startup finished: the consumers are subscribed.
pub fn running() {
    state().phase = Phase::Running;
}

/// Shutdown began.
pub fn stopping() {
    state().phase = Phase::Stopping;
}

/// `partition` is assigned to this process and consuming.
pub fn partition_consuming(partition: i32) {
    state()
        .partitions
        .insert(partition, PartitionHealth::Consuming);
}

/// `partition` stopped at a bad message (`failure_policy = "stop"`).
pub fn partition_stopped(partition: i32, reason: &str) {
    state().partitions.insert(
        partition,
        PartitionHealth::Stopped {
            reason: reason.to_owned(),
        },
    );
}

/// `partition` is no longer assigned to this process.
pub fn partition_released(partition: i32) {
    state().partitions.remove(&partition);
}

/// Tablestore answered a request (with any status: throttling is an answer).
pub fn tablestore_answered() {
    state().tablestore_silent_since = None;
}

/// A Tablestore request got no answer (connection failure or timeout).
pub fn tablestore_unanswered() {
    let mut s = state();
    if s.tablestore_silent_since.is_none() {
        s.tablestore_silent_since = Some(Instant::now());
    }
}

/// The process's readiness now.
pub fn readiness() -> Readiness {
    state().readiness(Instant::now())
}

/// Sets the `tablestore_sink_ready` gauge (1 ready, 0 not).
pub fn export() {
    let ready = readiness().ready;
    metrics::gauge!(super::names::READY).set(if ready { 1.0 } else { 0.0 });
}

/// The assigned partitions and their health, for `/readyz`'s body.
pub fn partitions() -> BTreeMap<i32, PartitionHealth> {
    state().partitions.clone()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn running_state() -> HealthState {
        HealthState {
            phase: Phase::Running,
            ..HealthState::default()
        }
    }

    #[test]
    fn starting_is_not_ready_and_says_what_it_waits_for() {
        let now = Instant::now();
        let r = HealthState::default().readiness(now);
        assert!(!r.ready);
        assert_eq!(r.reasons, ["starting: checking Tablestore and Kafka"]);
        let s = HealthState {
            phase: Phase::Starting {
                waiting_for: Some("source topic \"orders\" to exist".into()),
            },
            ..HealthState::default()
        };
        assert_eq!(
            s.readiness(now).reasons,
            ["starting: waiting for source topic \"orders\" to exist"]
        );
    }

    #[test]
    fn running_with_consuming_partitions_is_ready() {
        let mut s = running_state();
        assert_eq!(
            s.readiness(Instant::now()),
            Readiness {
                ready: true,
                reasons: vec![]
            },
            "no partitions assigned (more consumers than partitions) is ready"
        );
        s.partitions.insert(0, PartitionHealth::Consuming);
        s.partitions.insert(1, PartitionHealth::Consuming);
        assert!(s.readiness(Instant::now()).ready);
    }

    #[test]
    fn a_stopped_partition_is_not_ready() {
        let mut s = running_state();
        s.partitions.insert(0, PartitionHealth::Consuming);
        s.partitions.insert(
            3,
            PartitionHealth::Stopped {
                reason: "bad_pk_type at offset 7".into(),
            },
        );
        let r = s.readiness(Instant::now());
        assert!(!r.ready);
        assert_eq!(
            r.reasons,
            ["partition 3 is stopped (failure_policy = \"stop\"): bad_pk_type at offset 7"]
        );
        s.partitions.remove(&3);
        assert!(
            s.readiness(Instant::now()).ready,
            "revoked: not ours any more"
        );
    }

    #[test]
    fn tablestore_silence_beyond_the_grace_is_not_ready() {
        let t0 = Instant::now();
        let mut s = running_state();
        s.tablestore_silent_since = Some(t0);
        assert!(s.readiness(t0 + TABLESTORE_GRACE / 2).ready, "within grace");
        let r = s.readiness(t0 + TABLESTORE_GRACE + Duration::from_secs(5));
        assert!(!r.ready);
        assert_eq!(r.reasons, ["Tablestore has not answered for 35 s"]);
        s.tablestore_silent_since = None;
        assert!(s.readiness(t0 + Duration::from_secs(600)).ready);
    }

    #[test]
    fn stopping_is_not_ready() {
        let s = HealthState {
            phase: Phase::Stopping,
            ..HealthState::default()
        };
        assert_eq!(s.readiness(Instant::now()).reasons, ["shutting down"]);
    }
}
