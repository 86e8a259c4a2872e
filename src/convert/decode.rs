//! Decoding a record's key or value bytes per `key_format` /
//! `value_format`: UTF-8 text for `string`, a JSON object for `json`.
//!
//! An absent key or value (Kafka null) is [`Decoded::Absent`]; tombstones
//! are handled by the converters before decoding. A JSON key of zero bytes
//! (or only whitespace) is also `Absent`: producers that "send no key"
//! often send an empty one, and rejecting every such message because of a
//! key nobody uses would be hostile. An empty JSON *value* is an error.

use serde_json::{Map, Value as Json};

use super::error::{ConvertError, Part};
use super::json::{self, ObjectError, ParseError};
use super::object::Object;
use crate::config::KeyValueFormat;

/// A decoded key or value.
#[derive(Clone, Debug, PartialEq)]
pub enum Decoded<'a> {
    /// No bytes (a Kafka null, or an empty JSON key).
    Absent,
    /// `string` format: the bytes as UTF-8 text.
    Text(&'a str),
    /// `json` format: the top-level object.
    Object(Object<'a>),
}

/// Decodes one part of a Wide Column record.
pub fn decode(
    part: Part,
    bytes: Option<&[u8]>,
    format: KeyValueFormat,
) -> Result<Decoded<'_>, ConvertError> {
    let Some(bytes) = bytes else {
        return Ok(Decoded::Absent);
    };
    match format {
        KeyValueFormat::String => json::utf8(bytes)
            .map(Decoded::Text)
            .map_err(|detail| ConvertError::InvalidUtf8 { part, detail }),
        KeyValueFormat::Json => {
            if part == Part::Key && bytes.iter().all(u8::is_ascii_whitespace) {
                return Ok(Decoded::Absent);
            }
            let (json_hint, object_hint) = match part {
                Part::Key => (
                    "send JSON keys, or set wide_column.key_format = \"string\" to take keys as text",
                    "each top-level field of a JSON key becomes a column or primary key; send an object, or set wide_column.key_format = \"string\" to take keys as text",
                ),
                Part::Value => (
                    "send JSON values, or set wide_column.value_format = \"string\" to store values as text in column \"value\"",
                    "each top-level field becomes a column; send an object, or set wide_column.value_format = \"string\" to store values as text in column \"value\"",
                ),
            };
            Object::parse(bytes)
                .map(Decoded::Object)
                .map_err(|e| object_error(part, e, json_hint, object_hint))
        }
    }
}

/// Parses `bytes` as a JSON object, with `json_hint` / `object_hint` as
/// the fix in the error when it is not JSON / not an object.
pub fn object(
    part: Part,
    bytes: &[u8],
    json_hint: &'static str,
    object_hint: &'static str,
) -> Result<Map<String, Json>, ConvertError> {
    json::parse_object(bytes).map_err(|e| object_error(part, e, json_hint, object_hint))
}

/// Why a part is not a JSON object, with the fixes to suggest.
fn object_error(
    part: Part,
    e: ObjectError,
    json_hint: &'static str,
    object_hint: &'static str,
) -> ConvertError {
    match e {
        ObjectError::NotAnObject(found) => ConvertError::NotAnObject {
            part,
            found,
            hint: object_hint,
        },
        ObjectError::Parse(ParseError::NotUtf8(detail)) => {
            ConvertError::InvalidUtf8 { part, detail }
        }
        ObjectError::Parse(ParseError::Syntax(detail)) => ConvertError::InvalidJson {
            part,
            detail,
            hint: json_hint,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use KeyValueFormat::{Json as J, String as S};

    #[test]
    fn string_format_needs_utf8() {
        assert_eq!(decode(Part::Key, Some(b"k1"), S), Ok(Decoded::Text("k1")));
        assert_eq!(decode(Part::Value, Some(b""), S), Ok(Decoded::Text("")));
        let err = decode(Part::Value, Some(b"\xff\xfe"), S).unwrap_err();
        assert_eq!(err.reason_code(), "invalid_utf8");
        assert!(
            err.to_string()
                .contains("record value is not valid UTF-8 (invalid byte 0xff at offset 0)"),
            "{err}"
        );
    }

    #[test]
    fn json_that_is_not_utf8_says_so() {
        let err = decode(Part::Value, Some(b"\xff\xfe{}"), J).unwrap_err();
        assert_eq!(err.reason_code(), "invalid_utf8");
        let msg = err.to_string();
        assert!(
            msg.contains("record value is not valid UTF-8 (invalid byte 0xff at offset 0)"),
            "{msg}"
        );
        assert!(!msg.contains("expected value"), "{msg}");
        // Latin-1 inside an otherwise fine JSON key.
        let err = decode(Part::Key, Some(b"{\"name\":\"Jos\xe9\"}"), J).unwrap_err();
        assert_eq!(err.reason_code(), "invalid_utf8");
        assert!(err.to_string().contains("record key"), "{err}");
    }

    #[test]
    fn json_format_needs_an_object() {
        let Decoded::Object(object) = decode(Part::Value, Some(br#"{"a":1}"#), J).unwrap() else {
            panic!("not an object")
        };
        assert_eq!(object.get("a").unwrap().to_json(), 1);
        let err = decode(Part::Value, Some(b"[1,2]"), J).unwrap_err();
        assert_eq!(err.reason_code(), "not_an_object");
        let msg = err.to_string();
        assert!(
            msg.contains("value must be a JSON object") && msg.contains("array"),
            "{msg}"
        );
        assert!(msg.contains("value_format = \"string\""), "{msg}");
        let err = decode(Part::Key, Some(b"42"), J).unwrap_err();
        assert!(
            err.to_string()
                .contains("key must be a JSON object, but it is a JSON integer"),
            "{err}"
        );
        let err = decode(Part::Key, Some(b"user-1"), J).unwrap_err();
        assert_eq!(err.reason_code(), "invalid_json");
        assert!(err.to_string().contains("key_format = \"string\""), "{err}");
    }

    #[test]
    fn absent_and_empty() {
        assert_eq!(decode(Part::Key, None, J), Ok(Decoded::Absent));
        assert_eq!(decode(Part::Value, None, S), Ok(Decoded::Absent));
        assert_eq!(decode(Part::Key, Some(b""), J), Ok(Decoded::Absent));
        assert_eq!(decode(Part::Key, Some(b" "), J), Ok(Decoded::Absent));
        let err = decode(Part::Value, Some(b""), J).unwrap_err();
        assert_eq!(err.reason_code(), "invalid_json");
        assert!(err.to_string().contains("empty"), "{err}");
    }
}
