//! Production's worst afternoon, end to end: three sink processes in one
//! group on a 24-partition topic, a gateway in front of Tablestore that
//! misbehaves (502s, dropped answers, corruption, latency spikes) and then
//! goes away for 10 s, poison in the stream (one over 1 MB), and repeated
//! `kill -9`s with restarts while messages keep arriving. Then a
//! scale-out from one process to three and back, mid-stream.
//!
//! After each: every healthy message is a row exactly once with its value,
//! the dead-letter topic holds exactly the poison, the error topic holds
//! nothing, and the committed offsets are the end offsets.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use common::broker::Broker;
use common::chaos::{field_mix, produce_range, Fleet, Rig};
use common::ingest::*;
use common::sink::config;
use rand::{Rng, SeedableRng};
use tablestore_sink::fault_gateway::FaultPlan;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_processes_kill9s_a_bad_gateway_and_an_outage_lose_nothing() {
    let rig = Rig::start("chaos", 24, 11).await;
    let (dir, broker, client, gw, topic, partitions) = (
        &rig.dir,
        &rig.broker,
        &rig.client,
        &rig.gateway,
        &rig.topic,
        rig.partitions,
    );
    let name = format!("chaos{}", std::process::id());
    let cfg = config(
        &name,
        &broker.bootstrap(),
        topic,
        &gw.endpoint(),
        "chaos",
        &format!("consumer_concurrency = 2\nerror_topic = \"rejected-{name}\""),
        // Two pipeline threads: partitions and writers on two lanes.
        "[writer]\nmax_batch_rows = 50\nretry_max_ms = 1000\nrequest_timeout_ms = 5000\npipeline_threads = 2\n",
    )
    .replace("consumer_concurrency = 1\n", "");
    let mut fleet = Fleet::new(dir.path(), cfg, 3);
    for slot in 0..3 {
        fleet.start(slot);
    }
    gw.set_plan(field_mix());
    let (mut rows, mut dead, mut placed) = (BTreeMap::new(), BTreeSet::new(), Vec::new());
    let mut rng = rand::rngs::StdRng::seed_from_u64(42);
    let total = 18_000;
    let step = total / 6;
    let mut kills = 0;
    for round in 0..6 {
        produce_range(
            broker,
            topic,
            partitions,
            round * step..(round + 1) * step,
            &mut rows,
            &mut dead,
            &mut placed,
        )
        .await;
        if round == 3 {
            gw.set_plan(FaultPlan {
                outage: true,
                ..field_mix()
            });
            tokio::time::sleep(Duration::from_secs(10)).await;
            gw.set_plan(field_mix());
        }
        // One kill -9 per round but the first; the victim restarts after
        // its session would have expired.
        if round > 0 {
            let victim = rng.random_range(0..3);
            tokio::time::sleep(Duration::from_millis(rng.random_range(1_000..3_000))).await;
            fleet.kill9(victim);
            kills += 1;
            tokio::time::sleep(Duration::from_secs(2)).await;
            fleet.start(victim);
        }
    }
    let expected_rows = rows.len();
    let table_rows = until_within(
        Duration::from_secs(240),
        "every row",
        &fleet.running(),
        || async {
            let got = common::try_all_rows(client, "chaos", KAFKA_PK).await.ok()?;
            (got.len() >= expected_rows).then_some(got)
        },
    )
    .await;
    let names = Names::of(&name);
    Verdict {
        error_topic: &format!("rejected-{name}"),
        ..Verdict::defaults(broker, topic, partitions, &names, &rows, &dead, &placed)
    }
    .check(&table_rows);
    let c = gw.counts();
    eprintln!(
        "chaos: {} messages, {} rows, {} poison, {kills} kill -9s, faults {c:?}",
        placed.len(),
        rows.len(),
        dead.len()
    );
    assert!(kills >= 5 && c.refused > 0 && c.bad_gateway > 0 && c.closed_after_forward > 0);
    for slot in 0..3 {
        fleet.stop(slot);
    }
    drop(rig);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scaling_out_to_three_processes_and_back_mid_stream_loses_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let broker = Broker::start();
    let emu = common::emulator(&dir.path().join("ts")).await;
    let client = common::client(&emu);
    let topic = common::unique("scale");
    let partitions = 12;
    broker.create_topic(&topic, partitions).await;
    let name = "scale";
    let cfg = config(
        name,
        &broker.bootstrap(),
        &topic,
        &emu.endpoint(),
        name,
        "",
        // Partitions come back to a process that gave them away: each
        // lane's actor must drop its queue before the revoke returns.
        "[writer]\npipeline_threads = 3\n",
    );
    let mut fleet = Fleet::new(dir.path(), cfg, 3);
    let (mut rows, mut dead, mut placed) = (BTreeMap::new(), BTreeSet::new(), Vec::new());
    fleet.start(0);
    let step = 2_000;
    for (round, action) in ["", "out", "out", "", "in", "in"].iter().enumerate() {
        match (*action, round) {
            ("out", r) => fleet.start(r),
            ("in", r) => fleet.stop(r - 3),
            _ => {}
        }
        produce_range(
            &broker,
            &topic,
            partitions,
            round * step..(round + 1) * step,
            &mut rows,
            &mut dead,
            &mut placed,
        )
        .await;
        tokio::time::sleep(Duration::from_secs(2)).await;
    }
    assert_eq!(fleet.running().len(), 1, "back to one process");
    let expected_rows = rows.len();
    let table_rows = until("every row", &fleet.running(), || async {
        let got = common::all_rows(&client, name, KAFKA_PK).await;
        (got.len() >= expected_rows).then_some(got)
    })
    .await;
    let names = Names::of(name);
    Verdict::defaults(&broker, &topic, partitions, &names, &rows, &dead, &placed)
        .check(&table_rows);
    fleet.stop(0);
}
