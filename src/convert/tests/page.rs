//! The product page's semantics where the sink once differed (issue 11):
//! the page's own test message, key/value clashes, put with empty values,
//! numbers beyond 64 bits, bytes that are not UTF-8, nanosecond
//! timestamps, and lower-cased TimeSeries field names.

use super::record;
use crate::config::{Config, TimeseriesConfig, WideColumnConfig};
use crate::convert::{
    ConvertError, Converted, Converter, Record, RowWrite, TimeseriesConverter, WideColumnConverter,
};
use crate::tablestore::flatrows::FieldValue;
use crate::tablestore::plainbuffer::{PkValue, Value};
use crate::tablestore::proto::OperationType;

fn wc(toml: &str) -> WideColumnConverter {
    let config: WideColumnConfig = toml::from_str(toml).expect("test config parses");
    WideColumnConverter::new(&config).expect("converter builds")
}

fn row(c: &WideColumnConverter, key: Option<&str>, value: Option<&str>) -> RowWrite {
    c.convert(&record(key, value)).expect("record converts")
}

fn cells(w: &RowWrite) -> Vec<(&str, Option<&Value>)> {
    let mut v: Vec<(&str, Option<&Value>)> = w
        .row
        .cells
        .iter()
        .map(|c| (c.name.as_str(), c.value.as_ref()))
        .collect();
    v.sort_by_key(|(n, _)| *n);
    v
}

fn s(text: &str) -> Value {
    Value::String(text.into())
}

const STRING_KEY: &str = "key_format = \"string\"\n";
/// The page's test message: key `demo`, content `{"key": "test"}`.
const PAGE_KEY: Option<&str> = Some("demo");
const PAGE_VALUE: Option<&str> = Some(r#"{"key": "test"}"#);

// ----- the page's test message and key/value clashes -----

#[test]
fn the_pages_test_message_keeps_both_the_key_and_the_value_field() {
    let w = row(&wc(STRING_KEY), PAGE_KEY, PAGE_VALUE);
    assert_eq!(
        cells(&w),
        [("key", Some(&s("test"))), ("key_key", Some(&s("demo")))]
    );
    assert_eq!(w.clashes.key_value, 1);
    assert_eq!(w.clashes.primary_key, 0);
}

#[test]
fn key_wins_is_the_java_plugins_rule_and_still_counted() {
    let w = row(
        &wc(&format!("{STRING_KEY}key_clash = \"key_wins\"")),
        PAGE_KEY,
        PAGE_VALUE,
    );
    assert_eq!(cells(&w), [("key", Some(&s("demo")))]);
    assert_eq!(w.clashes.key_value, 1);
}

#[test]
fn value_wins_drops_the_key_column_and_is_counted() {
    let w = row(
        &wc(&format!("{STRING_KEY}key_clash = \"value_wins\"")),
        PAGE_KEY,
        PAGE_VALUE,
    );
    assert_eq!(cells(&w), [("key", Some(&s("test")))]);
    assert_eq!(w.clashes.key_value, 1);
}

#[test]
fn a_key_column_of_another_name_has_no_clash() {
    let w = row(
        &wc(&format!("{STRING_KEY}key_column = \"msg_key\"")),
        PAGE_KEY,
        PAGE_VALUE,
    );
    assert_eq!(
        cells(&w),
        [("key", Some(&s("test"))), ("msg_key", Some(&s("demo")))]
    );
    assert_eq!(w.clashes.key_value, 0);
}

#[test]
fn a_string_value_column_can_be_renamed_too() {
    let c = wc("value_format = \"string\"\nvalue_column = \"body\"");
    let w = row(&c, Some(r#"{"value":1}"#), Some("hello"));
    assert_eq!(
        cells(&w),
        [("body", Some(&s("hello"))), ("value", Some(&s("1")))]
    );
    assert_eq!(w.clashes.key_value, 0);
}

#[test]
fn clashes_are_found_alike_in_a_key_of_many_fields() {
    // 12 key fields against 13 value fields: past the scan limit, so the
    // taken names are looked up in a map. The rules are the small case's.
    let object = |fields: Vec<(String, String)>| {
        let body: Vec<String> = fields.iter().map(|(n, v)| format!("{n:?}:{v:?}")).collect();
        format!("{{{}}}", body.join(","))
    };
    let key = object(
        (0..12)
            .map(|i| (format!("f{i}"), format!("k{i}")))
            .collect(),
    );
    let mut value: Vec<(String, String)> = (0..24)
        .step_by(2)
        .map(|i| (format!("f{i}"), format!("v{i}")))
        .collect();
    value.push(("key_f0".into(), "v-key_f0".into()));
    let w = row(&wc(""), Some(&key), Some(&object(value.clone())));

    let mut expected: Vec<(String, Value)> = value.into_iter().map(|(n, v)| (n, s(&v))).collect();
    for i in 0..12 {
        let name = match i {
            0 => "key_key_f0".to_owned(), // key_f0 is the value's
            i if i % 2 == 0 => format!("key_f{i}"),
            i => format!("f{i}"),
        };
        expected.push((name, s(&format!("k{i}"))));
    }
    expected.sort_by(|a, b| a.0.cmp(&b.0));
    let got: Vec<(String, Value)> = cells(&w)
        .into_iter()
        .map(|(n, v)| (n.to_owned(), v.cloned().unwrap()))
        .collect();
    assert_eq!(got, expected);
    assert_eq!(w.clashes.key_value, 6);
}

#[test]
fn renamed_key_columns_never_overwrite_anything() {
    // key_a is taken by the value, so the key's "a" becomes key_key_a;
    // the key's own "key_a" then clashes with the value's too.
    let w = row(
        &wc(""),
        Some(r#"{"a":"k1","key_a":"k2"}"#),
        Some(r#"{"a":"v1","key_a":"v2"}"#),
    );
    assert_eq!(
        cells(&w),
        [
            ("a", Some(&s("v1"))),
            ("key_a", Some(&s("v2"))),
            ("key_key_a", Some(&s("k1"))),
            ("key_key_key_a", Some(&s("k2"))),
        ]
    );
    assert_eq!(w.clashes.key_value, 2);
}

#[test]
fn fields_named_like_a_primary_key_column_are_counted() {
    // kafka mode: the value's "offset" cannot be an attribute.
    let w = row(&wc(""), None, Some(r#"{"offset":7,"a":"1"}"#));
    assert_eq!(cells(&w), [("a", Some(&s("1")))]);
    assert_eq!(w.clashes.primary_key, 1);
    // record_value: the value's "id" *is* the key; the key's "id" clashes.
    let c = wc(
        "primary_key_mode = \"record_value\"\nprimary_key = [{ name = \"id\", type = \"integer\" }]",
    );
    let w = row(&c, Some(r#"{"id":9,"k":"x"}"#), Some(r#"{"id":1,"a":"1"}"#));
    assert_eq!(w.row.primary_key, vec![("id".into(), PkValue::Integer(1))]);
    assert_eq!(w.clashes.primary_key, 1);
    assert_eq!(w.clashes.key_value, 0);
}

#[test]
fn the_converter_tallies_clashes_for_the_metric() {
    let config: Config = toml::from_str(
        "[connector]\nname = \"t\"\n[kafka]\nbootstrap_servers = \"127.0.0.1:9092\"\ntopic = \"orders\"\n\
         [tablestore]\nendpoint = \"embedded\"\ntable = \"t\"\n[wide_column]\nkey_format = \"string\"\n",
    )
    .unwrap();
    let c = Converter::new(&config).expect("converter builds");
    let tally = c.tally();
    for _ in 0..3 {
        assert!(c.convert(&record(PAGE_KEY, PAGE_VALUE)).is_ok());
    }
    assert!(c
        .convert(&record(PAGE_KEY, Some(r#"{"offset":1}"#)))
        .is_ok());
    assert_eq!(tally.take(), (3, 1));
    assert_eq!(tally.take(), (0, 0), "take resets");
    // The sink calls the Wide Column converter directly: same totals.
    let c = wc(STRING_KEY);
    let tally = c.tally();
    assert!(c.convert(&record(PAGE_KEY, PAGE_VALUE)).is_ok());
    assert!(c.convert(&record(PAGE_KEY, Some("not json"))).is_err());
    assert_eq!(tally.take(), (1, 0));
}

// ----- put with empty values -----

#[test]
fn put_with_every_field_null_overwrites_the_row_with_its_key_alone() {
    let c = wc(
        "primary_key_mode = \"record_key\"\nprimary_key = [{ name = \"id\", type = \"string\" }]\n\
         key_format = \"string\"\nwrite_mode = \"put\"\ndelete_mode = \"column\"",
    );
    let w = row(&c, Some("k1"), Some(r#"{"a":null,"b":null}"#));
    assert_eq!(w.op, OperationType::Put);
    assert!(w.row.cells.is_empty());
    assert_eq!(
        w.row.primary_key,
        vec![("id".into(), PkValue::String("k1".into()))]
    );
}

#[test]
fn put_with_a_column_delete_mode_skips_nulls_and_deletes_rows_on_tombstones() {
    let c = wc(
        "primary_key_mode = \"record_key\"\nprimary_key = [{ name = \"id\", type = \"string\" }]\n\
         key_format = \"string\"\nwrite_mode = \"put\"\ndelete_mode = \"row_and_column\"",
    );
    let w = row(&c, Some("k1"), Some(r#"{"a":1,"gone":null}"#));
    assert_eq!(w.op, OperationType::Put);
    assert_eq!(cells(&w), [("a", Some(&s("1")))]);
    assert_eq!(row(&c, Some("k1"), None).op, OperationType::Delete);
}

// ----- numbers beyond 64 bits -----

const TWO_TO_70: &str = "1180591620717411303424";

#[test]
fn integers_beyond_64_bits_keep_their_digits_in_every_mode() {
    let value = format!(r#"{{"n":{TWO_TO_70},"neg":-{TWO_TO_70},"nested":{{"n":{TWO_TO_70}}}}}"#);
    for conversion in [
        "json_conversion = \"string\"",
        "json_conversion = \"auto\"",
        "json_conversion = \"auto\"\nkeep_integers = true",
    ] {
        let w = row(&wc(conversion), None, Some(&value));
        let neg = format!("-{TWO_TO_70}");
        let nested = format!(r#"{{"n":{TWO_TO_70}}}"#);
        assert_eq!(
            cells(&w),
            [
                ("n", Some(&s(TWO_TO_70))),
                ("neg", Some(&s(&neg))),
                ("nested", Some(&s(&nested))),
            ],
            "{conversion}"
        );
    }
}

#[test]
fn string_conversion_writes_the_producers_digits() {
    let w = row(&wc(""), None, Some(r#"{"price":1.50,"tiny":2.5e-7}"#));
    assert_eq!(
        cells(&w),
        [("price", Some(&s("1.50"))), ("tiny", Some(&s("2.5e-7")))]
    );
}

#[test]
fn a_primary_key_over_64_bits_says_so() {
    let c = wc(
        "primary_key_mode = \"record_value\"\nprimary_key = [{ name = \"id\", type = \"integer\" }]",
    );
    let e = c
        .convert(&record(
            None,
            Some(&format!(r#"{{"id":{TWO_TO_70},"a":1}}"#)),
        ))
        .unwrap_err();
    assert_eq!(e.reason_code(), "bad_pk_type");
    let msg = e.to_string();
    assert!(
        msg.contains(&format!("is an integer over 64 bits ({TWO_TO_70})")),
        "{msg}"
    );
    assert!(!msg.contains("float") && !msg.contains("e+21"), "{msg}");
    // The same digits as a string: the same cause.
    let e = c
        .convert(&record(
            None,
            Some(&format!(r#"{{"id":"{TWO_TO_70}","a":1}}"#)),
        ))
        .unwrap_err();
    assert!(e.to_string().contains("an integer over 64 bits"), "{e}");
    // A string primary key keeps the digits.
    let c = wc(
        "primary_key_mode = \"record_value\"\nprimary_key = [{ name = \"id\", type = \"string\" }]",
    );
    let w = row(&c, None, Some(&format!(r#"{{"id":{TWO_TO_70},"a":1}}"#)));
    assert_eq!(w.row.primary_key[0].1, PkValue::String(TWO_TO_70.into()));
}

// ----- bytes that are not UTF-8 -----

#[test]
fn values_that_are_not_utf8_say_so_in_every_format() {
    let bytes: &[u8] = b"{\"name\":\"Jos\xe9\"}";
    for format in ["json", "string"] {
        let c = wc(&format!("value_format = \"{format}\""));
        let e = c
            .convert(&Record {
                value: Some(bytes),
                ..record(None, None)
            })
            .unwrap_err();
        assert_eq!(e.reason_code(), "invalid_utf8", "{format}");
        let msg = e.to_string();
        assert!(
            msg.contains("record value is not valid UTF-8 (invalid byte 0xe9 at offset 12)"),
            "{msg}"
        );
        assert!(!msg.contains("line 1 column"), "{msg}");
    }
    let ts = TimeseriesConverter::new(&ts_config("")).unwrap();
    let e = ts
        .convert(&Record {
            value: Some(b"\xff"),
            ..record(None, None)
        })
        .unwrap_err();
    assert_eq!(e.reason_code(), "invalid_utf8");
}

// ----- TimeSeries -----

fn ts_config(extra: &str) -> TimeseriesConfig {
    toml::from_str(&format!(
        "metric_name_field = \"m\"\ntimestamp_field = \"t\"\n{extra}"
    ))
    .expect("test config parses")
}

fn point(
    extra: &str,
    value: &str,
) -> Result<crate::tablestore::flatrows::TimeseriesRow, ConvertError> {
    TimeseriesConverter::new(&ts_config(extra))
        .expect("converter builds")
        .convert(&record(None, Some(value)))
}

fn field_names(p: &crate::tablestore::flatrows::TimeseriesRow) -> Vec<&str> {
    let mut n: Vec<&str> = p.fields.iter().map(|(n, _)| n.as_str()).collect();
    n.sort_unstable();
    n
}

#[test]
fn nanoseconds_are_truncated_to_microseconds_by_default() {
    let v = r#"{"m":"cpu","t":1700000000123456789,"v":1}"#;
    let p = point("timestamp_unit = \"NANOSECONDS\"", v).unwrap();
    assert_eq!(p.time_us, 1_700_000_000_123_456);
    let p = point(
        "timestamp_unit = \"nanoseconds\"",
        r#"{"m":"cpu","t":"2023-11-14T22:13:20.123456789Z","v":1}"#,
    )
    .unwrap();
    assert_eq!(p.time_us, 1_700_000_000_123_456);
}

#[test]
fn nanoseconds_can_be_rejected_strictly() {
    let e = point(
        "timestamp_unit = \"nanoseconds\"\nsub_microsecond = \"reject\"",
        r#"{"m":"cpu","t":1700000000123456789,"v":1}"#,
    )
    .unwrap_err();
    assert_eq!(e.reason_code(), "bad_timestamp");
    assert!(
        e.to_string().contains("whole number of microseconds"),
        "{e}"
    );
    let p = point(
        "timestamp_unit = \"nanoseconds\"\nsub_microsecond = \"reject\"",
        r#"{"m":"cpu","t":1700000000123456000,"v":1}"#,
    )
    .unwrap();
    assert_eq!(p.time_us, 1_700_000_000_123_456);
}

#[test]
fn field_names_are_lower_cased_by_default() {
    let p = point("", r#"{"m":"cpu","t":1,"CpuUsage":0.5,"Host_Name":"a"}"#).unwrap();
    assert_eq!(field_names(&p), ["cpuusage", "host_name"]);
}

#[test]
fn declared_fields_match_case_insensitively() {
    let p = point(
        "fields = [{ name = \"CpuUsage\", type = \"integer\" }]\nmap_all_fields = false",
        r#"{"m":"cpu","t":1,"CPUUSAGE":5}"#,
    )
    .unwrap();
    assert_eq!(p.fields, vec![("cpuusage".into(), FieldValue::Long(5))]);
}

#[test]
fn lower_casing_can_be_turned_off_and_then_uppercase_is_invalid() {
    let e = point(
        "lowercase_field_names = false",
        r#"{"m":"cpu","t":1,"CpuUsage":0.5}"#,
    )
    .unwrap_err();
    assert_eq!(e.reason_code(), "bad_field_name");
    let msg = e.to_string();
    assert!(
        msg.contains("\"CpuUsage\"")
            && msg.contains("uppercase")
            && msg.contains("lowercase_field_names = true"),
        "{msg}"
    );
}

#[test]
fn what_is_still_invalid_after_lower_casing_names_the_field_and_why() {
    let e = point("", r#"{"m":"cpu","t":1,"Cpu-Usage":0.5}"#).unwrap_err();
    assert_eq!(e.reason_code(), "bad_field_name");
    let msg = e.to_string();
    assert!(
        msg.starts_with(r#"field "Cpu-Usage" (lower-cased to "cpu-usage") is not a valid"#),
        "{msg}"
    );
    assert!(msg.contains("other than lowercase letters"), "{msg}");
    let e = point("", r#"{"m":"cpu","t":1,"_TIME":1}"#).unwrap_err();
    assert!(e.to_string().contains("reserved"), "{e}");
}

#[test]
fn two_fields_that_lower_case_to_one_name_are_an_error_naming_both() {
    let e = point("", r#"{"m":"cpu","t":1,"Temp":1,"temp":2}"#).unwrap_err();
    assert_eq!(e.reason_code(), "field_name_clash");
    assert_eq!(
        e.to_string(),
        "fields \"Temp\" and \"temp\" would both be written as the TimeSeries field \"temp\", \
         as field names are lower-cased (timeseries.lowercase_field_names = true); rename one \
         of them at the producer"
    );
    let e = point("", r#"{"m":"cpu","t":1,"TEMP":1,"Temp":2}"#).unwrap_err();
    assert!(e.to_string().contains("\"TEMP\" and \"Temp\""), "{e}");
}

#[test]
fn timeseries_numbers_beyond_64_bits_keep_digits_or_say_why() {
    let v = format!(r#"{{"m":"cpu","t":1,"n":{TWO_TO_70}}}"#);
    let p = point("keep_integers = true", &v).unwrap();
    assert_eq!(
        p.fields,
        vec![("n".into(), FieldValue::String(TWO_TO_70.into()))]
    );
    let e = point("fields = [{ name = \"n\", type = \"integer\" }]", &v).unwrap_err();
    assert_eq!(e.reason_code(), "bad_field_value");
    assert!(e.to_string().contains("an integer over 64 bits"), "{e}");
    let p = point("fields = [{ name = \"n\", type = \"string\" }]", &v).unwrap();
    assert_eq!(
        p.fields,
        vec![("n".into(), FieldValue::String(TWO_TO_70.into()))]
    );
    let e = point("", &format!(r#"{{"m":"cpu","t":{TWO_TO_70},"v":1}}"#)).unwrap_err();
    assert!(e.to_string().contains("beyond what microseconds"), "{e}");
}

#[test]
fn the_converter_entry_point_uses_these_rules() {
    let config: Config = toml::from_str(
        "[connector]\nname = \"t\"\n[kafka]\nbootstrap_servers = \"127.0.0.1:9092\"\ntopic = \"orders\"\n\
         [tablestore]\nendpoint = \"embedded\"\ntable = \"t\"\nmodel = \"timeseries\"\n\
         [timeseries]\nmetric_name_field = \"m\"\ntimestamp_field = \"t\"\ntimestamp_unit = \"nanoseconds\"\n",
    )
    .unwrap();
    let Converted::Point(p) = Converter::new(&config)
        .expect("converter builds")
        .convert(&record(
            None,
            Some(r#"{"m":"cpu","t":1700000000123456789,"Load":1}"#),
        ))
        .unwrap()
    else {
        panic!("a point")
    };
    assert_eq!(p.time_us, 1_700_000_000_123_456);
    assert_eq!(p.fields[0].0, "load");
}
