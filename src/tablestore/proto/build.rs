//! The crate's build script (Cargo.toml `build`): compiles the Tablestore
//! protobuf messages beside it (`src/tablestore/proto/*.proto`)
//! with pure-Rust tools: `protox` parses them into descriptors and
//! `prost-build` generates the Rust types. No system `protoc` is needed.

use std::io::{Error, ErrorKind};

const PROTO_DIR: &str = "src/tablestore/proto";
const PROTOS: &[&str] = &[
    "table_store.proto",
    "table_store_filter.proto",
    "timeseries.proto",
];

fn main() -> std::io::Result<()> {
    println!("cargo:rerun-if-changed={PROTO_DIR}");
    for file in PROTOS {
        println!("cargo:rerun-if-changed={PROTO_DIR}/{file}");
    }
    let descriptors = protox::compile(PROTOS, [PROTO_DIR])
        .map_err(|e| Error::new(ErrorKind::InvalidData, format!("{e:?}")))?;
    prost_build::Config::new()
        // A batch retry re-sends rows without copying them.
        .bytes([".ots.RowInBatchWriteRowRequest.row_change"])
        // Series keys are sorted and deduplicated.
        .type_attribute(".ots.TimeseriesTag", "#[derive(PartialOrd, Ord)]")
        .compile_fds(descriptors)
}
