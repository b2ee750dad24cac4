/**
 * Router solicitation (ICMPv6 type 133) and router advertisement (134), RFC 4861 §4.1-§4.2, with
 * the options a user-mode router announces: source link-layer address (§4.6.1), prefix
 * information (§4.6.2, on-link and autonomous for SLAAC, RFC 4862), MTU (§4.6.4) and recursive
 * DNS servers (RFC 8106 §5.1). Packets are whole IPv6 packets (no Ethernet header): the
 * Ethernet adapter frames them. Validation failures are reasons, never exceptions.
 */
import { formatAddr, parseAddr } from './addr.js';
import { finishChecksum, pseudoHeaderSum, pseudoHeaderSumAt, sum16 } from './checksum.js';
import { emitIpv6Header, IPV6_HEADER_LEN, IPPROTO_ICMPV6 } from './ip.js';

/** ICMPv6's protocol number, defined once in ip.ts (re-exported for NDP users). */
export { IPPROTO_ICMPV6 };
export const ICMPV6_ROUTER_SOLICIT = 133;
export const ICMPV6_ROUTER_ADVERT = 134;

/** Named offsets of an RA, relative to the ICMPv6 header (RFC 4861 §4.2). */
export const RaField = {
  TYPE: 0,
  CODE: 1,
  CHECKSUM: 2,
  CUR_HOP_LIMIT: 4,
  FLAGS: 5,
  ROUTER_LIFETIME: 6,
  REACHABLE_TIME: 8,
  RETRANS_TIMER: 12,
  OPTIONS: 16,
} as const;
/** RS: type, code, checksum, 4 reserved octets, then options (§4.1). */
export const RS_OPTIONS = 8;

/** Option types (RFC 4861 §4.6, RFC 8106 §5.1). */
export const NdOpt = {
  SOURCE_LLADDR: 1,
  PREFIX_INFO: 3,
  MTU: 5,
  RDNSS: 25,
} as const;

/** Prefix information flags (§4.6.2). */
export const PrefixFlag = { ON_LINK: 0x80, AUTONOMOUS: 0x40 } as const;

export type RsDropReason = 'rs-truncated' | 'rs-bad-hop-limit' | 'rs-bad-checksum' | 'rs-bad-code' | 'rs-bad-option' | 'rs-unspecified-with-lladdr' | 'rs-not-icmpv6';

export interface RouterSolicit {
  /** Source address text ('::' before the host has an address). */
  source: string;
  /** The source link-layer address option, when present. */
  lladdr: Uint8Array | null;
}

/**
 * Validate a router solicitation (RFC 4861 §6.1.1): hop limit 255, checksum, code 0, at least 8
 * octets, every option of non-zero length, and no source link-layer option from '::'.
 */
export function parseRouterSolicit(pkt: Uint8Array): RouterSolicit | RsDropReason {
  if (pkt.length < IPV6_HEADER_LEN + RS_OPTIONS || pkt[0]! >> 4 !== 6) return 'rs-truncated';
  if (pkt[6] !== IPPROTO_ICMPV6) return 'rs-not-icmpv6';
  const len = (pkt[4]! << 8) | pkt[5]!;
  if (len < RS_OPTIONS || IPV6_HEADER_LEN + len > pkt.length) return 'rs-truncated';
  if (pkt[IPV6_HEADER_LEN] !== ICMPV6_ROUTER_SOLICIT) return 'rs-not-icmpv6';
  if (pkt[7] !== 255) return 'rs-bad-hop-limit';
  const m = IPV6_HEADER_LEN;
  if (finishChecksum(sum16(pkt, m, len, pseudoHeaderSumAt(pkt, 8, 24, 16, IPPROTO_ICMPV6, len))) !== 0) return 'rs-bad-checksum';
  if (pkt[m + 1] !== 0) return 'rs-bad-code';
  let lladdr: Uint8Array | null = null;
  for (let o = m + RS_OPTIONS, end = m + len; o < end; ) {
    if (o + 2 > end) return 'rs-bad-option';
    const olen = pkt[o + 1]! * 8;
    if (olen === 0 || o + olen > end) return 'rs-bad-option';
    if (pkt[o] === NdOpt.SOURCE_LLADDR && olen >= 8) lladdr = pkt.slice(o + 2, o + 8);
    o += olen;
  }
  let unspecified = true;
  for (let i = 8; i < 24; i++) if (pkt[i] !== 0) unspecified = false;
  if (unspecified && lladdr !== null) return 'rs-unspecified-with-lladdr';
  return { source: formatAddr(pkt, 8, 16), lladdr };
}

export interface PrefixInfo {
  /** 'fd00::/64'. */
  prefix: string;
  onLink?: boolean;
  autonomous?: boolean;
  /** Seconds; 0xffffffff is infinity (§4.6.2). Defaults 86400 / 14400 (radvd's). */
  validLifetime?: number;
  preferredLifetime?: number;
}

export interface RouterAdvert {
  /** Router's link-local source address (RFC 4861 §6.1.2: an RA comes from a link-local address). */
  source: string;
  /** ff02::1, or the soliciting host's address. */
  destination: string;
  /** Cur Hop Limit for hosts (0: unspecified). Default 64. */
  curHopLimit?: number;
  /** Seconds this router is a default router; 0: not one (§4.2). Default 1800 (3 × MaxRtrAdvInterval). */
  routerLifetime?: number;
  /** Our MAC for the source link-layer address option. */
  lladdr?: Uint8Array;
  mtu?: number;
  prefixes?: PrefixInfo[];
  /** RFC 8106: recursive DNS servers and their lifetime in seconds (default 3 × 600). */
  dns?: string[];
  dnsLifetime?: number;
}

function addr16(s: string, what: string): Uint8Array {
  const b = parseAddr(s);
  if (b === null || b.length !== 16) throw new TypeError(`emitRouterAdvert: ${what} must be an IPv6 address, got ${JSON.stringify(s)}`);
  return b;
}

function u32(b: Uint8Array, o: number, v: number): void {
  b[o] = v >>> 24;
  b[o + 1] = (v >>> 16) & 0xff;
  b[o + 2] = (v >>> 8) & 0xff;
  b[o + 3] = v & 0xff;
}

function uint(v: number | undefined, dflt: number, max: number, what: string): number {
  const x = v ?? dflt;
  if (!Number.isInteger(x) || x < 0 || x > max) throw new RangeError(`emitRouterAdvert: ${what} must be an integer 0..${max}, got ${x}`);
  return x;
}

/** A whole IPv6 packet holding the router advertisement `ra` (hop limit 255, checksum set). */
export function emitRouterAdvert(ra: RouterAdvert): Uint8Array {
  const src = addr16(ra.source, 'source');
  if (!(src[0] === 0xfe && (src[1]! & 0xc0) === 0x80)) throw new TypeError(`emitRouterAdvert: source must be link-local (RFC 4861 §6.1.2), got ${ra.source}`);
  const dst = addr16(ra.destination, 'destination');
  const prefixes = ra.prefixes ?? [];
  const dns = (ra.dns ?? []).map((d) => addr16(d, 'dns'));
  let len = RaField.OPTIONS + (ra.lladdr ? 8 : 0) + (ra.mtu !== undefined ? 8 : 0) + prefixes.length * 32 + (dns.length > 0 ? 8 + 16 * dns.length : 0);
  const pkt = new Uint8Array(IPV6_HEADER_LEN + len);
  emitIpv6Header(pkt, 0, src, dst, IPPROTO_ICMPV6, len, 255);
  const m = IPV6_HEADER_LEN;
  pkt[m + RaField.TYPE] = ICMPV6_ROUTER_ADVERT;
  pkt[m + RaField.CUR_HOP_LIMIT] = uint(ra.curHopLimit, 64, 255, 'curHopLimit');
  // M and O clear: addresses by SLAAC, no DHCPv6 (§4.2).
  const life = uint(ra.routerLifetime, 1800, 9000, 'routerLifetime');
  pkt[m + RaField.ROUTER_LIFETIME] = life >> 8;
  pkt[m + RaField.ROUTER_LIFETIME + 1] = life & 0xff;
  let o = m + RaField.OPTIONS;
  if (ra.lladdr) {
    if (!(ra.lladdr instanceof Uint8Array) || ra.lladdr.length !== 6) throw new TypeError('emitRouterAdvert: lladdr must be 6 bytes');
    pkt[o] = NdOpt.SOURCE_LLADDR;
    pkt[o + 1] = 1;
    pkt.set(ra.lladdr, o + 2);
    o += 8;
  }
  if (ra.mtu !== undefined) {
    // RFC 8200 §5: no IPv6 link has an MTU below 1280.
    pkt[o] = NdOpt.MTU;
    pkt[o + 1] = 1;
    const mtu = uint(ra.mtu, 0, 0xffffffff, 'mtu');
    if (mtu < 1280) bad('mtu (IPv6 needs at least 1280)', mtu);
    u32(pkt, o + 4, mtu);
    o += 8;
  }
  for (const p of prefixes) o = writePrefix(pkt, o, p);
  if (dns.length > 0) {
    // RFC 8106 §5.1: length is 1 + 2 × addresses (8-octet units); lifetime default 3 × MaxRtrAdvInterval.
    pkt[o] = NdOpt.RDNSS;
    pkt[o + 1] = 1 + 2 * dns.length;
    u32(pkt, o + 4, uint(ra.dnsLifetime, 1800, 0xffffffff, 'dnsLifetime'));
    dns.forEach((d, i) => pkt.set(d, o + 8 + 16 * i));
    o += 8 + 16 * dns.length;
  }
  len = o - m;
  const c = finishChecksum(sum16(pkt, m, len, pseudoHeaderSum(src, dst, IPPROTO_ICMPV6, len)));
  pkt[m + RaField.CHECKSUM] = c >> 8;
  pkt[m + RaField.CHECKSUM + 1] = c & 0xff;
  return pkt;
}

function bad(what: string, v: unknown): never {
  throw new RangeError(`emitRouterAdvert: ${what} is out of range: ${String(v)}`);
}

function writePrefix(pkt: Uint8Array, o: number, p: PrefixInfo): number {
  const m = /^(.+)\/(\d{1,3})$/.exec(typeof p.prefix === 'string' ? p.prefix : '');
  const bytes = m ? parseAddr(m[1]!) : null;
  const plen = m ? Number(m[2]) : -1;
  if (bytes === null || bytes.length !== 16 || plen > 128) throw new TypeError(`emitRouterAdvert: prefix must be ADDR/LEN (IPv6), got ${JSON.stringify(p.prefix)}`);
  const valid = uint(p.validLifetime, 86400, 0xffffffff, 'validLifetime');
  const preferred = uint(p.preferredLifetime, 14400, 0xffffffff, 'preferredLifetime');
  // §4.6.2: the preferred lifetime must not exceed the valid lifetime.
  if (preferred > valid) bad('preferredLifetime (above validLifetime)', preferred);
  pkt[o] = NdOpt.PREFIX_INFO;
  pkt[o + 1] = 4;
  pkt[o + 2] = plen;
  pkt[o + 3] = ((p.onLink ?? true) ? PrefixFlag.ON_LINK : 0) | ((p.autonomous ?? true) ? PrefixFlag.AUTONOMOUS : 0);
  u32(pkt, o + 4, valid);
  u32(pkt, o + 8, preferred);
  // Bits past the prefix length are zero (§4.6.2: "the bits in the prefix after the prefix length are reserved").
  for (let i = 0; i < 16; i++) {
    const keep = Math.max(0, Math.min(8, plen - 8 * i));
    pkt[o + 16 + i] = bytes[i]! & ((0xff00 >> keep) & 0xff);
  }
  return o + 32;
}

/** The options of an RA packet as (type, body) pairs, for tests and tools; null when malformed. */
export function routerAdvertOptions(pkt: Uint8Array): { type: number; body: Uint8Array }[] | null {
  if (pkt.length < IPV6_HEADER_LEN + RaField.OPTIONS || pkt[IPV6_HEADER_LEN] !== ICMPV6_ROUTER_ADVERT) return null;
  const end = IPV6_HEADER_LEN + ((pkt[4]! << 8) | pkt[5]!);
  if (end > pkt.length) return null;
  const out: { type: number; body: Uint8Array }[] = [];
  for (let o = IPV6_HEADER_LEN + RaField.OPTIONS; o < end; ) {
    const olen = (pkt[o + 1] ?? 0) * 8;
    if (olen === 0 || o + olen > end) return null;
    out.push({ type: pkt[o]!, body: pkt.subarray(o + 2, o + olen) });
    o += olen;
  }
  return out;
}
