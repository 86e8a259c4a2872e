//! How the binary fails (issue 11, item 2): a user error prints its
//! message alone, even with `RUST_BACKTRACE=1`, and exits with a status
//! that says what kind of error it was (78 configuration, 2 arguments, 1
//! at run time); `check` explains what a valid configuration does.

mod common;

use std::path::Path;
use std::process::{Command, Output};

use common::broker::Broker;
use common::sink::binary;

fn run(args: &[&str], config: Option<&Path>) -> Output {
    let mut c = Command::new(binary());
    c.args(args)
        .env("RUST_BACKTRACE", "1")
        .env("RUST_LOG", "warn");
    if let Some(path) = config {
        c.arg("--config").arg(path);
    }
    c.output().unwrap()
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

const VALID: &str = r#"[connector]
name = "errors"
[kafka]
bootstrap_servers = "127.0.0.1:9092"
topic = "orders"
[tablestore]
endpoint = "embedded"
table = "orders"
"#;

fn write(dir: &Path, name: &str, text: &str) -> std::path::PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

#[test]
fn a_config_mistake_prints_the_message_alone_with_status_78() {
    let dir = tempfile::tempdir().unwrap();
    let bad = write(
        dir.path(),
        "bad.toml",
        &VALID.replace(
            "topic = \"orders\"",
            "topic = \"orders\"\nconsumer_concurrency = 5",
        ),
    );
    for command in ["check", "run", "send", "status", "query"] {
        let mut args = vec![command];
        if command == "send" {
            args.extend(["--value", "x"]);
        }
        let out = run(&args, Some(&bad));
        assert_eq!(out.status.code(), Some(78), "{command}: {}", stderr(&out));
        assert_eq!(
            stderr(&out),
            "error: kafka.consumer_concurrency = 5: allowed values are 1, 2, 3, 6 or 12\n",
            "{command}"
        );
    }
}

#[test]
fn a_forgotten_endpoint_and_an_unreadable_file_are_config_errors() {
    let dir = tempfile::tempdir().unwrap();
    let no_endpoint = write(
        dir.path(),
        "c.toml",
        &VALID.replace("endpoint = \"embedded\"\n", ""),
    );
    let out = run(&["check"], Some(&no_endpoint));
    assert_eq!(out.status.code(), Some(78));
    assert!(
        stderr(&out).starts_with("error: tablestore.endpoint = \"\": the endpoint is required"),
        "{}",
        stderr(&out)
    );
    let out = run(&["check"], Some(&dir.path().join("absent.toml")));
    assert_eq!(out.status.code(), Some(78));
    assert!(
        stderr(&out).starts_with("error: cannot read config file"),
        "{}",
        stderr(&out)
    );
    assert_eq!(stderr(&out).lines().count(), 1, "{}", stderr(&out));
}

#[test]
fn a_bad_argument_value_is_a_usage_error() {
    let out = run(&["emulator", "--throttle-rate", "2"], None);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        stderr(&out),
        "error: --throttle-rate 2 is out of range: use a fraction between 0 and 1\n"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_runtime_failure_prints_the_message_without_a_backtrace() {
    let dir = tempfile::tempdir().unwrap();
    let broker = Broker::start();
    let emu = common::emulator(&dir.path().join("ts")).await;
    let cfg = common::sink::config(
        "no-topic",
        &broker.bootstrap(),
        "absent_topic",
        &emu.endpoint(),
        "t",
        "on_missing_topic = \"fail\"",
        "",
    );
    let path = write(dir.path(), "run.toml", &cfg);
    let out = tokio::task::spawn_blocking(move || run(&["run"], Some(&path)))
        .await
        .unwrap();
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{err}");
    let last = err.lines().last().unwrap_or_default();
    assert!(
        last.starts_with("error: source topic \"absent_topic\" does not exist"),
        "{err}"
    );
    assert!(
        !err.contains("stack backtrace") && !err.contains("Stack backtrace"),
        "{err}"
    );
}

#[test]
fn check_prints_the_config_then_what_it_does() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(
        dir.path(),
        "c.toml",
        &format!(
            "{VALID}[wide_column]\nkey_format = \"string\"\nprimary_key_mode = \"record_key\"\n\
             primary_key = [{{ name = \"id\", type = \"string\" }}]\ndelete_mode = \"row_and_column\"\n"
        ),
    );
    let out = run(&["check"], Some(&path));
    assert!(out.status.success(), "{}", stderr(&out));
    let stdout = String::from_utf8_lossy(&out.stdout);
    let notes: Vec<&str> = stdout.lines().filter(|l| l.starts_with("note: ")).collect();
    let warnings: Vec<&str> = stdout
        .lines()
        .filter(|l| l.starts_with("warning: "))
        .collect();
    assert!(
        notes
            .iter()
            .any(|l| l.starts_with("note: wide_column.key_clash: ") && l.contains("key_key")),
        "{stdout}"
    );
    assert_eq!(warnings.len(), 1, "{stdout}");
    assert!(
        warnings[0].starts_with("warning: wide_column.delete_mode: "),
        "{stdout}"
    );
    assert!(stdout.trim_end().ends_with("table \"orders\""), "{stdout}");
}
