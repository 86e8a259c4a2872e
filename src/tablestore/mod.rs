//! The Tablestore wire protocol, shared by our client and our emulator.
//!
//! * [`plainbuffer`]: row encoding with CRC-8 ([`crc8`]);
//! * [`flatrows`]: TimeSeries rows (FlatBuffers + CRC-32C) and
//!   [`timeseries_layout`], how points map onto wide-column rows;
//! * [`proto`]: the protobuf messages of every action we use;
//! * [`sign`]: v2/v4 request signatures and response signatures;
//! * [`error`]: the error type and its retry classification;
//! * [`client`]: the async client the sink writes with.
//!
//! The protocol reference below (`src/tablestore/PROTOCOL.md`) is what the
//! code's section citations (§) point at.
#![doc = include_str!("PROTOCOL.md")]

pub mod batch_body;
pub mod client;
pub mod crc8;
pub mod error;
pub mod flatrows;
pub mod plainbuffer;
pub mod proto;
pub mod sign;
pub mod timeseries_layout;

pub use client::{Client, ClientConfig, RangePage, RowChange, RowResult};
pub use error::{Disposition, Error, ErrorKind};
