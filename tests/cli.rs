//! The operator subcommands against the real broker and the emulator, as a
//! user runs them: `send` then `query` shows the row, `status` shows RUNNING
//! and FAILED partitions, `load` reports the right totals, and secrets never
//! appear in `check` output, logs or the config topic.

mod common;

use std::process::Command;
use std::time::Duration;

use common::broker::Broker;
use common::sink::{binary, config, SinkProcess};
use rdkafka::Message;

const WAIT: Duration = Duration::from_secs(60);

fn cli(args: &[&str], config_path: &std::path::Path) -> (bool, String, String) {
    let out = Command::new(binary())
        .args(args)
        .arg("--config")
        .arg(config_path)
        .output()
        .unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn send_then_query_shows_the_row_and_status_shows_running_and_failed() {
    let dir = tempfile::tempdir().unwrap();
    let broker = Broker::start();
    let emu = common::emulator(&dir.path().join("ts")).await;
    let client = common::client(&emu);
    let topic = common::unique("cli");
    broker.create_topic(&topic, 2).await;
    let cfg = config(
        "cli",
        &broker.bootstrap(),
        &topic,
        &emu.endpoint(),
        "cli_rows",
        "failure_policy = \"stop\"",
        "[wide_column]\nkey_format = \"string\"\njson_conversion = \"auto\"\n",
    );
    let path = dir.path().join("cli.toml");
    std::fs::write(&path, &cfg).unwrap();
    let sink = SinkProcess::start(dir.path(), "sink", &cfg);

    let (ok, out, err) = cli(
        &[
            "send",
            "--key",
            "demo",
            "--value",
            r#"{"key2":"test","n":1.5}"#,
            "--partition",
            "0",
        ],
        &path,
    );
    assert!(ok, "{err}");
    assert!(out.contains("sent 1 message(s)"), "{out}");
    let (ok, _, err) = cli(&["send", "--value", "not json", "--partition", "1"], &path);
    assert!(ok, "{err}");
    common::eventually(WAIT, "the row", || async {
        (common::all_rows(&client, "cli_rows", &["topic_partition", "offset"])
            .await
            .len()
            == 1)
            .then_some(())
    })
    .await;

    let (ok, out, err) = cli(&["query"], &path);
    assert!(ok, "{err}");
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(
        lines[0].split('|').map(str::trim).collect::<Vec<_>>(),
        vec!["topic_partition", "offset", "key", "key2", "n"]
    );
    assert_eq!(
        lines[2].split('|').map(str::trim).collect::<Vec<_>>(),
        vec![
            format!("\"{topic}_0\"").as_str(),
            "0",
            "\"demo\"",
            "\"test\"",
            "1.5"
        ]
    );
    let (ok, out, _) = cli(&["query", "--format", "json"], &path);
    assert!(ok);
    let rows: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(
        rows[0]["columns"]["n"],
        serde_json::json!({"type": "DOUBLE", "value": 1.5})
    );

    // Commits happen every 200 ms in the test config; status reads them.
    let status = common::eventually(WAIT, "status with a committed offset", || async {
        let (ok, out, _) = cli(&["status", "--format", "json"], &path);
        let v: serde_json::Value = serde_json::from_str(&out).ok()?;
        (ok && v["partitions"][0]["committed_offset"] == 1
            && v["partitions"][1]["state"] == "FAILED")
            .then_some(v)
    })
    .await;
    let p = &status["partitions"];
    assert_eq!(
        (p[0]["state"].as_str(), p[0]["lag"].as_i64()),
        (Some("RUNNING"), Some(0))
    );
    assert_eq!(p[1]["failed_at_offset"].as_i64(), Some(0));
    assert!(
        p[1]["last_error"]
            .as_str()
            .unwrap()
            .contains("not valid JSON"),
        "{}",
        p[1]
    );
    assert_eq!(
        p[1]["committed_offset"].as_i64(),
        Some(0),
        "the commit point stays at the bad message"
    );
    assert_eq!(p[1]["lag"].as_i64(), Some(1));
    let (ok, out, _) = cli(&["status"], &path);
    assert!(ok);
    assert!(
        out.lines()
            .any(|l| l.starts_with("1 ") && l.contains("FAILED") && l.contains("at offset 0")),
        "{out}"
    );
    assert!(sink.stop().success());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn load_reports_the_right_totals() {
    let dir = tempfile::tempdir().unwrap();
    let broker = Broker::start();
    let emu = common::emulator(&dir.path().join("ts")).await;
    let topic = common::unique("load");
    broker.create_topic(&topic, 3).await;
    let metrics_port = common::broker::free_port();
    let cfg = config("load", &broker.bootstrap(), &topic, &emu.endpoint(), "load_rows", "", &format!("[wide_column]\nkey_format = \"string\"\n\n[metrics]\nlisten = \"127.0.0.1:{metrics_port}\"\n"));
    let path = dir.path().join("load.toml");
    std::fs::write(&path, &cfg).unwrap();
    let sink = SinkProcess::start(dir.path(), "sink", &cfg);
    common::eventually(WAIT, "the metrics endpoint", || async {
        tokio::net::TcpStream::connect(("127.0.0.1", metrics_port))
            .await
            .ok()
    })
    .await;
    let (ok, out, err) = cli(
        &[
            "load",
            "--rate",
            "2000",
            "--messages",
            "500",
            "--poison-ratio",
            "0.1",
            "--keys",
            "7",
            "--timeout-s",
            "60",
        ],
        &path,
    );
    assert!(ok, "{out}\n{err}");
    let json_line = out
        .lines()
        .find_map(|l| l.strip_prefix("report-json"))
        .expect("a JSON report line");
    let report: serde_json::Value = serde_json::from_str(json_line.trim()).unwrap();
    assert_eq!(report["produced"], 500);
    assert_eq!(report["poison"], 50);
    assert_eq!(report["written"], 450);
    assert_eq!(report["dead_lettered"], 50);
    let p50 = report["latency_p50_ms"].as_f64().unwrap();
    let p99 = report["latency_p99_ms"].as_f64().unwrap();
    assert!(p50 > 0.0 && p50 <= p99, "{report}");
    assert!(
        out.contains("produced      500 messages (50 poison)"),
        "{out}"
    );
    let client = common::client(&emu);
    assert_eq!(
        common::all_rows(&client, "load_rows", &["topic_partition", "offset"])
            .await
            .len(),
        450
    );
    assert!(sink.stop().success());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn secrets_never_appear_in_check_output_logs_or_the_config_topic() {
    let dir = tempfile::tempdir().unwrap();
    let broker = Broker::start();
    let emu = common::emulator(&dir.path().join("ts")).await;
    let topic = common::unique("secret");
    broker.create_topic(&topic, 1).await;
    let sasl = "sasl-S3cr3t-value";
    let ak = "local-secret";
    let mut cfg = config(
        "secret",
        &broker.bootstrap(),
        &topic,
        &emu.endpoint(),
        "secret_rows",
        "",
        "[wide_column]\nkey_format = \"string\"\n",
    );
    cfg = cfg.replace(
        "access_key_secret = \"local-secret\"",
        "access_key_secret = \"${TSS_TEST_TABLESTORE_SECRET}\"",
    );
    // A harmless librdkafka property whose name marks it secret.
    cfg = cfg.replace(
        "[kafka.client]\n",
        &format!("[kafka.client]\n\"ssl.key.password\" = \"{sasl}\"\n"),
    );
    let path = dir.path().join("secret.toml");
    std::fs::write(&path, &cfg).unwrap();
    let check = Command::new(binary())
        .args(["check", "--config"])
        .arg(&path)
        .env("TSS_TEST_TABLESTORE_SECRET", ak)
        .output()
        .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&check.stdout),
        String::from_utf8_lossy(&check.stderr)
    );
    assert!(check.status.success(), "{text}");
    assert!(
        !text.contains(ak) && !text.contains(sasl),
        "check printed a secret:\n{text}"
    );
    assert!(text.contains("***"));

    let child = Command::new(binary())
        .args(["run", "--config"])
        .arg(&path)
        .env("TSS_TEST_TABLESTORE_SECRET", ak)
        .env("RUST_LOG", "debug,librdkafka=info")
        .stderr(std::fs::File::create(dir.path().join("run.log")).unwrap())
        .spawn()
        .unwrap();
    let config_topic = broker.read_all("connect-config-secret", 1, WAIT);
    let _ = Command::new("kill")
        .arg("-TERM")
        .arg(child.id().to_string())
        .status();
    let mut child = child;
    child.wait().unwrap();
    assert_eq!(config_topic.len(), 1, "the config is published");
    let published = String::from_utf8_lossy(config_topic[0].payload().unwrap()).into_owned();
    assert!(
        published.contains("secret_rows") && published.contains("***"),
        "{published}"
    );
    assert!(
        !published.contains(ak) && !published.contains(sasl),
        "config topic holds a secret: {published}"
    );
    let log = std::fs::read_to_string(dir.path().join("run.log")).unwrap();
    assert!(log.contains("sink running"), "{log}");
    assert!(
        !log.contains(ak) && !log.contains(sasl),
        "the log holds a secret"
    );
}
