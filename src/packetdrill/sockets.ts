/**
 * A POSIX socket layer over synack's Stack with Linux semantics, as packetdrill's system calls see
 * it: an fd table (socket() returns 3 first, the lowest free fd), O_NONBLOCK, EAGAIN/EINPROGRESS/
 * EALREADY/EISCONN/ENOTCONN/EPIPE, SO_ERROR, and blocking calls. A call returns a `SysResult`, or
 * a `Blocked` whose `poll()` the interpreter calls after every step of virtual time until it
 * returns a result (the call "returns" then).
 */
import type { TcpSocket } from '../stack/socket.js';
import type { Stack } from '../stack/stack.js';
import type { TcpConfig } from '../tcp/config.js';
import { TcpState } from '../tcp/state.js';
import { synDataSpace, TFO } from '../tcp/fastopen.js';
import { SYMBOLS as S } from './errno.js';
import { streamWriteable } from '../tcp/send-queue.js';
import { Epoll, wake } from './epoll.js';
import { getSockopt, setSockopt, type SockoptValue } from './sockopts.js';
import { blockingTry, errnoOf, fail, isBlocked, ok, PdSocket, plus, type Blocked, type Endpoint, type Outcome, type SysResult } from './pd-socket.js';
export { errnoOf, fail, isBlocked, ok, PdSocket, type Blocked, type Endpoint, type Outcome, type SysResult } from './pd-socket.js';

export interface SocketLayerOptions {
  stack: Stack;
  localAddress: string;
  /** Port bind(..., ...) uses and connect(..., ...) connects to. */
  defaultPort: number;
  remoteAddress: string;
}

/** The fd table and the calls on it. */
export class SocketLayer {
  readonly fds = new Map<number, PdSocket>();
  /** epoll instances, sharing the fd numbers with sockets. */
  readonly epolls = new Map<number, Epoll>();
  /** Called when a socket starts an active open (the interpreter learns its local port). */
  onConnect: ((s: PdSocket) => void) | null = null;
  onListen: ((s: PdSocket) => void) | null = null;

  constructor(readonly opts: SocketLayerOptions) {}

  private get stack(): Stack {
    return this.opts.stack;
  }

  private nextFd(): number {
    let fd = 3;
    while (this.fds.has(fd) || this.epolls.has(fd)) fd++;
    return fd;
  }

  get(fd: number): PdSocket | null {
    return this.fds.get(fd) ?? null;
  }

  socket(domain: number, type: number, protocol: number): SysResult {
    if (domain !== S.AF_INET && domain !== S.AF_INET6) return fail('EAFNOSUPPORT');
    const base = type & ~(S.SOCK_NONBLOCK! | S.SOCK_CLOEXEC!);
    if (base !== S.SOCK_STREAM) return fail(base === S.SOCK_DGRAM || base === S.SOCK_RAW ? 'EPROTONOSUPPORT' : 'EINVAL');
    if (protocol !== 0 && protocol !== S.IPPROTO_TCP) return fail('EPROTONOSUPPORT');
    const fd = this.nextFd();
    const s = new PdSocket(domain === S.AF_INET6 ? 6 : 4, fd);
    s.nonblock = (type & S.SOCK_NONBLOCK!) !== 0;
    this.fds.set(fd, s);
    return ok(fd);
  }

  bind(s: PdSocket, ep: Endpoint): SysResult {
    if (s.bound !== null || s.sock !== null) return fail('EINVAL');
    const any = ep.address === '0.0.0.0' || ep.address === '::';
    if (!any && !this.stack.addresses.has(ep.address)) return fail('EADDRNOTAVAIL');
    // LINUX inet_csk_get_port: a listener on the port, or (without SO_REUSEADDR) a connection.
    for (const l of this.stack.listenersList()) if (l.port === ep.port) return fail('EADDRINUSE');
    if (!s.reuseAddr) {
      for (const c of this.stack.connections()) if (c.localPort === ep.port && c.state !== 'TIME_WAIT') return fail('EADDRINUSE');
    }
    s.bound = ep;
    return ok();
  }

  listen(s: PdSocket, backlog: number): SysResult {
    if (s.sock !== null) return fail('EINVAL');
    if (s.listener !== null) return ok(); // LINUX: listen() again only changes the backlog
    const ep = s.bound ?? { address: s.family === 6 ? '::' : '0.0.0.0', port: this.opts.defaultPort };
    try {
      // LINUX: the accept queue holds backlog + 1 (sk_acceptq_is_full uses >).
      s.listener = this.stack.listen({ port: ep.port, address: ep.address, backlog: Math.max(0, backlog), reuseAddr: s.reuseAddr, tcp: s.config });
      this.applyFastOpen(s);
    } catch (e) {
      return fail(errnoOf(e));
    }
    s.bound = ep;
    s.listener.onConnection = () => wake(s.watchers, S.POLLIN! | S.POLLRDNORM!);
    this.onListen?.(s);
    return ok();
  }

  /** The Fast Open options set on a socket, onto its listener (LINUX fastopen_queue_tune ...). */
  applyFastOpen(s: PdSocket): void {
    const l = s.listener;
    if (l === null) return;
    if (s.fastOpenQlen >= 0) l.fastOpen.maxQlen = Math.min(s.fastOpenQlen, this.stack.somaxconn);
    l.fastOpen.noCookie = s.fastOpenNoCookie;
    l.fastOpen.keys = s.fastOpenKeys;
  }

  accept(s: PdSocket): Outcome {
    const l = s.listener;
    if (l === null) return fail('EINVAL');
    return blockingTry(s.nonblock, () => {
      if (l.closed) return fail('EINVAL');
      const child = l.accept();
      if (child === null) return null;
      const fd = this.nextFd();
      const ns = new PdSocket(s.family, fd);
      ns.attach(child);
      Object.assign(ns.config, s.config);
      ns.bound = { address: child.localAddress, port: child.localPort };
      if (child.error !== null) ns.soError = child.error;
      this.fds.set(fd, ns);
      return ok(fd);
    });
  }

  connect(s: PdSocket, ep: Endpoint): Outcome {
    if (s.listener !== null) return fail('EISCONN');
    // LINUX __inet_stream_connect: a deferred Fast Open connect is connecting already.
    if (s.sock?.conn.fastOpen?.deferConnect === true) return fail('EISCONN');
    if (s.sock !== null) {
      const st = s.sock.state;
      if (s.connecting && (st === 'SYN_SENT' || st === 'SYN_RECEIVED')) return fail('EALREADY');
      const err = s.takeError();
      if (err !== null) return fail(err);
      if (st === 'CLOSED') return fail('ECONNABORTED');
      return fail('EISCONN');
    }
    let sock: TcpSocket;
    try {
      sock = this.stack.connect({
        remoteAddress: ep.address, remotePort: ep.port,
        ...(s.bound !== null && s.bound.address !== '0.0.0.0' && s.bound.address !== '::' ? { localAddress: s.bound.address } : {}),
        ...(s.bound !== null ? { localPort: s.bound.port } : {}),
        reuseAddr: s.reuseAddr, tcp: s.config,
        ...(s.fastOpenConnect ? { fastOpen: true, fastOpenNoCookie: s.fastOpenNoCookie } : {}),
      });
    } catch (e) {
      return fail(errnoOf(e));
    }
    s.attach(sock);
    s.connecting = true;
    this.onConnect?.(s);
    // LINUX tcp_fastopen_defer_connect: with a cookie, connect() returns 0 at once and the SYN
    // waits for the first write.
    if (sock.conn.fastOpen?.deferConnect === true) return ok();
    if (s.nonblock) return fail('EINPROGRESS');
    return {
      poll: () => {
        if (sock.state === 'SYN_SENT' || sock.state === 'SYN_RECEIVED') {
          if (s.soError === null) return null;
        }
        s.connecting = false;
        const err = s.takeError();
        if (err !== null) return fail(err);
        return ok();
      },
    };
  }

  /** read/recv/readv/recvmsg: up to `len` bytes; `peek` leaves them queued. */
  read(s: PdSocket, len: number, flags: number): Outcome {
    const sock = s.sock;
    if (sock === null) return fail('ENOTCONN');
    const nonblock = s.nonblock || (flags & S.MSG_DONTWAIT!) !== 0;
    const peek = (flags & S.MSG_PEEK!) !== 0;
    return blockingTry(nonblock, () => {
      if (sock.readable > 0 && len > 0) {
        const buf = new Uint8Array(Math.min(len, sock.readable));
        const n = sock.readInto(buf, peek);
        return ok(n, buf.subarray(0, n));
      }
      if (len === 0) return ok(0);
      const err = s.takeError();
      if (err !== null) return fail(err === 'EPIPE' ? 'ECONNRESET' : err);
      if (sock.eof || s.shutRd) return ok(0);
      const st = sock.state;
      if (st === 'CLOSED' || st === 'TIME_WAIT' || st === 'LAST_ACK' || st === 'CLOSING') return ok(0);
      if (st === 'SYN_SENT' && !s.connecting) return fail('ENOTCONN');
      return null;
    });
  }

  /**
   * sendto/sendmsg with MSG_FASTOPEN, or the first write of a deferred TCP_FASTOPEN_CONNECT
   * socket (LINUX tcp_sendmsg_fastopen): connect, with as much data in the SYN as fits when a
   * cookie is cached (the call returns that count when non-blocking); without a cookie the SYN
   * asks for one and a non-blocking call says EINPROGRESS having queued nothing.
   */
  fastOpenWrite(s: PdSocket, ep: Endpoint | null, len: number, flags: number): Outcome {
    const nonblock = s.nonblock || (flags & S.MSG_DONTWAIT!) !== 0;
    let sock = s.sock;
    if (sock === null) {
      if (!this.stack.fastOpen.has(TFO.CLIENT_ENABLE) || ep === null) return fail('EOPNOTSUPP');
      try {
        sock = this.stack.connect({
          remoteAddress: ep.address, remotePort: ep.port,
          ...(s.bound !== null && s.bound.address !== '0.0.0.0' && s.bound.address !== '::' ? { localAddress: s.bound.address } : {}),
          ...(s.bound !== null ? { localPort: s.bound.port } : {}),
          reuseAddr: s.reuseAddr, tcp: s.config, fastOpen: true, fastOpenNoCookie: s.fastOpenNoCookie,
        });
      } catch (e) {
        return fail(errnoOf(e));
      }
      s.attach(sock);
      s.connecting = true;
      this.onConnect?.(s);
    } else if (sock.conn.fastOpen?.deferConnect !== true) {
      // LINUX __inet_stream_connect: a second Fast Open send while connecting is EALREADY; once
      // connected MSG_FASTOPEN is ignored and the data is sent as by any write.
      const st = sock.state;
      if (st === 'SYN_SENT' || st === 'SYN_RECEIVED') return fail('EALREADY');
      return this.write(s, len, flags & ~S.MSG_FASTOPEN!);
    }
    const fo = sock.conn.fastOpen!;
    let copied = 0;
    if (fo.deferConnect) {
      copied = Math.min(len, synDataSpace(fo, sock.conn.advMss));
      sock.write(new Uint8Array(copied)); // sends the SYN, with the data
    }
    if (nonblock) return copied > 0 ? ok(copied) : fail('EINPROGRESS');
    // Blocking: wait for the handshake (LINUX inet_wait_for_connect; its error wins over the
    // bytes the SYN took), then the rest goes as any write.
    const conn = sock;
    let rest: Outcome | null = null;
    fo.writePending = len > copied;
    return {
      poll: () => {
        if (rest === null) {
          const st = conn.state;
          if ((st === 'SYN_SENT' || st === 'SYN_RECEIVED') && s.soError === null) return null;
          s.connecting = false;
          fo.writePending = false;
          const err = s.takeError();
          if (err !== null) return fail(err);
          rest = plus(this.write(s, len - copied, flags & ~S.MSG_FASTOPEN!), copied);
        }
        return isBlocked(rest) ? rest.poll() : rest;
      },
    };
  }

  /** write/send/writev/sendmsg of `len` bytes (contents: zeros, as packetdrill sends). */
  write(s: PdSocket, len: number, flags: number, data?: Uint8Array): Outcome {
    if (s.sock?.conn.fastOpen?.deferConnect === true) return this.fastOpenWrite(s, null, len, flags);
    const sock = s.sock;
    if (sock === null) return fail(s.listener !== null ? 'EPIPE' : 'EPIPE');
    const nonblock = s.nonblock || (flags & S.MSG_DONTWAIT!) !== 0;
    const bytes = data ?? new Uint8Array(len);
    let written = 0;
    let asleep = false;
    const attempt = (): SysResult | null => {
      const err = s.soError;
      if (err !== null) {
        s.soError = null;
        return written > 0 ? ok(written) : fail(err === 'ETIMEDOUT' || err === 'ECONNREFUSED' || err === 'ECONNRESET' ? err : 'EPIPE');
      }
      if (s.shutWr) return written > 0 ? ok(written) : fail('EPIPE');
      const st = sock.state;
      // LINUX sk_stream_wait_connect: wait for the handshake, EPIPE when not connecting.
      // (A Fast Open child may send before its handshake completes: LINUX tcp_passive_fastopen.)
      const tfoChild = st === 'SYN_RECEIVED' && sock.conn.fastOpen?.child === true;
      if ((st === 'SYN_SENT' || st === 'SYN_RECEIVED') && !tfoChild) return null;
      if (st !== 'ESTABLISHED' && st !== 'CLOSE_WAIT' && !tfoChild) return written > 0 ? ok(written) : fail('EPIPE');
      if (written === bytes.length) return ok(written);
      // LINUX sk_stream_wait_memory: a writer asleep on the send buffer is woken by
      // sk_stream_write_space, once the buffer is at most 2/3 full (send-queue.ts).
      if (asleep && !streamWriteable(sock.conn)) return null;
      asleep = false;
      try {
        written += sock.write(bytes.subarray(written), (flags & S.MSG_MORE!) !== 0);
      } catch (e) {
        return written > 0 ? ok(written) : fail(errnoOf(e));
      }
      if (written === bytes.length) {
        // MSG_EOR: once the whole message is queued it ends a record (LINUX tcp_sendmsg_locked).
        if (flags & S.MSG_EOR!) sock.conn.endRecord();
        return ok(written);
      }
      s.nospace = true;
      if (nonblock) return written > 0 ? ok(written) : null;
      asleep = true;
      return null;
    };
    return blockingTry(nonblock, attempt);
  }

  shutdown(s: PdSocket, how: number): SysResult {
    const sock = s.sock;
    if (how < 0 || how > 2) return fail('EINVAL');
    if (sock === null) {
      if (s.listener !== null) {
        // LINUX: shutdown(SHUT_RD/RDWR) on a listener closes it (inet_shutdown -> tcp_disconnect).
        if (how !== S.SHUT_WR) {
          s.listener.close();
          return ok();
        }
      }
      return fail('ENOTCONN');
    }
    const st = sock.state;
    if (st === 'CLOSED' || st === 'SYN_SENT' && !s.connecting) return fail('ENOTCONN');
    if (how === S.SHUT_RD || how === S.SHUT_RDWR) {
      s.shutRd = true;
      sock.shutdownRead();
    }
    if (how === S.SHUT_WR || how === S.SHUT_RDWR) {
      s.shutWr = true;
      try {
        sock.shutdown();
      } catch (e) {
        return fail(errnoOf(e));
      }
    }
    return ok();
  }

  close(s: PdSocket): Outcome {
    this.fds.delete(s.fd);
    for (const item of [...s.watchers]) this.epolls.get(item.epfd)?.remove(item);
    if (s.listener !== null) {
      s.listener.close();
      return ok();
    }
    const sock = s.sock;
    if (sock === null) return ok();
    sock.close();
    const linger = sock.conn.config.linger;
    if (linger !== null && linger > 0 && !s.nonblock && sock.state !== 'CLOSED' && !sock.conn.finAcked()) {
      // LINUX: close() with SO_LINGER > 0 blocks until data+FIN are acked or the time runs out.
      return {
        poll: () => {
          if (s.lingerDone === null && sock.state !== 'CLOSED' && sock.state !== 'TIME_WAIT' && !sock.conn.finAcked()) return null;
          // LINUX tcp_close: close() returns 0 when the linger time runs out; the seed articles'
          // variant ('reset') reports EWOULDBLOCK.
          return s.lingerDone === false && sock.conn.config.lingerTimeoutAction === 'reset' ? fail('EWOULDBLOCK') : ok();
        },
      };
    }
    return ok();
  }

  /**
   * poll() readiness bits for one socket, as LINUX tcp_poll computes them from sk_shutdown (set
   * by shutdown(), by the peer's FIN for the receive side, and for both by tcp_done when the
   * connection closes or is reset) and sk_err.
   */
  revents(s: PdSocket, events: number): number {
    let r = 0;
    if (s.listener !== null) {
      if (s.listener.acceptQueue.length > 0) r |= S.POLLIN! | S.POLLRDNORM!;
      return r & (events | S.POLLERR! | S.POLLHUP!);
    }
    const sock = s.sock;
    // A socket never connected: state CLOSE, writable (LINUX tcp_poll on a fresh socket).
    if (sock === null) return (S.POLLOUT! | S.POLLWRNORM! | S.POLLHUP!) & (events | S.POLLERR! | S.POLLHUP!);
    const st = sock.state;
    // The user's socket is closed once the connection is (TIME_WAIT lives on without it: tcp_done).
    const closed = st === 'CLOSED' || st === 'TIME_WAIT';
    const rcvShutdown = s.shutRd || sock.conn.finReceived || closed;
    const sendShutdown = s.shutWr || closed;
    if ((rcvShutdown && sendShutdown) || closed) r |= S.POLLHUP!;
    if (rcvShutdown) r |= S.POLLIN! | S.POLLRDNORM! | S.POLLRDHUP!;
    if (st !== 'SYN_SENT' && st !== 'SYN_RECEIVED') {
      if (sock.readable > 0) r |= S.POLLIN! | S.POLLRDNORM!;
      if (sendShutdown) r |= S.POLLOUT! | S.POLLWRNORM!;
      // LINUX __sk_stream_is_writeable(sk, 1), with TCP_NOTSENT_LOWAT's wake test.
      else if (streamWriteable(sock.conn)) r |= S.POLLOUT! | S.POLLWRNORM!;
    }
    // LINUX tcp_poll: a deferred Fast Open connect is writable (the write sends the SYN).
    if (sock.conn.fastOpen?.deferConnect === true) r |= S.POLLOUT! | S.POLLWRNORM!;
    if (s.soError !== null) r |= S.POLLERR!;
    return r & (events | S.POLLERR! | S.POLLHUP! | S.POLLNVAL!);
  }

  /** getsockopt: the value, or an errno name (sockopts.ts). */
  getsockopt(s: PdSocket, level: number, name: number): SysResult {
    return getSockopt(this, s, level, name);
  }

  /** setsockopt (sockopts.ts). */
  setsockopt(s: PdSocket, level: number, name: number, value: SockoptValue): SysResult {
    return setSockopt(this, s, level, name, value);
  }

  /** epoll_create / epoll_create1: a new epoll fd. */
  epollCreate(): SysResult {
    const fd = this.nextFd();
    this.epolls.set(fd, new Epoll(fd, (s, events) => this.revents(s, events)));
    return ok(fd);
  }

  /** epoll_ctl(epfd, op, fd, {events, data}). */
  epollCtl(epfd: number, op: number, fd: number, events: number, data: number): SysResult {
    const ep = this.epolls.get(epfd);
    const target = this.fds.get(fd);
    if (ep === undefined || (target === undefined && !this.epolls.has(fd))) return fail('EBADF');
    if (fd === epfd) return fail('EINVAL');
    if (target === undefined) return fail('EPERM'); // LINUX: nesting epoll fds is not emulated here
    const err = ep.ctl(op, fd, target, events, data);
    return err === null ? ok() : fail(err);
  }

  /** epoll_wait: the ready events, blocking up to `timeoutMs` (-1: forever) of virtual time. */
  epollWait(epfd: number, max: number, timeoutMs: number, now: () => number): Outcome {
    const ep = this.epolls.get(epfd);
    if (ep === undefined) return fail('EBADF');
    if (max <= 0) return fail('EINVAL');
    const start = now();
    const attempt = (): SysResult | null => {
      const got = ep.harvest(max);
      if (got.length > 0 || timeoutMs === 0 || (timeoutMs > 0 && now() >= start + timeoutMs * 1000)) return ok(got.length, got);
      return null;
    };
    return attempt() ?? { poll: attempt, deadline: timeoutMs > 0 ? start + timeoutMs * 1000 : undefined };
  }

  /** close() of an epoll fd. */
  closeEpoll(epfd: number): SysResult {
    const ep = this.epolls.get(epfd);
    if (ep === undefined) return fail('EBADF');
    for (const item of [...ep.items.values()]) ep.remove(item);
    this.epolls.delete(epfd);
    return ok();
  }

  /**
   * The TCP_CM_INQ value after a read (LINUX tcp_inq_hint): bytes still queued to read, or 1 once
   * everything is read and a FIN arrived, so the reader knows to read again and see EOF.
   */
  inqHint(s: PdSocket): number {
    const sock = s.sock;
    if (sock === null) return 0;
    const n = sock.readable;
    return n === 0 && sock.conn.finReceived ? 1 : n;
  }

  ioctl(s: PdSocket, request: number): SysResult {
    const sock = s.sock;
    if (request === S.SIOCINQ) {
      if (s.listener !== null) return fail('EINVAL');
      return ok(0, sock?.readable ?? 0);
    }
    if (request === S.SIOCOUTQ) {
      if (s.listener !== null) return fail('EINVAL');
      return ok(0, sock?.conn.sendBuf.length ?? 0);
    }
    if (request === S.SIOCOUTQNSD) {
      const c = sock?.conn;
      return ok(0, c === undefined ? 0 : Math.max(0, c.sendBuf.length - Math.max(0, (c.sndNxt - c.sndUna) | 0)));
    }
    if (request === S.FIONBIO) return ok();
    return fail('ENOTTY');
  }

  effectiveConfig(s: PdSocket): TcpConfig {
    if (s.sock !== null) return s.sock.conn.config;
    return { ...this.stack.config, ...s.config } as TcpConfig;
  }

  /** Linux tcp_info state number of a socket. */
  stateNumber(s: PdSocket): number {
    if (s.listener !== null) return TcpState.LISTEN;
    if (s.sock === null) return TcpState.CLOSED;
    return TcpState[s.sock.state];
  }
}
