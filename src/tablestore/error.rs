//! The Tablestore error: what the service (or the path to it) said, and
//! the one place that decides what a caller should do about it.
//!
//! Every error is classified once, when it is built, by *where* it came
//! from ([`ErrorKind`]): the service's own error body, a response from
//! something in between (a load balancer or gateway answering 502 with
//! HTML), no response at all, a response that fails its integrity checks,
//! or one that does not decode. [`Error::disposition`] turns that into
//! what a writer does: retry, retry loudly until an operator fixes it, or
//! give the row back as bad data. Only an error the *service* attributes
//! to the request or row may ever reject data.

use std::fmt;

/// Where an error came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ErrorKind {
    /// The service answered with a Tablestore error (`code`, `message`),
    /// for the whole request (HTTP 4xx/5xx) or for one row of a batch
    /// (inside an HTTP 200 response).
    Service,
    /// A non-2xx response without a Tablestore error body: what a load
    /// balancer, proxy or gateway sends (502/503/504 with HTML). Says
    /// nothing about the data.
    Gateway,
    /// No complete response: connection refused or reset, timeout, a body
    /// cut short.
    Transport,
    /// A response whose body MD5 or signature does not verify: damaged or
    /// not from the service.
    Integrity,
    /// A response that verifies but does not decode (or is inconsistent,
    /// e.g. a row count that does not match the request): a protocol
    /// mismatch between us and the endpoint.
    Decode,
}

/// What a writer should do with a failed request or row.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Disposition {
    /// The service asks us to slow down: retry after a longer backoff.
    Throttled,
    /// A passing fault: retry. Our writes are idempotent (fixed PK), so
    /// retrying a request that may have been applied is safe.
    Transient,
    /// Not the data's fault and it will not pass by itself (credentials,
    /// permissions, a missing table, an endpoint we cannot talk to):
    /// retry, loudly, until an operator fixes it. Never reject data for it.
    Systemic,
    /// The service attributes the failure to the data of this request or
    /// row: retrying cannot help; the row goes to the failure policy.
    DataRejected,
}

impl Disposition {
    /// Label value for metrics.
    pub fn as_str(self) -> &'static str {
        match self {
            Disposition::Throttled => "throttled",
            Disposition::Transient => "transient",
            Disposition::Systemic => "systemic",
            Disposition::DataRejected => "data_rejected",
        }
    }
}

/// Service codes that ask us to slow down (spec: "flow control").
const THROTTLE_CODES: &[&str] = &[
    "OTSServerBusy",
    "OTSNotEnoughCapacityUnit",
    "OTSOperationThrottled",
    "OTSStorageServerBusy",
    "OTSCapacityUnitExhausted",
];

/// Service codes for passing faults on the service side.
const TRANSIENT_CODES: &[&str] = &[
    "OTSPartitionUnavailable",
    "OTSTableNotReady",
    "OTSRowOperationConflict",
    "OTSOperationConflict",
    "OTSServerUnavailable",
    "OTSTimeout",
    "OTSInternalServerError",
    "OTSRequestTimeout",
];

/// Service codes that are about the caller's set-up, not the data:
/// credentials, permissions, instance or table that do not exist, quota.
const SYSTEMIC_CODES: &[&str] = &[
    "OTSAuthFailed",
    "OTSNoPermissionAccess",
    "OTSAccessDenied",
    "OTSInvalidAccessKeyId",
    "OTSObjectNotExist",
    "OTSInstanceNotFound",
    "OTSQuotaExhausted",
    "OTSMethodNotAllowed",
];

/// Classifies a Tablestore service error code (protocol reference §5).
/// `http_status` is that of the response (200 for per-row errors).
fn service_disposition(code: &str, message: &str, http_status: u16) -> Disposition {
    if THROTTLE_CODES.contains(&code)
        || (code == "OTSQuotaExhausted" && message.contains("Too frequent"))
    {
        Disposition::Throttled
    } else if TRANSIENT_CODES.contains(&code) {
        Disposition::Transient
    } else if SYSTEMIC_CODES.contains(&code) {
        Disposition::Systemic
    } else if http_status >= 500 {
        // An unknown server-side code: the service's fault, not the row's.
        Disposition::Transient
    } else {
        Disposition::DataRejected
    }
}

/// An error from a Tablestore call.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Error {
    /// Where it came from; fixes [`Error::disposition`].
    pub kind: ErrorKind,
    /// HTTP status; 0 when no response arrived, 200 for a per-row error.
    pub http_status: u16,
    /// The service's error code (`OTSInvalidPK`, ...) or one of ours:
    /// `HTTP<status>` for a gateway answer, [`CODE_TRANSPORT`],
    /// [`CODE_INTEGRITY`], [`CODE_PROTOCOL`]. A bounded set: fit for
    /// metric labels and error-record headers.
    pub code: String,
    pub message: String,
    /// `x-ots-requestid` of the response, for support tickets.
    pub request_id: Option<String>,
}

pub const CODE_TRANSPORT: &str = "ClientTransport";
pub const CODE_INTEGRITY: &str = "ClientIntegrity";
pub const CODE_PROTOCOL: &str = "ClientProtocol";

/// How much of a gateway's body an error keeps (they are HTML pages).
const GATEWAY_EXCERPT_CHARS: usize = 160;

impl Error {
    /// An error the service returned (a Tablestore error body).
    pub fn service(
        http_status: u16,
        code: impl Into<String>,
        message: impl Into<String>,
        request_id: Option<String>,
    ) -> Self {
        Error {
            kind: ErrorKind::Service,
            http_status,
            code: code.into(),
            message: message.into(),
            request_id,
        }
    }

    /// A non-2xx answer without a Tablestore error body; `body` is kept
    /// as a short single-line excerpt.
    pub fn gateway(http_status: u16, body: &[u8], request_id: Option<String>) -> Self {
        let text = String::from_utf8_lossy(body);
        let mut excerpt: String = text
            .chars()
            .map(|c| if c.is_control() { ' ' } else { c })
            .take(GATEWAY_EXCERPT_CHARS)
            .collect();
        if text.chars().count() > GATEWAY_EXCERPT_CHARS {
            excerpt.push('…');
        }
        Error {
            kind: ErrorKind::Gateway,
            http_status,
            code: format!("HTTP{http_status}"),
            message: format!(
                "HTTP {http_status} without a Tablestore error body (a proxy or gateway?): {}",
                excerpt.trim()
            ),
            request_id,
        }
    }

    pub fn transport(message: impl Into<String>) -> Self {
        Error {
            kind: ErrorKind::Transport,
            http_status: 0,
            code: CODE_TRANSPORT.into(),
            message: message.into(),
            request_id: None,
        }
    }

    /// A response that fails its MD5 or signature check.
    pub fn integrity(message: impl Into<String>) -> Self {
        Error {
            kind: ErrorKind::Integrity,
            http_status: 0,
            code: CODE_INTEGRITY.into(),
            message: message.into(),
            request_id: None,
        }
    }

    /// A response that does not decode.
    pub fn protocol(message: impl Into<String>) -> Self {
        Error {
            kind: ErrorKind::Decode,
            http_status: 0,
            code: CODE_PROTOCOL.into(),
            message: message.into(),
            request_id: None,
        }
    }

    /// What to do about it; see [`Disposition`].
    pub fn disposition(&self) -> Disposition {
        match self.kind {
            ErrorKind::Service => service_disposition(&self.code, &self.message, self.http_status),
            ErrorKind::Gateway | ErrorKind::Transport | ErrorKind::Integrity => {
                Disposition::Transient
            }
            ErrorKind::Decode => Disposition::Systemic,
        }
    }

    /// Worth retrying a bounded number of times by a one-off caller
    /// (startup checks, CLI): throttling and passing faults.
    pub fn is_retriable(&self) -> bool {
        matches!(
            self.disposition(),
            Disposition::Throttled | Disposition::Transient
        )
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.code, self.message)?;
        if self.http_status != 0 {
            write!(f, " (HTTP {}", self.http_status)?;
            if let Some(id) = &self.request_id {
                write!(f, ", request id {id}")?;
            }
            f.write_str(")")?;
        }
        Ok(())
    }
}

impl std::error::Error for Error {}

#[cfg(test)]
mod tests {
    use super::*;

    fn service(status: u16, code: &str, message: &str) -> Disposition {
        Error::service(status, code, message, None).disposition()
    }

    #[test]
    fn service_codes_follow_the_spec() {
        assert_eq!(service(503, "OTSServerBusy", ""), Disposition::Throttled);
        assert_eq!(
            service(403, "OTSQuotaExhausted", "Too frequent table operations."),
            Disposition::Throttled
        );
        assert_eq!(
            service(403, "OTSQuotaExhausted", "other"),
            Disposition::Systemic
        );
        assert_eq!(service(503, "OTSTimeout", ""), Disposition::Transient);
        assert_eq!(service(500, "OTSSomethingNew", ""), Disposition::Transient);
        assert_eq!(service(403, "OTSAuthFailed", ""), Disposition::Systemic);
        assert_eq!(service(404, "OTSObjectNotExist", ""), Disposition::Systemic);
        assert_eq!(service(400, "OTSInvalidPK", ""), Disposition::DataRejected);
        assert_eq!(
            service(400, "OTSParameterInvalid", ""),
            Disposition::DataRejected
        );
        // Per-row errors arrive inside an HTTP 200.
        assert_eq!(
            service(200, "OTSParameterInvalid", ""),
            Disposition::DataRejected
        );
        assert_eq!(service(200, "OTSServerBusy", ""), Disposition::Throttled);
    }

    #[test]
    fn answers_without_a_tablestore_body_never_reject_data() {
        for status in [400, 403, 404, 413, 429, 500, 502, 503, 504] {
            let e = Error::gateway(status, b"<html><body>Bad Gateway</body></html>", None);
            assert_eq!(e.kind, ErrorKind::Gateway);
            assert_eq!(e.disposition(), Disposition::Transient, "HTTP {status}");
            assert_eq!(e.code, format!("HTTP{status}"));
        }
        assert_eq!(
            Error::transport("connection reset").disposition(),
            Disposition::Transient
        );
        assert_eq!(
            Error::integrity("MD5 mismatch").disposition(),
            Disposition::Transient
        );
        assert_eq!(
            Error::protocol("does not decode").disposition(),
            Disposition::Systemic
        );
    }

    #[test]
    fn gateway_excerpts_are_short_and_on_one_line() {
        let body = format!("<html>\n<h1>502</h1>\r\n{}</html>", "x".repeat(10_000));
        let e = Error::gateway(502, body.as_bytes(), Some("r-9".into()));
        assert!(!e.message.contains('\n') && !e.message.contains('\r'));
        assert!(e.message.chars().count() < 300, "{}", e.message);
        assert!(e.message.ends_with('…'));
        assert!(e.to_string().contains("request id r-9"));
    }

    #[test]
    fn display_names_code_status_and_request_id() {
        let e = Error::service(
            400,
            "OTSInvalidPK",
            "Validate PK size fail.",
            Some("r-1".into()),
        );
        assert_eq!(
            e.to_string(),
            "OTSInvalidPK: Validate PK size fail. (HTTP 400, request id r-1)"
        );
    }
}
