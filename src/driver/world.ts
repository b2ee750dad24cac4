import { Stack, type StackEvent, type StackOptions } from '../stack/stack.js';
import type { Instant } from '../time.js';
import { SimNetwork, type FrameEvent, type PathConfig } from './sim-network.js';
import { Simulator } from './sim.js';

/**
 * A simulated world: one Simulator, one SimNetwork, any number of hosts each running a Stack on
 * virtual time. Scenarios, tests and the viz build on this.
 */
export class SimWorld {
  readonly sim: Simulator;
  readonly net: SimNetwork;
  readonly hosts = new Map<string, Stack>();
  readonly seed: number;

  constructor(opts: { seed?: number; path?: Partial<PathConfig> } = {}) {
    this.seed = opts.seed ?? 1;
    this.sim = new Simulator({ seed: this.seed });
    this.net = new SimNetwork(this.sim, opts.path);
  }

  get now(): Instant {
    return this.sim.now;
  }

  /** Add a host with its addresses; returns its stack. */
  addHost(name: string, addresses: string[], opts: Omit<StackOptions, 'addresses' | 'clock' | 'name'> & { mtu?: number } = {}): Stack {
    if (this.hosts.has(name)) throw new Error(`host '${name}' already exists`);
    const { mtu, ...stackOpts } = opts;
    const stack = new Stack({ ...stackOpts, name, addresses, clock: () => this.sim.now, seed: stackOpts.seed ?? this.sim.rng.u32() });
    stack.attach(this.net.attach(name, addresses, mtu !== undefined ? { mtu } : {}));
    this.sim.addTimerClient(stack);
    this.hosts.set(name, stack);
    return stack;
  }

  /** The stack of host `name`; throws if there is none. */
  host(name: string): Stack {
    const h = this.hosts.get(name);
    if (!h) throw new Error(`no host '${name}'`);
    return h;
  }

  /** Run an action at virtual time `at` (absolute µs). */
  at(at: Instant, fn: () => void): void {
    this.sim.schedule(at, fn);
  }

  /** Run virtual time synchronously until nothing is left to do (or until `until`, µs). Promise-based code (web streams, Node streams) needs `await new SimDriver(world).run()` instead. */
  run(until?: Instant): void {
    this.sim.run(until !== undefined ? { until } : {});
  }

  /** Watch every frame the simulated network carries (and what became of it); returns the unsubscribe function. */
  onFrame(cb: (ev: FrameEvent) => void): () => void {
    return this.net.onFrame(cb);
  }

  /** Observe every host's stack events. */
  observe(cb: (host: string, ev: StackEvent) => void): void {
    for (const [name, s] of this.hosts) s.observe((ev) => cb(name, ev));
  }
}
