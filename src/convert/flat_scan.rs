//! The reader of flat JSON objects: one pass over a record's text, from
//! its bytes to borrowed field names and scalar values, without serde's
//! visitor machinery.
//!
//! It takes a strict subset of JSON: an object whose every field is a
//! string, number, `true`, `false` or `null`, with JSON's four whitespace
//! characters between tokens. Anything else (a nested object or array, a
//! syntax error, a control character in a string, trailing text, a first
//! name that is one of serde_json's private markers) gives
//! `None`, and the caller's serde_json path then decides, so the errors a
//! user sees are serde_json's. What it accepts, serde_json accepts with
//! the same fields and values; the tests in [`object`](super::object)
//! check that against serde_json on generated and mangled documents.
//!
//! Strings with escapes and numbers with an exponent are rare; their
//! tokens are found here and handed to serde_json to decode, as a single
//! value each.

use std::borrow::Cow;

use super::object::Scalar;

/// First field names that make serde_json read an object as something
/// else (`arbitrary_precision` and `raw_value`); the serde_json path takes
/// those documents.
const SERDE_JSON_MARKERS: [&str; 2] = [
    "$serde_json::private::Number",
    "$serde_json::private::RawValue",
];

/// A flat object's fields: in document order (duplicates kept) as read,
/// sorted by name with names unique in [`Object::Flat`](super::object::Object::Flat).
pub type FlatFields<'a> = Vec<(Cow<'a, str>, Scalar<'a>)>;

/// The fields of `text` when it is a flat JSON object; `None` otherwise.
pub fn read(text: &str) -> Option<FlatFields<'_>> {
    let mut reader = Reader {
        text,
        bytes: text.as_bytes(),
        at: 0,
    };
    reader.skip_whitespace();
    reader.expect(b'{')?;
    let mut fields = Vec::with_capacity(8);
    reader.skip_whitespace();
    if !reader.eat(b'}') {
        loop {
            reader.skip_whitespace();
            let name = reader.string()?;
            // serde_json reads an object whose first name is one of its
            // private markers as a number or raw JSON, not as an object.
            if fields.is_empty() && SERDE_JSON_MARKERS.contains(&name.as_ref()) {
                return None;
            }
            reader.skip_whitespace();
            reader.expect(b':')?;
            reader.skip_whitespace();
            let value = reader.scalar()?;
            fields.push((name, value));
            reader.skip_whitespace();
            match reader.next()? {
                b',' => {}
                b'}' => break,
                _ => return None,
            }
        }
    }
    reader.skip_whitespace();
    (reader.at == reader.bytes.len()).then_some(fields)
}

/// A position in a document that is valid UTF-8 (so any slice between
/// two ASCII bytes is a `&str`).
struct Reader<'a> {
    text: &'a str,
    bytes: &'a [u8],
    at: usize,
}

impl<'a> Reader<'a> {
    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.at).copied()
    }

    fn next(&mut self) -> Option<u8> {
        let byte = self.peek()?;
        self.at += 1;
        Some(byte)
    }

    fn eat(&mut self, byte: u8) -> bool {
        let found = self.peek() == Some(byte);
        self.at += usize::from(found);
        found
    }

    fn expect(&mut self, byte: u8) -> Option<()> {
        self.eat(byte).then_some(())
    }

    /// JSON's whitespace: space, tab, line feed, carriage return.
    fn skip_whitespace(&mut self) {
        while let Some(b' ' | b'\t' | b'\n' | b'\r') = self.peek() {
            self.at += 1;
        }
    }

    fn skip_digits(&mut self) -> usize {
        let start = self.at;
        while let Some(b'0'..=b'9') = self.peek() {
            self.at += 1;
        }
        self.at - start
    }

    /// A string token: borrowed when it has no escape, else decoded by
    /// serde_json (which rejects bad escapes and lone surrogates).
    fn string(&mut self) -> Option<Cow<'a, str>> {
        let open = self.at;
        self.expect(b'"')?;
        let mut escaped = false;
        loop {
            match self.next()? {
                b'"' => break,
                b'\\' => {
                    escaped = true;
                    // The escaped character is never the closing quote;
                    // serde_json checks that it is a valid escape.
                    self.next()?;
                }
                0x00..=0x1f => return None,
                _ => {}
            }
        }
        if escaped {
            let token = &self.text[open..self.at];
            serde_json::from_str::<String>(token).ok().map(Cow::Owned)
        } else {
            Some(Cow::Borrowed(&self.text[open + 1..self.at - 1]))
        }
    }

    fn literal(&mut self, word: &[u8], scalar: Scalar<'a>) -> Option<Scalar<'a>> {
        let end = self.at + word.len();
        (self.bytes.get(self.at..end)? == word).then(|| {
            self.at = end;
            scalar
        })
    }

    fn scalar(&mut self) -> Option<Scalar<'a>> {
        match self.peek()? {
            b'"' => self.string().map(Scalar::String),
            b't' => self.literal(b"true", Scalar::Bool(true)),
            b'f' => self.literal(b"false", Scalar::Bool(false)),
            b'n' => self.literal(b"null", Scalar::Null),
            b'-' | b'0'..=b'9' => self.number(),
            _ => None,
        }
    }

    /// `-? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?`. Without an
    /// exponent the token is the value (what `arbitrary_precision` keeps);
    /// with one, serde_json's reading of it.
    fn number(&mut self) -> Option<Scalar<'a>> {
        let start = self.at;
        self.eat(b'-');
        match self.next()? {
            b'0' => {}
            b'1'..=b'9' => {
                self.skip_digits();
            }
            _ => return None,
        }
        if self.eat(b'.') && self.skip_digits() == 0 {
            return None;
        }
        let exponent = matches!(self.peek(), Some(b'e' | b'E'));
        if exponent {
            self.at += 1;
            if !self.eat(b'+') {
                self.eat(b'-');
            }
            if self.skip_digits() == 0 {
                return None;
            }
        }
        let token = &self.text[start..self.at];
        if !exponent {
            return Some(Scalar::Number(Cow::Borrowed(token)));
        }
        let number = serde_json::from_str::<serde_json::Number>(token).ok()?;
        Some(Scalar::Number(Cow::Owned(number.as_str().to_owned())))
    }
}
