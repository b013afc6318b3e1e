import { render, screen } from '@testing-library/svelte';
import { createRawSnippet } from 'svelte';
import { describe, expect, it } from 'vitest';
import { BackendError } from '../backend';
import { Resource } from '../team/team.svelte';
import ItemList from './ItemList.svelte';

type Row = { id: string; name: string };

const item = createRawSnippet((row: () => Row) => ({
  render: () => `<li data-testid="row">${row().name}</li>`,
}));

/** The list for one row type (a generic component, instantiated for the test). */
const RowList = ItemList<Row[], Row>;

function show(resource: Resource<Row[]>, items = (all: Row[]) => all) {
  render(RowList, { resource, items, key: (r: Row) => r.id, empty: 'Nothing here', item });
}

describe('ItemList', () => {
  it('says it is loading until the read answers', () => {
    show(new Resource<Row[]>(() => new Promise(() => {})));
    expect(screen.getByRole('status')).toHaveTextContent('Loading');
  });

  it('shows one item per entry, in order', async () => {
    const resource = new Resource(async () => [
      { id: 'a', name: 'Ana' },
      { id: 'b', name: 'Bo' },
    ]);
    await resource.load();
    show(resource);
    expect(screen.getAllByTestId('row').map((li) => li.textContent)).toEqual(['Ana', 'Bo']);
    expect(screen.queryByText('Nothing here')).toBeNull();
  });

  it('says so when nothing is left after the page picks its entries', async () => {
    const resource = new Resource(async () => [{ id: 'a', name: 'Ana' }]);
    await resource.load();
    show(resource, (all) => all.filter((r) => r.name !== 'Ana'));
    expect(screen.getByText('Nothing here')).toBeInTheDocument();
    expect(screen.queryByTestId('row')).toBeNull();
  });

  it('shows a failed read with a retry', async () => {
    const resource = new Resource<Row[]>(() => Promise.reject(new BackendError('internal', 'relay down')));
    await resource.load();
    show(resource);
    expect(screen.getByTestId('load-error')).toHaveTextContent('relay down');
  });
});
