import { render, screen } from '@testing-library/svelte';
import { describe, expect, it } from 'vitest';
import PinInput from './PinInput.svelte';

describe('PinInput', () => {
  it('hides the digits, asks for a numeric keyboard and keeps no autofill by default', () => {
    render(PinInput, { value: '123456', 'data-testid': 'pin', 'aria-invalid': true });
    const input = screen.getByTestId('pin') as HTMLInputElement;
    expect(input).toHaveAttribute('type', 'password');
    expect(input).toHaveAttribute('inputmode', 'numeric');
    expect(input).toHaveAttribute('autocomplete', 'off');
    expect(input).toHaveAttribute('aria-invalid', 'true');
    expect(input.value).toBe('123456');
  });

  it('lets a form ask the browser for a new password', () => {
    render(PinInput, { autocomplete: 'new-password', 'data-testid': 'pin' });
    expect(screen.getByTestId('pin')).toHaveAttribute('autocomplete', 'new-password');
  });
});
