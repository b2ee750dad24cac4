/**
 * Observability on `node:diagnostics_channel` (DESIGN.md principle 15; undici does the same):
 * state changes, errors, dropped input and every segment a stack sends or receives are published
 * on named channels, at no cost when nobody subscribes. Node-only: the browser build of the core
 * never imports this file (the NodeDriver does).
 *
 *   import dc from 'node:diagnostics_channel';
 *   dc.subscribe('synack:state', (m) => console.log(m.host, m.local, m.from, '->', m.to));
 */
import dc from 'node:diagnostics_channel';
import type { Stack } from '../stack/stack.js';

/** The node:diagnostics_channel names a NodeDriver publishes on. */
export const CHANNELS = {
  /** `{ host, local, remote, from, to, cause }` */
  state: 'synack:state',
  /** `{ host, local, remote, code, message }` */
  error: 'synack:error',
  /** `{ host, reason }`: malformed or misaddressed input, counted and dropped. */
  drop: 'synack:drop',
  /** `{ host, direction: 'in' | 'out', frame }`: the raw IP packet (valid only during the call). */
  segment: 'synack:segment',
} as const;

const state = dc.channel(CHANNELS.state);
const error = dc.channel(CHANNELS.error);
const drop = dc.channel(CHANNELS.drop);
const segment = dc.channel(CHANNELS.segment);

/** Forward a stack's events to the channels; returns the unsubscribe function. */
export function publishStackEvents(stack: Stack): () => void {
  return stack.observe((ev) => {
    if (ev.type === 'state') {
      if (state.hasSubscribers) state.publish({ host: stack.name, local: ev.local, remote: ev.remote, from: ev.from, to: ev.to, cause: ev.cause });
    } else if (ev.type === 'error') {
      if (error.hasSubscribers) error.publish({ host: stack.name, local: ev.local, remote: ev.remote, code: ev.code, message: ev.message });
    } else if (drop.hasSubscribers) drop.publish({ host: stack.name, reason: ev.reason });
  });
}

/** Publish one frame crossing a stack's link. */
export function publishSegment(host: string, direction: 'in' | 'out', frame: Uint8Array): void {
  if (segment.hasSubscribers) segment.publish({ host, direction, frame });
}
