//! TimeSeries rules: series key, timestamps per unit, detected and
//! declared field types, errors and limits.

use std::collections::BTreeMap;

use super::record;
use crate::config::TimeseriesConfig;
use crate::convert::{ConvertError, SetupError, TimeseriesConverter};
use crate::tablestore::flatrows::{FieldValue, TimeseriesRow};

fn ts(toml: &str) -> TimeseriesConverter {
    let config: TimeseriesConfig = toml::from_str(toml).expect("test config parses");
    TimeseriesConverter::new(&config).expect("converter builds")
}

/// Metric from "m", source "src", tags "host" and "dc", time "t" in ms.
fn basic(extra: &str) -> TimeseriesConverter {
    ts(&format!(
        "metric_name_field = \"m\"\ndata_source_field = \"src\"\ntag_fields = [\"host\", \"dc\"]\ntimestamp_field = \"t\"\n{extra}"
    ))
}

fn ok(c: &TimeseriesConverter, value: &str) -> TimeseriesRow {
    c.convert(&record(None, Some(value)))
        .expect("record converts")
}

fn err(c: &TimeseriesConverter, value: &str) -> ConvertError {
    c.convert(&record(None, Some(value)))
        .expect_err("record is rejected")
}

fn field(p: &TimeseriesRow, name: &str) -> Option<FieldValue> {
    p.fields
        .iter()
        .find(|(n, _)| n == name)
        .map(|(_, v)| v.clone())
}

fn field_names(p: &TimeseriesRow) -> Vec<&str> {
    let mut n: Vec<&str> = p.fields.iter().map(|(n, _)| n.as_str()).collect();
    n.sort_unstable();
    n
}

fn time(unit: &str, t: &str) -> Result<i64, ConvertError> {
    let c = ts(&format!(
        "metric_name_field = \"m\"\ntimestamp_field = \"t\"\ntimestamp_unit = \"{unit}\""
    ));
    c.convert(&record(
        None,
        Some(&format!(r#"{{"m":"cpu","t":{t},"v":1}}"#)),
    ))
    .map(|p| p.time_us)
}

// ----- series key -----

#[test]
fn builds_the_series_key_time_and_fields() {
    let p = ok(
        &basic(""),
        r#"{"m":"cpu","src":"host-17","host":"h1","dc":"eu","t":1700000000123,"usage":0.5,"n":3}"#,
    );
    assert_eq!(p.key.measurement, "cpu");
    assert_eq!(p.key.data_source, "host-17");
    assert_eq!(
        p.key.tags,
        BTreeMap::from([
            ("dc".to_owned(), "eu".to_owned()),
            ("host".to_owned(), "h1".to_owned())
        ])
    );
    assert_eq!(p.time_us, 1_700_000_000_123_000);
    assert_eq!(p.meta_cache_update_time, 0);
    // Key and time fields are not fields.
    assert_eq!(field_names(&p), ["n", "usage"]);
}

#[test]
fn topic_placeholder_uses_the_topic_name() {
    for setting in ["<topic>", "<TOPIC>"] {
        let c = ts(&format!("metric_name_field = \"{setting}\""));
        let p = ok(&c, r#"{"v":1}"#);
        assert_eq!(p.key.measurement, "orders");
        assert_eq!(field_names(&p), ["v"]);
    }
}

#[test]
fn metric_name_is_required_and_non_empty() {
    let c = basic("");
    for (v, says) in [
        (r#"{"t":1,"v":1}"#, "is not in the value"),
        (r#"{"m":null,"t":1,"v":1}"#, "is null"),
        (r#"{"m":"","t":1,"v":1}"#, "is empty"),
        (r#"{"m":{"a":1},"t":1,"v":1}"#, "is a JSON object"),
        (r#"{"m":[],"t":1,"v":1}"#, "is a JSON array"),
    ] {
        let e = err(&c, v);
        assert_eq!(e.reason_code(), "missing_metric", "{v}");
        assert!(
            e.to_string().contains(says) && e.to_string().contains("\"m\""),
            "{e}"
        );
    }
}

#[test]
fn scalar_metric_names_are_taken_as_text() {
    assert_eq!(
        ok(&basic(""), r#"{"m":42,"t":1,"v":1}"#).key.measurement,
        "42"
    );
}

#[test]
fn metric_names_follow_measurement_limits() {
    let c = basic("");
    for name in ["cpu#1", "cpu load", "tab\\tbed"] {
        let e = err(&c, &format!(r#"{{"m":"{name}","t":1,"v":1}}"#));
        assert_eq!(e.reason_code(), "bad_metric", "{name}");
    }
    assert_eq!(
        err(&c, &format!(r#"{{"m":"{}","t":1,"v":1}}"#, "m".repeat(129))).reason_code(),
        "bad_metric"
    );
    assert_eq!(
        ok(&c, &format!(r#"{{"m":"{}","t":1,"v":1}}"#, "m".repeat(128)))
            .key
            .measurement
            .len(),
        128
    );
}

#[test]
fn data_source_is_optional() {
    let c = basic("");
    assert_eq!(ok(&c, r#"{"m":"cpu","t":1,"v":1}"#).key.data_source, "");
    assert_eq!(
        ok(&c, r#"{"m":"cpu","src":null,"t":1,"v":1}"#)
            .key
            .data_source,
        ""
    );
    assert_eq!(
        ok(&c, r#"{"m":"cpu","src":"","t":1,"v":1}"#)
            .key
            .data_source,
        ""
    );
    assert_eq!(
        ok(&c, r#"{"m":"cpu","src":17,"t":1,"v":1}"#)
            .key
            .data_source,
        "17"
    );
    let unset = ts("metric_name_field = \"m\"");
    let p = ok(&unset, r#"{"m":"cpu","src":"x","v":1}"#);
    assert_eq!(p.key.data_source, "");
    assert_eq!(
        field_names(&p),
        ["src", "v"],
        "without the setting, src is a field"
    );
    let long = format!(r#"{{"m":"cpu","src":"{}","t":1,"v":1}}"#, "s".repeat(257));
    assert_eq!(err(&c, &long).reason_code(), "bad_data_source");
}

#[test]
fn tags_are_strings_and_missing_or_null_tags_are_skipped() {
    let c = basic("");
    let p = ok(&c, r#"{"m":"cpu","host":null,"t":1,"v":1}"#);
    assert!(p.key.tags.is_empty());
    let p = ok(&c, r#"{"m":"cpu","host":7,"dc":true,"t":1,"v":1}"#);
    assert_eq!(p.key.tags["host"], "7");
    assert_eq!(p.key.tags["dc"], "true");
    assert_eq!(
        ok(&c, r#"{"m":"cpu","host":"","t":1,"v":1}"#).key.tags["host"],
        ""
    );
    assert_eq!(
        ok(&c, r#"{"m":"cpu","host":[1,2],"t":1,"v":1}"#).key.tags["host"],
        "[1,2]"
    );
}

#[test]
fn tag_values_the_tags_format_cannot_carry_are_rejected() {
    let c = basic("");
    for v in [
        r#"{"m":"cpu","host":"a=b","t":1,"v":1}"#,
        r#"{"m":"cpu","host":"say \"hi\"","t":1,"v":1}"#,
        r#"{"m":"cpu","host":{"a":1},"t":1,"v":1}"#,
    ] {
        let e = err(&c, v);
        assert_eq!(e.reason_code(), "bad_tag", "{v}");
        assert!(e.to_string().contains("\"host\""), "{e}");
    }
    // ["dc=…","host=…"] is 15 bytes plus the two values; 512 is the limit.
    let tags = |dc: usize| {
        format!(
            r#"{{"m":"cpu","host":"{}","dc":"{}","t":1,"v":1}}"#,
            "h".repeat(250),
            "d".repeat(dc)
        )
    };
    assert_eq!(ok(&c, &tags(247)).key.tags_string().len(), 512);
    let e = err(&c, &tags(248));
    assert_eq!(e.reason_code(), "bad_tag");
    assert!(e.to_string().contains("513 bytes"), "{e}");
}

#[test]
fn invalid_tag_names_are_rejected_at_setup() {
    let config: TimeseriesConfig =
        toml::from_str("metric_name_field = \"m\"\ntag_fields = [\"a=b\"]").unwrap();
    let e = TimeseriesConverter::new(&config).map(|_| ()).unwrap_err();
    assert!(matches!(e, SetupError::BadTagName { .. }), "{e}");
}

// ----- timestamps -----

#[test]
fn each_unit_converts_to_exact_microseconds() {
    assert_eq!(time("seconds", "1700000000"), Ok(1_700_000_000_000_000));
    assert_eq!(
        time("milliseconds", "1700000000123"),
        Ok(1_700_000_000_123_000)
    );
    assert_eq!(
        time("microseconds", "1700000000123456"),
        Ok(1_700_000_000_123_456)
    );
    assert_eq!(
        time("nanoseconds", "1700000000123456000"),
        Ok(1_700_000_000_123_456)
    );
    assert_eq!(
        time("SECONDS", "1"),
        Ok(1_000_000),
        "unit names are case-insensitive"
    );
}

#[test]
fn large_timestamps_are_exact() {
    assert_eq!(
        time("microseconds", "9007199254740993"),
        Ok(9_007_199_254_740_993)
    );
    assert_eq!(time("microseconds", "9223372036854775807"), Ok(i64::MAX));
    assert_eq!(
        time("seconds", "9223372036854"),
        Ok(9_223_372_036_854_000_000)
    );
    assert_eq!(
        time("milliseconds", "9223372036854775"),
        Ok(9_223_372_036_854_775_000)
    );
}

#[test]
fn bad_timestamps_are_errors() {
    for (unit, t, says) in [
        ("seconds", "9223372036855", "beyond"),
        ("microseconds", "9223372036854775808", "beyond"),
        ("milliseconds", "-1", "before 1970"),
        ("milliseconds", "1.5", "not an integer"),
        ("milliseconds", "1700000000123.0", "not an integer"),
        ("seconds", "true", "JSON boolean"),
        ("seconds", "\"soon\"", "RFC 3339"),
        ("seconds", "\"1.5\"", "not an integer"),
    ] {
        let e = time(unit, t).unwrap_err();
        assert_eq!(e.reason_code(), "bad_timestamp", "{unit} {t}");
        let msg = e.to_string();
        assert!(msg.contains(says) && msg.contains("field \"t\""), "{msg}");
    }
}

#[test]
fn integer_strings_and_rfc3339_are_accepted() {
    assert_eq!(time("seconds", "\"1700000000\""), Ok(1_700_000_000_000_000));
    assert_eq!(
        time("seconds", "\"2023-11-14T22:13:20.5Z\""),
        Ok(1_700_000_000_500_000)
    );
    assert_eq!(
        time("nanoseconds", "\"2023-11-15T06:13:20.000001+08:00\""),
        Ok(1_700_000_000_000_001)
    );
}

#[test]
fn missing_or_null_timestamp_field_is_an_error() {
    let c = basic("");
    for v in [r#"{"m":"cpu","v":1}"#, r#"{"m":"cpu","t":null,"v":1}"#] {
        let e = err(&c, v);
        assert_eq!(e.reason_code(), "missing_timestamp", "{v}");
        assert!(e.to_string().contains("\"t\""), "{e}");
    }
}

#[test]
fn without_timestamp_field_the_kafka_timestamp_is_used() {
    let c = ts("metric_name_field = \"m\"\ntimestamp_unit = \"seconds\"");
    let p = ok(&c, r#"{"m":"cpu","t":5,"v":1}"#);
    assert_eq!(
        p.time_us, 1_700_000_000_123_000,
        "Kafka ms × 1000, unit ignored"
    );
    assert_eq!(field(&p, "t"), Some(FieldValue::Double(5.0)));
    let r = crate::convert::Record {
        timestamp_ms: None,
        ..record(None, Some(r#"{"m":"cpu","v":1}"#))
    };
    let e = c.convert(&r).unwrap_err();
    assert_eq!(e.reason_code(), "bad_timestamp");
    assert!(e.to_string().contains("Kafka record timestamp"), "{e}");
}

// ----- fields -----

const ALL: &str = r#"{"m":"cpu","t":1,"d":0.5,"i":3,"neg":-2,"big":18446744073709551615,"b":false,"s":"ok","o":{"z":1,"a":[true]},"a":[1,"x"],"n":null}"#;

#[test]
fn detected_types_numbers_are_doubles() {
    let p = ok(&basic(""), ALL);
    assert_eq!(field(&p, "d"), Some(FieldValue::Double(0.5)));
    assert_eq!(field(&p, "i"), Some(FieldValue::Double(3.0)));
    assert_eq!(field(&p, "neg"), Some(FieldValue::Double(-2.0)));
    // Beyond the signed 64-bit range: its digits, not a rounded DOUBLE.
    assert_eq!(
        field(&p, "big"),
        Some(FieldValue::String("18446744073709551615".into()))
    );
    assert_eq!(field(&p, "b"), Some(FieldValue::Boolean(false)));
    assert_eq!(field(&p, "s"), Some(FieldValue::String("ok".into())));
    assert_eq!(
        field(&p, "o"),
        Some(FieldValue::String(r#"{"a":[true],"z":1}"#.into()))
    );
    assert_eq!(
        field(&p, "a"),
        Some(FieldValue::String(r#"[1,"x"]"#.into()))
    );
    assert_eq!(field(&p, "n"), None, "nulls are skipped");
}

#[test]
fn keep_integers_keeps_integers_as_long() {
    let p = ok(&basic("keep_integers = true"), ALL);
    assert_eq!(field(&p, "i"), Some(FieldValue::Long(3)));
    assert_eq!(field(&p, "neg"), Some(FieldValue::Long(-2)));
    assert_eq!(field(&p, "d"), Some(FieldValue::Double(0.5)));
    assert_eq!(
        field(&p, "big"),
        Some(FieldValue::String("18446744073709551615".into()))
    );
}

const DECLARED: &str = r#"fields = [
  { name = "count", type = "integer" },
  { name = "ratio", type = "double" },
  { name = "label", type = "string" },
  { name = "up", type = "boolean" },
  { name = "blob", type = "binary" },
]"#;

#[test]
fn declared_types_override_detection() {
    let c = basic(DECLARED);
    let p = ok(
        &c,
        r#"{"m":"cpu","t":1,"count":"12","ratio":3,"label":5,"up":"true","blob":"aGVsbG8=","other":2}"#,
    );
    assert_eq!(field(&p, "count"), Some(FieldValue::Long(12)));
    assert_eq!(field(&p, "ratio"), Some(FieldValue::Double(3.0)));
    assert_eq!(field(&p, "label"), Some(FieldValue::String("5".into())));
    assert_eq!(field(&p, "up"), Some(FieldValue::Boolean(true)));
    assert_eq!(
        field(&p, "blob"),
        Some(FieldValue::Binary(b"hello".to_vec()))
    );
    assert_eq!(
        field(&p, "other"),
        Some(FieldValue::Double(2.0)),
        "map_all_fields keeps the rest"
    );
}

#[test]
fn declared_conversions_accept_their_documented_inputs() {
    let c = basic(DECLARED);
    let p = ok(
        &c,
        r#"{"m":"cpu","t":1,"count":-7,"ratio":"2.5","label":{"k":[1]},"up":false,"blob":"aGVsbG8"}"#,
    );
    assert_eq!(field(&p, "count"), Some(FieldValue::Long(-7)));
    assert_eq!(field(&p, "ratio"), Some(FieldValue::Double(2.5)));
    assert_eq!(
        field(&p, "label"),
        Some(FieldValue::String(r#"{"k":[1]}"#.into()))
    );
    assert_eq!(field(&p, "up"), Some(FieldValue::Boolean(false)));
    assert_eq!(
        field(&p, "blob"),
        Some(FieldValue::Binary(b"hello".to_vec())),
        "padding optional"
    );
    let p = ok(&c, r#"{"m":"cpu","t":1,"count":null,"ratio":1}"#);
    assert_eq!(field(&p, "count"), None, "declared nulls are skipped");
}

#[test]
fn values_that_cannot_convert_to_the_declared_type_are_errors_naming_the_field() {
    let c = basic(DECLARED);
    for (name, v, type_name) in [
        ("count", "1.5", "integer"),
        ("count", "1.0", "integer"),
        ("count", "\"abc\"", "integer"),
        ("count", "18446744073709551615", "integer"),
        ("count", "true", "integer"),
        ("ratio", "\"abc\"", "double"),
        ("ratio", "\"NaN\"", "double"),
        ("ratio", "[1]", "double"),
        ("up", "1", "boolean"),
        ("up", "\"yes\"", "boolean"),
        ("blob", "\"not base64!\"", "binary"),
        ("blob", "12", "binary"),
    ] {
        let e = err(&c, &format!(r#"{{"m":"cpu","t":1,"{name}":{v}}}"#));
        assert_eq!(e.reason_code(), "bad_field_value", "{name} = {v}");
        let msg = e.to_string();
        assert!(
            msg.contains(&format!("field {name:?} = {v}")) && msg.contains(type_name),
            "{msg}"
        );
    }
}

#[test]
fn without_map_all_fields_only_declared_fields_are_written() {
    let c = basic(&format!("map_all_fields = false\n{DECLARED}"));
    let p = ok(
        &c,
        r#"{"m":"cpu","t":1,"count":4,"Undeclared-Name":1,"x":2}"#,
    );
    assert_eq!(
        field_names(&p),
        ["count"],
        "missing declared fields are absent"
    );
    let e = err(&c, r#"{"m":"cpu","t":1,"x":2}"#);
    assert_eq!(e.reason_code(), "no_fields");
    assert!(e.to_string().contains("\"count\""), "{e}");
}

#[test]
fn a_point_without_fields_is_an_error() {
    let c = basic("");
    for v in [
        r#"{"m":"cpu","t":1,"host":"h"}"#,
        r#"{"m":"cpu","t":1,"n":null}"#,
    ] {
        assert_eq!(err(&c, v).reason_code(), "no_fields", "{v}");
    }
}

#[test]
fn field_names_follow_timeseries_limits_with_a_fix() {
    let c = basic("");
    let e = err(&c, r#"{"m":"cpu","t":1,"cpu-usage":0.5}"#);
    assert_eq!(e.reason_code(), "bad_field_name");
    let msg = e.to_string();
    assert!(
        msg.contains("\"cpu-usage\"")
            && msg.contains("\"cpu_usage\"")
            && msg.contains("map_all_fields = false"),
        "{msg}"
    );
    for name in ["1m", "a-b", "_time", "", &"f".repeat(129)] {
        let v = format!(r#"{{"m":"cpu","t":1,"{name}":1}}"#);
        assert_eq!(err(&c, &v).reason_code(), "bad_field_name", "{name:?}");
    }
    assert!(c
        .convert(&record(
            None,
            Some(&format!(r#"{{"m":"cpu","t":1,"{}":1}}"#, "f".repeat(128)))
        ))
        .is_ok());
}

#[test]
fn fields_are_limited_in_size_and_count() {
    let c = basic("");
    let big = format!(
        r#"{{"m":"cpu","t":1,"s":"{}"}}"#,
        "x".repeat(2 * 1024 * 1024 + 1)
    );
    let e = err(&c, &big);
    assert_eq!(e.reason_code(), "value_too_large");
    assert!(e.to_string().contains("field \"s\""), "{e}");
    let many: Vec<String> = (0..1025).map(|i| format!(r#""f{i}":1"#)).collect();
    let e = err(&c, &format!(r#"{{"m":"cpu","t":1,{}}}"#, many.join(",")));
    assert_eq!(e.reason_code(), "too_many_columns");
}

// ----- value shape -----

#[test]
fn value_must_be_a_json_object() {
    let c = basic("");
    for (v, code) in [
        ("[1]", "not_an_object"),
        ("3", "not_an_object"),
        ("nope", "invalid_json"),
        ("", "invalid_json"),
    ] {
        let e = err(&c, v);
        assert_eq!(e.reason_code(), code, "{v:?}");
        assert!(e.to_string().contains("record value"), "{e}");
    }
    let e = c.convert(&record(None, None)).unwrap_err();
    assert_eq!(e.reason_code(), "tombstone");
}
