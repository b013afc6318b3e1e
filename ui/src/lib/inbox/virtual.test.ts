import { fireEvent, render, screen, within } from '@testing-library/svelte';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import Inbox from '../sections/Inbox.svelte';
import { i18n } from '../i18n/index.svelte';
import { FakeBackend, me, row } from '../test/fakeBackend';
import { inView, InboxStore } from './inbox.svelte';
import { FALLBACK_VIEWPORT, OVERSCAN, revealRow, ROW_HEIGHT, visibleWindow } from './virtual';

// Counts how often the inbox filters its rows (it must not on a scroll).
vi.mock('./inbox.svelte', async (original) => {
  const module = await original<typeof import('./inbox.svelte')>();
  return { ...module, inView: vi.fn(module.inView) };
});

/** Five rows fit in the stubbed viewport (jsdom has no layout). */
const VIEWPORT = 5 * ROW_HEIGHT;

const customers = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => `Customer ${from + i}`);

async function renderMany(count: number) {
  const backend = new FakeBackend();
  backend.rows = Array.from({ length: count }, (_, i) => row({ customer_name: `Customer ${i}` }));
  const store = new InboxStore(backend);
  await store.refresh();
  render(Inbox, { backend, store, me: me() });
  const list = screen.getByTestId('inbox-list');
  Object.defineProperty(list, 'clientHeight', { configurable: true, value: VIEWPORT });
  await fireEvent.scroll(list);
  return { backend, store, list };
}

async function scrollTo(list: HTMLElement, top: number) {
  list.scrollTop = top;
  await fireEvent.scroll(list);
}

function names(): string[] {
  return screen.getAllByTestId('inbox-row-name').map((el) => el.textContent ?? '');
}

function cursorRow(): HTMLElement | undefined {
  return screen.getAllByTestId('inbox-row').find((el) => el.classList.contains('cursor'));
}

describe('visibleWindow and revealRow', () => {
  it('renders the rows in view plus the overscan, clamped to the list', () => {
    expect(visibleWindow(0, 0, VIEWPORT)).toEqual({ start: 0, end: 0 });
    expect(visibleWindow(100_000, 0, VIEWPORT)).toEqual({ start: 0, end: 5 + OVERSCAN });
    expect(visibleWindow(100_000, 500 * ROW_HEIGHT + 10, VIEWPORT)).toEqual({ start: 500 - OVERSCAN, end: 506 + OVERSCAN });
    // A scroll position past the end (the list just shrank) shows its last rows.
    expect(visibleWindow(20, 1_000 * ROW_HEIGHT, VIEWPORT)).toEqual({ start: 15 - OVERSCAN, end: 20 });
    // Before layout (clientHeight 0) a default viewport is assumed.
    expect(visibleWindow(1_000, 0, 0).end).toBe(FALLBACK_VIEWPORT / ROW_HEIGHT + OVERSCAN);
  });

  it('scrolls the least needed to show a row, and not at all when it is in view', () => {
    expect(revealRow(2, 0, VIEWPORT)).toBeNull();
    expect(revealRow(5, 0, VIEWPORT)).toBe(ROW_HEIGHT);
    expect(revealRow(3, 10 * ROW_HEIGHT, VIEWPORT)).toBe(3 * ROW_HEIGHT);
    expect(revealRow(14, 10 * ROW_HEIGHT, VIEWPORT)).toBeNull();
  });
});

describe('Virtual conversation list', () => {
  beforeEach(() => {
    i18n.choose('en');
    vi.mocked(inView).mockClear();
  });

  // 100,000 rows through the real store: rendering is slow-ish under jsdom (seconds on a
  // busy runner), so this one test gets a longer time limit and the others use fewer rows.
  it('keeps a bounded number of rows in the document for 100,000 conversations and renders the scrolled-to range', async () => {
    const { list } = await renderMany(100_000);
    const rows = screen.getAllByTestId('inbox-row');
    expect(rows.length).toBeLessThan(60);
    expect(names()).toEqual(customers(0, 5 + OVERSCAN));
    expect(screen.getByTestId('inbox-list-body').style.height).toBe(`${100_000 * ROW_HEIGHT}px`);
    expect(rows[3]).toHaveAttribute('aria-setsize', '100000');
    expect(rows[3]).toHaveAttribute('aria-posinset', '4');
    expect(rows[3].style.transform).toBe(`translateY(${3 * ROW_HEIGHT}px)`);

    vi.mocked(inView).mockClear();
    await scrollTo(list, 50_000 * ROW_HEIGHT);
    expect(names()).toEqual(customers(50_000 - OVERSCAN, 50_005 + OVERSCAN));
    expect(screen.getAllByTestId('inbox-row').length).toBeLessThan(60);
    const first = screen.getAllByTestId('inbox-row').find((el) => el.dataset.index === '50000')!;
    expect(first).toHaveAttribute('aria-posinset', '50001');
    expect(first).toHaveAttribute('aria-setsize', '100000');
    expect(first.style.transform).toBe(`translateY(${50_000 * ROW_HEIGHT}px)`);
    await scrollTo(list, 72_345 * ROW_HEIGHT + 50);
    expect(names()).toContain('Customer 72345');
    expect(names()).toContain('Customer 72350');
    expect(names()).not.toContain('Customer 50000');
    await scrollTo(list, 99_999 * ROW_HEIGHT);
    expect(names()).toEqual(customers(100_000 - 5 - OVERSCAN, 100_000));
    // Scrolling never filters the conversations again.
    expect(inView).not.toHaveBeenCalled();
  }, 30_000);

  it('j and k move the cursor and scroll it into view; Enter opens it', async () => {
    const { list } = await renderMany(10_000);
    for (let i = 0; i < 7; i += 1) await fireEvent.keyDown(window, { key: 'j' });
    expect(within(cursorRow()!).getByTestId('inbox-row-name')).toHaveTextContent('Customer 7');
    // Row 7 is the last one in view: rows 3 to 7 show.
    expect(list.scrollTop).toBe(8 * ROW_HEIGHT - VIEWPORT);
    for (let i = 0; i < 7; i += 1) await fireEvent.keyDown(window, { key: 'k' });
    expect(within(cursorRow()!).getByTestId('inbox-row-name')).toHaveTextContent('Customer 0');
    expect(list.scrollTop).toBe(0);

    // Point at a row far down, scroll away from it, then j brings the next one back.
    await scrollTo(list, 6_000 * ROW_HEIGHT);
    await fireEvent.click(screen.getAllByTestId('inbox-row').find((el) => el.dataset.index === '6002')!);
    expect(await screen.findByTestId('conversation')).toHaveAccessibleName('Customer 6002');
    await scrollTo(list, 10 * ROW_HEIGHT);
    expect(cursorRow()).toBeUndefined();
    await fireEvent.keyDown(window, { key: 'j' });
    expect(within(cursorRow()!).getByTestId('inbox-row-name')).toHaveTextContent('Customer 6003');
    expect(list.scrollTop).toBe(6_004 * ROW_HEIGHT - VIEWPORT);
    await fireEvent.keyDown(window, { key: 'Enter' });
    expect(await screen.findByTestId('conversation')).toHaveAccessibleName('Customer 6003');
  });

  it('keeps the scroll position and the rows in view when new rows arrive', async () => {
    const { backend, store, list } = await renderMany(10_000);
    await scrollTo(list, 4_000 * ROW_HEIGHT);
    const before = names();
    backend.rows.push(...Array.from({ length: 500 }, (_, i) => row({ customer_name: `New ${i}` })));
    await store.refresh();
    await fireEvent.scroll(list);
    expect(list.scrollTop).toBe(4_000 * ROW_HEIGHT);
    expect(names()).toEqual(before);
    expect(screen.getByTestId('inbox-list-body').style.height).toBe(`${10_500 * ROW_HEIGHT}px`);
    expect(screen.getAllByTestId('inbox-row')[0]).toHaveAttribute('aria-setsize', '10500');
    await scrollTo(list, 10_499 * ROW_HEIGHT);
    expect(names().at(-1)).toBe('New 499');
  });
});
