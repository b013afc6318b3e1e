import { beforeEach, describe, expect, it } from 'vitest';
import { BackendError } from './backend';
import { errorText, lockedUntil } from './errors';
import { i18n } from './i18n/index.svelte';
import { normalisePairingCode, validRelayUrl } from './pairing';
import { matchingPreset, PERMISSIONS, presetPermissions } from './permissions';
import { validPin } from './pin.svelte';
import { windowTitle } from './session.svelte';

describe('windowTitle', () => {
  it('shows the unread count only when there is one', () => {
    expect(windowTitle(null)).toBe('Teamline');
    expect(windowTitle(0)).toBe('Teamline');
    expect(windowTitle(12)).toBe('(12) Teamline');
  });
});

describe('errorText', () => {
  beforeEach(() => i18n.choose('en'));

  it('translates known codes and falls back to the message', () => {
    expect(errorText(new BackendError('device_cap_reached', 'x'))).toMatch(/device limit/);
    expect(errorText(new BackendError('brand_new_code', 'Something specific.'))).toBe('Something specific.');
    i18n.choose('ru');
    expect(errorText(new BackendError('network', 'x'))).toBe('Сервер недоступен. Проверьте адрес и подключение к интернету.');
  });

  it('keeps the attempts left and the lock time from the relay’s message', () => {
    const wrong = new BackendError('pin_invalid', 'the relay refused: Wrong PIN. 2 attempt(s) left before ...');
    expect(errorText(wrong)).toBe('Wrong PIN. Attempts left before a 15-minute lock: 2');
    const locked = new BackendError(
      'pin_locked',
      'the relay refused: Too many wrong PINs: sensitive actions are locked until 2030-01-02T03:04:05Z. (pin_locked)',
    );
    expect(lockedUntil(locked)?.toISOString()).toBe('2030-01-02T03:04:05.000Z');
    expect(errorText(locked)).toMatch(/locked until \d{1,2}:\d{2}/);
    expect(lockedUntil(new BackendError('pin_locked', 'locked'))).toBeNull();
  });
});

describe('pairing codes and relay addresses', () => {
  it('normalises codes like the relay does', () => {
    expect(normalisePairingCode('7k3qd-m9xwa')).toBe('7K3QD-M9XWA');
    expect(normalisePairingCode(' 7K3QD M9XWA ')).toBe('7K3QD-M9XWA');
    expect(normalisePairingCode('IOL00-00000')).toBe('10100-00000');
    expect(normalisePairingCode('7K3QD-M9XW')).toBeNull();
    expect(normalisePairingCode('7K3QD-M9XWAU')).toBeNull();
    expect(normalisePairingCode('UUUUU-UUUUU')).toBeNull();
  });

  it('accepts http(s) relay addresses only', () => {
    expect(validRelayUrl('https://relay.example.com')).toBe(true);
    expect(validRelayUrl('http://127.0.0.1:8080')).toBe(true);
    expect(validRelayUrl('relay.example.com')).toBe(false);
    expect(validRelayUrl('ftp://relay.example.com')).toBe(false);
  });
});

describe('presets', () => {
  it('fill toggles in display order, matching teamline-core', () => {
    expect(presetPermissions('admin')).toEqual([...PERMISSIONS]);
    expect(presetPermissions('standard')).toEqual(['view_team_queue', 'reply', 'view_contacts', 'apply_labels']);
    expect(presetPermissions('restricted')).toEqual(['reply']);
    expect(presetPermissions('supervisor')).not.toContain('manage_team');
    expect(presetPermissions('supervisor')).not.toContain('export_history');
  });

  it('recognise a preset from its toggles in any order', () => {
    expect(matchingPreset(['apply_labels', 'reply', 'view_contacts', 'view_team_queue'])).toBe('standard');
    expect(matchingPreset(['reply', 'export_history'])).toBeNull();
    expect(PERMISSIONS).toHaveLength(17);
  });

  it('PINs are 6 or more digits', () => {
    expect(validPin('123456')).toBe(true);
    expect(validPin('12345')).toBe(false);
    expect(validPin('12345a')).toBe(false);
    expect(validPin('1234567890')).toBe(true);
  });
});
