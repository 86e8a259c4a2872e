//! `tablestore-sink run --config FILE`: the sink daemon.

use std::path::PathBuf;

#[derive(clap::Args, Debug)]
pub struct RunArgs {
    /// The TOML configuration file (see config/example.toml).
    #[arg(long, short)]
    pub config: PathBuf,
}

pub fn run(args: RunArgs) -> anyhow::Result<()> {
    let config = crate::config::load(&args.config)?;
    // Once, at startup: settings that drop or change data unexpectedly.
    for warning in config.warnings() {
        tracing::warn!(setting = warning.key, "{}", warning.text);
    }
    crate::sink::run(config)
}
