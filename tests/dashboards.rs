//! The Grafana dashboard in `dashboards/` uses only metrics the sink
//! exports (`metrics::names::ALL`), in the form the exporter renders them;
//! it is portable and covers every metric; and `dashboards/README.md`
//! documents each. (The alert rules: `tests/alerts.rs`; the deployment
//! examples: `tests/deployment.rs`.)

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use common::metric_names::{
    function_misuses, kind_of, metric_refs, resolve, used_names, GAUGES, HISTOGRAMS, PREFIX,
};
use serde_json::Value;
use tablestore_sink::metrics::names;

/// The dashboard's rows (issue 5).
const ROWS: &[&str] = &[
    "Overview",
    "Throughput",
    "Lag",
    "Latency",
    "Retries and errors",
    "Dead-letter and error records",
    "Resources",
];

fn path(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(rel)
}

fn read(rel: &str) -> String {
    let p = path(rel);
    std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

fn dashboard() -> Value {
    serde_json::from_str(&read("dashboards/tablestore-sink.json"))
        .unwrap_or_else(|e| panic!("dashboards/tablestore-sink.json is not valid JSON: {e}"))
}

fn datasource_ref() -> Value {
    serde_json::json!({"type": "prometheus", "uid": "${datasource}"})
}

/// Every panel, rows and the panels nested in collapsed rows included.
fn all_panels(dashboard: &Value) -> Vec<&Value> {
    fn walk<'a>(panels: &'a Value, out: &mut Vec<&'a Value>) {
        for p in panels.as_array().into_iter().flatten() {
            out.push(p);
            if let Some(nested) = p.get("panels") {
                walk(nested, out);
            }
        }
    }
    let mut out = Vec::new();
    walk(&dashboard["panels"], &mut out);
    out
}

/// Every PromQL string in the dashboard: `expr` anywhere (targets,
/// annotations) and the templating variables' queries.
fn dashboard_exprs(dashboard: &Value) -> Vec<String> {
    fn walk(v: &Value, out: &mut Vec<String>) {
        match v {
            Value::Object(map) => {
                for (k, v) in map {
                    match (k.as_str(), v) {
                        ("expr", Value::String(s)) => out.push(s.clone()),
                        _ => walk(v, out),
                    }
                }
            }
            Value::Array(items) => items.iter().for_each(|v| walk(v, out)),
            _ => {}
        }
    }
    let mut out = Vec::new();
    walk(&dashboard["panels"], &mut out);
    walk(&dashboard["annotations"], &mut out);
    for var in dashboard["templating"]["list"]
        .as_array()
        .into_iter()
        .flatten()
    {
        if var["type"] == "query" {
            for q in [&var["definition"], &var["query"], &var["query"]["query"]] {
                if let Some(s) = q.as_str() {
                    out.push(s.to_string());
                }
            }
        }
    }
    out
}

#[test]
fn names_are_classified() {
    let unique: BTreeSet<&str> = names::ALL.iter().copied().collect();
    assert_eq!(unique.len(), names::ALL.len(), "duplicate in names::ALL");
    for name in names::ALL {
        assert!(name.starts_with(PREFIX), "{name} lacks the {PREFIX} prefix");
        assert!(
            name[PREFIX.len()..]
                .bytes()
                .all(|c| c.is_ascii_lowercase() || c == b'_'),
            "{name}: the dashboard test only finds [a-z_] names"
        );
        let kinds = [
            HISTOGRAMS.contains(name),
            GAUGES.contains(name),
            name.ends_with("_total"),
        ];
        assert_eq!(
            kinds.iter().filter(|&&k| k).count(),
            1,
            "{name}: add it to HISTOGRAMS or GAUGES in tests/dashboards.rs \
             (counters end in _total and are neither)"
        );
    }
    for name in HISTOGRAMS.iter().chain(GAUGES) {
        assert!(names::ALL.contains(name), "{name} is not in names::ALL");
    }
}

#[test]
fn dashboard_is_portable_and_has_every_row() {
    let d = dashboard();
    assert_eq!(d["uid"], "tablestore-sink");
    assert_eq!(d["schemaVersion"], 39);
    assert!(d["title"].as_str().is_some_and(|t| !t.is_empty()));
    assert!(d["id"].is_null(), "an exported dashboard has id null");

    // Variables: the data source, then job/instance/topic from the sink's
    // own series.
    let vars = d["templating"]["list"].as_array().expect("templating.list");
    let var = |name: &str| {
        vars.iter()
            .find(|v| v["name"] == name)
            .unwrap_or_else(|| panic!("no ${name} variable"))
    };
    let ds = var("datasource");
    assert_eq!(ds["type"], "datasource");
    assert_eq!(ds["query"], "prometheus");
    for (name, source) in [
        ("job", names::BUILD_INFO),
        ("instance", names::BUILD_INFO),
        ("topic", names::MESSAGES_CONSUMED),
    ] {
        let v = var(name);
        assert_eq!(v["type"], "query", "${name}");
        assert_eq!(v["datasource"], datasource_ref(), "${name}");
        let definition = v["definition"].as_str().unwrap_or_default();
        assert!(
            definition.starts_with(&format!("label_values({source}"))
                && definition.ends_with(&format!(", {name})")),
            "${name}: {definition}"
        );
    }

    // Every panel and every query goes to ${datasource}; ids unique; the
    // grid is 24 columns wide.
    let panels = all_panels(&d);
    let mut ids = BTreeSet::new();
    let mut problems = Vec::new();
    for p in &panels {
        let title = p["title"].as_str().unwrap_or("<untitled>");
        let id = p["id"].as_u64().unwrap_or_else(|| panic!("{title}: no id"));
        if !ids.insert(id) {
            problems.push(format!("{title}: duplicate id {id}"));
        }
        let g = &p["gridPos"];
        let (x, w, h) = (g["x"].as_u64(), g["w"].as_u64(), g["h"].as_u64());
        match (x, w, h, g["y"].as_u64()) {
            (Some(x), Some(w), Some(h), Some(_)) if w > 0 && h > 0 && x + w <= 24 => {}
            _ => problems.push(format!("{title}: bad gridPos {g}")),
        }
        if p["type"] == "row" {
            continue;
        }
        if p["datasource"] != datasource_ref() {
            problems.push(format!("{title}: datasource {}", p["datasource"]));
        }
        let targets = p["targets"].as_array().map(Vec::as_slice).unwrap_or(&[]);
        if targets.is_empty() {
            problems.push(format!("{title}: no queries"));
        }
        for t in targets {
            if t["datasource"] != datasource_ref() {
                problems.push(format!("{title}: target datasource {}", t["datasource"]));
            }
            if !t["expr"].as_str().is_some_and(|e| e.contains(PREFIX)) {
                problems.push(format!("{title}: target without a sink metric: {t}"));
            }
        }
    }
    for a in d["annotations"]["list"].as_array().into_iter().flatten() {
        if a["builtIn"] != 1 && a["datasource"] != datasource_ref() {
            problems.push(format!("annotation {}: datasource", a["name"]));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));

    // The rows, each with panels: nested in a collapsed row, following an
    // expanded one.
    let top = d["panels"].as_array().expect("panels");
    let mut rows: BTreeMap<&str, usize> = BTreeMap::new();
    for (i, p) in top.iter().enumerate() {
        if p["type"] != "row" {
            continue;
        }
        let title = p["title"].as_str().expect("row title");
        let count = if p["collapsed"] == true {
            p["panels"].as_array().map_or(0, Vec::len)
        } else {
            top[i + 1..]
                .iter()
                .take_while(|q| q["type"] != "row")
                .count()
        };
        rows.insert(title, count);
    }
    for row in ROWS {
        match rows.get(row) {
            Some(&n) => assert!(n > 0, "row {row:?} has no panels"),
            None => panic!("no row {row:?}; rows: {:?}", rows.keys()),
        }
    }
    assert!(
        top.first().is_some_and(|p| p["type"] == "row"),
        "every panel belongs to a row"
    );
}

#[test]
fn dashboard_uses_only_exported_metrics_and_covers_all() {
    let d = dashboard();
    let exprs = dashboard_exprs(&d);
    assert!(exprs.len() > 20, "found only {} queries", exprs.len());
    let used = used_names("dashboard", &exprs);
    let missing: Vec<&&str> = names::ALL.iter().filter(|n| !used.contains(*n)).collect();
    assert!(
        missing.is_empty(),
        "metrics no dashboard panel shows: {missing:?}"
    );
}

/// rate(), increase() and friends only on counters, deriv() on gauges.
#[test]
fn functions_fit_the_metric_types() {
    let errors = function_misuses(&dashboard_exprs(&dashboard()));
    assert!(errors.is_empty(), "{}", errors.join("\n"));
}

/// The exporter as the sink configures it renders every name with HELP
/// text and the type the dashboard assumes; histograms as real histograms
/// (`_bucket` with `le`), which `histogram_quantile` needs.
#[test]
fn exporter_renders_what_the_dashboard_queries() {
    let handle = tablestore_sink::metrics::install(None).expect("installing the recorder");
    for &name in names::ALL {
        if HISTOGRAMS.contains(&name) {
            metrics::histogram!(name, "api" => "test").record(0.02);
        } else if GAUGES.contains(&name) {
            metrics::gauge!(name, "topic" => "test").set(1.0);
        } else {
            metrics::counter!(name, "topic" => "test").increment(1);
        }
    }
    let text = handle.render();
    for &name in names::ALL {
        let kind = kind_of(name);
        assert!(
            text.lines().any(|l| l == format!("# TYPE {name} {kind}")),
            "{name} is not rendered as a {kind}:\n{text}"
        );
        assert!(
            text.lines()
                .any(|l| l.starts_with(&format!("# HELP {name} ")) && l.len() > name.len() + 10),
            "{name} has no HELP text:\n{text}"
        );
        if kind == "histogram" {
            for series in [
                format!("{name}_bucket{{"),
                format!("{name}_sum{{"),
                format!("{name}_count{{"),
            ] {
                assert!(text.contains(&series), "{series} missing:\n{text}");
            }
            assert!(
                text.lines()
                    .any(|l| l.starts_with(&format!("{name}_bucket{{")) && l.contains("le=\"")),
                "{name}_bucket has no le label:\n{text}"
            );
        }
    }
}

#[test]
fn scanners_work() {
    assert_eq!(
        metric_refs("sum(rate(tablestore_sink_x_bucket{a=\"b\"}[5m])) / my_tablestore_sink_y"),
        vec!["tablestore_sink_x_bucket"]
    );
    assert!(resolve("tablestore_sink_request_duration_seconds").is_err());
    assert!(resolve("tablestore_sink_requests_total_count").is_err());
    assert!(resolve("tablestore_sink_nope_total").is_err());
    assert_eq!(
        resolve("tablestore_sink_batch_rows_sum"),
        Ok(names::BATCH_ROWS)
    );
    assert_eq!(
        function_misuses(&["rate(tablestore_sink_ready[5m])".into()]).len(),
        1
    );
    assert!(function_misuses(&["deriv(tablestore_sink_ready[5m])".into()]).is_empty());
}

/// dashboards/README.md lists every metric with its type.
#[test]
fn readme_documents_every_metric() {
    let readme = read("dashboards/README.md");
    let mut missing = Vec::new();
    for &name in names::ALL {
        let kind = kind_of(name);
        let row = format!("| `{name}` | {kind} |");
        if !readme.lines().any(|l| l.starts_with(&row)) {
            missing.push(row);
        }
    }
    assert!(
        missing.is_empty(),
        "rows missing from dashboards/README.md:\n{}",
        missing.join("\n")
    );
}
