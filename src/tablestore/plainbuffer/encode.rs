//! PlainBuffer writer. Writes in the exact tag order the official SDKs use
//! (value, op, timestamp) and computes cell and row CRC-8s as it goes.

use super::model::{Cell, CellOp, PkValue, Row, Value};
use super::view::{CellView, PkCellView};
use super::{op, tag, vtype, HEADER};
use crate::tablestore::crc8;

/// Encodes a whole single-row buffer (header + row).
pub fn encode_row(row: &Row) -> Vec<u8> {
    let mut out = Vec::with_capacity(4 + encoded_row_len(row));
    out.extend_from_slice(&HEADER.to_le_bytes());
    RowEncoder::new(&mut out).row(row);
    out
}

/// Encodes a multi-row buffer (one header, then every row), as GetRange
/// responses carry. An empty slice encodes to an empty buffer: Tablestore
/// sends empty bytes for "no rows".
pub fn encode_rows<'a>(rows: impl IntoIterator<Item = &'a Row>) -> Vec<u8> {
    let mut out = Vec::new();
    let mut enc = RowEncoder::new(&mut out);
    let mut any = false;
    for row in rows {
        if !any {
            enc.out.extend_from_slice(&HEADER.to_le_bytes());
            any = true;
        }
        enc.row(row);
    }
    out
}

/// The stored form of a put, written from the validated request row
/// without rebuilding it: the buffer header, the primary-key cells as they
/// arrived, then each of `cells` (put cells) as it arrived with the version
/// given beside it in place of any it carried, in the order given. The
/// bytes [`encode_row`] writes for the same row built from owned values.
pub fn encode_stored_put(
    primary_key: &[PkCellView<'_>],
    cells: &[(&CellView<'_>, i64)],
) -> Vec<u8> {
    let pk_len: usize = primary_key.iter().map(|c| c.raw.len()).sum();
    let cells_len: usize = cells.iter().map(|(c, _)| c.head.len() + 11).sum();
    let mut out = Vec::with_capacity(4 + 1 + pk_len + 1 + cells_len + 2);
    out.extend_from_slice(&HEADER.to_le_bytes());
    out.push(tag::ROW_PK);
    let mut row_crc = 0u8;
    for c in primary_key {
        out.extend_from_slice(c.raw);
        row_crc = crc8::update_u8(row_crc, c.crc);
    }
    if !cells.is_empty() {
        out.push(tag::ROW_DATA);
        for (c, ts) in cells {
            debug_assert_eq!(c.op, CellOp::Put, "only put cells are stored as sent");
            out.extend_from_slice(c.head);
            out.push(tag::CELL_TIMESTAMP);
            out.extend_from_slice(&ts.to_le_bytes());
            let crc = crc8::update_u64(c.head_crc, *ts as u64);
            out.push(tag::CELL_CHECKSUM);
            out.push(crc);
            row_crc = crc8::update_u8(row_crc, crc);
        }
    }
    out.push(tag::ROW_CHECKSUM);
    out.push(crc8::update_u8(row_crc, 0));
    out
}

/// Encodes a bare primary key (GetRow key, range bounds,
/// `next_start_primary_key`).
pub fn encode_primary_key(primary_key: &[(String, PkValue)]) -> Vec<u8> {
    let row = Row {
        primary_key: primary_key.to_vec(),
        cells: Vec::new(),
        delete_marker: false,
    };
    encode_row(&row)
}

/// Encodes a value without its `0x05 len` prefix (§3.3): vtype + payload.
pub fn encode_value_without_length(value: &PkValue) -> Vec<u8> {
    let mut out = Vec::new();
    RowEncoder::new(&mut out).pk_payload(value);
    out
}

/// Bytes [`RowEncoder::row`] writes for `row` (without the buffer header).
/// Used to size batches against the 4 MB request limit without encoding.
pub fn encoded_row_len(row: &Row) -> usize {
    let mut len = 1; // ROW_PK
    for (name, value) in &row.primary_key {
        len += cell_overhead(name) + pk_value_len(value);
    }
    if !row.cells.is_empty() {
        len += 1; // ROW_DATA
        for cell in &row.cells {
            len += cell_overhead(&cell.name);
            if let Some(v) = &cell.value {
                len += value_len(v);
            }
            if cell.op != CellOp::Put {
                len += 2;
            }
            if cell.timestamp_ms.is_some() {
                len += 9;
            }
        }
    }
    if row.delete_marker {
        len += 1;
    }
    len + 2 // ROW_CHECKSUM + crc
}

/// CELL + CELL_NAME len name + CELL_CHECKSUM crc.
fn cell_overhead(name: &str) -> usize {
    1 + 5 + name.len() + 2
}

fn pk_value_len(value: &PkValue) -> usize {
    5 + match value {
        PkValue::Integer(_) => 9,
        PkValue::String(s) => 5 + s.len(),
        PkValue::Binary(b) => 5 + b.len(),
        PkValue::InfMin | PkValue::InfMax | PkValue::AutoIncrement => 1,
    }
}

fn value_len(value: &Value) -> usize {
    5 + match value {
        Value::Integer(_) | Value::Double(_) => 9,
        Value::Boolean(_) => 2,
        Value::String(s) => 5 + s.len(),
        Value::Binary(b) => 5 + b.len(),
    }
}

/// Appends rows to a caller-owned buffer, so a batch can reuse one
/// allocation. The caller writes the buffer header.
pub struct RowEncoder<'a> {
    out: &'a mut Vec<u8>,
}

impl<'a> RowEncoder<'a> {
    pub fn new(out: &'a mut Vec<u8>) -> Self {
        RowEncoder { out }
    }

    /// Appends one row (no buffer header).
    pub fn row(&mut self, row: &Row) {
        self.out.reserve(encoded_row_len(row));
        let mut row_crc = 0u8;
        self.out.push(tag::ROW_PK);
        for (name, value) in &row.primary_key {
            let crc = self.pk_cell(name, value);
            row_crc = crc8::update_u8(row_crc, crc);
        }
        if !row.cells.is_empty() {
            self.out.push(tag::ROW_DATA);
            for cell in &row.cells {
                let crc = self.cell(cell);
                row_crc = crc8::update_u8(row_crc, crc);
            }
        }
        if row.delete_marker {
            self.out.push(tag::DELETE_ROW_MARKER);
        }
        row_crc = crc8::update_u8(row_crc, row.delete_marker as u8);
        self.out.push(tag::ROW_CHECKSUM);
        self.out.push(row_crc);
    }

    fn name(&mut self, name: &str) -> u8 {
        self.out.push(tag::CELL_NAME);
        self.out
            .extend_from_slice(&(name.len() as u32).to_le_bytes());
        self.out.extend_from_slice(name.as_bytes());
        crc8::update_bytes(0, name.as_bytes())
    }

    fn pk_cell(&mut self, name: &str, value: &PkValue) -> u8 {
        self.out.push(tag::CELL);
        let crc = self.name(name);
        self.out.push(tag::CELL_VALUE);
        let payload_len = pk_value_len(value) - 5;
        self.out
            .extend_from_slice(&(payload_len as u32).to_le_bytes());
        let crc = self.pk_payload_crc(value, crc);
        self.out.push(tag::CELL_CHECKSUM);
        self.out.push(crc);
        crc
    }

    /// Writes vtype + payload of a PK value and folds it into `crc`.
    fn pk_payload_crc(&mut self, value: &PkValue, crc: u8) -> u8 {
        match value {
            PkValue::Integer(v) => self.integer(*v, crc),
            PkValue::String(s) => self.bytes(vtype::STRING, s.as_bytes(), crc),
            PkValue::Binary(b) => self.bytes(vtype::BLOB, b, crc),
            PkValue::InfMin => self.marker(vtype::INF_MIN, crc),
            PkValue::InfMax => self.marker(vtype::INF_MAX, crc),
            PkValue::AutoIncrement => self.marker(vtype::AUTO_INCREMENT, crc),
        }
    }

    fn pk_payload(&mut self, value: &PkValue) {
        self.pk_payload_crc(value, 0);
    }

    fn cell(&mut self, cell: &Cell) -> u8 {
        self.out.push(tag::CELL);
        let mut crc = self.name(&cell.name);
        if let Some(value) = &cell.value {
            self.out.push(tag::CELL_VALUE);
            let payload_len = value_len(value) - 5;
            self.out
                .extend_from_slice(&(payload_len as u32).to_le_bytes());
            crc = match value {
                Value::Integer(v) => self.integer(*v, crc),
                Value::Double(v) => {
                    self.out.push(vtype::DOUBLE);
                    let bits = v.to_bits();
                    self.out.extend_from_slice(&bits.to_le_bytes());
                    crc8::update_u64(crc8::update_u8(crc, vtype::DOUBLE), bits)
                }
                Value::Boolean(v) => {
                    self.out.push(vtype::BOOLEAN);
                    self.out.push(*v as u8);
                    crc8::update_u8(crc8::update_u8(crc, vtype::BOOLEAN), *v as u8)
                }
                Value::String(s) => self.bytes(vtype::STRING, s.as_bytes(), crc),
                Value::Binary(b) => self.bytes(vtype::BLOB, b, crc),
            };
        }
        let op_byte = match cell.op {
            CellOp::Put => None,
            CellOp::DeleteAllVersions => Some(op::DELETE_ALL_VERSIONS),
            CellOp::DeleteOneVersion => Some(op::DELETE_ONE_VERSION),
            CellOp::Increment => Some(op::INCREMENT),
        };
        if let Some(op_byte) = op_byte {
            self.out.push(tag::CELL_TYPE);
            self.out.push(op_byte);
        }
        if let Some(ts) = cell.timestamp_ms {
            self.out.push(tag::CELL_TIMESTAMP);
            self.out.extend_from_slice(&ts.to_le_bytes());
            crc = crc8::update_u64(crc, ts as u64);
        }
        // §3.4: the checksum takes the timestamp before the op byte, the
        // reverse of the wire order.
        if let Some(op_byte) = op_byte {
            crc = crc8::update_u8(crc, op_byte);
        }
        self.out.push(tag::CELL_CHECKSUM);
        self.out.push(crc);
        crc
    }

    fn integer(&mut self, v: i64, crc: u8) -> u8 {
        self.out.push(vtype::INTEGER);
        self.out.extend_from_slice(&v.to_le_bytes());
        crc8::update_u64(crc8::update_u8(crc, vtype::INTEGER), v as u64)
    }

    fn bytes(&mut self, vt: u8, b: &[u8], crc: u8) -> u8 {
        self.out.push(vt);
        self.out.extend_from_slice(&(b.len() as u32).to_le_bytes());
        self.out.extend_from_slice(b);
        let crc = crc8::update_u32(crc8::update_u8(crc, vt), b.len() as u32);
        crc8::update_bytes(crc, b)
    }

    fn marker(&mut self, vt: u8, crc: u8) -> u8 {
        self.out.push(vt);
        crc8::update_u8(crc, vt)
    }
}
