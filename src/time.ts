/**
 * Time in synack is virtual or real, but always a plain number of MICROSECONDS passed in by a
 * driver. The core never reads a clock (DESIGN.md principle 2).
 *
 * `Instant` is a point in time, `Duration` a span; both are microseconds. They are type aliases
 * rather than branded types so arithmetic stays readable; the unit lives in the name and in the
 * helpers below.
 */
export type Instant = number;
/** A span of time in microseconds. */
export type Duration = number;

/** No deadline: a connection or stack with nothing scheduled reports this. */
export const NEVER: Instant = Number.POSITIVE_INFINITY;

/**
 * A component polled for its earliest deadline instead of scheduling callbacks (a stack, a
 * link with timers): the simulator and the Node driver call `onTimer(now)` once it is due.
 */
export interface TimerClient {
  /** Earliest instant at which `onTimer` must be called; NEVER (+Infinity) when idle. */
  nextDeadline(): Instant;
  /** Run every timer due at `now`. */
  onTimer(now: Instant): void;
  /**
   * Earliest deadline that is real work, NEVER when only housekeeping is left (a periodic sweep
   * that tidies memory must not keep `run()` going forever). Default: `nextDeadline()`.
   */
  nextWorkDeadline?(): Instant;
  /** Optional name used in error messages (e.g. the stall guard). */
  readonly name?: string;
}

/** `n` microseconds as a Duration. */
export const usec = (n: number): Duration => n;
/** `n` milliseconds as a Duration (µs). */
export const ms = (n: number): Duration => n * 1000;
/** `n` seconds as a Duration (µs). */
export const sec = (n: number): Duration => n * 1_000_000;

/** Seconds as a float, for printing and JSON. */
export const toSeconds = (t: Instant | Duration): number => t / 1_000_000;

/** "1.234567" — fixed 6 decimals, as packetdrill and tcpdump print times. */
export function formatSeconds(t: Instant): string {
  return (t / 1_000_000).toFixed(6);
}
