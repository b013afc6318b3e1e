import { describe, expect, it } from 'vitest';
import { messageTemplate } from '../test/fakeBackend';
import {
  attributeValue,
  emptyForm,
  formProblems,
  instantToZoned,
  knownError,
  paramsFor,
  percentDone,
  segments,
  toDraft,
  uuidv7,
  zonedToInstant,
  type DraftForm,
} from './model';

const counts = (extra: Partial<Record<string, number>> = {}) => ({
  total: 10,
  pending: 0,
  queued: 0,
  sent: 0,
  delivered: 0,
  read: 0,
  failed: 0,
  opted_out: 0,
  cancelled: 0,
  ...extra,
});

describe('times in the team zone', () => {
  it('reads a wall-clock time in the team zone, not this computer’s', () => {
    expect(zonedToInstant('2026-11-21T10:00', 'Europe/Madrid')).toBe('2026-11-21T09:00:00.000Z');
    expect(zonedToInstant('2026-07-21T10:00', 'Europe/Madrid')).toBe('2026-07-21T08:00:00.000Z');
    expect(zonedToInstant('2026-11-21T10:00', 'Asia/Shanghai')).toBe('2026-11-21T02:00:00.000Z');
    expect(zonedToInstant('2026-11-21T10:00', 'America/New_York')).toBe('2026-11-21T15:00:00.000Z');
    expect(zonedToInstant('2026-11-21', 'Europe/Madrid')).toBeNull();
    expect(zonedToInstant('2026-11-21T10:00', 'Mars/Olympus')).toBeNull();
  });

  it('round-trips through the datetime input’s form', () => {
    for (const zone of ['Europe/Moscow', 'Asia/Shanghai', 'America/Sao_Paulo', 'UTC']) {
      const at = zonedToInstant('2027-01-05T23:45', zone)!;
      expect(instantToZoned(at, zone)).toBe('2027-01-05T23:45');
    }
  });

  it('a time skipped by the spring clock change lands within the hour of the change', () => {
    const at = Date.parse(zonedToInstant('2026-03-29T02:30', 'Europe/Madrid')!);
    const change = Date.parse('2026-03-29T01:00:00Z');
    expect(Math.abs(at - change)).toBeLessThanOrEqual(3_600_000);
  });
});

describe('the composer’s form', () => {
  const template = messageTemplate({ header: 'Offer for {{1}}', header_params: ['1'] });

  function filled(extra: Partial<DraftForm> = {}): DraftForm {
    return { ...emptyForm(), name: 'November sale', label: 'vip', template: 'order_update/en_US', ...paramsFor(template), ...extra };
  }

  it('an empty form names every missing part and no value problems before a template', () => {
    expect(formProblems(emptyForm(), null, 'Europe/Madrid').map((p) => p.field)).toEqual(['name', 'audience', 'template']);
  });

  it('a new template starts with the customer’s name in {{1}} and fixed text elsewhere', () => {
    const params = paramsFor(template);
    expect(params.header.map((p) => p.kind)).toEqual(['text']);
    expect(params.body.map((p) => p.kind)).toEqual(['contact_name', 'text']);
    const form = filled();
    expect(formProblems(form, template, 'UTC')).toEqual([
      { field: 'param', part: 'header', index: 0 },
      { field: 'param', part: 'body', index: 1 },
    ]);
  });

  it('turns into the relay’s draft: sources per parameter, typed attribute values, the instant', () => {
    const form = filled({
      useAttribute: true,
      attrKey: ' monthly_spend ',
      attrOp: 'gt',
      attrValue: '500',
      when: 'later',
      at: '2099-11-21T10:00',
    });
    form.header[0] = { kind: 'attribute', value: '', key: 'city', fallback: 'you' };
    form.body[1] = { kind: 'text', value: ' A-17 ', key: '', fallback: '' };
    expect(formProblems(form, template, 'Europe/Madrid')).toEqual([]);
    expect(toDraft(form, template, 'Europe/Madrid')).toEqual({
      name: 'November sale',
      audience: { label: 'vip', attribute: { key: 'monthly_spend', op: 'gt', value: 500 } },
      template: {
        name: 'order_update',
        language: 'en_US',
        header_params: [{ kind: 'attribute', key: 'city', fallback: 'you' }],
        body_params: [{ kind: 'contact_name' }, { kind: 'text', value: 'A-17' }],
      },
      scheduled_at: '2099-11-21T09:00:00.000Z',
    });
  });

  it('an attribute alone is an audience; an attribute source needs a name and a fallback', () => {
    const form = filled({ label: '', useAttribute: true, attrKey: 'tier', attrOp: 'eq', attrValue: 'gold' });
    form.body[1] = { kind: 'attribute', value: '', key: 'order', fallback: '' };
    form.header[0].value = 'you';
    expect(formProblems(form, template, 'UTC')).toEqual([{ field: 'param', part: 'body', index: 1 }]);
    expect(toDraft({ ...form, body: [form.body[0]] }, template, 'UTC').audience).toEqual({
      label: null,
      attribute: { key: 'tier', op: 'eq', value: 'gold' },
    });
  });

  it('a time that has passed or is not a time cannot be scheduled', () => {
    const now = Date.parse('2026-11-21T12:00:00Z');
    const base = filled({ when: 'later' });
    base.header[0].value = 'x';
    base.body[1].value = 'y';
    expect(formProblems({ ...base, at: '' }, template, 'UTC', now)).toEqual([{ field: 'schedule' }]);
    expect(formProblems({ ...base, at: '2026-11-21T11:59' }, template, 'UTC', now)).toEqual([{ field: 'past' }]);
    expect(formProblems({ ...base, at: '2026-11-21T12:01' }, template, 'UTC', now)).toEqual([]);
  });

  it('a template WhatsApp cannot take from a broadcast is refused', () => {
    const locked = messageTemplate({ sendable: false });
    expect(formProblems(filled(), locked, 'UTC').map((p) => p.field)).toContain('notSendable');
  });

  it('attribute values: numbers, true/false, else text', () => {
    expect(attributeValue('500')).toBe(500);
    expect(attributeValue('-2.5')).toBe(-2.5);
    expect(attributeValue('TRUE')).toBe(true);
    expect(attributeValue('gold ')).toBe('gold');
    expect(attributeValue('5 00')).toBe('5 00');
  });
});

describe('progress', () => {
  it('splits the bar by result and never says 100% while someone waits', () => {
    const c = counts({ total: 200, read: 50, delivered: 60, sent: 40, failed: 10, opted_out: 10, cancelled: 0, pending: 29, queued: 1 });
    const parts = Object.fromEntries(segments(c).map((s) => [s.id, s.percent]));
    expect(parts).toEqual({ read: 25, delivered: 30, sent: 20, failed: 5, opted_out: 5, cancelled: 0 });
    expect(percentDone(c)).toBe(85);
    expect(percentDone(counts({ total: 1000, pending: 1, delivered: 999 }))).toBe(99);
    expect(percentDone(counts({ total: 3, delivered: 3 }))).toBe(100);
    expect(percentDone(counts({ total: 0 }))).toBe(100);
  });
});

describe('WhatsApp’s reasons', () => {
  it('finds the code the section has words for', () => {
    expect(knownError('Message undeliverable (131026)')).toBe('131026');
    expect(knownError('{"code":131049,"title":"..."}')).toBe('131049');
    expect(knownError('Rate limit hit (130429)')).toBeNull();
    expect(knownError(null)).toBeNull();
  });
});

describe('uuidv7', () => {
  it('is a version 7 UUID that sorts by time', () => {
    const a = uuidv7(1_700_000_000_000);
    const b = uuidv7(1_700_000_000_001);
    expect(a).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(a < b).toBe(true);
    expect(uuidv7()).not.toBe(uuidv7());
  });
});
