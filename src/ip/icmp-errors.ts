/**
 * ICMP/ICMPv6 errors → errno and "fatal" (LINUX icmp_err_convert[] in net/ipv4/icmp.c,
 * icmpv6_err_convert() in net/ipv6/icmp.c), as tcp_v4_err / tcp_v6_err / udp_err use them.
 */
import { Icmp4Type, Icmp6Type } from '../wire/icmp.js';

export interface ErrConv {
  errno: string;
  fatal: boolean;
}

/** LINUX icmp_err_convert[]: Destination Unreachable codes 0..15. */
const UNREACH4: readonly ErrConv[] = [
  { errno: 'ENETUNREACH', fatal: false }, // 0 network unreachable
  { errno: 'EHOSTUNREACH', fatal: false }, // 1 host unreachable
  { errno: 'ENOPROTOOPT', fatal: true }, // 2 protocol unreachable
  { errno: 'ECONNREFUSED', fatal: true }, // 3 port unreachable
  { errno: 'EMSGSIZE', fatal: false }, // 4 fragmentation needed and DF set
  { errno: 'EOPNOTSUPP', fatal: false }, // 5 source route failed
  { errno: 'ENETUNREACH', fatal: true }, // 6 destination network unknown
  { errno: 'EHOSTDOWN', fatal: true }, // 7 destination host unknown
  { errno: 'ENONET', fatal: true }, // 8 source host isolated
  { errno: 'ENETUNREACH', fatal: true }, // 9 network administratively prohibited
  { errno: 'EHOSTUNREACH', fatal: true }, // 10 host administratively prohibited
  { errno: 'ENETUNREACH', fatal: false }, // 11 network unreachable for TOS
  { errno: 'EHOSTUNREACH', fatal: false }, // 12 host unreachable for TOS
  { errno: 'EHOSTUNREACH', fatal: true }, // 13 communication administratively prohibited
  { errno: 'EHOSTUNREACH', fatal: true }, // 14 host precedence violation
  { errno: 'EHOSTUNREACH', fatal: true }, // 15 precedence cutoff in effect
];

/** The errno of an ICMPv4 error, or null when Linux ignores it (source quench, redirect, bad code). */
export function convert4(type: number, code: number): ErrConv | null {
  if (type === Icmp4Type.DEST_UNREACH) return UNREACH4[code] ?? null;
  // LINUX tcp_v4_err: time exceeded → EHOSTUNREACH, parameter problem → EPROTO (neither fatal).
  if (type === Icmp4Type.TIME_EXCEEDED) return { errno: 'EHOSTUNREACH', fatal: false };
  if (type === Icmp4Type.PARAMETER_PROBLEM) return { errno: 'EPROTO', fatal: true };
  return null;
}

/** LINUX tab_unreach[] in icmpv6_err_convert: Destination Unreachable codes 0..6. */
const UNREACH6: readonly ErrConv[] = [
  { errno: 'ENETUNREACH', fatal: false }, // 0 no route
  { errno: 'EACCES', fatal: true }, // 1 administratively prohibited
  { errno: 'EHOSTUNREACH', fatal: false }, // 2 beyond scope
  { errno: 'EHOSTUNREACH', fatal: false }, // 3 address unreachable
  { errno: 'ECONNREFUSED', fatal: true }, // 4 port unreachable
  { errno: 'EACCES', fatal: true }, // 5 source address failed policy
  { errno: 'EACCES', fatal: true }, // 6 reject route
];

export function convert6(type: number, code: number): ErrConv | null {
  if (type === Icmp6Type.DEST_UNREACH) return UNREACH6[code] ?? null;
  if (type === Icmp6Type.PACKET_TOO_BIG) return { errno: 'EMSGSIZE', fatal: false };
  if (type === Icmp6Type.PARAMETER_PROBLEM) return { errno: 'EPROTO', fatal: true };
  if (type === Icmp6Type.TIME_EXCEEDED) return { errno: 'EHOSTUNREACH', fatal: false };
  return null;
}
