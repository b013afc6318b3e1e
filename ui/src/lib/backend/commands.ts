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
import { BackendError, type Backend, type BackendEvents, type InboxAfter, type Unlisten } from './index';

/**
 * Runs one app command by name with its camelCase args (or raw bytes plus headers); a
 * transport (Tauri IPC or the HTTP web shell) decides how it travels.
 */
export type Invoke = <T>(
  command: string,
  args?: Record<string, unknown> | Uint8Array,
  options?: { headers: Record<string, string> },
) => Promise<T>;
/** Subscribes to an app event by name; resolves to its unsubscribe function. */
export type Listen = <T>(event: string, handler: (e: { payload: T }) => void) => Promise<Unlisten>;

/** How commands and events travel between this window and the app. */
export interface Transport {
  invoke: Invoke;
  listen: Listen;
}

/** The app's event names (`crates/shell/src/host.rs`), the same in both shells, for each handler. */
const EVENTS: Record<keyof BackendEvents, string> = {
  connectionState: 'connection-state',
  clientEvent: 'client-event',
  unread: 'unread',
  openConversation: 'open-conversation',
  broadcastChanged: 'broadcast-changed',
};

/**
 * The Backend as named app commands over any transport, so the Tauri shell and the HTTP web
 * shell share one name-and-args mapping. Rejections arrive as `{ code, message }` and become
 * BackendErrors.
 */
export class CommandBackend implements Backend {
  private readonly invoke: Invoke;
  private readonly listenTo: Listen | null;

  constructor(invoke: Invoke, listen: Listen | null = null) {
    this.invoke = invoke;
    this.listenTo = listen;
  }

  appInfo = () => this.call<AppInfo>('app_info');
  connectionState = () => this.call<ConnectionState>('connection_state');
  session = () => this.call<Session>('session');
  tryDemo = () => this.call<void>('try_demo');
  leaveDemo = () => this.call<void>('leave_demo');
  linkDevice = (relayUrl: string, code: string, deviceName?: string, passphrase?: string) =>
    this.call<LinkInfo>('link_device', {
      relayUrl,
      code,
      deviceName: deviceName ?? null,
      passphrase: passphrase ?? null,
    });
  restoreDeviceBackup = (path: string, passphrase: string, relayUrl: string, code: string, deviceName?: string) =>
    this.call<RestoredBackup>('restore_device_backup', {
      path,
      passphrase,
      relayUrl,
      code,
      deviceName: deviceName ?? null,
    });
  unlock = (passphrase: string) => this.call<void>('unlock', { passphrase });
  retryOpen = () => this.call<void>('retry_open');
  reconnectNow = () => this.call<void>('reconnect_now');

  async listen(handlers: Partial<BackendEvents>): Promise<Unlisten> {
    if (!this.listenTo) return () => {};
    const listen = this.listenTo;
    const stops = await Promise.all(
      (Object.keys(handlers) as (keyof BackendEvents)[]).map((key) => {
        const handler = handlers[key] as (payload: unknown) => void;
        return listen<unknown>(EVENTS[key], (e) => handler(e.payload));
      }),
    );
    return () => stops.forEach((stop) => stop());
  }

  inbox = (limit?: number, after?: InboxAfter) =>
    this.call<InboxRow[]>('inbox', { limit: limit ?? null, after: after ?? null });
  inboxRows = (ids: string[]) => this.call<InboxRow[]>('inbox_rows', { ids });
  timeline = (conversationId: string, limit?: number, before?: string) =>
    this.call<TimelineItem[]>('timeline', {
      conversationId,
      limit: limit ?? null,
      before: before ?? null,
    });
  /** The shell answers raw bytes, which arrive as an ArrayBuffer. */
  messageMedia = (messageId: string) => this.call<ArrayBuffer>('message_media', { messageId });
  saveMessageMedia = (messageId: string) => this.call<string>('save_message_media', { messageId });
  openExternal = (url: string) => this.call<void>('open_external', { url });
  loadHistory = (conversationId: string, before: string | null) =>
    this.call<HistoryPage>('load_history', { conversationId, before });
  markRead = (conversationId: string) => this.call<boolean>('mark_read', { conversationId });
  sendCommand = (command: Command) => this.call<OutboxEntry | null>('send_command', { command });
  search = (query: string, limit?: number) =>
    this.call<SearchResult[]>('search', { query, limit: limit ?? null });
  notes = (conversationId: string) => this.call<NoteItem[]>('notes', { conversationId });
  memberNames = () => this.call<MemberName[]>('member_names');
  labels = () => this.call<LabelChip[]>('labels');
  refreshLabels = () => this.call<LabelChip[]>('refresh_labels');
  createLabel = (name: string, colour: string) => this.call<void>('create_label', { name, colour });
  recolourLabel = (name: string, colour: string) => this.call<void>('recolour_label', { name, colour });
  deleteLabel = (name: string) => this.call<void>('delete_label', { name });
  sendText = (conversationId: string, text: string) =>
    this.call<OutboxEntry | null>('send_text', { conversationId, text });
  claim = (conversationId: string) => this.call<void>('claim', { conversationId });
  outbox = () => this.call<OutboxEntry[]>('outbox');
  discardOutbox = (id: string) => this.call<boolean>('discard_outbox', { id });
  notificationSettings = () => this.call<NotificationSettings>('notification_settings');
  setNotificationSettings = (settings: NotificationSettings) =>
    this.call<void>('set_notification_settings', { settings });

  contacts = (query: string, offset: number, limit: number) =>
    this.call<ContactsPage>('contacts', { query, offset, limit });
  contact = (waId: string) => this.call<ContactDetail | null>('contact', { waId });
  contactAttributes = () => this.call<ContactAttribute[]>('contact_attributes');
  refreshContacts = () => this.call<number>('refresh_contacts');
  updateContact = (waId: string, update: ContactUpdate) =>
    this.call<ContactDetail>('update_contact', { waId, update });
  importContactsCsv = (source: CsvSource, dryRun: boolean) =>
    this.call<ImportReport>('import_contacts_csv', { source, dryRun });

  teamMembers = () => this.call<TeamMember[]>('team_members');
  createMember = (name: string, change: MemberChange, pin: string) =>
    this.call<TeamMember>('create_member', { name, change, pin });
  updateMember = (id: string, change: MemberChange, pin: string) =>
    this.call<TeamMember>('update_member', { id, change, pin });
  deactivateMember = (id: string, pin: string) =>
    this.call<TeamMember>('deactivate_member', { id, pin });
  resetMemberPin = (id: string, newPin: string, pin: string) =>
    this.call<void>('reset_member_pin', { id, newPin, pin });
  setOwnPin = (newPin: string, currentPin: string | null) =>
    this.call<void>('set_own_pin', { newPin, currentPin });
  teamDevices = () => this.call<TeamDevices>('team_devices');
  updateDevice = (id: string, change: DeviceChange, pin: string) =>
    this.call<TeamDevice>('update_device', { id, change, pin });
  unlinkDevice = (id: string, pin: string) => this.call<void>('unlink_device', { id, pin });
  auditPage = (filter: AuditFilter) => this.call<AuditPage>('audit_page', { filter });
  messageTemplates = (refresh: boolean) => this.call<MessageTemplates>('message_templates', { refresh });
  quickReplies = () => this.call<QuickReply[]>('quick_replies');
  refreshQuickReplies = () => this.call<QuickReply[]>('refresh_quick_replies');
  saveQuickReply = (id: string | null, draft: QuickReplyDraft) => this.call<QuickReply>('save_quick_reply', { id, draft });
  deleteQuickReply = (id: string) => this.call<void>('delete_quick_reply', { id });
  /** The bytes go as the raw body (no JSON array of numbers for a 100 MB file). */
  uploadMedia = (bytes: Uint8Array, mimeType: string, fileName: string) =>
    this.call<UploadedMedia>('upload_media', bytes, {
      headers: { 'x-mime-type': mimeType, 'x-file-name': encodeURIComponent(fileName) },
    });
  verifyAudit = () => this.call<AuditVerification>('verify_audit');
  exportAudit = (format: AuditFormat, filter: AuditFilter, pin: string) =>
    this.call<string>('export_audit', { format, filter, pin });
  alerts = (openOnly: boolean, before?: string) =>
    this.call<AlertPage>('alerts', { openOnly, before: before ?? null });
  acknowledgeAlert = (id: string, comment: string, pin: string) =>
    this.call<AlertView>('acknowledge_alert', { id, comment, pin });
  alertThresholds = () => this.call<AlertThresholds>('alert_thresholds');
  setAlertThresholds = (thresholds: AlertThresholds, pin: string) =>
    this.call<AlertThresholds>('set_alert_thresholds', { thresholds, pin });
  advisor = () => this.call<AdvisorReport>('advisor');
  exportDeviceBackup = (pin: string, passphrase: string) =>
    this.call<string>('export_device_backup', { pin, passphrase });
  applyAdviceFix = (fix: AdviceFix, pin: string) => this.call<TeamMember>('apply_advice_fix', { fix, pin });
  teamTemplates = () => this.call<TeamTemplate[]>('team_templates');
  saveTemplate = (id: string | null, draft: TemplateDraft, pin: string) =>
    this.call<TeamTemplate>('save_template', { id, draft, pin });
  deleteTemplate = (id: string, pin: string) => this.call<void>('delete_template', { id, pin });
  teamSettings = () => this.call<TeamSettings>('team_settings');
  updateTeamSettings = (deviceCap: number | null, autoUnlinkIdle: boolean | null, pin: string) =>
    this.call<TeamSettings>('update_team_settings', { deviceCap, autoUnlinkIdle, pin });
  createPairingCode = (request: NewPairingCode) =>
    this.call<PairingCode>('create_pairing_code', { request });
  signIn = (memberId: string, pin: string) => this.call<SignedIn>('sign_in', { memberId, pin });
  signOut = () => this.call<void>('sign_out');
  automation = () => this.call<AutomationView>('automation');
  saveAutomation = (
    enabled: boolean,
    settings: AutomationSettings,
    agents: Record<string, AgentSettings>,
    revision: number,
  ) => this.call<AutomationView>('save_automation', { enabled, settings, agents, revision });
  automationDryRun = (request: DryRunRequest) => this.call<DryRunResult>('automation_dry_run', { request });
  broadcasts = () => this.call<BroadcastSummary[]>('broadcasts');
  broadcast = (id: string) => this.call<BroadcastSummary>('broadcast', { id });
  broadcastRecipients = (id: string, after: string | null, limit: number, state: RecipientState | null) =>
    this.call<RecipientPage>('broadcast_recipients', { id, after, limit, state });
  previewBroadcast = (draft: BroadcastDraft) => this.call<BroadcastPreview>('preview_broadcast', { draft });
  createBroadcast = (id: string, draft: BroadcastDraft) => this.call<BroadcastSummary>('create_broadcast', { id, draft });
  cancelBroadcast = (id: string) => this.call<BroadcastSummary>('cancel_broadcast', { id });
  broadcastSettings = () => this.call<BroadcastSettings>('broadcast_settings');
  saveBroadcastSettings = (pacing: Pacing) => this.call<BroadcastSettings>('save_broadcast_settings', { pacing });

  private async call<T>(
    command: string,
    args?: Record<string, unknown> | Uint8Array,
    options?: { headers: Record<string, string> },
  ): Promise<T> {
    try {
      return await (options ? this.invoke<T>(command, args, options) : this.invoke<T>(command, args));
    } catch (raw) {
      throw BackendError.from(raw);
    }
  }
}
