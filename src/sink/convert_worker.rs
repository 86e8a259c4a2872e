//! Converter workers: CPU work off the actor thread. A `SyncArbiter` runs
//! `writer.converter_threads` of them behind one address; each turns a
//! chunk of messages into encoded writes or conversion failures, in
//! order, each carrying its message's share of the in-flight budget.

use std::sync::Arc;

use actix::prelude::*;
use rdkafka::message::Message as _;

use super::record::SourceRecord;

use super::budget::BudgetPermit;
use super::messages::{Convert, ConvertOutcome, EncodedWrite};
use super::payload::Payload;
use crate::convert::Record;

pub struct ConvertWorker<P: Payload> {
    pub converter: Arc<P::Converter>,
}

impl<P: Payload> Actor for ConvertWorker<P> {
    type Context = SyncContext<Self>;
}

impl<P: Payload> Handler<Convert<P>> for ConvertWorker<P> {
    type Result = MessageResult<Convert<P>>;

    fn handle(&mut self, msg: Convert<P>, _: &mut Self::Context) -> Self::Result {
        MessageResult(
            msg.messages
                .into_iter()
                .map(|(m, permit)| convert_one::<P>(&self.converter, m, permit))
                .collect(),
        )
    }
}

pub fn convert_one<P: Payload>(
    converter: &P::Converter,
    message: SourceRecord,
    permit: BudgetPermit,
) -> ConvertOutcome<P> {
    let record = Record {
        topic: message.topic(),
        partition: message.partition(),
        offset: message.offset(),
        timestamp_ms: message.timestamp().to_millis(),
        key: message.key(),
        value: message.payload(),
    };
    match P::convert(converter, &record) {
        Ok(encoded) => ConvertOutcome::Ok(EncodedWrite {
            offset: record.offset,
            timestamp_ms: record.timestamp_ms,
            payload: encoded.payload,
            order_key: encoded.order_key,
            encoded_bytes: encoded.encoded_bytes,
            source: message,
            permit,
        }),
        Err(error) => ConvertOutcome::Failed {
            message,
            error,
            permit,
        },
    }
}
