import { NEVER, type Instant } from '../time.js';
import { TIMER_BASE, TIMER_SLOTS, newTcbSlots } from './slots.js';

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
if (N !== TIMER_SLOTS) throw new Error('timers.ts: the slot array (slots.ts) must have one timer slot per timer kind');

export class TimerTable {
  /**
   * The deadlines, in the connection's slot array (slots.ts) from TIMER_BASE: unboxed doubles,
   * no array of their own (the connection, which is its own timer table, keeps its other
   * instants in it too). Standalone (tests), a table makes its own.
   */
  protected readonly at: number[];

  /** `slots` from newTcbSlots(): every timer starts stopped. */
  constructor(slots: number[] = newTcbSlots()) {
    this.at = slots;
  }

  set(kind: TimerKind, deadline: Instant): void {
    this.at[TIMER_BASE + kind] = deadline;
  }

  stop(kind: TimerKind): void {
    this.at[TIMER_BASE + kind] = NEVER;
  }

  stopAll(): void {
    for (let i = TIMER_BASE; i < TIMER_BASE + N; i++) this.at[i] = NEVER;
  }

  get(kind: TimerKind): Instant {
    return this.at[TIMER_BASE + kind]!;
  }

  isSet(kind: TimerKind): boolean {
    return this.at[TIMER_BASE + kind]! !== NEVER;
  }

  /** Earliest deadline of all kinds (NEVER when none). */
  next(): Instant {
    let m = NEVER;
    for (let i = TIMER_BASE; i < TIMER_BASE + N; i++) if (this.at[i]! < m) m = this.at[i]!;
    return m;
  }

  /** The earliest expired timer at `now`, or -1. */
  expired(now: Instant): TimerKind | -1 {
    let best = -1;
    let m = NEVER;
    for (let i = 0; i < N; i++) {
      const t = this.at[TIMER_BASE + i]!;
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
    for (let i = 0; i < N; i++) if (this.at[TIMER_BASE + i]! !== NEVER) out.push({ name: TIMER_NAMES[i]!, at: this.at[TIMER_BASE + i]! });
    return out;
  }
}
