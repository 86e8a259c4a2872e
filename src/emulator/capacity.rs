//! Consumed capacity units, computed the way the service bills them: data
//! size in 4 KB units, rounded up (public "read and write throughput" rules
//! and the official Python SDK's functional tests, which assert exact CUs).
//!
//! Data size of a row = for each primary-key column its name plus its value,
//! plus for each attribute cell (every version) its name plus its value;
//! INTEGER and DOUBLE values count 8 bytes, BOOLEAN 1, STRING and BINARY
//! their byte length, a delete cell only its name. Timestamps are free.
//!
//! * Writes (PutRow, UpdateRow, BatchWriteRow rows): write CUs = units of
//!   the primary key plus the cells sent; DeleteRow: units of the primary
//!   key. A row existence expectation other than IGNORE, or a column
//!   condition, also reads the row: read CUs = units of the primary key.
//! * Reads (GetRow, BatchGetRow rows, GetRange): read CUs = units of the data
//!   returned (all rows of a GetRange page together), and at least 1 (a
//!   missing row or an empty page still costs one read CU).

use crate::tablestore::plainbuffer::{Cell, PkRef, PkValue, Row, RowView};
use crate::tablestore::proto::{CapacityUnit, ConsumedCapacity};

/// One capacity unit covers this many bytes.
pub const UNIT_BYTES: usize = 4096;

/// `ceil(bytes / 4 KB)` as the i32 the protocol carries.
pub fn units(bytes: usize) -> i32 {
    bytes.div_ceil(UNIT_BYTES).min(i32::MAX as usize) as i32
}

fn pk_value_size(v: PkRef<'_>) -> usize {
    match v {
        PkRef::Integer(_) | PkRef::AutoIncrement => 8,
        PkRef::String(s) => s.len(),
        PkRef::Binary(b) => b.len(),
        PkRef::InfMin | PkRef::InfMax => 0,
    }
}

pub fn primary_key_size(pk: &[(String, PkValue)]) -> usize {
    pk.iter()
        .map(|(name, v)| name.len() + pk_value_size(v.into()))
        .sum()
}

/// Data sizes of a row change as it arrived: (primary key, cells sent).
pub fn change_sizes(row: &RowView<'_>) -> (usize, usize) {
    let pk = row
        .primary_key
        .iter()
        .map(|c| c.name.len() + pk_value_size(c.value))
        .sum();
    let cells = row
        .cells
        .iter()
        .map(|c| c.name.len() + c.value.as_ref().map_or(0, |v| v.payload_len()))
        .sum();
    (pk, cells)
}

pub fn cells_size(cells: &[Cell]) -> usize {
    cells
        .iter()
        .map(|c| c.name.len() + c.value.as_ref().map_or(0, |v| v.payload_len()))
        .sum()
}

pub fn row_size(row: &Row) -> usize {
    primary_key_size(&row.primary_key) + cells_size(&row.cells)
}

pub fn consumed(read: i32, write: i32) -> ConsumedCapacity {
    ConsumedCapacity {
        capacity_unit: CapacityUnit {
            read: Some(read),
            write: Some(write),
        },
    }
}

/// What a write of a change of `(primary key, cells)` data sizes
/// ([`change_sizes`]) costs; `checks_row` when a condition reads it.
pub fn for_write(
    (pk, cells): (usize, usize),
    delete_row: bool,
    checks_row: bool,
) -> ConsumedCapacity {
    let write = if delete_row {
        units(pk)
    } else {
        units(pk + cells)
    };
    consumed(if checks_row { units(pk) } else { 0 }, write)
}

/// What a read returning `bytes` of data costs.
pub fn for_read(bytes: usize) -> ConsumedCapacity {
    consumed(units(bytes).max(1), 0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tablestore::plainbuffer::Value;

    fn sizes(row: &Row) -> (usize, usize) {
        (primary_key_size(&row.primary_key), cells_size(&row.cells))
    }

    fn row(pk: &str, cells: Vec<Cell>) -> Row {
        Row {
            primary_key: vec![("PK1".into(), PkValue::String(pk.into()))],
            cells,
            delete_marker: false,
        }
    }

    #[test]
    fn sizes_round_up_to_4_kb_units() {
        assert_eq!((units(0), units(1), units(4096), units(4097)), (0, 1, 1, 2));
    }

    /// The Python SDK's `test_update_row_when_row_exist`: PK '0'*20, two 2 KB
    /// columns -> (read 1, write 2); deleting both -> (1, 1); reading the
    /// 4123-byte row -> 2.
    #[test]
    fn matches_the_sdk_functional_test_figures() {
        let cols = vec![
            Cell::put("C0", Value::String("V".repeat(2048))),
            Cell::put("C1", Value::String("B".repeat(2048))),
        ];
        let put = row(&"0".repeat(20), cols);
        let c = for_write(sizes(&put), false, true).capacity_unit;
        assert_eq!((c.read, c.write), (Some(1), Some(2)));
        let del = row(
            &"0".repeat(20),
            vec![Cell::delete_all("C0"), Cell::delete_all("C1")],
        );
        let c = for_write(sizes(&del), false, true).capacity_unit;
        assert_eq!((c.read, c.write), (Some(1), Some(1)));
        assert_eq!(for_read(row_size(&put)).capacity_unit.read, Some(2));
        assert_eq!(for_read(0).capacity_unit.read, Some(1));
        let c = for_write(sizes(&put), true, false).capacity_unit;
        assert_eq!((c.read, c.write), (Some(0), Some(1)));
    }
}
