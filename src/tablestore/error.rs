//! The Tablestore error: what the service (or the transport) said, and how
//! a caller should treat it.

use std::fmt;
use std::time::Duration;

/// How an error should be handled by a writer that retries.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ErrorClass {
    /// The service asks us to slow down (server busy, capacity, quota):
    /// retry without limit, with a longer backoff.
    RetriableThrottle,
    /// A passing fault (partition moving, timeout, network, 5xx). Our
    /// writes are idempotent (fixed PK, max_versions 1), so writes retry too.
    RetriableTransient,
    /// Retrying cannot help (bad PK, bad name, condition failed, auth).
    Permanent,
}

impl ErrorClass {
    pub fn is_retriable(self) -> bool {
        self != ErrorClass::Permanent
    }

    pub fn as_str(self) -> &'static str {
        match self {
            ErrorClass::RetriableThrottle => "throttle",
            ErrorClass::RetriableTransient => "transient",
            ErrorClass::Permanent => "permanent",
        }
    }
}

/// Classifies a Tablestore error code (spec §5.2/§5.3).
pub fn classify(code: &str, message: &str) -> ErrorClass {
    match code {
        "OTSServerBusy"
        | "OTSNotEnoughCapacityUnit"
        | "OTSOperationThrottled"
        | "OTSStorageServerBusy" => ErrorClass::RetriableThrottle,
        "OTSQuotaExhausted" if message.contains("Too frequent") => ErrorClass::RetriableThrottle,
        "OTSPartitionUnavailable"
        | "OTSTableNotReady"
        | "OTSRowOperationConflict"
        | "OTSOperationConflict"
        | "OTSServerUnavailable"
        | "OTSTimeout"
        | "OTSInternalServerError"
        | "OTSRequestTimeout" => ErrorClass::RetriableTransient,
        _ => ErrorClass::Permanent,
    }
}

/// An error from a Tablestore call. `code` is the service's error code
/// (`OTSInvalidPK`, ...) or one of ours for client-side failures:
/// `ClientTransport` (connection, timeout), `ClientProtocol` (a response
/// we could not parse or verify).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Error {
    /// HTTP status; 0 when no response arrived.
    pub http_status: u16,
    pub code: String,
    pub message: String,
    /// `x-ots-requestid` of the response, for support tickets.
    pub request_id: Option<String>,
    pub class: ErrorClass,
}

pub const CODE_TRANSPORT: &str = "ClientTransport";
pub const CODE_PROTOCOL: &str = "ClientProtocol";

impl Error {
    pub fn service(
        http_status: u16,
        code: impl Into<String>,
        message: impl Into<String>,
        request_id: Option<String>,
    ) -> Self {
        let code = code.into();
        let message = message.into();
        let class = classify(&code, &message);
        Error {
            http_status,
            code,
            message,
            request_id,
            class,
        }
    }

    pub fn transport(message: impl Into<String>) -> Self {
        Error {
            http_status: 0,
            code: CODE_TRANSPORT.into(),
            message: message.into(),
            request_id: None,
            class: ErrorClass::RetriableTransient,
        }
    }

    pub fn protocol(message: impl Into<String>) -> Self {
        Error {
            http_status: 0,
            code: CODE_PROTOCOL.into(),
            message: message.into(),
            request_id: None,
            class: ErrorClass::Permanent,
        }
    }

    pub fn is_retriable(&self) -> bool {
        self.class.is_retriable()
    }

    /// Suggested first backoff for this class; callers double it per try.
    pub fn base_backoff(&self) -> Duration {
        match self.class {
            ErrorClass::RetriableThrottle => Duration::from_millis(100),
            _ => Duration::from_millis(20),
        }
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

    #[test]
    fn classes_follow_the_spec() {
        assert_eq!(classify("OTSServerBusy", ""), ErrorClass::RetriableThrottle);
        assert_eq!(
            classify("OTSQuotaExhausted", "Too frequent table operations."),
            ErrorClass::RetriableThrottle
        );
        assert_eq!(
            classify("OTSQuotaExhausted", "other"),
            ErrorClass::Permanent
        );
        assert_eq!(classify("OTSTimeout", ""), ErrorClass::RetriableTransient);
        assert_eq!(classify("OTSInvalidPK", ""), ErrorClass::Permanent);
        assert_eq!(classify("OTSConditionCheckFail", ""), ErrorClass::Permanent);
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
