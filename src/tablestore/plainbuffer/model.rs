//! The logical row model shared by the client, the emulator and the sink.

use std::fmt;

/// A primary-key column value. `InfMin`/`InfMax` only appear in range
/// bounds; `AutoIncrement` only in a put of an auto-increment column.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum PkValue {
    Integer(i64),
    String(String),
    Binary(Vec<u8>),
    InfMin,
    InfMax,
    AutoIncrement,
}

/// An attribute column value.
#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    Integer(i64),
    Double(f64),
    Boolean(bool),
    String(String),
    Binary(Vec<u8>),
}

impl Value {
    /// The type name Tablestore uses in its docs and errors.
    pub fn type_name(&self) -> &'static str {
        match self {
            Value::Integer(_) => "INTEGER",
            Value::Double(_) => "DOUBLE",
            Value::Boolean(_) => "BOOLEAN",
            Value::String(_) => "STRING",
            Value::Binary(_) => "BINARY",
        }
    }

    /// Payload size as Tablestore counts it against the 2 MB cell limit.
    pub fn payload_len(&self) -> usize {
        super::ValueRef::from(self).payload_len()
    }

    /// Exact equality that also distinguishes `-0.0` from `0.0` and treats
    /// NaNs with the same bits as equal (used by tests and read-backs).
    pub fn bitwise_eq(&self, other: &Value) -> bool {
        match (self, other) {
            (Value::Double(a), Value::Double(b)) => a.to_bits() == b.to_bits(),
            _ => self == other,
        }
    }
}

impl fmt::Display for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::Integer(v) => write!(f, "{v}"),
            Value::Double(v) => write!(f, "{v:?}"),
            Value::Boolean(v) => write!(f, "{v}"),
            Value::String(v) => write!(f, "{v:?}"),
            Value::Binary(v) => write!(f, "0x{}", hex(v)),
        }
    }
}

impl fmt::Display for PkValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PkValue::Integer(v) => write!(f, "{v}"),
            PkValue::String(v) => write!(f, "{v:?}"),
            PkValue::Binary(v) => write!(f, "0x{}", hex(v)),
            PkValue::InfMin => f.write_str("INF_MIN"),
            PkValue::InfMax => f.write_str("INF_MAX"),
            PkValue::AutoIncrement => f.write_str("AUTO_INCREMENT"),
        }
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// What a cell in a row change does. Puts carry a value; the rest are
/// the UpdateRow operations of §3.5.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CellOp {
    Put,
    DeleteOneVersion,
    DeleteAllVersions,
    Increment,
}

/// One attribute cell: a name, an optional value, an operation and an
/// optional timestamp in milliseconds.
#[derive(Clone, Debug, PartialEq)]
pub struct Cell {
    pub name: String,
    /// `None` for deletes.
    pub value: Option<Value>,
    pub op: CellOp,
    /// Cell version in milliseconds since the epoch. Absent on writes lets
    /// the server stamp it; always present on rows the server returns.
    pub timestamp_ms: Option<i64>,
}

impl Cell {
    /// A put of `value` with a server-assigned timestamp.
    pub fn put(name: impl Into<String>, value: Value) -> Self {
        Cell {
            name: name.into(),
            value: Some(value),
            op: CellOp::Put,
            timestamp_ms: None,
        }
    }

    /// A put of `value` at an explicit version.
    pub fn put_at(name: impl Into<String>, value: Value, timestamp_ms: i64) -> Self {
        Cell {
            name: name.into(),
            value: Some(value),
            op: CellOp::Put,
            timestamp_ms: Some(timestamp_ms),
        }
    }

    /// Deletes every version of the column (UpdateRow only).
    pub fn delete_all(name: impl Into<String>) -> Self {
        Cell {
            name: name.into(),
            value: None,
            op: CellOp::DeleteAllVersions,
            timestamp_ms: None,
        }
    }

    /// Deletes the version at `timestamp_ms` (UpdateRow only).
    pub fn delete_version(name: impl Into<String>, timestamp_ms: i64) -> Self {
        Cell {
            name: name.into(),
            value: None,
            op: CellOp::DeleteOneVersion,
            timestamp_ms: Some(timestamp_ms),
        }
    }

    /// Adds `delta` to an INTEGER column (UpdateRow only).
    pub fn increment(name: impl Into<String>, delta: i64) -> Self {
        Cell {
            name: name.into(),
            value: Some(Value::Integer(delta)),
            op: CellOp::Increment,
            timestamp_ms: None,
        }
    }
}

/// A row: its primary key in schema order, its cells, and whether it is a
/// delete (DeleteRow payloads carry the delete marker).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Row {
    pub primary_key: Vec<(String, PkValue)>,
    pub cells: Vec<Cell>,
    pub delete_marker: bool,
}

impl Row {
    /// A row with just a primary key.
    pub fn with_key(primary_key: Vec<(String, PkValue)>) -> Self {
        Row {
            primary_key,
            cells: Vec::new(),
            delete_marker: false,
        }
    }

    /// The latest-version value of `column`, if present.
    pub fn latest(&self, column: &str) -> Option<&Value> {
        self.cells
            .iter()
            .filter(|c| c.name == column && c.value.is_some())
            .max_by_key(|c| c.timestamp_ms.unwrap_or(i64::MIN))
            .and_then(|c| c.value.as_ref())
    }
}
