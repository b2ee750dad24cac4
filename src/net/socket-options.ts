/**
 * The shapes the net API takes (Node's socket and connect options, readyState) and the small
 * argument helpers net.Socket and net.Server share: port validation, address family, zoned IPv6
 * literals, 'localhost'.
 */
import type { Driver } from '../driver/node.js';
import type { Stack } from '../stack/stack.js';
import { codeError } from './errors.js';
import type { TcpTuningOptions } from './options.js';

/** The stack and driver a net namespace is bound to. */
export interface NetContext {
  readonly stack: Stack;
  readonly driver: Driver;
}

/** `new net.Socket(options)`: Node's socket options and synack's TCP tuning. */
export interface SocketOptions extends TcpTuningOptions {
  /** Node: when false (default) the socket ends its writable side when the readable side ends. */
  allowHalfOpen?: boolean;
  readableHighWaterMark?: number;
  writableHighWaterMark?: number;
  highWaterMark?: number;
  /** Inactivity timeout in ms (as `setTimeout`). */
  timeout?: number;
  signal?: AbortSignal;
}

/** `net.connect(options)`: where to connect, from where, and the socket options. */
export interface ConnectOptions extends SocketOptions {
  port: number | string;
  host?: string;
  localAddress?: string;
  localPort?: number;
  family?: number;
  /** SO_REUSEADDR for an explicit localPort. */
  reuseAddr?: boolean;
  /**
   * TCP Fast Open (RFC 7413; LINUX TCP_FASTOPEN_CONNECT): with a cookie from an earlier
   * connection to this server, the SYN waits for the first write and carries its data (one round
   * trip saved); without one the SYN goes at once and asks for a cookie for next time.
   */
  fastOpen?: boolean;
  /** Not supported (IP literals only); given for shape compatibility and rejected if used. */
  lookup?: unknown;
  path?: string;
}

/**
 * Node's IPC form (`{ path }`): part of the type so a synack Socket is a `net.Socket`, refused at
 * run time with ERR_INVALID_ARG_VALUE (synack sockets are TCP only).
 */
export interface IpcConnectOptions extends SocketOptions {
  path: string;
}

/** `socket.readyState`, as Node reports it. */
export type SocketReadyState = 'opening' | 'open' | 'readOnly' | 'writeOnly' | 'closed';

/**
 * The address of an IPv6 literal with a zone (RFC 4007 §11: `fe80::1%eth0`) without its zone;
 * any other host unchanged. `net.isIP` accepts zoned literals, so the net layer must too.
 */
export function withoutZone(host: string): string {
  const i = host.indexOf('%');
  return i > 0 && host.includes(':') ? host.slice(0, i) : host;
}

export function isIpc(o: ConnectOptions | IpcConnectOptions): o is IpcConnectOptions {
  return o.path !== undefined;
}

export function familyOf(addr: string): 'IPv4' | 'IPv6' {
  return addr.includes(':') ? 'IPv6' : 'IPv4';
}

export function validatePort(p: unknown, name = 'options.port'): number {
  const n = typeof p === 'string' && p.trim() !== '' ? Number(p) : p;
  if (typeof n !== 'number' || !Number.isInteger(n) || n < 0 || n > 65535) {
    throw codeError(RangeError, 'ERR_SOCKET_BAD_PORT', `${name} should be >= 0 and < 65536. Received ${typeof p === 'string' ? `'${p}'` : String(p)}.`);
  }
  return n;
}

/** 'localhost' and names under .localhost (RFC 6761 §6.3) are this host's loopback. */
export function isLocalhost(host: string): boolean {
  const h = host.toLowerCase().replace(/\.$/, '');
  return h === 'localhost' || h.endsWith('.localhost');
}
