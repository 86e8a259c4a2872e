//! Wide Column messages (`table_store.proto`).

#[derive(Clone, PartialEq, prost::Message)]
pub struct Error {
    #[prost(string, required, tag = "1")]
    pub code: String,
    #[prost(string, optional, tag = "2")]
    pub message: Option<String>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, prost::Enumeration)]
#[repr(i32)]
pub enum PrimaryKeyType {
    Integer = 1,
    String = 2,
    Binary = 3,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, prost::Enumeration)]
#[repr(i32)]
pub enum PrimaryKeyOption {
    AutoIncrement = 1,
}

#[derive(Clone, PartialEq, prost::Message)]
pub struct PrimaryKeySchema {
    #[prost(string, required, tag = "1")]
    pub name: String,
    #[prost(enumeration = "PrimaryKeyType", required, tag = "2")]
    pub r#type: i32,
    #[prost(enumeration = "PrimaryKeyOption", optional, tag = "3")]
    pub option: Option<i32>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, prost::Enumeration)]
#[repr(i32)]
pub enum DefinedColumnType {
    DctInteger = 1,
    DctDouble = 2,
    DctBoolean = 3,
    DctString = 4,
    DctBlob = 7,
}

#[derive(Clone, PartialEq, prost::Message)]
pub struct DefinedColumnSchema {
    #[prost(string, required, tag = "1")]
    pub name: String,
    #[prost(enumeration = "DefinedColumnType", required, tag = "2")]
    pub r#type: i32,
}

#[derive(Clone, PartialEq, prost::Message)]
pub struct TableOptions {
    /// Seconds; -1 keeps data forever.
    #[prost(int32, optional, tag = "1")]
    pub time_to_live: Option<i32>,
    #[prost(int32, optional, tag = "2")]
    pub max_versions: Option<i32>,
    #[prost(int32, optional, tag = "3")]
    pub bloom_filter_type: Option<i32>,
    #[prost(int32, optional, tag = "4")]
    pub block_size: Option<i32>,
    #[prost(int64, optional, tag = "5")]
    pub deviation_cell_version_in_sec: Option<i64>,
    #[prost(bool, optional, tag = "6")]
    pub allow_update: Option<bool>,
    #[prost(bool, optional, tag = "7")]
    pub update_full_row: Option<bool>,
}

#[derive(Clone, PartialEq, prost::Message)]
pub struct TableMeta {
    #[prost(string, required, tag = "1")]
    pub table_name: String,
    #[prost(message, repeated, tag = "2")]
    pub primary_key: Vec<PrimaryKeySchema>,
    #[prost(message, repeated, tag = "3")]
    pub defined_column: Vec<DefinedColumnSchema>,
}

#[derive(Clone, PartialEq, prost::Message)]
pub struct CapacityUnit {
    #[prost(int32, optional, tag = "1")]
    pub read: Option<i32>,
    #[prost(int32, optional, tag = "2")]
    pub write: Option<i32>,
}

#[derive(Clone, PartialEq, prost::Message)]
pub struct ReservedThroughput {
    #[prost(message, required, tag = "1")]
    pub capacity_unit: CapacityUnit,
}

#[derive(Clone, PartialEq, prost::Message)]
pub struct ReservedThroughputDetails {
    #[prost(message, required, tag = "1")]
    pub capacity_unit: CapacityUnit,
    #[prost(int64, required, tag = "2")]
    pub last_increase_time: i64,
    #[prost(int64, optional, tag = "3")]
    pub last_decrease_time: Option<i64>,
}

#[derive(Clone, PartialEq, prost::Message)]
pub struct ConsumedCapacity {
    #[prost(message, required, tag = "1")]
    pub capacity_unit: CapacityUnit,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, prost::Enumeration)]
#[repr(i32)]
pub enum RowExistenceExpectation {
    Ignore = 0,
    ExpectExist = 1,
    ExpectNotExist = 2,
}

#[derive(Clone, PartialEq, prost::Message)]
pub struct Condition {
    #[prost(enumeration = "RowExistenceExpectation", required, tag = "1")]
    pub row_existence: i32,
    /// A serialized `Filter`; the emulator rejects it (not supported).
    #[prost(bytes = "vec", optional, tag = "2")]
    pub column_condition: Option<Vec<u8>>,
}

impl Condition {
    pub fn ignore() -> Self {
        Condition {
            row_existence: RowExistenceExpectation::Ignore as i32,
            column_condition: None,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, prost::Enumeration)]
#[repr(i32)]
pub enum ReturnType {
    RtNone = 0,
    RtPk = 1,
    RtAfterModify = 2,
}

#[derive(Clone, PartialEq, prost::Message)]
pub struct ReturnContent {
    #[prost(enumeration = "ReturnType", optional, tag = "1")]
    pub return_type: Option<i32>,
    #[prost(string, repeated, tag = "2")]
    pub return_column_names: Vec<String>,
}

#[derive(Clone, PartialEq, prost::Message)]
pub struct TimeRange {
    #[prost(int64, optional, tag = "1")]
    pub start_time: Option<i64>,
    #[prost(int64, optional, tag = "2")]
    pub end_time: Option<i64>,
    #[prost(int64, optional, tag = "3")]
    pub specific_time: Option<i64>,
}

#[derive(Clone, PartialEq, prost::Message)]
pub struct StreamDetails {
    #[prost(bool, required, tag = "1")]
    pub enable_stream: bool,
    #[prost(string, optional, tag = "2")]
    pub stream_id: Option<String>,
    #[prost(int32, optional, tag = "3")]
    pub expiration_time: Option<i32>,
    #[prost(int64, optional, tag = "4")]
    pub last_enable_time: Option<i64>,
}

#[derive(Clone, PartialEq, prost::Message)]
pub struct SseDetails {
    #[prost(bool, required, tag = "1")]
    pub enable: bool,
}

// ===== DDL =====

#[derive(Clone, PartialEq, prost::Message)]
pub struct CreateTableRequest {
    #[prost(message, required, tag = "1")]
    pub table_meta: TableMeta,
    #[prost(message, required, tag = "2")]
    pub reserved_throughput: ReservedThroughput,
    #[prost(message, optional, tag = "3")]
    pub table_options: Option<TableOptions>,
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

#[derive(Clone, PartialEq, prost::Message)]
pub struct CreateTableResponse {}

#[derive(Clone, PartialEq, prost::Message)]
pub struct DescribeTableRequest {
    #[prost(string, required, tag = "1")]
    pub table_name: String,
}

#[derive(Clone, PartialEq, prost::Message)]
pub struct DescribeTableResponse {
    #[prost(message, required, tag = "1")]
    pub table_meta: TableMeta,
    #[prost(message, required, tag = "2")]
    pub reserved_throughput_details: ReservedThroughputDetails,
    #[prost(message, required, tag = "3")]
    pub table_options: TableOptions,
    /// Always ACTIVE (1) from the emulator; required in the Go SDK's copy.
    #[prost(int32, optional, tag = "4")]
    pub table_status: Option<i32>,
    #[prost(message, optional, tag = "5")]
    pub stream_details: Option<StreamDetails>,
    #[prost(bytes = "vec", repeated, tag = "6")]
    pub shard_splits: Vec<Vec<u8>>,
    #[prost(message, optional, tag = "7")]
    pub sse_details: Option<SseDetails>,
    #[prost(int64, optional, tag = "9")]
    pub creation_time: Option<i64>,
}

#[derive(Clone, PartialEq, prost::Message)]
pub struct ListTableRequest {}

#[derive(Clone, PartialEq, prost::Message)]
pub struct ListTableResponse {
    #[prost(string, repeated, tag = "1")]
    pub table_names: Vec<String>,
}

#[derive(Clone, PartialEq, prost::Message)]
pub struct DeleteTableRequest {
    #[prost(string, required, tag = "1")]
    pub table_name: String,
}

#[derive(Clone, PartialEq, prost::Message)]
pub struct DeleteTableResponse {}

// ===== Single-row DML =====

#[derive(Clone, PartialEq, prost::Message)]
pub struct PutRowRequest {
    #[prost(string, required, tag = "1")]
    pub table_name: String,
    #[prost(bytes = "vec", required, tag = "2")]
    pub row: Vec<u8>,
    #[prost(message, required, tag = "3")]
    pub condition: Condition,
    #[prost(message, optional, tag = "4")]
    pub return_content: Option<ReturnContent>,
}

#[derive(Clone, PartialEq, prost::Message)]
pub struct UpdateRowRequest {
    #[prost(string, required, tag = "1")]
    pub table_name: String,
    #[prost(bytes = "vec", required, tag = "2")]
    pub row_change: Vec<u8>,
    #[prost(message, required, tag = "3")]
    pub condition: Condition,
    #[prost(message, optional, tag = "4")]
    pub return_content: Option<ReturnContent>,
}

#[derive(Clone, PartialEq, prost::Message)]
pub struct DeleteRowRequest {
    #[prost(string, required, tag = "1")]
    pub table_name: String,
    #[prost(bytes = "vec", required, tag = "2")]
    pub primary_key: Vec<u8>,
    #[prost(message, required, tag = "3")]
    pub condition: Condition,
    #[prost(message, optional, tag = "4")]
    pub return_content: Option<ReturnContent>,
}

/// Response of PutRow, UpdateRow and DeleteRow (same shape).
#[derive(Clone, PartialEq, prost::Message)]
pub struct WriteRowResponse {
    #[prost(message, required, tag = "1")]
    pub consumed: ConsumedCapacity,
    #[prost(bytes = "vec", optional, tag = "2")]
    pub row: Option<Vec<u8>>,
}

#[derive(Clone, PartialEq, prost::Message)]
pub struct GetRowRequest {
    #[prost(string, required, tag = "1")]
    pub table_name: String,
    #[prost(bytes = "vec", required, tag = "2")]
    pub primary_key: Vec<u8>,
    #[prost(string, repeated, tag = "3")]
    pub columns_to_get: Vec<String>,
    #[prost(message, optional, tag = "4")]
    pub time_range: Option<TimeRange>,
    #[prost(int32, optional, tag = "5")]
    pub max_versions: Option<i32>,
    #[prost(bytes = "vec", optional, tag = "7")]
    pub filter: Option<Vec<u8>>,
    #[prost(string, optional, tag = "8")]
    pub start_column: Option<String>,
    #[prost(string, optional, tag = "9")]
    pub end_column: Option<String>,
    #[prost(bytes = "vec", optional, tag = "10")]
    pub token: Option<Vec<u8>>,
    #[prost(string, optional, tag = "11")]
    pub transaction_id: Option<String>,
}

#[derive(Clone, PartialEq, prost::Message)]
pub struct GetRowResponse {
    #[prost(message, required, tag = "1")]
    pub consumed: ConsumedCapacity,
    /// Empty bytes mean the row does not exist.
    #[prost(bytes = "vec", required, tag = "2")]
    pub row: Vec<u8>,
    #[prost(bytes = "vec", optional, tag = "3")]
    pub next_token: Option<Vec<u8>>,
}

// ===== BatchWriteRow =====

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, prost::Enumeration)]
#[repr(i32)]
pub enum OperationType {
    Put = 1,
    Update = 2,
    Delete = 3,
}

#[derive(Clone, PartialEq, prost::Message)]
pub struct RowInBatchWriteRowRequest {
    #[prost(enumeration = "OperationType", required, tag = "1")]
    pub r#type: i32,
    /// `Bytes` so a retry of some rows re-sends them without copying.
    #[prost(bytes = "bytes", required, tag = "2")]
    pub row_change: bytes::Bytes,
    #[prost(message, required, tag = "3")]
    pub condition: Condition,
    #[prost(message, optional, tag = "4")]
    pub return_content: Option<ReturnContent>,
}

#[derive(Clone, PartialEq, prost::Message)]
pub struct TableInBatchWriteRowRequest {
    #[prost(string, required, tag = "1")]
    pub table_name: String,
    #[prost(message, repeated, tag = "2")]
    pub rows: Vec<RowInBatchWriteRowRequest>,
}

#[derive(Clone, PartialEq, prost::Message)]
pub struct BatchWriteRowRequest {
    #[prost(message, repeated, tag = "1")]
    pub tables: Vec<TableInBatchWriteRowRequest>,
    #[prost(string, optional, tag = "2")]
    pub transaction_id: Option<String>,
    #[prost(bool, optional, tag = "3")]
    pub is_atomic: Option<bool>,
}

#[derive(Clone, PartialEq, prost::Message)]
pub struct RowInBatchWriteRowResponse {
    #[prost(bool, required, tag = "1")]
    pub is_ok: bool,
    #[prost(message, optional, tag = "2")]
    pub error: Option<Error>,
    #[prost(message, optional, tag = "3")]
    pub consumed: Option<ConsumedCapacity>,
    #[prost(bytes = "vec", optional, tag = "4")]
    pub row: Option<Vec<u8>>,
}

#[derive(Clone, PartialEq, prost::Message)]
pub struct TableInBatchWriteRowResponse {
    #[prost(string, required, tag = "1")]
    pub table_name: String,
    #[prost(message, repeated, tag = "2")]
    pub rows: Vec<RowInBatchWriteRowResponse>,
}

#[derive(Clone, PartialEq, prost::Message)]
pub struct BatchWriteRowResponse {
    #[prost(message, repeated, tag = "1")]
    pub tables: Vec<TableInBatchWriteRowResponse>,
}

// ===== GetRange =====

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, prost::Enumeration)]
#[repr(i32)]
pub enum Direction {
    Forward = 0,
    Backward = 1,
}

#[derive(Clone, PartialEq, prost::Message)]
pub struct GetRangeRequest {
    #[prost(string, required, tag = "1")]
    pub table_name: String,
    #[prost(enumeration = "Direction", required, tag = "2")]
    pub direction: i32,
    #[prost(string, repeated, tag = "3")]
    pub columns_to_get: Vec<String>,
    #[prost(message, optional, tag = "4")]
    pub time_range: Option<TimeRange>,
    #[prost(int32, optional, tag = "5")]
    pub max_versions: Option<i32>,
    #[prost(int32, optional, tag = "6")]
    pub limit: Option<i32>,
    #[prost(bytes = "vec", required, tag = "7")]
    pub inclusive_start_primary_key: Vec<u8>,
    #[prost(bytes = "vec", required, tag = "8")]
    pub exclusive_end_primary_key: Vec<u8>,
    #[prost(bytes = "vec", optional, tag = "10")]
    pub filter: Option<Vec<u8>>,
    #[prost(string, optional, tag = "11")]
    pub start_column: Option<String>,
    #[prost(string, optional, tag = "12")]
    pub end_column: Option<String>,
    #[prost(bytes = "vec", optional, tag = "13")]
    pub token: Option<Vec<u8>>,
}

#[derive(Clone, PartialEq, prost::Message)]
pub struct GetRangeResponse {
    #[prost(message, required, tag = "1")]
    pub consumed: ConsumedCapacity,
    #[prost(bytes = "vec", required, tag = "2")]
    pub rows: Vec<u8>,
    /// Absent when the scan is finished.
    #[prost(bytes = "vec", optional, tag = "3")]
    pub next_start_primary_key: Option<Vec<u8>>,
    #[prost(bytes = "vec", optional, tag = "4")]
    pub next_token: Option<Vec<u8>>,
}
