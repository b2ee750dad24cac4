/**
 * The neighbour cache shared by ARP (RFC 826) and NDP (RFC 4861 §7.3): IP address → MAC, with
 * Linux's NUD state machine and timing (net/core/neighbour.c), so what a kernel peer sees from
 * synack matches what it would see from Linux:
 *
 *   (none) --send--> INCOMPLETE --reply--> REACHABLE --reachable_time--> STALE --send--> DELAY
 *   INCOMPLETE --3 solicitations, 1 s apart--> FAILED (queued packets dropped, onUnreachable)
 *   DELAY --5 s, no confirmation--> PROBE --3 unicast probes--> FAILED;  any confirmation --> REACHABLE
 *
 * Every entry owns at most one timer (like Linux's neigh->timer) and a bounded queue of packets
 * waiting for resolution; the table itself is bounded (gc_thresh3). Family-agnostic: the
 * Ethernet adapter supplies how to solicit and how to transmit.
 */
import type { Rng } from '../rng.js';
import type { Duration, Instant } from '../time.js';

/** Linux's NUD states (include/uapi/linux/neighbour.h), spelled as `ip neigh` prints them. */
export type NudState = 'INCOMPLETE' | 'REACHABLE' | 'STALE' | 'DELAY' | 'PROBE' | 'FAILED' | 'PERMANENT';

/** Neighbour-cache timing and bounds, named and defaulted as Linux's neigh sysctls. */
export interface NeighConfig {
  /** LINUX: base_reachable_time_ms 30 s; each table draws reachable_time in [0.5, 1.5) × this. */
  baseReachableTime: Duration;
  /** LINUX: retrans_time_ms 1 s between solicitations (RFC 4861 §10 RETRANS_TIMER). */
  retransTime: Duration;
  /** LINUX: delay_first_probe_time 5 s in DELAY before unicast probing (RFC 4861 DELAY_FIRST_PROBE_TIME). */
  delayFirstProbeTime: Duration;
  /** LINUX: mcast_solicit 3 broadcast/multicast solicitations while INCOMPLETE (MAX_MULTICAST_SOLICIT). */
  mcastSolicit: number;
  /** LINUX: ucast_solicit 3 unicast probes in PROBE (MAX_UNICAST_SOLICIT). */
  ucastSolicit: number;
  /** LINUX: unres_qlen_bytes (SK_WMEM_MAX, 212992): bytes queued per entry while resolving; the oldest go first. */
  unresQlenBytes: number;
  /** LINUX: gc_thresh3 1024: the table never holds more entries than this. */
  maxEntries: number;
  /** LINUX: arp locktime 1 s: an ARP answer within this of the last update does not replace the MAC. */
  lockTime: Duration;
}

/** Linux's defaults for the neighbour cache (net.ipv4.neigh.default.*). */
export const DEFAULT_NEIGH_CONFIG: Readonly<NeighConfig> = Object.freeze({
  baseReachableTime: 30_000_000,
  retransTime: 1_000_000,
  delayFirstProbeTime: 5_000_000,
  mcastSolicit: 3,
  ucastSolicit: 3,
  unresQlenBytes: 212_992,
  maxEntries: 1024,
  lockTime: 1_000_000,
});

/** What the table needs from a driver: a clock and one-shot timers (NodeDriver/SimDriver fit). */
export interface Timers {
  /** The clock, µs. */
  now(): Instant;
  /** Run `fn` once at `at` (µs). */
  setTimer(
    at: Instant,
    fn: () => void,
  ): {
    /** True while armed. */
    readonly pending: boolean;
    /** Disarm. */
    cancel(): void;
  };
}

/** One row of `ip neigh`. */
export interface NeighborView {
  address: string;
  lladdr: string | null;
  state: NudState;
  /** Probes sent in the current INCOMPLETE/PROBE round. */
  probes: number;
  /** Packets waiting for resolution. */
  queued: number;
  /** µs since the entry was last confirmed / used / updated (`ip -s neigh`'s used/confirmed/updated). */
  confirmedAgo: Duration;
  usedAgo: Duration;
  updatedAgo: Duration;
}

/** LINUX: /proc/net/stat/arp_cache and ndisc_cache columns we keep. */
export interface NeighStats {
  allocs: number;
  destroys: number;
  /** Resolutions that ended FAILED (res_failed). */
  resFailed: number;
  /** Packets dropped from a full resolution queue or a failed resolution (unresolved_discards). */
  unresDiscards: number;
  /** New entries refused because the table was full of entries that could not be evicted. */
  tableFulls: number;
}

/** What a neighbour table asks of its interface: send a solicitation, release or drop queued packets. */
export interface NeighHooks {
  /**
   * Send a solicitation for `address`: to `unicast` (the MAC we have, PROBE state) or, when it is
   * null, broadcast/multicast. `hint` is the first queued packet (its source picks our address).
   */
  solicit(address: string, unicast: Uint8Array | null, hint: Uint8Array | undefined): void;
  /** Put `packet` on the wire to `mac`. */
  transmit(mac: Uint8Array, packet: Uint8Array): void;
  /** Resolution failed; `dropped` queued packets were discarded. */
  unreachable(address: string, dropped: number): void;
}

/** How a received ARP/NDP message updates an entry (solicited, override, router …). */
export interface NeighUpdate {
  /** REACHABLE for a solicited answer addressed to us, STALE for everything else. */
  state: 'REACHABLE' | 'STALE';
  /**
   * Replace a different MAC we already have: true (NA O flag, gratuitous ARP), or 'locktime'
   * (other ARP: only if the entry was not updated within `lockTime`; LINUX arp_process).
   */
  override: boolean | 'locktime';
  /** LINUX: NEIGH_UPDATE_F_WEAK_OVERRIDE (NA without O): a different MAC only demotes REACHABLE to STALE. */
  weakOverride?: boolean;
  /** Create the entry if it does not exist (an NS or ARP request addressed to us: neigh_event_ns). */
  create: boolean;
}

interface Entry {
  readonly address: string;
  state: NudState;
  lladdr: Uint8Array | null;
  probes: number;
  timer: { readonly pending: boolean; cancel(): void } | null;
  queue: Uint8Array[];
  queueBytes: number;
  confirmed: Instant;
  used: Instant;
  updated: Instant;
}

/** Re-draw reachable_time this often. LINUX: neigh_periodic_work every 300 s. */
const REACHABLE_REDRAW = 300_000_000;

/** The neighbour cache (Linux's NUD states: INCOMPLETE, REACHABLE, STALE, DELAY, PROBE, FAILED) with a bounded queue per unresolved address. */
export class NeighborTable {
  readonly config: Readonly<NeighConfig>;
  readonly stats: NeighStats = { allocs: 0, destroys: 0, resFailed: 0, unresDiscards: 0, tableFulls: 0 };
  private readonly entries = new Map<string, Entry>();
  private reachableTime: Duration;
  private reachableDrawnAt: Instant;

  constructor(
    private readonly timers: Timers,
    private readonly rng: Rng,
    private readonly hooks: NeighHooks,
    config: Partial<NeighConfig> = {},
  ) {
    const c = { ...DEFAULT_NEIGH_CONFIG, ...config };
    for (const [k, v] of Object.entries(c)) {
      if (!(Number.isInteger(v) && v >= 0)) throw new RangeError(`neighbour config ${k} must be an integer >= 0, got ${String(v)}`);
    }
    if (c.maxEntries < 1) throw new RangeError(`neighbour config maxEntries must be >= 1, got ${c.maxEntries}`);
    this.config = Object.freeze(c);
    this.reachableTime = this.drawReachableTime();
    this.reachableDrawnAt = timers.now();
  }

  get size(): number {
    return this.entries.size;
  }

  /** LINUX: neigh_rand_reach_time: uniform in [base/2, 3·base/2). */
  private drawReachableTime(): Duration {
    const base = this.config.baseReachableTime;
    return base === 0 ? 0 : Math.floor(base / 2) + Math.floor(this.rng.float() * base);
  }

  /** The reachable time entries confirmed now get (re-drawn every 300 s, as Linux does). */
  currentReachableTime(): Duration {
    const now = this.timers.now();
    if (now - this.reachableDrawnAt >= REACHABLE_REDRAW) {
      this.reachableTime = this.drawReachableTime();
      this.reachableDrawnAt = now;
    }
    return this.reachableTime;
  }

  /**
   * Send `packet` to neighbour `address`: at once when its MAC is known, else queued while it is
   * resolved. LINUX: neigh_resolve_output → __neigh_event_send.
   */
  output(address: string, packet: Uint8Array): void {
    const now = this.timers.now();
    let e = this.entries.get(address);
    if (e === undefined) {
      const made = this.create(address);
      if (made === null) {
        this.stats.unresDiscards++;
        this.hooks.unreachable(address, 1);
        return;
      }
      e = made;
    }
    e.used = now;
    switch (e.state) {
      case 'REACHABLE':
      case 'DELAY':
      case 'PROBE':
      case 'PERMANENT':
        this.hooks.transmit(e.lladdr!, packet);
        return;
      case 'STALE':
        // RFC 4861 §7.3.3: sending to a STALE entry moves it to DELAY and starts the timer.
        this.setState(e, 'DELAY', now + this.config.delayFirstProbeTime);
        this.hooks.transmit(e.lladdr!, packet);
        return;
      case 'FAILED':
      case 'INCOMPLETE':
        break;
    }
    if (e.state === 'FAILED') this.startResolution(e, now);
    this.enqueue(e, packet);
  }

  /**
   * A packet told us `address` is at `lladdr` (ARP request/reply, NS source option, NA target
   * option). LINUX: neigh_update with the flags ARP and NDP pass.
   */
  update(address: string, lladdr: Uint8Array, u: NeighUpdate): void {
    const now = this.timers.now();
    let e = this.entries.get(address);
    if (e === undefined) {
      if (!u.create) return;
      const made = this.create(address);
      if (made === null) return;
      e = made;
    }
    if (e.state === 'PERMANENT') return;
    let state: NudState = u.state;
    const hadMac = e.lladdr !== null && e.state !== 'INCOMPLETE' && e.state !== 'FAILED';
    let mac = lladdr;
    if (hadMac && !sameMac(e.lladdr!, lladdr)) {
      const override = u.override === 'locktime' ? now >= e.updated + this.config.lockTime : u.override;
      if (!override) {
        // LINUX: neigh_update: without OVERRIDE a different address is ignored, except that
        // WEAK_OVERRIDE demotes a connected entry to STALE (keeping the old address).
        if (!(u.weakOverride && e.state === 'REACHABLE')) return;
        mac = e.lladdr!;
        state = 'STALE';
      }
    } else if (hadMac && state === 'STALE') {
      // LINUX: neigh_update: the same address announced again does not change a valid entry's state.
      return;
    }
    if (e.lladdr === null || !sameMac(e.lladdr, mac)) e.lladdr = mac.slice();
    e.updated = now;
    if (state === 'REACHABLE') {
      e.confirmed = now;
      this.setState(e, 'REACHABLE', now + this.currentReachableTime());
    } else if (state === 'STALE') {
      this.setState(e, 'STALE', Infinity);
    }
    this.flushQueue(e);
  }

  /** An upper layer saw forward progress to `address` (TCP ACKs: LINUX dst_confirm / neigh_confirm). */
  confirm(address: string): void {
    const e = this.entries.get(address);
    if (e !== undefined && e.lladdr !== null && e.state !== 'INCOMPLETE' && e.state !== 'FAILED') e.confirmed = this.timers.now();
  }

  /** Is the MAC of `address` known in a usable state (REACHABLE, STALE, DELAY, PROBE, PERMANENT)? */
  lookup(address: string): Uint8Array | null {
    const e = this.entries.get(address);
    return e !== undefined && e.state !== 'INCOMPLETE' && e.state !== 'FAILED' ? e.lladdr : null;
  }

  /** A static entry (`ip neigh add ... nud permanent`). */
  addPermanent(address: string, lladdr: Uint8Array): void {
    const e = this.entries.get(address) ?? this.create(address);
    if (e === null) throw new RangeError(`the neighbour table is full (${this.config.maxEntries} entries)`);
    e.lladdr = lladdr.slice();
    this.setState(e, 'PERMANENT', Infinity);
    this.flushQueue(e);
  }

  /** Forget an entry (`ip neigh del`); its queued packets are dropped. */
  delete(address: string): boolean {
    const e = this.entries.get(address);
    if (e === undefined) return false;
    this.destroy(e);
    return true;
  }

  /** Every entry, like `ip neigh show`. */
  view(): NeighborView[] {
    const now = this.timers.now();
    return [...this.entries.values()].map((e) => ({
      address: e.address,
      lladdr: e.lladdr === null || e.state === 'INCOMPLETE' ? null : formatMacText(e.lladdr),
      state: e.state,
      probes: e.probes,
      queued: e.queue.length,
      confirmedAgo: now - e.confirmed,
      usedAgo: now - e.used,
      updatedAgo: now - e.updated,
    }));
  }

  /** Cancel every timer (the interface goes away). */
  close(): void {
    for (const e of [...this.entries.values()]) this.destroy(e);
  }

  private create(address: string): Entry | null {
    if (this.entries.size >= this.config.maxEntries && !this.evictOne()) {
      this.stats.tableFulls++;
      return null;
    }
    const now = this.timers.now();
    const e: Entry = { address, state: 'FAILED', lladdr: null, probes: 0, timer: null, queue: [], queueBytes: 0, confirmed: now - 1 - this.config.baseReachableTime * 2, used: now, updated: now };
    this.entries.set(address, e);
    this.stats.allocs++;
    return e;
  }

  /**
   * LINUX: neigh_forced_gc: make room by removing an entry nobody waits on, FAILED ones first,
   * then the least recently used STALE one.
   */
  private evictOne(): boolean {
    let victim: Entry | null = null;
    for (const e of this.entries.values()) {
      if (e.state === 'FAILED' && e.queue.length === 0) {
        victim = e;
        break;
      }
      if (e.state === 'STALE' && (victim === null || e.used < victim.used)) victim = e;
    }
    if (victim === null) return false;
    this.destroy(victim);
    return true;
  }

  private destroy(e: Entry): void {
    e.timer?.cancel();
    e.timer = null;
    this.stats.unresDiscards += e.queue.length;
    e.queue = [];
    e.queueBytes = 0;
    this.entries.delete(e.address);
    this.stats.destroys++;
  }

  /** LINUX: __neigh_event_send: INCOMPLETE, probes counted from ucast_solicit, first solicitation at once. */
  private startResolution(e: Entry, now: Instant): void {
    e.probes = 0;
    e.updated = now;
    this.setState(e, 'INCOMPLETE', now + this.config.retransTime);
    this.probe(e);
  }

  private enqueue(e: Entry, packet: Uint8Array): void {
    // A copy: the packet may sit in a buffer its link lends again once this call returns (a TAP
    // device's reused transmit buffer, DESIGN.md principle 5). Only unresolved neighbours queue.
    e.queue.push(packet.slice());
    e.queueBytes += packet.length;
    // LINUX: __neigh_event_send drops the oldest queued packets beyond unres_qlen_bytes.
    while (e.queueBytes > this.config.unresQlenBytes && e.queue.length > 0) {
      e.queueBytes -= e.queue.shift()!.length;
      this.stats.unresDiscards++;
    }
  }

  private flushQueue(e: Entry): void {
    if (e.queue.length === 0 || e.lladdr === null) return;
    const q = e.queue;
    e.queue = [];
    e.queueBytes = 0;
    for (const p of q) this.hooks.transmit(e.lladdr, p);
  }

  private setState(e: Entry, state: NudState, timerAt: Instant): void {
    e.state = state;
    e.timer?.cancel();
    e.timer = timerAt === Infinity ? null : this.timers.setTimer(timerAt, () => this.onTimer(e));
  }

  private probe(e: Entry): void {
    e.probes++;
    this.hooks.solicit(e.address, e.state === 'PROBE' ? e.lladdr : null, e.queue[0]);
  }

  /** LINUX: neigh_timer_handler. */
  private onTimer(e: Entry): void {
    e.timer = null;
    if (this.entries.get(e.address) !== e) return;
    const now = this.timers.now();
    const c = this.config;
    switch (e.state) {
      case 'REACHABLE': {
        const until = e.confirmed + this.currentReachableTime();
        if (now < until) this.setState(e, 'REACHABLE', until);
        else if (now < e.used + c.delayFirstProbeTime) this.setState(e, 'DELAY', now + c.delayFirstProbeTime);
        else this.setState(e, 'STALE', Infinity);
        return;
      }
      case 'DELAY':
        if (now < e.confirmed + c.delayFirstProbeTime) {
          this.setState(e, 'REACHABLE', e.confirmed + this.currentReachableTime());
          return;
        }
        e.probes = 0;
        this.setState(e, 'PROBE', now + c.retransTime);
        this.probe(e);
        return;
      case 'INCOMPLETE':
      case 'PROBE': {
        const max = e.state === 'INCOMPLETE' ? c.mcastSolicit : c.ucastSolicit;
        if (e.probes >= max) {
          this.fail(e);
          return;
        }
        this.setState(e, e.state, now + c.retransTime);
        this.probe(e);
        return;
      }
      default:
        return;
    }
  }

  /** LINUX: neigh_invalidate: FAILED, queued packets dropped and reported (arp_error_report). */
  private fail(e: Entry): void {
    this.setState(e, 'FAILED', Infinity);
    e.updated = this.timers.now();
    this.stats.resFailed++;
    const dropped = e.queue.length;
    this.stats.unresDiscards += dropped;
    e.queue = [];
    e.queueBytes = 0;
    this.hooks.unreachable(e.address, dropped);
  }
}

function sameMac(a: Uint8Array, b: Uint8Array): boolean {
  for (let i = 0; i < 6; i++) if (a[i] !== b[i]) return false;
  return true;
}

function formatMacText(b: Uint8Array): string {
  return Array.from(b.subarray(0, 6), (v) => v.toString(16).padStart(2, '0')).join(':');
}

/**
 * The table as `ip neigh show dev DEV` prints it: `10.0.0.2 dev eth0 lladdr 02:00:00:00:00:02
 * REACHABLE`, `10.0.0.9 dev eth0 FAILED`, `10.0.0.3 dev eth0 INCOMPLETE`. One line per entry.
 */
export function formatNeighbors(rows: readonly NeighborView[], dev?: string): string {
  return rows
    .map((n) => `${n.address}${dev === undefined ? '' : ` dev ${dev}`}${n.lladdr === null ? '' : ` lladdr ${n.lladdr}`} ${n.state}`)
    .join('\n');
}
