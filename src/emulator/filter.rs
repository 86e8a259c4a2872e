//! Filters (`GetRow/GetRange/BatchGetRow.filter`) and column conditions
//! (`Condition.column_condition`): decoded from `table_store_filter.proto`
//! into a [`Filter`], then evaluated on a row's cells.
//!
//! * A single-column filter compares the column's values (newest first) with
//!   a constant: with `latest_version_only` only the newest version counts,
//!   otherwise any version may match. A row without the column passes when
//!   `filter_if_missing` is false (the SDKs' `pass_if_missing`), else fails.
//!   Values of another type than the constant never compare equal, less or
//!   greater (so NOT_EQUAL holds). Strings and binaries compare bytewise.
//! * AND / OR / NOT combine sub-filters (NOT takes exactly one).
//! * A column pagination filter (reads only, top level only) returns the
//!   columns `[offset, offset + limit)` of the row, in column-name order.
//!
//! Nesting is bounded ([`MAX_DEPTH`]) before anything recursive runs, and
//! so is the number of single-column conditions ([`MAX_CONDITIONS`]).

use std::cmp::Ordering;

use prost::Message;

use super::api_error::ApiError;
use crate::tablestore::plainbuffer::{self, Cell, Value};
use crate::tablestore::proto::{
    ColumnPaginationFilter, ComparatorType, CompositeColumnValueFilter, Filter as FilterMessage,
    FilterType, LogicalOperator, SingleColumnValueFilter,
};

/// Deepest nesting of composite filters accepted.
pub const MAX_DEPTH: usize = 10;
/// Most single-column conditions in one filter (the service's limit of 10).
pub const MAX_CONDITIONS: usize = 10;

#[derive(Clone, Debug, PartialEq)]
pub enum Filter {
    Single(SingleColumn),
    Composite {
        operator: Logical,
        filters: Vec<Filter>,
    },
    Pagination {
        offset: usize,
        limit: usize,
    },
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Logical {
    Not,
    And,
    Or,
}

#[derive(Clone, Debug, PartialEq)]
pub struct SingleColumn {
    pub comparator: ComparatorType,
    pub column: String,
    /// `None` for EXIST / NOT_EXIST, which carry no constant.
    pub value: Option<Value>,
    pub pass_if_missing: bool,
    pub latest_version_only: bool,
}

/// Where a filter is used: reads allow column pagination, conditions don't.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Usage {
    Read,
    Condition,
}

fn invalid(what: &str, e: impl std::fmt::Display) -> ApiError {
    ApiError::invalid(format!("Invalid {what}: {e}."))
}

/// Decodes a serialized `Filter`; empty bytes mean no filter.
pub fn parse(bytes: Option<&[u8]>, usage: Usage) -> Result<Option<Filter>, ApiError> {
    match bytes {
        None | Some([]) => Ok(None),
        Some(b) => {
            let msg = FilterMessage::decode(b).map_err(|e| invalid("filter", e))?;
            let mut conditions = 0;
            parse_message(&msg, usage, 0, &mut conditions).map(Some)
        }
    }
}

fn parse_message(
    msg: &FilterMessage,
    usage: Usage,
    depth: usize,
    conditions: &mut usize,
) -> Result<Filter, ApiError> {
    if depth > MAX_DEPTH {
        return Err(ApiError::invalid(format!(
            "The filter is nested deeper than {MAX_DEPTH} levels."
        )));
    }
    let too_many = || {
        ApiError::invalid(format!(
            "The filter has more than {MAX_CONDITIONS} column conditions."
        ))
    };
    match FilterType::try_from(msg.r#type) {
        Ok(FilterType::FtSingleColumnValue) => {
            *conditions += 1;
            if *conditions > MAX_CONDITIONS {
                return Err(too_many());
            }
            let f = SingleColumnValueFilter::decode(msg.filter.as_slice())
                .map_err(|e| invalid("single column value filter", e))?;
            single(f).map(Filter::Single)
        }
        Ok(FilterType::FtCompositeColumnValue) => {
            // Every sub-filter holds a column condition, so more than
            // MAX_CONDITIONS of them is refused before they are decoded
            // (a 5 MB filter of empty sub-filters would be 2.6 M structs).
            let subs = super::wire_limits::count_elements(&msg.filter, &[2]).unwrap_or(0);
            if subs > MAX_CONDITIONS {
                return Err(too_many());
            }
            let f = CompositeColumnValueFilter::decode(msg.filter.as_slice())
                .map_err(|e| invalid("composite column value filter", e))?;
            let operator = match LogicalOperator::try_from(f.combinator) {
                Ok(LogicalOperator::LoNot) => Logical::Not,
                Ok(LogicalOperator::LoAnd) => Logical::And,
                Ok(LogicalOperator::LoOr) => Logical::Or,
                Err(_) => {
                    return Err(ApiError::invalid(format!(
                        "Invalid logical operator: {}.",
                        f.combinator
                    )))
                }
            };
            match (operator, f.sub_filters.len()) {
                (Logical::Not, 1) => {}
                (Logical::Not, n) => {
                    return Err(ApiError::invalid(format!(
                        "The logical operator NOT takes exactly one sub-filter, not {n}."
                    )))
                }
                (_, 0) => {
                    return Err(ApiError::invalid(
                        "A composite filter needs at least one sub-filter.",
                    ))
                }
                _ => {}
            }
            let filters = f
                .sub_filters
                .iter()
                .map(|sub| {
                    if sub.r#type == FilterType::FtColumnPagination as i32 {
                        return Err(ApiError::invalid(
                            "A column pagination filter cannot be inside a composite filter.",
                        ));
                    }
                    parse_message(sub, usage, depth + 1, conditions)
                })
                .collect::<Result<_, _>>()?;
            Ok(Filter::Composite { operator, filters })
        }
        Ok(FilterType::FtColumnPagination) => {
            if usage == Usage::Condition {
                return Err(ApiError::invalid(
                    "A column pagination filter cannot be used as a column condition.",
                ));
            }
            let f = ColumnPaginationFilter::decode(msg.filter.as_slice())
                .map_err(|e| invalid("column pagination filter", e))?;
            if f.offset < 0 || f.limit <= 0 {
                return Err(ApiError::invalid(format!(
                    "Invalid column pagination filter: offset {} must be >= 0 and limit {} > 0.",
                    f.offset, f.limit
                )));
            }
            Ok(Filter::Pagination {
                offset: f.offset as usize,
                limit: f.limit as usize,
            })
        }
        Err(_) => Err(ApiError::invalid(format!(
            "Invalid filter type: {}.",
            msg.r#type
        ))),
    }
}

fn single(f: SingleColumnValueFilter) -> Result<SingleColumn, ApiError> {
    let comparator = ComparatorType::try_from(f.comparator)
        .map_err(|_| ApiError::invalid(format!("Invalid comparator type: {}.", f.comparator)))?;
    if f.value_trans_rule.is_some() {
        return Err(ApiError::invalid(
            "Value transfer rules (regex filters) are not supported by the emulator.",
        ));
    }
    let value = match comparator {
        ComparatorType::CtExist | ComparatorType::CtNotExist => None,
        _ => Some(
            plainbuffer::decode_attribute_value_without_length(&f.column_value)
                .map_err(|e| invalid(&format!("value of the filter on '{}'", f.column_name), e))?,
        ),
    };
    Ok(SingleColumn {
        comparator,
        column: f.column_name,
        value,
        pass_if_missing: !f.filter_if_missing,
        latest_version_only: f.latest_version_only,
    })
}

fn compare(a: &Value, b: &Value) -> Option<Ordering> {
    match (a, b) {
        (Value::Integer(x), Value::Integer(y)) => Some(x.cmp(y)),
        (Value::Double(x), Value::Double(y)) => x.partial_cmp(y),
        (Value::Boolean(x), Value::Boolean(y)) => Some(x.cmp(y)),
        (Value::String(x), Value::String(y)) => Some(x.as_bytes().cmp(y.as_bytes())),
        (Value::Binary(x), Value::Binary(y)) => Some(x.cmp(y)),
        _ => None,
    }
}

impl SingleColumn {
    fn matches(&self, cells: &[Cell]) -> bool {
        let mut versions: Vec<&Cell> = cells
            .iter()
            .filter(|c| c.name == self.column && c.value.is_some())
            .collect();
        versions.sort_by_key(|c| std::cmp::Reverse(c.timestamp_ms));
        if versions.is_empty() {
            return match self.comparator {
                ComparatorType::CtExist => false,
                ComparatorType::CtNotExist => true,
                _ => self.pass_if_missing,
            };
        }
        if self.latest_version_only {
            versions.truncate(1);
        }
        let Some(constant) = &self.value else {
            return self.comparator == ComparatorType::CtExist;
        };
        versions.iter().any(|c| {
            let ord = compare(c.value.as_ref().expect("filtered above"), constant);
            match self.comparator {
                ComparatorType::CtEqual => ord == Some(Ordering::Equal),
                ComparatorType::CtNotEqual => ord != Some(Ordering::Equal),
                ComparatorType::CtGreaterThan => ord == Some(Ordering::Greater),
                ComparatorType::CtGreaterEqual => {
                    matches!(ord, Some(Ordering::Greater | Ordering::Equal))
                }
                ComparatorType::CtLessThan => ord == Some(Ordering::Less),
                ComparatorType::CtLessEqual => {
                    matches!(ord, Some(Ordering::Less | Ordering::Equal))
                }
                ComparatorType::CtExist | ComparatorType::CtNotExist => unreachable!("no constant"),
            }
        })
    }
}

impl Filter {
    /// Whether a row with these cells passes (pagination always passes).
    pub fn matches(&self, cells: &[Cell]) -> bool {
        match self {
            Filter::Single(s) => s.matches(cells),
            Filter::Composite { operator, filters } => match operator {
                Logical::Not => !filters[0].matches(cells),
                Logical::And => filters.iter().all(|f| f.matches(cells)),
                Logical::Or => filters.iter().any(|f| f.matches(cells)),
            },
            Filter::Pagination { .. } => true,
        }
    }

    /// Applies a read filter to the cells a read returns: `None` when the
    /// row is filtered out, else the cells to return.
    pub fn apply(&self, cells: Vec<Cell>) -> Option<Vec<Cell>> {
        match self {
            Filter::Pagination { offset, limit } => {
                let mut out = Vec::new();
                let mut column = 0usize;
                let mut last: Option<&str> = None;
                for c in &cells {
                    if last != Some(c.name.as_str()) {
                        if last.is_some() {
                            column += 1;
                        }
                        last = Some(&c.name);
                    }
                    if column >= *offset && column < offset + limit {
                        out.push(c.clone());
                    }
                }
                Some(out)
            }
            other => other.matches(&cells).then_some(cells),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tablestore::plainbuffer::encode_value_without_length;
    use crate::tablestore::plainbuffer::PkValue;

    fn value_bytes(v: &Value) -> Vec<u8> {
        // Attribute encodings of the types a primary key shares.
        match v {
            Value::Integer(i) => encode_value_without_length(&PkValue::Integer(*i)),
            Value::String(s) => encode_value_without_length(&PkValue::String(s.clone())),
            _ => unreachable!(),
        }
    }

    fn single_msg(comparator: ComparatorType, column: &str, v: Value, pass: bool) -> FilterMessage {
        FilterMessage {
            r#type: FilterType::FtSingleColumnValue as i32,
            filter: SingleColumnValueFilter {
                comparator: comparator as i32,
                column_name: column.into(),
                column_value: value_bytes(&v),
                filter_if_missing: !pass,
                latest_version_only: true,
                value_trans_rule: None,
            }
            .encode_to_vec(),
        }
    }

    fn not(inner: FilterMessage) -> FilterMessage {
        FilterMessage {
            r#type: FilterType::FtCompositeColumnValue as i32,
            filter: CompositeColumnValueFilter {
                combinator: LogicalOperator::LoNot as i32,
                sub_filters: vec![inner],
            }
            .encode_to_vec(),
        }
    }

    #[test]
    fn compares_latest_values_and_handles_missing_columns() {
        let cells = vec![
            Cell::put_at("n", Value::Integer(5), 20),
            Cell::put_at("n", Value::Integer(1), 10),
        ];
        let f = |c, v, pass| {
            parse(
                Some(&single_msg(c, "n", Value::Integer(v), pass).encode_to_vec()),
                Usage::Read,
            )
            .unwrap()
            .unwrap()
        };
        assert!(f(ComparatorType::CtEqual, 5, false).matches(&cells));
        assert!(!f(ComparatorType::CtEqual, 1, false).matches(&cells));
        assert!(f(ComparatorType::CtGreaterThan, 4, false).matches(&cells));
        assert!(!f(ComparatorType::CtLessThan, 5, false).matches(&cells));
        assert!(f(ComparatorType::CtEqual, 1, true).matches(&[]));
        assert!(!f(ComparatorType::CtEqual, 1, false).matches(&[]));
        // A STRING constant never equals an INTEGER column.
        let s = parse(
            Some(
                &single_msg(
                    ComparatorType::CtEqual,
                    "n",
                    Value::String("5".into()),
                    false,
                )
                .encode_to_vec(),
            ),
            Usage::Read,
        )
        .unwrap()
        .unwrap();
        assert!(!s.matches(&cells));
    }

    #[test]
    fn nesting_is_bounded_before_recursing() {
        let mut msg = single_msg(ComparatorType::CtEqual, "n", Value::Integer(1), true);
        for _ in 0..MAX_DEPTH {
            msg = not(msg);
        }
        assert!(parse(Some(&msg.encode_to_vec()), Usage::Read).is_ok());
        let deeper = not(msg);
        let err = parse(Some(&deeper.encode_to_vec()), Usage::Read).unwrap_err();
        assert_eq!(
            err.message,
            format!("The filter is nested deeper than {MAX_DEPTH} levels.")
        );
    }

    #[test]
    fn millions_of_empty_sub_filters_are_refused_before_decoding() {
        // combinator AND, then 2.6 M empty `sub_filters` (2 bytes each).
        let mut composite = vec![0x08, LogicalOperator::LoAnd as u8];
        for _ in 0..2_600_000 {
            composite.extend_from_slice(&[0x12, 0]);
        }
        let msg = FilterMessage {
            r#type: FilterType::FtCompositeColumnValue as i32,
            filter: composite,
        };
        let err = parse(Some(&msg.encode_to_vec()), Usage::Read).unwrap_err();
        assert_eq!(
            err.message,
            format!("The filter has more than {MAX_CONDITIONS} column conditions.")
        );
    }

    #[test]
    fn pagination_is_for_reads_only() {
        let msg = FilterMessage {
            r#type: FilterType::FtColumnPagination as i32,
            filter: ColumnPaginationFilter {
                offset: 1,
                limit: 2,
            }
            .encode_to_vec(),
        };
        let f = parse(Some(&msg.encode_to_vec()), Usage::Read)
            .unwrap()
            .unwrap();
        let cells = ["a", "b", "b", "c", "d"]
            .iter()
            .enumerate()
            .map(|(i, n)| Cell::put_at(*n, Value::Integer(i as i64), 100 - i as i64))
            .collect::<Vec<_>>();
        let names: Vec<_> = f
            .apply(cells)
            .unwrap()
            .into_iter()
            .map(|c| c.name)
            .collect();
        assert_eq!(names, ["b", "b", "c"]);
        assert_eq!(
            parse(Some(&msg.encode_to_vec()), Usage::Condition)
                .unwrap_err()
                .message,
            "A column pagination filter cannot be used as a column condition."
        );
    }
}
