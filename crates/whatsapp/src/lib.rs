//! The WhatsApp Cloud API as Teamline sees it: webhook wire types, the webhook signature,
//! and a Graph API client. Everything here follows Meta's documented wire format.
//!
//! - [`webhook`] turns a webhook POST body into normalized items, never failing a whole
//!   batch because one item is new or odd.
//! - [`outgoing`] holds the request bodies of `POST /{phone-number-id}/messages`, shared by
//!   the client and the emulator.
//! - [`graph`] is the HTTP client; [`error`] classifies Meta's errors for retry decisions.

pub mod error;
pub mod graph;
mod lenient;
pub mod media;
pub mod outgoing;
pub mod signature;
pub mod templates;
pub mod webhook;
