/**
 * TCP states, numbered as Linux's include/net/tcp_states.h so netstat and /proc/net/tcp map
 * directly (DESIGN.md principle 8). Names are RFC 9293's, spelled as `synack demo --json` prints
 * them; `NETSTAT_NAMES` gives net-tools' spelling (SYN_RECV, FIN_WAIT1, ...).
 */
export const TcpState = {
  ESTABLISHED: 1,
  SYN_SENT: 2,
  SYN_RECEIVED: 3,
  FIN_WAIT_1: 4,
  FIN_WAIT_2: 5,
  TIME_WAIT: 6,
  CLOSED: 7,
  CLOSE_WAIT: 8,
  LAST_ACK: 9,
  LISTEN: 10,
  CLOSING: 11,
} as const;

/**
 * TcpState[name] for a name that varies (Connection.setState). `TcpState[name]` at one site sees
 * eleven names and goes megamorphic (V8's keyed-load stub cache, ~140 instructions a lookup), a
 * Map lookup costs ~70; the switch compares the name with each constant, and state names are
 * always internalized strings, so each comparison is a pointer compare (measured with valgrind,
 * bench cps: ~2k instructions a connection less than the Map). test/states.test.ts checks it
 * against TcpState.
 */
export function stateNum(name: TcpStateName): TcpStateNum {
  switch (name) {
    case 'ESTABLISHED': return 1;
    case 'SYN_SENT': return 2;
    case 'SYN_RECEIVED': return 3;
    case 'FIN_WAIT_1': return 4;
    case 'FIN_WAIT_2': return 5;
    case 'TIME_WAIT': return 6;
    case 'CLOSED': return 7;
    case 'CLOSE_WAIT': return 8;
    case 'LAST_ACK': return 9;
    case 'LISTEN': return 10;
    case 'CLOSING': return 11;
    default: return assertNever(name, 'TCP state');
  }
}

/** A TCP state's name as RFC 9293 spells it (`ESTABLISHED`, `SYN_RECEIVED`, …). */
export type TcpStateName = keyof typeof TcpState;
/** A TCP state's number as Linux's tcp_states.h has it (ESTABLISHED = 1 … CLOSING = 11). */
export type TcpStateNum = (typeof TcpState)[TcpStateName];

/** Every state name, in Linux's numbering order. */
export const STATE_NAMES: readonly TcpStateName[] = [
  'ESTABLISHED', 'SYN_SENT', 'SYN_RECEIVED', 'FIN_WAIT_1', 'FIN_WAIT_2', 'TIME_WAIT',
  'CLOSED', 'CLOSE_WAIT', 'LAST_ACK', 'LISTEN', 'CLOSING',
];

/** Name of a Linux state number (1..11). */
export function stateName(n: number): TcpStateName {
  const name = STATE_NAMES[n - 1];
  if (name === undefined) throw new RangeError(`state must be 1..11, got ${n}`);
  return name;
}

/** net-tools `netstat` spelling. */
export const NETSTAT_NAMES: Record<TcpStateName, string> = {
  ESTABLISHED: 'ESTABLISHED',
  SYN_SENT: 'SYN_SENT',
  SYN_RECEIVED: 'SYN_RECV',
  FIN_WAIT_1: 'FIN_WAIT1',
  FIN_WAIT_2: 'FIN_WAIT2',
  TIME_WAIT: 'TIME_WAIT',
  CLOSED: 'CLOSE',
  CLOSE_WAIT: 'CLOSE_WAIT',
  LAST_ACK: 'LAST_ACK',
  LISTEN: 'LISTEN',
  CLOSING: 'CLOSING',
};

/** iproute2 `ss` spelling. */
export const SS_NAMES: Record<TcpStateName, string> = {
  ESTABLISHED: 'ESTAB',
  SYN_SENT: 'SYN-SENT',
  SYN_RECEIVED: 'SYN-RECV',
  FIN_WAIT_1: 'FIN-WAIT-1',
  FIN_WAIT_2: 'FIN-WAIT-2',
  TIME_WAIT: 'TIME-WAIT',
  CLOSED: 'UNCONN',
  CLOSE_WAIT: 'CLOSE-WAIT',
  LAST_ACK: 'LAST-ACK',
  LISTEN: 'LISTEN',
  CLOSING: 'CLOSING',
};

/** Synchronized states (RFC 9293 §3.5.3): a connection that has completed the handshake. */
export function isSynchronized(s: TcpStateName): boolean {
  return s !== 'CLOSED' && s !== 'LISTEN' && s !== 'SYN_SENT' && s !== 'SYN_RECEIVED';
}

export function assertNever(x: never, what = 'value'): never {
  throw new Error(`unexpected ${what}: ${String(x)}`);
}
