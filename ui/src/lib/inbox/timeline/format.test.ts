import { describe, expect, it } from 'vitest';
import { coordinates, dayKey, dayLabel, formatBytes, mapLink, previewOf, splitLinks, withDaySeparators } from './format';
import { en } from '../../i18n/en';

const words = { today: 'Today', yesterday: 'Yesterday' };
const at = (iso: string) => Date.parse(iso);

describe('day separators', () => {
  it('keys days in the given time zone, not UTC', () => {
    // 23:30 UTC on 1 March is already 2 March in Madrid and still 1 March in New York.
    expect(dayKey(at('2026-03-01T23:30:00Z'), 'Europe/Madrid')).toBe('2026-03-02');
    expect(dayKey(at('2026-03-01T23:30:00Z'), 'America/New_York')).toBe('2026-03-01');
  });

  it('says Today, Yesterday, the weekday within a week, else the date', () => {
    const now = at('2026-03-10T10:00:00Z'); // a Tuesday
    const zone = 'Europe/Madrid';
    expect(dayLabel(at('2026-03-10T00:30:00Z'), now, words, 'en', zone)).toBe('Today');
    // 23:30 UTC on the 9th is the 10th in Madrid.
    expect(dayLabel(at('2026-03-09T23:30:00Z'), now, words, 'en', zone)).toBe('Today');
    expect(dayLabel(at('2026-03-09T12:00:00Z'), now, words, 'en', zone)).toBe('Yesterday');
    expect(dayLabel(at('2026-03-06T12:00:00Z'), now, words, 'en', zone)).toBe('Friday');
    expect(dayLabel(at('2026-02-20T12:00:00Z'), now, words, 'en', zone)).toBe('Fri, February 20');
    expect(dayLabel(at('2025-12-24T12:00:00Z'), now, words, 'en', zone)).toBe('December 24, 2025');
    expect(dayLabel(at('2026-03-06T12:00:00Z'), now, { today: 'Сегодня', yesterday: 'Вчера' }, 'ru', zone)).toBe('пятница');
  });

  it('puts one separator before the first entry of each day', () => {
    const entries = [
      { at: at('2026-03-09T08:00:00Z'), id: 'a' },
      { at: at('2026-03-09T20:00:00Z'), id: 'b' },
      { at: at('2026-03-09T23:30:00Z'), id: 'c' },
      { at: at('2026-03-10T09:00:00Z'), id: 'd' },
    ];
    const utc = withDaySeparators(entries, 'UTC').map((e) => ('id' in e ? e.id : `|${e.key}`));
    expect(utc).toEqual(['|2026-03-09', 'a', 'b', 'c', '|2026-03-10', 'd']);
    const madrid = withDaySeparators(entries, 'Europe/Madrid').map((e) => ('id' in e ? e.id : `|${e.key}`));
    expect(madrid).toEqual(['|2026-03-09', 'a', 'b', '|2026-03-10', 'c', 'd']);
    expect(withDaySeparators([], 'UTC')).toEqual([]);
  });
});

describe('link splitter', () => {
  it('finds http(s) and www links and leaves the rest as text', () => {
    expect(splitLinks('see https://shop.example/o/1, or www.shop.example.')).toEqual([
      { text: 'see ' },
      { text: 'https://shop.example/o/1', href: 'https://shop.example/o/1' },
      { text: ', or ' },
      { text: 'www.shop.example', href: 'https://www.shop.example' },
      { text: '.' },
    ]);
  });

  it('keeps balanced brackets and drops an unbalanced closing one', () => {
    expect(splitLinks('(https://en.wikipedia.org/wiki/Lamp_(light))')).toEqual([
      { text: '(' },
      { text: 'https://en.wikipedia.org/wiki/Lamp_(light)', href: 'https://en.wikipedia.org/wiki/Lamp_(light)' },
      { text: ')' },
    ]);
  });

  it('never makes links of other schemes, and markup stays text', () => {
    const pieces = splitLinks('javascript:alert(1) <img src=x onerror=alert(1)> file:///etc/passwd');
    expect(pieces.every((p) => p.href === undefined)).toBe(true);
    expect(pieces.map((p) => p.text).join('')).toBe('javascript:alert(1) <img src=x onerror=alert(1)> file:///etc/passwd');
    expect(splitLinks('')).toEqual([]);
    expect(splitLinks('no links here')).toEqual([{ text: 'no links here' }]);
  });
});

describe('formatting', () => {
  it('sizes, coordinates and map links', () => {
    expect(formatBytes(820, 'en')).toMatch(/^820\s?B$/);
    expect(formatBytes(1536, 'en')).toBe('1.5 kB');
    expect(formatBytes(5 * 1024 * 1024, 'en')).toBe('5 MB');
    expect(formatBytes(null, 'en')).toBe('');
    expect(coordinates(41.3874, -2.1686)).toBe('41.38740° N, 2.16860° W');
    expect(mapLink(41.3874, 2.1686)).toBe('https://www.openstreetmap.org/?mlat=41.387400&mlon=2.168600#map=17/41.387400/2.168600');
  });

  it('previews say what a message is', () => {
    const kinds = en.timeline.kinds;
    const media = { id: 'm', mime_type: 'application/pdf', sha256: null, filename: 'invoice.pdf', size: null, ready: true, link: null };
    expect(previewOf({ text: null, content: { kind: 'document', media, caption: null } }, kinds)).toBe('invoice.pdf');
    expect(previewOf({ text: 'look', content: { kind: 'image', media, caption: 'look' } }, kinds)).toBe('Photo: look');
    expect(
      previewOf({ text: null, content: { kind: 'location', latitude: 1, longitude: 2, name: 'Shop', address: null, url: null } }, kinds),
    ).toBe('Location: Shop');
    expect(previewOf({ text: null, content: { kind: 'audio', media, voice: true } }, kinds)).toBe('Voice message');
  });
});
