/**
 * The virtual-time event-loop shell the net API (src/net/) runs on (DESIGN.md: driver/ layer),
 * and the `Driver` interface it shares with the real-time `NodeDriver` (driver/node-driver.ts):
 *
 *  - `SimDriver`: the Driver interface on a `SimWorld`'s virtual time. Nothing runs by itself:
 *    the user advances time with `world.run()` or, when stream/`process.nextTick`/promise work
 *    has to interleave with the network (Node streams, node:http, ws, web streams), with
 *    `await driver.run(...)`.
 *  - `NodeDriver` (driver/node-driver.ts, Node only: it publishes on node:diagnostics_channel):
 *    real time.
 *
 * This file imports nothing from Node, so the package root (and a browser bundle) can use it.
 * The net API only uses the `Driver` interface, so the same application code runs on either.
 */
import { NEVER, type Duration, type Instant } from '../time.js';
import type { SimWorld } from './world.js';
import { realSetImmediate, VirtualClock, type VirtualClockOptions } from './virtual-clock.js';

/** A one-shot timer handle from `Driver.setTimer`. */
export interface DriverTimer {
  /** True while the timer is armed (not fired, not cancelled). */
  readonly pending: boolean;
  /** Disarm the timer (nothing happens if it already fired). */
  cancel(): void;
}

/** What the net layer needs from an event-loop shell. */
export interface Driver {
  /** The driver's clock, microseconds. */
  now(): Instant;
  /** Something may have changed a stack's deadlines (a user call): re-arm the real timer. */
  kick(): void;
  /** Run `fn` once at `at` (µs on the driver's clock); an instant in the past runs as soon as possible. */
  setTimer(at: Instant, fn: () => void): DriverTimer;
}

/**
 * The Driver interface on a SimWorld's virtual time. Stacks made by `world.addHost` are already
 * driven by the world's Simulator, so `kick()` has nothing to do.
 *
 * Node streams (and node:http, ws) do part of their work in `process.nextTick` and promise
 * callbacks, which a synchronous `world.run()` never lets run. `await driver.run(...)` advances
 * virtual time one instant at a time and yields to Node's event loop between instants, so
 * application code interleaves with the network deterministically.
 */
export class SimDriver implements Driver {
  constructor(readonly world: SimWorld) {}

  now(): Instant {
    return this.world.sim.now;
  }

  kick(): void {}

  setTimer(at: Instant, fn: () => void): DriverTimer {
    const sim = this.world.sim;
    const ev = sim.schedule(Math.max(at, sim.now), fn);
    return {
      get pending() {
        return ev.pending;
      },
      cancel: () => sim.cancel(ev),
    };
  }

  /**
   * Advance virtual time, yielding to the event loop (setImmediate: every nextTick and microtask
   * runs) before each instant. Stops when `until` (µs, absolute) is reached, when `done()`
   * returns true (checked after every yield), or when nothing but housekeeping is left: no
   * simulator work (Simulator.hasWork) and no application work scheduled during the last yield.
   * `maxInstants` bounds the instants.
   *
   * `virtualClock: true` (or its options) routes the application's setTimeout, setInterval,
   * setImmediate, Date and performance.now through the simulator while this runs (see
   * virtual-clock.ts), so the application's own timers are virtual time too.
   */
  async run(opts: SimRunOptions = {}): Promise<void> {
    const clock = opts.virtualClock ? this.virtualClock(opts.virtualClock === true ? {} : opts.virtualClock) : null;
    clock?.install();
    try {
      await this.advance(opts.until ?? NEVER, opts.done, opts.maxInstants ?? 10_000_000);
    } finally {
      clock?.uninstall();
    }
  }

  private clock: VirtualClock | null = null;

  /** This driver's application clock (made on first use; options apply then). */
  virtualClock(opts: VirtualClockOptions = {}): VirtualClock {
    this.clock ??= new VirtualClock(this.world.sim, opts);
    return this.clock;
  }

  private async advance(until: Instant, done: (() => boolean) | undefined, max: number): Promise<void> {
    const sim = this.world.sim;
    const idle = (): boolean => {
      const t = sim.nextTime();
      return t === NEVER || t > until || (until === NEVER && !sim.hasWork());
    };
    for (let i = 0; i < max; i++) {
      await yieldToLoop();
      if (done?.()) return;
      if (idle()) {
        // One more yield: application work (a nextTick write) may create simulator work.
        await yieldToLoop();
        if (done?.()) return;
        if (idle()) {
          if (until !== NEVER && sim.now < until) sim.run({ until });
          return;
        }
        continue;
      }
      sim.run({ until: sim.nextTime() });
    }
    throw new Error(`SimDriver.run: still busy after ${max} instants`);
  }

  /** `run` for `d` µs of virtual time from now. */
  runFor(d: Duration): Promise<void> {
    return this.run({ until: this.now() + d });
  }

  /** `run` until `cond()` holds; rejects if virtual time reaches `timeout` µs from now first. */
  async until(cond: () => boolean, timeout: Duration = 600_000_000): Promise<void> {
    const limit = this.now() + timeout;
    await this.run({ until: limit, done: cond });
    if (!cond()) throw new Error(`SimDriver.until: condition still false at t=${this.now()} µs`);
  }
}

/** Options of `SimDriver.run`. */
export interface SimRunOptions {
  /** Stop at this virtual instant (µs, absolute). */
  until?: Instant;
  /** Stop as soon as this returns true (checked after every yield to the event loop). */
  done?: () => boolean;
  /** Give up (throw) after this many instants; default 1e7. */
  maxInstants?: number;
  /** Route the application's timers, Date and performance.now through the simulator while running. */
  virtualClock?: boolean | VirtualClockOptions;
}

/**
 * Resolve after every pending nextTick, microtask and promise callback has run: the real
 * setImmediate in Node (while a VirtualClock is installed the global one is virtual); in a
 * browser (no setImmediate) a MessageChannel message, which is a task like it and, unlike
 * setTimeout(0), is not clamped to 4 ms when nested.
 */
function yieldToLoop(): Promise<void> {
  const immediate = realSetImmediate;
  if (immediate !== undefined) return new Promise((resolve) => immediate(resolve));
  return new Promise((resolve) => {
    const ch = new MessageChannel();
    ch.port1.onmessage = () => {
      ch.port1.close();
      resolve();
    };
    ch.port2.postMessage(null);
  });
}
