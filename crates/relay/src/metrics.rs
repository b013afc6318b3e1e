//! Prometheus text metrics, kept as plain atomics (no registry crate needed for a handful).

use std::fmt::Write;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};

/// Why a webhook POST was refused; one counter each.
#[derive(Debug, Clone, Copy)]
pub enum Rejection {
    Signature,
    TooLarge,
    Storage,
}

#[derive(Debug, Default)]
pub struct Metrics {
    pub webhooks_received: AtomicU64,
    pub webhooks_duplicate: AtomicU64,
    pub webhooks_quarantined: AtomicU64,
    rejected_signature: AtomicU64,
    rejected_too_large: AtomicU64,
    rejected_storage: AtomicU64,
    pub events_appended: AtomicU64,
    /// Open SSE streams and waiting long-polls.
    pub devices_connected: AtomicI64,
    pub pairing_rejected: AtomicU64,
    pub auth_rejected: AtomicU64,
    /// Set by the send worker (second half of issue 4).
    pub send_queue_depth: AtomicI64,
    /// Send errors by Meta code, filled by the send worker.
    pub send_errors: std::sync::Mutex<std::collections::BTreeMap<i64, u64>>,
}

impl Metrics {
    pub fn reject(&self, why: Rejection) {
        let c = match why {
            Rejection::Signature => &self.rejected_signature,
            Rejection::TooLarge => &self.rejected_too_large,
            Rejection::Storage => &self.rejected_storage,
        };
        c.fetch_add(1, Ordering::Relaxed);
    }

    pub fn send_error(&self, code: i64) {
        *self
            .send_errors
            .lock()
            .expect("metrics lock")
            .entry(code)
            .or_default() += 1;
    }

    /// The exposition text; `head` is the newest committed seq.
    pub fn render(&self, head: u64) -> String {
        let g = |a: &AtomicU64| a.load(Ordering::Relaxed);
        let mut out = String::new();
        let mut metric = |name: &str, kind: &str, help: &str, lines: &[(String, String)]| {
            let _ = writeln!(out, "# HELP {name} {help}");
            let _ = writeln!(out, "# TYPE {name} {kind}");
            for (labels, value) in lines {
                let _ = writeln!(out, "{name}{labels} {value}");
            }
        };
        let plain = |v: String| vec![(String::new(), v)];
        metric(
            "teamline_webhooks_received_total",
            "counter",
            "Webhook POSTs with a valid signature, committed.",
            &plain(g(&self.webhooks_received).to_string()),
        );
        metric(
            "teamline_webhooks_duplicate_total",
            "counter",
            "Webhook deliveries whose body had been stored before.",
            &plain(g(&self.webhooks_duplicate).to_string()),
        );
        metric(
            "teamline_webhooks_quarantined_total",
            "counter",
            "Signed webhook bodies that were not valid JSON, kept in quarantine.",
            &plain(g(&self.webhooks_quarantined).to_string()),
        );
        metric(
            "teamline_webhooks_rejected_total",
            "counter",
            "Webhook POSTs refused, by reason.",
            &[
                (
                    "{reason=\"signature\"}".into(),
                    g(&self.rejected_signature).to_string(),
                ),
                (
                    "{reason=\"too_large\"}".into(),
                    g(&self.rejected_too_large).to_string(),
                ),
                (
                    "{reason=\"storage\"}".into(),
                    g(&self.rejected_storage).to_string(),
                ),
            ],
        );
        metric(
            "teamline_events_total",
            "counter",
            "Events appended to the log by this process.",
            &plain(g(&self.events_appended).to_string()),
        );
        metric(
            "teamline_event_head_seq",
            "gauge",
            "Sequence number of the newest committed event.",
            &plain(head.to_string()),
        );
        metric(
            "teamline_devices_connected",
            "gauge",
            "Open event streams and waiting long-polls.",
            &plain(self.devices_connected.load(Ordering::Relaxed).to_string()),
        );
        metric(
            "teamline_pairing_rejected_total",
            "counter",
            "Pairing claims refused.",
            &plain(g(&self.pairing_rejected).to_string()),
        );
        metric(
            "teamline_auth_rejected_total",
            "counter",
            "Requests refused for a missing, unknown or revoked device token.",
            &plain(g(&self.auth_rejected).to_string()),
        );
        metric(
            "teamline_send_queue_depth",
            "gauge",
            "Outbound messages waiting to be sent.",
            &plain(self.send_queue_depth.load(Ordering::Relaxed).to_string()),
        );
        let errors: Vec<(String, String)> = self
            .send_errors
            .lock()
            .expect("metrics lock")
            .iter()
            .map(|(code, n)| (format!("{{code=\"{code}\"}}"), n.to_string()))
            .collect();
        metric(
            "teamline_send_errors_total",
            "counter",
            "Graph API send errors, by Meta error code.",
            &errors,
        );
        out
    }
}

/// Counts a connected device for as long as it lives.
pub struct ConnectedGuard(std::sync::Arc<Metrics>);

impl ConnectedGuard {
    pub fn new(metrics: std::sync::Arc<Metrics>) -> Self {
        metrics.devices_connected.fetch_add(1, Ordering::Relaxed);
        ConnectedGuard(metrics)
    }
}

impl Drop for ConnectedGuard {
    fn drop(&mut self) {
        self.0.devices_connected.fetch_sub(1, Ordering::Relaxed);
    }
}
