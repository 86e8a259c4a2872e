//! The BatchWriteRow request body, written straight from the rows.
//!
//! prost would need a `BatchWriteRowRequest` built first: a message per
//! row, each holding a clone of the row's `Bytes` (an atomic count, and
//! an allocation the first time a row's bytes are shared). This writes
//! the same bytes from borrowed rows in one pass, into a buffer sized
//! exactly. The writer sends every Wide Column row through it, so its
//! cost is per row; the tests pin it to prost's encoding, byte for byte.
//!
//! The wire layout (table_store.proto): `BatchWriteRowRequest { 1: table }`,
//! `TableInBatchWriteRowRequest { 1: table_name, 2: row* }`,
//! `RowInBatchWriteRowRequest { 1: type, 2: row_change, 3: condition }`,
//! `Condition { 1: row_existence }`.

use super::client::RowChange;

/// Wire type 0 (varint) and 2 (length-delimited), shifted into a tag.
const VARINT: u8 = 0;
const LENGTH_DELIMITED: u8 = 2;

const fn tag(field: u8, wire_type: u8) -> u8 {
    (field << 3) | wire_type
}

/// Bytes of `value` as a protobuf varint.
fn varint_len(value: u64) -> usize {
    // 1 byte per started group of 7 bits (at least one).
    (64 - (value | 1).leading_zeros() as usize).div_ceil(7)
}

fn put_varint(out: &mut Vec<u8>, mut value: u64) {
    while value >= 0x80 {
        out.push((value as u8) | 0x80);
        value >>= 7;
    }
    out.push(value as u8);
}

/// An `int32` enum value as protobuf carries it: a negative value is
/// sign-extended to ten bytes, as prost writes it.
fn enum_value(value: i32) -> u64 {
    value as i64 as u64
}

/// Length of one `RowInBatchWriteRowRequest` message (without its own tag
/// and length).
fn row_message_len(row: &RowChange) -> usize {
    let condition_len = 1 + varint_len(enum_value(row.expect as i32));
    1 + varint_len(enum_value(row.op as i32))
        + 1
        + varint_len(row.row.len() as u64)
        + row.row.len()
        + 1
        + varint_len(condition_len as u64)
        + condition_len
}

/// The encoded `BatchWriteRowRequest` of `rows` for `table`.
pub fn encode(table: &str, rows: &[RowChange]) -> Vec<u8> {
    let row_lens: Vec<usize> = rows.iter().map(row_message_len).collect();
    let table_len = 1
        + varint_len(table.len() as u64)
        + table.len()
        + row_lens
            .iter()
            .map(|&n| 1 + varint_len(n as u64) + n)
            .sum::<usize>();
    let total = 1 + varint_len(table_len as u64) + table_len;
    let mut out = Vec::with_capacity(total);
    out.push(tag(1, LENGTH_DELIMITED));
    put_varint(&mut out, table_len as u64);
    out.push(tag(1, LENGTH_DELIMITED));
    put_varint(&mut out, table.len() as u64);
    out.extend_from_slice(table.as_bytes());
    for (row, &len) in rows.iter().zip(&row_lens) {
        out.push(tag(2, LENGTH_DELIMITED));
        put_varint(&mut out, len as u64);
        out.push(tag(1, VARINT));
        put_varint(&mut out, enum_value(row.op as i32));
        out.push(tag(2, LENGTH_DELIMITED));
        put_varint(&mut out, row.row.len() as u64);
        out.extend_from_slice(&row.row);
        let expect = enum_value(row.expect as i32);
        out.push(tag(3, LENGTH_DELIMITED));
        put_varint(&mut out, (1 + varint_len(expect)) as u64);
        out.push(tag(1, VARINT));
        put_varint(&mut out, expect);
    }
    debug_assert_eq!(out.len(), total, "the computed length is exact");
    out
}

/// The same body through prost's generated message: the reference
/// [`encode`] is pinned to (its tests, and `cargo bench --bench protocol`,
/// which times both).
pub fn encode_with_prost(table: &str, rows: &[RowChange]) -> Vec<u8> {
    use super::proto::{
        BatchWriteRowRequest, Condition, RowInBatchWriteRowRequest, TableInBatchWriteRowRequest,
    };
    use prost::Message;
    BatchWriteRowRequest {
        tables: vec![TableInBatchWriteRowRequest {
            table_name: table.into(),
            rows: rows
                .iter()
                .map(|r| RowInBatchWriteRowRequest {
                    r#type: r.op as i32,
                    row_change: r.row.clone(),
                    condition: Condition {
                        row_existence: r.expect as i32,
                        column_condition: None,
                    },
                    return_content: None,
                })
                .collect(),
        }],
        ..Default::default()
    }
    .encode_to_vec()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tablestore::proto::{OperationType, RowExistenceExpectation};
    use bytes::Bytes;
    use proptest::prelude::*;

    fn op() -> impl Strategy<Value = OperationType> {
        prop_oneof![
            Just(OperationType::Put),
            Just(OperationType::Update),
            Just(OperationType::Delete),
        ]
    }

    fn expect() -> impl Strategy<Value = RowExistenceExpectation> {
        prop_oneof![
            Just(RowExistenceExpectation::Ignore),
            Just(RowExistenceExpectation::ExpectExist),
            Just(RowExistenceExpectation::ExpectNotExist),
        ]
    }

    proptest! {
        /// Any table name and rows (empty ones, and rows long enough for
        /// two- and three-byte lengths) encode as prost encodes them.
        #[test]
        fn the_body_is_prosts_byte_for_byte(
            table in "[a-z_]{0,300}",
            rows in proptest::collection::vec(
                (op(), expect(), proptest::collection::vec(any::<u8>(), 0..20_000)),
                0..12,
            ),
        ) {
            let rows: Vec<RowChange> = rows
                .into_iter()
                .map(|(op, expect, bytes)| RowChange { op, row: Bytes::from(bytes), expect })
                .collect();
            prop_assert_eq!(encode(&table, &rows), encode_with_prost(&table, &rows));
        }
    }

    #[test]
    fn varint_lengths_at_the_boundaries() {
        for (value, len) in [
            (0u64, 1),
            (127, 1),
            (128, 2),
            (16_383, 2),
            (16_384, 3),
            (u32::MAX as u64, 5),
            (u64::MAX, 10),
        ] {
            let mut out = Vec::new();
            put_varint(&mut out, value);
            assert_eq!((varint_len(value), out.len()), (len, len), "{value}");
        }
    }
}
