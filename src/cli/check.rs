//! `tablestore-sink check --config FILE`: validates the configuration
//! without running anything, prints it with secrets redacted and every
//! default filled in, then what the settings do where that is not obvious
//! (notes and warnings, [`Config::explain`](crate::config::Config::explain)).

use std::path::PathBuf;

#[derive(clap::Args, Debug)]
pub struct CheckArgs {
    /// The TOML configuration file.
    #[arg(long, short)]
    pub config: PathBuf,
}

pub fn run(args: CheckArgs) -> anyhow::Result<()> {
    let config = crate::config::load(&args.config)?;
    println!("{}", serde_json::to_string_pretty(&config.redacted_json())?);
    for explanation in config.explain() {
        println!("{explanation}");
    }
    println!(
        "configuration OK: connector {:?}, group {:?}, topic {:?} -> {} table {:?}",
        config.connector.name,
        config.group(),
        config.kafka.topic,
        match config.tablestore.model {
            crate::config::Model::WideColumn => "Wide Column",
            crate::config::Model::Timeseries => "TimeSeries",
        },
        config.tablestore.table
    );
    Ok(())
}
