/**
 * The events of synack's Socket and Server, typed (listener arguments are never `any`), in the
 * shapes `node:net` declares them so a synack Socket is assignable to `net.Socket` and a Server
 * to `net.Server` (undici's `connect`, `tls.connect({ socket })`, node:http's
 * `createConnection`, ws take them without a cast).
 */
import type { DropArgument } from 'node:net';
import type { Socket } from './socket.js';

/** Socket events and their listener arguments (Node's 'lookup' never fires: no resolver). */
export interface SocketEvents {
  close: [hadError: boolean];
  connect: [];
  data: [data: Buffer];
  drain: [];
  end: [];
  error: [err: Error];
  finish: [];
  pause: [];
  readable: [];
  ready: [];
  resume: [];
  timeout: [];
}

/** Server events and their listener arguments. */
export interface ServerEvents {
  close: [];
  connection: [socket: Socket];
  drop: [data?: DropArgument];
  error: [err: Error];
  listening: [];
}
