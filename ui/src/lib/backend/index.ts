import type { AgentSettings } from '../bindings/AgentSettings';
import type { BroadcastDraft } from '../bindings/BroadcastDraft';
import type { BroadcastPreview } from '../bindings/BroadcastPreview';
import type { BroadcastSettings } from '../bindings/BroadcastSettings';
import type { BroadcastSummary } from '../bindings/BroadcastSummary';
import type { Pacing } from '../bindings/BroadcastPacing';
import type { RecipientPage } from '../bindings/RecipientPage';
import type { RecipientState } from '../bindings/RecipientState';
import type { AutomationSettings } from '../bindings/AutomationSettings';
import type { AutomationView } from '../bindings/AutomationView';
import type { DryRunRequest } from '../bindings/DryRunRequest';
import type { DryRunResult } from '../bindings/DryRunResult';
import type { AdviceFix } from '../bindings/AdviceFix';
import type { MessageTemplates } from '../bindings/MessageTemplates';
import type { QuickReply } from '../bindings/QuickReply';
import type { QuickReplyDraft } from '../bindings/QuickReplyDraft';
import type { UploadedMedia } from '../bindings/UploadedMedia';
import type { AdvisorReport } from '../bindings/AdvisorReport';
import type { AlertPage } from '../bindings/AlertPage';
import type { AlertThresholds } from '../bindings/AlertThresholds';
import type { AlertView } from '../bindings/AlertView';
import type { AuditFilter } from '../bindings/AuditFilter';
import type { AuditFormat } from '../bindings/AuditFormat';
import type { AuditPage } from '../bindings/AuditPage';
import type { AuditVerification } from '../bindings/AuditVerification';
import type { AppInfo } from '../bindings/AppInfo';
import type { RestoredBackup } from '../bindings/RestoredBackup';
import type { ClientEvent } from '../bindings/ClientEvent';
import type { Command } from '../bindings/Command';
import type { ConnectionState } from '../bindings/ConnectionState';
import type { ContactAttribute } from '../bindings/ContactAttribute';
import type { ContactDetail } from '../bindings/ContactDetail';
import type { ContactUpdate } from '../bindings/ContactUpdate';
import type { ContactsPage } from '../bindings/ContactsPage';
import type { CsvSource } from '../bindings/CsvSource';
import type { ImportReport } from '../bindings/ImportReport';
import type { DeviceChange } from '../bindings/DeviceChange';
import type { HistoryPage } from '../bindings/HistoryPage';
import type { InboxRow } from '../bindings/InboxRow';
import type { LabelChip } from '../bindings/LabelChip';
import type { LinkInfo } from '../bindings/LinkInfo';
import type { MemberChange } from '../bindings/MemberChange';
import type { MemberName } from '../bindings/MemberName';
import type { NewPairingCode } from '../bindings/NewPairingCode';
import type { NoteItem } from '../bindings/NoteItem';
import type { NotificationSettings } from '../bindings/NotificationSettings';
import type { OutboxEntry } from '../bindings/OutboxEntry';
import type { PairingCode } from '../bindings/PairingCode';
import type { SearchResult } from '../bindings/SearchResult';
import type { Session } from '../bindings/Session';
import type { SignedIn } from '../bindings/SignedIn';
import type { TeamDevice } from '../bindings/TeamDevice';
import type { TeamDevices } from '../bindings/TeamDevices';
import type { TeamMember } from '../bindings/TeamMember';
import type { TeamSettings } from '../bindings/TeamSettings';
import type { TeamTemplate } from '../bindings/TeamTemplate';
import type { TemplateDraft } from '../bindings/TemplateDraft';
import type { TimelineItem } from '../bindings/TimelineItem';

/** What the app pushes to the window (see `crates/shell/src/host.rs`). */
export interface BackendEvents {
  connectionState(state: ConnectionState): void;
  clientEvent(event: ClientEvent): void;
  /** Unread messages over all conversations (also on the tray icon). */
  unread(total: number): void;
  /** A clicked notification asks to open this conversation. */
  openConversation(conversationId: string): void;
  /** A broadcast was created, changed state, or made progress (at most about once a second). */
  broadcastChanged(summary: BroadcastSummary): void;
}

/** Stops listening. */
export type Unlisten = () => void;

/** Where a page of the conversation list starts: after the row with this activity and id. */
export type InboxAfter = { at: string | null; id: string };

/**
 * Everything the UI asks of the app, as named commands (`CommandBackend`) over Tauri IPC or
 * the HTTP web shell. Team changes take the signed-in member's PIN, which the relay re-verifies.
 */
export interface Backend {
  appInfo(): Promise<AppInfo>;
  connectionState(): Promise<ConnectionState>;
  session(): Promise<Session>;
  /**
   * "Join my team": link this device with a pairing code. With `passphrase` (computers
   * without a system keyring) the device's data is protected by it instead of the keyring.
   */
  /** "Try the demo": links this unlinked window to the demo shop inside the app. */
  tryDemo(): Promise<void>;
  /** Leaves the demo shop (its data is deleted); the window is unlinked again. */
  leaveDemo(): Promise<void>;
  linkDevice(
    relayUrl: string,
    code: string,
    deviceName?: string,
    passphrase?: string,
  ): Promise<LinkInfo>;
  /**
   * "Restore from a backup": links this new device with a pairing code and fills it from
   * another device's encrypted backup file (`path` on this computer). A wrong passphrase
   * or a bad file changes nothing and leaves the code unused.
   */
  restoreDeviceBackup(
    path: string,
    passphrase: string,
    relayUrl: string,
    code: string,
    deviceName?: string,
  ): Promise<RestoredBackup>;
  /** Opens a passphrase-protected device (connection state `locked`). */
  unlock(passphrase: string): Promise<void>;
  /** Tries again to open this device's data after it could not be opened at start. */
  retryOpen(): Promise<void>;
  reconnectNow(): Promise<void>;
  listen(handlers: Partial<BackendEvents>): Promise<Unlisten>;

  /**
   * The conversation list, most recent activity first; with `limit`, one page of it: the
   * first `limit` rows, or the `limit` rows after the row `after` (its `last_message_at`
   * and id). At most 10,000 rows a page.
   */
  inbox(limit?: number, after?: InboxAfter): Promise<InboxRow[]>;
  /**
   * The rows of these conversations (at most 1,000), as `inbox` makes them; ids this device
   * no longer holds are left out. A client event names the conversations it changed.
   */
  inboxRows(ids: string[]): Promise<InboxRow[]>;
  /** The newest `limit` messages before `before` (RFC 3339; omitted: the newest), oldest first. */
  timeline(conversationId: string, limit?: number, before?: string): Promise<TimelineItem[]>;
  /**
   * A message's media bytes (image, video, audio, document, sticker): from this device's
   * encrypted cache, else the relay. Fails with `media_not_ready` while the relay is still
   * downloading it, `media_unavailable`, `no_media` or `network`.
   */
  messageMedia(messageId: string): Promise<ArrayBuffer>;
  /** Saves a message's media as a new file in Downloads; resolves to its path. */
  saveMessageMedia(messageId: string): Promise<string>;
  /** Opens an http(s) link in the user's browser. */
  openExternal(url: string): Promise<void>;
  /** Fetches older history from the relay into the local store (then re-read `timeline`). */
  loadHistory(conversationId: string, before: string | null): Promise<HistoryPage>;
  /** Marks a conversation read on this device (its unread count back to 0). */
  markRead(conversationId: string): Promise<boolean>;
  sendText(conversationId: string, text: string): Promise<OutboxEntry | null>;
  claim(conversationId: string): Promise<void>;
  /**
   * Any conversation command (assign, unassign, close, reopen, snooze, add_note with
   * mentions, add_label, remove_label, send_text with reply_to / takeover_reason, typing),
   * queued in the durable outbox; `null` for `typing` (sent at once, never queued).
   */
  sendCommand(command: Command): Promise<OutboxEntry | null>;
  /** Full-text search over the local store (works offline), best first. */
  search(query: string, limit?: number): Promise<SearchResult[]>;
  notes(conversationId: string): Promise<NoteItem[]>;
  /** Active members by name, for assigning and @mentions. */
  memberNames(): Promise<MemberName[]>;
  /** The team's labels. */
  labels(): Promise<LabelChip[]>;
  /** The team's labels read from the relay (fresh colours). */
  refreshLabels(): Promise<LabelChip[]>;
  /** Creates a team label (ManageLabels; the relay refuses past 20 with `label_limit`). */
  createLabel(name: string, colour: string): Promise<void>;
  recolourLabel(name: string, colour: string): Promise<void>;
  /** Deletes a team label; it leaves every conversation. */
  deleteLabel(name: string): Promise<void>;
  outbox(): Promise<OutboxEntry[]>;
  discardOutbox(id: string): Promise<boolean>;
  notificationSettings(): Promise<NotificationSettings>;
  setNotificationSettings(settings: NotificationSettings): Promise<void>;

  teamMembers(): Promise<TeamMember[]>;
  createMember(name: string, change: MemberChange, pin: string): Promise<TeamMember>;
  updateMember(id: string, change: MemberChange, pin: string): Promise<TeamMember>;
  deactivateMember(id: string, pin: string): Promise<TeamMember>;
  resetMemberPin(id: string, newPin: string, pin: string): Promise<void>;
  setOwnPin(newPin: string, currentPin: string | null): Promise<void>;
  teamDevices(): Promise<TeamDevices>;
  updateDevice(id: string, change: DeviceChange, pin: string): Promise<TeamDevice>;
  unlinkDevice(id: string, pin: string): Promise<void>;
  teamTemplates(): Promise<TeamTemplate[]>;
  /** Creates a template (`id` null) or replaces one. */
  saveTemplate(id: string | null, draft: TemplateDraft, pin: string): Promise<TeamTemplate>;
  deleteTemplate(id: string, pin: string): Promise<void>;
  teamSettings(): Promise<TeamSettings>;
  updateTeamSettings(
    deviceCap: number | null,
    autoUnlinkIdle: boolean | null,
    pin: string,
  ): Promise<TeamSettings>;
  createPairingCode(request: NewPairingCode): Promise<PairingCode>;
  /** Shared devices: sign a member in (or switch) with their PIN. */
  signIn(memberId: string, pin: string): Promise<SignedIn>;
  signOut(): Promise<void>;

  /** The audit log, newest first (ViewAuditLog). Page with `filter.before = next_before`. */
  auditPage(filter: AuditFilter): Promise<AuditPage>;
  /** "Verify": the relay checks its chain; this device checks it did not go back. */
  verifyAudit(): Promise<AuditVerification>;
  /** Exports the filtered log (ExportHistory + PIN) into Downloads; resolves to the file's path. */
  exportAudit(format: AuditFormat, filter: AuditFilter, pin: string): Promise<string>;
  /** Anomaly alerts, newest first (ManageTeam); `before` is an alert id for the next page. */
  alerts(openOnly: boolean, before?: string): Promise<AlertPage>;
  /** Acknowledges an alert; the comment is required. */
  acknowledgeAlert(id: string, comment: string, pin: string): Promise<AlertView>;
  alertThresholds(): Promise<AlertThresholds>;
  setAlertThresholds(thresholds: AlertThresholds, pin: string): Promise<AlertThresholds>;
  /** The permission advisor's advice as of now (ManageTeam). */
  advisor(): Promise<AdvisorReport>;
  /**
   * Exports this device's data as an encrypted file into Downloads (export permission and
   * PIN checked by the relay); resolves to the file's path.
   */
  exportDeviceBackup(pin: string, passphrase: string): Promise<string>;
  /** Applies a one-click fix (switches the named toggles off for the member). */
  applyAdviceFix(fix: AdviceFix, pin: string): Promise<TeamMember>;

  /**
   * A window of the contact list from the local store (offline, fast; ViewContacts):
   * `query` is a name in any script or a number.
   */
  contacts(query: string, offset: number, limit: number): Promise<ContactsPage>;
  /** One customer (null: unknown here); attributes only with ViewContacts. */
  contact(waId: string): Promise<ContactDetail | null>;
  /** The attributes the team keeps on contacts. */
  contactAttributes(): Promise<ContactAttribute[]>;
  /** Fetches every contact from the relay into the local store; resolves to how many. */
  refreshContacts(): Promise<number>;
  /** Changes a contact's name or attributes (EditContacts). */
  updateContact(waId: string, update: ContactUpdate): Promise<ContactDetail>;
  /**
   * Reads a CSV (a path on this computer, or its text) and previews (`dryRun`) or imports
   * it; rows come back with their errors.
   */
  importContactsCsv(source: CsvSource, dryRun: boolean): Promise<ImportReport>;
  /** The team's automation settings (ConfigureAutomation). */
  automation(): Promise<AutomationView>;
  /**
   * Saves settings edited from `revision`. Fails with `invalid_automation` (the relay's
   * reason: a rule that cannot compile) or `revision_conflict` (someone saved meanwhile).
   */
  saveAutomation(
    enabled: boolean,
    settings: AutomationSettings,
    agents: Record<string, AgentSettings>,
    revision: number,
  ): Promise<AutomationView>;
  /** Which rules would fire for a pasted message and customer, and what they would do. */
  automationDryRun(request: DryRunRequest): Promise<DryRunResult>;
  /** The approved WhatsApp message templates (the relay's cached list; `refresh` fetches anew). */
  messageTemplates(refresh: boolean): Promise<MessageTemplates>;
  /** The team's quick replies from the local store (offline, instant). */
  quickReplies(): Promise<QuickReply[]>;
  /** Fetches the quick replies from the relay into the local store. */
  refreshQuickReplies(): Promise<QuickReply[]>;
  /** Creates (`id` null) or edits a quick reply (ConfigureAutomation). */
  saveQuickReply(id: string | null, draft: QuickReplyDraft): Promise<QuickReply>;
  deleteQuickReply(id: string): Promise<void>;
  /** Uploads a file for sending (checked against WhatsApp's limits first). */
  uploadMedia(bytes: Uint8Array, mimeType: string, fileName: string): Promise<UploadedMedia>;

  /** The team's broadcasts, newest first (SendBroadcasts). */
  broadcasts(): Promise<BroadcastSummary[]>;
  broadcast(id: string): Promise<BroadcastSummary>;
  /**
   * One page of a broadcast's recipients in number order: those after `after` (a wa_id),
   * at most `limit` (≤ 500), only in `state` when given. `next` continues the list.
   */
  broadcastRecipients(id: string, after: string | null, limit: number, state: RecipientState | null): Promise<RecipientPage>;
  /** Who a draft would reach and what they would read; nothing is stored. */
  previewBroadcast(draft: BroadcastDraft): Promise<BroadcastPreview>;
  /**
   * Creates (and starts or schedules) a broadcast. `id` is the idempotency key: the same id
   * again answers the same broadcast. A draft with problems fails with the relay's reason.
   */
  createBroadcast(id: string, draft: BroadcastDraft): Promise<BroadcastSummary>;
  /** Stops a broadcast: recipients not yet sent to are cancelled; sends under way still go. */
  cancelBroadcast(id: string): Promise<BroadcastSummary>;
  /** The daily cap and pacing, with today's cap after halvings and the last 14 days. */
  broadcastSettings(): Promise<BroadcastSettings>;
  saveBroadcastSettings(pacing: Pacing): Promise<BroadcastSettings>;
}

/** Codes the UI itself can raise besides the app's, the engine's and the relay's. */
export type UiErrorCode = string;

/** A failure with a stable code the UI branches on, and the app's own sentence. */
export class BackendError extends Error {
  readonly code: UiErrorCode;

  constructor(code: UiErrorCode, message: string) {
    super(message);
    this.name = 'BackendError';
    this.code = code;
  }

  /** Turns whatever a rejected call produced into a BackendError. */
  static from(raw: unknown): BackendError {
    if (raw instanceof BackendError) return raw;
    if (isIpcError(raw)) return new BackendError(raw.code, raw.message);
    const message = raw instanceof Error ? raw.message : String(raw);
    return new BackendError('internal', message);
  }
}

function isIpcError(raw: unknown): raw is { code: string; message: string } {
  return (
    typeof raw === 'object' &&
    raw !== null &&
    typeof (raw as { code?: unknown }).code === 'string' &&
    typeof (raw as { message?: unknown }).message === 'string'
  );
}
