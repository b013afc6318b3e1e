//! Everything that can be tuned about the emulated number. Defaults are Meta's documented
//! values; tests shrink the delays so they run in milliseconds.

use std::net::SocketAddr;
use std::time::Duration;

/// When the customer's phone reports each status, counted in sim time from acceptance.
#[derive(Debug, Clone)]
pub struct StatusSchedule {
    pub sent: Duration,
    pub delivered: Duration,
    /// `None`: the customer never opens the chat (or has read receipts off).
    pub read: Option<Duration>,
}

/// How the sim retries a webhook the receiver did not answer with 200. Meta retries "with
/// decreasing frequency" for up to 7 days; the sim doubles `base` each time up to `max`.
#[derive(Debug, Clone)]
pub struct RetryPolicy {
    pub base: Duration,
    pub max: Duration,
    pub window: Duration,
    /// How long one delivery attempt may take before it counts as failed.
    pub timeout: Duration,
}

#[derive(Debug, Clone)]
pub struct SimConfig {
    pub listen: SocketAddr,
    /// Where webhooks go. `None`: they are recorded but not sent.
    pub webhook_url: Option<String>,
    pub app_secret: String,
    pub access_token: String,
    pub phone_number_id: String,
    pub display_phone_number: String,
    pub verified_name: String,
    /// The WhatsApp Business Account id, `entry[].id` in webhooks.
    pub waba_id: String,
    pub verify_token: Option<String>,
    /// Oldest Graph API major version accepted (`v{major}.{minor}`).
    pub min_api_major: u32,
    pub statuses: StatusSchedule,
    pub retry: RetryPolicy,
    /// Messages per second per business number (Meta: 80, error 130429).
    pub throughput_per_sec: u32,
    /// One message per `pair_interval` to the same user...
    pub pair_interval: Duration,
    /// ...with bursts up to this many (Meta: 1 per 6 s, bursts of 45, error 131056).
    pub pair_burst: u32,
    /// Unique users reached outside the service window per rolling 24 h (Meta: 250).
    pub messaging_limit: u32,
    /// The customer-service window (Meta: 24 h).
    pub service_window: Duration,
    /// A frozen clock moves only through `POST /_sim/clock`.
    pub frozen_clock: bool,
    pub script: Option<ScriptConfig>,
}

#[derive(Debug, Clone)]
pub struct ScriptConfig {
    pub name: String,
    /// Divides the script's pauses: 2.0 runs the day twice as fast.
    pub speed: f64,
}

impl Default for SimConfig {
    fn default() -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            webhook_url: None,
            app_secret: "sim-app-secret".into(),
            access_token: "sim-access-token".into(),
            phone_number_id: "106540352242922".into(),
            display_phone_number: "15550783881".into(),
            verified_name: "Teamline Demo Shop".into(),
            waba_id: "102290129340398".into(),
            verify_token: None,
            min_api_major: 18,
            statuses: StatusSchedule {
                sent: Duration::from_millis(300),
                delivered: Duration::from_millis(1200),
                read: Some(Duration::from_secs(4)),
            },
            retry: RetryPolicy {
                base: Duration::from_secs(5),
                max: Duration::from_secs(3600),
                window: Duration::from_secs(7 * 24 * 3600),
                timeout: Duration::from_secs(20),
            },
            throughput_per_sec: 80,
            pair_interval: Duration::from_secs(6),
            pair_burst: 45,
            messaging_limit: 250,
            service_window: Duration::from_secs(24 * 3600),
            frozen_clock: false,
            script: None,
        }
    }
}
