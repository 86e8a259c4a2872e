//! `[tablestore]`: where rows go.

use std::net::SocketAddr;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use super::secret::Secret;

/// `endpoint = "embedded"` runs the emulator inside the sink process.
pub const EMBEDDED: &str = "embedded";

#[derive(Clone, Copy, Debug, Default, Deserialize, Serialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum Model {
    #[default]
    WideColumn,
    Timeseries,
}

#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct TablestoreConfig {
    /// Required: "embedded" or an http(s) URL such as
    /// `https://inst.cn-hangzhou.ots.aliyuncs.com`. No default: a
    /// production config that forgot it would otherwise consume, commit
    /// and write into a local directory. (Empty when absent, so `validate`
    /// can say how to fix it.)
    #[serde(default)]
    pub endpoint: String,
    /// Data directory of the embedded emulator.
    #[serde(default = "default_data_dir")]
    pub data_dir: PathBuf,
    /// Listen address of the embedded emulator, so `query` and the SDKs
    /// can read while the sink runs.
    #[serde(default = "default_embedded_listen")]
    pub embedded_listen: SocketAddr,
    #[serde(default = "default_instance")]
    pub instance: String,
    #[serde(default = "default_access_key_id")]
    pub access_key_id: String,
    #[serde(default = "default_access_key_secret")]
    pub access_key_secret: Secret,
    /// Destination table.
    pub table: String,
    /// Create the table when it does not exist.
    #[serde(default = "default_true")]
    pub auto_create_table: bool,
    #[serde(default)]
    pub model: Model,
}

pub fn default_data_dir() -> PathBuf {
    PathBuf::from("./data/tablestore")
}
pub fn default_embedded_listen() -> SocketAddr {
    "127.0.0.1:8800".parse().expect("static address")
}
pub fn default_instance() -> String {
    crate::emulator::DEFAULT_INSTANCE.into()
}
pub fn default_access_key_id() -> String {
    crate::emulator::DEFAULT_ACCESS_KEY_ID.into()
}
pub fn default_access_key_secret() -> Secret {
    Secret::new(crate::emulator::DEFAULT_ACCESS_KEY_SECRET)
}
fn default_true() -> bool {
    true
}

impl TablestoreConfig {
    pub fn is_embedded(&self) -> bool {
        self.endpoint == EMBEDDED
    }
}
