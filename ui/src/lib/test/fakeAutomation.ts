// The fake relay's automation: the shipped defaults (crates/core/src/automation/defaults.rs)
// and a small evaluator in the engine's spirit for the dry run. Test code: the real
// engine runs on the relay; this one only has to behave plausibly for UI tests.
import { BackendError } from '../backend';
import type { AutomationSettings } from '../bindings/AutomationSettings';
import type { AutomationView } from '../bindings/AutomationView';
import type { ContactFacts } from '../bindings/ContactFacts';
import type { ConversationFacts } from '../bindings/ConversationFacts';
import type { DryRunRequest } from '../bindings/DryRunRequest';
import type { DryRunResult } from '../bindings/DryRunResult';
import type { MemberLoad } from '../bindings/MemberLoad';
import type { PlannedAction } from '../bindings/PlannedAction';
import type { Planned } from '../bindings/PlannedStep';
import type { Condition } from '../bindings/RuleCondition';
import type { SkippedAction } from '../bindings/SkippedAction';
import type { SlaTarget } from '../bindings/SlaTarget';
import type { FiredRule } from '../bindings/FiredRule';

export const SUPERVISOR_ID = '00000000-0000-7000-8000-000000000001';

/** The relay's defaults for a new team, with the hours most shops set first. */
export function defaultAutomationSettings(timeZone = 'Europe/Madrid'): AutomationSettings {
  const weekdays = ['mon', 'tue', 'wed', 'thu', 'fri'] as const;
  return {
    rules: [
      {
        id: 'default-order-chase',
        name: '#order-chase → logistics',
        enabled: true,
        order: 10,
        trigger: { type: 'message_received' },
        conditions: { match: 'all', items: [{ type: 'hashtag', tag: '#order-chase' }] },
        actions: [
          { type: 'add_label', label: 'order-chase' },
          { type: 'assign_least_loaded', team: 'logistics' },
          { type: 'set_sla', first_response_secs: 30 },
        ],
        stop_processing: false,
      },
      {
        id: 'default-returns',
        name: '#returns → after-sales',
        enabled: true,
        order: 20,
        trigger: { type: 'message_received' },
        conditions: { match: 'all', items: [{ type: 'hashtag', tag: '#returns' }] },
        actions: [
          { type: 'add_label', label: 'returns' },
          { type: 'assign_least_loaded', team: 'after-sales' },
          { type: 'set_sla', first_response_secs: 7200 },
        ],
        stop_processing: false,
      },
      {
        id: 'default-urgent',
        name: '#urgent → supervisors',
        enabled: true,
        order: 30,
        trigger: { type: 'message_received' },
        conditions: { match: 'all', items: [{ type: 'hashtag', tag: '#urgent' }] },
        actions: [
          { type: 'set_priority', priority: 'urgent' },
          { type: 'notify', to: { kind: 'supervisors' }, text: 'Urgent conversation' },
        ],
        stop_processing: false,
      },
      {
        id: 'default-sla-breach',
        name: 'SLA breach → assignee and supervisors',
        enabled: true,
        order: 40,
        trigger: { type: 'sla_due' },
        conditions: { match: 'all', items: [] },
        actions: [
          { type: 'notify', to: { kind: 'assignee' }, text: 'SLA breached' },
          { type: 'notify', to: { kind: 'supervisors' }, text: 'SLA breached' },
        ],
        stop_processing: false,
      },
      {
        id: 'default-away',
        name: 'Away message',
        enabled: false,
        order: 50,
        trigger: { type: 'message_received' },
        conditions: { match: 'all', items: [{ type: 'business_hours', open: false }] },
        actions: [
          {
            type: 'auto_reply',
            key: 'away',
            text: 'Thanks for your message! We are closed right now and will reply within {reply_eta}.',
            language: 'en',
          },
        ],
        stop_processing: false,
      },
      {
        id: 'default-greeting',
        name: 'Greeting for new customers',
        enabled: false,
        order: 60,
        trigger: { type: 'message_received' },
        conditions: { match: 'all', items: [{ type: 'new_customer', within_hours: 24 }] },
        actions: [
          {
            type: 'auto_reply',
            key: 'greeting',
            text: 'Welcome! Thanks for writing to us — a member of our team will be with you shortly.',
            cooldown_secs: 86_400,
            language: 'en',
          },
        ],
        stop_processing: false,
      },
    ],
    business_hours: {
      time_zone: timeZone,
      ranges: [...weekdays.map((day) => ({ day, start: '09:00', end: '18:00' })), { day: 'sat', start: '10:00', end: '14:00' }],
      holidays: ['2026-12-25', '2027-01-01'],
    },
    assignment: { overflow_above: 15, overflow_below: 5, vip_attribute: 'monthly_spend_usd', vip_above: 500 },
    auto_labels: {
      new_customer: { enabled: true, label: 'New customer', threshold: 24 },
      high_priority: { enabled: true, label: 'High priority', threshold: 3 },
      needs_follow_up: { enabled: true, label: 'Needs follow-up', threshold: 48 },
    },
    sla: { by_label: {} },
    auto_replies: {
      cooldown_secs: 12 * 3600,
      automated_signatures: ['auto-reply', 'autoreply', 'automatic reply', 'out of office', 'автоответ', '自动回复'],
      bot_echo_secs: 3,
    },
    faq: {
      enabled: false,
      entries: [],
      handoff_keywords: ['talk to a person', 'human', 'agent', 'operator', 'оператор*', 'живой человек', '人工', '转人工'],
      handoff_team: null,
      handoff_reply: 'A person from our team will reply shortly.',
      handoff_hint: 'Reply "agent" to talk to a person.',
      min_score: 1,
    },
  };
}

/** A team of four: Ana and Boris in logistics, Chen in after-sales, Olga (supervisor) in sales. */
export function defaultAutomationView(): AutomationView {
  return {
    enabled: true,
    settings: defaultAutomationSettings(),
    agents: {
      'm-ana': { capacity: 10, senior: true },
      'm-boris': { capacity: 10, senior: false },
    },
    revision: 1,
    updated_at: null,
    updated_by: null,
    teams: [
      { id: 'logistics', group_id: 'g-logistics', name: 'Logistics', members: ['m-ana', 'm-boris'] },
      { id: 'after-sales', group_id: 'g-after-sales', name: 'After-sales', members: ['m-chen'] },
      { id: 'sales', group_id: 'g-sales', name: 'Sales', members: [SUPERVISOR_ID] },
    ],
  };
}

/** Loads as the relay would report them: Boris is the least loaded in logistics. */
export const DEFAULT_LOADS: Record<string, { online: boolean; assigned: number; waiting: number }> = {
  'm-ana': { online: true, assigned: 6, waiting: 3 },
  'm-boris': { online: true, assigned: 2, waiting: 1 },
  'm-chen': { online: true, assigned: 4, waiting: 2 },
  [SUPERVISOR_ID]: { online: true, assigned: 1, waiting: 0 },
};

/** Folds text the way the engine compares it. */
export function fold(text: string): string {
  return text.toLowerCase().replace(/ё/g, 'е').replace(/＃/g, '#');
}

const CJK = /[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff]/u;

function words(folded: string): string[] {
  return folded.split(/[^\p{L}\p{N}_]+/u).filter((w) => w !== '');
}

function tags(folded: string): string[] {
  return [...folded.matchAll(/#([\p{L}\p{N}_-]+)/gu)].map((m) => m[1].replace(/-+$/, '')).filter((t) => t !== '');
}

/** Whether `keyword` (as written in a rule) occurs in the folded message. */
export function keywordHit(keyword: string, folded: string): boolean {
  const k = fold(keyword.trim());
  if (k === '') return false;
  if (CJK.test(k)) return folded.includes(k);
  const list = words(folded);
  if (k.endsWith('*')) {
    const stem = k.slice(0, -1).trim();
    return stem !== '' && list.some((w) => w.startsWith(stem));
  }
  const parts = words(k);
  if (parts.length === 0) return folded.includes(k);
  if (parts.length === 1) return list.includes(parts[0]);
  return list.some((_, i) => parts.every((p, j) => list[i + j] === p));
}

/** What the relay refuses to save (the engine's compile errors and an empty rule name). */
export function compileProblem(settings: AutomationSettings): string | null {
  const ids = new Set<string>();
  for (const rule of settings.rules) {
    if (ids.has(rule.id)) return `two rules have the id "${rule.id}"`;
    ids.add(rule.id);
    if (rule.name.trim() === '') return `rule "${rule.id}": the name is empty`;
    if (!rule.enabled) continue;
    for (const c of rule.conditions.items) {
      if (c.type === 'hashtag' && fold(c.tag.trim()).replace(/^#+/, '') === '') return `rule "${rule.id}": the hashtag is empty`;
      if (c.type === 'keyword' && !c.any.some((k) => k.trim() !== ''))
        return `rule "${rule.id}": a keyword condition needs at least one non-empty keyword`;
    }
  }
  try {
    new Intl.DateTimeFormat('en', { timeZone: settings.business_hours.time_zone });
  } catch {
    return `unknown time zone "${settings.business_hours.time_zone}" (expected an IANA name such as "Europe/Berlin")`;
  }
  return null;
}

const WEEKDAY = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'] as const;

/** The local date, weekday and HH:MM of `at` in `zone`. */
function local(at: Date, zone: string): { date: string; day: string; time: string } {
  const parts = Object.fromEntries(
    new Intl.DateTimeFormat('en-CA', {
      timeZone: zone,
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      hourCycle: 'h23',
      weekday: 'short',
    })
      .formatToParts(at)
      .map((p) => [p.type, p.value]),
  );
  return { date: `${parts.year}-${parts.month}-${parts.day}`, day: String(parts.weekday).slice(0, 3).toLowerCase(), time: `${parts.hour}:${parts.minute}` };
}

/** Business hours as the engine reads them: ranges past midnight, holidays close the date. */
export function isOpen(settings: AutomationSettings, at: Date): boolean {
  const h = settings.business_hours;
  const now = local(at, h.time_zone);
  if (h.holidays.includes(now.date)) return false;
  if (h.ranges.length === 0) return true;
  const today = h.ranges.filter((r) => r.day === now.day);
  if (today.some((r) => (r.start < r.end ? r.start <= now.time && now.time < r.end : now.time >= r.start))) return true;
  const yesterday = local(new Date(at.getTime() - 86_400_000), h.time_zone);
  if (h.holidays.includes(yesterday.date)) return false;
  const dayBefore = WEEKDAY[(WEEKDAY.indexOf(now.day as (typeof WEEKDAY)[number]) + 6) % 7];
  return h.ranges.some((r) => r.day === dayBefore && r.end <= r.start && now.time < r.end);
}

function describe(c: Condition, folded: string): string {
  switch (c.type) {
    case 'hashtag':
      return `hashtag #${c.tag.trim().replace(/^[#＃]+/, '')}`;
    case 'keyword':
      return `keyword ${c.any
        .filter((k) => keywordHit(k, folded))
        .map((k) => `"${k.trim()}"`)
        .join(', ')}`;
    case 'label':
      return c.present ? `label ${c.label}` : `no label ${c.label}`;
    case 'attribute':
      return `${c.key} ${c.test.op} ${String(c.test.value)}`;
    case 'new_customer':
      return `new customer (first contact within ${c.within_hours} h)`;
    case 'business_hours':
      return c.open ? 'inside business hours' : 'outside business hours';
    case 'assignee_waiting':
      return `assignee has ${c.cmp} ${c.value} waiting`;
    case 'team_available':
      return c.available ? `${c.team} has a member available` : `nobody in ${c.team} is available`;
  }
}

function strictest(a: SlaTarget, b: SlaTarget): SlaTarget {
  const min = (x?: number, y?: number) => (x === undefined ? y : y === undefined ? x : Math.min(x, y));
  const out: SlaTarget = {};
  const first = min(a.first_response_secs, b.first_response_secs);
  const next = min(a.next_response_secs, b.next_response_secs);
  if (first !== undefined) out.first_response_secs = first;
  if (next !== undefined) out.next_response_secs = next;
  return out;
}

/** A dry run over `view`'s teams with `loads`; the request's settings win over the saved ones. */
export function dryRun(
  view: AutomationView,
  request: DryRunRequest,
  loads = DEFAULT_LOADS,
): DryRunResult {
  const settings = request.settings ?? view.settings;
  const problem = compileProblem(settings);
  if (problem) {
    throw new BackendError('invalid_automation', `the relay refused: The automation settings cannot be used: ${problem} (invalid_automation)`);
  }
  const now = request.now ? new Date(request.now) : new Date();
  const text = request.message ?? '';
  const folded = fold(text);
  const messageTags = tags(folded);
  const event = request.event ?? { type: 'message_received' as const };
  const contact: ContactFacts = request.contact ?? { id: 'dry-run', first_contact_at: null, interactions: 1, attributes: {}, auto_replies_sent: [] };
  const conversation: ConversationFacts = request.conversation ?? {
    id: 'dry-run',
    assignee: null,
    team: null,
    labels: [],
    last_customer_message_at: null,
    last_agent_reply_at: null,
    unanswered_since: null,
  };
  const agents = view.agents;
  const teams = view.teams.map((t) => ({
    id: t.id,
    name: t.name,
    members: t.members.map(
      (id): MemberLoad => ({
        id,
        online: loads[id]?.online ?? false,
        capacity: agents[id]?.capacity ?? 10,
        assigned: loads[id]?.assigned ?? 0,
        waiting: loads[id]?.waiting ?? 0,
        senior: agents[id]?.senior ?? false,
      }),
    ),
  }));
  const supervisors = [SUPERVISOR_ID];
  const available = (m: MemberLoad) => m.online && m.assigned < m.capacity;

  const actions: PlannedAction[] = [];
  const fired: FiredRule[] = [];
  const skipped: SkippedAction[] = [];
  const labels = conversation.labels.map(fold);
  let assignee = conversation.assignee;
  let assigned = false;
  let prioritySet = false;
  let replied = false;
  let sla: { target: SlaTarget; names: string[]; id: string; name: string } | null = null;
  const notices: { source: string; name: string; members: string[]; text: string; reason: string }[] = [];
  const inbound = event.type === 'message_received';
  const automated = inbound
    ? (settings.auto_replies.automated_signatures.map((s) => fold(s.trim())).find((s) => s !== '' && folded.includes(s)) ?? null)
    : null;
  const automatedReason = automated ? `the text contains "${automated}"` : null;
  const plan = (source: string, name: string, action: Planned, reason: string) => actions.push({ source, source_name: name, action, reason });

  const newCustomer = (hours: number) =>
    contact.first_contact_at === null || now.getTime() - Date.parse(contact.first_contact_at) < hours * 3_600_000;
  const auto = settings.auto_labels;
  if (auto.new_customer.enabled && newCustomer(auto.new_customer.threshold) && !labels.includes(fold(auto.new_customer.label))) {
    labels.push(fold(auto.new_customer.label));
    plan('auto_label:new_customer', auto.new_customer.label, { type: 'add_label', label: auto.new_customer.label }, `first contact within ${auto.new_customer.threshold} h`);
  }
  if (auto.high_priority.enabled && contact.interactions > auto.high_priority.threshold && !labels.includes(fold(auto.high_priority.label))) {
    labels.push(fold(auto.high_priority.label));
    plan('auto_label:high_priority', auto.high_priority.label, { type: 'add_label', label: auto.high_priority.label }, `more than ${auto.high_priority.threshold} interactions`);
  }

  const holds = (c: Condition): boolean => {
    switch (c.type) {
      case 'hashtag': {
        const tag = fold(c.tag.trim()).replace(/^#+/, '');
        return messageTags.some((t) => t === tag || (CJK.test(tag) && t.startsWith(tag)));
      }
      case 'keyword':
        return c.any.some((k) => keywordHit(k, folded));
      case 'label':
        return labels.includes(fold(c.label)) === c.present;
      case 'attribute': {
        const v = contact.attributes[c.key];
        const t = c.test;
        if (t.op === 'gt' || t.op === 'lt' || t.op === 'eq') {
          if (typeof v !== 'number') return false;
          return t.op === 'gt' ? v > t.value : t.op === 'lt' ? v < t.value : v === t.value;
        }
        if (t.op === 'is') return typeof v === 'boolean' && v === t.value;
        if (typeof v !== 'string') return false;
        return t.op === 'text_equals' ? fold(v) === fold(t.value) : fold(v).includes(fold(t.value));
      }
      case 'new_customer':
        return newCustomer(c.within_hours);
      case 'business_hours':
        return isOpen(settings, now) === c.open;
      case 'assignee_waiting': {
        const w = teams.flatMap((t) => t.members).find((m) => m.id === assignee)?.waiting;
        if (w === undefined) return false;
        return c.cmp === 'gt' ? w > c.value : c.cmp === 'lt' ? w < c.value : w === c.value;
      }
      case 'team_available':
        return (teams.find((t) => t.id === c.team)?.members.some(available) ?? false) === c.available;
    }
  };

  const assign = (id: string, name: string, teamId: string, pick: boolean, reason: string) => {
    const what = `assign to ${teamId}`;
    if (assigned) return skipped.push({ source: id, action: what, why: 'an earlier rule already assigned the conversation' });
    if (assignee) return skipped.push({ source: id, action: what, why: `the conversation is already assigned to ${assignee}` });
    const team = teams.find((t) => t.id === teamId);
    if (!team) return skipped.push({ source: id, action: what, why: `there is no team "${teamId}"` });
    let member: string | null = null;
    let why = reason;
    if (pick) {
      const free = team.members.filter(available).sort((a, b) => a.waiting - b.waiting || a.assigned - b.assigned);
      member = free[0]?.id ?? null;
      why += member ? `; least loaded: ${member} (${free[0].waiting} waiting)` : '; waits in the team queue';
    }
    assigned = true;
    if (member) assignee = member;
    plan(id, name, { type: 'assign', team: teamId, member }, why);
  };

  const reply = (id: string, name: string, key: string, body: string, cooldownSecs: number | undefined, reason: string) => {
    const what = `auto-reply ${key}`;
    if (automatedReason) return skipped.push({ source: id, action: what, why: `never answer an auto-reply: ${automatedReason}` });
    if (replied) return skipped.push({ source: id, action: what, why: 'one auto-reply per message; an earlier one is planned' });
    const cooldown = (cooldownSecs ?? settings.auto_replies.cooldown_secs) * 1000;
    const last = contact.auto_replies_sent.filter((s) => s.key === key).map((s) => Date.parse(s.at)).sort().pop();
    if (last !== undefined && now.getTime() - last < cooldown) {
      return skipped.push({ source: id, action: what, why: `sent to this customer recently; allowed again at ${new Date(last + cooldown).toISOString()}` });
    }
    replied = true;
    plan(id, name, { type: 'send_auto_reply', key, text: body.replace('{reply_eta}', 'as soon as possible') }, reason);
  };

  const rules = [...settings.rules].sort((a, b) => a.order - b.order || a.id.localeCompare(b.id));
  for (const rule of rules) {
    if (!rule.enabled || rule.trigger.type !== event.type) continue;
    const items = rule.conditions.items;
    let reason: string | null;
    if (items.length === 0) reason = 'no conditions';
    else if (rule.conditions.match === 'all') reason = items.every(holds) ? items.map((c) => describe(c, folded)).join(' and ') : null;
    else {
      const first = items.find(holds);
      reason = first ? describe(first, folded) : null;
    }
    if (reason === null) continue;
    fired.push({ rule_id: rule.id, rule_name: rule.name, reason });
    for (const a of rule.actions) {
      switch (a.type) {
        case 'add_label':
          if (labels.includes(fold(a.label))) skipped.push({ source: rule.id, action: `add label ${a.label}`, why: 'the label is already there' });
          else {
            labels.push(fold(a.label));
            plan(rule.id, rule.name, { type: 'add_label', label: a.label }, reason);
          }
          break;
        case 'assign_team':
          assign(rule.id, rule.name, a.team, false, reason);
          break;
        case 'assign_least_loaded':
        case 'assign_round_robin':
          assign(rule.id, rule.name, a.team, true, reason);
          break;
        case 'assign_member': {
          const m = teams.flatMap((t) => t.members).find((x) => x.id === a.member);
          const what = `assign to ${a.member}`;
          if (assigned || assignee) skipped.push({ source: rule.id, action: what, why: 'an earlier rule already assigned the conversation' });
          else if (!m) skipped.push({ source: rule.id, action: what, why: `there is no member "${a.member}"` });
          else if (!available(m)) skipped.push({ source: rule.id, action: what, why: `${a.member} is offline or at capacity` });
          else {
            assigned = true;
            assignee = a.member;
            plan(rule.id, rule.name, { type: 'assign', team: null, member: a.member }, reason);
          }
          break;
        }
        case 'set_priority':
          if (prioritySet) skipped.push({ source: rule.id, action: 'set priority', why: 'an earlier rule set the priority' });
          else {
            prioritySet = true;
            plan(rule.id, rule.name, { type: 'set_priority', priority: a.priority }, reason);
          }
          break;
        case 'auto_reply':
          reply(rule.id, rule.name, a.key, a.text, a.cooldown_secs, reason);
          break;
        case 'notify': {
          const to = a.to;
          const members =
            to.kind === 'supervisors'
              ? supervisors
              : to.kind === 'assignee'
                ? assignee
                  ? [assignee]
                  : []
                : to.kind === 'members'
                  ? to.ids
                  : (teams.find((t) => t.id === to.team)?.members.map((m) => m.id) ?? []);
          notices.push({ source: rule.id, name: rule.name, members: [...new Set(members)].sort(), text: a.text, reason });
          break;
        }
        case 'set_sla': {
          const target: SlaTarget = {};
          if (a.first_response_secs !== undefined) target.first_response_secs = a.first_response_secs;
          if (a.next_response_secs !== undefined) target.next_response_secs = a.next_response_secs;
          if (sla) {
            sla.target = strictest(sla.target, target);
            sla.names.push(rule.name);
          } else sla = { target, names: [rule.name], id: rule.id, name: rule.name };
          break;
        }
      }
    }
    if (rule.stop_processing) break;
  }

  if (inbound && !automatedReason) {
    const faq = settings.faq;
    if (faq.handoff_keywords.some((k) => keywordHit(k, folded))) {
      const reason = 'the customer asked for a person';
      const team = faq.handoff_team ?? conversation.team;
      if (team && !assignee && !assigned) assign('faq:handoff', 'Talk to a person', team, true, reason);
      notices.push({ source: 'faq:handoff', name: 'Talk to a person', members: [...supervisors], text: 'The customer asks to talk to a person', reason });
      if (faq.handoff_reply) reply('faq:handoff', 'Talk to a person', 'faq:handoff', faq.handoff_reply, undefined, reason);
    } else if (faq.enabled && !assignee && !replied) {
      const scored = faq.entries
        .map((e) => ({ e, score: e.keywords.filter((k) => keywordHit(k, folded)).length }))
        .filter((x) => x.score > 0 && x.score >= faq.min_score)
        .sort((a, b) => b.score - a.score)[0];
      if (scored) {
        const key = `faq:${scored.e.id}`;
        const answer = faq.handoff_hint ? `${scored.e.answer}\n\n${faq.handoff_hint}` : scored.e.answer;
        reply(key, scored.e.question, key, answer, undefined, `FAQ "${scored.e.question}" matched (score ${scored.score})`);
      }
    }
  }

  for (const n of notices) {
    if (n.members.length === 0) skipped.push({ source: n.source, action: 'notify', why: 'nobody to notify' });
    else plan(n.source, n.name, { type: 'notify', members: n.members, text: n.text }, n.reason);
  }
  const rulesSla = sla as { target: SlaTarget; names: string[]; id: string; name: string } | null;
  if (rulesSla) {
    let target = rulesSla.target;
    for (const [label, t] of Object.entries(settings.sla.by_label)) if (labels.includes(fold(label))) target = strictest(target, t);
    plan(rulesSla.id, rulesSla.name, { type: 'set_sla', target }, `SLA from ${rulesSla.names.join(', ')} (strictest with label targets)`);
  }

  return {
    evaluation: { actions, fired, skipped, round_robin: { last: {} }, automated_inbound: automatedReason },
    context: { now: now.toISOString(), event, message: inbound ? { text, automated: false } : null, conversation, contact },
    live: { teams, supervisors, round_robin: { last: {} } },
  };
}
