//! The command side's background parts: the send worker and the media worker, attached to
//! a running relay's [`AppState`] (with the message-template cache's refresher) (which then serves `POST /v1/commands` sends and
//! `GET /v1/media/{id}`, and appends the send metrics to `/metrics`).

use std::sync::Arc;

use teamline_whatsapp::graph::GraphClient;
use tokio::task::JoinHandle;

use crate::app::AppState;
use crate::clock::Clock;
use crate::composer::{TEMPLATE_TTL, TemplateCache};
use crate::media::{MediaConfig, MediaWorker};
use crate::outbound::{Outbound, OutboundConfig, SendWorker};
use crate::storage::Storage;

pub struct Services {
    pub storage: Arc<dyn Storage>,
    pub clock: Clock,
    pub outbound: Arc<Outbound>,
    pub media: MediaConfig,
    pub graph: GraphClient,
    /// The approved message templates (refreshed in the background).
    pub templates: Arc<TemplateCache>,
}

/// Errors of [`attach`].
#[derive(Debug, thiserror::Error)]
#[error("the send and media workers are already attached to this relay")]
pub struct AlreadyAttached;

/// Attaches the workers to `state` and starts them (the send worker first recovers sends
/// a previous run left in flight). Abort the handles to stop them; queued work stays in
/// the database.
pub fn attach(
    state: &Arc<AppState>,
    graph: GraphClient,
    outbound: OutboundConfig,
    media: MediaConfig,
) -> Result<(Arc<Services>, Vec<JoinHandle<()>>), AlreadyAttached> {
    let services = Arc::new(Services {
        storage: Arc::clone(&state.storage),
        clock: state.clock.clone(),
        outbound: Outbound::new(outbound),
        media,
        templates: TemplateCache::new(graph.clone(), TEMPLATE_TTL),
        graph,
    });
    state
        .commands
        .set(Arc::clone(&services))
        .map_err(|_| AlreadyAttached)?;
    let send = Arc::new(SendWorker {
        storage: Arc::clone(&services.storage),
        clock: services.clock.clone(),
        graph: services.graph.clone(),
        outbound: Arc::clone(&services.outbound),
    });
    let fetch = Arc::new(MediaWorker {
        storage: Arc::clone(&services.storage),
        clock: services.clock.clone(),
        graph: services.graph.clone(),
        config: services.media.clone(),
    });
    let handles = vec![
        tokio::spawn(send.run()),
        tokio::spawn(fetch.run()),
        tokio::spawn(Arc::clone(&services.templates).run()),
    ];
    Ok((services, handles))
}

impl Services {
    /// Prometheus lines of the send side (appended to `/metrics`).
    pub async fn metrics_text(&self) -> String {
        let depth = self
            .storage
            .read(|tx| tx.send_depth())
            .await
            .unwrap_or_default();
        self.outbound.metrics.render(depth)
    }
}
