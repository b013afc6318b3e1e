import { fireEvent, render, screen } from '@testing-library/svelte';
import { describe, expect, it, vi } from 'vitest';
import Tabs from './Tabs.svelte';

describe('Tabs', () => {
  it('marks the selected tab, names the list and points at its panel', () => {
    render(Tabs, {
      ids: ['one', 'two'],
      selected: 'two',
      label: (id: string) => id.toUpperCase(),
      ariaLabel: 'Sections',
      controls: 'panel',
      testid: 'tab-',
    });
    expect(screen.getByRole('tablist', { name: 'Sections' })).toBeInTheDocument();
    const [one, two] = screen.getAllByRole('tab');
    expect(one).toHaveTextContent('ONE');
    expect(one).toHaveAttribute('aria-selected', 'false');
    expect(two).toHaveAttribute('aria-selected', 'true');
    expect(two).toHaveAttribute('aria-controls', 'panel');
    expect(two).toHaveAttribute('data-tab', 'two');
    expect(screen.getByTestId('tab-one')).toBe(one);
  });

  it('selects a clicked tab and tells the page', async () => {
    const onselect = vi.fn();
    render(Tabs, { ids: ['one', 'two'], selected: 'one', label: (id: string) => id, onselect });
    await fireEvent.click(screen.getByRole('tab', { name: 'two' }));
    expect(screen.getByRole('tab', { name: 'two' })).toHaveAttribute('aria-selected', 'true');
    expect(screen.getByRole('tab', { name: 'one' })).toHaveAttribute('aria-selected', 'false');
    expect(onselect).toHaveBeenCalledWith('two');
  });

  it('leaves out the attributes a page does not ask for', () => {
    render(Tabs, { ids: ['one'], selected: 'one', label: (id: string) => id });
    const tab = screen.getByRole('tab');
    expect(tab).not.toHaveAttribute('aria-controls');
    expect(tab).not.toHaveAttribute('data-testid');
    expect(screen.getByRole('tablist')).not.toHaveAttribute('aria-label');
  });
});
