//! A record's JSON object, read without building a `serde_json::Value`
//! tree when it can be: the fast path from a record's bytes to cells.
//!
//! Most records are flat objects of scalars. For those, [`Object::parse`]
//! keeps each field name and value borrowed from the record's bytes
//! ([`flat_scan`] reads and checks the whole document, once) and each
//! value is turned into a cell straight from its text: no map nodes, no
//! owned names, no number strings. A value that needs more work falls
//! back to the tree serde_json builds, so the result is the same in every
//! case:
//! * an object with a nested object or array (the cell holds its compact
//!   JSON text, which needs the tree);
//! * any document serde_json's own parse would reject, or that is not an
//!   object: the error is the one that parse reports.
//!
//! Field order and duplicate names follow serde_json's `Map` (sorted by
//! name, the last of equal names wins), so both paths give the same fields
//! in the same order. Numbers keep the producer's text as
//! `arbitrary_precision` does, an exponent written `e+N` / `e-N`: numbers
//! with an exponent are read by serde_json, the others are their text.

use std::borrow::Cow;

use serde_json::{Map, Number, Value as Json};

use super::flat_scan::{self, FlatFields};
use super::json::{self, ObjectError};
use crate::config::JsonConversion;
use crate::tablestore::plainbuffer::Value;

/// A JSON object, one level deep.
#[derive(Clone, Debug, PartialEq)]
pub enum Object<'a> {
    /// Every field a scalar: sorted by name, names unique.
    Flat(FlatFields<'a>),
    /// Some field is an object or an array: serde_json's tree.
    Tree(Map<String, Json>),
}

/// A scalar field of a flat object.
#[derive(Clone, Debug, PartialEq)]
pub enum Scalar<'a> {
    Null,
    Bool(bool),
    /// The number's text as serde_json keeps it.
    Number(Cow<'a, str>),
    String(Cow<'a, str>),
}

/// One field's value, from either kind of object.
#[derive(Clone, Copy, Debug)]
pub enum FieldValue<'o, 'a> {
    Scalar(&'o Scalar<'a>),
    Tree(&'o Json),
}

impl<'a> Object<'a> {
    /// Parses `bytes` as a JSON object.
    pub fn parse(bytes: &'a [u8]) -> Result<Self, ObjectError> {
        if let Some(fields) = flat(bytes) {
            return Ok(Object::Flat(fields));
        }
        json::parse_object(bytes).map(Object::Tree)
    }

    /// The value of field `name`.
    pub fn get(&self, name: &str) -> Option<FieldValue<'_, 'a>> {
        match self {
            Object::Flat(fields) => fields
                .binary_search_by(|(n, _)| n.as_ref().cmp(name))
                .ok()
                .map(|i| FieldValue::Scalar(&fields[i].1)),
            Object::Tree(map) => map.get(name).map(FieldValue::Tree),
        }
    }

    /// How many fields it has.
    pub fn len(&self) -> usize {
        match self {
            Object::Flat(fields) => fields.len(),
            Object::Tree(map) => map.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Every field, sorted by name.
    pub fn fields(&self) -> Fields<'_, 'a> {
        match self {
            Object::Flat(fields) => Fields::Flat(fields.iter()),
            Object::Tree(map) => Fields::Tree(map.iter()),
        }
    }
}

/// The fields of an [`Object`], without boxing an iterator per record.
pub enum Fields<'o, 'a> {
    Flat(std::slice::Iter<'o, (Cow<'a, str>, Scalar<'a>)>),
    Tree(serde_json::map::Iter<'o>),
}

impl<'o, 'a> Iterator for Fields<'o, 'a> {
    type Item = (&'o str, FieldValue<'o, 'a>);

    fn next(&mut self) -> Option<Self::Item> {
        match self {
            Fields::Flat(it) => it.next().map(|(n, v)| (n.as_ref(), FieldValue::Scalar(v))),
            Fields::Tree(it) => it.next().map(|(n, v)| (n.as_str(), FieldValue::Tree(v))),
        }
    }
}

impl FieldValue<'_, '_> {
    /// The value as a cell value under `conversion` (what
    /// [`json::to_value`] gives for the same JSON); `None` for null.
    pub fn to_value(self, conversion: JsonConversion, keep_integers: bool) -> Option<Value> {
        let scalar = match self {
            FieldValue::Tree(v) => return json::to_value(v, conversion, keep_integers),
            FieldValue::Scalar(s) => s,
        };
        Some(match (scalar, conversion) {
            (Scalar::Null, _) => return None,
            (Scalar::String(s), _) => Value::String(s.as_ref().to_owned()),
            (Scalar::Bool(b), JsonConversion::Auto) => Value::Boolean(*b),
            (Scalar::Bool(b), JsonConversion::String) => Value::String(b.to_string()),
            (Scalar::Number(text), JsonConversion::String) => {
                Value::String(text.as_ref().to_owned())
            }
            (Scalar::Number(text), JsonConversion::Auto) => {
                json::number_text_value(text, keep_integers)
            }
        })
    }

    /// The value as serde_json's tree (for primary keys and messages).
    pub fn to_json(self) -> Json {
        match self {
            FieldValue::Tree(v) => v.clone(),
            FieldValue::Scalar(Scalar::Null) => Json::Null,
            FieldValue::Scalar(Scalar::Bool(b)) => Json::Bool(*b),
            FieldValue::Scalar(Scalar::String(s)) => Json::String(s.as_ref().to_owned()),
            // The text came from serde_json's reading of a number.
            FieldValue::Scalar(Scalar::Number(text)) => {
                text.parse::<Number>().map_or(Json::Null, Json::Number)
            }
        }
    }
}

/// The fields of `bytes` when it is a flat JSON object that serde_json
/// accepts; `None` for anything else (the tree path decides).
fn flat(bytes: &[u8]) -> Option<FlatFields<'_>> {
    let text = std::str::from_utf8(bytes).ok()?;
    let mut fields = flat_scan::read(text)?;
    // serde_json's Map: sorted by name, the last of equal names wins.
    fields.sort_by(|a, b| name_order(&a.0, &b.0));
    fields.dedup_by(|later, kept| {
        let same = name_order(&later.0, &kept.0).is_eq();
        if same {
            std::mem::swap(later, kept);
        }
        same
    });
    Some(fields)
}

/// `str`'s order (byte by byte, then the shorter first), compared in
/// line: field names are a few bytes, where a call to `memcmp` for each
/// comparison of the sort and the duplicate check cost more than the
/// comparing (5 % of the converter threads in the sink's profile).
fn name_order(a: &str, b: &str) -> std::cmp::Ordering {
    for (x, y) in a.bytes().zip(b.bytes()) {
        if x != y {
            return x.cmp(&y);
        }
    }
    a.len().cmp(&b.len())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Both paths agree: the same fields, in the same order, as the same
    /// cell values under every conversion.
    fn assert_same_as_tree(bytes: &[u8]) {
        let fast = Object::parse(bytes);
        let tree = json::parse_object(bytes);
        match (&fast, &tree) {
            (Err(a), Err(b)) => assert_eq!(a, b, "{:?}", String::from_utf8_lossy(bytes)),
            (Ok(object), Ok(map)) => {
                // Every document of scalars takes the one-pass reader (but
                // for serde_json's private markers, left to serde_json). A
                // nested value may hide behind a later duplicate name, so
                // the document's own text decides (`:{` or `:[` anywhere,
                // even in a string, leaves the case out).
                let compact: Vec<u8> = bytes
                    .iter()
                    .copied()
                    .filter(|b| !b.is_ascii_whitespace())
                    .collect();
                let has = |needle: &[u8]| compact.windows(needle.len()).any(|w| w == needle);
                let nested = has(b":{") || has(b":[");
                if !nested && !has(b"serde_json::private::") {
                    assert!(
                        matches!(object, Object::Flat(_)),
                        "an object of scalars took the tree: {:?}",
                        String::from_utf8_lossy(bytes)
                    );
                }
                let names: Vec<&str> = object.fields().map(|(n, _)| n).collect();
                let tree_names: Vec<&str> = map.keys().map(String::as_str).collect();
                assert_eq!(names, tree_names, "{:?}", String::from_utf8_lossy(bytes));
                for (name, value) in object.fields() {
                    let v = &map[name];
                    assert_eq!(&value.to_json(), v, "{name}");
                    assert_eq!(object.get(name).map(|g| g.to_json()).as_ref(), Some(v));
                    for conversion in [JsonConversion::Auto, JsonConversion::String] {
                        for keep in [false, true] {
                            assert_eq!(
                                value.to_value(conversion, keep),
                                json::to_value(v, conversion, keep),
                                "{name} in {:?}",
                                String::from_utf8_lossy(bytes)
                            );
                        }
                    }
                }
            }
            _ => panic!(
                "paths disagree on {:?}: {fast:?} vs {tree:?}",
                String::from_utf8_lossy(bytes)
            ),
        }
    }

    #[test]
    fn flat_objects_borrow_their_names_and_values() {
        let bytes = br#"{"b":"x","a":1.50,"c":true,"d":null}"#;
        let Ok(Object::Flat(fields)) = Object::parse(bytes) else {
            panic!("not flat")
        };
        let names: Vec<&str> = fields.iter().map(|(n, _)| n.as_ref()).collect();
        assert_eq!(names, ["a", "b", "c", "d"], "sorted like serde_json's Map");
        assert!(fields.iter().all(|(n, _)| matches!(n, Cow::Borrowed(_))));
        assert_eq!(fields[0].1, Scalar::Number(Cow::Borrowed("1.50")));
        assert!(matches!(fields[1].1, Scalar::String(Cow::Borrowed("x"))));
        assert_same_as_tree(bytes);
    }

    #[test]
    fn nested_values_take_the_tree() {
        let bytes = br#"{"a":{"z":1,"y":[2]},"b":1}"#;
        assert!(matches!(Object::parse(bytes), Ok(Object::Tree(_))));
        assert_same_as_tree(bytes);
    }

    #[test]
    fn edge_cases_agree_with_serde_json() {
        for doc in [
            r#"{}"#,
            r#"{"a":1,"a":2}"#,
            r#"{"a":"1","b":1,"a":null}"#,
            r#"{"k\u0065y":"v\n\"q\"","é":"ü"}"#,
            r#"{"x":"\ud83d\ude00"}"#,
            r#"{"x":"\ud800"}"#,
            "{\"x\":\"tab\there\"}",
            r#"{"n":1E3,"m":-2.5e-7,"o":1e400,"p":-0,"q":0.0}"#,
            r#"{"i":9223372036854775807,"j":9223372036854775808,"k":-9223372036854775809,"l":1180591620717411303424}"#,
            r#"{"a":01}"#,
            r#"{"a":1,}"#,
            r#"{"a":1} x"#,
            r#"[1,2]"#,
            r#""text""#,
            r#"42"#,
            "",
            "  ",
            r#"{"a":tru}"#,
            " \t\r\n{ \"a\" :\t1 ,\n\"b\" : \"x\" } \r\n",
            r#"{"a":1.}"#,
            r#"{"a":.5}"#,
            r#"{"a":-}"#,
            r#"{"a":-01}"#,
            r#"{"a":1e}"#,
            r#"{"a":1e+}"#,
            r#"{"a":1E-0}"#,
            r#"{"a":+1}"#,
            r#"{"a":truex}"#,
            r#"{"a":nul}"#,
            r#"{"a":nulll}"#,
            r#"{"a" 1}"#,
            r#"{"a":1 "b":2}"#,
            r#"{,"a":1}"#,
            r#"{"a":1}}"#,
            r#"{"a":"x\"}"#,
            r#"{"a":"\x"}"#,
            r#"{"a":"\u12"}"#,
            r#"{"a\\":"\\","\"":"\/"}"#,
            r#"{"a":'x'}"#,
            r#"{a:1}"#,
            "{\"a\":1}\u{feff}",
            "\u{feff}{\"a\":1}",
            "{\"a\":\"\u{7f}\u{1f}\"}",
            "{\"a\":1\u{a0}}",
            "{\"a\":1\u{0}}",
            "{\"a\":\"\u{7f}\u{2028}\u{a0}\"}",
            r#"{"x":"\udc00"}"#,
            r#"{"x":"\ud800\u0041"}"#,
            r#"{"x":"\ud83d\ude00","y":"\u00e9\/\b\f\r\t"}"#,
            "{\"x\":\"\\é\"}",
            "{\"\\é\":1}",
            r#"{"a":1E5,"b":-1e-0,"c":1e400,"d":1.5E+3}"#,
            r#"{"$serde_json::private::Number":"12"}"#,
            r#"{"$serde_json::private::Number":"x"}"#,
            r#"{"$serde_json::private::Number":1}"#,
            r#"{"$serde_json::private::Number":"1","b":2}"#,
            r#"{"$serde_json::private::RawValue":"{\"a\":1}"}"#,
            r#"{"\u0024serde_json::private::Number":"12"}"#,
            r#"{"b":2,"$serde_json::private::Number":"1"}"#,
        ] {
            assert_same_as_tree(doc.as_bytes());
        }
        assert_same_as_tree(b"\xff{}");
        assert_same_as_tree(b"{\"a\":\"\xe9\"}");
    }

    fn scalar_text() -> impl Strategy<Value = String> {
        prop_oneof![
            Just("null".to_owned()),
            Just("true".to_owned()),
            Just("false".to_owned()),
            any::<i64>().prop_map(|i| i.to_string()),
            any::<u64>().prop_map(|i| i.to_string()),
            any::<f64>()
                .prop_filter("finite", |f| f.is_finite())
                .prop_map(|f| serde_json::to_string(&f).unwrap()),
            "-?[0-9]{1,25}(\\.[0-9]{1,20})?([eE][+-]?[0-9]{1,3})?",
            any::<String>().prop_map(|s| serde_json::to_string(&s).unwrap()),
            "\"[a-z\\\\\"]{0,8}\"",
            Just(r#"{"n":[1,{"m":2}]}"#.to_owned()),
        ]
    }

    /// A generated flat object's text.
    fn object_text(fields: &[(String, String)]) -> String {
        let body: Vec<String> = fields
            .iter()
            .map(|(n, v)| format!("{}:{v}", serde_json::to_string(n).unwrap()))
            .collect();
        format!("{{{}}}", body.join(","))
    }

    /// A bad UTF-8 sequence anywhere (in a name, a value, an escaped
    /// string, cut by the closing quote) sends the document to serde_json,
    /// which reports it; good ones are read.
    #[test]
    fn bad_utf8_in_any_string_is_serde_jsons_error() {
        let bad: [&[u8]; 7] = [
            b"{\"a\":\"x\xff\"}",
            b"{\"\xc3\":1}",
            b"{\"a\":\"\xc3\"}",
            b"{\"a\":\"\\n\xe2\x82\"}",
            b"{\"a\":\"\xed\xa0\x80\"}",
            b"{\"a\":1,\"b\":\"\xf4\x90\x80\x80\"}",
            b"{\"a\":\"\xc0\xaf\"}",
        ];
        for doc in bad {
            assert_eq!(flat(doc), None, "{doc:?}");
            assert_same_as_tree(doc);
            assert!(Object::parse(doc).is_err(), "{doc:?}");
        }
        let good = "{\"名\":\"值 \u{1F600}\",\"é\\n\":\"\\u00e9ü\"}";
        let fields = flat(good.as_bytes()).expect("valid UTF-8 takes the reader");
        assert_eq!(fields.len(), 2);
        assert_same_as_tree(good.as_bytes());
    }

    proptest! {
        #[test]
        fn name_order_is_strs_order(a in ".{0,6}", b in ".{0,6}") {
            prop_assert_eq!(name_order(&a, &b), a.cmp(&b));
            let prefix = format!("{a}{b}");
            prop_assert_eq!(name_order(&a, &prefix), a.cmp(&prefix));
        }
    }

    /// Bytes that make or break JSON, for mangling documents.
    const MANGLE_BYTES: &[u8] = b"{}[]\",:\\/ \t\n\r\x0c\x01\x1f\x7f0159.eE+-tfnulxu\xc3\xa9\xff";

    /// Every document one byte away (inserted, replaced or removed) from
    /// objects that hold every kind of token reads the same on both
    /// paths.
    #[test]
    fn every_single_byte_edit_reads_the_same_on_both_paths() {
        let seeds = [
            r#"{"a":1,"b":-0.5,"c":"x\ny","d":true,"e":false,"f":null,"g":1e5,"h":""}"#,
            r#" { "k\u0065" : 10.25E-3 , "z" : "\ud83d\ude00é" , "y" : -0 } "#,
            r#"{}"#,
        ];
        for seed in seeds {
            let seed = seed.as_bytes();
            for at in 0..=seed.len() {
                for &byte in MANGLE_BYTES {
                    let mut inserted = seed.to_vec();
                    inserted.insert(at, byte);
                    assert_same_as_tree(&inserted);
                    if at < seed.len() {
                        let mut replaced = seed.to_vec();
                        replaced[at] = byte;
                        assert_same_as_tree(&replaced);
                    }
                }
                if at < seed.len() {
                    let mut removed = seed.to_vec();
                    removed.remove(at);
                    assert_same_as_tree(&removed);
                }
            }
        }
    }

    proptest! {
        /// The one-pass reader never takes a document serde_json rejects,
        /// nor reads one differently: documents with bytes inserted,
        /// removed or replaced, compared with serde_json's tree.
        #[test]
        fn mangled_objects_read_the_same_on_both_paths(
            fields in proptest::collection::vec(("[a-c]{1,2}", scalar_text()), 0..6),
            edits in proptest::collection::vec((any::<usize>(), 0..3u8, 0..MANGLE_BYTES.len()), 1..4)
        ) {
            let mut bytes = object_text(&fields).into_bytes();
            for (at, kind, byte) in edits {
                let at = at % (bytes.len() + 1);
                let byte = MANGLE_BYTES[byte];
                match kind {
                    0 => bytes.insert(at, byte),
                    1 if at < bytes.len() => { bytes.remove(at); }
                    _ if at < bytes.len() => bytes[at] = byte,
                    _ => bytes.push(byte),
                }
            }
            assert_same_as_tree(&bytes);
        }

        /// Any text at all, whole or after an object's opening, reads
        /// the same (and never panics).
        #[test]
        fn any_text_reads_the_same_on_both_paths(text in any::<String>()) {
            assert_same_as_tree(text.as_bytes());
            assert_same_as_tree(format!("{{\"{text}").as_bytes());
            assert_same_as_tree(format!("{{\"a\":\"{text}\"}}").as_bytes());
        }

        /// Names and values with any characters, escaped as a producer
        /// would write them (serde_json) or as `\u` escapes throughout.
        #[test]
        fn escaped_names_and_values_read_the_same_on_both_paths(
            name in any::<String>(),
            value in any::<String>(),
            unicode_escapes in any::<bool>()
        ) {
            let quote = |s: &str| if unicode_escapes {
                let units: String = s.encode_utf16().map(|u| format!("\\u{u:04x}")).collect();
                format!("\"{units}\"")
            } else {
                serde_json::to_string(s).unwrap()
            };
            assert_same_as_tree(format!("{{{}:{},\"z\":1}}", quote(&name), quote(&value)).as_bytes());
        }

        #[test]
        fn any_object_reads_the_same_on_both_paths(
            fields in proptest::collection::vec(("[a-c]{1,2}", scalar_text()), 0..8)
        ) {
            assert_same_as_tree(object_text(&fields).as_bytes());
        }
    }
}
