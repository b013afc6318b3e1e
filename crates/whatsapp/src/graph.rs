//! The Graph API client: sends messages, read receipts and typing indicators, moves media
//! up and down, and reads the phone number's details (to check credentials).
//!
//! The base URL is configurable so tests and the demo point it at `whatsapp-sim`. The access
//! token is only ever put in the `Authorization` header; `Debug` redacts it.

use std::fmt;
use std::time::Duration;

use reqwest::header::{AUTHORIZATION, HeaderValue};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::error::{ApiError, GraphError};
use crate::lenient;
use crate::outgoing::{MESSAGING_PRODUCT, OutgoingMessage, ReadReceipt};
use crate::templates::{MessageTemplate, TemplatePage};

/// Meta's Graph API host.
pub const DEFAULT_BASE_URL: &str = "https://graph.facebook.com";
/// The newest Graph API version (released 29 July 2026).
pub const DEFAULT_API_VERSION: &str = "v26.0";
/// Meta keeps requests open for a long time under load; past this we retry instead.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);

/// What the client needs to talk to one business phone number.
#[derive(Clone)]
pub struct GraphConfig {
    pub base_url: String,
    pub api_version: String,
    pub access_token: String,
    pub phone_number_id: String,
    /// The WhatsApp Business Account (WABA) id: templates are listed per account.
    pub business_account_id: Option<String>,
    pub timeout: Duration,
}

impl GraphConfig {
    pub fn new(access_token: impl Into<String>, phone_number_id: impl Into<String>) -> Self {
        GraphConfig {
            base_url: DEFAULT_BASE_URL.to_owned(),
            api_version: DEFAULT_API_VERSION.to_owned(),
            access_token: access_token.into(),
            phone_number_id: phone_number_id.into(),
            business_account_id: None,
            timeout: DEFAULT_TIMEOUT,
        }
    }

    pub fn with_business_account_id(mut self, waba_id: impl Into<String>) -> Self {
        self.business_account_id = Some(waba_id.into());
        self
    }

    pub fn with_base_url(mut self, base_url: impl Into<String>) -> Self {
        self.base_url = base_url.into();
        self
    }

    pub fn with_api_version(mut self, api_version: impl Into<String>) -> Self {
        self.api_version = api_version.into();
        self
    }

    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }
}

impl fmt::Debug for GraphConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("GraphConfig")
            .field("base_url", &self.base_url)
            .field("api_version", &self.api_version)
            .field("access_token", &"<redacted>")
            .field("phone_number_id", &self.phone_number_id)
            .field("business_account_id", &self.business_account_id)
            .field("timeout", &self.timeout)
            .finish()
    }
}

/// A client for one business phone number. Cheap to clone (shares the connection pool).
#[derive(Clone)]
pub struct GraphClient {
    http: reqwest::Client,
    /// `{base_url}/{api_version}`, without a trailing slash.
    root: String,
    auth: HeaderValue,
    phone_number_id: String,
    business_account_id: Option<String>,
}

impl fmt::Debug for GraphClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("GraphClient")
            .field("root", &self.root)
            .field("access_token", &"<redacted>")
            .field("phone_number_id", &self.phone_number_id)
            .finish()
    }
}

/// `POST /{phone-number-id}/messages` success body.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SendResponse {
    pub messaging_product: String,
    #[serde(default)]
    pub contacts: Vec<SentContact>,
    #[serde(default)]
    pub messages: Vec<SentMessage>,
}

impl SendResponse {
    /// The `wamid` of the sent message.
    pub fn message_id(&self) -> Option<&str> {
        self.messages.first().map(|m| m.id.as_str())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SentContact {
    /// The `to` as given in the request.
    pub input: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub wa_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_id: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SentMessage {
    pub id: String,
    /// `accepted`, `held_for_quality_assessment` or `paused` (templates).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message_status: Option<String>,
}

/// `{"success": true}` — read receipts, typing indicators, deletes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct SuccessResponse {
    pub success: bool,
}

/// `POST /{phone-number-id}/media` success body.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MediaUploaded {
    pub id: String,
}

/// `GET /{media-id}`: where to download the media (URL valid for 5 minutes).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MediaInfo {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub messaging_product: Option<String>,
    pub url: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mime_type: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sha256: Option<String>,
    #[serde(
        default,
        deserialize_with = "lenient::opt_u64",
        skip_serializing_if = "Option::is_none"
    )]
    pub file_size: Option<u64>,
    pub id: String,
}

/// `GET /{phone-number-id}`: the number's details, used to validate credentials.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PhoneNumberInfo {
    pub id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub display_phone_number: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub verified_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub quality_rating: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code_verification_status: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub platform_type: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name_status: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub throughput: Option<Throughput>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Throughput {
    pub level: String,
}

impl GraphClient {
    /// Builds a client with its own connection pool (rustls).
    pub fn new(config: GraphConfig) -> Result<Self, GraphError> {
        let http = reqwest::Client::builder()
            .timeout(config.timeout)
            .connect_timeout(Duration::from_secs(10))
            .user_agent(concat!("teamline/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| GraphError::Config(e.without_url().to_string()))?;
        Self::with_http_client(config, http)
    }

    /// Uses a caller's `reqwest::Client` (shared pool, custom TLS roots in tests).
    pub fn with_http_client(
        config: GraphConfig,
        http: reqwest::Client,
    ) -> Result<Self, GraphError> {
        let base = config.base_url.trim_end_matches('/');
        let version = config.api_version.trim_matches('/');
        if !(base.starts_with("http://") || base.starts_with("https://")) {
            return Err(GraphError::Config(
                "base URL must start with http:// or https://".to_owned(),
            ));
        }
        if version.is_empty() || config.phone_number_id.trim().is_empty() {
            return Err(GraphError::Config(
                "API version and phone number id must not be empty".to_owned(),
            ));
        }
        let mut auth = HeaderValue::from_str(&format!("Bearer {}", config.access_token))
            .map_err(|_| GraphError::Config("access token has invalid characters".to_owned()))?;
        auth.set_sensitive(true);
        Ok(GraphClient {
            http,
            root: format!("{base}/{version}"),
            auth,
            phone_number_id: config.phone_number_id,
            business_account_id: config.business_account_id.filter(|w| !w.trim().is_empty()),
        })
    }

    pub fn phone_number_id(&self) -> &str {
        &self.phone_number_id
    }

    pub fn business_account_id(&self) -> Option<&str> {
        self.business_account_id.as_deref()
    }

    /// One page of `GET /{WABA-ID}/message_templates` (every status), `after` a cursor.
    pub async fn message_templates_page(
        &self,
        after: Option<&str>,
        limit: u32,
    ) -> Result<TemplatePage, GraphError> {
        let Some(waba) = self.business_account_id.as_deref() else {
            return Err(GraphError::Config(
                "the WhatsApp Business Account id is not configured".to_owned(),
            ));
        };
        let mut url = reqwest::Url::parse(&self.url(&format!("{waba}/message_templates")))
            .map_err(|_| GraphError::Config("account id does not form a valid URL".to_owned()))?;
        {
            let mut q = url.query_pairs_mut();
            q.append_pair(
                "fields",
                "name,language,status,category,id,parameter_format,components",
            );
            q.append_pair("limit", &limit.to_string());
            if let Some(after) = after {
                q.append_pair("after", after);
            }
        }
        self.execute(self.http.get(url)).await
    }

    /// Every template of the account, following the paging cursors (at most 50 pages).
    pub async fn message_templates(&self) -> Result<Vec<MessageTemplate>, GraphError> {
        let mut all = Vec::new();
        let mut after: Option<String> = None;
        for _ in 0..50 {
            let page = self.message_templates_page(after.as_deref(), 100).await?;
            let count = page.data.len();
            all.extend(page.data);
            let next = page.paging.and_then(|p| {
                p.next?;
                p.cursors?.after
            });
            match next {
                Some(cursor) if count > 0 => after = Some(cursor),
                _ => break,
            }
        }
        Ok(all)
    }

    fn url(&self, path: &str) -> String {
        format!("{}/{}", self.root, path)
    }

    /// Sends any message. Check the result's class on error to decide on a retry.
    pub async fn send(&self, message: &OutgoingMessage) -> Result<SendResponse, GraphError> {
        let url = self.url(&format!("{}/messages", self.phone_number_id));
        let req = self.http.post(url).json(message);
        self.execute(req).await
    }

    /// Marks a received message read (blue ticks for the customer).
    pub async fn mark_as_read(&self, message_id: &str) -> Result<(), GraphError> {
        self.post_receipt(&ReadReceipt::read(message_id)).await
    }

    /// Marks a received message read and shows "typing…" to the customer until the reply
    /// is sent or 25 seconds pass.
    pub async fn send_typing_indicator(&self, message_id: &str) -> Result<(), GraphError> {
        self.post_receipt(&ReadReceipt::typing(message_id)).await
    }

    async fn post_receipt(&self, receipt: &ReadReceipt) -> Result<(), GraphError> {
        let url = self.url(&format!("{}/messages", self.phone_number_id));
        let resp: SuccessResponse = self.execute(self.http.post(url).json(receipt)).await?;
        if resp.success {
            Ok(())
        } else {
            Err(GraphError::UnexpectedResponse {
                status: 200,
                reason: "success was false".to_owned(),
            })
        }
    }

    /// Uploads a file for sending; returns its media id.
    pub async fn upload_media(
        &self,
        bytes: Vec<u8>,
        mime_type: &str,
        file_name: &str,
    ) -> Result<MediaUploaded, GraphError> {
        let part = reqwest::multipart::Part::bytes(bytes)
            .file_name(file_name.to_owned())
            .mime_str(mime_type)
            .map_err(|_| GraphError::Config(format!("invalid MIME type {mime_type:?}")))?;
        let form = reqwest::multipart::Form::new()
            .text("messaging_product", MESSAGING_PRODUCT)
            .text("type", mime_type.to_owned())
            .part("file", part);
        let url = self.url(&format!("{}/media", self.phone_number_id));
        self.execute(self.http.post(url).multipart(form)).await
    }

    /// Looks up a media id (from a webhook or an upload): its download URL, type and size.
    pub async fn media_info(&self, media_id: &str) -> Result<MediaInfo, GraphError> {
        let mut url = reqwest::Url::parse(&self.url(media_id))
            .map_err(|_| GraphError::Config("media id does not form a valid URL".to_owned()))?;
        url.query_pairs_mut()
            .append_pair("phone_number_id", &self.phone_number_id);
        self.execute(self.http.get(url)).await
    }

    /// Downloads media from a URL given by [`GraphClient::media_info`]. Meta requires the
    /// bearer token here too, so only use URLs that came from Meta (or the emulator).
    pub async fn download_media(&self, url: &str) -> Result<Vec<u8>, GraphError> {
        let resp = self
            .http
            .get(url)
            .header(AUTHORIZATION, self.auth.clone())
            .send()
            .await
            .map_err(GraphError::transport)?;
        let status = resp.status();
        let body = resp.bytes().await.map_err(GraphError::transport)?;
        if status.is_success() {
            Ok(body.to_vec())
        } else {
            Err(error_from_response(status.as_u16(), &body))
        }
    }

    /// Reads the phone number's details; a cheap way to check the token and number id.
    pub async fn phone_number(&self) -> Result<PhoneNumberInfo, GraphError> {
        let url = self.url(&self.phone_number_id);
        self.execute(self.http.get(url)).await
    }

    async fn execute<T: DeserializeOwned>(
        &self,
        req: reqwest::RequestBuilder,
    ) -> Result<T, GraphError> {
        let resp = req
            .header(AUTHORIZATION, self.auth.clone())
            .send()
            .await
            .map_err(GraphError::transport)?;
        let status = resp.status().as_u16();
        let body = resp.bytes().await.map_err(GraphError::transport)?;
        if (200..300).contains(&status) {
            serde_json::from_slice(&body).map_err(|e| GraphError::UnexpectedResponse {
                status,
                reason: format!(
                    "body does not match the documented shape (line {} column {})",
                    e.line(),
                    e.column()
                ),
            })
        } else {
            let err = error_from_response(status, &body);
            tracing::debug!(status, code = ?err.code(), "Graph API call failed");
            Err(err)
        }
    }
}

fn error_from_response(status: u16, body: &[u8]) -> GraphError {
    match ApiError::from_body(Some(status), body) {
        Some(e) => GraphError::from(e),
        None => GraphError::Http { status },
    }
}
