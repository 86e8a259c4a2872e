//! A local Tablestore emulator that speaks the real wire protocol, so the
//! official SDKs and our own client can run against it without a cloud
//! account.
//!
//! * [`server`]: HTTP/1.1, auth ([`auth`]), fault injection, response
//!   headers and signatures; [`connections`] admits connections (evicting
//!   idle ones when full); hostile input is bounded before it is built
//!   ([`wire_limits`], [`nesting`]) and escaped before it is logged
//!   ([`log_text`]);
//! * [`api`]: action dispatch to [`ddl`], [`rows`], [`batch_get`], [`range`],
//!   [`timeseries`]; [`read`] parses what a read asks for, [`filter`]
//!   evaluates filters and column conditions, [`capacity`] bills CUs;
//! * [`store`]: durable redb storage with group commit; [`keycodec`] makes
//!   its byte order Tablestore's primary-key order; [`catalog`] holds the
//!   schemas; [`cells`] versions, TTL and max_versions; [`validate`] the
//!   service limits.
//!
//! Not supported (answered with OTSParameterInvalid "Unsupported operation"
//! or a specific message): secondary/search indexes, SQL, streams, local
//! transactions, regex filters, custom TimeSeries keys. README.md has the
//! action-by-action support table.

pub mod api;
pub mod api_error;
pub mod auth;
pub mod batch_get;
pub mod capacity;
pub mod catalog;
pub mod cells;
pub mod connections;
pub mod console;
pub mod ddl;
pub mod filter;
pub mod keycodec;
pub mod log_text;
pub mod nesting;
pub mod range;
pub mod read;
pub mod request_log;
pub mod rows;
pub mod server;
pub mod store;
pub mod table_admin;
pub mod timeseries;
pub mod validate;
pub mod wire_limits;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

pub use api_error::ApiError;
pub use auth::Credentials;
pub use server::{Faults, Timeouts};

/// Everything needed to run an emulator.
#[derive(Clone, Debug)]
pub struct EmulatorConfig {
    pub listen: SocketAddr,
    pub data_dir: PathBuf,
    pub credentials: Credentials,
    pub faults: Faults,
    /// How long clients may take to send request heads and bodies.
    pub timeouts: Timeouts,
    /// Serve the read-only web console under `/console/` (unauthenticated:
    /// turn it off when listening beyond loopback).
    pub console: bool,
    /// Connections served at once. When full, a new connection evicts the
    /// oldest idle one; it waits only while every connection runs a request.
    pub max_connections: usize,
    /// redb page cache; bounds memory together with `max_connections`
    /// × the 5 MB body limit.
    pub cache_bytes: usize,
}

impl EmulatorConfig {
    /// The documented defaults: `127.0.0.1:8800`, instance `local`,
    /// access key `local-ak` / `local-secret`.
    pub fn new(data_dir: impl Into<PathBuf>) -> Self {
        EmulatorConfig {
            listen: "127.0.0.1:8800".parse().expect("static address"),
            data_dir: data_dir.into(),
            credentials: Credentials {
                instance: DEFAULT_INSTANCE.into(),
                access_key_id: DEFAULT_ACCESS_KEY_ID.into(),
                access_key_secret: DEFAULT_ACCESS_KEY_SECRET.into(),
            },
            faults: Faults::default(),
            timeouts: Timeouts::default(),
            console: true,
            max_connections: 256,
            cache_bytes: 64 * 1024 * 1024,
        }
    }
}

pub const DEFAULT_INSTANCE: &str = "local";
pub const DEFAULT_ACCESS_KEY_ID: &str = "local-ak";
pub const DEFAULT_ACCESS_KEY_SECRET: &str = "local-secret";

/// A running emulator. Dropping it without [`Emulator::stop`] aborts it.
pub struct Emulator {
    /// The bound address (useful with port 0).
    pub addr: SocketAddr,
    /// Closed after the server stops, releasing the data dir.
    store: Option<store::Store>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<()>>,
}

impl Emulator {
    /// Opens the store, binds, and serves in a background task.
    pub async fn start(config: EmulatorConfig) -> Result<Emulator, ApiError> {
        let store = store::Store::open(&config.data_dir, config.cache_bytes)?;
        let listener = tokio::net::TcpListener::bind(config.listen)
            .await
            .map_err(|e| ApiError::internal(format!("binding {}: {e}", config.listen)))?;
        let addr = listener
            .local_addr()
            .map_err(|e| ApiError::internal(e.to_string()))?;
        let state = Arc::new(server::State {
            store: store.clone(),
            credentials: config.credentials,
            faults: config.faults,
            timeouts: config.timeouts,
            requests: Default::default(),
            console: config.console,
        });
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let max = config.max_connections;
        let task = tokio::spawn(async move {
            server::serve(listener, state, max, async {
                let _ = rx.await;
            })
            .await
        });
        Ok(Emulator {
            addr,
            store: Some(store),
            stop: Some(tx),
            task: Some(task),
        })
    }

    /// `http://addr`, for clients.
    pub fn endpoint(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Where the web console is (when enabled).
    pub fn console_url(&self) -> String {
        format!("http://{}/console/", self.addr)
    }

    /// Stops accepting, finishes in-flight requests, commits, returns.
    pub async fn stop(mut self) {
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(());
        }
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
        if let Some(store) = self.store.take() {
            let _ = tokio::task::spawn_blocking(move || store.close()).await;
        }
    }
}

impl Drop for Emulator {
    fn drop(&mut self) {
        if let Some(task) = self.task.take() {
            task.abort();
        }
    }
}
