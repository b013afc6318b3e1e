// An in-memory Backend for UI unit tests: it keeps state like the app would, records every
// call, refuses wrong PINs like the relay, and lets a test push the app's events.
import { BackendError, type Backend, type BackendEvents, type InboxAfter, type Unlisten } from '../backend';
import type { AdviceFix } from '../bindings/AdviceFix';
import type { MessageTemplate } from '../bindings/MessageTemplate';
import type { MessageTemplates } from '../bindings/MessageTemplates';
import type { QuickReply } from '../bindings/QuickReply';
import type { QuickReplyDraft } from '../bindings/QuickReplyDraft';
import type { UploadedMedia } from '../bindings/UploadedMedia';
import { checkFile } from '../inbox/composer/logic';
import type { AdviceView } from '../bindings/AdviceView';
import type { AdvisorReport } from '../bindings/AdvisorReport';
import type { AlertPage } from '../bindings/AlertPage';
import type { AlertThresholds } from '../bindings/AlertThresholds';
import type { AlertView } from '../bindings/AlertView';
import type { AppInfo } from '../bindings/AppInfo';
import type { RestoredBackup } from '../bindings/RestoredBackup';
import type { AuditEntry } from '../bindings/AuditEntry';
import type { AuditFilter } from '../bindings/AuditFilter';
import type { AuditFormat } from '../bindings/AuditFormat';
import type { AuditPage } from '../bindings/AuditPage';
import type { AuditVerification } from '../bindings/AuditVerification';
import type { Command } from '../bindings/Command';
import type { ConnectionState } from '../bindings/ConnectionState';
import type { ContactAttribute } from '../bindings/ContactAttribute';
import type { ContactDetail } from '../bindings/ContactDetail';
import type { ContactUpdate } from '../bindings/ContactUpdate';
import type { ContactsPage } from '../bindings/ContactsPage';
import type { CsvSource } from '../bindings/CsvSource';
import type { ImportReport } from '../bindings/ImportReport';
import type { ImportRowReport } from '../bindings/ImportRowReport';
import type { DeviceChange } from '../bindings/DeviceChange';
import type { HistoryPage } from '../bindings/HistoryPage';
import type { InboxRow } from '../bindings/InboxRow';
import type { LabelChip } from '../bindings/LabelChip';
import type { LinkInfo } from '../bindings/LinkInfo';
import type { MeView as Me } from '../bindings/Me';
import type { MemberChange } from '../bindings/MemberChange';
import type { MemberName } from '../bindings/MemberName';
import type { NewPairingCode } from '../bindings/NewPairingCode';
import type { NoteItem } from '../bindings/NoteItem';
import type { NotificationSettings } from '../bindings/NotificationSettings';
import type { OutboxEntry } from '../bindings/OutboxEntry';
import type { PairingCode } from '../bindings/PairingCode';
import type { Permission } from '../bindings/Permission';
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
import { matchingPreset, normalise, PERMISSIONS, presetPermissions } from '../permissions';
import type { AgentSettings } from '../bindings/AgentSettings';
import type { AutomationSettings } from '../bindings/AutomationSettings';
import type { AutomationView } from '../bindings/AutomationView';
import type { DryRunRequest } from '../bindings/DryRunRequest';
import type { DryRunResult } from '../bindings/DryRunResult';
import { compileProblem, defaultAutomationView, dryRun, DEFAULT_LOADS } from './fakeAutomation';
import type { BroadcastDraft } from '../bindings/BroadcastDraft';
import type { Pacing } from '../bindings/BroadcastPacing';
import type { RecipientState } from '../bindings/RecipientState';
import { FakeBroadcasts } from './fakeBroadcasts';

export const ME_ID = '00000000-0000-7000-8000-000000000001';
export const DEVICE_ID = '00000000-0000-7000-8000-0000000000d1';

export const info: AppInfo = {
  version: '9.9.9',
  data_dir: '/tmp/teamline',
  build_profile: 'debug',
  os: 'linux',
  os_locale: 'en-US',
};

export function me(permissions: readonly Permission[] = PERMISSIONS, extra: Partial<Me> = {}): Me {
  return {
    device_id: DEVICE_ID,
    member_id: ME_ID,
    member_name: 'Olga',
    role: 'admin',
    teams: [],
    permissions: [...permissions],
    shared: null,
    ...extra,
  };
}

let seq = 0;
function id(prefix: string): string {
  seq += 1;
  return `${prefix}-${String(seq).padStart(4, '0')}`;
}

export function row(extra: Partial<InboxRow> = {}): InboxRow {
  return {
    id: id('conv'),
    customer_name: 'Maria Lopez',
    customer_number: '+34600111222',
    status: 'open',
    assignee: null,
    labels: [],
    last_message_preview: 'Hello, is my order ready?',
    last_message_at: new Date(Date.now() - 5 * 60_000).toISOString(),
    unread_count: 0,
    window_expires_at: null,
    waiting_since: null,
    priority: null,
    sla: null,
    ...extra,
  };
}

export function item(extra: Partial<TimelineItem> = {}): TimelineItem {
  return {
    id: id('msg'),
    direction: 'inbound',
    kind: 'text',
    text: 'Hi',
    status: 'received',
    error: null,
    author: null,
    sent_at: new Date().toISOString(),
    content: { kind: 'text', body: extra.text ?? 'Hi' },
    reply_to: null,
    forwarded: false,
    reactions: [],
    ...extra,
  };
}

export function member(extra: Partial<TeamMember> = {}): TeamMember {
  const permissions = extra.permissions ?? presetPermissions('standard');
  return {
    id: id('member'),
    name: 'Ana',
    preset: 'standard',
    matches_preset: matchingPreset(permissions),
    permissions,
    summary: 'Can reply to conversations assigned to them, see contacts and apply labels.',
    teams: [],
    templates: [],
    active: true,
    has_pin: true,
    created_at: new Date().toISOString(),
    ...extra,
  };
}

export function device(extra: Partial<TeamDevice> = {}): TeamDevice {
  return {
    id: id('device'),
    name: 'Front desk',
    os: 'windows',
    os_version: '11',
    app_version: '0.1.0',
    linked_at: new Date(Date.now() - 86_400_000).toISOString(),
    last_seen: new Date(Date.now() - 120_000).toISOString(),
    last_address: '192.0.2.10',
    level: { preset: 'standard' },
    member_id: ME_ID,
    signed_in_member_id: ME_ID,
    shared: false,
    allowed_members: null,
    idle: false,
    revoked_at: null,
    ...extra,
  };
}

export function note(extra: Partial<NoteItem> = {}): NoteItem {
  return {
    id: id('note'),
    author: { id: 'm-ana', name: 'Ana' },
    text: 'Customer is a regular, be kind',
    created_at: new Date().toISOString(),
    ...extra,
  };
}

let auditSeq = 0;

/** An audit entry; `seq` (and the chain index) count up across calls unless given. */
export function auditEntry(extra: Partial<AuditEntry> = {}): AuditEntry {
  auditSeq += 1;
  const seq = extra.seq ?? auditSeq;
  return {
    seq,
    kind: 'audit.member_updated',
    actor_member_id: ME_ID,
    device_id: DEVICE_ID,
    address: '192.0.2.10',
    target: { member_id: 'm-ana' },
    before: { name: 'Ana', permissions: ['reply'] },
    after: { name: 'Ana', permissions: ['apply_labels', 'reply'] },
    created_at: new Date(Date.now() - 60_000).toISOString(),
    index: seq,
    mac: seq.toString(16).padStart(64, '0'),
    ...extra,
  };
}

export function alertView(extra: Partial<AlertView> = {}): AlertView {
  return {
    id: id('alert'),
    rule: 'permission_change_burst',
    raised_at: new Date(Date.now() - 10 * 60_000).toISOString(),
    facts: { event: {}, related_at: [] },
    params: { address: '198.51.100.7', count: '3', window_minutes: '60', who: 'Boris' },
    summary: '3 permission changes from address 198.51.100.7 within 60 minutes (the last by Boris).',
    acknowledged: null,
    ...extra,
  };
}

export function advice(extra: Partial<AdviceView> = {}): AdviceView {
  return {
    code: 'delete_and_broadcast',
    severity: 'warning',
    member_ids: ['m-boris'],
    template_ids: [],
    permissions: ['delete_history', 'send_broadcasts'],
    params: { name: 'Boris' },
    summary: 'Boris can both delete history and send broadcasts; give these rights to different people.',
    fixes: [
      { remove_toggles: { member_id: 'm-boris', permissions: ['send_broadcasts'] }, toggles_after: null },
      { remove_toggles: { member_id: 'm-boris', permissions: ['delete_history'] }, toggles_after: null },
    ],
    ...extra,
  };
}

/** The relay's default alert thresholds (issue 9). */
export function defaultThresholds(): AlertThresholds {
  return {
    permission_change_off_hours: { enabled: true, work_hours: { start: '08:00', end: '20:00' } },
    permission_change_burst: { enabled: true, count: 3, window_minutes: 60 },
    night_sign_in: { enabled: true, night: { start: '03:00', end: '05:00' } },
    new_device_os: { enabled: true },
    pairing_failure_burst: { enabled: true, count: 3, window_minutes: 10 },
    device_idle: { enabled: true, days: 7 },
  };
}

function sameFix(a: AdviceFix, b: AdviceFix): boolean {
  const set = (f: AdviceFix) => [...f.remove_toggles.permissions].sort().join(',');
  return a.remove_toggles.member_id === b.remove_toggles.member_id && set(a) === set(b);
}


/** A contact detail as the engine builds it (defaults: a VIP with one open conversation). */
export function contactDetail(extra: Partial<ContactDetail> = {}): ContactDetail {
  return {
    wa_id: '34600111222',
    name: 'Maria Lopez',
    profile_name: 'Maria',
    display_name: 'Maria Lopez',
    attributes: { monthly_spend_usd: 640, vip: true, city: 'Madrid' },
    attribute_defs: [
      { key: 'city', kind: 'text' },
      { key: 'email', kind: 'text' },
      { key: 'monthly_spend_usd', kind: 'number' },
      { key: 'vip', kind: 'boolean' },
    ],
    labels: [{ id: 'l-urgent', name: 'urgent', colour: '#d14343', urgent: true }],
    conversations: [
      {
        id: 'conv-maria',
        status: 'open',
        last_message_preview: 'Hello, is my order ready?',
        last_message_at: new Date(Date.now() - 5 * 60_000).toISOString(),
        assignee: { id: 'm-ana', name: 'Ana' },
        labels: [{ id: 'l-urgent', name: 'urgent', colour: '#d14343', urgent: true }],
      },
    ],
    notes: [{ conversation_id: 'conv-maria', note: note({ text: 'Prefers delivery after 6 pm' }) }],
    can_view_contact: true,
    can_edit: true,
    ...extra,
  };
}

/** Splits CSV text into records of cells (quotes, "" escapes, commas/semicolons, BOM). */
function csvRecords(text: string): { line: number; cells: string[]; open: boolean }[] {
  const body = text.replace(/^\uFEFF/, '');
  const header = body.split(/\r?\n/)[0] ?? '';
  const delim = (header.match(/;/g)?.length ?? 0) > (header.match(/,/g)?.length ?? 0) ? ';' : ',';
  const out: { line: number; cells: string[]; open: boolean }[] = [];
  let cells: string[] = [];
  let cell = '';
  let quoted = false;
  let line = 1;
  let start = 1;
  for (let i = 0; i < body.length; i++) {
    const c = body[i];
    if (quoted) {
      if (c === '"' && body[i + 1] === '"') {
        cell += '"';
        i++;
      } else if (c === '"') quoted = false;
      else {
        if (c === '\n') line++;
        if (c !== '\r') cell += c;
      }
    } else if (c === '"' && cell === '') quoted = true;
    else if (c === delim) {
      cells.push(cell);
      cell = '';
    } else if (c === '\n') {
      cells.push(cell);
      out.push({ line: start, cells, open: false });
      cells = [];
      cell = '';
      line++;
      start = line;
    } else if (c !== '\r') cell += c;
  }
  if (quoted || cell !== '' || cells.length) {
    cells.push(cell);
    out.push({ line: start, cells, open: quoted });
  }
  return out.filter((r) => r.open || r.cells.some((x) => x.trim() !== ''));
}

/** A WhatsApp id from a typed number, like the relay (7–15 digits, no leading 0). */
export function waIdOf(raw: string): string | null {
  const t = raw.trim();
  if (!/^\+?[0-9 ().\-]+$/.test(t)) return null;
  const digits = t.replace(/\D/g, '');
  return digits.length >= 7 && digits.length <= 15 && !digits.startsWith('0') ? digits : null;
}

/** The `Command` variant with this `type`. */
export type CommandOf<T extends Command['type']> = Extract<Command, { type: T }>;

type Call = { name: string; args: unknown[] };

/** An approved template as the relay lists it. */
export function messageTemplate(extra: Partial<MessageTemplate> = {}): MessageTemplate {
  return {
    name: 'order_update',
    language: 'en_US',
    category: 'UTILITY',
    id: '1001',
    header: null,
    header_format: null,
    body: 'Hi {{1}}, your order {{2}} has shipped.',
    footer: null,
    header_params: [],
    body_params: ['1', '2'],
    examples: ['Ana', 'A-17'],
    sendable: true,
    ...extra,
  };
}

export class FakeBackend implements Backend {
  calls: Call[] = [];
  connection: ConnectionState = { state: 'connected' };
  session_: Session = { linked: true, me: me(), startup_error: null, relay_url: 'https://relay.test', demo: false };
  /** The conversation list in the store's order (most recent activity first). */
  rows: InboxRow[] = [];
  timelines = new Map<string, TimelineItem[]>();
  /**
   * Older pages the relay still holds per conversation, newest page first; `loadHistory`
   * moves one page into `timelines`.
   */
  history = new Map<string, TimelineItem[][]>();
  notesBy = new Map<string, NoteItem[]>();
  names: MemberName[] = [
    { id: ME_ID, name: 'Olga' },
    { id: 'm-ana', name: 'Ana' },
    { id: 'm-boris', name: 'Boris' },
    { id: 'm-chen', name: 'Chen' },
  ];
  teamLabels: LabelChip[] = [];
  searchResults: SearchResult[] = [];
  outboxEntries: OutboxEntry[] = [];
  members: TeamMember[] = [];
  devices: TeamDevice[] = [];
  deviceCap = 20;
  templates: TeamTemplate[] = [];
  settings: TeamSettings = { device_cap: 20, auto_unlink_idle: false, timezone: 'Europe/Madrid' } as unknown as TeamSettings;
  /** The signed-in member's PIN, as the relay knows it. */
  correctPin = '246810';
  /** Set to lock sensitive actions until this time. */
  lockedUntil: string | null = null;
  pairingLifetimeMs = 90_000;
  /** Media bytes by message id; a message missing here answers `media_not_ready`. */
  media = new Map<string, Uint8Array>();
  /** Links `openExternal` was asked to open. */
  opened: string[] = [];
  /** Files `saveMessageMedia` saved. */
  saved: string[] = [];
  /** The next call of this name fails with this error (once). */
  failNext = new Map<string, BackendError>();
  /** Resolves linkDevice only when the test says so (null: at once). */
  linkGate: Promise<void> | null = null;
  handlers: Partial<BackendEvents> = {};
  /** The relay's audit log (any order; pages come newest first). */
  audit: AuditEntry[] = [];
  /** What "Verify" answers; null: an intact chain over `audit`. */
  verification: AuditVerification | null = null;
  /** Resolves verifyAudit only when the test says so (null: at once). */
  verifyGate: Promise<void> | null = null;
  /** Where exports are saved (the file name is added). */
  downloads = '/home/olga/Downloads';
  alertList: AlertView[] = [];
  alertPageSize = 50;
  thresholds: AlertThresholds = defaultThresholds();
  adviceList: AdviceView[] = [];
  advisorCheckedAt = new Date(Date.now() - 3_600_000).toISOString();
  /** Contacts in the local store, by number. */
  contactBook = new Map<string, ContactDetail>();
  attributeDefs: ContactAttribute[] = contactDetail().attribute_defs;
  /** Resolves importContactsCsv only when the test says so (null: at once). */
  importGate: Promise<void> | null = null;

  private may(permission: Permission): boolean {
    return this.session_.me?.permissions.includes(permission) ?? false;
  }

  private requireContacts(permission: Permission) {
    if (!this.may(permission)) {
      throw new BackendError('permission_denied', 'You are not allowed to do this.');
    }
  }
  /** The relay's automation document (defaults for a new team). */
  automationView: AutomationView = defaultAutomationView();
  /** Members' loads the dry run sees (online, assigned, waiting). */
  automationLoads = structuredClone(DEFAULT_LOADS);
  /** Resolves saveAutomation only when the test says so (null: at once). */
  automationSaveGate: Promise<void> | null = null;
  /** The relay's approved templates. */
  messageTemplateList: MessageTemplate[] = [
    messageTemplate(),
    messageTemplate({ name: 'hello_world', id: '1002', body: 'Hello World', body_params: [], examples: [] }),
  ];
  quickReplyList: QuickReply[] = [];
  /** Uploaded files by media id. */
  uploads = new Map<string, UploadedMedia>();
  /** The relay's broadcasts (audience, worker, cap settings). */
  bcast = new FakeBroadcasts(() => this.messageTemplateList, ME_ID);

  private record(name: string, ...args: unknown[]) {
    this.calls.push({ name, args });
    const failure = this.failNext.get(name);
    if (failure) {
      this.failNext.delete(name);
      throw failure;
    }
  }

  called(name: string): Call[] {
    return this.calls.filter((c) => c.name === name);
  }

  private checkPin(pin: string) {
    if (this.lockedUntil) {
      throw new BackendError(
        'pin_locked',
        `the relay refused: Too many wrong PINs: sensitive actions are locked until ${this.lockedUntil}. (pin_locked)`,
      );
    }
    if (pin !== this.correctPin) {
      throw new BackendError(
        'pin_invalid',
        'the relay refused: Wrong PIN. 4 attempt(s) left before sensitive actions are locked for 15 minutes. (pin_invalid)',
      );
    }
  }

  /** Pushes an app event to the window, as Tauri would. */
  emit<K extends keyof BackendEvents>(event: K, payload: Parameters<BackendEvents[K]>[0]) {
    const handler = this.handlers[event] as ((p: typeof payload) => void) | undefined;
    handler?.(payload);
  }

  appInfo = async () => {
    this.record('appInfo');
    return info;
  };
  connectionState = async () => {
    this.record('connectionState');
    return this.connection;
  };
  session = async () => {
    this.record('session');
    return structuredClone(this.session_);
  };
  /** The passphrase `unlock` accepts (a locked fake starts with `connection = locked`). */
  passphrase = 'correct horse battery staple';
  linkDevice = async (
    relayUrl: string,
    code: string,
    deviceName?: string,
    passphrase?: string,
  ): Promise<LinkInfo> => {
    this.record('linkDevice', relayUrl, code, deviceName, passphrase);
    if (this.linkGate) await this.linkGate;
    this.session_ = { ...this.session_, linked: true, relay_url: relayUrl };
    this.connection = { state: 'connected' };
    return { device_id: DEVICE_ID, member_id: ME_ID, relay_url: relayUrl };
  };
  /** Set to make `tryDemo` fail with this error. */
  demoFailure: Error | null = null;
  tryDemo = async () => {
    this.record('tryDemo');
    if (this.linkGate) await this.linkGate;
    if (this.demoFailure) throw this.demoFailure;
    this.session_ = { ...this.session_, linked: true, relay_url: 'http://127.0.0.1:40123', demo: true };
    this.connection = { state: 'connected' };
  };
  leaveDemo = async () => {
    this.record('leaveDemo');
    if (!this.session_.demo) throw new BackendError('not_in_demo', 'This window is not running the demo.');
    this.session_ = { linked: false, me: null, startup_error: null, relay_url: null, demo: false };
    this.connection = { state: 'not_linked' };
  };
  reconnectNow = async () => {
    this.record('reconnectNow');
  };
  /** The passphrase of the backup file `restoreDeviceBackup` accepts. */
  backupPassphrase = 'old laptop backup';
  restoreDeviceBackup = async (
    path: string,
    passphrase: string,
    relayUrl: string,
    code: string,
    deviceName?: string,
  ): Promise<RestoredBackup> => {
    this.record('restoreDeviceBackup', path, passphrase, relayUrl, code, deviceName);
    if (passphrase !== this.backupPassphrase) {
      throw new BackendError('backup_wrong_passphrase', 'This passphrase does not open the backup.');
    }
    this.session_ = { ...this.session_, linked: true, relay_url: relayUrl };
    this.connection = { state: 'connected' };
    return {
      link: { device_id: DEVICE_ID, member_id: ME_ID, relay_url: relayUrl },
      cursor: 42,
      conversations: 3,
      messages: 17,
      unsent_outbox: 0,
    };
  };
  unlock = async (passphrase: string) => {
    this.record('unlock', passphrase);
    if (passphrase !== this.passphrase) {
      throw new BackendError(
        'store_wrong_key',
        'the key does not open the local store (wrong key or passphrase)',
      );
    }
    this.connection = { state: 'connected' };
    this.emit('connectionState', this.connection);
  };
  retryOpen = async () => {
    this.record('retryOpen');
    this.session_ = { ...this.session_, startup_error: null };
  };
  listen = async (handlers: Partial<BackendEvents>): Promise<Unlisten> => {
    this.record('listen');
    this.handlers = handlers;
    return () => {
      this.handlers = {};
    };
  };

  inbox = async (limit?: number, after?: InboxAfter) => {
    this.record('inbox', limit, after);
    if (limit === undefined) return structuredClone(this.rows);
    // `rows` stand for the store's order (most recent activity first) as the test gave them.
    const start = after ? this.rows.findIndex((row) => row.id === after.id) + 1 : 0;
    return structuredClone(this.rows.slice(start, start + limit));
  };
  inboxRows = async (ids: string[]) => {
    this.record('inboxRows', ids);
    return structuredClone(this.rows.filter((row) => ids.includes(row.id)));
  };
  timeline = async (conversationId: string, limit?: number, before?: string) => {
    this.record('timeline', conversationId, limit, before);
    let list = this.timelines.get(conversationId) ?? [];
    if (before) list = list.filter((x) => Date.parse(x.sent_at) < Date.parse(before));
    if (limit !== undefined) list = list.slice(Math.max(0, list.length - limit));
    return structuredClone(list);
  };
  messageMedia = async (messageId: string): Promise<ArrayBuffer> => {
    this.record('messageMedia', messageId);
    const found = [...this.timelines.values()].flat().find((x) => x.id === messageId);
    const kinds = ['image', 'video', 'audio', 'document', 'sticker'];
    if (!found || !kinds.includes(found.content.kind)) throw new BackendError('no_media', 'this message has no media to show');
    const bytes = this.media.get(messageId);
    if (!bytes) throw new BackendError('media_not_ready', 'this media is still downloading');
    return bytes.slice().buffer;
  };
  saveMessageMedia = async (messageId: string) => {
    await this.messageMedia(messageId);
    this.record('saveMessageMedia', messageId);
    const path = `/home/olga/Downloads/${messageId}`;
    this.saved.push(path);
    return path;
  };
  openExternal = async (url: string) => {
    this.record('openExternal', url);
    if (!/^https?:\/\//.test(url)) throw new BackendError('invalid_input', 'only http and https links open');
    this.opened.push(url);
  };
  loadHistory = async (conversationId: string, before: string | null): Promise<HistoryPage> => {
    this.record('loadHistory', conversationId, before);
    const pages = this.history.get(conversationId) ?? [];
    const page = pages.shift() ?? [];
    this.timelines.set(conversationId, [...page, ...(this.timelines.get(conversationId) ?? [])]);
    return { messages: page.length, next_before: pages.length > 0 ? (page[0]?.id ?? null) : null };
  };
  /** Applies a command at once, as if the relay had accepted it (state `sent`). */
  sendCommand = async (command: Command): Promise<OutboxEntry | null> => {
    this.record('sendCommand', command);
    if (command.type === 'typing' || command.type === 'viewing') return null;
    const r = this.rows.find((x) => x.id === command.conversation_id);
    let text: string | null = null;
    switch (command.type) {
      case 'assign': {
        const who = this.names.find((m) => m.id === command.member_id);
        if (r && who) r.assignee = { ...who };
        break;
      }
      case 'unassign':
        if (r) r.assignee = null;
        break;
      case 'close':
        if (r) r.status = 'resolved';
        break;
      case 'reopen':
        if (r) r.status = 'open';
        break;
      case 'snooze':
        if (r) r.status = 'snoozed';
        break;
      case 'add_label': {
        const known = this.teamLabels.find((l) => l.name === command.label);
        const chip = known ?? { id: id('label'), name: command.label, colour: '#64748b', urgent: false };
        if (!known) this.teamLabels.push(chip);
        if (r && !r.labels.some((l) => l.name === chip.name)) r.labels.push({ ...chip });
        break;
      }
      case 'remove_label':
        if (r) r.labels = r.labels.filter((l) => l.name !== command.label);
        break;
      case 'add_note': {
        text = command.text;
        const list = this.notesBy.get(command.conversation_id) ?? [];
        list.push(note({ author: { id: ME_ID, name: 'Olga' }, text: command.text }));
        this.notesBy.set(command.conversation_id, list);
        break;
      }
      case 'send_text':
        text = command.text;
        break;
    }
    const entry: OutboxEntry = {
      id: id('outbox'),
      kind: command.type,
      conversation_id: command.conversation_id,
      text,
      state: command.type === 'send_text' ? 'pending' : 'sent',
      attempts: 0,
      last_error: null,
      created_at: new Date().toISOString(),
    };
    this.outboxEntries.push(entry);
    return structuredClone(entry);
  };
  /** The commands sent so far, of one type. */
  commands<T extends Command['type']>(type: T): CommandOf<T>[] {
    return this.called('sendCommand')
      .map((c) => c.args[0] as Command)
      .filter((c): c is CommandOf<T> => c.type === type);
  }
  search = async (query: string, limit?: number) => {
    this.record('search', query, limit);
    const q = query.trim().toLowerCase();
    return structuredClone(
      this.searchResults.filter((r) => r.parts.some((p) => p.text.toLowerCase().includes(q)) || r.customer_name.toLowerCase().includes(q)),
    );
  };
  notes = async (conversationId: string) => {
    this.record('notes', conversationId);
    return structuredClone(this.notesBy.get(conversationId) ?? []);
  };
  memberNames = async () => {
    this.record('memberNames');
    return structuredClone(this.names);
  };
  refreshLabels = async () => {
    this.record('refreshLabels');
    return structuredClone(this.teamLabels);
  };
  createLabel = async (name: string, colour: string) => {
    this.record('createLabel', name, colour);
    if (this.teamLabels.some((l) => l.name.toLowerCase() === name.trim().toLowerCase())) {
      throw new BackendError('label_exists', `The team already has a label called "${name.trim()}".`);
    }
    if (this.teamLabels.length >= 20) {
      throw new BackendError('label_limit', 'The team already has 20 labels; remove one first.');
    }
    this.teamLabels.push({ id: id('label'), name: name.trim(), colour, urgent: false });
  };
  recolourLabel = async (name: string, colour: string) => {
    this.record('recolourLabel', name, colour);
    const l = this.teamLabels.find((x) => x.name.toLowerCase() === name.toLowerCase());
    if (!l) throw new BackendError('not_found', `The team has no label called "${name}".`);
    l.colour = colour;
  };
  deleteLabel = async (name: string) => {
    this.record('deleteLabel', name);
    this.teamLabels = this.teamLabels.filter((l) => l.name.toLowerCase() !== name.toLowerCase());
    for (const r of this.rows) r.labels = r.labels.filter((l) => l.name.toLowerCase() !== name.toLowerCase());
  };
  labels = async () => {
    this.record('labels');
    return structuredClone(this.teamLabels);
  };
  markRead = async (conversationId: string) => {
    this.record('markRead', conversationId);
    const row = this.rows.find((r) => r.id === conversationId);
    if (!row || row.unread_count === 0) return false;
    row.unread_count = 0;
    return true;
  };
  sendText = async (conversationId: string, text: string) => {
    this.record('sendText', conversationId, text);
    const entry: OutboxEntry = {
      id: id('outbox'),
      kind: 'send_text',
      conversation_id: conversationId,
      text,
      state: 'pending',
      attempts: 0,
      last_error: null,
      created_at: new Date().toISOString(),
    };
    this.outboxEntries.push(entry);
    return entry;
  };
  claim = async (conversationId: string) => {
    this.record('claim', conversationId);
    const r = this.rows.find((x) => x.id === conversationId);
    if (r) r.assignee = { id: ME_ID, name: 'Olga' };
  };
  outbox = async () => {
    this.record('outbox');
    return structuredClone(this.outboxEntries);
  };
  discardOutbox = async (outboxId: string) => {
    this.record('discardOutbox', outboxId);
    const before = this.outboxEntries.length;
    this.outboxEntries = this.outboxEntries.filter((e) => e.id !== outboxId);
    return before !== this.outboxEntries.length;
  };
  notificationSettings = async (): Promise<NotificationSettings> => {
    this.record('notificationSettings');
    return { enabled: true, do_not_disturb: null, time_zone: null, urgent_labels: ['#urgent'], max_age_secs: 900 };
  };
  setNotificationSettings = async (settings: NotificationSettings) => {
    this.record('setNotificationSettings', settings);
  };

  teamMembers = async () => {
    this.record('teamMembers');
    return structuredClone(this.members);
  };
  createMember = async (name: string, change: MemberChange, pin: string) => {
    this.record('createMember', name, change, pin);
    this.checkPin(pin);
    const created = member({ name, permissions: normalise(change.toggles ?? presetPermissions('restricted')) });
    this.members.push(created);
    return created;
  };
  updateMember = async (memberId: string, change: MemberChange, pin: string) => {
    this.record('updateMember', memberId, change, pin);
    this.checkPin(pin);
    const m = this.members.find((x) => x.id === memberId);
    if (!m) throw new BackendError('not_found', 'no such member');
    if (change.name) m.name = change.name;
    if (change.toggles) {
      m.permissions = normalise(change.toggles);
      m.matches_preset = matchingPreset(m.permissions);
    }
    if (change.templates) m.templates = change.templates;
    return structuredClone(m);
  };
  deactivateMember = async (memberId: string, pin: string) => {
    this.record('deactivateMember', memberId, pin);
    this.checkPin(pin);
    const m = this.members.find((x) => x.id === memberId)!;
    m.active = false;
    return structuredClone(m);
  };
  resetMemberPin = async (memberId: string, newPin: string, pin: string) => {
    this.record('resetMemberPin', memberId, newPin, pin);
    this.checkPin(pin);
  };
  setOwnPin = async (newPin: string, currentPin: string | null) => {
    this.record('setOwnPin', newPin, currentPin);
  };
  teamDevices = async (): Promise<TeamDevices> => {
    this.record('teamDevices');
    return { devices: structuredClone(this.devices), device_cap: this.deviceCap } as unknown as TeamDevices;
  };
  updateDevice = async (deviceId: string, change: DeviceChange, pin: string) => {
    this.record('updateDevice', deviceId, change, pin);
    this.checkPin(pin);
    const d = this.devices.find((x) => x.id === deviceId)!;
    if (change.name) d.name = change.name;
    if (change.level) d.level = change.level;
    return structuredClone(d);
  };
  unlinkDevice = async (deviceId: string, pin: string) => {
    this.record('unlinkDevice', deviceId, pin);
    this.checkPin(pin);
    const d = this.devices.find((x) => x.id === deviceId)!;
    d.revoked_at = new Date().toISOString();
  };
  teamTemplates = async () => {
    this.record('teamTemplates');
    return structuredClone(this.templates);
  };
  saveTemplate = async (templateId: string | null, draft: TemplateDraft, pin: string) => {
    this.record('saveTemplate', templateId, draft, pin);
    this.checkPin(pin);
    const saved: TeamTemplate = {
      template: { id: templateId ?? id('template'), ...draft },
      summary: `${draft.name}: limits apply`,
      members: [],
    };
    this.templates = [...this.templates.filter((t) => t.template.id !== saved.template.id), saved];
    return saved;
  };
  deleteTemplate = async (templateId: string, pin: string) => {
    this.record('deleteTemplate', templateId, pin);
    this.checkPin(pin);
    this.templates = this.templates.filter((t) => t.template.id !== templateId);
  };
  teamSettings = async () => {
    this.record('teamSettings');
    return structuredClone(this.settings);
  };
  updateTeamSettings = async (deviceCap: number | null, autoUnlinkIdle: boolean | null, pin: string) => {
    this.record('updateTeamSettings', deviceCap, autoUnlinkIdle, pin);
    this.checkPin(pin);
    if (deviceCap !== null) this.settings = { ...this.settings, device_cap: deviceCap } as unknown as TeamSettings;
    if (autoUnlinkIdle !== null) this.settings = { ...this.settings, auto_unlink_idle: autoUnlinkIdle };
    return structuredClone(this.settings);
  };
  createPairingCode = async (request: NewPairingCode): Promise<PairingCode> => {
    this.record('createPairingCode', request);
    const n = this.called('createPairingCode').length;
    return {
      code: n === 1 ? '7K3QD-M9XWA' : `ABCDE-${String(n).padStart(5, '0')}`,
      expires_at: new Date(Date.now() + this.pairingLifetimeMs).toISOString(),
    };
  };
  signIn = async (memberId: string, pin: string): Promise<SignedIn> => {
    this.record('signIn', memberId, pin);
    this.checkPin(pin);
    const shared = this.session_.me?.shared;
    const name = shared?.members.find((m) => m.id === memberId)?.name ?? '?';
    if (this.session_.me && shared) {
      this.session_.me = { ...this.session_.me, member_id: memberId, member_name: name, shared: { ...shared, signed_in: memberId } };
    }
    return { member_id: memberId, name };
  };
  signOut = async () => {
    this.record('signOut');
  };
  auditPage = async (filter: AuditFilter): Promise<AuditPage> => {
    this.record('auditPage', filter);
    if (!this.session_.me?.permissions.includes('view_audit_log')) {
      throw new BackendError('permission_denied', 'the relay refused: not allowed (permission_denied)');
    }
    const action = filter.action ? (filter.action.startsWith('audit.') ? filter.action : `audit.${filter.action}`) : null;
    const limit = Math.min(500, Math.max(1, filter.limit ?? 100));
    const page = this.audit
      .filter(
        (e) =>
          (filter.before === undefined || e.seq < filter.before) &&
          (!filter.member || e.actor_member_id === filter.member) &&
          (!filter.device || e.device_id === filter.device) &&
          (!action || e.kind.startsWith(action)) &&
          (!filter.from || Date.parse(e.created_at) >= Date.parse(filter.from)) &&
          (!filter.to || Date.parse(e.created_at) < Date.parse(filter.to)),
      )
      .sort((a, b) => b.seq - a.seq)
      .slice(0, limit);
    const next = page.length === limit ? page[page.length - 1].seq : null;
    return { entries: structuredClone(page), next_before: next };
  };
  verifyAudit = async (): Promise<AuditVerification> => {
    this.record('verifyAudit');
    if (this.verifyGate) await this.verifyGate;
    if (this.verification) return structuredClone(this.verification);
    const head = [...this.audit].sort((a, b) => b.seq - a.seq)[0];
    return {
      ok: true,
      checked: this.audit.length,
      head_seq: head?.seq ?? 0,
      head_count: this.audit.length,
      head_mac: head?.mac ?? '',
      first_broken: null,
      checkpoint: null,
      rolled_back: null,
    };
  };
  exportAudit = async (format: AuditFormat, filter: AuditFilter, pin: string): Promise<string> => {
    this.record('exportAudit', format, filter, pin);
    this.checkPin(pin);
    if (!this.session_.me?.permissions.includes('export_history')) {
      throw new BackendError('permission_denied', 'the relay refused: not allowed (permission_denied)');
    }
    const n = this.called('exportAudit').length;
    return `${this.downloads}/teamline-audit-${n}.${format}`;
  };
  exportDeviceBackup = async (pin: string, passphrase: string): Promise<string> => {
    this.record('exportDeviceBackup', pin, passphrase);
    if ([...passphrase].length < 8) {
      throw new BackendError('backup_weak_passphrase', 'the passphrase is too short');
    }
    this.checkPin(pin);
    if (!this.session_.me?.permissions.includes('export_history')) {
      throw new BackendError('permission_denied', 'the relay refused: not allowed (permission_denied)');
    }
    return `${this.downloads}/teamline-device-${this.called('exportDeviceBackup').length}.tlbk`;
  };
  alerts = async (openOnly: boolean, before?: string): Promise<AlertPage> => {
    this.record('alerts', openOnly, before);
    const all = this.alertList
      .filter((a) => !openOnly || a.acknowledged === null)
      .sort((a, b) => Date.parse(b.raised_at) - Date.parse(a.raised_at));
    const start = before === undefined ? 0 : all.findIndex((a) => a.id === before) + 1;
    const page = all.slice(start, start + this.alertPageSize);
    const next = page.length === this.alertPageSize ? page[page.length - 1].id : null;
    return { alerts: structuredClone(page), next_before: next };
  };
  acknowledgeAlert = async (alertId: string, comment: string, pin: string): Promise<AlertView> => {
    this.record('acknowledgeAlert', alertId, comment, pin);
    this.checkPin(pin);
    if (comment.trim() === '') throw new BackendError('invalid_input', 'the relay refused: a comment is required (invalid_input)');
    const a = this.alertList.find((x) => x.id === alertId);
    if (!a) throw new BackendError('not_found', 'no such alert');
    if (a.acknowledged === null) {
      a.acknowledged = { by: this.session_.me?.member_id ?? ME_ID, at: new Date().toISOString(), comment: comment.trim() };
    }
    return structuredClone(a);
  };
  alertThresholds = async (): Promise<AlertThresholds> => {
    this.record('alertThresholds');
    return structuredClone(this.thresholds);
  };
  setAlertThresholds = async (thresholds: AlertThresholds, pin: string): Promise<AlertThresholds> => {
    this.record('setAlertThresholds', thresholds, pin);
    this.checkPin(pin);
    for (const b of [thresholds.permission_change_burst, thresholds.pairing_failure_burst]) {
      if (b.count < 2 || b.count > 1000 || b.window_minutes < 1 || b.window_minutes > 1440) {
        throw new BackendError('invalid_input', 'the relay refused: a burst threshold is out of range (invalid_input)');
      }
    }
    if (thresholds.device_idle.days < 1 || thresholds.device_idle.days > 365) {
      throw new BackendError('invalid_input', 'the relay refused: `device_idle.days` must be 1 to 365 (invalid_input)');
    }
    this.thresholds = structuredClone(thresholds);
    return structuredClone(this.thresholds);
  };
  advisor = async (): Promise<AdvisorReport> => {
    this.record('advisor');
    return { advice: structuredClone(this.adviceList), checked_at: this.advisorCheckedAt };
  };
  /** Switches the toggles off and drops every advice that offered this fix, like the relay's next check. */
  applyAdviceFix = async (fix: AdviceFix, pin: string): Promise<TeamMember> => {
    this.record('applyAdviceFix', fix, pin);
    this.checkPin(pin);
    const m = this.members.find((x) => x.id === fix.remove_toggles.member_id);
    if (!m) throw new BackendError('not_found', 'no such member');
    const off = new Set(fix.remove_toggles.permissions);
    m.permissions = m.permissions.filter((p) => !off.has(p));
    m.matches_preset = matchingPreset(m.permissions);
    this.adviceList = this.adviceList.filter((a) => !a.fixes.some((f) => sameFix(f, fix)));
    this.advisorCheckedAt = new Date().toISOString();
    return structuredClone(m);
  };

  contacts = async (query: string, offset: number, limit: number): Promise<ContactsPage> => {
    this.record('contacts', query, offset, limit);
    this.requireContacts('view_contacts');
    const q = query.trim().toLowerCase();
    const digits = q.replace(/\D/g, '');
    const numberish = digits !== '' && /^[0-9+ ().-]+$/.test(q);
    const all = [...this.contactBook.values()]
      .filter((c) => !q || (numberish ? c.wa_id.includes(digits) : `${c.name ?? ''} ${c.wa_id}`.toLowerCase().includes(q)))
      .sort((a, b) => (a.name === null ? 1 : 0) - (b.name === null ? 1 : 0) || (a.name ?? '').localeCompare(b.name ?? '') || a.wa_id.localeCompare(b.wa_id));
    return {
      total: all.length,
      offset,
      items: all.slice(offset, offset + limit).map((c) => ({ wa_id: c.wa_id, name: c.name, attributes: { ...c.attributes } })),
    };
  };
  contact = async (waId: string): Promise<ContactDetail | null> => {
    this.record('contact', waId);
    const c = this.contactBook.get(waId);
    if (!c) return null;
    const view = this.may('view_contacts');
    return structuredClone({
      ...c,
      attributes: view ? c.attributes : {},
      attribute_defs: view ? this.attributeDefs : [],
      can_view_contact: view,
      can_edit: view && this.may('edit_contacts'),
    });
  };
  contactAttributes = async (): Promise<ContactAttribute[]> => {
    this.record('contactAttributes');
    this.requireContacts('view_contacts');
    return structuredClone(this.attributeDefs);
  };
  refreshContacts = async (): Promise<number> => {
    this.record('refreshContacts');
    this.requireContacts('view_contacts');
    return this.contactBook.size;
  };
  updateContact = async (waId: string, update: ContactUpdate): Promise<ContactDetail> => {
    this.record('updateContact', waId, update);
    this.requireContacts('edit_contacts');
    const c = this.contactBook.get(waId);
    if (!c) throw new BackendError('contact_not_found', 'No contact has this number.');
    for (const [key, value] of Object.entries(update.attributes)) {
      const def = this.attributeDefs.find((d) => d.key === key);
      if (!def) throw new BackendError('unknown_attribute', `No contact attribute is called "${key}"`);
      if (value === null || value === '') delete c.attributes[key];
      else if (def.kind === 'number' && typeof value !== 'number') throw new BackendError('invalid_number_value', 'not a number');
      else if (def.kind === 'boolean' && typeof value !== 'boolean') throw new BackendError('invalid_boolean_value', 'not a boolean');
      else c.attributes[key] = value;
    }
    if (update.name !== undefined) {
      c.display_name = update.name.trim() || null;
      c.name = c.display_name ?? c.profile_name;
    }
    return (await this.contact(waId))!;
  };
  importContactsCsv = async (source: CsvSource, dryRun: boolean): Promise<ImportReport> => {
    this.record('importContactsCsv', source, dryRun);
    this.requireContacts('edit_contacts');
    if (this.importGate) await this.importGate;
    if (source.kind === 'path') throw new BackendError('invalid_input', 'cannot read the file: not found');
    const records = csvRecords(source.text);
    if (records.length === 0) throw new BackendError('csv_empty', 'the file has no header row');
    // Like the client's reader: lower-case, every run of other characters as one `_`.
    const keys = records[0].cells.map((h) => h.trim().toLowerCase().replace(/[^\p{L}\p{N}]+/gu, '_').replace(/^_+|_+$/g, ''));
    const numberCol = keys.findIndex((k) => ['number', 'phone', 'phone_number', 'телефон', 'номер', '电话', '手机号'].includes(k));
    if (numberCol < 0) throw new BackendError('csv_no_number_column', 'no column holds the phone number');
    const nameCol = keys.findIndex((k) => ['name', 'имя', '姓名'].includes(k));
    const columns = keys.filter((k, i) => i !== numberCol && i !== nameCol && k !== '');
    const seen = new Map<string, number>();
    const counts = { rows: 0, created: 0, updated: 0, unchanged: 0, rejected: 0 };
    const rows: ImportRowReport[] = records.slice(1).map((r) => {
      counts.rows++;
      const report: ImportRowReport = { row: r.line, wa_id: null, number: '', name: null, attributes: {}, status: 'error', errors: [] };
      if (r.open || r.cells.length > keys.length) {
        report.errors.push({ code: r.open ? 'unterminated_quote' : 'too_many_fields', field: '', first_row: null });
        counts.rejected++;
        return report;
      }
      const cell = (i: number) => (r.cells[i] ?? '').trim();
      const number = cell(numberCol);
      report.number = number;
      const waId = number ? waIdOf(number) : null;
      if (!number) report.errors.push({ code: 'missing_number', field: 'number', first_row: null });
      else if (!waId) report.errors.push({ code: 'invalid_number', field: 'number', first_row: null });
      else if (seen.has(waId)) report.errors.push({ code: 'duplicate_number', field: 'number', first_row: seen.get(waId)! });
      else seen.set(waId, r.line);
      report.wa_id = waId;
      report.name = nameCol >= 0 ? cell(nameCol) || null : null;
      keys.forEach((k, i) => {
        if (i === numberCol || i === nameCol || !cell(i)) return;
        const def = this.attributeDefs.find((d) => d.key === k);
        const raw = cell(i);
        if (!def) report.errors.push({ code: 'unknown_attribute', field: k, first_row: null });
        else if (def.kind === 'number') {
          const n = Number(raw.replace(/\s/g, ''));
          if (Number.isFinite(n)) report.attributes[k] = n;
          else report.errors.push({ code: 'invalid_number_value', field: k, first_row: null });
        } else if (def.kind === 'boolean') {
          const v = raw.toLowerCase();
          if (['yes', 'true', '1', 'да', '是'].includes(v)) report.attributes[k] = true;
          else if (['no', 'false', '0', 'нет', '否'].includes(v)) report.attributes[k] = false;
          else report.errors.push({ code: 'invalid_boolean_value', field: k, first_row: null });
        } else report.attributes[k] = raw;
      });
      if (report.errors.length) {
        // Like the client: refused rows show the file's cells.
        report.attributes = Object.fromEntries(keys.map((k, i) => [k, cell(i)]).filter(([k, v], i) => v && i !== numberCol && i !== nameCol && k));
        counts.rejected++;
        return report;
      }
      const existing = this.contactBook.get(waId!);
      report.status = existing ? 'update' : 'create';
      if (existing) counts.updated++;
      else counts.created++;
      if (!dryRun) {
        const next = existing ?? contactDetail({ wa_id: waId!, name: null, profile_name: null, display_name: null, attributes: {}, labels: [], conversations: [], notes: [] });
        if (report.name) next.display_name = report.name;
        next.name = next.display_name ?? next.profile_name;
        Object.assign(next.attributes, report.attributes);
        this.contactBook.set(waId!, next);
      }
      report.name = report.name ?? existing?.name ?? null;
      return report;
    });
    return { dry_run: dryRun, columns, counts, rows };
  };
  private checkAutomationPermission() {
    if (!this.session_.me?.permissions.includes('configure_automation')) {
      throw new BackendError('forbidden', 'the relay refused: not allowed to configure automation (forbidden)');
    }
  }
  automation = async (): Promise<AutomationView> => {
    this.record('automation');
    this.checkAutomationPermission();
    return structuredClone(this.automationView);
  };
  /** Like the relay: refuses a stale revision and settings that do not compile; bumps the revision. */
  saveAutomation = async (
    enabled: boolean,
    settings: AutomationSettings,
    agents: Record<string, AgentSettings>,
    revision: number,
  ): Promise<AutomationView> => {
    this.record('saveAutomation', enabled, settings, agents, revision);
    if (this.automationSaveGate) await this.automationSaveGate;
    this.checkAutomationPermission();
    if (revision !== this.automationView.revision) {
      throw new BackendError(
        'revision_conflict',
        `the relay refused: Someone saved the automation settings meanwhile (revision ${this.automationView.revision}); reload them and apply your change again. (revision_conflict)`,
      );
    }
    const problem = compileProblem(settings);
    if (problem) {
      throw new BackendError('invalid_automation', `the relay refused: The automation settings cannot be used: ${problem} (invalid_automation)`);
    }
    this.automationView = {
      ...this.automationView,
      enabled,
      settings: structuredClone(settings),
      agents: structuredClone(agents),
      revision: this.automationView.revision + 1,
      updated_at: new Date().toISOString(),
      updated_by: this.session_.me?.member_id ?? ME_ID,
    };
    return structuredClone(this.automationView);
  };
  automationDryRun = async (request: DryRunRequest): Promise<DryRunResult> => {
    this.record('automationDryRun', request);
    this.checkAutomationPermission();
    return dryRun(this.automationView, structuredClone(request), this.automationLoads);
  };
  messageTemplates = async (refresh: boolean): Promise<MessageTemplates> => {
    this.record('messageTemplates', refresh);
    return { templates: structuredClone(this.messageTemplateList), fetched_at: new Date().toISOString(), stale: false };
  };
  quickReplies = async (): Promise<QuickReply[]> => {
    this.record('quickReplies');
    return structuredClone(this.quickReplyList).sort((a, b) => a.shortcut.localeCompare(b.shortcut));
  };
  refreshQuickReplies = async (): Promise<QuickReply[]> => {
    this.record('refreshQuickReplies');
    return structuredClone(this.quickReplyList);
  };
  /** Like the relay: ConfigureAutomation, a valid unique shortcut, title and text. */
  saveQuickReply = async (replyId: string | null, draft: QuickReplyDraft): Promise<QuickReply> => {
    this.record('saveQuickReply', replyId, draft);
    if (!this.session_.me?.permissions.includes('configure_automation')) {
      throw new BackendError('permission_denied', 'the relay refused: missing permission configure_automation (permission_denied)');
    }
    const shortcut = draft.shortcut.trim().replace(/^\/+/, '').toLowerCase();
    if (!/^[\p{L}\p{N}_-]{1,32}$/u.test(shortcut)) {
      throw new BackendError('validation', "the relay refused: A shortcut is 1 to 32 letters, digits, '-' or '_' (validation)");
    }
    if (!draft.title.trim() || !draft.text.trim()) {
      throw new BackendError('validation', 'the relay refused: title and text are required (validation)');
    }
    if (this.quickReplyList.some((q) => q.shortcut === shortcut && q.id !== replyId)) {
      throw new BackendError('shortcut_taken', `the relay refused: Another quick reply already uses /${shortcut}. (shortcut_taken)`);
    }
    const saved: QuickReply = { id: replyId ?? id('qr'), shortcut, title: draft.title.trim(), text: draft.text, language: draft.language };
    this.quickReplyList = [...this.quickReplyList.filter((q) => q.id !== saved.id), saved];
    return structuredClone(saved);
  };
  deleteQuickReply = async (replyId: string) => {
    this.record('deleteQuickReply', replyId);
    if (!this.quickReplyList.some((q) => q.id === replyId)) throw new BackendError('not_found', 'no such quick reply');
    this.quickReplyList = this.quickReplyList.filter((q) => q.id !== replyId);
  };
  uploadMedia = async (bytes: Uint8Array, mimeType: string, fileName: string): Promise<UploadedMedia> => {
    this.record('uploadMedia', bytes.length, mimeType, fileName);
    const check = checkFile({ type: mimeType, size: bytes.length, name: fileName });
    if (!check.ok) {
      throw new BackendError(check.reason === 'size' ? 'media_too_large' : 'media_type_unsupported', 'the relay refused the file');
    }
    const up: UploadedMedia = { media_id: id('media'), kind: check.kind, mime_type: check.mime, size: bytes.length, filename: fileName };
    this.uploads.set(up.media_id, up);
    return up;
  };

  private checkBroadcastPermission() {
    if (!this.session_.me?.permissions.includes('send_broadcasts')) {
      throw new BackendError('permission_denied', 'the relay refused: missing permission send_broadcasts (permission_denied)');
    }
  }
  broadcasts = async () => {
    this.record('broadcasts');
    this.checkBroadcastPermission();
    return this.bcast.list();
  };
  broadcast = async (broadcastId: string) => {
    this.record('broadcast', broadcastId);
    this.checkBroadcastPermission();
    return this.bcast.one(broadcastId);
  };
  broadcastRecipients = async (broadcastId: string, after: string | null, limit: number, state: RecipientState | null) => {
    this.record('broadcastRecipients', broadcastId, after, limit, state);
    this.checkBroadcastPermission();
    return this.bcast.recipients(broadcastId, after, limit, state);
  };
  previewBroadcast = async (draft: BroadcastDraft) => {
    this.record('previewBroadcast', structuredClone(draft));
    this.checkBroadcastPermission();
    return this.bcast.preview(draft);
  };
  /** Resolves createBroadcast only when the test says so (null: at once). */
  createGate: Promise<void> | null = null;
  createBroadcast = async (broadcastId: string, draft: BroadcastDraft) => {
    this.record('createBroadcast', broadcastId, structuredClone(draft));
    if (this.createGate) await this.createGate;
    this.checkBroadcastPermission();
    const summary = this.bcast.create(broadcastId, draft);
    this.emit('broadcastChanged', structuredClone(summary));
    return summary;
  };
  cancelBroadcast = async (broadcastId: string) => {
    this.record('cancelBroadcast', broadcastId);
    this.checkBroadcastPermission();
    const summary = this.bcast.cancel(broadcastId);
    this.emit('broadcastChanged', structuredClone(summary));
    return summary;
  };
  broadcastSettings = async () => {
    this.record('broadcastSettings');
    this.checkBroadcastPermission();
    return this.bcast.settings();
  };
  saveBroadcastSettings = async (pacing: Pacing) => {
    this.record('saveBroadcastSettings', structuredClone(pacing));
    this.checkBroadcastPermission();
    return this.bcast.save(pacing);
  };
}
