import { fireEvent, render, screen, waitFor, within } from '@testing-library/svelte';
import { beforeEach, describe, expect, it } from 'vitest';
import { i18n } from '../i18n/index.svelte';
import Contacts from '../sections/Contacts.svelte';
import { contactDetail, FakeBackend, me } from '../test/fakeBackend';
import { presetPermissions } from '../permissions';
import CustomerPanel from './CustomerPanel.svelte';
import ImportCsv from './ImportCsv.svelte';
import { parseInput, rowErrorText } from './contacts';

const CSV =
  '\uFEFFName,Phone,Monthly spend (USD),VIP\r\n' +
  '"Петрова, Анна",+7 912 345-67-89,"1 200",да\r\n' +
  '王伟,+86 138 0013 8000,600,yes\r\n' +
  'Bad,12ab,,\r\n' +
  'Twin,8613800138000,,\r\n' +
  'Typo,+1 415 555 0101,lots,\r\n';

function book(backend: FakeBackend, n: number) {
  for (let i = 0; i < n; i++) {
    const waId = `3460000${String(i).padStart(4, '0')}`;
    backend.contactBook.set(
      waId,
      contactDetail({ wa_id: waId, name: `Customer ${String(i).padStart(4, '0')}`, attributes: { vip: i % 100 === 0 } }),
    );
  }
}

describe('CSV import', () => {
  beforeEach(() => i18n.choose('en'));

  it('previews rows with their errors highlighted, then imports the valid ones', async () => {
    const backend = new FakeBackend();
    let imported = 0;
    render(ImportCsv, { backend, onclose: () => {}, onimported: () => (imported += 1) });
    const file = new File([CSV], 'shop.csv', { type: 'text/csv' });
    await fireEvent.change(screen.getByTestId('import-file'), { target: { files: [file] } });

    const table = await screen.findByTestId('import-preview');
    const rows = within(table).getAllByTestId('import-row');
    expect(rows.map((r) => r.dataset.status)).toEqual(['create', 'create', 'error', 'error', 'error']);
    expect(rows[0]).toHaveTextContent('Петрова, Анна');
    expect(rows[0]).toHaveTextContent('+79123456789');
    expect(rows[1]).toHaveTextContent('王伟');
    expect(within(rows[2]).getByTestId('row-error')).toHaveTextContent('Not a phone number');
    expect(within(rows[3]).getByTestId('row-error')).toHaveTextContent('Same number as row 3');
    expect(within(rows[4]).getByTestId('row-error')).toHaveTextContent('“Monthly spend (USD)” must be a number');
    // The refused cell shows what the file says, marked.
    expect(rows[4].querySelector('td.bad')).toHaveTextContent('lots');
    expect(rows[2].querySelector('td.bad')).toHaveTextContent('12ab');
    expect(screen.getByTestId('import-summary')).toHaveTextContent('5 rows: 2 new, 0 updated, 0 unchanged, 3 with errors');
    expect(backend.contactBook.size).toBe(0);

    await fireEvent.click(screen.getByTestId('import-apply'));
    expect(await screen.findByTestId('import-done')).toHaveTextContent('Imported: 2 new, 0 updated. 3 rows skipped.');
    expect(imported).toBe(1);
    expect(backend.contactBook.get('8613800138000')?.attributes).toEqual({ monthly_spend_usd: 600, vip: true });
    expect(backend.called('importContactsCsv').map((c) => c.args[1])).toEqual([true, false]);
  });

  it('shows a file problem in the user’s language', async () => {
    i18n.choose('ru');
    const backend = new FakeBackend();
    render(ImportCsv, { backend, onclose: () => {}, onimported: () => {} });
    const file = new File(['name,city\nA,B\n'], 'x.csv');
    await fireEvent.change(screen.getByTestId('import-file'), { target: { files: [file] } });
    expect(await screen.findByTestId('import-error')).toHaveTextContent('Нет столбца с номером телефона');
    expect(screen.queryByTestId('import-apply')).toBeNull();
  });

  it('translates row errors and reads typed values', () => {
    i18n.choose('zh');
    expect(rowErrorText({ code: 'duplicate_number', field: 'number', first_row: 4 })).toBe('与第 4 行号码相同。');
    expect(rowErrorText({ code: 'something_new', field: '', first_row: null })).toContain('something_new');
    expect(parseInput({ key: 'monthly_spend_usd', kind: 'number' }, '1 200,5')).toBe(1200.5);
    expect(parseInput({ key: 'monthly_spend_usd', kind: 'number' }, 'lots')).toBeUndefined();
    expect(parseInput({ key: 'vip', kind: 'boolean' }, '')).toBeNull();
  });
});

describe('Contacts section', () => {
  beforeEach(() => i18n.choose('en'));

  it('renders only a window of a long list, searches, and opens the detail', async () => {
    const backend = new FakeBackend();
    book(backend, 2_000);
    let opened: string | null = null;
    render(Contacts, { backend, me: me(), onopenconversation: (id: string) => (opened = id) });
    await screen.findAllByTestId('contact-row');
    expect(screen.getAllByTestId('contact-row').length).toBeLessThan(60);
    expect(screen.getByText('2,000 contacts')).toBeInTheDocument();
    expect(backend.called('refreshContacts').length).toBe(1);

    await fireEvent.input(screen.getByTestId('contact-search'), { target: { value: 'customer 0100' } });
    await waitFor(() => expect(screen.getAllByTestId('contact-row')).toHaveLength(1));
    const row = screen.getByTestId('contact-row');
    expect(within(row).getByTestId('vip-badge')).toBeInTheDocument();
    await fireEvent.click(row);
    const card = await screen.findByTestId('contact-card');
    expect(within(card).getByTestId('contact-name')).toHaveTextContent('Customer 0100');
    await fireEvent.click(within(card).getByTestId('open-conversation'));
    expect(opened).toBe('conv-maria');

    await fireEvent.input(screen.getByTestId('contact-search'), { target: { value: 'nobody here' } });
    expect(await screen.findByTestId('contacts-no-match')).toHaveTextContent('No contact matches “nobody here”');
  });

  it('edits name and typed attributes with EditContacts', async () => {
    const backend = new FakeBackend();
    backend.contactBook.set('34600111222', contactDetail());
    render(Contacts, { backend, me: me(), onopenconversation: () => {} });
    await fireEvent.click(await screen.findByTestId('contact-row'));
    await fireEvent.click(await screen.findByTestId('contact-edit'));
    await fireEvent.input(screen.getByTestId('contact-name-input'), { target: { value: 'María López' } });
    await fireEvent.input(screen.getByTestId('attr-input-monthly_spend_usd'), { target: { value: 'many' } });
    await fireEvent.submit(screen.getByTestId('contact-form'));
    expect(screen.getByTestId('attr-input-monthly_spend_usd')).toHaveAttribute('aria-invalid', 'true');
    expect(backend.called('updateContact')).toHaveLength(0);

    await fireEvent.input(screen.getByTestId('attr-input-monthly_spend_usd'), { target: { value: '720' } });
    await fireEvent.submit(screen.getByTestId('contact-form'));
    await waitFor(() => expect(screen.getByTestId('contact-name')).toHaveTextContent('María López'));
    expect(backend.called('updateContact')[0].args).toEqual(['34600111222', { name: 'María López', attributes: { monthly_spend_usd: 720 } }]);
    expect(screen.getByTestId('contact-attributes')).toHaveTextContent('720');
  });

  it('hides editing and import for Standard, and everything for Restricted', async () => {
    const backend = new FakeBackend();
    backend.contactBook.set('34600111222', contactDetail());
    backend.session_.me = me(presetPermissions('standard'));
    const { unmount } = render(Contacts, { backend, me: me(presetPermissions('standard')), onopenconversation: () => {} });
    await fireEvent.click(await screen.findByTestId('contact-row'));
    await screen.findByTestId('contact-card');
    expect(screen.getByTestId('contact-attributes')).toBeInTheDocument();
    expect(screen.queryByTestId('contact-edit')).toBeNull();
    expect(screen.queryByTestId('import-open')).toBeNull();
    unmount();

    const asked = backend.called('contacts').length;
    render(Contacts, { backend, me: me(presetPermissions('restricted')), onopenconversation: () => {} });
    expect(screen.getByText(i18n.m.contacts.notAllowed)).toBeInTheDocument();
    expect(screen.queryByTestId('contact-search')).toBeNull();
    expect(backend.called('contacts')).toHaveLength(asked);
  });
});

describe('Customer panel', () => {
  beforeEach(() => i18n.choose('en'));

  it('shows the customer with VIP badge, labels, notes and past conversations; collapses', async () => {
    const backend = new FakeBackend();
    const detail = contactDetail();
    detail.conversations.push({
      id: 'conv-old',
      status: 'resolved',
      last_message_preview: 'Thanks!',
      last_message_at: new Date(Date.now() - 30 * 86_400_000).toISOString(),
      assignee: null,
      labels: [],
    });
    backend.contactBook.set(detail.wa_id, detail);
    let opened: string | null = null;
    render(CustomerPanel, { backend, waId: detail.wa_id, conversationId: 'conv-maria', onopenconversation: (id: string) => (opened = id) });
    const card = await screen.findByTestId('contact-card');
    expect(within(card).getByTestId('vip-badge')).toBeInTheDocument();
    expect(within(card).getByTestId('contact-number')).toHaveTextContent('+34600111222');
    expect(within(card).getByTestId('contact-attributes')).toHaveTextContent('640');
    expect(within(card).getByTestId('label-chip')).toHaveTextContent('urgent');
    expect(within(card).getByTestId('contact-notes')).toHaveTextContent('Prefers delivery after 6 pm');
    // Only the other conversation is offered as a link.
    const links = within(card).getAllByTestId('open-conversation');
    expect(links).toHaveLength(1);
    await fireEvent.click(links[0]);
    expect(opened).toBe('conv-old');

    const toggle = screen.getByTestId('customer-panel-toggle');
    expect(toggle).toHaveAttribute('aria-expanded', 'true');
    await fireEvent.click(toggle);
    expect(toggle).toHaveAttribute('aria-expanded', 'false');
    expect(screen.queryByTestId('contact-card')).toBeNull();
    await fireEvent.click(toggle);
    // Escape inside the open panel closes it and gives focus back to the toggle.
    await fireEvent.keyDown(await screen.findByTestId('contact-edit'), { key: 'Escape' });
    expect(toggle).toHaveAttribute('aria-expanded', 'false');
    expect(document.activeElement).toBe(toggle);
    await fireEvent.click(toggle);
  });

  it('hides attributes without ViewContacts and says when nothing is known', async () => {
    const backend = new FakeBackend();
    backend.session_.me = me(presetPermissions('restricted'));
    backend.contactBook.set('34600111222', contactDetail());
    const { unmount } = render(CustomerPanel, { backend, waId: '34600111222', conversationId: 'conv-maria' });
    const card = await screen.findByTestId('contact-card');
    expect(within(card).queryByTestId('contact-attributes')).toBeNull();
    expect(within(card).queryByTestId('vip-badge')).toBeNull();
    expect(within(card).queryByTestId('contact-edit')).toBeNull();
    expect(within(card).getByTestId('contact-name')).toHaveTextContent('Maria Lopez');
    unmount();

    render(CustomerPanel, { backend, waId: '15550000000', conversationId: 'conv-x' });
    expect(await screen.findByText(i18n.m.contacts.panel.unknown)).toBeInTheDocument();
  });
});
