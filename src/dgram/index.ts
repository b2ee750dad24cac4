/**
 * A Node `dgram`-compatible namespace bound to one synack stack, beside `createNet`:
 *
 * ```ts
 * const dgram = createDgram(stack, driver);      // NodeDriver (real time) or SimDriver (virtual)
 * const server = dgram.createSocket('udp4', (msg, rinfo) => server.send(msg, rinfo.port, rinfo.address));
 * server.bind(7);
 * const c = dgram.createSocket('udp6');
 * c.send('hello', 7, 'fd00::2');
 * ```
 * The same application code runs on a simulated host or on a TUN-attached stack.
 */
import type { Driver } from '../driver/node.js';
import type { Stack } from '../stack/stack.js';
import { Socket as BaseSocket, type DgramContext, type RemoteInfo, type SocketOptions, type SocketType } from './socket.js';

export { Socket as SynackDgramSocket } from './socket.js';
export type { AddressInfo, BindOptions, DgramContext, RemoteInfo, SocketOptions as DgramSocketOptions, SocketType } from './socket.js';

type MessageListener = (msg: Buffer, rinfo: RemoteInfo) => void;

/** A `node:dgram`-shaped namespace bound to one synack stack (what `createDgram` returns). */
export interface Dgram {
  readonly stack: Stack;
  readonly driver: Driver;
  /** `new dgram.Socket(type | options, listener)` (Node documents createSocket; the class is exported too). */
  readonly Socket: new (type: SocketType | SocketOptions, listener?: MessageListener) => BaseSocket;
  /** As node:dgram's `createSocket`; `listener` becomes a 'message' listener. */
  createSocket(type: SocketType | SocketOptions, listener?: MessageListener): BaseSocket;
}

/** Bind a dgram namespace to `stack`, whose timers and I/O `driver` runs. */
export function createDgram(stack: Stack, driver: Driver): Dgram {
  if (stack === null || typeof stack !== 'object' || typeof stack.udp?.open !== 'function') {
    throw new TypeError('createDgram: stack must be a synack Stack');
  }
  if (driver === null || typeof driver !== 'object' || typeof driver.now !== 'function') {
    throw new TypeError('createDgram: driver must be a NodeDriver or SimDriver');
  }
  const ctx: DgramContext = { stack, driver };
  class Socket extends BaseSocket {
    constructor(type: SocketType | SocketOptions, listener?: MessageListener) {
      super(ctx, type, listener);
    }
  }
  return { stack, driver, Socket, createSocket: (type, listener) => new Socket(type, listener) };
}
