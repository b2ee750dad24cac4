/**
 * The simulated network: hosts attach with their addresses and get a Link; frames (raw IPv4/IPv6
 * packets, LINKTYPE_RAW) are routed by destination address and delivered as simulator events
 * after the path's impairments (smoltcp's netsim, ns-3's point-to-point channel).
 *
 * Fate of a frame, decided at send time in this order (so the tap sees it at once):
 *   malformed / no-route → too-big (path or link MTU) → scripted (dropNext) → loss →
 *   serialization (bandwidth) → delay + jitter (+ reorder) → corrupt → duplicate.
 * Loss is modelled before the serialization queue, so a lost frame consumes no bandwidth, and a
 * duplicate copy does not occupy the queue either (it is an artefact of the path, not a send).
 *
 * All randomness comes from one Rng forked from `sim.rng` at construction, and a draw is made
 * only when the corresponding probability/jitter is non-zero, so the same seed and script give
 * the same run byte for byte (DESIGN.md principle 2).
 *
 * Addresses are deliberately read with a few byte reads rather than through src/wire: IPv4
 * destination = bytes 16..19 (RFC 791 §3.1), IPv6 destination = bytes 24..39 (RFC 8200 §3).
 */
import type { Link } from '../link/link.js';
import type { Rng } from '../rng.js';
import type { Duration, Instant } from '../time.js';
import type { Simulator } from './sim.js';

/** A simulated path: delay, jitter, bandwidth, loss, reordering, duplication, corruption, MTU. */
export interface PathConfig {
  /** One-way propagation delay, µs. */
  delay: Duration;
  /** Extra delay, uniform in [0, jitter] µs, per frame (so `delay` is the minimum). */
  jitter: Duration;
  /** Probability a frame is lost. */
  loss: number;
  /** Probability a frame is delivered twice (the copy slightly later). */
  duplicate: number;
  /** Probability a frame is held back by uniform(1 µs, 2*delay + 1 ms) so later frames overtake it. */
  reorder: number;
  /** Probability one random bit of the delivered frame is flipped. */
  corrupt: number;
  /** Serialization rate in bit/s; 0 = unlimited. */
  bandwidthBps: number;
  /** Largest frame the path carries; larger ones are dropped 'too-big' (no ICMP is generated). */
  mtu: number;
}

/** Why a frame did not arrive intact. */
export type FrameFate = 'loss' | 'scripted' | 'no-route' | 'too-big' | 'malformed' | 'corrupt-delivered';

/** A frame the simulated network carried, from whom to whom, and what became of it. */
export interface FrameEvent {
  /** Send time. */
  t: Instant;
  from: string;
  /** Receiving host, or null when no attached-or-detached host owns the destination address. */
  to: string | null;
  /** The bytes as they will be delivered (the corrupted copy when corrupted). Read-only. */
  frame: Uint8Array;
  dropped: boolean;
  /** Why it was dropped, or 'corrupt-delivered' for a delivered corrupted frame. */
  reason?: FrameFate;
  /** True on the event describing the extra copy of a duplicated frame. */
  duplicate?: boolean;
  /** Arrival time, when not dropped. */
  deliverAt?: Instant;
}

const DEFAULTS: PathConfig = {
  delay: 500,
  jitter: 0,
  loss: 0,
  duplicate: 0,
  reorder: 0,
  corrupt: 0,
  bandwidthBps: 0,
  mtu: 1500,
};

/** Extra delay of a duplicate copy: uniform in [1, DUP_SPREAD] µs after the original. */
const DUP_SPREAD = 100;

type DropRule = { pred: (frame: Uint8Array, from: string, to: string | null) => boolean; left: number };

interface Host {
  readonly name: string;
  readonly mtu: number;
  readonly v4: number[];
  readonly v6: string[];
  readonly receivers: ((frame: Uint8Array) => void)[];
  attached: boolean;
}

/** The simulated network of a SimWorld: hosts by address, paths with their impairments, frame observers. */
export class SimNetwork {
  private readonly rng: Rng;
  private readonly defaults: PathConfig;
  private readonly hosts = new Map<string, Host>();
  /** Routes stay after detach so frames to a vanished host are attributed to it ('no-route'). */
  private readonly v4 = new Map<number, Host>();
  private readonly v6 = new Map<string, Host>();
  private readonly paths = new Map<string, PathConfig>();
  private readonly busyUntil = new Map<string, Instant>();
  private readonly rules: DropRule[] = [];
  private readonly taps: ((ev: FrameEvent) => void)[] = [];

  constructor(
    private readonly sim: Simulator,
    defaults: Partial<PathConfig> = {},
  ) {
    this.rng = sim.rng.fork();
    this.defaults = validate({ ...DEFAULTS, ...defaults });
  }

  /** Attach a host: its Link routes frames by destination address. */
  attach(host: string, addresses: string[], opts: { mtu?: number } = {}): Link {
    const old = this.hosts.get(host);
    if (old?.attached) throw new Error(`host ${host} is already attached`);
    if (old) this.forget(old);
    const mtu = opts.mtu ?? this.defaults.mtu;
    if (!Number.isInteger(mtu) || mtu < 1) throw new RangeError(`mtu must be a positive integer, got ${mtu}`);
    const h: Host = { name: host, mtu, v4: [], v6: [], receivers: [], attached: true };
    for (const a of addresses) {
      const bytes = parseAddress(a.replace(/\/\d+$/, '')); // 'ADDR/LEN': the prefix is the stack's business
      if (bytes.length === 4) {
        const k = v4Key(bytes, 0);
        const other = this.v4.get(k);
        if (other && other.attached) throw new Error(`address ${a} already belongs to ${other.name}`);
        h.v4.push(k);
      } else {
        const k = hex(bytes, 0, 16);
        const other = this.v6.get(k);
        if (other && other.attached) throw new Error(`address ${a} already belongs to ${other.name}`);
        h.v6.push(k);
      }
    }
    for (const k of h.v4) this.v4.set(k, h);
    for (const k of h.v6) this.v6.set(k, h);
    this.hosts.set(host, h);
    return {
      mtu,
      checksumOffload: false,
      send: (frame: Uint8Array, nextHop?: string) => this.send(h, frame, nextHop),
      onReceive: (cb: (frame: Uint8Array) => void) => {
        h.receivers.push(cb);
      },
    };
  }

  /** The host disappears: frames to it, from it, or in flight to it are dropped/discarded. */
  detach(host: string): void {
    const h = this.hosts.get(host);
    if (!h) throw new Error(`unknown host ${host}`);
    h.attached = false;
  }

  /** Configure one direction; unspecified fields keep their current value. */
  setPath(from: string, to: string, cfg: Partial<PathConfig>): void {
    const key = pathKey(from, to);
    this.paths.set(key, validate({ ...(this.paths.get(key) ?? this.defaults), ...cfg }));
  }

  /** Configure both directions between a and b. */
  setLink(a: string, b: string, cfg: Partial<PathConfig>): void {
    this.setPath(a, b, cfg);
    this.setPath(b, a, cfg);
  }

  /** The effective configuration of one direction. */
  path(from: string, to: string): Readonly<PathConfig> {
    return this.paths.get(pathKey(from, to)) ?? this.defaults;
  }

  /**
   * Scripted loss: drop the next `count` routable frames matching `pred` (e.g. "lose the first
   * SYN"). Rules are checked in the order they were added; one frame consumes one rule.
   */
  dropNext(pred: (frame: Uint8Array, from: string, to: string | null) => boolean, count = 1): void {
    if (!Number.isInteger(count) || count < 1) throw new RangeError(`count must be a positive integer, got ${count}`);
    this.rules.push({ pred, left: count });
  }

  /** Tap every frame at send time, with its fate decided. Returns an unsubscribe function. */
  onFrame(cb: (ev: FrameEvent) => void): () => void {
    this.taps.push(cb);
    return () => {
      const i = this.taps.indexOf(cb);
      if (i >= 0) this.taps.splice(i, 1);
    };
  }

  /**
   * A frame goes to the host owning `nextHop` when the sender's routing named one (a gateway:
   * this is how a router node is reached), else to the host owning the destination address.
   */
  private send(src: Host, frame: Uint8Array, nextHop?: string): void {
    const now = this.sim.now;
    const dst = nextHop !== undefined ? this.hostOf(nextHop, frame) : this.route(frame);
    if (dst === undefined) return this.drop(now, src.name, null, frame, 'malformed');
    const to = dst === null ? null : dst.name;
    if (!src.attached || dst === null || !dst.attached) return this.drop(now, src.name, to, frame, 'no-route');
    const p = this.path(src.name, dst.name);
    if (frame.length > Math.min(p.mtu, src.mtu, dst.mtu)) return this.drop(now, src.name, to, frame, 'too-big');
    for (let i = 0; i < this.rules.length; i++) {
      const r = this.rules[i]!;
      if (r.pred(frame, src.name, to)) {
        if (--r.left === 0) this.rules.splice(i, 1);
        return this.drop(now, src.name, to, frame, 'scripted');
      }
    }
    const rng = this.rng;
    if (rng.chance(p.loss)) return this.drop(now, src.name, to, frame, 'loss');

    // Serialization: one busy-until per direction, so a burst leaves the sender spread out.
    let departs = now;
    if (p.bandwidthBps > 0) {
      const key = pathKey(src.name, dst.name);
      const start = Math.max(now, this.busyUntil.get(key) ?? 0);
      departs = start + Math.ceil((frame.length * 8 * 1_000_000) / p.bandwidthBps);
      this.busyUntil.set(key, departs);
    }
    let at = departs + p.delay;
    if (p.jitter > 0) at += rng.int(0, p.jitter);
    if (rng.chance(p.reorder)) at += rng.int(1, 2 * p.delay + 1000);

    let data = frame;
    let reason: FrameFate | undefined;
    if (frame.length > 0 && rng.chance(p.corrupt)) {
      // The frame belongs to the network now, but the sender's tap or pcap may still hold it:
      // corrupt a copy. The receiver's checksum must catch it (RFC 1071, RFC 9293 §3.1).
      data = frame.slice();
      const bit = rng.int(0, data.length * 8 - 1);
      data[bit >> 3]! ^= 1 << (bit & 7);
      reason = 'corrupt-delivered';
    }
    this.emit({ t: now, from: src.name, to, frame: data, dropped: false, reason, deliverAt: at });
    this.sim.schedule(at, () => this.deliver(dst, data));

    if (rng.chance(p.duplicate)) {
      const copy = frame.slice();
      const at2 = at + rng.int(1, DUP_SPREAD);
      this.emit({ t: now, from: src.name, to, frame: copy, dropped: false, duplicate: true, deliverAt: at2 });
      this.sim.schedule(at2, () => this.deliver(dst, copy));
    }
  }

  private deliver(dst: Host, frame: Uint8Array): void {
    if (!dst.attached) return; // host vanished while the frame was in flight
    for (const cb of dst.receivers) cb(frame);
  }

  private drop(t: Instant, from: string, to: string | null, frame: Uint8Array, reason: FrameFate): void {
    this.emit({ t, from, to, frame, dropped: true, reason });
  }

  private emit(ev: FrameEvent): void {
    for (const cb of this.taps) cb(ev);
  }

  /** Host owning the destination, null when nobody does, undefined when the frame is not IP. */
  private route(f: Uint8Array): Host | null | undefined {
    if (f.length < 1) return undefined;
    const version = f[0]! >> 4;
    if (version === 4 && f.length >= 20) return this.v4.get(v4Key(f, 16)) ?? null;
    if (version === 6 && f.length >= 40) return this.v6.get(hex(f, 24, 40)) ?? null;
    return undefined;
  }

  /** Host owning the address text `a` (its key cached per text); the frame's destination when `a` is not an address. */
  private hostOf(a: string, f: Uint8Array): Host | null | undefined {
    let key = this.hopKeys.get(a);
    if (key === undefined) {
      let bytes: Uint8Array;
      try {
        bytes = parseAddress(a.replace(/%.*$/, ''));
      } catch {
        return this.route(f);
      }
      key = bytes.length === 4 ? v4Key(bytes, 0) : hex(bytes, 0, 16);
      if (this.hopKeys.size > 1024) this.hopKeys.clear();
      this.hopKeys.set(a, key);
    }
    return (typeof key === 'number' ? this.v4.get(key) : this.v6.get(key)) ?? null;
  }

  /** hostOf's address keys by text (bounded). */
  private readonly hopKeys = new Map<string, number | string>();

  private forget(h: Host): void {
    for (const k of h.v4) if (this.v4.get(k) === h) this.v4.delete(k);
    for (const k of h.v6) if (this.v6.get(k) === h) this.v6.delete(k);
  }
}

function pathKey(from: string, to: string): string {
  return `${from}\u0000${to}`;
}

function validate(c: PathConfig): PathConfig {
  for (const k of ['loss', 'duplicate', 'reorder', 'corrupt'] as const) {
    if (!(c[k] >= 0 && c[k] <= 1)) throw new RangeError(`${k} must be a probability in [0, 1], got ${c[k]}`);
  }
  for (const k of ['delay', 'jitter', 'bandwidthBps'] as const) {
    if (!(c[k] >= 0 && Number.isFinite(c[k]))) throw new RangeError(`${k} must be a finite number >= 0, got ${c[k]}`);
  }
  if (!(Number.isInteger(c.mtu) && c.mtu >= 1)) throw new RangeError(`mtu must be a positive integer, got ${c.mtu}`);
  return c;
}

function v4Key(b: Uint8Array, o: number): number {
  return ((b[o]! << 24) | (b[o + 1]! << 16) | (b[o + 2]! << 8) | b[o + 3]!) >>> 0;
}

function hex(b: Uint8Array, from: number, to: number): string {
  let s = '';
  for (let i = from; i < to; i++) s += (b[i]! < 16 ? '0' : '') + b[i]!.toString(16);
  return s;
}

/** Parse a textual IPv4 (dotted quad) or IPv6 (RFC 4291 §2.2, incl. '::' and a v4 tail) address. */
export function parseAddress(s: string): Uint8Array {
  const bad = (): never => {
    throw new TypeError(`addresses: not an IPv4 or IPv6 address: ${JSON.stringify(s)}`);
  };
  if (!s.includes(':')) {
    const parts = s.split('.');
    if (parts.length !== 4) bad();
    const out = new Uint8Array(4);
    parts.forEach((p, i) => {
      if (!/^\d{1,3}$/.test(p) || Number(p) > 255) bad();
      out[i] = Number(p);
    });
    return out;
  }
  const words: number[] = [];
  const halves = s.split('::');
  if (halves.length > 2) bad();
  const parse = (part: string): number[] => {
    if (part === '') return [];
    const out: number[] = [];
    const groups = part.split(':');
    groups.forEach((g, i) => {
      if (i === groups.length - 1 && g.includes('.')) {
        const v4 = parseAddress(g);
        out.push((v4[0]! << 8) | v4[1]!, (v4[2]! << 8) | v4[3]!);
      } else {
        if (!/^[0-9a-fA-F]{1,4}$/.test(g)) bad();
        out.push(parseInt(g, 16));
      }
    });
    return out;
  };
  const head = parse(halves[0]!);
  if (halves.length === 2) {
    const tail = parse(halves[1]!);
    if (head.length + tail.length > 7) bad();
    words.push(...head, ...new Array<number>(8 - head.length - tail.length).fill(0), ...tail);
  } else {
    if (head.length !== 8) bad();
    words.push(...head);
  }
  const out = new Uint8Array(16);
  words.forEach((w, i) => {
    out[2 * i] = w >> 8;
    out[2 * i + 1] = w & 0xff;
  });
  return out;
}
