//! JSON values as Tablestore cell values, with the two `json_conversion`
//! rules and the compact text used for nested values.
//!
//! * `string`: every value is STRING. Strings are kept as they are,
//!   numbers become their JSON text, booleans `"true"`/`"false"`, objects
//!   and arrays their compact JSON text (`{"a":1}`, never a debug
//!   rendering).
//! * `auto`: strings → STRING, booleans → BOOLEAN, numbers → DOUBLE as the
//!   product page documents; with `keep_integers`, JSON integers that fit
//!   in an i64 → INTEGER. Objects and arrays → STRING (compact JSON).
//!
//! JSON `null` has no value here (`None`): whether it skips or deletes a
//! column is the caller's decision.
//!
//! Number text is serde_json's rendering of the parsed number, not the
//! producer's bytes (the `arbitrary_precision` feature is off): `1.50`
//! becomes `"1.5"`, `1E3` becomes `"1000.0"`, integers keep all digits.

use serde_json::{Map, Number, Value as Json};

use crate::config::JsonConversion;
use crate::tablestore::plainbuffer::Value;

/// The longest value excerpt quoted in an error message.
const SNIPPET_CHARS: usize = 64;

/// Parses `bytes` as one JSON document.
pub fn parse(bytes: &[u8]) -> Result<Json, String> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(format!("it is empty ({} bytes)", bytes.len()));
    }
    serde_json::from_slice(bytes).map_err(|e| e.to_string())
}

/// Parses `bytes` as a JSON object; `Err(Ok(type))` says which other JSON
/// type it was, `Err(Err(detail))` that it is not JSON at all.
pub fn parse_object(bytes: &[u8]) -> Result<Map<String, Json>, Result<&'static str, String>> {
    match parse(bytes).map_err(Err)? {
        Json::Object(map) => Ok(map),
        other => Err(Ok(type_name(&other))),
    }
}

/// The JSON type of `v`, as error messages name it.
pub fn type_name(v: &Json) -> &'static str {
    match v {
        Json::Null => "null",
        Json::Bool(_) => "boolean",
        Json::Number(n) if n.is_f64() => "float",
        Json::Number(_) => "integer",
        Json::String(_) => "string",
        Json::Array(_) => "array",
        Json::Object(_) => "object",
    }
}

/// Compact JSON text of `v` (no spaces, keys in the parsed map's order).
pub fn compact(v: &Json) -> String {
    // Serializing a `serde_json::Value` into a String cannot fail: keys are
    // strings and numbers are finite.
    serde_json::to_string(v).unwrap_or_default()
}

/// The JSON text of a number: integers with all their digits, floats in
/// serde_json's shortest round-trip form (`1.5`, `1e20`, `1000.0`).
pub fn number_text(n: &Number) -> String {
    n.to_string()
}

/// `v` as text: strings as they are, numbers and booleans as their JSON
/// text, objects and arrays as compact JSON; `None` for null.
pub fn text(v: &Json) -> Option<String> {
    match v {
        Json::Null => None,
        Json::String(s) => Some(s.clone()),
        Json::Bool(b) => Some(b.to_string()),
        Json::Number(n) => Some(number_text(n)),
        Json::Array(_) | Json::Object(_) => Some(compact(v)),
    }
}

/// `v` as a cell value under `conversion`; `None` for null.
pub fn to_value(v: &Json, conversion: JsonConversion, keep_integers: bool) -> Option<Value> {
    match conversion {
        JsonConversion::String => text(v).map(Value::String),
        JsonConversion::Auto => detect(v, keep_integers),
    }
}

/// The detected (`auto`) cell value of `v`; `None` for null.
pub fn detect(v: &Json, keep_integers: bool) -> Option<Value> {
    Some(match v {
        Json::Null => return None,
        Json::String(s) => Value::String(s.clone()),
        Json::Bool(b) => Value::Boolean(*b),
        Json::Number(n) => number_value(n, keep_integers),
        Json::Array(_) | Json::Object(_) => Value::String(compact(v)),
    })
}

/// A number as DOUBLE, or as INTEGER when `keep_integers` and it is an
/// integer that fits in an i64. An integer above `i64::MAX` (serde_json
/// holds it as a u64) cannot be an INTEGER cell, so it stays DOUBLE, as
/// every number would without the option; it may lose precision there,
/// like any integer beyond 2^53 does as a DOUBLE.
pub fn number_value(n: &Number, keep_integers: bool) -> Value {
    if keep_integers {
        if let Some(i) = n.as_i64() {
            return Value::Integer(i);
        }
    }
    // `as_f64` is always `Some` without `arbitrary_precision`.
    Value::Double(n.as_f64().unwrap_or(f64::NAN))
}

/// A short excerpt of `v` for an error message: compact JSON, cut at
/// [`SNIPPET_CHARS`] characters with an ellipsis.
pub fn snippet(v: &Json) -> String {
    shorten(&compact(v))
}

/// `s` cut at [`SNIPPET_CHARS`] characters with an ellipsis.
pub fn shorten(s: &str) -> String {
    match s.char_indices().nth(SNIPPET_CHARS) {
        Some((cut, _)) => format!("{}…", &s[..cut]),
        None => s.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn string_conversion_renders_every_type_as_text() {
        let s = |v: Json| to_value(&v, JsonConversion::String, true);
        assert_eq!(s(json!("héllo")), Some(Value::String("héllo".into())));
        assert_eq!(s(json!(42)), Some(Value::String("42".into())));
        assert_eq!(s(json!(-7)), Some(Value::String("-7".into())));
        assert_eq!(s(json!(1.5)), Some(Value::String("1.5".into())));
        assert_eq!(s(json!(true)), Some(Value::String("true".into())));
        assert_eq!(s(json!(false)), Some(Value::String("false".into())));
        assert_eq!(s(json!(null)), None);
    }

    #[test]
    fn nested_values_are_compact_json_not_debug_output() {
        let v: Json = serde_json::from_str(r#"{ "b" : [1, 2.5, "x"], "a": {"c": null} }"#).unwrap();
        let expected = r#"{"a":{"c":null},"b":[1,2.5,"x"]}"#;
        assert_eq!(
            to_value(&v, JsonConversion::String, false),
            Some(Value::String(expected.into()))
        );
        assert_eq!(
            to_value(&v, JsonConversion::Auto, true),
            Some(Value::String(expected.into()))
        );
        assert_eq!(
            detect(&json!([1, [2]]), false),
            Some(Value::String("[1,[2]]".into()))
        );
    }

    #[test]
    fn auto_conversion_detects_types_and_numbers_are_doubles() {
        let a = |v: Json| detect(&v, false);
        assert_eq!(a(json!("s")), Some(Value::String("s".into())));
        assert_eq!(a(json!(true)), Some(Value::Boolean(true)));
        assert_eq!(a(json!(3)), Some(Value::Double(3.0)));
        assert_eq!(a(json!(-2.25)), Some(Value::Double(-2.25)));
        assert_eq!(a(json!(null)), None);
    }

    #[test]
    fn keep_integers_keeps_i64_and_sends_larger_u64_to_double() {
        let k = |v: Json| detect(&v, true);
        assert_eq!(k(json!(3)), Some(Value::Integer(3)));
        assert_eq!(k(json!(i64::MIN)), Some(Value::Integer(i64::MIN)));
        assert_eq!(k(json!(i64::MAX)), Some(Value::Integer(i64::MAX)));
        assert_eq!(k(json!(u64::MAX)), Some(Value::Double(u64::MAX as f64)));
        // A float with a zero fraction is still a float.
        assert_eq!(k(json!(2.0)), Some(Value::Double(2.0)));
    }

    #[test]
    fn number_text_is_serde_json_rendering() {
        let n = |s: &str| number_text(&serde_json::from_str::<Number>(s).unwrap());
        assert_eq!(n("1.50"), "1.5");
        assert_eq!(n("1E3"), "1000.0");
        assert_eq!(n("18446744073709551615"), "18446744073709551615");
        // serde_json keeps the sign of zero by parsing "-0" as a float.
        assert_eq!(n("-0"), "-0.0");
    }

    #[test]
    fn parse_reports_empty_and_invalid_input() {
        assert!(parse(b"").unwrap_err().contains("empty"));
        assert!(parse(b"  \n").unwrap_err().contains("empty"));
        assert!(parse(b"{").is_err());
        assert_eq!(parse_object(b"[1]").unwrap_err(), Ok("array"));
        assert_eq!(parse_object(b"1.5").unwrap_err(), Ok("float"));
        assert!(parse_object(b"{\"a\":1}").is_ok());
    }

    #[test]
    fn snippets_are_bounded() {
        let long = "x".repeat(1000);
        let s = snippet(&json!(long));
        assert_eq!(s.chars().count(), SNIPPET_CHARS + 1);
        assert!(s.ends_with('…'));
        assert_eq!(snippet(&json!({"a": 1})), r#"{"a":1}"#);
    }
}
