/**
 * A network interface (LINUX struct net_device + in_device/inet6_dev, smoltcp's Interface): a
 * link, the addresses assigned on it with their prefix lengths, and a MAC where the link has one.
 */
import type { Link } from '../link/link.js';
import { canonicalAddr, parseAddr } from '../wire/addr.js';

export interface IfAddr {
  /** Canonical text of the address. */
  readonly addr: string;
  readonly bytes: Uint8Array;
  readonly prefixLen: number;
  readonly version: 4 | 6;
}

export class Interface {
  /** Addresses in the order they were added. */
  readonly addrs: IfAddr[] = [];
  /** The link's MAC address (Ethernet links), null on raw-IP links. */
  mac: Uint8Array | null = null;
  /**
   * Accept TCP and UDP datagrams to any unicast destination arriving here as if addressed to
   * this host (smoltcp's `any_ip`, gVisor's promiscuous NIC under tcp.NewForwarder): the
   * transport layer then hands what no socket claims to the stack's forwarder. User-mode
   * networking turns it on for the guest-facing interface. ICMP is not included: an echo to a
   * foreign address must not be answered as ours (it goes to the IP layer's forwardHook).
   */
  anyIp = false;
  /**
   * The root qdisc `tc qdisc add dev NAME root pfifo limit N` set (null: the default). The link
   * takes each frame at once, so only a queue with no room drops: limit 0 drops every frame
   * sent here (LINUX pfifo_enqueue → qdisc_drop: NET_XMIT_DROP back to the sender).
   */
  qdisc: { kind: 'pfifo'; limit: number } | null = null;

  /** Every frame sent here is dropped by the qdisc. */
  get egressDrops(): boolean {
    return this.qdisc !== null && this.qdisc.limit === 0;
  }

  constructor(
    readonly name: string,
    /** ifindex: 1 is lo, as on Linux. */
    readonly index: number,
    /** Null until a link is attached (frames sent meanwhile are dropped). */
    public link: Link | null,
    readonly loopback = false,
  ) {}

  get mtu(): number {
    return this.link?.mtu ?? 1500;
  }

  /** The first address of a family on this interface, or null. */
  primary(version: 4 | 6): IfAddr | null {
    for (const a of this.addrs) if (a.version === version) return a;
    return null;
  }
}

/**
 * Parse 'ADDR' or 'ADDR/LEN' (what `ip addr add` takes). Without a length the address stands
 * alone (/32, /128). A scope suffix ('fe80::1%eth0') is accepted and dropped: the interface
 * the address is given to is its scope. Throws a TypeError naming `what`.
 */
export function parseIfAddr(text: string, what: string): { addr: string; bytes: Uint8Array; prefixLen: number; version: 4 | 6; hasLen: boolean } {
  if (typeof text !== 'string') throw new TypeError(`${what}: expected 'ADDR' or 'ADDR/LEN', got ${String(text)}`);
  const slash = text.indexOf('/');
  const addrText = (slash >= 0 ? text.slice(0, slash) : text).replace(/%[^/]*$/, '');
  const addr = canonicalAddr(addrText);
  const bytes = addr === null ? null : parseAddr(addr);
  if (addr === null || bytes === null) throw new TypeError(`${what}: '${text}' is not an IP address`);
  const version = bytes.length === 4 ? 4 : 6;
  const max = version === 4 ? 32 : 128;
  let prefixLen = max;
  if (slash >= 0) {
    const lenText = text.slice(slash + 1);
    prefixLen = /^\d{1,3}$/.test(lenText) ? Number(lenText) : NaN;
    if (!(prefixLen >= 0 && prefixLen <= max)) throw new TypeError(`${what}: prefix length in '${text}' must be 0..${max}`);
  }
  return { addr, bytes, prefixLen, version, hasLen: slash >= 0 };
}

/** True when the first `len` bits of a and b agree (both 4 or both 16 bytes). */
export function prefixMatch(a: Uint8Array, b: Uint8Array, len: number): boolean {
  if (a.length !== b.length) return false;
  const whole = len >> 3;
  for (let i = 0; i < whole; i++) if (a[i] !== b[i]) return false;
  const rest = len & 7;
  if (rest === 0) return true;
  const mask = (0xff << (8 - rest)) & 0xff;
  return (a[whole]! & mask) === (b[whole]! & mask);
}
