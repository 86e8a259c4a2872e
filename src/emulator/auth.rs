//! Request authentication in two steps: first what the headers prove
//! (access key, instance, date skew, and the v2 or v4 signature, which
//! covers the body's MD5), before a byte of the body is read; then the
//! body against that MD5 (`src/tablestore/PROTOCOL.md` §1.2–§1.4).

use hyper::HeaderMap;

use super::api_error::ApiError;
use crate::tablestore::sign;

/// Largest accepted difference between `x-ots-date` and our clock.
pub const MAX_CLOCK_SKEW_SECS: i64 = 15 * 60;

/// Who signed a request, and the key to sign our response with.
pub struct Authenticated {
    pub access_key_id: String,
    pub response_key: Vec<u8>,
}

/// Configured credentials (one access key).
#[derive(Clone, Debug)]
pub struct Credentials {
    pub instance: String,
    pub access_key_id: String,
    pub access_key_secret: String,
}

fn header<'a>(headers: &'a HeaderMap, name: &str) -> Result<&'a str, ApiError> {
    headers
        .get(name)
        .ok_or_else(|| ApiError::invalid(format!("Missing header: {name}.")))?
        .to_str()
        .map_err(|_| ApiError::invalid(format!("Invalid header value: {name}.")))
}

/// Why authentication failed, and whether the response may be signed
/// (only when the caller's access key is known).
pub struct AuthFailure {
    pub error: ApiError,
    pub signer: Option<Authenticated>,
}

impl From<ApiError> for AuthFailure {
    fn from(error: ApiError) -> Self {
        AuthFailure {
            error,
            signer: None,
        }
    }
}

/// Checks everything a request's headers prove: access key, instance,
/// API version, date skew, the presence of `x-ots-contentmd5`, and the v2
/// or v4 signature over the `x-ots-*` headers (which covers the MD5). Runs
/// before the body is read, so an unauthenticated client never gets to make
/// the server buffer a body; [`check_body`] then ties the body to the
/// signed MD5.
pub fn authenticate_headers(
    creds: &Credentials,
    action: &str,
    headers: &HeaderMap,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<Authenticated, AuthFailure> {
    let akid = header(headers, "x-ots-accesskeyid")?;
    if akid != creds.access_key_id {
        return Err(ApiError::auth("The AccessKeyID does not exist.").into());
    }
    let secret_signer = || {
        Some(Authenticated {
            access_key_id: akid.to_owned(),
            response_key: creds.access_key_secret.as_bytes().to_vec(),
        })
    };
    let fail = |e: ApiError| AuthFailure {
        error: e,
        signer: secret_signer(),
    };

    let instance = header(headers, "x-ots-instancename").map_err(fail)?;
    if instance != creds.instance {
        return Err(fail(ApiError::auth(format!(
            "The instance '{instance}' is not found."
        ))));
    }
    header(headers, "x-ots-apiversion").map_err(fail)?;
    let date = header(headers, "x-ots-date").map_err(fail)?;
    // Parse only the first 19 characters: the Go SDK's fraction is garbage.
    let parsed = date
        .get(..19)
        .and_then(|d| chrono::NaiveDateTime::parse_from_str(d, "%Y-%m-%dT%H:%M:%S").ok())
        .ok_or_else(|| fail(ApiError::invalid(format!("Invalid date format: {date}."))))?;
    if (now.naive_utc() - parsed).num_seconds().abs() > MAX_CLOCK_SKEW_SECS {
        return Err(fail(ApiError::auth(format!(
            "Mismatch between system time and x-ots-date: {date}."
        ))));
    }
    header(headers, "x-ots-contentmd5").map_err(fail)?;

    let pairs: Vec<(&str, &str)> = headers
        .iter()
        .filter_map(|(n, v)| Some((n.as_str(), v.to_str().ok()?)))
        .collect();
    if let Some(v4) = headers.get(sign::HEADER_SIGNATURE_V4) {
        let v4 = v4.to_str().unwrap_or_default();
        let sign_date = header(headers, sign::HEADER_SIGN_DATE).map_err(fail)?;
        let region = header(headers, sign::HEADER_SIGN_REGION).map_err(fail)?;
        let key = sign::v4_signing_key(&creds.access_key_secret, sign_date, region);
        if !sign::same(
            v4,
            &sign::sign_request_v4(&key, action, pairs.iter().copied()),
        ) {
            return Err(fail(ApiError::auth("Signature mismatch.")));
        }
        return Ok(Authenticated {
            access_key_id: akid.to_owned(),
            response_key: key,
        });
    }
    let v2 = header(headers, sign::HEADER_SIGNATURE).map_err(fail)?;
    if !sign::same(
        v2,
        &sign::sign_request_v2(&creds.access_key_secret, action, pairs.iter().copied()),
    ) {
        return Err(fail(ApiError::auth("Signature mismatch.")));
    }
    Ok(Authenticated {
        access_key_id: akid.to_owned(),
        response_key: creds.access_key_secret.as_bytes().to_vec(),
    })
}

/// Checks the body against the signed `x-ots-contentmd5` (the bytes as
/// received, before any inflation).
pub fn check_body(headers: &HeaderMap, body: &[u8]) -> Result<(), ApiError> {
    let md5 = header(headers, "x-ots-contentmd5")?;
    if md5 != sign::content_md5(body) {
        return Err(ApiError::auth(
            "Mismatch between MD5 value of request body and x-ots-contentmd5 in header.",
        ));
    }
    Ok(())
}

/// Inflates a `deflate` (zlib) request body once its MD5 has been checked.
pub fn inflate_if_compressed(
    headers: &HeaderMap,
    body: bytes::Bytes,
    limit: usize,
) -> Result<bytes::Bytes, ApiError> {
    match headers
        .get("x-ots-request-compress-type")
        .and_then(|v| v.to_str().ok())
    {
        None => Ok(body),
        Some("deflate") => {
            use std::io::Read;
            let mut out = Vec::new();
            flate2::read::ZlibDecoder::new(body.as_ref())
                .take(limit as u64 + 1)
                .read_to_end(&mut out)
                .map_err(|e| ApiError::invalid(format!("Request body does not inflate: {e}.")))?;
            if out.len() > limit {
                return Err(ApiError::new(
                    413,
                    "OTSRequestBodyTooLarge",
                    "The size of POST data is too large.",
                ));
            }
            Ok(out.into())
        }
        Some(other) => Err(ApiError::invalid(format!(
            "Unsupported request compress type: {other}."
        ))),
    }
}

/// A fresh request id in the service's shape.
pub fn request_id() -> String {
    let b: [u8; 16] = rand::random();
    let hex: String = b.iter().map(|x| format!("{x:02x}")).collect();
    format!(
        "{}-{}-{}-{}-{}",
        &hex[..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..32]
    )
}
