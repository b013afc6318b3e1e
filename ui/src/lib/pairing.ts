const CROCKFORD = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';

/**
 * A typed pairing code in the relay's display form `XXXXX-XXXXX`, or `null` when it
 * cannot be one. Like the relay: case, dashes and spaces do not matter, and Crockford's
 * look-alikes (I, L → 1; O → 0) are folded.
 */
export function normalisePairingCode(input: string): string | null {
  let raw = '';
  for (const ch of input.toUpperCase()) {
    if (ch === '-' || ch === ' ') continue;
    const c = ch === 'I' || ch === 'L' ? '1' : ch === 'O' ? '0' : ch;
    if (!CROCKFORD.includes(c)) return null;
    raw += c;
  }
  return raw.length === 10 ? `${raw.slice(0, 5)}-${raw.slice(5)}` : null;
}

/** Whether `input` is an http(s) address a relay could live at. */
export function validRelayUrl(input: string): boolean {
  try {
    const url = new URL(input.trim());
    return (url.protocol === 'https:' || url.protocol === 'http:') && url.hostname !== '';
  } catch {
    return false;
  }
}
