//! The Tablestore the sink writes to: a remote endpoint, or the emulator
//! started in-process (`endpoint = "embedded"`) and listening on
//! `embedded_listen`, so `query` and the SDKs can read while the sink runs.

use std::time::Duration;

use anyhow::Context as _;

use crate::config::{Config, TablestoreConfig};
use crate::emulator::{Credentials, Emulator, EmulatorConfig};
use crate::tablestore::{Client, ClientConfig};

pub struct Destination {
    pub client: Client,
    /// Present when embedded; stopped after the sink drains.
    pub embedded: Option<Emulator>,
}

/// The embedded emulator over `data_dir`, listening on `listen`, accepting
/// the configured instance and credentials.
pub fn embedded_emulator(ts: &TablestoreConfig, listen: std::net::SocketAddr) -> EmulatorConfig {
    let mut emu = EmulatorConfig::new(&ts.data_dir);
    emu.listen = listen;
    emu.credentials = Credentials {
        instance: ts.instance.clone(),
        access_key_id: ts.access_key_id.clone(),
        access_key_secret: ts.access_key_secret.expose().to_owned(),
    };
    emu
}

pub async fn connect(config: &Config) -> anyhow::Result<Destination> {
    let ts = &config.tablestore;
    let (endpoint, embedded) = if ts.is_embedded() {
        let emulator = Emulator::start(embedded_emulator(ts, ts.embedded_listen))
            .await
            .map_err(|e| anyhow::anyhow!("{e}"))
            .with_context(|| {
                format!(
                    "starting the embedded Tablestore on {} (data in {})",
                    ts.embedded_listen,
                    ts.data_dir.display()
                )
            })?;
        tracing::info!(endpoint = %emulator.endpoint(), data_dir = %ts.data_dir.display(), "embedded Tablestore listening");
        (emulator.endpoint(), Some(emulator))
    } else {
        (ts.endpoint.clone(), None)
    };
    let mut cc = ClientConfig::new(
        &endpoint,
        &ts.instance,
        &ts.access_key_id,
        ts.access_key_secret.expose(),
    );
    cc.request_timeout = Duration::from_millis(config.writer.request_timeout_ms);
    cc.max_idle_connections = config.writer.max_in_flight_requests.max(4);
    let client = Client::new(cc).map_err(|e| anyhow::anyhow!("{e}"))?;
    Ok(Destination { client, embedded })
}
