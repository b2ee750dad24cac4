/**
 * UDP behind the protocol-handler table (smoltcp iface/interface/udp.rs; LINUX net/ipv4/udp.c,
 * net/ipv6/udp.c): datagrams in (validate, demultiplex, queue or answer with ICMP port
 * unreachable), ICMP errors in (a connected socket's pending error), datagrams out through the
 * IP layer's one output function, and the Udp/Udp6 counters of /proc/net/snmp.
 */
import type { Interface } from '../ip/iface.js';
import type { IcmpErrorInfo, IpHandler, IpLayer, PayloadWriter } from '../ip/layer.js';
import type { Rng } from '../rng.js';
import { StackError } from '../stack/errors.js';
import type { Mib, UdpField, UdpLayerDropReason } from '../mib.js';
import type { ConnRow } from '../stack/views.js';
import { copyBytes } from '../util/bytes.js';
import { addrVersion, canonicalAddr } from '../wire/addr.js';
import { Icmp4Type, Icmp6Type, Unreach4, Unreach6 } from '../wire/icmp.js';
import { isMulticast, unmapV4 } from '../ip/martians.js';
import { IPPROTO_UDP, IPV4_HEADER_LEN, IPV6_HEADER_LEN, type IpRepr } from '../wire/ip.js';
import { emitUdp, newUdpRepr, parseUdp, UDP_HEADER_LEN, UDP_MAX_PAYLOAD_V4, UDP_MAX_PAYLOAD_V6 } from '../wire/udp.js';
import { UdpSocket, type Datagram } from './socket.js';
import { socketAddr, UdpTable, wireAddr } from './table.js';

export interface UdpOpenOptions {
  /** SO_REUSEADDR: share the port with other reuseaddr sockets. */
  reuseAddr?: boolean;
  /** IPV6_V6ONLY (udp6 only). Default false, as Linux's bindv6only = 0 and Node. */
  ipv6Only?: boolean;
}

/** A datagram no socket claimed, as the UDP forwarder gets it. */
export interface ForwardedDatagram {
  version: 4 | 6;
  /** The guest's end. */
  src: string;
  srcPort: number;
  /** Where the guest sent it. */
  dst: string;
  dstPort: number;
  /** The payload (a copy). */
  data: Uint8Array;
  /** Answer with ICMP destination unreachable quoting it (default code: port unreachable). */
  unreachable(code?: number): void;
}

export class UdpLayer implements IpHandler {
  readonly table: UdpTable;
  private readonly rx = newUdpRepr();
  /** The datagram `send` is writing (read by `writer`). */
  private tx: { data: Uint8Array; sport: number; dport: number } = { data: new Uint8Array(0), sport: 0, dport: 0 };
  private readonly writer: PayloadWriter = (buf, off, s, d, checksum) => {
    const t = this.tx;
    copyBytes(buf, off + UDP_HEADER_LEN, t.data, 0, t.data.length);
    emitUdp(buf, off, t.sport, t.dport, t.data.length, s, d, checksum);
  };
  private readonly sockets = new Set<UdpSocket>();

  constructor(
    private readonly ip: IpLayer,
    private readonly mib: Mib,
    rng: Rng,
    range: [number, number],
    /** Count and publish one dropped datagram (the stack's Drop.<reason>). */
    private readonly onDrop: (reason: UdpLayerDropReason) => void,
  ) {
    this.table = new UdpTable(rng, range);
  }

  /** socket(AF_INET or AF_INET6, SOCK_DGRAM, 0). */
  open(family: 4 | 6, opts: UdpOpenOptions = {}): UdpSocket {
    if (family !== 4 && family !== 6) throw new TypeError(`family must be 4 or 6, got ${String(family)}`);
    const s = new UdpSocket(this, family, opts.reuseAddr ?? false, family === 6 && (opts.ipv6Only ?? false));
    this.sockets.add(s);
    return s;
  }

  /** Every open socket (bound or not). */
  list(): UdpSocket[] {
    return [...this.sockets];
  }

  /**
   * The bound sockets as netstat rows, like Linux's /proc/net/udp{,6} (udp4_format_sock): a
   * udp6 socket is a udp6 row even when it talks IPv4; Recv-Q is the memory charged to the
   * receive queue (sk_rmem_alloc), Send-Q 0 (a datagram leaves at once).
   */
  netstat(): ConnRow[] {
    return this.table.all().map((s) => ({
      proto: s.family === 4 ? 'udp' : 'udp6',
      localAddress: s.localAddress,
      localPort: s.localPort,
      remoteAddress: s.remoteAddress ?? (s.family === 4 ? '0.0.0.0' : '::'),
      remotePort: s.remotePort,
      state: s.connected ? 'ESTABLISHED' : 'CLOSED',
      recvQ: s.rmemAlloc,
      sendQ: 0,
      inode: s.id,
    }));
  }

  // ------------------------------------------------------------------ socket calls

  /** @internal LINUX inet_bind / inet6_bind + udp_lib_get_port. */
  bind(s: UdpSocket, address: string, port: number): void {
    this.usable(s);
    const addr = this.localAddress(s, address);
    checkPort(port, 'port', false);
    if (s.localPort !== 0) throw new StackError('EINVAL', `socket is already bound to port ${s.localPort}`);
    const p = port === 0 ? this.table.freePort(s, addr) : port;
    const other = this.table.conflict(s, addr, p);
    if (other !== undefined) throw new StackError('EADDRINUSE', `UDP port ${p} on ${addr} is in use by a socket on ${other.localAddress} (set reuseAddr on both to share it)`);
    s.localAddress = addr;
    s.boundAddress = addr;
    s.addrLocked = wireAddr(addr) !== '0.0.0.0' && addr !== '::';
    s.portLocked = port !== 0;
    s.localPort = p;
    s.rehash();
    this.table.insert(s, p);
  }

  /** @internal LINUX inet_dgram_connect → ip4_datagram_connect / ip6_datagram_connect. */
  connect(s: UdpSocket, address: string, port: number): void {
    this.usable(s);
    const peer = this.peerAddress(s, address, 'address');
    checkPort(port, 'port', true);
    const wire = wireAddr(peer);
    const path = this.ip.path(wire);
    if (path === null) throw new StackError('ENETUNREACH', `no route to ${wire}`);
    // LINUX __ip4_datagram_connect: a broadcast route without SO_BROADCAST is EACCES.
    if (!s.broadcast && this.isBroadcast(wire)) throw new StackError('EACCES', `${wire} is a broadcast address and the socket has no SO_BROADCAST`);
    if (s.localPort === 0) this.autobind(s);
    // LINUX: an unbound local address becomes the route's source (and the socket is rehashed).
    if (!s.addrLocked) s.localAddress = socketAddr(path.src, s.family);
    s.remoteAddress = peer;
    s.remotePort = port;
    s.rehash();
  }

  /** @internal LINUX __udp_disconnect: forget the peer; an address or port bind() did not fix is released too. */
  disconnect(s: UdpSocket): void {
    this.usable(s);
    if (!s.connected) return;
    s.remoteAddress = null;
    s.remotePort = 0;
    if (!s.addrLocked) s.localAddress = s.boundAddress;
    if (!s.portLocked && s.localPort !== 0) {
      this.table.remove(s, s.localPort);
      s.localPort = 0;
    }
    s.rehash();
  }

  /** @internal LINUX udp_sendmsg / udpv6_sendmsg. */
  send(s: UdpSocket, data: Uint8Array, address?: string, port?: number): number {
    this.usable(s);
    if (!(data instanceof Uint8Array)) throw new TypeError('data must be a Uint8Array');
    let peer: string;
    let dport: number;
    if (address !== undefined || port !== undefined) {
      peer = this.peerAddress(s, address ?? '', 'address');
      dport = checkPort(port, 'port', true);
    } else if (s.remoteAddress !== null) {
      peer = s.remoteAddress;
      dport = s.remotePort;
    } else {
      throw new StackError('EDESTADDRREQ', 'the socket is not connected and no destination was given');
    }
    const dst = wireAddr(peer);
    const v4 = !dst.includes(':');
    const G = v4 ? 'Udp' : 'Udp6';
    // LINUX: ip_append_data / ip6_append_data refuse what no IP datagram can hold.
    if (data.length > (v4 ? UDP_MAX_PAYLOAD_V4 : UDP_MAX_PAYLOAD_V6)) throw new StackError('EMSGSIZE', `${data.length} bytes do not fit one UDP datagram`);
    if (s.localPort === 0) this.autobind(s);
    const path = this.ip.path(dst);
    if (path === null) throw new StackError('ENETUNREACH', `no route to ${dst}`);
    if (!s.broadcast && this.isBroadcast(dst)) throw new StackError('EACCES', `${dst} is a broadcast address and the socket has no SO_BROADCAST`);
    // LINUX sock_alloc_send_pskb: sock_error(sk) — the pending ICMP error fails this send.
    const pending = s.takeError();
    if (pending !== null) throw new StackError(pending as StackError['code'], 'an ICMP error arrived for this socket');
    const local = wireAddr(s.localAddress);
    const src = local === '0.0.0.0' || local === '::' ? path.src : local;
    if (src.includes(':') === v4) throw new StackError('EAFNOSUPPORT', `cannot send from ${src} to ${dst}`);
    // LINUX __ip_make_skb with IP_PMTUDISC_WANT (the UDP default): DF on a datagram that fits
    // the path MTU; a larger one leaves DF clear and is fragmented (RFC 791 §3.2, RFC 8200 §4.5).
    const len = UDP_HEADER_LEN + data.length;
    const df = (v4 ? IPV4_HEADER_LEN : IPV6_HEADER_LEN) + len <= path.mtu;
    this.tx = { data, sport: s.localPort, dport };
    const err = this.ip.output(src, dst, IPPROTO_UDP, len, this.writer, { df, ttl: s.ttl });
    this.tx.data = EMPTY;
    if (err === 'ENOBUFS') {
      // LINUX udp_send_skb: a datagram the qdisc dropped (NET_XMIT_DROP) counts as a send
      // buffer error and, without IP_RECVERR (which synack does not have), the send succeeds.
      this.count(G, 'SndbufErrors');
      return data.length;
    }
    if (err !== null) throw new StackError(err, `sending ${data.length} bytes to ${dst}`);
    this.count(G, 'OutDatagrams');
    return data.length;
  }

  /**
   * Send a datagram from any source address and port (the forwarder's replies come from the
   * address the guest sent to, as a NAT's do). Returns null or the errno of why it was not sent.
   */
  sendFrom(src: string, srcPort: number, dst: string, dstPort: number, data: Uint8Array): string | null {
    const v4 = !dst.includes(':');
    if (src.includes(':') === v4) throw new TypeError(`sendFrom: ${src} and ${dst} are not one family`);
    if (data.length > (v4 ? UDP_MAX_PAYLOAD_V4 : UDP_MAX_PAYLOAD_V6)) return 'EMSGSIZE';
    const path = this.ip.path(dst);
    if (path === null) return 'ENETUNREACH';
    const len = UDP_HEADER_LEN + data.length;
    const df = (v4 ? IPV4_HEADER_LEN : IPV6_HEADER_LEN) + len <= path.mtu;
    this.tx = { data, sport: checkPort(srcPort, 'srcPort', true), dport: checkPort(dstPort, 'dstPort', true) };
    const err = this.ip.output(src, dst, IPPROTO_UDP, len, this.writer, { df });
    this.tx.data = EMPTY;
    if (err === null) this.count(v4 ? 'Udp' : 'Udp6', 'OutDatagrams');
    return err;
  }

  /** What no socket claimed goes here when set (see ForwardedDatagram). */
  forwarder: ((d: ForwardedDatagram) => void) | null = null;

  /** @internal */
  close(s: UdpSocket): void {
    if (s.localPort !== 0) this.table.remove(s, s.localPort);
    this.sockets.delete(s);
  }

  /** @internal A datagram was read (LINUX udp_recvmsg counts InDatagrams there, not on arrival). */
  delivered(d: Datagram): void {
    this.count(d.address.includes(':') && unmapV4(d.address) === null ? 'Udp6' : 'Udp', 'InDatagrams');
  }

  // ------------------------------------------------------------------ input

  /** A datagram for UDP (RFC 768; LINUX __udp4_lib_rcv / __udp6_lib_rcv). */
  input(ip: IpRepr, frame: Uint8Array, iface: Interface): void {
    const u = this.rx;
    const G = ip.version === 4 ? 'Udp' : 'Udp6';
    const reason = parseUdp(frame, ip, u, iface.link?.checksumOffload !== true);
    if (reason !== null) {
      if (reason === 'bad-udp-checksum' || reason === 'udp-zero-checksum-v6') this.count(G, 'InCsumErrors');
      this.count(G, 'InErrors');
      this.onDrop(reason);
      return;
    }
    const v = ip.version;
    if (this.isBroadcast(ip.dst) || isMulticast(ip.dst)) {
      const all = this.table.lookupAll(v, ip.dst, u.dstPort, ip.src, u.srcPort);
      // LINUX __udp4_lib_mcast_deliver: nobody listening is not an error and gets no ICMP
      // (RFC 1122 §3.2.2: never about a broadcast or multicast datagram).
      if (all.length === 0) {
        this.count(G, 'IgnoredMulti');
        this.onDrop('udp-no-port-multi');
        return;
      }
      for (const s of all) this.deliver(s, ip, frame, G);
      return;
    }
    const s = this.table.lookup(v, ip.dst, u.dstPort, ip.src, u.srcPort);
    if (s === undefined && this.forwarder !== null) {
      // A datagram no socket claims goes to the forwarder (user-mode networking's NAT) instead
      // of port unreachable; it may answer with one later through `unreachable`.
      const quote = frame.slice(0, Math.min(frame.length, ip.headerLength + ip.payloadLength, 576));
      const hdr = { ...ip };
      this.forwarder({
        version: v, src: ip.src, srcPort: u.srcPort, dst: ip.dst, dstPort: u.dstPort,
        data: frame.slice(u.payloadOffset, u.payloadOffset + u.payloadLength),
        unreachable: (code) => void this.ip.icmp.sendError(hdr, quote, v === 4 ? Icmp4Type.DEST_UNREACH : Icmp6Type.DEST_UNREACH, code ?? (v === 4 ? Unreach4.PORT : Unreach6.PORT)),
      });
      return;
    }
    if (s === undefined) {
      this.count(G, 'NoPorts');
      this.onDrop('udp-no-port');
      // RFC 1122 §4.1.3.1: a datagram for a port with no socket gets ICMP Port Unreachable.
      // The IP layer's ICMP engine applies RFC 1122 §3.2.2's never-send rules and Linux's rate limits.
      if (v === 4) this.ip.icmp.sendError(ip, frame, Icmp4Type.DEST_UNREACH, Unreach4.PORT);
      else this.ip.icmp.sendError(ip, frame, Icmp6Type.DEST_UNREACH, Unreach6.PORT);
      return;
    }
    this.deliver(s, ip, frame, G);
  }

  private deliver(s: UdpSocket, ip: IpRepr, frame: Uint8Array, G: 'Udp' | 'Udp6'): void {
    const u = this.rx;
    const data = frame.slice(u.payloadOffset, u.payloadOffset + u.payloadLength);
    if (!s.enqueue({ data, address: socketAddr(ip.src, s.family), port: u.srcPort })) {
      // LINUX __udp_queue_rcv_skb: -ENOMEM → RcvbufErrors and InErrors.
      this.count(G, 'RcvbufErrors');
      this.count(G, 'InErrors');
      this.onDrop('udp-rcvbuf');
    }
  }

  /**
   * An ICMP error quoting one of our datagrams (LINUX __udp4_lib_err / __udp6_lib_err): the
   * socket that sent it takes the error as its pending error (ECONNREFUSED for port
   * unreachable, EMSGSIZE for a lowered path MTU) only when it is connected and the error is hard — without IP_RECVERR Linux
   * ignores errors on unconnected sockets, whose sends may go anywhere.
   */
  error(err: IcmpErrorInfo): void {
    if (err.payload.length < 4) return;
    const sport = (err.payload[0]! << 8) | err.payload[1]!;
    const dport = (err.payload[2]! << 8) | err.payload[3]!;
    // The quoted datagram went from us (src) to the peer (dst): look up as for its reply.
    const s = this.table.lookup(err.version, err.src, sport, err.dst, dport);
    // LINUX: Fragmentation Needed / Packet Too Big is hard too while PMTU discovery is on (the
    // UDP default, IP_PMTUDISC_WANT): the path MTU was lowered and the datagram was lost.
    const hard = err.fatal || err.errno === 'EMSGSIZE';
    if (s === undefined || !s.connected || !hard) return;
    s.setError(err.errno);
  }

  // ------------------------------------------------------------------ helpers

  private usable(s: UdpSocket): void {
    if (s.closed) throw new StackError('EBADF', 'socket is closed');
  }

  /** LINUX inet_autobind: an ephemeral port on the wildcard address. */
  private autobind(s: UdpSocket): void {
    const p = this.table.freePort(s, s.localAddress);
    s.localPort = p;
    s.rehash();
    this.table.insert(s, p);
  }

  /** A local address for bind: the family's wildcard, or an address of this host, in the socket's family. */
  private localAddress(s: UdpSocket, address: string): string {
    const a = this.familyAddress(s, address, 'address');
    const w = wireAddr(a);
    if (w === '0.0.0.0' || w === '::') return a;
    // LINUX inet_bind: a broadcast address may be bound too (it receives broadcasts).
    if (!this.ip.isLocal(w) && !this.isBroadcast(w) && !isMulticast(w)) throw new StackError('EADDRNOTAVAIL', `${w} is not an address of this host`);
    return a;
  }

  private peerAddress(s: UdpSocket, address: string, what: string): string {
    return this.familyAddress(s, address, what);
  }

  /** Canonical text of `address` for socket `s`: IPv4 on a udp4 socket; IPv6 (maybe mapped) on a udp6 one. */
  private familyAddress(s: UdpSocket, address: string, what: string): string {
    const c = typeof address === 'string' ? canonicalAddr(address) : null;
    if (c === null) throw new TypeError(`${what}: '${String(address)}' is not an IP address`);
    const v = addrVersion(c);
    if (s.family === 4 && v !== 4) throw new StackError('EAFNOSUPPORT', `${what}: ${c} is not an IPv4 address (the socket is udp4)`);
    if (s.family === 6 && v !== 6) throw new StackError('EINVAL', `${what}: ${c} is not an IPv6 address (the socket is udp6; use ::ffff:${c})`);
    if (s.family === 6 && s.ipv6Only && unmapV4(c) !== null) throw new StackError('ENETUNREACH', `${what}: ${c} is IPv4-mapped and the socket is IPV6_V6ONLY`);
    return c;
  }

  /** 255.255.255.255 or the directed broadcast of one of our IPv4 subnets. */
  private isBroadcast(addr: string): boolean {
    return this.ip.isBroadcast(addr);
  }

  private count(group: 'Udp' | 'Udp6', field: UdpField): void {
    this.mib[`${group}${field}`]++;
  }
}

const EMPTY = new Uint8Array(0);

function checkPort(p: unknown, what: string, nonZero: boolean): number {
  if (typeof p !== 'number' || !Number.isInteger(p) || p < (nonZero ? 1 : 0) || p > 65535) {
    throw new RangeError(`${what} must be an integer ${nonZero ? 1 : 0}..65535, got ${String(p)}`);
  }
  return p;
}
