import { en, type Messages } from './en';
import { ru } from './ru';
import { zh } from './zh';

export const LOCALES = ['en', 'ru', 'zh'] as const;
export type Locale = (typeof LOCALES)[number];

/** Each language's name in its own language, for the switch in Settings. */
export const LOCALE_NAMES: Record<Locale, string> = { en: 'English', ru: 'Русский', zh: '简体中文' };

const DICTIONARIES: Record<Locale, Messages> = { en, ru, zh };
const STORAGE_KEY = 'teamline.locale';

/** The first supported language among the OS's preferred ones, English otherwise. */
export function detectLocale(preferred: readonly string[]): Locale {
  for (const tag of preferred) {
    const base = tag.toLowerCase().split(/[-_]/)[0];
    if ((LOCALES as readonly string[]).includes(base)) return base as Locale;
  }
  return 'en';
}

/** Replaces `{name}` placeholders. */
export function format(template: string, values: Record<string, string | number>): string {
  return template.replace(/\{(\w+)\}/g, (whole, name: string) =>
    name in values ? String(values[name]) : whole,
  );
}

function webviewLanguages(): readonly string[] {
  return typeof navigator === 'undefined' ? [] : (navigator.languages ?? [navigator.language]);
}

function storedChoice(): Locale | null {
  const saved = globalThis.localStorage?.getItem(STORAGE_KEY);
  return saved && (LOCALES as readonly string[]).includes(saved) ? (saved as Locale) : null;
}

class I18n {
  /** The user's explicit choice; `null` follows the OS language. */
  choice = $state<Locale | null>(storedChoice());
  /** The OS language, as far as we know it. */
  system = $state<Locale>(detectLocale(webviewLanguages()));
  locale = $derived<Locale>(this.choice ?? this.system);
  m = $derived<Messages>(DICTIONARIES[this.locale]);

  /** Adopts the OS language the app reported (webviews do not always know it). */
  followOs(osLocale: string | null) {
    this.system = detectLocale(osLocale ? [osLocale, ...webviewLanguages()] : webviewLanguages());
  }

  choose(locale: Locale | null) {
    this.choice = locale;
    if (locale) globalThis.localStorage?.setItem(STORAGE_KEY, locale);
    else globalThis.localStorage?.removeItem(STORAGE_KEY);
  }
}

export const i18n = new I18n();
export { DICTIONARIES };
