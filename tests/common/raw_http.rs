//! A raw HTTP/1.1 client for probing the emulator as a hostile client
//! would: signed or unsigned heads, declared lengths that never arrive,
//! half-sent heads, arbitrary bodies. Loopback only.

use std::net::SocketAddr;
use std::time::Duration;

use tablestore_sink::tablestore::sign;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// The `x-ots-*` headers of a request signed with the emulator's default
/// credentials (v2), for `body`.
pub fn signed_headers(action: &str, body: &[u8]) -> Vec<(String, String)> {
    let date = chrono::Utc::now()
        .format("%Y-%m-%dT%H:%M:%S%.3fZ")
        .to_string();
    let mut headers = vec![
        ("x-ots-date".to_string(), date),
        ("x-ots-apiversion".into(), "2015-12-31".into()),
        (
            "x-ots-accesskeyid".into(),
            tablestore_sink::emulator::DEFAULT_ACCESS_KEY_ID.into(),
        ),
        (
            "x-ots-instancename".into(),
            tablestore_sink::emulator::DEFAULT_INSTANCE.into(),
        ),
        ("x-ots-contentmd5".into(), sign::content_md5(body)),
    ];
    let signature = sign::sign_request_v2(
        tablestore_sink::emulator::DEFAULT_ACCESS_KEY_SECRET,
        action,
        headers.iter().map(|(n, v)| (n.as_str(), v.as_str())),
    );
    headers.push((sign::HEADER_SIGNATURE.into(), signature));
    headers
}

/// A request head for `POST /{action}` with `headers` and a declared
/// `content_length`.
pub fn head(action: &str, headers: &[(String, String)], content_length: u64) -> Vec<u8> {
    let mut out = format!("POST /{action} HTTP/1.1\r\nHost: 127.0.0.1\r\n");
    for (n, v) in headers {
        out.push_str(&format!("{n}: {v}\r\n"));
    }
    out.push_str(&format!("Content-Length: {content_length}\r\n\r\n"));
    out.into_bytes()
}

/// A parsed response.
#[derive(Debug)]
pub struct Response {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Response {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The Tablestore error (code, message) in the body.
    pub fn error(&self) -> (String, String) {
        use prost::Message;
        let e = tablestore_sink::tablestore::proto::Error::decode(self.body.as_slice())
            .unwrap_or_else(|e| panic!("status {} body is not an Error ({e})", self.status));
        (e.code, e.message.unwrap_or_default())
    }
}

/// Reads one response (head and `content-length` body) from `stream`.
pub async fn read_response(stream: &mut TcpStream) -> std::io::Result<Response> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 8192];
    let head_end = loop {
        if let Some(p) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break p + 4;
        }
        let n = stream.read(&mut chunk).await?;
        if n == 0 {
            return Err(std::io::Error::new(
                std::io::ErrorKind::UnexpectedEof,
                format!("closed after {} bytes of response head", buf.len()),
            ));
        }
        buf.extend_from_slice(&chunk[..n]);
    };
    let text = String::from_utf8_lossy(&buf[..head_end]).into_owned();
    let mut lines = text.split("\r\n");
    let status: u16 = lines
        .next()
        .and_then(|l| l.split(' ').nth(1))
        .and_then(|s| s.parse().ok())
        .expect("status line");
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_string(), v.trim().to_string()))
        .collect();
    let len: usize = headers
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case("content-length"))
        .and_then(|(_, v)| v.parse().ok())
        .unwrap_or(0);
    let mut body = buf[head_end..].to_vec();
    while body.len() < len {
        let n = stream.read(&mut chunk).await?;
        if n == 0 {
            break;
        }
        body.extend_from_slice(&chunk[..n]);
    }
    body.truncate(len);
    Ok(Response {
        status,
        headers,
        body,
    })
}

/// Sends a signed `POST /{action}` with `body` on a new connection and
/// reads the answer (bounded by `timeout`).
pub async fn signed_post(addr: SocketAddr, action: &str, body: &[u8]) -> Response {
    let mut stream = TcpStream::connect(addr).await.unwrap();
    let mut req = head(action, &signed_headers(action, body), body.len() as u64);
    req.extend_from_slice(body);
    stream.write_all(&req).await.unwrap();
    tokio::time::timeout(Duration::from_secs(30), read_response(&mut stream))
        .await
        .expect("answered within 30 s")
        .unwrap()
}

/// Whether the server closes `stream` within `within` (reads to EOF,
/// discarding any response it sends first).
pub async fn closed_within(stream: &mut TcpStream, within: Duration) -> bool {
    let mut chunk = [0u8; 4096];
    let read_to_eof = async {
        loop {
            match stream.read(&mut chunk).await {
                Ok(0) | Err(_) => return,
                Ok(_) => {}
            }
        }
    };
    tokio::time::timeout(within, read_to_eof).await.is_ok()
}
