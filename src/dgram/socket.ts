/**
 * A `node:dgram` Socket on a synack stack's UDP: the same calls, events, argument checks and
 * errors as Node's lib/dgram.js (bind → 'listening', send with all its overloads, connect →
 * 'connect', 'message' with rinfo, 'error', 'close'), on a UdpSocket of src/udp/.
 *
 * As in Node, bind, connect and send complete asynchronously (Node resolves the address
 * first): their effects and callbacks come after the current tick. Received datagrams are
 * read from the UdpSocket's queue after the tick that queued them, as libuv reads a socket
 * when the event loop polls it, so a burst can fill the receive buffer (SO_RCVBUF) and be
 * dropped there, as on Linux. Every call into the stack is followed by `driver.kick()`.
 */
import { EventEmitter } from 'node:events';
import { isIP } from 'node:net';
import type { Driver } from '../driver/node.js';
import { codeError, codeOf, detailOf, lookupError, netError, type NetError, type Syscall } from '../net/errors.js';
import type { Stack } from '../stack/stack.js';
import type { UdpSocket } from '../udp/socket.js';

/** node:dgram's socket types. */
export type SocketType = 'udp4' | 'udp6';

/** `dgram.createSocket(options)`: type, reuseAddr, buffer sizes …, as node:dgram's. */
export interface SocketOptions {
  type: SocketType;
  /** SO_REUSEADDR on bind. */
  reuseAddr?: boolean;
  /** IPV6_V6ONLY for udp6. */
  ipv6Only?: boolean;
  /** SO_RCVBUF / SO_SNDBUF, set when the socket is bound. */
  recvBufferSize?: number;
  sendBufferSize?: number;
  /** Closes the socket when aborted. */
  signal?: AbortSignal;
}

/** `socket.bind(options)`: port, address, exclusive. */
export interface BindOptions {
  port?: number;
  address?: string;
  exclusive?: boolean;
}

/** Where a datagram came from (the 'message' event's second argument). */
export interface RemoteInfo {
  address: string;
  family: 'IPv4' | 'IPv6';
  port: number;
  size: number;
}

export interface AddressInfo {
  address: string;
  family: 'IPv4' | 'IPv6';
  port: number;
}

/** The stack and driver a dgram namespace is bound to. */
export interface DgramContext {
  stack: Stack;
  driver: Driver;
}

type SendCallback = (error: Error | null, bytes?: number) => void;
type Msg = string | Uint8Array | DataView | readonly (string | Uint8Array | DataView)[];

const enum Bind {
  UNBOUND,
  BINDING,
  BOUND,
}
const enum Conn {
  DISCONNECTED,
  CONNECTING,
  CONNECTED,
}

const familyOf = (addr: string): 'IPv4' | 'IPv6' => (addr.includes(':') ? 'IPv6' : 'IPv4');

/** Node's validatePort as dgram uses it: ERR_SOCKET_BAD_PORT, with Node's message. */
function validatePort(p: unknown, allowZero: boolean): number {
  const n = typeof p === 'string' && p.trim() !== '' ? Number(p) : p;
  if (typeof n !== 'number' || !Number.isInteger(n) || n < (allowZero ? 0 : 1) || n > 65535) {
    const got = p === undefined ? 'undefined' : typeof p === 'string' ? `type string ('${p}')` : `type ${typeof p} (${String(p)})`;
    throw codeError(RangeError, 'ERR_SOCKET_BAD_PORT', `Port should be ${allowZero ? '>=' : '>'} 0 and < 65536. Received ${got}.`);
  }
  return n;
}

/** Node's errno exception without host/port: `setTTL EINVAL`, `getsockname EBADF`. */
function sysError(code: string, syscall: Syscall): NetError {
  return netError(code, syscall);
}

/** msg (+ offset/length) → the bytes of one datagram, checked as Node's sliceBuffer/fixBufferList do. */
function toBytes(msg: Msg, offset?: number, length?: number): Uint8Array {
  const one = (m: unknown): Uint8Array => {
    if (typeof m === 'string') return Buffer.from(m);
    if (m instanceof Uint8Array) return m;
    if (ArrayBuffer.isView(m)) return new Uint8Array(m.buffer, m.byteOffset, m.byteLength);
    throw codeError(TypeError, 'ERR_INVALID_ARG_TYPE', `The "buffer" argument must be of type string or an instance of Buffer, TypedArray, or DataView. Received ${m === null ? 'null' : `type ${typeof m} (${String(m)})`}`);
  };
  if (Array.isArray(msg)) {
    if (offset !== undefined) throw codeError(TypeError, 'ERR_INVALID_ARG_TYPE', 'The "buffer" argument must be of type string or an instance of Buffer, TypedArray, or DataView when offset is given');
    const parts = msg.map(one);
    return parts.length === 1 ? parts[0]! : Buffer.concat(parts);
  }
  const b = one(msg);
  if (offset === undefined) return b;
  if (!Number.isInteger(offset) || offset < 0 || offset > b.length) throw codeError(RangeError, 'ERR_BUFFER_OUT_OF_BOUNDS', '"offset" is outside of buffer bounds');
  const len = length ?? b.length - offset;
  if (!Number.isInteger(len) || len < 0 || offset + len > b.length) throw codeError(RangeError, 'ERR_BUFFER_OUT_OF_BOUNDS', '"length" is outside of buffer bounds');
  return b.subarray(offset, offset + len);
}

/** A node:dgram `Socket` over a synack UDP endpoint. */
export class Socket extends EventEmitter {
  readonly type: SocketType;
  private readonly ctx: DgramContext;
  private readonly udp: UdpSocket;
  private readonly opts: SocketOptions;
  private bindState = Bind.UNBOUND;
  private connectState = Conn.DISCONNECTED;
  private closed = false;
  /** Sends made before the socket was bound (Node's state.queue). */
  private pending: (() => void)[] | null = null;
  private drainScheduled = false;

  constructor(ctx: DgramContext, type: SocketType | SocketOptions, listener?: (msg: Buffer, rinfo: RemoteInfo) => void) {
    super();
    const opts: SocketOptions = typeof type === 'string' ? { type } : (type ?? ({} as SocketOptions));
    if (opts.type !== 'udp4' && opts.type !== 'udp6') {
      throw codeError(TypeError, 'ERR_SOCKET_BAD_TYPE', 'Bad socket type specified. Valid types are: udp4, udp6');
    }
    for (const k of ['recvBufferSize', 'sendBufferSize'] as const) {
      const v = opts[k];
      if (v !== undefined && (!Number.isInteger(v) || v < 0)) throw codeError(TypeError, 'ERR_SOCKET_BAD_BUFFER_SIZE', 'Buffer size must be a positive integer');
    }
    this.type = opts.type;
    this.opts = opts;
    this.ctx = ctx;
    this.udp = ctx.stack.udp.open(opts.type === 'udp4' ? 4 : 6, { reuseAddr: opts.reuseAddr ?? false, ipv6Only: opts.ipv6Only ?? false });
    this.udp.onReadable = () => this.scheduleDrain();
    this.udp.onError = () => this.scheduleDrain();
    if (listener !== undefined) this.on('message', listener);
    if (opts.signal !== undefined) {
      const signal = opts.signal;
      if (signal.aborted) process.nextTick(() => this.closeQuietly());
      else signal.addEventListener('abort', () => this.closeQuietly(), { once: true });
    }
  }

  // ------------------------------------------------------------------ bind

  /** As node:dgram's `socket.bind`. */
  bind(port?: number | BindOptions | (() => void), address?: string | (() => void), callback?: () => void): this {
    this.healthCheck();
    if (this.bindState !== Bind.UNBOUND) throw codeError(Error, 'ERR_SOCKET_ALREADY_BOUND', 'Socket is already bound');
    const cb = [port, address, callback].reverse().find((a) => typeof a === 'function') as (() => void) | undefined;
    let p: unknown = port;
    let addr: string | undefined;
    if (p !== null && typeof p === 'object') {
      const o = p as BindOptions;
      addr = o.address;
      p = o.port;
    } else {
      addr = typeof address === 'string' ? address : undefined;
    }
    if (typeof p === 'function') p = undefined;
    const portNum = p === undefined || p === null ? 0 : validatePort(p, true);
    this.bindState = Bind.BINDING;
    if (cb !== undefined) {
      const onListening = (): void => {
        this.off('error', onError);
        cb.call(this);
      };
      const onError = (): void => {
        this.off('listening', onListening);
      };
      this.once('listening', onListening);
      this.once('error', onError);
    }
    const host = addr === undefined || addr === '' ? (this.type === 'udp4' ? '0.0.0.0' : '::') : addr;
    process.nextTick(() => {
      if (this.closed) return;
      const ip = this.resolve(host);
      if (ip === null) {
        this.bindState = Bind.UNBOUND;
        this.emit('error', lookupError(host));
        return;
      }
      try {
        this.udp.bind(ip, portNum);
      } catch (e) {
        this.bindState = Bind.UNBOUND;
        this.emit('error', this.wrap(e, 'bind', ip, portNum));
        return;
      }
      this.bindState = Bind.BOUND;
      if (this.opts.recvBufferSize !== undefined) this.udp.setRecvBufferSize(this.opts.recvBufferSize);
      if (this.opts.sendBufferSize !== undefined) this.udp.setSendBufferSize(this.opts.sendBufferSize);
      this.emit('listening');
    });
    return this;
  }

  // ------------------------------------------------------------------ connect

  /** As node:dgram's `socket.connect`: fix the peer. */
  connect(port: number, address?: string | ((err?: Error) => void), callback?: (err?: Error) => void): void {
    const portNum = validatePort(port, false);
    if (typeof address === 'function') {
      callback = address;
      address = undefined;
    }
    this.healthCheck();
    if (this.connectState !== Conn.DISCONNECTED) throw codeError(Error, 'ERR_SOCKET_DGRAM_IS_CONNECTED', 'Already connected');
    this.connectState = Conn.CONNECTING;
    const host = address === undefined || address === '' ? (this.type === 'udp4' ? '127.0.0.1' : '::1') : address;
    const go = (): void => {
      process.nextTick(() => this.doConnect(host, portNum, callback));
    };
    if (this.bindState === Bind.UNBOUND) this.bind({ port: 0, exclusive: true });
    if (this.bindState === Bind.BOUND) go();
    else this.once('listening', go);
  }

  private doConnect(host: string, port: number, callback?: (err?: Error) => void): void {
    if (this.closed) return;
    const ip = this.resolve(host);
    let ex: Error | null = ip === null ? lookupError(host) : null;
    if (ip !== null) {
      try {
        this.udp.connect(ip, port);
      } catch (e) {
        ex = this.wrap(e, 'connect', ip, port);
      }
      this.ctx.driver.kick();
    }
    if (ex !== null) {
      this.connectState = Conn.DISCONNECTED;
      if (callback !== undefined) callback.call(this, ex);
      else this.emit('error', ex);
      return;
    }
    this.connectState = Conn.CONNECTED;
    if (callback !== undefined) this.once('connect', callback);
    this.emit('connect');
  }

  /** As node:dgram's `socket.disconnect`. */
  disconnect(): void {
    this.healthCheck();
    if (this.connectState !== Conn.CONNECTED) throw codeError(Error, 'ERR_SOCKET_DGRAM_NOT_CONNECTED', 'Not connected');
    this.udp.disconnect();
    this.connectState = Conn.DISCONNECTED;
  }

  /** The connected peer, as node:dgram's. */
  remoteAddress(): AddressInfo {
    this.healthCheck();
    if (this.connectState !== Conn.CONNECTED || this.udp.remoteAddress === null) throw codeError(Error, 'ERR_SOCKET_DGRAM_NOT_CONNECTED', 'Not connected');
    return { address: this.udp.remoteAddress, family: familyOf(this.udp.remoteAddress), port: this.udp.remotePort };
  }

  // ------------------------------------------------------------------ send

  /**
   * send(msg[, offset, length][, port][, address][, callback]): on a connected socket without
   * port and address (ERR_SOCKET_DGRAM_IS_CONNECTED if given), else to (port, address) with
   * address defaulting to 127.0.0.1 / ::1. The callback gets (error, bytes); without one an
   * error is emitted as 'error'.
   */
  send(msg: Msg, offset?: unknown, length?: unknown, port?: unknown, address?: unknown, callback?: unknown): void {
    // Node lib/dgram.js Socket.prototype.send: which overload was meant, argument by argument.
    let data: Uint8Array;
    const connected = this.connectState === Conn.CONNECTED;
    if (!connected) {
      if (address || (port && typeof port !== 'function')) {
        data = toBytes(msg, offset as number, length as number);
      } else {
        data = toBytes(msg);
        callback = port;
        port = offset;
        address = length;
      }
    } else {
      if (typeof length === 'number') {
        data = toBytes(msg, offset as number, length);
        if (typeof port === 'function') {
          callback = port;
          port = null;
        }
      } else {
        data = toBytes(msg);
        callback = offset;
      }
      if (port || address) throw codeError(Error, 'ERR_SOCKET_DGRAM_IS_CONNECTED', 'Already connected');
    }
    if (typeof address === 'function') {
      callback = address;
      address = undefined;
    } else if (address !== undefined && address !== null && typeof address !== 'string') {
      throw codeError(TypeError, 'ERR_INVALID_ARG_TYPE', `The "address" argument must be of type string. Received type ${typeof address} (${String(address)})`);
    }
    let portNum: number | undefined;
    let host: string | undefined;
    if (!connected) {
      portNum = validatePort(port, false);
      host = typeof address === 'string' && address !== '' ? address : this.type === 'udp4' ? '127.0.0.1' : '::1';
    }
    const cb = typeof callback === 'function' ? (callback as SendCallback) : undefined;
    this.healthCheck();
    const job = (): void => this.doSend(data, host, portNum, cb);
    if (this.bindState === Bind.BOUND) {
      process.nextTick(job);
      return;
    }
    if (this.pending === null) {
      this.pending = [];
      const flush = (): void => {
        this.off('error', drop);
        const q = this.pending ?? [];
        this.pending = null;
        for (const f of q) f();
      };
      const drop = (): void => {
        this.off('listening', flush);
        this.pending = null;
      };
      this.once('listening', flush);
      this.once('error', drop);
    }
    this.pending.push(() => process.nextTick(job));
    if (this.bindState === Bind.UNBOUND) this.bind({ port: 0, exclusive: true });
  }

  private doSend(data: Uint8Array, address: string | undefined, port: number | undefined, cb?: SendCallback): void {
    if (this.closed) return;
    let err: Error | null = null;
    let sent = 0;
    const ip = address === undefined ? undefined : this.resolve(address);
    if (ip === null) err = lookupError(address!);
    else {
      try {
        sent = this.udp.send(data, ip, port);
      } catch (e) {
        err = this.wrap(e, 'send', ip, port);
      }
      this.ctx.driver.kick();
    }
    if (cb !== undefined) cb.call(this, err, err === null ? sent : undefined);
    else if (err !== null) this.emit('error', err);
  }

  // ------------------------------------------------------------------ receive

  private scheduleDrain(): void {
    if (this.drainScheduled) return;
    this.drainScheduled = true;
    process.nextTick(() => this.drain());
  }

  /** Read every queued datagram (and a pending error first, as recvmsg reports it: Node's onMessage with nread < 0). */
  private drain(): void {
    this.drainScheduled = false;
    while (!this.closed) {
      let d;
      try {
        d = this.udp.recv();
      } catch (e) {
        this.emit('error', this.wrap(e, 'recvmsg'));
        continue;
      }
      if (d === null) return;
      const msg = Buffer.from(d.data.buffer, d.data.byteOffset, d.data.length);
      this.emit('message', msg, { address: d.address, family: familyOf(d.address), port: d.port, size: msg.length } satisfies RemoteInfo);
    }
  }

  // ------------------------------------------------------------------ close, address, options

  /** Close the socket; 'close' follows. */
  close(callback?: () => void): this {
    this.healthCheck();
    if (typeof callback === 'function') this.once('close', callback);
    this.closeQuietly();
    return this;
  }

  private closeQuietly(): void {
    if (this.closed) return;
    this.closed = true;
    this.pending = null;
    this.udp.close();
    this.ctx.driver.kick();
    process.nextTick(() => this.emit('close'));
  }

  /** The bound address and port. */
  address(): AddressInfo {
    this.healthCheck();
    if (this.bindState !== Bind.BOUND && this.udp.localPort === 0) throw sysError('EBADF', 'getsockname');
    return { address: this.udp.localAddress, family: familyOf(this.udp.localAddress), port: this.udp.localPort };
  }

  /** SO_BROADCAST. */
  setBroadcast(flag: boolean): void {
    this.bound('setBroadcast');
    this.udp.broadcast = Boolean(flag);
  }

  /** IP_TTL / IPV6_UNICAST_HOPS for datagrams sent. */
  setTTL(ttl: number): number {
    if (typeof ttl !== 'number') throw codeError(TypeError, 'ERR_INVALID_ARG_TYPE', `The "ttl" argument must be of type number. Received type ${typeof ttl}`);
    this.bound('setTTL');
    if (!Number.isInteger(ttl) || ttl < 1 || ttl > 255) throw sysError('EINVAL', 'setTTL');
    this.udp.setTtl(ttl);
    return ttl;
  }

  /** SO_RCVBUF. */
  setRecvBufferSize(size: number): void {
    this.bufferSize(size, 'recv');
    this.udp.setRecvBufferSize(size);
  }

  /** SO_RCVBUF. */
  getRecvBufferSize(): number {
    this.bufferSize(0, 'recv');
    return this.udp.rcvbuf;
  }

  /** SO_SNDBUF. */
  setSendBufferSize(size: number): void {
    this.bufferSize(size, 'send');
    this.udp.setSendBufferSize(size);
  }

  /** SO_SNDBUF. */
  getSendBufferSize(): number {
    this.bufferSize(0, 'send');
    return this.udp.sndbuf;
  }

  /** Sends waiting for the socket to be bound (Node: queued in the handle). */
  getSendQueueCount(): number {
    return this.pending?.length ?? 0;
  }

  /** Bytes queued to send (none: sends are synchronous here). */
  getSendQueueSize(): number {
    return 0;
  }

  /** Node API shape: the driver's timer never keeps the process alive (as for net sockets), so these do nothing. */
  ref(): this {
    return this;
  }

  /** Accepted for compatibility: a synack socket never keeps the process alive. */
  unref(): this {
    return this;
  }

  // ------------------------------------------------------------------ helpers

  /** Node's healthCheck: every call on a closed socket. */
  private healthCheck(): void {
    if (this.closed) throw codeError(Error, 'ERR_SOCKET_DGRAM_NOT_RUNNING', 'Not running');
  }

  /** Options need a socket: Node creates it at bind, so before that they fail with EBADF. */
  private bound(syscall: Syscall): void {
    this.healthCheck();
    if (this.bindState !== Bind.BOUND) throw sysError('EBADF', syscall);
  }

  private bufferSize(size: number, which: 'recv' | 'send'): void {
    if (size >>> 0 !== size) throw codeError(TypeError, 'ERR_SOCKET_BAD_BUFFER_SIZE', 'Buffer size must be a positive integer');
    if (this.closed || this.bindState !== Bind.BOUND) {
      throw codeError(Error, 'ERR_SOCKET_BUFFER_SIZE', `Could not get or set buffer size: uv_${which}_buffer_size returned EBADF (bad file descriptor)`);
    }
  }

  /**
   * An IP literal (or 'localhost') for this socket's family; null when it is a name synack
   * cannot resolve. A scope (fe80::1%tap0) is dropped: the stack routes link-local addresses by
   * its routing table.
   */
  private resolve(host: string): string | null {
    if (host === 'localhost') return this.type === 'udp4' ? '127.0.0.1' : '::1';
    const bare = host.replace(/%.*$/, '');
    return isIP(bare) !== 0 ? bare : null;
  }

  /** A StackError from src/udp → Node's ExceptionWithHostPort; anything else (a bug) is rethrown. */
  private wrap(e: unknown, syscall: Syscall, address?: string, port?: number): Error {
    const code = codeOf(e);
    if (code === null || !/^E[A-Z]+$/.test(code)) throw e;
    return netError(code, syscall, address, port, detailOf(e));
  }
}
