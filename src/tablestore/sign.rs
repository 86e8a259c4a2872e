//! Request and response signatures (`PROTOCOL.md` §1.2–§1.4).
//!
//! * v2 (what our client sends): `x-ots-signature = b64(HMAC-SHA1(secret,
//!   "/Action\nPOST\n\n" + sorted "name:value\n" of every x-ots-* header))`.
//! * v4 (accepted by the emulator, as the Python SDK sends it with a
//!   region): a derived HMAC-SHA256 key and `... + "ots"`.
//! * Responses: `authorization: OTS <akid>:b64(HMAC-SHA1(key, sorted
//!   "name:value\n" of every x-ots-* response header + "/Action"))`, where
//!   the key is the secret (v2) or the derived v4 key.

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use hmac::{Hmac, Mac};
use md5::{Digest, Md5};
use sha1::Sha1;
use sha2::Sha256;

pub const HEADER_SIGNATURE: &str = "x-ots-signature";
pub const HEADER_SIGNATURE_V4: &str = "x-ots-signaturev4";
pub const HEADER_SIGN_DATE: &str = "x-ots-signdate";
pub const HEADER_SIGN_REGION: &str = "x-ots-signregion";

fn hmac_sha1(key: &[u8], msg: &[u8]) -> Vec<u8> {
    let mut mac = Hmac::<Sha1>::new_from_slice(key).expect("HMAC takes any key length");
    mac.update(msg);
    mac.finalize().into_bytes().to_vec()
}

fn hmac_sha256(key: &[u8], msg: &[u8]) -> Vec<u8> {
    let mut mac = Hmac::<Sha256>::new_from_slice(key).expect("HMAC takes any key length");
    mac.update(msg);
    mac.finalize().into_bytes().to_vec()
}

/// base64(MD5(body)), the `x-ots-contentmd5` value.
pub fn content_md5(body: &[u8]) -> String {
    B64.encode(Md5::digest(body))
}

/// The canonical header block: every `x-ots-*` header except the
/// signatures, lowercase names sorted bytewise, `name:trimmed value\n`.
pub fn canonical_headers<'a>(headers: impl IntoIterator<Item = (&'a str, &'a str)>) -> String {
    let mut list: Vec<(String, &str)> = headers
        .into_iter()
        .map(|(n, v)| (n.to_ascii_lowercase(), v))
        .filter(|(n, _)| {
            n.starts_with("x-ots-") && n != HEADER_SIGNATURE && n != HEADER_SIGNATURE_V4
        })
        .collect();
    list.sort_by(|a, b| a.0.cmp(&b.0));
    let mut out = String::new();
    for (n, v) in list {
        out.push_str(&n);
        out.push(':');
        out.push_str(v.trim());
        out.push('\n');
    }
    out
}

fn request_string_to_sign<'a>(
    action: &str,
    headers: impl IntoIterator<Item = (&'a str, &'a str)>,
) -> String {
    format!("/{action}\nPOST\n\n{}", canonical_headers(headers))
}

/// v2 request signature.
pub fn sign_request_v2<'a>(
    secret: &str,
    action: &str,
    headers: impl IntoIterator<Item = (&'a str, &'a str)>,
) -> String {
    B64.encode(hmac_sha1(
        secret.as_bytes(),
        request_string_to_sign(action, headers).as_bytes(),
    ))
}

/// The v4 signing key: b64 of the HMAC-SHA256 chain, as ASCII bytes.
pub fn v4_signing_key(secret: &str, sign_date: &str, region: &str) -> Vec<u8> {
    let mut k = format!("aliyun_v4{secret}").into_bytes();
    for part in [sign_date, region, "ots", "aliyun_v4_request"] {
        k = hmac_sha256(&k, part.as_bytes());
    }
    B64.encode(k).into_bytes()
}

/// v4 request signature with an already-derived key.
pub fn sign_request_v4<'a>(
    signing_key: &[u8],
    action: &str,
    headers: impl IntoIterator<Item = (&'a str, &'a str)>,
) -> String {
    let mut s = request_string_to_sign(action, headers);
    s.push_str("ots");
    B64.encode(hmac_sha256(signing_key, s.as_bytes()))
}

/// The `authorization` response header value.
pub fn sign_response<'a>(
    access_key_id: &str,
    signing_key: &[u8],
    action: &str,
    headers: impl IntoIterator<Item = (&'a str, &'a str)>,
) -> String {
    let mut s = canonical_headers(headers);
    s.push('/');
    s.push_str(action);
    format!(
        "OTS {access_key_id}:{}",
        B64.encode(hmac_sha1(signing_key, s.as_bytes()))
    )
}

/// Constant-time comparison for signatures.
pub fn same(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn canonical_form_sorts_lowercases_trims_and_skips_signatures() {
        let h = [
            ("X-OTS-Date", " 2024-01-01T00:00:00.000Z "),
            ("x-ots-apiversion", "2015-12-31"),
            ("x-ots-signature", "zzz"),
            ("user-agent", "x"),
        ];
        assert_eq!(
            canonical_headers(h),
            "x-ots-apiversion:2015-12-31\nx-ots-date:2024-01-01T00:00:00.000Z\n"
        );
    }

    #[test]
    fn v2_signature_is_hmac_sha1_of_the_string_to_sign() {
        let h = [("x-ots-date", "2024-01-01T00:00:00.000Z")];
        let sig = sign_request_v2("secret", "ListTable", h);
        let expect = B64.encode(hmac_sha1(
            b"secret",
            b"/ListTable\nPOST\n\nx-ots-date:2024-01-01T00:00:00.000Z\n",
        ));
        assert_eq!(sig, expect);
    }

    #[test]
    fn md5_of_empty_body() {
        assert_eq!(content_md5(b""), "1B2M2Y8AsgTpgAmY7PhCfg==");
    }
}
