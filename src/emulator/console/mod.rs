//! A read-only web console, served by the emulator on its own address
//! under `/console/`: the tables and their schemas, a table's rows in
//! primary-key order with typed cells and paging, a TimeSeries table's
//! series with their latest points, and the request log with its errors.
//!
//! Server-rendered HTML, no JavaScript, no assets: links page through the
//! data. Read-only and, like other local cloud emulators' consoles,
//! unauthenticated: it shows every row to anyone who can reach the
//! emulator, so disable it (`--no-console`) when the emulator listens
//! beyond loopback. Every stored or client-supplied string is escaped.

pub mod html;
pub mod pages;

use bytes::Bytes;
use http_body_util::Full;
use hyper::{Method, Response};

use super::api::now_ms;
use super::api_error::ApiError;
use super::server::State;
use pages::{Paging, DEFAULT_PAGE, MAX_PAGE};

/// Whether a request is the console's: a GET of `/`, under `/console`, or
/// the favicon browsers ask for (which would otherwise be logged as a
/// failed API request).
pub fn handles(method: &Method, path: &str) -> bool {
    (method == Method::GET || method == Method::HEAD)
        && (path == "/"
            || path == "/console"
            || path.starts_with("/console/")
            || path == "/favicon.ico")
}

/// A table icon, so browsers do not ask again.
const FAVICON: &str = "<svg xmlns='http://www.w3.org/2000/svg' viewBox='0 0 16 16'>\
<rect width='16' height='16' rx='3' fill='#1f3a5f'/><path d='M3 5h10M3 8h10M3 11h10M6 3v10' \
stroke='#cfe0ff' stroke-width='1.2'/></svg>";

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let hex = |i: usize| -> Option<u8> {
        let pair = bytes.get(i..i + 2)?;
        pair.iter()
            .all(u8::is_ascii_hexdigit)
            .then(|| u8::from_str_radix(std::str::from_utf8(pair).ok()?, 16).ok())?
    };
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' if hex(i + 1).is_some() => {
                out.extend(hex(i + 1));
                i += 3;
                continue;
            }
            b'+' => out.push(b' '),
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn query_param(query: Option<&str>, name: &str) -> Option<String> {
    query?
        .split('&')
        .filter_map(|kv| kv.split_once('=').or(Some((kv, ""))))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| percent_decode(v))
}

fn paging(query: Option<&str>) -> Paging {
    let number = |name: &str| query_param(query, name).and_then(|v| v.parse::<usize>().ok());
    Paging {
        after: query_param(query, "after").and_then(|h| pages::unhex(&h)),
        limit: number("limit").unwrap_or(DEFAULT_PAGE).clamp(1, MAX_PAGE),
        first: number("first").unwrap_or(1).max(1),
    }
}

fn html_response(status: u16, body: String) -> Response<Full<Bytes>> {
    Response::builder()
        .status(status)
        .header("content-type", "text/html; charset=utf-8")
        .header("cache-control", "no-store")
        .body(Full::new(Bytes::from(body)))
        .expect("static headers are valid")
}

fn error_page(e: &ApiError) -> Response<Full<Bytes>> {
    let body = html::page(
        "Error",
        &format!(
            "<h1>{}</h1><p>{}</p><p><a href=\"/console/\">Back to the tables</a></p>",
            html::esc(e.code),
            html::esc(&e.message)
        ),
    );
    html_response(e.status, body)
}

/// Answers a console request (see [`handles`]).
pub async fn serve(state: &State, path: &str, query: Option<&str>) -> Response<Full<Bytes>> {
    if path == "/favicon.ico" {
        return Response::builder()
            .header("content-type", "image/svg+xml")
            .header("cache-control", "max-age=86400")
            .body(Full::new(Bytes::from_static(FAVICON.as_bytes())))
            .expect("static headers are valid");
    }
    if path == "/" || path == "/console" {
        return Response::builder()
            .status(302)
            .header("location", "/console/")
            .body(Full::new(Bytes::new()))
            .expect("static headers are valid");
    }
    let rest = path.trim_start_matches("/console/");
    let segments: Vec<String> = rest
        .split('/')
        .filter(|s| !s.is_empty())
        .map(percent_decode)
        .collect();
    let segments: Vec<&str> = segments.iter().map(String::as_str).collect();
    let store = &state.store;
    let result = match segments.as_slice() {
        [] => {
            let log = state.requests.clone();
            store.read(move |txn| pages::index(txn, &log)).await
        }
        ["tables", name] => {
            let (name, paging) = (name.to_string(), paging(query));
            store
                .read(move |txn| pages::table(txn, &name, &paging, now_ms()))
                .await
        }
        ["timeseries", name] => {
            let (name, paging) = (name.to_string(), paging(query));
            store
                .read(move |txn| pages::timeseries(txn, &name, &paging))
                .await
        }
        ["requests"] => Ok(pages::requests(
            &state.requests,
            query_param(query, "errors").is_some_and(|v| v == "1"),
        )),
        _ => Err(ApiError::new(404, "NotFound", "No such console page.")),
    };
    match result {
        Ok(body) => html_response(200, body),
        Err(e) => error_page(&e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_parameters_are_decoded() {
        let q = Some("after=0a1b&limit=10&name=a%20b&flag");
        assert_eq!(query_param(q, "after").as_deref(), Some("0a1b"));
        assert_eq!(query_param(q, "name").as_deref(), Some("a b"));
        assert_eq!(query_param(q, "flag").as_deref(), Some(""));
        assert_eq!(query_param(q, "missing"), None);
        assert_eq!(percent_decode("%zz%4"), "%zz%4");
        let p = paging(Some("limit=100000&first=0"));
        assert_eq!((p.limit, p.first, p.after), (MAX_PAGE, 1, None));
    }

    #[test]
    fn only_console_paths_are_the_consoles() {
        assert!(handles(&Method::GET, "/"));
        assert!(handles(&Method::GET, "/console/tables/t"));
        assert!(!handles(&Method::POST, "/console/"));
        assert!(!handles(&Method::GET, "/ListTable"));
        assert!(!handles(&Method::GET, "/consoles"));
    }
}
