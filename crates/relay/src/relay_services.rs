//! The command side's shared state and background workers: what `POST /v1/commands`,
//! `GET /v1/media/{id}`, the send worker and the media worker share.

use std::sync::Arc;

use jiff::tz::TimeZone;
use teamline_whatsapp::graph::GraphClient;
use tokio::task::JoinHandle;

use crate::clock::Clock;
use crate::media::{MediaConfig, MediaWorker};
use crate::outbound::{Outbound, OutboundConfig, SendWorker};
use crate::presence::PresenceHub;
use crate::storage::Storage;

pub struct Services {
    pub storage: Arc<dyn Storage>,
    pub clock: Clock,
    /// The team's time zone (permission templates' windows).
    pub tz: TimeZone,
    pub presence: PresenceHub,
    pub outbound: Arc<Outbound>,
    pub media: MediaConfig,
    pub graph: GraphClient,
}

impl Services {
    pub fn new(
        storage: Arc<dyn Storage>,
        clock: Clock,
        tz: TimeZone,
        graph: GraphClient,
        outbound: OutboundConfig,
        media: MediaConfig,
    ) -> Arc<Self> {
        Arc::new(Services {
            storage,
            clock,
            tz,
            presence: PresenceHub::default(),
            outbound: Outbound::new(outbound),
            media,
            graph,
        })
    }

    /// Starts the send worker (after its restart recovery) and the media worker. Dropping
    /// or aborting the handles stops them; queued work stays in the database.
    pub fn spawn_workers(self: &Arc<Self>) -> Vec<JoinHandle<()>> {
        let send = Arc::new(SendWorker {
            storage: Arc::clone(&self.storage),
            clock: self.clock.clone(),
            graph: self.graph.clone(),
            outbound: Arc::clone(&self.outbound),
        });
        let media = Arc::new(MediaWorker {
            storage: Arc::clone(&self.storage),
            clock: self.clock.clone(),
            graph: self.graph.clone(),
            config: self.media.clone(),
        });
        vec![tokio::spawn(send.run()), tokio::spawn(media.run())]
    }

    /// Prometheus lines of the send side (append to `/metrics`).
    pub async fn metrics_text(&self) -> String {
        let depth = self
            .storage
            .read(|tx| tx.send_depth())
            .await
            .unwrap_or_default();
        self.outbound.metrics.render(depth)
    }
}
