//! The `tablestore-sink` command line: one subcommand per file.

mod check;
mod emulator;
pub mod exit;
mod load;
mod query;
mod run;
mod send;
mod status;

use clap::{Parser, Subcommand};

use crate::logging::{self, LogFormat};

#[derive(Parser, Debug)]
#[command(
    name = "tablestore-sink",
    version,
    about = "Stream Kafka topics into Alibaba Cloud Tablestore"
)]
pub struct Cli {
    /// Log format on stderr.
    #[arg(long, global = true, value_enum, default_value = "text")]
    pub log_format: LogFormat,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Run the sink: consume the configured topic and write to Tablestore.
    Run(run::RunArgs),
    /// Validate a configuration file without running.
    Check(check::CheckArgs),
    /// Send test messages to the configured source topic.
    Send(send::SendArgs),
    /// Show what landed in the table (rows, or series with their latest points).
    Query(query::QueryArgs),
    /// Per-partition state, committed offset, lag and last error.
    Status(status::StatusArgs),
    /// Generate load on the source topic and report throughput and latency.
    Load(load::LoadArgs),
    /// Run a local Tablestore emulator that speaks the real wire protocol.
    Emulator(emulator::EmulatorArgs),
}

/// Parses arguments, runs the chosen subcommand, and turns its outcome
/// into the exit status ([`exit`]).
pub fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    logging::init(cli.log_format);
    exit::finish(run_command(cli.command))
}

fn run_command(command: Command) -> anyhow::Result<()> {
    match command {
        Command::Run(args) => run::run(args),
        Command::Check(args) => check::run(args),
        Command::Send(args) => send::run(args),
        Command::Query(args) => query::run(args),
        Command::Status(args) => status::run(args),
        Command::Load(args) => load::run(args),
        Command::Emulator(args) => emulator::run(args),
    }
}
