/**
 * ICMP output rate limits on virtual time, as Linux applies them:
 *   - a global token bucket (LINUX icmp_global_allow: net.ipv4.icmp_msgs_per_sec 1000,
 *     icmp_msgs_burst 50), shared by ICMP and ICMPv6;
 *   - a per-destination bucket (LINUX inet_peer_xrlim_allow: one message per
 *     net.ipv4.icmp_ratelimit / net.ipv6.icmp.ratelimit = 1000 ms, bursts of XRLIM_BURST_FACTOR 6).
 * Only the types in the rate mask are limited (LINUX icmp_ratemask 0x1818: dest unreachable,
 * source quench, time exceeded, parameter problem; ICMPv6 ratemask "0-1,3-127": every error but
 * Packet Too Big). Destinations on lo are never limited (LINUX icmpv4_xrlim_allow).
 */
import { ms, sec, type Duration, type Instant } from '../time.js';

export const ICMP_MSGS_PER_SEC = 1000;
export const ICMP_MSGS_BURST = 50;
export const ICMP_RATELIMIT: Duration = ms(1000);
const XRLIM_BURST_FACTOR = 6;
/** Destinations remembered (LINUX inet_peer pool is bounded too); beyond it the table restarts. */
const MAX_PEERS = 4096;

export function rateLimited(version: 4 | 6, type: number): boolean {
  if (version === 4) return ((0x1818 >> type) & 1) === 1 && type < 32;
  return type < 128 && type !== 2;
}

export class IcmpRateLimiter {
  private credit = ICMP_MSGS_BURST;
  private lastRefill: Instant = 0;
  private readonly peers = new Map<string, { tokens: number; last: Instant }>();

  /** May an error of this kind go to `dst` now? Returns 'ok' or which limit refused it. */
  allow(dst: string, now: Instant): 'ok' | 'global' | 'host' {
    // Global bucket first (LINUX icmp_global_allow is checked before the per-peer one).
    const earned = ((now - this.lastRefill) * ICMP_MSGS_PER_SEC) / sec(1);
    if (earned >= 1) {
      this.credit = Math.min(ICMP_MSGS_BURST, this.credit + Math.floor(earned));
      this.lastRefill = now;
    }
    if (this.credit <= 0) return 'global';
    let p = this.peers.get(dst);
    if (p === undefined) {
      if (this.peers.size >= MAX_PEERS) this.peers.clear();
      p = { tokens: XRLIM_BURST_FACTOR * ICMP_RATELIMIT, last: now };
      this.peers.set(dst, p);
    } else {
      p.tokens = Math.min(XRLIM_BURST_FACTOR * ICMP_RATELIMIT, p.tokens + (now - p.last));
      p.last = now;
    }
    if (p.tokens < ICMP_RATELIMIT) return 'host';
    p.tokens -= ICMP_RATELIMIT;
    this.credit--;
    return 'ok';
  }
}
