//! Error records: messages that failed conversion go to the dead-letter
//! topic, rows Tablestore rejected go to the error topic. Both keep the
//! original key, value, headers and timestamp byte for byte and add
//! headers with the reason and the source coordinates. A record is retried
//! until Kafka acknowledges it: its offset only completes then.

use std::sync::Arc;
use std::time::Duration;

use rdkafka::message::{Header, Headers, Message as _, OwnedHeaders, OwnedMessage};
use rdkafka::producer::{FutureProducer, FutureRecord};

use crate::config::Config;

pub const HEADER_STAGE: &str = "tablestore_sink.error.stage";
pub const HEADER_CODE: &str = "tablestore_sink.error.code";
pub const HEADER_REASON: &str = "tablestore_sink.error.reason";
pub const HEADER_TOPIC: &str = "tablestore_sink.source.topic";
pub const HEADER_PARTITION: &str = "tablestore_sink.source.partition";
pub const HEADER_OFFSET: &str = "tablestore_sink.source.offset";
pub const HEADER_CONNECTOR: &str = "tablestore_sink.connector";

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

#[derive(Clone)]
pub struct DeadLetters {
    producer: FutureProducer,
    connector: Arc<str>,
    dead_letter_topic: Arc<str>,
    error_topic: Arc<str>,
}

impl DeadLetters {
    pub fn new(config: &Config, producer: FutureProducer) -> Self {
        DeadLetters {
            producer,
            connector: config.connector.name.as_str().into(),
            dead_letter_topic: config.dead_letter_topic().into(),
            error_topic: config.error_topic().into(),
        }
    }

    fn headers(&self, stage: Stage, m: &OwnedMessage, code: &str, reason: &str) -> OwnedHeaders {
        let mut h = OwnedHeaders::new();
        if let Some(original) = m.headers() {
            for header in original.iter() {
                h = h.insert(Header {
                    key: header.key,
                    value: header.value,
                });
            }
        }
        let partition = m.partition().to_string();
        let offset = m.offset().to_string();
        for (key, value) in [
            (HEADER_STAGE, stage.as_str()),
            (HEADER_CODE, code),
            (HEADER_REASON, reason),
            (HEADER_TOPIC, m.topic()),
            (HEADER_PARTITION, &partition),
            (HEADER_OFFSET, &offset),
            (HEADER_CONNECTOR, &self.connector),
        ] {
            h = h.insert(Header {
                key,
                value: Some(value),
            });
        }
        h
    }

    /// Produces the error record, retrying until Kafka acknowledges it.
    pub async fn send(&self, stage: Stage, message: &OwnedMessage, code: &str, reason: &str) {
        let topic = match stage {
            Stage::Convert => &self.dead_letter_topic,
            Stage::Write => &self.error_topic,
        };
        let headers = self.headers(stage, message, code, reason);
        let mut delay = Duration::from_millis(100);
        loop {
            let mut record: FutureRecord<'_, [u8], [u8]> =
                FutureRecord::to(topic).headers(headers.clone());
            if let Some(k) = message.key() {
                record = record.key(k);
            }
            if let Some(v) = message.payload() {
                record = record.payload(v);
            }
            if let Some(ts) = message.timestamp().to_millis() {
                record = record.timestamp(ts);
            }
            match self.producer.send(record, Duration::from_secs(30)).await {
                Ok(_) => return,
                Err((e, _)) => {
                    tracing::warn!(topic = %topic, error = %e, source_offset = message.offset(), "error record not acknowledged; retrying");
                    tokio::time::sleep(delay).await;
                    delay = (delay * 2).min(Duration::from_secs(10));
                }
            }
        }
    }
}
