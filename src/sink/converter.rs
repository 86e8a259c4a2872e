//! Converter actors: CPU work off the polling thread. A `SyncArbiter` runs
//! `writer.converter_threads` of them; each turns a chunk of messages into
//! encoded writes (PlainBuffer rows are encoded here, not on the writer's
//! thread) or conversion failures, preserving order.

use std::collections::hash_map::DefaultHasher;
use std::hash::{Hash, Hasher};
use std::sync::Arc;

use actix::prelude::*;
use bytes::Bytes;
use rdkafka::message::{Message as _, OwnedMessage};

use super::messages::{Convert, ConvertOutcome, EncodedWrite, Payload};
use crate::convert::{Converted, Converter, Record};
use crate::tablestore::plainbuffer;
use crate::tablestore::proto::RowExistenceExpectation;
use crate::tablestore::RowChange;

pub struct ConverterActor {
    pub converter: Arc<Converter>,
}

impl Actor for ConverterActor {
    type Context = SyncContext<Self>;
}

impl Handler<Convert> for ConverterActor {
    type Result = MessageResult<Convert>;

    fn handle(&mut self, msg: Convert, _: &mut Self::Context) -> Self::Result {
        MessageResult(
            msg.messages
                .into_iter()
                .map(|(m, budget)| convert_one(&self.converter, m, budget))
                .collect(),
        )
    }
}

fn hash_of(value: &impl Hash) -> u64 {
    let mut h = DefaultHasher::new();
    value.hash(&mut h);
    h.finish()
}

pub fn convert_one(
    converter: &Converter,
    message: OwnedMessage,
    budget_bytes: usize,
) -> ConvertOutcome {
    let record = Record {
        topic: message.topic(),
        partition: message.partition(),
        offset: message.offset(),
        timestamp_ms: message.timestamp().to_millis(),
        key: message.key(),
        value: message.payload(),
    };
    let converted = converter.convert(&record);
    let timestamp_ms = record.timestamp_ms;
    let offset = record.offset;
    match converted {
        Ok(Converted::Row(write)) => {
            let bytes = Bytes::from(plainbuffer::encode_row(&write.row));
            EncodedWrite {
                offset,
                order_key: hash_of(&write.row.primary_key),
                encoded_bytes: bytes.len(),
                payload: Payload::Row(RowChange {
                    op: write.op,
                    row: bytes,
                    expect: RowExistenceExpectation::Ignore,
                }),
                budget_bytes,
                timestamp_ms,
                source: message,
            }
            .into()
        }
        Ok(Converted::Point(point)) => {
            let encoded_bytes = 64
                + point.key.measurement.len()
                + point.key.data_source.len()
                + point.key.tags_string().len()
                + point
                    .fields
                    .iter()
                    .map(|(n, v)| n.len() + v.payload_len() + 8)
                    .sum::<usize>();
            EncodedWrite {
                offset,
                order_key: hash_of(&(&point.key, point.time_us)),
                encoded_bytes,
                payload: Payload::Point(point),
                budget_bytes,
                timestamp_ms,
                source: message,
            }
            .into()
        }
        Err(error) => ConvertOutcome::Failed {
            message,
            error,
            budget_bytes,
        },
    }
}

impl From<EncodedWrite> for ConvertOutcome {
    fn from(w: EncodedWrite) -> Self {
        ConvertOutcome::Ok(w)
    }
}
