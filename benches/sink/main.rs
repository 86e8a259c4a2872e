//! Sink benchmark (not a test). One run against the real broker (tansu)
//! and the emulator, each in its own process, prints for every workload,
//! side by side:
//! * the sink's CPU per message and the **floor**'s (a bare rdkafka
//!   consumer with librdkafka's default fetch settings that parses each value with
//!   `serde_json`), read `BENCH_FLOOR_READINGS` (default 3) times right
//!   before and as many right after each sink run, and the ratio to the
//!   median of those readings;
//! * rows per second end to end, the sink's peak RSS, and the emulator's
//!   CPU per row written.
//!
//! Further scenarios (`BENCH` = comma list; default `drain`):
//! * `drain`: a backlog of `BENCH_MESSAGES` (default 500 000) per workload
//!   (`wide8` at consumer_concurrency 6 and 1, `light5`, `timeseries`);
//! * `quick`: only `wide8` at consumer_concurrency 6 (for profiling);
//! * `cores`: `wide8` with 1 and 2 converter threads, and with 2
//!   pipeline threads (`writer.pipeline_threads`);
//! * `latency`: p50/p99 record-timestamp → acknowledgement at 10 %, 50 %
//!   and 90 % of the live maximum (the rate the sink writes while a
//!   producer sends flat out) and of the drain maximum (`wide8` at 6
//!   consumers above, or `BENCH_MAX_RATE`), each phase on its own broker,
//!   with the poll delay and the cores each process used
//!   ([`latency`]);
//! * `hiding`: every Tablestore request 20 ms slower;
//! * `memory`: peak RSS draining `BENCH_MEMORY_MESSAGES` (default 10 M)
//!   normally and with Tablestore gone for 60 s once the sink is writing
//!   at full speed, at consumer_concurrency 6 and 12 (`BENCH_MEMORY_RUNS`
//!   picks some of them).
//!
//! `BENCH_WRITER="key = value;..."` adds `[writer]` settings to every
//! sink run, `BENCH_KAFKA="\"fetch.wait.max.ms\" = \"5\";..."` librdkafka
//! settings (`[kafka.client]`). `BENCH_PERF=<file>` records the first run's sink with `perf record` from its first row to its last
//! (`BENCH_PERF_DWARF=1`: with DWARF call stacks).
//! `BENCH_SINK_BINARY=<path>` runs another build of the sink (an A/B of
//! two commits on the same machine).
//!
//! Run: `cargo bench --bench sink` (needs `scripts/setup.sh`), e.g.
//! `BENCH=drain,latency,hiding cargo bench --bench sink`.

#[path = "../../tests/common/mod.rs"]
mod common;
mod latency;
mod rig;
mod workload;

use std::time::{Duration, Instant};

use common::broker::{free_port, Broker};
use tablestore_sink::fault_gateway::{FaultGateway, FaultPlan};
use workload::Workload;

/// One sink run's settings.
#[derive(Clone, Copy, Debug)]
struct Setup {
    workload: Workload,
    concurrency: u32,
    converter_threads: usize,
    /// `writer.pipeline_threads`: threads running partition actors and
    /// writers.
    pipeline_threads: usize,
    latency_ms: u64,
    /// Memory runs: Tablestore goes away once the sink writes at speed.
    stalled: bool,
}

impl Setup {
    fn new(workload: Workload) -> Self {
        Setup {
            workload,
            concurrency: 6,
            converter_threads: 2,
            pipeline_threads: 1,
            latency_ms: 0,
            stalled: false,
        }
    }
}

fn sink_config(
    setup: &Setup,
    name: &str,
    bootstrap: &str,
    topic: &str,
    endpoint: &str,
    metrics_port: u16,
) -> String {
    format!(
        "[connector]\nname = \"{name}\"\n[kafka]\nbootstrap_servers = \"{bootstrap}\"\ntopic = \"{topic}\"\n\
         consumer_concurrency = {}\nsession_timeout_ms = 2000\n[kafka.client]\n\"broker.address.family\" = \"v4\"\n{}\n\
         {}[writer]\nconverter_threads = {}\n{}{}\n[metrics]\nlisten = \"127.0.0.1:{metrics_port}\"\n",
        setup.concurrency,
        // BENCH_KAFKA: extra `[kafka.client]` lines (librdkafka settings).
        std::env::var("BENCH_KAFKA").unwrap_or_default().replace(';', "\n"),
        setup.workload.config(name, endpoint),
        setup.converter_threads,
        // Only when not the default, so BENCH_SINK_BINARY may be a build
        // from before the setting existed.
        match setup.pipeline_threads {
            1 => String::new(),
            n => format!("pipeline_threads = {n}\n"),
        },
        // BENCH_WRITER: extra `[writer]` lines, to try a setting.
        std::env::var("BENCH_WRITER").unwrap_or_default().replace(';', "\n"),
    )
}

/// What one drain of a backlog measured.
struct Drained {
    rows_per_s: f64,
    sink_us_per_msg: f64,
    emulator_us_per_row: f64,
    peak_rss_mib: f64,
    /// The sink's CPU per message by thread role, and how busy each role
    /// was (its CPU seconds over the drain's seconds: 1.0 is one core).
    roles: Vec<(&'static str, f64, f64)>,
    /// CPU per message of the busiest thread running partition actors and
    /// writers: what one such thread caps the rate at.
    busiest_actix_us_per_msg: f64,
}

/// Starts an emulator and a sink for `setup` on a topic holding `n`
/// messages, waits until all are written, and measures.
fn drain(
    dir: &std::path::Path,
    bootstrap: &str,
    topic: &str,
    setup: &Setup,
    n: u64,
    run: usize,
) -> Drained {
    let (emulator, endpoint) = rig::emulator(dir, setup.latency_ms, 0.0);
    let metrics_port = free_port();
    let name = format!("bench{run}");
    let sink = rig::sink(
        dir,
        &sink_config(setup, &name, bootstrap, topic, &endpoint, metrics_port),
        metrics_port,
    );
    // BENCH_PERF=<file>: profile the first run's sink with `perf record`,
    // from its first row on (`-p` samples only the threads that exist when
    // perf attaches: by then all of them do).
    let perf_file = std::env::var("BENCH_PERF").ok().filter(|_| run == 1);
    let mut perf = None;
    // When the first row was written: the clock, the sink's CPU, its CPU
    // by role and that of each actix thread.
    type Start = (Instant, f64, rig::RoleCpu, Vec<(u32, f64)>);
    let mut first: Option<Start> = None;
    let deadline = Instant::now() + Duration::from_secs(1800);
    loop {
        let samples = rig::scrape(metrics_port);
        let written = rig::counter(&samples, "tablestore_sink_rows_written_total");
        let dead = rig::counter(&samples, "tablestore_sink_dead_letter_records_total");
        assert!(
            dead == 0.0,
            "{dead} messages were dead-lettered: the bench config does not match its messages"
        );
        if first.is_none() && written > 0.0 {
            perf = perf_file.as_deref().map(|out| {
                // BENCH_PERF_DWARF=1: DWARF call stacks (the release
                // build keeps no frame pointers, so `-g` stacks stop at
                // the first Rust frame), at 999 Hz.
                let dwarf = std::env::var("BENCH_PERF_DWARF").is_ok_and(|v| v == "1");
                let (hz, stacks) = if dwarf {
                    ("999", "--call-graph=dwarf,16384")
                } else {
                    ("499", "-g")
                };
                rig::Proc::spawn(std::process::Command::new("perf").args([
                    "record",
                    "-F",
                    hz,
                    stacks,
                    // Copying a 100 MB binary with debug info into the
                    // build-id cache takes long at the end; the build ids
                    // stay in the file, so `perf report` still notices a
                    // rebuilt binary.
                    "--no-buildid-cache",
                    "-o",
                    out,
                    "-p",
                    &sink.pid().to_string(),
                ]))
            });
            first = Some((
                Instant::now(),
                sink.cpu_seconds(),
                sink.cpu_by_role(),
                sink.cpu_of_role("actix"),
            ));
        }
        if written >= n as f64 {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the sink wrote {written} of {n} rows in 30 minutes"
        );
        // Each scrape renders every series: at one per 20 ms, perf put
        // 3 % of the sink's CPU in rendering. So every 20 ms only around
        // the first and the last row, whose times the figures need, and
        // every 250 ms in between (Prometheus scrapes every 15 s or so).
        let edge = first.is_none() || written >= 0.95 * n as f64;
        std::thread::sleep(Duration::from_millis(if edge { 20 } else { 250 }));
    }
    let (t0, cpu0, roles0, actix0) = first.unwrap();
    let busiest_actix = sink
        .cpu_of_role("actix")
        .into_iter()
        .map(|(tid, cpu)| {
            let before = actix0.iter().find(|t| t.0 == tid).map_or(0.0, |t| t.1);
            cpu - before
        })
        .fold(0.0, f64::max);
    let secs = t0.elapsed().as_secs_f64();
    let roles = sink
        .cpu_by_role()
        .into_iter()
        .zip(roles0)
        .map(|((role, cpu), (_, cpu0))| (role, (cpu - cpu0) * 1e6 / n as f64, (cpu - cpu0) / secs))
        .collect();
    if let Some(perf) = perf {
        perf.interrupt_and_wait();
    }
    Drained {
        roles,
        busiest_actix_us_per_msg: busiest_actix * 1e6 / n as f64,
        rows_per_s: n as f64 / secs,
        sink_us_per_msg: (sink.cpu_seconds() - cpu0) * 1e6 / n as f64,
        emulator_us_per_row: emulator.cpu_seconds() * 1e6 / n as f64,
        peak_rss_mib: sink.peak_rss_mib(),
    }
}

fn fresh_topic(
    broker: &Broker,
    rt: &tokio::runtime::Runtime,
    prefix: &str,
    partitions: i32,
) -> String {
    let topic = common::unique(prefix);
    rt.block_on(broker.create_topic(&topic, partitions));
    topic
}

fn main() {
    let n: u64 = env_or("BENCH_MESSAGES", 500_000);
    let floor_readings: usize = env_or("BENCH_FLOOR_READINGS", 3).max(1);
    let scenarios: Vec<String> = std::env::var("BENCH")
        .unwrap_or_else(|_| "drain".into())
        .split(',')
        .map(str::to_owned)
        .collect();
    let wants = |s: &str| scenarios.iter().any(|x| x == s || x == "all");
    let rt = tokio::runtime::Runtime::new().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let broker = Broker::start();
    let bootstrap = broker.bootstrap();
    let mut run = 0;
    let mut max_rate = None;
    println!("tablestore-sink benchmark: {n} messages of about 200 bytes per run, 6 partitions, one tansu broker, emulator and sink in their own processes, {} cores", std::thread::available_parallelism().map_or(0, |n| n.get()));

    if wants("drain") || wants("cores") || wants("quick") {
        println!("\n| workload | consumers | converter threads | pipeline threads | sink CPU/msg | floor CPU/msg: median (readings before / after the sink) | ratio | rows/s | sink peak RSS | emulator CPU/row |");
        println!("|---|---|---|---|---|---|---|---|---|---|");
        let mut setups: Vec<Setup> = Vec::new();
        if wants("drain") {
            setups.push(Setup::new(Workload::Wide8));
            setups.push(Setup {
                concurrency: 1,
                ..Setup::new(Workload::Wide8)
            });
            setups.push(Setup {
                concurrency: 1,
                ..Setup::new(Workload::Light5)
            });
            setups.push(Setup::new(Workload::Timeseries));
        }
        if wants("quick") && !wants("drain") {
            setups.push(Setup::new(Workload::Wide8));
        }
        if wants("cores") {
            for (converter_threads, pipeline_threads) in [(1, 1), (2, 1), (2, 2)] {
                setups.push(Setup {
                    converter_threads,
                    pipeline_threads,
                    ..Setup::new(Workload::Wide8)
                });
            }
        }
        // Per run: where the sink's CPU went, printed after the table.
        let mut by_thread: Vec<String> = Vec::new();
        for setup in setups {
            run += 1;
            let topic = fresh_topic(&broker, &rt, "bench", 6);
            workload::produce(&bootstrap, &topic, setup.workload, 0, n);
            // The floor right before and right after the sink's run, read
            // `floor_readings` times each: this machine's speed drifts by
            // tens of percent within minutes, and one short reading can
            // land on a slow or fast moment. The ratio takes the median.
            let readings = |when: &str| -> Vec<f64> {
                (0..floor_readings)
                    .map(|i| workload::floor(&bootstrap, &topic, n, &format!("{when}{i}")).1)
                    .collect()
            };
            let before = readings("before");
            let d = drain(dir.path(), &bootstrap, &topic, &setup, n, run);
            let after = readings("after");
            let floor = median(before.iter().chain(&after).copied().collect());
            let listed = |r: &[f64]| {
                r.iter()
                    .map(|us| format!("{us:.2}"))
                    .collect::<Vec<_>>()
                    .join(", ")
            };
            if setup.workload == Workload::Wide8 && setup.concurrency == 6 && max_rate.is_none() {
                max_rate = Some(d.rows_per_s);
            }
            println!(
                "| {} | {} | {} | {} | {:.2} µs | {:.2} µs ({} / {}) | {:.2}× | {:.0} | {:.0} MiB | {:.2} µs |",
                setup.workload.name(),
                setup.concurrency,
                setup.converter_threads,
                setup.pipeline_threads,
                d.sink_us_per_msg,
                floor,
                listed(&before),
                listed(&after),
                d.sink_us_per_msg / floor,
                d.rows_per_s,
                d.peak_rss_mib,
                d.emulator_us_per_row
            );
            by_thread.push(format!(
                "| {} | {} | {} | {} | {} | {:.2} µs: {:.0} |",
                setup.workload.name(),
                setup.concurrency,
                setup.converter_threads,
                setup.pipeline_threads,
                d.roles
                    .iter()
                    .map(|(_, us, busy)| format!("{us:.2} µs ({:.0} %)", busy * 100.0))
                    .collect::<Vec<_>>()
                    .join(" | "),
                d.busiest_actix_us_per_msg,
                1e6 / d.busiest_actix_us_per_msg
            ));
        }
        println!(
            "\n| sink CPU/msg by thread (busy: % of one core) | consumers | converter threads | pipeline threads | {} | busiest actix thread: CPU/msg and the rate it caps, msg/s |",
            rig::ROLES.join(" | ")
        );
        println!("|---|---|---|---|{}---|", "---|".repeat(rig::ROLES.len()));
        for row in by_thread {
            println!("{row}");
        }
    }

    if wants("hiding") {
        run += 1;
        let setup = Setup {
            latency_ms: 20,
            ..Setup::new(Workload::Wide8)
        };
        let topic = fresh_topic(&broker, &rt, "hiding", 6);
        workload::produce(&bootstrap, &topic, setup.workload, 0, n);
        let d = drain(dir.path(), &bootstrap, &topic, &setup, n, run);
        println!(
            "\nlatency hiding: every Tablestore request +20 ms: {:.0} rows/s, sink CPU {:.2} µs/msg, peak RSS {:.0} MiB",
            d.rows_per_s, d.sink_us_per_msg, d.peak_rss_mib
        );
    }

    if wants("latency") {
        let max = max_rate.unwrap_or_else(|| env_or("BENCH_MAX_RATE", 50_000.0));
        latency::run(dir.path(), &rt, max, &mut run);
    }

    if wants("memory") {
        let m: u64 = env_or("BENCH_MEMORY_MESSAGES", 10_000_000);
        let topic = fresh_topic(&broker, &rt, "memory", 6);
        workload::produce(&bootstrap, &topic, Workload::Wide8, 0, m);
        println!("\n| memory: backlog of {m} | consumers | Tablestore | sink peak RSS | rows written |\n|---|---|---|---|---|");
        // BENCH_MEMORY_RUNS: a comma list of c6-stalled, c12-stalled,
        // c6-normal, c12-normal (default all).
        let runs = std::env::var("BENCH_MEMORY_RUNS")
            .unwrap_or_else(|_| "c6-stalled,c12-stalled,c6-normal,c12-normal".into());
        for (concurrency, stalled) in [(6, true), (12, true), (6, false), (12, false)] {
            let key = format!(
                "c{concurrency}-{}",
                if stalled { "stalled" } else { "normal" }
            );
            if !runs.split(',').any(|r| r == key) {
                continue;
            }
            run += 1;
            let setup = Setup {
                concurrency,
                stalled,
                ..Setup::new(Workload::Wide8)
            };
            let (peak, written) = memory(dir.path(), &rt, &bootstrap, &topic, &setup, m, run);
            println!(
                "| | {concurrency} | {} | {peak:.0} MiB | {written:.0} |",
                if stalled {
                    "gone (every connection refused) for 60 s after 100 000 rows"
                } else {
                    "normal, to the end"
                }
            );
        }
    }
}

/// Peak RSS while draining `m` messages (stalled: for 60 s after the
/// consumers started fetching).
/// Peak RSS and rows written while `setup` drains a backlog of `m`: to
/// the end, or, when `setup.stalled`, with Tablestore gone (every connection to a
/// fault gateway in front of the emulator refused) for 60 s from the
/// moment the sink is writing at full speed, the worst case for memory:
/// the whole budget fills and stays full.
fn memory(
    dir: &std::path::Path,
    rt: &tokio::runtime::Runtime,
    bootstrap: &str,
    topic: &str,
    setup: &Setup,
    m: u64,
    run: usize,
) -> (f64, f64) {
    let stall = setup.stalled;
    let (_emulator, upstream) = rig::emulator(dir, 0, 0.0);
    let gateway = rt
        .block_on(FaultGateway::start(
            &upstream,
            FaultPlan::none(),
            run as u64,
        ))
        .expect("fault gateway starts");
    let metrics_port = free_port();
    let name = format!("bench{run}");
    let sink = rig::sink(
        dir,
        &sink_config(
            setup,
            &name,
            bootstrap,
            topic,
            &gateway.endpoint(),
            metrics_port,
        ),
        metrics_port,
    );
    let written_now = || {
        rig::counter(
            &rig::scrape(metrics_port),
            "tablestore_sink_rows_written_total",
        )
    };
    let deadline = Instant::now() + Duration::from_secs(1800);
    let mut written = 0.0;
    let mut stalled_until: Option<Instant> = None;
    while Instant::now() < deadline {
        written = written_now();
        match stalled_until {
            Some(until) if Instant::now() >= until => break,
            Some(_) => {}
            None if stall && written >= 100_000.0 => {
                gateway.set_plan(FaultPlan {
                    outage: true,
                    ..FaultPlan::none()
                });
                stalled_until = Some(Instant::now() + Duration::from_secs(60));
            }
            None if written >= m as f64 => break,
            None => {}
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    let peak = sink.peak_rss_mib();
    drop(sink);
    rt.block_on(async move { drop(gateway) });
    (peak, written)
}

/// The middle value (the mean of the two middle ones for an even count).
fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    let mid = values.len() / 2;
    if values.len() % 2 == 0 {
        (values[mid - 1] + values[mid]) / 2.0
    } else {
        values[mid]
    }
}

fn env_or<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}
