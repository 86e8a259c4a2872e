//! SASL and TLS for real (issue 11, item 6): the sink, `send`, `status` and
//! `load` against a broker that requires SASL/SCRAM-SHA-512 over TLS
//! (tests/common/secure_broker.rs: tansu with its sqlite engine behind
//! stunnel, certificates from a CA made per test).
//!
//! * The right credentials and CA: messages sent with `send` and `load`
//!   land in the table, `status` reads the committed offsets.
//! * A wrong `sasl.password`, or a `ssl.ca.location` that did not sign the
//!   broker's certificate: every command exits with status 1 within
//!   seconds, with a message naming the setting; none hangs.
//! * The password appears in no output of any command (`check` included),
//!   no sink log line, and not in the config topic's record.

mod common;

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::secure_broker::{SecureBroker, PASSWORD};
use common::sink::{binary, config};
use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
use rdkafka::client::DefaultClientContext;

const WAIT: Duration = Duration::from_secs(60);
/// A refused login or certificate must end a command within this.
const FAILS_WITHIN: Duration = Duration::from_secs(20);

/// What a finished command left: exit code, stdout + stderr, time taken.
struct Outcome {
    code: Option<i32>,
    stdout: String,
    text: String,
    took: Duration,
}

/// Runs `tablestore-sink ARGS --config PATH` with `env`, killed (and the
/// test failed) after `limit`.
fn run_bounded(args: &[&str], path: &Path, env: &[(&str, &str)], limit: Duration) -> Outcome {
    let dir = path.parent().unwrap();
    let name = format!("{}-{}", args[0], common::unique("out"));
    let (out_path, err_path) = (
        dir.join(format!("{name}.out")),
        dir.join(format!("{name}.err")),
    );
    let started = Instant::now();
    let mut child = Command::new(binary())
        .args(args)
        .arg("--config")
        .arg(path)
        .envs(env.iter().copied())
        .env("RUST_LOG", "info")
        .stdin(Stdio::null())
        .stdout(std::fs::File::create(&out_path).unwrap())
        .stderr(std::fs::File::create(&err_path).unwrap())
        .spawn()
        .unwrap();
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        if started.elapsed() > limit {
            let _ = child.kill();
            let _ = child.wait();
            panic!(
                "`{}` still running after {limit:?}:\n{}",
                args.join(" "),
                std::fs::read_to_string(&err_path).unwrap_or_default()
            );
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let stdout = std::fs::read_to_string(&out_path).unwrap();
    let text = stdout.clone() + &std::fs::read_to_string(&err_path).unwrap();
    Outcome {
        code: status.code(),
        stdout,
        text,
        took: started.elapsed(),
    }
}

fn no_password(what: &str, text: &str) {
    assert!(
        !text.contains(PASSWORD),
        "{what} shows the SASL password:\n{text}"
    );
}

async fn create_topic(broker: &SecureBroker, topic: &str, partitions: i32) {
    let admin: AdminClient<DefaultClientContext> = broker.client_config().create().unwrap();
    for r in admin
        .create_topics(
            &[NewTopic::new(topic, partitions, TopicReplication::Fixed(1))],
            &AdminOptions::new().operation_timeout(Some(Duration::from_secs(10))),
        )
        .await
        .unwrap()
    {
        r.unwrap();
    }
}

/// A sink config for `broker` with `client` as its `[kafka.client]` lines
/// and a metrics listener.
fn secure_config(
    name: &str,
    broker: &SecureBroker,
    topic: &str,
    endpoint: &str,
    client: &str,
    metrics_port: u16,
) -> String {
    config(
        name,
        &broker.bootstrap(),
        topic,
        endpoint,
        &format!("{name}_rows"),
        "",
        &format!("[wide_column]\nkey_format = \"string\"\n\n[metrics]\nlisten = \"127.0.0.1:{metrics_port}\"\n"),
    )
    .replace("[kafka.client]\n", &format!("[kafka.client]\n{client}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_the_right_credentials_sink_send_status_and_load_work_and_the_password_shows_nowhere()
{
    let dir = tempfile::tempdir().unwrap();
    let broker = SecureBroker::start(&dir.path().join("broker"));
    let emu = common::emulator(&dir.path().join("ts")).await;
    let topic = common::unique("secure");
    create_topic(&broker, &topic, 2).await;
    let metrics_port = common::broker::free_port();
    // The password through the environment, as config/apsaramq-sasl-ssl.toml does.
    let client = broker.client_toml("${TSS_TEST_KAFKA_PASSWORD}", &broker.ca);
    let cfg = secure_config(
        "secure",
        &broker,
        &topic,
        &emu.endpoint(),
        &client,
        metrics_port,
    );
    let path = dir.path().join("secure.toml");
    std::fs::write(&path, &cfg).unwrap();
    let env = [("TSS_TEST_KAFKA_PASSWORD", PASSWORD)];

    let check = run_bounded(&["check"], &path, &env, WAIT);
    assert_eq!(check.code, Some(0), "{}", check.text);
    no_password("check", &check.text);
    assert!(check.text.contains("***"), "{}", check.text);

    let send = run_bounded(
        &[
            "send",
            "--key",
            "k",
            "--value",
            r#"{"n":1}"#,
            "--count",
            "3",
        ],
        &path,
        &env,
        WAIT,
    );
    assert_eq!(send.code, Some(0), "{}", send.text);
    no_password("send", &send.text);

    let sink_log = dir.path().join("sink.log");
    let mut sink = Command::new(binary())
        .args(["run", "--config"])
        .arg(&path)
        .envs(env)
        .env("RUST_LOG", "debug,librdkafka=info")
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&sink_log).unwrap())
        .spawn()
        .unwrap();
    let emu_client = common::client(&emu);
    let table = "secure_rows";
    let pk = ["topic_partition", "offset"];
    common::eventually(WAIT, "the 3 sent messages as rows", || async {
        (common::all_rows(&emu_client, table, &pk).await.len() == 3).then_some(())
    })
    .await;

    let status = common::eventually(WAIT, "status with the committed offsets", || async {
        let s = run_bounded(&["status", "--format", "json"], &path, &env, WAIT);
        let v: serde_json::Value = serde_json::from_str(&s.stdout).ok()?;
        let committed: i64 = v["partitions"]
            .as_array()?
            .iter()
            .filter_map(|p| p["committed_offset"].as_i64())
            .sum();
        (s.code == Some(0) && committed == 3).then_some(s)
    })
    .await;
    no_password("status", &status.text);

    let load = run_bounded(
        &[
            "load",
            "--rate",
            "500",
            "--messages",
            "100",
            "--timeout-s",
            "60",
        ],
        &path,
        &env,
        Duration::from_secs(90),
    );
    assert_eq!(load.code, Some(0), "{}", load.text);
    no_password("load", &load.text);
    assert!(
        load.text.contains("produced      100 messages"),
        "{}",
        load.text
    );
    assert_eq!(common::all_rows(&emu_client, table, &pk).await.len(), 103);

    let config_topic = broker.read_all("connect-config-secure", 1, WAIT);
    assert_eq!(config_topic.len(), 1, "the config is published");
    let published = SecureBroker::text(&config_topic[0]);
    assert!(
        published.contains("SASL_SSL") && published.contains("***"),
        "{published}"
    );
    no_password("the config topic", &published);

    let _ = Command::new("kill")
        .arg("-TERM")
        .arg(sink.id().to_string())
        .status();
    assert!(sink.wait().unwrap().success());
    let log = std::fs::read_to_string(&sink_log).unwrap();
    assert!(log.contains("sink running"), "{log}");
    no_password("the sink's log", &log);
}

/// Every command with `client` as its Kafka settings ends with status 1,
/// quickly, naming `setting`, without the password.
async fn every_command_refused(
    name: &str,
    client: impl Fn(&SecureBroker) -> String,
    setting: &str,
) {
    let dir = tempfile::tempdir().unwrap();
    let broker = SecureBroker::start(&dir.path().join("broker"));
    let emu = common::emulator(&dir.path().join("ts")).await;
    let topic = common::unique(name);
    create_topic(&broker, &topic, 1).await;
    let cfg = secure_config(
        name,
        &broker,
        &topic,
        &emu.endpoint(),
        &client(&broker),
        common::broker::free_port(),
    );
    let path = dir.path().join(format!("{name}.toml"));
    std::fs::write(&path, &cfg).unwrap();
    for args in [
        &["run"][..],
        &["send", "--value", r#"{"n":1}"#],
        &["status"],
        &["load", "--messages", "10"],
    ] {
        let out = run_bounded(args, &path, &[], FAILS_WITHIN);
        let what = format!("`{}`", args[0]);
        assert_eq!(out.code, Some(1), "{what}: {}", out.text);
        assert!(out.took < FAILS_WITHIN, "{what} took {:?}", out.took);
        let error = out
            .text
            .lines()
            .find(|l| l.starts_with("error: "))
            .unwrap_or_else(|| panic!("{what} printed no error line:\n{}", out.text));
        assert!(
            error.contains(&format!("kafka.client.\"{setting}\"")),
            "{what}: the error does not name {setting}: {error}\n{}",
            out.text
        );
        no_password(&what, &out.text);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_password_stops_every_command_with_an_error_naming_sasl_password() {
    every_command_refused(
        "wrongpw",
        // The wrong password holds the right one: neither may show.
        |b| b.client_toml(&format!("{PASSWORD}x"), &b.ca),
        "sasl.password",
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_untrusted_certificate_stops_every_command_with_an_error_naming_ssl_ca_location() {
    every_command_refused(
        "untrusted",
        |b| b.client_toml(PASSWORD, &b.other_ca),
        "ssl.ca.location",
    )
    .await;
}
