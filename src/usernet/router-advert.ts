/**
 * The IPv6 router of the guest network, sans-I/O: router advertisements with the guest prefix
 * (on-link, autonomous: the guest configures itself by SLAAC, RFC 4862), the MTU and the DNS
 * forwarder (RDNSS, RFC 8106), sent unsolicited on RFC 4861 §6.2.4's schedule and in answer to
 * router solicitations with §6.2.6's delays. The caller feeds ICMPv6 packets to `onPacket`, calls
 * `poll(now)` at `nextDeadline()` and sends what it returns to ff02::1 through the Ethernet
 * adapter.
 */
import type { Rng } from '../rng.js';
import { NEVER, ms, sec, type Duration, type Instant } from '../time.js';
import { emitRouterAdvert, parseRouterSolicit, type PrefixInfo, type RsDropReason } from '../wire/ndp-ra.js';

/** RFC 4861 §10 router constants. */
export const MAX_INITIAL_RTR_ADVERT_INTERVAL: Duration = sec(16);
export const MAX_INITIAL_RTR_ADVERTISEMENTS = 3;
export const MIN_DELAY_BETWEEN_RAS: Duration = sec(3);
export const MAX_RA_DELAY_TIME: Duration = ms(500);

export interface RouterAdvertiserOptions {
  /** The router's link-local address ('fe80::…', e.g. from its MAC by modified EUI-64). */
  source: string;
  /** The router's MAC (source link-layer address option). */
  lladdr: Uint8Array;
  prefixes: PrefixInfo[];
  mtu?: number;
  dns?: string[];
  /** Seconds the guest may use this router as its default; default 1800. */
  routerLifetime?: number;
  /** MaxRtrAdvInterval (§6.2.1), default 600 s; MinRtrAdvInterval is a third of it. */
  maxInterval?: Duration;
  rng: Rng;
}

export interface RouterAdvertiserCounters {
  solicitsReceived: number;
  solicitsDropped: Partial<Record<RsDropReason, number>>;
  advertsSent: number;
}

export class RouterAdvertiser {
  readonly counters: RouterAdvertiserCounters = { solicitsReceived: 0, solicitsDropped: {}, advertsSent: 0 };
  private readonly packet: Uint8Array;
  private readonly maxInterval: Duration;
  private readonly minInterval: Duration;
  private readonly rng: Rng;
  private next: Instant;
  private lastSent = -Infinity;
  private initialLeft = MAX_INITIAL_RTR_ADVERTISEMENTS;

  /** Starts advertising at `now` (§6.2.4: the interface became an advertising interface). */
  constructor(opts: RouterAdvertiserOptions, now: Instant) {
    if (opts === null || typeof opts !== 'object') throw new TypeError('RouterAdvertiser: opts must be an object');
    if (opts.rng === undefined) throw new TypeError('RouterAdvertiser: opts.rng is required');
    this.maxInterval = opts.maxInterval ?? sec(600);
    // §6.2.1: MaxRtrAdvInterval is 4..1800 s.
    if (!(this.maxInterval >= sec(4) && this.maxInterval <= sec(1800))) throw new RangeError(`RouterAdvertiser: maxInterval must be 4..1800 s, got ${this.maxInterval} µs`);
    this.minInterval = Math.max(sec(3), this.maxInterval / 3);
    this.rng = opts.rng;
    // Built once: the advertisement never changes (emitRouterAdvert validates the options).
    this.packet = emitRouterAdvert({
      source: opts.source,
      destination: 'ff02::1',
      lladdr: opts.lladdr,
      mtu: opts.mtu,
      prefixes: opts.prefixes,
      dns: opts.dns,
      dnsLifetime: opts.dns && opts.dns.length > 0 ? Math.ceil((3 * this.maxInterval) / 1e6) : undefined,
      routerLifetime: opts.routerLifetime,
    });
    this.next = now;
  }

  /**
   * Offer an IPv6 packet that may be a router solicitation (ICMPv6 type 133). Returns true when it
   * was one (valid or not: an invalid one is counted and dropped).
   */
  onPacket(pkt: Uint8Array, now: Instant): boolean {
    if (pkt.length < 41 || pkt[0]! >> 4 !== 6 || pkt[6] !== 58 || pkt[40] !== 133) return false;
    const rs = parseRouterSolicit(pkt);
    if (typeof rs === 'string') {
      this.counters.solicitsDropped[rs] = (this.counters.solicitsDropped[rs] ?? 0) + 1;
      return true;
    }
    this.counters.solicitsReceived++;
    // §6.2.6: answer after a random delay of up to MAX_RA_DELAY_TIME, and no sooner than
    // MIN_DELAY_BETWEEN_RAS after the last multicast RA; an earlier scheduled RA serves as well.
    const at = Math.max(now + this.rng.int(0, MAX_RA_DELAY_TIME), this.lastSent + MIN_DELAY_BETWEEN_RAS);
    if (at < this.next) this.next = at;
    return true;
  }

  /** When `poll` next has something to send. */
  nextDeadline(): Instant {
    return this.next;
  }

  /** The advertisements due at `now` (zero or one), to ff02::1. */
  poll(now: Instant): Uint8Array[] {
    if (now < this.next || this.next === NEVER) return [];
    this.lastSent = now;
    this.counters.advertsSent++;
    // §6.2.4: a random interval in [Min, Max]; the first few capped at MAX_INITIAL_RTR_ADVERT_INTERVAL.
    let interval = this.minInterval + this.rng.int(0, Math.floor(this.maxInterval - this.minInterval));
    if (this.initialLeft > 0) {
      this.initialLeft--;
      interval = Math.min(interval, MAX_INITIAL_RTR_ADVERT_INTERVAL);
    }
    this.next = now + interval;
    return [this.packet.slice()];
  }
}
