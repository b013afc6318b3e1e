import { fireEvent, render, screen, waitFor, within } from '@testing-library/svelte';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { i18n } from '../i18n/index.svelte';
import { FakeBackend } from '../test/fakeBackend';
import TeamLabels from './TeamLabels.svelte';

const chip = (name: string, colour = '#475569') => ({ id: `l-${name}`, name, colour, urgent: false });

describe('Settings › Labels', () => {
  beforeEach(() => i18n.choose('en'));
  afterEach(() => vi.restoreAllMocks());

  it('lists the team’s labels with their count; a manager creates, recolours and deletes', async () => {
    const backend = new FakeBackend();
    backend.teamLabels = [chip('vip', '#ca8a04'), chip('#urgent', '#dc2626')];
    render(TeamLabels, { backend, canManage: true });
    await waitFor(() => expect(screen.getAllByTestId('team-label')).toHaveLength(2));
    expect(screen.getByTestId('team-labels-count')).toHaveTextContent('2 of 20 labels');
    expect(backend.called('refreshLabels')).toHaveLength(1);

    await fireEvent.input(screen.getByTestId('team-labels-name'), { target: { value: ' Wholesale ' } });
    await fireEvent.input(screen.getByTestId('team-labels-colour'), { target: { value: '#2563eb' } });
    await fireEvent.click(screen.getByTestId('team-labels-create'));
    await waitFor(() => expect(screen.getAllByTestId('team-label')).toHaveLength(3));
    expect(backend.called('createLabel').map((c) => c.args)).toEqual([['Wholesale', '#2563eb']]);
    expect(screen.getByRole('status')).toHaveTextContent('Label “Wholesale” created.');

    const vip = screen.getAllByTestId('team-label').find((li) => li.textContent?.includes('vip'))!;
    await fireEvent.change(within(vip).getByTestId('team-label-colour'), { target: { value: '#db2777' } });
    await waitFor(() => expect(backend.called('recolourLabel').map((c) => c.args)).toEqual([['vip', '#db2777']]));

    vi.spyOn(window, 'confirm').mockReturnValue(true);
    await fireEvent.click(within(vip).getByTestId('team-label-delete'));
    await waitFor(() => expect(screen.getAllByTestId('team-label')).toHaveLength(2));
    expect(backend.called('deleteLabel').map((c) => c.args)).toEqual([['vip']]);
  });

  it('at 20 labels says so instead of offering a new one; the relay’s refusal is shown', async () => {
    const backend = new FakeBackend();
    backend.teamLabels = Array.from({ length: 19 }, (_, i) => chip(`step-${i}`));
    render(TeamLabels, { backend, canManage: true });
    await waitFor(() => expect(screen.getByTestId('team-labels-count')).toHaveTextContent('19 of 20 labels'));
    // Another device filled the last place meanwhile: the relay refuses in plain words.
    backend.teamLabels.push(chip('late'));
    await fireEvent.input(screen.getByTestId('team-labels-name'), { target: { value: 'One more' } });
    await fireEvent.click(screen.getByTestId('team-labels-create'));
    expect(await screen.findByTestId('team-labels-error')).toHaveTextContent('The team already has 20 labels; remove one first.');
    render(TeamLabels, { backend, canManage: true });
    expect(await screen.findByTestId('team-labels-full')).toHaveTextContent('The team has 20 labels, the most it can have.');
  });

  it('members who may not manage labels only read them, in their language', async () => {
    i18n.choose('ru');
    const backend = new FakeBackend();
    backend.teamLabels = [chip('vip')];
    render(TeamLabels, { backend, canManage: false });
    await waitFor(() => expect(screen.getAllByTestId('team-label')).toHaveLength(1));
    expect(screen.getByTestId('team-labels-read-only')).toHaveTextContent('Создавать, перекрашивать и удалять метки');
    expect(screen.queryByTestId('team-labels-new')).toBeNull();
    expect(screen.queryByTestId('team-label-delete')).toBeNull();
    expect(screen.getByTestId('team-labels-count')).toHaveTextContent('Меток: 1 из 20');
  });
});
