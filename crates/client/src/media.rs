//! A message's media bytes: from the encrypted media cache in the store, or fetched from
//! the relay (`GET /v1/media/{id}`, device token) and cached there, so images seen once
//! show offline. Nothing is ever written to disk outside the SQLCipher store.

use uuid::Uuid;

use crate::api::ApiError;
use crate::client::Client;
use crate::content;
use crate::error::{ClientError, Result};
use crate::views::MediaBytes;

/// The media cache's default cap: 200 MB.
pub const DEFAULT_MEDIA_CACHE_BYTES: u64 = 200 * 1024 * 1024;

/// The relay's answers for media, as stable client codes: still downloading
/// (`409 media_not_ready`) and not there for this device (`404`: unknown id and an
/// invisible conversation look the same, on purpose).
fn media_error(e: ApiError) -> ClientError {
    match e {
        ApiError::Status { status: 409, .. } => ClientError::MediaNotReady,
        ApiError::Status { status: 404, .. } => ClientError::MediaUnavailable,
        other => other.into(),
    }
}

impl Client {
    /// The media of message `message_id`: from the cache when this device has it (works
    /// offline), else from the relay, then cached (least recently used entries make room).
    /// Errors: `no_media` (not an attachment, or sent by link), `media_not_ready` (the
    /// relay is still downloading; retry after `message.media_ready`), `media_unavailable`,
    /// `network`, `device_unlinked`.
    pub async fn media(&self, message_id: Uuid) -> Result<MediaBytes> {
        let row = self
            .read(move |s| s.timeline_row(message_id))
            .await?
            .ok_or(ClientError::NoMedia)?;
        let stored = content::stored(
            row.content.as_ref(),
            &row.message.kind,
            row.message.text.as_deref(),
        );
        let media_id = stored
            .content
            .media()
            .and_then(|m| m.id.clone())
            .ok_or(ClientError::NoMedia)?;
        let file_name = file_name(
            stored.content.media().and_then(|m| m.filename.as_deref()),
            &row.message.kind,
            stored.content.media().and_then(|m| m.mime_type.as_deref()),
        );
        let id = media_id.clone();
        let cached = self
            .with_store_mut(move |s| Ok(s.media_cache_get(&id)?))
            .await?;
        if let Some(blob) = cached {
            return Ok(MediaBytes {
                mime: blob.mime,
                bytes: blob.bytes,
                file_name,
            });
        }
        let api = self.inner_api()?;
        let (mime, bytes) = api.media(&media_id).await.map_err(media_error)?;
        let cap = self.media_cache_cap();
        let keep = mime.clone();
        let bytes = self
            .with_store_mut(move |s| {
                s.media_cache_put(&media_id, &keep, &bytes, cap)?;
                Ok(bytes)
            })
            .await?;
        Ok(MediaBytes {
            mime,
            bytes,
            file_name,
        })
    }
}

/// The name a saved media file gets: the sender's file name when there is one, else
/// `whatsapp-<kind>.<extension of its type>`.
fn file_name(filename: Option<&str>, kind: &str, mime: Option<&str>) -> String {
    if let Some(name) = filename.map(str::trim).filter(|n| !n.is_empty()) {
        return name.to_owned();
    }
    let base = mime
        .unwrap_or_default()
        .split(';')
        .next()
        .unwrap_or_default()
        .trim();
    let ext = match base {
        "image/jpeg" => "jpg",
        "image/png" => "png",
        "image/webp" => "webp",
        "video/mp4" => "mp4",
        "video/3gpp" => "3gp",
        "audio/ogg" => "ogg",
        "audio/mpeg" => "mp3",
        "audio/mp4" => "m4a",
        "audio/aac" => "aac",
        "audio/amr" => "amr",
        "application/pdf" => "pdf",
        "text/plain" => "txt",
        _ => "bin",
    };
    format!("whatsapp-{kind}.{ext}")
}

#[cfg(test)]
mod tests {
    use super::file_name;

    #[test]
    fn saved_files_get_the_senders_name_or_one_from_the_type() {
        assert_eq!(
            file_name(
                Some("invoice 1042.pdf"),
                "document",
                Some("application/pdf")
            ),
            "invoice 1042.pdf"
        );
        assert_eq!(
            file_name(None, "image", Some("image/jpeg")),
            "whatsapp-image.jpg"
        );
        assert_eq!(
            file_name(Some("  "), "audio", Some("audio/ogg; codecs=opus")),
            "whatsapp-audio.ogg"
        );
        assert_eq!(file_name(None, "video", None), "whatsapp-video.bin");
    }
}
