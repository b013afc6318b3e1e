//! The WhatsApp Cloud API as Teamline sees it: webhook wire types, the webhook signature,
//! and a Graph API client. Everything here follows Meta's documented wire format.

pub mod signature;
