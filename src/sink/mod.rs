//! The sink: Kafka partitions → converters → Tablestore, at least once.
//!
//! # Actor graph
//! ```text
//!  librdkafka ──callbacks──▶ Supervisor ──starts/drains──▶ PartitionConsumer (one per partition)
//!                                 │                              │ Convert (chunk)   ▲ Vec<ConvertOutcome>
//!                                 │                              ▼                   │
//!                                 │                        ConverterActor ×N (SyncArbiter threads)
//!                                 │                              │
//!                                 │          Write (rows) ◀──────┘ (via the partition, in order)
//!                                 ▼                              ▼
//!                          status topic                       Writer ──BatchWriteRow / PutTimeseriesData──▶ Tablestore
//!                                                                │
//!                              WriteOutcome (Written / Rejected) ┘──▶ PartitionConsumer ──▶ store_offset ──▶ commit
//! ```
//!
//! The partition actors and the writer run on `writer.pipeline_threads`
//! [`lanes`]: each partition on the lane with the fewest, each lane with a
//! writer of its own; the converters and the request threads serve every
//! lane.
//!
//! # Life of one message
//! 1. **poll**: the partition's own librdkafka queue yields it (in a chunk
//!    of up to 500) to its [`partition::PartitionConsumer`]; its bytes
//!    are taken from the in-flight [`budget::Budget`] (the partition
//!    pauses while the budget is full) and its offset is registered in
//!    the [`offsets::OffsetTracker`].
//! 2. **convert**: a [`converter::ConverterActor`] thread turns it into
//!    an encoded row (or a conversion error → dead-letter topic, or the
//!    partition stops, by policy). Chunks of one partition are converted
//!    one after another, so order is kept.
//! 3. **batch**: the [`writer::Writer`] queues it; batches hold ≤ 200 rows
//!    and ≤ 4 MB; writes to a key already in flight wait behind it.
//! 4. **write**: BatchWriteRow (PutTimeseriesData); retriable failures are
//!    retried with backoff, by row; permanent rejections go back to the
//!    partition (→ error topic, or the partition stops).
//! 5. **ack**: the writer gives the budget back and tells the partition.
//! 6. **offset stored**: the partition completes the offset; when every
//!    earlier offset is complete, the commit point moves and is stored
//!    (`enable.auto.offset.store=false`).
//! 7. **committed**: librdkafka commits stored offsets every
//!    `commit_interval_ms`; revoke and shutdown drain and commit
//!    synchronously.

pub mod budget;
pub mod convert_worker;
pub mod dead_letter;
pub mod destination;
pub mod intake;
pub mod lanes;
pub mod lease;
pub mod lifecycle;
pub mod messages;
#[cfg(test)]
pub(crate) mod mock_kafka;
pub mod offsets;
pub mod partition;
pub mod payload;
pub mod prefetch;
pub mod ready_read;
pub mod rebalance;
pub mod record;
pub mod resources;
pub mod status;
pub mod supervisor;
pub mod writer;

use std::sync::Arc;

use actix::prelude::*;
use anyhow::Context as _;
use rdkafka::producer::{FutureProducer, Producer};

use crate::config::{self, Config, Model};
use crate::convert::{TimeseriesConverter, WideColumnConverter};
use crate::tablestore::RowChange;
use payload::{Payload, Point};

/// Runs the sink until SIGINT/SIGTERM, then drains, commits and returns.
pub fn run(config: Config) -> anyhow::Result<()> {
    let system = System::new();
    let result = system.block_on(async move {
        // Handlers first: a SIGTERM during startup then stops the sink cleanly.
        let mut signals =
            crate::shutdown::Shutdown::install().context("installing signal handlers")?;
        let stop = async move { signals.recv().await };
        run_until(config, stop).await
    });
    System::current().stop();
    result
}

/// Runs the sink until `stop` resolves (also while it is still starting:
/// then it returns without running).
pub async fn run_until(
    config: Config,
    stop: impl std::future::Future<Output = ()>,
) -> anyhow::Result<()> {
    let config = Arc::new(config);
    crate::metrics::install(config.metrics.listen).context("starting the metrics endpoint")?;
    crate::metrics::events::started(&config);
    tokio::pin!(stop);
    let started = tokio::select! {
        d = start_destination(&config) => d?,
        _ = &mut stop => {
            tracing::info!("stopped while starting");
            return Ok(());
        }
    };
    let result = match config.tablestore.model {
        Model::WideColumn => {
            let converter = WideColumnConverter::new(&config.wide_column)
                .context("setting up the Wide Column conversion")?;
            crate::metrics::events::watch_clashes(converter.tally(), &config.kafka.topic);
            run_pipeline::<RowChange>(&config, converter, &started, stop).await
        }
        Model::Timeseries => {
            let ts = config
                .timeseries
                .as_ref()
                .context("tablestore.model = \"timeseries\" needs a [timeseries] section")?;
            let converter =
                TimeseriesConverter::new(ts).context("setting up the TimeSeries conversion")?;
            run_pipeline::<Point>(&config, converter, &started, stop).await
        }
    };
    if let Some(emulator) = started.destination.embedded {
        emulator.stop().await;
    }
    result?;
    tracing::info!("sink stopped cleanly");
    Ok(())
}

/// Starts the actors for payload `P`, runs until `stop`, then drains.
async fn run_pipeline<P: Payload>(
    config: &Arc<Config>,
    converter: P::Converter,
    started: &Started,
    stop: impl std::future::Future<Output = ()>,
) -> anyhow::Result<()> {
    let producer: FutureProducer = crate::kafka::producer_config(config)
        .set(
            "message.max.bytes",
            started.record_limits.producer_bytes().to_string(),
        )
        .create()
        .context("creating the Kafka producer")?;
    let status = status::StatusReporter::new(config, producer.clone());
    if let Err(e) = status.publish_config(config).await {
        anyhow::bail!(
            "writing the configuration to config topic {:?}: {e}",
            config.config_topic()
        );
    }
    let dead_letters =
        dead_letter::DeadLetters::new(config, producer.clone(), started.record_limits);
    let budget = budget::Budget::new(config.writer.max_in_flight_bytes);
    let converter = Arc::new(converter);
    let converters = SyncArbiter::start(config.writer.converter_threads, move || {
        convert_worker::ConvertWorker::<P> {
            converter: converter.clone(),
        }
    });
    let requests = Arc::new(
        writer::requests::RequestRuntime::new(config.writer.client_threads)
            .context("starting the Tablestore request threads")?,
    );
    let writer_config = config.writer.clone();
    let (client, table, topic) = (
        started.destination.client.clone(),
        config.tablestore.table.clone(),
        config.kafka.topic.clone(),
    );
    let writer_budget = budget.clone();
    let (lanes, lane_threads) = lanes::Lanes::start(
        config.writer.pipeline_threads,
        config.writer.max_in_flight_requests,
        lanes::Shared {
            converter: converters,
            budget,
            dead_letters,
            policy: config.kafka.failure_policy,
        },
        move |lane, max_in_flight_requests| {
            writer::Writer::<P>::new(
                client.clone(),
                table.clone(),
                topic.clone(),
                config::WriterConfig {
                    max_in_flight_requests,
                    ..writer_config.clone()
                },
                writer_budget.clone(),
                requests.clone(),
                lane,
            )
        },
    )
    .context("starting the pipeline threads")?;
    let supervisor = supervisor::Supervisor::<P>::new(
        config.clone(),
        lanes,
        status,
        prefetch::Prefetch::for_budget(
            config.writer.max_in_flight_bytes,
            started.source_partitions,
            config.kafka.consumer_concurrency as usize,
        ),
    )
    .start();
    supervisor
        .send(supervisor::Start)
        .await?
        .map_err(|e| anyhow::anyhow!(e))?;
    tracing::info!(connector = %config.connector.name, table = %config.tablestore.table, "sink running");
    crate::metrics::health::running();

    stop.await;
    crate::metrics::health::stopping();
    tracing::info!("shutting down");
    let (tx, rx) = tokio::sync::oneshot::channel();
    supervisor.do_send(supervisor::Shutdown { done: tx });
    let _ = rx.await;
    let _ = producer.flush(std::time::Duration::from_secs(10));
    drop(lane_threads);
    Ok(())
}

/// What startup found: where to write, and how large error records may be.
struct Started {
    destination: destination::Destination,
    record_limits: dead_letter::RecordLimits,
    /// Partitions of the source topic, to share the prefetch among.
    source_partitions: usize,
}

/// Connects to (or starts) Tablestore and checks the table and topics.
async fn start_destination(config: &Config) -> anyhow::Result<Started> {
    let destination = destination::connect(config).await?;
    resources::ensure_table(&destination.client, config).await?;
    crate::kafka::access::check_async(config).await?;
    crate::kafka::preflight::wait_for_source_topic(config).await?;
    resources::ensure_topics(config).await?;
    crate::kafka::preflight::check_group(config).await?;
    let record_limits = resources::record_limits(config).await?;
    let source_partitions = resources::source_partitions(config).await?;
    Ok(Started {
        source_partitions,
        destination,
        record_limits,
    })
}
