/**
 * The IP layer's interfaces to the protocols above it (layer.ts): the handler a protocol
 * registers, the ICMP errors it is handed, and what `output` takes and returns.
 */
import type { IpRepr } from '../wire/ip.js';
import type { Interface } from './iface.js';
import type { Route } from './route.js';

/** What a protocol registers in the handler table. */
export interface IpHandler {
  /** A datagram addressed to this host (reassembled if it came in fragments). */
  input(ip: IpRepr, frame: Uint8Array, iface: Interface): void;
  /**
   * An ICMP/ICMPv6 error about a datagram this host sent with this protocol (RFC 1122
   * §3.2.2.1, RFC 4443 §3): the quoted datagram's header and the start of its payload.
   */
  error?(err: IcmpErrorInfo): void;
}

/** An ICMP error as the IP layer hands it to the protocol of the datagram it quotes. */
export interface IcmpErrorInfo {
  version: 4 | 6;
  type: number;
  code: number;
  /** Linux's errno for it (icmp_err_convert / icmpv6_err_convert), e.g. EHOSTUNREACH. */
  errno: string;
  /** Linux's "fatal" flag: a hard error that may abort a connection (RFC 1122 §4.2.3.9). */
  fatal: boolean;
  /** Next-hop MTU of a Fragmentation Needed / Packet Too Big (0 otherwise). */
  mtu: number;
  /** Addresses of the quoted datagram (our packet: src is ours). */
  src: string;
  dst: string;
  /** The quoted upper-layer bytes (at least 8: ports and sequence number for TCP/UDP). */
  payload: Uint8Array;
  /** Who sent the error. */
  from: string;
}

/** Why output failed (errno names, as the socket calls report them). */
export type OutputError = 'ENETUNREACH' | 'EHOSTUNREACH' | 'EMSGSIZE' | 'ENOBUFS';

/**
 * Writes the upper-layer bytes (length given to `output`) at buf[off]; src/dst are the address
 * bytes for the pseudo-header; `checksum` false when the link offloads checksums.
 */
export type PayloadWriter = (buf: Uint8Array, off: number, src: Uint8Array, dst: Uint8Array, checksum: boolean) => void;

export interface OutputOptions {
  /**
   * IPv4 Don't Fragment (TCP sets it: RFC 1191 PMTUD). Default true. False: DF clear, an IP ID,
   * and fragments when larger than the path MTU (LINUX IP_PMTUDISC_DONT: the ICMP socket, UDP
   * datagrams too large for the path, a TCP socket set to it).
   */
  df?: boolean;
  /** TTL / hop limit. LINUX ip_default_ttl / hop_limit: 64. */
  ttl?: number;
  /** The upper layer saw forward progress to the destination: confirm the next hop's neighbour entry (Link.send). */
  confirmNeighbor?: boolean;
  /** IPv4 TOS / IPv6 traffic class byte: DSCP and the ECN field (RFC 3168 §5). Default 0. */
  tos?: number;
}

/** The route a datagram to a destination takes, with what output needs from it. */
export interface PathInfo {
  route: Route;
  /** Source address selected for it (RFC 6724 §5 simplified: the route's interface's address). */
  src: string;
  /** The path MTU: the interface MTU, lowered by the PMTU cache. */
  mtu: number;
  nextHop: string;
}
