//! TimeSeries messages (`timeseries.proto`).

use super::table::PrimaryKeySchema;

#[derive(Clone, PartialEq, prost::Message)]
pub struct TimeseriesTableOptions {
    /// Seconds; -1 keeps data forever.
    #[prost(int32, optional, tag = "1")]
    pub time_to_live: Option<i32>,
}

#[derive(Clone, PartialEq, prost::Message)]
pub struct TimeseriesMetaOptions {
    #[prost(bool, optional, tag = "1")]
    pub allow_update_attributes: Option<bool>,
    #[prost(int32, optional, tag = "2")]
    pub meta_time_to_live: Option<i32>,
}

#[derive(Clone, PartialEq, prost::Message)]
pub struct TimeseriesTableMeta {
    #[prost(string, required, tag = "1")]
    pub table_name: String,
    #[prost(message, optional, tag = "2")]
    pub table_options: Option<TimeseriesTableOptions>,
    #[prost(string, optional, tag = "3")]
    pub status: Option<String>,
    #[prost(message, optional, tag = "4")]
    pub meta_options: Option<TimeseriesMetaOptions>,
    #[prost(string, repeated, tag = "5")]
    pub timeseries_key_schema: Vec<String>,
    #[prost(message, repeated, tag = "6")]
    pub field_primary_key_schema: Vec<PrimaryKeySchema>,
    #[prost(bool, optional, tag = "7")]
    pub disable_hash_partition_key: Option<bool>,
    #[prost(bool, optional, tag = "8")]
    pub disable_timeseries_meta_index: Option<bool>,
}

#[derive(Clone, PartialEq, prost::Message)]
pub struct CreateTimeseriesTableRequest {
    #[prost(message, required, tag = "1")]
    pub table_meta: TimeseriesTableMeta,
    #[prost(bool, optional, tag = "4")]
    pub enable_analytical_store: Option<bool>,
}

#[derive(Clone, PartialEq, prost::Message)]
pub struct CreateTimeseriesTableResponse {}

#[derive(Clone, PartialEq, prost::Message)]
pub struct ListTimeseriesTableRequest {}

#[derive(Clone, PartialEq, prost::Message)]
pub struct ListTimeseriesTableResponse {
    #[prost(message, repeated, tag = "1")]
    pub table_metas: Vec<TimeseriesTableMeta>,
}

#[derive(Clone, PartialEq, prost::Message)]
pub struct DescribeTimeseriesTableRequest {
    #[prost(string, required, tag = "1")]
    pub table_name: String,
}

#[derive(Clone, PartialEq, prost::Message)]
pub struct DescribeTimeseriesTableResponse {
    #[prost(message, required, tag = "1")]
    pub table_meta: TimeseriesTableMeta,
}

#[derive(Clone, PartialEq, prost::Message)]
pub struct DeleteTimeseriesTableRequest {
    #[prost(string, required, tag = "1")]
    pub table_name: String,
}

#[derive(Clone, PartialEq, prost::Message)]
pub struct DeleteTimeseriesTableResponse {}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, prost::Enumeration)]
#[repr(i32)]
pub enum RowsSerializeType {
    RstFlatBuffer = 0,
    RstPlainBuffer = 1,
    RstProtoBuffer = 2,
}

#[derive(Clone, PartialEq, prost::Message)]
pub struct TimeseriesRows {
    #[prost(enumeration = "RowsSerializeType", required, tag = "1")]
    pub r#type: i32,
    #[prost(bytes = "vec", required, tag = "2")]
    pub rows_data: Vec<u8>,
    /// CRC-32C of `rows_data`, as a signed reinterpretation of the u32.
    #[prost(int32, optional, tag = "3")]
    pub flatbuffer_crc32c: Option<i32>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, prost::Enumeration)]
#[repr(i32)]
pub enum MetaUpdateMode {
    MumNormal = 0,
    MumIgnore = 1,
}

#[derive(Clone, PartialEq, prost::Message)]
pub struct PutTimeseriesDataRequest {
    #[prost(string, required, tag = "1")]
    pub table_name: String,
    #[prost(message, required, tag = "2")]
    pub rows_data: TimeseriesRows,
    #[prost(enumeration = "MetaUpdateMode", optional, tag = "3")]
    pub meta_update_mode: Option<i32>,
    #[prost(int64, optional, tag = "4")]
    pub supported_table_version: Option<i64>,
}

#[derive(Clone, PartialEq, prost::Message)]
pub struct FailedRowInfo {
    #[prost(int32, required, tag = "1")]
    pub row_index: i32,
    #[prost(string, optional, tag = "2")]
    pub error_code: Option<String>,
    #[prost(string, optional, tag = "3")]
    pub error_message: Option<String>,
}

#[derive(Clone, PartialEq, prost::Message)]
pub struct MetaUpdateStatus {
    #[prost(uint32, repeated, packed = "false", tag = "1")]
    pub row_ids: Vec<u32>,
    #[prost(uint32, repeated, packed = "false", tag = "2")]
    pub meta_update_times: Vec<u32>,
}

#[derive(Clone, PartialEq, prost::Message)]
pub struct PutTimeseriesDataResponse {
    #[prost(message, repeated, tag = "1")]
    pub failed_rows: Vec<FailedRowInfo>,
    #[prost(message, optional, tag = "2")]
    pub meta_update_status: Option<MetaUpdateStatus>,
}

#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, prost::Message)]
pub struct TimeseriesTag {
    #[prost(string, required, tag = "1")]
    pub name: String,
    #[prost(string, required, tag = "2")]
    pub value: String,
}

#[derive(Clone, PartialEq, prost::Message)]
pub struct TimeseriesKey {
    #[prost(string, optional, tag = "1")]
    pub measurement: Option<String>,
    #[prost(string, optional, tag = "2")]
    pub source: Option<String>,
    /// Legacy (table version 0) tag string `["k=v",...]`.
    #[prost(string, optional, tag = "3")]
    pub tags: Option<String>,
    #[prost(message, repeated, tag = "4")]
    pub tag_list: Vec<TimeseriesTag>,
}

#[derive(Clone, PartialEq, prost::Message)]
pub struct TimeseriesFieldsToGet {
    #[prost(string, optional, tag = "1")]
    pub name: Option<String>,
    #[prost(int32, optional, tag = "2")]
    pub r#type: Option<i32>,
}

#[derive(Clone, PartialEq, prost::Message)]
pub struct GetTimeseriesDataRequest {
    #[prost(string, required, tag = "1")]
    pub table_name: String,
    #[prost(message, required, tag = "2")]
    pub time_series_key: TimeseriesKey,
    #[prost(int64, optional, tag = "3")]
    pub begin_time: Option<i64>,
    #[prost(int64, optional, tag = "4")]
    pub end_time: Option<i64>,
    #[prost(int64, optional, tag = "5")]
    pub specific_time: Option<i64>,
    #[prost(bytes = "vec", optional, tag = "6")]
    pub token: Option<Vec<u8>>,
    #[prost(int32, optional, tag = "7")]
    pub limit: Option<i32>,
    #[prost(bool, optional, tag = "8")]
    pub backward: Option<bool>,
    #[prost(message, repeated, tag = "9")]
    pub fields_to_get: Vec<TimeseriesFieldsToGet>,
    #[prost(int64, optional, tag = "10")]
    pub supported_table_version: Option<i64>,
}

#[derive(Clone, PartialEq, prost::Message)]
pub struct GetTimeseriesDataResponse {
    #[prost(bytes = "vec", required, tag = "1")]
    pub rows_data: Vec<u8>,
    #[prost(bytes = "vec", optional, tag = "2")]
    pub next_token: Option<Vec<u8>>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, prost::Enumeration)]
#[repr(i32)]
pub enum MetaQueryConditionType {
    Composite = 1,
    Measurement = 2,
    Source = 3,
    Tag = 4,
    UpdateTime = 5,
    Attribute = 6,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, prost::Enumeration)]
#[repr(i32)]
pub enum MetaQueryCompositeOperator {
    OpAnd = 1,
    OpOr = 2,
    OpNot = 3,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, prost::Enumeration)]
#[repr(i32)]
pub enum MetaQuerySingleOperator {
    OpEqual = 1,
    OpGreaterThan = 2,
    OpGreaterEqual = 3,
    OpLessThan = 4,
    OpLessEqual = 5,
    OpPrefix = 6,
}

#[derive(Clone, PartialEq, prost::Message)]
pub struct MetaQueryCondition {
    #[prost(enumeration = "MetaQueryConditionType", required, tag = "1")]
    pub r#type: i32,
    /// The serialized sub-condition message selected by `type`.
    #[prost(bytes = "vec", required, tag = "2")]
    pub proto_data: Vec<u8>,
}

#[derive(Clone, PartialEq, prost::Message)]
pub struct MetaQueryCompositeCondition {
    #[prost(enumeration = "MetaQueryCompositeOperator", required, tag = "1")]
    pub op: i32,
    #[prost(message, repeated, tag = "2")]
    pub sub_conditions: Vec<MetaQueryCondition>,
}

/// Measurement and source conditions share this shape.
#[derive(Clone, PartialEq, prost::Message)]
pub struct MetaQueryValueCondition {
    #[prost(enumeration = "MetaQuerySingleOperator", required, tag = "1")]
    pub op: i32,
    #[prost(string, required, tag = "2")]
    pub value: String,
}

/// Tag and attribute conditions share this shape.
#[derive(Clone, PartialEq, prost::Message)]
pub struct MetaQueryNamedCondition {
    #[prost(enumeration = "MetaQuerySingleOperator", required, tag = "1")]
    pub op: i32,
    #[prost(string, required, tag = "2")]
    pub name: String,
    #[prost(string, required, tag = "3")]
    pub value: String,
}

#[derive(Clone, PartialEq, prost::Message)]
pub struct MetaQueryUpdateTimeCondition {
    #[prost(enumeration = "MetaQuerySingleOperator", required, tag = "1")]
    pub op: i32,
    #[prost(int64, required, tag = "2")]
    pub value: i64,
}

#[derive(Clone, PartialEq, prost::Message)]
pub struct QueryTimeseriesMetaRequest {
    #[prost(string, required, tag = "1")]
    pub table_name: String,
    #[prost(message, optional, tag = "2")]
    pub condition: Option<MetaQueryCondition>,
    #[prost(bool, optional, tag = "3")]
    pub get_total_hit: Option<bool>,
    #[prost(bytes = "vec", optional, tag = "4")]
    pub token: Option<Vec<u8>>,
    #[prost(int32, optional, tag = "5")]
    pub limit: Option<i32>,
    #[prost(int64, optional, tag = "6")]
    pub supported_table_version: Option<i64>,
}

#[derive(Clone, PartialEq, prost::Message)]
pub struct TimeseriesMeta {
    #[prost(message, required, tag = "1")]
    pub time_series_key: TimeseriesKey,
    #[prost(string, optional, tag = "2")]
    pub attributes: Option<String>,
    /// Microseconds.
    #[prost(int64, optional, tag = "3")]
    pub update_time: Option<i64>,
}

#[derive(Clone, PartialEq, prost::Message)]
pub struct QueryTimeseriesMetaResponse {
    #[prost(message, repeated, tag = "1")]
    pub timeseries_metas: Vec<TimeseriesMeta>,
    #[prost(int64, optional, tag = "2")]
    pub total_hit: Option<i64>,
    #[prost(bytes = "vec", optional, tag = "3")]
    pub next_token: Option<Vec<u8>>,
}
