import type { ConnectionState } from './bindings/ConnectionState';
import { BackendError, type Backend } from './backend';
import { format, i18n } from './i18n/index.svelte';

/** What the status bar knows about the link to the relay. */
export class ConnectionStatus {
  /** `null` until the first answer arrives. */
  state = $state<ConnectionState | null>(null);
  error = $state<BackendError | null>(null);

  async refresh(backend: Backend) {
    try {
      this.state = await backend.connectionState();
      this.error = null;
    } catch (raw) {
      this.error = BackendError.from(raw);
    }
  }

  /** The sentence for the current state, in the current language. */
  get text(): string {
    if (this.error) return i18n.m.errors[this.error.code];
    return describeConnection(this.state);
  }
}

export function describeConnection(state: ConnectionState | null): string {
  const m = i18n.m.connection;
  if (!state) return m.checking;
  if (state.state === 'reconnecting') return format(m.reconnecting, { n: state.retry_in_secs });
  return m[state.state];
}
