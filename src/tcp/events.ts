import { ERRNO, type ErrnoCode } from '../errors.js';
import { stateNum, type TcpStateName } from './state.js';

/** Errors the core reports, with the errno names Node and POSIX use (DESIGN.md principle 12). */
export type TcpErrorCode = Extract<
  ErrnoCode,
  | 'ECONNREFUSED' | 'ECONNRESET' | 'ETIMEDOUT' | 'EPIPE' | 'ECONNABORTED' | 'EWOULDBLOCK'
  // From ICMP errors (LINUX icmp_err_convert / icmpv6_err_convert), reported by tcp_v4_err.
  | 'EHOSTUNREACH' | 'ENETUNREACH' | 'ENOPROTOOPT' | 'EPROTO' | 'EACCES' | 'EHOSTDOWN' | 'ENONET' | 'EOPNOTSUPP' | 'EMSGSIZE'
>;

/** What a connection tells its owner. Pulled from `Connection.pollEvent()`. */
export type ConnEvent =
  | { type: 'state'; from: TcpStateName; to: TcpStateName; cause: string }
  /** The handshake completed (ESTABLISHED reached). */
  | { type: 'connected' }
  /** In-order data is ready to read. */
  | { type: 'readable' }
  /** Send-buffer space opened after a write was refused or partial. */
  | { type: 'writable' }
  /** The peer's FIN was received: no more data will arrive (read returns EOF once drained). */
  | { type: 'end' }
  /** An error the application should see (the connection may or may not be closed by it). */
  | { type: 'error'; code: TcpErrorCode; message: string }
  /** A lingering close finished: `acked` true when data and FIN were acknowledged in time. */
  | { type: 'linger'; acked: boolean }
  /** The connection reached CLOSED and can be forgotten. */
  | { type: 'closed' };

/** strerror(3) of each code, from the one errno table (src/errors.ts). */
export const ERROR_MESSAGES: Readonly<Record<TcpErrorCode, string>> = {
  ECONNREFUSED: ERRNO.ECONNREFUSED.message,
  ECONNRESET: ERRNO.ECONNRESET.message,
  ETIMEDOUT: ERRNO.ETIMEDOUT.message,
  EPIPE: ERRNO.EPIPE.message,
  ECONNABORTED: ERRNO.ECONNABORTED.message,
  EWOULDBLOCK: ERRNO.EWOULDBLOCK.message,
  EHOSTUNREACH: ERRNO.EHOSTUNREACH.message,
  ENETUNREACH: ERRNO.ENETUNREACH.message,
  ENOPROTOOPT: ERRNO.ENOPROTOOPT.message,
  EPROTO: ERRNO.EPROTO.message,
  EACCES: ERRNO.EACCES.message,
  EHOSTDOWN: ERRNO.EHOSTDOWN.message,
  ENONET: ERRNO.ENONET.message,
  EOPNOTSUPP: ERRNO.EOPNOTSUPP.message,
  EMSGSIZE: ERRNO.EMSGSIZE.message,
};

/**
 * The events without details, shared (frozen) so that the data path allocates nothing for them:
 * 'readable' follows every in-order segment and 'writable' every ACK of new data.
 */
export const EV = Object.freeze({
  connected: Object.freeze({ type: 'connected' }) as ConnEvent,
  readable: Object.freeze({ type: 'readable' }) as ConnEvent,
  writable: Object.freeze({ type: 'writable' }) as ConnEvent,
  end: Object.freeze({ type: 'end' }) as ConnEvent,
  closed: Object.freeze({ type: 'closed' }) as ConnEvent,
});

/**
 * State-change events, shared (frozen) per (from, to, cause): causes are string constants at
 * their call sites, so a connection's life of ~6 state changes allocates no event objects (they
 * were ~10 % of a short connection's allocation, bench cps). Each (from, to) pair keeps at most
 * STATE_EVENT_KEEP causes; a caller passing ever-new cause strings gets fresh objects instead.
 */
const STATE_EVENT_KEEP = 64;
const stateEvents: (Map<string, ConnEvent> | undefined)[] = [];
type StateEvent = Extract<ConnEvent, { type: 'state' }>;
const lastEvents: (StateEvent | undefined)[] = new Array<StateEvent | undefined>(12 * 16).fill(undefined);

export function stateEvent(from: TcpStateName, to: TcpStateName, cause: string): ConnEvent {
  const k = stateNum(from) * 16 + stateNum(to);
  // Most (from, to) pairs are reached for one cause: the last event made for the pair answers
  // without a Map lookup (causes are constants, so the compare is a pointer compare).
  const last = lastEvents[k];
  if (last !== undefined && last.cause === cause) return last;
  let m = stateEvents[k];
  if (m === undefined) m = stateEvents[k] = new Map();
  let ev = m.get(cause);
  if (ev === undefined) {
    ev = Object.freeze({ type: 'state', from, to, cause }) as ConnEvent;
    if (m.size < STATE_EVENT_KEEP) m.set(cause, ev);
    else return ev; // not kept: nor remembered as the pair's last
  }
  lastEvents[k] = ev as StateEvent;
  return ev;
}
