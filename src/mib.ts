/**
 * The counters a stack keeps, by name: the one list of them, named after the TCP MIB (RFC 4022,
 * Linux /proc/net/snmp "Tcp:") and Linux's TcpExt (/proc/net/netstat, `nstat`), plus one
 * `Drop.<reason>` counter per reason the parsers drop malformed input for (wire/ip.ts).
 * `Mib` is typed by these names, so `stack.counters.RetransSegs` is a number and a misspelt
 * counter does not compile. A new counter is added here (and so shown everywhere at once).
 */
import type { DropReason } from './wire/ip.js';
import type { UdpDropReason } from './wire/udp.js';

/** The TCP MIB counters (RFC 4022 names, as /proc/net/snmp's Tcp line). */
export const MIB_COUNTERS = [
  'ActiveOpens', 'PassiveOpens', 'AttemptFails', 'EstabResets', 'CurrEstab', 'InSegs', 'OutSegs',
  'RetransSegs', 'InErrs', 'OutRsts', 'InCsumErrors',
] as const;

/** Linux's TcpExt counters synack keeps (nstat names, /proc/net/netstat). */
export const EXT_COUNTERS = [
  'ListenOverflows', 'ListenDrops', 'TCPChallengeACK', 'TCPSYNChallenge', 'TCPACKSkippedChallenge', 'TCPACKSkippedSeq',
  'SyncookiesSent', 'SyncookiesRecv', 'SyncookiesFailed', 'TCPReqQFullDoCookies', 'TCPReqQFullDrop',
  'TCPTimeouts', 'TCPAbortOnClose', 'TCPAbortOnData', 'TCPAbortOnTimeout', 'TCPKeepAlive', 'TCPKeepAliveTimeouts',
  'TCPOFOQueue', 'TCPFastRetrans', 'TCPSackRecovery', 'TCPRenoRecovery', 'TCPDSACKRecv', 'TCPSpuriousRetrans', 'TCPDSACKUndo', 'TCPFullUndo', 'TCPLossUndo', 'TCPSpuriousRTOs', 'TCPLossProbes', 'TCPRackLoss', 'PAWSEstab', 'PAWSActive', 'TCPWinProbe', 'TWRecycled', 'TCPNoSocket', 'TCPHPHits',
  'PruneCalled', 'RcvPruned', 'OfoPruned', 'TCPOFODrop', 'TCPRcvQDrop',
  'OutOfWindowIcmps', 'TCPDeliveredCE', 'TCPMTUPFail', 'TCPMTUPSuccess',
  'BeyondWindow', 'TCPZeroWindowDrop',
  'TCPFastOpenActive', 'TCPFastOpenActiveFail', 'TCPFastOpenPassive', 'TCPFastOpenPassiveFail', 'TCPFastOpenListenOverflow',
  'TCPFastOpenCookieReqd', 'TCPFastOpenBlackhole', 'TCPFastOpenPassiveAltKey',
] as const;

/**
 * The IP-layer MIB groups of /proc/net/snmp and /proc/net/snmp6 with nstat's names (group
 * prefix + field: IpInReceives, Ip6InDelivers, IcmpInEchos, Icmp6OutEchoReplies). IcmpMsg's
 * per-type counters (IcmpMsgInType8, Icmp6InType128 …) appear once bumped, as nstat shows them.
 */
export const IP_COUNTERS = [
  'IpInReceives', 'IpInHdrErrors', 'IpInAddrErrors', 'IpForwDatagrams', 'IpInUnknownProtos', 'IpInDiscards',
  'IpInDelivers', 'IpOutRequests', 'IpOutDiscards', 'IpOutNoRoutes', 'IpReasmTimeout', 'IpReasmReqds',
  'IpReasmOKs', 'IpReasmFails', 'IpFragOKs', 'IpFragFails', 'IpFragCreates', 'IpExtInNoRoutes', 'IpInCsumErrors',
  'Ip6InReceives', 'Ip6InHdrErrors', 'Ip6InTooBigErrors', 'Ip6InNoRoutes', 'Ip6InAddrErrors', 'Ip6InUnknownProtos',
  'Ip6InTruncatedPkts', 'Ip6InDiscards', 'Ip6InDelivers', 'Ip6OutForwDatagrams', 'Ip6OutRequests', 'Ip6OutDiscards',
  'Ip6OutNoRoutes', 'Ip6ReasmTimeout', 'Ip6ReasmReqds', 'Ip6ReasmOKs', 'Ip6ReasmFails', 'Ip6FragOKs', 'Ip6FragFails',
  'Ip6FragCreates',
  'IcmpInMsgs', 'IcmpInErrors', 'IcmpInCsumErrors', 'IcmpInDestUnreachs', 'IcmpInTimeExcds', 'IcmpInParmProbs',
  'IcmpInEchos', 'IcmpInEchoReps', 'IcmpOutMsgs', 'IcmpOutErrors', 'IcmpOutRateLimitGlobal', 'IcmpOutRateLimitHost',
  'IcmpOutDestUnreachs', 'IcmpOutTimeExcds', 'IcmpOutParmProbs', 'IcmpOutEchos', 'IcmpOutEchoReps',
  'Icmp6InMsgs', 'Icmp6InErrors', 'Icmp6OutMsgs', 'Icmp6OutErrors', 'Icmp6InCsumErrors', 'Icmp6OutRateLimitGlobal',
  'Icmp6OutRateLimitHost', 'Icmp6InDestUnreachs', 'Icmp6InPktTooBigs', 'Icmp6InTimeExcds', 'Icmp6InParmProblems',
  'Icmp6InEchos', 'Icmp6InEchoReplies', 'Icmp6InNeighborSolicits', 'Icmp6InNeighborAdvertisements',
  'Icmp6InRouterSolicits', 'Icmp6InRouterAdvertisements', 'Icmp6InRedirects', 'Icmp6OutDestUnreachs',
  'Icmp6OutPktTooBigs', 'Icmp6OutTimeExcds', 'Icmp6OutParmProblems', 'Icmp6OutEchos', 'Icmp6OutEchoReplies',
] as const;

/** Why the IP layer dropped a datagram (beside the parsers' DropReason). */
export const IP_DROP_REASONS = [
  'not-for-us', 'martian', 'unknown-protocol', 'ttl-exceeded', 'no-route', 'too-big', 'reasm-duplicate',
  'reasm-overlap', 'reasm-mem', 'reasm-too-big', 'reasm-bad-length', 'reasm-bad-datagram', 'bad-icmp-length',
  'bad-icmp-checksum', 'bad-icmp-quote',
] as const;
export type IpDropReason = (typeof IP_DROP_REASONS)[number];

/**
 * The Udp and Udp6 groups of /proc/net/snmp and /proc/net/snmp6 with nstat's names
 * (UdpInDatagrams, Udp6NoPorts …; LINUX snmp4_udp_list / snmp6_udp6_list).
 */
export const UDP_FIELDS = [
  'InDatagrams', 'NoPorts', 'InErrors', 'OutDatagrams', 'RcvbufErrors', 'SndbufErrors', 'InCsumErrors', 'IgnoredMulti', 'MemErrors',
] as const;
export type UdpField = (typeof UDP_FIELDS)[number];
export type UdpCounterName = `Udp${UdpField}` | `Udp6${UdpField}`;
export const UDP_COUNTERS: readonly UdpCounterName[] = [...UDP_FIELDS.map((f) => `Udp${f}` as const), ...UDP_FIELDS.map((f) => `Udp6${f}` as const)];

/** Why UDP dropped a datagram: its parser's reasons, no socket (unicast, broadcast), a full receive queue. */
export type UdpLayerDropReason = UdpDropReason | 'udp-no-port' | 'udp-no-port-multi' | 'udp-rcvbuf';

/** IcmpMsg (snmp) and snmp6's per-type counters, e.g. IcmpMsgInType8, Icmp6OutType129. */
export type IcmpMsgName = `IcmpMsg${'In' | 'Out'}Type${number}` | `Icmp6${'In' | 'Out'}Type${number}`;

/** Counters of dropped malformed input, one per parser reason (wire/ip.ts DropReason). */
export const DROP_PREFIX = 'Drop.';

/** A TCP MIB (RFC 4022), TcpExt or IP-layer counter: always present, starting at 0. */
export type MibName = (typeof MIB_COUNTERS)[number] | (typeof EXT_COUNTERS)[number] | (typeof IP_COUNTERS)[number] | UdpCounterName;
/** A malformed-input counter, present once its reason has happened. */
export type DropCounterName = `Drop.${DropReason | IpDropReason | UdpLayerDropReason}`;
/** Any counter a stack may hold. */
export type CounterName = MibName | DropCounterName | IcmpMsgName;

/** A stack's counters, incremented in place. */
export type Mib = Record<MibName, number> & Partial<Record<DropCounterName, number>> &
  // (typed as present so the type stays a Record<string, number>; read one only once bumped)
  Record<IcmpMsgName, number>;

export function newMib(): Mib {
  // Object.fromEntries makes a fast-properties object; adding the keys one by one with computed
  // names leaves V8 a dictionary-mode one, slower on every bump().
  return Object.fromEntries([...MIB_COUNTERS, ...EXT_COUNTERS, ...IP_COUNTERS, ...UDP_COUNTERS].map((k) => [k, 0])) as Mib;
}

export function bump(mib: Mib, name: CounterName, n = 1): void {
  mib[name] = (mib[name] ?? 0) + n;
}
