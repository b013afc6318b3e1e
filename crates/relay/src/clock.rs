//! Time that tests can move: pairing codes expire after 90 s and retention after days, and
//! tests must not sleep that long.

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

use jiff::{SignedDuration, Timestamp};

/// The system clock plus an offset that only tests change. Cheap to clone; clones share
/// the offset.
#[derive(Clone, Debug, Default)]
pub struct Clock {
    offset_ms: Arc<AtomicI64>,
}

impl Clock {
    pub fn system() -> Clock {
        Clock::default()
    }

    pub fn now(&self) -> Timestamp {
        let now = Timestamp::now();
        let offset = self.offset_ms.load(Ordering::SeqCst);
        if offset == 0 {
            return now;
        }
        now.checked_add(SignedDuration::from_millis(offset))
            .unwrap_or(now)
    }

    /// Moves this clock (and every clone) forward.
    pub fn advance(&self, by: std::time::Duration) {
        self.offset_ms
            .fetch_add(by.as_millis() as i64, Ordering::SeqCst);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn advancing_moves_every_clone() {
        let a = Clock::system();
        let b = a.clone();
        let before = b.now();
        a.advance(std::time::Duration::from_secs(3600));
        let after = b.now();
        assert!(after.duration_since(before) >= SignedDuration::from_secs(3600));
    }
}
