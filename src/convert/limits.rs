//! Tablestore's service limits (`src/tablestore/PROTOCOL.md` §6) that a single record can
//! break, checked while converting so that such a record goes to the
//! dead-letter topic with a clear reason instead of failing a whole batch
//! on the server.
//!
//! Each name check comes with a suggested valid name to put in the error.

use super::error::ConvertError;

/// Bytes in a STRING or BINARY primary-key value.
pub const MAX_PK_VALUE_BYTES: usize = 1024;
/// Bytes in one STRING or BINARY attribute or TimeSeries field value.
pub const MAX_CELL_BYTES: usize = 2 * 1024 * 1024;
/// Attribute columns written by one row change.
pub const MAX_COLUMNS: usize = 1024;
/// Bytes of one PutRow / UpdateRow.
pub const MAX_ROW_BYTES: usize = 4 * 1024 * 1024;
/// Bytes in a Wide Column column name.
pub const MAX_COLUMN_NAME_BYTES: usize = 255;

/// Bytes in a TimeSeries field name.
pub const MAX_FIELD_NAME_BYTES: usize = 128;
/// Bytes in a measurement (metric) name.
pub const MAX_MEASUREMENT_BYTES: usize = 128;
/// Bytes in a data source.
pub const MAX_DATA_SOURCE_BYTES: usize = 256;
/// Bytes of the `["k=v",...]` tags string.
pub const MAX_TAGS_BYTES: usize = 512;
/// Fields in one TimeSeries point.
pub const MAX_FIELDS: usize = 1024;
/// Names TimeSeries tables use for their own columns.
pub use crate::tablestore::timeseries_layout::RESERVED_FIELD_NAMES;

/// Bytes a column name may hold: ASCII letters, digits and '_' (a table,
/// because every cell of every record is checked).
const COLUMN_NAME_BYTES: [bool; 256] = {
    let mut allowed = [false; 256];
    let mut b = 0;
    while b < 256 {
        allowed[b] = (b as u8).is_ascii_alphanumeric() || b == b'_' as usize;
        b += 1;
    }
    allowed
};

/// Checks a Wide Column attribute column name: 1-255 bytes of
/// `[A-Za-z0-9_]`, not starting with a digit.
pub fn check_column_name(name: &str) -> Result<(), ConvertError> {
    let problem = if name.is_empty() {
        "it is empty"
    } else if name.len() > MAX_COLUMN_NAME_BYTES {
        "it is longer than 255 bytes"
    } else if name.as_bytes()[0].is_ascii_digit() {
        "it starts with a digit"
    } else if !name.bytes().all(|b| COLUMN_NAME_BYTES[b as usize]) {
        "it has characters other than letters, digits and '_'"
    } else {
        return Ok(());
    };
    Err(ConvertError::BadColumnName {
        name: name.to_owned(),
        problem,
        suggestion: sanitize(name, false, MAX_COLUMN_NAME_BYTES),
    })
}

/// Checks a TimeSeries field name: 1-128 bytes of `[a-z0-9_]`, not
/// starting with a digit, not containing any of [`RESERVED_FIELD_NAMES`]
/// (the service's rule, which the emulator and config validation share).
/// `alternative` is appended to the fix in the error message.
pub fn check_field_name(name: &str, alternative: &'static str) -> Result<(), ConvertError> {
    let problem = if name.is_empty() {
        "it is empty"
    } else if name.len() > MAX_FIELD_NAME_BYTES {
        "it is longer than 128 bytes"
    } else if name.as_bytes()[0].is_ascii_digit() {
        "it starts with a digit"
    } else if name.bytes().any(|b| b.is_ascii_uppercase()) {
        "it has uppercase letters"
    } else if !name
        .bytes()
        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
    {
        "it has characters other than lowercase letters, digits and '_'"
    } else if RESERVED_FIELD_NAMES.iter().any(|r| name.contains(r)) {
        "it contains a name reserved for TimeSeries key columns (_m_name, _data_source, _tags, _time, _meta_update_time, _attributes)"
    } else {
        return Ok(());
    };
    let mut suggestion = sanitize(name, true, MAX_FIELD_NAME_BYTES);
    for reserved in RESERVED_FIELD_NAMES {
        suggestion = suggestion.replace(reserved, &reserved.replace('_', ""));
    }
    Err(ConvertError::BadFieldName {
        name: name.to_owned(),
        written_as: None,
        problem,
        suggestion,
        alternative,
    })
}

/// Why `name` cannot be a TimeSeries measurement name, if it cannot:
/// 1-128 bytes, no `#`, no whitespace or control characters.
pub fn measurement_problem(name: &str) -> Option<&'static str> {
    if name.is_empty() {
        Some("it is empty")
    } else if name.len() > MAX_MEASUREMENT_BYTES {
        Some("it is longer than 128 bytes")
    } else if name.contains('#') {
        Some("it contains '#'")
    } else if name.chars().any(char::is_whitespace) {
        Some("it contains whitespace")
    } else if name.chars().any(char::is_control) {
        Some("it contains control characters")
    } else {
        None
    }
}

/// Why `name` cannot be a tag name, if it cannot: non-empty printable
/// ASCII without `"` or `=` (the `_tags` string has no escaping).
pub fn tag_name_problem(name: &str) -> Option<&'static str> {
    if name.is_empty() {
        Some("it is empty")
    } else if !name.bytes().all(|b| b.is_ascii_graphic()) {
        Some("it has characters other than printable ASCII")
    } else if name.contains(['"', '=']) {
        Some("it contains '\"' or '='")
    } else {
        None
    }
}

/// Why `value` cannot be a tag value, if it cannot: any UTF-8 without `"`
/// or `=`.
pub fn tag_value_problem(value: &str) -> Option<&'static str> {
    value
        .contains(['"', '='])
        .then_some("its value contains '\"' or '=', which the TimeSeries tags format cannot carry")
}

/// A valid name close to `name`: camelCase split with '_' and lowercased
/// when `lowercase`, other characters replaced by '_', a leading digit
/// prefixed, cut to `max` bytes.
pub fn sanitize(name: &str, lowercase: bool, max: usize) -> String {
    let mut out = String::with_capacity(name.len() + 1);
    let mut prev_lower = false;
    for c in name.chars() {
        if c.is_ascii_alphanumeric() {
            if lowercase && c.is_ascii_uppercase() {
                if prev_lower {
                    out.push('_');
                }
                out.push(c.to_ascii_lowercase());
            } else {
                out.push(c);
            }
            prev_lower = c.is_ascii_lowercase() || c.is_ascii_digit();
        } else {
            out.push('_');
            prev_lower = false;
        }
    }
    if out.is_empty() {
        out.push_str("field");
    } else if out.as_bytes()[0].is_ascii_digit() {
        out.insert_str(0, if lowercase { "f_" } else { "_" });
    }
    // Only ASCII is pushed, so any byte index is a char boundary.
    out.truncate(max);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn column_suggestion(name: &str) -> String {
        match check_column_name(name) {
            Err(ConvertError::BadColumnName { suggestion, .. }) => suggestion,
            other => panic!("{name:?}: {other:?}"),
        }
    }

    fn field_suggestion(name: &str) -> String {
        match check_field_name(name, "") {
            Err(ConvertError::BadFieldName { suggestion, .. }) => suggestion,
            other => panic!("{name:?}: {other:?}"),
        }
    }

    #[test]
    fn column_names() {
        for ok in ["a", "_", "A_b9", "CamelCase", &"x".repeat(255)] {
            assert_eq!(check_column_name(ok), Ok(()), "{ok}");
        }
        assert_eq!(column_suggestion("user-id"), "user_id");
        assert_eq!(column_suggestion("9lives"), "_9lives");
        assert_eq!(column_suggestion("a.b c"), "a_b_c");
        assert_eq!(column_suggestion(""), "field");
        assert_eq!(column_suggestion("naïve"), "na_ve");
        assert_eq!(column_suggestion(&"y".repeat(256)).len(), 255);
        let msg = check_column_name("user-id").unwrap_err().to_string();
        assert!(
            msg.contains("\"user-id\"") && msg.contains("\"user_id\""),
            "{msg}"
        );
    }

    #[test]
    fn the_column_name_table_allows_exactly_letters_digits_and_underscore() {
        for b in 0..=255u8 {
            let allowed = b.is_ascii_alphanumeric() || b == b'_';
            assert_eq!(COLUMN_NAME_BYTES[b as usize], allowed, "byte {b:#04x}");
        }
    }

    #[test]
    fn field_names() {
        for ok in ["cpu", "cpu_usage", "_x", "a1", &"z".repeat(128)] {
            assert_eq!(check_field_name(ok, ""), Ok(()), "{ok}");
        }
        assert_eq!(field_suggestion("CpuUsage"), "cpu_usage");
        assert_eq!(field_suggestion("cpuUsage"), "cpu_usage");
        assert_eq!(field_suggestion("CPU"), "cpu");
        assert_eq!(field_suggestion("cpu-usage"), "cpu_usage");
        assert_eq!(field_suggestion("1m"), "f_1m");
        assert_eq!(field_suggestion("_time"), "time");
        assert_eq!(field_suggestion("start_time"), "starttime");
        assert!(
            check_field_name("start_time", "").is_err(),
            "names containing a reserved name are invalid"
        );
        assert_eq!(field_suggestion(&"q".repeat(129)).len(), 128);
        let msg = check_field_name("CpuUsage", "").unwrap_err().to_string();
        assert!(
            msg.contains("uppercase") && msg.contains("\"cpu_usage\""),
            "{msg}"
        );
    }

    #[test]
    fn measurement_and_tag_rules() {
        assert_eq!(measurement_problem("cpu.load"), None);
        assert_eq!(measurement_problem("温度"), None);
        assert!(measurement_problem("").is_some());
        assert!(measurement_problem("a#b").is_some());
        assert!(measurement_problem("a b").is_some());
        assert!(measurement_problem("a\u{1}").is_some());
        assert!(measurement_problem(&"m".repeat(129)).is_some());
        assert_eq!(tag_name_problem("host"), None);
        assert!(tag_name_problem("a=b").is_some());
        assert!(tag_name_problem("a b").is_some());
        assert!(tag_name_problem("").is_some());
        assert_eq!(tag_value_problem("any value, ünïcode"), None);
        assert!(tag_value_problem("a=b").is_some());
        assert!(tag_value_problem("say \"hi\"").is_some());
    }
}
