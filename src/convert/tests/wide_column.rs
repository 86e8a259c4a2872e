//! Wide Column rules: primary-key modes × formats, `json_conversion`,
//! nulls and deletes per write and delete mode, errors and limits.

use super::record;
use crate::config::WideColumnConfig;
use crate::convert::{ConvertError, Part, RowWrite, SetupError, WideColumnConverter};
use crate::tablestore::plainbuffer::{Cell, CellOp, PkValue, Value};
use crate::tablestore::proto::OperationType;

fn config(toml: &str) -> WideColumnConfig {
    toml::from_str(toml).expect("test config parses")
}

fn wc(toml: &str) -> WideColumnConverter {
    WideColumnConverter::new(&config(toml)).expect("converter builds")
}

fn ok(c: &WideColumnConverter, key: Option<&str>, value: Option<&str>) -> RowWrite {
    c.convert(&record(key, value)).expect("record converts")
}

fn err(c: &WideColumnConverter, key: Option<&str>, value: Option<&str>) -> ConvertError {
    c.convert(&record(key, value))
        .expect_err("record is rejected")
}

fn cell<'a>(w: &'a RowWrite, name: &str) -> &'a Cell {
    let mut found = w.row.cells.iter().filter(|c| c.name == name);
    let cell = found
        .next()
        .unwrap_or_else(|| panic!("no cell {name:?} in {w:?}"));
    assert!(found.next().is_none(), "cell {name:?} twice");
    cell
}

fn put(w: &RowWrite, name: &str) -> Value {
    let c = cell(w, name);
    assert_eq!(c.op, CellOp::Put);
    assert_eq!(c.timestamp_ms, None, "server-assigned versions");
    c.value.clone().expect("put carries a value")
}

fn s(v: &str) -> Value {
    Value::String(v.into())
}

fn names(w: &RowWrite) -> Vec<&str> {
    let mut n: Vec<&str> = w.row.cells.iter().map(|c| c.name.as_str()).collect();
    n.sort_unstable();
    n
}

const RECORD_KEY_ID: &str = r#"
primary_key_mode = "record_key"
primary_key = [{ name = "id", type = "integer" }]
"#;

// ----- primary-key modes -----

#[test]
fn kafka_mode_keys_by_topic_partition_and_offset() {
    let w = ok(&wc(""), None, Some(r#"{"a":"x"}"#));
    assert_eq!(w.op, OperationType::Put);
    assert!(!w.row.delete_marker);
    assert_eq!(
        w.row.primary_key,
        vec![
            (
                "topic_partition".to_owned(),
                PkValue::String("orders_3".into())
            ),
            ("offset".to_owned(), PkValue::Integer(42)),
        ]
    );
    assert_eq!(names(&w), ["a"]);
}

#[test]
fn kafka_mode_schema_is_the_two_fixed_columns() {
    let c = wc("");
    let cols: Vec<&str> = c
        .primary_key()
        .columns()
        .iter()
        .map(|c| c.name.as_str())
        .collect();
    assert_eq!(cols, ["topic_partition", "offset"]);
}

#[test]
fn kafka_mode_with_string_key_and_value_writes_key_and_value_columns() {
    let c = wc("key_format = \"string\"\nvalue_format = \"string\"");
    let w = ok(&c, Some("k-1"), Some("hello world"));
    assert_eq!(put(&w, "key"), s("k-1"));
    assert_eq!(put(&w, "value"), s("hello world"));
    // No key: just the value column.
    assert_eq!(names(&ok(&c, None, Some("v"))), ["value"]);
}

#[test]
fn json_key_fields_become_columns_and_clashes_keep_both() {
    let w = ok(
        &wc(""),
        Some(r#"{"a":"from key","k":"kk"}"#),
        Some(r#"{"a":"from value","b":"bb"}"#),
    );
    assert_eq!(names(&w), ["a", "b", "k", "key_a"]);
    assert_eq!(put(&w, "a"), s("from value"));
    assert_eq!(put(&w, "key_a"), s("from key"));
    assert_eq!(put(&w, "k"), s("kk"));
    assert_eq!(w.clashes.key_value, 1);
}

#[test]
fn fields_named_like_primary_key_columns_are_not_attributes() {
    let w = ok(
        &wc(""),
        None,
        Some(r#"{"offset":7,"topic_partition":"x","a":"1"}"#),
    );
    assert_eq!(names(&w), ["a"]);
    assert_eq!(w.row.primary_key[1].1, PkValue::Integer(42));
}

#[test]
fn record_key_mode_takes_named_key_fields_in_declared_order() {
    let c = wc(r#"
primary_key_mode = "record_key"
primary_key = [{ name = "tenant", type = "string" }, { name = "id", type = "integer" }]
"#);
    let w = ok(
        &c,
        Some(r#"{"id":7,"tenant":"acme","region":"eu"}"#),
        Some(r#"{"id":99,"amount":"5"}"#),
    );
    assert_eq!(
        w.row.primary_key,
        vec![
            ("tenant".to_owned(), PkValue::String("acme".into())),
            ("id".to_owned(), PkValue::Integer(7)),
        ]
    );
    // The value's "id" is not an attribute; the key's other fields are.
    assert_eq!(names(&w), ["amount", "region"]);
}

#[test]
fn record_value_mode_takes_named_value_fields() {
    let c = wc(r#"
primary_key_mode = "record_value"
primary_key = [{ name = "order_id", type = "string" }]
"#);
    let w = ok(&c, None, Some(r#"{"order_id":"o-1","total":"9.5"}"#));
    assert_eq!(
        w.row.primary_key,
        vec![("order_id".to_owned(), PkValue::String("o-1".into()))]
    );
    assert_eq!(names(&w), ["total"]);
}

#[test]
fn string_key_with_one_pk_column_is_the_whole_key() {
    let c = wc(r#"
key_format = "string"
primary_key_mode = "record_key"
primary_key = [{ name = "user", type = "string" }]
"#);
    let w = ok(&c, Some("alice {not json}"), Some(r#"{"a":"1"}"#));
    assert_eq!(
        w.row.primary_key,
        vec![(
            "user".to_owned(),
            PkValue::String("alice {not json}".into())
        )]
    );
    assert_eq!(
        names(&w),
        ["a"],
        "the whole key is not also a \"key\" column"
    );
}

#[test]
fn string_key_as_integer_pk_is_parsed() {
    let c = wc(r#"
key_format = "string"
primary_key_mode = "record_key"
primary_key = [{ name = "id", type = "integer" }]
"#);
    for (key, id) in [
        ("123", 123),
        ("-5", -5),
        ("+8", 8),
        ("9223372036854775807", i64::MAX),
    ] {
        let w = ok(&c, Some(key), Some(r#"{"a":"1"}"#));
        assert_eq!(w.row.primary_key[0].1, PkValue::Integer(id), "{key}");
    }
    for key in ["12a", "1.0", " 12", "", "9223372036854775808"] {
        let e = err(&c, Some(key), Some(r#"{"a":"1"}"#));
        assert_eq!(e.reason_code(), "bad_pk_type", "{key:?}");
        assert!(e.to_string().contains("\"id\""), "{e}");
    }
}

#[test]
fn string_value_with_one_pk_column_is_the_whole_value() {
    let c = wc(r#"
key_format = "string"
value_format = "string"
primary_key_mode = "record_value"
primary_key = [{ name = "v", type = "string" }]
"#);
    let w = ok(&c, Some("k"), Some("the value"));
    assert_eq!(
        w.row.primary_key,
        vec![("v".to_owned(), PkValue::String("the value".into()))]
    );
    assert_eq!(names(&w), ["key"]);
    // Without a key, put writes the primary key alone (overwrite mode).
    assert!(ok(&c, None, Some("the value")).row.cells.is_empty());
}

#[test]
fn integer_pk_accepts_json_integers_and_integer_strings() {
    let c = wc(RECORD_KEY_ID);
    for (key, id) in [
        (r#"{"id":123}"#, 123),
        (r#"{"id":-5}"#, -5),
        (r#"{"id":"123"}"#, 123),
        (r#"{"id":"-5"}"#, -5),
        (r#"{"id":-9223372036854775808}"#, i64::MIN),
    ] {
        assert_eq!(
            ok(&c, Some(key), Some(r#"{"a":"1"}"#)).row.primary_key[0].1,
            PkValue::Integer(id)
        );
    }
}

#[test]
fn integer_pk_rejects_floats_objects_arrays_booleans_and_bad_strings() {
    let c = wc(RECORD_KEY_ID);
    for (key, found) in [
        (r#"{"id":1.5}"#, "the float 1.5"),
        (r#"{"id":1.0}"#, "the float 1.0"),
        (r#"{"id":1e3}"#, "the float 1e+3"),
        (r#"{"id":{"n":1}}"#, r#"the object {"n":1}"#),
        (r#"{"id":[1]}"#, "the array [1]"),
        (r#"{"id":true}"#, "the boolean true"),
        (r#"{"id":"12x"}"#, r#"the string "12x""#),
        (r#"{"id":" 12"}"#, r#"the string " 12""#),
        (
            r#"{"id":18446744073709551615}"#,
            "an integer beyond the signed 64-bit range (18446744073709551615)",
        ),
    ] {
        let e = err(&c, Some(key), Some(r#"{"a":"1"}"#));
        assert_eq!(e.reason_code(), "bad_pk_type", "{key}");
        let msg = e.to_string();
        assert!(
            msg.contains(found) && msg.contains("\"id\"") && msg.contains("record key"),
            "{msg}"
        );
        assert!(msg.contains("declared integer"), "{msg}");
    }
}

#[test]
fn missing_or_null_pk_field_is_an_error_naming_it() {
    let c = wc(RECORD_KEY_ID);
    let e = err(&c, Some(r#"{"other":1}"#), Some(r#"{"a":"1"}"#));
    assert_eq!(e.reason_code(), "missing_pk_field");
    assert_eq!(
        e,
        ConvertError::MissingPkField {
            part: Part::Key,
            field: "id".into(),
            problem: "missing"
        }
    );
    assert!(
        e.to_string()
            .contains("\"id\" is missing in the record key"),
        "{e}"
    );
    let e = err(&c, Some(r#"{"id":null}"#), Some(r#"{"a":"1"}"#));
    assert_eq!(e.reason_code(), "missing_pk_field");
    assert!(e.to_string().contains("is null"), "{e}");
}

#[test]
fn string_pk_renders_numbers_and_booleans_as_text() {
    let c = wc(r#"
primary_key_mode = "record_value"
primary_key = [{ name = "id", type = "string" }]
"#);
    for (v, text) in [
        (r#"{"id":"x","a":"1"}"#, "x"),
        (r#"{"id":12,"a":"1"}"#, "12"),
        (r#"{"id":1.5,"a":"1"}"#, "1.5"),
        (r#"{"id":false,"a":"1"}"#, "false"),
    ] {
        assert_eq!(
            ok(&c, None, Some(v)).row.primary_key[0].1,
            PkValue::String(text.into())
        );
    }
    for v in [r#"{"id":{"a":1},"a":"1"}"#, r#"{"id":[],"a":"1"}"#] {
        let e = err(&c, None, Some(v));
        assert_eq!(e.reason_code(), "bad_pk_type");
        assert!(
            e.to_string().contains("record value") && e.to_string().contains("declared string"),
            "{e}"
        );
    }
    assert_eq!(
        err(&c, None, Some(r#"{"id":null,"a":"1"}"#)).reason_code(),
        "missing_pk_field"
    );
    assert_eq!(
        err(&c, None, Some(r#"{"a":"1"}"#)).reason_code(),
        "missing_pk_field"
    );
}

#[test]
fn pk_string_values_are_limited_to_1024_bytes() {
    let c = wc(r#"
primary_key_mode = "record_value"
primary_key = [{ name = "id", type = "string" }]
"#);
    let fits = format!(r#"{{"id":"{}","a":"1"}}"#, "x".repeat(1024));
    assert!(c.convert(&record(None, Some(&fits))).is_ok());
    let big = format!(r#"{{"id":"{}","a":"1"}}"#, "x".repeat(1025));
    let e = err(&c, None, Some(&big));
    assert_eq!(e.reason_code(), "pk_too_large");
    assert!(e.to_string().contains("1025 bytes"), "{e}");
}

#[test]
fn record_key_mode_needs_a_key() {
    let e = err(&wc(RECORD_KEY_ID), None, Some(r#"{"a":"1"}"#));
    assert_eq!(e, ConvertError::MissingKey);
    assert_eq!(e.reason_code(), "missing_key");
}

// ----- json_conversion -----

const MIXED: &str = r#"{"s":"text","i":42,"neg":-7,"f":1.5,"t":true,"big":18446744073709551615,
    "obj":{"b":[1,2],"a":null},"arr":[1,"x",{"y":false}]}"#;

#[test]
fn string_conversion_writes_every_value_as_text() {
    let w = ok(&wc("json_conversion = \"string\""), None, Some(MIXED));
    assert_eq!(put(&w, "s"), s("text"));
    assert_eq!(put(&w, "i"), s("42"));
    assert_eq!(put(&w, "neg"), s("-7"));
    assert_eq!(put(&w, "f"), s("1.5"));
    assert_eq!(put(&w, "t"), s("true"));
    assert_eq!(put(&w, "big"), s("18446744073709551615"));
    assert_eq!(put(&w, "obj"), s(r#"{"a":null,"b":[1,2]}"#));
    assert_eq!(put(&w, "arr"), s(r#"[1,"x",{"y":false}]"#));
}

#[test]
fn string_conversion_is_the_default() {
    assert_eq!(put(&ok(&wc(""), None, Some(r#"{"i":1}"#)), "i"), s("1"));
}

#[test]
fn auto_conversion_detects_types_with_numbers_as_doubles() {
    let w = ok(&wc("json_conversion = \"auto\""), None, Some(MIXED));
    assert_eq!(put(&w, "s"), s("text"));
    assert_eq!(put(&w, "i"), Value::Double(42.0));
    assert_eq!(put(&w, "neg"), Value::Double(-7.0));
    assert_eq!(put(&w, "f"), Value::Double(1.5));
    assert_eq!(put(&w, "t"), Value::Boolean(true));
    // No cell type holds it: its digits, as STRING.
    assert_eq!(put(&w, "big"), s("18446744073709551615"));
    assert_eq!(put(&w, "obj"), s(r#"{"a":null,"b":[1,2]}"#));
    assert_eq!(put(&w, "arr"), s(r#"[1,"x",{"y":false}]"#));
}

#[test]
fn auto_with_keep_integers_keeps_i64_integers() {
    let w = ok(
        &wc("json_conversion = \"auto\"\nkeep_integers = true"),
        None,
        Some(MIXED),
    );
    assert_eq!(put(&w, "i"), Value::Integer(42));
    assert_eq!(put(&w, "neg"), Value::Integer(-7));
    assert_eq!(put(&w, "f"), Value::Double(1.5));
    // Beyond i64: its digits, as STRING (never a rounded DOUBLE).
    assert_eq!(put(&w, "big"), s("18446744073709551615"));
}

#[test]
fn keep_integers_does_not_change_string_conversion() {
    let w = ok(&wc("keep_integers = true"), None, Some(r#"{"i":42}"#));
    assert_eq!(put(&w, "i"), s("42"));
}

#[test]
fn json_key_fields_follow_the_conversion_too() {
    let w = ok(
        &wc("json_conversion = \"auto\"\nkeep_integers = true"),
        Some(r#"{"k":5}"#),
        Some(r#"{"a":"x"}"#),
    );
    assert_eq!(put(&w, "k"), Value::Integer(5));
}

// ----- write modes, nulls and deletes -----

fn mode(write: &str, delete: &str) -> WideColumnConverter {
    wc(&format!(
        "{RECORD_KEY_ID}\nwrite_mode = \"{write}\"\ndelete_mode = \"{delete}\""
    ))
}

const DELETE_MODES: [&str; 4] = ["none", "row", "column", "row_and_column"];
const KEY: Option<&str> = Some(r#"{"id":1}"#);

#[test]
fn write_mode_selects_the_operation() {
    assert_eq!(
        ok(&mode("put", "none"), KEY, Some(r#"{"a":"1"}"#)).op,
        OperationType::Put
    );
    assert_eq!(
        ok(&mode("update", "none"), KEY, Some(r#"{"a":"1"}"#)).op,
        OperationType::Update
    );
}

#[test]
fn put_mode_skips_null_fields_in_every_delete_mode() {
    for d in DELETE_MODES {
        let w = ok(&mode("put", d), KEY, Some(r#"{"a":"1","gone":null}"#));
        assert_eq!(names(&w), ["a"], "delete_mode {d}");
    }
}

#[test]
fn update_mode_deletes_null_columns_when_delete_mode_allows() {
    for d in ["column", "row_and_column"] {
        let w = ok(&mode("update", d), KEY, Some(r#"{"a":"1","gone":null}"#));
        assert_eq!(w.op, OperationType::Update);
        assert_eq!(put(&w, "a"), s("1"));
        assert_eq!(
            cell(&w, "gone"),
            &Cell::delete_all("gone"),
            "delete_mode {d}"
        );
    }
}

#[test]
fn update_mode_skips_null_columns_otherwise() {
    for d in ["none", "row"] {
        let w = ok(&mode("update", d), KEY, Some(r#"{"a":"1","gone":null}"#));
        assert_eq!(names(&w), ["a"], "delete_mode {d}");
    }
}

#[test]
fn all_null_in_update_mode_without_column_deletes_is_an_error() {
    for d in ["none", "row"] {
        let e = err(&mode("update", d), KEY, Some(r#"{"a":null,"b":null}"#));
        assert_eq!(e, ConvertError::AllNull { count: 2 }, "delete_mode {d}");
        assert_eq!(e.reason_code(), "all_null");
        assert!(e.to_string().contains("delete_mode is \"column\""), "{e}");
    }
}

#[test]
fn all_null_in_update_mode_with_column_deletes_deletes_them() {
    for d in ["column", "row_and_column"] {
        let w = ok(&mode("update", d), KEY, Some(r#"{"a":null,"b":null}"#));
        assert_eq!(
            w.row.cells,
            vec![Cell::delete_all("a"), Cell::delete_all("b")],
            "delete_mode {d}"
        );
    }
}

#[test]
fn all_null_in_put_mode_writes_the_primary_key_alone() {
    // The page: with put, records with empty values are exported in
    // overwrite mode.
    for d in DELETE_MODES {
        let w = ok(&mode("put", d), KEY, Some(r#"{"a":null,"b":null}"#));
        assert_eq!(w.op, OperationType::Put, "delete_mode {d}");
        assert!(w.row.cells.is_empty(), "delete_mode {d}: {w:?}");
        assert_eq!(
            w.row.primary_key,
            vec![("id".to_owned(), PkValue::Integer(1))]
        );
    }
}

#[test]
fn a_record_with_no_fields_is_a_key_only_put_and_no_columns_in_update() {
    assert!(ok(&wc(""), None, Some("{}")).row.cells.is_empty());
    // Only primary-key fields.
    let c = wc("primary_key_mode = \"record_value\"\nprimary_key = [{ name = \"id\", type = \"integer\" }]");
    assert!(ok(&c, None, Some(r#"{"id":1}"#)).row.cells.is_empty());
    let e = err(&mode("update", "row_and_column"), KEY, Some("{}"));
    assert_eq!(e.reason_code(), "no_columns");
    assert!(
        e.to_string().contains("no fields besides the primary key"),
        "{e}"
    );
}

#[test]
fn tombstone_deletes_the_row_with_record_key_and_row_deletes() {
    for w_mode in ["put", "update"] {
        for d in ["row", "row_and_column"] {
            let w = ok(&mode(w_mode, d), Some(r#"{"id":7,"x":"ignored"}"#), None);
            assert_eq!(w.op, OperationType::Delete, "{w_mode}/{d}");
            assert!(w.row.delete_marker);
            assert!(w.row.cells.is_empty());
            assert_eq!(
                w.row.primary_key,
                vec![("id".to_owned(), PkValue::Integer(7))]
            );
        }
    }
}

#[test]
fn tombstone_with_a_string_key_deletes_by_the_whole_key() {
    let c = wc(r#"
key_format = "string"
primary_key_mode = "record_key"
primary_key = [{ name = "user", type = "string" }]
delete_mode = "row"
"#);
    let w = ok(&c, Some("alice"), None);
    assert_eq!(w.op, OperationType::Delete);
    assert_eq!(
        w.row.primary_key,
        vec![("user".to_owned(), PkValue::String("alice".into()))]
    );
}

#[test]
fn tombstone_without_row_deletes_is_an_error_saying_how_to_enable_them() {
    for w_mode in ["put", "update"] {
        for d in ["none", "column"] {
            let e = err(&mode(w_mode, d), KEY, None);
            assert_eq!(e.reason_code(), "tombstone", "{w_mode}/{d}");
            let msg = e.to_string();
            assert!(
                msg.contains("delete_mode = \"row\" or \"row_and_column\""),
                "{msg}"
            );
        }
    }
}

#[test]
fn tombstone_outside_record_key_mode_is_an_error() {
    let e = err(&wc(""), Some(r#"{"a":1}"#), None);
    assert_eq!(e.reason_code(), "tombstone");
    assert!(
        e.to_string().contains("primary_key_mode = \"record_key\""),
        "{e}"
    );
    let c = wc("primary_key_mode = \"record_value\"\nprimary_key = [{ name = \"id\", type = \"integer\" }]");
    assert_eq!(err(&c, None, None).reason_code(), "tombstone");
}

#[test]
fn tombstone_delete_needs_a_key() {
    assert_eq!(
        err(&mode("put", "row"), None, None),
        ConvertError::MissingKey
    );
    assert_eq!(
        err(&mode("put", "row"), Some(r#"{"x":1}"#), None).reason_code(),
        "missing_pk_field"
    );
}

// ----- decoding errors -----

#[test]
fn invalid_json_value_is_an_error() {
    let e = err(&wc(""), None, Some("{not json"));
    assert_eq!(e.reason_code(), "invalid_json");
    assert!(
        e.to_string().contains("record value is not valid JSON"),
        "{e}"
    );
}

#[test]
fn non_object_json_value_is_an_error() {
    for (v, found) in [
        ("[1,2]", "array"),
        ("42", "integer"),
        ("\"s\"", "string"),
        ("null", "null"),
        ("true", "boolean"),
    ] {
        let e = err(&wc(""), None, Some(v));
        assert_eq!(e.reason_code(), "not_an_object", "{v}");
        let msg = e.to_string();
        assert!(
            msg.contains("value must be a JSON object") && msg.contains(found),
            "{msg}"
        );
    }
}

#[test]
fn invalid_json_key_is_an_error_even_in_kafka_mode() {
    let e = err(&wc(""), Some("plain-key"), Some(r#"{"a":"1"}"#));
    assert_eq!(e.reason_code(), "invalid_json");
    assert!(e.to_string().contains("key_format = \"string\""), "{e}");
}

#[test]
fn empty_json_key_counts_as_no_key() {
    assert_eq!(names(&ok(&wc(""), Some(""), Some(r#"{"a":"1"}"#))), ["a"]);
}

#[test]
fn string_format_needs_utf8() {
    let c = wc("value_format = \"string\"");
    let r = crate::convert::Record {
        value: Some(b"\xc3\x28"),
        ..record(None, None)
    };
    let e = c.convert(&r).unwrap_err();
    assert_eq!(e.reason_code(), "invalid_utf8");
}

// ----- limits -----

#[test]
fn column_names_must_be_valid_with_a_suggested_fix() {
    let e = err(&wc(""), None, Some(r#"{"user-id":"1"}"#));
    assert_eq!(e.reason_code(), "bad_column_name");
    let msg = e.to_string();
    assert!(
        msg.contains("\"user-id\"") && msg.contains("\"user_id\""),
        "{msg}"
    );
    assert_eq!(
        err(&wc(""), None, Some(r#"{"1st":"1"}"#)).reason_code(),
        "bad_column_name"
    );
    assert_eq!(
        err(&wc(""), None, Some(r#"{"":"1"}"#)).reason_code(),
        "bad_column_name"
    );
    let ok_name = format!(r#"{{"{}":"1"}}"#, "c".repeat(255));
    assert!(wc("").convert(&record(None, Some(&ok_name))).is_ok());
    let long_name = format!(r#"{{"{}":"1"}}"#, "c".repeat(256));
    assert_eq!(
        err(&wc(""), None, Some(&long_name)).reason_code(),
        "bad_column_name"
    );
}

#[test]
fn skipped_nulls_do_not_need_valid_names() {
    assert_eq!(
        names(&ok(&wc(""), None, Some(r#"{"a":"1","bad-name":null}"#))),
        ["a"]
    );
}

#[test]
fn values_are_limited_to_2_mib() {
    let limit = 2 * 1024 * 1024;
    let fits = format!(r#"{{"a":"{}"}}"#, "x".repeat(limit));
    assert!(wc("").convert(&record(None, Some(&fits))).is_ok());
    let big = format!(r#"{{"a":"{}"}}"#, "x".repeat(limit + 1));
    let e = err(&wc(""), None, Some(&big));
    assert_eq!(e.reason_code(), "value_too_large");
    assert!(e.to_string().contains("column \"a\""), "{e}");
}

#[test]
fn rows_are_limited_to_about_4_mib() {
    let part = "x".repeat(1536 * 1024);
    let v = format!(r#"{{"a":"{part}","b":"{part}","c":"{part}"}}"#);
    assert_eq!(err(&wc(""), None, Some(&v)).reason_code(), "row_too_large");
}

#[test]
fn at_most_1024_columns() {
    let obj = |n: usize| {
        let fields: Vec<String> = (0..n).map(|i| format!(r#""c{i}":"v""#)).collect();
        format!("{{{}}}", fields.join(","))
    };
    assert_eq!(ok(&wc(""), None, Some(&obj(1024))).row.cells.len(), 1024);
    let e = err(&wc(""), None, Some(&obj(1025)));
    assert_eq!(e.reason_code(), "too_many_columns");
    assert!(e.to_string().contains("1025 columns"), "{e}");
}

// ----- setup -----

#[test]
fn setup_rejects_unusable_primary_keys() {
    let new = |t: &str| {
        WideColumnConverter::new(&config(t))
            .map(|_| ())
            .unwrap_err()
    };
    assert_eq!(
        new("primary_key_mode = \"record_key\""),
        SetupError::PrimaryKeyCount {
            mode: "record_key",
            count: 0
        }
    );
    let five: Vec<String> = (0..5)
        .map(|i| format!("{{ name = \"k{i}\", type = \"string\" }}"))
        .collect();
    assert_eq!(
        new(&format!(
            "primary_key_mode = \"record_value\"\nprimary_key = [{}]",
            five.join(",")
        )),
        SetupError::PrimaryKeyCount {
            mode: "record_value",
            count: 5
        }
    );
    let e = new(r#"
key_format = "string"
primary_key_mode = "record_key"
primary_key = [{ name = "a", type = "string" }, { name = "b", type = "string" }]
"#);
    assert_eq!(
        e,
        SetupError::WholeStringKey {
            part: Part::Key,
            count: 2
        }
    );
    assert!(e.to_string().contains("key_format = \"json\""), "{e}");
}
