//! Our client against our emulator, and both against the official Python
//! SDK: what one writes, the other must read back exactly.

mod common;

use serde_json::json;
use tablestore_sink::tablestore::flatrows::{FieldValue, SeriesKey, TimeseriesRow};
use tablestore_sink::tablestore::plainbuffer::{Cell, PkValue, Row, Value};
use tablestore_sink::tablestore::proto::*;
use tablestore_sink::tablestore::{Client, RowChange};

fn pk(s: &str, i: i64) -> Vec<(String, PkValue)> {
    vec![
        ("s".into(), PkValue::String(s.into())),
        ("i".into(), PkValue::Integer(i)),
    ]
}

async fn create(client: &Client, table: &str) {
    let pk = [
        ("s", PrimaryKeyType::String),
        ("i", PrimaryKeyType::Integer),
    ];
    client
        .create_table(&CreateTableRequest::new(table, &pk))
        .await
        .unwrap();
}

fn typed_row(s: &str, i: i64) -> Row {
    Row {
        primary_key: pk(s, i),
        cells: vec![
            Cell::put("str", Value::String("héllo ✓".into())),
            Cell::put("int", Value::Integer(i64::MIN)),
            Cell::put("dbl", Value::Double(-0.0)),
            Cell::put("big", Value::Double(1e300)),
            Cell::put("yes", Value::Boolean(true)),
            Cell::put("bin", Value::Binary(vec![0, 1, 254, 255])),
        ],
        delete_marker: false,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rows_our_client_writes_read_back_identically_through_the_sdk() {
    let dir = tempfile::tempdir().unwrap();
    let emu = common::emulator(dir.path()).await;
    let client = common::client(&emu);
    let table = common::unique("ours");
    create(&client, &table).await;
    client
        .put_row(
            &table,
            &typed_row("a", 1),
            RowExistenceExpectation::ExpectNotExist,
        )
        .await
        .unwrap();
    let changes: Vec<RowChange> = (0..5)
        .map(|i| RowChange::new(OperationType::Put, &typed_row("b", i)))
        .collect();
    assert!(client
        .batch_write_row(&table, &changes)
        .await
        .unwrap()
        .iter()
        .all(|r| r.is_ok()));

    let got = common::sdk(
        &emu.endpoint(),
        &format!(
            r#"
def enc(v):
    if isinstance(v, bytearray): return {{'bin': base64.b64encode(bytes(v)).decode()}}
    if isinstance(v, float): return {{'f': v.hex()}}
    return v
_, row, _ = client.get_row({table:?}, [('s','a'),('i',1)], max_version=1)
_, nxt, rows, _ = client.get_range({table:?}, Direction.FORWARD, [('s',INF_MIN),('i',INF_MIN)], [('s',INF_MAX),('i',INF_MAX)], limit=100)
print(json.dumps({{'pk': row.primary_key, 'cols': [[n, enc(v)] for n, v, ts in row.attribute_columns], 'range': [r.primary_key for r in rows], 'next': nxt}}))
"#
        ),
    );
    assert_eq!(got["pk"], json!([["s", "a"], ["i", 1]]));
    assert_eq!(
        got["cols"],
        json!([
            ["big", {"f": "0x1.7e43c8800759cp+996"}],
            ["bin", {"bin": "AAH+/w=="}],
            ["dbl", {"f": "-0x0.0p+0"}],
            ["int", i64::MIN],
            ["str", "héllo ✓"],
            ["yes", true],
        ])
    );
    let range: Vec<_> = std::iter::once(json!([["s", "a"], ["i", 1]]))
        .chain((0..5).map(|i| json!([["s", "b"], ["i", i]])))
        .collect();
    assert_eq!(got["range"], json!(range));
    assert_eq!(got["next"], json!(null));
    emu.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rows_the_sdk_writes_read_back_identically_through_our_client() {
    let dir = tempfile::tempdir().unwrap();
    let emu = common::emulator(dir.path()).await;
    let client = common::client(&emu);
    let table = common::unique("sdk");
    common::sdk(
        &emu.endpoint(),
        &format!(
            r#"
client.create_table(TableMeta({table:?}, [('s','STRING'),('i','INTEGER')]), TableOptions(), ReservedThroughput(CapacityUnit(0,0)))
client.put_row({table:?}, Row([('s','x'),('i',-5)], [('str','ü'), ('int', 9007199254740993), ('dbl', 0.1), ('yes', False), ('bin', bytearray(b'\x00\xff'))]))
client.update_row({table:?}, Row([('s','x'),('i',-5)], {{'increment': [('int', 1)], 'delete_all': ['yes']}}), Condition('EXPECT_EXIST'))
print(json.dumps(True))
"#
        ),
    );
    let row = client
        .get_row(&table, &pk("x", -5), &[], 1)
        .await
        .unwrap()
        .expect("row exists");
    let cols: Vec<(String, Value)> = row
        .cells
        .iter()
        .map(|c| (c.name.clone(), c.value.clone().unwrap()))
        .collect();
    assert_eq!(
        cols,
        vec![
            ("bin".to_string(), Value::Binary(vec![0, 255])),
            ("dbl".to_string(), Value::Double(0.1)),
            ("int".to_string(), Value::Integer(9007199254740994)),
            ("str".to_string(), Value::String("ü".into())),
        ]
    );
    assert!(
        row.cells.iter().all(|c| c.timestamp_ms.is_some()),
        "read rows carry cell timestamps"
    );
    emu.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn batch_results_are_per_row_and_ranges_page_over_5000_rows() {
    let dir = tempfile::tempdir().unwrap();
    let emu = common::emulator(dir.path()).await;
    let client = common::client(&emu);
    let table = common::unique("paging");
    create(&client, &table).await;
    let total = 5_300;
    for chunk in (0..total).collect::<Vec<i64>>().chunks(200) {
        let rows: Vec<RowChange> = chunk
            .iter()
            .map(|i| {
                RowChange::new(
                    OperationType::Put,
                    &Row {
                        primary_key: pk("p", *i),
                        cells: vec![Cell::put("v", Value::Integer(*i))],
                        delete_marker: false,
                    },
                )
            })
            .collect();
        let results = client.batch_write_row(&table, &rows).await.unwrap();
        assert!(results.iter().all(|r| r.is_ok()));
    }
    let first = client
        .get_range(
            &table,
            Direction::Forward,
            &pk("p", i64::MIN),
            &[("s".into(), PkValue::InfMax), ("i".into(), PkValue::InfMax)],
            None,
            &[],
        )
        .await
        .unwrap();
    assert_eq!(first.rows.len(), 5000, "a page stops at 5000 rows");
    assert_eq!(first.next_start, Some(pk("p", 5000)));
    let all = common::all_rows(&client, &table, &["s", "i"]).await;
    let seen: Vec<i64> = all
        .iter()
        .map(|r| match r.primary_key[1].1 {
            PkValue::Integer(i) => i,
            _ => -1,
        })
        .collect();
    assert_eq!(seen, (0..total).collect::<Vec<_>>());
    let back = client
        .get_range_all(
            &table,
            Direction::Backward,
            &[("s".into(), PkValue::InfMax), ("i".into(), PkValue::InfMax)],
            &[("s".into(), PkValue::InfMin), ("i".into(), PkValue::InfMin)],
            3,
        )
        .await
        .unwrap();
    assert_eq!(
        back.iter()
            .map(|r| r.primary_key.clone())
            .collect::<Vec<_>>(),
        vec![pk("p", 5299), pk("p", 5298), pk("p", 5297)]
    );

    // Per-row outcomes: a condition failure and a PK mismatch beside a success.
    let bad_pk = Row {
        primary_key: vec![
            ("s".into(), PkValue::Integer(1)),
            ("i".into(), PkValue::Integer(1)),
        ],
        cells: vec![],
        delete_marker: false,
    };
    let mut exists = RowChange::new(
        OperationType::Put,
        &Row {
            primary_key: pk("p", 1),
            cells: vec![Cell::put("v", Value::Integer(0))],
            delete_marker: false,
        },
    );
    exists.expect = RowExistenceExpectation::ExpectNotExist;
    let results = client
        .batch_write_row(
            &table,
            &[
                RowChange::new(
                    OperationType::Delete,
                    &Row {
                        delete_marker: true,
                        ..Row::with_key(pk("p", 2))
                    },
                ),
                exists,
                RowChange::new(OperationType::Put, &bad_pk),
            ],
        )
        .await
        .unwrap();
    assert!(results[0].is_ok());
    assert_eq!(
        results[1].as_ref().unwrap_err().code,
        "OTSConditionCheckFail"
    );
    let e = results[2].as_ref().unwrap_err();
    assert_eq!(
        (e.code.as_str(), e.message.as_str()),
        (
            "OTSInvalidPK",
            "Validate PK type fail. Input: VT_INTEGER, Meta: VT_STRING."
        )
    );
    assert!(!e.is_retriable());
    assert_eq!(
        client.get_row(&table, &pk("p", 2), &[], 1).await.unwrap(),
        None
    );
    emu.stop().await;
}

fn point(m: &str, host: &str, t: i64, v: f64) -> TimeseriesRow {
    TimeseriesRow {
        key: SeriesKey {
            measurement: m.into(),
            data_source: host.into(),
            tags: [("region".to_string(), "hz".to_string())].into(),
        },
        time_us: t,
        fields: vec![
            ("n".into(), FieldValue::Long(t)),
            ("v".into(), FieldValue::Double(v)),
        ],
        meta_cache_update_time: 0,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn timeseries_written_by_our_client_reads_back_through_both_clients() {
    let dir = tempfile::tempdir().unwrap();
    let emu = common::emulator(dir.path()).await;
    let client = common::client(&emu);
    let table = common::unique("ts");
    client.create_timeseries_table(&table, -1).await.unwrap();
    let points: Vec<_> = (0..10)
        .map(|i| point("cpu", "h1", 1_700_000_000_000_000 + i, i as f64 / 2.0))
        .chain([point("mem", "h2", 5, 1.0)])
        .collect();
    let results = client.put_timeseries_data(&table, &points).await.unwrap();
    assert!(results.iter().all(|r| r.is_ok()));
    let back = client
        .get_timeseries_data(&table, &points[0].key, 0, i64::MAX, 100)
        .await
        .unwrap();
    assert_eq!(back, points[..10].to_vec());
    let metas = client
        .query_timeseries_meta(&table, None, 10)
        .await
        .unwrap();
    assert_eq!(metas.len(), 2);

    let got = common::sdk(
        &emu.endpoint(),
        &format!(
            r#"
r = client.get_timeseries_data(GetTimeseriesDataRequest({table:?}, TimeseriesKey('cpu','h1',{{'region':'hz'}}), beginTimeInUs=0, endTimeInUs=2**62, limit=3))
print(json.dumps([[x.time_in_us, x.fields, x.timeseries_key.tags] for x in r.rows] + [r.nextToken is not None]))
"#
        ),
    );
    assert_eq!(
        got,
        json!([
            [1_700_000_000_000_000i64, {"n": 1_700_000_000_000_000i64, "v": 0.0}, {"region": "hz"}],
            [1_700_000_000_000_001i64, {"n": 1_700_000_000_000_001i64, "v": 0.5}, {"region": "hz"}],
            [1_700_000_000_000_002i64, {"n": 1_700_000_000_000_002i64, "v": 1.0}, {"region": "hz"}],
            true
        ])
    );
    // A bad point fails alone; the others are written.
    let mut bad = point("cpu", "h1", 1, 0.0);
    bad.fields = vec![("Bad Name".into(), FieldValue::Long(1))];
    let results = client
        .put_timeseries_data(&table, &[point("cpu", "h9", 1, 0.0), bad])
        .await
        .unwrap();
    assert!(results[0].is_ok());
    let e = results[1].as_ref().unwrap_err();
    assert_eq!(e.code, "OTSParameterInvalid");
    assert!(e.message.contains("\"Bad Name\""), "{}", e.message);
    emu.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn acknowledged_data_survives_a_restart_on_the_same_data_dir() {
    let dir = tempfile::tempdir().unwrap();
    let table = common::unique("restart");
    let ts_table = common::unique("restart_ts");
    let written: Vec<Row> = (0..300).map(|i| typed_row("r", i)).collect();
    {
        let emu = common::emulator(dir.path()).await;
        let client = common::client(&emu);
        create(&client, &table).await;
        for chunk in written.chunks(200) {
            let changes: Vec<_> = chunk
                .iter()
                .map(|r| RowChange::new(OperationType::Put, r))
                .collect();
            assert!(client
                .batch_write_row(&table, &changes)
                .await
                .unwrap()
                .iter()
                .all(|r| r.is_ok()));
        }
        client.create_timeseries_table(&ts_table, -1).await.unwrap();
        client
            .put_timeseries_data(&ts_table, &[point("cpu", "h1", 42, 4.2)])
            .await
            .unwrap();
        emu.stop().await;
    }
    let emu = common::emulator(dir.path()).await;
    let client = common::client(&emu);
    let all = common::all_rows(&client, &table, &["s", "i"]).await;
    assert_eq!(all.len(), written.len());
    for (got, want) in all.iter().zip(&written) {
        assert_eq!(got.primary_key, want.primary_key);
        let values: Vec<_> = got
            .cells
            .iter()
            .map(|c| (c.name.clone(), c.value.clone()))
            .collect();
        let mut expected: Vec<_> = want
            .cells
            .iter()
            .map(|c| (c.name.clone(), c.value.clone()))
            .collect();
        expected.sort_by(|a, b| a.0.cmp(&b.0));
        assert_eq!(values.len(), expected.len());
        for (a, b) in values.iter().zip(&expected) {
            assert_eq!(a.0, b.0);
            assert!(a.1.as_ref().unwrap().bitwise_eq(b.1.as_ref().unwrap()));
        }
    }
    let points = client
        .get_timeseries_data(&ts_table, &point("cpu", "h1", 0, 0.0).key, 0, i64::MAX, 10)
        .await
        .unwrap();
    assert_eq!(points, vec![point("cpu", "h1", 42, 4.2)]);
    emu.stop().await;
}
