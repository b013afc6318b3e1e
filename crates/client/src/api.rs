//! The relay's HTTP API as the client uses it. Every answer that is not a success is
//! turned into [`ApiError`], which says what the caller should do (retry, resync, wipe).

use std::time::Duration;

use reqwest::StatusCode;
use reqwest::header::{ACCEPT, AUTHORIZATION, HeaderValue};
use serde::de::DeserializeOwned;
use serde_json::Value;
use uuid::Uuid;

use crate::profile::DeviceToken;
use crate::wire::{self, ErrorBody};

/// A request that failed, classified.
#[derive(Debug, Clone, thiserror::Error)]
pub enum ApiError {
    /// `401 device_unlinked`: the token was revoked; wipe.
    #[error("the device was unlinked")]
    Unlinked,
    /// `410 resync_required`: the cursor is older than the relay's retention.
    #[error("the relay asks for a full resync")]
    ResyncRequired,
    /// The relay answered with an error status and body.
    #[error("HTTP {status}: {code}: {message}")]
    Status {
        status: u16,
        code: String,
        message: String,
        body: Option<Box<ErrorBody>>,
    },
    /// Could not connect at all (no network, relay down, DNS).
    #[error("cannot reach the relay: {0}")]
    Connect(String),
    /// Connected, but the exchange failed (reset, timeout, unreadable body).
    #[error("transport error: {0}")]
    Transport(String),
}

impl ApiError {
    /// Whether trying again later may succeed (network trouble, 429, 5xx).
    pub fn is_retryable(&self) -> bool {
        match self {
            ApiError::Connect(_) | ApiError::Transport(_) => true,
            ApiError::Status { status, .. } => {
                *status == 429 || *status >= 500 || *status == 408 || *status == 401
            }
            ApiError::Unlinked | ApiError::ResyncRequired => false,
        }
    }

    pub(crate) fn from_reqwest(e: reqwest::Error) -> ApiError {
        let e = e.without_url();
        if e.is_connect() {
            ApiError::Connect(e.to_string())
        } else {
            ApiError::Transport(e.to_string())
        }
    }
}

impl From<ApiError> for crate::error::ClientError {
    fn from(e: ApiError) -> Self {
        use crate::error::ClientError;
        match e {
            ApiError::Unlinked => ClientError::Unlinked,
            ApiError::Status {
                status,
                code,
                message,
                ..
            } => ClientError::Relay {
                status,
                code,
                message,
            },
            ApiError::ResyncRequired => ClientError::Relay {
                status: 410,
                code: wire::code::RESYNC_REQUIRED.into(),
                message: "the relay asks for a full resync".into(),
            },
            other => ClientError::Network(other.to_string()),
        }
    }
}

/// How long ordinary requests may take (streams and long-polls set their own).
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// A shared HTTP client: connection pooling, connect timeout, TCP keep-alive.
pub fn http_client() -> reqwest::Client {
    reqwest::Client::builder()
        .connect_timeout(Duration::from_secs(10))
        .tcp_keepalive(Duration::from_secs(30))
        .user_agent(concat!("teamline-client/", env!("CARGO_PKG_VERSION")))
        .build()
        .unwrap_or_else(|_| reqwest::Client::new())
}

/// The relay as one device sees it.
#[derive(Clone)]
pub struct RelayApi {
    http: reqwest::Client,
    base: String,
    bearer: HeaderValue,
}

impl std::fmt::Debug for RelayApi {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RelayApi")
            .field("base", &self.base)
            .finish()
    }
}

/// Turns a non-success response into an [`ApiError`].
async fn error_of(resp: reqwest::Response) -> ApiError {
    let status = resp.status();
    let body: Option<ErrorBody> = resp.json().await.ok();
    classify(status, body)
}

fn classify(status: StatusCode, body: Option<ErrorBody>) -> ApiError {
    let code = body.as_ref().map(|b| b.code.as_str()).unwrap_or("");
    if status == StatusCode::UNAUTHORIZED && code == wire::code::DEVICE_UNLINKED {
        return ApiError::Unlinked;
    }
    if status == StatusCode::GONE {
        return ApiError::ResyncRequired;
    }
    ApiError::Status {
        status: status.as_u16(),
        code: if code.is_empty() {
            format!("http_{}", status.as_u16())
        } else {
            code.to_owned()
        },
        message: body.as_ref().map(|b| b.message.clone()).unwrap_or_default(),
        body: body.map(Box::new),
    }
}

/// `POST /v1/pairing/claim` (no token yet).
pub async fn claim(
    http: &reqwest::Client,
    base: &str,
    req: &wire::ClaimRequest<'_>,
) -> Result<wire::ClaimResponse, ApiError> {
    let resp = http
        .post(format!("{}/v1/pairing/claim", base.trim_end_matches('/')))
        .json(req)
        .timeout(REQUEST_TIMEOUT)
        .send()
        .await
        .map_err(ApiError::from_reqwest)?;
    if !resp.status().is_success() {
        return Err(error_of(resp).await);
    }
    resp.json().await.map_err(ApiError::from_reqwest)
}

impl RelayApi {
    pub fn new(http: reqwest::Client, base: &str, token: &DeviceToken) -> RelayApi {
        let mut bearer = HeaderValue::from_str(&format!("Bearer {}", token.0))
            .unwrap_or_else(|_| HeaderValue::from_static("Bearer invalid"));
        bearer.set_sensitive(true);
        RelayApi {
            http,
            base: base.trim_end_matches('/').to_owned(),
            bearer,
        }
    }

    fn get(&self, path: &str) -> reqwest::RequestBuilder {
        self.http
            .get(format!("{}{path}", self.base))
            .header(AUTHORIZATION, self.bearer.clone())
    }

    async fn json<T: DeserializeOwned>(&self, req: reqwest::RequestBuilder) -> Result<T, ApiError> {
        let resp = req.send().await.map_err(ApiError::from_reqwest)?;
        if !resp.status().is_success() {
            return Err(error_of(resp).await);
        }
        let bytes = resp.bytes().await.map_err(ApiError::from_reqwest)?;
        serde_json::from_slice(&bytes)
            .map_err(|e| ApiError::Transport(format!("unreadable answer: {e}")))
    }

    pub async fn me(&self) -> Result<wire::Me, ApiError> {
        self.json(self.get("/v1/me").timeout(REQUEST_TIMEOUT)).await
    }

    /// `GET /v1/events?after=&wait=&limit=`.
    pub async fn events(&self, after: u64, wait_secs: u64) -> Result<wire::EventsPage, ApiError> {
        self.json(
            self.get(&format!("/v1/events?after={after}&wait={wait_secs}"))
                .timeout(Duration::from_secs(wait_secs + 20)),
        )
        .await
    }

    /// `GET /v1/events?after=&wait=0&limit=`: one page of the log without waiting (a
    /// catch-up reads pages back to back; see `sync::catch_up`).
    pub async fn events_page(
        &self,
        after: u64,
        limit: usize,
    ) -> Result<wire::EventsPage, ApiError> {
        self.json(
            self.get(&format!("/v1/events?after={after}&wait=0&limit={limit}"))
                .timeout(REQUEST_TIMEOUT),
        )
        .await
    }

    /// Opens `GET /v1/stream` from `after` (also sent as `Last-Event-ID`). The response's
    /// body is the stream; a non-stream answer is an error.
    pub async fn open_stream(&self, after: u64) -> Result<reqwest::Response, ApiError> {
        let resp = self
            .get(&format!("/v1/stream?after={after}"))
            .header(ACCEPT, "text/event-stream")
            .header("Last-Event-ID", after.to_string())
            .send()
            .await
            .map_err(ApiError::from_reqwest)?;
        if !resp.status().is_success() {
            return Err(error_of(resp).await);
        }
        let is_stream = resp
            .headers()
            .get(reqwest::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("text/event-stream"));
        if !is_stream {
            return Err(ApiError::Transport(
                "the stream answered without text/event-stream (a proxy in the way?)".into(),
            ));
        }
        Ok(resp)
    }

    /// `GET /v1/conversations?before=&limit=`.
    pub async fn conversations(
        &self,
        before: Option<jiff::Timestamp>,
        limit: u32,
    ) -> Result<wire::ConversationsPage, ApiError> {
        let mut path = format!("/v1/conversations?limit={limit}");
        if let Some(b) = before {
            path.push_str(&format!("&before={}", urlencode(&b.to_string())));
        }
        self.json(self.get(&path).timeout(REQUEST_TIMEOUT)).await
    }

    pub async fn conversation(&self, id: Uuid) -> Result<wire::ConversationRow, ApiError> {
        let one: wire::ConversationOne = self
            .json(
                self.get(&format!("/v1/conversations/{id}"))
                    .timeout(REQUEST_TIMEOUT),
            )
            .await?;
        Ok(one.conversation)
    }

    /// `GET /v1/conversations/{id}/messages?before=&limit=` (newest first).
    pub async fn messages(
        &self,
        id: Uuid,
        before: Option<Uuid>,
        limit: u32,
    ) -> Result<wire::MessagesPage, ApiError> {
        let mut path = format!("/v1/conversations/{id}/messages?limit={limit}");
        if let Some(b) = before {
            path.push_str(&format!("&before={b}"));
        }
        self.json(self.get(&path).timeout(REQUEST_TIMEOUT)).await
    }

    /// `POST /v1/commands` with the idempotency key `id`.
    pub async fn command(
        &self,
        id: Uuid,
        command: &Value,
    ) -> Result<wire::CommandResponse, ApiError> {
        self.json(
            self.http
                .post(format!("{}/v1/commands", self.base))
                .header(AUTHORIZATION, self.bearer.clone())
                .json(&wire::CommandRequest { id, command })
                .timeout(REQUEST_TIMEOUT),
        )
        .await
    }
}

impl RelayApi {
    /// A JSON request to any `/v1` route (the team routes), with the member's PIN in
    /// `x-teamline-pin` when the route asks for re-verification.
    pub async fn request(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<&Value>,
        pin: Option<&str>,
    ) -> Result<Value, ApiError> {
        let mut req = self
            .http
            .request(method, format!("{}{path}", self.base))
            .header(AUTHORIZATION, self.bearer.clone())
            .timeout(REQUEST_TIMEOUT);
        if let Some(pin) = pin {
            let mut v = HeaderValue::from_str(pin)
                .map_err(|_| ApiError::Transport("the PIN must be digits".into()))?;
            v.set_sensitive(true);
            req = req.header(PIN_HEADER, v);
        }
        if let Some(body) = body {
            req = req.json(body);
        }
        self.json(req).await
    }

    /// A GET whose answer is a file (an export): its content type and text.
    pub async fn download(
        &self,
        path: &str,
        pin: Option<&str>,
    ) -> Result<(String, String), ApiError> {
        let mut req = self.get(path).timeout(REQUEST_TIMEOUT);
        if let Some(pin) = pin {
            let mut v = HeaderValue::from_str(pin)
                .map_err(|_| ApiError::Transport("the PIN must be digits".into()))?;
            v.set_sensitive(true);
            req = req.header(PIN_HEADER, v);
        }
        let resp = req.send().await.map_err(ApiError::from_reqwest)?;
        if !resp.status().is_success() {
            return Err(error_of(resp).await);
        }
        let content_type = resp
            .headers()
            .get(reqwest::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned();
        let text = resp.text().await.map_err(ApiError::from_reqwest)?;
        Ok((content_type, text))
    }
}

impl RelayApi {
    /// `POST` a raw body (a file) with its content type; a JSON answer. Large files get
    /// a long timeout (100 MB over a slow uplink).
    pub async fn upload(
        &self,
        path: &str,
        content_type: &str,
        body: Vec<u8>,
    ) -> Result<Value, ApiError> {
        let secs = 60 + (body.len() as u64 / (256 * 1024));
        let req = self
            .http
            .post(format!("{}{path}", self.base))
            .header(AUTHORIZATION, self.bearer.clone())
            .header(reqwest::header::CONTENT_TYPE, content_type)
            .body(body)
            .timeout(Duration::from_secs(secs));
        self.json(req).await
    }

    /// `GET /v1/media/{id}`: a message's media bytes and content type.
    pub async fn media(&self, media_id: &str) -> Result<(String, Vec<u8>), ApiError> {
        let resp = self
            .get(&format!("/v1/media/{}", urlencode(media_id)))
            .timeout(MEDIA_TIMEOUT)
            .send()
            .await
            .map_err(ApiError::from_reqwest)?;
        if !resp.status().is_success() {
            return Err(error_of(resp).await);
        }
        let mime = resp
            .headers()
            .get(reqwest::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("application/octet-stream")
            .to_owned();
        let bytes = resp.bytes().await.map_err(ApiError::from_reqwest)?;
        Ok((mime, bytes.to_vec()))
    }
}

/// A 100 MB document over a slow link takes longer than an ordinary request.
const MEDIA_TIMEOUT: Duration = Duration::from_secs(600);

/// The relay reads a PIN re-verification from this header.
const PIN_HEADER: &str = "x-teamline-pin";

/// Percent-encodes what a timestamp may contain (`+`, `:`).
pub(crate) fn urlencode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(b as char)
            }
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn body(code: &str) -> Option<ErrorBody> {
        Some(ErrorBody {
            code: code.into(),
            message: "m".into(),
            extra: Default::default(),
        })
    }

    #[test]
    fn errors_are_classified_by_status_and_code() {
        assert!(matches!(
            classify(StatusCode::UNAUTHORIZED, body("device_unlinked")),
            ApiError::Unlinked
        ));
        let unauthorized = classify(StatusCode::UNAUTHORIZED, body("unauthorized"));
        assert!(matches!(unauthorized, ApiError::Status { status: 401, .. }));
        assert!(matches!(
            classify(StatusCode::GONE, body("resync_required")),
            ApiError::ResyncRequired
        ));
        assert!(classify(StatusCode::TOO_MANY_REQUESTS, None).is_retryable());
        assert!(classify(StatusCode::BAD_GATEWAY, None).is_retryable());
        assert!(!classify(StatusCode::FORBIDDEN, body("permission_denied")).is_retryable());
        assert!(!classify(StatusCode::CONFLICT, body("assigned_to_other")).is_retryable());
        assert_eq!(
            urlencode("2025-01-01T00:00:00+00:00"),
            "2025-01-01T00%3A00%3A00%2B00%3A00"
        );
    }
}
