//! `tablestore-sink send`: the product page's "send a test message" — to
//! the configured source topic: one message (`--value`, or `--tombstone`
//! for none), `--count` copies, or one per line of `--file` (values, or
//! key/value lines with `--key-separator`), each with the `--header`s
//! given; waits for every acknowledgement.

use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context as _;
use rdkafka::message::{Header, OwnedHeaders};
use rdkafka::producer::{FutureProducer, FutureRecord};

use super::exit::UsageError;

#[derive(clap::Args, Debug)]
pub struct SendArgs {
    /// The TOML configuration file (its kafka section is used).
    #[arg(long, short)]
    pub config: PathBuf,
    /// Message key (omit for none).
    #[arg(long)]
    pub key: Option<String>,
    /// Message value; `--file` sends one message per line instead.
    #[arg(long, required_unless_present_any = ["file", "tombstone"])]
    pub value: Option<String>,
    /// Send a tombstone: the key with no value (deletes the row with
    /// primary_key_mode = "record_key" and delete_mode "row" or
    /// "row_and_column").
    #[arg(long, conflicts_with_all = ["value", "file"], requires = "key")]
    pub tombstone: bool,
    /// A header NAME=VALUE, repeatable.
    #[arg(long = "header", value_name = "NAME=VALUE")]
    pub headers: Vec<String>,
    /// Send to this partition (default: by key hash).
    #[arg(long)]
    pub partition: Option<i32>,
    /// How many copies of the message (or of the file) to send.
    #[arg(long, default_value_t = 1)]
    pub count: u64,
    /// Send one message per non-empty line of this file.
    #[arg(long, conflicts_with = "value")]
    pub file: Option<PathBuf>,
    /// With `--file`: each line is KEY, this separator, VALUE (split at the
    /// first separator); a line ending right after it is a tombstone. `\t`
    /// means a tab.
    #[arg(long, requires = "file", value_name = "SEP")]
    pub key_separator: Option<String>,
}

/// One message to send: `None` for no key / no value (a tombstone).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Outgoing {
    pub key: Option<String>,
    pub value: Option<String>,
}

/// `NAME=VALUE` headers, in order.
pub fn parse_headers(headers: &[String]) -> Result<Vec<(String, String)>, UsageError> {
    headers
        .iter()
        .map(|h| match h.split_once('=') {
            Some((name, value)) if !name.is_empty() => Ok((name.to_owned(), value.to_owned())),
            _ => Err(UsageError(format!(
                "--header {h:?} is not NAME=VALUE: write e.g. --header trace-id=abc123"
            ))),
        })
        .collect()
}

/// The messages of a file: one per non-empty line, the line being the
/// value (with `key`), or with `separator` the key and the value.
pub fn parse_file(
    text: &str,
    key: Option<&str>,
    separator: Option<&str>,
) -> Result<Vec<Outgoing>, UsageError> {
    let separator = separator.map(|s| if s == "\\t" { "\t" } else { s });
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        out.push(match separator {
            None => Outgoing {
                key: key.map(str::to_owned),
                value: Some(line.to_owned()),
            },
            Some("") => {
                return Err(UsageError(
                    "--key-separator is empty: give the character between key and value, e.g. \"\\t\" or \"|\"".into(),
                ))
            }
            Some(sep) => {
                let Some((k, v)) = line.split_once(sep) else {
                    return Err(UsageError(format!(
                        "line {} of the file has no key separator {sep:?}: write KEY{sep}VALUE (or KEY{sep} for a tombstone)",
                        i + 1
                    )));
                };
                Outgoing {
                    key: Some(k.to_owned()),
                    value: (!v.is_empty()).then(|| v.to_owned()),
                }
            }
        });
    }
    Ok(out)
}

pub fn run(args: SendArgs) -> anyhow::Result<()> {
    let config = crate::config::load(&args.config)?;
    let headers = parse_headers(&args.headers)?;
    let messages: Vec<Outgoing> = match &args.file {
        Some(f) => parse_file(
            &std::fs::read_to_string(f).with_context(|| format!("reading {}", f.display()))?,
            args.key.as_deref(),
            args.key_separator.as_deref(),
        )?,
        None => vec![Outgoing {
            key: args.key.clone(),
            value: if args.tombstone {
                None
            } else {
                args.value.clone()
            },
        }],
    };
    crate::kafka::access::check(&config)?;
    let topic = config.kafka.topic.clone();
    let rt = tokio::runtime::Runtime::new()?;
    rt.block_on(async move {
        let producer: FutureProducer = crate::kafka::producer_config(&config).create()?;
        let mut sends = Vec::new();
        for _ in 0..args.count {
            for m in &messages {
                let mut record: FutureRecord<'_, str, str> = FutureRecord::to(&topic);
                if let Some(v) = &m.value {
                    record = record.payload(v.as_str());
                }
                if let Some(k) = &m.key {
                    record = record.key(k.as_str());
                }
                if let Some(p) = args.partition {
                    record = record.partition(p);
                }
                if !headers.is_empty() {
                    let mut h = OwnedHeaders::new_with_capacity(headers.len());
                    for (name, value) in &headers {
                        h = h.insert(Header {
                            key: name,
                            value: Some(value.as_str()),
                        });
                    }
                    record = record.headers(h);
                }
                sends.push(producer.send(record, Duration::from_secs(30)));
            }
        }
        let total = sends.len();
        let mut last = None;
        for s in sends {
            let delivery = s
                .await
                .map_err(|(e, _)| anyhow::anyhow!("sending to {topic}: {e}"))?;
            last = Some((delivery.partition, delivery.offset));
        }
        if let Some((p, o)) = last {
            println!("sent {total} message(s) to {topic}; last at partition {p} offset {o}");
        }
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn out(key: Option<&str>, value: Option<&str>) -> Outgoing {
        Outgoing {
            key: key.map(String::from),
            value: value.map(String::from),
        }
    }

    #[test]
    fn headers_are_name_value_pairs() {
        assert_eq!(
            parse_headers(&["a=1".into(), "trace=x=y".into(), "empty=".into()]).unwrap(),
            [
                ("a".into(), "1".into()),
                ("trace".into(), "x=y".into()),
                ("empty".into(), "".into())
            ]
        );
        assert!(parse_headers(&["novalue".into()])
            .unwrap_err()
            .0
            .contains("NAME=VALUE"));
        assert!(parse_headers(&["=v".into()]).is_err());
    }

    #[test]
    fn value_files_use_the_key_given() {
        assert_eq!(
            parse_file("{\"a\":1}\n\n  \n{\"a\":2}\n", Some("k"), None).unwrap(),
            [
                out(Some("k"), Some("{\"a\":1}")),
                out(Some("k"), Some("{\"a\":2}"))
            ]
        );
    }

    #[test]
    fn key_value_files_split_at_the_first_separator_and_allow_tombstones() {
        assert_eq!(
            parse_file("k1\t{\"a\":\"x\ty\"}\nk2\t\n", None, Some("\\t")).unwrap(),
            [
                out(Some("k1"), Some("{\"a\":\"x\ty\"}")),
                out(Some("k2"), None)
            ]
        );
        assert_eq!(
            parse_file("k1|v|w\n", None, Some("|")).unwrap(),
            [out(Some("k1"), Some("v|w"))]
        );
        let e = parse_file("k1|v\nno separator\n", None, Some("|")).unwrap_err();
        assert!(
            e.0.starts_with("line 2 of the file has no key separator \"|\""),
            "{}",
            e.0
        );
        assert!(parse_file("x", None, Some("")).is_err());
    }
}
