//! Meta's errors: the wire shape `{"error":{...}}`, one error type for every way a Graph API
//! call can fail, and a classification that tells the send worker what to do next.
//!
//! Meta recommends building error handling on `code` (not the HTTP status, not the
//! deprecated `error_subcode`), so classification is by code first.

use serde::{Deserialize, Serialize};

/// What a caller should do about a failed call or a `failed` status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorClass {
    /// Temporary: throughput, maintenance, service trouble, 5xx, network. Retry with backoff.
    RetryLater,
    /// 131056: too many messages to this one recipient. Back off for that recipient only.
    PairRate,
    /// 131047: the 24-hour customer-service window is closed; only a template can be sent.
    WindowClosed,
    /// The access token is expired, revoked or lacks permission; an admin must fix it.
    Reauthorise,
    /// Retrying the same request will fail the same way.
    Permanent,
}

impl ErrorClass {
    /// Whether sending the same request again later can succeed without anyone acting.
    pub fn is_retryable(self) -> bool {
        matches!(self, ErrorClass::RetryLater | ErrorClass::PairRate)
    }
}

/// Classifies a Meta error code, with the HTTP status when there was one (webhook
/// `errors[]` have none).
///
/// Beyond the codes the issue names, 4 and 80007 (app/WABA call-rate limits), 133004
/// (server temporarily unavailable) and 131000 ("something went wrong", which Meta says
/// to retry) are also temporary, and 10 (permission denied) needs an admin like 190.
pub fn classify(code: i64, http_status: Option<u16>) -> ErrorClass {
    match code {
        130429 | 131057 | 131016 | 2 | 4 | 80007 | 133004 | 131000 => ErrorClass::RetryLater,
        131056 => ErrorClass::PairRate,
        131047 => ErrorClass::WindowClosed,
        190 | 0 | 10 => ErrorClass::Reauthorise,
        _ => classify_status(http_status),
    }
}

/// Classification when no Meta code is known (an HTML error page, a proxy's 502).
pub fn classify_status(http_status: Option<u16>) -> ErrorClass {
    match http_status {
        Some(s) if s >= 500 || s == 429 || s == 408 => ErrorClass::RetryLater,
        Some(401) => ErrorClass::Reauthorise,
        _ => ErrorClass::Permanent,
    }
}

/// (code, Meta's title, plain-English explanation for the team).
const CODES: &[(i64, &str, &str)] = &[
    (
        0,
        "AuthException",
        "WhatsApp could not authenticate Teamline. The access token has probably expired or been revoked; an admin must enter a new one.",
    ),
    (
        2,
        "API Service",
        "WhatsApp's service is temporarily down or overloaded. The message will be retried.",
    ),
    (
        3,
        "API Method",
        "The access token is missing a permission this action needs.",
    ),
    (
        4,
        "API Too Many Calls",
        "Too many requests were made to WhatsApp in a short time. Teamline will slow down and retry.",
    ),
    (
        10,
        "Permission Denied",
        "The access token does not have permission for this action; an admin must grant it.",
    ),
    (
        100,
        "Invalid parameter",
        "WhatsApp rejected the request as malformed or with an invalid value.",
    ),
    (
        190,
        "Access token has expired",
        "The WhatsApp access token has expired or is invalid; an admin must enter a new one.",
    ),
    (
        200,
        "API Permission",
        "Permission for this action is not granted or has been removed.",
    ),
    (
        368,
        "Temporarily blocked for policies violations",
        "The WhatsApp Business account is restricted for violating a policy.",
    ),
    (
        80007,
        "Rate limit issues",
        "The WhatsApp Business account has hit its API rate limit. Teamline will retry later.",
    ),
    (
        130429,
        "Rate limit hit",
        "The number is sending faster than WhatsApp allows. The message will be retried shortly.",
    ),
    (
        130472,
        "User's number is part of an experiment",
        "WhatsApp did not deliver this marketing message because the customer is part of a Meta experiment.",
    ),
    (
        130497,
        "Business account is restricted from messaging users in this country",
        "This business is not allowed to message customers in that country.",
    ),
    (
        131000,
        "Something went wrong",
        "WhatsApp failed to send the message for an unknown reason. It will be retried.",
    ),
    (
        131005,
        "Access denied",
        "Permission to send was denied for this number.",
    ),
    (
        131008,
        "Required parameter is missing",
        "The message was missing something WhatsApp requires.",
    ),
    (
        131009,
        "Parameter value is not valid",
        "The message contained a value WhatsApp does not accept.",
    ),
    (
        131016,
        "Service unavailable",
        "WhatsApp is temporarily unavailable. The message will be retried.",
    ),
    (
        131021,
        "Recipient cannot be sender",
        "A message cannot be sent to the business's own number.",
    ),
    (
        131026,
        "Message Undeliverable",
        "The message could not be delivered: the number may not be on WhatsApp, may have blocked the business, or uses an outdated app.",
    ),
    (
        131031,
        "Account has been locked",
        "The WhatsApp Business account is locked, usually for a policy violation.",
    ),
    (
        131037,
        "WhatsApp provided number needs display name approval",
        "The number's display name must be approved before it can send.",
    ),
    (
        131042,
        "Business eligibility payment issue",
        "There is a problem with the business's payment method for WhatsApp.",
    ),
    (
        131045,
        "Incorrect certificate",
        "The phone number is not registered correctly with WhatsApp.",
    ),
    (
        131047,
        "Re-engagement message",
        "More than 24 hours have passed since the customer last wrote. Only an approved template can be sent now.",
    ),
    (
        131048,
        "Spam rate limit hit",
        "Sending is restricted because too many earlier messages were blocked or reported as spam.",
    ),
    (
        131049,
        "This message was not delivered to maintain healthy ecosystem engagement",
        "WhatsApp chose not to deliver this marketing message to protect the customer's experience.",
    ),
    (
        131050,
        "User has stopped marketing messages",
        "The customer has opted out of marketing messages from this business.",
    ),
    (
        131051,
        "Unsupported message type",
        "WhatsApp does not support this type of message.",
    ),
    (
        131052,
        "Media download error",
        "WhatsApp could not download the media the customer sent.",
    ),
    (
        131053,
        "Media upload error",
        "The attached file could not be uploaded; its type or size may not be supported.",
    ),
    (
        131056,
        "(Business Account, Consumer Account) pair rate limit hit",
        "Too many messages were sent to this customer in a short time. Sending to them will resume shortly.",
    ),
    (
        131057,
        "Account in maintenance mode",
        "The business account is in maintenance (for example a throughput upgrade). The message will be retried.",
    ),
    (
        132000,
        "Number of parameters does not match the expected number of params",
        "The template was sent with the wrong number of placeholders filled in.",
    ),
    (
        132001,
        "Template name does not exist in the translation",
        "This template does not exist, is not approved, or is missing in this language.",
    ),
    (
        132005,
        "Translated text too long",
        "The template's text became too long after the placeholders were filled in.",
    ),
    (
        132007,
        "Format character policy violated",
        "The template's content breaks WhatsApp's formatting policy.",
    ),
    (
        132012,
        "Parameter format mismatch",
        "A template placeholder was filled with a value of the wrong format.",
    ),
    (
        132015,
        "Template is paused",
        "This template is paused because of low quality and cannot be sent.",
    ),
    (
        132016,
        "Template is disabled",
        "This template has been disabled and cannot be sent.",
    ),
    (
        133004,
        "Server temporarily unavailable",
        "WhatsApp's server is temporarily unavailable. The request will be retried.",
    ),
    (
        133010,
        "Phone number not registered",
        "The business phone number is not registered with WhatsApp Cloud API.",
    ),
];

/// Meta's short title for a code (what follows `(#code)` in `message`).
pub fn title(code: i64) -> Option<&'static str> {
    CODES.iter().find(|(c, ..)| *c == code).map(|(_, t, _)| *t)
}

/// A plain-English explanation of a code, for showing a failed message's reason to the team.
pub fn describe(code: i64) -> Option<&'static str> {
    CODES.iter().find(|(c, ..)| *c == code).map(|(.., d)| *d)
}

/// `{"error": {...}}` — the body of every Graph API error response.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ErrorEnvelope {
    pub error: ErrorBody,
}

/// The object inside `{"error": ...}`, exactly as Meta sends it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ErrorBody {
    pub message: String,
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub error_type: Option<String>,
    pub code: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_data: Option<ErrorData>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_subcode: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub is_transient: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_user_title: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_user_msg: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fbtrace_id: Option<String>,
}

/// `error_data`: WhatsApp puts the useful explanation in `details`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ErrorData {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub messaging_product: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub details: Option<String>,
}

impl ErrorBody {
    /// The body Meta sends for `code`: `message` is `(#code) title`, `type` is
    /// `OAuthException`, `error_data` carries `details`. Used by the emulator.
    pub fn meta(code: i64, details: impl Into<String>, fbtrace_id: impl Into<String>) -> Self {
        let title = title(code).unwrap_or("Unknown error");
        ErrorBody {
            message: format!("(#{code}) {title}"),
            error_type: Some("OAuthException".to_owned()),
            code,
            error_data: Some(ErrorData {
                messaging_product: Some("whatsapp".to_owned()),
                details: Some(details.into()),
            }),
            error_subcode: None,
            is_transient: None,
            error_user_title: None,
            error_user_msg: None,
            fbtrace_id: Some(fbtrace_id.into()),
        }
    }
}

/// A Graph API error response, with the HTTP status it came with.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("WhatsApp error {code} (HTTP {}): {message}", http_status.map_or_else(|| "-".to_owned(), |s| s.to_string()))]
pub struct ApiError {
    pub http_status: Option<u16>,
    pub code: i64,
    pub error_subcode: Option<i64>,
    /// Meta's `message`, e.g. `(#131047) Re-engagement message`.
    pub message: String,
    /// Meta's `type`, e.g. `OAuthException`.
    pub error_type: Option<String>,
    /// `error_data.details`: Meta's longer explanation.
    pub details: Option<String>,
    pub fbtrace_id: Option<String>,
}

impl ApiError {
    /// Parses an error response body; `None` when it is not Meta's `{"error":{...}}` shape.
    pub fn from_body(http_status: Option<u16>, body: &[u8]) -> Option<Self> {
        let envelope: ErrorEnvelope = serde_json::from_slice(body).ok()?;
        Some(Self::from_wire(http_status, envelope.error))
    }

    pub fn from_wire(http_status: Option<u16>, e: ErrorBody) -> Self {
        ApiError {
            http_status,
            code: e.code,
            error_subcode: e.error_subcode,
            message: e.message,
            error_type: e.error_type,
            details: e.error_data.and_then(|d| d.details),
            fbtrace_id: e.fbtrace_id,
        }
    }

    pub fn class(&self) -> ErrorClass {
        classify(self.code, self.http_status)
    }

    /// Plain words for the team: the known description, else Meta's details or message.
    pub fn describe(&self) -> String {
        describe(self.code)
            .map(str::to_owned)
            .or_else(|| self.details.clone())
            .unwrap_or_else(|| self.message.clone())
    }
}

/// How a request failed before any Meta error body could be read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TransportKind {
    Timeout,
    Connect,
    Other,
}

/// Every way a Graph API call can fail.
#[derive(Debug, thiserror::Error)]
pub enum GraphError {
    /// Meta answered with its error JSON (boxed: it is the largest variant by far).
    #[error(transparent)]
    Api(Box<ApiError>),
    /// No usable answer: DNS, connect, TLS, timeout, a dropped connection.
    #[error("could not reach the WhatsApp API ({kind:?}): {message}")]
    Transport {
        kind: TransportKind,
        message: String,
    },
    /// An HTTP error without Meta's error JSON (a proxy page, an empty 502).
    #[error("the WhatsApp API answered HTTP {status} without an error body")]
    Http { status: u16 },
    /// A success status whose body is not what Meta documents.
    #[error("unexpected response from the WhatsApp API (HTTP {status}): {reason}")]
    UnexpectedResponse { status: u16, reason: String },
    /// The client could not be built (bad base URL, TLS set-up).
    #[error("invalid WhatsApp client configuration: {0}")]
    Config(String),
}

impl From<ApiError> for GraphError {
    fn from(e: ApiError) -> Self {
        GraphError::Api(Box::new(e))
    }
}

impl GraphError {
    pub fn class(&self) -> ErrorClass {
        match self {
            GraphError::Api(e) => e.class(),
            GraphError::Transport { .. } => ErrorClass::RetryLater,
            GraphError::Http { status } => classify_status(Some(*status)),
            // The request may have gone through; retrying could send twice.
            GraphError::UnexpectedResponse { .. } | GraphError::Config(_) => ErrorClass::Permanent,
        }
    }

    /// Meta's error code, when Meta sent one.
    pub fn code(&self) -> Option<i64> {
        match self {
            GraphError::Api(e) => Some(e.code),
            _ => None,
        }
    }

    pub fn api(&self) -> Option<&ApiError> {
        match self {
            GraphError::Api(e) => Some(e.as_ref()),
            _ => None,
        }
    }

    pub(crate) fn transport(e: reqwest::Error) -> Self {
        let kind = if e.is_timeout() {
            TransportKind::Timeout
        } else if e.is_connect() {
            TransportKind::Connect
        } else {
            TransportKind::Other
        };
        // URLs can carry signed media query strings; keep them out of logs.
        GraphError::Transport {
            kind,
            message: e.without_url().to_string(),
        }
    }
}
