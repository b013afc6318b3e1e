import { afterEach, describe, expect, it } from 'vitest';
import { i18n } from './i18n/index.svelte';
import { clockTime, dateTime, relativeTime, shortDuration } from './time.svelte';

const AT = '2026-03-04T15:06:00Z';

describe('time formatting', () => {
  afterEach(() => i18n.choose(null));

  it('writes dates and clock times in the current language, also after a switch', () => {
    i18n.choose('en');
    const english = dateTime(AT);
    expect(english).toBe(new Date(AT).toLocaleString('en', { dateStyle: 'medium', timeStyle: 'short' }));
    expect(english).toContain('2026');
    expect(clockTime(AT)).toBe(new Date(AT).toLocaleTimeString('en', { hour: '2-digit', minute: '2-digit' }));

    // The formatters are kept per language: a switch must not reuse the English one.
    i18n.choose('ru');
    expect(dateTime(AT)).toBe(new Date(AT).toLocaleString('ru', { dateStyle: 'medium', timeStyle: 'short' }));
    expect(dateTime(AT)).not.toBe(english);
    i18n.choose('zh');
    expect(dateTime(AT)).toBe(new Date(AT).toLocaleString('zh', { dateStyle: 'medium', timeStyle: 'short' }));
  });

  it('says nothing for a missing or unreadable time', () => {
    expect(dateTime(null)).toBe('');
    expect(dateTime('not a time')).toBe('');
    expect(clockTime('not a time')).toBe('');
    expect(relativeTime(undefined)).toBe('');
  });

  it('is relative within a month and a date after', () => {
    i18n.choose('en');
    const now = Date.parse(AT);
    expect(relativeTime(new Date(now - 5 * 60_000).toISOString(), now)).toBe('5 min. ago');
    expect(relativeTime(new Date(now - 3 * 86_400_000).toISOString(), now)).toBe('3 days ago');
    const old = new Date(now - 40 * 86_400_000).toISOString();
    expect(relativeTime(old, now)).toBe(dateTime(old));
  });

  it('shortens durations to minutes, hours, then days from two days on', () => {
    i18n.choose('en');
    expect(shortDuration(25 * 60_000)).toBe('25 min');
    expect(shortDuration(47 * 3_600_000)).toBe('47 hr');
    expect(shortDuration(50 * 3_600_000)).toBe('2 days');
  });
});
