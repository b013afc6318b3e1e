import { BackendError } from './backend';
import { format, i18n } from './i18n/index.svelte';

type Codes = typeof i18n.m.errors.codes;

function known(code: string): code is keyof Codes & string {
  return Object.hasOwn(i18n.m.errors.codes, code);
}

/** Codes meaning the system keyring could not be used (locked, missing, refused). */
const KEYRING_CODES = ['keyring', 'store_key_unavailable', 'store_key_save_failed'];

export function isKeyringFailure(code: string): boolean {
  return KEYRING_CODES.includes(code);
}

/** When a `pin_locked` refusal says the PIN unlocks, if its message names the time. */
export function lockedUntil(error: BackendError): Date | null {
  if (error.code !== 'pin_locked') return null;
  const match = /\d{4}-\d{2}-\d{2}T[\d:.]+(?:Z|[+-]\d{2}:?\d{2})/.exec(error.message);
  if (!match) return null;
  const at = new Date(match[0]);
  return Number.isNaN(at.getTime()) ? null : at;
}

/**
 * The sentence to show for a failed call: the translation of a code we know (with the
 * details the relay's message carries: attempts left, lock time), else the app's message.
 */
export function errorText(raw: unknown): string {
  const error = BackendError.from(raw);
  const m = i18n.m.errors;
  if (error.code === 'pin_invalid') {
    const left = /(\d+) attempt/.exec(error.message);
    return left ? format(m.pinAttemptsLeft, { n: left[1] }) : m.codes.pin_invalid;
  }
  if (error.code === 'pin_locked') {
    const until = lockedUntil(error);
    return until
      ? format(m.pinLockedUntil, {
          time: until.toLocaleTimeString(i18n.locale, { hour: '2-digit', minute: '2-digit' }),
        })
      : m.codes.pin_locked;
  }
  if (error.code === 'internal' && error.message) return error.message;
  if (known(error.code)) return m.codes[error.code];
  return error.message || m.codes.internal;
}
