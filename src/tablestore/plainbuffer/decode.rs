//! PlainBuffer reader. Validates as it decodes: every length against the
//! bytes left, every tag against the grammar, strings as UTF-8, and both
//! CRC-8 levels. Never panics on hostile input, never recurses, and keeps
//! what it builds bounded: a single-row decode holds one row at a time and
//! [`RowLimits`] bound the cells kept per row.

use super::model::{CellOp, PkValue, Row, Value};
use super::view::{CellView, PkCellView, PkRef, RowView, ValueRef};
use super::{op, tag, vtype, HEADER};
use crate::tablestore::crc8;

/// Why a buffer was rejected. `offset` is the byte position of the problem.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    #[error("PlainBuffer truncated at byte {offset}: needed {needed} more bytes")]
    Truncated { offset: usize, needed: usize },
    #[error("PlainBuffer header is {found:#x}, expected 0x75")]
    BadHeader { found: u32 },
    #[error("PlainBuffer byte {offset}: expected {expected}, found tag {found:#04x}")]
    UnexpectedTag {
        offset: usize,
        expected: &'static str,
        found: u8,
    },
    #[error("PlainBuffer byte {offset}: unknown value type {vtype:#04x}")]
    UnknownValueType { offset: usize, vtype: u8 },
    #[error("PlainBuffer byte {offset}: value type {vtype:#04x} is not allowed in {place}")]
    ValueTypeNotAllowed {
        offset: usize,
        vtype: u8,
        place: &'static str,
    },
    #[error(
        "PlainBuffer byte {offset}: value length {declared} does not match its payload ({actual})"
    )]
    LengthMismatch {
        offset: usize,
        declared: u32,
        actual: usize,
    },
    #[error("PlainBuffer byte {offset}: {what} is not valid UTF-8")]
    InvalidUtf8 { offset: usize, what: &'static str },
    #[error("PlainBuffer byte {offset}: unknown cell operation {op:#04x}")]
    UnknownCellOp { offset: usize, op: u8 },
    #[error("PlainBuffer cell {name:?}: {problem}")]
    BadCell { name: String, problem: &'static str },
    #[error("PlainBuffer cell {name:?}: checksum {found:#04x}, computed {computed:#04x}")]
    CellChecksum {
        name: String,
        found: u8,
        computed: u8,
    },
    #[error("PlainBuffer row checksum {found:#04x}, computed {computed:#04x}")]
    RowChecksum { found: u8, computed: u8 },
    #[error("PlainBuffer holds {count} rows where exactly one was expected")]
    NotSingleRow { count: usize },
    #[error("PlainBuffer byte {offset}: {found:#04x} after the row checksum; only zero padding may follow a single row")]
    TrailingBytes { offset: usize, found: u8 },
    #[error("PlainBuffer row has {count} primary-key columns; the limit is {limit}")]
    TooManyPrimaryKeyColumns { count: usize, limit: usize },
    #[error("PlainBuffer row has {count} cells; the limit is {limit}")]
    TooManyCells { count: usize, limit: usize },
}

/// Bounds on one decoded row, for rows that arrive from clients: cells
/// past a bound are parsed and checked but not kept, so a hostile row
/// costs its bytes, not a struct per cell, and the error reports the full
/// count.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RowLimits {
    pub max_primary_key_columns: usize,
    pub max_cells: usize,
}

impl RowLimits {
    /// No bounds: rows the reader itself wrote (stored rows, responses).
    pub const NONE: RowLimits = RowLimits {
        max_primary_key_columns: usize::MAX,
        max_cells: usize::MAX,
    };
}

/// Decodes a buffer holding exactly one row (PutRow, UpdateRow, DeleteRow,
/// GetRow key, range bounds).
///
/// Zero bytes after the row checksum are padding and are ignored: the
/// official Node.js SDK sizes its buffer before writing and over-counts
/// INF_MIN/INF_MAX/AUTO_INCREMENT key values (1 byte each), the timestamp
/// of a deleted version (5 bytes) and a timestamped put or increment in an
/// update (22 bytes), then sends the whole zero-filled buffer; the service
/// accepts it (the SDK's own samples and tests do this). The row itself is
/// still checked completely (tags, lengths, both checksum levels), and any
/// non-zero byte after it is rejected.
pub fn decode_single_row(bytes: &[u8]) -> Result<Row, DecodeError> {
    decode_single_row_limited(bytes, RowLimits::NONE)
}

/// [`decode_single_row`] within `limits`. Rows after the first are parsed
/// one at a time and dropped, only to be counted for the error.
pub fn decode_single_row_limited(bytes: &[u8], limits: RowLimits) -> Result<Row, DecodeError> {
    view_single_row(bytes, limits).map(|v| v.to_row())
}

/// [`decode_single_row_limited`] without copying: the row as a view of
/// `bytes`, validated the same way.
pub fn view_single_row(bytes: &[u8], limits: RowLimits) -> Result<RowView<'_>, DecodeError> {
    let mut r = Reader::new(bytes, limits)?;
    if r.pos == bytes.len() {
        return Err(DecodeError::NotSingleRow { count: 0 });
    }
    let row = r.row()?;
    let rest = &bytes[r.pos..];
    match rest.iter().position(|b| *b != 0) {
        None => Ok(row),
        Some(i) if i == 0 && rest[0] == tag::ROW_PK => {
            // More rows: say how many if they decode, else why not.
            let mut count = 1;
            while r.pos < bytes.len() {
                r.row()?;
                count += 1;
            }
            Err(DecodeError::NotSingleRow { count })
        }
        Some(i) => Err(DecodeError::TrailingBytes {
            offset: r.pos + i,
            found: rest[i],
        }),
    }
}

/// Decodes a multi-row buffer. Empty input means no rows.
pub fn decode_rows(bytes: &[u8]) -> Result<Vec<Row>, DecodeError> {
    if bytes.is_empty() {
        return Ok(Vec::new());
    }
    let mut r = Reader::new(bytes, RowLimits::NONE)?;
    let mut rows = Vec::new();
    while r.pos < r.buf.len() {
        rows.push(r.row()?.to_row());
    }
    Ok(rows)
}

/// Decodes a value without length prefix (§3.3), as in `PartitionRange` and
/// filter column values.
pub fn decode_value_without_length(bytes: &[u8]) -> Result<PkValue, DecodeError> {
    let mut r = Reader::bare(bytes);
    let vt = r.u8()?;
    let (value, _) = r.pk_payload(vt, 0)?;
    let value = value.to_owned();
    if r.pos != bytes.len() {
        return Err(DecodeError::LengthMismatch {
            offset: r.pos,
            declared: bytes.len() as u32,
            actual: r.pos,
        });
    }
    Ok(value)
}

/// Decodes an attribute value without length prefix (§3.3), as in
/// `SingleColumnValueFilter.column_value`.
pub fn decode_attribute_value_without_length(bytes: &[u8]) -> Result<Value, DecodeError> {
    let mut r = Reader::bare(bytes);
    let vt = r.u8()?;
    let (value, _) = r.attr_payload(vt, 0)?;
    let value = value.to_owned();
    if r.pos != bytes.len() {
        return Err(DecodeError::LengthMismatch {
            offset: r.pos,
            declared: bytes.len() as u32,
            actual: r.pos,
        });
    }
    Ok(value)
}

struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
    limits: RowLimits,
}

impl<'a> Reader<'a> {
    /// A reader of headerless bytes (a value without length prefix).
    fn bare(buf: &'a [u8]) -> Self {
        Reader {
            buf,
            pos: 0,
            limits: RowLimits::NONE,
        }
    }

    /// A reader positioned after a checked header.
    fn new(buf: &'a [u8], limits: RowLimits) -> Result<Self, DecodeError> {
        let mut r = Reader {
            buf,
            pos: 0,
            limits,
        };
        let header = r.u32()?;
        if header != HEADER {
            return Err(DecodeError::BadHeader { found: header });
        }
        Ok(r)
    }

    fn take(&mut self, n: usize) -> Result<&'a [u8], DecodeError> {
        let left = self.buf.len() - self.pos;
        if n > left {
            return Err(DecodeError::Truncated {
                offset: self.pos,
                needed: n - left,
            });
        }
        let s = &self.buf[self.pos..self.pos + n];
        self.pos += n;
        Ok(s)
    }

    fn u8(&mut self) -> Result<u8, DecodeError> {
        Ok(self.take(1)?[0])
    }

    fn peek(&self) -> Option<u8> {
        self.buf.get(self.pos).copied()
    }

    fn u32(&mut self) -> Result<u32, DecodeError> {
        let b = self.take(4)?;
        Ok(u32::from_le_bytes(b.try_into().expect("4 bytes")))
    }

    fn u64(&mut self) -> Result<u64, DecodeError> {
        let b = self.take(8)?;
        Ok(u64::from_le_bytes(b.try_into().expect("8 bytes")))
    }

    fn expect(&mut self, want: u8, expected: &'static str) -> Result<(), DecodeError> {
        let offset = self.pos;
        let found = self.u8()?;
        if found != want {
            return Err(DecodeError::UnexpectedTag {
                offset,
                expected,
                found,
            });
        }
        Ok(())
    }

    fn row(&mut self) -> Result<RowView<'a>, DecodeError> {
        self.expect(tag::ROW_PK, "ROW_PK (0x01)")?;
        let mut row = RowView::default();
        let mut row_crc = 0u8;
        let (mut pk_count, mut cell_count) = (0usize, 0usize);
        while self.peek() == Some(tag::CELL) {
            let cell = self.pk_cell()?;
            row_crc = crc8::update_u8(row_crc, cell.crc);
            pk_count += 1;
            if pk_count <= self.limits.max_primary_key_columns {
                row.primary_key.push(cell);
            }
        }
        if self.peek() == Some(tag::ROW_DATA) {
            self.pos += 1;
            while self.peek() == Some(tag::CELL) {
                let cell = self.cell()?;
                row_crc = crc8::update_u8(row_crc, cell.crc);
                cell_count += 1;
                if cell_count <= self.limits.max_cells {
                    row.cells.push(cell);
                }
            }
        }
        if self.peek() == Some(tag::DELETE_ROW_MARKER) {
            self.pos += 1;
            row.delete_marker = true;
        }
        row_crc = crc8::update_u8(row_crc, row.delete_marker as u8);
        self.expect(tag::ROW_CHECKSUM, "ROW_CHECKSUM (0x09)")?;
        let found = self.u8()?;
        if found != row_crc {
            return Err(DecodeError::RowChecksum {
                found,
                computed: row_crc,
            });
        }
        if pk_count > self.limits.max_primary_key_columns {
            return Err(DecodeError::TooManyPrimaryKeyColumns {
                count: pk_count,
                limit: self.limits.max_primary_key_columns,
            });
        }
        if cell_count > self.limits.max_cells {
            return Err(DecodeError::TooManyCells {
                count: cell_count,
                limit: self.limits.max_cells,
            });
        }
        Ok(row)
    }

    /// Reads `0x04 len name`; returns the name and its CRC seed.
    fn name(&mut self) -> Result<(&'a str, u8), DecodeError> {
        self.expect(tag::CELL_NAME, "CELL_NAME (0x04)")?;
        let len = self.u32()? as usize;
        let offset = self.pos;
        let bytes = self.take(len)?;
        let name = std::str::from_utf8(bytes).map_err(|_| DecodeError::InvalidUtf8 {
            offset,
            what: "cell name",
        })?;
        Ok((name, crc8::update_bytes(0, bytes)))
    }

    fn pk_cell(&mut self) -> Result<PkCellView<'a>, DecodeError> {
        let cell_start = self.pos;
        self.expect(tag::CELL, "CELL (0x03)")?;
        let (name, crc) = self.name()?;
        self.expect(tag::CELL_VALUE, "CELL_VALUE (0x05) in a primary-key cell")?;
        let declared = self.u32()?;
        let start = self.pos;
        let vt = self.u8()?;
        let (value, crc) = self.pk_payload(vt, crc)?;
        self.check_len(start, declared)?;
        self.expect(tag::CELL_CHECKSUM, "CELL_CHECKSUM (0x0a)")?;
        let found = self.u8()?;
        if found != crc {
            return Err(DecodeError::CellChecksum {
                name: name.to_owned(),
                found,
                computed: crc,
            });
        }
        Ok(PkCellView {
            name,
            value,
            raw: &self.buf[cell_start..self.pos],
            crc,
        })
    }

    fn check_len(&self, start: usize, declared: u32) -> Result<(), DecodeError> {
        let actual = self.pos - start;
        if declared as usize != actual {
            return Err(DecodeError::LengthMismatch {
                offset: start,
                declared,
                actual,
            });
        }
        Ok(())
    }

    fn pk_payload(&mut self, vt: u8, crc: u8) -> Result<(PkRef<'a>, u8), DecodeError> {
        let offset = self.pos.saturating_sub(1);
        let crc = crc8::update_u8(crc, vt);
        Ok(match vt {
            vtype::INTEGER => {
                let v = self.u64()?;
                (PkRef::Integer(v as i64), crc8::update_u64(crc, v))
            }
            vtype::STRING => {
                let (s, crc) = self.string(crc)?;
                (PkRef::String(s), crc)
            }
            vtype::BLOB => {
                let (b, crc) = self.sized(crc)?;
                (PkRef::Binary(b), crc)
            }
            vtype::INF_MIN => (PkRef::InfMin, crc),
            vtype::INF_MAX => (PkRef::InfMax, crc),
            vtype::AUTO_INCREMENT => (PkRef::AutoIncrement, crc),
            vtype::DOUBLE | vtype::BOOLEAN | vtype::NULL => {
                return Err(DecodeError::ValueTypeNotAllowed {
                    offset,
                    vtype: vt,
                    place: "a primary key",
                })
            }
            other => {
                return Err(DecodeError::UnknownValueType {
                    offset,
                    vtype: other,
                })
            }
        })
    }

    fn string(&mut self, crc: u8) -> Result<(&'a str, u8), DecodeError> {
        let (bytes, crc) = self.sized(crc)?;
        let offset = self.pos - bytes.len();
        let s = std::str::from_utf8(bytes).map_err(|_| DecodeError::InvalidUtf8 {
            offset,
            what: "STRING value",
        })?;
        Ok((s, crc))
    }

    fn sized(&mut self, crc: u8) -> Result<(&'a [u8], u8), DecodeError> {
        let len = self.u32()?;
        let bytes = self.take(len as usize)?;
        let crc = crc8::update_bytes(crc8::update_u32(crc, len), bytes);
        Ok((bytes, crc))
    }

    fn cell(&mut self) -> Result<CellView<'a>, DecodeError> {
        let cell_start = self.pos;
        self.expect(tag::CELL, "CELL (0x03)")?;
        let (name, mut crc) = self.name()?;
        let mut value = None;
        if self.peek() == Some(tag::CELL_VALUE) {
            self.pos += 1;
            let declared = self.u32()?;
            let start = self.pos;
            let vt = self.u8()?;
            let (v, c) = self.attr_payload(vt, crc)?;
            self.check_len(start, declared)?;
            value = Some(v);
            crc = c;
        }
        let (head, head_crc) = (&self.buf[cell_start..self.pos], crc);
        let mut op_byte = None;
        if self.peek() == Some(tag::CELL_TYPE) {
            self.pos += 1;
            let offset = self.pos;
            let b = self.u8()?;
            if !matches!(
                b,
                op::DELETE_ALL_VERSIONS | op::DELETE_ONE_VERSION | op::INCREMENT
            ) {
                return Err(DecodeError::UnknownCellOp { offset, op: b });
            }
            op_byte = Some(b);
        }
        let mut timestamp_ms = None;
        if self.peek() == Some(tag::CELL_TIMESTAMP) {
            self.pos += 1;
            let ts = self.u64()?;
            crc = crc8::update_u64(crc, ts);
            timestamp_ms = Some(ts as i64);
        }
        if let Some(b) = op_byte {
            crc = crc8::update_u8(crc, b);
        }
        self.expect(tag::CELL_CHECKSUM, "CELL_CHECKSUM (0x0a)")?;
        let found = self.u8()?;
        if found != crc {
            return Err(DecodeError::CellChecksum {
                name: name.to_owned(),
                found,
                computed: crc,
            });
        }
        let op = match op_byte {
            None => CellOp::Put,
            Some(op::DELETE_ALL_VERSIONS) => CellOp::DeleteAllVersions,
            Some(op::DELETE_ONE_VERSION) => CellOp::DeleteOneVersion,
            Some(_) => CellOp::Increment,
        };
        let problem = match (op, &value, timestamp_ms) {
            (CellOp::Put, None, _) => Some("a put cell has no value"),
            (CellOp::DeleteAllVersions | CellOp::DeleteOneVersion, Some(_), _) => {
                Some("a delete cell carries a value")
            }
            (CellOp::DeleteOneVersion, None, None) => {
                Some("deleting one version needs a timestamp")
            }
            (CellOp::Increment, Some(ValueRef::Integer(_)), _) => None,
            (CellOp::Increment, _, _) => Some("an increment needs an INTEGER value"),
            _ => None,
        };
        if let Some(problem) = problem {
            return Err(DecodeError::BadCell {
                name: name.to_owned(),
                problem,
            });
        }
        Ok(CellView {
            name,
            value,
            op,
            timestamp_ms,
            head,
            head_crc,
            crc,
        })
    }

    fn attr_payload(&mut self, vt: u8, crc: u8) -> Result<(ValueRef<'a>, u8), DecodeError> {
        let offset = self.pos.saturating_sub(1);
        let crc = crc8::update_u8(crc, vt);
        Ok(match vt {
            vtype::INTEGER => {
                let v = self.u64()?;
                (ValueRef::Integer(v as i64), crc8::update_u64(crc, v))
            }
            vtype::DOUBLE => {
                let v = self.u64()?;
                (
                    ValueRef::Double(f64::from_bits(v)),
                    crc8::update_u64(crc, v),
                )
            }
            vtype::BOOLEAN => {
                let b = self.u8()?;
                (ValueRef::Boolean(b != 0), crc8::update_u8(crc, b))
            }
            vtype::STRING => {
                let (s, crc) = self.string(crc)?;
                (ValueRef::String(s), crc)
            }
            vtype::BLOB => {
                let (b, crc) = self.sized(crc)?;
                (ValueRef::Binary(b), crc)
            }
            vtype::INF_MIN | vtype::INF_MAX | vtype::AUTO_INCREMENT | vtype::NULL => {
                return Err(DecodeError::ValueTypeNotAllowed {
                    offset,
                    vtype: vt,
                    place: "an attribute",
                })
            }
            other => {
                return Err(DecodeError::UnknownValueType {
                    offset,
                    vtype: other,
                })
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::super::*;
    use super::*;

    fn hex(s: &str) -> Vec<u8> {
        s.split_whitespace()
            .map(|b| u8::from_str_radix(b, 16).unwrap())
            .collect()
    }

    fn spec_row() -> Row {
        Row {
            primary_key: vec![
                ("s".into(), PkValue::String("ab".into())),
                ("i".into(), PkValue::Integer(1)),
            ],
            cells: vec![
                Cell::put("a", Value::Double(1.5)),
                Cell::put("b", Value::Boolean(true)),
                Cell::put("c", Value::String("x".into())),
            ],
            delete_marker: false,
        }
    }

    /// §3.6 worked example, bytes from the official Python SDK.
    const SPEC_PUT: &str =
        "75 00 00 00 01 03 04 01 00 00 00 73 05 07 00 00 00 03 02 00 00 00 61 62 0a 4d \
        03 04 01 00 00 00 69 05 09 00 00 00 00 01 00 00 00 00 00 00 00 0a 57 02 \
        03 04 01 00 00 00 61 05 09 00 00 00 01 00 00 00 00 00 00 f8 3f 0a 75 \
        03 04 01 00 00 00 62 05 02 00 00 00 02 01 0a 3e \
        03 04 01 00 00 00 63 05 06 00 00 00 03 01 00 00 00 78 0a f4 09 96";

    #[test]
    fn encodes_the_spec_example_byte_for_byte() {
        let bytes = encode_row(&spec_row());
        assert_eq!(bytes, hex(SPEC_PUT));
        assert_eq!(bytes.len(), 111);
        assert_eq!(encoded_row_len(&spec_row()) + 4, 111);
    }

    #[test]
    fn decodes_the_spec_example() {
        assert_eq!(decode_single_row(&hex(SPEC_PUT)).unwrap(), spec_row());
    }

    #[test]
    fn delete_row_and_get_key_checksums_match_the_spec() {
        let mut row = spec_row();
        row.cells.clear();
        let key = encode_row(&row);
        assert_eq!(&key[key.len() - 2..], &[0x09, 0x70]);
        row.delete_marker = true;
        let del = encode_row(&row);
        assert_eq!(&del[del.len() - 3..], &[0x08, 0x09, 0x77]);
    }

    #[test]
    fn every_truncation_is_an_error() {
        let bytes = hex(SPEC_PUT);
        for cut in 1..bytes.len() {
            assert!(
                decode_single_row(&bytes[..cut]).is_err(),
                "cut at {cut} decoded"
            );
        }
        // A bare header is a valid multi-row buffer with no rows.
        assert_eq!(decode_rows(&bytes[..4]).unwrap(), vec![]);
    }

    fn many_cells(cells: usize) -> Vec<u8> {
        let mut row = spec_row();
        row.cells = (0..cells)
            .map(|i| Cell::delete_all(format!("c{i}")))
            .collect();
        encode_row(&row)
    }

    #[test]
    fn cells_past_the_limit_are_counted_not_kept() {
        let limits = RowLimits {
            max_primary_key_columns: 4,
            max_cells: 1024,
        };
        assert_eq!(
            decode_single_row_limited(&many_cells(1024), limits)
                .unwrap()
                .cells
                .len(),
            1024
        );
        assert_eq!(
            decode_single_row_limited(&many_cells(5000), limits),
            Err(DecodeError::TooManyCells {
                count: 5000,
                limit: 1024
            })
        );
        let tight = RowLimits {
            max_primary_key_columns: 1,
            max_cells: 10,
        };
        assert_eq!(
            decode_single_row_limited(&hex(SPEC_PUT), tight),
            Err(DecodeError::TooManyPrimaryKeyColumns { count: 2, limit: 1 })
        );
    }

    #[test]
    fn a_single_row_may_be_followed_by_zero_padding_only() {
        let mut bytes = hex(SPEC_PUT);
        bytes.extend_from_slice(&[0; 22]);
        assert_eq!(decode_single_row(&bytes).unwrap(), spec_row());
        // Multi-row buffers (responses) stay strict.
        assert!(decode_rows(&bytes).is_err());
        for (i, junk) in [(0, 0x02), (5, 0x09), (21, 0xff)] {
            let mut b = bytes.clone();
            b[111 + i] = junk;
            assert_eq!(
                decode_single_row(&b),
                Err(DecodeError::TrailingBytes {
                    offset: 111 + i,
                    found: junk
                }),
                "junk {junk:#x} at padding byte {i}"
            );
        }
        // Padding never excuses a bad row: a wrong row checksum, then zeros.
        let mut b = bytes.clone();
        b[110] ^= 0x01;
        assert!(matches!(
            decode_single_row(&b),
            Err(DecodeError::RowChecksum { .. })
        ));
        // Nor a truncated one: the zeros are not read as its missing bytes.
        let mut cut = hex(SPEC_PUT)[..109].to_vec();
        cut.extend_from_slice(&[0; 8]);
        assert!(decode_single_row(&cut).is_err());
    }

    #[test]
    fn two_rows_are_not_a_single_row() {
        let mut bytes = hex(SPEC_PUT);
        bytes.extend_from_slice(&hex(SPEC_PUT)[4..]);
        assert_eq!(
            decode_single_row(&bytes),
            Err(DecodeError::NotSingleRow { count: 2 })
        );
        assert_eq!(
            decode_single_row(&hex("75 00 00 00")),
            Err(DecodeError::NotSingleRow { count: 0 })
        );
    }

    #[test]
    fn every_single_bit_flip_is_rejected() {
        let bytes = hex(SPEC_PUT);
        for i in 0..bytes.len() {
            for bit in 0..8 {
                let mut b = bytes.clone();
                b[i] ^= 1 << bit;
                let result = decode_rows(&b);
                assert!(
                    result.is_err(),
                    "flip of byte {i} bit {bit} decoded as {result:?}"
                );
            }
        }
    }
}
