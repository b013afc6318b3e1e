import { describe, expect, it } from 'vitest';
import { BackendError } from '../backend';
import type { Rule } from '../bindings/Rule';
import { DICTIONARIES } from '../i18n/index.svelte';
import { defaultAutomationSettings } from '../test/fakeAutomation';
import { describePlanned, describeRule, type Names } from './describe';
import {
  addHoliday,
  crossesMidnight,
  fingerprint,
  formatDuration,
  fromMinutes,
  isDate,
  moveRule,
  newRule,
  parseAttribute,
  relayReason,
  ruleProblems,
  sortedRules,
  splitList,
} from './model';

const rules = (): Rule[] => defaultAutomationSettings().rules;
const names: Names = {
  team: (id) => ({ logistics: 'Logistics' })[id] ?? id,
  member: (id) => ({ 'm-boris': 'Boris', 'm-ana': 'Ana' })[id] ?? id,
};

describe('rule order', () => {
  it('sorts by order then id, as the engine runs them', () => {
    const list = rules();
    list[0].order = 30;
    expect(sortedRules(list).map((r) => r.id).slice(0, 3)).toEqual(['default-returns', 'default-order-chase', 'default-urgent']);
  });

  it('moves a rule and renumbers every rule 10, 20, 30…', () => {
    const moved = moveRule(rules(), 2, -2);
    expect(moved.map((r) => r.id).slice(0, 3)).toEqual(['default-urgent', 'default-order-chase', 'default-returns']);
    expect(moved.map((r) => r.order)).toEqual([10, 20, 30, 40, 50, 60]);
    expect(moveRule(rules(), 0, -1).map((r) => r.id)).toEqual(sortedRules(rules()).map((r) => r.id));
    expect(moveRule(rules(), 5, 1).map((r) => r.id)).toEqual(sortedRules(rules()).map((r) => r.id));
  });

  it('a new rule runs last and has a unique id', () => {
    const a = newRule(rules(), 'A');
    const b = newRule(rules(), 'B');
    expect(a.order).toBe(70);
    expect(a.id).not.toBe(b.id);
  });
});

describe('ruleProblems', () => {
  it('finds what the relay would refuse', () => {
    const rule = newRule([], ' ');
    rule.conditions.items = [
      { type: 'hashtag', tag: '＃' },
      { type: 'keyword', any: [' ', ''] },
    ];
    rule.actions = [
      { type: 'assign_team', team: '' },
      { type: 'auto_reply', key: 'k', text: ' ', language: 'en' },
      { type: 'set_sla' },
      { type: 'notify', to: { kind: 'members', ids: [] }, text: 'x' },
    ];
    expect(ruleProblems(rule).sort()).toEqual(
      ['nameRequired', 'hashtagEmpty', 'keywordsEmpty', 'teamRequired', 'replyTextEmpty', 'slaEmpty', 'notifyNobody'].sort(),
    );
    for (const r of rules()) expect(ruleProblems(r), r.id).toEqual([]);
  });
});

describe('words', () => {
  it('describes the shipped rules and planned steps in each language', () => {
    const [chase] = rules();
    expect(describeRule(DICTIONARIES.en.automation, chase, names)).toEqual({
      when: 'a message arrives',
      conditions: 'the message has #order-chase',
      actions: 'add the label “order-chase”; assign to the least-loaded member of Logistics; SLA: first response within 30 s',
    });
    expect(describeRule(DICTIONARIES.ru.automation, chase, names).actions).toContain('первый ответ за 30 с');
    expect(describeRule(DICTIONARIES.zh.automation, chase, names).actions).toContain('30 秒内首次响应');

    const assign = { type: 'assign', team: 'logistics', member: 'm-boris' } as const;
    expect(describePlanned(DICTIONARIES.en.automation, assign, names)).toBe('Assign to Boris (Logistics)');
    expect(describePlanned(DICTIONARIES.ru.automation, assign, names)).toBe('Назначить: Boris (Logistics)');
    expect(describePlanned(DICTIONARIES.en.automation, { type: 'assign', team: 'logistics', member: null }, names)).toContain(
      'Put in the Logistics queue',
    );
    expect(
      describePlanned(DICTIONARIES.en.automation, { type: 'set_sla', target: { first_response_secs: 7200, next_response_secs: 5400 } }, names),
    ).toBe('Start the SLA clock: first response within 2 h, next response within 1 h 30 min');
    expect(describePlanned(DICTIONARIES.en.automation, { type: 'notify', members: ['m-ana', 'm-boris'], text: 'Hi' }, names)).toBe(
      'Notify Ana, Boris: “Hi”',
    );
  });

  it('formats durations with at most two parts', () => {
    const u = DICTIONARIES.en.automation.units;
    expect(formatDuration(30, u)).toBe('30 s');
    expect(formatDuration(7200, u)).toBe('2 h');
    expect(formatDuration(5400, u)).toBe('1 h 30 min');
    expect(formatDuration(90_061, u)).toBe('1 d 1 h');
    expect(formatDuration(0, u)).toBe('0 s');
  });
});

describe('small parsers', () => {
  it('reads lists, minutes, attributes, dates', () => {
    expect(splitList('where, где，哪里、 \n track')).toEqual(['where', 'где', '哪里', 'track']);
    expect(fromMinutes('0.5')).toBe(30);
    expect(fromMinutes('')).toBeUndefined();
    expect(fromMinutes('-3')).toBeUndefined();
    expect(parseAttribute('600')).toBe(600);
    expect(parseAttribute('true')).toBe(true);
    expect(parseAttribute('gold')).toBe('gold');
    expect(isDate('2026-02-29')).toBe(false);
    expect(isDate('2028-02-29')).toBe(true);
    expect(addHoliday(['2026-12-25'], '2026-05-01')).toEqual(['2026-05-01', '2026-12-25']);
    expect(addHoliday(['2026-12-25'], '2026-12-25')).toEqual(['2026-12-25']);
    expect(crossesMidnight({ start: '22:00', end: '02:00' })).toBe(true);
    expect(crossesMidnight({ start: '09:00', end: '18:00' })).toBe(false);
  });

  it('takes the relay reason out of a refusal', () => {
    const e = new BackendError('invalid_automation', 'the relay refused: rule "x": the hashtag is empty (invalid_automation)');
    expect(relayReason(e)).toBe('rule "x": the hashtag is empty');
    expect(relayReason(new BackendError('invalid_automation', 'plain reason'))).toBe('plain reason');
    const relay = new BackendError(
      'invalid_automation',
      'the relay refused: The automation settings cannot be used: two rules have the id "a" (invalid_automation)',
    );
    expect(relayReason(relay)).toBe('two rules have the id "a"');
  });

  it('fingerprints ignore key order but not values', () => {
    expect(fingerprint({ a: 1, b: { c: 2, d: 3 } })).toBe(fingerprint({ b: { d: 3, c: 2 }, a: 1 }));
    expect(fingerprint({ a: [1, 2] })).not.toBe(fingerprint({ a: [2, 1] }));
  });
});
