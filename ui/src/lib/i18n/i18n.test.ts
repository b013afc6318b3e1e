import { describe, expect, it } from 'vitest';
import { en } from './en';
import { DICTIONARIES, detectLocale, format, i18n, LOCALES } from './index.svelte';

type Tree = { [key: string]: string | Tree };

function leaves(tree: Tree, prefix = ''): Map<string, string> {
  const out = new Map<string, string>();
  for (const [key, value] of Object.entries(tree)) {
    const path = prefix ? `${prefix}.${key}` : key;
    if (typeof value === 'string') out.set(path, value);
    else for (const [k, v] of leaves(value, path)) out.set(k, v);
  }
  return out;
}

const placeholders = (text: string) => [...text.matchAll(/\{(\w+)\}/g)].map((m) => m[1]).sort();

describe('translations', () => {
  const source = leaves(en as unknown as Tree);

  it.each(LOCALES.filter((l) => l !== 'en'))('%s has every English key and no extra ones', (locale) => {
    const translated = leaves(DICTIONARIES[locale] as unknown as Tree);
    expect([...translated.keys()].sort()).toEqual([...source.keys()].sort());
  });

  it.each(LOCALES)('%s has no empty text and keeps every placeholder', (locale) => {
    const translated = leaves(DICTIONARIES[locale] as unknown as Tree);
    for (const [key, text] of translated) {
      expect(text.trim(), key).not.toBe('');
      expect(placeholders(text), key).toEqual(placeholders(source.get(key)!));
    }
  });

  it('Russian and Chinese are actually translated, not copies of English', () => {
    expect(DICTIONARIES.ru.nav.inbox).toBe('Входящие');
    expect(DICTIONARIES.zh.nav.inbox).toBe('收件箱');
    const same = [...leaves(DICTIONARIES.ru as unknown as Tree)].filter(
      ([key, text]) => text === source.get(key),
    );
    // Only brand names, key names and the VIP badge (Russian shops write "VIP" too, as in
    // "VIP-клиенты") may stay identical.
    expect(same.map(([key]) => key).sort()).toEqual(['app.name', 'contacts.attributeNames.vip', 'contacts.vip', 'nav.shortcut']);
  });
});

describe('detectLocale', () => {
  it('takes the first supported language of the OS list', () => {
    expect(detectLocale(['de-DE', 'ru-RU', 'en-US'])).toBe('ru');
    expect(detectLocale(['zh-CN'])).toBe('zh');
    expect(detectLocale(['zh_Hans_CN'])).toBe('zh');
    expect(detectLocale(['EN-gb'])).toBe('en');
  });

  it('falls back to English', () => {
    expect(detectLocale(['fr-FR', 'de'])).toBe('en');
    expect(detectLocale([])).toBe('en');
  });
});

describe('following the OS language', () => {
  it('uses the OS locale the app reports until the user chooses', () => {
    i18n.choose(null);
    i18n.followOs('ru-RU');
    expect(i18n.locale).toBe('ru');
    i18n.choose('zh');
    expect(i18n.locale).toBe('zh');
    i18n.choose(null);
    i18n.followOs('zh-Hans-CN');
    expect(i18n.locale).toBe('zh');
    i18n.followOs(null);
    expect(i18n.locale).toBe('en');
  });
});

describe('format', () => {
  it('fills placeholders and leaves unknown ones visible', () => {
    expect(format('Reconnecting in {n} s', { n: 5 })).toBe('Reconnecting in 5 s');
    expect(format('{a} and {b}', { a: 'x' })).toBe('x and {b}');
  });
});
