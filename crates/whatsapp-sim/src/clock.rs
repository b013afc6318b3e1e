//! The sim's notion of time. Windows, rate limits, status schedules and webhook
//! timestamps all read this clock, so tests move it forward instead of sleeping.

use std::sync::atomic::{AtomicI64, Ordering};
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use tokio::sync::Notify;

pub struct Clock {
    base_ms: i64,
    started: Instant,
    frozen: bool,
    offset_ms: AtomicI64,
    /// Woken whenever the clock jumps, so the scheduler re-checks what is due.
    pub changed: Notify,
}

impl Clock {
    /// A clock that starts at the real time. A frozen clock only moves when advanced.
    pub fn new(frozen: bool) -> Self {
        let base_ms = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_millis() as i64)
            .unwrap_or(0);
        Self {
            base_ms,
            started: Instant::now(),
            frozen,
            offset_ms: AtomicI64::new(0),
            changed: Notify::new(),
        }
    }

    pub fn is_frozen(&self) -> bool {
        self.frozen
    }

    /// Sim time in unix milliseconds.
    pub fn now_ms(&self) -> i64 {
        let running = if self.frozen {
            0
        } else {
            self.started.elapsed().as_millis() as i64
        };
        self.base_ms + running + self.offset_ms.load(Ordering::SeqCst)
    }

    /// Sim time in unix seconds, as Meta's timestamps count it.
    pub fn now_secs(&self) -> i64 {
        self.now_ms().div_euclid(1000)
    }

    pub fn advance_ms(&self, ms: i64) {
        self.offset_ms.fetch_add(ms.max(0), Ordering::SeqCst);
        self.changed.notify_waiters();
    }
}
