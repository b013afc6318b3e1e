import type { Unlisten } from './index';
import type { Invoke, Listen, Transport } from './commands';

/** A rejection in the app's `{ code, message }` shape, which `BackendError.from` keeps. */
interface ShellError {
  code: string;
  message: string;
}

/**
 * Commands and events over the HTTP web shell (the same UI in a plain browser, e.g. headless
 * Chromium in tests). Calls are `POST {origin}/api/call/{command}` with the bearer token;
 * events are one Server-Sent Events stream, opened on the first `listen` and closed when the
 * last listener leaves. The token goes in the events URL because EventSource cannot send headers.
 */
export function httpTransport(
  origin: string,
  token: string,
  fetchImpl: typeof fetch = fetch,
  // Read lazily: a runtime without EventSource can still make calls.
  EventSourceImpl: typeof EventSource = globalThis.EventSource,
): Transport {
  const invoke: Invoke = async <T>(
    command: string,
    args?: Record<string, unknown> | Uint8Array,
    options?: { headers: Record<string, string> },
  ): Promise<T> => {
    const headers: Record<string, string> = {
      ...(options?.headers ?? {}),
      authorization: `Bearer ${token}`,
    };
    let body: BodyInit;
    if (args instanceof Uint8Array) {
      headers['content-type'] = 'application/octet-stream';
      // Uploads come from `File.arrayBuffer()`: never a SharedArrayBuffer, which fetch refuses.
      body = args as Uint8Array<ArrayBuffer>;
    } else {
      headers['content-type'] = 'application/json';
      body = JSON.stringify(args ?? {});
    }
    let response: Response;
    try {
      response = await fetchImpl(`${origin}/api/call/${encodeURIComponent(command)}`, {
        method: 'POST',
        headers,
        body,
      });
    } catch (error) {
      throw unreachable(error);
    }
    if (!response.ok) throw await shellError(response);
    const type = mediaType(response);
    try {
      if (type === 'application/octet-stream') return (await response.arrayBuffer()) as T;
      if (type === 'application/json') return (await response.json()) as T;
    } catch (error) {
      if (error instanceof SyntaxError) {
        throw failure(`${command} answered JSON that does not parse`);
      }
      throw unreachable(error);
    }
    throw failure(`${command} answered an unexpected content type: ${type || 'none'}`);
  };

  let source: EventSource | null = null;
  let listeners = 0;

  const listen: Listen = <T>(event: string, handler: (e: { payload: T }) => void) => {
    if (!source) {
      source = new EventSourceImpl(`${origin}/api/events?token=${encodeURIComponent(token)}`);
    }
    const current = source;
    const onEvent = (e: Event) => {
      let payload: T;
      try {
        payload = JSON.parse((e as MessageEvent<string>).data) as T;
      } catch {
        // The payload may hold message text: name the event only.
        console.error(`Teamline web shell: ${event} event with a payload that does not parse`);
        return;
      }
      handler({ payload });
    };
    current.addEventListener(event, onEvent);
    listeners += 1;
    let stopped = false;
    const unlisten: Unlisten = () => {
      if (stopped) return;
      stopped = true;
      current.removeEventListener(event, onEvent);
      listeners -= 1;
      if (listeners === 0 && source === current) {
        current.close();
        source = null;
      }
    };
    return Promise.resolve(unlisten);
  };

  return { invoke, listen };
}

/** The answer's media type without parameters (`application/json; charset=utf-8` → `application/json`). */
function mediaType(response: Response): string {
  return (response.headers.get('content-type') ?? '').split(';')[0].trim().toLowerCase();
}

/** A non-2xx answer: the app's `{ code, message }` as is, else the HTTP status. */
async function shellError(response: Response): Promise<ShellError> {
  let parsed: unknown = null;
  try {
    parsed = JSON.parse(await response.text());
  } catch {
    // Not JSON (or the body broke off): fall back to the status below.
  }
  if (isShellError(parsed)) return parsed;
  return failure(`${response.status} ${response.statusText}`);
}

function isShellError(raw: unknown): raw is ShellError {
  return (
    typeof raw === 'object' &&
    raw !== null &&
    typeof (raw as { code?: unknown }).code === 'string' &&
    typeof (raw as { message?: unknown }).message === 'string'
  );
}

function failure(message: string): ShellError {
  return { code: 'web_shell_error', message };
}

function unreachable(error: unknown): ShellError {
  const reason = error instanceof Error ? error.message : String(error);
  return { code: 'network', message: `The Teamline web shell is not reachable: ${reason}` };
}
