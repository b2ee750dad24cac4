/**
 * Run a synack Stack on a TUN or TAP device in real time: open the device (optionally inside a
 * network namespace), configure the kernel side with `ip` (IPv4 and/or IPv6), stack the link
 * wrappers, start a NodeDriver. Used by `synack tun`, `synack tap`, the interop tests and
 * bench/tun.ts.
 *
 *   kernel  ⇄  TUN fd  ⇄  pcapLink (what is on the wire)  ⇄  faultLink (our side's loss/delay)  ⇄  Stack
 *   kernel  ⇄  TAP fd  ⇄  pcapLink (Ethernet)  ⇄  faultLink  ⇄  EthernetInterface (ARP/NDP)  ⇄  Stack
 */
import { NodeDriver } from '../driver/node-driver.js';
import { faultLink, type FaultConfig } from '../link/fault.js';
import type { Link } from '../link/link.js';
import { EthernetInterface } from '../link/ethernet.js';
import { LINKTYPE_ETHERNET, LINKTYPE_RAW, pcapLink } from '../link/pcap.js';
import { pcapFile } from '../link/pcap-file.js';
import { configureTun, openTap, openTun, type TunLink } from '../link/tun.js';
import { canonicalAddr, formatAddr, parseAddr } from '../wire/addr.js';
import { Rng } from '../rng.js';
import type { Stack } from '../stack/stack.js';
import type { TcpConfig } from '../tcp/config.js';

/** The device, addresses, capture, impairments and TCP options of `startTunStack`. */
export interface TunStackOptions {
  /** Device name (default: kernel's choice). */
  dev?: string;
  /** Network namespace (a name under /run/netns) for the device; default our own. */
  netns?: string;
  /** The stack's IPv4 address with prefix, e.g. 10.77.0.2/24 (at least one of addr, addr6). */
  addr?: string;
  /** The stack's IPv6 address with prefix, e.g. fd00:77::2/64. */
  addr6?: string;
  /** The kernel side's IPv4 address, optionally with a prefix (default: .1 of the subnet, or .2 when the stack is .1). */
  peer?: string;
  /** The kernel side's IPv6 address, optionally with a prefix (default: ::1 of the prefix, or ::2 when the stack is ::1). */
  peer6?: string;
  /**
   * Default gateway(s), at most one per family (default: the peers). Only a TAP device resolves
   * next hops; on a TUN device (point to point) every packet goes to the kernel anyway.
   */
  gateway?: string | string[];
  /** Our MAC on a TAP device (default: a locally administered one from the seed). */
  mac?: string;
  mtu?: number;
  /** Configure the device with `ip` (address, mtu, up). Default true. */
  configure?: boolean;
  pcap?: string;
  fault?: FaultConfig;
  seed?: number;
  tcp?: Partial<TcpConfig>;
  /**
   * Negotiate the kernel's offloads (partial checksums, TSO/GSO packets; openTun's `offload`).
   * Default true, except with `fault.corrupt`: corruption injected above the device must be
   * caught by the stack's checksums, which an offloading link tells it to skip.
   */
  offload?: boolean;
  /** Busy polling after each packet, µs (openTun's `busyPoll`; default 0: off). */
  busyPoll?: number;
}

/** A running stack on a TUN device (what `startTunStack` returns). */
export interface TunStack {
  stack: Stack;
  driver: NodeDriver;
  /** The device (for TAP: the frame link under the Ethernet interface). */
  tun: TunLink;
  kind: 'tun' | 'tap';
  /** The Ethernet interface (ARP/NDP, neighbour table) on a TAP device; null on TUN. */
  eth: EthernetInterface | null;
  /** The stack's IPv4 address (no prefix), or its IPv6 one when it has no IPv4. */
  address: string;
  /** The kernel side's address of the same family as `address`. */
  peer: string;
  address6: string | null;
  peer6: string | null;
  /** Stop the driver, close the device (it disappears) and the capture. Idempotent. */
  close(): void;
}

interface HostCidr {
  address: string;
  prefix: number;
}

/** "10.77.0.2/24" → { address, prefix } (IPv4; the prefix defaults to 24). */
export function parseCidr(s: string): HostCidr {
  const m = /^(\d{1,3}(?:\.\d{1,3}){3})(?:\/(\d{1,2}))?$/.exec(s);
  if (m === null || m[1]!.split('.').some((o) => Number(o) > 255)) throw new RangeError(`'${s}' is not an IPv4 address with an optional /prefix`);
  const prefix = m[2] === undefined ? 24 : Number(m[2]);
  if (prefix < 1 || prefix > 30) throw new RangeError(`prefix /${prefix} must be 1..30 (the kernel and the stack need a shared subnet)`);
  return { address: m[1]!, prefix };
}

/** "fd00:77::2/64" → { address (canonical), prefix } (IPv6; the prefix defaults to 64). */
export function parseCidr6(s: string): HostCidr {
  const slash = s.indexOf('/');
  const text = slash < 0 ? s : s.slice(0, slash);
  const address = text.includes(':') ? canonicalAddr(text) : null;
  if (address === null) throw new RangeError(`'${s}' is not an IPv6 address with an optional /prefix`);
  const pfx = slash < 0 ? '64' : s.slice(slash + 1);
  const prefix = Number(pfx);
  if (!/^\d{1,3}$/.test(pfx) || prefix < 1 || prefix > 126) throw new RangeError(`prefix /${pfx} must be 1..126 (the kernel and the stack need a shared prefix)`);
  if (address.startsWith('ff') || address === '::' || address === '::1') throw new RangeError(`${address} cannot be a host address`);
  return { address, prefix };
}

function defaultPeer(address: string): string {
  const o = address.split('.').map(Number);
  o[3] = o[3] === 1 ? 2 : 1;
  return o.join('.');
}

function defaultPeer6(address: string): string {
  const b = parseAddr(address)!;
  const one = b.slice(0, 14).every((v, i) => i < 8 || v === 0) && b[14] === 0 && b[15] === 1;
  b.fill(0, 8);
  b[15] = one ? 2 : 1;
  return formatAddr(b, 0, 16);
}

/** A peer given as "A" or "A/P": the address, checked against the family. */
function peerAddress(s: string, v6: boolean): string {
  try {
    return (v6 ? parseCidr6(s.includes('/') ? s : `${s}/64`) : parseCidr(s.includes('/') ? s : `${s}/24`)).address;
  } catch (e) {
    throw new RangeError(`${v6 ? 'peer6' : 'peer'}: ${(e as Error).message.replace(/\/(24|64)' is/, "' is")}`);
  }
}

/** A locally administered unicast MAC (02:…) from the seed, so runs are reproducible. */
function macFromSeed(seed: number): string {
  const r = new Rng(seed ^ 0x3ac);
  const b = [0x02, r.int(0, 255), r.int(0, 255), r.int(0, 255), r.int(0, 255), r.int(0, 255)];
  return b.map((v) => v.toString(16).padStart(2, '0')).join(':');
}

/** synack on a TUN device (raw IP, point to point). */
export function startTunStack(opts: TunStackOptions): TunStack {
  return startDeviceStack('tun', opts);
}

/** synack on a TAP device: Ethernet frames, with ARP and NDP in an EthernetInterface. */
export function startTapStack(opts: TunStackOptions): TunStack {
  return startDeviceStack('tap', opts);
}

function startDeviceStack(kind: 'tun' | 'tap', opts: TunStackOptions): TunStack {
  if (opts.addr === undefined && opts.addr6 === undefined) throw new RangeError('give the stack an address: addr (IPv4) and/or addr6 (IPv6)');
  const v4 = opts.addr === undefined ? null : parseCidr(opts.addr);
  const v6 = opts.addr6 === undefined ? null : parseCidr6(opts.addr6);
  const peer = v4 === null ? null : opts.peer !== undefined ? peerAddress(opts.peer, false) : defaultPeer(v4.address);
  const peer6 = v6 === null ? null : opts.peer6 !== undefined ? peerAddress(opts.peer6, true) : defaultPeer6(v6.address);
  if (v4 !== null && peer === v4.address) throw new RangeError(`peer ${peer} must differ from the stack's address`);
  if (v6 !== null && peer6 === v6.address) throw new RangeError(`peer6 ${peer6} must differ from the stack's address`);
  if (v4 === null && opts.peer !== undefined) throw new RangeError('peer needs addr (an IPv4 address for the stack)');
  if (v6 === null && opts.peer6 !== undefined) throw new RangeError('peer6 needs addr6 (an IPv6 address for the stack)');
  const gateways = opts.gateway === undefined ? [peer, peer6].filter((g): g is string => g !== null) : Array.isArray(opts.gateway) ? opts.gateway : [opts.gateway];
  // Checked before the device exists (on TUN too, though a point-to-point device has no next hop to resolve).
  for (const g of gateways) if (canonicalAddr(g) === null) throw new RangeError(`gateway '${g}' is not an IP address`);
  const mtu = opts.mtu ?? 1500;
  const seed = opts.seed ?? Date.now() >>> 0;
  const dev = (kind === 'tap' ? openTap : openTun)({ name: opts.dev, mtu, netns: opts.netns, offload: opts.offload ?? !((opts.fault?.corrupt ?? 0) > 0), busyPoll: opts.busyPoll });
  let capture: ReturnType<typeof pcapFile> | null = null;
  let driver: NodeDriver | null = null;
  let eth: EthernetInterface | null = null;
  try {
    if (opts.configure ?? true) {
      configureTun({
        dev: dev.name,
        netns: opts.netns,
        addr: v4 === null ? undefined : `${peer}/${v4.prefix}`,
        addr6: v6 === null ? undefined : `${peer6}/${v6.prefix}`,
        mtu,
      });
    }
    driver = new NodeDriver();
    const d = driver;
    let link: Link = dev;
    if (opts.pcap !== undefined) {
      capture = pcapFile(opts.pcap, { linktype: kind === 'tap' ? LINKTYPE_ETHERNET : LINKTYPE_RAW });
      // pcap timestamps are wall-clock microseconds.
      link = pcapLink(link, capture.writer, () => Math.floor((performance.timeOrigin + performance.now()) * 1000));
    }
    const f = opts.fault ?? {};
    if ((f.loss ?? 0) > 0 || (f.delay ?? 0) > 0 || (f.reorder ?? 0) > 0 || (f.duplicate ?? 0) > 0 || (f.corrupt ?? 0) > 0) {
      link = faultLink(link, new Rng(seed ^ 0xfa17), f, (delay, fn) => void d.after(delay, fn));
    }
    const cidrs = [v4 && `${v4.address}/${v4.prefix}`, v6 && `${v6.address}/${v6.prefix}`].filter((c): c is string => c !== null);
    let addresses = [v4?.address, v6?.address].filter((a): a is string => a !== undefined);
    if (kind === 'tap') {
      eth = new EthernetInterface(link, { mac: opts.mac ?? macFromSeed(seed), addresses: cidrs, gateway: gateways, timers: d, rng: new Rng(seed ^ 0xe7) });
      link = eth.link;
      addresses = eth.hostAddresses();
    }
    // The stack routes (connected prefixes, the gateways as default routes) and hands each frame
    // its next hop; the Ethernet interface resolves that with ARP/NDP.
    const stack = d.createStack({ name: `synack@${dev.name}`, addresses: cidrs, gateway: gateways, seed, tcp: opts.tcp });
    d.attach(stack, link);
    let closed = false;
    const e = eth;
    return {
      stack,
      driver: d,
      tun: dev,
      kind,
      eth,
      address: v4?.address ?? v6!.address,
      peer: peer ?? peer6!,
      address6: v6?.address ?? null,
      peer6,
      close(): void {
        if (closed) return;
        closed = true;
        e?.close();
        d.close();
        dev.close();
        capture?.close();
      },
    };
  } catch (e) {
    eth?.close();
    driver?.close();
    dev.close();
    capture?.close();
    throw e;
  }
}
