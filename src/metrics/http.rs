//! The metrics listener (`[metrics] listen`): `GET /metrics` (Prometheus
//! text), `GET /healthz` (live: the process serves HTTP) and `GET /readyz`
//! (ready, see [`health`](super::health)), for Kubernetes probes and
//! Prometheus alike. HTTP/1.1, one small task per connection.

use std::convert::Infallible;
use std::net::SocketAddr;

use bytes::Bytes;
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use metrics_exporter_prometheus::PrometheusHandle;
use serde_json::json;

use super::health;

/// Binds `listen` now (so a taken port fails startup) and serves on the
/// current Tokio runtime until it stops. Returns the bound address (a port
/// of 0 picks one).
pub fn serve(listen: SocketAddr, handle: PrometheusHandle) -> std::io::Result<SocketAddr> {
    let listener = std::net::TcpListener::bind(listen)?;
    listener.set_nonblocking(true)?;
    let bound = listener.local_addr()?;
    let listener = tokio::net::TcpListener::from_std(listener)?;
    tokio::spawn(async move {
        loop {
            let stream = match listener.accept().await {
                Ok((stream, _)) => stream,
                Err(e) => {
                    tracing::warn!(error = %e, "metrics listener: accept failed");
                    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                    continue;
                }
            };
            let handle = handle.clone();
            tokio::spawn(async move {
                let service = hyper::service::service_fn(move |req| {
                    let handle = handle.clone();
                    async move { Ok::<_, Infallible>(answer(&handle, &req)) }
                });
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), service)
                    .await;
            });
        }
    });
    Ok(bound)
}

fn respond(status: StatusCode, content_type: &str, body: String) -> Response<Full<Bytes>> {
    Response::builder()
        .status(status)
        .header("content-type", content_type)
        .body(Full::new(Bytes::from(body)))
        .expect("a static response builds")
}

/// The response to one request.
fn answer(handle: &PrometheusHandle, req: &Request<Incoming>) -> Response<Full<Bytes>> {
    if req.method() != Method::GET && req.method() != Method::HEAD {
        return respond(
            StatusCode::METHOD_NOT_ALLOWED,
            "text/plain",
            "use GET\n".into(),
        );
    }
    match req.uri().path() {
        "/metrics" => {
            super::process::refresh();
            respond(
                StatusCode::OK,
                "text/plain; version=0.0.4; charset=utf-8",
                handle.render(),
            )
        }
        "/healthz" => respond(StatusCode::OK, "text/plain", "ok\n".into()),
        "/readyz" => readyz(),
        _ => respond(
            StatusCode::NOT_FOUND,
            "text/plain",
            "not found: try /metrics, /healthz or /readyz\n".into(),
        ),
    }
}

/// 200 when ready, else 503; the body says why, and each partition's state.
fn readyz() -> Response<Full<Bytes>> {
    let readiness = health::readiness();
    let partitions: serde_json::Map<String, serde_json::Value> = health::partitions()
        .into_iter()
        .map(|(p, h)| {
            let state = match h {
                health::PartitionHealth::Consuming => json!("consuming"),
                health::PartitionHealth::Stopped { reason } => json!({ "stopped": reason }),
            };
            (p.to_string(), state)
        })
        .collect();
    let body = json!({
        "ready": readiness.ready,
        "reasons": readiness.reasons,
        "partitions": partitions,
    });
    let status = if readiness.ready {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    respond(status, "application/json", format!("{body}\n"))
}
