/**
 * The real-time event-loop shell (DESIGN.md: driver/ layer; Node only: it publishes every stack's
 * events and segments on node:diagnostics_channel). A monotonic microsecond clock
 * (performance.now(), or an injected one) and exactly ONE `setTimeout`, `unref()`ed, armed for the
 * earliest deadline of all its stacks and of its own one-shot timers (principle 3: the stack's
 * timers are data; the driver owns the only real timer). Every entry point (a frame from a link, a
 * user call through the net API) ends with `kick()`, which re-arms the timer when the earliest
 * deadline moved. Its virtual-time twin is `SimDriver` (driver/node.ts).
 */
import { Stack, type StackOptions } from '../stack/stack.js';
import { publishSegment, publishStackEvents } from './diagnostics.js';
import type { Link } from '../link/link.js';
import { Heap, type HeapItem } from '../util/heap.js';
import { NEVER, type Duration, type Instant } from '../time.js';
import type { Driver, DriverTimer } from './node.js';

class Timer implements HeapItem, DriverTimer {
  heapIndex = -1;
  constructor(
    readonly at: Instant,
    readonly fn: () => void,
    private readonly heap: Heap<Timer>,
    private readonly onCancel: () => void,
  ) {}
  get pending(): boolean {
    return this.heapIndex >= 0;
  }
  cancel(): void {
    if (this.heapIndex < 0) return;
    this.heap.remove(this);
    this.onCancel();
  }
}

/** A NodeDriver's clock and whether its timer keeps the process alive. */
export interface NodeDriverOptions {
  /** Clock in microseconds (monotonic). Default: performance.now() since the driver was made. */
  clock?: () => Instant;
  /**
   * Keep the Node process alive while the driver has deadlines (the timer is not unref()ed).
   * Default false: like Node's sockets, it is the links (or the application's own handles) that
   * keep the process alive, not TCP's timers.
   */
  ref?: boolean;
}

/**
 * Runs one or more Stacks in real time.
 *
 * ```ts
 * const driver = new NodeDriver();
 * const stack = driver.createStack({ addresses: ['10.0.0.1'] });
 * driver.attach(stack, tunLink);          // frames from the link reschedule the timer
 * const net = createNet(stack, driver);   // user calls through net reschedule it too
 * ```
 * Code that calls a Stack or TcpSocket directly (not through src/net) calls `driver.kick()` after.
 */
export class NodeDriver implements Driver {
  readonly stacks: Stack[] = [];
  private readonly clock: () => Instant;
  private readonly ref: boolean;
  private readonly timers = new Heap<Timer>();
  private handle: ReturnType<typeof setTimeout> | null = null;
  /** Deadline the real timer is armed for (NEVER when not armed). */
  private armedFor: Instant = NEVER;
  private running = false;
  private closed = false;

  constructor(opts: NodeDriverOptions = {}) {
    if (opts.clock !== undefined) {
      if (typeof opts.clock !== 'function') throw new TypeError('options.clock must be a function returning microseconds');
      this.clock = opts.clock;
    } else {
      const t0 = performance.now();
      this.clock = () => Math.floor((performance.now() - t0) * 1000);
    }
    this.ref = opts.ref ?? false;
  }

  now(): Instant {
    return this.clock();
  }

  /** Build a Stack on this driver's clock and run it. */
  createStack(opts: Omit<StackOptions, 'clock'>): Stack {
    const s = new Stack({ ...opts, clock: this.clock });
    this.addStack(s);
    return s;
  }

  /** Run an existing stack (its clock should be this driver's `now`). */
  addStack(stack: Stack): Stack {
    if (!this.stacks.includes(stack)) {
      this.stacks.push(stack);
      this.unpublish.set(stack, publishStackEvents(stack));
    }
    this.kick();
    return stack;
  }

  /** Stop running `stack`'s timers and publishing its events. */
  removeStack(stack: Stack): void {
    const i = this.stacks.indexOf(stack);
    if (i >= 0) this.stacks.splice(i, 1);
    this.unpublish.get(stack)?.();
    this.unpublish.delete(stack);
    this.kick();
  }

  /**
   * Attach `link` to `stack` through a wrapper that kicks the driver after every received frame,
   * so the timer follows whatever the frame changed. Adds the stack if needed.
   */
  attach(stack: Stack, link: Link): void {
    this.addStack(stack);
    stack.attach(this.wrapLink(link, stack.name));
  }

  /** Unsubscribe functions of the diagnostics_channel publishers, per stack. */
  private readonly unpublish = new Map<Stack, () => void>();

  /** A Link whose receive callbacks are followed by `kick()`. */
  wrapLink(link: Link, host = ''): Link {
    const outer = this;
    return {
      get mtu() {
        return link.mtu;
      },
      get checksumOffload() {
        return link.checksumOffload;
      },
      get gsoMaxSize() {
        return link.gsoMaxSize;
      },
      send: (frame, nextHop) => {
        publishSegment(host, 'out', frame);
        link.send(frame, nextHop);
      },
      // Lent buffers pass through (DESIGN.md principle 5): this wrapper only reads frames.
      allocFrame: link.allocFrame === undefined ? undefined : (len) => link.allocFrame!(len),
      onReceive(cb) {
        link.onReceive((frame) => {
          publishSegment(host, 'in', frame);
          try {
            cb(frame);
          } finally {
            outer.kick();
          }
        });
      },
    };
  }

  setTimer(at: Instant, fn: () => void): DriverTimer {
    if (typeof fn !== 'function') throw new TypeError('fn must be a function');
    if (Number.isNaN(at)) throw new RangeError('at must be a number (µs)');
    const t = new Timer(at, fn, this.timers, () => this.kick());
    this.timers.push(t, at);
    this.kick();
    return t;
  }

  /** Run `fn` after `delay` µs. */
  after(delay: Duration, fn: () => void): DriverTimer {
    return this.setTimer(this.clock() + Math.max(0, delay), fn);
  }

  /** Earliest deadline of every stack and timer (NEVER when idle). */
  nextDeadline(): Instant {
    let d = this.timers.peekKey();
    for (const s of this.stacks) {
      const sd = s.nextDeadline();
      if (sd < d) d = sd;
    }
    return d;
  }

  /**
   * Re-arm the one real timer for the earliest deadline. Cheap when nothing moved earlier: a
   * timer armed too early just re-arms itself when it fires.
   */
  kick(): void {
    if (this.closed || this.running) return;
    const d = this.nextDeadline();
    if (d === NEVER) {
      this.disarm();
      return;
    }
    if (this.handle !== null && this.armedFor <= d) return;
    this.disarm();
    const delayMs = Math.max(0, Math.ceil((d - this.clock()) / 1000));
    this.armedFor = d;
    // setTimeout's maximum delay is 2^31-1 ms; longer deadlines fire early and re-arm.
    this.handle = setTimeout(() => this.fire(), Math.min(delayMs, 0x7fffffff));
    if (!this.ref) this.handle.unref();
  }

  /** Run everything due now (what the timer does); exposed for tests and for links that poll. */
  poll(): void {
    if (this.running) return;
    this.running = true;
    try {
      const now = this.clock();
      for (const s of this.stacks) if (s.nextDeadline() <= now) s.onTimer(now);
      for (let guard = 0; guard < 100_000 && this.timers.peekKey() <= now; guard++) {
        const t = this.timers.pop()!;
        t.fn();
      }
    } finally {
      this.running = false;
      this.kick();
    }
  }

  /** Stop: clear the real timer; stacks and timers are left as they are. */
  close(): void {
    this.disarm();
    this.closed = true;
  }

  private fire(): void {
    this.handle = null;
    this.armedFor = NEVER;
    this.poll();
  }

  private disarm(): void {
    if (this.handle !== null) clearTimeout(this.handle);
    this.handle = null;
    this.armedFor = NEVER;
  }
}

