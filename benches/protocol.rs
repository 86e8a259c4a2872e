//! Protocol benchmark (not a test): prints
//! 1. PlainBuffer rows encoded per second on one core, for a typical
//!    10-column row (the SDK fixture `typical_10_columns` shape);
//! 2. the BatchWriteRow body of 200 such rows, per row: prost (a request
//!    message per batch, a `Bytes` clone per row) against the direct
//!    encoder the client uses, with the body's MD5 beside them;
//! 3. emulator BatchWriteRow ingest in rows per second over loopback
//!    (200-row batches, several requests in flight, durable commits).
//!
//! Run: `cargo bench --bench protocol` (release build).

use std::time::Instant;

use tablestore_sink::emulator::{Emulator, EmulatorConfig};
use tablestore_sink::tablestore::plainbuffer::{self, Cell, PkValue, Row, Value};
use tablestore_sink::tablestore::proto::*;
use tablestore_sink::tablestore::{batch_body, sign, Client, ClientConfig, RowChange};

fn typical_row(offset: i64) -> Row {
    Row {
        primary_key: vec![
            ("topic_partition".into(), PkValue::String("orders_3".into())),
            ("offset".into(), PkValue::Integer(offset)),
        ],
        cells: vec![
            Cell::put("order_id", Value::String("ord-2026-000123456".into())),
            Cell::put("customer", Value::String("customer-98765".into())),
            Cell::put(
                "note",
                Value::String("please leave the parcel at the back door".into()),
            ),
            Cell::put("amount", Value::Double(1234.56)),
            Cell::put("quantity", Value::Integer(3)),
            Cell::put("paid", Value::Boolean(true)),
            Cell::put("created_at", Value::Integer(1_700_000_000_123)),
            Cell::put("discount", Value::Double(0.15)),
            Cell::put("currency", Value::String("CNY".into())),
            Cell::put("checksum", Value::Binary(vec![7; 16])),
        ],
        delete_marker: false,
    }
}

fn bench_encode() {
    let rows: Vec<Row> = (0..1000).map(typical_row).collect();
    let mut buf = Vec::with_capacity(512 * 1024);
    let iterations = 2_000;
    let start = Instant::now();
    let mut bytes = 0usize;
    for _ in 0..iterations {
        buf.clear();
        buf.extend_from_slice(&plainbuffer::HEADER.to_le_bytes());
        let mut enc = plainbuffer::RowEncoder::new(&mut buf);
        for r in &rows {
            enc.row(r);
        }
        bytes += buf.len();
    }
    let secs = start.elapsed().as_secs_f64();
    let n = (iterations * rows.len()) as f64;
    println!(
        "plainbuffer_encode: {:.2} M rows/s on one core ({:.0} ns/row, {:.0} MB/s, row = {} bytes)",
        n / secs / 1e6,
        secs * 1e9 / n,
        bytes as f64 / secs / 1e6,
        plainbuffer::encoded_row_len(&rows[0])
    );
    let one = plainbuffer::encode_row(&rows[0]);
    let start = Instant::now();
    let decodes = 500_000;
    for _ in 0..decodes {
        std::hint::black_box(plainbuffer::decode_single_row(std::hint::black_box(&one)).unwrap());
    }
    let secs = start.elapsed().as_secs_f64();
    println!(
        "plainbuffer_decode: {:.2} M rows/s on one core (validating, with CRC-8)",
        decodes as f64 / secs / 1e6
    );
}

/// Nanoseconds per row of `f` on a 200-row batch: the fastest of 7
/// rounds of 2 000 batches.
fn per_row_ns(rows: usize, mut f: impl FnMut() -> usize) -> f64 {
    let mut best = f64::MAX;
    let mut sink = 0usize;
    for _ in 0..7 {
        let start = Instant::now();
        for _ in 0..2_000 {
            sink = sink.wrapping_add(f());
        }
        best = best.min(start.elapsed().as_secs_f64() * 1e9 / (2_000 * rows) as f64);
    }
    std::hint::black_box(sink);
    best
}

fn bench_request_body() {
    let rows: Vec<RowChange> = (0..200)
        .map(|i| RowChange::new(OperationType::Put, &typical_row(i)))
        .collect();
    let by_prost = || batch_body::encode_with_prost("bench", &rows);
    let direct = || batch_body::encode("bench", &rows);
    assert_eq!(by_prost(), direct(), "the same body");
    let body = direct();
    let prost_ns = per_row_ns(rows.len(), || by_prost().len());
    let direct_ns = per_row_ns(rows.len(), || direct().len());
    let md5_ns = per_row_ns(rows.len(), || sign::content_md5(&body).len());
    println!(
        "batch_write_row_body: {direct_ns:.0} ns/row direct, {prost_ns:.0} ns/row with prost; MD5 of the body {md5_ns:.0} ns/row ({} bytes for 200 rows)",
        body.len()
    );
}

async fn bench_emulator_ingest() {
    let dir = tempfile::tempdir().unwrap();
    let mut config = EmulatorConfig::new(dir.path());
    config.listen = "127.0.0.1:0".parse().unwrap();
    let emu = Emulator::start(config).await.unwrap();
    let client = Client::new(ClientConfig::new(
        &emu.endpoint(),
        "local",
        "local-ak",
        "local-secret",
    ))
    .unwrap();
    let pk = [
        ("topic_partition", PrimaryKeyType::String),
        ("offset", PrimaryKeyType::Integer),
    ];
    client
        .create_table(&CreateTableRequest::new("bench", &pk))
        .await
        .unwrap();
    let in_flight = 8;
    let batches_per_task = 125; // 8 × 125 × 200 = 200 000 rows
    let start = Instant::now();
    let mut tasks = Vec::new();
    for t in 0..in_flight {
        let client = client.clone();
        tasks.push(tokio::spawn(async move {
            for b in 0..batches_per_task {
                let base = ((t * batches_per_task + b) * 200) as i64;
                let rows: Vec<RowChange> = (0..200)
                    .map(|i| RowChange::new(OperationType::Put, &typical_row(base + i)))
                    .collect();
                let results = client.batch_write_row("bench", &rows).await.unwrap();
                assert!(results.iter().all(|r| r.is_ok()));
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    let secs = start.elapsed().as_secs_f64();
    let rows = (in_flight * batches_per_task * 200) as f64;
    println!(
        "emulator_batch_write_row: {:.0} rows/s over loopback ({} rows in {:.2} s, 200-row batches, {} in flight, durable group commits)",
        rows / secs,
        rows,
        secs,
        in_flight
    );
    emu.stop().await;
}

fn main() {
    bench_encode();
    bench_request_body();
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(bench_emulator_ingest());
}
