/**
 * The timeline's pure logic: day separators in the team's time zone, the link splitter,
 * sizes, map links and one-line previews. No DOM, so Vitest checks it directly.
 */
import type { MessageContent } from '../../bindings/MessageContent';
import type { TimelineItem } from '../../bindings/TimelineItem';

/** `YYYY-MM-DD` of an instant in `zone` (the computer's zone when undefined). */
export function dayKey(at: number, zone?: string): string {
  const parts = new Intl.DateTimeFormat('en-CA', {
    timeZone: zone,
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
  }).formatToParts(new Date(at));
  const get = (type: string) => parts.find((p) => p.type === type)?.value ?? '';
  return `${get('year')}-${get('month')}-${get('day')}`;
}

/** Whole calendar days from day `a` to day `b` (both `YYYY-MM-DD`). */
function daysBetween(a: string, b: string): number {
  return Math.round((Date.parse(`${b}T00:00:00Z`) - Date.parse(`${a}T00:00:00Z`)) / 86_400_000);
}

export type DayWords = { today: string; yesterday: string };

/**
 * The separator's text for the day of `at`: "Today", "Yesterday", the weekday within the
 * last week, else the date (with the year when it is not this year) — in `zone`.
 */
export function dayLabel(at: number, now: number, words: DayWords, locale: string, zone?: string): string {
  const day = dayKey(at, zone);
  const today = dayKey(now, zone);
  const ago = daysBetween(day, today);
  if (ago === 0) return words.today;
  if (ago === 1) return words.yesterday;
  const date = new Date(at);
  if (ago > 1 && ago < 7) return date.toLocaleDateString(locale, { timeZone: zone, weekday: 'long' });
  const sameYear = day.slice(0, 4) === today.slice(0, 4);
  return date.toLocaleDateString(locale, {
    timeZone: zone,
    day: 'numeric',
    month: 'long',
    ...(sameYear ? {} : { year: 'numeric' }),
    ...(sameYear ? { weekday: 'short' } : {}),
  });
}

/** A timeline entry with its time. */
export type Timed = { at: number };
/** A day separator before the first entry of each day. */
export type Separator = { kind: 'day'; at: number; key: string };

/** The entries with a separator before each new day (in `zone`); entries sorted by time. */
export function withDaySeparators<T extends Timed>(entries: T[], zone?: string): (T | Separator)[] {
  const out: (T | Separator)[] = [];
  let last: string | null = null;
  for (const entry of entries) {
    const key = dayKey(entry.at, zone);
    if (key !== last) {
      out.push({ kind: 'day', at: entry.at, key });
      last = key;
    }
    out.push(entry);
  }
  return out;
}

/** A piece of message text: plain, or a link with the URL it opens. */
export type TextPiece = { text: string; href?: string };

const LINK = /\b(?:https?:\/\/|www\.)[^\s<>"'`]+/gi;
const TRAILING = /[.,;:!?'"»…]+$/;

/** Drops trailing punctuation and closing brackets the link did not open. */
function trimLink(raw: string): string {
  let link = raw.replace(TRAILING, '');
  for (const [open, close] of [['(', ')'], ['[', ']'], ['{', '}']]) {
    while (link.endsWith(close) && link.split(open).length < link.split(close).length) {
      link = link.slice(0, -1).replace(TRAILING, '');
    }
  }
  return link;
}

/**
 * Splits text into plain pieces and web links (`http(s)://…` or `www.…`). The pieces are
 * rendered as text nodes, never as HTML, so a message cannot inject markup; only http and
 * https links are produced.
 */
export function splitLinks(text: string): TextPiece[] {
  const pieces: TextPiece[] = [];
  let from = 0;
  for (const match of text.matchAll(LINK)) {
    const start = match.index ?? 0;
    const link = trimLink(match[0]);
    if (!/[a-z0-9]\.[a-z]/i.test(link) && !/^https?:\/\/[^/]+/i.test(link)) continue;
    if (start > from) pieces.push({ text: text.slice(from, start) });
    const href = /^https?:\/\//i.test(link) ? link : `https://${link}`;
    pieces.push({ text: link, href });
    from = start + link.length;
  }
  if (from < text.length) pieces.push({ text: text.slice(from) });
  return pieces;
}

/** A byte count as "820 B", "1.4 MB"... in the current language. */
export function formatBytes(bytes: number | null | undefined, locale: string): string {
  if (bytes === null || bytes === undefined) return '';
  const units = ['byte', 'kilobyte', 'megabyte', 'gigabyte'] as const;
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return new Intl.NumberFormat(locale, {
    style: 'unit',
    unit: units[unit],
    unitDisplay: unit === 0 ? 'narrow' : 'short',
    maximumFractionDigits: unit === 0 ? 0 : 1,
  }).format(value);
}

/** OpenStreetMap centred on a point, with a marker. */
export function mapLink(latitude: number, longitude: number): string {
  const lat = latitude.toFixed(6);
  const lon = longitude.toFixed(6);
  return `https://www.openstreetmap.org/?mlat=${lat}&mlon=${lon}#map=17/${lat}/${lon}`;
}

/** Coordinates as people read them: `41.38740° N, 2.16860° E`. */
export function coordinates(latitude: number, longitude: number): string {
  const ns = latitude >= 0 ? 'N' : 'S';
  const ew = longitude >= 0 ? 'E' : 'W';
  return `${Math.abs(latitude).toFixed(5)}° ${ns}, ${Math.abs(longitude).toFixed(5)}° ${ew}`;
}

/** The content's media, if it has one. */
export function mediaOf(content: MessageContent) {
  switch (content.kind) {
    case 'image':
    case 'video':
    case 'audio':
    case 'document':
    case 'sticker':
      return content.media;
    default:
      return null;
  }
}

/** Words for a one-line preview of content without text. */
export type KindWords = Record<
  'image' | 'video' | 'audio' | 'voice' | 'document' | 'sticker' | 'location' | 'contacts' | 'template' | 'unsupported',
  string
>;

/** One line that says what a message is (a reply quote, the composer's "replying to"). */
export function previewOf(item: Pick<TimelineItem, 'text' | 'content'>, words: KindWords): string {
  const c = item.content;
  switch (c.kind) {
    case 'text':
      return c.body;
    case 'image':
    case 'video':
      return c.caption ? `${words[c.kind]}: ${c.caption}` : words[c.kind];
    case 'document':
      return c.media.filename ?? c.caption ?? words.document;
    case 'audio':
      return c.voice ? words.voice : words.audio;
    case 'sticker':
      return words.sticker;
    case 'location':
      return [words.location, c.name ?? c.address].filter(Boolean).join(': ');
    case 'contacts':
      return `${words.contacts}: ${c.contacts.map((x) => x.name).join(', ')}`;
    case 'interactive_reply':
      return c.title;
    case 'interactive':
      return c.body;
    case 'button':
      return c.text ?? c.payload ?? '';
    case 'template':
      return `${words.template}: ${c.name}`;
    case 'order':
      return c.text ?? words.unsupported;
    case 'system':
      return c.body ?? '';
    case 'reaction':
      return c.emoji ?? '';
    case 'unsupported':
      return item.text ?? words.unsupported;
  }
}
