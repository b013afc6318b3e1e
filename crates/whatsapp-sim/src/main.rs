//! `whatsapp-sim`: runs the Cloud API emulator until Ctrl-C. Prints the bound address on
//! stdout first, so callers can pass `--listen 127.0.0.1:0` and read the port.

use std::net::SocketAddr;
use std::time::Duration;

use clap::Parser;
use whatsapp_sim::{ScriptConfig, Sim, SimConfig};

#[derive(Parser, Debug)]
#[command(
    name = "whatsapp-sim",
    about = "An emulator of Meta's WhatsApp Cloud API"
)]
struct Args {
    #[arg(long, env = "SIM_LISTEN", default_value = "127.0.0.1:0")]
    listen: SocketAddr,
    /// Where signed webhooks are POSTed (and the subscribe handshake is sent).
    #[arg(long, env = "SIM_WEBHOOK_URL")]
    webhook_url: Option<String>,
    #[arg(long, env = "SIM_APP_SECRET")]
    app_secret: String,
    #[arg(long, env = "SIM_ACCESS_TOKEN")]
    access_token: String,
    #[arg(long, env = "SIM_PHONE_NUMBER_ID")]
    phone_number_id: String,
    #[arg(long, default_value = "15550783881")]
    display_phone_number: String,
    #[arg(long, default_value = "Teamline Demo Shop")]
    verified_name: String,
    #[arg(long, default_value = "102290129340398")]
    waba_id: String,
    /// Perform Meta's GET subscribe handshake with this token at start.
    #[arg(long, env = "SIM_VERIFY_TOKEN")]
    verify_token: Option<String>,
    /// Oldest Graph API major version accepted.
    #[arg(long, default_value_t = 18)]
    min_api_version: u32,
    /// Delays (ms of sim time after acceptance) for sent, delivered and read statuses.
    #[arg(long, default_value_t = 300)]
    sent_ms: u64,
    #[arg(long, default_value_t = 1200)]
    delivered_ms: u64,
    /// A negative value means customers never read.
    #[arg(long, default_value_t = 4000, allow_negative_numbers = true)]
    read_ms: i64,
    /// First webhook retry pause; doubles up to --retry-max-ms.
    #[arg(long, default_value_t = 5000)]
    retry_base_ms: u64,
    #[arg(long, default_value_t = 3_600_000)]
    retry_max_ms: u64,
    /// How long to keep retrying (Meta: 7 days).
    #[arg(long, default_value_t = 7 * 24 * 3600)]
    retry_window_secs: u64,
    #[arg(long, default_value_t = 80)]
    throughput: u32,
    #[arg(long, default_value_t = 6000)]
    pair_interval_ms: u64,
    #[arg(long, default_value_t = 45)]
    pair_burst: u32,
    #[arg(long, default_value_t = 250)]
    messaging_limit: u32,
    #[arg(long, default_value_t = 24 * 3600)]
    service_window_secs: u64,
    /// Time moves only through POST /_sim/clock.
    #[arg(long)]
    frozen_clock: bool,
    /// `demo`: a day of a small shop's customers.
    #[arg(long)]
    script: Option<String>,
    /// Speeds the script up (2.0 = twice as fast).
    #[arg(long, default_value_t = 1.0)]
    script_speed: f64,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| "whatsapp_sim=info".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    let a = Args::parse();
    let defaults = SimConfig::default();
    let config = SimConfig {
        listen: a.listen,
        webhook_url: a.webhook_url,
        app_secret: a.app_secret,
        access_token: a.access_token,
        phone_number_id: a.phone_number_id,
        display_phone_number: a.display_phone_number,
        verified_name: a.verified_name,
        waba_id: a.waba_id,
        verify_token: a.verify_token.clone(),
        min_api_major: a.min_api_version,
        statuses: whatsapp_sim::StatusSchedule {
            sent: Duration::from_millis(a.sent_ms),
            delivered: Duration::from_millis(a.delivered_ms),
            read: u64::try_from(a.read_ms).ok().map(Duration::from_millis),
        },
        retry: whatsapp_sim::RetryPolicy {
            base: Duration::from_millis(a.retry_base_ms),
            max: Duration::from_millis(a.retry_max_ms),
            window: Duration::from_secs(a.retry_window_secs),
            ..defaults.retry
        },
        throughput_per_sec: a.throughput,
        pair_interval: Duration::from_millis(a.pair_interval_ms),
        pair_burst: a.pair_burst,
        messaging_limit: a.messaging_limit,
        service_window: Duration::from_secs(a.service_window_secs),
        frozen_clock: a.frozen_clock,
        script: a.script.map(|name| ScriptConfig {
            name,
            speed: a.script_speed,
        }),
    };
    let sim = Sim::start(config).await?;
    println!("{}", sim.addr());
    if let Some(token) = a.verify_token {
        let outcome = whatsapp_sim::webhook::handshake(sim.shared(), &token).await;
        if outcome.ok {
            tracing::info!("webhook subscribe handshake succeeded");
        } else {
            tracing::warn!(status = ?outcome.status, error = ?outcome.error, "webhook subscribe handshake failed");
        }
    }
    tokio::signal::ctrl_c().await?;
    sim.shutdown().await;
    Ok(())
}
