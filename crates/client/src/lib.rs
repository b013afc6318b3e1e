//! `teamline-client`: the desktop engine without Tauri. The shell (`src-tauri/`) calls it;
//! nothing here knows a window exists.
//!
//! - [`Client`]: one profile (a data directory). [`Client::open`] /
//!   [`Client::provision`] / [`Client::link`], then [`Client::start`] to sync and send.
//! - Observe: [`Client::connection_state`] (`watch<ConnectionState>`),
//!   [`Client::transport`], [`Client::resync_progress`], [`Client::subscribe`]
//!   ([`ClientEvent`]s), [`Client::take_open_requests`] (clicked notifications).
//! - Act: [`Client::send`] (commands through the durable outbox), [`Client::outbox`],
//!   [`Client::discard`], [`Client::load_history`], [`Client::read`] (the store's reads),
//!   [`Client::check`] (local permission view).
//! - Broadcasts: [`Client::broadcasts`], [`Client::preview_broadcast`],
//!   [`Client::create_broadcast`], [`Client::cancel_broadcast`] and the cap settings; progress
//!   arrives as [`ClientEvent::BroadcastChanged`].
//! - Relay wire shapes live in [`wire`] only.

pub mod alerts;
mod api;
mod apply;
pub mod automation;
mod backoff;
pub mod backup;
pub mod broadcasts;
mod client;
pub mod commands;
pub mod composer;
pub mod contacts;
pub mod content;
mod csv;
mod error;
pub mod external;
mod labels;
mod media;
pub mod notify;
mod outbox;
pub mod profile;
pub mod save;
mod sse;
mod sync;
pub mod team;
mod types;
pub mod views;
pub mod wire;

pub use alerts::{
    AdviceFix, AdviceView, AdvisorReport, AlertAck, AlertPage, AlertView, RemoveToggles,
};
pub use api::ApiError;
pub use automation::{
    AgentSettings, AutomationTeamView, AutomationView, DryRunRequest, DryRunResult,
};
pub use broadcasts::RecipientPage;
pub use client::{
    Client, ClientOptions, HistoryPage, LinkInfo, MeView, StoreKeyChoice, SyncTuning, TokenVault,
};
pub use commands::{Command, MediaRef};
pub use composer::{MessageTemplate, MessageTemplates, QuickReply, QuickReplyDraft, UploadedMedia};
pub use contacts::{
    ContactAttribute, ContactConversation, ContactDetail, ContactListItem, ContactNote,
    ContactUpdate, ContactsPage, CsvSource, ImportCounts, ImportReport, ImportRowError,
    ImportRowReport,
};
pub use content::{ContactCard, ContactCardPhone, MediaInfo, MessageContent};
pub use error::{ClientError, Result};
pub use media::DEFAULT_MEDIA_CACHE_BYTES;
pub use notify::{DesktopNotifier, Notification, Notifier, NotifyError};
pub use profile::{NotificationSettings, PROFILE_FILE, STORE_FILE};
pub use team::{
    DeviceChange, MemberChange, NewPairingCode, PairingCode, SignedIn, TeamDevice, TeamDevices,
    TeamMember, TeamSettings, TeamTemplate, TemplateDraft,
};
pub use types::{
    ClientEvent, ConnectionState, DeviceInfo, OutboxEntry, OutboxState, SyncProgress, Transport,
};
pub use views::{
    InboxRow, LabelChip, MediaBytes, NoteItem, QuotedMessage, ReactionBadge, SearchResult,
    SlaClock, SnippetPart, TimelineItem,
};
pub use wire::{MemberName, SharedDevice};

/// The store crate, for the types [`Client::read`] hands out.
pub use teamline_store as store;

/// The core crate, for the permission types the team API uses.
pub use teamline_core as core;
