/**
 * `net.Socket` on a synack stack: a `stream.Duplex` over a TcpSocket (src/stack/socket.ts).
 *
 * Backpressure is real in both directions:
 *  - reading: bytes leave the TCP receive buffer only when the stream asks (`_read`) and stop as
 *    soon as `push()` says the readable buffer is above its high-water mark. An application that
 *    does not read leaves the bytes in TCP, so the advertised window closes (the peer sees 0).
 *  - writing: `_write` hands bytes to the TCP send buffer and, when it is full, keeps the rest and
 *    the callback until the stack reports `onWritable`.
 *
 * Every call into the stack is followed by `driver.kick()` so a real-time driver re-arms its timer.
 */
import { Duplex } from 'node:stream';
import { isIP } from 'node:net';
import type { Driver } from '../driver/node.js';
import { IdleTimeout } from './idle-timeout.js';
import type { Stack } from '../stack/stack.js';
import type { TcpSocket } from '../stack/socket.js';
import type { TcpConfig } from '../tcp/config.js';
import { onEndNoHalfOpen } from './half-open.js';
import { codeError, codeOf, detailOf, lookupError, netError } from './errors.js';
import { tcpOptions, type TcpTuningOptions } from './options.js';
import type { SocketEvents } from './events.js';
import { familyOf, isIpc, isLocalhost, validatePort, withoutZone, type ConnectOptions, type IpcConnectOptions, type NetContext, type SocketOptions, type SocketReadyState } from './socket-options.js';
export { withoutZone, type ConnectOptions, type IpcConnectOptions, type NetContext, type SocketOptions, type SocketReadyState } from './socket-options.js';

const CHUNK = 64 * 1024;

/** Internal: a socket made by a Server around an accepted TcpSocket. */
export const kAccepted = Symbol('synack.accepted');

/** A Node `net.Socket` (a `stream.Duplex`) over a synack TCP connection. */
export class Socket extends Duplex {
  /** The underlying TCP connection (null before connect()). */
  tcp: TcpSocket | null = null;
  connecting = false;
  /** The server that accepted this socket, if any. */
  server: unknown = null;
  readonly ctx: NetContext;

  private readonly tcpOpts: Partial<TcpConfig>;
  private wantRead = false;
  private endPushed = false;
  private resetOnDestroy = false;
  private hadError = false;
  private _bytesRead = 0;
  private bytesDispatched = 0;
  private chunkTaken = 0;
  /** A write the send buffer could not take whole: the rest and its callback. */
  private pendingWrite: { data: Uint8Array; cb: (err?: Error | null) => void } | null = null;
  /** `_final` arrived while connecting or while a write was pending. */
  private pendingFinal: ((err?: Error | null) => void) | null = null;
  /** setTimeout's inactivity timer (idle-timeout.ts). */
  private readonly idle: IdleTimeout;
  private remote: { address: string; port: number } | null = null;
  private closedOnce = false;

  constructor(ctx: NetContext, options: SocketOptions = {}, accepted?: { [kAccepted]: TcpSocket }) {
    const hwm = options.highWaterMark;
    super({
      allowHalfOpen: options.allowHalfOpen ?? false,
      emitClose: false,
      autoDestroy: true,
      decodeStrings: true,
      ...(options.readableHighWaterMark !== undefined || hwm !== undefined ? { readableHighWaterMark: options.readableHighWaterMark ?? hwm } : {}),
      ...(options.writableHighWaterMark !== undefined || hwm !== undefined ? { writableHighWaterMark: options.writableHighWaterMark ?? hwm } : {}),
      ...(options.signal !== undefined ? { signal: options.signal } : {}),
    });
    this.ctx = ctx;
    this.idle = new IdleTimeout(ctx.driver, () => this.emit('timeout'), () => this.destroyed);
    this.tcpOpts = tcpOptions(options);
    if (!(options.allowHalfOpen ?? false)) this.once('end', onEndNoHalfOpen);
    if (options.timeout !== undefined && options.timeout > 0) this.setTimeout(options.timeout);
    const tcp = accepted?.[kAccepted];
    if (tcp !== undefined) {
      this.bind(tcp);
      for (const [k, v] of Object.entries(this.tcpOpts) as [keyof TcpConfig, never][]) tcp.setOption(k, v);
      this.kick();
    }
  }

  // ------------------------------------------------------------------ connect

  /**
   * `socket.connect(port[, host][, cb])` or `socket.connect(options[, cb])`. Hosts are IP literals
   * (synack has no resolver); a hostname gives an ENOTFOUND 'error'. Without a host the socket
   * connects to the stack's own first address (Node: 'localhost').
   */
  connect(options: ConnectOptions | IpcConnectOptions, cb?: () => void): this;
  connect(port: number | string, host?: string, cb?: () => void): this;
  connect(port: number | string, cb?: () => void): this;
  connect(a: ConnectOptions | IpcConnectOptions | number | string, b?: string | (() => void), c?: () => void): this {
    let opts: ConnectOptions | IpcConnectOptions;
    let cb: (() => void) | undefined;
    if (a !== null && typeof a === 'object') {
      opts = a;
      cb = typeof b === 'function' ? b : undefined;
    } else {
      opts = { port: a, ...(typeof b === 'string' ? { host: b } : {}) };
      cb = typeof b === 'function' ? b : c;
    }
    if (isIpc(opts)) {
      throw codeError(TypeError, 'ERR_INVALID_ARG_VALUE', `synack sockets are TCP only: options.path (IPC) is not supported`);
    }
    if (this.tcp !== null || this.connecting) {
      throw codeError(Error, 'ERR_SOCKET_CONNECTING', 'Socket is already connected or connecting');
    }
    if (this.destroyed) throw codeError(Error, 'ERR_SOCKET_CLOSED', 'Socket is closed');
    if (opts.port === undefined) throw codeError(TypeError, 'ERR_MISSING_ARGS', 'The "options" or "port" or "path" argument must be specified');
    const port = validatePort(opts.port);
    if (port === 0) throw codeError(RangeError, 'ERR_SOCKET_BAD_PORT', 'options.port should be > 0 to connect. Received 0.');
    if (opts.localPort !== undefined) validatePort(opts.localPort, 'options.localPort');
    if (opts.localAddress !== undefined && isIP(opts.localAddress) === 0) {
      throw codeError(TypeError, 'ERR_INVALID_IP_ADDRESS', `Invalid IP address: ${String(opts.localAddress)}`);
    }
    if (cb) this.once('connect', cb);
    if (opts.timeout !== undefined && opts.timeout > 0) this.setTimeout(opts.timeout);
    const overrides = { ...this.tcpOpts, ...tcpOptions(opts) };
    // Node's default host is 'localhost'; 'localhost' resolves as Node's lookup does (::1 then
    // 127.0.0.1, RFC 6724 order) and, as with autoSelectFamily, a refused attempt tries the next.
    const host = opts.host ?? 'localhost';
    this.connecting = true;
    const candidates = isLocalhost(host) ? ['::1', '127.0.0.1'] : [host];
    if (isIP(candidates[0]!) === 0) {
      const err = lookupError(host);
      process.nextTick(() => this.destroy(err));
      return this;
    }
    this.attempt = { candidates, port, opts, overrides };
    this.tryNext();
    return this;
  }

  /** The connect in progress: addresses still to try (localhost), and what to connect with. */
  private attempt: { candidates: string[]; port: number; opts: ConnectOptions; overrides: Partial<TcpConfig> } | null = null;

  private tryNext(): void {
    const a = this.attempt!;
    const host = a.candidates.shift()!;
    const { port, opts } = a;
    this.remote = { address: host, port };
    let tcp: TcpSocket;
    try {
      tcp = this.ctx.stack.connect({
        // RFC 4007 §11: the zone ('fe80::2%eth1') picks the interface; the stack's IP layer reads it.
        remoteAddress: host,
        remotePort: port,
        ...(opts.localAddress !== undefined ? { localAddress: opts.localAddress } : {}),
        ...(opts.localPort !== undefined && opts.localPort !== 0 ? { localPort: opts.localPort } : {}),
        ...(opts.reuseAddr !== undefined ? { reuseAddr: opts.reuseAddr } : {}),
        ...(opts.fastOpen === true ? { fastOpen: true } : {}),
        tcp: a.overrides,
      });
    } catch (e) {
      const code = codeOf(e);
      if (code !== null && !/^E[A-Z]+$/.test(code)) throw e; // a bad argument: thrown, like Node
      if (a.candidates.length > 0) return this.tryNext();
      // An address net.isIP accepts but the stack cannot use fails like Node's connect():
      // an 'error' with a code (EINVAL), never a bare TypeError.
      const err = netError(code ?? 'EINVAL', 'connect', host, port, detailOf(e));
      process.nextTick(() => this.destroy(err));
      return;
    } finally {
      this.kick();
    }
    this.bind(tcp);
    this.idle.touch();
  }

  private bind(tcp: TcpSocket): void {
    this.tcp = tcp;
    tcp.onConnect = () => this.onTcpConnect();
    tcp.onData = () => this.pull();
    tcp.onEnd = () => this.pull();
    tcp.onWritable = () => this.flushPending();
    tcp.onError = (code) => this.onTcpError(code);
    tcp.onClose = () => this.onTcpClose();
  }

  private onTcpConnect(): void {
    if (this.destroyed) return;
    this.connecting = false;
    this.idle.touch();
    this.emit('connect');
    this.emit('ready');
    this.flushPending();
    // Node starts reading at connect (up to the high-water mark).
    if (!this.destroyed && !this.isPaused()) this.read(0);
  }

  private onTcpError(code: string): void {
    if (this.destroyed) return;
    if (this.connecting && this.attempt !== null && this.attempt.candidates.length > 0) {
      // Node's autoSelectFamily: this address refused; try the next one.
      this.tcp = null;
      queueMicrotask(() => {
        if (!this.destroyed) this.tryNext();
      });
      return;
    }
    const syscall = this.connecting ? 'connect' : code === 'EPIPE' ? 'write' : 'read';
    const err =
      syscall === 'connect' && this.remote !== null ? netError(code, 'connect', this.remote.address, this.remote.port) : netError(code, syscall);
    this.destroy(err);
  }

  private onTcpClose(): void {
    // The connection reached CLOSED under us (reset, timeout, or the end of a graceful close).
    // Data already read stays readable; an unfinished stream ends now.
    if (this.destroyed) return;
    this.pull();
    if (this.pendingWrite !== null) {
      const { cb } = this.pendingWrite;
      this.pendingWrite = null;
      cb(netError('EPIPE', 'write'));
    }
  }

  // ------------------------------------------------------------------ reading

  /** @internal stream.Duplex implementation. */
  override _read(_size: number): void {
    this.wantRead = true;
    this.pull();
  }

  /** The buffer reads land in (see pull); views of it go to the application. */
  private slab: Buffer | null = null;
  private slabUsed = 0;

  /** Move bytes from TCP into the stream while the stream wants them. */
  private pull(): void {
    const tcp = this.tcp;
    if (tcp === null || this.destroyed || this.endPushed) return;
    let took = false;
    while (this.wantRead && tcp.readable > 0) {
      const want = Math.min(tcp.readable, CHUNK);
      // Read into this socket's slab (as Node reads into a buffer it allocates per stream): a
      // chunk handed to the application is a view of the slab, never written again; a new slab
      // is made when the rest is too short. No backing store is allocated per read, and no
      // other socket's bytes share this one's memory.
      let slab = this.slab;
      if (slab === null || slab.length - this.slabUsed < want) {
        slab = this.slab = Buffer.alloc(CHUNK); // zeroed: `chunk.buffer` shows the whole slab
        this.slabUsed = 0;
      }
      const target = slab.subarray(this.slabUsed, this.slabUsed + want);
      const n = tcp.readInto(target);
      if (n === 0) break;
      const chunk = n === want ? target : slab.subarray(this.slabUsed, this.slabUsed + n);
      this.slabUsed = (this.slabUsed + n + 7) & ~7; // the next view 8-byte aligned (word loads)
      took = true;
      this._bytesRead += n;
      this.wantRead = this.push(chunk);
    }
    if (took) {
      this.idle.touch();
      this.kick();
    }
    if (tcp.eof && !this.endPushed && tcp.readable === 0) {
      this.endPushed = true;
      this.push(null);
    } else if (tcp.state === 'CLOSED' && tcp.readable === 0 && !this.endPushed) {
      // Closed without a FIN we saw (e.g. after our own shutdown and a reset): end the readable side.
      this.endPushed = true;
      this.push(null);
    }
  }

  // ------------------------------------------------------------------ writing

  /** @internal stream.Duplex implementation. */
  override _write(chunk: Buffer, _enc: BufferEncoding, cb: (err?: Error | null) => void): void {
    const data = new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    this.pendingWrite = { data, cb };
    this.chunkTaken = 0;
    if (!this.connecting || this.fastOpenWrite()) this.flushPending();
  }

  /** Writes go to the connection before it is established: its SYN may carry them (RFC 7413). */
  private fastOpenWrite(): boolean {
    return this.tcp?.conn.fastOpen?.active === true;
  }

  /** @internal stream.Duplex implementation. */
  override _final(cb: (err?: Error | null) => void): void {
    this.pendingFinal = cb;
    if (!this.connecting || this.fastOpenWrite()) this.flushPending();
  }

  /** Push the pending write into the send buffer; then the pending FIN. */
  private flushPending(): void {
    const tcp = this.tcp;
    if (tcp === null || (this.connecting && !this.fastOpenWrite())) return;
    const pw = this.pendingWrite;
    if (pw !== null) {
      let n: number;
      try {
        n = tcp.write(pw.data);
      } catch (e) {
        this.pendingWrite = null;
        this.kick();
        pw.cb(netError(codeOf(e) ?? 'EPIPE', 'write'));
        return;
      }
      this.kick();
      this.bytesDispatched += n;
      this.chunkTaken += n;
      if (n > 0) this.idle.touch();
      if (n < pw.data.length) {
        pw.data = pw.data.subarray(n);
        return; // the rest waits for onWritable
      }
      this.pendingWrite = null;
      pw.cb();
    }
    const fin = this.pendingFinal;
    if (fin !== null && this.pendingWrite === null) {
      this.pendingFinal = null;
      try {
        tcp.shutdown();
      } catch (e) {
        this.kick();
        // LINUX: shutdown on a connection that is already gone is ENOTCONN; the stream just ends.
        if (codeOf(e) !== 'ENOTCONN') {
          fin(netError(codeOf(e) ?? 'EPIPE', 'shutdown'));
          return;
        }
      }
      this.kick();
      fin();
    }
  }

  // ------------------------------------------------------------------ closing

  /** @internal stream.Duplex implementation. */
  override _destroy(err: Error | null, cb: (err?: Error | null) => void): void {
    this.connecting = false;
    this.idle.clear();
    const tcp = this.tcp;
    if (tcp !== null) {
      tcp.onConnect = tcp.onData = tcp.onEnd = tcp.onWritable = tcp.onClose = null;
      tcp.onError = null;
      if (tcp.state !== 'CLOSED') {
        // close(): FIN, or RST when unread data is left (LINUX tcp_close) or SO_LINGER 0.
        if (this.resetOnDestroy) tcp.abort();
        else tcp.close();
      }
      this.kick();
    }
    if (this.pendingWrite !== null) {
      const { cb: wcb } = this.pendingWrite;
      this.pendingWrite = null;
      wcb(err ?? codeError(Error, 'ERR_STREAM_DESTROYED', 'Cannot call write after a stream was destroyed'));
    }
    this.hadError = err !== null && err !== undefined;
    cb(err);
    // Node emits 'close' from the handle's close callback, after 'error'.
    process.nextTick(() => {
      if (this.closedOnce) return;
      this.closedOnce = true;
      this.emit('close', this.hadError);
    });
  }

  /** Close with a RST (SO_LINGER 0): the peer gets ECONNRESET. */
  resetAndDestroy(): this {
    if (this.tcp !== null && !this.destroyed) {
      this.resetOnDestroy = true;
      this.destroy();
    } else if (!this.destroyed) {
      this.destroy(codeError(Error, 'ERR_SOCKET_CLOSED', 'Socket is closed'));
    }
    return this;
  }

  /** Node: end(), then destroy once the writable side has finished. node:http uses it. */
  destroySoon(): void {
    if (this.writable) this.end();
    if (this.writableFinished) this.destroy();
    else this.once('finish', () => this.destroy());
  }

  // ------------------------------------------------------------------ options and timeouts

  /** TCP_NODELAY: send small segments at once instead of waiting (Nagle off). */
  setNoDelay(noDelay = true): this {
    this.setOpt('noDelay', Boolean(noDelay));
    return this;
  }

  /** SO_KEEPALIVE; `initialDelay` ms sets TCP_KEEPIDLE (0 keeps the current value). */
  setKeepAlive(enable = false, initialDelay = 0): this {
    if (enable && initialDelay > 0) this.setOpt('keepIdle', Math.round(initialDelay * 1000));
    this.setOpt('keepAlive', Boolean(enable));
    return this;
  }

  /** Any TcpConfig option at run time (setsockopt), in TcpConfig units (µs for durations). */
  setOption<K extends keyof TcpConfig>(name: K, value: TcpConfig[K]): this {
    this.setOpt(name, value);
    return this;
  }

  private setOpt<K extends keyof TcpConfig>(name: K, value: TcpConfig[K]): void {
    (this.tcpOpts as Record<string, unknown>)[name] = value;
    if (this.tcp !== null && this.tcp.state !== 'CLOSED') {
      this.tcp.setOption(name, value);
      this.kick();
    }
  }

  /** Inactivity timeout on the driver's clock: 'timeout' after `ms` without reads or writes. */
  setTimeout(ms: number, cb?: () => void): this {
    if (typeof ms !== 'number' || !Number.isFinite(ms) || ms < 0) {
      throw codeError(RangeError, 'ERR_OUT_OF_RANGE', `The value of "msecs" is out of range. It must be a non-negative finite number. Received ${String(ms)}`);
    }
    if (ms === 0 && cb) this.removeListener('timeout', cb);
    else if (cb) this.once('timeout', cb);
    this.idle.set(ms);
    return this;
  }

  /** The inactivity timeout in ms (undefined when off), as Node's `socket.timeout`. */
  get timeout(): number | undefined {
    return this.idle.ms > 0 ? this.idle.ms : undefined;
  }

  private kick(): void {
    this.ctx.driver.kick();
  }

  // ------------------------------------------------------------------ Node's read-only properties

  get bytesRead(): number {
    return this._bytesRead;
  }

  /**
   * Node's deprecated alias of `writableLength`: bytes queued in the stream, not yet given to TCP.
   * (Node returns undefined while the socket has no handle; synack returns 0 then.)
   */
  get bufferSize(): number {
    return this.writableLength;
  }

  /**
   * The `ip:port` addresses Node's family autoselection tried; like Node's for a connect to an IP
   * literal (the only hosts synack takes: it has no resolver), it stays undefined.
   */
  declare readonly autoSelectFamilyAttemptedAddresses: string[];

  /** Bytes given to TCP plus bytes still queued in the stream (as Node counts them). */
  get bytesWritten(): number {
    // writableLength counts the chunk being written whole, including the part TCP already took.
    return this.bytesDispatched + Math.max(0, this.writableLength - (this.pendingWrite !== null ? this.chunkTaken : 0));
  }

  get readyState(): SocketReadyState {
    if (this.connecting) return 'opening';
    if (this.readable && this.writable) return 'open';
    if (this.readable && !this.writable) return 'readOnly';
    if (!this.readable && this.writable) return 'writeOnly';
    return 'closed';
  }

  /** True until connected (Node: no handle yet, or still connecting). */
  get pending(): boolean {
    return this.tcp === null || this.connecting;
  }

  get remoteAddress(): string | undefined {
    return this.tcp?.remoteAddress ?? undefined;
  }
  get remotePort(): number | undefined {
    return this.tcp?.remotePort ?? undefined;
  }
  get remoteFamily(): 'IPv4' | 'IPv6' | undefined {
    return this.tcp ? familyOf(this.tcp.remoteAddress) : undefined;
  }
  get localAddress(): string | undefined {
    return this.tcp?.localAddress ?? undefined;
  }
  get localPort(): number | undefined {
    return this.tcp?.localPort ?? undefined;
  }
  get localFamily(): 'IPv4' | 'IPv6' | undefined {
    return this.tcp ? familyOf(this.tcp.localAddress) : undefined;
  }

  /** The local address, family and port (`{}` before the socket is bound). */
  address(): { address: string; family: 'IPv4' | 'IPv6'; port: number } | Record<string, never> {
    if (this.tcp === null) return {};
    return { address: this.tcp.localAddress, family: familyOf(this.tcp.localAddress), port: this.tcp.localPort };
  }

  /** TCP state and RFC 9293 variables of the connection (tcp_info). */
  snapshot(): ReturnType<TcpSocket['snapshot']> | null {
    return this.tcp?.snapshot() ?? null;
  }

  /** Node API shape: the driver's timer never keeps the process alive, so these do nothing. */
  ref(): this {
    return this;
  }
  /** Accepted for compatibility: a synack socket never keeps the process alive (the link or driver does). */
  unref(): this {
    return this;
  }
}

/**
 * Typed events (src/net/events.ts): `socket.on('data', (d) => …)` gives `d: Buffer`. Events not
 * in the map (a library's own) keep EventEmitter's signature.
 */
// eslint-disable-next-line @typescript-eslint/no-unsafe-declaration-merging
export interface Socket {
  /** Listen to 'data', which carries a Buffer (no encoding set). */
  addListener(event: 'data', listener: (data: Buffer) => void): this;
  /** After `setEncoding()`, 'data' carries strings. */
  addListener(event: 'data', listener: (data: string) => void): this;
  /** Listen to one of the typed events (`SocketEvents`). */
  addListener<E extends keyof SocketEvents>(event: E, listener: (...args: SocketEvents[E]) => void): this;
  /** Listen to any other event (EventEmitter's signature). */
  addListener(event: string | symbol, listener: (...args: unknown[]) => void): this;
  /** Listen to 'data', which carries a Buffer (no encoding set). */
  on(event: 'data', listener: (data: Buffer) => void): this;
  /** After `setEncoding()`, 'data' carries strings. */
  on(event: 'data', listener: (data: string) => void): this;
  /** Listen to one of the typed events (`SocketEvents`). */
  on<E extends keyof SocketEvents>(event: E, listener: (...args: SocketEvents[E]) => void): this;
  /** Listen to any other event (EventEmitter's signature). */
  on(event: string | symbol, listener: (...args: unknown[]) => void): this;
  /** Listen once to 'data', which carries a Buffer (no encoding set). */
  once(event: 'data', listener: (data: Buffer) => void): this;
  /** After `setEncoding()`, 'data' carries strings. */
  once(event: 'data', listener: (data: string) => void): this;
  /** Listen once to one of the typed events (`SocketEvents`). */
  once<E extends keyof SocketEvents>(event: E, listener: (...args: SocketEvents[E]) => void): this;
  /** Listen once to any other event (EventEmitter's signature). */
  once(event: string | symbol, listener: (...args: unknown[]) => void): this;
  /** Listen, before the other listeners, to 'data', which carries a Buffer (no encoding set). */
  prependListener(event: 'data', listener: (data: Buffer) => void): this;
  /** After `setEncoding()`, 'data' carries strings. */
  prependListener(event: 'data', listener: (data: string) => void): this;
  /** Listen, before the other listeners, to one of the typed events (`SocketEvents`). */
  prependListener<E extends keyof SocketEvents>(event: E, listener: (...args: SocketEvents[E]) => void): this;
  /** Listen, before the other listeners, to any other event (EventEmitter's signature). */
  prependListener(event: string | symbol, listener: (...args: unknown[]) => void): this;
  /** Listen once, before the other listeners, to 'data', which carries a Buffer (no encoding set). */
  prependOnceListener(event: 'data', listener: (data: Buffer) => void): this;
  /** After `setEncoding()`, 'data' carries strings. */
  prependOnceListener(event: 'data', listener: (data: string) => void): this;
  /** Listen once, before the other listeners, to one of the typed events (`SocketEvents`). */
  prependOnceListener<E extends keyof SocketEvents>(event: E, listener: (...args: SocketEvents[E]) => void): this;
  /** Listen once, before the other listeners, to any other event (EventEmitter's signature). */
  prependOnceListener(event: string | symbol, listener: (...args: unknown[]) => void): this;
  /** Stop listening to 'data', which carries a Buffer (no encoding set). */
  off(event: 'data', listener: (data: Buffer) => void): this;
  /** After `setEncoding()`, 'data' carries strings. */
  off(event: 'data', listener: (data: string) => void): this;
  /** Stop listening to one of the typed events (`SocketEvents`). */
  off<E extends keyof SocketEvents>(event: E, listener: (...args: SocketEvents[E]) => void): this;
  /** Stop listening to any other event (EventEmitter's signature). */
  off(event: string | symbol, listener: (...args: unknown[]) => void): this;
  /** Stop listening to 'data', which carries a Buffer (no encoding set). */
  removeListener(event: 'data', listener: (data: Buffer) => void): this;
  /** After `setEncoding()`, 'data' carries strings. */
  removeListener(event: 'data', listener: (data: string) => void): this;
  /** Stop listening to one of the typed events (`SocketEvents`). */
  removeListener<E extends keyof SocketEvents>(event: E, listener: (...args: SocketEvents[E]) => void): this;
  /** Stop listening to any other event (EventEmitter's signature). */
  removeListener(event: string | symbol, listener: (...args: unknown[]) => void): this;
  /** Emit one of the typed events (`SocketEvents`). */
  emit<E extends keyof SocketEvents>(event: E, ...args: SocketEvents[E]): boolean;
  /** Emit any other event (EventEmitter's signature). */
  emit(event: string | symbol, ...args: unknown[]): boolean;
}
