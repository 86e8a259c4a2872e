//! The HTTP/1.1 front: admits connections ([`super::connections`]),
//! authenticates a request from its headers before reading its body, reads
//! the body (bounded in size and time), injects faults, counts repeated
//! fields before decoding ([`super::wire_limits`]), dispatches, and answers
//! with every header the SDKs check, signing the response last.
//!
//! Time limits ([`Timeouts`]): hyper's timer bounds how long a connection
//! may take to send a request head, counted from when the server starts
//! waiting for one (so it is also the keep-alive idle timeout); the body
//! must then arrive within its own timeout. A declared body over the 5 MB
//! limit is refused without reading it.
//!
//! Shutdown: stop accepting, ask every connection to finish its current
//! request (`graceful_shutdown`), wait for them, then drop the store so the
//! writer commits what is queued.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use hyper::{HeaderMap, Request, Response};
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::net::TcpListener;
use tokio::sync::watch;

use super::api::dispatch;
use super::api_error::ApiError;
use super::auth::{self, Authenticated, Credentials};
use super::connections::{BusyGuard, Connections};
use super::console;
use super::log_text::client_text;
use super::request_log::RequestLog;
use super::store::Store;
use super::wire_limits;
use crate::tablestore::proto::Error as ErrorMessage;
use crate::tablestore::sign;
use prost::Message;

/// Largest HTTP body accepted (the service's 5 MB request limit).
pub const MAX_BODY_BYTES: usize = 5 * 1024 * 1024;

/// Largest request head (request line and headers) hyper buffers; SDK
/// heads are under 2 KB.
pub const MAX_HEAD_BYTES: usize = 64 * 1024;

/// Bodies up to this size are still read (and dropped) when a request is
/// refused before its body, so a client that sent it gets a clean answer
/// instead of a reset connection; larger ones close the connection.
const DRAIN_ON_REFUSAL_BYTES: u64 = 64 * 1024;

/// Fault injection for tests and benchmarks.
#[derive(Clone, Debug, Default)]
pub struct Faults {
    /// Added before every request is handled.
    pub latency: Duration,
    /// Fraction of authenticated requests answered with 503 OTSServerBusy.
    pub throttle_rate: f64,
}

/// How long a client may take to send what it must.
#[derive(Clone, Debug)]
pub struct Timeouts {
    /// From when a connection starts waiting for a request (on connect, or
    /// after a response on a keep-alive connection) until the request head
    /// is complete: the idle timeout, and the bound on a slow head.
    pub header_read: Duration,
    /// From the request head until the whole body has arrived.
    pub body_read: Duration,
}

impl Default for Timeouts {
    fn default() -> Self {
        Timeouts {
            header_read: Duration::from_secs(60),
            body_read: Duration::from_secs(30),
        }
    }
}

/// What every connection task shares.
pub struct State {
    pub store: Store,
    pub credentials: Credentials,
    pub faults: Faults,
    pub timeouts: Timeouts,
    /// Recent requests, for the console.
    pub requests: Arc<RequestLog>,
    /// Serve the read-only console under `/console/`.
    pub console: bool,
}

pub async fn serve(
    listener: TcpListener,
    state: Arc<State>,
    max_connections: usize,
    shutdown: impl std::future::Future<Output = ()>,
) {
    let connections = Connections::new(max_connections);
    let (stop_tx, stop_rx) = watch::channel(false);
    let mut tasks = tokio::task::JoinSet::new();
    tokio::pin!(shutdown);
    loop {
        let (stream, peer) = tokio::select! {
            _ = &mut shutdown => break,
            accepted = listener.accept() => match accepted {
                Ok(a) => a,
                Err(e) => {
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
        };
        // Evicts an idle connection if full; waits only if all are busy.
        let slot = tokio::select! {
            _ = &mut shutdown => break,
            slot = connections.admit() => Arc::new(slot),
        };
        let _ = stream.set_nodelay(true);
        let state = state.clone();
        let mut stop = stop_rx.clone();
        tasks.spawn(async move {
            let service = {
                let (state, slot) = (state.clone(), slot.clone());
                hyper::service::service_fn(move |req| {
                    let busy = slot.busy();
                    handle(state.clone(), peer, req, busy)
                })
            };
            let conn = hyper::server::conn::http1::Builder::new()
                .timer(TokioTimer::new())
                .header_read_timeout(state.timeouts.header_read)
                .max_buf_size(MAX_HEAD_BYTES)
                .keep_alive(true)
                .serve_connection(TokioIo::new(stream), service);
            tokio::pin!(conn);
            tokio::select! {
                result = conn.as_mut() => {
                    if let Err(e) = result {
                        tracing::debug!(%peer, error = %e, "connection closed");
                    }
                }
                _ = slot.evicted() => {
                    tracing::debug!(%peer, "closing an idle connection to admit a new one");
                }
                _ = stop.changed() => {
                    conn.as_mut().graceful_shutdown();
                    let _ = conn.await;
                }
            }
        });
        while tasks.try_join_next().is_some() {}
    }
    let _ = stop_tx.send(true);
    let drain = async { while tasks.join_next().await.is_some() {} };
    if tokio::time::timeout(Duration::from_secs(10), drain)
        .await
        .is_err()
    {
        tracing::warn!("connections still open after 10 s; closing them");
    }
}

/// The action a request path names: its last segment.
pub fn action_of(path: &str) -> &str {
    path.rsplit('/').next().unwrap_or_default()
}

async fn handle(
    state: Arc<State>,
    peer: SocketAddr,
    req: Request<Incoming>,
    _busy: BusyGuard,
) -> Result<Response<Full<Bytes>>, Infallible> {
    if state.console && console::handles(req.method(), req.uri().path()) {
        let path = req.uri().path().to_owned();
        let query = req.uri().query().map(str::to_owned);
        return Ok(console::serve(&state, &path, query.as_deref()).await);
    }
    let started = std::time::Instant::now();
    let action = action_of(req.uri().path()).to_owned();
    let mut table = None;
    let result = answer(&state, &action, req, &mut table).await;
    let log = |status: u16, error: Option<(&str, &str)>| {
        let took = started.elapsed();
        state
            .requests
            .record(peer, &action, table.as_deref(), status, error, took);
    };
    Ok(match result {
        Ok((body, signer)) => {
            log(200, None);
            respond(200, body, &action, Some(&signer), false)
        }
        Err(failure) => {
            let Failure {
                error: e,
                signer,
                close,
            } = failure;
            // One line per failed request; client errors (4xx) are often
            // expected (a "does the table exist?" probe), so info. Client
            // text is escaped and cut: it cannot forge or flood lines.
            let (action_shown, message_shown) = (client_text(&action), client_text(&e.message));
            if e.status >= 500 {
                tracing::warn!(%peer, action = %action_shown, status = e.status, code = e.code, message = %message_shown, "request failed");
            } else {
                tracing::info!(%peer, action = %action_shown, status = e.status, code = e.code, message = %message_shown, "request failed");
            }
            log(e.status, Some((e.code, &e.message)));
            let body = ErrorMessage {
                code: e.code.to_owned(),
                message: Some(e.message),
            }
            .encode_to_vec();
            respond(e.status, body, &action, signer.as_ref(), close)
        }
    })
}

/// A refused request: the error, the key to sign the answer with (when
/// the caller's access key is known), and whether the connection must
/// close (its body was not read to the end).
struct Failure {
    error: ApiError,
    signer: Option<Authenticated>,
    close: bool,
}

impl Failure {
    fn unsigned(error: ApiError) -> Self {
        Failure {
            error,
            signer: None,
            close: false,
        }
    }

    fn closing(mut self) -> Self {
        self.close = true;
        self
    }
}

fn content_length(headers: &HeaderMap) -> Option<u64> {
    headers
        .get(hyper::header::CONTENT_LENGTH)?
        .to_str()
        .ok()?
        .parse()
        .ok()
}

/// After refusing a request from its headers: reads a small body so the
/// client can read the answer on a clean connection; says whether the
/// connection must close instead.
async fn discard_body(headers: &HeaderMap, body: Incoming, timeouts: &Timeouts) -> bool {
    match content_length(headers) {
        Some(0) => false,
        Some(n) if n <= DRAIN_ON_REFUSAL_BYTES => {
            let read = Limited::new(body, DRAIN_ON_REFUSAL_BYTES as usize).collect();
            let wait = timeouts.body_read.min(Duration::from_secs(1));
            !matches!(tokio::time::timeout(wait, read).await, Ok(Ok(_)))
        }
        _ => true,
    }
}

fn too_large() -> ApiError {
    ApiError::new(
        413,
        "OTSRequestBodyTooLarge",
        "The size of POST data is too large.",
    )
}

async fn read_body(body: Incoming, timeouts: &Timeouts) -> Result<Bytes, ApiError> {
    let read = Limited::new(body, MAX_BODY_BYTES).collect();
    match tokio::time::timeout(timeouts.body_read, read).await {
        Ok(Ok(b)) => Ok(b.to_bytes()),
        Ok(Err(e))
            if e.downcast_ref::<http_body_util::LengthLimitError>()
                .is_some() =>
        {
            Err(too_large())
        }
        Ok(Err(e)) => Err(ApiError::new(
            408,
            "OTSRequestTimeout",
            format!("Reading the request body failed: {e}."),
        )),
        Err(_) => Err(ApiError::new(
            408,
            "OTSRequestTimeout",
            format!(
                "The request body did not arrive within {} s.",
                timeouts.body_read.as_secs_f64()
            ),
        )),
    }
}

/// Serves one API request; sets `table` to the table it names once the
/// body is read.
async fn answer(
    state: &State,
    action: &str,
    req: Request<Incoming>,
    table: &mut Option<String>,
) -> Result<(Vec<u8>, Authenticated), Failure> {
    let (parts, body) = req.into_parts();
    if parts.method != hyper::Method::POST {
        let close = discard_body(&parts.headers, body, &state.timeouts).await;
        let refused = Failure::unsigned(ApiError::new(
            405,
            "OTSMethodNotAllowed",
            "Only POST method for requests is supported.",
        ));
        return Err(if close { refused.closing() } else { refused });
    }
    // The signed headers first: an unauthenticated client never gets the
    // server to buffer a body.
    let who = match auth::authenticate_headers(
        &state.credentials,
        action,
        &parts.headers,
        chrono::Utc::now(),
    ) {
        Ok(who) => who,
        Err(f) => {
            let close = discard_body(&parts.headers, body, &state.timeouts).await;
            let refused = Failure {
                error: f.error,
                signer: f.signer,
                close,
            };
            return Err(refused);
        }
    };
    let signed = |error: ApiError| Failure {
        error,
        signer: Some(Authenticated {
            access_key_id: who.access_key_id.clone(),
            response_key: who.response_key.clone(),
        }),
        close: false,
    };
    if content_length(&parts.headers).is_some_and(|n| n > MAX_BODY_BYTES as u64) {
        return Err(signed(too_large()).closing());
    }
    let body = read_body(body, &state.timeouts)
        .await
        .map_err(|e| signed(e).closing())?;
    auth::check_body(&parts.headers, &body).map_err(signed)?;
    if !state.faults.latency.is_zero() {
        tokio::time::sleep(state.faults.latency).await;
    }
    if state.faults.throttle_rate > 0.0 && rand::random::<f64>() < state.faults.throttle_rate {
        return Err(signed(ApiError::server_busy()));
    }
    let body = auth::inflate_if_compressed(&parts.headers, body, MAX_BODY_BYTES).map_err(signed)?;
    *table = wire_limits::table_named(action, &body).map(str::to_owned);
    wire_limits::check(action, &body).map_err(signed)?;
    match dispatch(&state.store, action, &body).await {
        Ok(resp) => Ok((resp, who)),
        Err(e) => Err(signed(e)),
    }
}

fn respond(
    status: u16,
    body: Vec<u8>,
    action: &str,
    signer: Option<&Authenticated>,
    close: bool,
) -> Response<Full<Bytes>> {
    let date = chrono::Utc::now()
        .format("%Y-%m-%dT%H:%M:%S%.6fZ")
        .to_string();
    let md5 = sign::content_md5(&body);
    let request_id = auth::request_id();
    let ots: [(&str, &str); 4] = [
        ("x-ots-contentmd5", &md5),
        ("x-ots-contenttype", "protocol buffer"),
        ("x-ots-date", &date),
        ("x-ots-requestid", &request_id),
    ];
    let mut builder = Response::builder()
        .status(status)
        .header("content-type", "application/x-protobuf");
    if close {
        builder = builder.header("connection", "close");
    }
    for (n, v) in ots {
        builder = builder.header(n, v);
    }
    if let Some(s) = signer {
        builder = builder.header(
            "authorization",
            sign::sign_response(&s.access_key_id, &s.response_key, action, ots),
        );
    }
    builder
        .body(Full::new(Bytes::from(body)))
        .expect("static headers are valid")
}
