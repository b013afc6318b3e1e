import type { AppInfo } from '../bindings/AppInfo';
import type { ConnectionState } from '../bindings/ConnectionState';
import { BackendError, type Backend } from './index';

export type Invoke = <T>(command: string, args?: Record<string, unknown>) => Promise<T>;

/** The Backend over Tauri IPC. Rejections arrive as `{ code, message }` and become BackendErrors. */
export class TauriBackend implements Backend {
  private readonly invoke: Invoke;

  constructor(invoke: Invoke) {
    this.invoke = invoke;
  }

  appInfo(): Promise<AppInfo> {
    return this.call<AppInfo>('app_info');
  }

  connectionState(): Promise<ConnectionState> {
    return this.call<ConnectionState>('connection_state');
  }

  private async call<T>(command: string, args?: Record<string, unknown>): Promise<T> {
    try {
      return await this.invoke<T>(command, args);
    } catch (raw) {
      throw BackendError.from(raw);
    }
  }
}
