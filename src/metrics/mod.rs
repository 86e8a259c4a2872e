//! Prometheus metrics: every name lives in [`names`], is described once at
//! startup (so the endpoint shows HELP text), and is emitted per batch,
//! never per message. Labels are bounded: topic, partition, table, api,
//! error code, reason.

pub mod events;
pub mod health;
pub mod http;
pub mod names;
pub mod process;
pub mod scrape;

use std::time::Duration;

use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use metrics_util::MetricKindMask;

/// Gauges not set for this long disappear from the endpoint: owners
/// re-set theirs every [`REFRESH`], so series of revoked partitions go away.
pub const GAUGE_IDLE_TIMEOUT: Duration = Duration::from_secs(30);
/// How often live gauges are re-set.
pub const REFRESH: Duration = Duration::from_secs(5);

/// Latency buckets in seconds (1 ms .. 60 s), finer from 10 to 150 ms
/// where latency targets (tens of milliseconds) are judged.
const LATENCY_BUCKETS: &[f64] = &[
    0.001, 0.0025, 0.005, 0.01, 0.015, 0.02, 0.025, 0.03, 0.04, 0.05, 0.075, 0.1, 0.15, 0.25, 0.5,
    1.0, 2.5, 5.0, 10.0, 30.0, 60.0,
];
/// Batch size buckets in rows.
const ROW_BUCKETS: &[f64] = &[1.0, 5.0, 10.0, 25.0, 50.0, 100.0, 150.0, 200.0];

/// Installs the global recorder; serves `/metrics`, `/healthz` and
/// `/readyz` on `listen` if given ([`http`]); keeps the recorder up (idle
/// gauges expire, histograms drain) and the process and readiness gauges
/// fresh every [`REFRESH`]. Serving needs a Tokio runtime. Returns a handle that
/// renders the current metrics (used by tests and the `load` report).
pub fn install(listen: Option<std::net::SocketAddr>) -> anyhow::Result<PrometheusHandle> {
    let recorder = PrometheusBuilder::new()
        .set_buckets_for_metric(Matcher::Suffix("_seconds".into()), LATENCY_BUCKETS)?
        .set_buckets_for_metric(Matcher::Full(names::BATCH_ROWS.into()), ROW_BUCKETS)?
        .idle_timeout(MetricKindMask::GAUGE, Some(GAUGE_IDLE_TIMEOUT))
        .build_recorder();
    let handle = recorder.handle();
    metrics::set_global_recorder(recorder)
        .map_err(|e| anyhow::anyhow!("installing metrics recorder: {e}"))?;
    if let Some(addr) = listen {
        http::serve(addr, handle.clone())
            .map_err(|e| anyhow::anyhow!("metrics.listen = {addr}: cannot listen there: {e}"))?;
    }
    names::describe_all();
    metrics::gauge!(names::BUILD_INFO, "version" => env!("CARGO_PKG_VERSION")).set(1.0);
    let upkeep = handle.clone();
    // Without a runtime (unit tests rendering the handle) there is no
    // upkeep; the sink always has one.
    let Ok(runtime) = tokio::runtime::Handle::try_current() else {
        return Ok(handle);
    };
    runtime.spawn(async move {
        let mut tick = tokio::time::interval(REFRESH);
        loop {
            tick.tick().await;
            upkeep.run_upkeep();
            process::refresh();
            health::export();
        }
    });
    Ok(handle)
}
