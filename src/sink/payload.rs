//! What the pipeline carries for one message, per table model: a Wide
//! Column row change (PlainBuffer, sent with BatchWriteRow) or a
//! TimeSeries point (sent with PutTimeseriesData).
//!
//! The pipeline is generic over the [`Payload`], so a batch of one model
//! can never hold a write of the other, and the model's converter is the
//! only one a pipeline can call. Encoding happens on the converter
//! threads (PlainBuffer there; FlatBuffers needs the whole batch, so the
//! request builds it on the request threads, from the shared points).

use std::future::Future;
use std::hash::{Hash, Hasher};
use std::pin::Pin;
use std::sync::Arc;

use bytes::Bytes;

use crate::convert::{ConvertError, Record, TimeseriesConverter, WideColumnConverter};
use crate::tablestore::flatrows::{self, TimeseriesRow};
use crate::tablestore::plainbuffer;
use crate::tablestore::proto::RowExistenceExpectation;
use crate::tablestore::{Client, Error, RowChange, RowResult};

/// A request on its way: owns everything it needs (no borrow of the
/// queued writes, which stay with the writer so they can be cancelled).
pub type Request = Pin<Box<dyn Future<Output = Result<Vec<RowResult>, Error>> + Send + 'static>>;

/// One converted message, ready for the writer.
pub struct Encoded<P> {
    pub payload: P,
    /// Two writes with the same key are never in flight together.
    pub order_key: u64,
    /// Counted against the request byte limit.
    pub encoded_bytes: usize,
}

/// `Clone` only for a request that is aborted while it still holds its
/// batch (a revoked partition's cancel): the writer then copies back the
/// rows it queues again. Every other answer gives the batch back whole.
pub trait Payload: Sized + Clone + Send + Sync + Unpin + std::fmt::Debug + 'static {
    /// The model's converter (pure, shared by the converter threads).
    type Converter: Send + Sync + 'static;
    /// The Tablestore action, for metrics and logs.
    const API: &'static str;

    fn convert(converter: &Self::Converter, record: &Record)
        -> Result<Encoded<Self>, ConvertError>;

    /// Builds the request for `batch` (in order): one result per item.
    /// The batch is shared with the writer, which takes it back when the
    /// answer comes (so no row is copied or reference-counted one by one).
    fn request(client: &Client, table: &str, batch: Arc<Vec<Self>>) -> Request;
}

/// A fast, non-cryptographic hash: a collision only makes two rows wait
/// for each other, never mixes them up.
fn hash_of(value: &impl Hash) -> u64 {
    let mut h = rustc_hash::FxHasher::default();
    value.hash(&mut h);
    h.finish()
}

impl Payload for RowChange {
    type Converter = WideColumnConverter;
    const API: &'static str = "BatchWriteRow";

    fn convert(
        converter: &WideColumnConverter,
        record: &Record,
    ) -> Result<Encoded<Self>, ConvertError> {
        let write = converter.convert(record)?;
        let row = Bytes::from(plainbuffer::encode_row(&write.row));
        Ok(Encoded {
            order_key: hash_of(&write.row.primary_key),
            encoded_bytes: row.len(),
            payload: RowChange {
                op: write.op,
                row,
                expect: RowExistenceExpectation::Ignore,
            },
        })
    }

    fn request(client: &Client, table: &str, batch: Arc<Vec<Self>>) -> Request {
        let client = client.clone();
        let table = table.to_owned();
        Box::pin(async move { client.batch_write_row(&table, &batch).await })
    }
}

/// A TimeSeries point on its way. The request takes its batch's points
/// to the request threads (the batch is shared, see [`Payload::request`])
/// and builds the FlatBuffers there. Built on the writer's actix thread,
/// that encoding cost it about 1.4 of its 3.8 µs per point (`cargo bench
/// --bench sink`, `BENCH=drain`).
#[derive(Clone, Debug)]
pub struct Point(pub TimeseriesRow);

impl Payload for Point {
    type Converter = TimeseriesConverter;
    const API: &'static str = "PutTimeseriesData";

    fn convert(
        converter: &TimeseriesConverter,
        record: &Record,
    ) -> Result<Encoded<Self>, ConvertError> {
        let point = converter.convert(record)?;
        let encoded_bytes = 64
            + point.key.measurement.len()
            + point.key.data_source.len()
            + point.key.tags_string().len()
            + point
                .fields
                .iter()
                .map(|(n, v)| n.len() + v.payload_len() + 8)
                .sum::<usize>();
        Ok(Encoded {
            order_key: hash_of(&(&point.key, point.time_us)),
            encoded_bytes,
            payload: Point(point),
        })
    }

    fn request(client: &Client, table: &str, batch: Arc<Vec<Self>>) -> Request {
        let client = client.clone();
        let table = table.to_owned();
        Box::pin(async move {
            let data = flatrows::encode(batch.iter().map(|p| &p.0));
            client
                .put_timeseries_encoded(&table, data, batch.len())
                .await
        })
    }
}
