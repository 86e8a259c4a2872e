//! Errors the emulator answers with: an HTTP status plus a Tablestore error
//! code and message, exactly as the service spells them (`PROTOCOL.md` §5).

use std::fmt;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ApiError {
    pub status: u16,
    pub code: &'static str,
    pub message: String,
}

impl ApiError {
    pub fn new(status: u16, code: &'static str, message: impl Into<String>) -> Self {
        ApiError {
            status,
            code,
            message: message.into(),
        }
    }

    pub fn invalid(message: impl Into<String>) -> Self {
        Self::new(400, "OTSParameterInvalid", message)
    }

    pub fn invalid_pk(message: impl Into<String>) -> Self {
        Self::new(400, "OTSInvalidPK", message)
    }

    pub fn auth(message: impl Into<String>) -> Self {
        Self::new(403, "OTSAuthFailed", message)
    }

    pub fn condition_failed() -> Self {
        Self::new(403, "OTSConditionCheckFail", "Condition check failed.")
    }

    pub fn table_missing() -> Self {
        Self::new(404, "OTSObjectNotExist", "Requested table does not exist.")
    }

    pub fn table_exists() -> Self {
        Self::new(
            409,
            "OTSObjectAlreadyExist",
            "Requested table already exists.",
        )
    }

    pub fn server_busy() -> Self {
        Self::new(503, "OTSServerBusy", "Server is busy.")
    }

    pub fn internal(message: impl Into<String>) -> Self {
        Self::new(500, "OTSInternalServerError", message)
    }
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}: {}", self.status, self.code, self.message)
    }
}

impl std::error::Error for ApiError {}

impl From<redb::Error> for ApiError {
    fn from(e: redb::Error) -> Self {
        ApiError::internal(format!("storage error: {e}"))
    }
}

macro_rules! from_redb {
    ($($t:ty),*) => {$(
        impl From<$t> for ApiError {
            fn from(e: $t) -> Self {
                ApiError::from(redb::Error::from(e))
            }
        }
    )*};
}
from_redb!(
    redb::TransactionError,
    redb::TableError,
    redb::StorageError,
    redb::CommitError
);
