//! `tablestore-sink status`: per-partition state from the status topic
//! (the latest record per partition), the group's committed offset, the
//! end offset, the lag, and the last error of a FAILED partition.
//! `--watch` refreshes it every few seconds until interrupted.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use anyhow::Context;

use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::{Message, Offset, TopicPartitionList};
use serde_json::json;

use super::query::Format;
use crate::sink::status::PartitionStatus;

#[derive(clap::Args, Debug)]
pub struct StatusArgs {
    /// The TOML configuration file.
    #[arg(long, short)]
    pub config: PathBuf,
    #[arg(long, value_enum, default_value = "table")]
    pub format: Format,
    /// Refresh every SECONDS (default 2) until interrupted (Ctrl-C).
    #[arg(long, value_name = "SECONDS", num_args = 0..=1, default_missing_value = "2")]
    pub watch: Option<f64>,
}

/// The latest status record per source partition of this connector.
fn read_statuses(config: &crate::config::Config) -> anyhow::Result<BTreeMap<i32, PartitionStatus>> {
    let consumer: BaseConsumer = crate::kafka::base_client_config(
        config,
        &format!("tablestore-sink-{}-status", config.connector.name),
    )
    .set("group.id", format!("{}-status-reader", config.group()))
    .set("enable.auto.commit", "false")
    .create()?;
    let topic = config.status_topic();
    let md = consumer.fetch_metadata(Some(&topic), Duration::from_secs(10))?;
    let mut tpl = TopicPartitionList::new();
    for t in md.topics().iter().filter(|t| t.error().is_none()) {
        for p in t.partitions() {
            tpl.add_partition_offset(&topic, p.id(), Offset::Beginning)?;
        }
    }
    consumer.assign(&tpl)?;
    let mut latest = BTreeMap::new();
    // Read until the topic has been quiet for a moment (bounded).
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut quiet_since = Instant::now();
    while Instant::now() < deadline && quiet_since.elapsed() < Duration::from_millis(1500) {
        match consumer.poll(Duration::from_millis(100)) {
            Some(Ok(m)) => {
                quiet_since = Instant::now();
                if let Some(s) = m
                    .payload()
                    .and_then(|p| serde_json::from_slice::<PartitionStatus>(p).ok())
                {
                    if s.connector == config.connector.name && s.topic == config.kafka.topic {
                        latest.insert(s.partition, s);
                    }
                }
            }
            Some(Err(e)) => anyhow::bail!("reading status topic {topic:?}: {e}"),
            None => {}
        }
    }
    Ok(latest)
}

pub fn run(args: StatusArgs) -> anyhow::Result<()> {
    let config = crate::config::load(&args.config)?;
    crate::kafka::access::check(&config)?;
    let Some(seconds) = args.watch else {
        print!("{}", report(&config, args.format)?);
        return Ok(());
    };
    if !(seconds.is_finite() && seconds >= 0.1) {
        return Err(super::exit::UsageError(format!(
            "--watch {seconds}: refresh at most every 0.1 seconds"
        ))
        .into());
    }
    exit_on_signal()?;
    let terminal = std::io::IsTerminal::is_terminal(&std::io::stdout());
    loop {
        let started = std::time::Instant::now();
        // A passing broker error is shown, not fatal: the watch goes on.
        let text = report(&config, args.format).unwrap_or_else(|e| format!("error: {e:#}\n"));
        let now = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
        if terminal {
            // Clear the screen, cursor home.
            print!("\x1b[2J\x1b[H");
        }
        print!("-- {now} (every {seconds} s; Ctrl-C to stop) --\n{text}");
        std::io::Write::flush(&mut std::io::stdout())?;
        std::thread::sleep(Duration::from_secs_f64(seconds).saturating_sub(started.elapsed()));
    }
}

/// Ends the process (status [`super::exit::INTERRUPTED`]) on SIGINT or
/// SIGTERM. The watch installs its own handler rather than rely on the
/// default action: a job started in the background of a non-interactive
/// shell inherits SIGINT as *ignored*, and Ctrl-C or `kill -INT` would
/// then not stop it. Installing a handler replaces that disposition.
fn exit_on_signal() -> anyhow::Result<()> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("starting the signal thread's runtime")?;
    let mut signals = runtime
        .block_on(async { crate::shutdown::Shutdown::install() })
        .context("installing signal handlers")?;
    std::thread::Builder::new()
        .name("status-signals".into())
        .spawn(move || {
            runtime.block_on(signals.recv());
            // `exit` flushes stdout if it can take the lock; flushing here
            // would wait for it behind a print blocked on a full pipe.
            std::process::exit(super::exit::INTERRUPTED);
        })
        .context("starting the signal thread")?;
    Ok(())
}

/// The status as text (`format`), one snapshot.
fn report(config: &crate::config::Config, format: Format) -> anyhow::Result<String> {
    let statuses = read_statuses(config)?;
    let consumer: BaseConsumer = crate::kafka::base_client_config(
        config,
        &format!("tablestore-sink-{}-status", config.connector.name),
    )
    .set("group.id", config.group())
    .set("enable.auto.commit", "false")
    .create()?;
    let topic = &config.kafka.topic;
    let md = consumer.fetch_metadata(Some(topic), Duration::from_secs(10))?;
    let partitions: Vec<i32> = md
        .topics()
        .iter()
        .flat_map(|t| t.partitions().iter().map(|p| p.id()))
        .collect();
    let mut tpl = TopicPartitionList::new();
    for p in &partitions {
        tpl.add_partition(topic, *p);
    }
    let committed = consumer.committed_offsets(tpl, Duration::from_secs(10))?;
    let mut rows = Vec::new();
    for p in partitions {
        let (low, high) = consumer.fetch_watermarks(topic, p, Duration::from_secs(10))?;
        let committed = match committed.find_partition(topic, p).map(|e| e.offset()) {
            Some(Offset::Offset(o)) => Some(o),
            _ => None,
        };
        let lag = (high - committed.unwrap_or(low)).max(0);
        let s = statuses.get(&p);
        rows.push(json!({
            "partition": p,
            "state": s.map_or("UNKNOWN", |s| s.state.as_str()),
            "worker": s.map(|s| s.worker.clone()),
            "committed_offset": committed,
            "end_offset": high,
            "lag": lag,
            "failed_at_offset": s.and_then(|s| s.offset),
            "last_error": s.and_then(|s| s.reason.clone()),
            "since": s.and_then(|s| chrono::DateTime::from_timestamp_millis(s.timestamp_ms)).map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)),
        }));
    }
    if format == Format::Json {
        return Ok(format!(
            "{}\n",
            serde_json::to_string_pretty(
                &json!({"connector": config.connector.name, "group": config.group(), "topic": topic, "partitions": rows})
            )?
        ));
    }
    let mut out = format!(
        "connector {:?}, group {:?}, topic {:?}\n",
        config.connector.name,
        config.group(),
        topic
    );
    let text = |v: &serde_json::Value| match v {
        serde_json::Value::Null => "-".to_owned(),
        serde_json::Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    let header = [
        "partition",
        "state",
        "committed",
        "end",
        "lag",
        "since",
        "worker",
        "last error",
    ];
    let table: Vec<Vec<String>> = rows
        .iter()
        .map(|r| {
            let mut error = text(&r["last_error"]);
            if let Some(o) = r["failed_at_offset"].as_i64() {
                error = format!("at offset {o}: {error}");
            }
            vec![
                text(&r["partition"]),
                text(&r["state"]),
                text(&r["committed_offset"]),
                text(&r["end_offset"]),
                text(&r["lag"]),
                text(&r["since"]),
                text(&r["worker"]),
                error,
            ]
        })
        .collect();
    out.push_str(&super::query::render(&header.map(String::from), &table));
    out.push('\n');
    Ok(out)
}
