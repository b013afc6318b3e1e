//! The emulated number's memory: customers and their service windows, what the business
//! sent, uploaded media, templates, rate-limit counters, fault switches and the webhook
//! delivery log. One mutex guards it and is never held across an await.

use std::collections::{HashMap, VecDeque};

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::error::{AsyncError, GraphError};

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Template {
    pub name: String,
    pub language: String,
    /// `APPROVED`, `PENDING`, `REJECTED`, `PAUSED` or `DISABLED`.
    pub status: String,
    /// `UTILITY`, `MARKETING` or `AUTHENTICATION`; decides the pricing category.
    #[serde(default = "utility")]
    pub category: String,
    #[serde(default)]
    pub header_params: usize,
    #[serde(default)]
    pub body_params: usize,
    /// Parameters expected per button index, e.g. a URL button with one variable.
    #[serde(default)]
    pub button_params: Vec<usize>,
    #[serde(default)]
    pub body: String,
}

fn utility() -> String {
    "UTILITY".into()
}

impl Template {
    fn new(name: &str, language: &str, body_params: usize, body: &str) -> Self {
        Self {
            name: name.into(),
            language: language.into(),
            status: "APPROVED".into(),
            category: "UTILITY".into(),
            header_params: 0,
            body_params,
            button_params: Vec::new(),
            body: body.into(),
        }
    }
}

/// The templates every fresh sim knows.
pub fn default_templates() -> Vec<Template> {
    let mut promo = Template::new(
        "spring_sale",
        "en_US",
        1,
        "Hi {{1}}! Our spring sale starts today.",
    );
    promo.category = "MARKETING".into();
    let mut pending = Template::new("loyalty_card", "en_US", 0, "Your loyalty card is ready.");
    pending.status = "PENDING".into();
    vec![
        Template::new("hello_world", "en_US", 0, "Hello World"),
        Template::new(
            "order_update",
            "en_US",
            2,
            "Hi {{1}}, your order {{2}} has shipped.",
        ),
        Template::new(
            "order_update",
            "ru",
            2,
            "Здравствуйте, {{1}}! Ваш заказ {{2}} отправлен.",
        ),
        Template::new(
            "order_update",
            "zh_CN",
            2,
            "{{1}}，您好！您的订单 {{2}} 已发货。",
        ),
        promo,
        pending,
    ]
}

#[derive(Debug, Clone)]
pub struct Media {
    pub id: String,
    pub bytes: Vec<u8>,
    pub mime_type: String,
    pub sha256: String,
    pub filename: Option<String>,
    /// Lookaside download token, part of the URL like Meta's `hash=` parameter.
    pub url_token: String,
}

#[derive(Debug, Clone, Default)]
pub struct Customer {
    pub name: String,
    pub last_inbound_ms: Option<i64>,
}

#[derive(Debug, Clone, Serialize)]
pub struct StatusRecord {
    pub status: String,
    pub timestamp: String,
}

/// One message the business sent, as `GET /_sim/sent` lists it.
#[derive(Debug, Clone, Serialize)]
pub struct SentMessage {
    pub id: String,
    pub to: String,
    #[serde(rename = "type")]
    pub kind: String,
    /// The request body exactly as the business sent it.
    pub request: Value,
    pub accepted_at: String,
    pub statuses: Vec<StatusRecord>,
    pub error: Option<AsyncError>,
    #[serde(skip)]
    pub category: String,
    #[serde(skip)]
    pub conversation_id: String,
    #[serde(skip)]
    pub biz_opaque_callback_data: Option<String>,
}

/// A mark-as-read or typing indicator the business sent for an inbound message.
#[derive(Debug, Clone, Serialize)]
pub struct ReadMark {
    pub message_id: String,
    pub typing_indicator: bool,
    pub at: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct InboundRecord {
    pub id: String,
    pub from: String,
    #[serde(rename = "type")]
    pub kind: String,
    pub timestamp: String,
}

/// Switches tests flip to see how a receiver copes with Meta's rougher days.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct Faults {
    /// Deliver every webhook twice.
    pub duplicate: bool,
    /// Hold a message's statuses and deliver them newest first (read, delivered, sent).
    pub out_of_order: bool,
    /// Gather this many webhooks into one POST (`entry[]` of several); 0 or 1 is off.
    pub batch: usize,
    /// The next N webhook deliveries: send the request, then cut the connection without
    /// reading the answer, so the sim counts it as failed and retries.
    pub drop_webhooks: u32,
    /// The next N Graph `POST .../messages` requests are processed, then the connection is
    /// cut before the response body arrives.
    pub drop_graph_responses: u32,
    /// Per recipient (wa_id) a Meta error code for every message sent to them: codes Meta
    /// answers at send time (131048, 368, 131031) are returned as the Graph error;
    /// per-recipient failures (131026, 131049, 131050, 130472) are accepted and then
    /// reported in a `failed` status webhook, as Meta does.
    pub recipient_errors: std::collections::BTreeMap<String, u32>,
    /// While on, `POST .../messages` requests are processed (accepted, statuses planned)
    /// but the answer is withheld, as when Meta is slow to answer: the caller's requests
    /// stay in flight until it is switched off.
    pub stall_sends: bool,
    /// Requests whose answer is being withheld now (read-only).
    pub stalled: u32,
}

#[derive(Debug, Clone, Serialize)]
pub struct Attempt {
    /// Real unix milliseconds of the attempt (retries run on real time).
    pub at_ms: i64,
    /// HTTP status, when the receiver answered.
    pub status: Option<u16>,
    /// `ok`, `http_error`, `network_error`, `dropped_connection` or `timeout`.
    pub outcome: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct DeliveryRecord {
    pub id: u64,
    /// `messages`, `statuses`, or `batch`.
    pub kind: String,
    /// The exact bytes posted (ASCII, thanks to Meta's escaping).
    pub body: String,
    pub signature: String,
    pub attempts: Vec<Attempt>,
    pub delivered: bool,
    pub gave_up: bool,
    pub duplicate_of: Option<u64>,
}

/// Token bucket for the per-recipient pair rate.
#[derive(Debug, Clone)]
pub struct Bucket {
    pub tokens: f64,
    pub at_ms: i64,
}

#[derive(Default)]
pub struct State {
    pub customers: HashMap<String, Customer>,
    pub inbound: Vec<InboundRecord>,
    pub sent: Vec<SentMessage>,
    pub read_marks: Vec<ReadMark>,
    pub media: HashMap<String, Media>,
    pub templates: Vec<Template>,
    pub throughput: VecDeque<i64>,
    pub pairs: HashMap<String, Bucket>,
    /// (when, wa_id) of each user first reached outside the service window.
    pub tier: VecDeque<(i64, String)>,
    pub faults: Faults,
    pub deliveries: Vec<DeliveryRecord>,
    pub next_delivery: u64,
}

impl State {
    pub fn new() -> Self {
        Self {
            templates: default_templates(),
            ..Self::default()
        }
    }

    pub fn window_open(&self, wa_id: &str, now_ms: i64, window_ms: i64) -> bool {
        self.customers
            .get(wa_id)
            .and_then(|c| c.last_inbound_ms)
            .is_some_and(|at| now_ms - at < window_ms)
    }

    pub fn sent_mut(&mut self, id: &str) -> Option<&mut SentMessage> {
        self.sent.iter_mut().find(|m| m.id == id)
    }

    /// 130429: at most `per_sec` accepted messages in any sliding second of sim time.
    pub fn check_throughput(&mut self, now_ms: i64, per_sec: u32) -> Result<(), GraphError> {
        while self.throughput.front().is_some_and(|&t| now_ms - t >= 1000) {
            self.throughput.pop_front();
        }
        if self.throughput.len() >= per_sec as usize {
            return Err(GraphError::throughput());
        }
        Ok(())
    }

    /// 131056: a token bucket per recipient holding `burst` tokens, one back per interval.
    pub fn check_pair(
        &mut self,
        wa_id: &str,
        now_ms: i64,
        interval_ms: i64,
        burst: u32,
    ) -> Result<(), GraphError> {
        let bucket = self.pairs.entry(wa_id.to_string()).or_insert(Bucket {
            tokens: burst as f64,
            at_ms: now_ms,
        });
        let refill = (now_ms - bucket.at_ms).max(0) as f64 / interval_ms.max(1) as f64;
        bucket.tokens = (bucket.tokens + refill).min(burst as f64);
        bucket.at_ms = now_ms;
        if bucket.tokens < 1.0 {
            return Err(GraphError::pair_rate());
        }
        Ok(())
    }

    /// Messaging limit: unique users reached outside their window in a rolling 24 h.
    pub fn check_tier(&mut self, wa_id: &str, now_ms: i64, limit: u32) -> Result<bool, GraphError> {
        const DAY_MS: i64 = 24 * 3600 * 1000;
        while self.tier.front().is_some_and(|(t, _)| now_ms - t >= DAY_MS) {
            self.tier.pop_front();
        }
        if self.tier.iter().any(|(_, id)| id == wa_id) {
            return Ok(false);
        }
        if self.tier.len() >= limit as usize {
            return Err(GraphError::messaging_limit(limit));
        }
        Ok(true)
    }

    /// Records an accepted message against every limit (after all checks passed).
    pub fn consume(&mut self, wa_id: &str, now_ms: i64, new_tier_user: bool) {
        self.throughput.push_back(now_ms);
        if let Some(bucket) = self.pairs.get_mut(wa_id) {
            bucket.tokens -= 1.0;
        }
        if new_tier_user {
            self.tier.push_back((now_ms, wa_id.to_string()));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pair_bucket_allows_a_burst_then_one_per_interval() {
        let mut s = State::new();
        for _ in 0..45 {
            s.check_pair("1", 0, 6000, 45).expect("within burst");
            s.consume("1", 0, false);
        }
        assert_eq!(s.check_pair("1", 0, 6000, 45).unwrap_err().code, 131056);
        assert_eq!(s.check_pair("1", 5999, 6000, 45).unwrap_err().code, 131056);
        s.check_pair("1", 6000, 6000, 45)
            .expect("one token back after 6 s");
        s.consume("1", 6000, false);
        assert!(s.check_pair("1", 6000, 6000, 45).is_err());
        // Another recipient is unaffected.
        s.check_pair("2", 6000, 6000, 45).expect("separate bucket");
    }
}
