//! `teamline-relay`: the team's hub. Receives Meta's signed webhooks, commits them with
//! their derived events before answering, keeps the gap-free event log, pairs devices and
//! streams to each device only what its permissions let it see.

pub mod clock;
pub mod events;
pub mod ingest;
pub mod storage;

// Second half of the relay: commands, outbound sends, media.
pub mod commands;
pub mod device_auth;
pub mod media;
pub mod outbound;
pub mod presence;
pub mod relay_services;
