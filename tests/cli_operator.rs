//! The operator's subcommands against the real broker (issue 11, item 4):
//! `send` with a tombstone, headers, and a file of key/value lines;
//! `status --watch` refreshing.

mod common;

use std::io::Read;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::broker::{header, Broker};
use common::sink::{binary, config, SinkProcess};
use rdkafka::Message;

const WAIT: Duration = Duration::from_secs(60);

/// A message's key and value bytes.
type KeyValue<'a> = (Option<&'a [u8]>, Option<&'a [u8]>);

fn send(config_path: &Path, args: &[&str]) -> String {
    let out = Command::new(binary())
        .arg("send")
        .args(args)
        .arg("--config")
        .arg(config_path)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn send_tombstones_headers_and_key_value_files() {
    let dir = tempfile::tempdir().unwrap();
    let broker = Broker::start();
    let emu = common::emulator(&dir.path().join("ts")).await;
    let client = common::client(&emu);
    let topic = common::unique("sendkv");
    broker.create_topic(&topic, 1).await;
    let cfg = config(
        "sendkv",
        &broker.bootstrap(),
        &topic,
        &emu.endpoint(),
        "sendkv",
        "",
        "[wide_column]\nkey_format = \"string\"\nprimary_key_mode = \"record_key\"\n\
         primary_key = [{ name = \"id\", type = \"string\" }]\ndelete_mode = \"row\"\n",
    );
    let path = dir.path().join("sendkv.toml");
    std::fs::write(&path, &cfg).unwrap();

    let file = dir.path().join("lines.txt");
    std::fs::write(
        &file,
        "a\t{\"n\":\"1\"}\nb\t{\"n\":\"2\"}\n\nc\t{\"n\":\"3\"}\nb\t\n",
    )
    .unwrap();
    let out = send(
        &path,
        &[
            "--file",
            file.to_str().unwrap(),
            "--key-separator",
            "\\t",
            "--header",
            "source=cli",
            "--header",
            "trace=t-1",
        ],
    );
    assert!(out.starts_with("sent 4 message(s)"), "{out}");
    let out = send(&path, &["--key", "a", "--tombstone"]);
    assert!(out.starts_with("sent 1 message(s)"), "{out}");

    let messages = tokio::task::block_in_place(|| broker.read_all(&topic, 5, WAIT));
    let seen: Vec<KeyValue> = messages.iter().map(|m| (m.key(), m.payload())).collect();
    assert_eq!(
        seen,
        vec![
            (Some(&b"a"[..]), Some(&br#"{"n":"1"}"#[..])),
            (Some(&b"b"[..]), Some(&br#"{"n":"2"}"#[..])),
            (Some(&b"c"[..]), Some(&br#"{"n":"3"}"#[..])),
            (Some(&b"b"[..]), None),
            (Some(&b"a"[..]), None),
        ]
    );
    for m in &messages[..4] {
        assert_eq!(header(m, "source"), Some("cli"));
        assert_eq!(header(m, "trace"), Some("t-1"));
    }
    assert_eq!(header(&messages[4], "source"), None);

    // The sink applies them: rows a and b deleted by their tombstones.
    let sink = SinkProcess::start(dir.path(), "sink", &cfg);
    let rows = common::eventually(WAIT, "row c alone", || async {
        let rows = common::all_rows(&client, "sendkv", &["id"]).await;
        (rows.len() == 1).then_some(rows)
    })
    .await;
    assert_eq!(
        rows[0].primary_key,
        vec![(
            "id".to_owned(),
            tablestore_sink::tablestore::plainbuffer::PkValue::String("c".into())
        )]
    );
    assert!(sink.stop().success());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn status_watch_refreshes_until_interrupted() {
    let dir = tempfile::tempdir().unwrap();
    let broker = Broker::start();
    let emu = common::emulator(&dir.path().join("ts")).await;
    let topic = common::unique("watch");
    broker.create_topic(&topic, 2).await;
    let cfg = config(
        "watch",
        &broker.bootstrap(),
        &topic,
        &emu.endpoint(),
        "watch",
        "",
        "",
    );
    let path = dir.path().join("watch.toml");
    std::fs::write(&path, &cfg).unwrap();
    let sink = SinkProcess::start(dir.path(), "sink", &cfg);
    broker
        .produce(&topic, &[(0, None, Some(r#"{"a":"1"}"#))])
        .await;

    // Started with SIGINT ignored, as a non-interactive shell starts a
    // background job: the watch's own handler must still stop it.
    let mut watch = Command::new("sh")
        .args(["-c", r#"trap "" INT; exec "$0" "$@""#])
        .arg(binary())
        .args(["status", "--watch", "0.5", "--config"])
        .arg(&path)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut stdout = watch.stdout.take().unwrap();
    let reader = std::thread::spawn(move || {
        let mut text = String::new();
        let _ = stdout.read_to_string(&mut text);
        text
    });
    // Until the committed offset of partition 0 shows up (several refreshes).
    let started = Instant::now();
    tokio::time::sleep(Duration::from_secs(1)).await;
    common::eventually(WAIT, "a commit", || async {
        let c = broker.try_committed("connect-watch", &topic, 2).ok()?;
        (c[0] == Some(1)).then_some(())
    })
    .await;
    // Let it refresh a few more times (a snapshot reads the status topic
    // until it is quiet, ~2 s), then interrupt it.
    tokio::time::sleep(Duration::from_secs(7)).await;
    let _ = Command::new("kill")
        .arg("-INT")
        .arg(watch.id().to_string())
        .status();
    let deadline = Instant::now() + Duration::from_secs(15);
    let status = loop {
        if let Some(status) = watch.try_wait().unwrap() {
            break status;
        }
        if Instant::now() > deadline {
            let _ = watch.kill();
            panic!("`status --watch` did not stop within 15 s of SIGINT");
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let text = reader.join().unwrap();
    assert_eq!(status.code(), Some(130), "interrupted: 128 + SIGINT");
    let frames: Vec<&str> = text.split("\n-- ").collect();
    assert!(
        text.starts_with("-- ") && frames.len() >= 2,
        "{} frames in {:?}:\n{text}",
        frames.len(),
        started.elapsed()
    );
    assert!(
        frames[0].contains("(every 0.5 s; Ctrl-C to stop) --"),
        "{text}"
    );
    assert!(!text.contains('\x1b'), "no terminal escapes into a pipe");
    // It refreshes: the last frame shows the commit the first one lacked.
    let last = frames.last().unwrap();
    let row0 = last
        .lines()
        .find(|l| l.starts_with("0 "))
        .unwrap_or_default();
    assert!(
        row0.contains("RUNNING") && row0.split('|').nth(2).is_some_and(|c| c.trim() == "1"),
        "{last}"
    );
    assert!(sink.stop().success());
}
