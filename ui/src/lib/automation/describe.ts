// Rules and planned actions in plain words, in the current language.
import type { AttributeTest } from '../bindings/AttributeTest';
import type { Planned } from '../bindings/PlannedStep';
import type { Rule } from '../bindings/Rule';
import type { Action } from '../bindings/RuleAction';
import type { Condition } from '../bindings/RuleCondition';
import type { Trigger } from '../bindings/RuleTrigger';
import type { SlaTarget } from '../bindings/SlaTarget';
import type { NotifyTarget } from '../bindings/NotifyTarget';
import type { Messages } from '../i18n/en';
import { format } from '../i18n/index.svelte';
import { formatDuration } from './model';

type M = Messages['automation'];

/** How ids read as names: teams by their slug, members by their id. */
export type Names = {
  team(id: string): string;
  member(id: string): string;
};

/** Falls back to the id itself. */
export const plainNames: Names = { team: (id) => id, member: (id) => id };

function duration(m: M, secs: number): string {
  return formatDuration(secs, m.units);
}

export function describeTrigger(m: M, t: Trigger): string {
  const w = m.words;
  switch (t.type) {
    case 'message_received':
      return w.messageReceived;
    case 'conversation_opened':
      return w.conversationOpened;
    case 'label_added':
      return t.label ? format(w.labelAddedNamed, { label: t.label }) : w.labelAdded;
    case 'no_reply':
      return format(w.noReply, { duration: duration(m, t.after_secs) });
    case 'sla_due':
      return t.kind ? format(w.slaDueKind, { kind: m.slaKinds[t.kind] }) : w.slaDue;
  }
}

function attributeValue(test: AttributeTest): string {
  return typeof test.value === 'string' ? `“${test.value}”` : String(test.value);
}

export function describeCondition(m: M, c: Condition, names: Names = plainNames): string {
  const w = m.words;
  switch (c.type) {
    case 'hashtag':
      return format(w.hashtag, { tag: `#${c.tag.trim().replace(/^[#＃]+/, '')}` });
    case 'keyword':
      return format(w.keyword, { words: c.any.map((k) => `“${k}”`).join(', ') });
    case 'label':
      return format(c.present ? w.label : w.noLabel, { label: c.label });
    case 'attribute':
      return format(w.attribute, {
        key: c.key,
        op: m.conditionFields.ops[c.test.op],
        value: attributeValue(c.test),
      });
    case 'new_customer':
      return format(w.newCustomer, { hours: c.within_hours });
    case 'business_hours':
      return c.open ? w.inside : w.outside;
    case 'assignee_waiting':
      return format(w.waiting, { cmp: m.conditionFields.cmp[c.cmp], n: c.value });
    case 'team_available':
      return format(c.available ? w.teamAvailable : w.teamUnavailable, { team: names.team(c.team) });
  }
}

export function describeSla(m: M, t: SlaTarget): string {
  const parts: string[] = [];
  if (t.first_response_secs !== undefined) parts.push(format(m.words.slaFirst, { duration: duration(m, t.first_response_secs) }));
  if (t.next_response_secs !== undefined) parts.push(format(m.words.slaNext, { duration: duration(m, t.next_response_secs) }));
  return parts.length ? parts.join(', ') : m.words.slaNone;
}

function who(m: M, to: NotifyTarget, names: Names): string {
  switch (to.kind) {
    case 'supervisors':
      return m.words.supervisors;
    case 'assignee':
      return m.words.assignee;
    case 'members':
      return to.ids.map((id) => names.member(id)).join(', ') || m.words.nobody;
    case 'team':
      return format(m.words.teamMembers, { team: names.team(to.team) });
  }
}

export function describeAction(m: M, a: Action, names: Names = plainNames): string {
  const w = m.words;
  switch (a.type) {
    case 'add_label':
      return format(w.addLabel, { label: a.label });
    case 'assign_team':
      return format(w.assignTeam, { team: names.team(a.team) });
    case 'assign_member':
      return format(w.assignMember, { member: names.member(a.member) });
    case 'assign_least_loaded':
      return format(w.assignLeast, { team: names.team(a.team) });
    case 'assign_round_robin':
      return format(w.assignRoundRobin, { team: names.team(a.team) });
    case 'set_priority':
      return format(w.priority, { priority: m.priorities[a.priority] });
    case 'auto_reply':
      return format(w.autoReply, { text: a.text });
    case 'notify':
      return format(w.notify, { who: who(m, a.to, names) });
    case 'set_sla':
      return format(w.sla, { targets: describeSla(m, a) });
  }
}

/** One line for the rules list: when, if, then. */
export function describeRule(m: M, rule: Rule, names: Names = plainNames): { when: string; conditions: string; actions: string } {
  const joiner = rule.conditions.match === 'all' ? m.words.and : m.words.or;
  return {
    when: describeTrigger(m, rule.trigger),
    conditions: rule.conditions.items.length
      ? rule.conditions.items.map((c) => describeCondition(m, c, names)).join(joiner)
      : m.words.always,
    actions: rule.actions.length ? rule.actions.map((a) => describeAction(m, a, names)).join('; ') : m.words.nothing,
  };
}

/** A planned step as a sentence ("Assign to Ana (Logistics)"). */
export function describePlanned(m: M, p: Planned, names: Names = plainNames): string {
  const w = m.planned;
  switch (p.type) {
    case 'add_label':
      return format(w.addLabel, { label: p.label });
    case 'remove_label':
      return format(w.removeLabel, { label: p.label });
    case 'assign':
      if (p.member && p.team) return format(w.assignMemberInTeam, { member: names.member(p.member), team: names.team(p.team) });
      if (p.member) return format(w.assignMember, { member: names.member(p.member) });
      if (p.team) return format(w.queue, { team: names.team(p.team) });
      return w.unassigned;
    case 'set_priority':
      return format(w.priority, { priority: m.priorities[p.priority] });
    case 'send_auto_reply':
      return format(w.autoReply, { text: p.text });
    case 'notify':
      return format(w.notify, { who: p.members.map((id) => names.member(id)).join(', '), text: p.text });
    case 'set_sla':
      return format(w.sla, { targets: describeSla(m, p.target) });
  }
}
