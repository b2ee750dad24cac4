/**
 * The counters a stack keeps, by name: the one list of them, named after the TCP MIB (RFC 4022,
 * Linux /proc/net/snmp "Tcp:") and Linux's TcpExt (/proc/net/netstat, `nstat`), plus one
 * `Drop.<reason>` counter per reason the parsers drop malformed input for (wire/ip.ts).
 * `Mib` is typed by these names, so `stack.counters.RetransSegs` is a number and a misspelt
 * counter does not compile. A new counter is added here (and so shown everywhere at once).
 */
import type { DropReason } from './wire/ip.js';

export const MIB_COUNTERS = [
  'ActiveOpens', 'PassiveOpens', 'AttemptFails', 'EstabResets', 'CurrEstab', 'InSegs', 'OutSegs',
  'RetransSegs', 'InErrs', 'OutRsts', 'InCsumErrors',
] as const;

export const EXT_COUNTERS = [
  'ListenOverflows', 'ListenDrops', 'TCPChallengeACK', 'TCPACKSkippedChallenge', 'TCPACKSkippedSeq',
  'SyncookiesSent', 'SyncookiesRecv', 'SyncookiesFailed', 'TCPReqQFullDoCookies', 'TCPReqQFullDrop',
  'TCPTimeouts', 'TCPAbortOnClose', 'TCPAbortOnData', 'TCPAbortOnTimeout', 'TCPKeepAlive', 'TCPKeepAliveTimeouts',
  'TCPOFOQueue', 'TCPFastRetrans', 'TCPSackRecovery', 'TCPRenoRecovery', 'TCPDSACKRecv', 'TCPSpuriousRetrans', 'TCPDSACKUndo', 'TCPFullUndo', 'TCPLossProbes', 'TCPRackLoss', 'PAWSEstab', 'TCPWinProbe', 'TWRecycled', 'TCPNoSocket',
  'PruneCalled', 'RcvPruned', 'OfoPruned', 'TCPOFODrop', 'TCPRcvQDrop',
] as const;

/** Counters of dropped malformed input, one per parser reason (wire/ip.ts DropReason). */
export const DROP_PREFIX = 'Drop.';

/** A TCP MIB (RFC 4022) or TcpExt counter: always present, starting at 0. */
export type MibName = (typeof MIB_COUNTERS)[number] | (typeof EXT_COUNTERS)[number];
/** A malformed-input counter, present once its reason has happened. */
export type DropCounterName = `Drop.${DropReason | 'not-for-us'}`;
export type CounterName = MibName | DropCounterName;

/** A stack's counters, incremented in place. */
export type Mib = Record<MibName, number> & Partial<Record<DropCounterName, number>>;

export function newMib(): Mib {
  // Object.fromEntries makes a fast-properties object; adding the keys one by one with computed
  // names leaves V8 a dictionary-mode one, slower on every bump().
  return Object.fromEntries([...MIB_COUNTERS, ...EXT_COUNTERS].map((k) => [k, 0])) as Mib;
}

export function bump(mib: Mib, name: CounterName, n = 1): void {
  mib[name] = (mib[name] ?? 0) + n;
}
