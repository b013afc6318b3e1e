import { describe, expect, it } from 'vitest';
import type { AuditVerification } from '../bindings/AuditVerification';
import { advice, auditEntry } from '../test/fakeBackend';
import {
  auditFilter,
  bySeverity,
  chainState,
  changedFields,
  EMPTY_FILTER,
  exportFilter,
  listChange,
  PAGE_SIZE,
  rangeInverted,
  systemActor,
  targetRef,
  thresholdProblems,
} from './audit';
import { defaultThresholds } from '../test/fakeBackend';

const intact: AuditVerification = {
  ok: true,
  checked: 3,
  head_seq: 9,
  head_count: 3,
  head_mac: 'ab',
  first_broken: null,
  checkpoint: null,
  rolled_back: null,
};

describe('auditFilter', () => {
  it('sends only what is set, with the page size', () => {
    expect(auditFilter(EMPTY_FILTER)).toEqual({ limit: PAGE_SIZE });
    expect(auditFilter({ ...EMPTY_FILTER, member: 'm-ana', action: 'device' }, 120)).toEqual({
      member: 'm-ana',
      action: 'device',
      before: 120,
      limit: PAGE_SIZE,
    });
  });

  it('turns dates into local midnights, the "to" day included', () => {
    const f = auditFilter({ ...EMPTY_FILTER, from: '2030-03-01', to: '2030-03-02' });
    expect(f.from).toBe(new Date(2030, 2, 1).toISOString());
    // The relay's `to` is exclusive: the day after, at midnight.
    expect(f.to).toBe(new Date(2030, 2, 3).toISOString());
  });

  it('ignores a half-typed date', () => {
    expect(auditFilter({ ...EMPTY_FILTER, from: '2030-3' })).toEqual({ limit: PAGE_SIZE });
  });

  it('export uses the same filter without paging', () => {
    expect(exportFilter({ ...EMPTY_FILTER, device: 'd1' })).toEqual({ device: 'd1' });
  });

  it('spots an inverted date range', () => {
    expect(rangeInverted({ ...EMPTY_FILTER, from: '2030-03-02', to: '2030-03-01' })).toBe(true);
    expect(rangeInverted({ ...EMPTY_FILTER, from: '2030-03-02', to: '2030-03-02' })).toBe(false);
    expect(rangeInverted({ ...EMPTY_FILTER, from: '2030-03-02' })).toBe(false);
  });
});

describe('changedFields', () => {
  it('lists only the fields that differ, key order ignored', () => {
    const before = { name: 'Ana', level: { preset: 'standard' }, permissions: ['reply'], active: true };
    const after = { active: true, level: { preset: 'standard' }, name: 'Ana María', permissions: ['apply_labels', 'reply'] };
    expect(changedFields(before, after).map((c) => c.field)).toEqual(['name', 'permissions']);
  });

  it('a created object lists every field; nothing to compare lists nothing', () => {
    expect(changedFields(null, { name: 'Ana', active: true }).map((c) => c.field)).toEqual(['active', 'name']);
    expect(changedFields({ a: 1 }, null)).toEqual([{ field: 'a', before: 1, after: null }]);
    expect(changedFields(null, null)).toEqual([]);
    expect(changedFields({ a: { x: 1, y: 2 } }, { a: { y: 2, x: 1 } })).toEqual([]);
  });

  it('compares plain values as one change', () => {
    expect(changedFields('a', 'b')).toEqual([{ field: 'value', before: 'a', after: 'b' }]);
  });

  it('says what a list gained and lost', () => {
    expect(listChange(['reply', 'export_history'], ['reply', 'apply_labels'])).toEqual({
      added: ['apply_labels'],
      removed: ['export_history'],
    });
    expect(listChange('x', ['a'])).toBeNull();
  });
});

describe('entries', () => {
  it('names who acted without a member', () => {
    expect(systemActor(auditEntry({ kind: 'audit.pairing_failed', actor_member_id: null }))).toBe('pairing');
    expect(systemActor(auditEntry({ kind: 'audit.device_linked', actor_member_id: null }))).toBe('pairing');
    expect(systemActor(auditEntry({ kind: 'audit.entries_expired', actor_member_id: null }))).toBe('relay');
  });

  it('finds the target id', () => {
    expect(targetRef({ device_id: 'd1' })).toEqual({ kind: 'device', id: 'd1' });
    expect(targetRef(null)).toBeNull();
    expect(targetRef({ format: 'csv' })).toBeNull();
  });
});

describe('chainState', () => {
  it('reads the verification, a broken chain before a rollback', () => {
    expect(chainState(null)).toBe('unknown');
    expect(chainState(intact)).toBe('intact');
    const rolled = { code: 'head_behind', message: 'went back', remembered: { seq: 12, count: 5, mac: 'cd' } };
    expect(chainState({ ...intact, rolled_back: rolled })).toBe('rolled_back');
    const broken = { seq: 4, reason: 'mac', code: 'mac_mismatch' };
    expect(chainState({ ...intact, ok: false, first_broken: broken, rolled_back: rolled })).toBe('broken');
  });
});

describe('bySeverity', () => {
  it('puts critical first, then warnings, then advice, keeping the order within each', () => {
    const list = [
      advice({ code: 'a', severity: 'info' }),
      advice({ code: 'b', severity: 'warning' }),
      advice({ code: 'c', severity: 'critical' }),
      advice({ code: 'd', severity: 'warning' }),
    ];
    expect(bySeverity(list).map((a) => a.code)).toEqual(['c', 'b', 'd', 'a']);
  });
});

describe('thresholdProblems', () => {
  it('accepts the defaults and the limits themselves', () => {
    expect(thresholdProblems(defaultThresholds())).toEqual({});
    const t = defaultThresholds();
    t.permission_change_burst = { enabled: true, count: 1000, window_minutes: 1440 };
    t.pairing_failure_burst = { enabled: true, count: 2, window_minutes: 1 };
    t.device_idle = { enabled: true, days: 365 };
    expect(thresholdProblems(t)).toEqual({});
  });

  it('names every value out of range', () => {
    const t = defaultThresholds();
    t.permission_change_burst.count = 1;
    t.pairing_failure_burst.window_minutes = 1441;
    t.device_idle.days = 0;
    t.night_sign_in.night.start = '';
    expect(thresholdProblems(t)).toEqual({
      'permission_change_burst.count': 'count',
      'pairing_failure_burst.window_minutes': 'window',
      'device_idle.days': 'days',
      'night_sign_in.night': 'time',
    });
    t.permission_change_burst.count = 2.5;
    expect(thresholdProblems(t)['permission_change_burst.count']).toBe('count');
  });
});
