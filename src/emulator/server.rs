//! The HTTP/1.1 front: accepts connections (bounded), reads bodies
//! (bounded), authenticates, injects faults, dispatches, and answers with
//! every header the SDKs check, signing the response last.
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
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;
use tokio::sync::{watch, Semaphore};

use super::api::dispatch;
use super::api_error::ApiError;
use super::auth::{self, Authenticated, Credentials};
use super::store::Store;
use crate::tablestore::proto::Error as ErrorMessage;
use crate::tablestore::sign;
use prost::Message;

/// Largest HTTP body accepted (spec §6: 5 MB).
pub const MAX_BODY_BYTES: usize = 5 * 1024 * 1024;

/// Fault injection for tests and benchmarks.
#[derive(Clone, Debug, Default)]
pub struct Faults {
    /// Added before every request is handled.
    pub latency: Duration,
    /// Fraction of authenticated requests answered with 503 OTSServerBusy.
    pub throttle_rate: f64,
}

/// What every connection task shares.
pub struct State {
    pub store: Store,
    pub credentials: Credentials,
    pub faults: Faults,
}

pub async fn serve(
    listener: TcpListener,
    state: Arc<State>,
    max_connections: usize,
    shutdown: impl std::future::Future<Output = ()>,
) {
    let slots = Arc::new(Semaphore::new(max_connections));
    let (stop_tx, stop_rx) = watch::channel(false);
    let mut tasks = tokio::task::JoinSet::new();
    tokio::pin!(shutdown);
    loop {
        let permit = tokio::select! {
            _ = &mut shutdown => break,
            p = slots.clone().acquire_owned() => p.expect("semaphore never closed"),
        };
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
        let _ = stream.set_nodelay(true);
        let state = state.clone();
        let mut stop = stop_rx.clone();
        tasks.spawn(async move {
            let service = hyper::service::service_fn(move |req| handle(state.clone(), peer, req));
            let conn = hyper::server::conn::http1::Builder::new()
                .keep_alive(true)
                .serve_connection(TokioIo::new(stream), service);
            tokio::pin!(conn);
            tokio::select! {
                _ = conn.as_mut() => {}
                _ = stop.changed() => {
                    conn.as_mut().graceful_shutdown();
                    let _ = conn.await;
                }
            }
            drop(permit);
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

async fn handle(
    state: Arc<State>,
    peer: SocketAddr,
    req: Request<Incoming>,
) -> Result<Response<Full<Bytes>>, Infallible> {
    let action = req
        .uri()
        .path()
        .rsplit('/')
        .next()
        .unwrap_or_default()
        .to_owned();
    let result = answer(&state, &action, req).await;
    Ok(match result {
        Ok((body, signer)) => respond(200, body, &action, Some(&signer)),
        Err((e, signer)) => {
            // One line per failed request; client errors (4xx) are often
            // expected (a "does the table exist?" probe), so info.
            if e.status >= 500 {
                tracing::warn!(%peer, action = %action, status = e.status, code = e.code, message = %e.message, "request failed");
            } else {
                tracing::info!(%peer, action = %action, status = e.status, code = e.code, message = %e.message, "request failed");
            }
            let body = ErrorMessage {
                code: e.code.to_owned(),
                message: Some(e.message),
            }
            .encode_to_vec();
            respond(e.status, body, &action, signer.as_ref())
        }
    })
}

type Failure = (ApiError, Option<Authenticated>);

async fn answer(
    state: &State,
    action: &str,
    req: Request<Incoming>,
) -> Result<(Vec<u8>, Authenticated), Failure> {
    if req.method() != hyper::Method::POST {
        return Err((
            ApiError::new(
                405,
                "OTSMethodNotAllowed",
                "Only POST method for requests is supported.",
            ),
            None,
        ));
    }
    let (parts, body) = req.into_parts();
    let body = match Limited::new(body, MAX_BODY_BYTES).collect().await {
        Ok(b) => b.to_bytes().to_vec(),
        Err(e)
            if e.downcast_ref::<http_body_util::LengthLimitError>()
                .is_some() =>
        {
            return Err((
                ApiError::new(
                    413,
                    "OTSRequestBodyTooLarge",
                    "The size of POST data is too large.",
                ),
                None,
            ))
        }
        Err(e) => {
            return Err((
                ApiError::new(
                    408,
                    "OTSRequestTimeout",
                    format!("Reading the request body failed: {e}."),
                ),
                None,
            ))
        }
    };
    let who = auth::authenticate(
        &state.credentials,
        action,
        &parts.headers,
        &body,
        chrono::Utc::now(),
    )
    .map_err(|f| (f.error, f.signer))?;
    let signer = || {
        Some(Authenticated {
            access_key_id: who.access_key_id.clone(),
            response_key: who.response_key.clone(),
        })
    };
    if !state.faults.latency.is_zero() {
        tokio::time::sleep(state.faults.latency).await;
    }
    if state.faults.throttle_rate > 0.0 && rand::random::<f64>() < state.faults.throttle_rate {
        return Err((ApiError::server_busy(), signer()));
    }
    let body = auth::inflate_if_compressed(&parts.headers, body, MAX_BODY_BYTES)
        .map_err(|e| (e, signer()))?;
    match dispatch(&state.store, action, &body).await {
        Ok(resp) => Ok((resp, who)),
        Err(e) => Err((e, signer())),
    }
}

fn respond(
    status: u16,
    body: Vec<u8>,
    action: &str,
    signer: Option<&Authenticated>,
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
