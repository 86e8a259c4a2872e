//! Reads a Prometheus text exposition (the sink's `/metrics`): sums of
//! counters by label and histogram quantiles. Used by `load` to report
//! what the sink measured.

use std::collections::BTreeMap;

/// One sample: metric name, labels, value.
#[derive(Clone, Debug, PartialEq)]
pub struct Sample {
    pub name: String,
    pub labels: BTreeMap<String, String>,
    pub value: f64,
}

/// Parses the text format (comments and malformed lines are skipped).
pub fn parse(text: &str) -> Vec<Sample> {
    text.lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .filter_map(parse_line)
        .collect()
}

fn parse_line(line: &str) -> Option<Sample> {
    let (head, value) = line.rsplit_once(' ')?;
    let value: f64 = match value.trim() {
        "+Inf" => f64::INFINITY,
        v => v.parse().ok()?,
    };
    let (name, labels) = match head.find('{') {
        Some(i) => (&head[..i], head[i + 1..].strip_suffix('}')?),
        None => (head, ""),
    };
    let mut map = BTreeMap::new();
    let mut rest = labels;
    while !rest.is_empty() {
        let (k, after) = rest.split_once("=\"")?;
        let end = after.find('"')?;
        map.insert(
            k.trim_start_matches(',').trim().to_owned(),
            after[..end].to_owned(),
        );
        rest = after[end + 1..].trim_start_matches(',');
    }
    Some(Sample {
        name: name.to_owned(),
        labels: map,
        value,
    })
}

/// Sum of `name` over samples whose labels include every `(k, v)`.
pub fn sum(samples: &[Sample], name: &str, filter: &[(&str, &str)]) -> f64 {
    samples
        .iter()
        .filter(|s| {
            s.name == name
                && filter
                    .iter()
                    .all(|(k, v)| s.labels.get(*k).map(String::as_str) == Some(*v))
        })
        .map(|s| s.value)
        .sum()
}

/// Like [`sum`], but `None` when no sample matches: a series that is
/// absent is not a zero.
pub fn get(samples: &[Sample], name: &str, filter: &[(&str, &str)]) -> Option<f64> {
    let matching = samples.iter().filter(|s| {
        s.name == name
            && filter
                .iter()
                .all(|(k, v)| s.labels.get(*k).map(String::as_str) == Some(*v))
    });
    matching.map(|s| s.value).reduce(|a, b| a + b)
}

/// Cumulative bucket counts `(upper bound, count)` of histogram `name`,
/// summed over matching series, ascending.
pub fn buckets(samples: &[Sample], name: &str, filter: &[(&str, &str)]) -> Vec<(f64, f64)> {
    let bucket = format!("{name}_bucket");
    let mut by_le: BTreeMap<u64, (f64, f64)> = BTreeMap::new();
    for s in samples.iter().filter(|s| {
        s.name == bucket
            && filter
                .iter()
                .all(|(k, v)| s.labels.get(*k).map(String::as_str) == Some(*v))
    }) {
        let le: f64 = match s.labels.get("le").map(String::as_str) {
            Some("+Inf") => f64::INFINITY,
            Some(v) => match v.parse() {
                Ok(x) => x,
                Err(_) => continue,
            },
            None => continue,
        };
        let e = by_le.entry(le.to_bits()).or_insert((le, 0.0));
        e.1 += s.value;
    }
    let mut v: Vec<(f64, f64)> = by_le.into_values().collect();
    v.sort_by(|a, b| a.0.total_cmp(&b.0));
    v
}

/// Bucket counts of `after` minus `before` (what happened in between).
pub fn delta(after: &[(f64, f64)], before: &[(f64, f64)]) -> Vec<(f64, f64)> {
    after
        .iter()
        .map(|(le, c)| {
            let prev = before
                .iter()
                .find(|(l, _)| l.to_bits() == le.to_bits())
                .map_or(0.0, |(_, c)| *c);
            (*le, c - prev)
        })
        .collect()
}

/// The `q` quantile by linear interpolation inside the bucket that holds
/// it; `None` when empty. Values past the last finite bound report that bound.
pub fn quantile(cumulative: &[(f64, f64)], q: f64) -> Option<f64> {
    let total = cumulative.last()?.1;
    if total <= 0.0 {
        return None;
    }
    let rank = q * total;
    let mut prev = (0.0, 0.0);
    for &(le, count) in cumulative {
        if count >= rank {
            if le.is_infinite() {
                return Some(prev.0);
            }
            let width = count - prev.1;
            let frac = if width > 0.0 {
                (rank - prev.1) / width
            } else {
                1.0
            };
            return Some(prev.0 + (le - prev.0) * frac);
        }
        prev = (le, count);
    }
    Some(prev.0)
}

/// Upper bound of the highest non-empty bucket: the maximum is at most this.
pub fn max_bound(cumulative: &[(f64, f64)]) -> Option<f64> {
    let total = cumulative.last()?.1;
    if total <= 0.0 {
        return None;
    }
    cumulative
        .iter()
        .find(|(_, c)| *c >= total)
        .map(|(le, _)| *le)
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEXT: &str = r#"# HELP x_seconds latency
x_seconds_bucket{topic="t",le="0.01"} 5
x_seconds_bucket{topic="t",le="0.1"} 15
x_seconds_bucket{topic="t",le="+Inf"} 20
x_seconds_count{topic="t"} 20
rows_total{table="a"} 7
rows_total{table="b"} 3
"#;

    #[test]
    fn parses_sums_and_quantiles() {
        let s = parse(TEXT);
        assert_eq!(sum(&s, "rows_total", &[]), 10.0);
        assert_eq!(sum(&s, "rows_total", &[("table", "a")]), 7.0);
        let b = buckets(&s, "x_seconds", &[("topic", "t")]);
        assert_eq!(b, vec![(0.01, 5.0), (0.1, 15.0), (f64::INFINITY, 20.0)]);
        assert_eq!(quantile(&b, 0.25), Some(0.01));
        assert!((quantile(&b, 0.5).unwrap() - 0.055).abs() < 1e-9);
        assert_eq!(quantile(&b, 0.99), Some(0.1), "past the last finite bound");
        assert_eq!(max_bound(&b), Some(f64::INFINITY));
        assert_eq!(
            delta(&b, &[(0.01, 5.0)]),
            vec![(0.01, 0.0), (0.1, 15.0), (f64::INFINITY, 20.0)]
        );
    }
}
