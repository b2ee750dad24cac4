/**
 * Local ports (LINUX inet_hashtables.c / inet_connection_sock.c): bind conflicts, a free port
 * for bind(0), an ephemeral port per 4-tuple for connect.
 */
import type { Rng } from '../rng.js';
import { addrKeyOfText } from '../wire/addr.js';
import type { ConnTable } from './conn-table.js';
import { StackError } from './errors.js';
import type { IsnGenerator } from './isn.js';
import { Listener, ListenerTable } from './listener.js';

/** LINUX INET_TABLE_PERTURB_SIZE is 2^16; 256 buckets keep a stack small. */
const PERTURB_SIZE = 256;

export const endpoint = (addr: string, port: number): string => (addr.includes(':') ? `[${addr}]:${port}` : `${addr}:${port}`);

const wildcard = (a: string): boolean => a === '0.0.0.0' || a === '::';

export class Ports {
  /** LINUX table_perturb: per-destination-bucket cursor of ephemeralPort. */
  private readonly perturb = new Uint32Array(PERTURB_SIZE);
  /** Destinations ("local remote port") whose even ephemeral ports are all taken. */
  private readonly evenPortsFull = new Set<string>();

  constructor(
    private readonly conns: ConnTable,
    private readonly listeners: ListenerTable,
    private readonly rng: Rng,
    private readonly isnGen: IsnGenerator,
    readonly range: [number, number],
  ) {}

  /**
   * DESIGN.md principle 11: the listener on (addr, port), then on the family's wildcard; an IPv4
   * segment also finds a dual-stack '::' listener (LINUX: an AF_INET6 socket without
   * IPV6_V6ONLY accepts IPv4 as ::ffff:a.b.c.d, RFC 4291 §2.5.5.2).
   */
  findListener(addr: string, port: number): Listener | undefined {
    const v6 = addr.includes(':');
    const l = this.listeners.get(addr, port) ?? this.listeners.get(v6 ? '::' : '0.0.0.0', port);
    if (l !== undefined || v6) return l;
    const d = this.listeners.get('::', port);
    return d !== undefined && !d.ipv6Only ? d : undefined;
  }

  /** A connection to (local, remote, port) went away: its even ports may be free again. */
  forget(localAddr: string, remoteAddr: string, remotePort: number): void {
    if (this.evenPortsFull.size > 0) this.evenPortsFull.delete(`${localAddr} ${remoteAddr} ${remotePort}`);
  }

  /**
   * LINUX inet_csk_bind_conflict, simplified: a port is in use on an overlapping address by a
   * listener (always a conflict) or by a connection (a conflict unless SO_REUSEADDR; this is
   * what makes a restarted server fail with EADDRINUSE while its old connections sit in TIME_WAIT).
   */
  checkBind(address: string, port: number, reuseAddr: boolean, connecting = false): void {
    const overlap = (a: string): boolean => wildcard(a) || wildcard(address) || a === address;
    for (const l of this.listeners.values()) {
      if (l.port === port && overlap(l.address) && !connecting) {
        throw new StackError('EADDRINUSE', `port ${port} on ${address} already has a listener`);
      }
    }
    if (reuseAddr) return;
    for (const c of this.conns.values()) {
      if (c.localPort === port && overlap(c.localAddr) && !(c.owner instanceof Listener && !connecting)) {
        throw new StackError('EADDRINUSE', `port ${port} on ${address} is in use by a connection in ${c.state} (set reuseAddr to bind anyway)`);
      }
    }
  }

  /** A port nobody uses on `address`: no listener, no connection (LINUX: odd ports first for bind). */
  freePort(address: string): number {
    const [lo, hi] = this.range;
    const n = hi - lo + 1;
    const start = this.rng.int(0, n - 1) | 1;
    const used = new Set<number>();
    for (const c of this.conns.values()) used.add(c.localPort);
    for (const parity of [0, 1]) {
      for (let i = 0; i < n; i += 2) {
        const port = lo + ((start + i + parity) % n);
        if (!used.has(port) && this.findListener(address, port) === undefined && this.findListener('0.0.0.0', port) === undefined && this.findListener('::', port) === undefined) return port;
      }
    }
    throw new StackError('EADDRINUSE', `no free port in ${lo}-${hi} to listen on`);
  }

  /**
   * LINUX __inet_hash_connect: an ephemeral port unique for this 4-tuple, even ports first then
   * odd, starting at offset = keyed hash(addresses, remote port) + table_perturb[hash % size];
   * after a success the perturbation advances past the port found (+ i + 2), so connections to
   * one destination take consecutive free ports: O(1) amortized, not a scan of the used ones.
   */
  ephemeralPort(localAddr: string, remoteAddr: string, remotePort: number): number {
    const [lo, hi] = this.range;
    const n = hi - lo + 1;
    const lk = addrKeyOfText(localAddr);
    const rk = addrKeyOfText(remoteAddr);
    const h = this.isnGen.portOffset(localAddr, remoteAddr, remotePort);
    const index = h & (PERTURB_SIZE - 1);
    const offset = ((h + this.perturb[index]!) % n) & ~1;
    // Once every even port towards a destination is taken, remember it (until a connection to it
    // goes away) so each further connect does not rescan them all before trying the odd ones.
    const full = this.evenPortsFull.size > 0 && this.evenPortsFull.has(`${localAddr} ${remoteAddr} ${remotePort}`);
    for (let parity = full ? 1 : 0; parity < 2; parity++) {
      const start = offset + parity;
      for (let i = 0; i < n; i += 2) {
        const port = lo + ((start + i) % n);
        if (this.conns.get(localAddr, lk, port, remoteAddr, rk, remotePort) !== undefined) continue;
        if (this.listeners.size > 0 && this.findListener(localAddr, port) !== undefined) continue;
        this.perturb[index] = (this.perturb[index]! + i + 2) >>> 0;
        return port;
      }
      if (parity === 0) this.evenPortsFull.add(`${localAddr} ${remoteAddr} ${remotePort}`);
    }
    throw new StackError('EADDRNOTAVAIL', `no free ephemeral port in ${lo}-${hi} towards ${endpoint(remoteAddr, remotePort)}`);
  }
}

/** A port number given by a caller, checked (1..65535, or 0..65535 where 0 asks for any); throws naming `what`. */
export function checkPort(p: unknown, what: string, nonZero: boolean): number {
  if (typeof p !== 'number' || !Number.isInteger(p) || p < (nonZero ? 1 : 0) || p > 65535) {
    throw new RangeError(`${what} must be an integer ${nonZero ? 1 : 0}..65535, got ${String(p)}`);
  }
  return p;
}
