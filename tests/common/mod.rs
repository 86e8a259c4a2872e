//! Shared test harness: servers on free 127.0.0.1 ports, fresh data dirs,
//! unique names, and the official Python SDK from the project venv.
#![allow(dead_code)]

pub mod broker;
pub mod chaos;
pub mod flat;
pub mod ingest;
pub mod metric_names;
pub mod raw_http;
pub mod secure_broker;
pub mod sink;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicU32, Ordering};

use tablestore_sink::emulator::{Emulator, EmulatorConfig};
use tablestore_sink::tablestore::{Client, ClientConfig};

pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// A name no other test in this run uses.
pub fn unique(prefix: &str) -> String {
    static N: AtomicU32 = AtomicU32::new(0);
    format!(
        "{prefix}_{}_{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    )
}

/// Starts an in-process emulator on a free loopback port over `dir`.
pub async fn emulator(dir: &Path) -> Emulator {
    let mut config = EmulatorConfig::new(dir);
    config.listen = "127.0.0.1:0".parse().unwrap();
    Emulator::start(config).await.expect("emulator starts")
}

/// Starts an in-process emulator like [`emulator`], with fault injection.
pub async fn emulator_with(dir: &Path, faults: tablestore_sink::emulator::Faults) -> Emulator {
    let mut config = EmulatorConfig::new(dir);
    config.listen = "127.0.0.1:0".parse().unwrap();
    config.faults = faults;
    Emulator::start(config).await.expect("emulator starts")
}

pub fn client(emu: &Emulator) -> Client {
    Client::new(ClientConfig::new(
        &emu.endpoint(),
        tablestore_sink::emulator::DEFAULT_INSTANCE,
        tablestore_sink::emulator::DEFAULT_ACCESS_KEY_ID,
        tablestore_sink::emulator::DEFAULT_ACCESS_KEY_SECRET,
    ))
    .unwrap()
}

/// The venv Python with the official `tablestore` SDK (set up by
/// `scripts/setup.sh`); override with `TABLESTORE_SINK_PYTHON`.
pub fn python() -> PathBuf {
    let p = std::env::var_os("TABLESTORE_SINK_PYTHON")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo().join(".venv/bin/python"));
    assert!(
        p.exists(),
        "{} not found: run scripts/setup.sh (creates .venv with the official tablestore SDK and the broker)",
        p.display()
    );
    p
}

/// Runs `script` with the SDK against `endpoint`; returns its stdout
/// parsed as JSON. The script gets `client` predefined.
pub fn sdk(endpoint: &str, script: &str) -> serde_json::Value {
    let prelude = format!(
        "import json, base64\nfrom tablestore import *\nfrom tablestore.retry import NoRetryPolicy\nfrom tablestore.metadata import *\n\
         client = OTSClient({endpoint:?}, 'local-ak', 'local-secret', 'local', retry_policy=NoRetryPolicy(), socket_timeout=10)\n"
    );
    let out = Command::new(python())
        .arg("-c")
        .arg(format!("{prelude}{script}"))
        .output()
        .expect("python runs");
    assert!(
        out.status.success(),
        "SDK script failed:\n{script}\nstderr:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8(out.stdout).unwrap();
    let last = stdout.lines().last().unwrap_or("null");
    serde_json::from_str(last).unwrap_or_else(|e| panic!("SDK output is not JSON ({e}): {stdout}"))
}

/// Polls `check` until it returns `Some`, or fails after `timeout`.
pub async fn eventually<T, F, Fut>(timeout: std::time::Duration, what: &str, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let deadline = std::time::Instant::now() + timeout;
    loop {
        if let Some(v) = check().await {
            return v;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "timed out after {timeout:?} waiting for {what}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
}

/// Every row of a two-column-PK table, in PK order.
pub async fn all_rows(
    client: &tablestore_sink::tablestore::Client,
    table: &str,
    pk_columns: &[&str],
) -> Vec<tablestore_sink::tablestore::plainbuffer::Row> {
    use tablestore_sink::tablestore::plainbuffer::PkValue;
    use tablestore_sink::tablestore::proto::Direction;
    let start: Vec<_> = pk_columns
        .iter()
        .map(|c| (c.to_string(), PkValue::InfMin))
        .collect();
    let end: Vec<_> = pk_columns
        .iter()
        .map(|c| (c.to_string(), PkValue::InfMax))
        .collect();
    match client
        .get_range_all(table, Direction::Forward, &start, &end, usize::MAX)
        .await
    {
        Ok(rows) => rows,
        Err(e) if e.code == "OTSObjectNotExist" => vec![],
        Err(e) => panic!("reading {table}: {e}"),
    }
}

/// Every row of a table like [`all_rows`], but a failed read (e.g. an
/// injected throttle) is returned instead of panicking.
pub async fn try_all_rows(
    client: &tablestore_sink::tablestore::Client,
    table: &str,
    pk_columns: &[&str],
) -> Result<Vec<tablestore_sink::tablestore::plainbuffer::Row>, tablestore_sink::tablestore::Error>
{
    use tablestore_sink::tablestore::plainbuffer::PkValue;
    use tablestore_sink::tablestore::proto::Direction;
    let bound = |v: PkValue| -> Vec<_> {
        pk_columns
            .iter()
            .map(|c| (c.to_string(), v.clone()))
            .collect()
    };
    match client
        .get_range_all(
            table,
            Direction::Forward,
            &bound(PkValue::InfMin),
            &bound(PkValue::InfMax),
            usize::MAX,
        )
        .await
    {
        Err(e) if e.code == "OTSObjectNotExist" => Ok(vec![]),
        other => other,
    }
}
