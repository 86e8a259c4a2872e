//! tablestore-sink: stream Kafka topics into Alibaba Cloud Tablestore, and a
//! local Tablestore emulator that speaks the real wire protocol.
//!
//! # Layout
//! * [`tablestore`]: the wire protocol (PlainBuffer, FlatBuffers rows,
//!   protobuf messages, signing, errors) and the async client.
//! * [`emulator`]: a durable local Tablestore server built on that codec.
//! * [`sink`]: the Kafka → Tablestore pipeline (actors, offsets, budget,
//!   failure policy); [`convert`]: records → rows, pure; [`kafka`]:
//!   librdkafka settings; [`config`]: the TOML configuration.
//! * [`metrics`]: metric names and the Prometheus endpoint.
//! * [`fault_gateway`]: a fault-injecting HTTP gateway for the fault suite
//!   and the soak benchmark.
//! * [`cli`]: the `tablestore-sink` subcommands; [`logging`], [`shutdown`].

pub mod cli;
pub mod config;
pub mod convert;
pub mod emulator;
pub mod fault_gateway;
pub mod kafka;
pub mod logging;
pub mod metrics;
pub mod shutdown;
pub mod sink;
pub mod tablestore;
