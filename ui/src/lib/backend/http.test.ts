import { describe, expect, it } from 'vitest';
import { BackendError } from './index';
import { CommandBackend } from './commands';
import { httpTransport } from './http';

const ORIGIN = 'http://127.0.0.1:4321';

interface Request {
  url: string;
  method: string | undefined;
  headers: Headers;
  body: BodyInit | null | undefined;
}

/** A fetch that records each request and answers with `answer` (a real `Response`). */
function fakeFetch(answer: (request: Request) => Response | Promise<Response>) {
  const requests: Request[] = [];
  const fetchImpl = (async (input: RequestInfo | URL, init?: RequestInit) => {
    const request = {
      url: String(input),
      method: init?.method,
      headers: new Headers(init?.headers),
      body: init?.body,
    };
    requests.push(request);
    return answer(request);
  }) as typeof fetch;
  return { fetchImpl, requests };
}

function json(value: unknown, status = 200, statusText = 'OK'): Response {
  return new Response(JSON.stringify(value), {
    status,
    statusText,
    headers: { 'content-type': 'application/json' },
  });
}

function backendOver(answer: (request: Request) => Response | Promise<Response>) {
  const { fetchImpl, requests } = fakeFetch(answer);
  const { invoke, listen } = httpTransport(ORIGIN, 'secret-token', fetchImpl, FakeEventSource.asImpl());
  return { backend: new CommandBackend(invoke, listen), requests };
}

describe('httpTransport calls', () => {
  it('posts the args as JSON to /api/call/{command} with the bearer token', async () => {
    const rows = [{ conversation_id: 'c1' }];
    const { backend, requests } = backendOver(() => json(rows));

    await expect(backend.timeline('c1', 50)).resolves.toEqual(rows);
    expect(requests).toHaveLength(1);
    const [request] = requests;
    expect(request.url).toBe(`${ORIGIN}/api/call/timeline`);
    expect(request.method).toBe('POST');
    expect(request.headers.get('authorization')).toBe('Bearer secret-token');
    expect(request.headers.get('content-type')).toBe('application/json');
    expect(JSON.parse(request.body as string)).toEqual({ conversationId: 'c1', limit: 50, before: null });
  });

  it('sends {} for a command without args and resolves a unit answer to null', async () => {
    const { backend, requests } = backendOver(() => json(null));
    await expect(backend.signOut()).resolves.toBeNull();
    expect(requests[0].url).toBe(`${ORIGIN}/api/call/sign_out`);
    expect(requests[0].body).toBe('{}');
  });

  it('decodes JSON with a charset parameter', async () => {
    const { backend } = backendOver(
      () => new Response('7', { headers: { 'content-type': 'application/json; charset=utf-8' } }),
    );
    await expect(backend.refreshContacts()).resolves.toBe(7);
  });

  it('answers octet-stream bodies as an ArrayBuffer', async () => {
    const bytes = new Uint8Array([0, 1, 2, 254, 255]);
    const { backend, requests } = backendOver(
      () => new Response(bytes, { headers: { 'content-type': 'application/octet-stream' } }),
    );
    const media = await backend.messageMedia('m1');
    expect(Object.prototype.toString.call(media)).toBe('[object ArrayBuffer]');
    expect(Array.from(new Uint8Array(media))).toEqual([0, 1, 2, 254, 255]);
    expect(JSON.parse(requests[0].body as string)).toEqual({ messageId: 'm1' });
  });

  it('uploads raw bytes as octet-stream with the file headers', async () => {
    const uploaded = { media_id: 'up1' };
    const { backend, requests } = backendOver(() => json(uploaded));
    const bytes = new Uint8Array([9, 8, 7]);

    await expect(backend.uploadMedia(bytes, 'image/jpeg', 'photo 1.jpg')).resolves.toEqual(uploaded);
    const [request] = requests;
    expect(request.url).toBe(`${ORIGIN}/api/call/upload_media`);
    expect(request.body).toBe(bytes);
    expect(request.headers.get('content-type')).toBe('application/octet-stream');
    expect(request.headers.get('x-mime-type')).toBe('image/jpeg');
    expect(request.headers.get('x-file-name')).toBe('photo%201.jpg');
    expect(request.headers.get('authorization')).toBe('Bearer secret-token');
  });

  it('rejects with the app error { code, message } of a non-2xx answer', async () => {
    const { backend } = backendOver(() =>
      json({ code: 'pin_required', message: 'Enter your PIN.' }, 403, 'Forbidden'),
    );
    const error = await backend.deleteLabel('vip').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(BackendError);
    expect(error).toMatchObject({ code: 'pin_required', message: 'Enter your PIN.' });
  });

  it('rejects a non-2xx answer without such JSON as web_shell_error with the status', async () => {
    const { backend } = backendOver(
      () => new Response('<h1>Bad Gateway</h1>', { status: 502, statusText: 'Bad Gateway' }),
    );
    await expect(backend.appInfo()).rejects.toMatchObject({
      name: 'BackendError',
      code: 'web_shell_error',
      message: '502 Bad Gateway',
    });
  });

  it('rejects JSON without code and message as web_shell_error too', async () => {
    const { backend } = backendOver(() => json({ error: 'nope' }, 401, 'Unauthorized'));
    await expect(backend.appInfo()).rejects.toMatchObject({
      code: 'web_shell_error',
      message: '401 Unauthorized',
    });
  });

  it('rejects as network when the web shell cannot be reached', async () => {
    const { backend } = backendOver(() => Promise.reject(new TypeError('fetch failed')));
    await expect(backend.appInfo()).rejects.toMatchObject({
      name: 'BackendError',
      code: 'network',
      message: 'The Teamline web shell is not reachable: fetch failed',
    });
  });

  it('rejects a 2xx answer of an unknown content type as web_shell_error', async () => {
    const { backend } = backendOver(
      () => new Response('<html></html>', { headers: { 'content-type': 'text/html' } }),
    );
    await expect(backend.appInfo()).rejects.toMatchObject({ code: 'web_shell_error' });
  });
});

/** A stand-in for the browser's EventSource: records its URL and lets a test push events. */
class FakeEventSource extends EventTarget {
  static opened: FakeEventSource[] = [];
  readonly url: string;
  closed = false;

  constructor(url: string) {
    super();
    this.url = url;
    FakeEventSource.opened.push(this);
  }

  close() {
    this.closed = true;
  }

  /** Delivers a server event as EventSource would: `event:` name, `data:` text. */
  push(name: string, data: string) {
    this.dispatchEvent(new MessageEvent(name, { data }));
  }

  static asImpl(): typeof EventSource {
    FakeEventSource.opened = [];
    return FakeEventSource as unknown as typeof EventSource;
  }
}

describe('httpTransport events', () => {
  it('opens one stream lazily and delivers each event to its own handler', async () => {
    const { backend } = backendOver(() => json(null));
    expect(FakeEventSource.opened).toHaveLength(0);

    const unread: number[] = [];
    const states: unknown[] = [];
    const opened: string[] = [];
    const stop = await backend.listen({
      unread: (total) => unread.push(total),
      connectionState: (state) => states.push(state),
      openConversation: (id) => opened.push(id),
    });
    expect(FakeEventSource.opened).toHaveLength(1);
    const [source] = FakeEventSource.opened;
    expect(source.url).toBe(`${ORIGIN}/api/events?token=secret-token`);

    source.push('unread', '3');
    source.push('connection-state', '{"state":"online"}');
    source.push('open-conversation', '"c9"');
    source.push('broadcast-changed', '{"id":"b1"}');
    expect(unread).toEqual([3]);
    expect(states).toEqual([{ state: 'online' }]);
    expect(opened).toEqual(['c9']);

    stop();
    expect(source.closed).toBe(true);
    source.push('unread', '4');
    expect(unread).toEqual([3]);
  });

  it('keeps the stream open while another listener remains, then reopens on demand', async () => {
    const { backend } = backendOver(() => json(null));
    const first: number[] = [];
    const second: number[] = [];
    const stopFirst = await backend.listen({ unread: (n) => first.push(n) });
    const stopSecond = await backend.listen({ unread: (n) => second.push(n) });
    expect(FakeEventSource.opened).toHaveLength(1);
    const [source] = FakeEventSource.opened;

    stopFirst();
    stopFirst();
    expect(source.closed).toBe(false);
    source.push('unread', '1');
    expect(first).toEqual([]);
    expect(second).toEqual([1]);

    stopSecond();
    expect(source.closed).toBe(true);

    await backend.listen({ unread: (n) => first.push(n) });
    expect(FakeEventSource.opened).toHaveLength(2);
    FakeEventSource.opened[1].push('unread', '2');
    expect(first).toEqual([2]);
  });

  it('escapes the token in the events URL', async () => {
    const { invoke, listen } = httpTransport(
      ORIGIN,
      'a+b/c=',
      fakeFetch(() => json(null)).fetchImpl,
      FakeEventSource.asImpl(),
    );
    await new CommandBackend(invoke, listen).listen({ unread: () => {} });
    expect(FakeEventSource.opened[0].url).toBe(`${ORIGIN}/api/events?token=a%2Bb%2Fc%3D`);
  });
});
