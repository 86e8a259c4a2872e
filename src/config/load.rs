//! Reading the file: `${NAME}` substitution, TOML parsing, validation.

use std::path::Path;

use super::validate::ConfigError;
use super::Config;

/// Replaces every `${NAME}` with the environment variable's value; a
/// missing variable is an error naming it and the line.
pub fn substitute_env(text: &str) -> Result<String, ConfigError> {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find("${") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let end = after.find('}').ok_or_else(|| ConfigError::Env {
            name: after.chars().take(20).collect(),
            line: line_of(text, text.len() - after.len()),
            problem: "has no closing '}'".into(),
        })?;
        let name = &after[..end];
        let value = std::env::var(name).map_err(|_| ConfigError::Env {
            name: name.into(),
            line: line_of(text, text.len() - after.len()),
            problem: "is not set in the environment".into(),
        })?;
        out.push_str(&value);
        rest = &after[end + 1..];
    }
    out.push_str(rest);
    Ok(out)
}

fn line_of(text: &str, byte: usize) -> usize {
    text[..byte.min(text.len())].matches('\n').count() + 1
}

/// Loads, substitutes, parses and validates a config file.
pub fn load(path: &Path) -> Result<Config, ConfigError> {
    let text = std::fs::read_to_string(path).map_err(|e| ConfigError::Read {
        path: path.display().to_string(),
        error: e.to_string(),
    })?;
    let text = substitute_env(&text)?;
    let config: Config = toml::from_str(&text).map_err(|e| ConfigError::Parse {
        path: path.display().to_string(),
        error: e.to_string(),
    })?;
    config.validate()?;
    Ok(config)
}
