//! `tablestore-sink emulator`: serve a durable local Tablestore until
//! SIGINT/SIGTERM, then finish in-flight requests and exit 0.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context;

use crate::emulator::{self, Credentials, Emulator, EmulatorConfig, Faults};

#[derive(clap::Args, Debug)]
pub struct EmulatorArgs {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:8800")]
    pub listen: SocketAddr,
    /// Directory of the durable store (created if missing).
    #[arg(long, default_value = "./data/emulator")]
    pub data_dir: PathBuf,
    /// Instance name clients must send.
    #[arg(long, default_value = emulator::DEFAULT_INSTANCE)]
    pub instance: String,
    /// Access key id clients must sign with.
    #[arg(long, default_value = emulator::DEFAULT_ACCESS_KEY_ID)]
    pub access_key_id: String,
    /// Access key secret clients must sign with.
    #[arg(long, env = "TABLESTORE_EMULATOR_SECRET", default_value = emulator::DEFAULT_ACCESS_KEY_SECRET, hide_env_values = true)]
    pub access_key_secret: String,
    /// Fault injection: milliseconds added to every request.
    #[arg(long, default_value_t = 0)]
    pub latency_ms: u64,
    /// Fault injection: fraction (0..1) of requests answered 503 OTSServerBusy.
    #[arg(long, default_value_t = 0.0)]
    pub throttle_rate: f64,
    /// Connections served at once.
    #[arg(long, default_value_t = 256)]
    pub max_connections: usize,
    /// Do not serve the read-only web console (/console/), which shows
    /// every table's data without authentication.
    #[arg(long)]
    pub no_console: bool,
    /// Storage page cache in MiB.
    #[arg(long, default_value_t = 64)]
    pub cache_mb: usize,
}

pub fn run(args: EmulatorArgs) -> anyhow::Result<()> {
    if !(0.0..=1.0).contains(&args.throttle_rate) {
        return Err(super::exit::UsageError(format!(
            "--throttle-rate {} is out of range: use a fraction between 0 and 1",
            args.throttle_rate
        ))
        .into());
    }
    let config = EmulatorConfig {
        listen: args.listen,
        data_dir: args.data_dir.clone(),
        credentials: Credentials {
            instance: args.instance.clone(),
            access_key_id: args.access_key_id.clone(),
            access_key_secret: args.access_key_secret,
        },
        faults: Faults {
            latency: Duration::from_millis(args.latency_ms),
            throttle_rate: args.throttle_rate,
        },
        timeouts: emulator::Timeouts::default(),
        console: !args.no_console,
        max_connections: args.max_connections,
        cache_bytes: args.cache_mb * 1024 * 1024,
    };
    let rt = tokio::runtime::Runtime::new().context("starting the async runtime")?;
    rt.block_on(async move {
        let mut signals =
            crate::shutdown::Shutdown::install().context("installing signal handlers")?;
        let emulator = Emulator::start(config)
            .await
            .map_err(|e| anyhow::anyhow!("{e}"))?;
        tracing::info!(
            endpoint = %emulator.endpoint(),
            instance = %args.instance,
            access_key_id = %args.access_key_id,
            data_dir = %args.data_dir.display(),
            "Tablestore emulator listening"
        );
        if !args.no_console {
            tracing::info!(url = %emulator.console_url(), "web console (read-only)");
        }
        signals.recv().await;
        tracing::info!("shutting down: finishing in-flight requests");
        emulator.stop().await;
        tracing::info!("emulator stopped");
        Ok(())
    })
}
