import type { Mib } from '../tcp/connection.js';

/**
 * The counters a stack keeps, named after the TCP MIB (RFC 4022, Linux /proc/net/snmp "Tcp:")
 * and Linux's TcpExt (/proc/net/netstat, `nstat`). All start at 0 so every one is always shown.
 */
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

export function newMib(): Mib {
  // Object.fromEntries makes a fast-properties object; adding the keys one by one with computed
  // names leaves V8 a dictionary-mode one, slower on every bump().
  return Object.fromEntries([...MIB_COUNTERS, ...EXT_COUNTERS].map((k) => [k, 0]));
}
