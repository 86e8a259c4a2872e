//! Client-supplied text (action paths, table and column names, the error
//! messages that quote them) made safe for one log line: control
//! characters, quotes and backslashes are escaped, so a newline in a table
//! name cannot forge a second line, and the text is cut to a bounded
//! length, so a 60 KB path costs a few hundred bytes of log.

use std::fmt;

/// Longest client text written to a log field, in bytes of the original
/// text; the rest is summarised as `…(+N bytes)`.
pub const MAX_LOGGED_BYTES: usize = 256;

/// Displays `text` escaped and cut at [`MAX_LOGGED_BYTES`].
pub fn client_text(text: &str) -> ClientText<'_> {
    ClientText {
        text,
        max_bytes: MAX_LOGGED_BYTES,
    }
}

/// A `Display` view of client text; see [`client_text`].
pub struct ClientText<'a> {
    text: &'a str,
    max_bytes: usize,
}

impl ClientText<'_> {
    /// Same view with another length bound (for tests and short fields).
    pub fn cut_at(self, max_bytes: usize) -> Self {
        ClientText { max_bytes, ..self }
    }
}

impl fmt::Display for ClientText<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, c) in self.text.char_indices() {
            if i + c.len_utf8() > self.max_bytes {
                return write!(f, "…(+{} bytes)", self.text.len() - i);
            }
            match c {
                '\n' => f.write_str("\\n")?,
                '\r' => f.write_str("\\r")?,
                '\t' => f.write_str("\\t")?,
                '\\' => f.write_str("\\\\")?,
                '"' => f.write_str("\\\"")?,
                // Other control characters, and the Unicode line and
                // paragraph separators and bidi controls some viewers honour.
                c if c.is_control()
                    || matches!(c, '\u{2028}' | '\u{2029}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}') =>
                {
                    write!(f, "\\u{{{:x}}}", c as u32)?
                }
                c => {
                    let mut buf = [0u8; 4];
                    f.write_str(c.encode_utf8(&mut buf))?
                }
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_newline_cannot_start_a_new_line() {
        let shown = client_text("t\nINFO forged line\r\x1b[31m").to_string();
        assert_eq!(shown, "t\\nINFO forged line\\r\\u{1b}[31m");
        assert!(!shown.contains('\n') && !shown.contains('\r'));
    }

    #[test]
    fn quotes_and_backslashes_are_escaped() {
        assert_eq!(client_text(r#"a"b\c"#).to_string(), r#"a\"b\\c"#);
    }

    #[test]
    fn long_text_is_cut_with_the_remaining_length() {
        let long = "x".repeat(60_000);
        let shown = client_text(&long).to_string();
        assert_eq!(
            shown,
            format!("{}…(+{} bytes)", "x".repeat(256), 60_000 - 256)
        );
    }

    #[test]
    fn cuts_never_split_a_character() {
        let shown = client_text("ééé").cut_at(3).to_string();
        assert_eq!(shown, "é…(+4 bytes)");
        assert_eq!(client_text("ab").cut_at(2).to_string(), "ab");
    }

    #[test]
    fn unicode_line_separators_are_escaped() {
        assert_eq!(client_text("a\u{2028}b").to_string(), "a\\u{2028}b");
    }
}
