/**
 * A discrete-event simulator on virtual time (quinn's `Pair::step`, smoltcp's netsim; DESIGN.md
 * principle 14): nothing here reads the wall clock, so a 127-second SYN give-up runs in
 * milliseconds and the same seed gives the same run, byte for byte.
 *
 * Two kinds of work exist:
 *  - events: one-shot callbacks scheduled at an Instant, kept in a min-heap (src/util/heap.ts);
 *  - timer clients: components (a TCP stack) that own their timers as data (principle 3) and are
 *    polled through `nextDeadline()` rather than scheduling callbacks. There are few of them, so
 *    the simulator scans them all on every step.
 *
 * Ordering rule (deterministic, documented because scenarios depend on it):
 *  1. The next thing to run is the earliest of the event-queue head and every client's deadline.
 *     A deadline in the past (< now) counts as due at `now`; time never goes backwards.
 *  2. Events at the same instant run in FIFO order of scheduling (the heap's stable ties).
 *  3. On a tie between an event and a timer client, the EVENT runs first. So a client due at T
 *     runs after every event already queued for T (e.g. a frame arriving at T is processed before
 *     the retransmission timer due at T), and since clients are re-polled after each step, a
 *     client whose deadline moved because of such an event is not called.
 *  4. Among clients due at the same instant, the one registered first runs first.
 *  5. Each step runs exactly one thing: one event, or one client's `onTimer(now)`.
 *
 * Housekeeping never keeps the simulation alive (like Node's `unref()`): an event scheduled with
 * `{ ref: false }` and a client deadline outside `nextWorkDeadline()` (a buffer sweep) still run
 * when time passes them, but `run()` without `until` returns once nothing else is left.
 */
import { Heap, type HeapItem } from '../util/heap.js';
import { Rng } from '../rng.js';
import type { Duration, Instant, TimerClient } from '../time.js';

export type { TimerClient } from '../time.js';

/** A scheduled one-shot event. Keep it to `cancel` it. */
export class SimEvent implements HeapItem {
  heapIndex = -1;
  /** @internal */
  constructor(
    readonly at: Instant,
    /** @internal */ readonly fn: () => void,
    /** False for housekeeping: the event runs when time passes it but keeps nobody waiting. */
    readonly ref: boolean,
  ) {}
  /** True while the event is queued (not yet run and not cancelled). */
  get pending(): boolean {
    return this.heapIndex >= 0;
  }
}

/** How many consecutive no-progress client calls at one instant are tolerated by default. */
export const DEFAULT_STALL_LIMIT = 1_000_000;

/** How a Simulator is seeded, and when it declares a timer client stuck. */
export interface SimulatorOptions {
  /** Seed of `rng`; default 1. */
  seed?: number;
  /**
   * Consecutive calls at one instant after which a timer client that still reports a deadline
   * ≤ now is declared stuck (an Error naming it is thrown). Default 1e6.
   */
  stallLimit?: number;
}

/** The discrete-event scheduler under a SimWorld: virtual time, events, timer clients, the seeded random source. */
export class Simulator {
  /** The root random source; components fork their own stream from it at construction. */
  readonly rng: Rng;
  private readonly queue = new Heap<SimEvent>();
  private readonly clients: TimerClient[] = [];
  private _now: Instant = 0;
  private stall = 0;
  private readonly stallLimit: number;
  private inStep = false;
  private _steps = 0;
  /** Queued events with `ref` set (the ones that keep `run()` going). */
  private refEvents = 0;

  constructor(opts: SimulatorOptions = {}) {
    const seed = opts.seed ?? 1;
    this.rng = new Rng(seed);
    const limit = opts.stallLimit ?? DEFAULT_STALL_LIMIT;
    if (!(limit >= 1)) throw new RangeError(`stallLimit must be >= 1, got ${limit}`);
    this.stallLimit = limit;
  }

  /** Current virtual time, microseconds. */
  get now(): Instant {
    return this._now;
  }

  /** Total steps run so far (events plus client calls). */
  get steps(): number {
    return this._steps;
  }

  /** Number of queued events (timer clients not included). */
  get pendingEvents(): number {
    return this.queue.size;
  }

  /** Run `fn` at `at`; `{ ref: false }` makes it housekeeping (see the header). */
  schedule(at: Instant, fn: () => void, opts: { ref?: boolean } = {}): SimEvent {
    if (Number.isNaN(at) || at < this._now) {
      throw new RangeError(`at must be >= now (${this._now}), got ${at}`);
    }
    if (at === Number.POSITIVE_INFINITY) throw new RangeError('at must be finite');
    if (typeof fn !== 'function') throw new TypeError('fn must be a function');
    const ev = new SimEvent(at, fn, opts.ref ?? true);
    this.queue.push(ev, at);
    if (ev.ref) this.refEvents++;
    return ev;
  }

  /** Run `fn` `delay` µs from now (`{ ref: false }`: housekeeping, as `schedule`). */
  after(delay: Duration, fn: () => void, opts: { ref?: boolean } = {}): SimEvent {
    if (Number.isNaN(delay) || delay < 0) throw new RangeError(`delay must be >= 0, got ${delay}`);
    return this.schedule(this._now + delay, fn, opts);
  }

  /** Cancel a queued event; a no-op if it already ran or was cancelled. */
  cancel(ev: SimEvent): void {
    if (!ev.pending) return;
    this.queue.remove(ev);
    if (ev.ref) this.refEvents--;
  }

  /**
   * True while anything but housekeeping is left: a queued `ref` event or a client with a work
   * deadline. `run()` without `until` stops when this turns false.
   */
  hasWork(): boolean {
    if (this.refEvents > 0) return true;
    for (const c of this.clients) {
      if ((c.nextWorkDeadline?.() ?? c.nextDeadline()) !== Number.POSITIVE_INFINITY) return true;
    }
    return false;
  }

  /** Let the simulator run `c`'s timers (a Stack) at its `nextDeadline()`. */
  addTimerClient(c: TimerClient): void {
    if (this.clients.includes(c)) return;
    this.clients.push(c);
  }

  /** Stop running `c`'s timers. */
  removeTimerClient(c: TimerClient): void {
    const i = this.clients.indexOf(c);
    if (i >= 0) this.clients.splice(i, 1);
  }

  /**
   * Instant of the next thing to run (clamped to now for overdue clients), or +Infinity when
   * nothing is left.
   */
  nextTime(): Instant {
    let t = this.queue.peekKey();
    for (const c of this.clients) {
      const d = c.nextDeadline();
      if (d < t) t = d;
    }
    return t < this._now ? this._now : t;
  }

  /** Run the single earliest thing (see the ordering rule above). False when nothing is left. */
  step(): boolean {
    if (this.inStep) throw new Error('Simulator.step() called re-entrantly from an event or timer');
    const evAt = this.queue.peekKey();
    let client: TimerClient | undefined;
    let clientAt = Number.POSITIVE_INFINITY;
    for (const c of this.clients) {
      const d = c.nextDeadline();
      // Strict '<' keeps the first-registered client on ties (rule 4).
      if (d < clientAt) {
        clientAt = d;
        client = c;
      }
    }
    if (evAt === Number.POSITIVE_INFINITY && client === undefined) return false;
    if (client !== undefined && clientAt < this._now) clientAt = this._now;

    this.inStep = true;
    try {
      // Rule 3: ties go to the event.
      if (evAt <= clientAt) {
        const ev = this.queue.pop()!;
        if (ev.ref) this.refEvents--;
        this.advance(ev.at);
        this._steps++;
        ev.fn();
      } else {
        const c = client!;
        this.advance(clientAt);
        this._steps++;
        c.onTimer(this._now);
        this.checkProgress(c);
      }
    } finally {
      this.inStep = false;
    }
    return true;
  }

  /**
   * Run until nothing but housekeeping is left (`hasWork()` is false), or until the next thing
   * would be later than `until` (then now = until: housekeeping up to `until` runs too), or
   * `maxSteps` steps have run (then now stays where the last step left it). Without `until`, a
   * client that always has work (a persist timer against a zero window) keeps this running.
   */
  run(opts: { until?: Instant; maxSteps?: number } = {}): void {
    const until = opts.until ?? Number.POSITIVE_INFINITY;
    const maxSteps = opts.maxSteps ?? Number.POSITIVE_INFINITY;
    if (Number.isNaN(until) || until < this._now) {
      throw new RangeError(`until must be >= now (${this._now}), got ${until}`);
    }
    if (Number.isNaN(maxSteps) || maxSteps < 0) {
      throw new RangeError(`maxSteps must be >= 0, got ${maxSteps}`);
    }
    let n = 0;
    for (;;) {
      if (n >= maxSteps) return;
      const t = this.nextTime();
      if (t === Number.POSITIVE_INFINITY || t > until) break;
      if (until === Number.POSITIVE_INFINITY && !this.hasWork()) break;
      this.step();
      n++;
    }
    if (until !== Number.POSITIVE_INFINITY && this._now < until) this.advance(until);
  }

  /** Run for `d` microseconds of virtual time. */
  runFor(d: Duration): void {
    if (Number.isNaN(d) || d < 0) throw new RangeError(`d must be >= 0, got ${d}`);
    this.run({ until: this._now + d });
  }

  private advance(t: Instant): void {
    if (t > this._now) {
      this._now = t;
      this.stall = 0;
    }
  }

  /** Stall guard: a client that stays due after onTimer makes no progress. */
  private checkProgress(c: TimerClient): void {
    if (c.nextDeadline() > this._now) {
      this.stall = 0;
      return;
    }
    if (++this.stall >= this.stallLimit) {
      const i = this.clients.indexOf(c);
      const name = c.name ?? (c.constructor?.name && c.constructor.name !== 'Object' ? c.constructor.name : `#${i}`);
      throw new Error(
        `timer client ${name} made no progress: deadline still <= now (${this._now}) after ` +
          `${this.stall} consecutive onTimer calls at one instant`,
      );
    }
  }
}
