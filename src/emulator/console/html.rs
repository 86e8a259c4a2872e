//! HTML building blocks of the console: escaping (every piece of stored or
//! client text goes through [`esc`]), the page frame, and how typed values
//! are shown.

use std::fmt::Write;

use crate::tablestore::flatrows::FieldValue;
use crate::tablestore::plainbuffer::{PkValue, Value};

/// Longest string shown in a cell, in characters.
const MAX_SHOWN_CHARS: usize = 200;
/// Most bytes of a binary shown, as hex.
const MAX_SHOWN_BYTES: usize = 32;

/// `text` escaped for HTML text and attribute values.
pub fn esc(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// `text` percent-encoded for a URL path segment or query value.
pub fn url(text: &str) -> String {
    let mut out = String::new();
    for b in text.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
            out.push(b as char);
        } else {
            let _ = write!(out, "%{b:02X}");
        }
    }
    out
}

const STYLE: &str = "
body{font:14px/1.4 system-ui,sans-serif;margin:0;color:#1d2733;background:#f6f7f9}
header{background:#1f3a5f;color:#fff;padding:10px 20px;display:flex;gap:24px;align-items:baseline}
header a{color:#cfe0ff;text-decoration:none}header strong{font-size:16px}
main{padding:16px 20px}h1{font-size:20px;margin:4px 0 12px}h2{font-size:16px;margin:20px 0 8px}
table{border-collapse:collapse;background:#fff;box-shadow:0 1px 2px #0002}
th,td{border:1px solid #dde2e8;padding:4px 8px;text-align:left;vertical-align:top}
th{background:#eef1f5;position:sticky;top:0}td.pk{background:#f8fafc;font-weight:600}
.t{font-size:10px;color:#6b7785;margin-left:4px;font-weight:400;letter-spacing:.04em}
.missing{color:#b8c0ca}.err td{background:#fff1f1}.err .code{color:#b3261e;font-weight:600}
.nav{margin:12px 0;display:flex;gap:16px}.note{color:#6b7785}
dl{display:grid;grid-template-columns:max-content auto;gap:2px 12px}dt{color:#6b7785}
";

/// A whole page: the header with the console's sections, then `body`.
pub fn page(title: &str, body: &str) -> String {
    format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">\
         <title>{} · Tablestore emulator</title><style>{STYLE}</style></head><body>\
         <header><strong>Tablestore emulator</strong>\
         <a href=\"/console/\">Tables</a><a href=\"/console/requests\">Requests</a>\
         <a href=\"/console/requests?errors=1\">Errors</a></header>\
         <main>{body}</main></body></html>",
        esc(title)
    )
}

fn typed(shown: &str, type_name: &str) -> String {
    format!("{shown}<span class=\"t\">{type_name}</span>")
}

fn text(s: &str) -> String {
    let count = s.chars().count();
    if count <= MAX_SHOWN_CHARS {
        return esc(s);
    }
    let head: String = s.chars().take(MAX_SHOWN_CHARS).collect();
    format!(
        "{}… <span class=\"note\">({count} characters)</span>",
        esc(&head)
    )
}

fn binary(b: &[u8]) -> String {
    let mut hex: String = b
        .iter()
        .take(MAX_SHOWN_BYTES)
        .map(|x| format!("{x:02x}"))
        .collect();
    if b.len() > MAX_SHOWN_BYTES {
        hex.push('…');
    }
    format!("0x{hex} <span class=\"note\">({} bytes)</span>", b.len())
}

/// An attribute value with its type.
pub fn value(v: &Value) -> String {
    match v {
        Value::Integer(i) => typed(&i.to_string(), "INTEGER"),
        Value::Double(d) => typed(&format!("{d:?}"), "DOUBLE"),
        Value::Boolean(b) => typed(&b.to_string(), "BOOLEAN"),
        Value::String(s) => typed(&text(s), "STRING"),
        Value::Binary(b) => typed(&binary(b), "BINARY"),
    }
}

/// A primary-key value with its type.
pub fn pk_value(v: &PkValue) -> String {
    match v {
        PkValue::Integer(i) => typed(&i.to_string(), "INTEGER"),
        PkValue::String(s) => typed(&text(s), "STRING"),
        PkValue::Binary(b) => typed(&binary(b), "BINARY"),
        other => esc(&other.to_string()),
    }
}

/// A TimeSeries field value with its type.
pub fn field_value(v: &FieldValue) -> String {
    match v {
        FieldValue::Long(i) => typed(&i.to_string(), "LONG"),
        FieldValue::Double(d) => typed(&format!("{d:?}"), "DOUBLE"),
        FieldValue::Boolean(b) => typed(&b.to_string(), "BOOLEAN"),
        FieldValue::String(s) => typed(&text(s), "STRING"),
        FieldValue::Binary(b) => typed(&binary(b), "BINARY"),
    }
}

/// Milliseconds since the epoch as UTC text.
pub fn time_ms(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .map(|t| t.format("%Y-%m-%d %H:%M:%S%.3f UTC").to_string())
        .unwrap_or_else(|| format!("{ms} ms"))
}

/// Microseconds since the epoch as UTC text.
pub fn time_us(us: i64) -> String {
    chrono::DateTime::from_timestamp_micros(us)
        .map(|t| t.format("%Y-%m-%d %H:%M:%S%.6f UTC").to_string())
        .unwrap_or_else(|| format!("{us} µs"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markup_in_stored_text_is_escaped() {
        assert_eq!(
            esc(r#"<script>alert("x")</script>&'"#),
            "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&amp;&#39;"
        );
        assert!(!value(&Value::String("<b>".into())).contains("<b>"));
    }

    #[test]
    fn values_show_their_type_and_long_ones_are_cut() {
        assert_eq!(
            value(&Value::Double(1.5)),
            "1.5<span class=\"t\">DOUBLE</span>"
        );
        let long = value(&Value::String("x".repeat(5000)));
        assert!(
            long.contains("(5000 characters)") && long.len() < 400,
            "{long}"
        );
        let bin = value(&Value::Binary(vec![0xab; 100]));
        assert!(
            bin.starts_with("0xabab") && bin.contains("(100 bytes)"),
            "{bin}"
        );
    }

    #[test]
    fn urls_are_percent_encoded() {
        assert_eq!(url("a b/ç"), "a%20b%2F%C3%A7");
    }
}
