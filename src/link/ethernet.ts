/**
 * The Ethernet interface adapter: turns a frame link (a TAP device, the simulator's switch, a VM's
 * NIC) that carries Ethernet II frames (RFC 894, RFC 2464) into the IP-packet `Link` the stack
 * attaches. Address resolution lives entirely here: ARP (RFC 826) for IPv4 and neighbour
 * solicitation/advertisement (RFC 4861 §7) for IPv6, over one neighbour cache with Linux's NUD
 * timing (neighbor.ts). The rest of ICMPv6 (NS/NA included) still goes up to IP, which counts and
 * ignores what it does not handle; router solicitations, advertisements and redirects are not
 * answered here.
 *
 *   stack ⇄ (IP packets) ⇄ EthernetInterface ⇄ (Ethernet frames) ⇄ frame link
 *
 * Sending: the next hop is the one the routing table chose (`send(packet, nextHop)`); without
 * one, the destination when it is on one of our prefixes, else the family's gateway. Multicast
 * and broadcast destinations map straight to group MACs (RFC 1112 §6.4, RFC 2464 §7).
 * Receiving: frames for our MAC, broadcast, and the multicast groups we are in (IPv4 all-hosts,
 * IPv6 all-nodes and each address's solicited-node group); everything else is counted and dropped.
 */
import { canonicalAddr, formatAddr, parseAddr } from '../wire/addr.js';
import { ArpOp, ARP_LEN, emitArp, newArpRepr, parseArp } from '../wire/arp.js';
import {
  BROADCAST_MAC,
  emitEthernetHeader,
  ETH_HEADER_LEN,
  EtherType,
  etherType,
  EthField,
  formatMac,
  ipv4MulticastMac,
  ipv6MulticastMac,
  isBroadcastMac,
  isGroupMac,
  linkLocalFromMac,
  macEquals,
  parseMac,
  solicitedNodeAddr,
} from '../wire/ethernet.js';
import { newIpRepr, parseIpHeader } from '../wire/ip.js';
import { emitNdp, icmpv6Type, NaFlag, ndpPacketLength, NdpType, newNdpRepr, parseNdp } from '../wire/ndp.js';
import type { Rng } from '../rng.js';
import type { Link } from './link.js';
import { NeighborTable, type NeighConfig, type NeighborView, type NeighStats, type Timers } from './neighbor.js';

/** Why a frame was dropped, on input or output. Every drop is counted under one of these. */
export const ETH_DROP_REASONS = [
  'runt',
  'not-for-us',
  'own-source-mac',
  'unknown-ethertype',
  'arp-truncated',
  'arp-bad-hardware',
  'arp-bad-protocol',
  'arp-bad-op',
  'arp-bad-sender',
  'arp-bad-target',
  'ndp-bad-hop-limit',
  'ndp-bad-checksum',
  'ndp-bad-code',
  'ndp-truncated',
  'ndp-multicast-target',
  'ndp-bad-option',
  'ndp-dad-with-lladdr',
  'ndp-dad-bad-destination',
  'ndp-solicited-to-multicast',
  'ndp-not-our-target',
  'ndp-duplicate-address',
  'tx-malformed',
  'tx-too-big',
  'tx-no-route',
] as const;
/** Why the Ethernet interface dropped a frame (one counter each). */
export type EthDropReason = (typeof ETH_DROP_REASONS)[number];

/** An Ethernet interface's counters: frames in and out, ARP/NDP traffic, drops by reason. */
export interface EthernetCounters {
  rxFrames: number;
  txFrames: number;
  rxArpRequests: number;
  rxArpReplies: number;
  txArpRequests: number;
  txArpReplies: number;
  rxNeighborSolicits: number;
  rxNeighborAdverts: number;
  txNeighborSolicits: number;
  txNeighborAdverts: number;
}

/** An Ethernet interface's MAC, addresses, neighbour settings, timers and queue bounds. */
export interface EthernetOptions {
  /** Our MAC ("02:00:00:00:00:01" or 6 bytes); a unicast address. */
  mac: string | Uint8Array;
  /** Our addresses with prefix lengths: "10.0.0.2/24", "fd00::2/64" (no prefix: /32 or /128). */
  addresses: string[];
  /** Default gateway(s), at most one per family; each must be on one of our prefixes. */
  gateway?: string | string[];
  /** Add fe80::/64 from the MAC by modified EUI-64 (RFC 4862 §5.3). Default true. */
  linkLocal?: boolean;
  /** Clock and timers (a NodeDriver or SimDriver). */
  timers: Timers;
  /** For the randomised reachable time. */
  rng: Rng;
  neigh?: Partial<NeighConfig>;
}

interface Prefix {
  readonly address: string;
  readonly bytes: Uint8Array;
  readonly prefix: number;
  readonly family: 4 | 6;
}

const ALL_NODES = parseAddr('ff02::1')!;
const ALL_NODES_MAC = ipv6MulticastMac(ALL_NODES);
const ALL_HOSTS_MAC = ipv4MulticastMac(parseAddr('224.0.0.1')!);
const ZERO_MAC = new Uint8Array(6);

/** Puts a stack on an Ethernet link: frames the IP packets, resolves next hops with ARP (RFC 826) and NDP (RFC 4861), answers for its own addresses. */
export class EthernetInterface {
  /** The IP link the stack attaches. */
  readonly link: Link;
  readonly mac: Uint8Array;
  readonly macText: string;
  readonly counters: EthernetCounters = {
    rxFrames: 0, txFrames: 0, rxArpRequests: 0, rxArpReplies: 0, txArpRequests: 0, txArpReplies: 0,
    rxNeighborSolicits: 0, rxNeighborAdverts: 0, txNeighborSolicits: 0, txNeighborAdverts: 0,
  };
  readonly drops = Object.fromEntries(ETH_DROP_REASONS.map((r) => [r, 0])) as Record<EthDropReason, number>;
  private readonly neigh: NeighborTable;
  private readonly prefixes: Prefix[] = [];
  private readonly gateways: { 4: string | null; 6: string | null } = { 4: null, 6: null };
  /** Multicast MACs we receive (all-nodes, all-hosts, solicited-node groups), as text. */
  private readonly groups = new Set<string>();
  private readonly receivers: ((packet: Uint8Array) => void)[] = [];
  private readonly unreachableCbs: ((dst: string, dropped: number) => void)[] = [];
  private readonly arp = newArpRepr();
  private readonly ip = newIpRepr();
  private readonly ndp = newNdpRepr();
  /** Buffers lent by allocFrame: their first 14 bytes are ours to write the header into. */
  private readonly lent = new WeakSet<ArrayBuffer>();
  /**
   * The frame the link below lent for the last allocFrame (its buffer may be reused once sent, so
   * the neighbour table copies what it queues): a packet that is its tail is framed in place.
   */
  private lowerLent: Uint8Array | null = null;
  /** The last destination resolved to a next hop (a transfer sends to one peer over and over). */
  private readonly lastDst = new Uint8Array(16);
  private lastDstLen = 0;
  private lastHop: string | null = null;

  constructor(
    private readonly frames: Link,
    opts: EthernetOptions,
  ) {
    if (!opts || typeof opts !== 'object') throw new TypeError('options must be an object');
    const mac = typeof opts.mac === 'string' ? parseMac(opts.mac) : opts.mac instanceof Uint8Array && opts.mac.length === 6 ? opts.mac.slice() : null;
    if (mac === null) throw new TypeError(`options.mac must be a MAC address like 02:00:00:00:00:01, got ${String(opts.mac)}`);
    if (isGroupMac(mac) || mac.every((b) => b === 0)) throw new TypeError(`options.mac must be a unicast MAC (the I/G bit clear, not all zeros), got ${formatMac(mac)}`);
    if (!Array.isArray(opts.addresses)) throw new TypeError('options.addresses must be an array of ADDRESS/PREFIX strings');
    this.mac = mac;
    this.macText = formatMac(mac);
    this.groups.add(formatMac(ALL_NODES_MAC));
    this.groups.add(formatMac(ALL_HOSTS_MAC));
    this.neigh = new NeighborTable(opts.timers, opts.rng, {
      solicit: (a, unicast, hint) => this.solicit(a, unicast, hint),
      transmit: (m, p) => this.transmit(m, p, p[0]! >> 4 === 6 ? EtherType.IPV6 : EtherType.IPV4),
      unreachable: (a, n) => {
        for (const cb of this.unreachableCbs) cb(a, n);
      },
    }, opts.neigh);
    const link: Link = {
      mtu: frames.mtu,
      checksumOffload: frames.checksumOffload,
      gsoMaxSize: frames.gsoMaxSize,
      // DESIGN.md principle 5: the stack writes its packet 14 bytes into a buffer we lend, so
      // framing it is writing the header in front instead of copying the packet.
      allocFrame: (len: number) => {
        // A frame link that lends (a TAP device's one reused transmit buffer) lends here too: the
        // packet goes 14 bytes into its frame, so a 64 KiB TSO packet costs no allocation.
        if (frames.allocFrame !== undefined) {
          const f = frames.allocFrame(ETH_HEADER_LEN + len);
          this.lowerLent = f;
          return f.subarray(ETH_HEADER_LEN);
        }
        const buf = new ArrayBuffer(ETH_HEADER_LEN + len);
        this.lent.add(buf);
        return new Uint8Array(buf, ETH_HEADER_LEN, len);
      },
      send: (packet: Uint8Array, nextHop?: string, confirm?: boolean) => this.output(packet, nextHop, confirm === true),
      onReceive: (cb: (packet: Uint8Array) => void) => {
        this.receivers.push(cb);
      },
    };
    this.link = link;
    frames.onReceive((f) => this.input(f));
    for (const a of opts.addresses) this.addAddress(a);
    // Last, so that a stack picking "the first address of the family" picks a global one.
    if (opts.linkLocal ?? true) this.addAddress(`${formatAddr(linkLocalFromMac(mac), 0, 16)}/64`);
    const gws = opts.gateway === undefined ? [] : Array.isArray(opts.gateway) ? opts.gateway : [opts.gateway];
    for (const g of gws) this.setGateway(g);
  }

  /**
   * Add an address ("10.0.0.2/24"); announces it with a gratuitous ARP request (IPv4) or an
   * unsolicited neighbour advertisement to all-nodes (IPv6, RFC 4861 §7.2.6).
   */
  addAddress(cidr: string): void {
    const p = parseCidr(cidr, 'address');
    if (this.prefixes.some((q) => q.address === p.address)) throw new RangeError(`address ${p.address} is already on this interface`);
    this.prefixes.push(p);
    this.lastDstLen = 0; // on-link decisions may change
    if (p.family === 6) this.groups.add(formatMac(ipv6MulticastMac(solicitedNodeAddr(p.bytes))));
    this.announce(p);
  }

  /** The default gateway of the address's family; it must be on one of our prefixes. */
  setGateway(addr: string): void {
    const c = canonicalAddr(addr);
    if (c === null) throw new TypeError(`gateway: '${addr}' is not an IP address`);
    const bytes = parseAddr(c)!;
    if (!this.onLink(bytes)) throw new RangeError(`gateway ${c} is not on any of this interface's prefixes`);
    this.gateways[bytes.length === 4 ? 4 : 6] = c;
    this.lastDstLen = 0;
  }

  /** Our addresses (without prefix), link-local included: what the stack should own. */
  hostAddresses(): string[] {
    return this.prefixes.map((p) => p.address);
  }

  /** Our addresses with their prefix lengths. */
  addresses(): { address: string; prefix: number; family: 4 | 6 }[] {
    return this.prefixes.map((p) => ({ address: p.address, prefix: p.prefix, family: p.family }));
  }

  /** The neighbour table, like `ip neigh show`. */
  neighbors(): NeighborView[] {
    return this.neigh.view();
  }

  get neighStats(): Readonly<NeighStats> {
    return this.neigh.stats;
  }

  /** Called when resolving `dst` failed (its queued packets, `dropped` of them, are gone). */
  onUnreachable(cb: (dst: string, dropped: number) => void): void {
    this.unreachableCbs.push(cb);
  }

  /**
   * An upper layer saw forward progress to `addr` (TCP new data ACKed): the entry stays
   * REACHABLE without probing (LINUX: dst_confirm_neigh → neigh_confirm).
   */
  confirmNeighbor(addr: string): void {
    this.neigh.confirm(addr);
  }

  /** A static neighbour entry (`ip neigh add ADDR lladdr MAC nud permanent`). */
  addNeighbor(addr: string, mac: string): void {
    const c = canonicalAddr(addr);
    if (c === null) throw new TypeError(`addr: '${addr}' is not an IP address`);
    const m = parseMac(mac);
    if (m === null) throw new TypeError(`mac: '${mac}' is not a MAC address`);
    this.neigh.addPermanent(c, m);
  }

  /** Stop the neighbour timers and drop queued packets. */
  close(): void {
    this.neigh.close();
  }

  // ---------------------------------------------------------------- output

  private output(packet: Uint8Array, nextHop: string | undefined, confirm: boolean): void {
    const v = packet.length > 0 ? packet[0]! >> 4 : 0;
    if (!((v === 4 && packet.length >= 20) || (v === 6 && packet.length >= 40))) return this.drop('tx-malformed');
    if (packet.length > (this.frames.gsoMaxSize ?? this.frames.mtu)) return this.drop('tx-too-big');
    const dOff = v === 4 ? 16 : 24;
    const dst = packet.subarray(dOff, dOff + (v === 4 ? 4 : 16));
    if (v === 4 && dst[0]! >= 224 && dst[0]! < 240) return this.transmit(ipv4MulticastMac(dst), packet, EtherType.IPV4);
    if (v === 4 && this.isBroadcast4(dst)) return this.transmit(BROADCAST_MAC, packet, EtherType.IPV4);
    if (v === 6 && dst[0] === 0xff) return this.transmit(ipv6MulticastMac(dst), packet, EtherType.IPV6);
    let hop = nextHop ?? null;
    if (hop === null) hop = this.nextHopFor(dst);
    if (hop === null) {
      this.drop('tx-no-route');
      const d = formatAddr(dst, 0, v === 4 ? 4 : 16);
      for (const cb of this.unreachableCbs) cb(d, 1);
      return;
    }
    if (confirm) this.neigh.confirm(hop);
    this.neigh.output(hop, packet);
  }

  /** On-link destinations are their own next hop; others go to the family's gateway (null: none). */
  private nextHopFor(dst: Uint8Array): string | null {
    const n = dst.length;
    if (n === this.lastDstLen) {
      let same = true;
      for (let i = 0; i < n && same; i++) same = this.lastDst[i] === dst[i];
      if (same) return this.lastHop;
    }
    const hop = this.onLink(dst) ? formatAddr(dst, 0, n === 4 ? 4 : 16) : this.gateways[n === 4 ? 4 : 6];
    this.lastDst.set(dst);
    this.lastDstLen = n;
    this.lastHop = hop;
    return hop;
  }

  /** 255.255.255.255 or the directed broadcast of one of our IPv4 prefixes (RFC 919, RFC 922). */
  private isBroadcast4(dst: Uint8Array): boolean {
    if (dst[0] === 255 && dst[1] === 255 && dst[2] === 255 && dst[3] === 255) return true;
    for (const p of this.prefixes) {
      if (p.family !== 4 || p.prefix >= 31) continue;
      if (prefixMatch(p.bytes, dst, p.prefix) && hostBitsAllOnes(dst, p.prefix)) return true;
    }
    return false;
  }

  private onLink(dst: Uint8Array): boolean {
    // RFC 4291 §2.5.6: link-local destinations are always on the link.
    if (dst.length === 16 && dst[0] === 0xfe && (dst[1]! & 0xc0) === 0x80) return true;
    for (const p of this.prefixes) if (p.bytes.length === dst.length && prefixMatch(p.bytes, dst, p.prefix)) return true;
    return false;
  }

  /**
   * Frame `payload` behind an Ethernet header and send it. Not padded to RFC 894's 60-byte
   * minimum: LINUX leaves that to the NIC driver (eth_skb_pad), and virtual links (tap, veth, the
   * simulator's switch) carry short frames as they are.
   */
  private transmit(dstMac: Uint8Array, payload: Uint8Array, type: number): void {
    let frame: Uint8Array;
    const low = this.lowerLent;
    if (low !== null && payload.buffer === low.buffer && payload.byteOffset === low.byteOffset + ETH_HEADER_LEN && payload.length + ETH_HEADER_LEN === low.length) {
      this.lowerLent = null;
      frame = low;
      emitEthernetHeader(frame, dstMac, this.mac, type);
    } else if (payload.byteOffset === ETH_HEADER_LEN && this.lent.has(payload.buffer as ArrayBuffer) && payload.buffer.byteLength === ETH_HEADER_LEN + payload.length) {
      this.lent.delete(payload.buffer as ArrayBuffer);
      frame = new Uint8Array(payload.buffer, 0, ETH_HEADER_LEN + payload.length);
      emitEthernetHeader(frame, dstMac, this.mac, type);
    } else {
      frame = new Uint8Array(ETH_HEADER_LEN + payload.length);
      emitEthernetHeader(frame, dstMac, this.mac, type);
      frame.set(payload, ETH_HEADER_LEN);
    }
    this.counters.txFrames++;
    this.frames.send(frame);
  }

  // ---------------------------------------------------------------- input

  private input(f: Uint8Array): void {
    this.counters.rxFrames++;
    if (f.length < ETH_HEADER_LEN) return this.drop('runt');
    const toUs = macEquals(f, EthField.DST, this.mac);
    if (!toUs && !isBroadcastMac(f, EthField.DST) && !(isGroupMac(f, EthField.DST) && this.groups.has(formatMac(f, EthField.DST)))) {
      return this.drop('not-for-us');
    }
    if (macEquals(f, EthField.SRC, this.mac)) return this.drop('own-source-mac');
    const type = etherType(f);
    const payload = f.subarray(ETH_HEADER_LEN);
    if (type === EtherType.IPV4) return this.deliver(payload);
    if (type === EtherType.ARP) return this.inputArp(f, toUs);
    if (type === EtherType.IPV6) {
      const nh = payload.length >= 41 ? payload[6]! : -1;
      // Only ICMPv6 (58) can be NS/NA; extension headers (0, 43, 60) need the full walk.
      if (nh === 58 || nh === 0 || nh === 43 || nh === 60) this.inputNdp(payload);
      return this.deliver(payload);
    }
    this.drop('unknown-ethertype');
  }

  private deliver(packet: Uint8Array): void {
    for (const r of this.receivers) r(packet);
  }

  private drop(reason: EthDropReason): void {
    this.drops[reason]++;
  }

  private ours(addr: string): Prefix | undefined {
    for (const p of this.prefixes) if (p.address === addr) return p;
    return undefined;
  }

  /** LINUX: arp_process. */
  private inputArp(f: Uint8Array, toUs: boolean): void {
    const a = this.arp;
    const why = parseArp(f, ETH_HEADER_LEN, f.length, a);
    if (why !== null) return this.drop(why);
    if (a.op === ArpOp.REQUEST) this.counters.rxArpRequests++;
    else this.counters.rxArpReplies++;
    // RFC 1812 §3.3.2: never believe an ARP packet claiming a group MAC; LINUX: arp_process
    // ignores multicast and loopback targets.
    if (isGroupMac(a.sha) || isMartian4(a.spa, true)) return this.drop('arp-bad-sender');
    if (isMartian4(a.tpa, false)) return this.drop('arp-bad-target');
    const target = this.ours(a.tpaText);
    const unspecifiedSender = a.spa[0] === 0 && a.spa[1] === 0 && a.spa[2] === 0 && a.spa[3] === 0;
    if (unspecifiedSender) {
      // RFC 5227 §2.1.1 probe (sender 0.0.0.0): answer if it asks for our address, learn nothing.
      if (a.op === ArpOp.REQUEST && target !== undefined) this.sendArp(ArpOp.REPLY, a.sha, target.bytes, a.sha, a.spa);
      return;
    }
    if (this.ours(a.spaText) !== undefined) return this.drop('arp-bad-sender'); // someone uses our address
    if (a.op === ArpOp.REQUEST && target !== undefined) {
      // LINUX: arp_process → neigh_event_ns: a request for us creates/updates the sender (STALE).
      this.neigh.update(a.spaText, a.sha, { state: 'STALE', override: true, create: true });
      this.sendArp(ArpOp.REPLY, a.sha, target.bytes, a.sha, a.spa);
      return;
    }
    // LINUX: arp_process: other packets only update an existing entry; a reply unicast to us
    // confirms it (REACHABLE), anything else makes it STALE. A gratuitous ARP (sender = target)
    // always overrides; otherwise not within locktime of the last update.
    const garp = a.spaText === a.tpaText;
    const state = a.op === ArpOp.REPLY && toUs ? 'REACHABLE' : 'STALE';
    this.neigh.update(a.spaText, a.sha, { state, override: garp ? true : 'locktime', create: false });
  }

  private sendArp(op: number, dstMac: Uint8Array, spa: Uint8Array, tha: Uint8Array, tpa: Uint8Array): void {
    const frame = new Uint8Array(ETH_HEADER_LEN + ARP_LEN);
    emitEthernetHeader(frame, dstMac, this.mac, EtherType.ARP);
    emitArp(frame, ETH_HEADER_LEN, op, this.mac, spa, tha, tpa);
    if (op === ArpOp.REQUEST) this.counters.txArpRequests++;
    else this.counters.txArpReplies++;
    this.counters.txFrames++;
    this.frames.send(frame);
  }

  /** LINUX: ndisc_recv_ns / ndisc_recv_na. */
  private inputNdp(pkt: Uint8Array): void {
    const ip = this.ip;
    if (parseIpHeader(pkt, ip, false) !== null) return; // the IP layer counts it
    const type = icmpv6Type(pkt, ip);
    if (type !== NdpType.NEIGHBOR_SOLICIT && type !== NdpType.NEIGHBOR_ADVERT) return;
    const n = this.ndp;
    const why = parseNdp(pkt, ip, n);
    if (why !== null) return this.drop(why);
    const target = this.ours(n.targetText);
    if (type === NdpType.NEIGHBOR_SOLICIT) {
      this.counters.rxNeighborSolicits++;
      if (target === undefined) return this.drop('ndp-not-our-target');
      if (n.fromUnspecified) {
        // RFC 4861 §7.2.4: a DAD probe for our address is answered to all-nodes, Solicited clear.
        this.sendNa(ALL_NODES, ALL_NODES_MAC, target.bytes, NaFlag.OVERRIDE);
        return;
      }
      const src = pkt.slice(8, 24);
      const srcText = ip.src;
      // RFC 4861 §7.2.3 / LINUX ndisc_recv_ns: the source link-layer option creates or updates
      // the sender's entry as STALE.
      if (n.hasLladdr) this.neigh.update(srcText, n.lladdr, { state: 'STALE', override: true, weakOverride: true, create: true });
      const flags = NaFlag.SOLICITED | NaFlag.OVERRIDE;
      const mac = n.hasLladdr ? n.lladdr : this.neigh.lookup(srcText);
      if (mac !== null) this.sendNa(src, mac, target.bytes, flags);
      else this.neigh.output(srcText, this.buildNa(src, target.bytes, flags)); // resolve first (§7.2.4)
      return;
    }
    this.counters.rxNeighborAdverts++;
    if (target !== undefined) return this.drop('ndp-duplicate-address');
    // RFC 4861 §7.2.5: an NA only updates an existing entry; S confirms reachability, O allows
    // replacing a different cached address (LINUX: WEAK_OVERRIDE always).
    const mac = n.hasLladdr ? n.lladdr : this.neigh.lookup(n.targetText);
    if (mac === null) return;
    const solicited = (n.flags & NaFlag.SOLICITED) !== 0;
    this.neigh.update(n.targetText, mac, {
      state: solicited ? 'REACHABLE' : 'STALE',
      override: (n.flags & NaFlag.OVERRIDE) !== 0,
      weakOverride: true,
      create: false,
    });
  }

  private buildNa(dst: Uint8Array, target: Uint8Array, flags: number): Uint8Array {
    const pkt = new Uint8Array(ndpPacketLength(true));
    emitNdp(pkt, 0, NdpType.NEIGHBOR_ADVERT, target, dst, target, flags, this.mac);
    this.counters.txNeighborAdverts++;
    return pkt;
  }

  private sendNa(dst: Uint8Array, dstMac: Uint8Array, target: Uint8Array, flags: number): void {
    this.transmit(dstMac, this.buildNa(dst, target, flags), EtherType.IPV6);
  }

  /** The neighbour table asks for a solicitation (LINUX: arp_solicit / ndisc_solicit). */
  private solicit(address: string, unicast: Uint8Array | null, hint: Uint8Array | undefined): void {
    const target = parseAddr(address);
    if (target === null) return;
    const v6 = target.length === 16;
    // LINUX: the source is the queued packet's source when it is ours (arp_announce 0,
    // ndisc_solicit), else an address of ours on the target's prefix, else the first of the family.
    let src: Prefix | undefined;
    if (hint !== undefined && hint.length >= (v6 ? 40 : 20) && hint[0]! >> 4 === (v6 ? 6 : 4)) {
      src = this.ours(formatAddr(hint, v6 ? 8 : 12, v6 ? 16 : 4));
    }
    src ??= this.prefixes.find((p) => p.bytes.length === target.length && prefixMatch(p.bytes, target, p.prefix) && !(v6 && p.prefix === 64 && p.bytes[0] === 0xfe && target[0] !== 0xfe));
    src ??= this.prefixes.find((p) => p.bytes.length === target.length);
    if (src === undefined) return;
    if (!v6) {
      this.sendArp(ArpOp.REQUEST, unicast ?? BROADCAST_MAC, src.bytes, ZERO_MAC, target);
      return;
    }
    // RFC 4861 §7.2.2: to the solicited-node multicast address, or unicast when re-probing.
    const dst = unicast !== null ? target : solicitedNodeAddr(target);
    const pkt = new Uint8Array(ndpPacketLength(true));
    emitNdp(pkt, 0, NdpType.NEIGHBOR_SOLICIT, src.bytes, dst, target, 0, this.mac);
    this.counters.txNeighborSolicits++;
    this.transmit(unicast ?? ipv6MulticastMac(dst), pkt, EtherType.IPV6);
  }

  /** Gratuitous ARP (LINUX: arp_send_garp on NETDEV_UP / address add) or unsolicited NA (RFC 4861 §7.2.6). */
  private announce(p: Prefix): void {
    if (p.family === 4) this.sendArp(ArpOp.REQUEST, BROADCAST_MAC, p.bytes, ZERO_MAC, p.bytes);
    else this.sendNa(ALL_NODES, ALL_NODES_MAC, p.bytes, NaFlag.OVERRIDE);
  }
}

/** "10.0.0.2/24" → Prefix; a bad string throws naming `what`. */
export function parseCidr(s: string, what: string): Prefix {
  if (typeof s !== 'string') throw new TypeError(`${what} must be a string ADDRESS/PREFIX, got ${String(s)}`);
  const slash = s.indexOf('/');
  const addrText = slash < 0 ? s : s.slice(0, slash);
  const address = canonicalAddr(addrText);
  if (address === null) throw new TypeError(`${what}: '${s}' is not an IP address with an optional /prefix`);
  const bytes = parseAddr(address)!;
  const max = bytes.length * 8;
  const prefix = slash < 0 ? max : Number(s.slice(slash + 1));
  if (!Number.isInteger(prefix) || prefix < 1 || prefix > max || (slash >= 0 && !/^\d+$/.test(s.slice(slash + 1)))) {
    throw new RangeError(`${what}: prefix in '${s}' must be 1..${max}`);
  }
  if (isMartian4(bytes, false) || (bytes.length === 16 && bytes[0] === 0xff)) throw new RangeError(`${what}: ${address} cannot be a host address`);
  return { address, bytes, prefix, family: bytes.length === 4 ? 4 : 6 };
}

function prefixMatch(a: Uint8Array, b: Uint8Array, bits: number): boolean {
  let i = 0;
  for (; bits >= 8; i++, bits -= 8) if (a[i] !== b[i]) return false;
  if (bits === 0) return true;
  const mask = (0xff << (8 - bits)) & 0xff;
  return (a[i]! & mask) === (b[i]! & mask);
}

function hostBitsAllOnes(a: Uint8Array, prefix: number): boolean {
  for (let bit = prefix; bit < 32; bit++) if (((a[bit >> 3]! >> (7 - (bit & 7))) & 1) === 0) return false;
  return true;
}

/** IPv4 addresses no host may claim: multicast, limited broadcast, loopback (and 0/8 unless allowed). */
function isMartian4(a: Uint8Array, allowZero: boolean): boolean {
  if (a.length !== 4) return false;
  if (a[0]! >= 224) return true;
  if (a[0] === 127) return true;
  return a[0] === 0 && !(allowZero && a[1] === 0 && a[2] === 0 && a[3] === 0);
}
