//! A validated row borrowed from its bytes: what the decoder produces
//! before anything is copied. [`RowView::to_row`] makes the owned
//! [`Row`]; the emulator's write path uses the view directly: names and
//! values stay in the request, and [`super::encode_stored_put`] reuses the
//! cells' bytes and checksums as they arrived.

use super::model::{Cell, CellOp, PkValue, Row, Value};

/// A primary-key value inside the bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PkRef<'a> {
    Integer(i64),
    String(&'a str),
    Binary(&'a [u8]),
    InfMin,
    InfMax,
    AutoIncrement,
}

impl<'a> From<&'a PkValue> for PkRef<'a> {
    fn from(value: &'a PkValue) -> Self {
        match value {
            PkValue::Integer(v) => PkRef::Integer(*v),
            PkValue::String(s) => PkRef::String(s),
            PkValue::Binary(b) => PkRef::Binary(b),
            PkValue::InfMin => PkRef::InfMin,
            PkValue::InfMax => PkRef::InfMax,
            PkValue::AutoIncrement => PkRef::AutoIncrement,
        }
    }
}

impl<'a> From<&'a Value> for ValueRef<'a> {
    fn from(value: &'a Value) -> Self {
        match value {
            Value::Integer(v) => ValueRef::Integer(*v),
            Value::Double(v) => ValueRef::Double(*v),
            Value::Boolean(v) => ValueRef::Boolean(*v),
            Value::String(s) => ValueRef::String(s),
            Value::Binary(b) => ValueRef::Binary(b),
        }
    }
}

impl PkRef<'_> {
    pub fn to_owned(self) -> PkValue {
        match self {
            PkRef::Integer(v) => PkValue::Integer(v),
            PkRef::String(s) => PkValue::String(s.to_owned()),
            PkRef::Binary(b) => PkValue::Binary(b.to_vec()),
            PkRef::InfMin => PkValue::InfMin,
            PkRef::InfMax => PkValue::InfMax,
            PkRef::AutoIncrement => PkValue::AutoIncrement,
        }
    }
}

/// An attribute value inside the bytes.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum ValueRef<'a> {
    Integer(i64),
    Double(f64),
    Boolean(bool),
    String(&'a str),
    Binary(&'a [u8]),
}

impl ValueRef<'_> {
    pub fn to_owned(self) -> Value {
        match self {
            ValueRef::Integer(v) => Value::Integer(v),
            ValueRef::Double(v) => Value::Double(v),
            ValueRef::Boolean(v) => Value::Boolean(v),
            ValueRef::String(s) => Value::String(s.to_owned()),
            ValueRef::Binary(b) => Value::Binary(b.to_vec()),
        }
    }

    /// Payload size as Tablestore counts it against the 2 MB cell limit
    /// and in capacity units.
    pub fn payload_len(&self) -> usize {
        match self {
            ValueRef::Integer(_) | ValueRef::Double(_) => 8,
            ValueRef::Boolean(_) => 1,
            ValueRef::String(s) => s.len(),
            ValueRef::Binary(b) => b.len(),
        }
    }
}

/// A primary-key cell and its bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PkCellView<'a> {
    pub name: &'a str,
    pub value: PkRef<'a>,
    /// The whole cell as encoded, `CELL` through its checksum byte: the
    /// canonical encoding, reusable as is.
    pub raw: &'a [u8],
    pub crc: u8,
}

/// An attribute cell and its bytes.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct CellView<'a> {
    pub name: &'a str,
    pub value: Option<ValueRef<'a>>,
    pub op: CellOp,
    pub timestamp_ms: Option<i64>,
    /// `CELL`, the name and the value as encoded (no type, timestamp or
    /// checksum), reusable as the start of the same cell with a timestamp.
    pub head: &'a [u8],
    /// The cell checksum after the name and value (before timestamp and
    /// operation): continue it with a timestamp to checksum the stored cell.
    pub head_crc: u8,
    pub crc: u8,
}

/// A decoded row borrowing its bytes.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct RowView<'a> {
    pub primary_key: Vec<PkCellView<'a>>,
    pub cells: Vec<CellView<'a>>,
    pub delete_marker: bool,
}

impl RowView<'_> {
    pub fn to_row(&self) -> Row {
        Row {
            primary_key: self
                .primary_key
                .iter()
                .map(|c| (c.name.to_owned(), c.value.to_owned()))
                .collect(),
            cells: self
                .cells
                .iter()
                .map(|c| Cell {
                    name: c.name.to_owned(),
                    value: c.value.map(ValueRef::to_owned),
                    op: c.op,
                    timestamp_ms: c.timestamp_ms,
                })
                .collect(),
            delete_marker: self.delete_marker,
        }
    }
}
