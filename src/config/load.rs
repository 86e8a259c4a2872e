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
        error: describe_without_source(&text, &e),
    })?;
    config.validate()?;
    Ok(config)
}

/// A TOML error as "line N, column M: message", without the quoted source
/// line: after `${ENV}` substitution that line may hold a secret.
fn describe_without_source(text: &str, e: &toml::de::Error) -> String {
    match e.span() {
        Some(span) => {
            let before = &text[..span.start.min(text.len())];
            let line = before.matches('\n').count() + 1;
            let column = before.len() - before.rfind('\n').map_or(0, |i| i + 1) + 1;
            format!("line {line}, column {column}: {}", e.message().trim_end())
        }
        None => e.message().trim_end().to_owned(),
    }
}

#[cfg(test)]
mod secret_tests {
    use super::*;

    #[test]
    fn parse_errors_never_quote_the_substituted_text() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("c.toml");
        // SAFETY: a unique variable name, set before it is read in this test.
        unsafe { std::env::set_var("TSS_TEST_SECRET_FOR_PARSE_ERROR", "hunter2-secret") };
        std::fs::write(
            &path,
            "[connector]\nname = \"x\"\npassword = ${TSS_TEST_SECRET_FOR_PARSE_ERROR}\n",
        )
        .unwrap();
        let err = load(&path).unwrap_err().to_string();
        assert!(!err.contains("hunter2"), "{err}");
        assert!(err.contains("line 3"), "{err}");
    }
}
