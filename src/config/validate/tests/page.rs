//! Settings for the product page's semantics (issue 11): put with any
//! delete mode, key/value column names and clashes, lower-cased TimeSeries
//! field names, sub-microsecond times, a missing source topic; and what
//! [`Config::explain`] says about them.

use super::*;
use crate::config::{Explanation, KeyClash, Level, MissingTopic, SubMicrosecond};

fn explain(edits: &[(&str, &str)]) -> Vec<Explanation> {
    ok(edits).explain()
}

fn about<'a>(all: &'a [Explanation], key: &str) -> &'a Explanation {
    all.iter()
        .find(|e| e.key == key)
        .unwrap_or_else(|| panic!("nothing about {key} in {all:#?}"))
}

#[test]
fn put_with_column_deletes_is_explained_and_warned() {
    let all = explain(&[
        RECORD_KEY,
        PK_ID,
        ("wide_column", "delete_mode = \"column\""),
    ]);
    let e = about(&all, "wide_column.delete_mode");
    assert_eq!(e.level, Level::Warning);
    assert!(
        e.text.contains("the column part has no effect")
            && e.text.contains("tombstones are dead-lettered"),
        "{e}"
    );
    let all = explain(&[
        RECORD_KEY,
        PK_ID,
        ("wide_column", "delete_mode = \"row_and_column\""),
    ]);
    let e = about(&all, "wide_column.delete_mode");
    assert!(e.text.contains("a tombstone deletes its row"), "{e}");
    let config = ok(&[
        RECORD_KEY,
        PK_ID,
        ("wide_column", "delete_mode = \"row_and_column\""),
    ]);
    assert_eq!(config.warnings().len(), 1);
    // With update the column part works: nothing to warn about.
    assert!(ok(&[
        RECORD_KEY,
        PK_ID,
        ("wide_column", "delete_mode = \"row_and_column\""),
        ("wide_column", "write_mode = \"update\""),
    ])
    .warnings()
    .is_empty());
}

#[test]
fn put_with_empty_values_is_explained() {
    let all = explain(&[]);
    let e = about(&all, "wide_column.write_mode");
    assert_eq!(e.level, Level::Note);
    assert!(e.text.contains("primary key alone"), "{e}");
}

#[test]
fn the_clash_rule_is_explained_with_the_pages_example_and_the_metric() {
    let all = explain(&[("wide_column", "key_format = \"string\"")]);
    let e = about(&all, "wide_column.key_clash");
    assert_eq!(e.level, Level::Note);
    assert!(
        e.text.contains("column \"key\"")
            && e.text.contains("key_key = \"demo\"")
            && e.text
                .contains("tablestore_sink_field_clashes_total{kind=\"key_value\"}"),
        "{e}"
    );
    let e = about(&all, "wide_column.primary_key_mode");
    assert!(e.text.contains("topic_partition and offset"), "{e}");
    for (clash, says) in [("key_wins", "is lost"), ("value_wins", "not written")] {
        let config = ok(&[("wide_column", &format!("key_clash = \"{clash}\""))]);
        let w = config.warnings();
        assert_eq!(w.len(), 1, "{clash}");
        assert!(w[0].text.contains(says), "{}", w[0]);
    }
    assert_eq!(ok(&[]).wide_column.key_clash, KeyClash::Rename);
    assert!(
        ok(&[]).warnings().is_empty(),
        "the defaults warn about nothing"
    );
}

#[test]
fn text_column_names_are_checked() {
    assert_eq!(
        error(&[("wide_column", "key_column = \"my key\"")]),
        "wide_column.key_column = \"my key\": ' ' is not allowed; use 1-255 bytes of letters, \
         digits and '_', starting with a letter or '_'"
    );
    assert_eq!(
        key_value(&[("wide_column", "value_column = \"offset\"")]),
        kv("wide_column.value_column", "\"offset\"")
    );
    assert!(error(&[("wide_column", "key_column = \"value\"")])
        .contains("also wide_column.value_column"));
    let config = ok(&[
        ("wide_column", "key_column = \"msg_key\""),
        ("wide_column", "value_column = \"body\""),
    ]);
    assert_eq!(config.wide_column.key_column, "msg_key");
    assert_eq!(ok(&[]).wide_column.key_column, "key");
    assert_eq!(ok(&[]).wide_column.value_column, "value");
}

#[test]
fn declared_timeseries_fields_may_have_uppercase_when_lower_cased() {
    let config = ok(&[
        TS,
        METRIC,
        (
            "timeseries",
            "fields = [{ name = \"CpuUsage\", type = \"double\" }]",
        ),
    ]);
    assert!(config.timeseries.unwrap().lowercase_field_names);
    let e = error(&[
        TS,
        METRIC,
        ("timeseries", "lowercase_field_names = false"),
        (
            "timeseries",
            "fields = [{ name = \"CpuUsage\", type = \"double\" }]",
        ),
    ]);
    assert!(
        e.starts_with("timeseries.fields[0].name = \"CpuUsage\": 'C' is not allowed")
            && e.ends_with(
                "or set timeseries.lowercase_field_names = true to lower-case field names"
            ),
        "{e}"
    );
    let e = error(&[
        TS,
        METRIC,
        (
            "timeseries",
            "fields = [{ name = \"Temp\", type = \"double\" }, { name = \"temp\", type = \"double\" }]",
        ),
    ]);
    assert!(e.contains("already listed as timeseries.fields[0]"), "{e}");
}

#[test]
fn sub_microsecond_defaults_to_truncate_and_is_explained() {
    let config = ok(&[
        TS,
        METRIC,
        ("timeseries", "timestamp_unit = \"nanoseconds\""),
    ]);
    assert_eq!(
        config.timeseries.as_ref().unwrap().sub_microsecond,
        SubMicrosecond::Truncate
    );
    let all = config.explain();
    assert!(about(&all, "timeseries.sub_microsecond")
        .text
        .contains("truncated"));
    let config = ok(&[
        TS,
        METRIC,
        ("timeseries", "timestamp_unit = \"nanoseconds\""),
        ("timeseries", "sub_microsecond = \"reject\""),
    ]);
    assert!(about(&config.explain(), "timeseries.sub_microsecond")
        .text
        .contains("dead-lettered"));
    assert!(
        error(&[TS, METRIC, ("timeseries", "sub_microsecond = \"round\"")])
            .contains("unknown variant `round`")
    );
}

#[test]
fn a_missing_source_topic_is_waited_for_unless_told_to_fail() {
    assert_eq!(ok(&[]).kafka.on_missing_topic, MissingTopic::Wait);
    let all = explain(&[]);
    assert!(about(&all, "kafka.on_missing_topic")
        .text
        .contains("waits for it"));
    let config = ok(&[("kafka", "on_missing_topic = \"fail\"")]);
    assert_eq!(config.kafka.on_missing_topic, MissingTopic::Fail);
    assert!(error(&[("kafka", "on_missing_topic = \"retry\"")]).contains("unknown variant `retry`"));
}

#[test]
fn manual_resources_explain_the_group_check() {
    let all = explain(&[("kafka", "resource_creation = \"manual\"")]);
    let e = about(&all, "kafka.resource_creation");
    assert!(
        e.text
            .contains("consumer group \"connect-orders-sink\" must exist"),
        "{e}"
    );
}

/// Issue 8, defect 9: a config that forgets the endpoint must not quietly
/// write into a local directory.
#[test]
fn the_endpoint_is_required_and_embedded_must_be_said() {
    let text = toml_with(&[]).replace("endpoint = \"embedded\"\n", "");
    assert!(!text.contains("endpoint"), "{text}");
    let e = parse(&text).unwrap_err().to_string();
    assert_eq!(
        e,
        "tablestore.endpoint = \"\": the endpoint is required: set the instance's URL, e.g. \
         endpoint = \"https://<instance>.cn-hangzhou.ots.aliyuncs.com\", or endpoint = \
         \"embedded\" to run the local emulator inside the sink (data in tablestore.data_dir)"
    );
    assert!(error(&[("tablestore", "endpoint = \" \"")]).contains("the endpoint is required"));
    assert!(
        ok(&[]).tablestore.is_embedded(),
        "said explicitly, it is accepted"
    );
}
