//! The sink's metric names as the dashboard and alert tests see them:
//! each name's type, and the metric references inside a PromQL query.

use std::collections::BTreeSet;

use tablestore_sink::metrics::names;

/// Histograms: Prometheus only has their `_bucket`, `_sum` and `_count`
/// series.
pub const HISTOGRAMS: &[&str] = &[
    names::REQUEST_DURATION,
    names::BATCH_ROWS,
    names::END_TO_END_LATENCY,
    names::POLL_DELAY,
];

/// Gauges. Every other name in `names::ALL` is a counter and ends in
/// `_total`.
pub const GAUGES: &[&str] = &[
    names::BUILD_INFO,
    names::IN_FLIGHT_BYTES,
    names::PAUSED_PARTITIONS,
    names::ASSIGNED_PARTITIONS,
    names::PARTITION_FAILED,
    names::COMMITTED_OFFSET,
    names::CONSUMER_LAG,
    names::READY,
    names::PROCESS_CPU,
    names::PROCESS_RSS,
    names::WRITER_QUEUED_ROWS,
    names::WRITER_REQUESTS_IN_FLIGHT,
    names::WRITER_CONCURRENCY_LIMIT,
    names::LANE_PARTITIONS,
    names::IN_FLIGHT_BYTES_LIMIT,
];

pub const PREFIX: &str = "tablestore_sink_";

/// "histogram", "gauge" or "counter".
pub fn kind_of(name: &str) -> &'static str {
    if HISTOGRAMS.contains(&name) {
        "histogram"
    } else if GAUGES.contains(&name) {
        "gauge"
    } else {
        "counter"
    }
}

/// `tablestore_sink_[a-z_]+` occurrences, as written (suffixes kept).
pub fn metric_refs(expr: &str) -> Vec<String> {
    let mut out = Vec::new();
    let bytes = expr.as_bytes();
    let mut from = 0;
    while let Some(pos) = expr[from..].find(PREFIX) {
        let start = from + pos;
        let mut end = start + PREFIX.len();
        while end < bytes.len() && (bytes[end].is_ascii_lowercase() || bytes[end] == b'_') {
            end += 1;
        }
        let preceded_by_ident = start > 0 && {
            let c = bytes[start - 1];
            c.is_ascii_alphanumeric() || c == b'_' || c == b':'
        };
        if !preceded_by_ident {
            out.push(expr[start..end].to_string());
        }
        from = end;
    }
    out
}

/// The `names::ALL` entry a referenced series belongs to: the name itself,
/// or a histogram's `_bucket`/`_sum`/`_count` series. A bare histogram
/// name, or a suffix on a counter or gauge, is an error: Prometheus has no
/// such series.
pub fn resolve(series: &str) -> Result<&'static str, String> {
    if let Some(&name) = names::ALL.iter().find(|&&n| n == series) {
        return if HISTOGRAMS.contains(&name) {
            Err(format!(
                "{series} is a histogram: query {series}_bucket, _sum or _count"
            ))
        } else {
            Ok(name)
        };
    }
    for suffix in ["_bucket", "_sum", "_count"] {
        if let Some(base) = series.strip_suffix(suffix) {
            if let Some(&name) = names::ALL.iter().find(|&&n| n == base) {
                return if HISTOGRAMS.contains(&name) {
                    Ok(name)
                } else {
                    Err(format!("{series}: {base} is not a histogram"))
                };
            }
        }
    }
    Err(format!(
        "{series} is not exported by the sink (not in metrics::names::ALL)"
    ))
}

/// The names used by `exprs`; panics listing every bad reference.
pub fn used_names(what: &str, exprs: &[String]) -> BTreeSet<&'static str> {
    let mut used = BTreeSet::new();
    let mut errors = Vec::new();
    for expr in exprs {
        for series in metric_refs(expr) {
            match resolve(&series) {
                Ok(name) => {
                    used.insert(name);
                }
                Err(e) => errors.push(format!("{what}: {e}\n    in: {expr}")),
            }
        }
    }
    assert!(errors.is_empty(), "{}", errors.join("\n"));
    used
}

/// rate(), increase() and friends only make sense on counters (and a
/// histogram's series); deriv() and delta() only on gauges. Returns the
/// misuses found in `exprs`.
pub fn function_misuses(exprs: &[String]) -> Vec<String> {
    let mut errors = Vec::new();
    for expr in exprs {
        for (func, wants_counter) in [
            ("rate(", true),
            ("increase(", true),
            ("irate(", true),
            ("deriv(", false),
            ("delta(", false),
        ] {
            let mut from = 0;
            while let Some(pos) = expr[from..].find(func) {
                let at = from + pos;
                from = at + func.len();
                let is_call = at == 0 || !expr.as_bytes()[at - 1].is_ascii_alphanumeric();
                if !is_call {
                    continue; // "irate(" contains "rate("
                }
                let arg = expr[from..].trim_start();
                let Some(series) = metric_refs(arg).into_iter().next() else {
                    errors.push(format!("{func}..): no sink metric in {expr}"));
                    continue;
                };
                if !arg.starts_with(&series) {
                    continue; // a subquery or nested function
                }
                let counter_like = series.ends_with("_total")
                    || ["_bucket", "_sum", "_count"]
                        .iter()
                        .any(|s| series.ends_with(s));
                if counter_like != wants_counter {
                    errors.push(format!("{func}{series}..): wrong metric type in {expr}"));
                }
            }
        }
    }
    errors
}
