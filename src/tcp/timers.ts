import { NEVER, type Instant } from '../time.js';

/**
 * Timers are data, not callbacks (quinn-proto's TimerTable, DESIGN.md principle 3): each
 * connection keeps one deadline per kind; the stack asks for the earliest and calls back into
 * the connection when it passes.
 */
export const Timer = {
  /** Retransmission of SYN, SYN-ACK, data or FIN (RFC 6298). */
  RETRANSMIT: 0,
  /** Zero-window probe (RFC 9293 §3.8.6.1). */
  PERSIST: 1,
  /** Keepalive probe (RFC 9293 §3.8.4, RFC 1122 §4.2.3.6). */
  KEEPALIVE: 2,
  /** Delayed ACK (RFC 9293 §3.8.6.3). */
  DELAYED_ACK: 3,
  /** 2MSL in TIME_WAIT (RFC 9293 §3.6.1). */
  TIME_WAIT: 4,
  /** SO_LINGER timeout of a blocking close. */
  LINGER: 5,
  /** LINUX: tcp_fin_timeout for an orphaned FIN_WAIT_2 connection. */
  FIN_WAIT_2: 6,
  /** Tail loss probe (RFC 8985 §7): a probe after 2·SRTT of silence with data in flight. */
  LOSS_PROBE: 7,
  /** RACK reordering timer (RFC 8985 §6.3): re-runs loss detection when a segment is old enough. */
  REORDER: 8,
} as const;
export type TimerKind = (typeof Timer)[keyof typeof Timer];

export const TIMER_NAMES = ['retransmit', 'persist', 'keepalive', 'delayed-ack', 'time-wait', 'linger', 'fin-wait-2', 'loss-probe', 'reorder'] as const;
export type TimerName = (typeof TIMER_NAMES)[number];

const N = TIMER_NAMES.length;
if (N !== 9) throw new Error('timers.ts: TimerTable.at must have one slot per timer kind');

export class TimerTable {
  // A plain array of doubles (unboxed FixedDoubleArray): ~110 B per connection, where a
  // Float64Array with its ArrayBuffer and backing store costs ~290 B.
  // (A literal: `new Array(N).fill(NEVER)` costs two builtin calls per connection.)
  private readonly at: number[] = [NEVER, NEVER, NEVER, NEVER, NEVER, NEVER, NEVER, NEVER, NEVER];

  set(kind: TimerKind, deadline: Instant): void {
    this.at[kind] = deadline;
  }

  stop(kind: TimerKind): void {
    this.at[kind] = NEVER;
  }

  stopAll(): void {
    this.at.fill(NEVER);
  }

  get(kind: TimerKind): Instant {
    return this.at[kind]!;
  }

  isSet(kind: TimerKind): boolean {
    return this.at[kind]! !== NEVER;
  }

  /** Earliest deadline of all kinds (NEVER when none). */
  next(): Instant {
    let m = NEVER;
    for (let i = 0; i < N; i++) if (this.at[i]! < m) m = this.at[i]!;
    return m;
  }

  /** The earliest expired timer at `now`, or -1. */
  expired(now: Instant): TimerKind | -1 {
    let best = -1;
    let m = NEVER;
    for (let i = 0; i < N; i++) {
      const t = this.at[i]!;
      if (t <= now && t < m) {
        m = t;
        best = i;
      }
    }
    return best as TimerKind | -1;
  }

  /** Active timers by name, for snapshots and the viz timers panel. */
  list(): { name: TimerName; at: Instant }[] {
    const out: { name: TimerName; at: Instant }[] = [];
    for (let i = 0; i < N; i++) if (this.at[i]! !== NEVER) out.push({ name: TIMER_NAMES[i]!, at: this.at[i]! });
    return out;
  }
}
