/**
 * The UDP flow table of user-mode networking (sans-I/O): one flow per guest 5-tuple (guest
 * address and port, destination address and port; the protocol is UDP), created by the guest's
 * first datagram, kept alive by traffic, and forgotten after an idle timeout the way Linux
 * conntrack forgets UDP: 30 s, or 120 s for a flow that has seen traffic both ways for more than
 * 2 s (LINUX: nf_conntrack_udp_packet, nf_conntrack_udp_timeout / _timeout_stream).
 *
 * The caller owns the host-side socket of each flow: it relays a datagram after `outbound()`,
 * calls `inbound()` for each reply the host socket receives, and closes the sockets of the flows
 * `expire(now)` returns. The table is bounded; when it is full, the least recently refreshed flow
 * that has not become a stream is evicted (LINUX: early_drop, which never drops an ASSURED entry),
 * else the new flow is refused. Both are counted.
 */
import { canonicalAddr } from '../wire/addr.js';
import { NEVER, sec, type Duration, type Instant } from '../time.js';

export interface UdpFlowKey {
  guestAddr: string;
  guestPort: number;
  dstAddr: string;
  dstPort: number;
}

export interface UdpFlow {
  readonly id: number;
  readonly key: Readonly<UdpFlowKey>;
  readonly created: Instant;
  /** Last refresh (a datagram either way). */
  lastSeen: Instant;
  /** When the flow is forgotten unless refreshed. */
  expires: Instant;
  /** A reply came back from the host side (LINUX: IPS_SEEN_REPLY). */
  replied: boolean;
  /** Seen both ways past the 2 s stream mark: long timeout, never early-dropped (LINUX: IPS_ASSURED). */
  assured: boolean;
  packetsOut: number;
  bytesOut: number;
  packetsIn: number;
  bytesIn: number;
}

export interface UdpNatOptions {
  /** Most flows at once. Default 4096. */
  maxFlows?: number;
  /** LINUX nf_conntrack_udp_timeout: 30 s. */
  timeout?: Duration;
  /** LINUX nf_conntrack_udp_timeout_stream: 120 s. */
  streamTimeout?: Duration;
}

export interface UdpNatCounters {
  /** Flows created (LINUX conntrack stat "insert"). */
  created: number;
  /** Flows forgotten after their idle timeout. */
  expired: number;
  /** Non-stream flows evicted to make room (LINUX "early_drop"). */
  earlyDrop: number;
  /** New flows refused because every flow in a full table is a stream (LINUX "drop"). */
  drop: number;
  /** Flows closed by the caller (`remove`). */
  removed: number;
}

/** LINUX: nf_conntrack_udp_packet sets stream_ts 2 s after the first packet. */
const STREAM_AFTER: Duration = sec(2);

function flowKey(k: UdpFlowKey): string {
  return `${k.guestAddr}|${k.guestPort}|${k.dstAddr}|${k.dstPort}`;
}

function port(p: unknown, what: string): number {
  if (!Number.isInteger(p) || (p as number) < 0 || (p as number) > 65535) throw new RangeError(`UdpNat: ${what} must be a port 0..65535, got ${String(p)}`);
  return p as number;
}

export class UdpNat {
  readonly maxFlows: number;
  readonly timeout: Duration;
  readonly streamTimeout: Duration;
  readonly counters: UdpNatCounters = { created: 0, expired: 0, earlyDrop: 0, drop: 0, removed: 0 };
  private nextId = 1;
  private readonly byKey = new Map<string, UdpFlow>();
  /**
   * Flows by timeout class, each in order of last refresh. All flows of a class share one
   * timeout, so refresh order is expiry order: expiry and eviction look only at the heads.
   */
  private readonly short = new Map<string, UdpFlow>();
  private readonly long = new Map<string, UdpFlow>();

  constructor(opts: UdpNatOptions = {}) {
    this.maxFlows = opts.maxFlows ?? 4096;
    if (!Number.isInteger(this.maxFlows) || this.maxFlows < 1) throw new RangeError(`UdpNat: maxFlows must be a positive integer, got ${this.maxFlows}`);
    this.timeout = opts.timeout ?? sec(30);
    this.streamTimeout = opts.streamTimeout ?? sec(120);
    for (const [what, v] of [['timeout', this.timeout], ['streamTimeout', this.streamTimeout]] as const) {
      if (typeof v !== 'number' || !(v > 0) || !Number.isFinite(v)) throw new RangeError(`UdpNat: ${what} must be a positive number of microseconds, got ${v}`);
    }
  }

  get size(): number {
    return this.byKey.size;
  }

  /**
   * A datagram from the guest for `key` at `now`: the flow it belongs to (created when new), or
   * null when the table is full of streams (counted as `drop`). `created` tells the caller to open
   * the host-side socket; `closed` lists flows this call took out of the table (an expired flow
   * of the same key, a flow evicted to make room), whose host sockets the caller closes.
   */
  outbound(key: UdpFlowKey, bytes: number, now: Instant): { flow: UdpFlow; created: boolean; closed: UdpFlow[] } | null {
    const k = this.checkKey(key);
    const found = this.byKey.get(k);
    if (found !== undefined && found.expires > now) {
      found.packetsOut++;
      found.bytesOut += bytes;
      this.refresh(k, found, now);
      return { flow: found, created: false, closed: [] };
    }
    const closed: UdpFlow[] = [];
    if (found !== undefined) {
      this.forget(k, found, 'expired');
      closed.push(found);
    }
    if (this.byKey.size >= this.maxFlows) {
      const victim = this.makeRoom(now);
      if (victim === null) {
        this.counters.drop++;
        // Nothing was closed above: forgetting an expired flow of this key would have made room.
        return null;
      }
      closed.push(victim);
    }
    const flow: UdpFlow = {
      id: this.nextId++,
      key: Object.freeze({ ...key, guestAddr: canonicalAddr(key.guestAddr)!, dstAddr: canonicalAddr(key.dstAddr)! }),
      created: now,
      lastSeen: now,
      expires: now + this.timeout,
      replied: false,
      assured: false,
      packetsOut: 1,
      bytesOut: bytes,
      packetsIn: 0,
      bytesIn: 0,
    };
    this.byKey.set(k, flow);
    this.short.set(k, flow);
    this.counters.created++;
    return { flow, created: true, closed };
  }

  /** A reply from the host side of `flow` at `now`. False when the flow is no longer in the table. */
  inbound(flow: UdpFlow, bytes: number, now: Instant): boolean {
    const k = flowKey(flow.key);
    if (this.byKey.get(k) !== flow || flow.expires <= now) return false;
    flow.replied = true;
    flow.packetsIn++;
    flow.bytesIn += bytes;
    this.refresh(k, flow, now);
    return true;
  }

  /** The live flow of `key` at `now`, if any (no refresh). */
  lookup(key: UdpFlowKey, now: Instant): UdpFlow | null {
    const f = this.byKey.get(this.checkKey(key));
    return f !== undefined && f.expires > now ? f : null;
  }

  /** Remove a flow (its host socket failed or closed). False when it was not in the table. */
  remove(flow: UdpFlow): boolean {
    const k = flowKey(flow.key);
    if (this.byKey.get(k) !== flow) return false;
    this.forget(k, flow, 'removed');
    return true;
  }

  /** Forget every flow idle past its timeout at `now`; returns them so the caller closes their sockets. */
  expire(now: Instant): UdpFlow[] {
    const out: UdpFlow[] = [];
    for (const table of [this.short, this.long]) {
      for (const [k, f] of table) {
        if (f.expires > now) break;
        this.forget(k, f, 'expired');
        out.push(f);
      }
    }
    return out;
  }

  /** The earliest expiry in the table (NEVER when empty): when the driver should call `expire`. */
  nextDeadline(): Instant {
    let t = NEVER;
    for (const table of [this.short, this.long]) {
      for (const f of table.values()) {
        t = Math.min(t, f.expires);
        break;
      }
    }
    return t;
  }

  /** The flows, oldest first (for netstat-style views). */
  flows(): UdpFlow[] {
    return [...this.byKey.values()];
  }

  /**
   * LINUX nf_conntrack_udp_packet: once a reply has been seen and the flow is older than 2 s, each
   * packet refreshes it with the stream timeout and marks it assured; otherwise with the short one.
   */
  private refresh(k: string, f: UdpFlow, now: Instant): void {
    f.lastSeen = now;
    const stream = f.replied && now > f.created + STREAM_AFTER;
    if (stream) f.assured = true;
    f.expires = now + (stream ? this.streamTimeout : this.timeout);
    this.short.delete(k);
    this.long.delete(k);
    (stream ? this.long : this.short).set(k, f);
  }

  /**
   * Take one flow out of a full table: an expired stream first, else the least recently refreshed
   * non-stream flow, expired or not (LINUX early_drop: never an ASSURED entry). Null when every
   * flow is a live stream.
   */
  private makeRoom(now: Instant): UdpFlow | null {
    for (const [k, f] of this.long) {
      if (f.expires > now) break;
      this.forget(k, f, 'expired');
      return f;
    }
    for (const [k, f] of this.short) {
      this.forget(k, f, f.expires <= now ? 'expired' : 'earlyDrop');
      return f;
    }
    return null;
  }

  private forget(k: string, f: UdpFlow, why: 'expired' | 'earlyDrop' | 'removed'): void {
    this.byKey.delete(k);
    this.short.delete(k);
    this.long.delete(k);
    this.counters[why]++;
  }

  private checkKey(key: UdpFlowKey): string {
    if (key === null || typeof key !== 'object') throw new TypeError('UdpNat: key must be an object');
    const g = canonicalAddr(key.guestAddr);
    const d = canonicalAddr(key.dstAddr);
    if (g === null) throw new TypeError(`UdpNat: key.guestAddr must be an IP address, got ${JSON.stringify(key.guestAddr)}`);
    if (d === null) throw new TypeError(`UdpNat: key.dstAddr must be an IP address, got ${JSON.stringify(key.dstAddr)}`);
    return flowKey({ guestAddr: g, guestPort: port(key.guestPort, 'key.guestPort'), dstAddr: d, dstPort: port(key.dstPort, 'key.dstPort') });
  }
}
