//! Converter benchmark (not a test): the CPU one converter thread spends
//! per record for the sink bench's Wide Column workloads, in process, with
//! no Kafka, no actors and no network, so it moves only with the code:
//! * **floor**: `serde_json` parsing the value into a `Value` tree, what
//!   the sink bench's bare consumer does per message;
//! * **sink path**: [`Payload::convert`] for a `RowChange`, what the
//!   converter threads run (parse, type detection, limits, PlainBuffer,
//!   the order key).
//!
//! The process uses the sink's allocator (mimalloc). Each figure is the
//! fastest of `BENCH_ROUNDS` (default 7) rounds over `BENCH_RECORDS`
//! (default 200 000) records, the two variants interleaved in every
//! round.
//!
//! Run: `cargo bench --bench convert`.

// The sink bench's workloads; the modules they lean on come along unused.
#[path = "../tests/common/mod.rs"]
mod common;
#[path = "sink/rig.rs"]
#[allow(dead_code)]
mod rig;
#[path = "sink/workload.rs"]
#[allow(dead_code)]
mod workload;

use std::hint::black_box;
use std::time::Instant;

use tablestore_sink::config::WideColumnConfig;
use tablestore_sink::convert::{Record, WideColumnConverter};
use tablestore_sink::sink::payload::Payload;
use tablestore_sink::tablestore::RowChange;
use workload::Workload;

// The sink's allocator, so allocations cost what they cost in the sink.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn env(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// The `[wide_column]` table of the workload's sink configuration.
fn converter(workload: Workload) -> WideColumnConverter {
    let config: toml::Table = toml::from_str(&workload.config("bench", "http://127.0.0.1:1"))
        .expect("the workload's config parses");
    let section: WideColumnConfig = config["wide_column"]
        .clone()
        .try_into()
        .expect("the workload's [wide_column] is valid");
    WideColumnConverter::new(&section).expect("the workload's converter builds")
}

/// Nanoseconds per record of `f` over `records`.
fn per_record(records: &[(String, String)], mut f: impl FnMut(Record)) -> f64 {
    let started = Instant::now();
    for (i, (key, value)) in records.iter().enumerate() {
        f(Record {
            topic: "bench",
            partition: (i % 6) as i32,
            offset: i as i64,
            timestamp_ms: Some(1_764_000_000_000),
            key: Some(key.as_bytes()),
            value: Some(value.as_bytes()),
        });
    }
    started.elapsed().as_nanos() as f64 / records.len() as f64
}

fn main() {
    let count = env("BENCH_RECORDS", 200_000);
    let rounds = env("BENCH_ROUNDS", 7);
    println!(
        "converter benchmark: {count} records of about 200 bytes, fastest of {rounds} rounds, one thread\n"
    );
    println!("| workload | floor: serde_json Value | sink: Payload::convert | ratio |");
    println!("|---|---|---|---|");
    for workload in [Workload::Wide8, Workload::Light5] {
        let converter = converter(workload);
        let records: Vec<(String, String)> =
            (0..count as u64).map(|i| workload.message(i)).collect();
        let (mut floor, mut sink) = (f64::MAX, f64::MAX);
        for _ in 0..rounds {
            floor = floor.min(per_record(&records, |r| {
                let v: serde_json::Value = serde_json::from_slice(r.value.unwrap()).unwrap();
                black_box(v);
            }));
            sink = sink.min(per_record(&records, |r| {
                black_box(RowChange::convert(&converter, &r).unwrap());
            }));
        }
        println!(
            "| {} | {:.0} ns | {:.0} ns | {:.2}× |",
            workload.name(),
            floor,
            sink,
            sink / floor
        );
    }
}
