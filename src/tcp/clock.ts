import type { TcpRepr } from '../wire/tcp-repr.js';
import type { Instant } from '../time.js';

/** RFC 7323 timestamp clock: LINUX milliseconds plus a per-connection offset. */
export function tsClock(c: { readonly tsOffset: number }, now: Instant): number {
  return (Math.floor(now / 1000) + c.tsOffset) >>> 0;
}

/** RFC 7323 §5.3: timestamps compare modulo 2^32, like sequence numbers. */
export const tsBefore = (a: number, b: number): boolean => ((a - b) | 0) < 0;

/** The RFC 7323 timestamp option on an outgoing segment: our clock, and `ecr` echoed. */
export function setTs(c: { readonly tsOffset: number }, now: Instant, out: TcpRepr, ecr: number): void {
  out.hasTimestamp = true;
  out.tsVal = tsClock(c, now);
  out.tsEcr = ecr >>> 0;
}
