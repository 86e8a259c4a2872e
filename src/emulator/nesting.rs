//! Limits on nested conditions, checked iteratively before any recursive
//! evaluation runs.
//!
//! A QueryTimeseriesMeta composite condition carries its sub-conditions as
//! serialized bytes, so `prost`'s own recursion limit never applies, and an
//! evaluator that recurses once per level overflows a runtime thread's
//! stack (aborting the process) on a condition nested a few thousand deep.
//! [`check_meta_condition`] walks the tree with an explicit stack, counting
//! elements on the wire before decoding each level, so the recursive
//! matcher only ever sees shallow, small trees.

use prost::Message;

use super::api_error::ApiError;
use super::wire_limits::count_elements;
use crate::tablestore::proto::{
    MetaQueryCompositeCondition, MetaQueryCondition, MetaQueryConditionType,
};

/// Deepest composite nesting accepted (the root is level 1).
pub const MAX_CONDITION_DEPTH: usize = 32;
/// Most conditions in one tree, composites included.
pub const MAX_CONDITION_NODES: usize = 1024;

fn too_deep() -> ApiError {
    ApiError::invalid(format!(
        "The meta query condition is nested more than {MAX_CONDITION_DEPTH} levels deep."
    ))
}

fn too_many() -> ApiError {
    ApiError::invalid(format!(
        "The meta query condition has more than {MAX_CONDITION_NODES} conditions."
    ))
}

/// Refuses a condition tree deeper than [`MAX_CONDITION_DEPTH`] or larger
/// than [`MAX_CONDITION_NODES`]. Malformed composites are reported the way
/// the evaluator reports them.
pub fn check_meta_condition(root: &MetaQueryCondition) -> Result<(), ApiError> {
    let composite = MetaQueryConditionType::Composite as i32;
    let mut nodes = 1usize;
    let mut open: Vec<(Vec<u8>, usize)> = Vec::new();
    if root.r#type == composite {
        open.push((root.proto_data.clone(), 1));
    }
    while let Some((data, depth)) = open.pop() {
        // Count this level's children before decoding them.
        let children = count_elements(&data, &[2]).unwrap_or(0);
        if nodes.saturating_add(children) > MAX_CONDITION_NODES {
            return Err(too_many());
        }
        let c = MetaQueryCompositeCondition::decode(data.as_slice())
            .map_err(|e| ApiError::invalid(format!("Invalid composite condition: {e}.")))?;
        for sub in c.sub_conditions {
            nodes += 1;
            if sub.r#type == composite {
                if depth + 1 > MAX_CONDITION_DEPTH {
                    return Err(too_deep());
                }
                open.push((sub.proto_data, depth + 1));
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tablestore::proto::{MetaQueryCompositeOperator, MetaQueryValueCondition};

    fn measurement(value: &str) -> MetaQueryCondition {
        MetaQueryCondition {
            r#type: MetaQueryConditionType::Measurement as i32,
            proto_data: MetaQueryValueCondition {
                op: 1,
                value: value.into(),
            }
            .encode_to_vec(),
        }
    }

    fn and(subs: Vec<MetaQueryCondition>) -> MetaQueryCondition {
        MetaQueryCondition {
            r#type: MetaQueryConditionType::Composite as i32,
            proto_data: MetaQueryCompositeCondition {
                op: MetaQueryCompositeOperator::OpAnd as i32,
                sub_conditions: subs,
            }
            .encode_to_vec(),
        }
    }

    fn nested(levels: usize) -> MetaQueryCondition {
        let mut c = measurement("cpu");
        for _ in 0..levels {
            c = and(vec![c]);
        }
        c
    }

    #[test]
    fn the_deepest_allowed_nesting_passes_and_one_more_level_is_refused() {
        assert!(check_meta_condition(&nested(MAX_CONDITION_DEPTH)).is_ok());
        assert_eq!(
            check_meta_condition(&nested(MAX_CONDITION_DEPTH + 1)).unwrap_err(),
            too_deep()
        );
    }

    #[test]
    fn five_thousand_levels_are_refused_without_recursing() {
        // Run on a small stack: a recursive check would overflow it.
        let deep = nested(5_000);
        let result = std::thread::Builder::new()
            .stack_size(64 * 1024)
            .spawn(move || check_meta_condition(&deep))
            .unwrap()
            .join()
            .unwrap();
        assert_eq!(result.unwrap_err(), too_deep());
    }

    #[test]
    fn too_many_conditions_are_counted_before_decoding() {
        let wide = and((0..MAX_CONDITION_NODES).map(|_| measurement("m")).collect());
        assert_eq!(check_meta_condition(&wide).unwrap_err(), too_many());
        let fits = and((0..MAX_CONDITION_NODES - 1)
            .map(|_| measurement("m"))
            .collect());
        assert!(check_meta_condition(&fits).is_ok());
    }

    #[test]
    fn a_malformed_composite_is_a_parameter_error() {
        let bad = MetaQueryCondition {
            r#type: MetaQueryConditionType::Composite as i32,
            proto_data: vec![0x12, 0x05],
        };
        assert_eq!(
            check_meta_condition(&bad).unwrap_err().code,
            "OTSParameterInvalid"
        );
    }
}
