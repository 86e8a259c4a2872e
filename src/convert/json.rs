//! JSON values as Tablestore cell values, with the two `json_conversion`
//! rules and the compact text used for nested values.
//!
//! * `string`: every value is STRING. Strings are kept as they are,
//!   numbers become their JSON text, booleans `"true"`/`"false"`, objects
//!   and arrays their compact JSON text (`{"a":1}`, never a debug
//!   rendering).
//! * `auto`: strings → STRING, booleans → BOOLEAN, numbers → DOUBLE as the
//!   product page documents; with `keep_integers`, JSON integers that fit
//!   in an i64 → INTEGER. Objects and arrays → STRING (compact JSON). A
//!   number no cell type can hold (an integer outside the signed 64-bit
//!   range, a float beyond the DOUBLE range) → STRING with its exact text,
//!   so no digit is lost in any mode.
//!
//! JSON `null` has no value here (`None`): whether it skips or deletes a
//! column is the caller's decision.
//!
//! Numbers keep the producer's digits (serde_json's `arbitrary_precision`):
//! `1.50` stays `"1.50"`, `1180591620717411303424` (2^70) keeps every
//! digit; only an exponent is written one way (`1E3` → `"1e+3"`). [`classify`] says
//! what a number is from that text.

use serde_json::{Map, Number, Value as Json};

use crate::config::JsonConversion;
use crate::tablestore::plainbuffer::Value;

/// The longest value excerpt quoted in an error message.
const SNIPPET_CHARS: usize = 64;

/// Why bytes are not a JSON document.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ParseError {
    /// Not UTF-8 at all (JSON is UTF-8 text): where the first bad byte is.
    NotUtf8(String),
    /// UTF-8, but not JSON (empty, or a syntax error).
    Syntax(String),
}

/// Parses `bytes` as one JSON document. Bytes that are not UTF-8 are
/// reported as such (serde_json would say "expected value at line 1
/// column 1"); checking first costs nothing, as `from_str` then skips its
/// own UTF-8 validation.
pub fn parse(bytes: &[u8]) -> Result<Json, ParseError> {
    let text = utf8(bytes).map_err(ParseError::NotUtf8)?;
    if text.bytes().all(|b| b.is_ascii_whitespace()) {
        return Err(ParseError::Syntax(format!(
            "it is empty ({} bytes)",
            bytes.len()
        )));
    }
    serde_json::from_str(text).map_err(|e| ParseError::Syntax(e.to_string()))
}

/// `bytes` as UTF-8, or where the first invalid byte is.
pub fn utf8(bytes: &[u8]) -> Result<&str, String> {
    std::str::from_utf8(bytes).map_err(|e| {
        let at = e.valid_up_to();
        match e.error_len() {
            Some(_) => format!("invalid byte 0x{:02x} at offset {at}", bytes[at]),
            None => format!("incomplete character at offset {at}, the end of the data"),
        }
    })
}

/// Why bytes are not a JSON object.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ObjectError {
    Parse(ParseError),
    /// A JSON document of another type (`"array"`, `"integer"`, ...).
    NotAnObject(&'static str),
}

/// Parses `bytes` as a JSON object.
pub fn parse_object(bytes: &[u8]) -> Result<Map<String, Json>, ObjectError> {
    match parse(bytes).map_err(ObjectError::Parse)? {
        Json::Object(map) => Ok(map),
        other => Err(ObjectError::NotAnObject(type_name(&other))),
    }
}

/// What a JSON number is, read from its text.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum NumberKind {
    /// An integer in the signed 64-bit range (an INTEGER cell).
    Int(i64),
    /// An integer outside it; `over_64_bits` when it does not fit a u64
    /// either (2^70), else it is between 2^63 and 2^64 - 1.
    WideInt { over_64_bits: bool },
    /// A number with a fraction or exponent, within the DOUBLE range.
    Float(f64),
    /// A number with a fraction or exponent beyond the DOUBLE range (1e400).
    HugeFloat,
}

/// Classifies `n` by its text.
pub fn classify(n: &Number) -> NumberKind {
    classify_text(n.as_str())
}

/// Classifies a number from its JSON text, as serde_json's
/// `arbitrary_precision` `Number` reads it (`as_i64`, `as_u64`, `as_f64`
/// parse the text).
pub fn classify_text(text: &str) -> NumberKind {
    if let Ok(i) = text.parse::<i64>() {
        return NumberKind::Int(i);
    }
    if !text.contains(['.', 'e', 'E']) {
        return NumberKind::WideInt {
            over_64_bits: text.parse::<u64>().is_err(),
        };
    }
    match text.parse::<f64>() {
        Ok(f) if f.is_finite() => NumberKind::Float(f),
        _ => NumberKind::HugeFloat,
    }
}

/// How an out-of-range number is described in error messages.
pub fn range_problem(kind: NumberKind) -> Option<&'static str> {
    match kind {
        NumberKind::WideInt { over_64_bits: true } => Some("an integer over 64 bits"),
        NumberKind::WideInt {
            over_64_bits: false,
        } => Some("an integer beyond the signed 64-bit range"),
        NumberKind::HugeFloat => Some("a number beyond the DOUBLE range"),
        NumberKind::Int(_) | NumberKind::Float(_) => None,
    }
}

/// The JSON type of `v`, as error messages name it.
pub fn type_name(v: &Json) -> &'static str {
    match v {
        Json::Null => "null",
        Json::Bool(_) => "boolean",
        Json::Number(n) => match classify(n) {
            NumberKind::Int(_) | NumberKind::WideInt { .. } => "integer",
            NumberKind::Float(_) | NumberKind::HugeFloat => "float",
        },
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

/// The JSON text of a number: the producer's digits (an exponent is
/// written `e+N` / `e-N`).
pub fn number_text(n: &Number) -> String {
    n.as_str().to_owned()
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
/// integer in the signed 64-bit range. A number neither type can hold (an
/// integer outside that range, a float beyond the DOUBLE range) is a
/// STRING with its exact text: a DOUBLE would round it, silently.
/// (Integers between 2^53 and 2^63 as DOUBLE round like any DOUBLE: that
/// is what `auto` without `keep_integers` promises.)
pub fn number_value(n: &Number, keep_integers: bool) -> Value {
    number_text_value(n.as_str(), keep_integers)
}

/// [`number_value`] of a number given by its text (as serde_json keeps it).
pub fn number_text_value(text: &str, keep_integers: bool) -> Value {
    match classify_text(text) {
        NumberKind::Int(i) if keep_integers => Value::Integer(i),
        NumberKind::Int(i) => Value::Double(i as f64),
        NumberKind::Float(f) => Value::Double(f),
        NumberKind::WideInt { .. } | NumberKind::HugeFloat => Value::String(text.to_owned()),
    }
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

    fn number(s: &str) -> Number {
        serde_json::from_str::<Number>(s).unwrap()
    }

    #[test]
    fn keep_integers_keeps_i64_and_wider_integers_keep_their_digits() {
        let k = |v: &str| detect(&serde_json::from_str(v).unwrap(), true);
        assert_eq!(k("3"), Some(Value::Integer(3)));
        assert_eq!(k("-9223372036854775808"), Some(Value::Integer(i64::MIN)));
        assert_eq!(k("9223372036854775807"), Some(Value::Integer(i64::MAX)));
        // INTEGER cells are signed 64-bit: wider integers are their text.
        assert_eq!(
            k("18446744073709551615"),
            Some(Value::String("18446744073709551615".into()))
        );
        assert_eq!(
            k("1180591620717411303424"),
            Some(Value::String("1180591620717411303424".into()))
        );
        // A float with a zero fraction is still a float.
        assert_eq!(k("2.0"), Some(Value::Double(2.0)));
    }

    #[test]
    fn auto_keeps_the_digits_of_numbers_a_double_cannot_hold() {
        let a = |v: &str| detect(&serde_json::from_str(v).unwrap(), false);
        assert_eq!(a("3"), Some(Value::Double(3.0)));
        assert_eq!(
            a("1180591620717411303424"),
            Some(Value::String("1180591620717411303424".into()))
        );
        assert_eq!(a("1e400"), Some(Value::String("1e+400".into())));
        assert_eq!(a("-1.5e3"), Some(Value::Double(-1500.0)));
    }

    #[test]
    fn number_text_is_the_producers_text() {
        assert_eq!(number_text(&number("1.50")), "1.50");
        // serde_json writes exponents one way: e, then the sign.
        assert_eq!(number_text(&number("1E3")), "1e+3");
        assert_eq!(number_text(&number("2.5e-7")), "2.5e-7");
        assert_eq!(
            number_text(&number("1180591620717411303424")),
            "1180591620717411303424"
        );
        assert_eq!(number_text(&number("-0")), "-0");
        // String conversion (the default) writes that text.
        assert_eq!(
            to_value(
                &serde_json::from_str("1180591620717411303424").unwrap(),
                JsonConversion::String,
                false
            ),
            Some(Value::String("1180591620717411303424".into()))
        );
    }

    #[test]
    fn numbers_are_classified_by_their_text() {
        assert_eq!(classify(&number("-7")), NumberKind::Int(-7));
        assert_eq!(classify(&number("-0")), NumberKind::Int(0));
        assert_eq!(
            classify(&number("9223372036854775808")),
            NumberKind::WideInt {
                over_64_bits: false
            }
        );
        assert_eq!(
            classify(&number("1180591620717411303424")),
            NumberKind::WideInt { over_64_bits: true }
        );
        assert_eq!(
            classify(&number("-1180591620717411303424")),
            NumberKind::WideInt { over_64_bits: true }
        );
        assert_eq!(classify(&number("1.0")), NumberKind::Float(1.0));
        assert_eq!(classify(&number("1e3")), NumberKind::Float(1000.0));
        assert_eq!(classify(&number("1e400")), NumberKind::HugeFloat);
        assert_eq!(
            range_problem(classify(&number("1180591620717411303424"))),
            Some("an integer over 64 bits")
        );
    }

    #[test]
    fn parse_reports_empty_invalid_and_non_utf8_input() {
        let syntax = |b: &[u8]| match parse(b) {
            Err(ParseError::Syntax(d)) => d,
            other => panic!("{other:?}"),
        };
        assert!(syntax(b"").contains("empty"));
        assert!(syntax(b"  \n").contains("empty"));
        assert!(!syntax(b"{").is_empty());
        assert_eq!(
            parse(b"\xff{}"),
            Err(ParseError::NotUtf8("invalid byte 0xff at offset 0".into()))
        );
        assert_eq!(
            parse(b"{\"a\":\"\xc3"),
            Err(ParseError::NotUtf8(
                "incomplete character at offset 6, the end of the data".into()
            ))
        );
        assert_eq!(
            parse_object(b"[1]").unwrap_err(),
            ObjectError::NotAnObject("array")
        );
        assert_eq!(
            parse_object(b"1.5").unwrap_err(),
            ObjectError::NotAnObject("float")
        );
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
