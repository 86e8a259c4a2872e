//! PlainBuffer: Tablestore's row encoding, carried inside protobuf `bytes`
//! fields (`PutRowRequest.row`, `GetRangeResponse.rows`, ...).
//!
//! This module owns the logical row model ([`Row`], [`Cell`], [`Value`],
//! [`PkValue`]) and its byte form. [`encode`] writes rows; [`decode`] reads
//! them and validates every length, tag, UTF-8 string and checksum as it goes,
//! returning a typed [`DecodeError`] instead of panicking on hostile input.
//!
//! Format summary (`src/tablestore/PROTOCOL.md` §3, rendered as the docs of
//! [`crate::tablestore`]; the bare § numbers in this module refer to it):
//! ```text
//! buffer   := header(int32 0x75) row+
//! row      := 0x01 pk_cell* [0x02 cell*] [0x08] 0x09 row_crc(u8)
//! pk_cell  := 0x03 name value 0x0A cell_crc(u8)
//! cell     := 0x03 name [value] [0x06 op(u8)] [0x07 ts(int64 ms)] 0x0A cell_crc(u8)
//! name     := 0x04 len(int32) bytes
//! value    := 0x05 len(int32) vtype(u8) payload
//! ```

mod decode;
mod encode;
mod model;
mod view;

pub use decode::{
    decode_attribute_value_without_length, decode_rows, decode_single_row,
    decode_single_row_limited, decode_value_without_length, view_single_row, DecodeError,
    RowLimits,
};
pub use encode::{
    encode_primary_key, encode_row, encode_rows, encode_stored_put, encode_value_without_length,
    encoded_row_len, RowEncoder,
};
pub use model::{Cell, CellOp, PkValue, Row, Value};
pub use view::{CellView, PkCellView, PkRef, RowView, ValueRef};

/// Every PlainBuffer buffer starts with this int32 (little-endian).
pub const HEADER: u32 = 0x75;

/// One-byte tags (§3.1).
pub(crate) mod tag {
    pub const ROW_PK: u8 = 0x01;
    pub const ROW_DATA: u8 = 0x02;
    pub const CELL: u8 = 0x03;
    pub const CELL_NAME: u8 = 0x04;
    pub const CELL_VALUE: u8 = 0x05;
    pub const CELL_TYPE: u8 = 0x06;
    pub const CELL_TIMESTAMP: u8 = 0x07;
    pub const DELETE_ROW_MARKER: u8 = 0x08;
    pub const ROW_CHECKSUM: u8 = 0x09;
    pub const CELL_CHECKSUM: u8 = 0x0A;
}

/// Value type bytes (§3.1).
pub(crate) mod vtype {
    pub const INTEGER: u8 = 0x00;
    pub const DOUBLE: u8 = 0x01;
    pub const BOOLEAN: u8 = 0x02;
    pub const STRING: u8 = 0x03;
    pub const NULL: u8 = 0x06;
    pub const BLOB: u8 = 0x07;
    pub const INF_MIN: u8 = 0x09;
    pub const INF_MAX: u8 = 0x0A;
    pub const AUTO_INCREMENT: u8 = 0x0B;
}

/// Cell operation bytes written after `CELL_TYPE` (§3.1). Absent means put.
pub(crate) mod op {
    pub const DELETE_ALL_VERSIONS: u8 = 0x01;
    pub const DELETE_ONE_VERSION: u8 = 0x03;
    pub const INCREMENT: u8 = 0x04;
}
