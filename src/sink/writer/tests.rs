//! The writer actor against an in-process emulator: rejected rows give
//! their order key back (a later write of the same key is not held up for
//! ever), and a cancel takes back exactly one assignment's writes, queued
//! or in flight, while the others are still written.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use actix::prelude::*;
use bytes::Bytes;
use rdkafka::message::Timestamp;

use crate::sink::record::SourceRecord;

use super::requests::RequestRuntime;
use super::Writer;
use crate::config::WriterConfig;
use crate::emulator::{Emulator, EmulatorConfig, Faults};
use crate::sink::budget::{Budget, BudgetPermit};
use crate::sink::messages::{Assignment, Cancel, EncodedWrite, Write, WriteOutcome};
use crate::tablestore::plainbuffer::{Cell, PkValue, Row, Value};
use crate::tablestore::proto::{CreateTableRequest, OperationType, PrimaryKeyType};
use crate::tablestore::{Client, ClientConfig, RowChange};

/// Collects what the writer answers.
#[derive(Default, Clone)]
struct Outcomes {
    written: Arc<Mutex<Vec<i64>>>,
    rejected: Arc<Mutex<Vec<i64>>>,
}

struct Collector(Outcomes);

impl Actor for Collector {
    type Context = Context<Self>;
}

impl Handler<WriteOutcome> for Collector {
    type Result = ();
    fn handle(&mut self, msg: WriteOutcome, _: &mut Context<Self>) {
        match msg {
            WriteOutcome::Written { offsets } => self.0.written.lock().unwrap().extend(offsets),
            WriteOutcome::Rejected(r) => self.0.rejected.lock().unwrap().push(r.offset),
        }
    }
}

fn write(offset: i64, key: i64, row: Bytes) -> EncodedWrite<RowChange> {
    let source = SourceRecord::new(
        None,
        None,
        "t".into(),
        Timestamp::NotAvailable,
        0,
        offset,
        None,
    );
    EncodedWrite {
        offset,
        order_key: key as u64,
        encoded_bytes: row.len(),
        payload: RowChange {
            op: OperationType::Put,
            row,
            expect: crate::tablestore::proto::RowExistenceExpectation::Ignore,
        },
        timestamp_ms: None,
        source,
        permit: BudgetPermit::empty(),
    }
}

fn row(id: i64) -> Bytes {
    Bytes::from(crate::tablestore::plainbuffer::encode_row(&Row {
        primary_key: vec![("id".into(), PkValue::Integer(id))],
        cells: vec![Cell::put("v", Value::Integer(id))],
        delete_marker: false,
    }))
}

async fn setup(dir: &std::path::Path, faults: Faults) -> (Emulator, Client) {
    let mut config = EmulatorConfig::new(dir);
    config.listen = "127.0.0.1:0".parse().unwrap();
    config.faults = faults;
    let emu = Emulator::start(config).await.unwrap();
    let client = Client::new(ClientConfig::new(
        &emu.endpoint(),
        crate::emulator::DEFAULT_INSTANCE,
        crate::emulator::DEFAULT_ACCESS_KEY_ID,
        crate::emulator::DEFAULT_ACCESS_KEY_SECRET,
    ))
    .unwrap();
    client
        .create_table(&CreateTableRequest::new(
            "w",
            &[("id", PrimaryKeyType::Integer)],
        ))
        .await
        .unwrap();
    (emu, client)
}

async fn wait_for(what: &str, check: impl Fn() -> bool) {
    for _ in 0..200 {
        if check() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    panic!("timed out waiting for {what}");
}

fn limits() -> WriterConfig {
    WriterConfig {
        retry_initial_ms: 10,
        retry_max_ms: 50,
        ..WriterConfig::default()
    }
}

#[actix::test]
async fn a_rejected_single_row_gives_its_key_back() {
    let dir = tempfile::tempdir().unwrap();
    let (_emu, client) = setup(dir.path(), Faults::default()).await;
    let writer = Writer::<RowChange>::new(
        client,
        "w".into(),
        "t".into(),
        limits(),
        Budget::new(1 << 20),
        std::sync::Arc::new(RequestRuntime::new(1).unwrap()),
        0,
    )
    .start();
    let outcomes = Outcomes::default();
    let reply = Collector(outcomes.clone()).start().recipient();
    // Bytes that are no row: the whole request is refused for its data.
    writer.do_send(Write {
        assignment: Assignment(1),
        items: vec![write(0, 7, Bytes::from_static(b"not plainbuffer"))],
        reply: reply.clone(),
    });
    wait_for("the rejection", || {
        outcomes.rejected.lock().unwrap().as_slice() == [0]
    })
    .await;
    // The same key again (its replay, say): it must go out.
    writer.do_send(Write {
        assignment: Assignment(1),
        items: vec![write(1, 7, row(7))],
        reply,
    });
    wait_for("the replayed row", || {
        outcomes.written.lock().unwrap().as_slice() == [1]
    })
    .await;
}

#[actix::test]
async fn cancel_takes_back_one_assignment_and_the_others_are_still_written() {
    let dir = tempfile::tempdir().unwrap();
    // Every request takes 300 ms: the first batch is in flight while we
    // cancel.
    let faults = Faults {
        latency: Duration::from_millis(300),
        throttle_rate: 0.0,
    };
    let (_emu, client) = setup(dir.path(), faults).await;
    let config = WriterConfig {
        max_batch_rows: 4,
        max_in_flight_requests: 1,
        ..limits()
    };
    let writer = Writer::<RowChange>::new(
        client.clone(),
        "w".into(),
        "t".into(),
        config,
        Budget::new(1 << 20),
        std::sync::Arc::new(RequestRuntime::new(1).unwrap()),
        0,
    )
    .start();
    let kept = Outcomes::default();
    let gone = Outcomes::default();
    // Interleaved so the first (in-flight) batch carries both assignments.
    for i in 0..8 {
        let (assignment, outcomes) = if i % 2 == 0 { (1, &kept) } else { (2, &gone) };
        writer.do_send(Write {
            assignment: Assignment(assignment),
            items: vec![write(i, i, row(i))],
            reply: Collector(outcomes.clone()).start().recipient(),
        });
    }
    tokio::time::sleep(Duration::from_millis(100)).await;
    let cancelled = writer
        .send(Cancel {
            assignment: Assignment(2),
        })
        .await
        .unwrap();
    assert_eq!(cancelled, 4, "two in flight, two queued");
    wait_for("the kept rows", || kept.written.lock().unwrap().len() == 4).await;
    tokio::time::sleep(Duration::from_millis(700)).await;
    assert!(gone.written.lock().unwrap().is_empty());
    let mut ids: Vec<i64> = Vec::new();
    for i in 0..8 {
        if client
            .get_row("w", &[("id".into(), PkValue::Integer(i))], &[], 1)
            .await
            .unwrap()
            .is_some()
        {
            ids.push(i);
        }
    }
    // Rows 1 and 3 were in an aborted request (it may have been applied
    // already); the queued ones must never be written.
    for odd in [5, 7] {
        assert!(
            !ids.contains(&odd),
            "queued row {odd} of the cancelled assignment was written"
        );
    }
    let mut written = kept.written.lock().unwrap().clone();
    written.sort();
    assert_eq!(written, vec![0, 2, 4, 6]);
}

/// A request shares its batch's payloads with the writer; when a batch
/// goes back to the queue (a retry, a split, a cancel's other rows) each
/// write gets its own payload again: moved back when the request has let
/// go of them, copied when an aborted request still holds them.
#[test]
fn sent_writes_get_their_own_payloads_back_moved_or_copied() {
    use super::{rejoin, take_back, Queued, Sent};
    let queued = |offset: i64| Queued {
        item: write(offset, offset, row(offset)),
        assignment: Assignment(1),
        attempt: 0,
        solo: false,
    };
    for still_held in [false, true] {
        let mut payloads = Vec::new();
        let sent: Vec<Sent> = (0..3)
            .map(|i| {
                let (payload, sent) = queued(10 + i).swap_payload(i as usize);
                payloads.push(payload);
                sent
            })
            .collect();
        let shared = Arc::new(payloads);
        let request = still_held.then(|| Arc::clone(&shared));
        let mut back = take_back(shared);
        // Requeued in another order than sent: each still finds its own.
        let requeued = rejoin(sent.into_iter().rev().collect(), &mut back);
        let offsets: Vec<i64> = requeued.iter().map(|q| q.item.offset).collect();
        assert_eq!(offsets, [12, 11, 10]);
        for q in &requeued {
            assert_eq!(
                q.item.payload.row,
                row(q.item.offset),
                "offset {}",
                q.item.offset
            );
        }
        if let Some(held) = &request {
            // The aborted request's batch is still whole for it.
            let rows: Vec<Bytes> = held.iter().map(|p| p.row.clone()).collect();
            assert_eq!(rows, [row(10), row(11), row(12)]);
        }
        drop(request);
    }
}
