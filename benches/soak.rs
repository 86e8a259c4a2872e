//! Soak benchmark (not a test): the fault suite's chaos, for as long as
//! you like. Three sink processes in one group on a 24-partition topic
//! write through the fault gateway (the field report's mix: 502s, portal
//! pages, dropped answers, corrupted answers, latency spikes) while
//! messages keep arriving with poison among them; every `SOAK_KILL_S`
//! seconds a random process is `kill -9`ed and restarted, every
//! `SOAK_OUTAGE_EVERY_S` seconds Tablestore goes away for 10 s.
//!
//! At the end it waits for the table to settle and prints messages in,
//! rows expected, rows out, lost, extra, wrong values, poison
//! dead-lettered, and the faults injected; it exits 1 if anything was lost,
//! extra or wrong.
//!
//! Run: `cargo bench --bench soak` (needs `scripts/setup.sh`);
//! `SOAK_MINUTES` (default 2), `SOAK_RATE` messages/s (default 2000).

#[path = "../tests/common/mod.rs"]
mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant};

use common::chaos::{field_mix, produce_range, Fleet, Rig};
use common::ingest::{coordinates, KAFKA_PK};
use common::sink::config;
use rand::{Rng, SeedableRng};
use tablestore_sink::fault_gateway::FaultPlan;
use tablestore_sink::tablestore::plainbuffer::Value;

fn env_or<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn main() {
    let minutes: f64 = env_or("SOAK_MINUTES", 2.0);
    let rate: usize = env_or("SOAK_RATE", 2000);
    let kill_every = Duration::from_secs(env_or("SOAK_KILL_S", 20));
    let outage_every = Duration::from_secs(env_or("SOAK_OUTAGE_EVERY_S", 60));
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let clean = runtime.block_on(soak(
        Duration::from_secs_f64(minutes * 60.0),
        rate,
        kill_every,
        outage_every,
    ));
    std::process::exit(if clean { 0 } else { 1 });
}

async fn soak(length: Duration, rate: usize, kill_every: Duration, outage_every: Duration) -> bool {
    let rig = Rig::start("soak", 24, 5).await;
    let (dir, broker, client, gw, topic, partitions) = (
        &rig.dir,
        &rig.broker,
        &rig.client,
        &rig.gateway,
        &rig.topic,
        rig.partitions,
    );
    let name = "soak";
    let cfg = config(
        name,
        &broker.bootstrap(),
        topic,
        &gw.endpoint(),
        "soak",
        "consumer_concurrency = 2\nerror_topic = \"rejected-soak\"",
        "[writer]\nretry_max_ms = 1000\nrequest_timeout_ms = 5000\n",
    )
    .replace("consumer_concurrency = 1\n", "");
    let mut fleet = Fleet::new(dir.path(), cfg, 3);
    for slot in 0..3 {
        fleet.start(slot);
    }
    gw.set_plan(field_mix());
    let (mut rows, mut dead, mut placed) = (BTreeMap::new(), BTreeSet::new(), Vec::new());
    let mut rng = rand::rngs::StdRng::seed_from_u64(7);
    let started = Instant::now();
    let (mut next_kill, mut next_outage) = (kill_every, outage_every);
    let mut produced = 0usize;
    let mut kills = 0;
    let mut outages = 0;
    while started.elapsed() < length {
        let tick = Instant::now();
        let batch = rate / 4;
        produce_range(
            broker,
            topic,
            partitions,
            produced..produced + batch,
            &mut rows,
            &mut dead,
            &mut placed,
        )
        .await;
        produced += batch;
        if started.elapsed() >= next_kill {
            next_kill += kill_every;
            let victim = rng.random_range(0..3);
            fleet.kill9(victim);
            kills += 1;
            tokio::time::sleep(Duration::from_secs(2)).await;
            fleet.start(victim);
        }
        if started.elapsed() >= next_outage {
            next_outage += outage_every;
            outages += 1;
            gw.set_plan(FaultPlan {
                outage: true,
                ..field_mix()
            });
            tokio::time::sleep(Duration::from_secs(10)).await;
            gw.set_plan(field_mix());
        }
        if let Some(rest) = Duration::from_millis(250).checked_sub(tick.elapsed()) {
            tokio::time::sleep(rest).await;
        }
        eprint!(
            "\rsoak: {:>4.0} s, {produced} messages in, {kills} kill -9s, {outages} outages   ",
            started.elapsed().as_secs_f64()
        );
    }
    eprintln!();
    // Let the fleet finish: no new faults, wait until the table is stable.
    gw.set_plan(FaultPlan::none());
    let mut table = Vec::new();
    let mut stable_since = Instant::now();
    let deadline = Instant::now() + Duration::from_secs(300);
    while Instant::now() < deadline {
        let now = common::try_all_rows(client, "soak", KAFKA_PK)
            .await
            .unwrap_or_default();
        if now.len() != table.len() {
            stable_since = Instant::now();
        }
        table = now;
        if table.len() >= rows.len() && stable_since.elapsed() > Duration::from_secs(5) {
            break;
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
    let got: BTreeMap<(i32, i64), Option<String>> = table
        .iter()
        .map(|r| {
            let i = match r.latest("i") {
                Some(Value::String(s)) => Some(s.clone()),
                _ => None,
            };
            (coordinates(topic, r), i)
        })
        .collect();
    let lost = rows.keys().filter(|k| !got.contains_key(k)).count();
    let extra = got.keys().filter(|k| !rows.contains_key(k)).count();
    let wrong = rows
        .iter()
        .filter(|(k, v)| got.get(k).is_some_and(|g| g.as_deref() != Some(v.as_str())))
        .count();
    let dead_letters = broker.read_all("connect-error-soak", usize::MAX, Duration::from_secs(3));
    let dead_got: BTreeSet<(i32, i64)> = common::ingest::sources_of(&dead_letters)
        .into_iter()
        .collect();
    let errors = broker.read_all("rejected-soak", usize::MAX, Duration::from_secs(2));
    let c = gw.counts();
    println!(
        "soak: {:.1} minutes, {kills} kill -9s, {outages} outages of 10 s",
        length.as_secs_f64() / 60.0
    );
    println!("  messages in        {}", placed.len());
    println!("  rows expected      {}", rows.len());
    println!("  rows out           {}", got.len());
    println!("  lost               {lost}");
    println!("  extra              {extra}");
    println!("  wrong values       {wrong}");
    println!(
        "  poison             {} (dead-lettered: {}, records {})",
        dead.len(),
        dead_got.intersection(&dead).count(),
        dead_letters.len()
    );
    println!("  healthy in errors  {}", errors.len());
    println!(
        "  faults injected    {} (502 {}, portal {}, closed after forward {}, corrupted {}, delayed {}, refused {}) of {} requests",
        c.injected(),
        c.bad_gateway,
        c.portal_page,
        c.closed_after_forward,
        c.corrupted,
        c.delayed,
        c.refused,
        c.requests
    );
    for slot in 0..3 {
        fleet.stop(slot);
    }
    drop(rig);
    lost == 0 && extra == 0 && wrong == 0 && dead_got == dead && errors.is_empty()
}
