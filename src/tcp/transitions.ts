import { stateNum, TcpState, type TcpStateName } from './state.js';

/**
 * Legal state transitions: RFC 9293 Figure 5, plus the ones its text adds (FIN_WAIT_1 straight to TIME_WAIT on a FIN+ACK, the abort
 * and reset paths to CLOSED from every synchronized state). `Connection.setState` refuses
 * anything else, so an illegal transition is a loud bug, not a silent one.
 */
export const LEGAL_TRANSITIONS: Readonly<Record<TcpStateName, readonly TcpStateName[]>> = {
  // passive OPEN / active OPEN (Figure 5); a child of a listener starts from LISTEN.
  CLOSED: ['LISTEN', 'SYN_SENT'],
  // rcv SYN; SEND (§3.10.2: a listening socket becomes active); CLOSE.
  LISTEN: ['SYN_RECEIVED', 'SYN_SENT', 'CLOSED'],
  // rcv SYN (simultaneous open); rcv SYN,ACK; CLOSE / timeout / rcv RST.
  SYN_SENT: ['SYN_RECEIVED', 'ESTABLISHED', 'CLOSED'],
  // rcv ACK of SYN; CLOSE; rcv RST / timeout / abort. (§3.10.7.4's "return to LISTEN" for a
  // passive open is the listener staying in LISTEN while this child goes to CLOSED, as in Linux.)
  SYN_RECEIVED: ['ESTABLISHED', 'FIN_WAIT_1', 'CLOSED'],
  // CLOSE; rcv FIN; abort / rcv RST / timeout.
  ESTABLISHED: ['FIN_WAIT_1', 'CLOSE_WAIT', 'CLOSED'],
  // rcv ACK of FIN; rcv FIN (simultaneous close); rcv FIN+ACK of FIN; abort / RST / timeout.
  FIN_WAIT_1: ['FIN_WAIT_2', 'CLOSING', 'TIME_WAIT', 'CLOSED'],
  // rcv FIN; abort / RST / LINUX: tcp_fin_timeout for orphans.
  FIN_WAIT_2: ['TIME_WAIT', 'CLOSED'],
  // CLOSE; abort / RST / timeout.
  CLOSE_WAIT: ['LAST_ACK', 'CLOSED'],
  // rcv ACK of FIN; RST / timeout.
  CLOSING: ['TIME_WAIT', 'CLOSED'],
  // rcv ACK of FIN; RST / timeout.
  LAST_ACK: ['CLOSED'],
  // 2MSL timeout; RST; a new SYN reuses the 4-tuple (§3.10.7.4 note, LINUX tcp_timewait_state_process).
  TIME_WAIT: ['CLOSED'],
};

/** LEGAL_TRANSITIONS as bits: LEGAL_BITS[from] has bit `to` set (Linux state numbers, state.ts). */
const LEGAL_BITS: readonly number[] = (() => {
  const bits = new Array<number>(16).fill(0);
  for (const [from, tos] of Object.entries(LEGAL_TRANSITIONS)) for (const to of tos) bits[TcpState[from as TcpStateName]] |= 1 << TcpState[to];
  return bits;
})();

export function isLegalTransition(from: TcpStateName, to: TcpStateName): boolean {
  return isLegalTransitionNum(stateNum(from), stateNum(to));
}

/** The same by state numbers (what setState has in hand). */
export function isLegalTransitionNum(from: number, to: number): boolean {
  return (LEGAL_BITS[from]! & (1 << to)) !== 0;
}
