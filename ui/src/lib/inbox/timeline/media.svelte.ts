import type { Backend } from '../../backend';
import { BackendError } from '../../backend';
import { errorText } from '../../errors';

/** Where loading a message's media stands. */
export type MediaState = 'loading' | 'ready' | 'downloading' | 'error';

/**
 * Loads one message's media into a blob URL (bytes from the encrypted cache or the relay,
 * never a file). `downloading`: the relay is still fetching it from WhatsApp; the timeline
 * reloads when it is ready, and `retry` asks again.
 */
export class MediaLoader {
  state = $state<MediaState>('loading');
  url = $state<string | null>(null);
  error = $state<string | null>(null);
  private disposed = false;

  constructor(
    private readonly backend: Backend,
    private readonly messageId: string,
    private readonly mime: string,
  ) {}

  async load(): Promise<void> {
    this.state = 'loading';
    this.error = null;
    try {
      const bytes = await this.backend.messageMedia(this.messageId);
      if (this.disposed) return;
      this.release();
      this.url = URL.createObjectURL(new Blob([bytes], { type: this.mime }));
      this.state = 'ready';
    } catch (raw) {
      if (this.disposed) return;
      const error = BackendError.from(raw);
      if (error.code === 'media_not_ready') {
        this.state = 'downloading';
      } else {
        this.state = 'error';
        this.error = errorText(error);
      }
    }
  }

  private release() {
    if (this.url) URL.revokeObjectURL(this.url);
    this.url = null;
  }

  dispose(): void {
    this.disposed = true;
    this.release();
  }
}

/**
 * A component's loader for one message's media: made (and the bytes loaded) when the
 * message or its type changes, disposed with the component, and asked again when the relay
 * announces a file that was still downloading. Call during component set-up; pass getters
 * of primitives, so a timeline reload that hands over new objects reloads nothing.
 */
export function useMediaLoader(
  backend: Backend,
  messageId: () => string,
  mime: () => string,
  ready: () => boolean,
): { readonly current: MediaLoader | null } {
  let loader = $state<MediaLoader | null>(null);
  $effect(() => {
    const l = new MediaLoader(backend, messageId(), mime());
    loader = l;
    void l.load();
    return () => l.dispose();
  });
  $effect(() => {
    if (ready() && loader?.state === 'downloading') void loader.load();
  });
  return {
    get current() {
      return loader;
    },
  };
}
