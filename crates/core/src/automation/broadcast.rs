//! Broadcast pacing, the pure parts: the daily cap and its halving, opt-out keywords, and
//! which recipients to send to next. Sending exactly once is the relay's job (it records
//! each attempt before calling the Graph API); the planner only never proposes a recipient
//! that already has an attempt, so re-planning after a restart is safe.

use std::collections::BTreeSet;

use jiff::civil::Date;
use serde::{Deserialize, Serialize};

use super::text::fold;

/// The business's broadcast limits.
#[derive(Clone, PartialEq, Debug, Serialize, Deserialize)]
#[cfg_attr(
    feature = "ts",
    derive(ts_rs::TS),
    ts(export_to = "BroadcastPacing.ts")
)]
#[serde(default)]
pub struct Pacing {
    /// Sends per day (team time zone) at full health; default 50 for a new number.
    pub daily_cap: u32,
    /// A day whose failed + blocked share is ABOVE this (percent) halves the next day's cap.
    pub max_failure_percent: f64,
    /// Seconds between two sends.
    pub interval_secs: u32,
    /// Whole-message opt-out words, compared case-folded and without end punctuation.
    pub opt_out_keywords: Vec<String>,
}

impl Default for Pacing {
    fn default() -> Self {
        Pacing {
            daily_cap: 50,
            max_failure_percent: 15.0,
            interval_secs: 2,
            opt_out_keywords: vec!["STOP".into(), "СТОП".into(), "退订".into()],
        }
    }
}

/// One past day of sending.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export_to = "BroadcastDay.ts"))]
pub struct DayStats {
    #[cfg_attr(feature = "ts", ts(type = "string"))]
    pub date: Date,
    /// Sends attempted that day.
    pub attempted: u32,
    /// Of those, failed (Meta error) or blocked (recipient blocked, pair-rate limits).
    pub failed: u32,
    pub blocked: u32,
}

impl Pacing {
    /// The cap on `date`, given the history of earlier days.
    ///
    /// Each day with sends whose failure share is above the limit halves the cap for the
    /// next day (never below 1); a healthy day doubles it back, never above `daily_cap`.
    /// Days without sends change nothing. Days on or after `date` are ignored.
    pub fn cap_on(&self, date: Date, history: &[DayStats]) -> u32 {
        let mut days: Vec<&DayStats> = history.iter().filter(|d| d.date < date).collect();
        days.sort_by_key(|d| d.date);
        days.iter().fold(self.daily_cap, |cap, d| {
            if d.attempted == 0 {
                cap
            } else if self.unhealthy(d) {
                (cap / 2).max(1)
            } else {
                cap.saturating_mul(2).min(self.daily_cap)
            }
        })
    }

    fn unhealthy(&self, d: &DayStats) -> bool {
        let bad = f64::from(d.failed.saturating_add(d.blocked));
        bad * 100.0 > self.max_failure_percent * f64::from(d.attempted)
    }

    /// Whether a customer's whole message is an opt-out ("stop", "СТОП!", "退订。").
    pub fn is_opt_out(&self, message: &str) -> bool {
        let m = fold(message.trim().trim_end_matches(['.', '!', '。', '！', ' ']));
        !m.is_empty() && self.opt_out_keywords.iter().any(|k| fold(k.trim()) == m)
    }

    /// The next recipients to send to: in audience order, skipping anyone already
    /// attempted (whatever the outcome), opted out, or listed twice, at most what is left
    /// of today's cap (`sent_today` attempts so far) and at most `batch`.
    ///
    /// Idempotent: until the relay records new attempts, the same inputs give the same
    /// plan, and a plan never contains an attempted recipient.
    pub fn plan<'a>(
        &self,
        audience: &'a [String],
        attempted: &BTreeSet<String>,
        opted_out: &BTreeSet<String>,
        cap_today: u32,
        sent_today: u32,
        batch: usize,
    ) -> BroadcastPlan<'a> {
        let room = cap_today.saturating_sub(sent_today) as usize;
        let mut seen = BTreeSet::new();
        let mut send = Vec::new();
        let mut opted = 0;
        let mut pending = 0;
        for r in audience {
            if attempted.contains(r) || !seen.insert(r.as_str()) {
                continue;
            }
            if opted_out.contains(r) {
                opted += 1;
                continue;
            }
            pending += 1;
            if send.len() < room.min(batch) {
                send.push(r.as_str());
            }
        }
        let pending_after = pending - send.len();
        BroadcastPlan {
            send,
            skipped_opted_out: opted,
            pending_after,
            cap_left: room,
        }
    }
}

/// What to send now.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct BroadcastPlan<'a> {
    pub send: Vec<&'a str>,
    pub skipped_opted_out: usize,
    /// Recipients still to be attempted after this plan is sent.
    pub pending_after: usize,
    /// Sends left today before this plan.
    pub cap_left: usize,
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::civil::date;

    #[test]
    fn opt_out_is_the_whole_message_in_three_languages() {
        let p = Pacing::default();
        for m in ["STOP", "stop", " Stop! ", "СТОП", "стоп.", "退订", "退订。"] {
            assert!(p.is_opt_out(m), "{m}");
        }
        for m in ["don't stop", "stop it", "стопка", "我要退订吗", "", "!"] {
            assert!(!p.is_opt_out(m), "{m}");
        }
    }

    #[test]
    fn seed_cap_and_halving_over_two_simulated_days() {
        let pacing = Pacing::default();
        let audience: Vec<String> = (0..120).map(|i| format!("r{i:03}")).collect();
        let opted: BTreeSet<String> = ["r003".to_string()].into();
        let mut attempted = BTreeSet::new();
        let mut history = Vec::new();

        // Day 1: cap 50. Batches of 20 until the cap is used up.
        let day1 = date(2026, 11, 21);
        let cap1 = pacing.cap_on(day1, &history);
        assert_eq!(cap1, 50);
        let mut sent = 0;
        loop {
            let plan = pacing.plan(&audience, &attempted, &opted, cap1, sent, 20);
            if plan.send.is_empty() {
                break;
            }
            // Re-planning before recording anything proposes the same batch.
            assert_eq!(
                plan,
                pacing.plan(&audience, &attempted, &opted, cap1, sent, 20)
            );
            for r in &plan.send {
                assert!(attempted.insert((*r).to_string()), "{r} twice");
            }
            sent += plan.send.len() as u32;
        }
        assert_eq!(sent, 50);
        assert!(!attempted.contains("r003"));
        // 8 of 50 failed (16% > 15%): tomorrow's cap halves.
        history.push(DayStats {
            date: day1,
            attempted: 50,
            failed: 5,
            blocked: 3,
        });

        let day2 = date(2026, 11, 22);
        let cap2 = pacing.cap_on(day2, &history);
        assert_eq!(cap2, 25);
        let plan = pacing.plan(&audience, &attempted, &opted, cap2, 0, 100);
        assert_eq!(plan.send.len(), 25);
        assert_eq!(plan.send[0], "r051");
        assert!(plan.send.iter().all(|r| !attempted.contains(*r)));
        assert_eq!(plan.pending_after, 120 - 50 - 1 - 25);
        history.push(DayStats {
            date: day2,
            attempted: 25,
            failed: 0,
            blocked: 0,
        });
        // Exactly 15% is not above the limit; a healthy day doubles back up to the cap.
        assert_eq!(pacing.cap_on(date(2026, 11, 23), &history), 50);
        let borderline = [DayStats {
            date: day1,
            attempted: 20,
            failed: 3,
            blocked: 0,
        }];
        assert_eq!(pacing.cap_on(day2, &borderline), 50);
    }
}
