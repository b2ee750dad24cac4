/**
 * The application's clock on virtual time (opt-in): while installed, the globals `setTimeout`,
 * `setInterval`, `setImmediate` (and their `clear*`), `Date` and `performance.now()`, the same
 * functions of `node:timers`, and `setTimeout`/`setImmediate` of `node:timers/promises`, read and
 * schedule on a Simulator instead of the wall clock.
 * An application's retry timer, node:http's keep-alive timers and its `Date` header then run on
 * virtual time, so `run()` cannot jump past them and the same seed gives the same bytes.
 *
 * What stays real: `process.nextTick`, promises and `queueMicrotask` (they are not time, they
 * are ordering: they run between simulator instants), `process.hrtime`, the async iterator of
 * `node:timers/promises`' `setInterval`, and timers Node's own
 * modules captured before installation (node:http's 30 s connection-check interval). node:http's
 * `Date` header is cached inside Node from the real clock; while installed, every response
 * node:http starts gets a `Date` header from the virtual clock instead (set before the
 * application's handler runs, so the handler may still replace or remove it).
 *
 * Timers follow Node's rules: a delay that is not a number in [1, 2^31-1] ms becomes 1 ms;
 * an `unref()`ed timer runs when time passes it but keeps no `run()` alive (Simulator
 * housekeeping); timers are objects with `ref`, `unref`, `hasRef`, `refresh`, `close` and a
 * numeric primitive that `clearTimeout` also accepts.
 */
import { nodeError } from '../errors.js';
import type { SimEvent, Simulator } from './sim.js';

/**
 * Node's modules the clock also patches, looked up at run time (process.getBuiltinModule, Node
 * 20.16+) rather than imported: this file is part of the package root, which a browser bundle
 * takes whole and where no `node:` module exists. In a browser only the globals become virtual.
 */
const node = ((): {
  dc: typeof import('node:diagnostics_channel');
  module: typeof import('node:module');
  timers: typeof import('node:timers');
  timersPromises: typeof import('node:timers/promises');
} | null => {
  const proc = (globalThis as { process?: { getBuiltinModule?: (id: string) => unknown } }).process;
  if (typeof proc?.getBuiltinModule !== 'function') return null;
  const get = (id: string): unknown => proc.getBuiltinModule!(id);
  return {
    dc: get('node:diagnostics_channel') as typeof import('node:diagnostics_channel'),
    module: get('node:module') as typeof import('node:module'),
    timers: get('node:timers') as typeof import('node:timers'),
    timersPromises: get('node:timers/promises') as typeof import('node:timers/promises'),
  };
})();

/** The two functions of node:timers/promises the clock replaces. */
type NodePromiseTimers = Pick<typeof import('node:timers/promises'), 'setTimeout' | 'setImmediate'>;

/** The real functions, captured when this module loads (before any installation). */
const real = {
  setTimeout: globalThis.setTimeout,
  clearTimeout: globalThis.clearTimeout,
  setInterval: globalThis.setInterval,
  clearInterval: globalThis.clearInterval,
  setImmediate: globalThis.setImmediate,
  clearImmediate: globalThis.clearImmediate,
  Date: globalThis.Date,
  performanceNow: Object.getOwnPropertyDescriptor(globalThis.performance, 'now'),
  promises: node === null ? null : { setTimeout: node.timersPromises.setTimeout, setImmediate: node.timersPromises.setImmediate },
};

/** The real `setImmediate`: the simulator's drivers yield to Node's event loop with it. */
export const realSetImmediate: ((fn: () => void) => unknown) | undefined = real.setImmediate;

const TIMEOUT_MAX = 2 ** 31 - 1;

/** Virtual time 0 on the application's calendar: 2000-01-01T00:00:00Z. */
export const DEFAULT_EPOCH_MS = 946_684_800_000;

/** Where a VirtualClock's calendar starts. */
export interface VirtualClockOptions {
  /** What `Date.now()` says at virtual time 0, ms since 1970. Default 2000-01-01T00:00:00Z. */
  epochMs?: number;
}

let nextId = 1;

/** The clock whose functions the globals hold now, if any (one per process: they are globals). */
let active: VirtualClock | null = null;

/** A timer on virtual time, shaped like Node's Timeout (and Immediate). */
export class VirtualTimer {
  private ev: SimEvent | null = null;
  private refed = true;
  private closed = false;
  private readonly id = nextId++;
  /** @internal */
  constructor(
    private readonly clock: VirtualClock,
    private readonly fn: () => void,
    /** Delay in ms; null for an immediate. */
    private readonly delayMs: number | null,
    private readonly repeat: boolean,
  ) {
    this.arm();
  }

  private arm(): void {
    const sim = this.clock.sim;
    const at = sim.now + (this.delayMs === null ? 0 : this.delayMs * 1000);
    this.ev = sim.schedule(at, () => this.fire(), { ref: this.refed });
    this.clock.live.set(this.id, this);
  }

  private fire(): void {
    this.ev = null;
    if (this.repeat) this.arm();
    else this.clock.live.delete(this.id);
    this.fn();
  }

  /** Node: true while the timer keeps the event loop (here: `run()`) alive. */
  hasRef(): boolean {
    return this.refed;
  }
  /** Let this timer keep `run()` going (the default), as Node's `ref()`. */
  ref(): this {
    return this.setRef(true);
  }
  /** Housekeeping: the timer runs when time passes it but keeps no `run()` going, as Node's `unref()`. */
  unref(): this {
    return this.setRef(false);
  }
  private setRef(on: boolean): this {
    if (this.refed === on) return this;
    this.refed = on;
    if (this.ev?.pending) {
      // A simulator event's ref is fixed: re-queue it at the same instant with the new one.
      const at = this.ev.at;
      this.clock.sim.cancel(this.ev);
      this.ev = this.clock.sim.schedule(Math.max(at, this.clock.sim.now), () => this.fire(), { ref: on });
    }
    return this;
  }
  /** Node: restart the countdown from now with the same delay (re-arming a timer that already fired). */
  refresh(): this {
    if (this.closed || this.delayMs === null) return this;
    if (this.ev !== null) this.clock.sim.cancel(this.ev);
    this.arm();
    return this;
  }
  /** Cancel the timer (what `clearTimeout` does). */
  close(): this {
    this.closed = true;
    if (this.ev !== null) this.clock.sim.cancel(this.ev);
    this.ev = null;
    this.clock.live.delete(this.id);
    return this;
  }

  /** The timer's id, which `clearTimeout` also accepts (as Node's timers). */
  [Symbol.toPrimitive](): number {
    return this.id;
  }
}

// `using t = setTimeout(…)` cancels at the end of the scope, as Node's timers. Set on the
// prototype, not declared in the class, so the root's types need no esnext.disposable lib.
if (typeof Symbol.dispose === 'symbol') {
  Object.defineProperty(VirtualTimer.prototype, Symbol.dispose, {
    value(this: VirtualTimer): void {
      this.close();
    },
    configurable: true,
    writable: true,
  });
}

/**
 * Routes the application's clock through `sim` while installed. `install()` nests (a count),
 * so a driver's `run({ virtualClock: true })` inside another one is harmless.
 */
export class VirtualClock {
  /** @internal Pending timers by id, so `clearTimeout(id)` works with the primitive too. */
  readonly live = new Map<number, VirtualTimer>();
  private installs = 0;
  private readonly epochMs: number;
  private readonly onRequest = (msg: unknown): void => this.stampDate(msg);

  constructor(
    readonly sim: Simulator,
    opts: VirtualClockOptions = {},
  ) {
    const epoch = opts.epochMs ?? DEFAULT_EPOCH_MS;
    if (!Number.isFinite(epoch)) throw new RangeError(`options.epochMs must be a finite number of ms, got ${epoch}`);
    this.epochMs = epoch;
  }

  /** Milliseconds since 1970 on the virtual calendar (what `Date.now()` returns). */
  nowMs(): number {
    return this.epochMs + Math.floor(this.sim.now / 1000);
  }

  /** True while the globals are this clock's. */
  get installed(): boolean {
    return this.installs > 0;
  }

  /** Route the globals (and Node's timer modules) through the simulator; nests. */
  install(): void {
    if (this.installs > 0) {
      this.installs++;
      return;
    }
    if (active !== null) throw new Error('another VirtualClock is installed: uninstall it first (one application clock per process)');
    this.installs = 1;
    active = this;
    const fns = this.functions();
    Object.assign(globalThis, fns, { Date: this.dateClass() });
    if (node !== null) {
      Object.assign(node.timers, fns);
      Object.assign(node.timersPromises, this.promiseFunctions());
      node.module.syncBuiltinESMExports();
      node.dc.subscribe('http.server.request.start', this.onRequest);
    }
    const sim = this.sim;
    Object.defineProperty(globalThis.performance, 'now', { value: () => sim.now / 1000, configurable: true, writable: true });
  }

  /** Undo one `install()`; the real clock is back after the last. */
  uninstall(): void {
    if (this.installs === 0 || --this.installs > 0) return;
    active = null;
    const fns = {
      setTimeout: real.setTimeout,
      clearTimeout: real.clearTimeout,
      setInterval: real.setInterval,
      clearInterval: real.clearInterval,
      setImmediate: real.setImmediate,
      clearImmediate: real.clearImmediate,
    };
    Object.assign(globalThis, fns, { Date: real.Date });
    if (node !== null) {
      Object.assign(node.timers, fns);
      Object.assign(node.timersPromises, real.promises);
      node.module.syncBuiltinESMExports();
      node.dc.unsubscribe('http.server.request.start', this.onRequest);
    }
    if (real.performanceNow !== undefined) Object.defineProperty(globalThis.performance, 'now', real.performanceNow);
    else delete (globalThis.performance as { now?: unknown }).now;
  }

  /**
   * The replacements for the globals. The cast: a VirtualTimer has the members of Node's Timeout
   * that code uses (ref, unref, hasRef, refresh, close, the primitive) but not its internals.
   */
  private functions() {
    const clear = (t: unknown): void => {
      if (t instanceof VirtualTimer) t.close();
      else if (typeof t === 'number' || typeof t === 'string') this.live.get(Number(t))?.close();
    };
    return {
      setTimeout: (fn: (...a: unknown[]) => void, ms?: number, ...args: unknown[]) => this.timer(fn, ms, args, false),
      setInterval: (fn: (...a: unknown[]) => void, ms?: number, ...args: unknown[]) => this.timer(fn, ms, args, true),
      setImmediate: (fn: (...a: unknown[]) => void, ...args: unknown[]) => new VirtualTimer(this, () => fn(...args), null, false),
      clearTimeout: clear,
      clearInterval: clear,
      clearImmediate: clear,
    } as unknown as Pick<typeof globalThis, 'setTimeout' | 'setInterval' | 'setImmediate' | 'clearTimeout' | 'clearInterval' | 'clearImmediate'>;
  }

  /** `node:timers/promises`: a promise settled by a virtual timer; an AbortSignal cancels it as Node's does. */
  private promiseFunctions(): NodePromiseTimers {
    const wait = <T>(delayMs: number | null, value: T, opts: { signal?: AbortSignal; ref?: boolean } = {}): Promise<T> => {
      const { signal } = opts;
      if (signal?.aborted) return Promise.reject(abortError(signal));
      return new Promise<T>((resolve, reject) => {
        const onAbort = (): void => {
          t.close();
          reject(abortError(signal!));
        };
        let d = delayMs;
        if (d !== null && !(d >= 1 && d <= TIMEOUT_MAX)) d = 1;
        const t = new VirtualTimer(this, () => {
          signal?.removeEventListener('abort', onAbort);
          resolve(value);
        }, d, false);
        if (opts.ref === false) t.unref();
        signal?.addEventListener('abort', onAbort, { once: true });
      });
    };
    return {
      setTimeout: ((delay?: number, value?: unknown, opts?: { signal?: AbortSignal; ref?: boolean }) => wait(Number(delay), value, opts)) as NodePromiseTimers['setTimeout'],
      setImmediate: ((value?: unknown, opts?: { signal?: AbortSignal; ref?: boolean }) => wait(null, value, opts)) as NodePromiseTimers['setImmediate'],
    };
  }

  private timer(fn: (...a: unknown[]) => void, ms: number | undefined, args: unknown[], repeat: boolean): VirtualTimer {
    if (typeof fn !== 'function') {
      throw nodeError(TypeError, 'ERR_INVALID_ARG_TYPE', `The "callback" argument must be of type function. Received ${typeof fn}`);
    }
    // Node lib/internal/timers.js: a delay outside [1, TIMEOUT_MAX] (or not a number) is 1 ms.
    let d = Number(ms);
    if (!(d >= 1 && d <= TIMEOUT_MAX)) d = 1;
    return new VirtualTimer(this, () => fn(...args), d, repeat);
  }

  /** `Date` reading the virtual clock when asked for "now"; any explicit date passes through. */
  private dateClass(): DateConstructor {
    const nowMs = (): number => this.nowMs();
    const RealDate = real.Date;
    return new Proxy(RealDate, {
      construct: (target, args: unknown[], newTarget) => Reflect.construct(target, args.length === 0 ? [nowMs()] : args, newTarget) as object,
      apply: () => new RealDate(nowMs()).toString(),
      get: (target, p, receiver) => (p === 'now' ? nowMs : Reflect.get(target, p, receiver)),
    });
  }

  /** node:http: a response started while installed carries the virtual clock's Date header. */
  private stampDate(msg: unknown): void {
    const res = (msg as { response?: { sendDate?: boolean; setHeader?: (k: string, v: string) => void; headersSent?: boolean } }).response;
    if (res?.sendDate && !res.headersSent && typeof res.setHeader === 'function') {
      res.setHeader('Date', new real.Date(this.nowMs()).toUTCString());
    }
  }
}

/** Node's AbortError for an aborted timer promise (code ABORT_ERR, the signal's reason as cause). */
function abortError(signal: AbortSignal): Error {
  const err = nodeError(Error, 'ABORT_ERR', 'The operation was aborted');
  err.name = 'AbortError';
  (err as Error & { cause?: unknown }).cause = signal.reason;
  return err;
}

