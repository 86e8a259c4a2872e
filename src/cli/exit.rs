//! How a command's outcome becomes the process's exit: a failure prints
//! its message alone (with its causes, one line each), never a stack
//! backtrace, whatever `RUST_BACKTRACE` says: backtraces are for bugs,
//! which are panics (Rust's panic hook prints those, exit status 101).
//!
//! | status | meaning |
//! |---|---|
//! | 0 | success |
//! | 1 | the command failed at run time (a broker or Tablestore refused, a resource is missing, ...) |
//! | 2 | bad command-line arguments ([`UsageError`], and clap's own) |
//! | 78 | the configuration file is invalid ([`ConfigError`]; `EX_CONFIG` of sysexits.h) |
//! | 101 | a bug: a panic |
//! | 130 | `status --watch` ended by a signal, SIGINT or SIGTERM (130 = 128 + SIGINT, what a shell reports for Ctrl-C) |

use std::process::ExitCode;

use crate::config::ConfigError;

/// A command-line argument with a value the command cannot use (clap
/// checked its syntax).
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct UsageError(pub String);

/// Exit status for runtime failures.
pub const FAILURE: u8 = 1;
/// Exit status for bad arguments (as clap uses).
pub const USAGE: u8 = 2;
/// Exit status for an invalid configuration.
pub const CONFIG: u8 = 78;
/// Exit status of a watch ended by SIGINT or SIGTERM (128 + SIGINT).
pub const INTERRUPTED: i32 = 130;

/// The exit status for `error`, classified by its type.
pub fn status_of(error: &anyhow::Error) -> u8 {
    if error.chain().any(|e| e.is::<ConfigError>()) {
        CONFIG
    } else if error.chain().any(|e| e.is::<UsageError>()) {
        USAGE
    } else {
        FAILURE
    }
}

/// The message for `error`: the error, then each cause on its own line.
pub fn message_of(error: &anyhow::Error) -> String {
    let mut out = format!("error: {error}");
    for cause in error.chain().skip(1) {
        out.push_str(&format!("\n  caused by: {cause}"));
    }
    out
}

/// Prints a failure (message only) and returns the exit code.
pub fn finish(result: anyhow::Result<()>) -> ExitCode {
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("{}", message_of(&error));
            ExitCode::from(status_of(&error))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_are_classified_by_type() {
        let config = anyhow::Error::new(ConfigError::invalid("kafka.topic", "", "x"));
        assert_eq!(status_of(&config), CONFIG);
        assert_eq!(
            status_of(&config.context("loading the configuration")),
            CONFIG,
            "through context"
        );
        assert_eq!(status_of(&UsageError("--rate".into()).into()), USAGE);
        assert_eq!(status_of(&anyhow::anyhow!("broker refused")), FAILURE);
    }

    #[test]
    fn the_message_has_no_backtrace_and_lists_causes() {
        let e = anyhow::Error::new(ConfigError::invalid("kafka.topic", "", "a topic name"))
            .context("checking config.toml");
        assert_eq!(
            message_of(&e),
            "error: checking config.toml\n  caused by: kafka.topic = \"\": a topic name"
        );
    }
}
