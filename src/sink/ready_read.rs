//! A partition's queue as the intake reads it: rust-rdkafka's
//! `StreamPartitionQueue` to wait for the first message of a chunk, and a
//! second librdkafka handle of the same queue to take what else it
//! already holds in one call (`rd_kafka_consume_batch_queue`, no wait).
//!
//! Why: `recv` costs, per message, a `MessageStream` (a waker registered
//! and removed under a mutex), an event pop with three clock reads and an
//! `Arc` allocated for the event. `perf` of the sink's pipeline thread
//! (`cargo bench --bench sink`, DWARF stacks) put ~23 % of it there. The
//! batch call pays the clock reads once per chunk and returns plain
//! messages. Waking stays rust-rdkafka's: the intake waits only on `recv`.
//!
//! One difference from `recv`, harmless here: librdkafka's batch call
//! moves the partition's read position (`app_pos`) past *error* messages
//! too (their offset is the next one to fetch), where `recv` skips them
//! (librdkafka issue #4844). Only a pause uses that position, as the point
//! a resume fetches from. The sink pauses a partition only when it stops
//! it (`stop` policy) and never resumes it within that assignment (the
//! next one starts at the committed offset), so no message is skipped. A
//! pause that resumes reading (one for budget, say) must not be added
//! without a seek to the ledger's next offset first. End-of-partition
//! events are such messages too; `enable.partition.eof` stays off (a
//! managed key that `[kafka.client]` may not set).
//!
//! The second handle only adds a reference to the partition's fetch queue
//! (librdkafka's `rd_kafka_queue_get_partition`, not its owner), so its
//! drop touches neither the queue's forwarding nor its wake-up callback;
//! and it keeps the consumer alive, which must outlive every handle.

use std::ffi::CString;
use std::ptr::NonNull;
use std::sync::Arc;

use rdkafka::bindings as rdsys;
use rdkafka::consumer::stream_consumer::StreamPartitionQueue;
use rdkafka::consumer::{Consumer as _, ConsumerContext, StreamConsumer};
use rdkafka::error::{KafkaError, KafkaResult};
use rdkafka::message::{BorrowedHeaders, Timestamp};

use super::rebalance::{SinkConsumer, SinkContext};
use super::record::SourceRecord;

/// Messages one [`ReadyReader::read_into`] takes at most (the intake's
/// chunk size bounds it too).
pub const MAX_READY: usize = 512;

/// One partition's queue, on loan to its actor.
pub struct PartitionQueue {
    /// Waits for the first message (and owns the wake-up callback).
    pub stream: StreamPartitionQueue<SinkContext>,
    /// Takes the rest of what is ready.
    pub ready: ReadyReader,
}

impl PartitionQueue {
    /// Splits `topic`/`partition`'s queue off `consumer`'s main queue.
    /// `None` if librdkafka does not know the partition.
    pub fn split(consumer: &Arc<SinkConsumer>, topic: &str, partition: i32) -> Option<Self> {
        let stream = consumer.split_partition_queue(topic, partition)?;
        let ready = ReadyReader::open(consumer, topic, partition)?;
        Some(PartitionQueue { stream, ready })
    }
}

/// A second handle of a partition's fetch queue, read without waiting.
pub struct ReadyReader {
    queue: NonNull<rdsys::rd_kafka_queue_t>,
    /// The client the queue belongs to; it must be destroyed after the
    /// handle.
    _consumer: Arc<dyn Send + Sync>,
}

// SAFETY: librdkafka queues are thread-safe (every operation takes the
// queue's lock); the handle is used by one actor at a time.
unsafe impl Send for ReadyReader {}

impl ReadyReader {
    fn open<C: ConsumerContext + 'static>(
        consumer: &Arc<StreamConsumer<C>>,
        topic: &str,
        partition: i32,
    ) -> Option<Self> {
        let topic = CString::new(topic).ok()?;
        // SAFETY: the client pointer is valid while `consumer` lives; the
        // returned handle holds its own reference to the queue.
        let queue = unsafe {
            rdsys::rd_kafka_queue_get_partition(
                consumer.client().native_ptr(),
                topic.as_ptr(),
                partition,
            )
        };
        Some(ReadyReader {
            queue: NonNull::new(queue)?,
            _consumer: consumer.clone(),
        })
    }

    /// Appends up to `max` messages the queue holds now (copied, see
    /// [`SourceRecord`]) to `out`, in offset order; waits for none.
    pub fn read_into(
        &self,
        topic: &Arc<str>,
        max: usize,
        out: &mut Vec<KafkaResult<SourceRecord>>,
    ) {
        let mut messages = [std::ptr::null_mut::<rdsys::rd_kafka_message_t>(); MAX_READY];
        let max = max.min(MAX_READY);
        if max == 0 {
            return;
        }
        // SAFETY: the queue handle is valid until drop; librdkafka writes
        // at most `max` message pointers into the array.
        let taken = unsafe {
            rdsys::rd_kafka_consume_batch_queue(self.queue.as_ptr(), 0, messages.as_mut_ptr(), max)
        };
        // -1 only for a queue that is not a consumer's, which this is.
        let taken = usize::try_from(taken).unwrap_or(0);
        out.reserve(taken);
        for &message in &messages[..taken] {
            // SAFETY: each pointer is a message librdkafka handed over;
            // it is read, then destroyed exactly once.
            unsafe {
                out.push(copy(message, topic));
                rdsys::rd_kafka_message_destroy(message);
            }
        }
    }
}

impl Drop for ReadyReader {
    fn drop(&mut self) {
        // SAFETY: created by `rd_kafka_queue_get_partition` and destroyed
        // once; not the owner, so this only drops a reference.
        unsafe { rdsys::rd_kafka_queue_destroy(self.queue.as_ptr()) }
    }
}

/// The record of a polled message, or its error: the same values
/// rust-rdkafka's `BorrowedMessage` gives (see [`SourceRecord::copy_of`]).
///
/// # Safety
/// `m` is a live message from `rd_kafka_consume_batch_queue`.
/// A pointer, not a reference: librdkafka writes the parsed headers into
/// the message's enclosing struct, past the fields a reference covers.
unsafe fn copy(
    message: *mut rdsys::rd_kafka_message_t,
    topic: &Arc<str>,
) -> KafkaResult<SourceRecord> {
    use rdsys::rd_kafka_resp_err_t as E;
    let m = &*message;
    match m.err {
        E::RD_KAFKA_RESP_ERR_NO_ERROR => {}
        E::RD_KAFKA_RESP_ERR__PARTITION_EOF => return Err(KafkaError::PartitionEOF(m.partition)),
        e => {
            // librdkafka puts the error's text in the payload; the error
            // value keeps only its code.
            let text = slice(m.payload as *const u8, m.len).map(String::from_utf8_lossy);
            tracing::warn!(topic = %topic, partition = m.partition, offset = m.offset, error = ?e, reason = text.as_deref().unwrap_or(""), "consumer error on a partition queue");
            return Err(KafkaError::MessageConsumption(e.into()));
        }
    }
    let key = slice(m.key as *const u8, m.key_len);
    let value = slice(m.payload as *const u8, m.len);
    let mut kind = rdsys::rd_kafka_timestamp_type_t::RD_KAFKA_TIMESTAMP_NOT_AVAILABLE;
    let at = rdsys::rd_kafka_message_timestamp(message, &mut kind);
    let timestamp = match kind {
        _ if at == -1 => Timestamp::NotAvailable,
        rdsys::rd_kafka_timestamp_type_t::RD_KAFKA_TIMESTAMP_CREATE_TIME => {
            Timestamp::CreateTime(at)
        }
        rdsys::rd_kafka_timestamp_type_t::RD_KAFKA_TIMESTAMP_LOG_APPEND_TIME => {
            Timestamp::LogAppendTime(at)
        }
        _ => Timestamp::NotAvailable,
    };
    let mut headers = std::ptr::null_mut();
    let headers = (rdsys::rd_kafka_message_headers(message, &mut headers)
        == E::RD_KAFKA_RESP_ERR_NO_ERROR
        && !headers.is_null())
    .then(|| {
        // `BorrowedHeaders` is rust-rdkafka's zero-sized view of this
        // very pointer (it casts the same way); `detach` copies them.
        (*(headers as *const BorrowedHeaders)).detach()
    });
    Ok(SourceRecord::new(
        key,
        value,
        topic.clone(),
        timestamp,
        m.partition,
        m.offset,
        headers,
    ))
}

/// `None` for a null pointer (no key, or a tombstone), as librdkafka
/// tells an absent key or value from an empty one.
unsafe fn slice<'a>(ptr: *const u8, len: usize) -> Option<&'a [u8]> {
    (!ptr.is_null()).then(|| std::slice::from_raw_parts(ptr, len))
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, Instant};

    use rdkafka::config::ClientConfig;
    use rdkafka::consumer::Consumer;
    use rdkafka::message::{Header, Headers, Message, OwnedHeaders};
    use rdkafka::mocking::MockCluster;
    use rdkafka::producer::{BaseProducer, BaseRecord, Producer};
    use rdkafka::{Offset, TopicPartitionList};

    use super::*;

    /// What each produced message must read back as.
    struct Sent {
        key: Option<&'static [u8]>,
        value: Option<&'static [u8]>,
        headers: &'static [(&'static str, Option<&'static [u8]>)],
        at_ms: i64,
    }

    const SENT: [Sent; 5] = [
        Sent {
            key: Some(b"k0"),
            value: Some(b"{\"a\":1}"),
            headers: &[("trace", Some(b"t-1"))],
            at_ms: 1_700_000_000_001,
        },
        Sent {
            key: None,
            value: Some(b"no key"),
            headers: &[],
            at_ms: 1_700_000_000_002,
        },
        Sent {
            key: Some(b"tombstone"),
            value: None,
            headers: &[("a", Some(b"1")), ("null", None)],
            at_ms: 1_700_000_000_003,
        },
        Sent {
            key: Some(b""),
            value: Some(b""),
            headers: &[],
            at_ms: 1_700_000_000_004,
        },
        Sent {
            key: Some(b"k4"),
            value: Some(b"last"),
            headers: &[("x", Some(b""))],
            at_ms: 1_700_000_000_005,
        },
    ];

    fn header_list(r: &SourceRecord) -> Vec<(String, Option<Vec<u8>>)> {
        r.headers()
            .map(|h| {
                h.iter()
                    .map(|h| (h.key.to_owned(), h.value.map(<[u8]>::to_vec)))
                    .collect()
            })
            .unwrap_or_default()
    }

    /// Keys, values (absent ≠ empty), headers, offsets and timestamps read
    /// through the batch call are the messages as produced, in order; the
    /// first comes through `recv`, the rest through `read_into`.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn the_batch_read_gives_every_message_as_produced_in_order() {
        let cluster = MockCluster::new(1).unwrap();
        cluster.create_topic("ready", 1, 1).unwrap();
        let servers = cluster.bootstrap_servers();
        let producer: BaseProducer = ClientConfig::new()
            .set("bootstrap.servers", &servers)
            .set("linger.ms", "0")
            .create()
            .unwrap();
        for sent in &SENT {
            let mut headers = OwnedHeaders::new();
            for (key, value) in sent.headers {
                headers = headers.insert(Header { key, value: *value });
            }
            let mut record = BaseRecord::<[u8], [u8]>::to("ready")
                .partition(0)
                .timestamp(sent.at_ms)
                .headers(headers);
            if let Some(key) = sent.key {
                record = record.key(key);
            }
            if let Some(value) = sent.value {
                record = record.payload(value);
            }
            producer.send(record).map_err(|(e, _)| e).unwrap();
        }
        producer.flush(Duration::from_secs(10)).unwrap();

        let consumer = crate::sink::mock_kafka::consumer(&servers, "ready");
        let stream = consumer.split_partition_queue("ready", 0).unwrap();
        let ready = ReadyReader::open(&consumer, "ready", 0).unwrap();
        let mut tpl = TopicPartitionList::new();
        tpl.add_partition_offset("ready", 0, Offset::Beginning)
            .unwrap();
        consumer.assign(&tpl).unwrap();

        let topic: Arc<str> = "ready".into();
        // Biased to the deadline: `tokio::time::timeout` would poll the
        // reader once more when it expires, and hide a lost wake-up.
        let first = tokio::select! {
            biased;
            _ = tokio::time::sleep(Duration::from_secs(10)) => None,
            m = stream.recv() => Some(m),
        };
        let first = first.expect("a first message within 10 s").unwrap();
        let mut read = vec![Ok(SourceRecord::copy_of(&first, &topic))];
        drop(first);
        let deadline = Instant::now() + Duration::from_secs(10);
        // Two at most per call, fewer than are left: `max` is kept.
        while read.len() < SENT.len() && Instant::now() < deadline {
            let before = read.len();
            ready.read_into(&topic, 2, &mut read);
            assert!(read.len() - before <= 2, "at most `max` per call");
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        let read: Vec<SourceRecord> = read.into_iter().map(Result::unwrap).collect();
        assert_eq!(read.len(), SENT.len(), "every message, none twice");
        for (offset, (r, sent)) in read.iter().zip(&SENT).enumerate() {
            assert_eq!(r.offset(), offset as i64);
            assert_eq!(r.partition(), 0);
            assert_eq!(r.topic(), "ready");
            assert_eq!(r.key(), sent.key, "key of offset {offset}");
            assert_eq!(r.payload(), sent.value, "value of offset {offset}");
            assert_eq!(r.timestamp(), Timestamp::CreateTime(sent.at_ms));
            let want: Vec<(String, Option<Vec<u8>>)> = sent
                .headers
                .iter()
                .map(|(k, v)| (k.to_string(), v.map(<[u8]>::to_vec)))
                .collect();
            assert_eq!(header_list(r), want, "headers of offset {offset}");
        }
        let mut more = Vec::new();
        ready.read_into(&topic, MAX_READY, &mut more);
        assert!(more.is_empty(), "nothing past the last message");
    }
}
