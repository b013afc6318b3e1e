//! `X-Hub-Signature-256` — Meta signs every webhook POST with HMAC-SHA256 of the raw body,
//! keyed with the app secret, and sends it as `sha256=<lowercase hex>`.
//!
//! The signature covers the exact bytes on the wire, so callers must verify before any
//! parsing or re-serialisation.

use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;
use subtle::ConstantTimeEq;

type HmacSha256 = Hmac<Sha256>;

/// The header Meta puts the signature in.
pub const HEADER: &str = "X-Hub-Signature-256";

const PREFIX: &str = "sha256=";

/// Why a webhook signature was refused. The variants say what to log; none carries the secret.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    #[error("the X-Hub-Signature-256 header is missing")]
    Missing,
    #[error("the X-Hub-Signature-256 header is not of the form sha256=<64 hex digits>")]
    Malformed,
    #[error("the X-Hub-Signature-256 header does not match the body")]
    Mismatch,
}

/// The header value Meta would send for `body`: `sha256=<hex>`.
pub fn sign(app_secret: &[u8], body: &[u8]) -> String {
    let mut mac = mac(app_secret);
    mac.update(body);
    format!("{PREFIX}{}", hex::encode(mac.finalize().into_bytes()))
}

/// Checks a header value against the raw body in constant time.
///
/// `header` is the value of `X-Hub-Signature-256`, `None` when the request had none.
pub fn verify(app_secret: &[u8], body: &[u8], header: Option<&str>) -> Result<(), SignatureError> {
    let header = header.ok_or(SignatureError::Missing)?.trim();
    let hex_digest = header
        .strip_prefix(PREFIX)
        .ok_or(SignatureError::Malformed)?;
    let mut expected = [0u8; 32];
    hex::decode_to_slice(hex_digest, &mut expected).map_err(|_| SignatureError::Malformed)?;

    let mut mac = mac(app_secret);
    mac.update(body);
    let actual = mac.finalize().into_bytes();
    if bool::from(actual.as_slice().ct_eq(&expected)) {
        Ok(())
    } else {
        Err(SignatureError::Mismatch)
    }
}

fn mac(app_secret: &[u8]) -> HmacSha256 {
    // HMAC takes keys of any length, so this cannot fail.
    <HmacSha256 as KeyInit>::new_from_slice(app_secret).expect("HMAC accepts any key length")
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &[u8] = b"app-secret";

    #[test]
    fn a_signed_body_verifies() {
        let body = br#"{"object":"whatsapp_business_account","entry":[]}"#;
        let header = sign(SECRET, body);
        assert!(header.starts_with("sha256="));
        assert_eq!(header.len(), "sha256=".len() + 64);
        assert_eq!(verify(SECRET, body, Some(&header)), Ok(()));
    }

    #[test]
    fn known_vector_matches_hmac_sha256() {
        // RFC 4231 test case 2: key "Jefe", data "what do ya want for nothing?".
        assert_eq!(
            sign(b"Jefe", b"what do ya want for nothing?"),
            "sha256=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }

    #[test]
    fn bodies_with_emoji_and_unicode_escapes_verify_over_their_raw_bytes() {
        let escaped =
            br#"{"text":{"body":"\u043f\u0440\u0438\u0432\u0435\u0442 \ud83d\ude00 http:\/\/x"}}"#;
        let raw = "{\"text\":{\"body\":\"привет 😀 你好\"}}".as_bytes();
        for body in [&escaped[..], raw] {
            let header = sign(SECRET, body);
            assert_eq!(verify(SECRET, body, Some(&header)), Ok(()));
        }
        // The escaped and unescaped forms are different bytes, so their signatures differ.
        assert_ne!(sign(SECRET, escaped), sign(SECRET, raw));
    }

    #[test]
    fn any_change_to_the_body_is_a_mismatch() {
        let body = br#"{"a":1}"#;
        let header = sign(SECRET, body);
        assert_eq!(
            verify(SECRET, br#"{"a":2}"#, Some(&header)),
            Err(SignatureError::Mismatch)
        );
        assert_eq!(
            verify(b"other", body, Some(&header)),
            Err(SignatureError::Mismatch)
        );
    }

    #[test]
    fn missing_and_malformed_headers_are_told_apart() {
        let body = b"{}";
        assert_eq!(verify(SECRET, body, None), Err(SignatureError::Missing));
        for bad in [
            "",
            "sha1=abcd",
            "sha256=",
            "sha256=zz",
            &format!("sha256={}", "a".repeat(63)),
        ] {
            assert_eq!(
                verify(SECRET, body, Some(bad)),
                Err(SignatureError::Malformed),
                "{bad}"
            );
        }
    }

    #[test]
    fn uppercase_hex_from_a_proxy_still_verifies() {
        let body = b"{}";
        let header = sign(SECRET, body);
        let upper = format!("sha256={}", header["sha256=".len()..].to_uppercase());
        assert_eq!(verify(SECRET, body, Some(&upper)), Ok(()));
    }
}
