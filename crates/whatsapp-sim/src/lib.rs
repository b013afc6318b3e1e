//! `whatsapp-sim`: an emulator of Meta's WhatsApp Cloud API.
//!
//! Meta's servers cannot be reached from our machines, so the relay, the client and the
//! demo talk to this instead. It serves the Graph API subset Teamline uses, validates
//! requests and enforces a real number's limits as Meta documents them, and sends signed
//! webhooks whose bytes look like Meta's. A control API under `/_sim/` lets tests inject
//! customer messages, move the clock and switch faults on.
//!
//! ```no_run
//! # async fn demo() -> anyhow::Result<()> {
//! let sim = whatsapp_sim::Sim::start(whatsapp_sim::SimConfig::default()).await?;
//! println!("Graph API at {}/v23.0", sim.base_url());
//! sim.shutdown().await;
//! # Ok(()) }
//! ```

pub mod clock;
pub mod config;
pub mod control;
pub mod error;
pub mod graph;
pub mod ids;
pub mod media;
pub mod meta_json;
pub mod payload;
pub mod sched;
pub mod script;
pub mod state;
pub mod validate;
pub mod webhook;

use std::future::Future;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use tokio::sync::watch;

pub use config::{RetryPolicy, ScriptConfig, SimConfig, StatusSchedule};
pub use state::{Faults, Template};

/// Everything the routes and background tasks share.
pub struct Shared {
    pub config: SimConfig,
    pub clock: clock::Clock,
    pub state: Mutex<state::State>,
    pub scheduler: sched::Scheduler,
    pub webhooks: webhook::Sender,
    pub http: reqwest::Client,
    pub base_url: String,
    shutdown: watch::Receiver<bool>,
}

impl Shared {
    pub fn metadata(&self) -> payload::Metadata {
        payload::Metadata {
            display_phone_number: self.config.display_phone_number.clone(),
            phone_number_id: self.config.phone_number_id.clone(),
        }
    }

    /// Spawns a background task that ends when the sim shuts down.
    pub fn spawn(&self, fut: impl Future<Output = ()> + Send + 'static) {
        let mut stop = self.shutdown.clone();
        tokio::spawn(async move {
            tokio::select! {
                _ = stop.wait_for(|s| *s) => {}
                _ = fut => {}
            }
        });
    }
}

pub struct Sim;

impl Sim {
    /// Binds `config.listen` (port 0 picks a free one), starts serving and, when
    /// configured, the demo script.
    pub async fn start(config: SimConfig) -> anyhow::Result<SimHandle> {
        let listener = tokio::net::TcpListener::bind(config.listen).await?;
        let addr = listener.local_addr()?;
        let base_url = format!("http://{addr}");
        let (stop_tx, stop_rx) = watch::channel(false);
        let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()?;
        let shared = Arc::new(Shared {
            clock: clock::Clock::new(config.frozen_clock),
            state: Mutex::new(state::State::new()),
            scheduler: sched::Scheduler::default(),
            webhooks: tx,
            http,
            base_url: base_url.clone(),
            config,
            shutdown: stop_rx.clone(),
        });
        shared.spawn(webhook::run(Arc::clone(&shared), rx));
        shared.spawn(sched::run(Arc::clone(&shared)));
        if let Some(script) = shared.config.script.clone() {
            shared.spawn(script::run(Arc::clone(&shared), script));
        }
        let app = graph::router(Arc::clone(&shared)).merge(control::router(Arc::clone(&shared)));
        let mut stop = stop_rx;
        let server = tokio::spawn(async move {
            let _ = axum::serve(listener, app)
                .with_graceful_shutdown(async move {
                    let _ = stop.wait_for(|s| *s).await;
                })
                .await;
        });
        tracing::info!(%addr, "whatsapp-sim listening");
        Ok(SimHandle {
            addr,
            base_url,
            shared,
            stop: stop_tx,
            server,
        })
    }
}

/// A running sim. Dropping it leaves it running until the runtime ends; call `shutdown`.
pub struct SimHandle {
    addr: SocketAddr,
    base_url: String,
    shared: Arc<Shared>,
    stop: watch::Sender<bool>,
    server: tokio::task::JoinHandle<()>,
}

impl SimHandle {
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://127.0.0.1:PORT`; the Graph API lives under `/{version}/`.
    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    /// Direct access for in-process tests that want more than the control API offers.
    pub fn shared(&self) -> &Arc<Shared> {
        &self.shared
    }

    pub async fn shutdown(self) {
        let _ = self.stop.send(true);
        let _ = self.server.await;
    }
}
