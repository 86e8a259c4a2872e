//! Metric names: the one place they are spelled. Dashboards and alert
//! rules in `dashboards/` are built from these (a test checks it).

use metrics::{describe_counter, describe_gauge, describe_histogram, Unit};

pub const BUILD_INFO: &str = "tablestore_sink_build_info";
pub const MESSAGES_CONSUMED: &str = "tablestore_sink_messages_consumed_total";
pub const BYTES_CONSUMED: &str = "tablestore_sink_consumed_bytes_total";
pub const ROWS_WRITTEN: &str = "tablestore_sink_rows_written_total";
pub const BYTES_WRITTEN: &str = "tablestore_sink_written_bytes_total";
pub const REQUESTS: &str = "tablestore_sink_requests_total";
pub const REQUEST_DURATION: &str = "tablestore_sink_request_duration_seconds";
pub const BATCH_ROWS: &str = "tablestore_sink_batch_rows";
pub const RETRIES: &str = "tablestore_sink_retries_total";
pub const DEAD_LETTER_RECORDS: &str = "tablestore_sink_dead_letter_records_total";
pub const ERROR_RECORDS: &str = "tablestore_sink_error_records_total";
pub const IN_FLIGHT_BYTES: &str = "tablestore_sink_in_flight_bytes";
pub const PAUSED_PARTITIONS: &str = "tablestore_sink_paused_partitions";
pub const ASSIGNED_PARTITIONS: &str = "tablestore_sink_assigned_partitions";
pub const PARTITION_FAILED: &str = "tablestore_sink_partition_failed";
pub const COMMITTED_OFFSET: &str = "tablestore_sink_committed_offset";
pub const CONSUMER_LAG: &str = "tablestore_sink_consumer_lag_messages";
pub const END_TO_END_LATENCY: &str = "tablestore_sink_end_to_end_latency_seconds";
pub const POLL_DELAY: &str = "tablestore_sink_poll_delay_seconds";
pub const REBALANCES: &str = "tablestore_sink_rebalances_total";
pub const FIELD_CLASHES: &str = "tablestore_sink_field_clashes_total";
pub const READY: &str = "tablestore_sink_ready";
pub const PROCESS_CPU: &str = "tablestore_sink_process_cpu_seconds";
pub const PROCESS_RSS: &str = "tablestore_sink_process_resident_memory_bytes";
pub const COMMIT_FAILURES: &str = "tablestore_sink_commit_failures_total";
pub const WRITER_QUEUED_ROWS: &str = "tablestore_sink_writer_queued_rows";
pub const WRITER_REQUESTS_IN_FLIGHT: &str = "tablestore_sink_writer_requests_in_flight";
pub const WRITER_CONCURRENCY_LIMIT: &str = "tablestore_sink_writer_concurrency_limit";
pub const LANE_PARTITIONS: &str = "tablestore_sink_lane_partitions";
pub const IN_FLIGHT_BYTES_LIMIT: &str = "tablestore_sink_in_flight_bytes_limit";
pub const TABLESTORE_ERRORS: &str = "tablestore_sink_tablestore_errors_total";

/// Every name above, for the dashboard test.
pub const ALL: &[&str] = &[
    BUILD_INFO,
    MESSAGES_CONSUMED,
    BYTES_CONSUMED,
    ROWS_WRITTEN,
    BYTES_WRITTEN,
    REQUESTS,
    REQUEST_DURATION,
    BATCH_ROWS,
    RETRIES,
    DEAD_LETTER_RECORDS,
    ERROR_RECORDS,
    IN_FLIGHT_BYTES,
    PAUSED_PARTITIONS,
    ASSIGNED_PARTITIONS,
    PARTITION_FAILED,
    COMMITTED_OFFSET,
    CONSUMER_LAG,
    END_TO_END_LATENCY,
    POLL_DELAY,
    REBALANCES,
    FIELD_CLASHES,
    READY,
    PROCESS_CPU,
    PROCESS_RSS,
    COMMIT_FAILURES,
    WRITER_QUEUED_ROWS,
    WRITER_REQUESTS_IN_FLIGHT,
    WRITER_CONCURRENCY_LIMIT,
    LANE_PARTITIONS,
    IN_FLIGHT_BYTES_LIMIT,
    TABLESTORE_ERRORS,
];

pub fn describe_all() {
    describe_gauge!(
        BUILD_INFO,
        "Always 1; the version label says which build runs."
    );
    describe_counter!(
        MESSAGES_CONSUMED,
        Unit::Count,
        "Kafka messages polled, by topic."
    );
    describe_counter!(
        BYTES_CONSUMED,
        Unit::Bytes,
        "Key + value bytes of polled messages, by topic."
    );
    describe_counter!(
        ROWS_WRITTEN,
        Unit::Count,
        "Rows or points acknowledged by Tablestore, by table."
    );
    describe_counter!(
        BYTES_WRITTEN,
        Unit::Bytes,
        "Encoded bytes of acknowledged rows, by table."
    );
    describe_counter!(
        REQUESTS,
        Unit::Count,
        "Tablestore write requests, by api and outcome (ok, partial, retriable, split, failed)."
    );
    describe_histogram!(
        REQUEST_DURATION,
        Unit::Seconds,
        "Tablestore write request latency, by api."
    );
    describe_histogram!(
        BATCH_ROWS,
        Unit::Count,
        "Rows per Tablestore write request, by api."
    );
    describe_counter!(
        RETRIES,
        Unit::Count,
        "Rows or requests retried, by Tablestore error code."
    );
    describe_counter!(
        DEAD_LETTER_RECORDS,
        Unit::Count,
        "Messages that failed conversion, routed to the dead-letter topic, by topic and reason."
    );
    describe_counter!(
        ERROR_RECORDS,
        Unit::Count,
        "Rows Tablestore rejected permanently, routed to the error topic, by topic and code."
    );
    describe_gauge!(
        IN_FLIGHT_BYTES,
        Unit::Bytes,
        "Message bytes between poll and acknowledgement."
    );
    describe_gauge!(
        PAUSED_PARTITIONS,
        Unit::Count,
        "Partitions paused because the in-flight byte budget is full."
    );
    describe_gauge!(
        ASSIGNED_PARTITIONS,
        Unit::Count,
        "Partitions assigned to this process."
    );
    describe_gauge!(
        PARTITION_FAILED,
        "1 while a partition is stopped by the stop failure policy, by topic and partition."
    );
    describe_gauge!(COMMITTED_OFFSET, "Next offset to consume, stored for commit after every earlier message was acknowledged, by topic and partition.");
    describe_gauge!(CONSUMER_LAG, Unit::Count, "Messages behind the partition's high watermark (librdkafka statistics), by topic and partition.");
    describe_histogram!(
        END_TO_END_LATENCY,
        Unit::Seconds,
        "From the Kafka record timestamp to the Tablestore acknowledgement, by topic."
    );
    describe_histogram!(
        POLL_DELAY,
        Unit::Seconds,
        "From the Kafka record timestamp to the poll that read the record, by topic: the part of the end-to-end latency spent before the sink (producer batching, the broker, fetch waits, lag)."
    );
    describe_counter!(
        FIELD_CLASHES,
        Unit::Count,
        "Fields that wanted a column name already taken, by topic and kind (key_value: a key column named like a value field, handled per wide_column.key_clash; primary_key: a field named like a primary key column, not written)."
    );
    describe_gauge!(
        READY,
        "1 while /readyz answers ready (started, every assigned partition consuming, Tablestore answering), else 0."
    );
    describe_gauge!(
        PROCESS_CPU,
        Unit::Seconds,
        "CPU time (user + system) the process has used since it started; deriv() gives cores in use."
    );
    describe_gauge!(PROCESS_RSS, Unit::Bytes, "Resident memory of the process.");
    describe_counter!(
        COMMIT_FAILURES,
        Unit::Count,
        "Offset commits the broker refused or that failed (the offsets are committed again later; nothing is lost, but a crash replays more)."
    );
    describe_gauge!(
        WRITER_QUEUED_ROWS,
        Unit::Count,
        "Rows or points queued in the writer of a pipeline lane (label lane), not yet in a request."
    );
    describe_gauge!(
        WRITER_REQUESTS_IN_FLIGHT,
        Unit::Count,
        "Tablestore write requests in flight from the writer of a pipeline lane (at most its adaptive limit)."
    );
    describe_gauge!(
        WRITER_CONCURRENCY_LIMIT,
        Unit::Count,
        "The adaptive limit on write requests in flight of a pipeline lane's writer (1 to its share of writer.max_in_flight_requests): grows while Tablestore keeps up, halves when it throttles or fails."
    );
    describe_gauge!(
        LANE_PARTITIONS,
        Unit::Count,
        "Partitions a pipeline lane (label lane) runs: an assigned partition goes to the lane with the fewest; revokes can leave the lanes uneven until the next assignment."
    );
    describe_gauge!(
        IN_FLIGHT_BYTES_LIMIT,
        Unit::Bytes,
        "The in-flight byte budget (writer.max_in_flight_bytes); tablestore_sink_in_flight_bytes is its use."
    );
    describe_counter!(
        TABLESTORE_ERRORS,
        Unit::Count,
        "Failed Tablestore write requests, by api, error code and disposition (throttled, transient, systemic, data_rejected); rows rejected inside a successful request are error records."
    );
    describe_counter!(
        REBALANCES,
        Unit::Count,
        "Consumer group rebalances, by kind (assign, revoke)."
    );
}
