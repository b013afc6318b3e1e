import { fireEvent, render, screen, waitFor } from '@testing-library/svelte';
import { beforeEach, describe, expect, it } from 'vitest';
import { i18n } from '../i18n/index.svelte';
import { FakeBackend } from '../test/fakeBackend';
import NotificationSettingsForm from './NotificationSettingsForm.svelte';

describe('Notification settings', () => {
  beforeEach(() => i18n.choose('en'));

  it('loads, edits do-not-disturb hours across midnight and urgent labels, and saves', async () => {
    const backend = new FakeBackend();
    render(NotificationSettingsForm, { backend });
    await fireEvent.click(await screen.findByTestId('notify-dnd'));
    await fireEvent.input(screen.getByTestId('notify-dnd-start'), { target: { value: '23:00' } });
    await fireEvent.input(screen.getByTestId('notify-dnd-end'), { target: { value: '07:00' } });
    expect(screen.getByTestId('notification-settings')).toHaveTextContent('23:00–07:00 crosses midnight');
    await fireEvent.input(screen.getByTestId('notify-urgent'), { target: { value: '#urgent, vip ,' } });
    await fireEvent.click(screen.getByTestId('notify-save'));
    await waitFor(() => expect(backend.called('setNotificationSettings')).toHaveLength(1));
    expect(backend.called('setNotificationSettings')[0].args[0]).toEqual({
      enabled: true,
      do_not_disturb: { start: '23:00', end: '07:00' },
      time_zone: null,
      urgent_labels: ['#urgent', 'vip'],
      max_age_secs: 900,
    });
    expect(await screen.findByText('Saved')).toBeInTheDocument();
  });
});
