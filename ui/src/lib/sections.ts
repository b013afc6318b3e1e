/** The app's sections, in sidebar order. Alt+1…8 jumps to them. */
export const SECTIONS = [
  'inbox',
  'contacts',
  'broadcasts',
  'automation',
  'team',
  'audit',
  'reports',
  'settings',
] as const;

export type SectionId = (typeof SECTIONS)[number];

/** The section an Alt+digit shortcut opens, if any. */
export function sectionForDigit(key: string): SectionId | null {
  if (!/^[1-9]$/.test(key)) return null;
  return SECTIONS[Number(key) - 1] ?? null;
}
