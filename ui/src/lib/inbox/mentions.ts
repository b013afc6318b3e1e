import type { MemberName } from '../bindings/MemberName';

/** Our users asked for at most this many @mentions per note (the relay enforces it too). */
export const MAX_MENTIONS = 2;

/** The `@query` being typed just before the caret, if any. */
export type MentionQuery = { start: number; query: string };

/**
 * Finds the `@word` the caret is in: an `@` at the start or after whitespace, followed by
 * letters, digits, `.`, `_` or `-` up to the caret.
 */
export function mentionAt(text: string, caret: number): MentionQuery | null {
  const before = text.slice(0, caret);
  const match = /(^|\s)@([\p{L}\p{N}._-]*)$/u.exec(before);
  if (!match) return null;
  return { start: before.length - match[2].length - 1, query: match[2] };
}

/** Members whose name contains `query` (names starting with it first), minus `exclude`. */
export function mentionCandidates(
  members: readonly MemberName[],
  query: string,
  exclude: readonly string[] = [],
  limit = 6,
): MemberName[] {
  const q = query.toLocaleLowerCase();
  const open = members.filter((m) => !exclude.includes(m.id) && m.name.toLocaleLowerCase().includes(q));
  const starts = open.filter((m) => m.name.toLocaleLowerCase().startsWith(q));
  const rest = open.filter((m) => !m.name.toLocaleLowerCase().startsWith(q));
  return [...starts, ...rest].slice(0, limit);
}

/** Replaces the `@query` at `at` with `@Name ` and returns the text and the new caret. */
export function insertMention(text: string, at: MentionQuery, member: MemberName): { text: string; caret: number } {
  const end = at.start + 1 + at.query.length;
  const inserted = `@${member.name} `;
  return { text: text.slice(0, at.start) + inserted + text.slice(end), caret: at.start + inserted.length };
}

/** The picked members still mentioned in `text` (a deleted `@Name` is no mention). */
export function mentionedIds(text: string, picked: readonly MemberName[]): string[] {
  const ids: string[] = [];
  for (const member of picked) {
    if (text.includes(`@${member.name}`) && !ids.includes(member.id)) ids.push(member.id);
  }
  return ids.slice(0, MAX_MENTIONS);
}
