/**
 * One UDP socket (RFC 768; RFC 8085 for what an application may expect): its local and peer
 * endpoints, its options, the receive queue bounded by bytes (SO_RCVBUF) and the pending error
 * (LINUX sk->sk_err) an ICMP error leaves on a connected socket. The calls mirror the socket
 * API (bind, connect, disconnect, send, recv); the node:dgram API in src/dgram/ sits on them.
 *
 * Addresses are given and reported in the socket's family: a udp6 socket sees IPv4 peers as
 * IPv4-mapped addresses (::ffff:10.0.0.1), as Linux and Node show them.
 */
import { StackError } from '../stack/errors.js';
import type { UdpLayer } from './layer.js';
import { unmapV4 } from '../ip/martians.js';
import { localMatch, wireAddr, type LocalMatch } from './table.js';

/** A received datagram: its bytes and where it came from. */
export interface Datagram {
  data: Uint8Array;
  /** The sender, in the socket's family. */
  address: string;
  port: number;
}

/** LINUX net.core.rmem_default / rmem_max / wmem_default: 212992 bytes. */
export const RMEM_DEFAULT = 212_992;
export const RMEM_MAX = 212_992;
export const WMEM_DEFAULT = 212_992;
/** LINUX SOCK_MIN_RCVBUF: 2048 + sizeof(struct sk_buff), 2304 on x86-64. */
export const SOCK_MIN_RCVBUF = 2304;
/**
 * What a queued datagram costs beyond its bytes (LINUX skb->truesize: SKB_TRUESIZE adds the
 * aligned struct sk_buff (256) and skb_shared_info (320) on x86-64). It is what bounds a
 * queue of empty datagrams, and why a 1-byte datagram uses far more buffer than one byte.
 */
export const DATAGRAM_OVERHEAD = 576;

let nextId = 1;

/** A UDP endpoint on a stack (the callback core under the node:dgram API): bind, send, receive datagrams. */
export class UdpSocket {
  /** A number for netstat's inode column and for tests. */
  readonly id = nextId++;
  /** Local address (the family's wildcard until bound or connected) and port (0: unbound). */
  localAddress: string;
  localPort = 0;
  /** The peer of a connected socket (LINUX TCP_ESTABLISHED state on a UDP socket), else null. */
  remoteAddress: string | null = null;
  remotePort = 0;
  /** SO_BROADCAST: may send to a broadcast address. */
  broadcast = false;
  /** IP_TTL / IPV6_UNICAST_HOPS. LINUX ip_default_ttl: 64. */
  ttl = 64;
  /** SO_RCVBUF as the kernel keeps it (doubled, see setRecvBufferSize). */
  rcvbuf = RMEM_DEFAULT;
  sndbuf = WMEM_DEFAULT;
  /** Bytes charged to the receive queue (LINUX sk_rmem_alloc). */
  rmemAlloc = 0;
  closed = false;
  /** @internal Order of binding, for lookup ties (most recent wins). */
  bindSeq = 0;
  /** @internal The address bind() set (restored by disconnect), and LINUX's SOCK_BIND*_LOCK. */
  boundAddress: string;
  /** @internal */
  addrLocked = false;
  /** @internal */
  portLocked = false;
  /** A datagram was queued (called once per datagram; read them with recv()). */
  onReadable: (() => void) | null = null;
  /** A pending error was set (LINUX sk_error_report): the next send or recv reports it. */
  onError: (() => void) | null = null;

  private readonly queue: Datagram[] = [];
  private head = 0;
  /** An errno name (ECONNREFUSED, EHOSTUNREACH, EMSGSIZE …), as ICMP errors convert. */
  private err: string | null = null;
  private matchCache: LocalMatch | null = null;

  constructor(
    private readonly layer: UdpLayer,
    readonly family: 4 | 6,
    /** SO_REUSEADDR. */
    readonly reuseAddr: boolean,
    /** IPV6_V6ONLY: a udp6 socket on :: gets no IPv4 datagrams. */
    readonly ipv6Only: boolean,
  ) {
    this.localAddress = family === 4 ? '0.0.0.0' : '::';
    this.boundAddress = this.localAddress;
  }

  get connected(): boolean {
    return this.remoteAddress !== null;
  }

  /** Datagrams waiting to be read. */
  get queued(): number {
    return this.queue.length - this.head;
  }

  // ------------------------------------------------------------------ the socket calls

  /** bind(2): (address, port); port 0 picks an ephemeral port. Throws EADDRINUSE, EADDRNOTAVAIL, EINVAL. */
  bind(address: string, port: number): void {
    this.layer.bind(this, address, port);
  }

  /** connect(2): fix the peer (datagrams from others are no longer delivered). */
  connect(address: string, port: number): void {
    this.layer.connect(this, address, port);
  }

  /** connect(AF_UNSPEC): forget the peer (LINUX __udp_disconnect). */
  disconnect(): void {
    this.layer.disconnect(this);
  }

  /**
   * sendto(2)/send(2): one datagram, to (address, port) or to the connected peer. Returns the
   * bytes sent; throws a StackError with the errno (EACCES, EMSGSIZE, ENETUNREACH, the pending
   * ECONNREFUSED …).
   */
  send(data: Uint8Array, address?: string, port?: number): number {
    return this.layer.send(this, data, address, port);
  }

  /** recvfrom(2): the oldest datagram, or null; a pending error is thrown first (and cleared). */
  recv(): Datagram | null {
    if (this.closed) throw new StackError('EBADF', 'socket is closed');
    const e = this.takeError();
    if (e !== null) throw new StackError(e as StackError['code'], 'an ICMP error arrived for this socket');
    if (this.head === this.queue.length) return null;
    const d = this.queue[this.head]!;
    this.queue[this.head++] = undefined as unknown as Datagram;
    if (this.head > 64 && this.head * 2 > this.queue.length) {
      this.queue.splice(0, this.head);
      this.head = 0;
    }
    this.rmemAlloc -= d.data.length + DATAGRAM_OVERHEAD;
    this.layer.delivered(d);
    return d;
  }

  /** LINUX sock_error: the pending error, cleared. */
  takeError(): string | null {
    const e = this.err;
    this.err = null;
    return e;
  }

  /** Release the port; no more datagrams arrive. */
  close(): void {
    if (this.closed) return;
    this.layer.close(this);
    this.closed = true;
    this.queue.length = 0;
    this.head = 0;
    this.rmemAlloc = 0;
  }

  // ------------------------------------------------------------------ options

  /** SO_RCVBUF: LINUX doubles the value (room for bookkeeping), caps it at rmem_max, floors it at SOCK_MIN_RCVBUF. */
  setRecvBufferSize(bytes: number): void {
    if (!Number.isInteger(bytes) || bytes < 0) throw new RangeError(`bytes must be a non-negative integer, got ${String(bytes)}`);
    this.rcvbuf = Math.max(Math.min(bytes, RMEM_MAX) * 2, SOCK_MIN_RCVBUF);
  }

  /** SO_SNDBUF (LINUX: doubled, capped at wmem_max, floored at SOCK_MIN_SNDBUF 4608). */
  setSendBufferSize(bytes: number): void {
    if (!Number.isInteger(bytes) || bytes < 0) throw new RangeError(`bytes must be a non-negative integer, got ${String(bytes)}`);
    this.sndbuf = Math.max(Math.min(bytes, WMEM_DEFAULT) * 2, 4608);
  }

  /** IP_TTL: 1..255 (LINUX do_ip_setsockopt: EINVAL otherwise). */
  setTtl(ttl: number): void {
    if (!Number.isInteger(ttl) || ttl < 1 || ttl > 255) throw new StackError('EINVAL', `ttl must be an integer 1..255, got ${String(ttl)}`);
    this.ttl = ttl;
  }

  // ------------------------------------------------------------------ for the layer

  /** @internal Queue a datagram unless the receive buffer is full (returns false: dropped). */
  enqueue(d: Datagram): boolean {
    // LINUX __udp_enqueue_schedule_skb: refused once the memory already charged exceeds
    // sk_rcvbuf; the datagram that crosses the limit is still taken.
    if (this.rmemAlloc > this.rcvbuf) return false;
    this.rmemAlloc += d.data.length + DATAGRAM_OVERHEAD;
    this.queue.push(d);
    this.onReadable?.();
    return true;
  }

  /** @internal LINUX __udp4_lib_err: sk->sk_err = err; sk_error_report(sk). */
  setError(code: string): void {
    this.err = code;
    this.onError?.();
  }

  /** @internal The local addresses this socket accepts, per family. */
  match(): LocalMatch {
    return (this.matchCache ??= localMatch(this.family, this.localAddress, this.ipv6Only));
  }

  /** @internal The local address changed (bind, connect, disconnect). */
  rehash(): void {
    this.matchCache = null;
  }

  /**
   * @internal LINUX compute_score: -1 when this socket does not take a datagram of version
   * `v` to `dst` from (src, sport), else higher for a closer match.
   */
  score(v: 4 | 6, dst: string, src: string, sport: number): number {
    const m = this.match();
    const side = v === 4 ? m.v4 : m.v6;
    if (side === null) return -1;
    let score = this.family === v ? 1 : 0;
    if (side !== '*') {
      if (side !== dst) return -1;
      score += 4;
    }
    if (this.remoteAddress !== null) {
      if (wireAddr(this.remoteAddress) !== src || this.remotePort !== sport) return -1;
      score += 8;
    }
    return score;
  }

  /** @internal The peer's address as the wire carries it. */
  get remoteWire(): string | null {
    return this.remoteAddress === null ? null : (unmapV4(this.remoteAddress) ?? this.remoteAddress);
  }
}
