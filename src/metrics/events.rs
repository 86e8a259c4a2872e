//! Named events the pipeline reports, each a one-line call at its site:
//! the metric names, labels and aggregation live here (and readiness in
//! [`health`](super::health)), so the pipeline's structure can change
//! without touching what is exported.

use std::sync::Arc;
use std::time::Duration;

use super::{health, names};
use crate::config::Config;
use crate::convert::{ClashTally, ConvertError};
use crate::tablestore::{Error, ErrorKind};

/// How often conversion tallies are moved into their counters.
const TALLY_FLUSH: Duration = Duration::from_secs(1);

/// Error-record codes whose series start at zero: the rejections a sink
/// meets first. (Any other code appears when it first happens.)
pub const INITIAL_REJECTION_CODES: &[&str] = &[
    "OTSParameterInvalid",
    "OTSConditionCheckFail",
    "OTSInvalidPK",
    "OTSOutOfColumnCountLimit",
    "OTSOutOfRowSizeLimit",
];

/// Retry and error codes whose series start at zero: throttling and the
/// transport failures every deployment sees sooner or later.
pub const INITIAL_RETRY_CODES: &[&str] = &[
    "OTSServerBusy",
    "OTSNotEnoughCapacityUnit",
    "OTSQuotaExhausted",
    "OTSTimeout",
    crate::tablestore::error::CODE_TRANSPORT,
];

/// At startup: every series whose labels are known now starts at zero, so
/// a healthy sink's panels show 0, not "No data"; and the budget limit.
pub fn started(config: &Config) {
    let topic = config.kafka.topic.clone();
    for reason in ConvertError::REASON_CODES {
        metrics::counter!(names::DEAD_LETTER_RECORDS, "topic" => topic.clone(), "reason" => *reason)
            .absolute(0);
    }
    for code in INITIAL_REJECTION_CODES {
        metrics::counter!(names::ERROR_RECORDS, "topic" => topic.clone(), "code" => *code)
            .absolute(0);
    }
    for code in INITIAL_RETRY_CODES {
        metrics::counter!(names::RETRIES, "code" => *code).absolute(0);
    }
    for kind in ["assign", "revoke"] {
        metrics::counter!(names::REBALANCES, "kind" => kind).absolute(0);
    }
    metrics::counter!(names::COMMIT_FAILURES).absolute(0);
    metrics::counter!(names::MESSAGES_CONSUMED, "topic" => topic.clone()).absolute(0);
    metrics::counter!(names::BYTES_CONSUMED, "topic" => topic.clone()).absolute(0);
    let table = config.tablestore.table.clone();
    metrics::counter!(names::ROWS_WRITTEN, "table" => table.clone()).absolute(0);
    metrics::counter!(names::BYTES_WRITTEN, "table" => table).absolute(0);
    metrics::gauge!(names::IN_FLIGHT_BYTES_LIMIT).set(config.writer.max_in_flight_bytes as f64);
    for lane in 0..config.writer.pipeline_threads {
        writer_queue(&lane.to_string(), 0, 0);
        metrics::gauge!(names::WRITER_CONCURRENCY_LIMIT, "lane" => lane.to_string()).set(1.0);
        metrics::gauge!(names::LANE_PARTITIONS, "lane" => lane.to_string()).set(0.0);
    }
}

/// Exports a converter's clash totals as
/// `tablestore_sink_field_clashes_total{topic, kind}`: both series start
/// at zero now, and the totals are added every [`TALLY_FLUSH`] (per
/// interval, not per message). Needs a Tokio runtime.
pub fn watch_clashes(tally: Arc<ClashTally>, topic: &str) {
    let key_value =
        metrics::counter!(names::FIELD_CLASHES, "topic" => topic.to_owned(), "kind" => "key_value");
    let primary_key = metrics::counter!(names::FIELD_CLASHES, "topic" => topic.to_owned(), "kind" => "primary_key");
    key_value.absolute(0);
    primary_key.absolute(0);
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(TALLY_FLUSH);
        loop {
            tick.tick().await;
            let (kv, pk) = tally.take();
            key_value.increment(kv);
            primary_key.increment(pk);
        }
    });
}

/// The writer's queue: rows waiting for a request, requests in flight.
pub fn writer_queue(lane: &str, queued_rows: usize, requests_in_flight: usize) {
    metrics::gauge!(names::WRITER_QUEUED_ROWS, "lane" => lane.to_owned()).set(queued_rows as f64);
    metrics::gauge!(names::WRITER_REQUESTS_IN_FLIGHT, "lane" => lane.to_owned())
        .set(requests_in_flight as f64);
}

/// An offset commit failed (the periodic one or a synchronous one at a
/// revoke or shutdown).
pub fn commit_failed() {
    metrics::counter!(names::COMMIT_FAILURES).increment(1);
}

/// A Tablestore request (or row) finished: any answer keeps readiness's
/// "Tablestore answered recently"; a failure is counted by code and
/// disposition, and one with no answer at all (connection refused,
/// timeout) starts the silence readiness watches.
pub fn tablestore_request(api: &'static str, outcome: Result<(), &Error>) {
    match outcome {
        Ok(()) => health::tablestore_answered(),
        Err(e) => {
            metrics::counter!(names::TABLESTORE_ERRORS, "api" => api, "code" => e.code.clone(), "disposition" => e.disposition().as_str())
                .increment(1);
            if e.kind == ErrorKind::Transport {
                health::tablestore_unanswered();
            } else {
                health::tablestore_answered();
            }
        }
    }
}
