//! Runs the `tablestore-sink` binary as a child process with a config file,
//! the way users run it: SIGTERM to stop, SIGKILL to crash it.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

/// The binary under test; `TABLESTORE_SINK_BIN` runs the suite against
/// another build (e.g. an older commit, to watch a fixed defect's test fail).
pub fn binary() -> PathBuf {
    std::env::var_os("TABLESTORE_SINK_BIN")
        .filter(|b| !b.is_empty())
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_BIN_EXE_tablestore-sink")))
}

/// A sink config for tests: a fast group join (session 2 s), IPv4, the
/// given emulator endpoint, and `extra` TOML appended (sections allowed).
pub fn config(
    name: &str,
    bootstrap: &str,
    topic: &str,
    endpoint: &str,
    table: &str,
    kafka_extra: &str,
    extra: &str,
) -> String {
    format!(
        r#"[connector]
name = "{name}"

[kafka]
bootstrap_servers = "{bootstrap}"
topic = "{topic}"
consumer_concurrency = 1
session_timeout_ms = 2000
commit_interval_ms = 200
{kafka_extra}

[kafka.client]
"broker.address.family" = "v4"

[tablestore]
endpoint = "{endpoint}"
instance = "local"
access_key_id = "local-ak"
access_key_secret = "local-secret"
table = "{table}"

{extra}
"#
    )
}

pub struct SinkProcess {
    child: Child,
    pub log: PathBuf,
}

impl SinkProcess {
    pub fn start(dir: &Path, name: &str, config: &str) -> SinkProcess {
        Self::start_with_env(dir, name, config, &[])
    }

    /// Like [`start`](Self::start), with extra environment variables.
    pub fn start_with_env(
        dir: &Path,
        name: &str,
        config: &str,
        env: &[(&str, &str)],
    ) -> SinkProcess {
        let path = dir.join(format!("{name}.toml"));
        std::fs::write(&path, config).unwrap();
        let log = dir.join(format!("{name}.log"));
        let child = Command::new(binary())
            .args(["run", "--config"])
            .arg(&path)
            .envs(env.iter().copied())
            .env("RUST_LOG", "info,librdkafka=warn")
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log).unwrap())
            .spawn()
            .expect("sink starts");
        SinkProcess { child, log }
    }

    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// The process id (for CPU accounting in benchmarks).
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Whether the process has not exited.
    pub fn is_running(&mut self) -> bool {
        self.child.try_wait().unwrap().is_none()
    }

    /// SIGTERM, then wait (bounded); returns the exit status.
    pub fn stop(mut self) -> ExitStatus {
        unsafe_sigterm(self.child.id());
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Some(s) = self.child.try_wait().unwrap() {
                if !s.success() {
                    // Show why in the test output.
                    eprintln!(
                        "sink exited with {s} after SIGTERM; its log:\n{}",
                        self.log_text()
                    );
                }
                return s;
            }
            assert!(
                Instant::now() < deadline,
                "sink did not exit 30 s after SIGTERM:\n{}",
                self.log_text()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// SIGKILL: a crash.
    pub fn kill9(mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// Waits for the process to exit by itself (e.g. a startup failure).
    pub fn wait_exit(mut self, timeout: Duration) -> (ExitStatus, String) {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(s) = self.child.try_wait().unwrap() {
                return (s, self.log_text());
            }
            assert!(
                Instant::now() < deadline,
                "sink still running after {timeout:?}:\n{}",
                self.log_text()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for SinkProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn unsafe_sigterm(pid: u32) {
    let _ = Command::new("kill")
        .arg("-TERM")
        .arg(pid.to_string())
        .status();
}
