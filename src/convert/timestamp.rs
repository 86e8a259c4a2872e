//! TimeSeries timestamps: a JSON integer (or integer string) in the
//! configured unit, an RFC 3339 string, or the Kafka record timestamp,
//! converted to microseconds since the epoch.
//!
//! Everything is integer arithmetic with checked multiplication; no value
//! passes through an `f64`, so large timestamps keep every digit. A value
//! that cannot be represented is an error, never wrapped or saturated:
//! * overflow of an i64 of microseconds (after year 294247);
//! * a negative time (TimeSeries `_time` must be ≥ 0);
//! * a non-integer number (`1.5`, and also `1.0` and `1e3`, which JSON
//!   writes as floats).
//!
//! Time finer than a microsecond (a nanosecond value that is not a whole
//! microsecond, an RFC 3339 fraction with more than 6 digits) follows
//! [`SubMicrosecond`]: truncated towards the earlier microsecond by
//! default, as the product page says ("converted into a value in
//! microseconds") and the managed connector does (Java's
//! `TimeUnit.NANOSECONDS.toMicros`); with `reject` it is an error, for
//! pipelines where two events within one microsecond must not collide.
//!
//! An RFC 3339 string is an absolute time: `timestamp_unit` does not apply
//! to it.

use std::fmt;

use chrono::DateTime;
use serde_json::Value as Json;

use super::json::{self, NumberKind};
use crate::config::{SubMicrosecond, TimestampUnit};

/// Why a timestamp could not become microseconds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TimestampError {
    /// Before 1970-01-01T00:00:00Z.
    Negative,
    /// More microseconds than an i64 holds.
    Overflow { unit: TimestampUnit },
    /// A number with a fraction or exponent.
    NotInteger { unit: TimestampUnit },
    /// Nanoseconds (or an RFC 3339 fraction) finer than a microsecond,
    /// with `sub_microsecond = "reject"`.
    SubMicrosecond,
    /// A JSON type that is not a timestamp (boolean, object, array).
    WrongType {
        found: &'static str,
        unit: TimestampUnit,
    },
    /// A string that is neither an integer nor RFC 3339.
    Unparseable { unit: TimestampUnit },
    /// The Kafka record carries no timestamp.
    NoKafkaTimestamp,
}

impl fmt::Display for TimestampError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TimestampError::Negative => f.write_str(
                "it is before 1970-01-01T00:00:00Z, and TimeSeries times cannot be negative; send a time at or after the epoch",
            ),
            TimestampError::Overflow { unit } => write!(
                f,
                "as {} it is beyond what microseconds since 1970 can hold in 64 bits (year 294247); check that timeseries.timestamp_unit matches the producer's unit",
                unit_name(*unit)
            ),
            TimestampError::NotInteger { unit } => write!(
                f,
                "it is not an integer; send a whole number of {} (timeseries.timestamp_unit) or an RFC 3339 string",
                unit_name(*unit)
            ),
            TimestampError::SubMicrosecond => f.write_str(
                "it is not a whole number of microseconds, and timeseries.sub_microsecond = \"reject\"; Tablestore stores microseconds: send a multiple of 1000 nanoseconds, or set sub_microsecond = \"truncate\" to drop the finer digits",
            ),
            TimestampError::WrongType { found, unit } => write!(
                f,
                "a JSON {found} is not a timestamp; send an integer number of {} (timeseries.timestamp_unit) or an RFC 3339 string",
                unit_name(*unit)
            ),
            TimestampError::Unparseable { unit } => write!(
                f,
                "the string is neither an integer number of {} nor an RFC 3339 date-time such as \"2024-05-01T12:00:00.123456Z\"",
                unit_name(*unit)
            ),
            TimestampError::NoKafkaTimestamp => f.write_str(
                "the record has no timestamp; set timeseries.timestamp_field to take the time from the value, or have the producer set record timestamps",
            ),
        }
    }
}

/// The unit's name as the config spells it.
pub fn unit_name(unit: TimestampUnit) -> &'static str {
    match unit {
        TimestampUnit::Seconds => "seconds",
        TimestampUnit::Milliseconds => "milliseconds",
        TimestampUnit::Microseconds => "microseconds",
        TimestampUnit::Nanoseconds => "nanoseconds",
    }
}

/// How a timestamp is read: its unit, and what to do with time finer
/// than a microsecond.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TimeRule {
    pub unit: TimestampUnit,
    pub sub_microsecond: SubMicrosecond,
}

impl TimeRule {
    /// Whole nanoseconds `nanos` (0..) as microseconds under this rule.
    fn micros_of_nanos(self, nanos: i64) -> Result<i64, TimestampError> {
        if nanos % 1_000 != 0 && self.sub_microsecond == SubMicrosecond::Reject {
            return Err(TimestampError::SubMicrosecond);
        }
        Ok(nanos / 1_000)
    }
}

/// `n` units since the epoch, in microseconds.
pub fn from_integer(n: i64, rule: TimeRule) -> Result<i64, TimestampError> {
    if n < 0 {
        return Err(TimestampError::Negative);
    }
    let unit = rule.unit;
    let overflow = TimestampError::Overflow { unit };
    match unit {
        TimestampUnit::Seconds => n.checked_mul(1_000_000).ok_or(overflow),
        TimestampUnit::Milliseconds => n.checked_mul(1_000).ok_or(overflow),
        TimestampUnit::Microseconds => Ok(n),
        TimestampUnit::Nanoseconds => rule.micros_of_nanos(n),
    }
}

/// A JSON timestamp in microseconds: an integer in `unit`, or a string
/// holding an integer in `unit` or an RFC 3339 date-time.
pub fn from_json(v: &Json, rule: TimeRule) -> Result<i64, TimestampError> {
    let unit = rule.unit;
    match v {
        Json::Number(n) => match json::classify(n) {
            NumberKind::Int(i) => from_integer(i, rule),
            NumberKind::WideInt { .. } if n.as_str().starts_with('-') => {
                Err(TimestampError::Negative)
            }
            // Beyond i64: too large in every unit.
            NumberKind::WideInt { .. } => Err(TimestampError::Overflow { unit }),
            NumberKind::Float(_) | NumberKind::HugeFloat => {
                Err(TimestampError::NotInteger { unit })
            }
        },
        Json::String(s) => from_text(s, rule),
        other => Err(TimestampError::WrongType {
            found: json::type_name(other),
            unit,
        }),
    }
}

/// A string timestamp in microseconds: an integer in `unit` (`"1700000000"`,
/// `"-5"` is negative) or an RFC 3339 date-time.
pub fn from_text(s: &str, rule: TimeRule) -> Result<i64, TimestampError> {
    let unit = rule.unit;
    let digits = s.strip_prefix(['-', '+']).unwrap_or(s);
    if !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()) {
        return match s.parse::<i64>() {
            Ok(n) => from_integer(n, rule),
            Err(_) if s.starts_with('-') => Err(TimestampError::Negative),
            Err(_) => Err(TimestampError::Overflow { unit }),
        };
    }
    match from_rfc3339(s, rule.sub_microsecond) {
        Err(TimestampError::Unparseable { .. }) if s.parse::<f64>().is_ok() => {
            Err(TimestampError::NotInteger { unit })
        }
        Err(TimestampError::Unparseable { .. }) => Err(TimestampError::Unparseable { unit }),
        // A date-time, representable or not.
        other => other,
    }
}

/// An RFC 3339 date-time in microseconds since the epoch.
pub fn from_rfc3339(s: &str, sub_microsecond: SubMicrosecond) -> Result<i64, TimestampError> {
    let unit = TimestampUnit::Microseconds;
    let t = DateTime::parse_from_rfc3339(s).map_err(|_| TimestampError::Unparseable { unit })?;
    let secs = t.timestamp();
    if secs < 0 {
        return Err(TimestampError::Negative);
    }
    // A leap second has nanos ≥ 1e9; it lands on the next second's start.
    let nanos = i64::from(t.timestamp_subsec_nanos());
    let micros = TimeRule {
        unit,
        sub_microsecond,
    }
    .micros_of_nanos(nanos)?;
    secs.checked_mul(1_000_000)
        .and_then(|us| us.checked_add(micros))
        .ok_or(TimestampError::Overflow { unit })
}

/// The Kafka record timestamp (milliseconds, absent when the record has
/// none) in microseconds.
pub fn from_kafka_ms(ms: Option<i64>) -> Result<i64, TimestampError> {
    match ms {
        None => Err(TimestampError::NoKafkaTimestamp),
        Some(ms) => from_integer(
            ms,
            TimeRule {
                unit: TimestampUnit::Milliseconds,
                sub_microsecond: SubMicrosecond::Reject,
            },
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use SubMicrosecond::*;
    use TimestampUnit::*;

    /// `unit` with the default: truncate sub-microsecond time.
    fn r(unit: TimestampUnit) -> TimeRule {
        TimeRule {
            unit,
            sub_microsecond: Truncate,
        }
    }

    /// `unit` with `sub_microsecond = "reject"`.
    fn strict(unit: TimestampUnit) -> TimeRule {
        TimeRule {
            unit,
            sub_microsecond: Reject,
        }
    }

    #[test]
    fn each_unit_converts_exactly() {
        assert_eq!(
            from_integer(1_700_000_000, r(Seconds)),
            Ok(1_700_000_000_000_000)
        );
        assert_eq!(
            from_integer(1_700_000_000_123, r(Milliseconds)),
            Ok(1_700_000_000_123_000)
        );
        assert_eq!(
            from_integer(1_700_000_000_123_456, r(Microseconds)),
            Ok(1_700_000_000_123_456)
        );
        assert_eq!(
            from_integer(1_700_000_000_123_456_000, r(Nanoseconds)),
            Ok(1_700_000_000_123_456)
        );
        assert_eq!(from_integer(0, r(Seconds)), Ok(0));
    }

    #[test]
    fn large_values_keep_every_digit() {
        // 2^53 + 1 is not representable as an f64.
        let odd = 9_007_199_254_740_993;
        assert_eq!(from_integer(odd, r(Microseconds)), Ok(odd));
        assert_eq!(from_json(&json!(odd), r(Microseconds)), Ok(odd));
        assert_eq!(
            from_integer(odd, r(Milliseconds)),
            Ok(9_007_199_254_740_993_000)
        );
        assert_eq!(
            from_integer(9_007_199_254_740_993 / 1000, r(Milliseconds)),
            Ok(9_007_199_254_740_000)
        );
        assert_eq!(from_integer(i64::MAX, r(Microseconds)), Ok(i64::MAX));
        assert_eq!(
            from_integer(9_223_372_036_854, r(Seconds)),
            Ok(9_223_372_036_854_000_000)
        );
        assert_eq!(
            from_integer(9_223_372_036_854_775, r(Milliseconds)),
            Ok(9_223_372_036_854_775_000)
        );
        assert_eq!(
            from_integer(9_223_372_036_854_775_000, r(Nanoseconds)),
            Ok(9_223_372_036_854_775)
        );
    }

    #[test]
    fn overflow_is_an_error_not_saturation() {
        assert_eq!(
            from_integer(9_223_372_036_855, r(Seconds)),
            Err(TimestampError::Overflow { unit: Seconds })
        );
        assert_eq!(
            from_integer(9_223_372_036_854_776, r(Milliseconds)),
            Err(TimestampError::Overflow { unit: Milliseconds })
        );
        assert_eq!(
            from_json(&json!(u64::MAX), r(Microseconds)),
            Err(TimestampError::Overflow { unit: Microseconds })
        );
        // 2^70, kept whole by arbitrary_precision: still an overflow, not
        // "not an integer".
        let big: Json = serde_json::from_str("1180591620717411303424").unwrap();
        assert_eq!(
            from_json(&big, r(Microseconds)),
            Err(TimestampError::Overflow { unit: Microseconds })
        );
        let neg: Json = serde_json::from_str("-1180591620717411303424").unwrap();
        assert_eq!(from_json(&neg, r(Seconds)), Err(TimestampError::Negative));
        assert_eq!(
            from_text("99999999999999999999", r(Nanoseconds)),
            Err(TimestampError::Overflow { unit: Nanoseconds })
        );
    }

    #[test]
    fn negative_is_an_error() {
        assert_eq!(
            from_integer(-1, r(Microseconds)),
            Err(TimestampError::Negative)
        );
        assert_eq!(
            from_json(&json!(-1_000), r(Seconds)),
            Err(TimestampError::Negative)
        );
        assert_eq!(
            from_text("-5", r(Milliseconds)),
            Err(TimestampError::Negative)
        );
        assert_eq!(
            from_text("-99999999999999999999", r(Seconds)),
            Err(TimestampError::Negative)
        );
        assert_eq!(
            from_rfc3339("1969-12-31T23:59:59Z", Truncate),
            Err(TimestampError::Negative)
        );
        assert_eq!(from_kafka_ms(Some(-1)), Err(TimestampError::Negative));
    }

    #[test]
    fn sub_microsecond_nanoseconds_are_truncated_by_default() {
        // Go's UnixNano(), Java's Instant: nearly never whole microseconds.
        assert_eq!(
            from_integer(1_700_000_000_123_456_789, r(Nanoseconds)),
            Ok(1_700_000_000_123_456)
        );
        assert_eq!(
            from_json(&json!(1_700_000_000_123_456_999_i64), r(Nanoseconds)),
            Ok(1_700_000_000_123_456)
        );
        assert_eq!(
            from_text("1700000000123456001", r(Nanoseconds)),
            Ok(1_700_000_000_123_456)
        );
        assert_eq!(from_integer(999, r(Nanoseconds)), Ok(0));
        assert_eq!(
            from_integer(i64::MAX, r(Nanoseconds)),
            Ok(9_223_372_036_854_775)
        );
        assert_eq!(
            from_rfc3339("2023-11-14T22:13:20.123456789Z", Truncate),
            Ok(1_700_000_000_123_456)
        );
    }

    #[test]
    fn sub_microsecond_nanoseconds_are_rejected_when_strict() {
        assert_eq!(
            from_integer(1_700_000_000_123_456_789, strict(Nanoseconds)),
            Err(TimestampError::SubMicrosecond)
        );
        assert_eq!(
            from_integer(999, strict(Nanoseconds)),
            Err(TimestampError::SubMicrosecond)
        );
        assert_eq!(from_integer(1_000, strict(Nanoseconds)), Ok(1));
        assert_eq!(
            from_text("2023-11-14T22:13:20.123456789Z", strict(Seconds)),
            Err(TimestampError::SubMicrosecond)
        );
        assert_eq!(
            from_rfc3339("2023-11-14T22:13:20.123456000Z", Reject),
            Ok(1_700_000_000_123_456)
        );
    }

    #[test]
    fn floats_and_other_types_are_rejected() {
        for v in [json!(1.5), json!(1.0), json!(1e3)] {
            assert_eq!(
                from_json(&v, r(Seconds)),
                Err(TimestampError::NotInteger { unit: Seconds }),
                "{v}"
            );
        }
        assert_eq!(
            from_text("1.5", r(Seconds)),
            Err(TimestampError::NotInteger { unit: Seconds })
        );
        for (v, found) in [
            (json!(true), "boolean"),
            (json!({}), "object"),
            (json!([1]), "array"),
            (json!(null), "null"),
        ] {
            assert_eq!(
                from_json(&v, r(Seconds)),
                Err(TimestampError::WrongType {
                    found,
                    unit: Seconds
                })
            );
        }
        for s in ["", "abc", "12 ", " 12", "2024-05-01", "+", "-"] {
            assert_eq!(
                from_text(s, r(Seconds)),
                Err(TimestampError::Unparseable { unit: Seconds }),
                "{s:?}"
            );
        }
    }

    #[test]
    fn integer_strings_use_the_unit() {
        assert_eq!(
            from_json(&json!("1700000000"), r(Seconds)),
            Ok(1_700_000_000_000_000)
        );
        assert_eq!(
            from_text("1700000000123", r(Milliseconds)),
            Ok(1_700_000_000_123_000)
        );
        assert_eq!(from_text("+17", r(Microseconds)), Ok(17));
    }

    #[test]
    fn rfc3339_strings_are_absolute_and_exact() {
        let t = "2023-11-14T22:13:20.123456Z";
        assert_eq!(from_json(&json!(t), r(Seconds)), Ok(1_700_000_000_123_456));
        assert_eq!(from_text(t, r(Nanoseconds)), Ok(1_700_000_000_123_456));
        assert_eq!(
            from_rfc3339("2023-11-15T06:13:20+08:00", Truncate),
            Ok(1_700_000_000_000_000)
        );
        assert_eq!(from_rfc3339("1970-01-01T00:00:00Z", Truncate), Ok(0));
        assert_eq!(
            from_text("2023-11-14T22:13:20.123456789Z", r(Seconds)),
            Ok(1_700_000_000_123_456)
        );
        assert_eq!(
            from_rfc3339("2023-11-14T22:13:20.123456000Z", Truncate),
            Ok(1_700_000_000_123_456)
        );
    }

    #[test]
    fn kafka_timestamp_is_milliseconds() {
        assert_eq!(
            from_kafka_ms(Some(1_700_000_000_123)),
            Ok(1_700_000_000_123_000)
        );
        assert_eq!(from_kafka_ms(None), Err(TimestampError::NoKafkaTimestamp));
        assert_eq!(
            from_kafka_ms(Some(i64::MAX)),
            Err(TimestampError::Overflow { unit: Milliseconds })
        );
    }

    #[test]
    fn messages_say_how_to_fix() {
        let m = TimestampError::SubMicrosecond.to_string();
        assert!(
            m.contains("multiple of 1000 nanoseconds")
                && m.contains("sub_microsecond = \"truncate\""),
            "{m}"
        );
        let m = TimestampError::Overflow { unit: Seconds }.to_string();
        assert!(m.contains("timestamp_unit") && m.contains("seconds"), "{m}");
    }
}
