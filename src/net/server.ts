/**
 * `net.Server` on a synack stack: an EventEmitter over a Listener (src/stack/listener.ts).
 * Established connections are accepted at once (as Node's libuv does), wrapped in a Socket and
 * emitted as 'connection'. `close()` stops listening; 'close' follows when every accepted
 * connection has closed.
 */
import { EventEmitter } from 'node:events';
import { isIP } from 'node:net';
import type { Listener } from '../stack/listener.js';
import type { TcpSocket } from '../stack/socket.js';
import { codeError, codeOf, detailOf, lookupError, netError } from './errors.js';
import { tcpOptions, type TcpTuningOptions } from './options.js';
import { kAccepted, Socket, withoutZone, type NetContext, type SocketOptions } from './socket.js';
import type { ServerEvents } from './events.js';

/** `net.createServer(options)`: Node's server options and synack's TCP tuning for accepted sockets. */
export interface ServerOptions extends TcpTuningOptions {
  allowHalfOpen?: boolean;
  /** Accepted sockets start paused (no reading until resume()). */
  pauseOnConnect?: boolean;
  highWaterMark?: number;
}

/** `server.listen(options)`: port, host, backlog and address reuse. */
export interface ListenOptions {
  port?: number | string;
  host?: string;
  backlog?: number;
  /**
   * TCP Fast Open (RFC 7413; LINUX setsockopt TCP_FASTOPEN): accept data in SYNs carrying a valid
   * cookie, with at most this many such handshakes pending at once.
   */
  fastOpen?: number;
  /**
   * SO_REUSEADDR: bind even while old connections on the port sit in TIME_WAIT. Default true, as
   * Node's servers (libuv sets it on every TCP bind); false gives bare Linux's EADDRINUSE.
   */
  reuseAddr?: boolean;
  exclusive?: boolean;
  ipv6Only?: boolean;
  path?: string;
  signal?: AbortSignal;
}

/** What `server.address()` returns. */
export interface AddressInfo {
  address: string;
  family: 'IPv4' | 'IPv6';
  port: number;
}

/** Per stack: where the next port-0 listen starts looking (deterministic per stack). */
const nextEphemeral = new WeakMap<object, number>();

type SocketCtor = new (ctx: NetContext, options: SocketOptions, accepted: { [kAccepted]: TcpSocket }) => Socket;

/** A Node `net.Server` over a synack listener: 'listening', 'connection', 'close', 'error'. */
export class Server extends EventEmitter {
  readonly ctx: NetContext;
  /** Node: refuse (close) new connections beyond this many; undefined (no limit) until set, as Node's. */
  declare maxConnections: number;
  private listener: Listener | null = null;
  private readonly open = new Set<Socket>();
  private readonly options: ServerOptions;
  private readonly socketCtor: SocketCtor;

  constructor(ctx: NetContext, options?: ServerOptions | ((socket: Socket) => void), connectionListener?: (socket: Socket) => void, socketCtor: SocketCtor = Socket) {
    super();
    this.ctx = ctx;
    if (typeof options === 'function') {
      connectionListener = options;
      options = {};
    }
    this.options = options ?? {};
    tcpOptions(this.options); // validate now
    this.socketCtor = socketCtor;
    if (connectionListener) this.on('connection', connectionListener);
  }

  get listening(): boolean {
    return this.listener !== null;
  }

  /**
   * `listen(port[, host][, backlog][, cb])` or `listen(options[, cb])`. Port 0 (or none) takes a
   * free port from the ephemeral range. Binding errors (EADDRINUSE) are emitted as 'error'.
   */
  listen(port?: number | string, host?: string, backlog?: number, listeningListener?: () => void): this;
  listen(port?: number | string, host?: string, listeningListener?: () => void): this;
  listen(port?: number | string, backlog?: number, listeningListener?: () => void): this;
  listen(port?: number | string, listeningListener?: () => void): this;
  listen(options: ListenOptions, listeningListener?: () => void): this;
  listen(listeningListener?: () => void): this;
  listen(
    a?: number | string | ListenOptions | (() => void),
    b?: string | number | (() => void),
    c?: number | (() => void),
    d?: () => void,
  ): this {
    const args: unknown[] = [a, b, c, d];
    while (args.length > 0 && args[args.length - 1] === undefined) args.pop();
    let cb: (() => void) | undefined;
    if (typeof args[args.length - 1] === 'function') cb = args.pop() as () => void;
    let opts: ListenOptions;
    if (args[0] !== null && typeof args[0] === 'object') opts = args[0] as ListenOptions;
    else {
      opts = {};
      const [p, h, b] = args;
      if (p !== undefined && p !== null) opts.port = p as number;
      if (typeof h === 'string') {
        opts.host = h;
        if (typeof b === 'number') opts.backlog = b;
      } else if (typeof h === 'number') opts.backlog = h;
    }
    if (opts.path !== undefined) throw codeError(TypeError, 'ERR_INVALID_ARG_VALUE', 'synack servers are TCP only: options.path (IPC) is not supported');
    if (this.listener !== null) throw codeError(Error, 'ERR_SERVER_ALREADY_LISTEN', 'Listen method has been called more than once without closing.');
    let port = 0;
    if (opts.port !== undefined) {
      const n = typeof opts.port === 'string' && opts.port.trim() !== '' ? Number(opts.port) : opts.port;
      if (typeof n !== 'number' || !Number.isInteger(n) || n < 0 || n > 65535) {
        throw codeError(RangeError, 'ERR_SOCKET_BAD_PORT', `options.port should be >= 0 and < 65536. Received ${String(opts.port)}.`);
      }
      port = n;
    }
    if (cb) this.once('listening', cb);
    const stack = this.ctx.stack;
    // Node listens on '::' when the host has IPv6 (every stack has ::1 on lo): dual-stack, so
    // IPv4 clients are accepted too (as ::ffff:a.b.c.d), unless ipv6Only is set.
    const given = opts.host ?? '::';
    // An IPv6 zone (`fe80::1%eth0`, RFC 4007 §11): a local address is unique on the host, so the
    // address alone names the endpoint (net.isIP has validated the literal, zone included).
    const host = withoutZone(given);
    if (isIP(given) === 0) {
      const err = lookupError(given);
      process.nextTick(() => this.emit('error', err));
      return this;
    }
    const tcp = tcpOptions(this.options);
    const bind = (p: number): Listener =>
      stack.listen({
        port: p,
        address: host,
        ...(opts.backlog !== undefined ? { backlog: opts.backlog } : {}),
        // Node's servers have SO_REUSEADDR: libuv's uv__tcp_bind sets it on every TCP bind.
        // LINUX: inet_csk_bind_conflict (with SO_REUSEADDR on both sockets only a LISTEN socket
        // on the same address conflicts, so a restarted server rebinds over its TIME_WAIT ones).
        reuseAddr: opts.reuseAddr ?? true,
        ...(opts.ipv6Only !== undefined ? { ipv6Only: opts.ipv6Only } : {}),
        ...(opts.fastOpen !== undefined ? { fastOpen: opts.fastOpen } : {}),
        tcp,
      });
    try {
      this.listener = port !== 0 ? bind(port) : this.bindEphemeral(bind);
    } catch (e) {
      const code = codeOf(e);
      if (code === null || !/^E[A-Z]+$/.test(code)) throw e;
      const err = netError(code, 'listen', host, port, detailOf(e));
      process.nextTick(() => this.emit('error', err));
      return this;
    } finally {
      this.ctx.driver.kick();
    }
    this.listener.onConnection = (sock) => this.onConnection(sock);
    opts.signal?.addEventListener('abort', () => this.close(), { once: true });
    process.nextTick(() => {
      if (this.listener !== null) this.emit('listening');
    });
    return this;
  }

  /**
   * Port 0: the stack's listen() takes the port literally (it does not pick one), so the net layer
   * picks a free one from Linux's ephemeral range (ip_local_port_range 32768–60999).
   */
  private bindEphemeral(bind: (p: number) => Listener): Listener {
    const lo = 32768;
    const n = 60999 - lo + 1;
    for (let i = 0; i < n; i++) {
      const start = nextEphemeral.get(this.ctx.stack) ?? 0;
      const p = lo + ((start + i) % n);
      try {
        const l = bind(p);
        nextEphemeral.set(this.ctx.stack, (p - lo + 1) % n);
        return l;
      } catch (e) {
        if (codeOf(e) !== 'EADDRINUSE') throw e;
      }
    }
    throw netError('EADDRINUSE', 'listen', undefined, undefined, 'no free port in 32768-60999');
  }

  private onConnection(tcp: TcpSocket): void {
    const l = this.listener;
    if (l === null) return;
    const i = l.acceptQueue.indexOf(tcp);
    if (i >= 0) l.acceptQueue.splice(i, 1);
    tcp.accepted = true;
    if (this.maxConnections !== undefined && this.open.size >= this.maxConnections) {
      tcp.close();
      this.ctx.driver.kick();
      this.emit('drop', { localAddress: tcp.localAddress, localPort: tcp.localPort, localFamily: family(tcp.localAddress), remoteAddress: tcp.remoteAddress, remotePort: tcp.remotePort, remoteFamily: family(tcp.remoteAddress) });
      return;
    }
    const o = this.options;
    const sockOpts: SocketOptions = {
      allowHalfOpen: o.allowHalfOpen ?? false,
      ...(o.highWaterMark !== undefined ? { highWaterMark: o.highWaterMark } : {}),
    };
    const socket = new this.socketCtor(this.ctx, sockOpts, { [kAccepted]: tcp });
    socket.server = this;
    this.open.add(socket);
    socket.once('close', () => {
      this.open.delete(socket);
      this.emitCloseIfDrained();
    });
    if (o.pauseOnConnect) socket.pause();
    this.emit('connection', socket);
    // Node starts reading at accept (up to the high-water mark) unless pauseOnConnect.
    if (!o.pauseOnConnect && !socket.destroyed) socket.read(0);
  }

  /** The address listened on, or null when not listening. */
  address(): AddressInfo | null {
    const l = this.listener;
    if (l === null) return null;
    return { address: l.address, family: family(l.address), port: l.port };
  }

  /** Stop listening; 'close' (and `cb`) once every accepted connection has closed. */
  close(cb?: (err?: Error) => void): this {
    if (typeof cb === 'function') {
      if (this.listener === null) this.once('close', () => cb(codeError(Error, 'ERR_SERVER_NOT_RUNNING', 'Server is not running.')));
      else this.once('close', () => cb());
    }
    if (this.listener !== null) {
      this.listener.onConnection = null;
      this.listener.close();
      this.listener = null;
      this.ctx.driver.kick();
    }
    this.emitCloseIfDrained();
    return this;
  }

  private closing = false;

  private emitCloseIfDrained(): void {
    if (this.listener !== null || this.open.size > 0 || this.closing) return;
    this.closing = true;
    process.nextTick(() => {
      this.closing = false;
      this.emit('close');
    });
  }

  /** How many accepted connections are open (through the callback, as Node does). */
  getConnections(cb: (err: Error | null, count: number) => void): this {
    const n = this.open.size;
    process.nextTick(() => cb(null, n));
    return this;
  }

  /** Node's deprecated (DEP0020) count of open connections; prefer getConnections(). */
  get connections(): number {
    return this.open.size;
  }

  /** The accepted sockets still open. */
  get sockets(): ReadonlySet<Socket> {
    return this.open;
  }

  /** Accepted for compatibility: a synack server never keeps the process alive. */
  ref(): this {
    return this;
  }
  /** Accepted for compatibility: a synack server never keeps the process alive. */
  unref(): this {
    return this;
  }

  /** `await using server = …`: close the server when the scope ends. */
  async [Symbol.asyncDispose](): Promise<void> {
    if (this.listener === null) return;
    await new Promise<void>((resolve) => this.close(() => resolve()));
  }
}

/** Typed events (src/net/events.ts): `server.on('connection', (s) => …)` gives `s: Socket`. */
export interface Server {
  /** Listen to one of the typed events (`ServerEvents`). */
  addListener<E extends keyof ServerEvents>(event: E, listener: (...args: ServerEvents[E]) => void): this;
  /** Listen to any other event (EventEmitter's signature). */
  addListener(event: string | symbol, listener: (...args: unknown[]) => void): this;
  /** Listen to one of the typed events (`ServerEvents`). */
  on<E extends keyof ServerEvents>(event: E, listener: (...args: ServerEvents[E]) => void): this;
  /** Listen to any other event (EventEmitter's signature). */
  on(event: string | symbol, listener: (...args: unknown[]) => void): this;
  /** Listen once to one of the typed events (`ServerEvents`). */
  once<E extends keyof ServerEvents>(event: E, listener: (...args: ServerEvents[E]) => void): this;
  /** Listen once to any other event (EventEmitter's signature). */
  once(event: string | symbol, listener: (...args: unknown[]) => void): this;
  /** Listen, before the other listeners, to one of the typed events (`ServerEvents`). */
  prependListener<E extends keyof ServerEvents>(event: E, listener: (...args: ServerEvents[E]) => void): this;
  /** Listen, before the other listeners, to any other event (EventEmitter's signature). */
  prependListener(event: string | symbol, listener: (...args: unknown[]) => void): this;
  /** Listen once, before the other listeners, to one of the typed events (`ServerEvents`). */
  prependOnceListener<E extends keyof ServerEvents>(event: E, listener: (...args: ServerEvents[E]) => void): this;
  /** Listen once, before the other listeners, to any other event (EventEmitter's signature). */
  prependOnceListener(event: string | symbol, listener: (...args: unknown[]) => void): this;
  /** Stop listening to one of the typed events (`ServerEvents`). */
  off<E extends keyof ServerEvents>(event: E, listener: (...args: ServerEvents[E]) => void): this;
  /** Stop listening to any other event (EventEmitter's signature). */
  off(event: string | symbol, listener: (...args: unknown[]) => void): this;
  /** Stop listening to one of the typed events (`ServerEvents`). */
  removeListener<E extends keyof ServerEvents>(event: E, listener: (...args: ServerEvents[E]) => void): this;
  /** Stop listening to any other event (EventEmitter's signature). */
  removeListener(event: string | symbol, listener: (...args: unknown[]) => void): this;
  /** Emit one of the typed events (`ServerEvents`). */
  emit<E extends keyof ServerEvents>(event: E, ...args: ServerEvents[E]): boolean;
  /** Emit any other event (EventEmitter's signature). */
  emit(event: string | symbol, ...args: unknown[]): boolean;
}

function family(a: string): 'IPv4' | 'IPv6' {
  return a.includes(':') ? 'IPv6' : 'IPv4';
}
