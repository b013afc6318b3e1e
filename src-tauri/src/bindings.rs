//! The TypeScript bindings in `ui/src/lib/bindings/` are generated from the IPC types.
//! The test below fails when the committed files drift from the Rust types;
//! `cargo xtask bindings` rewrites them.

#[cfg(test)]
mod tests {
    use std::path::{Path, PathBuf};

    use ts_rs::{Config, TS};

    use teamline_client::RecipientPage;
    use teamline_client::automation::{
        AgentSettings, AutomationTeamView, AutomationView, DryRunRequest, DryRunResult,
    };
    use teamline_client::backup::RestoredBackup;
    use teamline_client::core::anomaly::{Burst, Idle, Night, OffHours, Thresholds, Toggle};
    use teamline_shell::ipc::{AppInfo, BuildProfile, ErrorCode, IpcError, Session};
    // The automation engine's settings, dry-run input and plan (the Automation section).
    use teamline_client::core::automation as auto;
    use teamline_client::core::{
        DeviceLevel, Permission, PermissionSet, PermissionTemplate, Preset, WindowRule,
        schedule::TimeWindow,
    };
    use teamline_client::team::{
        AuditBreak, AuditCheckpoint, AuditEntry, AuditFilter, AuditFormat, AuditHead, AuditPage,
        AuditRollback, AuditVerification,
    };
    use teamline_client::wire::Presence;
    use teamline_client::{
        AdviceFix, AdviceView, AdvisorReport, AlertAck, AlertPage, AlertView, RemoveToggles,
    };
    use teamline_client::{
        ClientEvent, Command, ConnectionState, DeviceChange, HistoryPage, InboxRow, LabelChip,
        LinkInfo, MeView, MediaRef, MemberChange, MemberName, NewPairingCode, NoteItem,
        NotificationSettings, OutboxEntry, OutboxState, PairingCode, SearchResult, SharedDevice,
        SignedIn, SlaClock, SnippetPart, SyncProgress, TeamDevice, TeamDevices, TeamMember,
        TeamSettings, TeamTemplate, TemplateDraft, TimelineItem, Transport,
    };
    use teamline_client::{
        ContactAttribute, ContactConversation, ContactDetail, ContactListItem, ContactNote,
        ContactUpdate, ContactsPage, CsvSource, ImportCounts, ImportReport, ImportRowError,
        ImportRowReport,
    };
    use teamline_client::{
        ContactCard, ContactCardPhone, MediaInfo, MessageContent, MessageTemplate,
        MessageTemplates, QuickReply, QuickReplyDraft, QuotedMessage, ReactionBadge, UploadedMedia,
    };

    /// `(file name, TypeScript)` of every type that crosses IPC, and of what they use.
    macro_rules! exported {
        ($($t:ty),+ $(,)?) => {
            vec![$(
                (
                    <$t as TS>::output_path().expect("IPC types set export_to").display().to_string(),
                    <$t as TS>::export_to_string(&Config::new()).expect("ts-rs renders the type"),
                ),
            )+]
        };
    }

    fn all_types() -> Vec<(String, String)> {
        exported![
            AppInfo,
            BuildProfile,
            ErrorCode,
            IpcError,
            Session,
            ConnectionState,
            ClientEvent,
            SyncProgress,
            Transport,
            Presence,
            LinkInfo,
            MeView,
            SharedDevice,
            MemberName,
            InboxRow,
            SlaClock,
            LabelChip,
            TimelineItem,
            MessageContent,
            MediaInfo,
            ContactCard,
            ContactCardPhone,
            QuotedMessage,
            ReactionBadge,
            OutboxEntry,
            OutboxState,
            NotificationSettings,
            TeamMember,
            TeamDevice,
            TeamDevices,
            TeamTemplate,
            TeamSettings,
            PairingCode,
            NewPairingCode,
            MemberChange,
            DeviceChange,
            TemplateDraft,
            SignedIn,
            Permission,
            PermissionSet,
            Preset,
            DeviceLevel,
            TimeWindow,
            WindowRule,
            PermissionTemplate,
            Command,
            MediaRef,
            MessageTemplate,
            MessageTemplates,
            QuickReply,
            QuickReplyDraft,
            UploadedMedia,
            HistoryPage,
            NoteItem,
            AuditFilter,
            AuditEntry,
            AuditPage,
            AuditBreak,
            AuditCheckpoint,
            AuditHead,
            AuditRollback,
            AuditVerification,
            AuditFormat,
            AlertAck,
            AlertView,
            AlertPage,
            RemoveToggles,
            AdviceFix,
            AdviceView,
            AdvisorReport,
            RestoredBackup,
            AgentSettings,
            AutomationTeamView,
            AutomationView,
            DryRunRequest,
            DryRunResult,
            auto::Action,
            auto::AssignmentPolicy,
            auto::AttributeTest,
            auto::AttributeValue,
            auto::AutoLabel,
            auto::AutoLabels,
            auto::AutoReplySettings,
            auto::AutomationSettings,
            auto::BusinessHours,
            auto::Comparison,
            auto::Condition,
            auto::Conditions,
            auto::ContactFacts,
            auto::Context,
            auto::ConversationFacts,
            auto::DayStats,
            auto::Evaluation,
            auto::Event,
            auto::FaqBot,
            auto::FaqEntry,
            auto::FiredRule,
            auto::InboundMessage,
            auto::Language,
            auto::LiveState,
            auto::Match,
            auto::MemberLoad,
            auto::NotifyTarget,
            auto::OpenRange,
            auto::Pacing,
            auto::Planned,
            auto::PlannedAction,
            auto::Priority,
            auto::RoundRobinState,
            auto::Rule,
            auto::SentAutoReply,
            auto::SkippedAction,
            auto::SlaFacts,
            auto::SlaKind,
            auto::SlaPolicy,
            auto::SlaState,
            auto::SlaTarget,
            auto::AssignStrategy,
            auto::Team,
            auto::Trigger,
            // Broadcasts (the Broadcasts section).
            auto::AttributeFilter,
            auto::AttributeOp,
            auto::BroadcastAudience,
            auto::BroadcastCounts,
            auto::BroadcastDraft,
            auto::BroadcastPreview,
            auto::BroadcastRecipient,
            auto::BroadcastSettings,
            auto::BroadcastState,
            auto::BroadcastSummary,
            auto::BroadcastTemplate,
            auto::ParamSource,
            auto::PreviewSample,
            auto::RecipientState,
            RecipientPage,
            Thresholds,
            OffHours,
            Burst,
            Night,
            Toggle,
            Idle,
            SearchResult,
            SnippetPart,
            ContactAttribute,
            ContactConversation,
            ContactDetail,
            ContactListItem,
            ContactNote,
            ContactUpdate,
            ContactsPage,
            CsvSource,
            ImportCounts,
            ImportReport,
            ImportRowError,
            ImportRowReport,
        ]
    }

    /// Set to 1 by `cargo xtask bindings` to rewrite the files instead of comparing them.
    const WRITE_ENV: &str = "TEAMLINE_WRITE_BINDINGS";

    fn bindings_dir() -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("ui/src/lib/bindings")
    }

    /// Compares (or writes) one file; returns a line describing the drift, if any.
    fn check(file: &str, generated: &str) -> Option<String> {
        let path = bindings_dir().join(file);
        if std::env::var(WRITE_ENV).as_deref() == Ok("1") {
            std::fs::write(&path, generated).expect("bindings directory is writable");
            return None;
        }
        match std::fs::read_to_string(&path) {
            Ok(committed) if committed == generated => None,
            Ok(_) => Some(format!("{} differs from the Rust type", path.display())),
            Err(_) => Some(format!("{} is missing", path.display())),
        }
    }

    #[test]
    fn committed_typescript_bindings_match_the_rust_types() {
        let drift: Vec<String> = all_types()
            .iter()
            .filter_map(|(file, ts)| check(file, ts))
            .collect();
        assert!(
            drift.is_empty(),
            "TypeScript bindings drifted; run `cargo xtask bindings` and commit:\n{}",
            drift.join("\n")
        );
    }

    #[test]
    fn every_imported_binding_is_generated_too() {
        // A type that uses another must bring the other's file along.
        let files: Vec<String> = all_types().into_iter().map(|(f, _)| f).collect();
        for (file, ts) in all_types() {
            for line in ts.lines().filter(|l| l.starts_with("import type")) {
                let target = line
                    .split("from \"./")
                    .nth(1)
                    .and_then(|r| r.split('"').next())
                    .expect("ts-rs imports from ./X");
                assert!(
                    files.contains(&format!("{target}.ts")),
                    "{file} imports {target}, which is not exported"
                );
            }
        }
    }

    #[test]
    fn every_file_in_the_bindings_directory_comes_from_a_rust_type() {
        // A type removed in Rust must not leave a stale file the UI could still import.
        let known: Vec<String> = all_types().into_iter().map(|(f, _)| f).collect();
        let stale: Vec<String> = std::fs::read_dir(bindings_dir())
            .expect("bindings directory exists")
            .map(|entry| {
                entry
                    .expect("readable entry")
                    .file_name()
                    .to_string_lossy()
                    .into_owned()
            })
            .filter(|name| !known.contains(name))
            .collect();
        assert!(stale.is_empty(), "stale bindings: {stale:?}");
    }

    #[test]
    fn the_uis_preset_table_matches_teamline_core() {
        // ui/src/lib/permissions.ts pre-fills the member editor with each preset's toggles;
        // the relay is authoritative, but the editor must not offer a different preset.
        let ts = std::fs::read_to_string(
            Path::new(env!("CARGO_MANIFEST_DIR")).join("ui/src/lib/permissions.ts"),
        )
        .expect("the UI's permission table");
        let table = &ts[ts.find("PRESET_PERMISSIONS").expect("the preset table")..];
        let table = &table[..table.find("};").expect("end of the table")];
        for preset in [
            Preset::Admin,
            Preset::Supervisor,
            Preset::Standard,
            Preset::Restricted,
        ] {
            let core: Vec<String> = preset
                .permissions()
                .iter()
                .map(|p| p.as_str().to_owned())
                .collect();
            let key = format!("{}:", preset.as_str());
            let entry = &table[table.find(&key).expect("every preset is listed") + key.len()..];
            let entry = entry.trim_start();
            let mut ui: Vec<String> = if entry.starts_with("PERMISSIONS") {
                Permission::ALL
                    .iter()
                    .map(|p| p.as_str().to_owned())
                    .collect()
            } else {
                let list = &entry[..entry.find(']').expect("a list")];
                list.split('\'')
                    .skip(1)
                    .step_by(2)
                    .map(str::to_owned)
                    .collect()
            };
            let mut core_sorted = core.clone();
            core_sorted.sort();
            ui.sort();
            assert_eq!(
                ui,
                core_sorted,
                "the UI's {} preset differs from core",
                preset.as_str()
            );
        }
    }
}
