/**
 * Node-style option names → TcpConfig (src/tcp/config.ts). Node's own options are milliseconds;
 * TcpConfig is microseconds. The extra options reach what Node hides (SO_LINGER, TCP_KEEPINTVL,
 * TCP_KEEPCNT, TCP_MAXSEG, TCP_CONGESTION, SO_SNDBUF, SO_RCVBUF, TCP_USER_TIMEOUT).
 */
import { nodeError } from '../errors.js';
import type { TcpConfig } from '../tcp/config.js';
import { congestionControlName, congestionControlNames } from '../tcp/congestion/registry.js';

/** TCP options settable per socket through the net API (Linux socket option names). */
export interface TcpTuningOptions {
  /** TCP_NODELAY (Node: `noDelay`). */
  noDelay?: boolean;
  /** SO_KEEPALIVE (Node: `keepAlive`). */
  keepAlive?: boolean;
  /** TCP_KEEPIDLE in ms (Node: `keepAliveInitialDelay`; 0 keeps the stack's default). */
  keepAliveInitialDelay?: number;
  /** TCP_KEEPINTVL in ms. */
  keepAliveInterval?: number;
  /** TCP_KEEPCNT. */
  keepAliveCount?: number;
  /** SO_LINGER in ms: null/undefined = off, 0 = close() sends RST, > 0 = close() lingers. */
  linger?: number | null;
  /** TCP_MAXSEG in bytes. */
  maxSegment?: number;
  /** TCP_CONGESTION: a name from congestionControlNames() ('cubic', 'reno', or one registered). */
  congestionControl?: TcpConfig['congestionControl'];
  /** SO_SNDBUF in bytes. */
  sendBufferSize?: number;
  /** SO_RCVBUF in bytes (bounds the receive window). */
  receiveBufferSize?: number;
  /** TCP_USER_TIMEOUT in ms (0 = off). */
  userTimeout?: number;
  /** Anything else of TcpConfig, in its own units (µs). Applied first; the named options win. */
  tcp?: Partial<TcpConfig>;
}

const isNum = (v: unknown): v is number => typeof v === 'number';

function checkMs(v: unknown, name: string): number {
  if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) {
    throw codeErr(`The "options.${name}" property must be a number >= 0 (milliseconds). Received ${String(v)}`);
  }
  return v;
}

function codeErr(message: string): Error {
  return nodeError(RangeError, 'ERR_OUT_OF_RANGE', message);
}

/** Build the TcpConfig overrides for a connection or listener; validated by makeConfig later. */
export function tcpOptions(o: TcpTuningOptions | undefined): Partial<TcpConfig> {
  const t: Partial<TcpConfig> = { ...(o?.tcp ?? {}) };
  if (!o) return t;
  if (o.noDelay !== undefined) t.noDelay = Boolean(o.noDelay);
  if (o.keepAlive !== undefined) t.keepAlive = Boolean(o.keepAlive);
  if (o.keepAliveInitialDelay !== undefined && checkMs(o.keepAliveInitialDelay, 'keepAliveInitialDelay') > 0) {
    t.keepIdle = Math.round(o.keepAliveInitialDelay * 1000);
  }
  if (o.keepAliveInterval !== undefined) t.keepInterval = Math.round(checkMs(o.keepAliveInterval, 'keepAliveInterval') * 1000);
  if (o.keepAliveCount !== undefined) t.keepCount = o.keepAliveCount;
  if (o.linger !== undefined) t.linger = o.linger === null ? null : Math.round(checkMs(o.linger, 'linger') * 1000);
  if (o.maxSegment !== undefined) t.maxSeg = o.maxSegment;
  if (o.congestionControl !== undefined) {
    if (congestionControlName(o.congestionControl) === null) {
      throw codeErr(`The "options.congestionControl" property must be one of ${congestionControlNames().join(', ')}. Received ${String(o.congestionControl)}`);
    }
    t.congestionControl = o.congestionControl;
  }
  if (o.sendBufferSize !== undefined) t.sendBuffer = o.sendBufferSize;
  if (o.receiveBufferSize !== undefined) t.recvBuffer = o.receiveBufferSize;
  if (o.userTimeout !== undefined) t.userTimeout = Math.round(checkMs(o.userTimeout, 'userTimeout') * 1000);
  for (const [k, v] of Object.entries(t)) if (v === undefined || (isNum(v) && Number.isNaN(v))) delete (t as Record<string, unknown>)[k];
  return t;
}
