//! Chaos building blocks shared by the fault suite and the soak
//! benchmark: a restartable fleet of sink processes, the chaos stream
//! (numbered healthy messages with poison at fixed positions), and the
//! field report's fault mix.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use tablestore_sink::emulator::Emulator;
use tablestore_sink::fault_gateway::{FaultGateway, FaultPlan};
use tablestore_sink::tablestore::Client;

use super::broker::Broker;
use super::sink::SinkProcess;

/// Sink processes by slot, restartable.
pub struct Fleet<'a> {
    dir: &'a Path,
    config: String,
    slots: Vec<Option<SinkProcess>>,
    /// Processes started so far (each gets its own log file).
    pub starts: usize,
}

impl<'a> Fleet<'a> {
    pub fn new(dir: &'a Path, config: String, size: usize) -> Self {
        Fleet {
            dir,
            config,
            slots: (0..size).map(|_| None).collect(),
            starts: 0,
        }
    }

    pub fn start(&mut self, slot: usize) {
        self.starts += 1;
        let name = format!("sink{slot}-{}", self.starts);
        self.slots[slot] = Some(SinkProcess::start(self.dir, &name, &self.config));
    }

    pub fn kill9(&mut self, slot: usize) {
        if let Some(p) = self.slots[slot].take() {
            p.kill9();
        }
    }

    pub fn stop(&mut self, slot: usize) {
        if let Some(p) = self.slots[slot].take() {
            assert!(p.stop().success(), "a sink failed to stop cleanly");
        }
    }

    pub fn running(&self) -> Vec<&SinkProcess> {
        self.slots.iter().flatten().collect()
    }
}

/// Poison for the chaos run: position in the stream → bytes.
pub fn poison_at(i: usize) -> Option<Vec<u8>> {
    match i {
        i if i % 1500 == 777 => Some(b"not json {".to_vec()),
        i if i % 1500 == 1333 => Some(b"[\"an\",\"array\"]".to_vec()),
        9_001 => Some(vec![b'#'; 3 * 1024 * 1024 / 2]),
        _ => None,
    }
}

/// Produces messages `range` of the chaos stream (healthy `{"i":N}` round
/// robin over `partitions`, poison where [`poison_at`] says); records
/// where each landed.
pub async fn produce_range(
    broker: &Broker,
    topic: &str,
    partitions: i32,
    range: std::ops::Range<usize>,
    rows: &mut BTreeMap<(i32, i64), String>,
    dead: &mut BTreeSet<(i32, i64)>,
    placed: &mut Vec<(i32, i64)>,
) {
    let values: Vec<(i32, Vec<u8>, bool)> = range
        .map(|i| {
            let p = (i % partitions as usize) as i32;
            match poison_at(i) {
                Some(bad) => (p, bad, true),
                None => (p, format!(r#"{{"i":{i}}}"#).into_bytes(), false),
            }
        })
        .collect();
    let refs: Vec<_> = values
        .iter()
        .map(|(p, v, _)| (*p, None, Some(&v[..])))
        .collect();
    let at = broker.produce_bytes(topic, &refs).await;
    for ((_, v, bad), at) in values.iter().zip(&at) {
        if *bad {
            dead.insert(*at);
        } else {
            let json: serde_json::Value = serde_json::from_slice(v).unwrap();
            rows.insert(*at, json["i"].to_string());
        }
    }
    placed.extend(at);
}

pub fn field_mix() -> FaultPlan {
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

/// Everything a chaos run needs: a broker with the topic, the emulator
/// and a fault gateway in front of it (forwarding untouched for now).
pub struct Rig {
    pub dir: tempfile::TempDir,
    pub broker: Broker,
    pub emulator: Emulator,
    /// Straight to the emulator, for reading the table.
    pub client: Client,
    pub gateway: FaultGateway,
    pub topic: String,
    pub partitions: i32,
}

impl Rig {
    pub async fn start(prefix: &str, partitions: i32, seed: u64) -> Rig {
        let dir = tempfile::tempdir().unwrap();
        let broker = Broker::start();
        let emulator = super::emulator(&dir.path().join("ts")).await;
        let client = super::client(&emulator);
        let gateway = FaultGateway::start(&emulator.endpoint(), FaultPlan::none(), seed)
            .await
            .unwrap();
        let topic = super::unique(prefix);
        broker.create_topic(&topic, partitions).await;
        Rig {
            dir,
            broker,
            emulator,
            client,
            gateway,
            topic,
            partitions,
        }
    }
}
