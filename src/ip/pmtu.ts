/**
 * The per-destination path MTU cache (RFC 1191 §6.3, RFC 8201 §5.2; LINUX: the FIB nexthop
 * exception's fnhe_pmtu / rt6 exception, set by __ip_rt_update_pmtu / rt6_do_update_pmtu).
 * An entry lowers the MTU towards one destination and expires after ip_rt_mtu_expires
 * (600 s), after which the path MTU is probed again from the link MTU, as Linux does.
 * Bounded: at most MAX_ENTRIES destinations; the entry expiring first makes room.
 */
import { NEVER, sec, type Instant } from '../time.js';

/** LINUX net.ipv4.route.mtu_expires (ip_rt_mtu_expires): 10 minutes. */
export const PMTU_EXPIRES = sec(600);
/** LINUX net.ipv4.route.min_pmtu (ip_rt_min_pmtu): 512 + 20 + 20. */
export const IPV4_MIN_PMTU = 552;
/** RFC 8200 §5: every IPv6 link carries 1280 bytes. */
export const IPV6_MIN_MTU = 1280;
/** LINUX FNHE_RECLAIM_DEPTH-style bound: how many destinations the cache remembers. */
const MAX_ENTRIES = 4096;

interface Entry {
  mtu: number;
  expires: Instant;
}

export class PathMtuCache {
  private readonly entries = new Map<string, Entry>();
  private earliest: Instant = NEVER;
  /** Bumped whenever an entry is added, lowered or removed (callers cache paths by it). */
  version = 0;

  get size(): number {
    return this.entries.size;
  }

  /** The cached path MTU towards `dst`, or undefined (use the route's link MTU). */
  get(dst: string, now: Instant): number | undefined {
    const e = this.entries.get(dst);
    if (e === undefined) return undefined;
    if (e.expires <= now) {
      this.entries.delete(dst);
      this.version++;
      return undefined;
    }
    return e.mtu;
  }

  /**
   * A Fragmentation Needed / Packet Too Big said `mtu` towards `dst`. The value is clamped to
   * the protocol minimum (LINUX __ip_rt_update_pmtu: mtu < ip_rt_min_pmtu → min_pmtu; RFC 8201
   * §4: IPv6 never below 1280) and only ever lowers the cached MTU (RFC 1191 §6.3: an increase
   * is learned only by the entry expiring). Returns the new MTU, or null when nothing changed.
   */
  lower(dst: string, mtu: number, linkMtu: number, version: 4 | 6, now: Instant): number | null {
    const floor = version === 4 ? IPV4_MIN_PMTU : IPV6_MIN_MTU;
    const m = Math.min(Math.max(mtu, floor), linkMtu);
    const cur = this.get(dst, now) ?? linkMtu;
    if (m >= cur) return null;
    if (!this.entries.has(dst) && this.entries.size >= MAX_ENTRIES) this.evictOne();
    const expires = now + PMTU_EXPIRES;
    this.entries.set(dst, { mtu: m, expires });
    this.version++;
    if (expires < this.earliest) this.earliest = expires;
    return m;
  }

  /** When the next entry expires (the stack's timer drops it then). */
  nextDeadline(): Instant {
    return this.earliest;
  }

  onTimer(now: Instant): void {
    if (this.earliest > now) return;
    let next = NEVER;
    for (const [k, e] of this.entries) {
      if (e.expires <= now) {
        this.entries.delete(k);
        this.version++;
      } else if (e.expires < next) next = e.expires;
    }
    this.earliest = next;
  }

  /** Every entry (for `ip route show cache`-style views and tests). */
  list(now: Instant): { dst: string; mtu: number; expiresIn: number }[] {
    const out: { dst: string; mtu: number; expiresIn: number }[] = [];
    for (const [dst, e] of this.entries) if (e.expires > now) out.push({ dst, mtu: e.mtu, expiresIn: e.expires - now });
    return out;
  }

  private evictOne(): void {
    let key: string | undefined;
    let at = NEVER;
    for (const [k, e] of this.entries) {
      if (e.expires < at) {
        at = e.expires;
        key = k;
      }
    }
    if (key !== undefined) {
      this.entries.delete(key);
      this.version++;
    }
  }
}
