//! A fault-injecting HTTP gateway: sits between a client and a Tablestore
//! endpoint (the emulator, or anything else) and misbehaves the way load
//! balancers and networks do in production, under a [`FaultPlan`] that can
//! change while it runs. The fault suite and the soak benchmark put it in
//! front of the emulator to prove that nothing is lost.
//!
//! Per request, in this order (probabilities from the plan, drawn from a
//! seeded generator so a run can be repeated):
//! * **outage**: every connection is closed as soon as it is accepted,
//!   and requests on kept-alive connections are dropped unanswered;
//! * **bad gateway**: answered `502 Bad Gateway` with an HTML body, like a
//!   load balancer that cannot reach its backend; not forwarded;
//! * **delay**: held for a random time in the plan's range, then handled;
//! * **portal page**: answered `200 OK` with an HTML page (a captive
//!   portal or misrouted proxy); not forwarded;
//! * **close after forward**: forwarded and answered upstream (so the
//!   write *was applied*), then the connection is closed without a
//!   response;
//! * **corrupt**: forwarded, and one byte of the answer's body flipped on
//!   the way back, or a stray byte added to an empty one (its MD5 no
//!   longer verifies);
//! * otherwise forwarded and answered as the upstream answered.
//!
//! Every injected fault is counted ([`FaultCounts`]).

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use tokio::net::TcpListener;

/// What the gateway does to requests.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct FaultPlan {
    /// Fraction of requests answered 502 with an HTML body, not forwarded.
    pub bad_gateway: f64,
    /// Fraction answered 200 with an HTML page, not forwarded.
    pub portal_page: f64,
    /// Fraction forwarded, answered upstream, then dropped unanswered.
    pub close_after_forward: f64,
    /// Fraction forwarded whose answer body gets one byte flipped.
    pub corrupt: f64,
    /// Fraction held for a time in `delay_ms` before being handled.
    pub delay: f64,
    /// Range of the delay, in milliseconds (inclusive).
    pub delay_ms: (u64, u64),
    /// Refuse everything: connections close at once.
    pub outage: bool,
}

impl FaultPlan {
    /// Forwards everything untouched.
    pub fn none() -> Self {
        FaultPlan::default()
    }
}

/// What the gateway has done so far.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct FaultCounts {
    pub requests: u64,
    pub forwarded: u64,
    pub bad_gateway: u64,
    pub portal_page: u64,
    pub closed_after_forward: u64,
    pub corrupted: u64,
    pub delayed: u64,
    /// Connections and requests dropped during an outage.
    pub refused: u64,
}

impl FaultCounts {
    /// Faults injected, of every kind.
    pub fn injected(&self) -> u64 {
        self.bad_gateway
            + self.portal_page
            + self.closed_after_forward
            + self.corrupted
            + self.delayed
            + self.refused
    }
}

#[derive(Default)]
struct Counters {
    requests: AtomicU64,
    forwarded: AtomicU64,
    bad_gateway: AtomicU64,
    portal_page: AtomicU64,
    closed_after_forward: AtomicU64,
    corrupted: AtomicU64,
    delayed: AtomicU64,
    refused: AtomicU64,
}

/// One fault, for [`FaultGateway::inject`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fault {
    BadGateway,
    PortalPage,
    CloseAfterForward,
    Corrupt,
    /// Held for the plan's longest delay before being forwarded.
    Delay,
}

/// What one request gets.
enum Fate {
    Refuse,
    BadGateway,
    PortalPage,
    Forward {
        delay: Option<Duration>,
        then_close: bool,
        corrupt: bool,
    },
}

struct Shared {
    upstream: String,
    http: reqwest::Client,
    plan: Mutex<FaultPlan>,
    /// Faults the next requests get, in order, before the plan's draws.
    script: Mutex<std::collections::VecDeque<Fault>>,
    rng: Mutex<StdRng>,
    counts: Counters,
}

impl Shared {
    fn fate(&self) -> Fate {
        let plan = self.plan.lock().expect("plan lock").clone();
        if plan.outage {
            return Fate::Refuse;
        }
        if let Some(fault) = self.script.lock().expect("script lock").pop_front() {
            let forward = |delay, then_close, corrupt| Fate::Forward {
                delay,
                then_close,
                corrupt,
            };
            return match fault {
                Fault::BadGateway => Fate::BadGateway,
                Fault::PortalPage => Fate::PortalPage,
                Fault::CloseAfterForward => forward(None, true, false),
                Fault::Corrupt => forward(None, false, true),
                Fault::Delay => forward(
                    Some(Duration::from_millis(plan.delay_ms.1.max(plan.delay_ms.0))),
                    false,
                    false,
                ),
            };
        }
        let mut rng = self.rng.lock().expect("rng lock");
        if rng.random_bool(plan.bad_gateway.clamp(0.0, 1.0)) {
            return Fate::BadGateway;
        }
        if rng.random_bool(plan.portal_page.clamp(0.0, 1.0)) {
            return Fate::PortalPage;
        }
        let delay = rng.random_bool(plan.delay.clamp(0.0, 1.0)).then(|| {
            let (lo, hi) = plan.delay_ms;
            Duration::from_millis(rng.random_range(lo.min(hi)..=hi.max(lo)))
        });
        let then_close = rng.random_bool(plan.close_after_forward.clamp(0.0, 1.0));
        let corrupt = !then_close && rng.random_bool(plan.corrupt.clamp(0.0, 1.0));
        Fate::Forward {
            delay,
            then_close,
            corrupt,
        }
    }
}

/// A running gateway; stops when dropped or [`stop`](Self::stop)ped.
pub struct FaultGateway {
    addr: SocketAddr,
    shared: Arc<Shared>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<()>>,
}

/// A gateway could not start.
#[derive(Debug, thiserror::Error)]
pub enum GatewayError {
    #[error("binding the fault gateway: {0}")]
    Bind(#[from] std::io::Error),
    #[error("building the fault gateway's HTTP client: {0}")]
    Client(#[from] reqwest::Error),
}

impl FaultGateway {
    /// Starts a gateway on a free 127.0.0.1 port forwarding to `upstream`
    /// (`http://host:port`).
    pub async fn start(upstream: &str, plan: FaultPlan, seed: u64) -> Result<Self, GatewayError> {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let shared = Arc::new(Shared {
            upstream: upstream.trim_end_matches('/').to_owned(),
            http: reqwest::Client::builder()
                .http1_only()
                .pool_max_idle_per_host(64)
                .timeout(Duration::from_secs(60))
                .build()?,
            plan: Mutex::new(plan),
            script: Mutex::new(Default::default()),
            rng: Mutex::new(StdRng::seed_from_u64(seed)),
            counts: Counters::default(),
        });
        let (stop, stopped) = tokio::sync::oneshot::channel();
        let task = tokio::spawn(serve(listener, shared.clone(), stopped));
        Ok(FaultGateway {
            addr,
            shared,
            stop: Some(stop),
            task: Some(task),
        })
    }

    /// `http://127.0.0.1:<port>`: give this to the client instead of the
    /// upstream.
    pub fn endpoint(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn set_plan(&self, plan: FaultPlan) {
        *self.shared.plan.lock().expect("plan lock") = plan;
    }

    /// The next requests get exactly these faults, in order (so a test
    /// can be sure each kind happened); then the plan's draws resume.
    pub fn inject(&self, faults: &[Fault]) {
        self.shared
            .script
            .lock()
            .expect("script lock")
            .extend(faults.iter().copied());
    }

    pub fn plan(&self) -> FaultPlan {
        self.shared.plan.lock().expect("plan lock").clone()
    }

    pub fn counts(&self) -> FaultCounts {
        let c = &self.shared.counts;
        FaultCounts {
            requests: c.requests.load(Ordering::Relaxed),
            forwarded: c.forwarded.load(Ordering::Relaxed),
            bad_gateway: c.bad_gateway.load(Ordering::Relaxed),
            portal_page: c.portal_page.load(Ordering::Relaxed),
            closed_after_forward: c.closed_after_forward.load(Ordering::Relaxed),
            corrupted: c.corrupted.load(Ordering::Relaxed),
            delayed: c.delayed.load(Ordering::Relaxed),
            refused: c.refused.load(Ordering::Relaxed),
        }
    }

    pub async fn stop(mut self) {
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
        if let Some(t) = self.task.take() {
            let _ = t.await;
        }
    }
}

impl Drop for FaultGateway {
    fn drop(&mut self) {
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
    }
}

async fn serve(
    listener: TcpListener,
    shared: Arc<Shared>,
    stopped: tokio::sync::oneshot::Receiver<()>,
) {
    tokio::pin!(stopped);
    let mut connections = tokio::task::JoinSet::new();
    loop {
        let stream = tokio::select! {
            _ = &mut stopped => break,
            accepted = listener.accept() => match accepted {
                Ok((s, _)) => s,
                Err(_) => {
                    tokio::time::sleep(Duration::from_millis(20)).await;
                    continue;
                }
            },
        };
        if shared.plan.lock().expect("plan lock").outage {
            shared.counts.refused.fetch_add(1, Ordering::Relaxed);
            drop(stream);
            continue;
        }
        let _ = stream.set_nodelay(true);
        let shared = shared.clone();
        connections.spawn(async move {
            let service = hyper::service::service_fn(move |req| handle(shared.clone(), req));
            let _ = hyper::server::conn::http1::Builder::new()
                .keep_alive(true)
                .serve_connection(TokioIo::new(stream), service)
                .await;
        });
        while connections.try_join_next().is_some() {}
    }
    connections.abort_all();
}

/// Why a connection is dropped instead of answered.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
struct Dropped(&'static str);

async fn handle(
    shared: Arc<Shared>,
    req: Request<Incoming>,
) -> Result<Response<Full<Bytes>>, Dropped> {
    let c = &shared.counts;
    c.requests.fetch_add(1, Ordering::Relaxed);
    let (delay, then_close, corrupt) = match shared.fate() {
        Fate::Refuse => {
            c.refused.fetch_add(1, Ordering::Relaxed);
            return Err(Dropped("outage"));
        }
        Fate::BadGateway => {
            c.bad_gateway.fetch_add(1, Ordering::Relaxed);
            // Read the request so the connection can be reused, as a
            // load balancer does.
            let _ = req.into_body().collect().await;
            return Ok(html(502, "502 Bad Gateway"));
        }
        Fate::PortalPage => {
            c.portal_page.fetch_add(1, Ordering::Relaxed);
            let _ = req.into_body().collect().await;
            return Ok(html(200, "Sign in to continue"));
        }
        Fate::Forward {
            delay,
            then_close,
            corrupt,
        } => (delay, then_close, corrupt),
    };
    if let Some(d) = delay {
        c.delayed.fetch_add(1, Ordering::Relaxed);
        tokio::time::sleep(d).await;
    }
    let upstream = match forward(&shared, req, corrupt).await {
        Ok(r) => r,
        Err(_) => return Ok(html(503, "503 Service Unavailable")),
    };
    c.forwarded.fetch_add(1, Ordering::Relaxed);
    if then_close {
        c.closed_after_forward.fetch_add(1, Ordering::Relaxed);
        return Err(Dropped("closed after forwarding"));
    }
    if corrupt {
        c.corrupted.fetch_add(1, Ordering::Relaxed);
    }
    Ok(upstream)
}

/// Hop-by-hop headers a proxy does not pass on.
const HOP_BY_HOP: &[&str] = &[
    "connection",
    "keep-alive",
    "transfer-encoding",
    "te",
    "trailer",
    "upgrade",
    "host",
    "content-length",
];

async fn forward(
    shared: &Shared,
    req: Request<Incoming>,
    corrupt: bool,
) -> Result<Response<Full<Bytes>>, reqwest::Error> {
    let (parts, body) = req.into_parts();
    let body = body
        .collect()
        .await
        .map(|b| b.to_bytes())
        .unwrap_or_default();
    let path = parts.uri.path_and_query().map_or("/", |p| p.as_str());
    let mut out = shared
        .http
        .request(parts.method.clone(), format!("{}{path}", shared.upstream));
    for (name, value) in &parts.headers {
        if !HOP_BY_HOP.contains(&name.as_str()) {
            out = out.header(name, value);
        }
    }
    let resp = out.body(body).send().await?;
    let status = resp.status();
    let headers = resp.headers().clone();
    let mut bytes = resp.bytes().await?;
    if corrupt {
        let mut damaged = bytes.to_vec();
        match damaged.len() {
            // An empty body gets a stray byte instead.
            0 => damaged.push(0x5a),
            n => damaged[n / 2] ^= 0x5a,
        }
        bytes = Bytes::from(damaged);
    }
    let mut answer = Response::builder().status(status.as_u16());
    for (name, value) in &headers {
        if !HOP_BY_HOP.contains(&name.as_str()) {
            answer = answer.header(name, value);
        }
    }
    Ok(answer
        .body(Full::new(bytes))
        .expect("status and headers come from a valid response"))
}

fn html(status: u16, title: &str) -> Response<Full<Bytes>> {
    let body = format!(
        "<html>\r\n<head><title>{title}</title></head>\r\n<body>\r\n<center><h1>{title}</h1></center>\r\n<hr><center>gateway</center>\r\n</body>\r\n</html>\r\n"
    );
    Response::builder()
        .status(status)
        .header("content-type", "text/html")
        .body(Full::new(Bytes::from(body)))
        .expect("static response")
}
