//! Jittered exponential backoff, so a hundred devices that lost the relay at the same
//! moment do not all come back in the same second.

use std::time::Duration;

#[derive(Debug, Clone)]
pub struct Backoff {
    base: Duration,
    max: Duration,
    attempt: u32,
}

impl Backoff {
    pub fn new(base: Duration, max: Duration) -> Backoff {
        Backoff {
            base,
            max,
            attempt: 0,
        }
    }

    /// The delay before the next attempt: `base · 2^n` capped at `max`, then "equal
    /// jitter" (a random point in its upper half), so it never collapses to zero.
    pub fn next_delay(&mut self) -> Duration {
        let exp = self
            .base
            .saturating_mul(1u32.checked_shl(self.attempt.min(20)).unwrap_or(u32::MAX))
            .min(self.max);
        self.attempt = self.attempt.saturating_add(1);
        let half = exp / 2;
        let jitter_ms = fastrand::u64(0..=half.as_millis() as u64);
        half + Duration::from_millis(jitter_ms)
    }

    /// Failed attempts since the last reset.
    pub fn attempts(&self) -> u32 {
        self.attempt
    }

    pub fn reset(&mut self) {
        self.attempt = 0;
    }

    /// Whether the delay has reached its cap (the relay has been away a while).
    #[cfg(test)]
    pub fn at_cap(&self) -> bool {
        self.attempt > 0
            && self.base.saturating_mul(
                1u32.checked_shl(self.attempt.min(20) - 1)
                    .unwrap_or(u32::MAX),
            ) >= self.max
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delays_grow_stay_in_jitter_band_and_cap() {
        let mut b = Backoff::new(Duration::from_secs(1), Duration::from_secs(30));
        for n in 0..10u32 {
            let full = Duration::from_secs(1 << n.min(5)).min(Duration::from_secs(30));
            let d = b.next_delay();
            assert!(d >= full / 2 && d <= full, "attempt {n}: {d:?} vs {full:?}");
        }
        assert!(b.at_cap());
        b.reset();
        assert_eq!(b.attempts(), 0);
        assert!(b.next_delay() <= Duration::from_secs(1));
    }
}
