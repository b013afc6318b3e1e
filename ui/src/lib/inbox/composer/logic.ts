import type { MessageTemplate } from '../../bindings/MessageTemplate';
import type { QuickReply } from '../../bindings/QuickReply';

/** The `/query` being typed at the start of the composer, or null when it is not one. */
export function slashQuery(text: string): string | null {
  const m = /^\/([^\s/]*)$/.exec(text);
  return m ? m[1].toLowerCase() : null;
}

/**
 * Quick replies matching `query`: shortcut prefix first, then shortcut or title containing
 * it, then text containing it; each group by shortcut. Case-insensitive.
 */
export function filterQuickReplies(list: readonly QuickReply[], query: string, limit = 8): QuickReply[] {
  const q = query.trim().toLowerCase();
  const rank = (r: QuickReply): number => {
    if (!q) return 0;
    const s = r.shortcut.toLowerCase();
    if (s.startsWith(q)) return 0;
    if (s.includes(q) || r.title.toLowerCase().includes(q)) return 1;
    if (r.text.toLowerCase().includes(q)) return 2;
    return -1;
  };
  return list
    .map((r) => ({ r, k: rank(r) }))
    .filter((x) => x.k >= 0)
    .sort((a, b) => a.k - b.k || a.r.shortcut.localeCompare(b.r.shortcut))
    .slice(0, limit)
    .map((x) => x.r);
}

/** Keyboard movement in a list of `count` options: ↑/↓ wrap around. */
export function moveSelection(index: number, count: number, key: 'ArrowUp' | 'ArrowDown'): number {
  if (count === 0) return 0;
  return key === 'ArrowDown' ? (index + 1) % count : (index - 1 + count) % count;
}

/** `text` with each `{{name}}` of `params` replaced by its value; empty values show the placeholder. */
export function fillTemplate(text: string, params: readonly string[], values: readonly string[]): string {
  let out = text;
  params.forEach((name, i) => {
    const v = (values[i] ?? '').trim();
    if (v) out = out.split(`{{${name}}}`).join(v);
  });
  return out;
}

/** Every parameter has a value (WhatsApp refuses empty ones). */
export function templateReady(t: MessageTemplate, header: readonly string[], body: readonly string[]): boolean {
  return (
    t.sendable &&
    t.header_params.every((_, i) => (header[i] ?? '').trim() !== '') &&
    t.body_params.every((_, i) => (body[i] ?? '').trim() !== '')
  );
}

/** The `send_template` command's `template` object in Meta's shape. */
export function templatePayload(t: MessageTemplate, header: readonly string[], body: readonly string[]) {
  const params = (names: readonly string[], values: readonly string[]) =>
    names.map((name, i) => ({
      type: 'text',
      text: (values[i] ?? '').trim(),
      ...(/^\d+$/.test(name) ? {} : { parameter_name: name }),
    }));
  const components: unknown[] = [];
  if (t.header_params.length > 0) components.push({ type: 'header', parameters: params(t.header_params, header) });
  if (t.body_params.length > 0) components.push({ type: 'body', parameters: params(t.body_params, body) });
  return { name: t.name, language: { code: t.language }, components };
}

const KB = 1024;
const MB = 1024 * 1024;

/** WhatsApp's accepted MIME types per message kind. */
const KINDS: Record<string, 'image' | 'video' | 'audio' | 'document' | 'sticker'> = {
  'image/jpeg': 'image',
  'image/png': 'image',
  'image/webp': 'sticker',
  'video/mp4': 'video',
  'video/3gp': 'video',
  'video/3gpp': 'video',
  'audio/aac': 'audio',
  'audio/amr': 'audio',
  'audio/mpeg': 'audio',
  'audio/mp4': 'audio',
  'audio/ogg': 'audio',
  'text/plain': 'document',
  'application/pdf': 'document',
  'application/msword': 'document',
  'application/vnd.ms-excel': 'document',
  'application/vnd.ms-powerpoint': 'document',
  'application/vnd.openxmlformats-officedocument.wordprocessingml.document': 'document',
  'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet': 'document',
  'application/vnd.openxmlformats-officedocument.presentationml.presentation': 'document',
};

/** Largest file per kind (stickers: static; animated ones may be 500 KB, the relay tells them apart). */
export const LIMITS = { image: 5 * MB, video: 16 * MB, audio: 16 * MB, document: 100 * MB, sticker: 500 * KB } as const;

export type FileCheck =
  | { ok: true; kind: keyof typeof LIMITS; mime: string }
  | { ok: false; reason: 'type'; mime: string }
  | { ok: false; reason: 'size'; kind: keyof typeof LIMITS; limit: number }
  | { ok: false; reason: 'empty' };

/** Checks a picked file against WhatsApp's types and sizes before anything is uploaded. */
export function checkFile(file: { type: string; size: number; name: string }): FileCheck {
  let mime = file.type.split(';')[0].trim().toLowerCase();
  if (!mime) {
    const ext = file.name.toLowerCase().split('.').pop() ?? '';
    mime = BY_EXTENSION[ext] ?? '';
  }
  const kind = KINDS[mime];
  if (!kind) return { ok: false, reason: 'type', mime: mime || file.name };
  if (file.size === 0) return { ok: false, reason: 'empty' };
  const limit = LIMITS[kind];
  if (file.size > limit) return { ok: false, reason: 'size', kind, limit };
  return { ok: true, kind, mime };
}

const BY_EXTENSION: Record<string, string> = {
  jpg: 'image/jpeg',
  jpeg: 'image/jpeg',
  png: 'image/png',
  webp: 'image/webp',
  mp4: 'video/mp4',
  '3gp': 'video/3gpp',
  aac: 'audio/aac',
  amr: 'audio/amr',
  mp3: 'audio/mpeg',
  m4a: 'audio/mp4',
  ogg: 'audio/ogg',
  txt: 'text/plain',
  pdf: 'application/pdf',
  doc: 'application/msword',
  docx: 'application/vnd.openxmlformats-officedocument.wordprocessingml.document',
  xls: 'application/vnd.ms-excel',
  xlsx: 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
  ppt: 'application/vnd.ms-powerpoint',
  pptx: 'application/vnd.openxmlformats-officedocument.presentationml.presentation',
};

/** `5 MB`, `512 KB`, `1.5 MB`. */
export function fileSize(bytes: number): string {
  if (bytes >= MB) return `${Math.round((bytes / MB) * 10) / 10} MB`;
  if (bytes >= KB) return `${Math.round(bytes / KB)} KB`;
  return `${bytes} B`;
}

/** Whole hours since the customer last wrote, from when the 24-hour window closes(d). */
export function hoursSinceCustomer(windowExpiresAt: string | null, now: number): number | null {
  if (!windowExpiresAt) return null;
  const at = Date.parse(windowExpiresAt);
  if (Number.isNaN(at)) return null;
  return Math.max(0, Math.floor((now - (at - 24 * 3_600_000)) / 3_600_000));
}
