import { fireEvent, render, screen, waitFor, within } from '@testing-library/svelte';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { MediaInfo } from '../../bindings/MediaInfo';
import type { TimelineItem } from '../../bindings/TimelineItem';
import { i18n } from '../../i18n/index.svelte';
import { FakeBackend, item } from '../../test/fakeBackend';
import Timeline from './Timeline.svelte';

const CONV = 'conv-1';

function media(extra: Partial<MediaInfo> = {}): MediaInfo {
  return { id: 'media-1', mime_type: 'image/png', sha256: null, filename: null, size: null, ready: true, link: null, ...extra };
}

function show(backend: FakeBackend, items: TimelineItem[]) {
  backend.timelines.set(CONV, items);
  const onreply = vi.fn();
  render(Timeline, {
    backend,
    items,
    notes: [],
    historyDone: true,
    pending: [],
    pendingNotes: [],
    customerName: 'Ana García',
    canReply: true,
    onreply,
    ondiscard: vi.fn(),
  });
  return { onreply };
}

function bubble(id: string): HTMLElement {
  return screen.getAllByTestId('timeline-item').find((el) => el.dataset.messageId === id)!;
}

describe('Timeline', () => {
  beforeEach(() => {
    i18n.choose('en');
    URL.createObjectURL = vi.fn(() => 'blob:teamline/1');
    URL.revokeObjectURL = vi.fn();
  });
  afterEach(() => vi.restoreAllMocks());

  it('renders text with links that open externally, never as HTML', async () => {
    const backend = new FakeBackend();
    const text = 'order https://shop.example/o/1 <b>bold</b>';
    show(backend, [item({ id: 't1', text, content: { kind: 'text', body: text } })]);
    const el = bubble('t1');
    expect(el.querySelector('b')).toBeNull();
    expect(el).toHaveTextContent('<b>bold</b>');
    const link = within(el).getByTestId('message-link');
    expect(link).toHaveAttribute('href', 'https://shop.example/o/1');
    await fireEvent.click(link);
    expect(backend.opened).toEqual(['https://shop.example/o/1']);
  });

  it('shows an image preview, opens the full view with Enter and closes it with Esc', async () => {
    const backend = new FakeBackend();
    backend.media.set('img', new Uint8Array([0x89, 0x50, 0x4e, 0x47]));
    show(backend, [item({ id: 'img', kind: 'image', text: 'the lamp', content: { kind: 'image', media: media(), caption: 'the lamp' } })]);
    expect(within(bubble('img')).getByTestId('media-loading')).toBeInTheDocument();
    const preview = await screen.findByTestId('image-preview');
    expect(preview.querySelector('img')).toHaveAttribute('src', 'blob:teamline/1');
    expect(bubble('img')).toHaveTextContent('the lamp');
    // A button: Enter and Space activate it like a click.
    expect(preview.tagName).toBe('BUTTON');
    await fireEvent.click(preview);
    const viewer = await screen.findByTestId('image-viewer');
    expect(viewer).toHaveAttribute('aria-modal', 'true');
    await waitFor(() => expect(screen.getByTestId('image-viewer-close')).toHaveFocus());
    await fireEvent.keyDown(window, { key: 'Escape' });
    await waitFor(() => expect(screen.queryByTestId('image-viewer')).not.toBeInTheDocument());
  });

  it('says a file is still downloading, and retry loads it once it is there', async () => {
    const backend = new FakeBackend();
    show(backend, [item({ id: 'vid', kind: 'video', text: null, content: { kind: 'video', media: media({ mime_type: 'video/mp4', ready: false }), caption: null } })]);
    expect(await screen.findByTestId('media-downloading')).toHaveTextContent('Still downloading');
    backend.media.set('vid', new Uint8Array([1, 2, 3]));
    await fireEvent.click(screen.getByTestId('media-retry'));
    expect(await screen.findByTestId('video-player')).toHaveAttribute('src', 'blob:teamline/1');
  });

  it('shows an error with retry when the file cannot be had', async () => {
    const backend = new FakeBackend();
    backend.media.set('aud', new Uint8Array([1]));
    backend.failNext.set('messageMedia', new (await import('../../backend')).BackendError('network', 'offline'));
    show(backend, [item({ id: 'aud', kind: 'audio', text: null, content: { kind: 'audio', media: media({ mime_type: 'audio/ogg' }), voice: true } })]);
    expect(await screen.findByTestId('media-error')).toHaveTextContent('The relay cannot be reached');
    expect(bubble('aud')).toHaveTextContent('Voice message');
    await fireEvent.click(screen.getByTestId('media-retry'));
    expect(await screen.findByTestId('audio-player')).toBeInTheDocument();
  });

  it('documents show name, type and size, and save to Downloads', async () => {
    const backend = new FakeBackend();
    backend.media.set('doc', new Uint8Array([1]));
    show(backend, [
      item({
        id: 'doc',
        kind: 'document',
        text: null,
        content: { kind: 'document', media: media({ mime_type: 'application/pdf', filename: 'invoice-1042.pdf', size: 2_621_440 }), caption: null },
      }),
    ]);
    const el = bubble('doc');
    expect(within(el).getByTestId('document-name')).toHaveTextContent('invoice-1042.pdf');
    expect(within(el).getByTestId('document-details')).toHaveTextContent('PDF · 2.5 MB');
    await fireEvent.click(within(el).getByTestId('document-save'));
    expect(await within(el).findByRole('status')).toHaveTextContent('Saved to /home/olga/Downloads/doc');
  });

  it('locations, contacts, interactive and button replies, templates, stickers, unsupported', async () => {
    const backend = new FakeBackend();
    backend.media.set('stk', new Uint8Array([1]));
    show(backend, [
      item({ id: 'loc', kind: 'location', text: null, content: { kind: 'location', latitude: 41.3874, longitude: 2.1686, name: 'Shop', address: 'Carrer 1', url: null } }),
      item({
        id: 'con',
        kind: 'contacts',
        text: null,
        content: { kind: 'contacts', contacts: [{ name: 'Li Wei', phones: [{ phone: '+86 10 5555', label: 'WORK', wa_id: null }], emails: [], organization: null }] },
      }),
      item({ id: 'ir', kind: 'interactive', text: null, content: { kind: 'interactive_reply', reply_kind: 'list_reply', id: 'm', title: 'Medium', description: '38-40' } }),
      item({ id: 'btn', kind: 'button', text: null, content: { kind: 'button', text: 'Yes, confirm', payload: 'c' } }),
      item({
        id: 'tpl',
        kind: 'template',
        direction: 'outbound',
        status: 'read',
        text: null,
        content: { kind: 'template', name: 'order_ready', language: 'en_US', parameters: ['Ana', '#1042'] },
      }),
      item({ id: 'stk', kind: 'sticker', text: null, content: { kind: 'sticker', media: media({ mime_type: 'image/webp' }), animated: false } }),
      item({ id: 'uns', kind: 'unsupported', text: null, content: { kind: 'unsupported', type_name: 'poll' } }),
    ]);
    const loc = bubble('loc');
    expect(loc).toHaveTextContent('Shop');
    expect(loc).toHaveTextContent('Carrer 1');
    expect(within(loc).getByTestId('location-coordinates')).toHaveTextContent('41.38740° N, 2.16860° E');
    await fireEvent.click(within(loc).getByTestId('location-map'));
    expect(backend.opened[0]).toMatch(/^https:\/\/www\.openstreetmap\.org\/\?mlat=41\.387400&mlon=2\.168600/);
    expect(within(bubble('con')).getByTestId('contact-name')).toHaveTextContent('Li Wei');
    expect(within(bubble('con')).getByTestId('contact-phone')).toHaveTextContent('+86 10 5555 · WORK');
    expect(bubble('ir')).toHaveTextContent('Picked from a list');
    expect(bubble('ir')).toHaveTextContent('Medium');
    expect(bubble('btn')).toHaveTextContent('Yes, confirm');
    expect(within(bubble('tpl')).getByTestId('template-name')).toHaveTextContent('order_ready');
    expect(bubble('tpl')).toHaveTextContent('#1042');
    expect(within(bubble('tpl')).getByTestId('ticks')).toHaveAttribute('data-status', 'read');
    expect(await within(bubble('stk')).findByTestId('sticker-image')).toBeInTheDocument();
    expect(within(bubble('uns')).getByTestId('unsupported')).toHaveTextContent('(poll) cannot be shown');
  });

  it('quotes scroll to the quoted message; reactions are badges; day separators split days', async () => {
    const backend = new FakeBackend();
    const scroll = vi.fn();
    Element.prototype.scrollIntoView = scroll;
    const day1 = '2026-03-09T10:00:00Z';
    const day2 = '2026-03-10T10:00:00Z';
    show(backend, [
      item({ id: 'q', sent_at: day1, text: 'which size?', content: { kind: 'text', body: 'which size?' }, reactions: [{ emoji: '👍', by: 'customer' }] }),
      item({
        id: 'r',
        sent_at: day2,
        direction: 'outbound',
        status: 'sent',
        author: { id: 'm', name: 'Olga' },
        text: 'Medium',
        content: { kind: 'text', body: 'Medium' },
        reply_to: { wamid: 'wamid.Q', message_id: 'q', direction: 'inbound', author: null, kind: 'text', preview: 'which size?' },
      }),
    ]);
    expect(screen.getAllByTestId('day-separator')).toHaveLength(2);
    const badges = within(bubble('q')).getAllByTestId('reaction');
    expect(badges.map((b) => b.textContent)).toEqual(['👍']);
    expect(badges[0]).toHaveAttribute('aria-label', 'Customer reacted 👍');
    const quote = within(bubble('r')).getByTestId('quote-block');
    expect(quote).toHaveTextContent('Ana García');
    expect(quote).toHaveTextContent('which size?');
    await fireEvent.click(quote);
    await waitFor(() => expect(scroll).toHaveBeenCalled());
    expect(bubble('q')).toHaveClass('highlighted');
  });
});
