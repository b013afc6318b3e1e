//! `teamline-relay`: the team's hub. Receives Meta's signed webhooks, commits them with
//! their derived events before answering, keeps the gap-free event log, pairs devices and
//! streams to each device only what its permissions let it see.
//!
//! Layout: [`storage`] (traits + SQLite), [`ingest`] and [`pairing`] (domain rules over
//! the storage traits), [`authz`] (the one door to `teamline-core`), [`app`] and
//! [`delivery`] (HTTP), [`config`] and [`cli`] (the binary).

pub mod alerts;
pub mod app;
pub mod audit;
pub mod authz;
pub mod automation;
pub mod backup;
pub mod broadcasts;
pub mod cli;
pub mod clock;
pub mod config;
pub mod contacts;
pub mod delivery;
pub mod events;
pub mod ingest;
pub mod labels;
pub mod metrics;
pub mod pairing;
pub mod pin;
pub mod storage;
pub mod team;

// Second half of the relay: commands, outbound sends, media.
pub mod command_error;
pub mod commands;
pub mod composer;
pub mod media;
pub mod outbound;
pub mod presence;
pub mod relay_services;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinHandle;

pub use app::{AppSettings, AppState, router};
pub use clock::Clock;
pub use storage::Storage;

/// How often retention runs.
pub const RETENTION_INTERVAL: Duration = Duration::from_secs(3600);

/// A running relay: an HTTP server on a bound listener plus its background tasks.
pub struct Relay {
    addr: SocketAddr,
    state: Arc<AppState>,
    stop: watch::Sender<bool>,
    server: JoinHandle<std::io::Result<()>>,
    retention: JoinHandle<()>,
    idle: JoinHandle<()>,
    automation: [JoinHandle<()>; 2],
    broadcasts: JoinHandle<()>,
}

impl Relay {
    /// Serves on `listener` (bind `127.0.0.1:0` in tests).
    pub async fn start(
        listener: TcpListener,
        storage: Arc<dyn Storage>,
        clock: Clock,
        settings: AppSettings,
    ) -> anyhow::Result<Relay> {
        let addr = listener.local_addr()?;
        let (stop, stop_rx) = watch::channel(false);
        let state = AppState::new(storage, clock, settings, stop_rx.clone());
        alerts::start(Arc::clone(&state), stop_rx.clone()).await?;
        let app = router(Arc::clone(&state));
        let mut graceful = stop_rx.clone();
        let server = tokio::spawn(async move {
            axum::serve(
                listener,
                app.into_make_service_with_connect_info::<SocketAddr>(),
            )
            .with_graceful_shutdown(async move {
                let _ = graceful.wait_for(|s| *s).await;
            })
            .await
        });
        let idle = tokio::spawn(team::idle_loop(Arc::clone(&state), stop_rx.clone()));
        let automation = [
            tokio::spawn(automation::worker(Arc::clone(&state), stop_rx.clone())),
            tokio::spawn(automation::timers(Arc::clone(&state), stop_rx.clone())),
        ];
        let broadcasts = tokio::spawn(broadcasts::worker(Arc::clone(&state), stop_rx.clone()));
        let retention = tokio::spawn(retention_loop(Arc::clone(&state), stop_rx));
        tracing::info!(%addr, backend = state.storage.backend(), "relay listening");
        Ok(Relay {
            addr,
            state,
            stop,
            server,
            retention,
            idle,
            automation,
            broadcasts,
        })
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn state(&self) -> &Arc<AppState> {
        &self.state
    }

    /// Stops accepting, ends streams and long-polls, and waits for in-flight requests.
    pub async fn shutdown(self) -> anyhow::Result<()> {
        let _ = self.stop.send(true);
        self.retention.abort();
        self.idle.abort();
        for task in &self.automation {
            task.abort();
        }
        self.broadcasts.abort();
        self.server.await??;
        Ok(())
    }
}

/// Prunes events older than the retention period, now and then every hour.
async fn retention_loop(state: Arc<AppState>, mut stop: watch::Receiver<bool>) {
    loop {
        if let Err(e) = prune_now(&state).await {
            tracing::warn!(error = %e, "retention pruning failed");
        }
        tokio::select! {
            _ = tokio::time::sleep(RETENTION_INTERVAL) => {}
            _ = stop.wait_for(|s| *s) => return,
        }
    }
}

/// Applies retention once; returns the new floor.
pub async fn prune_now(state: &AppState) -> Result<u64, storage::StorageError> {
    let cutoff = state
        .clock
        .now()
        .checked_sub(state.settings.retention)
        .unwrap_or(jiff::Timestamp::MIN);
    state.storage.write(move |tx| tx.prune_before(cutoff)).await
}
