import type { ContactAttribute } from '../bindings/ContactAttribute';
import type { ImportRowError } from '../bindings/ImportRowError';
import { format, i18n } from '../i18n/index.svelte';

export type AttributeValue = string | number | boolean;
export type Attributes = Record<string, AttributeValue>;

/** Height of one contact row in CSS pixels (the row's CSS is fixed to it). */
export const CONTACT_ROW_HEIGHT = 56;
/** Rows fetched per request while scrolling. */
export const CONTACT_PAGE = 100;

/** A customer flagged VIP by the `vip` attribute. */
export function isVip(attributes: Attributes | null | undefined): boolean {
  return attributes?.vip === true;
}

/** `+` and the digits: how WhatsApp ids read as phone numbers. */
export function phone(waId: string): string {
  return /^\d+$/.test(waId) ? `+${waId}` : waId;
}

/**
 * An attribute key as a label: the built-in ones in the user's language, others
 * humanized (`loyalty_tier` → `Loyalty tier`).
 */
export function attributeLabel(key: string): string {
  const known = i18n.m.contacts.attributeNames[key];
  if (known) return known;
  const words = key.replace(/_/g, ' ');
  return words.charAt(0).toUpperCase() + words.slice(1);
}

/** How many contacts, as a phrase. */
export function contactCount(n: number): string {
  const m = i18n.m.contacts;
  return n === 1 ? m.countOne : format(m.count, { n: n.toLocaleString(i18n.locale) });
}

/** A value as shown (numbers in the UI's locale, booleans as yes/no). */
export function showValue(value: AttributeValue | undefined): string {
  const m = i18n.m.contacts;
  if (value === undefined || value === '') return m.unset;
  if (typeof value === 'boolean') return value ? m.yes : m.no;
  if (typeof value === 'number') return value.toLocaleString(i18n.locale);
  return value;
}

/**
 * A value typed in the edit form, as the attribute's type; `null` clears it; `undefined`
 * when the text is not a valid value.
 */
export function parseInput(def: ContactAttribute, text: string): AttributeValue | null | undefined {
  const t = text.trim();
  if (t === '') return null;
  if (def.kind === 'number') {
    const n = Number(t.replace(/[\s\u00a0]/g, '').replace(',', '.'));
    return Number.isFinite(n) ? n : undefined;
  }
  if (def.kind === 'boolean') {
    if (t === 'true') return true;
    if (t === 'false') return false;
    return undefined;
  }
  return t;
}

/** A row error in the user's language. */
export function rowErrorText(error: ImportRowError): string {
  const m = i18n.m.contacts.rowErrors;
  const known = m[error.code as keyof typeof m];
  if (!known) return format(m.other, { code: error.code });
  const field = error.field && error.field !== 'number' && error.field !== 'name' ? attributeLabel(error.field) : error.field;
  return format(known, { field, row: String(error.first_row ?? '') });
}
