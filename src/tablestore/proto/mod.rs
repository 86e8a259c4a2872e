//! Protobuf messages of the Tablestore API, generated at build time from the
//! `.proto` files beside this module (`table_store.proto`,
//! `table_store_filter.proto`, `timeseries.proto`) by `build.rs` with
//! `protox` + `prost-build` (pure Rust, no system `protoc`). Adding a message
//! is one declaration in the right `.proto` file.
//!
//! proto2 `required` fields are declared `required` so they are always
//! emitted (the Go and Java SDKs reject responses that miss them); fields
//! that differ between SDK copies are `optional` so we decode real service
//! responses leniently. Unknown fields are skipped on decode.

#![allow(clippy::all, missing_docs)]

mod generated {
    include!(concat!(env!("OUT_DIR"), "/ots.rs"));
}

pub use generated::*;

impl Condition {
    pub fn ignore() -> Self {
        Condition {
            row_existence: RowExistenceExpectation::Ignore as i32,
            column_condition: None,
        }
    }
}

impl CreateTableRequest {
    /// A table with this primary key, one version per cell, kept forever,
    /// no reserved throughput: what the sink creates.
    pub fn new(table: &str, primary_key: &[(&str, PrimaryKeyType)]) -> Self {
        CreateTableRequest {
            table_meta: TableMeta {
                table_name: table.into(),
                primary_key: primary_key
                    .iter()
                    .map(|(name, t)| PrimaryKeySchema {
                        name: (*name).into(),
                        r#type: *t as i32,
                        option: None,
                    })
                    .collect(),
                defined_column: vec![],
            },
            reserved_throughput: ReservedThroughput {
                capacity_unit: CapacityUnit {
                    read: Some(0),
                    write: Some(0),
                },
            },
            table_options: Some(TableOptions {
                time_to_live: Some(-1),
                max_versions: Some(1),
                ..Default::default()
            }),
        }
    }
}
