import { getContext, setContext } from 'svelte';
import type { Backend } from '../../backend';

const KEY = Symbol('timeline');

/** What every content component of a timeline may use. */
export type TimelineContext = {
  backend: Backend;
  /** Scrolls to (and highlights) a message of this timeline. */
  jump: (messageId: string) => void;
};

export function setTimelineContext(context: TimelineContext): void {
  setContext(KEY, context);
}

export function timelineContext(): TimelineContext {
  return getContext<TimelineContext>(KEY);
}
