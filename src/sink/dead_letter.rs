//! Error records: messages that failed conversion go to the dead-letter
//! topic, rows Tablestore rejected go to the error topic. Both keep the
//! original key, value, headers and timestamp byte for byte and add
//! headers with the reason and the source coordinates. A record is
//! retried until Kafka acknowledges it: its offset only completes then.
//!
//! A record can never wedge its partition for its size. The producer's
//! `message.max.bytes` is sized from the topics' `max.message.bytes`
//! ([`RecordLimits`]); a record that still does not fit is [`fit`]ted:
//! the value is cut (a header says so and gives the original length), and
//! if that is not enough the original headers go too — the source topic,
//! partition, offset and reason always stay, so the original can be found.

use std::sync::Arc;
use std::time::Duration;

use rdkafka::error::{KafkaError, RDKafkaErrorCode};
use rdkafka::message::{Header, Headers, Message as _, OwnedHeaders};

use super::record::SourceRecord;
use rdkafka::producer::{FutureProducer, FutureRecord};

use crate::config::Config;

pub const HEADER_STAGE: &str = "tablestore_sink.error.stage";
pub const HEADER_CODE: &str = "tablestore_sink.error.code";
pub const HEADER_REASON: &str = "tablestore_sink.error.reason";
pub const HEADER_TOPIC: &str = "tablestore_sink.source.topic";
pub const HEADER_PARTITION: &str = "tablestore_sink.source.partition";
pub const HEADER_OFFSET: &str = "tablestore_sink.source.offset";
pub const HEADER_CONNECTOR: &str = "tablestore_sink.connector";
/// Present when the value was cut to fit: `<kept> of <original> bytes`.
pub const HEADER_VALUE_TRUNCATED: &str = "tablestore_sink.value.truncated";
/// Present when the original headers were left out to fit: their count.
pub const HEADER_HEADERS_DROPPED: &str = "tablestore_sink.headers.dropped";
/// Present when the key was cut to fit: `<kept> of <original> bytes`.
pub const HEADER_KEY_TRUNCATED: &str = "tablestore_sink.key.truncated";

/// Kafka's default `max.message.bytes` (broker `message.max.bytes`),
/// assumed when a topic does not say.
pub const DEFAULT_RECORD_LIMIT_BYTES: usize = 1_048_588;
/// Room kept for the record batch and record framing the broker counts.
const FRAMING_BYTES: usize = 512;
/// Per-header framing (varint lengths) counted on top of key and value.
const HEADER_FRAMING_BYTES: usize = 10;
/// Reasons are cut to this many bytes (they quote the data at times).
const MAX_REASON_BYTES: usize = 2_048;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stage {
    /// Conversion failed: dead-letter topic.
    Convert,
    /// Tablestore rejected the row: error topic.
    Write,
}

impl Stage {
    pub fn as_str(self) -> &'static str {
        match self {
            Stage::Convert => "convert",
            Stage::Write => "write",
        }
    }
}

/// The largest record the dead-letter and error topics take.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RecordLimits {
    pub dead_letter_bytes: usize,
    pub error_bytes: usize,
}

impl RecordLimits {
    /// From the topics' `max.message.bytes`, where they say.
    pub fn from_topics(dead_letter: Option<usize>, error: Option<usize>) -> Self {
        RecordLimits {
            dead_letter_bytes: dead_letter.unwrap_or(DEFAULT_RECORD_LIMIT_BYTES),
            error_bytes: error.unwrap_or(DEFAULT_RECORD_LIMIT_BYTES),
        }
    }

    /// The producer's `message.max.bytes`: the larger limit.
    pub fn producer_bytes(&self) -> usize {
        self.dead_letter_bytes.max(self.error_bytes)
    }
}

/// What of the original goes into an error record of at most `limit`
/// bytes.
#[derive(Debug, PartialEq, Eq)]
pub struct Fitted {
    pub key_len: Option<usize>,
    pub value_len: Option<usize>,
    pub keep_original_headers: bool,
    /// Headers to add for what was cut.
    pub notes: Vec<(&'static str, String)>,
}

/// Fits a record of `key`/`value` lengths, `original_headers` bytes of
/// headers and `own_headers` bytes of ours into `limit` bytes, cutting
/// the value first, then the original headers, then the key.
pub fn fit(
    key: Option<usize>,
    value: Option<usize>,
    original_headers: (usize, usize),
    own_headers: usize,
    limit: usize,
) -> Fitted {
    let (orig_count, orig_bytes) = original_headers;
    let budget = limit.saturating_sub(FRAMING_BYTES);
    let note_bytes = 64 + HEADER_FRAMING_BYTES;
    let size = |k: usize, v: usize, h: usize| k + v + h + own_headers;
    let (k, v) = (key.unwrap_or(0), value.unwrap_or(0));
    let mut out = Fitted {
        key_len: key,
        value_len: value,
        keep_original_headers: true,
        notes: Vec::new(),
    };
    if size(k, v, orig_bytes) <= budget {
        return out;
    }
    // 1. Cut the value, if that is enough.
    let without_value = size(k, 0, orig_bytes) + note_bytes;
    if v > 0 && without_value < budget {
        let kept = budget - without_value;
        out.value_len = value.map(|_| kept);
        out.notes
            .push((HEADER_VALUE_TRUNCATED, format!("{kept} of {v} bytes")));
        return out;
    }
    // 2. Drop the value and the original headers.
    if v > 0 {
        out.value_len = value.map(|_| 0);
        out.notes
            .push((HEADER_VALUE_TRUNCATED, format!("0 of {v} bytes")));
    }
    if orig_count > 0 {
        out.keep_original_headers = false;
        out.notes
            .push((HEADER_HEADERS_DROPPED, orig_count.to_string()));
    }
    // 3. Cut the key.
    let fixed = size(0, 0, 0) + (out.notes.len() + 1) * note_bytes;
    let room = budget.saturating_sub(fixed);
    if k > room {
        out.key_len = key.map(|_| room);
        out.notes
            .push((HEADER_KEY_TRUNCATED, format!("{room} of {k} bytes")));
    }
    out
}

fn cut_utf8(s: &str, max: usize) -> &str {
    if s.len() <= max {
        return s;
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}

#[derive(Clone)]
pub struct DeadLetters {
    producer: FutureProducer,
    connector: Arc<str>,
    dead_letter_topic: Arc<str>,
    error_topic: Arc<str>,
    /// Largest record each topic takes (`max.message.bytes`); records
    /// are fitted to it. The producer's `message.max.bytes` is the larger.
    dead_letter_limit_bytes: usize,
    error_limit_bytes: usize,
}

impl DeadLetters {
    /// `limits` are the dead-letter and error topics' record limits.
    pub fn new(config: &Config, producer: FutureProducer, limits: RecordLimits) -> Self {
        DeadLetters {
            producer,
            connector: config.connector.name.as_str().into(),
            dead_letter_topic: config.dead_letter_topic().into(),
            error_topic: config.error_topic().into(),
            dead_letter_limit_bytes: limits.dead_letter_bytes,
            error_limit_bytes: limits.error_bytes,
        }
    }

    fn own_headers(
        &self,
        stage: Stage,
        m: &SourceRecord,
        code: &str,
        reason: &str,
    ) -> Vec<(&'static str, String)> {
        vec![
            (HEADER_STAGE, stage.as_str().to_owned()),
            (HEADER_CODE, code.to_owned()),
            (HEADER_REASON, cut_utf8(reason, MAX_REASON_BYTES).to_owned()),
            (HEADER_TOPIC, m.topic().to_owned()),
            (HEADER_PARTITION, m.partition().to_string()),
            (HEADER_OFFSET, m.offset().to_string()),
            (HEADER_CONNECTOR, self.connector.to_string()),
        ]
    }

    /// Produces the error record, retrying until Kafka acknowledges it;
    /// cuts it (see [`fit`]) if it is too large for the topic.
    pub async fn send(&self, stage: Stage, message: &SourceRecord, code: &str, reason: &str) {
        let (topic, mut limit) = match stage {
            Stage::Convert => (&self.dead_letter_topic, self.dead_letter_limit_bytes),
            Stage::Write => (&self.error_topic, self.error_limit_bytes),
        };
        let own = self.own_headers(stage, message, code, reason);
        let own_bytes: usize = own
            .iter()
            .map(|(k, v)| k.len() + v.len() + HEADER_FRAMING_BYTES)
            .sum();
        let original: Vec<(String, Option<Vec<u8>>)> = message
            .headers()
            .map(|h| {
                h.iter()
                    .map(|h| (h.key.to_owned(), h.value.map(<[u8]>::to_vec)))
                    .collect()
            })
            .unwrap_or_default();
        let original_bytes: usize = original
            .iter()
            .map(|(k, v)| k.len() + v.as_ref().map_or(0, Vec::len) + HEADER_FRAMING_BYTES)
            .sum();
        let mut delay = Duration::from_millis(100);
        loop {
            let fitted = fit(
                message.key().map(<[u8]>::len),
                message.payload().map(<[u8]>::len),
                (original.len(), original_bytes),
                own_bytes,
                limit,
            );
            if !fitted.notes.is_empty() {
                tracing::warn!(topic = %topic, source_offset = message.offset(), limit_bytes = limit, cut = ?fitted.notes, "error record too large for its topic; sending it cut to fit");
            }
            let mut headers = OwnedHeaders::new();
            if fitted.keep_original_headers {
                for (k, v) in &original {
                    headers = headers.insert(Header {
                        key: k,
                        value: v.as_deref(),
                    });
                }
            }
            for (k, v) in own
                .iter()
                .map(|(k, v)| (*k, v))
                .chain(fitted.notes.iter().map(|(k, v)| (*k, v)))
            {
                headers = headers.insert(Header {
                    key: k,
                    value: Some(v.as_bytes()),
                });
            }
            let mut record: FutureRecord<'_, [u8], [u8]> = FutureRecord::to(topic).headers(headers);
            if let (Some(k), Some(n)) = (message.key(), fitted.key_len) {
                record = record.key(&k[..n]);
            }
            if let (Some(v), Some(n)) = (message.payload(), fitted.value_len) {
                record = record.payload(&v[..n]);
            }
            if let Some(ts) = message.timestamp().to_millis() {
                record = record.timestamp(ts);
            }
            match self.producer.send(record, Duration::from_secs(30)).await {
                Ok(_) => return,
                Err((KafkaError::MessageProduction(code), _)) if is_too_large(code) => {
                    // The broker's limit is lower than the topic said: halve ours.
                    limit = (limit / 2).max(4 * 1024);
                    tracing::warn!(topic = %topic, source_offset = message.offset(), error = %code, limit_bytes = limit, "error record rejected as too large; cutting it further");
                }
                Err((e, _)) => {
                    tracing::warn!(topic = %topic, error = %e, source_offset = message.offset(), "error record not acknowledged; retrying");
                    tokio::time::sleep(delay).await;
                    delay = (delay * 2).min(Duration::from_secs(10));
                }
            }
        }
    }
}

fn is_too_large(code: RDKafkaErrorCode) -> bool {
    matches!(
        code,
        RDKafkaErrorCode::MessageSizeTooLarge | RDKafkaErrorCode::InvalidMessageSize
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    const MIB: usize = 1024 * 1024;

    #[test]
    fn a_record_that_fits_is_sent_whole() {
        let f = fit(Some(10), Some(1000), (2, 50), 300, MIB);
        assert_eq!(f.key_len, Some(10));
        assert_eq!(f.value_len, Some(1000));
        assert!(f.keep_original_headers && f.notes.is_empty());
    }

    #[test]
    fn a_large_value_is_cut_to_fit_and_says_so() {
        let f = fit(Some(10), Some(3 * MIB / 2), (2, 50), 300, MIB);
        let kept = f.value_len.unwrap();
        assert!(kept > MIB - 2048 && kept < MIB, "{kept}");
        assert!(10 + kept + 50 + 300 + 512 <= MIB);
        assert!(f.keep_original_headers);
        assert_eq!(f.notes.len(), 1);
        assert_eq!(f.notes[0].0, HEADER_VALUE_TRUNCATED);
        assert_eq!(f.notes[0].1, format!("{kept} of {} bytes", 3 * MIB / 2));
    }

    #[test]
    fn huge_headers_are_dropped_and_a_huge_key_is_cut() {
        let f = fit(Some(10), Some(100), (3, 2 * MIB), 300, MIB);
        assert_eq!(f.value_len, Some(0));
        assert!(!f.keep_original_headers);
        assert!(f
            .notes
            .iter()
            .any(|(k, v)| *k == HEADER_HEADERS_DROPPED && v == "3"));
        let f = fit(Some(2 * MIB), None, (0, 0), 300, MIB);
        let kept = f.key_len.unwrap();
        assert!(kept < MIB && kept > MIB / 2);
        assert_eq!(f.value_len, None, "a null value stays null");
        assert!(f.notes.iter().any(|(k, _)| *k == HEADER_KEY_TRUNCATED));
    }

    #[test]
    fn reasons_are_cut_on_a_character_boundary() {
        let s = "é".repeat(2_000);
        let cut = cut_utf8(&s, MAX_REASON_BYTES);
        assert!(cut.len() <= MAX_REASON_BYTES && cut.is_char_boundary(cut.len()));
    }
}
