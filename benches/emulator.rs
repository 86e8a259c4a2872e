//! Emulator write-cost benchmark (not a test): the emulator binary runs in
//! its own process and this prints its CPU per row written (user + system,
//! from `/proc/<pid>/stat`) for
//! 1. BatchWriteRow of 200-row batches shaped like the sink benchmark's
//!    `wide8` workload (`kafka` primary key `topic_partition` STRING +
//!    `offset` INTEGER; 9 attribute columns: the 8 JSON fields with their
//!    types and the record key; about 200 bytes of values);
//! 2. PutTimeseriesData of 200-point batches shaped like its `timeseries`
//!    workload (1000 series, 2 tags, 3 fields);
//!
//! each with 8 requests in flight and durable group commits, and beside
//! each the redb floor: the same key and value bytes inserted by raw redb
//! write transactions, fsync'd on commit like the emulator's, one commit
//! per request (200 rows) and per 8 requests (1600 rows). Requests are
//! encoded before the clock starts, so what is measured is the emulator's
//! HTTP, auth, decoding, validation and storage.
//!
//! `BENCH_ROWS` (default 200 000) sets the rows per run, `BENCH_REPEAT`
//! (default 3) the runs per figure (the median is reported);
//! `BENCH_PERF=<prefix>` records the emulator with `perf record` into
//! `<prefix>.wide8.data` and `<prefix>.timeseries.data`.
//!
//! Run: `cargo bench --bench emulator`.

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use redb::{Database, ReadableTable, TableDefinition};
use tablestore_sink::emulator::catalog::{PkType, TableInfo, TableKind};
use tablestore_sink::emulator::{cells, keycodec};
use tablestore_sink::tablestore::flatrows::{self, FieldValue, SeriesKey, TimeseriesRow};
use tablestore_sink::tablestore::plainbuffer::{self, Cell, PkValue, Row, Value};
use tablestore_sink::tablestore::proto::*;
use tablestore_sink::tablestore::timeseries_layout as layout;
use tablestore_sink::tablestore::{Client, ClientConfig, RowChange};

const BATCH: usize = 200;
const IN_FLIGHT: usize = 8;

/// User + system CPU seconds of a process (Linux /proc).
fn cpu_seconds(pid: &str) -> f64 {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .ok()
        .and_then(|s| tablestore_sink::metrics::process::cpu_seconds(&s))
        .unwrap_or(0.0)
}

/// The emulator binary in its own process, so its CPU is its own.
struct EmulatorProcess {
    child: Child,
    endpoint: String,
    _dir: tempfile::TempDir,
}

impl EmulatorProcess {
    fn start() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let child = Command::new(env!("CARGO_BIN_EXE_tablestore-sink"))
            .args(["emulator", "--listen", &format!("127.0.0.1:{port}")])
            .arg("--data-dir")
            .arg(dir.path())
            // The writer's debug line per commit, counted by `commits`.
            .env("RUST_LOG", "warn,tablestore_sink::emulator::store=debug")
            .stderr(std::fs::File::create(dir.path().join("emulator.log")).unwrap())
            .spawn()
            .unwrap();
        let deadline = Instant::now() + Duration::from_secs(20);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < deadline, "emulator did not listen");
            std::thread::sleep(Duration::from_millis(20));
        }
        EmulatorProcess {
            child,
            endpoint: format!("http://127.0.0.1:{port}"),
            _dir: dir,
        }
    }

    /// Group commits so far (the writer's "group committed" log lines).
    fn commits(&self) -> usize {
        std::fs::read_to_string(self._dir.path().join("emulator.log"))
            .unwrap_or_default()
            .matches("group committed")
            .count()
    }

    fn pid(&self) -> String {
        self.child.id().to_string()
    }

    fn client(&self) -> Client {
        Client::new(ClientConfig::new(
            &self.endpoint,
            "local",
            "local-ak",
            "local-secret",
        ))
        .unwrap()
    }
}

impl Drop for EmulatorProcess {
    fn drop(&mut self) {
        let _ = Command::new("kill").args(["-TERM", &self.pid()]).status();
        let _ = self.child.wait();
    }
}

/// `perf record` of the emulator while it lives, when `BENCH_PERF` is set.
struct Perf(Option<Child>);

impl Perf {
    fn start(pid: &str, workload: &str) -> Perf {
        Perf(std::env::var("BENCH_PERF").ok().map(|prefix| {
            Command::new("perf")
                .args(["record", "-F", "999", "--call-graph", "dwarf,16384", "-o"])
                .arg(format!("{prefix}.{workload}.data"))
                .args(["-p", pid])
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .expect("perf is installed")
        }))
    }
}

impl Drop for Perf {
    fn drop(&mut self) {
        if let Some(child) = &mut self.0 {
            let _ = Command::new("kill")
                .args(["-INT", &child.id().to_string()])
                .status();
            let _ = child.wait();
        }
    }
}

/// The wide8 row for Kafka offset `i` (the sink's `kafka` mode columns).
fn wide8_row(i: i64) -> Row {
    let note = format!("{:x<96}", i);
    Row {
        primary_key: vec![
            (
                "topic_partition".into(),
                PkValue::String("bench-wide8_3".into()),
            ),
            ("offset".into(), PkValue::Integer(i)),
        ],
        cells: vec![
            Cell::put("seq", Value::Integer(i)),
            Cell::put("user", Value::String(format!("user-{}", i % 977))),
            Cell::put("amount", Value::Double((i % 1000) as f64 + 0.5)),
            Cell::put("ok", Value::Boolean(i % 2 == 0)),
            Cell::put("qty", Value::Integer(i % 13)),
            Cell::put("city", Value::String("Hangzhou".into())),
            Cell::put("ts", Value::Integer(1_764_000_000_000 + i)),
            Cell::put("note", Value::String(note)),
            Cell::put("key", Value::String(format!("k{}", i % 1000))),
        ],
        delete_marker: false,
    }
}

/// The timeseries workload's point `i`.
fn point(i: i64) -> TimeseriesRow {
    TimeseriesRow {
        key: SeriesKey {
            measurement: "cpu".into(),
            data_source: format!("host-{}", i % 1000),
            tags: [
                ("rack".to_string(), format!("r{}", i % 7)),
                ("region".to_string(), "cn-hangzhou".to_string()),
            ]
            .into(),
        },
        time_us: (1_764_000_000_000 + i) * 1000,
        fields: vec![
            ("cores".into(), FieldValue::Long(i % 64)),
            ("state".into(), FieldValue::String("ok".into())),
            ("usage".into(), FieldValue::Double((i % 100) as f64 / 100.0)),
        ],
        meta_cache_update_time: 0,
    }
}

fn rows_to_write() -> usize {
    let rows: usize = std::env::var("BENCH_ROWS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(200_000);
    rows.div_ceil(BATCH * IN_FLIGHT) * BATCH * IN_FLIGHT
}

/// What one run measured.
struct Measured {
    rows: usize,
    secs: f64,
    cpu_s: f64,
    commits: usize,
}

impl Measured {
    fn cpu_us_per_row(&self) -> f64 {
        self.cpu_s * 1e6 / self.rows as f64
    }

    fn print(&self) {
        println!(
            "  run: {:.2} µs emulator CPU/row ({:.0} rows/s, {:.2} s, {:.2} CPU-s, {:.1} requests per commit)",
            self.cpu_us_per_row(),
            self.rows as f64 / self.secs,
            self.secs,
            self.cpu_s,
            (self.rows / BATCH) as f64 / self.commits.max(1) as f64,
        );
    }
}

/// Sends `batches` (one request each) with [`IN_FLIGHT`] tasks and
/// measures the emulator's CPU meanwhile.
async fn drive<T, F, Fut>(
    emu: &EmulatorProcess,
    workload: &str,
    batches: Vec<T>,
    send: F,
) -> Measured
where
    T: Send + 'static,
    F: Fn(Client, T) -> Fut + Clone + Send + 'static,
    Fut: std::future::Future<Output = ()> + Send,
{
    let rows = batches.len() * BATCH;
    let mut queues: Vec<Vec<T>> = (0..IN_FLIGHT).map(|_| Vec::new()).collect();
    for (i, b) in batches.into_iter().enumerate() {
        queues[i % IN_FLIGHT].push(b);
    }
    let pid = emu.pid();
    let commits0 = emu.commits();
    let perf = Perf::start(&pid, workload);
    let (cpu0, t0) = (cpu_seconds(&pid), Instant::now());
    let tasks: Vec<_> = queues
        .into_iter()
        .map(|queue| {
            let (client, send) = (emu.client(), send.clone());
            tokio::spawn(async move {
                for b in queue {
                    send(client.clone(), b).await;
                }
            })
        })
        .collect();
    for t in tasks {
        t.await.unwrap();
    }
    let measured = Measured {
        rows,
        secs: t0.elapsed().as_secs_f64(),
        cpu_s: cpu_seconds(&pid) - cpu0,
        commits: emu.commits() - commits0,
    };
    drop(perf);
    measured
}

async fn bench_wide8(rows: usize) -> Measured {
    let emu = EmulatorProcess::start();
    let client = emu.client();
    client
        .create_table(&CreateTableRequest::new(
            "wide8",
            &[
                ("topic_partition", PrimaryKeyType::String),
                ("offset", PrimaryKeyType::Integer),
            ],
        ))
        .await
        .unwrap();
    let batches: Vec<Vec<RowChange>> = (0..rows / BATCH)
        .map(|b| {
            (0..BATCH)
                .map(|i| RowChange::new(OperationType::Put, &wide8_row((b * BATCH + i) as i64)))
                .collect()
        })
        .collect();
    drive(&emu, "wide8", batches, |client, rows| async move {
        let results = client.batch_write_row("wide8", &rows).await.unwrap();
        assert!(results.iter().all(|r| r.is_ok()));
    })
    .await
}

async fn bench_timeseries(rows: usize) -> Measured {
    let emu = EmulatorProcess::start();
    let client = emu.client();
    client.create_timeseries_table("ts", -1).await.unwrap();
    let batches: Vec<Vec<u8>> = (0..rows / BATCH)
        .map(|b| {
            let points: Vec<_> = (0..BATCH).map(|i| point((b * BATCH + i) as i64)).collect();
            flatrows::encode(&points)
        })
        .collect();
    drive(&emu, "timeseries", batches, |client, data| async move {
        let results = client
            .put_timeseries_encoded("ts", data, BATCH)
            .await
            .unwrap();
        assert!(results.iter().all(|r| r.is_ok()));
    })
    .await
}

const ROWS: TableDefinition<&[u8], &[u8]> = TableDefinition::new("rows");
const META: TableDefinition<&[u8], &[u8]> = TableDefinition::new("ts_meta");

fn table_info(kind: TableKind, pk: &[(&str, PkType)]) -> TableInfo {
    TableInfo {
        id: 1,
        kind,
        primary_key: pk
            .iter()
            .map(|(n, t)| tablestore_sink::emulator::catalog::PkColumn {
                name: (*n).into(),
                pk_type: *t,
                auto_increment: false,
            })
            .collect(),
        time_to_live_s: -1,
        max_versions: 1,
        deviation_cell_version_in_sec: 86400,
        created_ms: 0,
        meta_time_to_live_s: -1,
        allow_update_attributes: true,
    }
}

/// The exact key and value bytes the emulator stores for `row`.
fn stored(info: &TableInfo, row: &Row) -> (Vec<u8>, Vec<u8>) {
    let stored = cells::apply_put(info, row, 1_764_000_000_000);
    (
        keycodec::exact_key(info.id, &stored.primary_key),
        plainbuffer::encode_row(&stored),
    )
}

/// The redb floor: `entries` inserted durably, `per_commit` per write
/// transaction; with `meta_lookups`, one ts_meta point read per entry too
/// (what PutTimeseriesData does per point). Returns CPU µs per entry.
fn redb_floor(
    entries: &[(Vec<u8>, Vec<u8>, Vec<u8>)],
    per_commit: usize,
    meta_lookups: bool,
) -> f64 {
    let dir = tempfile::tempdir().unwrap();
    let db = Database::builder()
        .set_cache_size(64 << 20)
        .create(dir.path().join("floor.redb"))
        .unwrap();
    let me = std::process::id().to_string();
    let cpu0 = cpu_seconds(&me);
    for chunk in entries.chunks(per_commit) {
        let txn = db.begin_write().unwrap();
        {
            let mut rows = txn.open_table(ROWS).unwrap();
            let mut meta = txn.open_table(META).unwrap();
            for (key, value, meta_key) in chunk {
                rows.insert(key.as_slice(), value.as_slice()).unwrap();
                if meta_lookups && meta.get(meta_key.as_slice()).unwrap().is_none() {
                    meta.insert(meta_key.as_slice(), &[0u8; 64][..]).unwrap();
                }
            }
        }
        txn.commit().unwrap();
    }
    (cpu_seconds(&me) - cpu0) * 1e6 / entries.len() as f64
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn print_floor(entries: &[(Vec<u8>, Vec<u8>, Vec<u8>)], meta_lookups: bool) {
    let (k, v) = (&entries[0].0, &entries[0].1);
    let floor = |per_commit| {
        median(
            (0..repeats())
                .map(|_| redb_floor(entries, per_commit, meta_lookups))
                .collect(),
        )
    };
    println!(
        "  redb floor ({}-byte keys, {}-byte values{}): {:.2} µs CPU/row committing every 200 rows, {:.2} µs every 1600",
        k.len(),
        v.len(),
        if meta_lookups { ", a series meta lookup per point" } else { "" },
        floor(BATCH),
        floor(BATCH * IN_FLIGHT),
    );
}

/// Runs per figure (`BENCH_REPEAT`, default 3); the median is reported.
fn repeats() -> usize {
    std::env::var("BENCH_REPEAT")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(3)
        .max(1)
}

fn report(what: &str, runs: &[Measured]) {
    println!("{what}:");
    for run in runs {
        run.print();
    }
    let per_row: Vec<f64> = runs.iter().map(Measured::cpu_us_per_row).collect();
    let best = per_row.iter().copied().fold(f64::INFINITY, f64::min);
    println!(
        "  median: {:.2} µs emulator CPU/row (best {best:.2}; other work on the machine inflates CPU time)",
        median(per_row)
    );
}

fn main() {
    let rows = rows_to_write();
    println!(
        "emulator CPU per row written: {rows} rows per run, {IN_FLIGHT} requests in flight, {BATCH} rows each, durable group commits; median of {} runs",
        repeats()
    );
    let rt = tokio::runtime::Runtime::new().unwrap();
    let wide8: Vec<_> = (0..repeats())
        .map(|_| rt.block_on(bench_wide8(rows)))
        .collect();
    report("BatchWriteRow wide8", &wide8);
    let info = table_info(
        TableKind::WideColumn,
        &[
            ("topic_partition", PkType::String),
            ("offset", PkType::Integer),
        ],
    );
    let entries: Vec<_> = (0..rows as i64)
        .map(|i| {
            let (k, v) = stored(&info, &wide8_row(i));
            (k, v, Vec::new())
        })
        .collect();
    print_floor(&entries, false);
    let timeseries: Vec<_> = (0..repeats())
        .map(|_| rt.block_on(bench_timeseries(rows)))
        .collect();
    report("PutTimeseriesData", &timeseries);
    let info = table_info(TableKind::Timeseries, &[]);
    let entries: Vec<_> = (0..rows as i64)
        .map(|i| {
            let p = point(i);
            let (k, v) = stored(&info, &layout::row_to_storage(&p));
            let meta_key = keycodec::exact_key(
                info.id,
                &[
                    (String::new(), PkValue::String(p.key.measurement.clone())),
                    (String::new(), PkValue::String(p.key.data_source.clone())),
                    (String::new(), PkValue::String(p.key.tags_string())),
                ],
            );
            (k, v, meta_key)
        })
        .collect();
    print_floor(&entries, true);
}
