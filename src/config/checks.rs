//! Naming rules and small helpers shared by the validators in
//! [`validate`](super::validate) and [`validate_model`](super::validate_model).
//!
//! Each `*_problem` function returns `None` for a good name, or a sentence
//! saying what is wrong with it and what the rule is, ready to go into
//! [`ConfigError::Invalid`]'s `allowed` text.

use serde::Serialize;

use super::validate::ConfigError;

/// The rule for Kafka topic names, as Kafka itself enforces it.
pub const KAFKA_TOPIC_RULE: &str =
    "a Kafka topic name is 1-249 characters of letters, digits, '.', '_' and '-', and not \".\" or \"..\"";

/// The rule for Wide Column table and column names (`src/tablestore/PROTOCOL.md` §6).
pub const COLUMN_NAME_RULE: &str =
    "use 1-255 bytes of letters, digits and '_', starting with a letter or '_'";

/// The rule for TimeSeries table names (`src/tablestore/PROTOCOL.md` §6).
pub const TIMESERIES_TABLE_RULE: &str =
    "a TimeSeries table name is 1-128 characters of letters, digits and '_', not starting with a digit";

/// Substrings a TimeSeries field name must not contain (`src/tablestore/PROTOCOL.md` §6).
pub use crate::tablestore::timeseries_layout::RESERVED_FIELD_NAMES as RESERVED_FIELD_PARTS;

/// `None` when `name` is a valid Kafka topic name.
pub fn kafka_topic_problem(name: &str) -> Option<String> {
    if name.is_empty() {
        return Some(format!("the name is empty; {KAFKA_TOPIC_RULE}"));
    }
    if name.len() > 249 {
        return Some(format!(
            "the name is {} characters long; {KAFKA_TOPIC_RULE}",
            name.chars().count()
        ));
    }
    if name == "." || name == ".." {
        return Some(KAFKA_TOPIC_RULE.to_string());
    }
    if let Some(c) = name
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-')))
    {
        return Some(format!("{c:?} is not allowed; {KAFKA_TOPIC_RULE}"));
    }
    None
}

/// `None` when `name` is a valid Wide Column table or column name.
pub fn column_name_problem(name: &str) -> Option<String> {
    if name.is_empty() {
        return Some(format!("the name is empty; {COLUMN_NAME_RULE}"));
    }
    if name.len() > 255 {
        return Some(format!(
            "the name is {} bytes long; {COLUMN_NAME_RULE}",
            name.len()
        ));
    }
    let first = name.as_bytes()[0];
    if !(first.is_ascii_alphabetic() || first == b'_') {
        return Some(format!(
            "it starts with {:?}; {COLUMN_NAME_RULE}",
            name.chars().next().unwrap_or_default()
        ));
    }
    if let Some(c) = name
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || *c == '_'))
    {
        return Some(format!("{c:?} is not allowed; {COLUMN_NAME_RULE}"));
    }
    None
}

/// `None` when `name` is a valid TimeSeries table name.
pub fn timeseries_table_problem(name: &str) -> Option<String> {
    let chars = name.chars().count();
    if !(1..=128).contains(&chars) {
        return Some(format!(
            "the name is {chars} characters long; {TIMESERIES_TABLE_RULE}"
        ));
    }
    if name.as_bytes()[0].is_ascii_digit() {
        return Some(format!("it starts with a digit; {TIMESERIES_TABLE_RULE}"));
    }
    if let Some(c) = name
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || *c == '_'))
    {
        return Some(format!("{c:?} is not allowed; {TIMESERIES_TABLE_RULE}"));
    }
    None
}

/// `None` when `name` is a valid TimeSeries field (data column) name;
/// otherwise the problem, the rule and a suggested valid name.
pub fn timeseries_field_problem(name: &str) -> Option<String> {
    let problem = if name.is_empty() {
        "the name is empty".to_string()
    } else if name.len() > 128 {
        format!("the name is {} bytes long", name.len())
    } else if name.as_bytes()[0].is_ascii_digit() {
        "it starts with a digit".to_string()
    } else if let Some(c) = name
        .chars()
        .find(|c| !(c.is_ascii_lowercase() || c.is_ascii_digit() || *c == '_'))
    {
        format!("{c:?} is not allowed")
    } else if let Some(r) = RESERVED_FIELD_PARTS.iter().find(|r| name.contains(*r)) {
        format!("it contains the reserved {r:?}")
    } else {
        return None;
    };
    Some(format!(
        "{problem}; a TimeSeries field name is 1-128 bytes of lowercase letters, digits and '_', \
         not starting with a digit and not containing {}; rename the field, e.g. to {:?}",
        RESERVED_FIELD_PARTS.join(", "),
        suggest_timeseries_field(name)
    ))
}

/// A valid TimeSeries field name close to `name`: lowercased, other
/// characters turned into '_', reserved parts defused by dropping their
/// leading '_', a leading digit prefixed with 'f', cut to 128 bytes.
pub fn suggest_timeseries_field(name: &str) -> String {
    let mut s: String = name
        .chars()
        .map(|c| {
            let c = c.to_ascii_lowercase();
            if c.is_ascii_lowercase() || c.is_ascii_digit() {
                c
            } else {
                '_'
            }
        })
        .collect();
    if s.is_empty() {
        s.push_str("field");
    }
    if s.as_bytes()[0].is_ascii_digit() {
        s.insert(0, 'f');
    }
    // Each pass removes one byte, so this ends.
    while let Some(at) = RESERVED_FIELD_PARTS.iter().filter_map(|r| s.find(r)).min() {
        s.remove(at);
    }
    s.truncate(128);
    s
}

/// `None` when `name` can be a TimeSeries tag name: printable ASCII
/// without '"' or '=' (they delimit the `_tags` string).
pub fn tag_name_problem(name: &str) -> Option<String> {
    if name.is_empty() {
        return Some("the name is empty; a tag name is printable ASCII without '\"' or '='".into());
    }
    if let Some(c) = name
        .chars()
        .find(|c| !c.is_ascii_graphic() || *c == '"' || *c == '=')
    {
        return Some(format!(
            "{c:?} is not allowed; a tag name is printable ASCII without spaces, '\"' or '=' \
             (they delimit the _tags string)"
        ));
    }
    None
}

/// The first repeated entry: `Some((first, dup))` where `items[dup]` equals
/// the earlier `items[first]`.
pub fn first_duplicate<T: PartialEq>(items: &[T]) -> Option<(usize, usize)> {
    (1..items.len()).find_map(|dup| {
        items[..dup]
            .iter()
            .position(|x| *x == items[dup])
            .map(|first| (first, dup))
    })
}

/// How a unit enum value is spelled in the TOML file (`"record_key"`).
pub fn spelling<T: Serialize>(value: &T) -> String {
    match serde_json::to_value(value) {
        Ok(serde_json::Value::String(s)) => s,
        Ok(other) => other.to_string(),
        Err(_) => String::from("?"),
    }
}

/// `Err(Invalid)` unless `lo <= value <= hi`.
pub fn in_range<T>(key: &str, value: T, lo: T, hi: T, what: &str) -> Result<(), ConfigError>
where
    T: PartialOrd + std::fmt::Debug + std::fmt::Display + Copy,
{
    if value < lo || value > hi {
        return Err(ConfigError::invalid(
            key,
            value,
            format!("allowed values are {lo} to {hi}{what}"),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn topic_names() {
        assert_eq!(kafka_topic_problem("orders.v1_x-y"), None);
        assert_eq!(kafka_topic_problem(&"a".repeat(249)), None);
        assert!(kafka_topic_problem(&"a".repeat(250)).is_some());
        assert!(kafka_topic_problem("").is_some());
        assert!(kafka_topic_problem("..").is_some());
        assert!(kafka_topic_problem("a b")
            .unwrap()
            .starts_with("' ' is not allowed"));
    }

    #[test]
    fn column_names() {
        assert_eq!(column_name_problem("_id9"), None);
        assert_eq!(column_name_problem(&"A".repeat(255)), None);
        assert!(column_name_problem(&"A".repeat(256)).is_some());
        assert!(column_name_problem("9a")
            .unwrap()
            .starts_with("it starts with '9'"));
        assert!(column_name_problem("a-b").is_some());
    }

    #[test]
    fn timeseries_tables() {
        assert_eq!(timeseries_table_problem("Metrics_1"), None);
        assert!(timeseries_table_problem("1m").is_some());
        assert!(timeseries_table_problem(&"m".repeat(129)).is_some());
    }

    #[test]
    fn timeseries_field_names_and_suggestions() {
        assert_eq!(timeseries_field_problem("cpu_usage2"), None);
        assert_eq!(timeseries_field_problem("_x"), None);
        for bad in ["Temp", "1st", "start_time", "a-b", "", "x_tags_y"] {
            let msg = timeseries_field_problem(bad).unwrap();
            let suggested = suggest_timeseries_field(bad);
            assert_eq!(
                timeseries_field_problem(&suggested),
                None,
                "{bad} -> {suggested}"
            );
            assert!(msg.contains(&format!("{suggested:?}")), "{msg}");
        }
        assert_eq!(
            suggest_timeseries_field("Start Time"),
            "start_time".replace("_time", "time")
        );
        assert_eq!(suggest_timeseries_field("1st"), "f1st");
        assert_eq!(suggest_timeseries_field("a_m_name"), "am_name");
        assert_eq!(suggest_timeseries_field(&"x".repeat(200)).len(), 128);
    }

    #[test]
    fn tag_names() {
        assert_eq!(tag_name_problem("host.name"), None);
        assert!(tag_name_problem("a=b").is_some());
        assert!(tag_name_problem("a b").is_some());
        assert!(tag_name_problem("").is_some());
    }

    #[test]
    fn duplicates() {
        assert_eq!(first_duplicate(&["a", "b", "c"]), None);
        assert_eq!(first_duplicate(&["a", "b", "c", "b", "a"]), Some((1, 3)));
    }
}
