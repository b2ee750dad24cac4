/** Node net.js's end of a socket without allowHalfOpen: a write after the peer's FIN is EPIPE. */
import { Duplex } from 'node:stream';
import { codeError } from './errors.js';

/**
 * Node net.js: without allowHalfOpen the stream ends its writable side in the next tick after
 * 'end'; a write after that is EPIPE "This socket has been ended by the other party".
 */
export function onEndNoHalfOpen(this: Duplex): void {
  this.write = writeAfterFin;
}

function writeAfterFin(this: Duplex, chunk: unknown, encoding?: unknown, cb?: unknown): boolean {
  if (!this.writableEnded) return (Duplex.prototype.write as (...a: unknown[]) => boolean).call(this, chunk, encoding, cb);
  const callback = typeof encoding === 'function' ? encoding : cb;
  // Node net.js writeAfterFIN: a plain Error with code EPIPE (no errno, no syscall).
  const err = codeError(Error, 'EPIPE', 'This socket has been ended by the other party');
  if (typeof callback === 'function') process.nextTick(callback as (e: Error) => void, err);
  this.destroy(err);
  return false;
}
