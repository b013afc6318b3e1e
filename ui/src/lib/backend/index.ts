import type { AppInfo } from '../bindings/AppInfo';
import type { ConnectionState } from '../bindings/ConnectionState';
import type { ErrorCode } from '../bindings/ErrorCode';

/**
 * Everything the UI asks of the app. The Tauri implementation talks to the Rust shell over
 * IPC; an HTTP implementation (for browser tests) will speak to a relay directly.
 */
export interface Backend {
  appInfo(): Promise<AppInfo>;
  connectionState(): Promise<ConnectionState>;
}

/** Codes the UI itself can raise besides the app's own. */
export type UiErrorCode = ErrorCode | 'ipc_unavailable';

/** A failure with a stable code the UI branches on, and the app's own sentence. */
export class BackendError extends Error {
  readonly code: UiErrorCode;

  constructor(code: UiErrorCode, message: string) {
    super(message);
    this.name = 'BackendError';
    this.code = code;
  }

  /** Turns whatever a rejected call produced into a BackendError. */
  static from(raw: unknown): BackendError {
    if (raw instanceof BackendError) return raw;
    if (isIpcError(raw)) return new BackendError(raw.code, raw.message);
    const message = raw instanceof Error ? raw.message : String(raw);
    return new BackendError('internal', message);
  }
}

function isIpcError(raw: unknown): raw is { code: ErrorCode; message: string } {
  return (
    typeof raw === 'object' &&
    raw !== null &&
    typeof (raw as { code?: unknown }).code === 'string' &&
    typeof (raw as { message?: unknown }).message === 'string'
  );
}
