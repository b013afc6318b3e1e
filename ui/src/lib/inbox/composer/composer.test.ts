import { fireEvent, render, screen, waitFor, within } from '@testing-library/svelte';
import { beforeEach, describe, expect, it } from 'vitest';
import { i18n } from '../../i18n/index.svelte';
import Inbox from '../../sections/Inbox.svelte';
import { FakeBackend, me, ME_ID, messageTemplate, row } from '../../test/fakeBackend';
import { InboxStore } from '../inbox.svelte';
import { searchEmoji } from './emoji';
import {
  checkFile,
  fillTemplate,
  filterQuickReplies,
  hoursSinceCustomer,
  LIMITS,
  moveSelection,
  slashQuery,
  templatePayload,
  templateReady,
} from './logic';

const MB = 1024 * 1024;
const qr = (shortcut: string, title: string, text: string) => ({ id: `qr-${shortcut}`, shortcut, title, text, language: null });
const REPLIES = [
  qr('refund', 'Refund policy', 'Refunds take 5 working days.'),
  qr('hours', 'Opening hours', 'We are open 9–18, Monday to Saturday.'),
  qr('shipping', 'Shipping', 'Orders ship within 24 hours; refund if late.'),
  qr('ref-code', 'Referral code', 'Your referral code is in your account.'),
];

beforeEach(() => i18n.choose('en'));

describe('composer logic', () => {
  it('reads a / query only at the start and without spaces', () => {
    expect(slashQuery('/')).toBe('');
    expect(slashQuery('/Ref')).toBe('ref');
    expect(slashQuery('hello /ref')).toBeNull();
    expect(slashQuery('/ref more')).toBeNull();
  });

  it('ranks shortcut prefixes first, then titles, then text', () => {
    expect(filterQuickReplies(REPLIES, 'ref').map((q) => q.shortcut)).toEqual(['ref-code', 'refund', 'shipping']);
    expect(filterQuickReplies(REPLIES, 'open').map((q) => q.shortcut)).toEqual(['hours']);
    expect(filterQuickReplies(REPLIES, '').length).toBe(4);
    expect(filterQuickReplies(REPLIES, 'zzz')).toEqual([]);
  });

  it('moves the selection with wrap-around', () => {
    expect(moveSelection(0, 3, 'ArrowDown')).toBe(1);
    expect(moveSelection(2, 3, 'ArrowDown')).toBe(0);
    expect(moveSelection(0, 3, 'ArrowUp')).toBe(2);
    expect(moveSelection(0, 0, 'ArrowUp')).toBe(0);
  });

  it('fills template parameters everywhere they occur and builds Meta’s payload', () => {
    const t = messageTemplate({ body: 'Hi {{1}}, order {{2}}. Thanks, {{1}}!' });
    expect(fillTemplate(t.body, t.body_params, ['Ana', ''])).toBe('Hi Ana, order {{2}}. Thanks, Ana!');
    expect(templateReady(t, [], ['Ana', ' '])).toBe(false);
    expect(templateReady(t, [], ['Ana', 'A-17'])).toBe(true);
    expect(templatePayload(t, [], [' Ana ', 'A-17'])).toEqual({
      name: 'order_update',
      language: { code: 'en_US' },
      components: [{ type: 'body', parameters: [{ type: 'text', text: 'Ana' }, { type: 'text', text: 'A-17' }] }],
    });
    const named = messageTemplate({ body: 'For {{guests}}', body_params: ['guests'] });
    expect(templatePayload(named, [], ['4']).components).toEqual([
      { type: 'body', parameters: [{ type: 'text', text: '4', parameter_name: 'guests' }] },
    ]);
    expect(templateReady(messageTemplate({ sendable: false }), [], ['a', 'b'])).toBe(false);
  });

  it('checks WhatsApp’s types and sizes before an upload', () => {
    expect(checkFile({ type: 'image/png', size: 5 * MB, name: 'a.png' })).toEqual({ ok: true, kind: 'image', mime: 'image/png' });
    expect(checkFile({ type: 'image/jpeg', size: 5 * MB + 1, name: 'a.jpg' })).toEqual({ ok: false, reason: 'size', kind: 'image', limit: LIMITS.image });
    expect(checkFile({ type: 'video/mp4', size: 16 * MB + 1, name: 'v.mp4' })).toMatchObject({ ok: false, reason: 'size' });
    expect(checkFile({ type: 'application/pdf', size: 100 * MB, name: 'd.pdf' })).toMatchObject({ ok: true, kind: 'document' });
    expect(checkFile({ type: '', size: 10, name: 'notes.TXT' })).toMatchObject({ ok: true, mime: 'text/plain' });
    expect(checkFile({ type: 'image/gif', size: 10, name: 'c.gif' })).toEqual({ ok: false, reason: 'type', mime: 'image/gif' });
    expect(checkFile({ type: 'text/plain', size: 0, name: 'e.txt' })).toEqual({ ok: false, reason: 'empty' });
  });

  it('counts the hours since the customer wrote from the window’s end', () => {
    const now = Date.parse('2026-01-02T12:00:00Z');
    expect(hoursSinceCustomer('2026-01-02T10:00:00Z', now)).toBe(26);
    expect(hoursSinceCustomer(null, now)).toBeNull();
  });

  it('finds emoji by English words', () => {
    expect(searchEmoji('thumbs').map((e) => e.char)).toEqual(['👍', '👎']);
    expect(searchEmoji('thumbs up').map((e) => e.char)).toEqual(['👍']);
    expect(searchEmoji('qwerty')).toEqual([]);
  });
});

async function openConversation(backend: FakeBackend) {
  const store = new InboxStore(backend);
  await store.refresh();
  render(Inbox, { backend, store, me: me() });
  await fireEvent.keyDown(window, { key: 'Enter' });
  await screen.findByTestId('conversation');
}

const mine = { assignee: { id: ME_ID, name: 'Olga' } };

describe('Composer', () => {
  it('/ opens the quick-reply picker; ↑/↓/Enter insert, Esc closes, a click inserts', async () => {
    const backend = new FakeBackend();
    backend.rows = [row(mine)];
    backend.quickReplyList = [...REPLIES];
    await openConversation(backend);
    const input = screen.getByTestId('composer-input') as HTMLTextAreaElement;
    await fireEvent.input(input, { target: { value: '/ref' } });
    const picker = await screen.findByTestId('quick-picker');
    let options = within(picker).getAllByTestId('quick-option');
    expect(options.map((o) => o.textContent)).toEqual([
      expect.stringContaining('/ref-code'),
      expect.stringContaining('/refund'),
      expect.stringContaining('/shipping'),
    ]);
    expect(options[0]).toHaveAttribute('aria-selected', 'true');
    await fireEvent.keyDown(input, { key: 'ArrowDown' });
    options = within(picker).getAllByTestId('quick-option');
    expect(options[1]).toHaveAttribute('aria-selected', 'true');
    await fireEvent.keyDown(input, { key: 'Enter' });
    expect(input.value).toBe('Refunds take 5 working days.');
    expect(screen.queryByTestId('quick-picker')).not.toBeInTheDocument();
    // Nothing was sent by that Enter.
    expect(backend.called('sendText')).toEqual([]);

    await fireEvent.input(input, { target: { value: '/' } });
    expect(await screen.findByTestId('quick-picker')).toBeInTheDocument();
    await fireEvent.keyDown(input, { key: 'Escape' });
    expect(screen.queryByTestId('quick-picker')).not.toBeInTheDocument();
    await fireEvent.input(input, { target: { value: '/hou' } });
    // "/hours" by shortcut first, then "/shipping" whose text mentions hours.
    const [hours, shipping] = await screen.findAllByTestId('quick-option');
    expect(shipping).toHaveTextContent('/shipping');
    await fireEvent.mouseDown(hours);
    expect(input.value).toBe('We are open 9–18, Monday to Saturday.');
  });

  it('inserts an emoji found by name', async () => {
    const backend = new FakeBackend();
    backend.rows = [row(mine)];
    await openConversation(backend);
    const input = screen.getByTestId('composer-input') as HTMLTextAreaElement;
    await fireEvent.input(input, { target: { value: 'Thanks ' } });
    await fireEvent.click(screen.getByTestId('emoji-button'));
    await fireEvent.input(screen.getByTestId('emoji-search'), { target: { value: 'pray' } });
    const options = screen.getAllByTestId('emoji-option');
    expect(options).toHaveLength(1);
    await fireEvent.click(options[0]);
    expect(input.value).toBe('Thanks 🙏');
    expect(screen.queryByTestId('emoji-picker')).not.toBeInTheDocument();
  });

  it('refuses a file over WhatsApp’s limit with a clear message, and sends an allowed one as media', async () => {
    const backend = new FakeBackend();
    backend.rows = [row(mine)];
    await openConversation(backend);
    const picker = screen.getByTestId('attach-input') as HTMLInputElement;
    const big = new File([new Uint8Array(5 * MB + 1)], 'photo.jpg', { type: 'image/jpeg' });
    await fireEvent.change(picker, { target: { files: [big] } });
    expect(screen.getByTestId('file-error')).toHaveTextContent('This image is 5 MB; WhatsApp accepts at most 5 MB.');
    expect(screen.queryByTestId('file-chip')).not.toBeInTheDocument();

    const pdf = new File([new TextEncoder().encode('%PDF-1.4 invoice')], 'invoice.pdf', { type: 'application/pdf' });
    await fireEvent.change(picker, { target: { files: [pdf] } });
    expect(screen.queryByTestId('file-error')).not.toBeInTheDocument();
    expect(screen.getByTestId('file-chip')).toHaveTextContent('invoice.pdf');
    const input = screen.getByTestId('composer-input');
    await fireEvent.input(input, { target: { value: 'Your invoice' } });
    await fireEvent.click(screen.getByTestId('composer-send'));
    await waitFor(() => expect(backend.called('sendCommand').some((c) => (c.args[0] as { type: string }).type === 'send_media')).toBe(true));
    expect(backend.called('uploadMedia')[0].args).toEqual([16, 'application/pdf', 'invoice.pdf']);
    const cmd = backend.called('sendCommand').find((c) => (c.args[0] as { type: string }).type === 'send_media')!.args[0];
    expect(cmd).toMatchObject({
      type: 'send_media',
      conversation_id: backend.rows[0].id,
      media: { kind: 'document', caption: 'Your invoice', filename: 'invoice.pdf' },
    });
    await waitFor(() => expect(screen.queryByTestId('file-chip')).not.toBeInTheDocument());
  });

  it('with the window closed, offers approved templates: fill the values with a live preview, send', async () => {
    const backend = new FakeBackend();
    backend.rows = [row({ ...mine, window_expires_at: new Date(Date.now() - 2 * 3_600_000 - 60_000).toISOString() })];
    await openConversation(backend);
    expect(screen.getByTestId('window-closed')).toHaveTextContent(
      'The customer last wrote 26 h ago; WhatsApp only allows approved templates now.',
    );
    const select = await screen.findByTestId('template-select');
    await fireEvent.change(select, { target: { value: 'order_update/en_US' } });
    const send = screen.getByTestId('template-send');
    expect(send).toBeDisabled();
    const [name, order] = screen.getAllByTestId('template-param');
    await fireEvent.input(name, { target: { value: 'Ana' } });
    expect(screen.getByTestId('template-preview')).toHaveTextContent('Hi Ana, your order {{2}} has shipped.');
    await fireEvent.input(order, { target: { value: 'A-17' } });
    expect(screen.getByTestId('template-preview')).toHaveTextContent('Hi Ana, your order A-17 has shipped.');
    await fireEvent.click(send);
    const templates = () => backend.called('sendCommand').filter((c) => (c.args[0] as { type: string }).type === 'send_template');
    await waitFor(() => expect(templates()).toHaveLength(1));
    expect(templates()[0].args[0]).toEqual({
      type: 'send_template',
      conversation_id: backend.rows[0].id,
      template: {
        name: 'order_update',
        language: { code: 'en_US' },
        components: [{ type: 'body', parameters: [{ type: 'text', text: 'Ana' }, { type: 'text', text: 'A-17' }] }],
      },
    });
  });
});
