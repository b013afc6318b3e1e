import { i18n } from './i18n/index.svelte';

// Built once per language: the view tabs format their counts on every list change.
const compactFormats = new Map<string, Intl.NumberFormat>();

/** A count short enough for a tab: 950, 1.2K, 100K (1,2 тыс., 10万 in Russian, Chinese). */
export function compactCount(n: number, locale: string = i18n.locale): string {
  let f = compactFormats.get(locale);
  if (!f) {
    f = new Intl.NumberFormat(locale, { notation: 'compact', maximumFractionDigits: 1 });
    compactFormats.set(locale, f);
  }
  return f.format(n);
}
