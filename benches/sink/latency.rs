//! The latency scenario: p50/p99 from the record timestamp to the
//! Tablestore acknowledgement at 10, 50 and 90 % of a maximum rate, with
//! where the time went and what bounds it: the poll delay (record
//! timestamp to the sink's poll: the producer's batching, the broker and
//! the fetch wait, before the sink) and the CPU each process took of the
//! machine's cores while the rate was offered.
//!
//! Every phase runs on a broker, topic, emulator and sink of its own.
//! tansu's memory engine costs more per fetch the more batches a topic
//! holds (at a constant 15 k msg/s its CPU climbed from ~43 % to ~90 % of
//! a core within 10 s, and after ~2.5 M messages in small batches the sink
//! could read only 4–5 k msg/s), so a phase that inherited the previous
//! phase's topic would measure the broker's history, not the rate.

use std::time::{Duration, Instant};

use super::common::broker::{free_port, Broker};
use super::rig::{self, Proc};
use super::workload::{self, Workload};
use super::{env_or, fresh_topic, sink_config, Setup};
use tablestore_sink::metrics::scrape;

const END_TO_END: &str = "tablestore_sink_end_to_end_latency_seconds";
const POLL_DELAY: &str = "tablestore_sink_poll_delay_seconds";
const WRITTEN: &str = "tablestore_sink_rows_written_total";
const REBALANCES: &str = "tablestore_sink_rebalances_total";

/// One phase's processes: everything but the producer, which runs in
/// this process.
struct Rig {
    broker: Broker,
    emulator: Proc,
    sink: Proc,
    metrics_port: u16,
    topic: String,
}

impl Rig {
    fn start(dir: &std::path::Path, rt: &tokio::runtime::Runtime, run: usize) -> Rig {
        let setup = Setup {
            concurrency: env_or("BENCH_LATENCY_CONSUMERS", 6),
            ..Setup::new(Workload::Wide8)
        };
        let broker = Broker::start();
        let topic = fresh_topic(&broker, rt, "latency", 6);
        let (emulator, endpoint) = rig::emulator(dir, 0, 0.0);
        let metrics_port = free_port();
        let name = format!("bench{run}");
        let config = sink_config(
            &setup,
            &name,
            &broker.bootstrap(),
            &topic,
            &endpoint,
            metrics_port,
        );
        let sink = rig::sink(dir, &config, metrics_port);
        let rig = Rig {
            broker,
            emulator,
            sink,
            metrics_port,
            topic,
        };
        // Produce only once the group has formed and every partition is
        // assigned, or the first rows would wait for the join.
        let deadline = Instant::now() + Duration::from_secs(60);
        while rig.gauge("tablestore_sink_assigned_partitions") < 6.0 {
            if Instant::now() >= deadline {
                let log = std::fs::read_to_string(dir.join(format!("sink-{metrics_port}.log")))
                    .unwrap_or_default();
                let tail: Vec<&str> = log.lines().rev().take(20).collect();
                panic!(
                    "the sink was not assigned the topic's 6 partitions in 60 s; its log ends:\n{}",
                    tail.into_iter().rev().collect::<Vec<_>>().join("\n")
                );
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        // ... and once the group is settled: six consumers join one by
        // one, and a rebalance inside the measured window would stall
        // their partitions and put the stall in p99.
        let mut last = (rig.rebalances(), Instant::now());
        while last.1.elapsed() < Duration::from_secs(3) {
            assert!(
                Instant::now() < deadline,
                "the sink's group kept rebalancing for 60 s"
            );
            std::thread::sleep(Duration::from_millis(100));
            let now = rig.rebalances();
            if now != last.0 {
                last = (now, Instant::now());
            }
        }
        rig
    }

    fn rebalances(&self) -> f64 {
        rig::counter(&self.samples(), REBALANCES)
    }

    fn samples(&self) -> Vec<scrape::Sample> {
        rig::scrape_required(self.metrics_port)
    }

    fn gauge(&self, name: &str) -> f64 {
        scrape::sum(&rig::scrape(self.metrics_port), name, &[])
    }

    fn written(&self) -> f64 {
        rig::counter(&self.samples(), WRITTEN)
    }

    /// Waits up to `limit` for `rows` rows written; returns how many are
    /// still missing.
    fn wait_written(&self, rows: u64, limit: Duration) -> f64 {
        let deadline = Instant::now() + limit;
        loop {
            let missing = rows as f64 - self.written();
            if missing <= 0.0 || Instant::now() >= deadline {
                return missing.max(0.0);
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// CPU seconds so far of (broker, emulator, sink, this process: the
    /// producer).
    fn cpu(&self) -> [f64; 4] {
        [
            rig::cpu_seconds(self.broker.pid()),
            self.emulator.cpu_seconds(),
            self.sink.cpu_seconds(),
            rig::cpu_seconds(std::process::id()),
        ]
    }
}

/// What one rate measured.
struct Phase {
    offered_per_s: f64,
    /// Rows written per second while the producer ran.
    written_per_s: f64,
    end_to_end: Vec<(f64, f64)>,
    poll_delay: Vec<(f64, f64)>,
    /// Cores used by (broker, emulator, sink, producer) while producing.
    cores: [f64; 4],
    /// Rows not written 120 s after the last send (then p99 is understated).
    missing: f64,
    /// Rebalances (assigns and revokes) between the warm-up and the end.
    rebalances: f64,
}

/// Offers `rate` msg/s (infinite: flat out) for `seconds` after a 2 s
/// warm-up that is not measured (connections, the adaptive request
/// concurrency's climb from 1).
fn phase(
    dir: &std::path::Path,
    rt: &tokio::runtime::Runtime,
    run: usize,
    rate: f64,
    seconds: f64,
) -> Phase {
    let rig = Rig::start(dir, rt, run);
    let bootstrap = rig.broker.bootstrap();
    let warm = workload::produce_at(&bootstrap, &rig.topic, Workload::Wide8, 0, rate, 2.0);
    let wait = if rate.is_finite() { 120 } else { 0 };
    rig.wait_written(warm, Duration::from_secs(wait));
    let before = rig.samples();
    let cpu_before = rig.cpu();
    let started = Instant::now();
    let sent = workload::produce_at(&bootstrap, &rig.topic, Workload::Wide8, warm, rate, seconds);
    let secs = started.elapsed().as_secs_f64();
    let cpu_after = rig.cpu();
    let at_end = rig.samples();
    let missing = if rate.is_finite() {
        rig.wait_written(warm + sent, Duration::from_secs(120))
    } else {
        0.0
    };
    let after = rig.samples();
    let quantiles = |name: &str| {
        scrape::delta(
            &scrape::buckets(&after, name, &[]),
            &scrape::buckets(&before, name, &[]),
        )
    };
    let mut cores = [0.0; 4];
    for (c, (a, b)) in cores.iter_mut().zip(cpu_after.iter().zip(cpu_before)) {
        *c = (a - b) / secs;
    }
    Phase {
        offered_per_s: sent as f64 / secs,
        written_per_s: (rig::counter(&at_end, WRITTEN) - rig::counter(&before, WRITTEN)) / secs,
        end_to_end: quantiles(END_TO_END),
        poll_delay: quantiles(POLL_DELAY),
        cores,
        missing,
        rebalances: rig::counter(&after, REBALANCES) - rig::counter(&before, REBALANCES),
    }
}

/// What makes a phase's p99 not the steady state's.
fn notes(p: &Phase) -> String {
    let mut notes = Vec::new();
    if p.missing > 0.0 {
        notes.push(format!(
            "{:.0} rows not written 120 s after the last send: understated",
            p.missing
        ));
    }
    if p.rebalances > 0.0 {
        notes.push(format!("{:.0} rebalances in the window", p.rebalances));
    }
    if notes.is_empty() {
        String::new()
    } else {
        format!(" ({})", notes.join("; "))
    }
}

/// A bare consumer's poll delays at `rate` for `seconds` (after the same
/// 2 s warm-up), on a broker of its own: what any consumer of this broker
/// sees, sink or not ([`workload::poll_delays`]).
fn floor(rt: &tokio::runtime::Runtime, rate: f64, seconds: f64) -> Vec<f64> {
    let broker = Broker::start();
    let topic = fresh_topic(&broker, rt, "latency-floor", 6);
    let bootstrap = broker.bootstrap();
    workload::poll_delays(&bootstrap, &topic, |measure_from| {
        let warm = workload::produce_at(&bootstrap, &topic, Workload::Wide8, 0, rate, 2.0);
        measure_from();
        warm + workload::produce_at(&bootstrap, &topic, Workload::Wide8, warm, rate, seconds)
    })
}

/// The `q` quantile of sorted seconds, in ms.
fn exact_ms(sorted: &[f64], q: f64) -> String {
    if sorted.is_empty() {
        return "n/a".into();
    }
    let i = ((sorted.len() - 1) as f64 * q).round() as usize;
    format!("{:.1} ms", sorted[i] * 1000.0)
}

fn ms(buckets: &[(f64, f64)], q: f64) -> String {
    scrape::quantile(buckets, q).map_or("n/a".to_owned(), |s| format!("{:.1} ms", s * 1000.0))
}

/// Share of the rows at or under 50 ms: exact, 50 ms is a bucket bound.
fn within_50ms(buckets: &[(f64, f64)]) -> String {
    let total = buckets.last().map_or(0.0, |b| b.1);
    let under = buckets
        .iter()
        .find(|(le, _)| (*le - 0.05).abs() < 1e-9)
        .map_or(0.0, |b| b.1);
    if total == 0.0 {
        "n/a".into()
    } else {
        format!("{:.1} %", under * 100.0 / total)
    }
}

/// The scenario: the live maximum, then 10/50/90 % of it and of
/// `drain_max` (the rate the sink drained a backlog at).
pub fn run(dir: &std::path::Path, rt: &tokio::runtime::Runtime, drain_max: f64, run: &mut usize) {
    let seconds: f64 = env_or("BENCH_LATENCY_SECONDS", 10.0);
    // The live maximum: what the sink writes while a producer on the same
    // cores sends flat out, as in every phase below (the backlog grows).
    // BENCH_LIVE_RATE: take the live maximum as given instead.
    let live_max = match std::env::var("BENCH_LIVE_RATE")
        .ok()
        .and_then(|r| r.parse().ok())
    {
        Some(rate) => rate,
        None => {
            *run += 1;
            let live = phase(dir, rt, *run, f64::INFINITY, seconds);
            println!(
                "\nthe live maximum: a producer sending flat out for {seconds} s ({:.0} msg/s) while the sink writes {:.0} rows/s; cores used by broker {:.2}, emulator {:.2}, sink {:.2}, producer {:.2}",
                live.offered_per_s, live.written_per_s, live.cores[0], live.cores[1], live.cores[2], live.cores[3]
            );
            live.written_per_s
        }
    };
    let fractions: Vec<f64> = std::env::var("BENCH_LATENCY_FRACTIONS")
        .unwrap_or_else(|_| "0.1,0.5,0.9".into())
        .split(',')
        .map(|f| {
            f.parse()
                .expect("BENCH_LATENCY_FRACTIONS: a comma list of fractions")
        })
        .collect();
    for (what, maximum) in [
        ("the live maximum", live_max),
        ("the drain maximum", drain_max),
    ] {
        println!(
            "\n| latency at fractions of {what}: {maximum:.0} msg/s ({seconds} s each, own broker) | rate offered | written | end-to-end p50 | p99 | ≤ 50 ms | sink's poll delay p50 | p99 | bare consumer's poll delay p50 | p99 | cores: broker | emulator | sink | producer |\n|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"
        );
        for &fraction in &fractions {
            *run += 1;
            let p = phase(dir, rt, *run, maximum * fraction, seconds);
            let bare = floor(rt, maximum * fraction, seconds);
            println!(
                "| {:.0} % | {:.0} msg/s | {:.0} rows/s | {} | {}{} | {} | {} | {} | {} | {} | {:.2} | {:.2} | {:.2} | {:.2} |",
                fraction * 100.0,
                p.offered_per_s,
                p.written_per_s,
                ms(&p.end_to_end, 0.5),
                ms(&p.end_to_end, 0.99),
                notes(&p),
                within_50ms(&p.end_to_end),
                ms(&p.poll_delay, 0.5),
                ms(&p.poll_delay, 0.99),
                exact_ms(&bare, 0.5),
                exact_ms(&bare, 0.99),
                p.cores[0],
                p.cores[1],
                p.cores[2],
                p.cores[3],
            );
        }
    }
}
