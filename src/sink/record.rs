//! The sink's copy of one Kafka message, taken when it is polled and kept
//! until its write is acknowledged (for the error topic, should Tablestore
//! reject it).
//!
//! rdkafka's `OwnedMessage` costs three allocations per message (topic
//! name, key, value) and 112 bytes that every queue moves. Here the key and
//! the value share one allocation, the topic name is the partition's
//! shared `Arc<str>`, and headers are copied only when there are any. It
//! implements rdkafka's [`Message`], so it reads like any message.

use std::sync::Arc;

use rdkafka::message::{BorrowedMessage, Message, OwnedHeaders, Timestamp};

pub struct SourceRecord {
    /// The key's bytes, then the value's.
    bytes: Box<[u8]>,
    /// `None`: the message has no key (not the same as an empty one).
    key_len: Option<u32>,
    /// `false`: no value at all (a tombstone), not an empty one.
    has_value: bool,
    topic: Arc<str>,
    partition: i32,
    offset: i64,
    timestamp: Timestamp,
    headers: Option<OwnedHeaders>,
}

impl SourceRecord {
    pub fn new(
        key: Option<&[u8]>,
        value: Option<&[u8]>,
        topic: Arc<str>,
        timestamp: Timestamp,
        partition: i32,
        offset: i64,
        headers: Option<OwnedHeaders>,
    ) -> Self {
        let key_bytes = key.unwrap_or_default();
        let value_bytes = value.unwrap_or_default();
        let mut bytes = Vec::with_capacity(key_bytes.len() + value_bytes.len());
        bytes.extend_from_slice(key_bytes);
        bytes.extend_from_slice(value_bytes);
        SourceRecord {
            bytes: bytes.into_boxed_slice(),
            // Kafka caps a record far below 4 GiB.
            key_len: key.map(|k| k.len() as u32),
            has_value: value.is_some(),
            topic,
            partition,
            offset,
            timestamp,
            headers,
        }
    }

    /// Copies a polled message; `topic` is its partition's name, shared.
    pub fn copy_of(m: &BorrowedMessage<'_>, topic: &Arc<str>) -> Self {
        SourceRecord::new(
            m.key(),
            m.payload(),
            topic.clone(),
            m.timestamp(),
            m.partition(),
            m.offset(),
            m.headers().map(|h| h.detach()),
        )
    }

    fn key_end(&self) -> usize {
        self.key_len.map_or(0, |n| n as usize)
    }
}

impl Message for SourceRecord {
    type Headers = OwnedHeaders;

    fn key(&self) -> Option<&[u8]> {
        self.key_len.map(|_| &self.bytes[..self.key_end()])
    }

    fn payload(&self) -> Option<&[u8]> {
        self.has_value.then(|| &self.bytes[self.key_end()..])
    }

    unsafe fn payload_mut(&mut self) -> Option<&mut [u8]> {
        let start = self.key_end();
        self.has_value.then(|| &mut self.bytes[start..])
    }

    fn topic(&self) -> &str {
        &self.topic
    }

    fn partition(&self) -> i32 {
        self.partition
    }

    fn offset(&self) -> i64 {
        self.offset
    }

    fn timestamp(&self) -> Timestamp {
        self.timestamp
    }

    fn headers(&self) -> Option<&OwnedHeaders> {
        self.headers.as_ref()
    }
}

impl std::fmt::Debug for SourceRecord {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SourceRecord")
            .field("topic", &self.topic)
            .field("partition", &self.partition)
            .field("offset", &self.offset)
            .field("key_bytes", &self.key().map(<[u8]>::len))
            .field("value_bytes", &self.payload().map(<[u8]>::len))
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rdkafka::message::{Header, Headers as _};

    fn record(key: Option<&[u8]>, value: Option<&[u8]>) -> SourceRecord {
        SourceRecord::new(
            key,
            value,
            "orders".into(),
            Timestamp::CreateTime(1_700_000_000_000),
            3,
            42,
            None,
        )
    }

    #[test]
    fn key_and_value_come_back_as_given() {
        let r = record(Some(b"k1"), Some(b"{\"a\":1}"));
        assert_eq!(r.key(), Some(&b"k1"[..]));
        assert_eq!(r.payload(), Some(&b"{\"a\":1}"[..]));
        assert_eq!((r.topic(), r.partition(), r.offset()), ("orders", 3, 42));
        assert_eq!(r.timestamp().to_millis(), Some(1_700_000_000_000));
    }

    #[test]
    fn absent_and_empty_keys_and_values_stay_apart() {
        let none = record(None, None);
        assert_eq!((none.key(), none.payload()), (None, None));
        let empty = record(Some(b""), Some(b""));
        assert_eq!(
            (empty.key(), empty.payload()),
            (Some(&b""[..]), Some(&b""[..]))
        );
        let tombstone = record(Some(b"k"), None);
        assert_eq!(
            (tombstone.key(), tombstone.payload()),
            (Some(&b"k"[..]), None)
        );
        let keyless = record(None, Some(b"v"));
        assert_eq!((keyless.key(), keyless.payload()), (None, Some(&b"v"[..])));
    }

    #[test]
    fn headers_are_kept() {
        let headers = OwnedHeaders::new().insert(Header {
            key: "trace",
            value: Some(&b"abc"[..]),
        });
        let r = SourceRecord::new(
            None,
            Some(b"v"),
            "t".into(),
            Timestamp::NotAvailable,
            0,
            0,
            Some(headers),
        );
        let h = r.headers().expect("headers");
        assert_eq!(h.count(), 1);
        assert_eq!(h.get(0).key, "trace");
        assert_eq!(h.get(0).value, Some(&b"abc"[..]));
    }

    #[test]
    fn it_is_smaller_than_rdkafkas_owned_message() {
        let ours = std::mem::size_of::<SourceRecord>();
        let theirs = std::mem::size_of::<rdkafka::message::OwnedMessage>();
        assert!(ours < theirs, "{ours} >= {theirs}");
    }
}
