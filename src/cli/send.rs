//! `tablestore-sink send`: the product page's "send a test message" — to
//! the configured source topic, one message, `--count` copies, or one per
//! line of `--file`; waits for every acknowledgement.

use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context as _;
use rdkafka::producer::{FutureProducer, FutureRecord};

#[derive(clap::Args, Debug)]
pub struct SendArgs {
    /// The TOML configuration file (its kafka section is used).
    #[arg(long, short)]
    pub config: PathBuf,
    /// Message key (omit for none).
    #[arg(long)]
    pub key: Option<String>,
    /// Message value; `--file` sends one message per line instead.
    #[arg(long, required_unless_present = "file")]
    pub value: Option<String>,
    /// Send to this partition (default: by key hash).
    #[arg(long)]
    pub partition: Option<i32>,
    /// How many copies of the message to send.
    #[arg(long, default_value_t = 1)]
    pub count: u64,
    /// Send one message per non-empty line of this file.
    #[arg(long, conflicts_with = "value")]
    pub file: Option<PathBuf>,
}

pub fn run(args: SendArgs) -> anyhow::Result<()> {
    let config = crate::config::load(&args.config)?;
    let values: Vec<String> = match &args.file {
        Some(f) => std::fs::read_to_string(f)
            .with_context(|| format!("reading {}", f.display()))?
            .lines()
            .filter(|l| !l.trim().is_empty())
            .map(str::to_owned)
            .collect(),
        None => vec![args.value.clone().unwrap_or_default()],
    };
    let topic = config.kafka.topic.clone();
    let rt = tokio::runtime::Runtime::new()?;
    rt.block_on(async move {
        let producer: FutureProducer = crate::kafka::producer_config(&config).create()?;
        let mut sends = Vec::new();
        for _ in 0..args.count {
            for v in &values {
                let mut record: FutureRecord<'_, str, str> =
                    FutureRecord::to(&topic).payload(v.as_str());
                if let Some(k) = &args.key {
                    record = record.key(k.as_str());
                }
                if let Some(p) = args.partition {
                    record = record.partition(p);
                }
                sends.push(producer.send(record, Duration::from_secs(30)));
            }
        }
        let total = sends.len();
        let mut last = None;
        for s in sends {
            let delivery = s
                .await
                .map_err(|(e, _)| anyhow::anyhow!("sending to {topic}: {e}"))?;
            last = Some((delivery.partition, delivery.offset));
        }
        if let Some((p, o)) = last {
            println!("sent {total} message(s) to {topic}; last at partition {p} offset {o}");
        }
        Ok(())
    })
}
