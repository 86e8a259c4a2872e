//! The Grafana dashboard and the Prometheus alert rules in `dashboards/`
//! use only metrics the sink exports (`metrics::names::ALL`), in the form
//! the exporter renders them; the dashboard is portable and covers every
//! metric; and the Kubernetes example's config validates.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use serde_json::Value;
use tablestore_sink::metrics::names;

/// Histograms: Prometheus only has their `_bucket`, `_sum` and `_count`
/// series.
const HISTOGRAMS: &[&str] = &[
    names::REQUEST_DURATION,
    names::BATCH_ROWS,
    names::END_TO_END_LATENCY,
];

/// Gauges. Every other name in `names::ALL` is a counter and ends in
/// `_total`.
const GAUGES: &[&str] = &[
    names::BUILD_INFO,
    names::IN_FLIGHT_BYTES,
    names::PAUSED_PARTITIONS,
    names::ASSIGNED_PARTITIONS,
    names::PARTITION_FAILED,
    names::COMMITTED_OFFSET,
    names::CONSUMER_LAG,
];

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

const PREFIX: &str = "tablestore_sink_";

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

fn alerts() -> String {
    read("dashboards/alerts.yml")
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

fn indent(line: &str) -> usize {
    line.len() - line.trim_start().len()
}

/// The `expr:` values of a rules file, scanned line by line: a plain or
/// quoted scalar on the same line, or a block scalar (`|`, `>-`, ...) on
/// the more indented lines that follow.
fn rule_exprs(text: &str) -> Vec<String> {
    let lines: Vec<&str> = text.lines().collect();
    let mut out = Vec::new();
    for (i, line) in lines.iter().enumerate() {
        let Some(rest) = line.trim_start().strip_prefix("expr:") else {
            continue;
        };
        let rest = rest.trim();
        if rest.starts_with('|') || rest.starts_with('>') {
            let body: Vec<&str> = lines[i + 1..]
                .iter()
                .take_while(|l| l.trim().is_empty() || indent(l) > indent(line))
                .map(|l| l.trim())
                .collect();
            out.push(body.join("\n").trim().to_string());
        } else {
            out.push(rest.trim_matches(|c| c == '"' || c == '\'').to_string());
        }
    }
    out
}

/// The alert rules: name and the lines of its list item.
fn alert_blocks(text: &str) -> Vec<(String, Vec<&str>)> {
    let mut blocks: Vec<(String, Vec<&str>)> = Vec::new();
    let mut current: Option<(String, usize, Vec<&str>)> = None;
    for line in text.lines() {
        let trimmed = line.trim_start();
        let starts_item = trimmed.starts_with("- ");
        if let Some((_, item_indent, _)) = &current {
            if starts_item && indent(line) <= *item_indent {
                let (name, _, body) = current.take().unwrap();
                blocks.push((name, body));
            }
        }
        if let Some(name) = trimmed.strip_prefix("- alert:") {
            current = Some((name.trim().to_string(), indent(line), Vec::new()));
        }
        if let Some((_, _, body)) = &mut current {
            body.push(line);
        }
    }
    if let Some((name, _, body)) = current {
        blocks.push((name, body));
    }
    blocks
}

/// `tablestore_sink_[a-z_]+` occurrences, as written (suffixes kept).
fn metric_refs(expr: &str) -> Vec<String> {
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
fn resolve(series: &str) -> Result<&'static str, String> {
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
fn used_names(what: &str, exprs: &[String]) -> BTreeSet<&'static str> {
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

#[test]
fn alert_rules_use_only_exported_metrics() {
    let text = alerts();
    let exprs = rule_exprs(&text);
    assert_eq!(
        exprs.len(),
        alert_blocks(&text).len(),
        "one expr per alert: {exprs:#?}"
    );
    let used = used_names("alerts.yml", &exprs);
    for name in [
        names::CONSUMER_LAG,
        names::PARTITION_FAILED,
        names::DEAD_LETTER_RECORDS,
        names::ERROR_RECORDS,
        names::ROWS_WRITTEN,
    ] {
        assert!(used.contains(name), "no alert rule uses {name}");
    }
    for expr in &exprs {
        assert!(
            !expr.contains('$'),
            "Grafana variables do not exist in Prometheus: {expr}"
        );
    }
}

/// rate(), increase() and friends only make sense on counters (and a
/// histogram's series); deriv() only on gauges.
#[test]
fn functions_fit_the_metric_types() {
    let d = dashboard();
    let mut exprs = dashboard_exprs(&d);
    exprs.extend(rule_exprs(&alerts()));
    let mut errors = Vec::new();
    for expr in &exprs {
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
    assert!(errors.is_empty(), "{}", errors.join("\n"));
}

#[test]
fn alert_rules_are_complete() {
    let text = alerts();
    assert!(text.lines().any(|l| l == "groups:"), "no top-level groups:");
    let blocks = alert_blocks(&text);
    let mut seen = BTreeSet::new();
    for (name, body) in &blocks {
        assert!(seen.insert(name.clone()), "alert {name} defined twice");
        let has = |key: &str| body.iter().any(|l| l.trim_start().starts_with(key));
        for key in [
            "expr:",
            "for:",
            "labels:",
            "annotations:",
            "summary:",
            "description:",
        ] {
            assert!(has(key), "alert {name} has no {key}");
        }
        let severity = body
            .iter()
            .find_map(|l| l.trim_start().strip_prefix("severity:"))
            .map(str::trim)
            .unwrap_or_else(|| panic!("alert {name} has no severity label"));
        assert!(
            ["critical", "warning", "info"].contains(&severity),
            "alert {name}: severity {severity}"
        );
    }
    // Issue 5: lag growing, partition FAILED, error rate, no writes; plus
    // throttling and the sink being down.
    for name in [
        "TablestoreSinkConsumerLagGrowing",
        "TablestoreSinkPartitionFailed",
        "TablestoreSinkBadRecords",
        "TablestoreSinkBadRecordRatioHigh",
        "TablestoreSinkNoWrites",
        "TablestoreSinkThrottled",
        "TablestoreSinkDown",
    ] {
        assert!(seen.contains(name), "no alert {name}; have {seen:?}");
    }
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
        let kind = if HISTOGRAMS.contains(&name) {
            "histogram"
        } else if GAUGES.contains(&name) {
            "gauge"
        } else {
            "counter"
        };
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

/// The TOML inside config/kubernetes.yaml's ConfigMap validates like the
/// files in config/, every variable it references comes from the
/// Deployment's env (from the Secret), and the grace period outlasts the
/// shutdown.
#[test]
fn kubernetes_example_config_validates() {
    let text = read("config/kubernetes.yaml");
    let lines: Vec<&str> = text.lines().collect();
    let start = lines
        .iter()
        .position(|l| l.trim() == "config.toml: |")
        .expect("a config.toml: | entry in the ConfigMap");
    let key_indent = indent(lines[start]);
    let body: Vec<&str> = lines[start + 1..]
        .iter()
        .take_while(|l| l.trim().is_empty() || indent(l) > key_indent)
        .copied()
        .collect();
    let strip = body
        .iter()
        .filter(|l| !l.trim().is_empty())
        .map(|l| indent(l))
        .min()
        .expect("a non-empty config");
    let mut toml: String = body
        .iter()
        .map(|l| l.get(strip..).unwrap_or(""))
        .collect::<Vec<_>>()
        .join("\n");

    // ${NAME}s: each set from a secretKeyRef in the Deployment. Replaced
    // here rather than set in the environment (tests run in parallel).
    let mut vars = Vec::new();
    while let Some(at) = toml.find("${") {
        let end = at + toml[at..].find('}').expect("closing brace");
        let name = toml[at + 2..end].to_string();
        toml.replace_range(at..=end, &format!("dummy-{}", name.to_ascii_lowercase()));
        vars.push(name);
    }
    assert!(
        vars.len() >= 3,
        "secrets come from the environment: {vars:?}"
    );
    for name in &vars {
        let env_line = lines
            .iter()
            .position(|l| l.trim() == format!("- name: {name}"))
            .unwrap_or_else(|| panic!("${{{name}}} has no env entry in the Deployment"));
        assert!(
            lines[env_line + 1..env_line + 4]
                .iter()
                .any(|l| l.trim() == "secretKeyRef:"),
            "{name} is not taken from a Secret"
        );
    }

    let dir = tempfile::tempdir().expect("temp dir");
    let file = dir.path().join("config.toml");
    std::fs::write(&file, &toml).expect("writing the config");
    let config = tablestore_sink::config::load(&file)
        .unwrap_or_else(|e| panic!("the ConfigMap's config.toml: {e}\n{toml}"));
    assert!(config.tablestore.endpoint.starts_with("https://"));
    assert_eq!(
        config.metrics.listen.map(|a| a.port()),
        Some(9464),
        "the metrics port the annotations name"
    );

    let number = |key: &str| -> u64 {
        lines
            .iter()
            .find_map(|l| l.trim().strip_prefix(key))
            .and_then(|v| v.trim().trim_matches('"').parse().ok())
            .unwrap_or_else(|| panic!("no numeric {key}"))
    };
    assert!(number("replicas:") > 1, "several replicas in one group");
    assert_eq!(number("containerPort:"), 9464);
    assert_eq!(number("prometheus.io/port:"), 9464);
    // Drain, then the producer flush (10 s) at shutdown.
    let shutdown_s = u64::from(config.kafka.drain_timeout_ms()).div_ceil(1000) + 10;
    assert!(
        number("terminationGracePeriodSeconds:") > shutdown_s,
        "terminationGracePeriodSeconds must exceed {shutdown_s} s"
    );
}

/// The systemd unit runs the sink with secrets from an EnvironmentFile and
/// waits for the drain at stop.
#[test]
fn systemd_unit_is_consistent() {
    let unit = read("config/tablestore-sink.service");
    let value = |key: &str| -> &str {
        unit.lines()
            .find_map(|l| l.strip_prefix(key)?.strip_prefix('='))
            .unwrap_or_else(|| panic!("no {key}= in the unit"))
    };
    assert!(value("ExecStart").ends_with(" run --config /etc/tablestore-sink/config.toml"));
    assert!(value("EnvironmentFile").starts_with('/'));
    assert_eq!(value("Restart"), "on-failure");
    assert_eq!(value("KillSignal"), "SIGTERM");
    let stop_s: u64 = value("TimeoutStopSec")
        .trim_end_matches('s')
        .parse()
        .expect("TimeoutStopSec in seconds");
    // Covers the default drain timeout (5 s) plus the producer flush (10 s)
    // with room for drain_timeout_ms up to 30 s.
    assert!(stop_s >= 30 + 10, "TimeoutStopSec={stop_s}");
    for key in ["NoNewPrivileges", "ProtectSystem", "PrivateTmp"] {
        value(key);
    }
}

#[test]
fn scanners_work() {
    assert_eq!(
        metric_refs("sum(rate(tablestore_sink_x_bucket{a=\"b\"}[5m])) / my_tablestore_sink_y"),
        vec!["tablestore_sink_x_bucket"]
    );
    let rules = "    rules:\n      - alert: A\n        expr: up == 0\n        for: 1m\n      - alert: B\n        expr: |\n          sum(x)\n          > 1\n        labels:\n          severity: info\n";
    assert_eq!(rule_exprs(rules), vec!["up == 0", "sum(x)\n> 1"]);
    let blocks = alert_blocks(rules);
    assert_eq!(blocks.len(), 2);
    assert_eq!(blocks[1].0, "B");
    assert!(blocks[1].1.iter().any(|l| l.contains("severity: info")));
    assert!(resolve("tablestore_sink_request_duration_seconds").is_err());
    assert!(resolve("tablestore_sink_requests_total_count").is_err());
    assert!(resolve("tablestore_sink_nope_total").is_err());
    assert_eq!(
        resolve("tablestore_sink_batch_rows_sum"),
        Ok(names::BATCH_ROWS)
    );
}

/// dashboards/README.md lists every metric with its type.
#[test]
fn readme_documents_every_metric() {
    let readme = read("dashboards/README.md");
    let mut missing = Vec::new();
    for &name in names::ALL {
        let kind = if HISTOGRAMS.contains(&name) {
            "histogram"
        } else if GAUGES.contains(&name) {
            "gauge"
        } else {
            "counter"
        };
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
