/** The snooze choices offered in a conversation's header. */
export const SNOOZE_OPTIONS = ['hour', 'tomorrow', 'monday'] as const;
export type SnoozeOption = (typeof SNOOZE_OPTIONS)[number];

/** The hour (local time) "tomorrow" and "next Monday" wake a conversation. */
const MORNING = 9;

/**
 * When a snooze chosen at `now` ends, in this computer's local time: one hour later,
 * tomorrow at 09:00, or next Monday at 09:00 (a week ahead when today is Monday).
 */
export function snoozeUntil(option: SnoozeOption, now: Date = new Date()): Date {
  if (option === 'hour') return new Date(now.getTime() + 3_600_000);
  const at = new Date(now.getFullYear(), now.getMonth(), now.getDate(), MORNING, 0, 0, 0);
  if (option === 'tomorrow') {
    at.setDate(at.getDate() + 1);
  } else {
    // getDay(): 0 = Sunday, 1 = Monday.
    const ahead = (8 - at.getDay()) % 7 || 7;
    at.setDate(at.getDate() + ahead);
  }
  return at;
}

/** RFC 3339 (UTC, as the relay stores it) for a `Snooze` command's `until`. */
export function snoozeUntilRfc3339(option: SnoozeOption, now: Date = new Date()): string {
  return snoozeUntil(option, now).toISOString();
}
