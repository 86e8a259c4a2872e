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
    crate::sink::run(config)
}
