/**
 * The IP layer of one host (smoltcp iface/interface/{ipv4,ipv6}.rs, gVisor network/ipv4+ipv6):
 * interfaces with their addresses, the routing table, the path MTU cache, the protocol-handler
 * table, input (validate, deliver locally or forward) and the one output function every
 * protocol sends through (`output`: route, source, header, fragmentation, link).
 *
 * Upper protocols register an IpHandler by IP protocol number (TCP 6, UDP 17, ICMP 1,
 * ICMPv6 58). A handler gets the parsed header view (`IpRepr`, valid only during the call) and
 * the frame; its payload is frame[ip.headerLength, ip.headerLength + ip.payloadLength).
 */
import type { Link } from '../link/link.js';
import { LoopbackLink } from '../link/loopback.js';
import { NEVER, type Instant } from '../time.js';
import { addrVersion, parseAddrInto } from '../wire/addr.js';
import {
  emitIpv4Header, emitIpv6Header, IPPROTO_ICMP, IPPROTO_ICMPV6, IPPROTO_TCP, IPPROTO_UDP, IPV4_DF, IPV4_HEADER_LEN, IPV6_HEADER_LEN, isFragment, newIpRepr, parseIpHeader,
  type DropReason, type IpRepr,
} from '../wire/ip.js';
import { Icmp4Type, Icmp6Type, isIcmpError, ParamProb6, Unreach4, Unreach6 } from '../wire/icmp.js';
import { IcmpEngine } from './icmp.js';
import { emitFragmentHeader, fragmentPlan, Reassembler } from './fragments.js';
import { Interface, parseIfAddr } from './iface.js';
import { isLinkLocal6, isLoopback, isMulticast, isThisNetwork4, isUnspecified } from './martians.js';
import { PathMtuCache } from './pmtu.js';
import { RouteTable, type Route } from './route.js';

import type { IpDropReason, Mib } from '../mib.js';
import { decrementTtl, nextHeaderPointer, parseIpHeaderLenient } from './header-ops.js';
export type { Mib };

export type { IcmpErrorInfo, IpHandler, OutputError, OutputOptions, PathInfo, PayloadWriter } from './types.js';
import type { IpHandler, OutputError, OutputOptions, PathInfo, PayloadWriter } from './types.js';

export const DEFAULT_TTL = 64;

export class IpLayer {
  readonly interfaces: Interface[] = [];
  readonly routes = new RouteTable();
  readonly pmtu = new PathMtuCache();
  readonly lo: Interface;
  /** ICMP and ICMPv6 (registered as protocols 1 and 58): echo, errors in and out, ping. */
  readonly icmp: IcmpEngine;
  /** Forward datagrams not addressed to us (a router: LINUX net.ipv4.ip_forward). */
  forwarding = false;
  /**
   * Sees every datagram not addressed to this host before forwarding (or dropping) does; return
   * true to take it (user-mode networking terminates guest flows here, as gVisor's
   * tcp.NewForwarder does). The header view and frame are valid only during the call.
   */
  forwardHook: ((ip: IpRepr, frame: Uint8Array, iface: Interface) => boolean) | null = null;
  private readonly loLink: LoopbackLink;
  private readonly handlers: (IpHandler | undefined)[] = new Array<IpHandler | undefined>(256);
  /** Bumped whenever an address is added (views cache the address list by it). */
  addrGeneration = 0;
  /** Every local address → its interface. */
  private readonly local = new Map<string, Interface>();
  private readonly rx = newIpRepr();
  /** The reassembled datagram's header view (input may nest: keep it apart from `rx`). */
  private readonly rxWhole = newIpRepr();
  readonly reasm: Reassembler;

  constructor(
    private readonly mib: Mib,
    private readonly now: () => Instant,
    /** Called for every dropped input datagram (counted by the caller as Drop.<reason>). */
    private readonly onDrop: (reason: DropReason | IpDropReason) => void,
  ) {
    this.loLink = new LoopbackLink();
    this.lo = this.addInterface('lo', this.loLink, ['127.0.0.1/8', '::1/128'], true);
    this.icmp = new IcmpEngine(this, mib, now);
    this.reasm = new Reassembler((first, v6) => {
      const ip = newIpRepr();
      if (parseIpHeaderLenient(first, ip)) this.icmp.sendError(ip, first, v6 ? Icmp6Type.TIME_EXCEEDED : Icmp4Type.TIME_EXCEEDED, 1);
    });
    this.register(IPPROTO_ICMP, this.icmp);
    this.register(IPPROTO_ICMPV6, this.icmp);
  }

  // ------------------------------------------------------------------ configuration

  /** Add an interface with its addresses ('ADDR/LEN'); connected routes are added for each. */
  addInterface(name: string, link: Link | null, addresses: string[], loopback = false): Interface {
    if (typeof name !== 'string' || name === '') throw new TypeError('name must be a non-empty string');
    if (this.interfaces.some((i) => i.name === name)) throw new TypeError(`name: interface '${name}' already exists`);
    const iface = new Interface(name, this.interfaces.length + 1, link, loopback);
    this.interfaces.push(iface);
    if (link !== null) this.bindLink(iface, link);
    for (const a of addresses) this.addAddress(iface, a);
    return iface;
  }

  /** Attach (or replace) the link of an interface; its frames come into `input`. */
  setLink(iface: Interface, link: Link): void {
    iface.link = link;
    this.bindLink(iface, link);
  }

  private bindLink(iface: Interface, link: Link): void {
    link.onReceive((frame) => {
      if (iface.link === link) this.input(frame, iface);
    });
  }

  /** `ip addr add ADDR/LEN dev IFACE`: the address, and a connected route for its prefix. */
  addAddress(iface: Interface, text: string): void {
    const p = parseIfAddr(text, 'address');
    if (this.local.has(p.addr)) throw new TypeError(`address: ${p.addr} is already assigned`);
    iface.addrs.push({ addr: p.addr, bytes: p.bytes, prefixLen: p.prefixLen, version: p.version });
    this.local.set(p.addr, iface);
    this.addrGeneration++;
    if (!iface.loopback) this.addBroadcast(p.bytes, p.prefixLen);
    if (p.prefixLen < (p.version === 4 ? 32 : 128) || iface.loopback) {
      this.routes.add(`${p.addr}/${p.prefixLen}`, iface, { kind: 'connected', source: p.addr });
    }
  }

  /** `ip route add DEST [via GW] dev IFACE`. */
  addRoute(dest: string, iface: Interface, gateway?: string): Route {
    return this.routes.add(dest, iface, gateway !== undefined ? { gateway } : {});
  }

  /** `ip route add unreachable DEST`: refuse it (EHOSTUNREACH here, ICMP host unreachable when forwarding). */
  addUnreachable(dest: string): Route {
    return this.routes.add(dest, this.lo, { kind: 'unreachable' });
  }

  iface(name: string): Interface | undefined {
    return this.interfaces.find((i) => i.name === name);
  }

  /** The interface owning a local address, or undefined. */
  ownerOf(addr: string): Interface | undefined {
    return this.local.get(addr);
  }

  isLocal(addr: string): boolean {
    return this.local.has(addr);
  }

  /** 255.255.255.255 or the directed broadcast of one of our IPv4 subnets (RFC 919, RFC 922). */
  isBroadcast(addr: string): boolean {
    return this.broadcasts.has(addr);
  }

  /** Limited broadcast plus each IPv4 subnet's directed broadcast (prefixes up to /30). */
  private readonly broadcasts = new Set<string>(['255.255.255.255']);

  private addBroadcast(bytes: Uint8Array, prefixLen: number): void {
    if (bytes.length !== 4 || prefixLen > 30) return;
    const b = bytes.slice();
    for (let bit = prefixLen; bit < 32; bit++) b[bit >> 3] = b[bit >> 3]! | (1 << (7 - (bit & 7)));
    this.broadcasts.add(b.join('.'));
  }

  /**
   * Multicast groups every host is in (RFC 1112 §4: all-hosts 224.0.0.1; RFC 4291 §2.8:
   * all-nodes ff02::1 and the solicited-node group of each of its addresses).
   */
  private inGroup(addr: string): boolean {
    return addr === '224.0.0.1' || addr === 'ff02::1' || addr.startsWith('ff02::1:ff');
  }

  /** Every local address, interfaces in order (lo first, as `ip addr` lists them). */
  addresses(): string[] {
    const out: string[] = [];
    for (const i of this.interfaces) for (const a of i.addrs) out.push(a.addr);
    return out;
  }

  register(protocol: number, h: IpHandler): void {
    if (!Number.isInteger(protocol) || protocol < 0 || protocol > 255) throw new RangeError(`protocol must be 0..255, got ${protocol}`);
    if (this.handlers[protocol] !== undefined) throw new TypeError(`protocol: ${protocol} already has a handler`);
    this.handlers[protocol] = h;
  }

  handler(protocol: number): IpHandler | undefined {
    return this.handlers[protocol];
  }

  // ------------------------------------------------------------------ routing

  /** Would a datagram to `dst` be dropped by its interface's qdisc (local congestion)? */
  egressDrops(dst: string): boolean {
    return this.qdiscs > 0 && this.path(dst)?.route.iface.egressDrops === true;
  }

  /** `tc qdisc add|del dev NAME root ...`: set or remove an interface's root qdisc. */
  setQdisc(iface: Interface, qdisc: Interface['qdisc']): void {
    iface.qdisc = qdisc;
    this.qdiscs = this.interfaces.filter((i) => i.qdisc !== null).length;
  }
  /** Interfaces with a qdisc of their own (0: egressDrops need not look the route up). */
  private qdiscs = 0;

  /**
   * The route, source and path MTU towards `dst` (canonical text), or null when no route
   * exists (ENETUNREACH). A local destination goes through lo (LINUX: the local table).
   */
  path(dst: string, via?: Interface): PathInfo | null {
    if (via !== undefined) return this.computePath(dst, via);
    // Memoized per destination until routes, addresses or path MTUs change (a connect asks for
    // its destination's path three times: the route check, the source, the MSS).
    if (this.pathGen !== this.routes.generation || this.pathAddrGen !== this.addrGeneration || this.pathPmtuVer !== this.pmtu.version) {
      this.pathMemo.clear();
      this.pathGen = this.routes.generation;
      this.pathAddrGen = this.addrGeneration;
      this.pathPmtuVer = this.pmtu.version;
    }
    const hit = this.pathMemo.get(dst);
    if (hit !== undefined) return hit;
    const p = this.computePath(dst);
    if (this.pathMemo.size >= 4096) this.pathMemo.clear();
    this.pathMemo.set(dst, p);
    return p;
  }

  private readonly pathMemo = new Map<string, PathInfo | null>();
  private pathGen = -1;
  private pathAddrGen = -1;
  private pathPmtuVer = -1;

  private computePath(dst: string, via?: Interface): PathInfo | null {
    const owner = this.local.get(dst);
    // RFC 4007 §6: a link-local destination is only meaningful with its zone (the interface).
    const scoped = via !== undefined && owner === undefined && isLinkLocal6(dst) ? this.onLinkRoute(via) : null;
    const route = scoped ?? (owner !== undefined ? this.loRoute(dst) : this.routes.lookupText(dst));
    if (route === null) return null;
    const v = addrVersion(dst) as 4 | 6;
    const src = owner !== undefined ? dst : scoped !== null ? (linkLocalOf(via!) ?? null) : (route.source ?? route.iface.primary(v)?.addr ?? this.anyAddress(v));
    if (src === null) return null;
    const linkMtu = linkMtuFor(route, v);
    const mtu = Math.min(linkMtu, this.pmtu.get(dst, this.now()) ?? linkMtu);
    return { route, src, mtu, nextHop: route.gateway ?? dst };
  }

  /** The fe80::/64 route of an interface (a link-local zone), or null. */
  private onLinkRoute(iface: Interface): Route | null {
    for (const r of this.routes.list()) if (r.iface === iface && r.version === 6 && r.prefixLen <= 64 && r.prefix[0] === 0xfe && (r.prefix[1]! & 0xc0) === 0x80) return r;
    return null;
  }

  private loRoute(dst: string): Route | null {
    for (const r of this.routes.list()) if (r.iface === this.lo && r.version === addrVersion(dst)) return r;
    return null;
  }

  /** Any address of the family on a non-loopback interface (LINUX inet_select_addr's fallback). */
  private anyAddress(v: 4 | 6): string | null {
    for (const i of this.interfaces) if (!i.loopback) for (const a of i.addrs) if (a.version === v) return a.addr;
    return null;
  }

  // ------------------------------------------------------------------ timers

  nextDeadline(): Instant {
    if (this.loLink.pending > 0) return this.now();
    return Math.min(NEVER, this.pmtu.nextDeadline(), this.icmp.nextDeadline(), this.reasm.nextDeadline());
  }

  /** Deadlines that are work (loopback delivery, pings, reassembly); PMTU expiry is housekeeping. */
  nextWorkDeadline(): Instant {
    if (this.loLink.pending > 0) return this.now();
    return Math.min(NEVER, this.icmp.nextDeadline(), this.reasm.nextDeadline());
  }

  onTimer(now: Instant): void {
    if (this.loLink.pending > 0) this.loLink.poll();
    this.pmtu.onTimer(now);
    this.icmp.onTimer(now);
    const expired = this.reasm.onTimer(now);
    if (expired > 0) {
      bump(this.mib, 'IpReasmTimeout', expired);
      bump(this.mib, 'IpReasmFails', expired);
    }
  }

  // ------------------------------------------------------------------ input

  /** An IP packet arrived on `iface` (RFC 791 §3.2, RFC 1122 §3.2.1, RFC 8200 §4). */
  input(frame: Uint8Array, iface: Interface): void {
    const ip = this.rx;
    const v6 = frame.length > 0 && frame[0]! >> 4 === 6;
    if (v6) this.mib.Ip6InReceives!++;
    else this.mib.IpInReceives!++;
    const verify = iface.link?.checksumOffload !== true;
    const reason = parseIpHeader(frame, ip, verify);
    if (reason !== null) return this.dropHdr(reason, v6);
    // The last datagram delivered locally had these addresses, on this interface, with the same
    // local addresses: its checks (local, broadcast, martian) hold again. A host sees the same
    // few address pairs over and over (the parser returns the same string for the same IPv4
    // address, so this is usually a pointer compare).
    if (ip.dst === this.rxOkDst && ip.src === this.rxOkSrc && iface === this.rxOkIface && this.addrGeneration === this.rxOkGen) {
      if (isFragment(ip)) return this.reassemble(ip, frame, iface);
      return this.deliver(ip, frame, iface);
    }
    const local = this.local.get(ip.dst);
    if (local === undefined && !this.isBroadcast(ip.dst) && !this.inGroup(ip.dst) && !this.anyIpInput(ip, iface, frame)) {
      if (this.forwardHook !== null && !this.martian(ip, iface) && this.forwardHook(ip, frame, iface)) return;
      if (this.forwarding && !this.martian(ip, iface)) return this.forward(ip, frame, iface);
      bump(this.mib, v6 ? 'Ip6InAddrErrors' : 'IpInAddrErrors');
      return this.drop('not-for-us');
    }
    if (this.martian(ip, iface)) {
      bump(this.mib, v6 ? 'Ip6InAddrErrors' : 'IpInAddrErrors');
      return this.drop('martian');
    }
    if (local !== undefined) {
      this.rxOkDst = ip.dst;
      this.rxOkSrc = ip.src;
      this.rxOkIface = iface;
      this.rxOkGen = this.addrGeneration;
    }
    if (isFragment(ip)) return this.reassemble(ip, frame, iface);
    this.deliver(ip, frame, iface);
  }

  /** input's memo of the last unicast datagram that passed the address checks. */
  private rxOkDst = '';
  private rxOkSrc = '';
  private rxOkIface: Interface | null = null;
  private rxOkGen = -1;

  /** RFC 791 §3.2 / RFC 8200 §4.5: queue a fragment; deliver the datagram once whole. */
  private reassemble(ip: IpRepr, frame: Uint8Array, iface: Interface): void {
    const v6 = ip.version === 6;
    // RFC 6946: an atomic fragment (offset 0, no more) is a whole datagram already.
    if (v6 && ip.fragOffset === 0 && !ip.moreFragments) return this.deliver(ip, frame, iface);
    bump(this.mib, v6 ? 'Ip6ReasmReqds' : 'IpReasmReqds');
    const r = this.reasm.add(ip, frame, this.now());
    if (r.kind === 'pending') return;
    if (r.kind === 'dropped') {
      if (r.reason !== 'reasm-duplicate') bump(this.mib, v6 ? 'Ip6ReasmFails' : 'IpReasmFails');
      return this.drop(r.reason);
    }
    const whole = this.rxWhole;
    if (parseIpHeader(r.frame, whole, false) !== null || isFragment(whole)) {
      bump(this.mib, v6 ? 'Ip6ReasmFails' : 'IpReasmFails');
      return this.drop('reasm-bad-datagram');
    }
    bump(this.mib, v6 ? 'Ip6ReasmOKs' : 'IpReasmOKs');
    this.deliver(whole, r.frame, iface);
  }

  /** Hand a datagram for us to its protocol's handler (RFC 1122 §3.2.1.1: unknown protocol). */
  private deliver(ip: IpRepr, frame: Uint8Array, iface: Interface): void {
    const h = this.handlers[ip.protocol];
    const v6 = ip.version === 6;
    if (h === undefined) {
      bump(this.mib, v6 ? 'Ip6InUnknownProtos' : 'IpInUnknownProtos');
      // RFC 1122 §3.2.2.1: protocol unreachable; RFC 8200 §4 / RFC 4443 §3.4: parameter problem
      // code 1 pointing at the Next Header field that named the protocol.
      if (v6) this.icmp.sendError(ip, frame, Icmp6Type.PARAMETER_PROBLEM, ParamProb6.NEXT_HEADER, ip.fragPrevNextHeader >= 0 ? ip.fragPrevNextHeader : nextHeaderPointer(frame, ip));
      else this.icmp.sendError(ip, frame, Icmp4Type.DEST_UNREACH, Unreach4.PROTOCOL);
      return this.drop('unknown-protocol');
    }
    if (v6) this.mib.Ip6InDelivers!++;
    else this.mib.IpInDelivers!++;
    h.input(ip, frame, iface);
  }

  /**
   * An interface in any-IP mode takes TCP and UDP to any unicast destination as its own (see
   * Interface.anyIp); martians are still dropped by input's checks that follow.
   */
  private anyIpInput(ip: IpRepr, iface: Interface, frame: Uint8Array): boolean {
    if (!iface.anyIp || isMulticast(ip.dst)) return false;
    if (ip.protocol === IPPROTO_TCP || ip.protocol === IPPROTO_UDP) return true;
    // ICMP errors about what we sent from a foreign address (a relayed flow's) are ours too;
    // echo requests to a foreign address are not ours to answer.
    const v6 = ip.version === 6;
    if (ip.protocol !== (v6 ? IPPROTO_ICMPV6 : IPPROTO_ICMP) || frame.length <= ip.headerLength) return false;
    return isIcmpError(ip.version, frame[ip.headerLength]!);
  }

  /**
   * The forwarding hook (RFC 1812 §5.2): a router decrements the TTL and sends the datagram on
   * by its own routing table. A TTL that runs out, or no route, drops it.
   */
  private forward(ip: IpRepr, frame: Uint8Array, iface: Interface): void {
    const v6 = ip.version === 6;
    if (ip.ttl <= 1) {
      // RFC 1812 §5.3.1: TTL exhausted in transit → time exceeded (code 0).
      bump(this.mib, v6 ? 'Ip6InHdrErrors' : 'IpInHdrErrors');
      this.icmp.sendError(ip, frame, v6 ? Icmp6Type.TIME_EXCEEDED : Icmp4Type.TIME_EXCEEDED, 0);
      return this.drop('ttl-exceeded');
    }
    const p = this.path(ip.dst);
    if (p === null || p.route.kind === 'unreachable') {
      // LINUX ip_error: no route → net unreachable; an unreachable route → host unreachable.
      bump(this.mib, v6 ? 'Ip6InNoRoutes' : 'IpExtInNoRoutes');
      const code = p === null ? (v6 ? Unreach6.NO_ROUTE : Unreach4.NET) : v6 ? Unreach6.ADDRESS : Unreach4.HOST;
      this.icmp.sendError(ip, frame, v6 ? Icmp6Type.DEST_UNREACH : Icmp4Type.DEST_UNREACH, code);
      return this.drop('no-route');
    }
    const link = p.route.iface.link;
    if (link === null) return this.drop('no-route');
    const total = ip.headerLength + ip.payloadLength;
    if (total > p.mtu && (v6 || ip.dontFragment)) {
      // RFC 1191 §4 / RFC 8201 §4: the router's half of path MTU discovery.
      this.icmp.sendError(ip, frame, v6 ? Icmp6Type.PACKET_TOO_BIG : Icmp4Type.DEST_UNREACH, v6 ? 0 : Unreach4.FRAG_NEEDED, p.mtu);
      bump(this.mib, v6 ? 'Ip6InTooBigErrors' : 'IpFragFails');
      return this.drop('too-big');
    }
    if (total > p.mtu) return this.drop('too-big'); // (fragmenting in transit is not done)
    const out = frame.slice(0, total);
    if (v6) out[7] = ip.ttl - 1;
    else decrementTtl(out);
    bump(this.mib, v6 ? 'Ip6OutForwDatagrams' : 'IpForwDatagrams');
    link.send(out, p.nextHop);
  }

  /**
   * Martian addresses (RFC 1122 §3.2.1.3; LINUX ip_route_input_slow's martian_source /
   * martian_destination): a source that is multicast, broadcast, 0/8 or unspecified, and any
   * loopback address (127/8, ::1) arriving on an interface other than lo.
   */
  private martian(ip: IpRepr, iface: Interface): boolean {
    if (isMulticast(ip.src) || isUnspecified(ip.src) || this.isBroadcast(ip.src)) return true;
    if (ip.version === 4 && isThisNetwork4(ip.src)) return true;
    if (!iface.loopback && (isLoopback(ip.src) || isLoopback(ip.dst))) return true;
    // One of our own addresses as the source, from outside (LINUX fib_validate_source: RTN_LOCAL).
    if (!iface.loopback && this.local.has(ip.src)) return true;
    return false;
  }

  private dropHdr(reason: DropReason, v6: boolean): void {
    if (reason === 'bad-ip-checksum') bump(this.mib, 'IpInCsumErrors');
    bump(this.mib, v6 ? 'Ip6InHdrErrors' : 'IpInHdrErrors');
    this.drop(reason);
  }

  /** Count and report one dropped datagram. */
  drop(reason: DropReason | IpDropReason): void {
    this.onDrop(reason);
  }

  // ------------------------------------------------------------------ output

  /**
   * Send one datagram of `len` upper-layer bytes from `src` to `dst` (canonical texts, same
   * family): route, header, fragmentation (RFC 791 §3.2; IPv6 at the source only, RFC 8200
   * §4.5), link. Returns null, or the errno of why nothing was sent.
   */
  output(src: string, dst: string, protocol: number, len: number, write: PayloadWriter, opts?: OutputOptions): OutputError | null {
    if (src !== this.txSrcText) {
      this.txSrcLen = parseAddrInto(src, this.txSrcBytes, 0);
      this.txSrcText = src;
    }
    if (dst !== this.txDstText || this.routes.generation !== this.txGen) {
      this.txDstLen = parseAddrInto(dst, this.txDstBytes, 0);
      this.txDstText = dst;
      this.txGen = this.routes.generation;
      this.txPath = this.path(dst);
    }
    // A link-local destination leaves through the interface whose link-local address is the
    // source (the zone the connection was made in), not the first fe80::/64 route.
    if (this.txPath !== null && this.txDstLen === 16 && isLinkLocal6(dst) && isLinkLocal6(src)) {
      const zone = this.local.get(src);
      if (zone !== undefined && zone !== this.txPath.route.iface && !zone.loopback) {
        this.txPath = this.path(dst, zone);
        this.txDstText = ''; // not cached: the zone comes from the source
      }
    }
    if (this.txSrcLen === 0 || this.txDstLen !== this.txSrcLen) throw new TypeError(`output: bad address pair ${src} -> ${dst}`);
    const v4 = this.txSrcLen === 4;
    if (v4) this.mib.IpOutRequests!++;
    else this.mib.Ip6OutRequests!++;
    const p = this.txPath;
    if (p === null) {
      bump(this.mib, v4 ? 'IpOutNoRoutes' : 'Ip6OutNoRoutes');
      return 'ENETUNREACH';
    }
    if (p.route.kind === 'unreachable') {
      bump(this.mib, v4 ? 'IpOutNoRoutes' : 'Ip6OutNoRoutes');
      return 'EHOSTUNREACH';
    }
    const link = p.route.iface.link;
    if (link === null) {
      bump(this.mib, v4 ? 'IpOutDiscards' : 'Ip6OutDiscards');
      return null; // an interface with no link yet: the datagram is lost, as on a down device
    }
    if (p.route.iface.egressDrops) return 'ENOBUFS'; // the qdisc dropped it (NET_XMIT_DROP)
    const s = v4 ? this.txSrc4 : this.txSrcBytes;
    const d = v4 ? this.txDst4 : this.txDstBytes;
    const checksum = link.checksumOffload !== true;
    const ttl = opts?.ttl ?? DEFAULT_TTL;
    const hdr = v4 ? IPV4_HEADER_LEN : IPV6_HEADER_LEN;
    const mtu = this.pathMtu(p);
    // A TSO packet (Link.gsoMaxSize): TCP sized it for a link that cuts it into MTU-sized segments.
    const tso = protocol === IPPROTO_TCP && link.gsoMaxSize !== undefined && hdr + len <= link.gsoMaxSize;
    if (hdr + len > mtu && !tso) return this.fragmentOut(link, p, s, d, protocol, len, write, opts, mtu);
    const frame = link.allocFrame !== undefined ? link.allocFrame(hdr + len) : new Uint8Array(hdr + len);
    const tos = opts?.tos ?? 0;
    // DF clear (and so an IP ID) when the sender asked (IP_PMTUDISC_DONT; LINUX ip_dont_fragment).
    if (v4) emitIpv4Header(frame, 0, s, d, protocol, len, ttl, opts?.df === false ? this.nextId() : 0, checksum, opts?.df === false ? 0 : IPV4_DF, tos);
    else emitIpv6Header(frame, 0, s, d, protocol, len, ttl, tos);
    write(frame, hdr, s, d, checksum);
    link.send(frame, p.nextHop, opts?.confirmNeighbor === true);
    return null;
  }

  /** The PMTU for a cached path, re-read from the cache (it may have been lowered or expired). */
  private pathMtu(p: PathInfo): number {
    const linkMtu = linkMtuFor(p.route, p.route.version);
    if (this.pmtu.size === 0) return linkMtu;
    return Math.min(linkMtu, this.pmtu.get(this.txDstText, this.now()) ?? linkMtu);
  }

  /**
   * A datagram larger than the path MTU. IPv4 with DF set (TCP) is refused with EMSGSIZE (the
   * sender's PMTUD has to shrink it); otherwise it leaves in fragments (RFC 791 §3.2; IPv6 only
   * ever fragments at the source, RFC 8200 §4.5). The upper layer writes the whole payload once
   * into a scratch buffer, which is then cut up.
   */
  private fragmentOut(
    link: Link, p: PathInfo, s: Uint8Array, d: Uint8Array, protocol: number, len: number, write: PayloadWriter, opts: OutputOptions | undefined, mtu: number,
  ): OutputError | null {
    const v4 = s.length === 4;
    const plan = fragmentPlan(!v4, len, mtu);
    if ((v4 && opts?.df !== false) || plan.length === 0 || (v4 ? len + IPV4_HEADER_LEN > 0xffff : len > 0xffff)) {
      bump(this.mib, v4 ? 'IpFragFails' : 'Ip6FragFails');
      return 'EMSGSIZE';
    }
    // The transport checksum covers the whole datagram, so no link can finish it per fragment:
    // compute it here even with checksum offload (LINUX __ip_append_data uses CHECKSUM_NONE
    // when the datagram will be fragmented). Only the fragments' IPv4 headers may be left.
    const checksum = link.checksumOffload !== true;
    const whole = new Uint8Array(len);
    write(whole, 0, s, d, true);
    const ttl = opts?.ttl ?? DEFAULT_TTL;
    const id = v4 ? this.nextId() : (this.ip6Id = (this.ip6Id + 1) >>> 0);
    for (let i = 0; i < plan.length; i++) {
      const [off, n] = plan[i]!;
      const more = i < plan.length - 1;
      if (v4) {
        const f = new Uint8Array(IPV4_HEADER_LEN + n);
        emitIpv4Header(f, 0, s, d, protocol, n, ttl, id, checksum, (more ? 0x2000 : 0) | (off >> 3), opts?.tos ?? 0);
        f.set(whole.subarray(off, off + n), IPV4_HEADER_LEN);
        link.send(f, p.nextHop);
      } else {
        const f = new Uint8Array(IPV6_HEADER_LEN + 8 + n);
        emitIpv6Header(f, 0, s, d, 44, 8 + n, ttl, opts?.tos ?? 0);
        emitFragmentHeader(f, IPV6_HEADER_LEN, protocol, off, more, id);
        f.set(whole.subarray(off, off + n), IPV6_HEADER_LEN + 8);
        link.send(f, p.nextHop);
      }
    }
    bump(this.mib, v4 ? 'IpFragOKs' : 'Ip6FragOKs');
    bump(this.mib, v4 ? 'IpFragCreates' : 'Ip6FragCreates', plan.length);
    return null;
  }

  private ip6Id = 0;

  /** IPv4 Identification for datagrams that may be fragmented (RFC 6864 §4.1: unique per src/dst/proto while in flight). */
  private nextId(): number {
    this.ipId = (this.ipId + 1) & 0xffff;
    return this.ipId;
  }

  private ipId = 0;
  /** output's parsed-address and route cache (the last source and destination written). */
  private txSrcText = '';
  private txDstText = '';
  private txGen = -1;
  private txPath: PathInfo | null = null;
  private txSrcLen: 0 | 4 | 16 = 0;
  private txDstLen: 0 | 4 | 16 = 0;
  private readonly txSrcBytes = new Uint8Array(16);
  private readonly txDstBytes = new Uint8Array(16);
  private readonly txSrc4 = this.txSrcBytes.subarray(0, 4);
  private readonly txDst4 = this.txDstBytes.subarray(0, 4);
}

/**
 * The interface MTU as IP can use it: an IPv4 datagram is at most 65535 bytes (the Total Length
 * field; LINUX IP_MAX_MTU caps dst_mtu), an IPv6 one 40 + 65535 (Payload Length, no jumbograms).
 */
function linkMtuFor(route: Route, v: 4 | 6): number {
  return Math.min(route.iface.mtu, v === 4 ? 0xffff : 0xffff + IPV6_HEADER_LEN);
}

function linkLocalOf(iface: Interface): string | null {
  for (const a of iface.addrs) if (a.version === 6 && a.bytes[0] === 0xfe && (a.bytes[1]! & 0xc0) === 0x80) return a.addr;
  return null;
}

/** Bump a counter named at run time (IP and ICMP names built from the version and type). */
function bump(mib: Mib, name: string, n = 1): void {
  const m = mib as unknown as Record<string, number>;
  m[name] = (m[name] ?? 0) + n;
}
