//! Faults between the sink and Tablestore, through the fault gateway:
//! gateway errors without a Tablestore body, captive-portal pages,
//! connections closed after the request was applied, corrupted answers,
//! latency spikes and a full outage. Healthy rows must never be treated
//! as bad data: after each run the table holds exactly every message,
//! the error topic is empty, no partition stopped, and the commits are at
//! the end offsets.

mod common;

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use common::broker::Broker;
use common::ingest::*;
use common::sink::{config, SinkProcess};
use tablestore_sink::fault_gateway::{Fault, FaultGateway, FaultPlan};
use tablestore_sink::tablestore::error::{Disposition, ErrorKind};
use tablestore_sink::tablestore::{Client, ClientConfig};

fn client_via(endpoint: &str) -> Client {
    let mut c = ClientConfig::new(endpoint, "local", "local-ak", "local-secret");
    c.request_timeout = Duration::from_secs(10);
    Client::new(c).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_fault_reaches_the_client_as_an_error_that_never_rejects_data() {
    let dir = tempfile::tempdir().unwrap();
    let emu = common::emulator(&dir.path().join("ts")).await;
    let gw = FaultGateway::start(&emu.endpoint(), FaultPlan::none(), 1)
        .await
        .unwrap();
    let client = client_via(&gw.endpoint());

    gw.set_plan(FaultPlan {
        bad_gateway: 1.0,
        ..FaultPlan::none()
    });
    let e = client.list_table().await.unwrap_err();
    assert_eq!(
        (e.kind, e.http_status, e.code.as_str()),
        (ErrorKind::Gateway, 502, "HTTP502")
    );
    assert!(e.message.contains("502 Bad Gateway"), "{e}");
    assert_eq!(e.disposition(), Disposition::Transient);

    gw.set_plan(FaultPlan {
        portal_page: 1.0,
        ..FaultPlan::none()
    });
    let e = client.list_table().await.unwrap_err();
    assert_eq!(e.kind, ErrorKind::Integrity, "{e}");
    assert!(e.message.contains("not from Tablestore"), "{e}");

    gw.set_plan(FaultPlan {
        corrupt: 1.0,
        ..FaultPlan::none()
    });
    let e = client.list_table().await.unwrap_err();
    assert_eq!(e.kind, ErrorKind::Integrity, "{e}");
    assert_eq!(e.disposition(), Disposition::Transient);

    // Applied upstream, then the connection is closed unanswered.
    gw.set_plan(FaultPlan {
        close_after_forward: 1.0,
        ..FaultPlan::none()
    });
    let e = client
        .create_table(
            &tablestore_sink::tablestore::proto::CreateTableRequest::new(
                "applied",
                &[(
                    "id",
                    tablestore_sink::tablestore::proto::PrimaryKeyType::Integer,
                )],
            ),
        )
        .await
        .unwrap_err();
    assert_eq!(e.kind, ErrorKind::Transport, "{e}");
    assert_eq!(e.disposition(), Disposition::Transient);

    gw.set_plan(FaultPlan {
        outage: true,
        ..FaultPlan::none()
    });
    let e = client.list_table().await.unwrap_err();
    assert_eq!(e.kind, ErrorKind::Transport, "{e}");

    gw.set_plan(FaultPlan {
        delay: 1.0,
        delay_ms: (300, 300),
        ..FaultPlan::none()
    });
    let started = Instant::now();
    let tables = client.list_table().await.unwrap();
    assert!(started.elapsed() >= Duration::from_millis(300));
    assert_eq!(
        tables,
        vec!["applied".to_owned()],
        "the closed request was applied"
    );

    let c = gw.counts();
    assert_eq!(
        (
            c.bad_gateway,
            c.portal_page,
            c.corrupted,
            c.closed_after_forward,
            c.delayed
        ),
        (1, 1, 1, 1, 1),
        "{c:?}"
    );
    assert!(c.refused >= 1, "{c:?}");
    gw.stop().await;
}

/// The fault mix of the field report: 5 % gateway errors, 2 % closed
/// after forwarding, 3 % delayed 300–800 ms, plus portal pages and
/// corrupted answers, then a 10 s outage.
fn field_mix() -> FaultPlan {
    FaultPlan {
        bad_gateway: 0.05,
        portal_page: 0.01,
        close_after_forward: 0.02,
        corrupt: 0.01,
        delay: 0.03,
        delay_ms: (300, 800),
        outage: false,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_misbehaving_gateway_and_an_outage_lose_nothing_and_route_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let broker = Broker::start();
    let emu = common::emulator(&dir.path().join("ts")).await;
    let client = common::client(&emu);
    // The sink starts while every answer is a 502: it must wait, not exit.
    let gw = FaultGateway::start(
        &emu.endpoint(),
        FaultPlan {
            bad_gateway: 1.0,
            ..FaultPlan::none()
        },
        7,
    )
    .await
    .unwrap();
    let topic = common::unique("gw");
    let partitions = 6;
    broker.create_topic(&topic, partitions).await;
    let msgs = numbered(0, 3000, partitions, 40);
    let first = produce(&broker, &topic, &msgs[..1500]).await;
    let name = format!("gw{}", std::process::id());
    let cfg = config(
        &name,
        &broker.bootstrap(),
        &topic,
        &gw.endpoint(),
        "gw",
        &format!("error_topic = \"rejected-{name}\""),
        "[writer]\nmax_batch_rows = 10\nretry_max_ms = 500\nrequest_timeout_ms = 5000\n",
    );
    let mut sink = SinkProcess::start(dir.path(), "sink", &cfg);
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert!(
        sink.is_running(),
        "the sink exited on a 502 at startup:\n{}",
        sink.log_text()
    );
    gw.set_plan(field_mix());
    // One of each for sure, then the mix's draws.
    gw.inject(&[
        Fault::BadGateway,
        Fault::PortalPage,
        Fault::CloseAfterForward,
        Fault::Corrupt,
        Fault::Delay,
    ]);
    until("a third of the rows", &[&sink], || async {
        let n = common::try_all_rows(&client, "gw", KAFKA_PK)
            .await
            .ok()?
            .len();
        (n >= 1000).then_some(())
    })
    .await;
    gw.set_plan(FaultPlan {
        outage: true,
        ..field_mix()
    });
    let second = produce(&broker, &topic, &msgs[1500..]).await;
    tokio::time::sleep(Duration::from_secs(10)).await;
    gw.set_plan(field_mix());
    let rows = until("3000 rows", &[&sink], || async {
        let rows = common::try_all_rows(&client, "gw", KAFKA_PK).await.ok()?;
        (rows.len() >= 3000).then_some(rows)
    })
    .await;
    let placed: Vec<(i32, i64)> = first.into_iter().chain(second).collect();
    Verdict {
        broker: &broker,
        topic: &topic,
        partitions,
        group: &format!("connect-{name}"),
        dead_letter_topic: &format!("connect-error-{name}"),
        error_topic: &format!("rejected-{name}"),
        rows: &expected_rows(&msgs),
        dead: &BTreeSet::new(),
        end: end_offsets(&placed, partitions),
    }
    .check(&rows);
    let log = sink.log_text();
    assert!(
        !log.contains("partition stopped"),
        "a partition stopped:\n{}",
        tail(&log, 80)
    );
    let c = gw.counts();
    assert!(
        c.bad_gateway > 1
            && c.portal_page > 0
            && c.closed_after_forward > 0
            && c.corrupted > 0
            && c.delayed > 0
            && c.refused > 0
            && c.injected() >= 30,
        "every kind of fault was injected: {c:?}"
    );
    assert!(sink.stop().success());
    gw.stop().await;
}
