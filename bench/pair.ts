/**
 * Two stacks in one process over `memoryPair` (an in-process wire with no time), driven by
 * `pump()` and the stacks' own timers on a fake clock the driver advances: when the wire is idle
 * and work is pending, the clock jumps to the earliest deadline of either stack.
 */
import { memoryPair, type MemoryPair } from '../src/link/memory.js';
import { Stack } from '../src/stack/stack.js';
import type { TcpConfig } from '../src/tcp/config.js';

export const A = '10.0.0.1';
export const B = '10.0.0.2';

export class Pair {
  now = 0;
  readonly wire: MemoryPair;
  readonly a: Stack;
  readonly b: Stack;
  constructor(opts: { mtu: number; checksumOffload: boolean; tcp?: Partial<TcpConfig>; ephemeralPorts?: [number, number] }) {
    this.wire = memoryPair({ mtu: opts.mtu, checksumOffload: opts.checksumOffload });
    const clock = (): number => this.now;
    const extra = opts.ephemeralPorts ? { ephemeralPorts: opts.ephemeralPorts } : {};
    this.a = new Stack({ name: 'a', addresses: [A], clock, seed: 1, ...(opts.tcp ? { tcp: opts.tcp } : {}), ...extra });
    this.b = new Stack({ name: 'b', addresses: [B], clock, seed: 2, ...(opts.tcp ? { tcp: opts.tcp } : {}), ...extra });
    this.a.attach(this.wire.a);
    this.b.attach(this.wire.b);
  }

  /** Deliver everything queued; fire due timers. Returns frames delivered. */
  pump(): number {
    const n = this.wire.pump();
    this.fireDue();
    return n;
  }

  fireDue(): void {
    if (this.a.nextDeadline() <= this.now) this.a.onTimer(this.now);
    if (this.b.nextDeadline() <= this.now) this.b.onTimer(this.now);
  }

  /** Jump the clock to the next deadline of either stack and fire it; false when there is none. */
  advance(limit = Number.POSITIVE_INFINITY): boolean {
    const d = Math.min(this.a.nextDeadline(), this.b.nextDeadline());
    if (d === Number.POSITIVE_INFINITY || d > limit) return false;
    if (d > this.now) this.now = d;
    this.fireDue();
    this.wire.pump();
    return true;
  }

  /** Advance virtual time by `us`, firing every timer due on the way. */
  runFor(us: number): void {
    const end = this.now + us;
    while (this.advance(end)) this.wire.pump();
    this.now = end;
    this.fireDue();
    this.wire.pump();
  }
}
