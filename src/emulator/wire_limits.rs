//! Count before building: the repeated fields of a request are counted on
//! the protobuf wire, without allocating, and a request over a service
//! limit is refused before `prost` decodes it.
//!
//! Why: decoding builds one struct per element, and an element can be two
//! bytes on the wire (`tag, length 0`), so a 5 MB BatchWriteRow of 2.6 M
//! empty rows would cost ~270 MB before its row-count check. The scanner
//! reads only tags and lengths; it is strict (any malformed field ends the
//! count with `None`, and the request then goes to `prost`, which reports
//! the malformation).

use super::api_error::ApiError;
use super::batch_get::MAX_BATCH_GET_ROWS;
use super::validate::{MAX_BATCH_WRITE_ROWS, MAX_COLUMNS_TO_GET};

/// Largest element count of a repeated field the emulator has no specific
/// service limit for (primary-key schemas, tags, field lists, ...): well
/// above anything the service accepts, far below what costs memory.
pub const MAX_REPEATED_ELEMENTS: usize = 10_000;

/// One repeated field of one action, by field-number path from the request
/// message, and what to answer when it holds more than `limit` elements.
struct Rule {
    action: &'static str,
    path: &'static [u32],
    limit: usize,
    refuse: fn(usize) -> ApiError,
}

fn generic(what: &'static str, count: usize) -> ApiError {
    ApiError::invalid(format!(
        "The request has {count} elements in {what}; the limit is {MAX_REPEATED_ELEMENTS}."
    ))
}

/// The BatchWriteRow row-count error, as the service words it.
pub fn batch_write_rows_exceeded(count: usize) -> ApiError {
    ApiError::invalid(format!(
        "The total number of rows in BatchWriteRow exceeds the limit. Limit:{MAX_BATCH_WRITE_ROWS}, Current:{count}."
    ))
}

/// The BatchGetRow row-count error, as the service words it.
pub fn batch_get_rows_exceeded(count: usize) -> ApiError {
    ApiError::invalid(format!(
        "The total number of rows in BatchGetRow exceeds the limit. Limit:{MAX_BATCH_GET_ROWS}, Current:{count}."
    ))
}

/// The UpdateTimeseriesMeta count error.
pub fn update_metas_exceeded(count: usize) -> ApiError {
    ApiError::invalid(format!(
        "The number of metas in UpdateTimeseriesMeta exceeds the limit. Limit:{MAX_BATCH_WRITE_ROWS}, Current:{count}."
    ))
}

fn batch_write_tables(count: usize) -> ApiError {
    ApiError::invalid(format!(
        "The number of tables in BatchWriteRow exceeds the limit. Limit:{MAX_BATCH_WRITE_ROWS}, Current:{count}."
    ))
}

fn columns_to_get(count: usize) -> ApiError {
    ApiError::invalid(format!(
        "The number of columns to get exceeded the limit: {MAX_COLUMNS_TO_GET}, current: {count}."
    ))
}

/// Every repeated field of every request the emulator decodes.
const RULES: &[Rule] = &[
    Rule {
        action: "BatchWriteRow",
        path: &[1],
        limit: MAX_BATCH_WRITE_ROWS,
        refuse: batch_write_tables,
    },
    Rule {
        action: "BatchWriteRow",
        path: &[1, 2],
        limit: MAX_BATCH_WRITE_ROWS,
        refuse: batch_write_rows_exceeded,
    },
    Rule {
        action: "GetRow",
        path: &[3],
        limit: MAX_COLUMNS_TO_GET,
        refuse: columns_to_get,
    },
    Rule {
        action: "GetRange",
        path: &[3],
        limit: MAX_COLUMNS_TO_GET,
        refuse: columns_to_get,
    },
    Rule {
        action: "BatchGetRow",
        path: &[1],
        limit: MAX_BATCH_GET_ROWS,
        refuse: |n| generic("BatchGetRow tables", n),
    },
    Rule {
        action: "BatchGetRow",
        path: &[1, 2],
        limit: MAX_BATCH_GET_ROWS,
        refuse: batch_get_rows_exceeded,
    },
    Rule {
        action: "BatchGetRow",
        path: &[1, 3],
        limit: MAX_BATCH_GET_ROWS,
        refuse: |n| generic("BatchGetRow tokens", n),
    },
    Rule {
        action: "BatchGetRow",
        path: &[1, 4],
        limit: MAX_REPEATED_ELEMENTS,
        refuse: |n| generic("BatchGetRow columns_to_get", n),
    },
    Rule {
        action: "CreateTable",
        path: &[1, 2],
        limit: MAX_REPEATED_ELEMENTS,
        refuse: |n| generic("table_meta.primary_key", n),
    },
    Rule {
        action: "CreateTable",
        path: &[1, 3],
        limit: MAX_REPEATED_ELEMENTS,
        refuse: |n| generic("table_meta.defined_column", n),
    },
    Rule {
        action: "CreateTable",
        path: &[4],
        limit: MAX_REPEATED_ELEMENTS,
        refuse: |n| generic("partitions", n),
    },
    Rule {
        action: "CreateTable",
        path: &[7],
        limit: MAX_REPEATED_ELEMENTS,
        refuse: |n| generic("index_metas", n),
    },
    Rule {
        action: "PutRow",
        path: &[4, 2],
        limit: MAX_REPEATED_ELEMENTS,
        refuse: |n| generic("return_content.return_column_names", n),
    },
    Rule {
        action: "UpdateRow",
        path: &[4, 2],
        limit: MAX_REPEATED_ELEMENTS,
        refuse: |n| generic("return_content.return_column_names", n),
    },
    Rule {
        action: "DeleteRow",
        path: &[4, 2],
        limit: MAX_REPEATED_ELEMENTS,
        refuse: |n| generic("return_content.return_column_names", n),
    },
    Rule {
        action: "CreateTimeseriesTable",
        path: &[1, 5],
        limit: MAX_REPEATED_ELEMENTS,
        refuse: |n| generic("table_meta.timeseries_key_schema", n),
    },
    Rule {
        action: "CreateTimeseriesTable",
        path: &[1, 6],
        limit: MAX_REPEATED_ELEMENTS,
        refuse: |n| generic("table_meta.field_primary_key_schema", n),
    },
    Rule {
        action: "GetTimeseriesData",
        path: &[2, 4],
        limit: MAX_REPEATED_ELEMENTS,
        refuse: |n| generic("time_series_key.tag_list", n),
    },
    Rule {
        action: "GetTimeseriesData",
        path: &[9],
        limit: MAX_REPEATED_ELEMENTS,
        refuse: |n| generic("fields_to_get", n),
    },
    Rule {
        action: "UpdateTimeseriesMeta",
        path: &[2],
        limit: MAX_BATCH_WRITE_ROWS,
        refuse: update_metas_exceeded,
    },
    Rule {
        action: "DeleteTimeseriesMeta",
        path: &[2],
        limit: MAX_REPEATED_ELEMENTS,
        refuse: |n| generic("timeseries_key", n),
    },
];

/// Refuses `body` if a repeated field of `action` holds more elements than
/// its limit. Malformed bodies pass (the decoder reports them).
pub fn check(action: &str, body: &[u8]) -> Result<(), ApiError> {
    for rule in RULES.iter().filter(|r| r.action == action) {
        if let Some(count) = count_elements(body, rule.path) {
            if count > rule.limit {
                return Err((rule.refuse)(count));
            }
        }
    }
    Ok(())
}

/// Occurrences of the field at the end of `path`, summed over every
/// occurrence of the enclosing message fields; `None` if the bytes are not
/// well-formed protobuf along the way.
pub fn count_elements(message: &[u8], path: &[u32]) -> Option<usize> {
    let (&field, rest) = path.split_first()?;
    let mut count = 0usize;
    let mut wire = Wire { buf: message };
    while !wire.buf.is_empty() {
        let (number, value) = wire.field()?;
        if number != field {
            continue;
        }
        count += match (rest.is_empty(), value) {
            (true, _) => 1,
            (false, Value::Bytes(inner)) => count_elements(inner, rest)?,
            // A scalar where a message was expected: let the decoder say so.
            (false, Value::Scalar) => return None,
        };
    }
    Some(count)
}

/// The table a request names, read from the wire without decoding it:
/// `table_name` (field 1) for most actions, the first table of a batch,
/// the table meta's name for creates; `None` for listings or when absent.
pub fn table_named<'a>(action: &str, body: &'a [u8]) -> Option<&'a str> {
    let path: &[u32] = match action {
        "ListTable" | "ListTimeseriesTable" => return None,
        "BatchWriteRow" | "BatchGetRow" | "CreateTable" | "CreateTimeseriesTable" => &[1, 1],
        _ => &[1],
    };
    std::str::from_utf8(first_bytes(body, path)?).ok()
}

/// The first length-delimited value along `path`.
fn first_bytes<'a>(message: &'a [u8], path: &[u32]) -> Option<&'a [u8]> {
    let (&field, rest) = path.split_first()?;
    let mut wire = Wire { buf: message };
    while !wire.buf.is_empty() {
        if let (number, Value::Bytes(inner)) = wire.field()? {
            if number == field {
                return if rest.is_empty() {
                    Some(inner)
                } else {
                    first_bytes(inner, rest)
                };
            }
        }
    }
    None
}

enum Value<'a> {
    Scalar,
    Bytes(&'a [u8]),
}

struct Wire<'a> {
    buf: &'a [u8],
}

impl<'a> Wire<'a> {
    fn varint(&mut self) -> Option<u64> {
        let mut value = 0u64;
        for i in 0..10 {
            let (&b, rest) = self.buf.split_first()?;
            self.buf = rest;
            value |= u64::from(b & 0x7f) << (7 * i);
            if b & 0x80 == 0 {
                return Some(value);
            }
        }
        None
    }

    fn skip(&mut self, n: usize) -> Option<&'a [u8]> {
        if n > self.buf.len() {
            return None;
        }
        let (taken, rest) = self.buf.split_at(n);
        self.buf = rest;
        Some(taken)
    }

    /// One field: its number and its value (groups are refused).
    fn field(&mut self) -> Option<(u32, Value<'a>)> {
        let key = self.varint()?;
        let number = u32::try_from(key >> 3).ok().filter(|n| *n > 0)?;
        let value = match key & 7 {
            0 => {
                self.varint()?;
                Value::Scalar
            }
            1 => {
                self.skip(8)?;
                Value::Scalar
            }
            2 => {
                let len = usize::try_from(self.varint()?).ok()?;
                Value::Bytes(self.skip(len)?)
            }
            5 => {
                self.skip(4)?;
                Value::Scalar
            }
            _ => return None,
        };
        Some((number, value))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tablestore::proto::*;
    use prost::Message;

    fn batch(tables: usize, rows_per_table: usize) -> Vec<u8> {
        BatchWriteRowRequest {
            tables: (0..tables)
                .map(|t| TableInBatchWriteRowRequest {
                    table_name: format!("t{t}"),
                    rows: (0..rows_per_table)
                        .map(|_| RowInBatchWriteRowRequest {
                            r#type: OperationType::Put as i32,
                            row_change: vec![1, 2, 3].into(),
                            condition: Condition {
                                row_existence: 0,
                                column_condition: None,
                            },
                            return_content: None,
                        })
                        .collect(),
                })
                .collect(),
            ..Default::default()
        }
        .encode_to_vec()
    }

    #[test]
    fn counts_nested_repeated_fields_across_parents() {
        let body = batch(3, 7);
        assert_eq!(count_elements(&body, &[1]), Some(3));
        assert_eq!(count_elements(&body, &[1, 2]), Some(21));
        assert!(check("BatchWriteRow", &body).is_ok());
    }

    #[test]
    fn two_point_six_million_empty_rows_are_refused_with_the_row_limit() {
        // table_name "t", then 2.6 M `rows` fields of length 0 (2 bytes each).
        let mut table = vec![0x0a, 1, b't'];
        for _ in 0..2_600_000 {
            table.extend_from_slice(&[0x12, 0]);
        }
        let mut body = vec![0x0a];
        let mut len = table.len();
        while len >= 0x80 {
            body.push((len as u8) | 0x80);
            len >>= 7;
        }
        body.push(len as u8);
        body.extend_from_slice(&table);
        let err = check("BatchWriteRow", &body).unwrap_err();
        assert_eq!(err, batch_write_rows_exceeded(2_600_000));
    }

    #[test]
    fn more_than_200_tables_are_refused_before_decoding() {
        let err = check("BatchWriteRow", &batch(201, 0)).unwrap_err();
        assert!(err.message.contains("Limit:200, Current:201"), "{err}");
    }

    #[test]
    fn malformed_bodies_are_left_to_the_decoder() {
        assert_eq!(count_elements(&[0x0a, 0x05, 0x12], &[1, 2]), None);
        assert_eq!(count_elements(&[0x08, 0xff], &[1]), None);
        assert_eq!(count_elements(&[0x0b], &[1]), None, "groups are refused");
        assert!(check("BatchWriteRow", &[0x0a, 0x05, 0x12]).is_ok());
    }

    #[test]
    fn the_named_table_is_read_from_the_wire() {
        assert_eq!(table_named("BatchWriteRow", &batch(2, 1)), Some("t0"));
        let get = GetRowRequest {
            table_name: "orders".into(),
            ..Default::default()
        };
        assert_eq!(table_named("GetRow", &get.encode_to_vec()), Some("orders"));
        let create = CreateTableRequest::new("made", &[("pk", PrimaryKeyType::String)]);
        assert_eq!(
            table_named("CreateTable", &create.encode_to_vec()),
            Some("made")
        );
        assert_eq!(table_named("ListTable", &[]), None);
        assert_eq!(table_named("GetRow", &[0x0a, 0x09, b'x']), None);
    }

    #[test]
    fn columns_to_get_over_128_get_the_service_message() {
        let req = GetRowRequest {
            table_name: "t".into(),
            primary_key: vec![],
            columns_to_get: (0..129).map(|i| format!("c{i}")).collect(),
            ..Default::default()
        };
        let err = check("GetRow", &req.encode_to_vec()).unwrap_err();
        assert_eq!(
            err.message,
            "The number of columns to get exceeded the limit: 128, current: 129."
        );
    }
}
