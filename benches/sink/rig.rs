//! The benchmark's processes: the emulator and the sink as child
//! processes of their own (so CPU and memory are accounted per process),
//! with readers for their CPU time and peak RSS, and the sink's metrics.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use tablestore_sink::metrics::scrape;

/// This build's binary (the emulator, and the sink by default).
pub fn binary() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_tablestore-sink"))
}

/// The binary the sink runs from: this build's, or `BENCH_SINK_BINARY`
/// (another build, to compare two commits on the same machine).
fn sink_binary() -> PathBuf {
    std::env::var_os("BENCH_SINK_BINARY").map_or_else(binary, PathBuf::from)
}

pub fn wait_port(port: u16) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < deadline, "port {port} did not open");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// A child process, SIGTERMed (then killed) on drop.
pub struct Proc {
    child: Child,
}

impl Proc {
    pub fn spawn(cmd: &mut Command) -> Proc {
        Proc {
            child: cmd.stdout(Stdio::null()).spawn().expect("process starts"),
        }
    }

    /// Sends SIGINT and waits for the exit, however long it takes (`perf
    /// record` writes its file then; killed 20 s after a SIGTERM, as
    /// [`Drop`] does, it left an empty one).
    pub fn interrupt_and_wait(mut self) {
        let _ = Command::new("kill")
            .arg("-INT")
            .arg(self.child.id().to_string())
            .status();
        let _ = self.child.wait();
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// User + system CPU seconds so far (Linux /proc).
    pub fn cpu_seconds(&self) -> f64 {
        cpu_seconds(self.pid())
    }

    /// CPU seconds so far per role of the process's threads (see
    /// [`thread_role`]).
    pub fn cpu_by_role(&self) -> RoleCpu {
        cpu_by_role(self.pid())
    }

    /// CPU seconds so far of each thread of the role `role`, by thread id.
    pub fn cpu_of_role(&self, role: &str) -> Vec<(u32, f64)> {
        threads(self.pid())
            .into_iter()
            .filter(|t| t.1 == role)
            .map(|(tid, _, cpu)| (tid, cpu))
            .collect()
    }

    /// Peak resident set size so far, in MiB (`VmHWM`).
    pub fn peak_rss_mib(&self) -> f64 {
        status_kib(self.pid(), "VmHWM:") / 1024.0
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        if let Ok(Some(_)) = self.child.try_wait() {
            return; // already ended (and reaped): its pid may be another's now
        }
        let _ = Command::new("kill")
            .arg("-TERM")
            .arg(self.child.id().to_string())
            .status();
        let deadline = Instant::now() + Duration::from_secs(20);
        while self.child.try_wait().ok().flatten().is_none() && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub fn cpu_seconds(pid: u32) -> f64 {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .ok()
        .and_then(|s| tablestore_sink::metrics::process::cpu_seconds(&s))
        .unwrap_or(0.0)
}

/// CPU seconds per thread role, in the order of [`ROLES`].
pub type RoleCpu = Vec<(&'static str, f64)>;

/// The thread roles [`thread_role`] tells apart, in the order they are
/// printed.
pub const ROLES: [&str; 5] = [
    "actix",
    "converters",
    "requests",
    "consumer drivers",
    "librdkafka",
];

/// What a thread of the sink does, from its id and name: the main thread
/// runs the actix system (partition actors, batching, acknowledgements),
/// and so do the lanes' arbiter threads (`actix-rt|system:…`) when
/// `writer.pipeline_threads` > 1;
/// the sink names its Kafka drivers and request threads; librdkafka names
/// its own `rdk:…`; the converter threads (actix `SyncArbiter`) are
/// unnamed, so they keep the process's name, with the metrics server.
pub fn thread_role(pid: u32, tid: u32, name: &str) -> &'static str {
    if tid == pid || name.starts_with("actix-rt") {
        "actix"
    } else if name.starts_with("rdk:") {
        "librdkafka"
    } else if name.starts_with("kafka-consumer") {
        "consumer drivers"
    } else if name.starts_with("tablestore-req") {
        "requests"
    } else {
        "converters"
    }
}

/// Every live thread of `pid`: id, role ([`thread_role`]) and CPU
/// seconds so far (a thread that ended is not listed: the sink's threads
/// live as long as it does).
pub fn threads(pid: u32) -> Vec<(u32, &'static str, f64)> {
    let Ok(tasks) = std::fs::read_dir(format!("/proc/{pid}/task")) else {
        return Vec::new();
    };
    let mut threads = Vec::new();
    for task in tasks.flatten() {
        let Some(tid) = task.file_name().to_str().and_then(|t| t.parse().ok()) else {
            continue;
        };
        let path = task.path();
        let name = std::fs::read_to_string(path.join("comm")).unwrap_or_default();
        if let Some(cpu) = std::fs::read_to_string(path.join("stat"))
            .ok()
            .and_then(|s| tablestore_sink::metrics::process::cpu_seconds(&s))
        {
            threads.push((tid, thread_role(pid, tid, name.trim()), cpu));
        }
    }
    threads
}

/// CPU seconds per [`thread_role`] of the live threads of `pid`, in the
/// order of [`ROLES`].
pub fn cpu_by_role(pid: u32) -> RoleCpu {
    let mut roles: RoleCpu = ROLES.iter().map(|r| (*r, 0.0)).collect();
    for (_, role, cpu) in threads(pid) {
        if let Some(slot) = roles.iter_mut().find(|(r, _)| *r == role) {
            slot.1 += cpu;
        }
    }
    roles
}

fn status_kib(pid: u32, key: &str) -> f64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .unwrap_or_default()
        .lines()
        .find(|l| l.starts_with(key))
        .and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
        .unwrap_or(0.0)
}

/// The emulator in its own process.
pub fn emulator(dir: &Path, latency_ms: u64, throttle_rate: f64) -> (Proc, String) {
    let port = super::common::broker::free_port();
    let proc = Proc::spawn(
        Command::new(binary())
            .args([
                "emulator",
                "--listen",
                &format!("127.0.0.1:{port}"),
                "--data-dir",
            ])
            .arg(dir.join(format!("emulator-{port}")))
            .args(["--latency-ms", &latency_ms.to_string()])
            .args(["--throttle-rate", &throttle_rate.to_string()])
            .env("RUST_LOG", "error")
            .stderr(Stdio::null()),
    );
    wait_port(port);
    (proc, format!("http://127.0.0.1:{port}"))
}

/// The sink in its own process, with `config` (TOML) and its metrics on
/// `metrics_port`.
pub fn sink(dir: &Path, config: &str, metrics_port: u16) -> Proc {
    let path = dir.join(format!("sink-{metrics_port}.toml"));
    std::fs::write(&path, config).unwrap();
    let log = std::fs::File::create(dir.join(format!("sink-{metrics_port}.log"))).unwrap();
    let proc = Proc::spawn(
        Command::new(sink_binary())
            .args(["run", "--config"])
            .arg(&path)
            .env("RUST_LOG", "warn,librdkafka=error")
            .stderr(log),
    );
    wait_port(metrics_port);
    proc
}

/// The sink's metrics, parsed; empty if the scrape failed.
pub fn scrape(metrics_port: u16) -> Vec<scrape::Sample> {
    use std::io::{Read, Write};
    let Ok(mut s) = std::net::TcpStream::connect(("127.0.0.1", metrics_port)) else {
        return Vec::new();
    };
    let _ = write!(s, "GET /metrics HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n");
    let mut out = String::new();
    let _ = s.read_to_string(&mut out);
    scrape::parse(&out)
}

/// The sink's metrics, retried for up to 5 s while a scrape fails or comes
/// back empty: a figure taken as a difference of two scrapes must not
/// treat a failed one as zero.
pub fn scrape_required(metrics_port: u16) -> Vec<scrape::Sample> {
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let samples = scrape(metrics_port);
        if !samples.is_empty() {
            return samples;
        }
        assert!(
            Instant::now() < deadline,
            "the sink's metrics on port {metrics_port} could not be scraped for 5 s"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

pub fn counter(samples: &[scrape::Sample], name: &str) -> f64 {
    scrape::sum(samples, name, &[])
}
