//! `tablestore-sink load`: a load generator for the configured topic. It
//! produces `--messages` messages at `--rate` per second with a progress
//! bar, waits until the running sink has written (or dead-lettered) them
//! all, and reports the produce rate, the end-to-end throughput and the
//! end-to-end latency percentiles the sink measured (record timestamp →
//! Tablestore acknowledgement), read from the sink's Prometheus endpoint.

use std::io::Write as _;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use anyhow::Context as _;
use rdkafka::producer::{FutureProducer, FutureRecord};

use crate::metrics::{names, scrape};

#[derive(clap::Args, Debug)]
pub struct LoadArgs {
    /// The sink's TOML configuration (its `[metrics] listen` must be set).
    #[arg(long, short)]
    pub config: PathBuf,
    /// Messages per second to produce (0 = as fast as possible).
    #[arg(long, default_value_t = 1000)]
    pub rate: u64,
    /// Messages to produce.
    #[arg(long, default_value_t = 10_000)]
    pub messages: u64,
    /// Approximate size of each JSON value in bytes.
    #[arg(long, default_value_t = 200)]
    pub size: usize,
    /// Distinct message keys (`k0` .. `k<N-1>`).
    #[arg(long, default_value_t = 1000)]
    pub keys: u64,
    /// Fraction (0..1) of messages that are invalid JSON (dead-letter traffic).
    #[arg(long, default_value_t = 0.0)]
    pub poison_ratio: f64,
    /// Give up waiting for the sink after this many seconds.
    #[arg(long, default_value_t = 600)]
    pub timeout_s: u64,
}

/// The figures `load` reports.
#[derive(Debug, Clone, serde::Serialize)]
pub struct LoadReport {
    pub produced: u64,
    pub poison: u64,
    pub produce_seconds: f64,
    pub written: u64,
    pub dead_lettered: u64,
    pub end_to_end_seconds: f64,
    pub latency_p50_ms: Option<f64>,
    pub latency_p90_ms: Option<f64>,
    pub latency_p99_ms: Option<f64>,
    pub latency_max_ms_at_most: Option<f64>,
}

struct Progress {
    last: Instant,
}

impl Progress {
    fn show(&mut self, what: &str, done: u64, total: u64, force: bool) {
        if !force && self.last.elapsed() < Duration::from_millis(200) {
            return;
        }
        self.last = Instant::now();
        let width = 30;
        let filled = (done.min(total) * width as u64)
            .checked_div(total)
            .map_or(width, |f| f as usize);
        eprint!(
            "\r{what:<9} [{}{}] {done}/{total}   ",
            "#".repeat(filled),
            ".".repeat(width - filled)
        );
        let _ = std::io::stderr().flush();
    }
}

struct Counters {
    written: f64,
    dead: f64,
    latency: Vec<(f64, f64)>,
}

async fn scrape_counters(
    http: &reqwest::Client,
    url: &str,
    table: &str,
    topic: &str,
) -> anyhow::Result<Counters> {
    let text = http
        .get(url)
        .send()
        .await?
        .error_for_status()?
        .text()
        .await?;
    let s = scrape::parse(&text);
    Ok(Counters {
        written: scrape::sum(&s, names::ROWS_WRITTEN, &[("table", table)]),
        dead: scrape::sum(&s, names::DEAD_LETTER_RECORDS, &[("topic", topic)])
            + scrape::sum(&s, names::ERROR_RECORDS, &[("topic", topic)]),
        latency: scrape::buckets(&s, names::END_TO_END_LATENCY, &[("topic", topic)]),
    })
}

fn value(i: u64, keys: u64, size: usize, poison: bool) -> String {
    if poison {
        return format!("poison message {i}: not JSON");
    }
    let head = format!(
        r#"{{"seq":{i},"key":"k{}","amount":{}.25,"ok":true,"pad":""#,
        i % keys.max(1),
        i % 1000
    );
    let pad = size.saturating_sub(head.len() + 2);
    format!("{head}{}\"}}", "x".repeat(pad))
}

pub fn run(args: LoadArgs) -> anyhow::Result<()> {
    if !(0.0..1.0).contains(&args.poison_ratio) {
        return Err(super::exit::UsageError(format!(
            "--poison-ratio {} is out of range: use a fraction in [0, 1)",
            args.poison_ratio
        ))
        .into());
    }
    let config = crate::config::load(&args.config)?;
    let listen = config.metrics.listen.context(
        "load reads the sink's metrics: set [metrics] listen in the config and run the sink with it",
    )?;
    let url = format!("http://{listen}/metrics");
    crate::kafka::access::check(&config)?;
    let rt = tokio::runtime::Runtime::new()?;
    let report = rt.block_on(async {
        let http = reqwest::Client::builder().timeout(Duration::from_secs(10)).build()?;
        let table = config.tablestore.table.clone();
        let topic = config.kafka.topic.clone();
        let before = scrape_counters(&http, &url, &table, &topic)
            .await
            .with_context(|| format!("reading the sink's metrics at {url}: is the sink running with [metrics] listen?"))?;
        let producer: FutureProducer = crate::kafka::producer_config(&config).set("linger.ms", "10").set("queue.buffering.max.messages", "1000000").create()?;
        let mut progress = Progress { last: Instant::now() - Duration::from_secs(1) };
        let started = Instant::now();
        let every = (args.poison_ratio > 0.0).then(|| (1.0 / args.poison_ratio).round().max(1.0) as u64);
        let mut poison = 0u64;
        let mut acks = Vec::with_capacity(args.messages as usize);
        for i in 0..args.messages {
            if args.rate > 0 {
                let due = started + Duration::from_secs_f64(i as f64 / args.rate as f64);
                if let Some(wait) = due.checked_duration_since(Instant::now()) {
                    tokio::time::sleep(wait).await;
                }
            }
            let bad = every.is_some_and(|n| i % n == n - 1);
            poison += bad as u64;
            let key = format!("k{}", i % args.keys.max(1));
            let payload = value(i, args.keys, args.size, bad);
            let record = FutureRecord::to(&topic).key(&key).payload(&payload);
            acks.push(producer.send_result(record).map_err(|(e, _)| anyhow::anyhow!("producing: {e}"))?);
            progress.show("producing", i + 1, args.messages, false);
        }
        for a in acks {
            a.await?.map_err(|(e, _)| anyhow::anyhow!("producing: {e}"))?;
        }
        let produce_seconds = started.elapsed().as_secs_f64();
        progress.show("producing", args.messages, args.messages, true);
        eprintln!();
        let deadline = Instant::now() + Duration::from_secs(args.timeout_s);
        let after = loop {
            let now = scrape_counters(&http, &url, &table, &topic).await?;
            let done = (now.written - before.written + now.dead - before.dead) as u64;
            progress.show("writing", done, args.messages, false);
            if done >= args.messages {
                progress.show("writing", done, args.messages, true);
                eprintln!();
                break now;
            }
            anyhow::ensure!(
                Instant::now() < deadline,
                "the sink handled {done} of {} messages in {} s; is a partition stopped? (tablestore-sink status)",
                args.messages,
                args.timeout_s
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        };
        let end_to_end_seconds = started.elapsed().as_secs_f64();
        let latency = scrape::delta(&after.latency, &before.latency);
        let ms = |x: Option<f64>| x.map(|s| s * 1000.0);
        Ok::<_, anyhow::Error>(LoadReport {
            produced: args.messages,
            poison,
            produce_seconds,
            written: (after.written - before.written) as u64,
            dead_lettered: (after.dead - before.dead) as u64,
            end_to_end_seconds,
            latency_p50_ms: ms(scrape::quantile(&latency, 0.50)),
            latency_p90_ms: ms(scrape::quantile(&latency, 0.90)),
            latency_p99_ms: ms(scrape::quantile(&latency, 0.99)),
            latency_max_ms_at_most: ms(scrape::max_bound(&latency)),
        })
    })?;
    print_report(&report);
    Ok(())
}

fn print_report(r: &LoadReport) {
    let f = |x: Option<f64>| {
        x.map_or("-".to_owned(), |v| {
            if v.is_finite() {
                format!("{v:.1} ms")
            } else {
                "> 60 s".to_owned()
            }
        })
    };
    println!(
        "produced      {} messages ({} poison) in {:.2} s = {:.0} msg/s",
        r.produced,
        r.poison,
        r.produce_seconds,
        r.produced as f64 / r.produce_seconds
    );
    println!(
        "end to end    {} rows written + {} dead-lettered in {:.2} s = {:.0} msg/s (first send to last acknowledgement)",
        r.written,
        r.dead_lettered,
        r.end_to_end_seconds,
        (r.written + r.dead_lettered) as f64 / r.end_to_end_seconds
    );
    println!(
        "latency       p50 {}  p90 {}  p99 {}  max <= {}  (record timestamp to Tablestore ack, the sink's histogram)",
        f(r.latency_p50_ms),
        f(r.latency_p90_ms),
        f(r.latency_p99_ms),
        f(r.latency_max_ms_at_most)
    );
    println!(
        "report-json   {}",
        serde_json::to_string(r).unwrap_or_default()
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_have_the_requested_size_and_poison_is_not_json() {
        let v = value(7, 10, 200, false);
        assert_eq!(v.len(), 200);
        let j: serde_json::Value = serde_json::from_str(&v).unwrap();
        assert_eq!(j["seq"], 7);
        assert_eq!(j["key"], "k7");
        assert!(serde_json::from_str::<serde_json::Value>(&value(1, 10, 200, true)).is_err());
    }
}
