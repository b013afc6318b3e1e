//! Graph API errors in Meta's shape:
//! `{"error":{"message":"(#code) title","type":"OAuthException","code":N,
//!   "error_data":{"messaging_product":"whatsapp","details":"..."},"fbtrace_id":"..."}}`.
//!
//! Codes, titles and HTTP statuses follow Meta's Cloud API error-code table
//! (developers.facebook.com/documentation/business-messaging/whatsapp/support/error-codes).

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use crate::ids;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GraphError {
    pub status: StatusCode,
    pub code: u32,
    pub subcode: Option<u32>,
    /// The full `message`, e.g. `(#100) The parameter to is required.`
    pub message: String,
    /// `error_data.details`; WhatsApp errors carry one, generic Graph errors do not.
    pub details: Option<String>,
}

impl GraphError {
    fn whatsapp(status: StatusCode, code: u32, title: &str, details: impl Into<String>) -> Self {
        Self {
            status,
            code,
            subcode: None,
            message: format!("(#{code}) {title}"),
            details: Some(details.into()),
        }
    }

    /// 190, HTTP 401: the bearer token is missing or not the one this number was given.
    pub fn bad_token() -> Self {
        Self {
            status: StatusCode::UNAUTHORIZED,
            code: 190,
            subcode: None,
            message: "Invalid OAuth access token - Cannot parse access token".into(),
            details: None,
        }
    }

    /// 100 with a Graph-style sentence, e.g. "The parameter to is required."
    pub fn param(sentence: impl Into<String>) -> Self {
        let sentence = sentence.into();
        Self {
            status: StatusCode::BAD_REQUEST,
            code: 100,
            subcode: None,
            message: format!("(#100) {sentence}"),
            details: None,
        }
    }

    /// 100 "Invalid parameter" with details, as WhatsApp-specific checks answer.
    pub fn invalid(details: impl Into<String>) -> Self {
        Self::whatsapp(StatusCode::BAD_REQUEST, 100, "Invalid parameter", details)
    }

    /// 100 with subcode 33: an object id this token cannot see.
    pub fn unknown_object(method: &str, id: &str) -> Self {
        Self {
            status: StatusCode::BAD_REQUEST,
            code: 100,
            subcode: Some(33),
            message: format!(
                "Unsupported {method} request. Object with ID '{id}' does not exist, cannot be \
                 loaded due to missing permissions, or does not support this operation. Please \
                 read the Graph API documentation at https://developers.facebook.com/docs/graph-api"
            ),
            details: None,
        }
    }

    pub fn value_not_valid(details: impl Into<String>) -> Self {
        Self::whatsapp(
            StatusCode::BAD_REQUEST,
            131009,
            "Parameter value is not valid",
            details,
        )
    }

    pub fn throughput() -> Self {
        Self::whatsapp(
            StatusCode::BAD_REQUEST,
            130429,
            "Rate limit hit",
            "Cloud API message throughput has been reached.",
        )
    }

    pub fn pair_rate() -> Self {
        Self::whatsapp(
            StatusCode::BAD_REQUEST,
            131056,
            "(Business Account, Consumer Account) pair rate limit hit",
            "Too many messages sent from the sender phone number to the same recipient phone \
             number in a short period of time.",
        )
    }

    /// Meta documents no dedicated code for the messaging limit; 131048 is its code for
    /// "restrictions on how many messages can be sent from this phone number".
    pub fn messaging_limit(limit: u32) -> Self {
        Self::whatsapp(
            StatusCode::BAD_REQUEST,
            131048,
            "Spam rate limit hit",
            format!(
                "Message failed to send because there are restrictions on how many messages can \
                 be sent from this phone number: the messaging limit of {limit} unique users \
                 outside the customer service window in a rolling 24 hours has been reached."
            ),
        )
    }

    /// A number-wide limit Meta answers at send time, injected for one recipient
    /// (`/_sim/faults` `recipient_errors`): 131048 spam rate limit, 368 temporarily
    /// blocked for policy violations, 131031 account locked.
    pub fn injected(code: u32) -> Option<Self> {
        let (title, details) = match code {
            131048 => (
                "Spam rate limit hit",
                "Message failed to send because there are restrictions on how many messages \
                 can be sent from this phone number. This may be because too many previous \
                 messages were blocked or flagged as spam.",
            ),
            368 => (
                "Temporarily blocked for policies violations",
                "The WhatsApp Business Account associated with the app has been restricted or \
                 disabled for violating a platform policy.",
            ),
            131031 => (
                "Account has been locked",
                "The WhatsApp Business Account is restricted or disabled for violating a \
                 platform policy, or the data in the request could not be verified.",
            ),
            _ => return None,
        };
        Some(Self::whatsapp(
            StatusCode::BAD_REQUEST,
            code,
            title,
            details,
        ))
    }

    pub fn template_param_count(details: impl Into<String>) -> Self {
        Self::whatsapp(
            StatusCode::BAD_REQUEST,
            132000,
            "Number of parameters does not match the expected number of params",
            details,
        )
    }

    pub fn template_missing(name: &str, language: &str) -> Self {
        Self::whatsapp(
            StatusCode::NOT_FOUND,
            132001,
            "Template name does not exist in the translation",
            format!("template name ({name}) does not exist in {language}"),
        )
    }

    pub fn template_paused(name: &str) -> Self {
        Self::whatsapp(
            StatusCode::BAD_REQUEST,
            132015,
            "Template is Paused",
            format!("Template {name} is paused due to low quality so it cannot be sent."),
        )
    }

    pub fn template_disabled(name: &str) -> Self {
        Self::whatsapp(
            StatusCode::BAD_REQUEST,
            132016,
            "Template is Disabled",
            format!("Template {name} has been disabled and cannot be sent."),
        )
    }

    pub fn media_upload(details: impl Into<String>) -> Self {
        Self::whatsapp(
            StatusCode::BAD_REQUEST,
            131053,
            "Media upload error",
            details,
        )
    }

    pub fn to_json(&self) -> Value {
        let mut error = json!({
            "message": self.message,
            "type": "OAuthException",
            "code": self.code,
        });
        if let Some(sub) = self.subcode {
            error["error_subcode"] = json!(sub);
        }
        if let Some(details) = &self.details {
            error["error_data"] = json!({"messaging_product": "whatsapp", "details": details});
        }
        error["fbtrace_id"] = json!(ids::fbtrace_id());
        json!({ "error": error })
    }
}

impl IntoResponse for GraphError {
    fn into_response(self) -> Response {
        let mut response = (self.status, Json(self.to_json())).into_response();
        if self.status == StatusCode::UNAUTHORIZED {
            response.headers_mut().insert(
                "www-authenticate",
                axum::http::HeaderValue::from_static(
                    "OAuth \"Facebook Platform\" \"invalid_token\" \"Invalid OAuth access token\"",
                ),
            );
        }
        response
    }
}

/// A failure that reaches the business in a `failed` status webhook, not in the response.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct AsyncError {
    pub code: u32,
    pub title: &'static str,
    pub details: String,
}

impl AsyncError {
    pub fn reengagement() -> Self {
        Self {
            code: 131047,
            title: "Re-engagement message",
            details: "Message failed to send because more than 24 hours have passed since the \
                      customer last replied to this number."
                .into(),
        }
    }

    /// A per-recipient failure Meta reports in a `failed` status webhook, injected for one
    /// recipient (`/_sim/faults` `recipient_errors`): 131026 undeliverable (e.g. the
    /// customer blocked the business), 131049 healthy-ecosystem limit, 131050 the customer
    /// stopped marketing messages, 130472 experiment.
    pub fn injected(code: u32) -> Option<Self> {
        let (title, details) = match code {
            131026 => (
                "Message Undeliverable",
                "Unable to deliver message. Reasons can include: the recipient phone number \
                 is not a WhatsApp phone number; the recipient has not accepted the new Terms \
                 of Service; the recipient blocked the business.",
            ),
            131049 => (
                "This message was not delivered to maintain healthy ecosystem engagement",
                "In order to maintain a healthy ecosystem engagement, the message failed to \
                 be delivered.",
            ),
            131050 => (
                "User has stopped marketing messages",
                "Unable to deliver the marketing message. The user has chosen to stop \
                 receiving marketing messages from this business.",
            ),
            130472 => (
                "User's number is part of an experiment",
                "Failed to send message because this user's phone number is part of an \
                 experiment.",
            ),
            _ => return None,
        };
        Some(Self {
            code,
            title,
            details: details.into(),
        })
    }

    pub fn media(details: impl Into<String>) -> Self {
        Self {
            code: 131053,
            title: "Media upload error",
            details: details.into(),
        }
    }
}
