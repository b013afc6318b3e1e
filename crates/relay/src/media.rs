//! Inbound media: queued in the webhook's own transaction, fetched by a worker (Graph
//! `GET /{media-id}` → URL → bearer download) with backoff until stored — never dropped,
//! and the queue is a table, so it survives restarts — then kept in the media directory
//! under its sha256 (size-checked, written to a temp file and renamed) and served to
//! devices that may see the conversation at `GET /v1/media/{id}`.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use axum::Extension;
use axum::body::Body;
use axum::extract::{Path as UrlPath, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use jiff::{SignedDuration, Timestamp};
use serde_json::json;
use sha2::{Digest, Sha256};
use teamline_core::access::{ConversationAccess, can_view};
use teamline_whatsapp::graph::GraphClient;
use teamline_whatsapp::webhook::Message;
use tokio::io::AsyncWriteExt;
use uuid::Uuid;

use crate::app::{AppState, Principal};
use crate::clock::Clock;
use crate::command_error::CommandError;
use crate::commands::command_kind;
use crate::storage::work::{MediaFetchRow, MediaRow};
use crate::storage::{Audience, MessageRow, NewEvent, Storage, StorageResult, WriteTx};

#[derive(Debug, Clone)]
pub struct MediaConfig {
    /// Where files go (next to the database by default).
    pub dir: PathBuf,
    pub backoff_base: Duration,
    pub backoff_max: Duration,
    /// Largest file accepted (Meta's largest, documents, is 100 MB).
    pub max_bytes: u64,
}

impl MediaConfig {
    /// `<database folder>/media`.
    pub fn next_to(database: &Path) -> Self {
        let dir = database
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or(Path::new("."))
            .join("media");
        MediaConfig {
            dir,
            backoff_base: Duration::from_secs(2),
            backoff_max: Duration::from_secs(600),
            max_bytes: 100 * 1024 * 1024,
        }
    }
}

/// Hook for webhook ingest, in the same transaction as the message: remember to fetch its
/// media. Returns whether a fetch was queued.
pub fn enqueue_inbound(
    tx: &mut dyn WriteTx,
    row: &MessageRow,
    msg: &Message,
    now: Timestamp,
) -> StorageResult<bool> {
    let Some(media) = msg.kind.media() else {
        return Ok(false);
    };
    tx.insert_media_fetch(&MediaFetchRow {
        media_id: media.id.clone(),
        message_id: row.id,
        conversation_id: row.conversation_id,
        mime_type: media.mime_type.clone(),
        attempts: 0,
        next_attempt_at: now,
        last_error: None,
        created_at: now,
    })
}

pub struct MediaWorker {
    pub storage: Arc<dyn Storage>,
    pub clock: Clock,
    pub graph: GraphClient,
    pub config: MediaConfig,
}

fn wait_ms(d: Duration) -> SignedDuration {
    SignedDuration::try_from(d).unwrap_or(SignedDuration::from_secs(600))
}

impl MediaWorker {
    pub async fn run(self: Arc<Self>) {
        if let Err(e) = tokio::fs::create_dir_all(&self.config.dir).await {
            tracing::error!(error = %e, dir = %self.config.dir.display(), "cannot create the media folder");
        }
        // Every commit moves the log head; a webhook with media is one of them.
        let mut head = self.storage.head();
        loop {
            let now = self.clock.now();
            let due = self
                .storage
                .read(move |tx| tx.media_fetch_due(now, 16))
                .await
                .unwrap_or_default();
            for row in &due {
                self.fetch_one(row.clone()).await;
            }
            if !due.is_empty() {
                continue;
            }
            let next = self
                .storage
                .read(|tx| tx.media_fetch_next_wake())
                .await
                .ok()
                .flatten();
            let wait = next
                .map(|t| {
                    let ms = t.as_millisecond() - self.clock.now().as_millisecond();
                    Duration::from_millis(ms.clamp(0, 60_000) as u64)
                })
                .unwrap_or(Duration::from_secs(60));
            tokio::select! {
                changed = head.changed() => {
                    if changed.is_err() {
                        return;
                    }
                }
                _ = tokio::time::sleep(wait) => {}
            }
        }
    }

    async fn download(&self, media_id: &str) -> Result<(Vec<u8>, String), String> {
        let info = self
            .graph
            .media_info(media_id)
            .await
            .map_err(|e| format!("media info: {e}"))?;
        if let Some(size) = info.file_size
            && size > self.config.max_bytes
        {
            return Err(format!("file of {size} bytes is over the limit"));
        }
        let bytes = self
            .graph
            .download_media(&info.url)
            .await
            .map_err(|e| format!("download: {e}"))?;
        if let Some(size) = info.file_size
            && size != bytes.len() as u64
        {
            return Err(format!(
                "downloaded {} bytes, Meta announced {size}",
                bytes.len()
            ));
        }
        if let Some(expected) = info.sha256.as_deref()
            && expected.len() == 64
            && expected.bytes().all(|b| b.is_ascii_hexdigit())
            && !expected.eq_ignore_ascii_case(&hex::encode(Sha256::digest(&bytes)))
        {
            return Err("downloaded bytes do not match Meta's sha256".into());
        }
        let mime = info
            .mime_type
            .unwrap_or_else(|| "application/octet-stream".into());
        Ok((bytes, mime))
    }

    async fn store_file(&self, bytes: &[u8]) -> std::io::Result<String> {
        let sha = hex::encode(Sha256::digest(bytes));
        let path = self.config.dir.join(&sha);
        if let Ok(meta) = tokio::fs::metadata(&path).await
            && meta.len() == bytes.len() as u64
        {
            return Ok(sha);
        }
        tokio::fs::create_dir_all(&self.config.dir).await?;
        let tmp = self.config.dir.join(format!(".tmp-{}", Uuid::now_v7()));
        let mut f = tokio::fs::File::create(&tmp).await?;
        f.write_all(bytes).await?;
        f.sync_all().await?;
        drop(f);
        tokio::fs::rename(&tmp, &path).await?;
        Ok(sha)
    }

    async fn fetch_one(&self, mut row: MediaFetchRow) {
        let fetched = match self.download(&row.media_id).await {
            Ok((bytes, mime)) => match self.store_file(&bytes).await {
                Ok(sha) => Ok((sha, mime, bytes.len() as u64)),
                Err(e) => Err(format!("storing the file: {e}")),
            },
            Err(e) => Err(e),
        };
        let now = self.clock.now();
        let result = match fetched {
            Ok((sha256, mime_type, size)) => {
                let media = MediaRow {
                    media_id: row.media_id.clone(),
                    message_id: row.message_id,
                    conversation_id: row.conversation_id,
                    sha256,
                    mime_type,
                    size,
                    stored_at: now,
                };
                self.storage
                    .write(move |tx| {
                        if tx.insert_media(&media)? {
                            tx.append_event(NewEvent {
                                kind: command_kind::MESSAGE_MEDIA_READY,
                                conversation_id: Some(media.conversation_id),
                                audience: Audience::Conversation,
                                also_member: None,
                                payload: json!({
                                    "message_id": media.message_id,
                                    "conversation_id": media.conversation_id,
                                    "media_id": media.media_id,
                                    "mime_type": media.mime_type,
                                    "size": media.size,
                                }),
                                created_at: now,
                            })?;
                        }
                        tx.delete_media_fetch(&media.media_id)
                    })
                    .await
            }
            Err(reason) => {
                row.attempts += 1;
                let exp = self
                    .config
                    .backoff_base
                    .saturating_mul(1u32 << row.attempts.saturating_sub(1).min(16))
                    .min(self.config.backoff_max);
                row.next_attempt_at = now.checked_add(wait_ms(exp)).unwrap_or(now);
                tracing::warn!(media_id = %row.media_id, attempt = row.attempts, error = %reason, "media fetch failed; will retry");
                row.last_error = Some(reason);
                self.storage
                    .write(move |tx| tx.update_media_fetch(&row))
                    .await
            }
        };
        if let Err(e) = result {
            tracing::error!(error = %e, "recording a media fetch failed");
        }
    }
}

/// `GET /v1/media/{id}`: the stored bytes, to devices that may see the conversation. An
/// unknown id and an invisible conversation get the same 404, so nothing leaks.
pub async fn get_media(
    State(st): State<Arc<AppState>>,
    Extension(p): Extension<Principal>,
    UrlPath(id): UrlPath<String>,
) -> Response {
    match serve(&st, &p, id).await {
        Ok(r) => r,
        Err(e) => e.into_response(),
    }
}

async fn serve(s: &AppState, p: &Principal, id: String) -> Result<Response, CommandError> {
    let Some(services) = s.commands.get() else {
        return Err(CommandError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "unavailable",
            "Media is not served by this relay instance.",
        ));
    };
    let media_id = id.clone();
    let (media, pending, access) = s
        .storage
        .read(move |tx| {
            let media = tx.media(&media_id)?;
            let pending = tx.media_fetch(&media_id)?;
            let conversation = media
                .as_ref()
                .map(|m| m.conversation_id)
                .or(pending.as_ref().map(|p| p.conversation_id));
            let access = match conversation {
                Some(c) => tx.conversation(c)?.map(|c| ConversationAccess {
                    assignee: c.assignee,
                    team: c.team_id,
                }),
                None => None,
            };
            Ok((media, pending, access))
        })
        .await
        .map_err(CommandError::storage)?;
    let not_found = || {
        CommandError::new(
            StatusCode::NOT_FOUND,
            "not_found",
            "No media with this id is visible to this device.",
        )
    };
    if !access.is_some_and(|a| can_view(&p.actor, &a)) {
        return Err(not_found());
    }
    let Some(media) = media else {
        if pending.is_some() {
            return Err(CommandError::new(
                StatusCode::CONFLICT,
                "media_not_ready",
                "The relay is still downloading this media; it announces message.media_ready when done.",
            ));
        }
        return Err(not_found());
    };
    let path = services.media.dir.join(&media.sha256);
    let file = tokio::fs::File::open(&path).await.map_err(|e| {
        tracing::error!(error = %e, media_id = %media.media_id, "stored media file is missing");
        CommandError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "unavailable",
            "The stored file cannot be read right now.",
        )
    })?;
    let stream = file_stream(file);
    Ok((
        [
            (header::CONTENT_TYPE, media.mime_type.clone()),
            (header::CONTENT_LENGTH, media.size.to_string()),
            (
                header::CACHE_CONTROL,
                "private, max-age=31536000, immutable".into(),
            ),
        ],
        Body::from_stream(stream),
    )
        .into_response())
}

/// Streams a file in 64 KiB chunks (no whole-file buffering for large videos).
fn file_stream(
    file: tokio::fs::File,
) -> impl futures_util::Stream<Item = std::io::Result<Vec<u8>>> {
    futures_util::stream::unfold(Some(file), |state| async move {
        use tokio::io::AsyncReadExt;
        let mut file = state?;
        let mut buf = vec![0u8; 64 * 1024];
        match file.read(&mut buf).await {
            Ok(0) => None,
            Ok(n) => {
                buf.truncate(n);
                Some((Ok(buf), Some(file)))
            }
            Err(e) => Some((Err(e), None)),
        }
    })
}
