//! Scale-out benchmark (not a test): 1, 2 and 3 sink processes with the
//! same configuration in one consumer group, on a 12-partition topic, on
//! this machine. For each fleet it prints how the group spread the
//! partitions, the end-to-end rate (first produced message to last row
//! acknowledged), and the sinks' CPU per million messages.
//!
//! The broker (tansu), the emulator and every sink are separate
//! processes. The fleet joins the group on an empty topic first and is
//! measured once the group is stable (all 12 partitions assigned), so the
//! figure is the fleet's throughput, not its rebalance time.
//!
//! Run: `cargo bench --bench scale_out` (release build; needs
//! `scripts/setup.sh`). `SCALE_MESSAGES` (default 300000),
//! `SCALE_PARTITIONS` (12), `SCALE_CONCURRENCY` (consumer_concurrency per
//! process, default 1) and `SCALE_FLEETS` (default "1,2,3") override.

#[path = "../tests/common/mod.rs"]
mod common;

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::broker::{free_port, Broker};
use common::sink::{config, SinkProcess};
use rdkafka::producer::{BaseRecord, Producer, ThreadedProducer};
use tablestore_sink::metrics::{names, scrape};

fn env_or<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// User + system CPU seconds of a process so far (Linux /proc).
fn cpu_seconds(pid: u32) -> f64 {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .ok()
        .and_then(|s| tablestore_sink::metrics::process::cpu_seconds(&s))
        .unwrap_or(0.0)
}

fn wait_port(port: u16) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < deadline, "port {port} did not open");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// The samples of a sink's /metrics (empty if it does not answer).
fn scrape_sink(port: u16) -> Vec<scrape::Sample> {
    use std::io::{Read, Write};
    let Ok(mut s) = std::net::TcpStream::connect(("127.0.0.1", port)) else {
        return Vec::new();
    };
    let _ = write!(s, "GET /metrics HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n");
    let mut out = String::new();
    let _ = s.read_to_string(&mut out);
    scrape::parse(out.split_once("\r\n\r\n").map_or("", |(_, body)| body))
}

fn produce(bootstrap: &str, topic: &str, n: u64) {
    let producer: ThreadedProducer<_> = rdkafka::ClientConfig::new()
        .set("bootstrap.servers", bootstrap)
        .set("broker.address.family", "v4")
        .set("linger.ms", "5")
        .set("batch.num.messages", "10000")
        .set("queue.buffering.max.messages", "1000000")
        .create()
        .unwrap();
    for i in 0..n {
        let key = format!("k{}", i % 1000);
        let head = format!(
            r#"{{"seq":{i},"user":"user-{}","amount":{}.5,"note":""#,
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
}

struct Emulator(Child);
impl Drop for Emulator {
    fn drop(&mut self) {
        let _ = Command::new("kill")
            .arg("-TERM")
            .arg(self.0.id().to_string())
            .status();
        let _ = self.0.wait();
    }
}

/// One fleet's figures.
struct Run {
    processes: usize,
    assignment: Vec<u32>,
    seconds: f64,
    sink_cpu_per_million: f64,
}

fn run_fleet(
    rt: &tokio::runtime::Runtime,
    broker: &Broker,
    endpoint: &str,
    dir: &std::path::Path,
    processes: usize,
    n: u64,
) -> Run {
    let partitions: i32 = env_or("SCALE_PARTITIONS", 12);
    let concurrency: u32 = env_or("SCALE_CONCURRENCY", 1);
    let name = format!("scale-{processes}");
    let topic = format!("scale-{processes}");
    rt.block_on(broker.create_topic(&topic, partitions));
    let table = format!("scale_{processes}");
    // Created up front: processes starting together race to create it,
    // and the loser of that race exits (OTSObjectAlreadyExist; reported,
    // in src/sink/resources.rs).
    rt.block_on(async {
        use tablestore_sink::tablestore::proto::{CreateTableRequest, PrimaryKeyType};
        let client = tablestore_sink::tablestore::Client::new(
            tablestore_sink::tablestore::ClientConfig::new(
                endpoint,
                tablestore_sink::emulator::DEFAULT_INSTANCE,
                tablestore_sink::emulator::DEFAULT_ACCESS_KEY_ID,
                tablestore_sink::emulator::DEFAULT_ACCESS_KEY_SECRET,
            ),
        )
        .unwrap();
        let pk = [
            ("topic_partition", PrimaryKeyType::String),
            ("offset", PrimaryKeyType::Integer),
        ];
        client
            .create_table(&CreateTableRequest::new(&table, &pk))
            .await
            .unwrap();
    });
    let ports: Vec<u16> = (0..processes).map(|_| free_port()).collect();
    let sinks: Vec<SinkProcess> = ports
        .iter()
        .enumerate()
        .map(|(i, port)| {
            let cfg = config(
                &name,
                &broker.bootstrap(),
                &topic,
                endpoint,
                &table,
                "",
                &format!("[wide_column]\nkey_format = \"string\"\n\n[metrics]\nlisten = \"127.0.0.1:{port}\"\n"),
            )
            .replace("consumer_concurrency = 1", &format!("consumer_concurrency = {concurrency}"));
            SinkProcess::start(dir, &format!("{name}-{i}"), &cfg)
        })
        .collect();
    // The group is stable when every partition is assigned to someone.
    let assigned =
        |port: u16| scrape::sum(&scrape_sink(port), names::ASSIGNED_PARTITIONS, &[]) as u32;
    let deadline = Instant::now() + Duration::from_secs(120);
    let assignment = loop {
        let a: Vec<u32> = ports.iter().map(|p| assigned(*p)).collect();
        if a.iter().sum::<u32>() == partitions as u32
            && a.iter().all(|&n| n > 0 || processes as i32 > partitions)
        {
            std::thread::sleep(Duration::from_secs(3));
            let again: Vec<u32> = ports.iter().map(|p| assigned(*p)).collect();
            if again == a {
                break a;
            }
        }
        if Instant::now() >= deadline {
            for s in &sinks {
                eprintln!("---- a sink's log:\n{}", s.log_text());
            }
            panic!("the group did not settle: {a:?}");
        }
        std::thread::sleep(Duration::from_millis(200));
    };
    let cpu0: f64 = sinks.iter().map(|s| cpu_seconds(s.pid())).sum();
    let started = Instant::now();
    produce(&broker.bootstrap(), &topic, n);
    let deadline = Instant::now() + Duration::from_secs(600);
    loop {
        let written: f64 = ports
            .iter()
            .map(|p| scrape::sum(&scrape_sink(*p), names::ROWS_WRITTEN, &[]))
            .sum();
        if written >= n as f64 {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "{written} of {n} rows after 600 s"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    let seconds = started.elapsed().as_secs_f64();
    let cpu: f64 = sinks.iter().map(|s| cpu_seconds(s.pid())).sum::<f64>() - cpu0;
    for s in sinks {
        s.stop();
    }
    Run {
        processes,
        assignment,
        seconds,
        sink_cpu_per_million: cpu * 1e6 / n as f64,
    }
}

fn main() {
    let n: u64 = env_or("SCALE_MESSAGES", 300_000);
    let fleets: Vec<usize> = std::env::var("SCALE_FLEETS")
        .unwrap_or_else(|_| "1,2,3".into())
        .split(',')
        .filter_map(|s| s.trim().parse().ok())
        .collect();
    let concurrency: u32 = env_or("SCALE_CONCURRENCY", 1);
    let dir = tempfile::tempdir().unwrap();
    let rt = tokio::runtime::Runtime::new().unwrap();
    let broker = Broker::start();
    let bin = PathBuf::from(env!("CARGO_BIN_EXE_tablestore-sink"));
    let emu_port = free_port();
    let _emulator = Emulator(
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
    let endpoint = format!("http://127.0.0.1:{emu_port}");
    println!(
        "scale-out: {n} x 200-byte JSON messages, {} partitions, consumer_concurrency = {concurrency} per process, kafka PK mode, emulator in its own process; {} cores",
        env_or::<i32>("SCALE_PARTITIONS", 12),
        std::thread::available_parallelism().map_or(0, |n| n.get())
    );
    let mut base = None;
    for k in fleets {
        let r = run_fleet(&rt, &broker, &endpoint, dir.path(), k, n);
        let rate = n as f64 / r.seconds;
        let speedup = rate / *base.get_or_insert(rate);
        let spread: Vec<String> = r.assignment.iter().map(u32::to_string).collect();
        println!(
            "{} process(es): partitions {} ; {rate:.0} msg/s end to end ({n} rows in {:.2} s, first produced to last acknowledged); x{speedup:.2} vs 1 process; sinks' CPU {:.2} s per million messages",
            r.processes,
            spread.join("+"),
            r.seconds,
            r.sink_cpu_per_million
        );
    }
}
