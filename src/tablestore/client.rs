//! Async Tablestore client: one pooled keep-alive HTTP/1.1 connection set,
//! a per-request timeout, v2 signing, response MD5 and signature checks.
//!
//! It does not retry: callers (the sink's writer) own the retry policy and
//! use [`Error::class`](super::Error) to decide. Every call is a method
//! named after its action.

use std::time::Duration;

use bytes::Bytes;
use prost::Message;

use super::error::Error;
use super::flatrows::{self, SeriesKey, TimeseriesRow};
use super::plainbuffer::{self, PkValue, Row};
use super::proto::*;
use super::sign;

/// Connection settings for [`Client::new`].
#[derive(Clone, Debug)]
pub struct ClientConfig {
    /// `http(s)://host[:port]`, e.g. `https://inst.cn-hangzhou.ots.aliyuncs.com`.
    pub endpoint: String,
    pub instance: String,
    pub access_key_id: String,
    pub access_key_secret: String,
    /// STS token for temporary credentials.
    pub sts_token: Option<String>,
    /// Whole-request deadline, connect to last body byte.
    pub request_timeout: Duration,
    pub connect_timeout: Duration,
    /// Idle keep-alive connections kept per host.
    pub max_idle_connections: usize,
}

impl ClientConfig {
    pub fn new(
        endpoint: &str,
        instance: &str,
        access_key_id: &str,
        access_key_secret: &str,
    ) -> Self {
        ClientConfig {
            endpoint: endpoint.trim_end_matches('/').to_owned(),
            instance: instance.to_owned(),
            access_key_id: access_key_id.to_owned(),
            access_key_secret: access_key_secret.to_owned(),
            sts_token: None,
            request_timeout: Duration::from_secs(30),
            connect_timeout: Duration::from_secs(5),
            max_idle_connections: 64,
        }
    }
}

/// One row change inside a BatchWriteRow, already encoded so a retry of
/// failed rows does not re-encode.
#[derive(Clone, Debug)]
pub struct RowChange {
    pub op: OperationType,
    pub row: Bytes,
    pub expect: RowExistenceExpectation,
}

impl RowChange {
    pub fn new(op: OperationType, row: &Row) -> Self {
        RowChange {
            op,
            row: Bytes::from(plainbuffer::encode_row(row)),
            expect: RowExistenceExpectation::Ignore,
        }
    }
}

/// An error and its causes on one line (reqwest's own text is only "error
/// sending request"; the cause says reset, refused or timed out).
fn error_chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text
}

/// A Tablestore error code: `OTS` and a name (an HTML page or a stray
/// protobuf parse of one never looks like this).
fn is_service_code(code: &str) -> bool {
    code.len() > 3 && code.starts_with("OTS") && code.bytes().all(|b| b.is_ascii_alphanumeric())
}

/// One page of a GetRange.
#[derive(Clone, Debug, Default)]
pub struct RangePage {
    pub rows: Vec<Row>,
    /// Where the next page starts; `None` when the range is exhausted.
    pub next_start: Option<Vec<(String, PkValue)>>,
}

/// A per-row outcome of BatchWriteRow or PutTimeseriesData.
pub type RowResult = Result<(), Error>;

/// Async client for one instance. Cheap to clone.
#[derive(Clone)]
pub struct Client {
    http: reqwest::Client,
    config: std::sync::Arc<ClientConfig>,
}

impl Client {
    pub fn new(config: ClientConfig) -> Result<Self, Error> {
        let http = reqwest::Client::builder()
            .http1_only()
            .pool_max_idle_per_host(config.max_idle_connections)
            .pool_idle_timeout(Duration::from_secs(50))
            .tcp_nodelay(true)
            .timeout(config.request_timeout)
            .connect_timeout(config.connect_timeout)
            .build()
            .map_err(|e| Error::transport(format!("building HTTP client: {e}")))?;
        Ok(Client {
            http,
            config: std::sync::Arc::new(config),
        })
    }

    pub fn config(&self) -> &ClientConfig {
        &self.config
    }

    /// Sends one action and decodes its response (or its error).
    pub async fn call<Req: Message, Resp: Message + Default>(
        &self,
        action: &str,
        req: &Req,
    ) -> Result<Resp, Error> {
        self.call_with_body(action, req.encode_to_vec()).await
    }

    /// [`Client::call`] with the request already encoded.
    async fn call_with_body<Resp: Message + Default>(
        &self,
        action: &str,
        body: Vec<u8>,
    ) -> Result<Resp, Error> {
        let bytes = self.post(action, body).await?;
        Resp::decode(bytes.as_ref())
            .map_err(|e| Error::protocol(format!("{action} response does not decode: {e}")))
    }

    async fn post(&self, action: &str, body: Vec<u8>) -> Result<Bytes, Error> {
        let cfg = &*self.config;
        let date = chrono::Utc::now()
            .format("%Y-%m-%dT%H:%M:%S%.3fZ")
            .to_string();
        let md5 = sign::content_md5(&body);
        let mut headers: Vec<(&str, &str)> = vec![
            ("x-ots-date", &date),
            ("x-ots-apiversion", "2015-12-31"),
            ("x-ots-accesskeyid", &cfg.access_key_id),
            ("x-ots-instancename", &cfg.instance),
            ("x-ots-contentmd5", &md5),
        ];
        if let Some(token) = &cfg.sts_token {
            headers.push(("x-ots-ststoken", token));
        }
        let signature =
            sign::sign_request_v2(&cfg.access_key_secret, action, headers.iter().copied());
        let mut req = self.http.post(format!("{}/{action}", cfg.endpoint));
        for (n, v) in &headers {
            req = req.header(*n, *v);
        }
        req = req
            .header(sign::HEADER_SIGNATURE, signature)
            .header("content-type", "application/x-protobuf");
        let resp = req
            .body(body)
            .send()
            .await
            .map_err(|e| Error::transport(format!("{action}: {}", error_chain(&e))))?;
        let status = resp.status().as_u16();
        let resp_headers = resp.headers().clone();
        let bytes = resp.bytes().await.map_err(|e| {
            Error::transport(format!("{action}: reading body: {}", error_chain(&e)))
        })?;
        let header = |n: &str| {
            resp_headers
                .get(n)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned)
        };
        let request_id = header("x-ots-requestid");

        if !(200..300).contains(&status) {
            // Only a Tablestore error body makes this the service's answer;
            // anything else came from something in between.
            return Err(match ErrorMessage::decode(bytes.as_ref()) {
                Ok(e) if is_service_code(&e.code) => {
                    Error::service(status, e.code, e.message.unwrap_or_default(), request_id)
                }
                _ => Error::gateway(status, &bytes, request_id),
            });
        }
        // Tablestore signs every answer's body with an MD5 header (the
        // SDKs refuse answers without it); a 200 without one came from
        // something else (a captive portal, a misrouted proxy).
        match header("x-ots-contentmd5") {
            Some(md5) if md5 == sign::content_md5(&bytes) => {}
            Some(_) => {
                return Err(Error::integrity(format!(
                    "{action}: response body MD5 mismatch"
                )))
            }
            None => {
                return Err(Error::integrity(format!(
                    "{action}: HTTP {status} answer without x-ots-contentmd5 is not from Tablestore"
                )))
            }
        }
        if let Some(auth) = header("authorization") {
            let pairs: Vec<(String, String)> = resp_headers
                .iter()
                .filter_map(|(n, v)| Some((n.as_str().to_owned(), v.to_str().ok()?.to_owned())))
                .collect();
            let expect = sign::sign_response(
                &cfg.access_key_id,
                cfg.access_key_secret.as_bytes(),
                action,
                pairs.iter().map(|(n, v)| (n.as_str(), v.as_str())),
            );
            if !sign::same(&auth, &expect) {
                return Err(Error::integrity(format!(
                    "{action}: response signature does not verify"
                )));
            }
        }
        Ok(bytes)
    }

    // ===== Table DDL =====

    pub async fn create_table(&self, req: &CreateTableRequest) -> Result<(), Error> {
        self.call::<_, CreateTableResponse>("CreateTable", req)
            .await
            .map(|_| ())
    }

    pub async fn describe_table(&self, table: &str) -> Result<DescribeTableResponse, Error> {
        self.call(
            "DescribeTable",
            &DescribeTableRequest {
                table_name: table.into(),
            },
        )
        .await
    }

    pub async fn list_table(&self) -> Result<Vec<String>, Error> {
        let r: ListTableResponse = self.call("ListTable", &ListTableRequest {}).await?;
        Ok(r.table_names)
    }

    pub async fn delete_table(&self, table: &str) -> Result<(), Error> {
        self.call::<_, DeleteTableResponse>(
            "DeleteTable",
            &DeleteTableRequest {
                table_name: table.into(),
            },
        )
        .await
        .map(|_| ())
    }

    // ===== Single-row operations =====

    pub async fn put_row(
        &self,
        table: &str,
        row: &Row,
        expect: RowExistenceExpectation,
    ) -> Result<(), Error> {
        let req = PutRowRequest {
            table_name: table.into(),
            row: plainbuffer::encode_row(row),
            condition: Condition {
                row_existence: expect as i32,
                column_condition: None,
            },
            return_content: None,
        };
        self.call::<_, WriteRowResponse>("PutRow", &req)
            .await
            .map(|_| ())
    }

    pub async fn update_row(
        &self,
        table: &str,
        row: &Row,
        expect: RowExistenceExpectation,
    ) -> Result<(), Error> {
        let req = UpdateRowRequest {
            table_name: table.into(),
            row_change: plainbuffer::encode_row(row),
            condition: Condition {
                row_existence: expect as i32,
                column_condition: None,
            },
            return_content: None,
        };
        self.call::<_, WriteRowResponse>("UpdateRow", &req)
            .await
            .map(|_| ())
    }

    pub async fn delete_row(
        &self,
        table: &str,
        primary_key: &[(String, PkValue)],
        expect: RowExistenceExpectation,
    ) -> Result<(), Error> {
        let row = Row {
            primary_key: primary_key.to_vec(),
            cells: vec![],
            delete_marker: true,
        };
        let req = DeleteRowRequest {
            table_name: table.into(),
            primary_key: plainbuffer::encode_row(&row),
            condition: Condition {
                row_existence: expect as i32,
                column_condition: None,
            },
            return_content: None,
        };
        self.call::<_, WriteRowResponse>("DeleteRow", &req)
            .await
            .map(|_| ())
    }

    /// Reads one row (latest `max_versions` versions); `None` if absent.
    pub async fn get_row(
        &self,
        table: &str,
        primary_key: &[(String, PkValue)],
        columns_to_get: &[String],
        max_versions: i32,
    ) -> Result<Option<Row>, Error> {
        let req = GetRowRequest {
            table_name: table.into(),
            primary_key: plainbuffer::encode_primary_key(primary_key),
            columns_to_get: columns_to_get.to_vec(),
            max_versions: Some(max_versions),
            ..Default::default()
        };
        let resp: GetRowResponse = self.call("GetRow", &req).await?;
        let mut rows = plainbuffer::decode_rows(&resp.row)
            .map_err(|e| Error::protocol(format!("GetRow row: {e}")))?;
        Ok(rows.pop())
    }

    /// Sends one BatchWriteRow for one table; returns one result per row,
    /// in order. A whole-request failure is the outer `Err`.
    pub async fn batch_write_row(
        &self,
        table: &str,
        rows: &[RowChange],
    ) -> Result<Vec<RowResult>, Error> {
        let body = super::batch_body::encode(table, rows);
        let resp: BatchWriteRowResponse = self.call_with_body("BatchWriteRow", body).await?;
        let results = resp
            .tables
            .into_iter()
            .next()
            .map(|t| t.rows)
            .unwrap_or_default();
        if results.len() != rows.len() {
            return Err(Error::protocol(format!(
                "BatchWriteRow answered {} row results for {} rows",
                results.len(),
                rows.len()
            )));
        }
        Ok(results
            .into_iter()
            .map(|r| {
                if r.is_ok {
                    Ok(())
                } else {
                    let e = r.error.unwrap_or(ErrorMessage {
                        code: "OTSUnknown".into(),
                        message: None,
                    });
                    Err(Error::service(
                        200,
                        e.code,
                        e.message.unwrap_or_default(),
                        None,
                    ))
                }
            })
            .collect())
    }

    /// Reads one page of a range (the server stops at `limit`, 5000 rows
    /// or 4 MB).
    pub async fn get_range(
        &self,
        table: &str,
        direction: Direction,
        start: &[(String, PkValue)],
        end: &[(String, PkValue)],
        limit: Option<i32>,
        columns_to_get: &[String],
    ) -> Result<RangePage, Error> {
        let req = GetRangeRequest {
            table_name: table.into(),
            direction: direction as i32,
            columns_to_get: columns_to_get.to_vec(),
            max_versions: Some(1),
            limit,
            inclusive_start_primary_key: plainbuffer::encode_primary_key(start),
            exclusive_end_primary_key: plainbuffer::encode_primary_key(end),
            ..Default::default()
        };
        let resp: GetRangeResponse = self.call("GetRange", &req).await?;
        let rows = plainbuffer::decode_rows(&resp.rows)
            .map_err(|e| Error::protocol(format!("GetRange rows: {e}")))?;
        let next_start = match resp.next_start_primary_key.filter(|b| !b.is_empty()) {
            Some(b) => Some(
                plainbuffer::decode_single_row(&b)
                    .map_err(|e| Error::protocol(format!("GetRange next_start_primary_key: {e}")))?
                    .primary_key,
            ),
            None => None,
        };
        Ok(RangePage { rows, next_start })
    }

    /// Reads a whole range, following `next_start_primary_key`, up to
    /// `max_rows` rows.
    pub async fn get_range_all(
        &self,
        table: &str,
        direction: Direction,
        start: &[(String, PkValue)],
        end: &[(String, PkValue)],
        max_rows: usize,
    ) -> Result<Vec<Row>, Error> {
        let mut out = Vec::new();
        let mut start = start.to_vec();
        loop {
            let left = max_rows.saturating_sub(out.len());
            if left == 0 {
                return Ok(out);
            }
            let page = self
                .get_range(
                    table,
                    direction,
                    &start,
                    end,
                    Some(left.min(5000) as i32),
                    &[],
                )
                .await?;
            out.extend(page.rows);
            match page.next_start {
                Some(next) => start = next,
                None => return Ok(out),
            }
        }
    }

    // ===== TimeSeries =====

    pub async fn create_timeseries_table(
        &self,
        table: &str,
        time_to_live_s: i32,
    ) -> Result<(), Error> {
        let req = CreateTimeseriesTableRequest {
            table_meta: TimeseriesTableMeta {
                table_name: table.into(),
                table_options: Some(TimeseriesTableOptions {
                    time_to_live: Some(time_to_live_s),
                }),
                ..Default::default()
            },
            enable_analytical_store: None,
        };
        self.call::<_, CreateTimeseriesTableResponse>("CreateTimeseriesTable", &req)
            .await
            .map(|_| ())
    }

    pub async fn describe_timeseries_table(
        &self,
        table: &str,
    ) -> Result<TimeseriesTableMeta, Error> {
        let r: DescribeTimeseriesTableResponse = self
            .call(
                "DescribeTimeseriesTable",
                &DescribeTimeseriesTableRequest {
                    table_name: table.into(),
                },
            )
            .await?;
        Ok(r.table_meta)
    }

    pub async fn list_timeseries_table(&self) -> Result<Vec<TimeseriesTableMeta>, Error> {
        let r: ListTimeseriesTableResponse = self
            .call("ListTimeseriesTable", &ListTimeseriesTableRequest {})
            .await?;
        Ok(r.table_metas)
    }

    pub async fn delete_timeseries_table(&self, table: &str) -> Result<(), Error> {
        self.call::<_, DeleteTimeseriesTableResponse>(
            "DeleteTimeseriesTable",
            &DeleteTimeseriesTableRequest {
                table_name: table.into(),
            },
        )
        .await
        .map(|_| ())
    }

    /// Writes points; returns one result per row, in order (per-row
    /// failures come back as `Err` entries with HTTP 200).
    pub async fn put_timeseries_data(
        &self,
        table: &str,
        rows: &[TimeseriesRow],
    ) -> Result<Vec<RowResult>, Error> {
        self.put_timeseries_encoded(table, flatrows::encode(rows), rows.len())
            .await
    }

    /// PutTimeseriesData with rows already encoded by [`flatrows::encode`]
    /// (`row_count` of them), so a caller can encode from borrowed rows.
    pub async fn put_timeseries_encoded(
        &self,
        table: &str,
        data: Vec<u8>,
        row_count: usize,
    ) -> Result<Vec<RowResult>, Error> {
        let req = PutTimeseriesDataRequest {
            table_name: table.into(),
            rows_data: TimeseriesRows {
                r#type: RowsSerializeType::RstFlatBuffer as i32,
                flatbuffer_crc32c: Some(flatrows::crc32c_signed(&data)),
                rows_data: data,
            },
            meta_update_mode: Some(MetaUpdateMode::MumNormal as i32),
            supported_table_version: Some(1),
        };
        let resp: PutTimeseriesDataResponse = self.call("PutTimeseriesData", &req).await?;
        let mut results: Vec<RowResult> = vec![Ok(()); row_count];
        for f in resp.failed_rows {
            let slot = results.get_mut(f.row_index as usize).ok_or_else(|| {
                Error::protocol(format!(
                    "PutTimeseriesData failed row index {} out of range",
                    f.row_index
                ))
            })?;
            *slot = Err(Error::service(
                200,
                f.error_code.unwrap_or_default(),
                f.error_message.unwrap_or_default(),
                None,
            ));
        }
        Ok(results)
    }

    /// Reads the points of one series in `[begin_us, end_us)`, oldest
    /// first, following `next_token` up to `max_rows`.
    pub async fn get_timeseries_data(
        &self,
        table: &str,
        key: &SeriesKey,
        begin_us: i64,
        end_us: i64,
        max_rows: usize,
    ) -> Result<Vec<TimeseriesRow>, Error> {
        let mut out = Vec::new();
        let mut token = None;
        loop {
            let req = GetTimeseriesDataRequest {
                table_name: table.into(),
                time_series_key: series_key_proto(key),
                begin_time: Some(begin_us),
                end_time: Some(end_us),
                token: token.take(),
                limit: Some(max_rows.saturating_sub(out.len()).clamp(1, 5000) as i32),
                supported_table_version: Some(1),
                ..Default::default()
            };
            let resp: GetTimeseriesDataResponse = self.call("GetTimeseriesData", &req).await?;
            let rows = plainbuffer::decode_rows(&resp.rows_data)
                .map_err(|e| Error::protocol(format!("GetTimeseriesData rows: {e}")))?;
            for row in rows {
                out.push(
                    super::timeseries_layout::row_from_storage(&row).map_err(Error::protocol)?,
                );
            }
            match resp.next_token.filter(|t| !t.is_empty()) {
                Some(t) if out.len() < max_rows => token = Some(t),
                _ => return Ok(out),
            }
        }
    }

    /// Lists series metadata matching `condition` (all series if `None`).
    pub async fn query_timeseries_meta(
        &self,
        table: &str,
        condition: Option<MetaQueryCondition>,
        max_series: usize,
    ) -> Result<Vec<TimeseriesMeta>, Error> {
        let mut out = Vec::new();
        let mut token = None;
        loop {
            let req = QueryTimeseriesMetaRequest {
                table_name: table.into(),
                condition: condition.clone(),
                get_total_hit: Some(false),
                token: token.take(),
                limit: Some(max_series.saturating_sub(out.len()).clamp(1, 1000) as i32),
                supported_table_version: Some(1),
            };
            let resp: QueryTimeseriesMetaResponse = self.call("QueryTimeseriesMeta", &req).await?;
            out.extend(resp.timeseries_metas);
            match resp.next_token.filter(|t| !t.is_empty()) {
                Some(t) if out.len() < max_series => token = Some(t),
                _ => return Ok(out),
            }
        }
    }
}

/// The protobuf `Error` message (named to avoid clashing with our `Error`).
pub(crate) use super::proto::Error as ErrorMessage;

/// A series key in its protobuf form (table version 1: `tag_list`).
pub fn series_key_proto(key: &SeriesKey) -> TimeseriesKey {
    TimeseriesKey {
        measurement: Some(key.measurement.clone()),
        source: Some(key.data_source.clone()),
        tags: None,
        tag_list: key
            .tags
            .iter()
            .map(|(k, v)| TimeseriesTag {
                name: k.clone(),
                value: v.clone(),
            })
            .collect(),
    }
}
