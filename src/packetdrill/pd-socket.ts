/**
 * What a packetdrill system call returns (a result now, or a blocked call the interpreter polls)
 * and one open socket file description with its options and epoll watchers. The calls
 * themselves are in sockets.ts.
 */
import { StackError } from '../stack/errors.js';
import type { Listener } from '../stack/listener.js';
import { TcpUsageError } from '../tcp/connection.js';
import type { TcpConfig } from '../tcp/config.js';
import type { TcpSocket } from '../stack/socket.js';
import { TcpState } from '../tcp/state.js';
import type { SipKey } from '../tcp/siphash.js';
import { SYMBOLS as S } from './errno.js';
import { wake, type EpollItem } from './epoll.js';
import { streamWriteable } from '../tcp/send-queue.js';

export interface SysResult {
  ret: number;
  errno?: string;
  /** Values a call hands back (getsockopt's optval, poll's revents, read's bytes ...). */
  value?: unknown;
}

export interface Blocked {
  poll(): SysResult | null;
  /** A virtual time at which poll() must be tried even if nothing happens (poll's timeout). */
  deadline?: number | undefined;
}

export type Outcome = SysResult | Blocked;

export const ok = (ret = 0, value?: unknown): SysResult => (value === undefined ? { ret } : { ret, value });
export const fail = (errno: string): SysResult => ({ ret: -1, errno });
export const isBlocked = (o: Outcome): o is Blocked => 'poll' in o;

/** Wrap a try function: done now, EAGAIN when non-blocking, else block until it completes. */
export function blockingTry(nonblock: boolean, attempt: () => SysResult | null): Outcome {
  const r = attempt();
  if (r !== null) return r;
  if (nonblock) return fail('EAGAIN');
  return { poll: attempt };
}

export interface Endpoint {
  address: string;
  port: number;
}

/** One open socket file description. */
export class PdSocket {
  nonblock = false;
  reuseAddr = false;
  /**
   * SO_ZEROCOPY (LINUX sock_setsockopt: the SOCK_ZEROCOPY flag), recorded and reported. A
   * MSG_ZEROCOPY send puts the same bytes on the wire as any send, so it runs as one; the
   * completion notices Linux then queues on the error queue (MSG_ERRQUEUE) are not emulated.
   */
  zeroCopy = false;
  bound: Endpoint | null = null;
  listener: Listener | null = null;
  sock: TcpSocket | null = null;
  /** Options set before the connection exists (applied at listen/connect). */
  readonly config: Partial<TcpConfig> = {};
  /** SO_ERROR: a pending error reported once (by SO_ERROR or a failing call). */
  soError: string | null = null;
  shutRd = false;
  shutWr = false;
  /** A non-blocking connect is under way (connect() again answers EALREADY). */
  connecting = false;
  lingerDone: boolean | null = null;
  rcvBufSet = 0;
  sndBufSet = 0;
  /** TCP_CONGESTION name as set. */
  congestion = 'cubic';
  /** TCP_FASTOPEN's qlen (-1: not set), applied to the listener (RFC 7413). */
  fastOpenQlen = -1;
  /** TCP_FASTOPEN_NO_COOKIE. */
  fastOpenNoCookie = false;
  /** TCP_FASTOPEN_CONNECT: connect() defers the SYN to the first write (LINUX tcp_fastopen_defer_connect). */
  fastOpenConnect = false;
  /** TCP_FASTOPEN_KEY: the listener's own cookie keys. */
  fastOpenKeys: SipKey[] | null = null;
  /** TCP_NOTSENT_LOWAT as set on this socket (0: the sysctl's value applies; getsockopt says 0). */
  notsentLowatSet = 0;
  /** epoll items watching this socket (woken by its events, epoll.ts). */
  readonly watchers = new Set<EpollItem>();
  /** A write found the send buffer full (LINUX SOCK_NOSPACE): EPOLLOUT wakes once it is at most 2/3 full. */
  nospace = false;
  /** TCP_INQ: recvmsg hands back a TCP_CM_INQ control message (LINUX tcp_recvmsg). */
  inq = false;

  constructor(
    readonly family: 4 | 6,
    readonly fd: number,
  ) {}

  attach(s: TcpSocket): void {
    this.sock = s;
    s.onError = (code) => {
      this.soError = code;
      this.connecting = false;
      wake(this.watchers, S.POLLERR!); // LINUX sock_def_error_report
    };
    // LINUX sock_def_readable, sk_stream_write_space (after SOCK_NOSPACE, once the buffer is at most
    // 2/3 full: __sk_stream_is_writeable), sock_def_wakeup.
    s.onData = () => wake(this.watchers, S.POLLIN! | S.POLLRDNORM!);
    s.onWritable = () => {
      if (!this.nospace || !streamWriteable(s.conn)) return;
      this.nospace = false;
      wake(this.watchers, S.POLLOUT! | S.POLLWRNORM!);
    };
    s.onEnd = () => wake(this.watchers, 0);
    s.onState = () => wake(this.watchers, 0);
    s.onLinger = (acked) => {
      this.lingerDone = acked;
    };
    s.onConnect = () => {
      this.connecting = false;
    };
  }

  /** Take the pending error (sock_error()). */
  takeError(): string | null {
    const e = this.soError;
    this.soError = null;
    return e;
  }
}

/** A write's result with `n` bytes already taken (by the SYN) added. */
export function plus(o: Outcome, n: number): Outcome {
  if (n === 0) return o;
  if (!isBlocked(o)) return o.ret >= 0 ? ok(o.ret + n) : ok(n);
  return { poll: () => {
    const r = o.poll();
    return r === null ? null : r.ret >= 0 ? ok(r.ret + n) : ok(n);
  }, deadline: o.deadline };
}

/** The errno of an exception from the stack's user API. */
export function errnoOf(e: unknown): string {
  if (e instanceof StackError || e instanceof TcpUsageError) return e.code;
  if (e instanceof RangeError || e instanceof TypeError) return 'EINVAL';
  throw e;
}
