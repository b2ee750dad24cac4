/**
 * ICMP (RFC 792) and ICMPv6 (RFC 4443) messages: a view with named offsets over the bytes after
 * the IP header, the checksum, and the constants the stack uses. Both share one layout: type,
 * code, checksum, 4 bytes of "rest of header", then data (the echo payload, or as much of the
 * offending datagram as fits).
 */
import { finishChecksum, pseudoHeaderSumAt, sum16 } from './checksum.js';
import { IPPROTO_ICMPV6, type IpRepr } from './ip.js';

/** Byte offsets inside an ICMP/ICMPv6 message (RFC 792 p.14, RFC 4443 §2.1). */
export const IcmpField = {
  TYPE: 0,
  CODE: 1,
  CHECKSUM: 2,
  /** Echo: identifier (2) then sequence number (2). */
  ID: 4,
  SEQ: 6,
  /** RFC 1191 §4: Fragmentation Needed's Next-Hop MTU, low 16 bits of the rest-of-header. */
  NEXT_HOP_MTU: 6,
  /** RFC 4443 §3.2: Packet Too Big's 32-bit MTU. */
  MTU6: 4,
  /** RFC 4443 §3.4: Parameter Problem's 32-bit pointer. */
  POINTER6: 4,
  DATA: 8,
} as const;

/** Length of the ICMP/ICMPv6 header: type, code, checksum and the 4-byte rest. */
export const ICMP_HEADER_LEN = 8;

/** ICMP types (RFC 792) used by the stack. */
export const Icmp4Type = {
  ECHO_REPLY: 0,
  DEST_UNREACH: 3,
  SOURCE_QUENCH: 4,
  REDIRECT: 5,
  ECHO_REQUEST: 8,
  TIME_EXCEEDED: 11,
  PARAMETER_PROBLEM: 12,
  TIMESTAMP: 13,
} as const;

/** Destination Unreachable codes (RFC 792, RFC 1122 §3.2.2.1, RFC 1812 §5.2.7.1). */
export const Unreach4 = {
  NET: 0,
  HOST: 1,
  PROTOCOL: 2,
  PORT: 3,
  FRAG_NEEDED: 4,
} as const;

/** ICMPv6 types (RFC 4443 §2.1, RFC 4861 §4). */
export const Icmp6Type = {
  DEST_UNREACH: 1,
  PACKET_TOO_BIG: 2,
  TIME_EXCEEDED: 3,
  PARAMETER_PROBLEM: 4,
  ECHO_REQUEST: 128,
  ECHO_REPLY: 129,
  ROUTER_SOLICIT: 133,
  ROUTER_ADVERT: 134,
  NEIGHBOR_SOLICIT: 135,
  NEIGHBOR_ADVERT: 136,
  REDIRECT: 137,
} as const;

/** RFC 4443 §3.1 Destination Unreachable codes; §3.4 Parameter Problem codes. */
export const Unreach6 = { NO_ROUTE: 0, ADMIN: 1, BEYOND_SCOPE: 2, ADDRESS: 3, PORT: 4 } as const;
/** ICMPv6 Parameter Problem codes (RFC 4443 §3.4). */
export const ParamProb6 = { HEADER: 0, NEXT_HEADER: 1, OPTION: 2 } as const;

/** RFC 4443 §2.1: types 0–127 are errors, 128–255 informational. ICMPv4 errors: 3, 4, 5, 11, 12. */
export function isIcmpError(version: 4 | 6, type: number): boolean {
  if (version === 6) return type < 128;
  return type === 3 || type === 4 || type === 5 || type === 11 || type === 12;
}

/**
 * Verify the checksum of the ICMP message described by `ip`: RFC 792 over the message only;
 * RFC 4443 §2.3 with the IPv6 pseudo-header (Next Header 58).
 */
export function icmpChecksumOk(frame: Uint8Array, ip: IpRepr): boolean {
  const off = ip.headerLength;
  const len = ip.payloadLength;
  const acc = ip.version === 6 ? pseudoHeaderSumAt(frame, 8, 24, 16, IPPROTO_ICMPV6, len) : 0;
  return finishChecksum(sum16(frame, off, len, acc)) === 0;
}

/** Write the checksum of the ICMP message at buf[off, off+len) (src/dst: IPv6 pseudo-header, else unused). */
export function fillIcmpChecksum(buf: Uint8Array, off: number, len: number, src: Uint8Array, dst: Uint8Array): void {
  buf[off + IcmpField.CHECKSUM] = 0;
  buf[off + IcmpField.CHECKSUM + 1] = 0;
  let acc = 0;
  if (src.length === 16) {
    acc = sum16(src, 0, 16, 0);
    acc = sum16(dst, 0, 16, acc);
    acc += Math.floor(len / 0x10000) + (len & 0xffff) + IPPROTO_ICMPV6;
  }
  const c = finishChecksum(sum16(buf, off, len, acc));
  buf[off + IcmpField.CHECKSUM] = c >> 8;
  buf[off + IcmpField.CHECKSUM + 1] = c & 0xff;
}

/** Big-endian 16-bit read at `o`. */
export const u16 = (b: Uint8Array, o: number): number => (b[o]! << 8) | b[o + 1]!;
/** Big-endian 32-bit read at `o`. */
export const u32 = (b: Uint8Array, o: number): number => ((b[o]! << 24) | (b[o + 1]! << 16) | (b[o + 2]! << 8) | b[o + 3]!) >>> 0;

/** One tcpdump line for an ICMP/ICMPv6 message (tcpdump's words: print-icmp.c, print-icmp6.c). */
export function formatIcmp(frame: Uint8Array, ip: IpRepr): string {
  const o = ip.headerLength;
  const len = ip.payloadLength;
  if (len < 4) return `${ip.src} > ${ip.dst}: ICMP${ip.version === 6 ? '6' : ''} [truncated] ${len}`;
  const type = frame[o]!;
  const code = frame[o + 1]!;
  const id = len >= 8 ? u16(frame, o + 4) : 0;
  const seq = len >= 8 ? u16(frame, o + 6) : 0;
  if (ip.version === 4) {
    let what: string;
    if (type === 8 || type === 0) what = `echo ${type === 8 ? 'request' : 'reply'}, id ${id}, seq ${seq}`;
    else if (type === 3 && code === 4) what = `unreachable - need to frag (mtu ${seq})`;
    else if (type === 3) what = `${['net', 'host', 'protocol', 'port'][code] ?? `code ${code}`} unreachable`;
    else if (type === 11) what = 'time exceeded in-transit';
    else what = `type ${type}, code ${code}`;
    return `${ip.src} > ${ip.dst}: ICMP ${what}, length ${len}`;
  }
  let what: string;
  if (type === 128 || type === 129) what = `echo ${type === 128 ? 'request' : 'reply'}, id ${id}, seq ${seq}`;
  else if (type === 2) what = `packet too big, mtu ${len >= 8 ? u32(frame, o + 4) : 0}`;
  else if (type === 1) what = `destination unreachable, ${['route', 'admin', 'scope', 'unreachable address', 'unreachable port'][code] ?? `code ${code}`}`;
  else if (type === 3) what = 'time exceeded in-transit';
  else if (type === 135) what = 'neighbor solicitation';
  else if (type === 136) what = 'neighbor advertisement';
  else what = `type ${type}, code ${code}`;
  return `${ip.src} > ${ip.dst}: ICMP6, ${what}, length ${len}`;
}
