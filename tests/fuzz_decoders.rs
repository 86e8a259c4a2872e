//! Fuzz targets, one per decoder of client input, run in CI for a bounded
//! time by the engine in `tests/fuzzing/` (deterministic, seeded, stable
//! Rust; see there for `FUZZ_SCALE`, `FUZZ_SECONDS`, `FUZZ_SEED`,
//! `FUZZ_REPLAY`).
//!
//! * `plainbuffer`: rows from the SDK fixtures and generated rows, mutated;
//!   the decoder never panics, builds at most a bounded multiple of its
//!   input, and what it accepts re-encodes to bytes that decode the same.
//! * `flatrows`: the SDK's TimeSeries buffers and our encodings, mutated;
//!   never panics, never exceeds its row limit or its expansion budget.
//! * `requests`: every action's protobuf request, mutated, served by the
//!   real dispatcher over a real store: never a panic, never a 500.
//! * `conditions`: generated and mutated QueryTimeseriesMeta conditions and
//!   GetRange filters (deep, wide, malformed): never a panic or abort, and
//!   anything deeper than the limits is refused.

mod fuzzing;

use std::path::PathBuf;

use fuzzing::{peak_heap, CountingAllocator, Outcome, Rng};
use prost::Message;
use tablestore_sink::emulator::api::{dispatch, ACTIONS};
use tablestore_sink::emulator::nesting::MAX_CONDITION_DEPTH;
use tablestore_sink::emulator::store::{Durability, Store};
use tablestore_sink::emulator::wire_limits;
use tablestore_sink::tablestore::flatrows::{
    self, FieldValue, SeriesKey, TimeseriesRow, MAX_EXPANDED_BYTES, MAX_ROWS,
};
use tablestore_sink::tablestore::plainbuffer::{
    self, Cell, CellOp, PkValue, Row, RowLimits, Value,
};
use tablestore_sink::tablestore::proto::*;

#[global_allocator]
static ALLOCATOR: CountingAllocator = CountingAllocator;

const KB: usize = 1024;

fn fixtures() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

/// Every `.bin` of `tests/fixtures/<dir>` whose name starts with `prefix`
/// (or not, with `!prefix`).
fn fixture_files(dir: &str, timeseries: bool) -> Vec<Vec<u8>> {
    let Ok(entries) = std::fs::read_dir(fixtures().join(dir)) else {
        return Vec::new();
    };
    let mut files: Vec<PathBuf> = entries
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "bin"))
        .filter(|p| {
            let name = p.file_name().unwrap().to_string_lossy();
            name.starts_with("ts_") == timeseries
        })
        .collect();
    files.sort();
    files.iter().map(|p| std::fs::read(p).unwrap()).collect()
}

fn plainbuffer_fixtures() -> Vec<Vec<u8>> {
    let mut all = fixture_files("sdk", false);
    all.extend(fixture_files("node-sdk", false));
    assert!(all.len() >= 10, "SDK PlainBuffer fixtures missing");
    all
}

fn name(rng: &mut Rng) -> String {
    let n = 1 + rng.below(6);
    (0..n)
        .map(|_| (b'a' + rng.below(26) as u8) as char)
        .collect()
}

fn value(rng: &mut Rng) -> Value {
    match rng.below(5) {
        0 => Value::Integer(rng.interesting_i64()),
        1 => Value::Double(f64::from_bits(rng.next_u64())),
        2 => Value::Boolean(rng.chance(2)),
        3 => Value::String(name(rng)),
        _ => Value::Binary((0..rng.below(8)).map(|_| rng.byte()).collect()),
    }
}

/// A random row in any shape the encoder writes.
fn random_row(rng: &mut Rng) -> Row {
    let primary_key = (0..1 + rng.below(4))
        .map(|_| {
            let v = match rng.below(6) {
                0 => PkValue::Integer(rng.interesting_i64()),
                1 => PkValue::String(name(rng)),
                2 => PkValue::Binary(vec![rng.byte(); rng.below(4)]),
                3 => PkValue::InfMin,
                4 => PkValue::InfMax,
                _ => PkValue::AutoIncrement,
            };
            (name(rng), v)
        })
        .collect();
    let cells = (0..rng.below(6))
        .map(|_| {
            let ts = rng
                .chance(2)
                .then(|| rng.interesting_i64() & 0x7fff_ffff_ffff);
            match rng.below(4) {
                0 => Cell {
                    name: name(rng),
                    value: Some(value(rng)),
                    op: CellOp::Put,
                    timestamp_ms: ts,
                },
                1 => Cell::delete_all(name(rng)),
                2 => Cell {
                    name: name(rng),
                    value: None,
                    op: CellOp::DeleteOneVersion,
                    timestamp_ms: Some(ts.unwrap_or(1)),
                },
                _ => Cell::increment(name(rng), rng.interesting_i64()),
            }
        })
        .collect();
    Row {
        primary_key,
        cells,
        delete_marker: rng.chance(5),
    }
}

#[test]
fn fuzz_plainbuffer_rows() {
    let mut rng = Rng::new(1);
    let mut seeds = plainbuffer_fixtures();
    seeds.extend((0..50).map(|_| plainbuffer::encode_row(&random_row(&mut rng))));
    let rows: Vec<Row> = (0..5).map(|_| random_row(&mut rng)).collect();
    seeds.push(plainbuffer::encode_rows(&rows));
    let request = RowLimits {
        max_primary_key_columns: 32,
        max_cells: 1024,
    };
    fuzzing::run("plainbuffer", seeds, 400_000, |input| {
        let (multi, grew) = peak_heap(|| plainbuffer::decode_rows(input));
        // Worst legal case: 3-byte empty rows, a 56-byte struct each, in a
        // vector that may have doubled.
        if grew > 48 * input.len() + 4 * KB {
            return Err(format!(
                "decode_rows built {grew} bytes from {}",
                input.len()
            ));
        }
        let (single, grew) = peak_heap(|| plainbuffer::decode_single_row_limited(input, request));
        // At most 1024 cells of ~100 bytes are kept; the rest is the input.
        if grew > 4 * input.len() + 160 * KB {
            return Err(format!(
                "a limited single-row decode built {grew} bytes from {}",
                input.len()
            ));
        }
        let unlimited = plainbuffer::decode_single_row(input);
        if let Ok(row) = &single {
            if unlimited.as_ref().ok() != Some(row) {
                return Err(format!(
                    "limited and unlimited decodes differ: {unlimited:?}"
                ));
            }
        }
        let _ = plainbuffer::decode_value_without_length(input);
        let _ = plainbuffer::decode_attribute_value_without_length(input);
        match multi {
            Ok(rows) => {
                // Accepted rows re-encode to bytes that decode to the same
                // bytes again (compared as bytes: NaN != NaN).
                let again = plainbuffer::encode_rows(&rows);
                let back = plainbuffer::decode_rows(&again)
                    .map_err(|e| format!("our encoding of accepted rows does not decode: {e}"))?;
                if plainbuffer::encode_rows(&back) != again {
                    return Err("re-encoding accepted rows is not stable".into());
                }
                Ok(Outcome::Accepted)
            }
            Err(_) => Ok(if single.is_ok() {
                Outcome::Accepted
            } else {
                Outcome::Rejected
            }),
        }
    });
}

fn random_point(rng: &mut Rng) -> TimeseriesRow {
    let fields = (0..1 + rng.below(5))
        .map(|_| {
            let v = match rng.below(5) {
                0 => FieldValue::Long(rng.interesting_i64()),
                1 => FieldValue::Boolean(rng.chance(2)),
                2 => FieldValue::Double(f64::from_bits(rng.next_u64())),
                3 => FieldValue::String(name(rng)),
                _ => FieldValue::Binary(vec![rng.byte(); rng.below(5)]),
            };
            (name(rng), v)
        })
        .collect();
    TimeseriesRow {
        key: SeriesKey {
            measurement: name(rng),
            data_source: name(rng),
            tags: (0..rng.below(3)).map(|_| (name(rng), name(rng))).collect(),
        },
        time_us: rng.interesting_i64(),
        fields,
        meta_cache_update_time: rng.next_u64() as u32,
    }
}

#[test]
fn fuzz_flatbuffers_rows() {
    let mut rng = Rng::new(2);
    let mut seeds = fixture_files("sdk", true);
    assert!(seeds.len() >= 3, "SDK TimeSeries fixtures missing");
    for n in [1, 2, 5] {
        let points: Vec<TimeseriesRow> = (0..n).map(|_| random_point(&mut rng)).collect();
        seeds.push(flatrows::encode(&points));
    }
    fuzzing::run("flatrows", seeds, 200_000, |input| {
        let (result, grew) = peak_heap(|| flatrows::decode(input, None));
        if grew > 2 * MAX_EXPANDED_BYTES + 64 * input.len() {
            return Err(format!("decode built {grew} bytes from {}", input.len()));
        }
        let with_crc = flatrows::decode(input, Some(flatrows::crc32c_signed(input)));
        if with_crc.is_ok() != result.is_ok() {
            return Err("a correct CRC changed the outcome".into());
        }
        match result {
            Ok(rows) => {
                if rows.len() > MAX_ROWS {
                    return Err(format!("{} rows accepted", rows.len()));
                }
                let again = flatrows::encode(&rows);
                let back = flatrows::decode(&again, None)
                    .map_err(|e| format!("our encoding of accepted rows does not decode: {e}"))?;
                if flatrows::encode(&back) != again {
                    return Err("re-encoding accepted rows is not stable".into());
                }
                Ok(Outcome::Accepted)
            }
            Err(_) => Ok(Outcome::Rejected),
        }
    });
}

/// A throwaway store (no fsync) with a wide table `t` (PK `s` STRING,
/// `i` INTEGER, like the SDK fixtures), a few rows, and a TimeSeries table
/// `ts` with a few series.
struct Served {
    rt: tokio::runtime::Runtime,
    store: Store,
    _dir: tempfile::TempDir,
}

impl Served {
    fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open_with(dir.path(), 16 << 20, Durability::None).unwrap();
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let served = Served {
            rt,
            store,
            _dir: dir,
        };
        served.ensure_tables();
        let mut rng = Rng::new(3);
        for i in 0..20 {
            let row = Row {
                primary_key: vec![
                    ("s".into(), PkValue::String(format!("k{}", i % 4))),
                    ("i".into(), PkValue::Integer(i)),
                ],
                cells: vec![
                    Cell::put("a", value(&mut rng)),
                    Cell::put("n", Value::Integer(i)),
                ],
                delete_marker: false,
            };
            served.must("PutRow", &put_row("t", &row));
        }
        let points: Vec<TimeseriesRow> = (0..10)
            .map(|i| {
                let mut p = random_point(&mut rng);
                p.key.measurement = format!("m{}", i % 3);
                p.time_us = 1_000_000 + i;
                p.fields = vec![("f".into(), FieldValue::Long(i))];
                p.key.tags = [("host".to_string(), format!("h{i}"))].into();
                p
            })
            .collect();
        served.must("PutTimeseriesData", &put_points("ts", &points));
        served
    }

    fn ensure_tables(&self) {
        let pk = [
            ("s", PrimaryKeyType::String),
            ("i", PrimaryKeyType::Integer),
        ];
        let _ = self.serve(
            "CreateTable",
            &CreateTableRequest::new("t", &pk).encode_to_vec(),
        );
        let ts = CreateTimeseriesTableRequest {
            table_meta: TimeseriesTableMeta {
                table_name: "ts".into(),
                ..Default::default()
            },
            ..Default::default()
        };
        let _ = self.serve("CreateTimeseriesTable", &ts.encode_to_vec());
    }

    fn serve(
        &self,
        action: &str,
        body: &[u8],
    ) -> Result<Vec<u8>, tablestore_sink::emulator::ApiError> {
        wire_limits::check(action, body)?;
        self.rt.block_on(dispatch(&self.store, action, body))
    }

    fn must(&self, action: &str, body: &[u8]) {
        self.serve(action, body)
            .unwrap_or_else(|e| panic!("seeding {action}: {e}"));
    }

    /// Serves `input` = action index byte ++ body; a 5xx is a violation.
    fn check(&self, input: &[u8]) -> Result<Outcome, String> {
        let Some((&which, body)) = input.split_first() else {
            return Ok(Outcome::Rejected);
        };
        let action = ACTIONS[which as usize % ACTIONS.len()];
        match self.serve(action, body) {
            Ok(_) => Ok(Outcome::Accepted),
            Err(e) if e.status >= 500 => Err(format!("{action} answered {e}")),
            Err(_) => Ok(Outcome::Rejected),
        }
    }
}

fn put_row(table: &str, row: &Row) -> Vec<u8> {
    PutRowRequest {
        table_name: table.into(),
        row: plainbuffer::encode_row(row),
        condition: Condition::ignore(),
        ..Default::default()
    }
    .encode_to_vec()
}

fn put_points(table: &str, points: &[TimeseriesRow]) -> Vec<u8> {
    let rows = flatrows::encode(points);
    PutTimeseriesDataRequest {
        table_name: table.into(),
        rows_data: TimeseriesRows {
            r#type: RowsSerializeType::RstFlatBuffer as i32,
            flatbuffer_crc32c: Some(flatrows::crc32c_signed(&rows)),
            rows_data: rows,
        },
        supported_table_version: Some(1),
        ..Default::default()
    }
    .encode_to_vec()
}

fn pk(s: PkValue, i: PkValue) -> Vec<u8> {
    plainbuffer::encode_primary_key(&[("s".into(), s), ("i".into(), i)])
}

/// One request per action, tagged with the action's index.
fn request_seeds() -> Vec<Vec<u8>> {
    let tag = |action: &str, body: Vec<u8>| -> Vec<u8> {
        let i = ACTIONS.iter().position(|a| *a == action).unwrap() as u8;
        let mut out = vec![i];
        out.extend(body);
        out
    };
    let key = pk(PkValue::String("k1".into()), PkValue::Integer(1));
    let mut seeds = vec![
        tag(
            "CreateTable",
            CreateTableRequest::new("made", &[("a", PrimaryKeyType::Binary)]).encode_to_vec(),
        ),
        tag(
            "DescribeTable",
            DescribeTableRequest {
                table_name: "t".into(),
            }
            .encode_to_vec(),
        ),
        tag("ListTable", vec![]),
        tag(
            "DeleteTable",
            DeleteTableRequest {
                table_name: "made".into(),
            }
            .encode_to_vec(),
        ),
        tag(
            "GetRow",
            GetRowRequest {
                table_name: "t".into(),
                primary_key: key.clone(),
                max_versions: Some(1),
                columns_to_get: vec!["a".into()],
                ..Default::default()
            }
            .encode_to_vec(),
        ),
        tag(
            "GetRange",
            GetRangeRequest {
                table_name: "t".into(),
                direction: Direction::Forward as i32,
                max_versions: Some(1),
                limit: Some(3),
                inclusive_start_primary_key: pk(PkValue::InfMin, PkValue::InfMin),
                exclusive_end_primary_key: pk(PkValue::InfMax, PkValue::InfMax),
                ..Default::default()
            }
            .encode_to_vec(),
        ),
        tag(
            "BatchGetRow",
            BatchGetRowRequest {
                tables: vec![TableInBatchGetRowRequest {
                    table_name: "t".into(),
                    primary_key: vec![
                        key.clone(),
                        pk(PkValue::String("zz".into()), PkValue::Integer(9)),
                    ],
                    max_versions: Some(1),
                    ..Default::default()
                }],
            }
            .encode_to_vec(),
        ),
        tag(
            "DescribeTimeseriesTable",
            DescribeTimeseriesTableRequest {
                table_name: "ts".into(),
            }
            .encode_to_vec(),
        ),
        tag("ListTimeseriesTable", vec![]),
        tag(
            "GetTimeseriesData",
            GetTimeseriesDataRequest {
                table_name: "ts".into(),
                time_series_key: TimeseriesKey {
                    measurement: Some("m1".into()),
                    source: Some(String::new()),
                    tags: Some(r#"["host=h1"]"#.into()),
                    ..Default::default()
                },
                begin_time: Some(0),
                end_time: Some(i64::MAX),
                limit: Some(2),
                ..Default::default()
            }
            .encode_to_vec(),
        ),
        tag(
            "QueryTimeseriesMeta",
            QueryTimeseriesMetaRequest {
                table_name: "ts".into(),
                get_total_hit: Some(true),
                limit: Some(2),
                ..Default::default()
            }
            .encode_to_vec(),
        ),
        tag(
            "DeleteTimeseriesTable",
            DeleteTimeseriesTableRequest {
                table_name: "gone".into(),
            }
            .encode_to_vec(),
        ),
    ];
    // Writes carrying every SDK fixture row.
    let fixtures = plainbuffer_fixtures();
    let kinds = [
        OperationType::Put,
        OperationType::Update,
        OperationType::Delete,
    ];
    for (n, bytes) in fixtures.iter().enumerate() {
        let op = kinds[n % 3];
        let action = match op {
            OperationType::Put => "PutRow",
            OperationType::Update => "UpdateRow",
            OperationType::Delete => "DeleteRow",
        };
        let body = match op {
            OperationType::Put => PutRowRequest {
                table_name: "t".into(),
                row: bytes.clone(),
                condition: Condition::ignore(),
                ..Default::default()
            }
            .encode_to_vec(),
            OperationType::Update => UpdateRowRequest {
                table_name: "t".into(),
                row_change: bytes.clone(),
                condition: Condition::ignore(),
                ..Default::default()
            }
            .encode_to_vec(),
            OperationType::Delete => DeleteRowRequest {
                table_name: "t".into(),
                primary_key: bytes.clone(),
                condition: Condition::ignore(),
                ..Default::default()
            }
            .encode_to_vec(),
        };
        seeds.push(tag(action, body));
    }
    let batch = BatchWriteRowRequest {
        tables: vec![TableInBatchWriteRowRequest {
            table_name: "t".into(),
            rows: fixtures
                .iter()
                .take(6)
                .enumerate()
                .map(|(n, b)| RowInBatchWriteRowRequest {
                    r#type: kinds[n % 3] as i32,
                    row_change: b.clone().into(),
                    condition: Condition::ignore(),
                    return_content: Some(ReturnContent {
                        return_type: Some(ReturnType::RtPk as i32),
                        ..Default::default()
                    }),
                })
                .collect(),
        }],
        ..Default::default()
    };
    seeds.push(tag("BatchWriteRow", batch.encode_to_vec()));
    for ts in fixture_files("sdk", true) {
        let req = PutTimeseriesDataRequest {
            table_name: "ts".into(),
            rows_data: TimeseriesRows {
                r#type: RowsSerializeType::RstFlatBuffer as i32,
                flatbuffer_crc32c: None,
                rows_data: ts,
            },
            ..Default::default()
        };
        seeds.push(tag("PutTimeseriesData", req.encode_to_vec()));
    }
    seeds.push(tag(
        "CreateTimeseriesTable",
        CreateTimeseriesTableRequest {
            table_meta: TimeseriesTableMeta {
                table_name: "made_ts".into(),
                ..Default::default()
            },
            ..Default::default()
        }
        .encode_to_vec(),
    ));
    seeds
}

#[test]
fn fuzz_protobuf_requests() {
    let served = Served::new();
    let seeds = request_seeds();
    assert!(seeds.len() >= ACTIONS.len(), "a seed per action");
    let mut cases = 0u64;
    fuzzing::run("requests", seeds, 60_000, |input| {
        cases += 1;
        if cases % 500 == 0 {
            served.ensure_tables();
        }
        served.check(input)
    });
}

/// A random meta query condition tree, sometimes far too deep or wide.
fn random_condition(rng: &mut Rng, depth_left: usize) -> MetaQueryCondition {
    let single_op = |rng: &mut Rng| -> i32 {
        if rng.chance(20) {
            rng.interesting_i64() as i32
        } else {
            1 + rng.below(6) as i32
        }
    };
    if depth_left > 0 && rng.chance(2) {
        let children = if rng.chance(10) {
            rng.below(40)
        } else {
            1 + rng.below(3)
        };
        let op = if rng.chance(20) {
            9
        } else {
            1 + rng.below(3) as i32
        };
        return MetaQueryCondition {
            r#type: MetaQueryConditionType::Composite as i32,
            proto_data: MetaQueryCompositeCondition {
                op,
                sub_conditions: (0..children)
                    .map(|_| random_condition(rng, depth_left - 1))
                    .collect(),
            }
            .encode_to_vec(),
        };
    }
    let (kind, data) = match rng.below(6) {
        0 => (
            MetaQueryConditionType::Measurement,
            MetaQueryValueCondition {
                op: single_op(rng),
                value: format!("m{}", rng.below(4)),
            }
            .encode_to_vec(),
        ),
        1 => (
            MetaQueryConditionType::Source,
            MetaQueryValueCondition {
                op: single_op(rng),
                value: name(rng),
            }
            .encode_to_vec(),
        ),
        2 => (
            MetaQueryConditionType::Tag,
            MetaQueryNamedCondition {
                op: single_op(rng),
                name: "host".into(),
                value: format!("h{}", rng.below(10)),
            }
            .encode_to_vec(),
        ),
        3 => (
            MetaQueryConditionType::UpdateTime,
            MetaQueryUpdateTimeCondition {
                op: single_op(rng),
                value: rng.interesting_i64(),
            }
            .encode_to_vec(),
        ),
        4 => (
            MetaQueryConditionType::Attribute,
            MetaQueryNamedCondition {
                op: single_op(rng),
                name: name(rng),
                value: name(rng),
            }
            .encode_to_vec(),
        ),
        _ => (
            MetaQueryConditionType::Composite,
            (0..rng.below(6)).map(|_| rng.byte()).collect(),
        ),
    };
    MetaQueryCondition {
        r#type: kind as i32,
        proto_data: data,
    }
}

/// A chain of `levels` single-child ANDs around a measurement condition.
fn chain(levels: usize) -> MetaQueryCondition {
    let mut c = MetaQueryCondition {
        r#type: MetaQueryConditionType::Measurement as i32,
        proto_data: MetaQueryValueCondition {
            op: MetaQuerySingleOperator::OpEqual as i32,
            value: "m1".into(),
        }
        .encode_to_vec(),
    };
    for _ in 0..levels {
        c = MetaQueryCondition {
            r#type: MetaQueryConditionType::Composite as i32,
            proto_data: MetaQueryCompositeCondition {
                op: MetaQueryCompositeOperator::OpAnd as i32,
                sub_conditions: vec![c],
            }
            .encode_to_vec(),
        };
    }
    c
}

/// Composite depth of a condition, measured here independently (with an
/// explicit stack) from the emulator's own check.
fn depth_of(root: &MetaQueryCondition) -> usize {
    let mut deepest = 0;
    let mut open = vec![(root.clone(), 1usize)];
    while let Some((c, d)) = open.pop() {
        if c.r#type != MetaQueryConditionType::Composite as i32 {
            continue;
        }
        deepest = deepest.max(d);
        if let Ok(comp) = MetaQueryCompositeCondition::decode(&c.proto_data[..]) {
            open.extend(comp.sub_conditions.into_iter().map(|s| (s, d + 1)));
        }
    }
    deepest
}

/// A GetRange filter: a chain of NOTs (or wide ANDs) over a column filter.
fn filter_chain(rng: &mut Rng, levels: usize) -> Filter {
    let mut f = Filter {
        r#type: FilterType::FtSingleColumnValue as i32,
        filter: SingleColumnValueFilter {
            comparator: 1 + rng.below(8) as i32,
            column_name: "n".into(),
            column_value: plainbuffer::encode_value_without_length(&PkValue::Integer(
                rng.interesting_i64(),
            )),
            filter_if_missing: rng.chance(2),
            latest_version_only: rng.chance(2),
            ..Default::default()
        }
        .encode_to_vec(),
    };
    for _ in 0..levels {
        let wide = rng.chance(3);
        f = Filter {
            r#type: FilterType::FtCompositeColumnValue as i32,
            filter: CompositeColumnValueFilter {
                combinator: if wide {
                    LogicalOperator::LoAnd
                } else {
                    LogicalOperator::LoNot
                } as i32,
                sub_filters: if wide { vec![f.clone(), f] } else { vec![f] },
            }
            .encode_to_vec(),
        };
    }
    f
}

#[test]
fn fuzz_conditions() {
    let served = Served::new();
    let meta = ACTIONS
        .iter()
        .position(|a| *a == "QueryTimeseriesMeta")
        .unwrap() as u8;
    let range = ACTIONS.iter().position(|a| *a == "GetRange").unwrap() as u8;
    let mut rng = Rng::new(4);
    let mut seeds = Vec::new();
    for levels in [
        0,
        1,
        5,
        MAX_CONDITION_DEPTH,
        MAX_CONDITION_DEPTH + 1,
        200,
        6_000,
    ] {
        let mut s = vec![meta];
        QueryTimeseriesMetaRequest {
            table_name: "ts".into(),
            condition: Some(chain(levels)),
            ..Default::default()
        }
        .encode(&mut s)
        .unwrap();
        seeds.push(s);
    }
    for _ in 0..30 {
        let mut s = vec![meta];
        QueryTimeseriesMetaRequest {
            table_name: "ts".into(),
            condition: Some(random_condition(&mut rng, 6)),
            get_total_hit: Some(rng.chance(2)),
            ..Default::default()
        }
        .encode(&mut s)
        .unwrap();
        seeds.push(s);
    }
    for levels in [0, 3, 10, 11, 40] {
        let mut s = vec![range];
        GetRangeRequest {
            table_name: "t".into(),
            direction: Direction::Forward as i32,
            max_versions: Some(1),
            inclusive_start_primary_key: pk(PkValue::InfMin, PkValue::InfMin),
            exclusive_end_primary_key: pk(PkValue::InfMax, PkValue::InfMax),
            filter: Some(filter_chain(&mut rng, levels).encode_to_vec()),
            ..Default::default()
        }
        .encode(&mut s)
        .unwrap();
        seeds.push(s);
    }
    fuzzing::run("conditions", seeds, 30_000, |input| {
        let outcome = served.check(input)?;
        // Whatever the bytes became: a meta query that decodes to a tree
        // deeper than the limit must have been refused.
        if let (Some((&which, body)), Outcome::Accepted) = (input.split_first(), &outcome) {
            if ACTIONS[which as usize % ACTIONS.len()] == "QueryTimeseriesMeta" {
                if let Ok(req) = QueryTimeseriesMetaRequest::decode(body) {
                    if let Some(c) = &req.condition {
                        let d = depth_of(c);
                        if d > MAX_CONDITION_DEPTH {
                            return Err(format!("a condition {d} levels deep was served"));
                        }
                    }
                }
            }
        }
        Ok(outcome)
    });
}
