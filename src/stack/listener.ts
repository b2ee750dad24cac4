import type { Connection } from '../tcp/connection.js';
import type { TcpConfig } from '../tcp/config.js';
import { ListenerFastOpen } from '../tcp/fastopen.js';
import { SlotList } from '../util/slot-list.js';
import type { TcpSocket } from './socket.js';
import type { Stack } from './stack.js';

/**
 * A listening endpoint (RFC 9293 LISTEN) with Linux's two queues: the SYN queue of half-open
 * children in SYN_RECEIVED, bounded by the backlog, and the accept queue of established children
 * the application has not accepted yet, also bounded by the backlog (LINUX: min(backlog, somaxconn)).
 */
export class Listener {
  /** Half-open children in SYN_RECEIVED (each remembers its place: Connection.synSlot). */
  readonly synQueue = new SlotList<Connection>(
    (c) => c.synSlot,
    (c, i) => {
      c.synSlot = i;
    },
  );
  readonly acceptQueue: TcpSocket[] = [];
  /** Called when a connection has been established and queued (call accept()). */
  onConnection: ((sock: TcpSocket) => void) | null = null;
  closed = false;
  /** IPV6_V6ONLY: a '::' listener that does not also accept IPv4 (LINUX default off: dual-stack). */
  ipv6Only = false;
  /** The Fast Open queue and settings (TCP_FASTOPEN, TCP_FASTOPEN_KEY ...; RFC 7413). */
  readonly fastOpen = new ListenerFastOpen();

  constructor(
    readonly stack: Stack,
    readonly address: string,
    readonly port: number,
    readonly backlog: number,
    readonly config: Partial<TcpConfig>,
    readonly reuseAddr: boolean,
  ) {}

  /** LINUX sk_acceptq_is_full: more than `backlog` waiting. */
  get acceptQueueFull(): boolean {
    return this.acceptQueue.length > this.backlog;
  }

  /** LINUX inet_csk_reqsk_queue_is_full: the SYN queue holds `backlog` requests. */
  get synQueueFull(): boolean {
    return this.synQueue.size >= this.backlog;
  }

  /** Take the oldest established connection, or null. */
  accept(): TcpSocket | null {
    const sock = this.acceptQueue.shift() ?? null;
    const fo = sock?.conn.fastOpen;
    if (fo) fo.accepted = true;
    if (sock !== null) sock.accepted = true;
    return sock;
  }

  /** Stop listening; connections not yet accepted are reset. */
  close(): void {
    this.stack.closeListener(this);
  }
}

/**
 * The listening sockets by port, then address (LINUX inet_hashinfo's listening hash is keyed by
 * port too): the lookup for each arriving SYN builds no key string (a `${addr} ${port}` key per
 * lookup, up to three per SYN, was ~120 B of garbage per connection, bench/cps.ts). Iteration is
 * in the order the listeners were added. A port holds a few listeners at most (one per address;
 * Ports.checkBind refuses a second on the same address).
 */
export class ListenerTable {
  private readonly byPort = new Map<number, Listener[]>();
  private readonly all = new Set<Listener>();

  get size(): number {
    return this.all.size;
  }

  add(l: Listener): void {
    const at = this.byPort.get(l.port);
    if (at === undefined) this.byPort.set(l.port, [l]);
    else at.push(l);
    this.all.add(l);
  }

  delete(l: Listener): void {
    if (!this.all.delete(l)) return;
    const at = this.byPort.get(l.port)!;
    at.splice(at.indexOf(l), 1);
    if (at.length === 0) this.byPort.delete(l.port);
  }

  /** The listener bound to exactly `addr` (canonical text) and `port`. */
  get(addr: string, port: number): Listener | undefined {
    const at = this.byPort.get(port);
    if (at === undefined) return undefined;
    for (let i = 0; i < at.length; i++) if (at[i]!.address === addr) return at[i];
    return undefined;
  }

  values(): IterableIterator<Listener> {
    return this.all.values();
  }
}
