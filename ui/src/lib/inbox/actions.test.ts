import { fireEvent, render, screen, waitFor, within } from '@testing-library/svelte';
import { beforeEach, describe, expect, it } from 'vitest';
import { i18n } from '../i18n/index.svelte';
import Inbox from '../sections/Inbox.svelte';
import { FakeBackend, item, me, ME_ID, note, row } from '../test/fakeBackend';
import { InboxStore } from './inbox.svelte';
import { insertMention, mentionAt, mentionCandidates, mentionedIds } from './mentions';
import { snoozeUntil } from './snooze';
import type { Permission } from '../bindings/Permission';
import { PERMISSIONS } from '../permissions';

async function renderInbox(backend: FakeBackend, who = me()) {
  const store = new InboxStore(backend);
  await store.refresh();
  const view = render(Inbox, { backend, store, me: who });
  return { store, view };
}

async function openFirst(backend: FakeBackend, who = me()) {
  const ctx = await renderInbox(backend, who);
  await fireEvent.keyDown(window, { key: 'Enter' });
  await screen.findByTestId('conversation');
  // Wait for the timeline, notes and members to be read.
  await waitFor(() => expect(backend.called('memberNames').length).toBeGreaterThan(0));
  await waitFor(() => expect(screen.queryByText(i18n.m.conversation.loading)).not.toBeInTheDocument());
  return ctx;
}

const minutesAgo = (n: number) => new Date(Date.now() - n * 60_000).toISOString();
const without = (...drop: Permission[]) =>
  me().permissions.filter((p) => !drop.includes(p));

beforeEach(() => i18n.choose('en'));

describe('Search', () => {
  it('/ focuses the box; results show name, time and highlighted parts as text; Enter opens; Esc clears', async () => {
    const backend = new FakeBackend();
    backend.rows = [row({ customer_name: 'Maria Lopez' }), row({ customer_name: 'Li Wei' })];
    backend.searchResults = [
      {
        conversation_id: backend.rows[1].id,
        message_id: 'msg-x',
        customer_name: 'Li Wei',
        parts: [
          { text: '<b>where is</b> my ', highlighted: false },
          { text: 'parcel', highlighted: true },
          { text: ' today', highlighted: false },
        ],
        sent_at: minutesAgo(10),
      },
    ];
    await renderInbox(backend);
    const input = screen.getByTestId('search-input');
    await fireEvent.keyDown(window, { key: '/' });
    expect(input).toHaveFocus();
    await fireEvent.input(input, { target: { value: 'parcel' } });
    const result = await screen.findByTestId('search-result');
    expect(backend.called('search').at(-1)?.args[0]).toBe('parcel');
    expect(result).toHaveTextContent('Li Wei');
    expect(result).toHaveTextContent('10 min. ago');
    const snippet = within(result).getByTestId('search-snippet');
    expect(snippet.textContent).toBe('<b>where is</b> my parcel today');
    expect(snippet.querySelector('b')).toBeNull();
    expect([...snippet.querySelectorAll('mark')].map((m) => m.textContent)).toEqual(['parcel']);
    // The list gives way to results while searching.
    expect(screen.queryByTestId('inbox-row')).not.toBeInTheDocument();
    await fireEvent.keyDown(input, { key: 'Enter' });
    expect(await screen.findByTestId('conversation')).toHaveAccessibleName('Li Wei');
    await fireEvent.keyDown(input, { key: 'Escape' });
    expect(input).toHaveValue('');
    expect(screen.queryByTestId('search-result')).not.toBeInTheDocument();
    expect(screen.getAllByTestId('inbox-row')).toHaveLength(2);
  });

  it('clicking a result opens it; no match says so', async () => {
    const backend = new FakeBackend();
    backend.rows = [row({ customer_name: 'Maria Lopez' })];
    backend.searchResults = [
      {
        conversation_id: backend.rows[0].id,
        message_id: 'm1',
        customer_name: 'Maria Lopez',
        parts: [{ text: 'refund', highlighted: true }],
        sent_at: minutesAgo(2),
      },
    ];
    await renderInbox(backend);
    const input = screen.getByTestId('search-input');
    await fireEvent.input(input, { target: { value: 'nothing-like-this' } });
    expect(await screen.findByTestId('search-empty')).toHaveTextContent('No matches for “nothing-like-this”.');
    await fireEvent.input(input, { target: { value: 'refund' } });
    await fireEvent.click(await screen.findByTestId('search-result'));
    expect(await screen.findByTestId('conversation')).toHaveAccessibleName('Maria Lopez');
  });
});

describe('Conversation actions', () => {
  it('assigns an unassigned conversation to the member picked (no reason)', async () => {
    const backend = new FakeBackend();
    backend.rows = [row()];
    await openFirst(backend);
    await fireEvent.click(screen.getByTestId('assign-button'));
    const options = await screen.findAllByTestId('assign-option');
    expect(options.map((o) => o.textContent?.trim().split(/\s/)[0])).toEqual(['Olga', 'Ana', 'Boris', 'Chen']);
    expect(screen.queryByTestId('assign-reason')).not.toBeInTheDocument();
    await fireEvent.click(options.find((o) => o.dataset.memberId === 'm-boris')!);
    await waitFor(() => expect(backend.commands('assign')).toHaveLength(1));
    expect(backend.commands('assign')[0]).toEqual({ type: 'assign', conversation_id: backend.rows[0].id, member_id: 'm-boris' });
    await waitFor(() => expect(screen.getByTestId('assignee')).toHaveTextContent('Assigned to Boris'));
    expect(screen.queryByTestId('assign-menu')).not.toBeInTheDocument();
  });

  it('a opens the picker; a transfer carries the optional reason; the keyboard picks', async () => {
    const backend = new FakeBackend();
    backend.rows = [row({ assignee: { id: 'm-ana', name: 'Ana' } })];
    await openFirst(backend);
    expect(screen.getByTestId('assign-button')).toHaveTextContent('Transfer');
    await fireEvent.keyDown(window, { key: 'a' });
    const filter = await screen.findByTestId('assign-filter');
    await waitFor(() => expect(filter).toHaveFocus());
    await fireEvent.input(screen.getByTestId('assign-reason'), { target: { value: 'Ana is off today' } });
    await fireEvent.input(filter, { target: { value: 'ch' } });
    expect(screen.getAllByTestId('assign-option').map((o) => o.dataset.memberId)).toEqual(['m-chen']);
    await fireEvent.keyDown(filter, { key: 'Enter' });
    await waitFor(() => expect(backend.commands('assign')).toHaveLength(1));
    expect(backend.commands('assign')[0]).toEqual({
      type: 'assign',
      conversation_id: backend.rows[0].id,
      member_id: 'm-chen',
      reason: 'Ana is off today',
    });
  });

  it('e closes; closed conversations offer reopen; snooze sends the chosen local time', async () => {
    const backend = new FakeBackend();
    backend.rows = [row({ assignee: { id: ME_ID, name: 'Olga' } })];
    await openFirst(backend);
    await fireEvent.click(screen.getByTestId('snooze-button'));
    const options = screen.getAllByTestId('snooze-option');
    expect(options.map((o) => o.dataset.option)).toEqual(['hour', 'tomorrow', 'monday']);
    const before = Date.now();
    await fireEvent.click(options[1]);
    await waitFor(() => expect(backend.commands('snooze')).toHaveLength(1));
    const until = backend.commands('snooze')[0].until;
    expect(until).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/);
    expect(Date.parse(until)).toBe(snoozeUntil('tomorrow', new Date(before)).getTime());
    expect(new Date(until).getHours()).toBe(9);
    await waitFor(() => expect(screen.getByTestId('reopen-button')).toBeInTheDocument());
    await fireEvent.keyDown(window, { key: 'e' });
    await waitFor(() => expect(backend.commands('close')).toEqual([{ type: 'close', conversation_id: backend.rows[0].id }]));
    await waitFor(() => expect(screen.queryByTestId('close-button')).not.toBeInTheDocument());
    await fireEvent.click(screen.getByTestId('reopen-button'));
    await waitFor(() => expect(backend.commands('reopen')).toHaveLength(1));
    expect(await screen.findByTestId('close-button')).toBeEnabled();
  });

  it('hides assigning without assign_transfer and disables closing with a reason without reply', async () => {
    const backend = new FakeBackend();
    backend.rows = [row({ assignee: { id: 'm-ana', name: 'Ana' } })];
    await openFirst(backend, me(['view_all_conversations', 'view_contacts']));
    expect(screen.queryByTestId('assign-button')).not.toBeInTheDocument();
    expect(screen.queryByTestId('unassign-button')).not.toBeInTheDocument();
    expect(screen.getByTestId('close-button')).toBeDisabled();
    expect(screen.getByTestId('close-button')).toHaveAttribute('title', i18n.m.conversation.noClosePermission);
    await fireEvent.keyDown(window, { key: 'e' });
    await fireEvent.keyDown(window, { key: 'a' });
    // Only presence (this device viewing) was sent: neither close nor assign.
    expect(backend.called('sendCommand').map((c) => (c.args[0] as { type: string }).type)).toEqual(['viewing']);
    expect(screen.queryByTestId('takeover-button')).not.toBeInTheDocument();
    expect(screen.queryByTestId('label-add')).not.toBeInTheDocument();
  });

  it('shows a relay refusal of an action where the user acted, and dismisses it', async () => {
    const backend = new FakeBackend();
    backend.rows = [row({ assignee: { id: ME_ID, name: 'Olga' } })];
    backend.outboxEntries = [
      {
        id: 'ob-9',
        kind: 'add_label',
        conversation_id: backend.rows[0].id,
        text: null,
        state: 'failed',
        attempts: 1,
        last_error: 'label_limit: The team already has 20 labels; remove one first.',
        created_at: new Date().toISOString(),
      },
    ];
    await openFirst(backend);
    const failure = screen.getByTestId('failed-action');
    expect(failure).toHaveTextContent('The label was not added: The team already has 20 labels; remove one first.');
    await fireEvent.click(within(failure).getByRole('button', { name: 'Dismiss' }));
    await waitFor(() => expect(screen.queryByTestId('failed-action')).not.toBeInTheDocument());
    expect(backend.called('discardOutbox')[0].args).toEqual(['ob-9']);
  });
});

describe('Take over', () => {
  it('says who handles it; taking over needs a reason, which the reply then carries', async () => {
    const backend = new FakeBackend();
    backend.rows = [row({ assignee: { id: 'm-ana', name: 'Ana' } })];
    await openFirst(backend);
    expect(screen.getByTestId('handled-by')).toHaveTextContent('Ana is handling this conversation.');
    const input = screen.getByTestId('composer-input');
    expect(input).toBeDisabled();
    await fireEvent.click(screen.getByTestId('takeover-button'));
    const reason = screen.getByTestId('takeover-reason');
    await waitFor(() => expect(reason).toHaveFocus());
    expect(screen.getByTestId('takeover-submit')).toBeDisabled();
    await fireEvent.input(reason, { target: { value: '   ' } });
    await fireEvent.keyDown(reason, { key: 'Enter' });
    expect(screen.getByTestId('takeover-submit')).toBeDisabled();
    expect(input).toBeDisabled();
    await fireEvent.input(reason, { target: { value: 'Customer is waiting for a refund' } });
    await fireEvent.click(screen.getByTestId('takeover-submit'));
    await waitFor(() => expect(input).toBeEnabled());
    expect(screen.getByTestId('handled-by')).toHaveTextContent('You are taking over from Ana: Customer is waiting for a refund');
    await fireEvent.input(input, { target: { value: 'Your refund is on its way' } });
    await fireEvent.keyDown(input, { key: 'Enter' });
    await waitFor(() => expect(backend.commands('send_text')).toHaveLength(1));
    expect(backend.commands('send_text')[0]).toEqual({
      type: 'send_text',
      conversation_id: backend.rows[0].id,
      text: 'Your refund is on its way',
      takeover_reason: 'Customer is waiting for a refund',
    });
    expect(backend.called('sendText')).toHaveLength(0);
  });

  it('offers no take-over without the permission', async () => {
    const backend = new FakeBackend();
    backend.rows = [row({ assignee: { id: 'm-ana', name: 'Ana' } })];
    await openFirst(backend, me(without('take_over')));
    expect(screen.getByTestId('handled-by')).toHaveTextContent('Ana is handling this conversation.');
    expect(screen.queryByTestId('takeover-button')).not.toBeInTheDocument();
  });
});

describe('Internal notes', () => {
  it('n focuses the note box; notes sit between messages by time and look different', async () => {
    const backend = new FakeBackend();
    backend.rows = [row({ assignee: { id: ME_ID, name: 'Olga' } })];
    const id = backend.rows[0].id;
    backend.timelines.set(id, [item({ text: 'first', sent_at: minutesAgo(30) }), item({ text: 'second', sent_at: minutesAgo(10) })]);
    backend.notesBy.set(id, [note({ text: 'VIP, be quick', created_at: minutesAgo(20) })]);
    await openFirst(backend);
    const list = screen.getByTestId('conversation').querySelector('ol')!;
    const order = [...list.children]
      .filter((li) => (li as HTMLElement).dataset.testid !== 'day-separator')
      .map((li) => (li as HTMLElement).dataset.testid + ':' + li.querySelector('.text')?.textContent);
    expect(order).toEqual(['timeline-item:first', 'note-item:VIP, be quick', 'timeline-item:second']);
    const noteItem = screen.getByTestId('note-item');
    expect(noteItem).toHaveTextContent('Internal note — only your team sees this');
    expect(noteItem).toHaveTextContent('Ana');
    expect(noteItem).not.toHaveClass('bubble');
    await fireEvent.keyDown(window, { key: 'n' });
    await waitFor(() => expect(screen.getByTestId('note-input')).toHaveFocus());
  });

  it('autocompletes @mentions, allows at most 2, and sends their ids', async () => {
    const backend = new FakeBackend();
    backend.rows = [row({ assignee: { id: ME_ID, name: 'Olga' } })];
    await openFirst(backend);
    await fireEvent.click(screen.getByTestId('mode-note'));
    const input = (await screen.findByTestId('note-input')) as HTMLTextAreaElement;
    await fireEvent.input(input, { target: { value: 'Please check @A' } });
    let options = await screen.findAllByTestId('mention-option');
    // Names with an "a", those starting with it first; never oneself (Olga).
    expect(options.map((o) => o.dataset.memberId)).toEqual(['m-ana']);
    expect(options[0]).toHaveTextContent('@Ana');
    await fireEvent.click(options[0]);
    expect(input.value).toBe('Please check @Ana ');
    await fireEvent.input(input, { target: { value: `${input.value}and @bo` } });
    options = await screen.findAllByTestId('mention-option');
    expect(options.map((o) => o.dataset.memberId)).toEqual(['m-boris']);
    await fireEvent.keyDown(input, { key: 'Enter' });
    expect(input.value).toBe('Please check @Ana and @Boris ');
    expect(backend.commands('add_note')).toHaveLength(0);
    await fireEvent.input(input, { target: { value: `${input.value}and @Ch` } });
    expect(await screen.findByTestId('mention-limit')).toHaveTextContent('A note can mention at most 2 teammates.');
    expect(screen.queryByTestId('mention-option')).not.toBeInTheDocument();
    await fireEvent.click(screen.getByTestId('note-submit'));
    await waitFor(() => expect(backend.commands('add_note')).toHaveLength(1));
    expect(backend.commands('add_note')[0]).toEqual({
      type: 'add_note',
      conversation_id: backend.rows[0].id,
      text: 'Please check @Ana and @Boris and @Ch',
      mentions: ['m-ana', 'm-boris'],
    });
    expect(input.value).toBe('');
    expect(await screen.findByText('Please check @Ana and @Boris and @Ch')).toBeInTheDocument();
  });

  it('mention helpers find the @word at the caret and drop deleted mentions', () => {
    expect(mentionAt('hi @an', 6)).toEqual({ start: 3, query: 'an' });
    expect(mentionAt('mail@example', 12)).toBeNull();
    expect(mentionAt('@', 1)).toEqual({ start: 0, query: '' });
    const members = [
      { id: '1', name: 'Ana' },
      { id: '2', name: 'Joana' },
      { id: '3', name: 'Boris' },
    ];
    expect(mentionCandidates(members, 'an').map((m) => m.id)).toEqual(['1', '2']);
    expect(mentionCandidates(members, 'an', ['1']).map((m) => m.id)).toEqual(['2']);
    expect(insertMention('x @jo y', { start: 2, query: 'jo' }, members[1])).toEqual({ text: 'x @Joana  y', caret: 9 });
    expect(mentionedIds('hello @Boris', members)).toEqual(['3']);
    expect(mentionedIds('@Ana @Joana @Boris', members)).toEqual(['1', '2']);
  });
});

describe('Labels', () => {
  it('removes with ×, adds from autocomplete, and Enter creates a new label', async () => {
    const backend = new FakeBackend();
    const vip = { id: 'l-vip', name: 'vip', colour: '#0d9488', urgent: false };
    const wholesale = { id: 'l-ws', name: 'wholesale', colour: '#7c3aed', urgent: false };
    backend.teamLabels = [vip, wholesale];
    backend.rows = [row({ assignee: { id: ME_ID, name: 'Olga' }, labels: [{ ...vip }] })];
    const id = backend.rows[0].id;
    await openFirst(backend);
    await fireEvent.click(screen.getByTestId('label-remove'));
    await waitFor(() => expect(backend.commands('remove_label')).toEqual([{ type: 'remove_label', conversation_id: id, label: 'vip' }]));
    await waitFor(() => expect(screen.queryByTestId('label-remove')).not.toBeInTheDocument());

    await fireEvent.click(screen.getByTestId('label-add'));
    const input = await screen.findByTestId('label-input');
    await waitFor(() => expect(input).toHaveFocus());
    await fireEvent.input(input, { target: { value: 'who' } });
    expect(screen.getAllByTestId('label-option').map((o) => o.textContent?.trim())).toEqual(['wholesale']);
    await fireEvent.keyDown(input, { key: 'ArrowDown' });
    await fireEvent.keyDown(input, { key: 'Enter' });
    await waitFor(() => expect(backend.commands('add_label')).toEqual([{ type: 'add_label', conversation_id: id, label: 'wholesale' }]));

    await fireEvent.input(input, { target: { value: 'Returns 2024' } });
    expect(screen.getByTestId('label-create')).toHaveTextContent('Create “Returns 2024”');
    await fireEvent.keyDown(input, { key: 'Enter' });
    await waitFor(() => expect(backend.commands('add_label')).toHaveLength(2));
    expect(backend.commands('add_label')[1]).toEqual({ type: 'add_label', conversation_id: id, label: 'Returns 2024' });
    await waitFor(() =>
      expect(screen.getAllByTestId('label-remove').map((c) => c.dataset.label)).toEqual(['wholesale', 'Returns 2024']),
    );
  });

  it('a member who manages labels picks the new label’s colour from the palette', async () => {
    const backend = new FakeBackend();
    backend.rows = [row({ assignee: { id: ME_ID, name: 'Olga' } })];
    const id = backend.rows[0].id;
    await openFirst(backend);
    await fireEvent.click(screen.getByTestId('label-add'));
    const input = await screen.findByTestId('label-input');
    await fireEvent.input(input, { target: { value: 'Wholesale' } });
    const swatches = screen.getAllByTestId('label-create-colour');
    expect(swatches).toHaveLength(8);
    await fireEvent.click(swatches.find((s) => s.dataset.colour === '#7c3aed')!);
    await waitFor(() => expect(backend.called('createLabel').map((c) => c.args)).toEqual([['Wholesale', '#7c3aed']]));
    await waitFor(() =>
      expect(backend.commands('add_label')).toEqual([{ type: 'add_label', conversation_id: id, label: 'Wholesale' }]),
    );
  });

  it('at 20 team labels the picker says so instead of offering to create one', async () => {
    const backend = new FakeBackend();
    backend.teamLabels = Array.from({ length: 20 }, (_, i) => ({ id: `l${i}`, name: `label ${i}`, colour: '#475569', urgent: false }));
    backend.rows = [row({ assignee: { id: ME_ID, name: 'Olga' } })];
    await openFirst(backend);
    await fireEvent.click(screen.getByTestId('label-add'));
    const input = await screen.findByTestId('label-input');
    await fireEvent.input(input, { target: { value: 'One too many' } });
    expect(screen.getByTestId('label-full')).toHaveTextContent('The team has 20 labels');
    expect(screen.queryByTestId('label-create')).not.toBeInTheDocument();
    // Existing labels are still offered.
    await fireEvent.input(input, { target: { value: 'label 1' } });
    expect(screen.getAllByTestId('label-option').length).toBeGreaterThan(0);
  });

  it('without manage_labels a new label gets the relay’s colour (no colour choice)', async () => {
    const backend = new FakeBackend();
    backend.rows = [row({ assignee: { id: ME_ID, name: 'Olga' } })];
    await openFirst(backend, me(PERMISSIONS.filter((p) => p !== 'manage_labels')));
    await fireEvent.click(screen.getByTestId('label-add'));
    const input = await screen.findByTestId('label-input');
    await fireEvent.input(input, { target: { value: 'Wholesale' } });
    expect(screen.getByTestId('label-create')).toBeInTheDocument();
    expect(screen.queryAllByTestId('label-create-colour')).toHaveLength(0);
  });

  it('shows an error when the command cannot be queued', async () => {
    const backend = new FakeBackend();
    backend.rows = [row({ assignee: { id: ME_ID, name: 'Olga' } })];
    await openFirst(backend);
    const { BackendError } = await import('../backend');
    backend.failNext.set('sendCommand', new BackendError('permission_denied', 'You are not allowed to apply labels.'));
    await fireEvent.click(screen.getByTestId('label-add'));
    const input = await screen.findByTestId('label-input');
    await fireEvent.input(input, { target: { value: 'urgent' } });
    await fireEvent.keyDown(input, { key: 'Enter' });
    expect(await screen.findByTestId('conversation-error')).toHaveTextContent('You are not allowed to do this.');
  });
});

describe('Older history', () => {
  it('scrolling to the top loads the relay’s older page and prepends it, then stops', async () => {
    const backend = new FakeBackend();
    backend.rows = [row({ assignee: { id: ME_ID, name: 'Olga' } })];
    const id = backend.rows[0].id;
    const newest = [item({ text: 'n1', sent_at: minutesAgo(10) }), item({ text: 'n2', sent_at: minutesAgo(5) })];
    const page1 = [item({ text: 'o3', sent_at: minutesAgo(40) }), item({ text: 'o4', sent_at: minutesAgo(30) })];
    const page2 = [item({ text: 'o1', sent_at: minutesAgo(60) }), item({ text: 'o2', sent_at: minutesAgo(50) })];
    backend.timelines.set(id, newest);
    backend.history.set(id, [page1, page2]);
    await openFirst(backend);
    const texts = () => screen.getAllByTestId('timeline-item').map((el) => el.querySelector('.text')?.textContent);
    expect(texts()).toEqual(['n1', 'n2']);
    const scroller = screen.getByTestId('conversation').querySelector('.timeline') as HTMLElement;

    scroller.scrollTop = 0;
    await fireEvent.scroll(scroller);
    await waitFor(() => expect(texts()).toEqual(['o3', 'o4', 'n1', 'n2']));
    expect(backend.called('loadHistory')[0].args).toEqual([id, newest[0].id]);
    expect(backend.called('timeline').at(-1)?.args).toEqual([id, 100, newest[0].sent_at]);
    expect(screen.queryByTestId('history-start')).not.toBeInTheDocument();
    await waitFor(() => expect(screen.queryByTestId('loading-older')).not.toBeInTheDocument());

    await fireEvent.scroll(scroller);
    await waitFor(() => expect(texts()).toEqual(['o1', 'o2', 'o3', 'o4', 'n1', 'n2']));
    expect(backend.called('loadHistory')[1].args).toEqual([id, page1[0].id]);
    expect(await screen.findByTestId('history-start')).toBeInTheDocument();

    await fireEvent.scroll(scroller);
    expect(backend.called('loadHistory')).toHaveLength(2);
  });

  it('keeps loaded history when the store re-reads', async () => {
    const backend = new FakeBackend();
    backend.rows = [row({ assignee: { id: ME_ID, name: 'Olga' } })];
    const id = backend.rows[0].id;
    backend.timelines.set(id, [item({ text: 'n1', sent_at: minutesAgo(10) })]);
    backend.history.set(id, [[item({ text: 'o1', sent_at: minutesAgo(40) })]]);
    const { store } = await openFirst(backend);
    const scroller = screen.getByTestId('conversation').querySelector('.timeline') as HTMLElement;
    await fireEvent.scroll(scroller);
    const texts = () => screen.getAllByTestId('timeline-item').map((el) => el.querySelector('.text')?.textContent);
    await waitFor(() => expect(texts()).toEqual(['o1', 'n1']));
    backend.timelines.get(id)!.push(item({ text: 'n2' }));
    await store.refresh();
    await waitFor(() => expect(texts()).toEqual(['o1', 'n1', 'n2']));
  });
});

describe('Reply-to and the customer writing again', () => {
  it('Reply quotes a message, Esc cancels, and the reply carries reply_to', async () => {
    const backend = new FakeBackend();
    backend.rows = [row({ customer_name: 'Maria Lopez', assignee: { id: ME_ID, name: 'Olga' } })];
    const question = item({ text: 'Do you ship to Madrid?' });
    backend.timelines.set(backend.rows[0].id, [question]);
    await openFirst(backend);
    await fireEvent.click(screen.getByTestId('reply-button'));
    const quote = screen.getByTestId('reply-quote');
    expect(quote).toHaveTextContent('Replying to Maria Lopez');
    expect(quote).toHaveTextContent('Do you ship to Madrid?');
    const input = screen.getByTestId('composer-input');
    await waitFor(() => expect(input).toHaveFocus());
    await fireEvent.keyDown(input, { key: 'Escape' });
    expect(screen.queryByTestId('reply-quote')).not.toBeInTheDocument();
    expect(input).toHaveFocus();
    await fireEvent.click(screen.getByTestId('reply-button'));
    await fireEvent.input(input, { target: { value: 'Yes, in 2 days' } });
    await fireEvent.keyDown(input, { key: 'Enter' });
    await waitFor(() => expect(backend.commands('send_text')).toHaveLength(1));
    expect(backend.commands('send_text')[0]).toEqual({
      type: 'send_text',
      conversation_id: backend.rows[0].id,
      text: 'Yes, in 2 days',
      reply_to: question.id,
    });
    expect(screen.queryByTestId('reply-quote')).not.toBeInTheDocument();
  });

  it('warns when the customer writes again while the composer has text, and sends on a second Enter', async () => {
    const backend = new FakeBackend();
    backend.rows = [row({ assignee: { id: ME_ID, name: 'Olga' } })];
    const id = backend.rows[0].id;
    backend.timelines.set(id, [item({ text: 'Is it in stock?' })]);
    const { store } = await openFirst(backend);
    const input = screen.getByTestId('composer-input');
    await fireEvent.input(input, { target: { value: 'Yes, we have it' } });
    expect(screen.queryByTestId('wrote-again')).not.toBeInTheDocument();
    // An outbound item from a colleague does not warn; an inbound one does.
    backend.timelines.get(id)!.push(item({ direction: 'outbound', text: 'Checking', status: 'sent' }));
    await store.refresh();
    await screen.findByText('Checking');
    expect(screen.queryByTestId('wrote-again')).not.toBeInTheDocument();
    backend.timelines.get(id)!.push(item({ text: 'Actually, in blue please' }));
    await store.refresh();
    expect(await screen.findByTestId('wrote-again')).toHaveTextContent('The customer wrote again');
    await fireEvent.keyDown(input, { key: 'Enter' });
    expect(backend.called('sendText')).toHaveLength(0);
    expect(screen.getByTestId('wrote-again')).toHaveTextContent('Press Enter again');
    await fireEvent.keyDown(input, { key: 'Enter' });
    await waitFor(() => expect(backend.called('sendText')).toHaveLength(1));
    expect(backend.called('sendText')[0].args).toEqual([id, 'Yes, we have it']);
    await waitFor(() => expect(screen.queryByTestId('wrote-again')).not.toBeInTheDocument());
  });
});

describe('snoozeUntil', () => {
  it('one hour, tomorrow 09:00 and next Monday 09:00 in local time', () => {
    // Wednesday 14 Jan 2026, 16:20 local.
    const wed = new Date(2026, 0, 14, 16, 20);
    expect(snoozeUntil('hour', wed).getTime() - wed.getTime()).toBe(3_600_000);
    expect(snoozeUntil('tomorrow', wed)).toEqual(new Date(2026, 0, 15, 9, 0));
    expect(snoozeUntil('monday', wed)).toEqual(new Date(2026, 0, 19, 9, 0));
    // On a Monday, "next Monday" is a week ahead; on Sunday, tomorrow.
    expect(snoozeUntil('monday', new Date(2026, 0, 19, 8, 0))).toEqual(new Date(2026, 0, 26, 9, 0));
    expect(snoozeUntil('monday', new Date(2026, 0, 18, 22, 0))).toEqual(new Date(2026, 0, 19, 9, 0));
    // Month end.
    expect(snoozeUntil('tomorrow', new Date(2026, 0, 31, 12, 0))).toEqual(new Date(2026, 1, 1, 9, 0));
  });
});
