import { describe, expect, it } from 'vitest';
import { compactCount } from './numbers';

describe('compactCount', () => {
  it('keeps small counts exact and shortens big ones in each language', () => {
    expect(compactCount(950, 'en')).toBe('950');
    expect(compactCount(1234, 'en')).toBe('1.2K');
    expect(compactCount(100_000, 'en')).toBe('100K');
    expect(compactCount(100_000, 'zh')).toBe('10万');
    expect(compactCount(1234, 'ru')).toMatch(/^1,2\s?тыс\.$/);
  });
});
