import { describe, expect, it } from 'vitest';
import { SECTIONS, sectionForDigit } from './sections';

describe('sectionForDigit', () => {
  it('maps Alt+1…8 to the sidebar order', () => {
    expect(SECTIONS.map((_, i) => sectionForDigit(String(i + 1)))).toEqual([...SECTIONS]);
  });

  it('ignores other keys', () => {
    for (const key of ['0', '9', 'a', '', '1.5']) expect(sectionForDigit(key)).toBeNull();
  });
});
