/**
 * The guest network's plan in one place (slirp's conventions, with passt's IPv6): from the
 * subnets, the addresses every piece uses — gateway .2 and DNS .3 (fd00::2, fd00::3 in IPv6), the
 * DHCP pool from .15 — the options for DhcpServer and RouterAdvertiser, and what a destination the
 * guest connects to means: the gateway stands for the host's loopback (as slirp's 10.0.2.2 does,
 * refusable with `hostLoopback: false`), the DNS address is the forwarder, everything else is
 * relayed to that address.
 */
import { canonicalAddr, parseAddr } from '../wire/addr.js';
import type { PrefixInfo } from '../wire/ndp-ra.js';
import type { DhcpServerOptions } from './dhcp-server.js';

export interface GuestNetOptions {
  /** IPv4 subnet, at most /29 wide enough for .2, .3 and a pool from .15. Default 10.0.2.0/24. */
  net?: string;
  /** IPv6 subnet for SLAAC (a /64, RFC 4862 §5.5.3), or null for no IPv6. Default fd00::/64. */
  net6?: string | null;
  /** Guest MTU (DHCP option 26, RA MTU option). Default 1500. */
  mtu?: number;
  /** Whether the gateway addresses reach the host's loopback. Default true. */
  hostLoopback?: boolean;
  /** Addresses in the DHCP pool. Default 16 (slirp's NB_BOOTP_CLIENTS). */
  poolSize?: number;
}

export type Destination = 'gateway' | 'dns' | 'guest-net' | 'outside';

function cidr(s: string, family: 4 | 6, what: string): { bytes: Uint8Array; prefix: number } {
  const m = typeof s === 'string' ? /^([^/]+)\/(\d{1,3})$/.exec(s) : null;
  const bytes = m ? parseAddr(m[1]!) : null;
  if (bytes === null || bytes.length !== (family === 4 ? 4 : 16)) throw new TypeError(`GuestNet: ${what} must be an IPv${family} ADDR/LEN, got ${JSON.stringify(s)}`);
  return { bytes, prefix: Number(m![2]) };
}

function withHost(net: Uint8Array, host: number): string {
  const b = net.slice();
  // The host part goes into the last octets (small numbers: 2, 3, 15…).
  for (let i = b.length - 1, h = host; h > 0; i--, h = Math.floor(h / 256)) b[i] = b[i]! | (h & 0xff);
  return canonicalAddr(b.length === 4 ? [...b].join('.') : v6Text(b))!;
}

function v6Text(b: Uint8Array): string {
  const words: string[] = [];
  for (let i = 0; i < 16; i += 2) words.push(((b[i]! << 8) | b[i + 1]!).toString(16));
  return words.join(':');
}

function inPrefix(a: Uint8Array, net: Uint8Array, prefix: number): boolean {
  if (a.length !== net.length) return false;
  for (let i = 0; i < a.length; i++) {
    const keep = Math.max(0, Math.min(8, prefix - 8 * i));
    const mask = (0xff00 >> keep) & 0xff;
    if ((a[i]! & mask) !== (net[i]! & mask)) return false;
  }
  return true;
}

export class GuestNet {
  readonly net: string;
  readonly prefixLength: number;
  readonly gateway: string;
  readonly dns: string;
  readonly poolStart: string;
  readonly poolSize: number;
  readonly net6: string | null;
  readonly gateway6: string | null;
  readonly dns6: string | null;
  /** The router's link-local address (RFC 4861 §6.1.2: RAs come from one). */
  readonly routerLinkLocal = 'fe80::2';
  readonly mtu: number;
  readonly hostLoopback: boolean;
  private readonly netBytes: Uint8Array;
  private readonly net6Bytes: Uint8Array | null;

  constructor(opts: GuestNetOptions = {}) {
    const v4 = cidr(opts.net ?? '10.0.2.0/24', 4, 'net');
    this.poolSize = opts.poolSize ?? 16;
    if (!Number.isInteger(this.poolSize) || this.poolSize < 1) throw new RangeError(`GuestNet: poolSize must be a positive integer, got ${this.poolSize}`);
    // Room for the network address, .2, .3, the pool from .15 and the broadcast address.
    if (v4.prefix > 32 || 2 ** (32 - v4.prefix) < 15 + this.poolSize + 1) throw new RangeError(`GuestNet: net ${opts.net} is too small for the gateway, DNS and a pool of ${this.poolSize} from .15`);
    this.netBytes = v4.bytes.map((x, i) => x & ((0xff00 >> Math.max(0, Math.min(8, v4.prefix - 8 * i))) & 0xff));
    this.prefixLength = v4.prefix;
    this.net = `${[...this.netBytes].join('.')}/${v4.prefix}`;
    this.gateway = withHost(this.netBytes, 2);
    this.dns = withHost(this.netBytes, 3);
    this.poolStart = withHost(this.netBytes, 15);
    const n6 = opts.net6 === undefined ? 'fd00::/64' : opts.net6;
    if (n6 === null) {
      this.net6 = this.gateway6 = this.dns6 = null;
      this.net6Bytes = null;
    } else {
      const v6 = cidr(n6, 6, 'net6');
      // RFC 4862 §5.5.3: SLAAC forms a 128-bit address from a 64-bit prefix and interface identifier.
      if (v6.prefix !== 64) throw new RangeError(`GuestNet: net6 must be a /64 (SLAAC), got /${v6.prefix}`);
      this.net6Bytes = v6.bytes.map((x, i) => (i < 8 ? x : 0));
      this.net6 = `${canonicalAddr(v6Text(this.net6Bytes))}/64`;
      this.gateway6 = withHost(this.net6Bytes, 2);
      this.dns6 = withHost(this.net6Bytes, 3);
    }
    this.mtu = opts.mtu ?? 1500;
    if (!Number.isInteger(this.mtu) || this.mtu < (this.net6 ? 1280 : 576) || this.mtu > 65520) throw new RangeError(`GuestNet: mtu must be an integer ${this.net6 ? 1280 : 576}..65520, got ${opts.mtu}`);
    this.hostLoopback = opts.hostLoopback ?? true;
  }

  /** Options for the guest's DHCP server. */
  dhcpOptions(): DhcpServerOptions {
    return { serverAddr: this.gateway, prefixLength: this.prefixLength, poolStart: this.poolStart, poolSize: this.poolSize, router: this.gateway, dns: [this.dns], mtu: this.mtu };
  }

  /** The prefix, MTU and DNS options of the router advertisements (null without IPv6). */
  raOptions(): { source: string; prefixes: PrefixInfo[]; mtu: number; dns: string[] } | null {
    if (this.net6 === null) return null;
    return { source: this.routerLinkLocal, prefixes: [{ prefix: this.net6 }], mtu: this.mtu, dns: [this.dns6!] };
  }

  /** What a destination the guest sends to is. */
  classify(addr: string): Destination {
    const c = canonicalAddr(addr);
    if (c === null) throw new TypeError(`GuestNet.classify: ${JSON.stringify(addr)} is not an IP address`);
    if (c === this.gateway || c === this.gateway6 || c === this.routerLinkLocal) return 'gateway';
    if (c === this.dns || c === this.dns6) return 'dns';
    const b = parseAddr(c)!;
    if (inPrefix(b, this.netBytes, this.prefixLength) || (this.net6Bytes !== null && inPrefix(b, this.net6Bytes, 64))) return 'guest-net';
    return 'outside';
  }

  /**
   * The host address a guest connection to `addr` is relayed to: the host's loopback for the
   * gateway (127.0.0.1 / ::1), the address itself outside; null when nothing on the host stands
   * for it (the gateway with hostLoopback off, the DNS address — answered by the forwarder — and
   * the rest of the guest subnet).
   */
  hostAddressFor(addr: string): string | null {
    switch (this.classify(addr)) {
      case 'gateway':
        return this.hostLoopback ? (addr.includes(':') ? '::1' : '127.0.0.1') : null;
      case 'outside':
        return canonicalAddr(addr);
      default:
        return null;
    }
  }
}
