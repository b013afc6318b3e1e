//! Identifiers shaped like Meta's: `wamid.` + base64, numeric media ids, hex conversation
//! ids, `fbtrace_id`s. They are unique, not secret, so a hash of a v7 UUID and a counter
//! is random enough.

use std::sync::atomic::{AtomicU64, Ordering};

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use sha2::{Digest, Sha256};

static COUNTER: AtomicU64 = AtomicU64::new(0);

fn random32() -> [u8; 32] {
    let mut hasher = Sha256::new();
    hasher.update(uuid::Uuid::now_v7().as_bytes());
    hasher.update(COUNTER.fetch_add(1, Ordering::Relaxed).to_le_bytes());
    hasher.finalize().into()
}

/// A message id like Meta's: base64 of a small binary record naming the user.
pub fn wamid(wa_id: &str) -> String {
    let random = random32();
    let mut raw = vec![0x1c, 0x18, wa_id.len() as u8];
    raw.extend_from_slice(wa_id.as_bytes());
    raw.extend_from_slice(&[0x15, 0x02, 0x00, 0x12, 0x18, 0x14]);
    raw.extend_from_slice(hex::encode_upper(&random[..10]).as_bytes());
    raw.push(0x00);
    format!("wamid.{}", STANDARD.encode(raw))
}

/// A numeric id of 16 digits, as media ids are.
pub fn numeric_id() -> String {
    let random = random32();
    let n = u64::from_le_bytes(random[..8].try_into().expect("8 bytes"));
    format!("{}", 1_000_000_000_000_000 + n % 8_999_999_999_999_999)
}

pub fn conversation_id() -> String {
    hex::encode(&random32()[..16])
}

pub fn fbtrace_id() -> String {
    let encoded = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(&random32()[..20]);
    encoded[..27].to_string()
}

/// An opaque token for URLs and handshakes.
pub fn token() -> String {
    hex::encode(&random32()[..12])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wamids_are_unique_and_decode() {
        let a = wamid("447700900123");
        let b = wamid("447700900123");
        assert_ne!(a, b);
        let raw = STANDARD
            .decode(a.strip_prefix("wamid.").expect("prefix"))
            .expect("base64");
        assert!(raw.windows(12).any(|w| w == b"447700900123"));
        assert_eq!(numeric_id().len(), 16);
        assert_eq!(fbtrace_id().len(), 27);
    }
}
