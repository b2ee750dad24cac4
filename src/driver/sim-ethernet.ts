/**
 * A simulated Ethernet segment: a learning switch (IEEE 802.1D transparent bridging) on virtual
 * time, and hosts that sit on it with a MAC, an EthernetInterface (ARP/NDP) and a Stack. So
 * address resolution, its queueing, retries, failures and expiry are tested on virtual time,
 * like TCP is on SimNetwork.
 *
 * The switch learns the source MAC of every frame on the port it came from (entries age out
 * after `ageing`, 300 s as in 802.1D and Linux's bridge), forwards known unicast to that one
 * port, and floods broadcast, multicast and unknown unicast to every other port. Each port has
 * SimNetwork-style impairments on its way out (delay, loss, scripted drops), drawn from one Rng
 * forked from the simulator's, so runs are deterministic. The MAC table is bounded; when it is
 * full, new addresses are not learned (their frames are flooded), as a switch's CAM does.
 */
import { EthernetInterface, type EthernetOptions } from '../link/ethernet.js';
import type { Link } from '../link/link.js';
import type { NeighConfig } from '../link/neighbor.js';
import type { Rng } from '../rng.js';
import { Stack, type StackOptions } from '../stack/stack.js';
import type { Duration, Instant } from '../time.js';
import { ETH_HEADER_LEN, formatMac, isGroupMac } from '../wire/ethernet.js';
import type { DriverTimer } from './node.js';
import type { Simulator } from './sim.js';
import type { SimWorld } from './world.js';

/** One switch port's impairments (delay, loss …). */
export interface SwitchPortConfig {
  /** One-way delay from the switch to the host, µs. */
  delay: Duration;
  /** Probability a frame leaving this port is lost. */
  loss: number;
  /** Largest Ethernet payload the port carries (frames are up to mtu + 14 bytes). */
  mtu: number;
}

/** A frame the simulated switch carried, and to which ports. */
export interface SwitchFrameEvent {
  t: Instant;
  /** Port the frame came in on. */
  from: string;
  /** Port it leaves on. */
  to: string;
  frame: Uint8Array;
  dropped: boolean;
  reason?: 'loss' | 'scripted' | 'too-big' | 'runt' | 'detached';
}

interface Port {
  readonly name: string;
  cfg: SwitchPortConfig;
  readonly receivers: ((frame: Uint8Array) => void)[];
  attached: boolean;
}

const DEFAULT_PORT: SwitchPortConfig = { delay: 50, loss: 0, mtu: 1500 };

/** A learning Ethernet switch on virtual time: forwards unicast to the learnt port, floods the rest, ages entries out. */
export class SimSwitch {
  private readonly rng: Rng;
  private readonly ports = new Map<string, Port>();
  private readonly table = new Map<string, { port: Port; seen: Instant }>();
  private readonly rules: { pred: (frame: Uint8Array, from: string, to: string) => boolean; left: number }[] = [];
  private readonly taps: ((ev: SwitchFrameEvent) => void)[] = [];
  /** Frames the switch itself discarded (runts, frames from detached ports). */
  readonly stats = { forwarded: 0, flooded: 0, dropped: 0, learned: 0, tableFull: 0 };

  constructor(
    private readonly sim: Simulator,
    readonly opts: { ageing?: Duration; maxEntries?: number; port?: Partial<SwitchPortConfig> } = {},
  ) {
    this.rng = sim.rng.fork();
  }

  /** Plug a host in: returns its frame link (Ethernet frames, mtu = the port's payload MTU). */
  attach(name: string, cfg: Partial<SwitchPortConfig> = {}): Link {
    if (this.ports.get(name)?.attached) throw new Error(`switch port ${name} is already attached`);
    const c = { ...DEFAULT_PORT, ...this.opts.port, ...cfg };
    if (!(c.loss >= 0 && c.loss <= 1)) throw new RangeError(`loss must be a probability in [0, 1], got ${c.loss}`);
    if (!(c.delay >= 0)) throw new RangeError(`delay must be >= 0 µs, got ${c.delay}`);
    if (!(Number.isInteger(c.mtu) && c.mtu >= 68)) throw new RangeError(`mtu must be an integer >= 68, got ${c.mtu}`);
    const port: Port = { name, cfg: c, receivers: [], attached: true };
    this.ports.set(name, port);
    return {
      mtu: c.mtu,
      checksumOffload: false,
      send: (frame: Uint8Array) => this.input(port, frame),
      onReceive: (cb) => {
        port.receivers.push(cb);
      },
    };
  }

  /** Unplug a host: frames to and from it are dropped ('detached'). */
  detach(name: string): void {
    const p = this.ports.get(name);
    if (!p) throw new Error(`unknown switch port ${name}`);
    p.attached = false;
  }

  /** Change a port's impairments. */
  setPort(name: string, cfg: Partial<SwitchPortConfig>): void {
    const p = this.ports.get(name);
    if (!p) throw new Error(`unknown switch port ${name}`);
    p.cfg = { ...p.cfg, ...cfg };
  }

  /** Drop the next `count` frames matching `pred` on their way out of a port. */
  dropNext(pred: (frame: Uint8Array, from: string, to: string) => boolean, count = 1): void {
    if (!Number.isInteger(count) || count < 1) throw new RangeError(`count must be a positive integer, got ${count}`);
    this.rules.push({ pred, left: count });
  }

  /** Watch every frame the switch carries; returns the unsubscribe function. */
  onFrame(cb: (ev: SwitchFrameEvent) => void): () => void {
    this.taps.push(cb);
    return () => {
      const i = this.taps.indexOf(cb);
      if (i >= 0) this.taps.splice(i, 1);
    };
  }

  /** The learned MAC table: MAC → port (like `bridge fdb show`). */
  fdb(): { mac: string; port: string; ageUs: Duration }[] {
    const now = this.sim.now;
    return [...this.table].map(([mac, e]) => ({ mac, port: e.port.name, ageUs: now - e.seen }));
  }

  private input(from: Port, frame: Uint8Array): void {
    if (!from.attached || frame.length < ETH_HEADER_LEN) {
      this.stats.dropped++;
      return;
    }
    const now = this.sim.now;
    const ageing = this.opts.ageing ?? 300_000_000;
    const src = formatMac(frame, 6);
    if (!isGroupMac(frame, 6)) {
      const known = this.table.get(src);
      if (known !== undefined || this.table.size < (this.opts.maxEntries ?? 8192)) {
        if (known === undefined) this.stats.learned++;
        this.table.set(src, { port: from, seen: now });
      } else {
        this.stats.tableFull++;
      }
    }
    if (!isGroupMac(frame, 0)) {
      const e = this.table.get(formatMac(frame, 0));
      if (e !== undefined && now - e.seen <= ageing) {
        if (e.port !== from) this.forward(from, e.port, frame);
        this.stats.forwarded++;
        return;
      }
    }
    this.stats.flooded++;
    for (const p of this.ports.values()) if (p !== from) this.forward(from, p, frame);
  }

  private forward(from: Port, to: Port, frame: Uint8Array): void {
    const now = this.sim.now;
    const ev = (dropped: boolean, reason?: SwitchFrameEvent['reason']): void => {
      for (const t of this.taps) t({ t: now, from: from.name, to: to.name, frame, dropped, reason });
    };
    if (!to.attached) return ev(true, 'detached');
    if (frame.length > to.cfg.mtu + ETH_HEADER_LEN) return ev(true, 'too-big');
    for (let i = 0; i < this.rules.length; i++) {
      const r = this.rules[i]!;
      if (r.pred(frame, from.name, to.name)) {
        if (--r.left === 0) this.rules.splice(i, 1);
        return ev(true, 'scripted');
      }
    }
    if (to.cfg.loss > 0 && this.rng.chance(to.cfg.loss)) return ev(true, 'loss');
    ev(false);
    // A flooded frame is shared by every port: receivers only read it during their callback
    // (the Link contract), and the sender gave up ownership when it sent it.
    this.sim.schedule(now + to.cfg.delay, () => {
      if (!to.attached) return;
      for (const r of to.receivers) r(frame);
    });
  }
}

/** A host on a SimSwitch: its stack and its Ethernet interface. */
export interface EthernetHost {
  stack: Stack;
  eth: EthernetInterface;
}

/** Driver timers on a Simulator (what EthernetInterface needs). */
export function simTimers(sim: Simulator): {
  /** Virtual time now, µs. */
  now(): Instant;
  /** Run `fn` at virtual time `at`. */
  setTimer(at: Instant, fn: () => void): DriverTimer;
} {
  return {
    now: () => sim.now,
    setTimer(at: Instant, fn: () => void): DriverTimer {
      const ev = sim.schedule(Math.max(at, sim.now), fn);
      return {
        get pending() {
          return ev.pending;
        },
        cancel: () => sim.cancel(ev),
      };
    },
  };
}

/**
 * Add a host to `world` on switch `sw`: a Stack owning the interface's addresses (link-local
 * included), attached through an EthernetInterface with `mac`. Registered in `world.hosts`.
 */
export function addEthernetHost(
  world: SimWorld,
  sw: SimSwitch,
  name: string,
  opts: { mac: string; addresses: string[]; gateway?: string | string[]; port?: Partial<SwitchPortConfig>; neigh?: Partial<NeighConfig>; linkLocal?: boolean } &
    Omit<StackOptions, 'addresses' | 'clock' | 'name'>,
): EthernetHost {
  if (world.hosts.has(name)) throw new Error(`host '${name}' already exists`);
  const { mac, addresses, gateway, port, neigh, linkLocal, ...stackOpts } = opts;
  const ethOpts: EthernetOptions = { mac, addresses, gateway, neigh, linkLocal, timers: simTimers(world.sim), rng: world.sim.rng.fork() };
  const eth = new EthernetInterface(sw.attach(name, port), ethOpts);
  // The stack routes with the interface's prefixes and gateways and hands each frame its next
  // hop; the Ethernet interface resolves it (ARP/NDP).
  const stack = new Stack({
    ...stackOpts, name, addresses: eth.addresses().map((a) => `${a.address}/${a.prefix}`),
    ...(gateway !== undefined ? { gateway } : {}),
    clock: () => world.sim.now, seed: stackOpts.seed ?? world.sim.rng.u32(),
  });
  stack.attach(eth.link);
  world.sim.addTimerClient(stack);
  world.hosts.set(name, stack);
  return { stack, eth };
}
