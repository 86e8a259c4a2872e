//! Rules of `[timeseries]`: the metric name, key and tag fields, and the
//! service's field-name limits.

use super::*;

#[test]
fn metric_name_field_is_set() {
    assert_eq!(
        error(&[TS, ("timeseries", "metric_name_field = \" \"")]),
        "timeseries.metric_name_field = \" \": name the JSON field holding the metric name \
         (e.g. \"measurement\"), or \"<topic>\" to use the topic name"
    );
    ok(&[TS, ("timeseries", "metric_name_field = \"<topic>\"")]);
}

#[test]
fn optional_key_fields_are_not_empty() {
    assert_eq!(
        error(&[TS, METRIC, ("timeseries", "timestamp_field = \"\"")]),
        "timeseries.timestamp_field = \"\": name a JSON field, or remove the key to use the \
         Kafka record timestamp"
    );
    assert_eq!(
        key_value(&[TS, METRIC, ("timeseries", "data_source_field = \"\"")]),
        kv("timeseries.data_source_field", "\"\"")
    );
}

#[test]
fn key_fields_are_distinct() {
    assert_eq!(
        error(&[
            TS,
            METRIC,
            ("timeseries", "timestamp_field = \"measurement\"")
        ]),
        "timeseries.timestamp_field = \"measurement\": this field is already \
         timeseries.metric_name_field; metric name, data source, tags and timestamp must be \
         different fields"
    );
    assert_eq!(
        key_value(&[
            TS,
            METRIC,
            ("timeseries", "data_source_field = \"host\""),
            ("timeseries", "tag_fields = [\"region\", \"host\"]"),
        ]),
        kv("timeseries.tag_fields[1]", "\"host\"")
    );
    // "<topic>" is not a field, so a field called "<topic>" cannot collide.
    ok(&[
        TS,
        ("timeseries", "metric_name_field = \"<topic>\""),
        ("timeseries", "tag_fields = [\"<topic>\"]"),
    ]);
}

#[test]
fn tag_fields() {
    assert_eq!(
        error(&[
            TS,
            METRIC,
            ("timeseries", "tag_fields = [\"a\", \"b\", \"a\"]")
        ]),
        "timeseries.tag_fields[2] = \"a\": already listed as timeseries.tag_fields[0]: list \
         each tag once"
    );
    assert_eq!(
        key_value(&[TS, METRIC, ("timeseries", "tag_fields = [\"a=b\"]")]),
        kv("timeseries.tag_fields[0]", "\"a=b\"")
    );
}

#[test]
fn field_names_follow_timeseries_limits() {
    assert_eq!(
        error(&[
            TS,
            METRIC,
            (
                "timeseries",
                "fields = [{ name = \"Start Time\", type = \"integer\" }]"
            ),
        ]),
        "timeseries.fields[0].name = \"Start Time\": ' ' is not allowed; a TimeSeries field \
         name is 1-128 bytes of lowercase letters, digits and '_', not starting with a digit and \
         not containing _m_name, _data_source, _tags, _time, _meta_update_time, _attributes; \
         rename the field, e.g. to \"starttime\""
    );
    for (bad, suggestion) in [
        ("9lives", "f9lives"),
        ("up_time", "uptime"),
        ("a.b", "a_b"),
        ("", "field"),
    ] {
        let e = error(&[
            TS,
            METRIC,
            (
                "timeseries",
                &format!("fields = [{{ name = \"{bad}\", type = \"double\" }}]"),
            ),
        ]);
        assert!(
            e.starts_with(&format!("timeseries.fields[0].name = \"{bad}\": ")),
            "{e}"
        );
        assert!(e.ends_with(&format!("e.g. to \"{suggestion}\"")), "{e}");
    }
    let long = "x".repeat(128);
    ok(&[
        TS,
        METRIC,
        (
            "timeseries",
            &format!("fields = [{{ name = \"{long}\", type = \"binary\" }}]"),
        ),
    ]);
}

#[test]
fn keep_integers_needs_detected_types() {
    assert_eq!(
        key_value(&[
            TS,
            METRIC,
            ("timeseries", "map_all_fields = false"),
            (
                "timeseries",
                "fields = [{ name = \"v\", type = \"double\" }]"
            ),
            ("timeseries", "keep_integers = true"),
        ]),
        kv("timeseries.keep_integers", "true")
    );
    ok(&[TS, METRIC, ("timeseries", "keep_integers = true")]);
}
