//! Unit tests of the conversion rules, one rule per test: Wide Column
//! ([`wide_column`]), TimeSeries ([`timeseries`]), the [`Converter`]
//! entry point ([`converter`]) and the product page's semantics where we
//! once differed ([`page`]). Helpers build converters from TOML
//! snippets, the way users write them.

mod converter;
mod page;
mod timeseries;
mod wide_column;

use super::Record;

/// A record on topic "orders", partition 3, offset 42, with a Kafka
/// timestamp of 1_700_000_000_123 ms.
pub(super) fn record<'a>(key: Option<&'a str>, value: Option<&'a str>) -> Record<'a> {
    Record {
        topic: "orders",
        partition: 3,
        offset: 42,
        timestamp_ms: Some(1_700_000_000_123),
        key: key.map(str::as_bytes),
        value: value.map(str::as_bytes),
    }
}
