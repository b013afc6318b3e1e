import { i18n } from './i18n/index.svelte';

/** A clock the UI's relative times follow; ticks every 30 s while anything reads it. */
class Clock {
  now = $state(Date.now());
  private timer: ReturnType<typeof setInterval> | null = null;

  /** Starts ticking (idempotent); App calls it once. Returns a stop function. */
  start(): () => void {
    if (!this.timer) this.timer = setInterval(() => (this.now = Date.now()), 30_000);
    return () => {
      if (this.timer) clearInterval(this.timer);
      this.timer = null;
    };
  }
}

export const clock = new Clock();

/**
 * A clock with second resolution for countdowns (SLA timers). It ticks only while some
 * component uses it, so a list without running timers costs nothing.
 */
class SecondClock {
  now = $state(Date.now());
  private users = 0;
  private timer: ReturnType<typeof setInterval> | null = null;

  /** For a component's `$effect`: starts ticking, returns the stop. */
  use(): () => void {
    this.users += 1;
    this.now = Date.now();
    if (!this.timer) this.timer = setInterval(() => (this.now = Date.now()), 1000);
    return () => {
      this.users -= 1;
      if (this.users === 0 && this.timer) {
        clearInterval(this.timer);
        this.timer = null;
      }
    };
  }
}

export const secondClock = new SecondClock();

// Formatters are costly to build (`toLocaleString` builds one per call) and the list formats
// times for every visible row on every scroll: each kind is made once per language.
type Format = Intl.RelativeTimeFormat | Intl.NumberFormat | Intl.DateTimeFormat;
const formats = new Map<string, Format>();

function cached<F extends Format>(key: string, make: () => F): F {
  let f = formats.get(key) as F | undefined;
  if (!f) formats.set(key, (f = make()));
  return f;
}

const relativeFormat = (locale: string) =>
  cached(`relative|${locale}`, () => new Intl.RelativeTimeFormat(locale, { numeric: 'auto', style: 'short' }));
const unitFormat = (locale: string, unit: string) =>
  cached(`unit|${unit}|${locale}`, () => new Intl.NumberFormat(locale, { style: 'unit', unit, unitDisplay: 'short' }));
const dateTimeFormat = (locale: string) =>
  cached(`date|${locale}`, () => new Intl.DateTimeFormat(locale, { dateStyle: 'medium', timeStyle: 'short' }));
const clockFormat = (locale: string) =>
  cached(`clock|${locale}`, () => new Intl.DateTimeFormat(locale, { hour: '2-digit', minute: '2-digit' }));

/** "now", "5 min ago", "3 days ago"... in the current language. */
export function relativeTime(iso: string | null | undefined, now = clock.now): string {
  if (!iso) return '';
  const at = Date.parse(iso);
  if (Number.isNaN(at)) return '';
  const seconds = Math.round((at - now) / 1000);
  const rtf = relativeFormat(i18n.locale);
  const abs = Math.abs(seconds);
  if (abs < 45) return rtf.format(0, 'second');
  if (abs < 3600) return rtf.format(Math.round(seconds / 60), 'minute');
  if (abs < 86_400) return rtf.format(Math.round(seconds / 3600), 'hour');
  if (abs < 30 * 86_400) return rtf.format(Math.round(seconds / 86_400), 'day');
  return dateTime(iso);
}

/** A date and time in this computer's zone, in the current language. */
export function dateTime(iso: string | null | undefined): string {
  if (!iso) return '';
  const at = new Date(iso);
  if (Number.isNaN(at.getTime())) return '';
  return dateTimeFormat(i18n.locale).format(at);
}

/** `HH:MM` of a timestamp (message bubbles). */
export function clockTime(iso: string): string {
  const at = new Date(iso);
  if (Number.isNaN(at.getTime())) return '';
  return clockFormat(i18n.locale).format(at);
}

/** A short duration ("25 min", "3 hr", "4 days" from two days on) in the current language. */
export function shortDuration(ms: number): string {
  const minutes = Math.max(1, Math.round(ms / 60_000));
  const [value, unit] =
    minutes >= 48 * 60
      ? [Math.floor(minutes / (24 * 60)), 'day']
      : minutes >= 60
        ? [Math.floor(minutes / 60), 'hour']
        : [minutes, 'minute'];
  return unitFormat(i18n.locale, unit).format(value);
}

/**
 * The team's IANA time zone once known (the relay tells members who manage the team);
 * day separators and dates follow it, else this computer's zone.
 */
export const teamZone = $state<{ zone: string | undefined }>({ zone: undefined });

let zoneAsked = false;

/** Asks once for the team's time zone; members who may not read team settings keep theirs. */
export function learnTeamZone(read: () => Promise<{ timezone: string }>): void {
  if (zoneAsked) return;
  zoneAsked = true;
  read().then(
    (settings) => {
      try {
        new Intl.DateTimeFormat('en', { timeZone: settings.timezone });
        teamZone.zone = settings.timezone;
      } catch {
        // An unknown zone name: keep the computer's.
      }
    },
    () => {
      // Not allowed or offline: keep the computer's zone.
    },
  );
}

/** A countdown: "0:25", "12:05" under an hour, then like [`shortDuration`]. */
export function countdown(ms: number): string {
  const abs = Math.max(0, ms);
  if (abs >= 3_600_000) return shortDuration(abs);
  const seconds = Math.floor(abs / 1000);
  return `${Math.floor(seconds / 60)}:${String(seconds % 60).padStart(2, '0')}`;
}

/** A target length ("30 s", "2 hr") in the current language. */
export function targetDuration(seconds: number): string {
  if (seconds < 60) return unitFormat(i18n.locale, 'second').format(seconds);
  return shortDuration(seconds * 1000);
}
