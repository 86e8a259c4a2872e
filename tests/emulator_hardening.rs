//! The emulator probed as a hostile client would, on loopback: deeply
//! nested conditions, slowloris heads, bodies that never arrive, huge
//! declared lengths, unsigned requests with bodies, and client text meant
//! to flood or forge log lines. Each check asserts the exact answer and
//! that the emulator keeps serving everyone else.

mod common;

use std::time::Duration;

use common::raw_http::{self, closed_within, head, read_response, signed_headers};
use prost::Message;
use tablestore_sink::emulator::{Emulator, EmulatorConfig, Timeouts};
use tablestore_sink::tablestore::flatrows::{FieldValue, SeriesKey, TimeseriesRow};
use tablestore_sink::tablestore::proto::*;
use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;

async fn emulator_with(dir: &std::path::Path, tune: impl FnOnce(&mut EmulatorConfig)) -> Emulator {
    let mut config = EmulatorConfig::new(dir);
    config.listen = "127.0.0.1:0".parse().unwrap();
    tune(&mut config);
    Emulator::start(config).await.expect("emulator starts")
}

/// The emulator still answers a normal client, promptly.
async fn still_serving(emu: &Emulator) {
    let client = common::client(emu);
    tokio::time::timeout(Duration::from_secs(10), client.list_table())
        .await
        .expect("ListTable answered within 10 s")
        .expect("ListTable succeeds");
}

fn nested_and(levels: usize) -> MetaQueryCondition {
    let mut c = MetaQueryCondition {
        r#type: MetaQueryConditionType::Measurement as i32,
        proto_data: MetaQueryValueCondition {
            op: MetaQuerySingleOperator::OpEqual as i32,
            value: "cpu".into(),
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_meta_condition_nested_5000_deep_gets_a_400_and_the_emulator_lives() {
    let dir = tempfile::tempdir().unwrap();
    let emu = common::emulator(dir.path()).await;
    let client = common::client(&emu);
    let table = common::unique("deep");
    client
        .create_timeseries_table(&table, -1)
        .await
        .expect("create TimeSeries table");
    // A series to match against, so the matcher would run.
    let point = TimeseriesRow {
        key: SeriesKey {
            measurement: "cpu".into(),
            data_source: "host".into(),
            tags: Default::default(),
        },
        time_us: 1_000_000,
        fields: vec![("v".into(), FieldValue::Long(1))],
        meta_cache_update_time: 0,
    };
    client
        .put_timeseries_data(&table, &[point])
        .await
        .expect("put a point");
    let condition = nested_and(5_000);
    assert!(condition.encoded_len() > 50_000, "the issue's 55 KB probe");
    let req = QueryTimeseriesMetaRequest {
        table_name: table.clone(),
        condition: Some(condition),
        ..Default::default()
    };
    let err = client
        .call::<_, QueryTimeseriesMetaResponse>("QueryTimeseriesMeta", &req)
        .await
        .unwrap_err();
    assert_eq!(
        (err.http_status, err.code.as_str()),
        (400, "OTSParameterInvalid")
    );
    assert_eq!(
        err.message,
        "The meta query condition is nested more than 32 levels deep."
    );
    // Shallow conditions still match.
    let req = QueryTimeseriesMetaRequest {
        table_name: table,
        condition: Some(nested_and(31)),
        ..Default::default()
    };
    let found: QueryTimeseriesMetaResponse =
        client.call("QueryTimeseriesMeta", &req).await.unwrap();
    assert_eq!(found.timeseries_metas.len(), 1);
    still_serving(&emu).await;
    emu.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn five_hundred_half_header_connections_do_not_stop_the_emulator() {
    let dir = tempfile::tempdir().unwrap();
    // 256 connections (the default); heads may take an hour, so only
    // evicting idle connections can make room.
    let emu = emulator_with(dir.path(), |c| {
        c.timeouts.header_read = Duration::from_secs(3600)
    })
    .await;
    let mut idle = Vec::new();
    for i in 0..500 {
        let mut s = tokio::time::timeout(Duration::from_secs(10), TcpStream::connect(emu.addr))
            .await
            .unwrap_or_else(|_| panic!("connection {i} not accepted within 10 s"))
            .unwrap();
        s.write_all(b"POST /ListTable HTTP/1.1\r\nHost: 127.0.0.1\r\nx-ots-date: ")
            .await
            .unwrap();
        idle.push(s);
    }
    // Served while all 500 stay connected (the oldest idle ones are evicted).
    for _ in 0..3 {
        still_serving(&emu).await;
    }
    let mut closed = 0;
    for s in idle.iter_mut() {
        if closed_within(s, Duration::from_millis(1)).await {
            closed += 1;
        }
    }
    assert!(
        closed >= 244,
        "only {closed} half-header connections were evicted"
    );
    drop(idle);
    emu.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stalled_head_and_an_idle_keep_alive_connection_are_closed_by_the_header_timeout() {
    let dir = tempfile::tempdir().unwrap();
    let emu = emulator_with(dir.path(), |c| {
        c.timeouts = Timeouts {
            header_read: Duration::from_millis(300),
            body_read: Duration::from_secs(5),
        }
    })
    .await;
    let mut half = TcpStream::connect(emu.addr).await.unwrap();
    half.write_all(b"POST /ListTable HTTP/1.1\r\nHost: 127.0.0.1\r\n")
        .await
        .unwrap();
    assert!(
        closed_within(&mut half, Duration::from_secs(5)).await,
        "a half-sent head is cut off"
    );

    // A complete request, then silence: closed after the same timeout.
    let body = ListTableRequest {}.encode_to_vec();
    let mut kept = TcpStream::connect(emu.addr).await.unwrap();
    let mut req = head(
        "ListTable",
        &signed_headers("ListTable", &body),
        body.len() as u64,
    );
    req.extend_from_slice(&body);
    kept.write_all(&req).await.unwrap();
    let resp = read_response(&mut kept).await.unwrap();
    assert_eq!(resp.status, 200);
    let started = std::time::Instant::now();
    assert!(
        closed_within(&mut kept, Duration::from_secs(5)).await,
        "idle connection closed"
    );
    assert!(
        started.elapsed() >= Duration::from_millis(250),
        "not before the timeout"
    );
    emu.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_declared_1_gb_body_is_refused_without_waiting_for_it() {
    let dir = tempfile::tempdir().unwrap();
    let emu = common::emulator(dir.path()).await;
    let mut s = TcpStream::connect(emu.addr).await.unwrap();
    // Signed for an empty body, declaring 1 GB, sending nothing.
    let headers = signed_headers("PutRow", b"");
    s.write_all(&head("PutRow", &headers, 1 << 30))
        .await
        .unwrap();
    let resp = tokio::time::timeout(Duration::from_secs(5), read_response(&mut s))
        .await
        .expect("answered at once, not after a body that never comes")
        .unwrap();
    assert_eq!(resp.status, 413);
    assert_eq!(
        resp.error(),
        (
            "OTSRequestBodyTooLarge".into(),
            "The size of POST data is too large.".into()
        )
    );
    assert_eq!(resp.header("connection"), Some("close"));
    assert!(closed_within(&mut s, Duration::from_secs(5)).await);
    still_serving(&emu).await;
    emu.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_body_that_stops_arriving_gets_408_after_the_body_timeout() {
    let dir = tempfile::tempdir().unwrap();
    let emu = emulator_with(dir.path(), |c| {
        c.timeouts = Timeouts {
            header_read: Duration::from_secs(60),
            body_read: Duration::from_millis(300),
        }
    })
    .await;
    let mut s = TcpStream::connect(emu.addr).await.unwrap();
    let body = vec![0u8; 1000];
    s.write_all(&head("PutRow", &signed_headers("PutRow", &body), 1000))
        .await
        .unwrap();
    s.write_all(&body[..10]).await.unwrap();
    let resp = tokio::time::timeout(Duration::from_secs(5), read_response(&mut s))
        .await
        .expect("answered after the body timeout")
        .unwrap();
    assert_eq!(resp.status, 408);
    assert_eq!(
        resp.error(),
        (
            "OTSRequestTimeout".into(),
            "The request body did not arrive within 0.3 s.".into()
        )
    );
    assert!(closed_within(&mut s, Duration::from_secs(5)).await);
    emu.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unsigned_requests_are_refused_before_their_body_is_read() {
    let dir = tempfile::tempdir().unwrap();
    let emu = common::emulator(dir.path()).await;
    // Declares 4 MB and sends none of it: the answer cannot depend on it.
    let mut headers = signed_headers("PutRow", b"");
    headers.retain(|(n, _)| n != "x-ots-signature");
    headers.push(("x-ots-signature".into(), "forged".into()));
    let mut s = TcpStream::connect(emu.addr).await.unwrap();
    s.write_all(&head("PutRow", &headers, 4 << 20))
        .await
        .unwrap();
    let resp = tokio::time::timeout(Duration::from_secs(5), read_response(&mut s))
        .await
        .expect("refused from the headers alone")
        .unwrap();
    assert_eq!(resp.status, 403);
    assert_eq!(
        resp.error(),
        ("OTSAuthFailed".into(), "Signature mismatch.".into())
    );
    assert!(closed_within(&mut s, Duration::from_secs(5)).await);

    // A small unsigned body is read and dropped: the connection stays
    // usable and the refusal arrives cleanly.
    let body = vec![7u8; 100];
    let mut unsigned = signed_headers("ListTable", &body);
    unsigned.retain(|(n, _)| n != "x-ots-accesskeyid");
    let mut s = TcpStream::connect(emu.addr).await.unwrap();
    let mut req = head("ListTable", &unsigned, body.len() as u64);
    req.extend_from_slice(&body);
    s.write_all(&req).await.unwrap();
    let resp = read_response(&mut s).await.unwrap();
    assert_eq!(resp.status, 400);
    assert_eq!(
        resp.error(),
        (
            "OTSParameterInvalid".into(),
            "Missing header: x-ots-accesskeyid.".into()
        )
    );
    assert_eq!(resp.header("connection"), None);

    // A signed request whose body does not match its MD5 is still refused.
    let mut s = TcpStream::connect(emu.addr).await.unwrap();
    let mut req = head("ListTable", &signed_headers("ListTable", b"other"), 5);
    req.extend_from_slice(b"tampr");
    s.write_all(&req).await.unwrap();
    let resp = read_response(&mut s).await.unwrap();
    assert_eq!(resp.status, 403);
    assert_eq!(
        resp.error().1,
        "Mismatch between MD5 value of request body and x-ots-contentmd5 in header."
    );
    emu.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn oversized_repeated_fields_get_the_service_limit_errors() {
    let dir = tempfile::tempdir().unwrap();
    let emu = common::emulator(dir.path()).await;

    // A 5 MB BatchWriteRow of 2.6 M empty rows.
    let mut table = vec![0x0a, 1, b't'];
    for _ in 0..2_600_000 {
        table.extend_from_slice(&[0x12, 0]);
    }
    let mut body = vec![0x0a];
    prost::encoding::encode_varint(table.len() as u64, &mut body);
    body.extend_from_slice(&table);
    assert!(body.len() <= 5 << 20);
    let resp = raw_http::signed_post(emu.addr, "BatchWriteRow", &body).await;
    assert_eq!(resp.status, 400);
    assert_eq!(
        resp.error(),
        (
            "OTSParameterInvalid".into(),
            "The total number of rows in BatchWriteRow exceeds the limit. Limit:200, Current:2600000."
                .into()
        )
    );

    // A PutTimeseriesData whose rows vector points at one row 20 000 times.
    let client = common::client(&emu);
    let ts = common::unique("rep");
    client.create_timeseries_table(&ts, -1).await.unwrap();
    let rows = common::flat::repeated_row(20_000, 100);
    assert!(rows.len() < 100_000, "80 KB of offsets");
    let req = PutTimeseriesDataRequest {
        table_name: ts,
        rows_data: TimeseriesRows {
            r#type: RowsSerializeType::RstFlatBuffer as i32,
            rows_data: rows.clone(),
            flatbuffer_crc32c: Some(tablestore_sink::tablestore::flatrows::crc32c_signed(&rows)),
        },
        meta_update_mode: None,
        supported_table_version: Some(1),
    };
    let err = client
        .call::<_, PutTimeseriesDataResponse>("PutTimeseriesData", &req)
        .await
        .unwrap_err();
    assert_eq!(
        (err.http_status, err.code.as_str()),
        (400, "OTSParameterInvalid")
    );
    assert_eq!(
        err.message,
        "The number of rows in PutTimeseriesData exceeds the limit. Limit:200, Current:20000."
    );
    still_serving(&emu).await;
    emu.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_text_in_logs_is_escaped_and_cut() {
    let dir = tempfile::tempdir().unwrap();
    let port = common::broker::free_port();
    let mut child = std::process::Command::new(common::sink::binary())
        .args([
            "emulator",
            "--listen",
            &format!("127.0.0.1:{port}"),
            "--data-dir",
        ])
        .arg(dir.path())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // Read the log as it is written, so a flood cannot block the emulator.
    let mut stderr = child.stderr.take().unwrap();
    let log_reader = std::thread::spawn(move || {
        let mut log = Vec::new();
        std::io::Read::read_to_end(&mut stderr, &mut log).unwrap();
        String::from_utf8_lossy(&log).into_owned()
    });
    let addr: std::net::SocketAddr = format!("127.0.0.1:{port}").parse().unwrap();
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    while TcpStream::connect(addr).await.is_err() {
        assert!(
            std::time::Instant::now() < deadline,
            "emulator did not listen"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    // A table name with a newline and a forged log line after it.
    let forged = "t\n2026-01-01T00:00:00Z  INFO tablestore_sink: admin logged in";
    let create = |name: &str| CreateTableRequest::new(name, &[("pk", PrimaryKeyType::String)]);
    let resp = raw_http::signed_post(addr, "CreateTable", &create(forged).encode_to_vec()).await;
    assert_eq!(resp.status, 400);
    assert_eq!(resp.error().1, format!("Invalid table name: '{forged}'."));
    // A 60 KB table name, and an unsigned request to a 60 KB path.
    let long = "x".repeat(60_000);
    let resp = raw_http::signed_post(addr, "CreateTable", &create(&long).encode_to_vec()).await;
    assert_eq!(resp.status, 400);
    let mut s = TcpStream::connect(addr).await.unwrap();
    let path = "p".repeat(60_000);
    s.write_all(&head(&path, &[], 0)).await.unwrap();
    let resp = tokio::time::timeout(Duration::from_secs(30), read_response(&mut s))
        .await
        .expect("answered within 30 s")
        .unwrap();
    assert_eq!(resp.status, 400);

    send_sigterm(child.id());
    let status = tokio::task::spawn_blocking(move || child.wait().unwrap())
        .await
        .unwrap();
    assert!(status.success(), "emulator exits 0 on SIGTERM");
    let log = log_reader.join().unwrap();
    let failed: Vec<&str> = log
        .lines()
        .filter(|l| l.contains("request failed"))
        .collect();
    assert_eq!(failed.len(), 3, "one line per failed request:\n{log}");
    assert!(
        !log.lines()
            .any(|l| l.contains("admin logged in") && !l.contains("request failed")),
        "a forged line reached the log:\n{log}"
    );
    assert!(
        failed[0].contains(r"t\n2026-01-01T00:00:00Z  INFO"),
        "{}",
        failed[0]
    );
    for line in &failed {
        assert!(line.len() < 2_000, "a {}-byte log line", line.len());
    }
    assert!(
        failed[1].contains("…(+"),
        "cut text says how much was cut: {}",
        failed[1]
    );
    assert!(
        failed[2].contains("…(+"),
        "cut path says how much was cut: {}",
        failed[2]
    );
}

fn send_sigterm(pid: u32) {
    let status = std::process::Command::new("kill")
        .args(["-TERM", &pid.to_string()])
        .status()
        .unwrap();
    assert!(status.success());
}
