//! Action dispatch: decodes the protobuf request, runs the handler in a
//! read transaction or through the group-committing writer, encodes the
//! response.

use prost::Message;

use super::api_error::ApiError;
use super::catalog::TableKind;
use super::store::Store;
use super::{batch_get, ddl, range, rows, table_admin, timeseries};
use crate::tablestore::proto::*;

/// Every action the emulator serves.
pub const ACTIONS: &[&str] = &[
    "CreateTable",
    "DescribeTable",
    "ListTable",
    "DeleteTable",
    "UpdateTable",
    "ComputeSplitPointsBySize",
    "PutRow",
    "UpdateRow",
    "DeleteRow",
    "GetRow",
    "BatchWriteRow",
    "BatchGetRow",
    "GetRange",
    "CreateTimeseriesTable",
    "DescribeTimeseriesTable",
    "ListTimeseriesTable",
    "DeleteTimeseriesTable",
    "UpdateTimeseriesTable",
    "PutTimeseriesData",
    "GetTimeseriesData",
    "QueryTimeseriesMeta",
    "UpdateTimeseriesMeta",
    "DeleteTimeseriesMeta",
];

fn decode<T: Message + Default>(body: &[u8]) -> Result<T, ApiError> {
    T::decode(body).map_err(|e| ApiError::invalid(format!("Invalid request body: {e}.")))
}

/// Wall-clock milliseconds, never going backwards within this process:
/// cell versions written later never get an older timestamp.
pub fn now_ms() -> i64 {
    static LAST: std::sync::atomic::AtomicI64 = std::sync::atomic::AtomicI64::new(0);
    let now = chrono::Utc::now().timestamp_millis();
    let prev = LAST.fetch_max(now, std::sync::atomic::Ordering::AcqRel);
    prev.max(now)
}

pub async fn dispatch(store: &Store, action: &str, body: &[u8]) -> Result<Vec<u8>, ApiError> {
    macro_rules! write {
        ($req:ty, $handler:expr) => {{
            let req: $req = decode(body)?;
            // The clock is read in the writer thread, when the job runs.
            Ok(store
                .write(move |txn| ($handler)(txn, req, now_ms()))
                .await?
                .encode_to_vec())
        }};
    }
    macro_rules! read {
        ($req:ty, $handler:expr) => {{
            let req: $req = decode(body)?;
            Ok(store
                .read(move |txn| ($handler)(txn, req, now_ms()))
                .await?
                .encode_to_vec())
        }};
    }
    match action {
        "CreateTable" => write!(CreateTableRequest, ddl::create_table),
        "DescribeTable" => read!(DescribeTableRequest, |t, r, _| ddl::describe_table(t, r)),
        "ListTable" => read!(ListTableRequest, |t, _, _| ddl::list_table(t)),
        "DeleteTable" => write!(DeleteTableRequest, |t, r: DeleteTableRequest, _| {
            ddl::delete_table(t, &r.table_name, TableKind::WideColumn)
                .map(|_| DeleteTableResponse {})
        }),
        "UpdateTable" => write!(UpdateTableRequest, |t, r, _| table_admin::update_table(
            t, r
        )),
        "ComputeSplitPointsBySize" => read!(
            ComputeSplitPointsBySizeRequest,
            table_admin::compute_split_points_by_size
        ),
        "PutRow" => write!(PutRowRequest, rows::put_row),
        "UpdateRow" => write!(UpdateRowRequest, rows::update_row),
        "DeleteRow" => write!(DeleteRowRequest, rows::delete_row),
        "GetRow" => read!(GetRowRequest, rows::get_row),
        "BatchWriteRow" => write!(BatchWriteRowRequest, rows::batch_write_row),
        "BatchGetRow" => read!(BatchGetRowRequest, batch_get::batch_get_row),
        "GetRange" => read!(GetRangeRequest, range::get_range),
        "CreateTimeseriesTable" => {
            write!(CreateTimeseriesTableRequest, ddl::create_timeseries_table)
        }
        "DescribeTimeseriesTable" => read!(DescribeTimeseriesTableRequest, |t, r, _| {
            ddl::describe_timeseries_table(t, r)
        }),
        "ListTimeseriesTable" => read!(ListTimeseriesTableRequest, |t, _, _| {
            ddl::list_timeseries_table(t)
        }),
        "DeleteTimeseriesTable" => write!(
            DeleteTimeseriesTableRequest,
            |t, r: DeleteTimeseriesTableRequest, _| {
                ddl::delete_table(t, &r.table_name, TableKind::Timeseries)
                    .map(|_| DeleteTimeseriesTableResponse {})
            }
        ),
        "UpdateTimeseriesTable" => write!(UpdateTimeseriesTableRequest, |t, r, _| {
            table_admin::update_timeseries_table(t, r)
        }),
        "UpdateTimeseriesMeta" => {
            write!(
                UpdateTimeseriesMetaRequest,
                timeseries::update_timeseries_meta
            )
        }
        "DeleteTimeseriesMeta" => write!(DeleteTimeseriesMetaRequest, |t, r, _| {
            timeseries::delete_timeseries_meta(t, r)
        }),
        "PutTimeseriesData" => write!(PutTimeseriesDataRequest, timeseries::put_timeseries_data),
        "GetTimeseriesData" => read!(GetTimeseriesDataRequest, timeseries::get_timeseries_data),
        "QueryTimeseriesMeta" => read!(QueryTimeseriesMetaRequest, |t, r, _| {
            timeseries::query_timeseries_meta(t, r)
        }),
        other => Err(ApiError::invalid(format!(
            "Unsupported operation: {other}."
        ))),
    }
}
