/**
 * The routing table (LINUX fib: the main table; `ip route`): connected routes for every
 * address's prefix, static routes and a default gateway, chosen by longest-prefix match
 * (RFC 1812 §5.2.4.3). Destinations that are the host's own addresses go through `lo`, as
 * Linux's local table sends them.
 */
import { formatAddr, parseAddr } from '../wire/addr.js';
import { parseIfAddr, prefixMatch, type Interface } from './iface.js';

export interface Route {
  readonly version: 4 | 6;
  /** Network bytes (host bits zero) and prefix length. */
  readonly prefix: Uint8Array;
  readonly prefixLen: number;
  /** Next hop for destinations behind a gateway; null for on-link (connected) routes. */
  readonly gateway: string | null;
  readonly iface: Interface;
  /** Preferred source address (LINUX rtm prefsrc), or null to pick one on `iface`. */
  readonly source: string | null;
  /**
   * 'connected' for an address's own prefix, 'static' for added routes (ip route proto
   * kernel/static), 'unreachable' for `ip route add unreachable PREFIX`: datagrams to it are
   * refused with EHOSTUNREACH locally and ICMP host unreachable when forwarded (LINUX ip_error).
   */
  readonly kind: 'connected' | 'static' | 'unreachable';
  /** `10.0.0.0/24` */
  readonly text: string;
}

const MEMO_MAX = 4096;

export class RouteTable {
  /** Longest prefix first, so the first match is the best (ties: the first added). */
  private readonly routes: Route[] = [];
  /** Bumped on every change, so callers can cache lookups. */
  generation = 0;

  /** Add a route to 'ADDR/LEN' out of `iface`, through `gateway` when given. */
  add(dest: string, iface: Interface, opts: { gateway?: string; source?: string; kind?: Route['kind'] } = {}): Route {
    const p = parseIfAddr(dest, 'route destination');
    const prefix = p.bytes.slice();
    maskInPlace(prefix, p.prefixLen);
    let gateway: string | null = null;
    if (opts.gateway !== undefined) {
      const g = parseIfAddr(opts.gateway, 'gateway');
      if (g.version !== p.version || g.hasLen) throw new TypeError(`gateway: '${opts.gateway}' is not an IPv${p.version} address`);
      gateway = g.addr;
    }
    const text = `${formatAddr(prefix)}/${p.prefixLen}`;
    const r: Route = { version: p.version, prefix, prefixLen: p.prefixLen, gateway, iface, source: opts.source ?? null, kind: opts.kind ?? 'static', text };
    let i = 0;
    while (i < this.routes.length && this.routes[i]!.prefixLen >= r.prefixLen) i++;
    this.routes.splice(i, 0, r);
    this.generation++;
    return r;
  }

  /** Remove every route matching the predicate (e.g. an interface's when it goes away). */
  removeWhere(pred: (r: Route) => boolean): number {
    let n = 0;
    for (let i = this.routes.length - 1; i >= 0; i--) {
      if (pred(this.routes[i]!)) {
        this.routes.splice(i, 1);
        n++;
      }
    }
    if (n > 0) this.generation++;
    return n;
  }

  /** Longest-prefix match for destination bytes (4 or 16), or null (ENETUNREACH). */
  lookup(dst: Uint8Array): Route | null {
    const v = dst.length === 4 ? 4 : 6;
    for (const r of this.routes) if (r.version === v && prefixMatch(r.prefix, dst, r.prefixLen)) return r;
    return null;
  }

  /**
   * lookup() by address text, memoized per text until the table changes (connect, the source
   * selection and the MSS all ask for the same destination; parsing it each time showed in the
   * connections-per-second profile). Bounded: the memo restarts past MEMO_MAX entries.
   */
  lookupText(dst: string): Route | null {
    if (this.memoGen !== this.generation) {
      this.memo.clear();
      this.memoGen = this.generation;
    }
    const hit = this.memo.get(dst);
    if (hit !== undefined) return hit;
    const b = parseAddr(dst);
    const r = b === null ? null : this.lookup(b);
    if (this.memo.size >= MEMO_MAX) this.memo.clear();
    this.memo.set(dst, r);
    return r;
  }

  private readonly memo = new Map<string, Route | null>();
  private memoGen = -1;

  list(): readonly Route[] {
    return this.routes;
  }
}

function maskInPlace(b: Uint8Array, len: number): void {
  for (let i = 0; i < b.length; i++) {
    const bits = Math.max(0, Math.min(8, len - i * 8));
    b[i] = b[i]! & ((0xff << (8 - bits)) & 0xff);
  }
}
