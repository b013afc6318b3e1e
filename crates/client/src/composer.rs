//! What the composer needs beyond commands: the approved message templates (from the
//! relay's cache), media uploads (checked against WhatsApp's limits here first, so a too
//! large file fails at once), and the team's quick replies — replicated into the store by
//! `quick_reply.*` events so `/` searches them offline, and managed through the relay.

use reqwest::Method;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use teamline_store::QuickReply as StoredQuickReply;
use teamline_whatsapp::media::{self, MediaRejected};
use ts_rs::TS;
use uuid::Uuid;

use crate::client::Client;
use crate::error::{ClientError, Result};

/// An approved message template (the relay's `TemplateView`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[ts(export_to = "MessageTemplate.ts")]
pub struct MessageTemplate {
    pub name: String,
    pub language: String,
    pub category: String,
    #[serde(default)]
    pub id: Option<String>,
    #[serde(default)]
    pub header: Option<String>,
    #[serde(default)]
    pub header_format: Option<String>,
    pub body: String,
    #[serde(default)]
    pub footer: Option<String>,
    #[serde(default)]
    pub header_params: Vec<String>,
    #[serde(default)]
    pub body_params: Vec<String>,
    #[serde(default)]
    pub examples: Vec<String>,
    /// Only text headers and buttons without variables can be sent from the composer.
    pub sendable: bool,
}

/// The relay's template list.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[ts(export_to = "MessageTemplates.ts")]
pub struct MessageTemplates {
    pub templates: Vec<MessageTemplate>,
    pub fetched_at: String,
    /// The relay could not refresh the list and serves an older one.
    pub stale: bool,
}

/// A quick reply as the UI shows it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[ts(export_to = "QuickReply.ts")]
pub struct QuickReply {
    pub id: Uuid,
    /// Without the `/`.
    pub shortcut: String,
    pub title: String,
    pub text: String,
    pub language: Option<String>,
}

impl From<StoredQuickReply> for QuickReply {
    fn from(q: StoredQuickReply) -> Self {
        QuickReply {
            id: q.id,
            shortcut: q.shortcut,
            title: q.title,
            text: q.text,
            language: q.language,
        }
    }
}

/// A quick reply as the editor submits it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[ts(export_to = "QuickReplyDraft.ts")]
pub struct QuickReplyDraft {
    pub shortcut: String,
    pub title: String,
    pub text: String,
    pub language: Option<String>,
}

/// An uploaded file, ready for a `send_media` command.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[ts(export_to = "UploadedMedia.ts")]
pub struct UploadedMedia {
    pub media_id: String,
    /// `image`, `video`, `audio`, `document` or `sticker`.
    pub kind: String,
    pub mime_type: String,
    #[ts(type = "number")]
    pub size: u64,
    pub filename: String,
}

#[derive(Deserialize)]
struct RelayQuickReply {
    id: Uuid,
    shortcut: String,
    title: String,
    text: String,
    #[serde(default)]
    language: Option<String>,
}

impl From<RelayQuickReply> for QuickReply {
    fn from(q: RelayQuickReply) -> Self {
        QuickReply {
            id: q.id,
            shortcut: q.shortcut,
            title: q.title,
            text: q.text,
            language: q.language,
        }
    }
}

#[derive(Deserialize)]
struct OneQuickReply {
    quick_reply: RelayQuickReply,
}

#[derive(Deserialize)]
struct QuickReplies {
    quick_replies: Vec<RelayQuickReply>,
}

/// WhatsApp's check of a file, as the client's error (`media_too_large`, ...).
pub fn check_media(mime: &str, size: u64, head: &[u8]) -> Result<&'static str> {
    media::check(mime, size, head).map_err(|e| {
        let code = match e {
            MediaRejected::UnsupportedType { .. } => "media_type_unsupported",
            MediaRejected::TooLarge { .. } => "media_too_large",
            MediaRejected::Empty => "media_empty",
        };
        ClientError::Relay {
            status: 422,
            code: code.into(),
            message: e.to_string(),
        }
    })
}

/// Decodes `%XX` escapes (a file name sent in an ASCII-only header); invalid escapes
/// and invalid UTF-8 are kept as they came.
pub fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && i + 2 < bytes.len()
            && s.is_char_boundary(i + 1)
            && s.is_char_boundary(i + 3)
            && let Ok(b) = u8::from_str_radix(&s[i + 1..i + 3], 16)
        {
            out.push(b);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).unwrap_or_else(|_| s.to_owned())
}

impl Client {
    /// The approved templates (the relay's cached list; `refresh` asks it to fetch anew).
    pub async fn message_templates(&self, refresh: bool) -> Result<MessageTemplates> {
        let path = if refresh {
            "/v1/message-templates?refresh=true"
        } else {
            "/v1/message-templates"
        };
        self.team_call(Method::GET, path, None, None).await
    }

    /// The quick replies in the local store (works offline).
    pub async fn quick_replies(&self) -> Result<Vec<QuickReply>> {
        let all = self.read(|s| s.quick_replies()).await?;
        Ok(all.into_iter().map(QuickReply::from).collect())
    }

    /// Fetches the full list from the relay into the store (a device linked after the
    /// events left the relay's retention still gets every quick reply). The store keeps
    /// its seq guard: rows are written at the current cursor.
    pub async fn refresh_quick_replies(&self) -> Result<Vec<QuickReply>> {
        let list: QuickReplies = self
            .team_call(Method::GET, "/v1/quick-replies", None, None)
            .await?;
        let rows: Vec<QuickReply> = list.quick_replies.into_iter().map(Into::into).collect();
        let stored = rows.clone();
        self.with_store_mut(move |s| {
            let seq = s.cursor()?;
            let all: Vec<StoredQuickReply> = stored
                .into_iter()
                .map(|q| StoredQuickReply {
                    id: q.id,
                    shortcut: q.shortcut,
                    title: q.title,
                    text: q.text,
                    language: q.language,
                    seq,
                })
                .collect();
            s.write(|b| b.replace_quick_replies(&all))?;
            Ok(())
        })
        .await?;
        Ok(rows)
    }

    pub async fn create_quick_reply(&self, draft: &QuickReplyDraft) -> Result<QuickReply> {
        let one: OneQuickReply = self
            .team_call(Method::POST, "/v1/quick-replies", Some(json!(draft)), None)
            .await?;
        Ok(one.quick_reply.into())
    }

    pub async fn update_quick_reply(
        &self,
        id: Uuid,
        draft: &QuickReplyDraft,
    ) -> Result<QuickReply> {
        let one: OneQuickReply = self
            .team_call(
                Method::PATCH,
                &format!("/v1/quick-replies/{id}"),
                Some(json!(draft)),
                None,
            )
            .await?;
        Ok(one.quick_reply.into())
    }

    pub async fn delete_quick_reply(&self, id: Uuid) -> Result<()> {
        let _: Value = self
            .team_call(
                Method::DELETE,
                &format!("/v1/quick-replies/{id}"),
                None,
                None,
            )
            .await?;
        Ok(())
    }

    /// Uploads a file through the relay after WhatsApp's type and size checks.
    pub async fn upload_media(
        &self,
        bytes: Vec<u8>,
        mime_type: &str,
        filename: &str,
    ) -> Result<UploadedMedia> {
        check_media(mime_type, bytes.len() as u64, &bytes[..bytes.len().min(32)])?;
        let api = self.inner_api()?;
        let v = api
            .upload(
                &format!("/v1/media?filename={}", crate::api::urlencode(filename)),
                mime_type,
                bytes,
            )
            .await?;
        serde_json::from_value(v).map_err(|e| {
            ClientError::Network(format!("the relay answered in an unexpected shape: {e}"))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_names_survive_the_header_encoding() {
        assert_eq!(percent_decode("%E5%8F%91%E7%A5%A8%20A.pdf"), "发票 A.pdf");
        assert_eq!(percent_decode("100%.pdf"), "100%.pdf");
        assert_eq!(percent_decode("plain.txt"), "plain.txt");
    }

    #[test]
    fn media_checks_name_the_limit() {
        let e = check_media("image/png", 6 * 1024 * 1024, &[]).unwrap_err();
        assert!(matches!(e, ClientError::Relay { ref code, .. } if code == "media_too_large"));
        assert_eq!(
            check_media("application/pdf", 10, b"%PDF").unwrap(),
            "document"
        );
    }
}
