//! Protobuf messages of the Tablestore API, written by hand with
//! `prost` derives from the field numbers in `tablestore-protocol.md` §2/§4.
//!
//! proto2 `required` fields are declared `required` so they are always
//! emitted (the Go and Java SDKs reject responses that miss them); fields
//! that differ between SDK copies are `optional` so we decode real service
//! responses leniently. Unknown fields are skipped on decode.
//!
//! Only the messages this project sends or serves are here: table DDL,
//! row reads and writes, and the TimeSeries calls.

mod table;
mod timeseries;

pub use table::*;
pub use timeseries::*;
