/**
 * The UDP socket table (LINUX net/ipv4/udp.c udp_table): which sockets hold which local port,
 * the bind-conflict rule, ephemeral ports, and the lookup that picks the socket for a datagram.
 *
 * Addresses here are "wire" addresses: an IPv4-mapped IPv6 address (::ffff:a.b.c.d) of a udp6
 * socket is its IPv4 address, because that is what its datagrams carry.
 */
import { unmapV4 } from '../ip/martians.js';
import type { Rng } from '../rng.js';
import { StackError } from '../stack/errors.js';
import type { UdpSocket } from './socket.js';

/** What a bound socket accepts on each family: '*' (any local address), one address, or nothing. */
export interface LocalMatch {
  v4: string | null;
  v6: string | null;
}

/** A socket's address as its datagrams carry it (the IPv4 address of a mapped one). */
export function wireAddr(addr: string): string {
  return unmapV4(addr) ?? addr;
}

/** A datagram's address as a socket of `family` sees it (IPv4 on a udp6 socket: mapped). */
export function socketAddr(addr: string, family: 4 | 6): string {
  return family === 6 && !addr.includes(':') ? `::ffff:${addr}` : addr;
}

/**
 * The local addresses a socket bound to `addr` accepts (LINUX inet_rcv_saddr_equal's view):
 * an IPv4 socket only IPv4; a udp6 socket on :: both families unless IPV6_V6ONLY; on a mapped
 * address only that IPv4 address; on another IPv6 address only that one.
 */
export function localMatch(family: 4 | 6, addr: string, v6only: boolean): LocalMatch {
  if (family === 4) return { v4: addr === '0.0.0.0' ? '*' : addr, v6: null };
  if (addr === '::') return { v4: v6only ? null : '*', v6: '*' };
  const v4 = unmapV4(addr);
  if (v4 !== null) return { v4: v4 === '0.0.0.0' ? '*' : v4, v6: null };
  return { v4: null, v6: addr };
}

const sideOverlaps = (a: string | null, b: string | null): boolean => a !== null && b !== null && (a === '*' || b === '*' || a === b);

export class UdpTable {
  private readonly byPort = new Map<number, UdpSocket[]>();
  private bindSeq = 0;

  constructor(
    private readonly rng: Rng,
    /** net.ipv4.ip_local_port_range. LINUX: 32768–60999. */
    readonly range: [number, number],
  ) {}

  /** Sockets holding `port` (most recently bound first: LINUX adds to the hash chain's head). */
  onPort(port: number): readonly UdpSocket[] {
    return this.byPort.get(port) ?? [];
  }

  /** Every bound socket, ports ascending. */
  all(): UdpSocket[] {
    const ports = [...this.byPort.keys()].sort((a, b) => a - b);
    return ports.flatMap((p) => [...this.byPort.get(p)!].reverse());
  }

  /**
   * LINUX udp_lib_lport_inuse: binding `sock` to (addr, port) conflicts with another socket on
   * the port whose local addresses overlap, unless both set SO_REUSEADDR (UDP shares a port
   * freely between reuseaddr sockets, even on the same address: the multicast case).
   */
  conflict(sock: UdpSocket, addr: string, port: number): UdpSocket | undefined {
    const mine = localMatch(sock.family, addr, sock.ipv6Only);
    for (const other of this.onPort(port)) {
      if (other === sock || (other.reuseAddr && sock.reuseAddr)) continue;
      const theirs = other.match();
      if (sideOverlaps(mine.v4, theirs.v4) || sideOverlaps(mine.v6, theirs.v6)) return other;
    }
    return undefined;
  }

  /**
   * LINUX udp_lib_get_port with snum 0: a random start in the range, then every port in turn
   * until one binds without conflict; EADDRINUSE when the whole range is taken.
   */
  freePort(sock: UdpSocket, addr: string): number {
    const [lo, hi] = this.range;
    const n = hi - lo + 1;
    const start = this.rng.int(0, n - 1);
    for (let i = 0; i < n; i++) {
      const port = lo + ((start + i) % n);
      if (this.conflict(sock, addr, port) === undefined) return port;
    }
    throw new StackError('EADDRINUSE', `no free UDP port in ${lo}-${hi}`);
  }

  insert(sock: UdpSocket, port: number): void {
    const list = this.byPort.get(port);
    sock.bindSeq = ++this.bindSeq;
    if (list === undefined) this.byPort.set(port, [sock]);
    else list.unshift(sock);
  }

  remove(sock: UdpSocket, port: number): void {
    const list = this.byPort.get(port);
    if (list === undefined) return;
    const i = list.indexOf(sock);
    if (i >= 0) list.splice(i, 1);
    if (list.length === 0) this.byPort.delete(port);
  }

  /**
   * LINUX udp4_lib_lookup2 / compute_score: the socket on `dport` that accepts a datagram to
   * `dst` from (src, sport), the best-scoring one: a bound address (+4) and a connected peer
   * (+4 address, +4 port) beat wildcards, and a socket of the datagram's own family scores 1
   * more than a dual-stack one. Ties go to the most recently bound.
   */
  lookup(v: 4 | 6, dst: string, dport: number, src: string, sport: number): UdpSocket | undefined {
    let best: UdpSocket | undefined;
    let bestScore = -1;
    for (const s of this.onPort(dport)) {
      const score = s.score(v, dst, src, sport);
      if (score > bestScore) {
        best = s;
        bestScore = score;
      }
    }
    return best;
  }

  /** LINUX __udp4_lib_mcast_deliver: every socket that accepts a broadcast or multicast datagram. */
  lookupAll(v: 4 | 6, dst: string, dport: number, src: string, sport: number): UdpSocket[] {
    return this.onPort(dport).filter((s) => s.score(v, dst, src, sport) >= 0);
  }
}
