/**
 * A Node `net`-compatible namespace bound to one synack stack:
 *
 * ```ts
 * const net = createNet(stack, driver);          // NodeDriver (real time) or SimDriver (virtual)
 * const server = net.createServer((s) => s.pipe(s)).listen(7, '10.0.0.2');
 * const c = net.connect(7, '10.0.0.2', () => c.end('hello'));
 * ```
 * The same application code runs on a simulated host or on a TUN-attached stack; node:http and
 * ws take these sockets (`server.emit('connection', socket)`, `createConnection: () => socket`).
 */
import { isIP, isIPv4, isIPv6 } from 'node:net';
import { SimDriver, type Driver } from '../driver/node.js';
import type { SimWorld } from '../driver/world.js';
import type { Stack } from '../stack/stack.js';
import { Server as BaseServer, type ServerOptions } from './server.js';
import { Socket as BaseSocket, type ConnectOptions, type NetContext, type SocketOptions } from './socket.js';

export { Socket as SynackSocket } from './socket.js';
export { Server as SynackServer } from './server.js';
export type { ConnectOptions, IpcConnectOptions, NetContext, SocketOptions, SocketReadyState } from './socket.js';
export type { SocketEvents, ServerEvents } from './events.js';
export type { AddressInfo, ListenOptions, ServerOptions } from './server.js';
export type { TcpTuningOptions } from './options.js';
export { netError, lookupError, NetError } from './errors.js';

/** A `node:net`-shaped namespace bound to one synack stack (what `createNet` returns). */
export interface Net {
  readonly stack: Stack;
  readonly driver: Driver;
  /** `new net.Socket(options)`, then `socket.connect(...)`. */
  readonly Socket: new (options?: SocketOptions) => BaseSocket;
  /** `new net.Server(options, listener)`. */
  readonly Server: new (options?: ServerOptions | ((socket: BaseSocket) => void), listener?: (socket: BaseSocket) => void) => BaseServer;
  /** A server whose 'connection' listener is `listener`. */
  createServer(listener?: (socket: BaseSocket) => void): BaseServer;
  /** A server with options (allowHalfOpen, pauseOnConnect, TCP tuning). */
  createServer(options?: ServerOptions, listener?: (socket: BaseSocket) => void): BaseServer;
  /** Connect with options; `cb` runs on 'connect'. */
  connect(options: ConnectOptions, cb?: () => void): BaseSocket;
  /** Connect to `host` (an IP literal; default: the stack's own first address, Node's 'localhost') on `port`. */
  connect(port: number | string, host?: string, cb?: () => void): BaseSocket;
  /** Connect to `port` on the stack's own first address (Node's 'localhost'). */
  connect(port: number | string, cb?: () => void): BaseSocket;
  /** The same as `connect`, as in node:net. */
  createConnection: Net['connect'];
  /** node:net's `isIP`. */
  isIP: typeof isIP;
  /** node:net's `isIPv4`. */
  isIPv4: typeof isIPv4;
  /** node:net's `isIPv6`. */
  isIPv6: typeof isIPv6;
}

/** Bind a net namespace to `stack`, whose timers and I/O `driver` runs. */
export function createNet(stack: Stack, driver: Driver): Net {
  if (stack === null || typeof stack !== 'object' || typeof stack.connect !== 'function') {
    throw new TypeError('createNet: stack must be a synack Stack');
  }
  if (driver === null || typeof driver !== 'object' || typeof driver.now !== 'function') {
    throw new TypeError('createNet: driver must be a NodeDriver or SimDriver');
  }
  const ctx: NetContext = { stack, driver };

  class Socket extends BaseSocket {
    constructor(options?: SocketOptions, accepted?: ConstructorParameters<typeof BaseSocket>[2]) {
      super(ctx, options ?? {}, accepted);
    }
  }
  /** Accepted sockets are instances of this namespace's Socket too. */
  class AcceptedSocket extends Socket {
    constructor(_ctx: NetContext, options: SocketOptions, accepted: ConstructorParameters<typeof BaseSocket>[2]) {
      super(options, accepted);
    }
  }
  class Server extends BaseServer {
    constructor(options?: ServerOptions | ((socket: BaseSocket) => void), listener?: (socket: BaseSocket) => void) {
      super(ctx, options, listener, AcceptedSocket);
    }
  }

  function connect(options: ConnectOptions, cb?: () => void): BaseSocket;
  function connect(port: number | string, host?: string, cb?: () => void): BaseSocket;
  function connect(port: number | string, cb?: () => void): BaseSocket;
  function connect(a: ConnectOptions | number | string, b?: string | (() => void), c?: () => void): BaseSocket {
    const cb = typeof b === 'function' ? b : c;
    const opts: ConnectOptions = typeof a === 'object' && a !== null ? a : { port: a, ...(typeof b === 'string' ? { host: b } : {}) };
    const socket = new Socket(opts);
    return cb ? socket.connect(opts, cb) : socket.connect(opts);
  }

  return {
    stack,
    driver,
    Socket,
    Server,
    createServer: (a?: ServerOptions | ((s: BaseSocket) => void), b?: (s: BaseSocket) => void) => new Server(a, b),
    connect,
    createConnection: connect,
    isIP,
    isIPv4,
    isIPv6,
  };
}

/** `createNet` for host `name` of a SimWorld, on a SimDriver (virtual time). */
export function simNet(world: SimWorld, name: string, driver: SimDriver = new SimDriver(world)): Net {
  return createNet(world.host(name), driver);
}
