import { fireEvent, render, screen, waitFor, within } from '@testing-library/svelte';
import { beforeEach, describe, expect, it } from 'vitest';
import App from '../../App.svelte';
import { BackendError } from '../backend';
import type { AutomationSettings } from '../bindings/AutomationSettings';
import type { DryRunRequest } from '../bindings/DryRunRequest';
import { i18n } from '../i18n/index.svelte';
import Automation from '../sections/Automation.svelte';
import { FakeBackend, info, me } from '../test/fakeBackend';

const en = () => i18n.m.automation;

async function open(backend = new FakeBackend(), who = me()) {
  render(Automation, { backend, me: who });
  await screen.findByTestId('rules-list');
  return backend;
}

function ruleIds(): string[] {
  return screen.getAllByTestId('rule-row').map((r) => r.dataset.ruleId!);
}

function row(id: string): HTMLElement {
  return screen.getAllByTestId('rule-row').find((r) => r.dataset.ruleId === id)!;
}

function lastSave(backend: FakeBackend) {
  const calls = backend.called('saveAutomation');
  const [enabled, settings, agents, revision] = calls[calls.length - 1].args as [boolean, AutomationSettings, unknown, number];
  return { enabled, settings, agents, revision };
}

async function save() {
  await fireEvent.click(screen.getByTestId('automation-save'));
}

describe('Automation › Rules', () => {
  beforeEach(() => {
    localStorage.clear();
    i18n.choose('en');
  });

  it('lists the shipped rules in run order with what each does in plain words', async () => {
    await open();
    expect(ruleIds()).toEqual([
      'default-order-chase',
      'default-returns',
      'default-urgent',
      'default-sla-breach',
      'default-away',
      'default-greeting',
    ]);
    const chase = row('default-order-chase');
    expect(within(chase).getByTestId('rule-name')).toHaveTextContent('#order-chase → logistics');
    const summary = within(chase).getByTestId('rule-summary');
    expect(summary).toHaveTextContent('a message arrives');
    expect(summary).toHaveTextContent('the message has #order-chase');
    expect(summary).toHaveTextContent('assign to the least-loaded member of Logistics');
    expect(summary).toHaveTextContent('SLA: first response within 30 s');
    expect(within(row('default-returns')).getByTestId('rule-summary')).toHaveTextContent('first response within 2 h');
    expect(within(row('default-urgent')).getByTestId('rule-summary')).toHaveTextContent('notify the supervisors');
    expect(within(row('default-away')).getByTestId('rule-enabled')).not.toBeChecked();
    expect(screen.getByTestId('automation-clean')).toBeInTheDocument();
    expect(screen.getByTestId('automation-save')).toBeDisabled();
  });

  it('a switched rule is an unsaved change; Save sends it with the revision read, then the next save uses the new one', async () => {
    const backend = await open();
    await fireEvent.click(within(row('default-urgent')).getByTestId('rule-enabled'));
    expect(screen.getByTestId('automation-unsaved')).toHaveTextContent(en().save.unsaved);
    await save();
    await screen.findByTestId('automation-saved');
    const first = lastSave(backend);
    expect(first.revision).toBe(1);
    expect(first.settings.rules.find((r) => r.id === 'default-urgent')!.enabled).toBe(false);
    expect(backend.automationView.revision).toBe(2);
    expect(screen.getByTestId('automation-save')).toBeDisabled();

    // Move "#returns" above "#order-chase": the list and the saved orders follow.
    await fireEvent.click(within(row('default-returns')).getByTestId('rule-up'));
    expect(ruleIds().slice(0, 2)).toEqual(['default-returns', 'default-order-chase']);
    expect(screen.getByTestId('automation-unsaved')).toBeInTheDocument();
    await save();
    await screen.findByTestId('automation-saved');
    const second = lastSave(backend);
    expect(second.revision).toBe(2);
    const order = [...second.settings.rules].sort((a, b) => a.order - b.order).map((r) => r.id);
    expect(order.slice(0, 3)).toEqual(['default-returns', 'default-order-chase', 'default-urgent']);
    expect(new Set(second.settings.rules.map((r) => r.order)).size).toBe(second.settings.rules.length);
    expect(backend.automationView.revision).toBe(3);
  });

  it('moving a rule back where it was leaves nothing to save; Discard restores the relay version', async () => {
    await open();
    expect(within(row('default-order-chase')).getByTestId('rule-up')).toBeDisabled();
    expect(within(row('default-greeting')).getByTestId('rule-down')).toBeDisabled();
    await fireEvent.click(within(row('default-order-chase')).getByTestId('rule-down'));
    expect(ruleIds()[1]).toBe('default-order-chase');
    expect(screen.getByTestId('automation-unsaved')).toBeInTheDocument();
    await fireEvent.click(within(row('default-order-chase')).getByTestId('rule-up'));
    expect(screen.getByTestId('automation-clean')).toBeInTheDocument();
    await fireEvent.click(within(row('default-order-chase')).getByTestId('rule-down'));
    expect(screen.getByTestId('automation-unsaved')).toBeInTheDocument();
    await fireEvent.click(screen.getByTestId('automation-discard'));
    expect(ruleIds()[0]).toBe('default-order-chase');
    expect(screen.getByTestId('automation-clean')).toBeInTheDocument();
  });

  it('a colleague saved meanwhile: the conflict says so and Reload fetches their version', async () => {
    const backend = await open();
    // Someone else saves revision 2 with the urgent rule renamed.
    backend.automationView.settings.rules.find((r) => r.id === 'default-urgent')!.name = 'Urgent → Olga';
    backend.automationView.revision = 2;
    await fireEvent.click(within(row('default-returns')).getByTestId('rule-enabled'));
    await save();
    const error = await screen.findByTestId('automation-save-error');
    expect(error.dataset.code).toBe('revision_conflict');
    expect(error).toHaveTextContent(en().save.conflict);
    expect(lastSave(backend).revision).toBe(1);
    expect(backend.automationView.settings.rules.find((r) => r.id === 'default-returns')!.enabled).toBe(true);

    await fireEvent.click(within(error).getByTestId('automation-reload'));
    await waitFor(() => expect(within(row('default-urgent')).getByTestId('rule-name')).toHaveTextContent('Urgent → Olga'));
    expect(screen.queryByTestId('automation-save-error')).toBeNull();
    expect(within(row('default-returns')).getByTestId('rule-enabled')).toBeChecked();
    expect(screen.getByTestId('automation-clean')).toBeInTheDocument();
    // The next save goes out with the reloaded revision.
    await fireEvent.click(within(row('default-returns')).getByTestId('rule-enabled'));
    await save();
    await screen.findByTestId('automation-saved');
    expect(lastSave(backend).revision).toBe(2);
  });

  it('the relay refusing the settings shows its reason and keeps the edits', async () => {
    const backend = await open();
    await fireEvent.click(screen.getByTestId('automation-tab-hours'));
    const zone = screen.getByTestId('hours-zone');
    await fireEvent.input(zone, { target: { value: 'Mars/Olympus' } });
    expect(screen.getByTestId('hours-zone-problem')).toBeInTheDocument();
    await save();
    const error = await screen.findByTestId('automation-save-error');
    expect(error.dataset.code).toBe('invalid_automation');
    expect(error).toHaveTextContent('The relay refused these settings: unknown time zone "Mars/Olympus"');
    expect(error).not.toHaveTextContent('(invalid_automation)');
    expect(screen.getByTestId('hours-zone')).toHaveValue('Mars/Olympus');
    expect(screen.getByTestId('automation-unsaved')).toBeInTheDocument();
    expect(backend.automationView.revision).toBe(1);
  });

  it('adds a rule through the form: problems first, then Enter applies and Save sends it', async () => {
    const backend = await open();
    await fireEvent.click(screen.getByTestId('rule-add'));
    const form = screen.getByTestId('rule-editor');
    expect(screen.getByTestId('rule-name-input')).toHaveFocus();
    await fireEvent.submit(form);
    const problems = await screen.findByTestId('rule-problems');
    expect(problems).toHaveTextContent(en().problems.nameRequired);

    await fireEvent.input(screen.getByTestId('rule-name-input'), { target: { value: 'Доставка → logistics' } });
    await fireEvent.change(screen.getByTestId('condition-type'), { target: { value: 'keyword' } });
    await fireEvent.click(screen.getByTestId('condition-add'));
    await fireEvent.submit(form);
    expect(screen.getByTestId('rule-problems')).toHaveTextContent(en().problems.keywordsEmpty);
    await fireEvent.input(screen.getByTestId('condition-keywords'), { target: { value: 'достав*, 快递, delivery' } });
    await fireEvent.change(screen.getByTestId('action-type'), { target: { value: 'assign_team' } });
    await fireEvent.click(screen.getByTestId('action-add'));
    await fireEvent.change(screen.getByTestId('action-team'), { target: { value: 'logistics' } });
    await fireEvent.click(screen.getByTestId('rule-stop'));
    await fireEvent.submit(form);

    expect(screen.queryByTestId('rule-editor')).toBeNull();
    expect(ruleIds()).toHaveLength(7);
    const added = screen.getAllByTestId('rule-row')[6];
    expect(within(added).getByTestId('rule-name')).toHaveTextContent('Доставка → logistics');
    expect(within(added).getByTestId('rule-summary')).toHaveTextContent('the message has any of “достав*”, “快递”, “delivery”');
    expect(within(added).getByTestId('rule-summary')).toHaveTextContent('put in the Logistics queue');
    await save();
    await screen.findByTestId('automation-saved');
    const rule = lastSave(backend).settings.rules.find((r) => r.name === 'Доставка → logistics')!;
    expect(rule.conditions.items).toEqual([{ type: 'keyword', any: ['достав*', '快递', 'delivery'] }]);
    expect(rule.actions).toEqual([{ type: 'assign_team', team: 'logistics' }]);
    expect(rule.stop_processing).toBe(true);
    expect(rule.order).toBeGreaterThan(60);
  });

  it('Esc cancels an edit without touching the rule; delete asks first', async () => {
    await open();
    await fireEvent.click(within(row('default-returns')).getByTestId('rule-edit'));
    await fireEvent.input(screen.getByTestId('rule-name-input'), { target: { value: 'Renamed' } });
    await fireEvent.keyDown(screen.getByTestId('rule-name-input'), { key: 'Escape' });
    expect(screen.queryByTestId('rule-editor')).toBeNull();
    expect(within(row('default-returns')).getByTestId('rule-name')).toHaveTextContent('#returns → after-sales');
    expect(screen.getByTestId('automation-clean')).toBeInTheDocument();

    await fireEvent.click(within(row('default-returns')).getByTestId('rule-delete'));
    expect(ruleIds()).toContain('default-returns');
    await fireEvent.click(screen.getByTestId('rule-delete-yes'));
    expect(ruleIds()).not.toContain('default-returns');
    expect(screen.getByTestId('automation-unsaved')).toBeInTheDocument();
  });

  it('the master switch is part of the document', async () => {
    const backend = await open();
    await fireEvent.click(screen.getByTestId('automation-enabled'));
    expect(screen.getByTestId('automation-off')).toBeInTheDocument();
    await save();
    await screen.findByTestId('automation-saved');
    expect(lastSave(backend).enabled).toBe(false);
    expect(backend.automationView.enabled).toBe(false);
  });
});

describe('Automation › Dry run', () => {
  beforeEach(() => {
    localStorage.clear();
    i18n.choose('en');
  });

  async function run(text: string) {
    await fireEvent.input(screen.getByTestId('dry-run-message'), { target: { value: text } });
    await fireEvent.click(screen.getByTestId('dry-run-run'));
    return screen.findByTestId('dry-run-result');
  }

  it('shows the fired rule, why, and the planned actions in words for #order-chase', async () => {
    const backend = await open();
    await fireEvent.click(screen.getByTestId('automation-tab-dryRun'));
    const result = await run('#order-chase where is my order');
    const fired = within(result).getAllByTestId('dry-run-fired');
    expect(fired.map((f) => f.dataset.ruleId)).toEqual(['default-order-chase']);
    expect(fired[0]).toHaveTextContent('#order-chase → logistics');
    expect(fired[0]).toHaveTextContent('Because: hashtag #order-chase');
    const planned = within(result).getAllByTestId('dry-run-planned');
    expect(planned.map((p) => p.dataset.type)).toEqual(['add_label', 'assign', 'set_sla']);
    expect(planned[0]).toHaveTextContent('Add the label “order-chase”');
    expect(planned[1]).toHaveTextContent('Assign to Boris (Logistics)');
    expect(planned[2]).toHaveTextContent('Start the SLA clock: first response within 30 s');
    const request = backend.called('automationDryRun')[0].args[0] as DryRunRequest;
    expect(request.message).toBe('#order-chase where is my order');
    expect(request.settings?.rules).toHaveLength(6);
  });

  it('a plain message fires nothing; hashtags match in any case and script', async () => {
    await open();
    await fireEvent.click(screen.getByTestId('automation-tab-dryRun'));
    let result = await run('hello, what time do you open?');
    expect(within(result).getByTestId('dry-run-nothing')).toBeInTheDocument();
    expect(within(result).queryAllByTestId('dry-run-fired')).toHaveLength(0);
    expect(within(result).queryAllByTestId('dry-run-planned')).toHaveLength(0);

    result = await run('ＵＲＧＥＮＴ? no: #URGENT пожалуйста');
    const planned = within(result).getAllByTestId('dry-run-planned');
    expect(within(result).getAllByTestId('dry-run-fired').map((f) => f.dataset.ruleId)).toEqual(['default-urgent']);
    expect(planned[0]).toHaveTextContent('Set priority to urgent');
    expect(planned[1]).toHaveTextContent('Notify Olga: “Urgent conversation”');
  });

  it('tries the unsaved edits, and lists what was skipped and why', async () => {
    const backend = await open();
    // Unsaved: #order-chase off, and a Chinese hashtag rule that also assigns.
    await fireEvent.click(within(row('default-order-chase')).getByTestId('rule-enabled'));
    await fireEvent.click(screen.getByTestId('rule-add'));
    await fireEvent.input(screen.getByTestId('rule-name-input'), { target: { value: '退货' } });
    await fireEvent.click(screen.getByTestId('condition-add'));
    await fireEvent.input(screen.getByTestId('condition-hashtag'), { target: { value: '#退货' } });
    await fireEvent.change(screen.getByTestId('action-type'), { target: { value: 'assign_least_loaded' } });
    await fireEvent.click(screen.getByTestId('action-add'));
    await fireEvent.change(screen.getByTestId('action-team'), { target: { value: 'after-sales' } });
    await fireEvent.submit(screen.getByTestId('rule-editor'));

    await fireEvent.click(screen.getByTestId('automation-tab-dryRun'));
    const result = await run('#order-chase #returns #退货请处理');
    const fired = within(result).getAllByTestId('dry-run-fired').map((f) => f.dataset.ruleId);
    expect(fired).not.toContain('default-order-chase');
    expect(fired[0]).toBe('default-returns');
    expect(fired).toHaveLength(2);
    const skipped = within(result).getAllByTestId('dry-run-skipped');
    expect(skipped[0]).toHaveTextContent('an earlier rule already assigned the conversation');
    expect(skipped[0]).toHaveTextContent('退货');
    const request = backend.called('automationDryRun')[0].args[0] as DryRunRequest;
    expect(request.settings?.rules.find((r) => r.id === 'default-order-chase')?.enabled).toBe(false);
    expect(backend.automationView.settings.rules).toHaveLength(6);
  });

  it('keeps the message and result across a trip to Rules, and the rerun sees the change', async () => {
    await open();
    await fireEvent.click(screen.getByTestId('automation-tab-dryRun'));
    await run('#returns please');
    await fireEvent.click(screen.getByTestId('automation-tab-rules'));
    await fireEvent.click(within(row('default-returns')).getByTestId('rule-enabled'));
    await fireEvent.click(screen.getByTestId('automation-tab-dryRun'));
    expect(screen.getByTestId('dry-run-message')).toHaveValue('#returns please');
    expect(screen.getAllByTestId('dry-run-fired').map((f) => f.dataset.ruleId)).toEqual(['default-returns']);
    await fireEvent.click(screen.getByTestId('dry-run-run'));
    await screen.findByTestId('dry-run-nothing');
  });

  it('sends the customer: name, new customer and typed attributes', async () => {
    const backend = await open();
    await fireEvent.click(screen.getByTestId('automation-tab-dryRun'));
    await fireEvent.input(screen.getByTestId('dry-run-name'), { target: { value: 'Мария' } });
    await fireEvent.click(screen.getByTestId('dry-run-new'));
    await fireEvent.input(screen.getByTestId('dry-run-attr-value'), { target: { value: '600' } });
    const result = await run('привет');
    const request = backend.called('automationDryRun')[0].args[0] as DryRunRequest;
    expect(request.contact?.first_contact_at).toBeNull();
    expect(request.contact?.attributes).toEqual({ monthly_spend_usd: 600, name: 'Мария' });
    // A new customer gets the automatic label even though no rule fires.
    expect(within(result).getByTestId('dry-run-no-rule')).toBeInTheDocument();
    expect(within(result).getAllByTestId('dry-run-planned')[0]).toHaveTextContent('Add the label “New customer”');
  });
});

describe('Automation › Business hours, replies, FAQ, SLAs', () => {
  beforeEach(() => {
    localStorage.clear();
    i18n.choose('en');
  });

  it('adds a second Friday range running past midnight and saves it', async () => {
    const backend = await open();
    await fireEvent.click(screen.getByTestId('automation-tab-hours'));
    const friday = screen.getAllByTestId('hours-day').find((d) => d.dataset.day === 'fri')!;
    expect(within(friday).getAllByTestId('hours-range')).toHaveLength(1);
    await fireEvent.click(within(friday).getByTestId('hours-add'));
    const ranges = within(friday).getAllByTestId('hours-range');
    expect(ranges).toHaveLength(2);
    await fireEvent.input(within(ranges[1]).getByTestId('hours-start'), { target: { value: '22:00' } });
    await fireEvent.input(within(ranges[1]).getByTestId('hours-end'), { target: { value: '02:00' } });
    expect(within(ranges[1]).getByTestId('hours-next-day')).toHaveTextContent('until 02:00 the next day');
    expect(within(ranges[0]).queryByTestId('hours-next-day')).toBeNull();

    await fireEvent.input(screen.getByTestId('holiday-date'), { target: { value: '2026-05-01' } });
    await fireEvent.click(screen.getByTestId('holiday-add'));
    expect(screen.getAllByTestId('holiday').map((h) => h.textContent?.trim().slice(0, 10))).toEqual([
      '2026-05-01',
      '2026-12-25',
      '2027-01-01',
    ]);

    await save();
    await screen.findByTestId('automation-saved');
    const hours = lastSave(backend).settings.business_hours;
    expect(hours.ranges.filter((r) => r.day === 'fri')).toEqual([
      { day: 'fri', start: '09:00', end: '18:00' },
      { day: 'fri', start: '22:00', end: '02:00' },
    ]);
    expect(hours.holidays).toEqual(['2026-05-01', '2026-12-25', '2027-01-01']);
  });

  it('edits the away message rule and the cooldown', async () => {
    const backend = await open();
    await fireEvent.click(screen.getByTestId('automation-tab-replies'));
    await fireEvent.click(screen.getByTestId('reply-away-enabled'));
    await fireEvent.input(screen.getByTestId('reply-away-text'), { target: { value: 'Closed now, back in {reply_eta}.' } });
    await fireEvent.input(screen.getByTestId('reply-cooldown'), { target: { value: '6' } });
    await save();
    await screen.findByTestId('automation-saved');
    const settings = lastSave(backend).settings;
    const away = settings.rules.find((r) => r.id === 'default-away')!;
    expect(away.enabled).toBe(true);
    expect(away.actions[0]).toMatchObject({ type: 'auto_reply', key: 'away', text: 'Closed now, back in {reply_eta}.' });
    expect(settings.auto_replies.cooldown_secs).toBe(6 * 3600);
  });

  it('FAQ: the hand-off is explained as always on; entries are added with keywords', async () => {
    const backend = await open();
    await fireEvent.click(screen.getByTestId('automation-tab-faq'));
    expect(screen.getByTestId('faq-handoff')).toHaveTextContent(en().faq.handoffTitle);
    await fireEvent.click(screen.getByTestId('faq-enabled'));
    await fireEvent.click(screen.getByTestId('faq-add'));
    await fireEvent.input(screen.getByTestId('faq-question'), { target: { value: 'Opening hours' } });
    await fireEvent.input(screen.getByTestId('faq-answer'), { target: { value: 'Mon–Fri 9–18' } });
    await fireEvent.input(screen.getByTestId('faq-keywords'), { target: { value: 'hours, часы, 营业时间' } });
    await save();
    await screen.findByTestId('automation-saved');
    const faq = lastSave(backend).settings.faq;
    expect(faq.enabled).toBe(true);
    expect(faq.entries).toMatchObject([{ question: 'Opening hours', answer: 'Mon–Fri 9–18', keywords: ['hours', 'часы', '营业时间'] }]);

    await fireEvent.click(screen.getByTestId('automation-tab-dryRun'));
    await fireEvent.input(screen.getByTestId('dry-run-message'), { target: { value: 'какие у вас часы?' } });
    await fireEvent.click(screen.getByTestId('dry-run-run'));
    const planned = await screen.findAllByTestId('dry-run-planned');
    expect(planned[0]).toHaveTextContent('Reply to the customer: “Mon–Fri 9–18');
  });

  it('SLA targets per label in minutes', async () => {
    const backend = await open();
    await fireEvent.click(screen.getByTestId('automation-tab-sla'));
    expect(screen.getByTestId('sla-empty')).toBeInTheDocument();
    await fireEvent.input(screen.getByTestId('sla-new-label'), { target: { value: 'VIP' } });
    await fireEvent.click(screen.getByTestId('sla-add'));
    await fireEvent.input(screen.getByTestId('sla-first'), { target: { value: '5' } });
    await fireEvent.input(screen.getByTestId('sla-next'), { target: { value: '30' } });
    await fireEvent.input(screen.getByTestId('sla-new-label'), { target: { value: 'vip' } });
    expect(screen.getByTestId('sla-add')).toBeDisabled();
    await save();
    await screen.findByTestId('automation-saved');
    expect(lastSave(backend).settings.sla.by_label).toEqual({ VIP: { first_response_secs: 300, next_response_secs: 1800 } });
  });
});

describe('Automation › assignment, keyboard and checks before saving', () => {
  beforeEach(() => {
    localStorage.clear();
    i18n.choose('en');
  });

  it('overflow, VIP, capacity, seniority and automatic labels are saved with the document', async () => {
    const backend = await open();
    await fireEvent.click(screen.getByTestId('automation-tab-assignment'));
    await fireEvent.input(screen.getByTestId('assignment-overflow-above'), { target: { value: '20' } });
    expect(screen.getByTestId('assignment-overflow-summary')).toHaveTextContent('more than 20 conversations waiting');
    await fireEvent.input(screen.getByTestId('assignment-vip-above'), { target: { value: '800' } });
    const chen = screen.getAllByTestId('assignment-member').find((r) => r.dataset.member === 'm-chen')!;
    expect(chen).toHaveTextContent('Chen');
    expect(within(chen).getByTestId('assignment-capacity')).toHaveValue(null);
    await fireEvent.input(within(chen).getByTestId('assignment-capacity'), { target: { value: '12' } });
    await fireEvent.click(within(chen).getByTestId('assignment-senior'));
    await fireEvent.click(screen.getByTestId('auto-label-needs_follow_up-enabled'));
    await fireEvent.input(screen.getByTestId('auto-label-high_priority-threshold'), { target: { value: '5' } });
    await save();
    await screen.findByTestId('automation-saved');
    const saved = lastSave(backend);
    expect(saved.settings.assignment).toEqual({ overflow_above: 20, overflow_below: 5, vip_attribute: 'monthly_spend_usd', vip_above: 800 });
    expect(saved.agents).toEqual({
      'm-ana': { capacity: 10, senior: true },
      'm-boris': { capacity: 10, senior: false },
      'm-chen': { capacity: 12, senior: true },
    });
    expect(saved.settings.auto_labels.needs_follow_up.enabled).toBe(false);
    expect(saved.settings.auto_labels.high_priority.threshold).toBe(5);

    await fireEvent.click(screen.getByTestId('assignment-vip'));
    await save();
    await screen.findByTestId('automation-saved');
    expect(lastSave(backend).settings.assignment.vip_above).toBeNull();
  });

  it('Ctrl+S saves from anywhere in the section, and only when something changed', async () => {
    const backend = await open();
    await fireEvent.keyDown(window, { key: 's', ctrlKey: true });
    expect(backend.called('saveAutomation')).toHaveLength(0);
    await fireEvent.click(within(row('default-urgent')).getByTestId('rule-enabled'));
    await fireEvent.keyDown(window, { key: 's', ctrlKey: true });
    await screen.findByTestId('automation-saved');
    expect(backend.called('saveAutomation')).toHaveLength(1);
  });

  it('an enabled rule the relay would refuse is named before anything is sent', async () => {
    const backend = await open();
    await fireEvent.click(screen.getByTestId('automation-tab-replies'));
    await fireEvent.click(screen.getByTestId('reply-away-enabled'));
    await fireEvent.input(screen.getByTestId('reply-away-text'), { target: { value: ' ' } });
    await save();
    const blocked = await screen.findByTestId('automation-invalid-rule');
    expect(blocked).toHaveTextContent('Rule “Away message” needs fixing before saving.');
    expect(blocked).toHaveTextContent(en().problems.replyTextEmpty);
    expect(backend.called('saveAutomation')).toHaveLength(0);
    await fireEvent.input(screen.getByTestId('reply-away-text'), { target: { value: 'We are closed.' } });
    await save();
    await screen.findByTestId('automation-saved');
    expect(screen.queryByTestId('automation-invalid-rule')).toBeNull();
  });

  it('the dry run at a chosen time: the away message on Sunday, not on Monday noon', async () => {
    const backend = await open();
    await fireEvent.click(within(row('default-away')).getByTestId('rule-enabled'));
    await fireEvent.click(screen.getByTestId('automation-tab-dryRun'));
    await fireEvent.input(screen.getByTestId('dry-run-message'), { target: { value: 'hello?' } });
    await fireEvent.input(screen.getByTestId('dry-run-at'), { target: { value: '2026-11-22T12:00' } });
    await fireEvent.click(screen.getByTestId('dry-run-run'));
    const fired = await screen.findAllByTestId('dry-run-fired');
    expect(fired.map((f) => f.dataset.ruleId)).toEqual(['default-away']);
    expect(fired[0]).toHaveTextContent('Because: outside business hours');
    expect(screen.getAllByTestId('dry-run-planned')[0]).toHaveTextContent('Reply to the customer: “Thanks for your message!');
    const first = backend.called('automationDryRun')[0].args[0] as DryRunRequest;
    expect(first.now).toBe(new Date('2026-11-22T12:00').toISOString());

    await fireEvent.input(screen.getByTestId('dry-run-at'), { target: { value: '2026-11-23T12:00' } });
    await fireEvent.click(screen.getByTestId('dry-run-run'));
    await screen.findByTestId('dry-run-nothing');
  });
});

describe('Automation › access and loading', () => {
  beforeEach(() => {
    localStorage.clear();
    i18n.choose('en');
  });

  it('a member without the permission sees why, and nothing is read', async () => {
    const backend = new FakeBackend();
    render(Automation, { backend, me: me(['reply', 'view_team_queue']) });
    const box = screen.getByTestId('automation-no-permission');
    expect(box).toHaveTextContent(en().noPermissionTitle);
    expect(box).toHaveTextContent(i18n.m.permissions.name.configure_automation);
    expect(screen.queryByTestId('rules-list')).toBeNull();
    await Promise.resolve();
    expect(backend.called('automation')).toHaveLength(0);
  });

  it('a failed read shows the error with Retry, which loads', async () => {
    const backend = new FakeBackend();
    backend.failNext.set('automation', new BackendError('network', 'relay unreachable'));
    render(Automation, { backend, me: me() });
    const failure = await screen.findByTestId('automation-load-error');
    expect(failure).toHaveTextContent(i18n.m.errors.codes.network);
    await fireEvent.click(screen.getByTestId('automation-retry'));
    await screen.findByTestId('rules-list');
    expect(backend.called('automation')).toHaveLength(2);
  });

  it('no rules at all shows the empty state with Add', async () => {
    const backend = new FakeBackend();
    backend.automationView.settings.rules = [];
    render(Automation, { backend, me: me() });
    await screen.findByTestId('rules-empty');
    expect(screen.getByTestId('rule-add')).toBeInTheDocument();
  });

  it('Alt+4 opens the section in the app, in Russian too', async () => {
    i18n.choose('ru');
    const backend = new FakeBackend();
    render(App, { info, backend });
    await waitFor(() => expect(backend.called('session')).not.toHaveLength(0));
    await fireEvent.keyDown(window, { key: '4', code: 'Digit4', altKey: true });
    expect(screen.getByTestId('section-title')).toHaveTextContent('Автоматизация');
    await screen.findByTestId('rules-list');
    expect(screen.getByTestId('automation-tab-dryRun')).toHaveTextContent('Пробный запуск');
    expect(screen.getByTestId('automation-clean')).toHaveTextContent('Все изменения сохранены');
  });
});
