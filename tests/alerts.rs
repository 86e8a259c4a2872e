//! The Prometheus alert rules in `dashboards/alerts.yml`, read with a real
//! YAML parser: the shape Prometheus loads, only metrics the sink exports
//! (with functions that fit their types), every rule complete, and the
//! alerts an operator needs. Its promtool unit tests
//! (`dashboards/alerts_test.yml`) name only rules that exist.

mod common;

use std::collections::{BTreeMap, BTreeSet};

use common::metric_names::{function_misuses, used_names};
use serde::Deserialize;
use tablestore_sink::metrics::names;

/// A rules file as Prometheus reads it (unknown keys are an error here, as
/// `promtool check rules` would find them).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RuleFile {
    groups: Vec<Group>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Group {
    name: String,
    rules: Vec<Rule>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Rule {
    alert: String,
    expr: String,
    #[serde(rename = "for")]
    for_: Option<String>,
    #[serde(default)]
    labels: BTreeMap<String, String>,
    #[serde(default)]
    annotations: BTreeMap<String, String>,
}

fn rules() -> Vec<Rule> {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("dashboards/alerts.yml");
    let text = std::fs::read_to_string(&path).unwrap();
    let file: RuleFile = serde_yaml::from_str(&text)
        .unwrap_or_else(|e| panic!("dashboards/alerts.yml is not a Prometheus rules file: {e}"));
    assert_eq!(file.groups.len(), 1, "one group");
    assert_eq!(file.groups[0].name, "tablestore-sink");
    file.groups.into_iter().flat_map(|g| g.rules).collect()
}

#[test]
fn alert_rules_use_only_exported_metrics_with_fitting_functions() {
    let exprs: Vec<String> = rules().into_iter().map(|r| r.expr).collect();
    let used = used_names("alerts.yml", &exprs);
    for name in [
        names::CONSUMER_LAG,
        names::PARTITION_FAILED,
        names::DEAD_LETTER_RECORDS,
        names::ERROR_RECORDS,
        names::ROWS_WRITTEN,
        names::READY,
        names::TABLESTORE_ERRORS,
        names::COMMIT_FAILURES,
        names::PROCESS_RSS,
        names::IN_FLIGHT_BYTES_LIMIT,
    ] {
        assert!(used.contains(name), "no alert rule uses {name}");
    }
    for expr in &exprs {
        assert!(
            !expr.contains('$'),
            "Grafana variables do not exist in Prometheus: {expr}"
        );
    }
    let errors = function_misuses(&exprs);
    assert!(errors.is_empty(), "{}", errors.join("\n"));
}

#[test]
fn alert_rules_are_complete() {
    let rules = rules();
    let mut seen = BTreeSet::new();
    for r in &rules {
        let name = &r.alert;
        assert!(seen.insert(name.clone()), "alert {name} defined twice");
        assert!(!r.expr.trim().is_empty(), "alert {name}: empty expr");
        let for_ = r
            .for_
            .as_deref()
            .unwrap_or_else(|| panic!("alert {name} has no for:"));
        assert!(
            for_.ends_with('m') || for_.ends_with('s') || for_.ends_with('h'),
            "alert {name}: for: {for_}"
        );
        let severity = r
            .labels
            .get("severity")
            .unwrap_or_else(|| panic!("alert {name} has no severity label"));
        assert!(
            ["critical", "warning", "info"].contains(&severity.as_str()),
            "alert {name}: severity {severity}"
        );
        for key in ["summary", "description"] {
            assert!(
                r.annotations.get(key).is_some_and(|v| v.len() > 20),
                "alert {name} has no {key}"
            );
        }
    }
    for name in [
        "TablestoreSinkConsumerLagGrowing",
        "TablestoreSinkPartitionFailed",
        "TablestoreSinkBadRecords",
        "TablestoreSinkBadRecordRatioHigh",
        "TablestoreSinkNoWrites",
        "TablestoreSinkThrottled",
        "TablestoreSinkDown",
        "TablestoreSinkNotReady",
        "TablestoreSinkTablestoreSystemicErrors",
        "TablestoreSinkCommitFailures",
        "TablestoreSinkMemoryHigh",
        "TablestoreSinkBudgetFull",
    ] {
        assert!(seen.contains(name), "no alert {name}; have {seen:?}");
    }
}

/// The promtool unit tests load alerts.yml and expect only alerts it has.
#[test]
fn promtool_tests_name_existing_rules() {
    #[derive(Deserialize)]
    struct Tests {
        rule_files: Vec<String>,
        tests: Vec<serde_yaml::Value>,
    }
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("dashboards/alerts_test.yml");
    let t: Tests = serde_yaml::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    assert_eq!(t.rule_files, ["alerts.yml"]);
    let defined: BTreeSet<String> = rules().into_iter().map(|r| r.alert).collect();
    let mut named = 0;
    for test in &t.tests {
        for case in test["alert_rule_test"].as_sequence().into_iter().flatten() {
            let alert = case["alertname"].as_str().expect("alertname");
            assert!(
                defined.contains(alert),
                "alerts_test.yml tests unknown {alert}"
            );
            named += 1;
        }
    }
    assert!(named >= 5, "only {named} alert cases");
}
